//! The command line of `vrrpctl`, which inspects and controls vrrpd.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// `vrrpctl`'s command line.
#[derive(Debug, Parser)]
#[command(
    name = "vrrpctl",
    version = super::VERSION,
    about = "Inspect and control vrrpd"
)]
pub struct Cli {
    /// The daemon's control socket.
    #[arg(long, global = true, value_name = "PATH", default_value = vrrpd::config::Global::DEFAULT_CONTROL_SOCKET)]
    pub socket: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `vrrpctl`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode VRRP advertisements from hex or a pcap file, one JSON object
    /// per packet. Exits 0 if every VRRP packet parsed and verified, 1
    /// otherwise.
    Decode(crate::decode::DecodeArgs),
    /// Every instance's state, priority, Active router and VIPs.
    Status {
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Every instance's counters: adverts, discards by reason, transitions.
    Stats {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Ask the daemon to re-read its configuration (as SIGHUP does).
    Reload,
    /// The MD5 digest of a page's body, as keepalived's genhash prints it,
    /// for an HTTP_GET or SSL_GET `url { digest ... }` (`http://IP[:PORT]/PATH`
    /// or `https://IP[:PORT]/PATH`).
    Genhash {
        /// The page.
        url: String,
        /// The Host header (keepalived's `virtualhost`; default IP:PORT).
        #[arg(long)]
        virtualhost: Option<String>,
        /// With https://, send the virtualhost as SNI (`enable_sni`).
        #[arg(long)]
        sni: bool,
        /// Seconds each step may take.
        #[arg(long, default_value_t = 5)]
        timeout: u64,
    },
    /// A live stream of state changes, priority changes, tracker results
    /// and discarded advertisements, one line each, until interrupted (or
    /// the daemon stops).
    Watch {
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The LVS half: each virtual server with its real servers, whether
    /// they pass their checks, are in the IPVS table, and their last check.
    Lvs {
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
}
