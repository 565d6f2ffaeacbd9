//! Fuzzes the receive path of a whole IPv4 or IPv6 packet:
//! `Received::from_ip_packet` (IHL and options, lengths, fragments,
//! IPv6 extension headers), then the same checks as the `advert` target.
//!
//! The checks live in vrrp-core/tests/support/oracle.rs, which `cargo test`
//! also runs over the corpus (vrrp-core/tests/fuzz_corpus.rs).

#![no_main]

#[path = "../../vrrp-core/tests/support/oracle.rs"]
mod oracle;

libfuzzer_sys::fuzz_target!(|data: &[u8]| oracle::ip_packet(data));
