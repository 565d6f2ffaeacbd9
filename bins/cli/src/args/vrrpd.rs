//! The command line of `vrrpd`, the VRRP daemon.
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

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use vrrpd::config::Config;
use vrrpd::dump::DumpKind;

/// `vrrpd`'s command line: run the daemon, or one of its subcommands.
#[derive(Debug, Parser)]
#[command(
    name = "vrrpd",
    version = super::VERSION,
    about = "VRRP daemon (RFC 3768, RFC 9568)"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// A subcommand; without one, run the daemon.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The configuration the daemon runs.
    #[command(flatten)]
    pub source: Source,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Paths that replace the configuration's.
    #[command(flatten)]
    pub paths: PathOverrides,
    /// Write the daemon's pid to FILE while it runs (keepalived's
    /// `--pid`), for tools that signal it: SIGHUP reloads, SIGUSR1,
    /// SIGUSR2 and SIGRTMIN+2 write keepalived's data, stats and JSON
    /// dumps.
    #[arg(long, value_name = "FILE", value_parser = nonempty_path)]
    pub pid_file: Option<PathBuf>,
    /// Print the number of the signal that does NAME and exit, as
    /// `keepalived --signum` does: STOP, RELOAD, DATA, STATS or JSON.
    #[arg(long, value_name = "NAME", exclusive = true)]
    pub signum: Option<String>,
}

/// The signal that asks the daemon for `name`, as `keepalived --signum`
/// numbers them (JSON is SIGRTMIN+2); `None` for a name it does not know.
pub fn signum(name: &str) -> Option<i32> {
    match name {
        "STOP" => Some(libc::SIGTERM),
        "RELOAD" => Some(libc::SIGHUP),
        // The daemon listens for the dumps' own signals.
        "DATA" => Some(DumpKind::Data.signal()),
        "STATS" => Some(DumpKind::Stats.signal()),
        "JSON" => Some(DumpKind::Json.signal()),
        _ => None,
    }
}

/// Paths given on the command line that replace the configuration's.
#[derive(Debug, Clone, Default, Args)]
pub struct PathOverrides {
    /// Keep the state files (the VIP ledger) in DIR instead of the
    /// configuration's `state_dir`; also applied on every reload.
    #[arg(long, value_name = "DIR", global = true, value_parser = nonempty_path)]
    pub state_dir: Option<PathBuf>,
    /// Serve the control socket at PATH instead of the configuration's
    /// `control_socket`; also applied on every reload.
    #[arg(long, value_name = "PATH", global = true, value_parser = nonempty_path)]
    pub control_socket: Option<PathBuf>,
    /// Serve Prometheus metrics on ADDR:PORT (`GET /metrics`) instead of
    /// the configuration's `metrics_listen`; read at start-up only.
    #[arg(long, value_name = "ADDR:PORT", global = true)]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl PathOverrides {
    /// Replaces the configured paths with the ones given.
    pub fn apply(&self, config: &mut Config) {
        if let Some(dir) = &self.state_dir {
            config.global.state_dir = dir.clone();
        }
        if let Some(path) = &self.control_socket {
            config.global.control_socket = path.clone();
        }
        if let Some(addr) = self.metrics_listen {
            config.global.metrics_listen = Some(addr);
        }
    }
}

/// A path argument that is not empty (an empty `state_dir` or
/// `control_socket` is an error in the TOML too).
fn nonempty_path(s: &str) -> Result<PathBuf, String> {
    if s.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(PathBuf::from(s))
    }
}

/// Where the configuration comes from: a native TOML file or a
/// keepalived.conf.
#[derive(Debug, Clone, Args)]
pub struct Source {
    /// A native TOML configuration file.
    #[arg(long, value_name = "FILE", conflicts_with = "keepalived_config")]
    pub config: Option<PathBuf>,
    /// A keepalived.conf (its VRRP part).
    #[arg(long, value_name = "FILE")]
    pub keepalived_config: Option<PathBuf>,
    /// With --keepalived-config: treat every warning as an error.
    #[arg(long, requires = "keepalived_config")]
    pub strict: bool,
}

/// `vrrpd`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a configuration; exit 2 if it has errors.
    Check(Source),
    /// Print a keepalived.conf as native TOML.
    Convert(Source),
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}
