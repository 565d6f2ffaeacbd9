//! Fuzzes the ARP / Neighbor Advertisement parser of `vrrp-arp`.
//!
//! Properties: parsing never panics, and any frame that parses re-emits to a
//! frame that parses back to the same announcement. The corpus is replayed
//! by `arp/tests/fuzz_corpus.rs` in a normal `cargo test`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrp_arp::Announcement;

fuzz_target!(|frame: &[u8]| {
    if let Ok(announcement) = Announcement::parse(frame) {
        let emitted = announcement.to_frame();
        assert_eq!(Announcement::parse(&emitted), Ok(announcement));
    }
});
