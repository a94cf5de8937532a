//! One integration binary: the real daemon on loopback over real TLS.
#![allow(clippy::unwrap_used)]

mod audit;
mod binary;
mod browser;
mod common;
mod json;
mod metrics;
mod policy;
mod text;
mod web;
mod webclient;
