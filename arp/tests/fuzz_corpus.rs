//! Replays every input of the `arp_frame` fuzz corpus through the same
//! checks as `fuzz/fuzz_targets/arp_frame.rs`, so the corpus (seeds and
//! anything the fuzzer kept) guards against regressions in a plain `cargo test`.

use std::path::PathBuf;

use vrrp_arp::Announcement;

/// The fuzz target's body.
fn check(frame: &[u8]) {
    if let Ok(announcement) = Announcement::parse(frame) {
        let emitted = announcement.to_frame();
        assert_eq!(Announcement::parse(&emitted), Ok(announcement));
    }
}

#[test]
fn every_corpus_input_parses_without_panic_and_round_trips() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/arp_frame");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut replayed = 0;
    let mut parsed = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let frame = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&frame));
        assert!(outcome.is_ok(), "{} failed the fuzz check", path.display());
        replayed += 1;
        parsed += usize::from(Announcement::parse(&frame).is_ok());
    }
    assert!(replayed > 0, "{} is empty", dir.display());
    // The seeds include keepalived's GARP and NA frames and our own.
    assert!(
        parsed >= 5,
        "only {parsed} of {replayed} corpus inputs parse"
    );
}
