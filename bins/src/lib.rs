//! `vrrpd`: the VRRP daemon as a library, so a Rust service can embed it,
//! plus the pieces its command-line tools share.

pub mod config;
pub mod decode;
pub mod pcap;
