//! What the `vrrpd-cli` binaries share: their command lines ([`args`]),
//! `vrrpctl decode` and the pcap reader it and `garp --pcap` use, and
//! `vrrpctl genhash`. Internal to the command-line tools, not an API of its
//! own.

pub mod args;
pub mod decode;
pub mod genhash;
pub mod pcap;
