//! `vrrpd`: the VRRP daemon (RFC 3768, RFC 9568).
//!
//! ```text
//! vrrpd --config /etc/vrrpd/vrrpd.toml
//! vrrpd --keepalived-config /etc/keepalived/keepalived.conf [--strict]
//! vrrpd check --config FILE | --keepalived-config FILE [--strict]
//! vrrpd convert --keepalived-config FILE [--strict]
//!
//! vrrpd --signum DATA|STATS|JSON|RELOAD|STOP
//!
//! global flags: [--state-dir DIR] [--control-socket PATH] [--metrics-listen ADDR:PORT]
//!               [--log-format text|json]; daemon only: [--pid-file FILE]
//! ```
//!
//! `check` prints every diagnostic as `file:line:column` with a hint and
//! exits 2 when there is an error (like `keepalived -t`).
//!
//! `--state-dir DIR` and `--control-socket PATH` replace the
//! configuration's `[global]` `state_dir` and `control_socket` (a
//! keepalived.conf has no place for them), so several daemons can run on
//! one machine. They are applied to every configuration read: at start-up
//! and again on each SIGHUP or `vrrpctl reload`, so a reload never moves
//! the state directory or the control socket. `check` accepts them (and
//! checks the configuration they would run with); `convert` writes them
//! into the TOML it prints.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use vrrpd::config::{self, Config, Diagnostic, KeepalivedOptions};
use vrrpd_cli::args::vrrpd::{Cli, Command, LogFormat, PathOverrides, Source};

/// A loaded configuration, its warnings and its path.
type Loaded = (Config, Vec<Diagnostic>, PathBuf);
/// Every diagnostic, or a usage message.
type Failed = (Vec<Diagnostic>, String);

/// Reads the configuration `source` names, applies the command-line path
/// overrides to it, and adds what this host says about its scripts (the
/// configuration is about to run here).
fn load(source: &Source, paths: &PathOverrides) -> Result<Loaded, Failed> {
    let mut loaded = read_with_overrides(source, paths)?;
    let host = config::script_warnings(&loaded.0, &loaded.2);
    loaded.1.extend(host);
    Ok(loaded)
}

/// Reads the configuration `source` names and applies the command-line
/// path overrides to it.
fn read_with_overrides(source: &Source, paths: &PathOverrides) -> Result<Loaded, Failed> {
    let mut loaded = read(source)?;
    paths.apply(&mut loaded.0);
    Ok(loaded)
}

fn read(source: &Source) -> Result<Loaded, Failed> {
    match (&source.config, &source.keepalived_config) {
        (Some(path), _) => config::load_native(path)
            .map(|(c, w)| (c, w, path.clone()))
            .map_err(|d| (d, String::new())),
        (None, Some(path)) => {
            let options = KeepalivedOptions {
                strict: source.strict,
                ..KeepalivedOptions::default()
            };
            config::load_keepalived(path, &options)
                .map(|(c, w)| (c, w, path.clone()))
                .map_err(|d| (d, String::new()))
        }
        (None, None) => Err((
            Vec::new(),
            "give --config FILE or --keepalived-config FILE".into(),
        )),
    }
}

/// Logs to stderr at `level`, or as `VRRPD_LOG` says: a level
/// (`debug`) or `target=level` directives (`info,vrrpd::daemon=debug`).
/// Those are parsed without regular expressions, which kept a quarter of
/// a megabyte of regex engine in the daemon.
fn init_logging(format: LogFormat, level: config::LogLevel) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let parse = |s: &str| s.parse::<Targets>().ok();
    let targets = std::env::var("VRRPD_LOG")
        .ok()
        .and_then(|v| parse(&v))
        .or_else(|| parse(level.as_str()))
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let registry = tracing_subscriber::registry().with(targets);
    match format {
        LogFormat::Text => registry.with(layer.with_target(false)).init(),
        LogFormat::Json => registry.with(layer.json().with_current_span(false)).init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(name) = &cli.signum {
        // keepalived's wording, which scripts and exporters parse.
        return match vrrpd_cli::args::vrrpd::signum(name) {
            Some(n) => {
                println!("{n}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("Unknown sigfunc {name}");
                ExitCode::FAILURE
            }
        };
    }
    match &cli.command {
        Some(Command::Check(source)) => check(source, &cli.paths),
        Some(Command::Convert(source)) => convert(source, &cli.paths),
        None => daemon(
            &cli.source,
            &cli.paths,
            cli.log_format,
            cli.pid_file.as_deref(),
        ),
    }
}

/// The pid file while the daemon runs: removed when dropped.
struct PidFile(PathBuf);

impl PidFile {
    fn write(path: &std::path::Path) -> std::io::Result<PidFile> {
        std::fs::write(path, format!("{}\n", std::process::id()))?;
        Ok(PidFile(path.to_path_buf()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    eprint!("{}", config::render(diagnostics));
}

fn check(source: &Source, paths: &PathOverrides) -> ExitCode {
    match load(source, paths) {
        Ok((config, warnings, path)) => {
            print_diagnostics(&warnings);
            println!(
                "{}: configuration OK ({} instance(s), {} sync group(s), {} virtual server(s))",
                path.display(),
                config.instances.len(),
                config.sync_groups.len(),
                config.virtual_servers.len()
            );
            if config.instances.is_empty() && config.virtual_servers.is_empty() {
                println!(
                    "  hint: it defines no instance and no virtual server, so vrrpd would run nothing; a file meant to be included is checked through the file that includes it"
                );
            }
            ExitCode::SUCCESS
        }
        Err((diagnostics, message)) => {
            print_diagnostics(&diagnostics);
            if !message.is_empty() {
                eprintln!("vrrpd check: {message}");
            }
            ExitCode::from(2)
        }
    }
}

fn convert(source: &Source, paths: &PathOverrides) -> ExitCode {
    if source.keepalived_config.is_none() {
        eprintln!("vrrpd convert: give --keepalived-config FILE");
        return ExitCode::from(2);
    }
    match read_with_overrides(source, paths) {
        Ok((config, warnings, _)) => {
            print_diagnostics(&warnings);
            print!("{}", config::to_native_toml(&config));
            ExitCode::SUCCESS
        }
        Err((diagnostics, message)) => {
            print_diagnostics(&diagnostics);
            if !message.is_empty() {
                eprintln!("vrrpd convert: {message}");
            }
            ExitCode::from(2)
        }
    }
}

fn daemon(
    source: &Source,
    paths: &PathOverrides,
    format: LogFormat,
    pid_file: Option<&std::path::Path>,
) -> ExitCode {
    let (config, warnings) = match load(source, paths) {
        Ok((config, warnings, _)) => (config, warnings),
        Err((diagnostics, message)) => {
            print_diagnostics(&diagnostics);
            if !message.is_empty() {
                eprintln!("vrrpd: {message}");
            }
            return ExitCode::from(2);
        }
    };
    init_logging(format, config.global.log_level);
    for w in &warnings {
        tracing::warn!("{w}");
    }
    // keepalived's net_namespace: on this thread, before any other starts
    // (the runtime, the workers, the scripts), or not at all.
    if let Some(name) = &config.global.net_namespace {
        if let Err(e) = vrrpd::netns::enter(name) {
            tracing::error!(error = %e, "cannot run in network namespace {name}");
            return ExitCode::FAILURE;
        }
        tracing::info!(namespace = %name, "running in network namespace {name}");
    }
    let _pid_file = match pid_file.map(PidFile::write).transpose() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot write the pid file");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let shutdown = shutdown_signal()?;
        let mut daemon = vrrpd::Daemon::new(config);
        // Single-threaded runtime on the main thread: the drop covers the
        // whole process and everything it starts later.
        daemon.drop_capabilities_after_setup(true);
        let reloader = daemon.reloader();
        let loader_source = source.clone();
        let loader_paths = paths.clone();
        daemon.set_config_loader(Box::new(move || {
            match load(&loader_source, &loader_paths) {
                Ok((config, _, _)) => Ok(config),
                Err((diagnostics, message)) => {
                    Err(format!("{}{message}", config::render(&diagnostics)))
                }
            }
        }));
        // keepalived's dump signals: SIGUSR1 data, SIGUSR2 stats,
        // SIGRTMIN+2 JSON (`--signum`), written under dump_dir.
        let dumper = daemon.dumper();
        for kind in vrrpd::dump::DumpKind::ALL {
            let mut signals = tokio::signal::unix::signal(
                tokio::signal::unix::SignalKind::from_raw(kind.signal()),
            )
            .map_err(|e| format!("signal {}: {e}", kind.signal()))?;
            let dumper = dumper.clone();
            tokio::spawn(async move {
                while signals.recv().await.is_some() {
                    if !dumper.request(kind) {
                        break;
                    }
                }
            });
        }
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .map_err(|e| format!("SIGHUP: {e}"))?;
        let source = source.clone();
        let paths = paths.clone();
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the configuration");
                // Read and checked on the blocking pool: an include on a
                // hung file system must not stall the event loop.
                let (source, paths, reloader) = (source.clone(), paths.clone(), reloader.clone());
                let job = tokio::task::spawn_blocking(move || reload(&source, &paths, &reloader));
                if let Err(e) = job.await {
                    tracing::warn!(error = %e, "SIGHUP: reading the configuration failed");
                }
            }
        });
        daemon.run(shutdown).await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the configuration again (with the command-line path overrides)
/// and hands it to the daemon; a broken one is logged and the running
/// configuration stays.
fn reload(source: &Source, paths: &PathOverrides, reloader: &vrrpd::Reloader) {
    match load(source, paths) {
        Ok((config, warnings, _)) => {
            for w in &warnings {
                tracing::warn!("{w}");
            }
            if !reloader.reload(config) {
                tracing::warn!("reload ignored: the daemon is stopping");
            }
        }
        Err((diagnostics, message)) => {
            for d in &diagnostics {
                tracing::error!("{d}");
            }
            tracing::error!(
                "{message}{}reload rejected: the configuration has errors; the running one stays",
                if message.is_empty() { "" } else { ": " }
            );
        }
    }
}

/// Completes on SIGTERM or SIGINT.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT: {e}"))?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: stopping"),
            _ = int.recv() => tracing::info!("SIGINT: stopping"),
        }
    })
}
