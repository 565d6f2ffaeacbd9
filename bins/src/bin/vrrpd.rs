//! `vrrpd`: the VRRP daemon (RFC 3768, RFC 9568).
//!
//! ```text
//! vrrpd --config /etc/vrrpd/vrrpd.toml
//! vrrpd --keepalived-config /etc/keepalived/keepalived.conf [--strict]
//! vrrpd check --config FILE | --keepalived-config FILE [--strict]
//! vrrpd convert --keepalived-config FILE [--strict]
//! ```
//!
//! `check` prints every diagnostic as `file:line:column` with a hint and
//! exits 2 when there is an error (like `keepalived -t`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use vrrpd::config::{self, Config, Diagnostic, KeepalivedOptions};

#[derive(Debug, Parser)]
#[command(name = "vrrpd", version, about = "VRRP daemon (RFC 3768, RFC 9568)")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    source: Source,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Args)]
struct Source {
    /// A native TOML configuration file.
    #[arg(long, value_name = "FILE", conflicts_with = "keepalived_config")]
    config: Option<PathBuf>,
    /// A keepalived.conf (its VRRP part).
    #[arg(long, value_name = "FILE")]
    keepalived_config: Option<PathBuf>,
    /// With --keepalived-config: treat every warning as an error.
    #[arg(long, requires = "keepalived_config")]
    strict: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a configuration; exit 2 if it has errors.
    Check(Source),
    /// Print a keepalived.conf as native TOML.
    Convert(Source),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A loaded configuration, its warnings and its path.
type Loaded = (Config, Vec<Diagnostic>, PathBuf);
/// Every diagnostic, or a usage message.
type Failed = (Vec<Diagnostic>, String);

fn load(source: &Source) -> Result<Loaded, Failed> {
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

fn init_logging(format: LogFormat, level: config::LogLevel) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VRRPD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level.as_str()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().with_current_span(false).init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Check(source)) => check(source),
        Some(Command::Convert(source)) => convert(source),
        None => daemon(&cli.source, cli.log_format),
    }
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    eprint!("{}", config::render(diagnostics));
}

fn check(source: &Source) -> ExitCode {
    match load(source) {
        Ok((config, warnings, path)) => {
            print_diagnostics(&warnings);
            println!(
                "{}: configuration OK ({} instance(s), {} sync group(s))",
                path.display(),
                config.instances.len(),
                config.sync_groups.len()
            );
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

fn convert(source: &Source) -> ExitCode {
    if source.keepalived_config.is_none() {
        eprintln!("vrrpd convert: give --keepalived-config FILE");
        return ExitCode::from(2);
    }
    match load(source) {
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

fn daemon(source: &Source, format: LogFormat) -> ExitCode {
    let (config, warnings) = match load(source) {
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
        daemon.set_config_loader(Box::new(move || match load(&loader_source) {
            Ok((config, _, _)) => Ok(config),
            Err((diagnostics, message)) => {
                Err(format!("{}{message}", config::render(&diagnostics)))
            }
        }));
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .map_err(|e| format!("SIGHUP: {e}"))?;
        let source = source.clone();
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the configuration");
                reload(&source, &reloader);
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

/// Loads the configuration again and hands it to the daemon; a broken one
/// is logged and the running configuration stays.
fn reload(source: &Source, reloader: &vrrpd::Reloader) {
    match load(source) {
        Ok((config, warnings, _)) => {
            for w in &warnings {
                tracing::warn!("{w}");
            }
            reloader.reload(config);
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
