//! `vrrpd`: the VRRP daemon as a library, so a Rust service can embed it.
//!
//! It holds the configuration (native TOML and keepalived.conf), the
//! daemon's loop, the control protocol, notify hooks and trackers. The
//! command-line tools live in the `vrrpd-cli` package and the lab in
//! `vrrp-lab`; this library pulls in neither clap nor a log subscriber.

pub mod config;
pub mod control;
pub mod daemon;
pub mod dump;
pub mod engine;
pub mod lvs;
pub mod metrics;
pub mod net;
pub mod netns;
pub mod notify;
pub mod planted;
pub mod process;
pub mod ratelimit;
pub mod system;
pub mod track;

pub use daemon::{Daemon, Dumper, Reloader};
