//! Fuzzes how the HTTP_GET checker judges a response (status line,
//! headers, Content-Length, digest) in `vrrpd::lvs::http`.
//!
//! Property: judging never panics, and a response judged good has a
//! digest. The corpus is replayed by `bins/daemon/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrpd::config::lvs::UrlCheck;
use vrrpd::lvs::http::{judge, response_digest};

fuzz_target!(|response: &[u8]| {
    let url = UrlCheck {
        path: "/".into(),
        digest: Some("5d41402abc4b2a76b9719d911017c592".into()),
        status: vec![(200, 299)],
        virtualhost: None,
    };
    if judge(&url, response).is_ok() {
        assert!(response_digest(response).is_some());
    }
});
