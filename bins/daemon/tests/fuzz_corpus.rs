//! Replays every checked-in input of the configuration fuzz targets
//! (fuzz/corpus/{config_toml,keepalived_conf,http_response,check_reply,
//! metrics_request}) through the same checks the targets run
//! (`tests/support/config_oracle.rs`, `tests/support/http_oracle.rs`,
//! `tests/support/check_reply_oracle.rs`,
//! `tests/support/metrics_request_oracle.rs`),
//! so a normal
//! `cargo test` catches a regression on any input the fuzzer once found
//! interesting, without nightly.

#[path = "support/check_reply_oracle.rs"]
mod check_reply_oracle;
#[path = "support/config_oracle.rs"]
mod config_oracle;
#[path = "support/http_oracle.rs"]
mod http_oracle;
#[path = "support/metrics_request_oracle.rs"]
mod metrics_request_oracle;

use std::path::PathBuf;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()));
    let mut failures = Vec::new();
    let mut count = 0;
    for entry in entries {
        let path = entry.expect("readable corpus directory").path();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if std::panic::catch_unwind(|| check(&bytes)).is_err() {
            failures.push(path.display().to_string());
        }
        count += 1;
    }
    assert!(count > 0, "corpus {} is empty", dir.display());
    assert!(failures.is_empty(), "corpus inputs fail: {failures:#?}");
}

#[test]
fn http_response_corpus_replays_cleanly() {
    replay("http_response", http_oracle::judge_response);
    // The seed whose body is "hello" passes; the others do not.
    let ok =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/http_response/ok_digest");
    let url = vrrpd::config::lvs::UrlCheck {
        path: "/".into(),
        digest: Some("5d41402abc4b2a76b9719d911017c592".into()),
        status: vec![(200, 299)],
        virtualhost: None,
    };
    assert_eq!(
        vrrpd::lvs::http::judge(&url, &std::fs::read(ok).unwrap()),
        Ok(())
    );
}

#[test]
fn config_toml_corpus_replays_cleanly() {
    replay("config_toml", config_oracle::native);
}

#[test]
fn keepalived_conf_corpus_replays_cleanly() {
    replay("keepalived_conf", config_oracle::keepalived);
}

/// The seeds must reach the round-trip check, not only the rejection
/// paths: most of them are valid configurations.
#[test]
fn seed_corpora_contain_accepted_configurations() {
    use std::path::Path;
    use vrrpd::config;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let accepted = std::fs::read_dir(dir.join("config_toml"))
        .expect("config_toml corpus")
        .filter(|e| {
            let text = std::fs::read_to_string(e.as_ref().unwrap().path()).unwrap_or_default();
            config::check_native_str(&text, Path::new("seed.toml")).is_ok()
        })
        .count();
    assert!(
        accepted >= 10,
        "only {accepted} seeds are valid configurations"
    );
}

#[test]
fn check_reply_corpus_replays_cleanly() {
    replay("check_reply", check_reply_oracle::judge_replies);
}

#[test]
fn metrics_request_corpus_replays_cleanly() {
    replay("metrics_request", metrics_request_oracle::parse_request);
}
