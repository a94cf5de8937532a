//! One integration binary: the app driven through egui_kittest (no GPU, no display) and its
//! session logic, against real `vigiad` daemons on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod multi_host;
mod panels;
mod sessions;
mod ui_single;
