//! `vrrpd`: the VRRP daemon as a library, so a Rust service can embed it,
//! plus the pieces its command-line tools share.

pub mod config;
pub mod control;
pub mod daemon;
pub mod decode;
pub mod lab;
pub mod net;
pub mod notify;
pub mod pcap;
pub mod process;
pub mod ratelimit;
pub mod system;
pub mod track;

pub use daemon::{Daemon, Reloader};
