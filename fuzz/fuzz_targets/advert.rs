//! Fuzzes the receive path of a bare VRRP message, as an IPv6 raw socket (or
//! an IPv4 one after the header) hands it over: `Received::validate` (TTL,
//! `Packet::new_checked`, checksum in both forms), then every accessor and
//! a re-emit round trip in both checksum modes.
//!
//! Byte 0 of the input picks the IP layer (bit 0: IPv4 or IPv6, bit 1:
//! TTL 255 or 254); the rest is the message. The checks live in
//! vrrp-core/tests/support/oracle.rs, which `cargo test` also runs over the
//! corpus (vrrp-core/tests/fuzz_corpus.rs).

#![no_main]

#[path = "../../vrrp-core/tests/support/oracle.rs"]
mod oracle;

libfuzzer_sys::fuzz_target!(|data: &[u8]| oracle::advert(data));
