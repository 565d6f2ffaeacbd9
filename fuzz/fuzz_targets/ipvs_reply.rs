//! Fuzzes the decoding of IPVS generic netlink replies in `vrrp-ipvs`:
//! netlink framing, errors with extended acks, and the service,
//! destination, statistics and sync daemon attributes.
//!
//! Property: decoding never panics and ends. The corpus is replayed by
//! `ipvs/tests/fuzz_corpus.rs` in a normal `cargo test`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|datagram: &[u8]| {
    let _ = vrrp_ipvs::fuzzing::decode_reply(datagram);
});
