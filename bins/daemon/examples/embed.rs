//! Embedding the whole VRRP daemon in a Rust service.
//!
//! ```sh
//! cargo run --example embed -- /etc/vrrpd/vrrpd.toml
//! ```
//!
//! The service loads a native configuration, runs [`vrrpd::Daemon`] on its
//! own current-thread runtime next to its other work, reloads it on SIGHUP
//! and stops it cleanly (priority-0 advertisements, VIPs removed) on
//! Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use tokio::signal::unix::{SignalKind, signal};

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: embed CONFIG.toml");
        return ExitCode::from(2);
    };
    tracing_subscriber::fmt().with_target(false).init();
    let config = match vrrpd::config::load_native(&path) {
        Ok((config, _warnings)) => config,
        Err(diagnostics) => {
            eprint!("{}", vrrpd::config::render(&diagnostics));
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let mut daemon = vrrpd::Daemon::new(config);
        let reloader = daemon.reloader();
        let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        // The service's own work would run here, next to the daemon.
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                match vrrpd::config::load_native(&path) {
                    Ok((config, _)) => {
                        if !reloader.reload(config) {
                            break; // the daemon has stopped
                        }
                    }
                    Err(d) => eprint!("{}", vrrpd::config::render(&d)),
                }
            }
        });
        let shutdown = async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        };
        match daemon.run(shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("vrrpd: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
