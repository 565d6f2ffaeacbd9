//! What the `vrrpd-cli` binaries share: their command lines ([`args`], also
//! read by the generator of their man pages and shell completions),
//! `vrrpctl decode` and the pcap reader it and `garp --pcap` use, and
//! `vrrpctl genhash`. Internal to the command-line tools, not an API of its
//! own.

pub mod args;
pub mod decode;
pub mod genhash;
pub mod pcap;
