//! vigiad, the Vigía daemon: lets authenticated users list, start and stop processes and watch
//! the system over TLS, in the original line protocol or in typed JSON.
//!
//! How a request flows:
//! ```text
//! listener (TLS accept, limits) → session (mode sniff, codec, timeouts)
//!     → dispatch (authorisation, one implementation for both modes)
//!         → procs (spawn, signal, logs)   sampler (the only sysinfo user, snapshots, history)
//!         → auth (users file, argon2id)   audit (SQLite record of every change and refusal)
//! web (HTTPS panel on port 7000: pages, JSON API) → the same dispatch
//! ```
//! `daemon` wires it together; `cli`/`config` turn flags and the TOML file into a `Config`;
//! `admin` holds the `user` and `cert` subcommands.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod certs;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dispatch;
pub mod listener;
pub mod memory;
pub mod metrics;
pub mod procs;
pub mod sampler;
pub mod services;
pub mod session;
pub mod web;

pub use config::Config;
pub use daemon::{prepare, run, run_with};
