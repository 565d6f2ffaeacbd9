//! The check of the `http_response` fuzz target
//! (fuzz/fuzz_targets/http_response.rs) and of its corpus replay in
//! `bins/daemon/tests/fuzz_corpus.rs`, so `cargo test` runs exactly what
//! the fuzzer runs: judging a response as HTTP_GET does never panics, and
//! a response judged good has a digest.

use vrrpd::config::lvs::UrlCheck;
use vrrpd::lvs::http::{judge, response_digest};

/// Judges `response` against a url that wants status 2xx and MD5("hello").
pub(crate) fn judge_response(response: &[u8]) {
    let url = UrlCheck {
        path: "/".into(),
        digest: Some("5d41402abc4b2a76b9719d911017c592".into()),
        status: vec![(200, 299)],
        virtualhost: None,
    };
    if judge(&url, response).is_ok() {
        assert!(response_digest(response).is_some());
    }
}
