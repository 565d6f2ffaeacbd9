//! Replays every checked-in input of the `ipvs_reply` fuzz target
//! (fuzz/corpus/ipvs_reply) through the same decoding, so a normal
//! `cargo test` catches a regression without nightly. The seeds are
//! replies as the kernel frames them: they must decode, not only be
//! refused.

use std::path::PathBuf;

#[test]
fn ipvs_reply_corpus_replays_cleanly() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/ipvs_reply");
    let mut decoded = 0;
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        decoded += vrrp_ipvs::fuzzing::decode_reply(&bytes);
        count += 1;
    }
    assert!(count >= 7, "corpus {} has {count} inputs", dir.display());
    // 3 services, 1 destination, 1 daemon, 3 dump ends, 1 ack, 2 errors.
    assert!(decoded >= 11, "only {decoded} items decoded");
}
