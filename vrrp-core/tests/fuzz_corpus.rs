//! Replays every checked-in fuzz input (fuzz/corpus/{advert,ip_packet})
//! through the same checks the fuzz targets run, so `cargo test` catches a
//! regression on any input the fuzzer once found interesting.

#[path = "support/oracle.rs"]
mod oracle;

use std::path::PathBuf;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()));
    let mut count = 0;
    for entry in entries {
        let path = entry.expect("readable corpus directory").path();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let result = std::panic::catch_unwind(|| check(&bytes));
        assert!(result.is_ok(), "corpus input {} fails", path.display());
        count += 1;
    }
    assert!(count > 0, "corpus {} is empty", dir.display());
}

#[test]
fn advert_corpus_replays_cleanly() {
    replay("advert", oracle::advert);
}

#[test]
fn ip_packet_corpus_replays_cleanly() {
    replay("ip_packet", oracle::ip_packet);
}
