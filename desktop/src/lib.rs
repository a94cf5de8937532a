//! Vigía's desktop app: keeps TLS sessions open to several `vigiad` daemons at once, shows their
//! CPU, memory and processes, and starts and stops processes on them.
//!
//! The parts and who owns them:
//! - [`app`] (UI thread): the eframe `App`, the persisted settings and the commands panels return.
//! - [`model`] (UI thread): plain data about each host, fed by network events.
//! - [`ui`] (UI thread): panels and dialogs, functions of the model that never touch the network.
//! - [`net`] (tokio runtime, passed in): one session task per host; events flow to the UI through a
//!   channel and wake it with `request_repaint`; the UI sends commands back. The UI never awaits.
//! - [`secrets`]: passwords live in the operating system's credential store, never in a file.
//! - [`memory`]: allocator settings that keep each frame's buffers from one frame to the next.
//!
//! ```no_run
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = tokio::runtime::Runtime::new()?;
//! let options = vigia::Options::new(vigia::app::persist::ConfigDir::default_location()?,
//!     std::sync::Arc::new(vigia::secrets::KeyringStore), runtime.handle().clone());
//! eframe::run_native("Vigía", eframe::NativeOptions::default(),
//!     Box::new(move |cc| Ok(Box::new(vigia::VigiaApp::new(cc, options)))))?;
//! # Ok(()) }
//! ```

pub mod app;
pub mod memory;
pub mod model;
pub mod net;
pub mod secrets;
pub mod ui;

pub use app::{Options, VigiaApp};
