//! `vigia`: the desktop app. Builds the network runtime (off the UI thread), picks the config
//! directory and the credential store, and opens the window.

use anyhow::Context as _;
use clap::Parser;
use eframe::egui;
use std::path::PathBuf;
use std::sync::Arc;
use vigia::app::persist::ConfigDir;
use vigia::secrets::{KeyringStore, MemoryStore, SecretStore};
use vigia::{Options, VigiaApp};

/// Watch and manage the processes of many vigiad daemons at once.
#[derive(Debug, Parser)]
#[command(name = "vigia", version, about)]
struct Cli {
    /// Directory for the saved servers and the window's state [default: the platform's config
    /// directory, e.g. ~/.config/vigia].
    #[arg(long, value_name = "DIR")]
    config_dir: Option<PathBuf>,
    /// Do not use the system's credential store: passwords are asked once per run.
    #[arg(long)]
    no_keyring: bool,
}

/// The app's icon, shown by the window manager.
const ICON_PNG: &[u8] = include_bytes!("../../packaging/icons/vigia.png");

fn main() -> anyhow::Result<()> {
    vigia::memory::keep_frame_buffers();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,vigia=info")),
        )
        .init();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("vigia-net")
        .enable_all()
        .build()
        .context("starting the network runtime")?;
    let config_dir = match cli.config_dir {
        Some(dir) => ConfigDir::new(dir),
        None => ConfigDir::default_location()?,
    };
    std::fs::create_dir_all(config_dir.path())
        .with_context(|| format!("creating '{}'", config_dir.path().display()))?;
    let secrets: Arc<dyn SecretStore> = if cli.no_keyring {
        Arc::new(MemoryStore::new())
    } else {
        Arc::new(KeyringStore)
    };
    let options = Options::new(config_dir.clone(), secrets, runtime.handle().clone());

    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Vigía")
        .with_app_id("vigia")
        .with_inner_size([1280.0, 820.0])
        .with_min_inner_size([720.0, 480.0]);
    match eframe::icon_data::from_png_bytes(ICON_PNG) {
        Ok(icon) => viewport = viewport.with_icon(Arc::new(icon)),
        Err(e) => tracing::warn!(error = %e, "cannot read the app icon"),
    }
    let native = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        persistence_path: Some(config_dir.window_file()),
        ..Default::default()
    };
    eframe::run_native(
        "Vigía",
        native,
        Box::new(move |cc| Ok(Box::new(VigiaApp::new(cc, options)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))?;
    // Sessions end with the runtime; nothing waits for a slow daemon.
    runtime.shutdown_background();
    Ok(())
}
