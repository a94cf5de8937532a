//! What both sides of Vigía speak: the protocol's types and its two wire modes, the bounded line
//! codec, the TLS helpers (certificates, fingerprints, configs) and the async client library.
//!
//! This crate must stay light: no sysinfo, no GUI, no web framework, so that the desktop app and
//! third-party tools can depend on it alone.
//!
//! ```no_run
//! # async fn demo() -> Result<(), vigia_shared::client::ClientError> {
//! use vigia_shared::client::{Client, Trust};
//! use vigia_shared::proto::{Command, ListQuery};
//! let client = Client::connect("127.0.0.1:5000", "localhost", &Trust::pinned("A0:D9:…")).await?;
//! client.login("admin", "secret").await?;
//! let reply = client.request(Command::List(ListQuery::default())).await?;
//! # Ok(()) }
//! ```

pub mod client;
pub mod codec;
pub mod proto;
pub mod tls;

pub use proto::{Command, ErrorCode, Event, Pid, Reply, Role, WireError};
