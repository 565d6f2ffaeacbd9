//! The property the `metrics_request` fuzz target and its corpus replay
//! (`tests/fuzz_corpus.rs`) check: parsing whatever a client of the
//! metrics endpoint sends as its request head never panics, and a request
//! taken as a scrape is a GET or HEAD of `/metrics` over HTTP/1.x.

#![allow(dead_code)]

use vrrpd::metrics::{MetricsRequest, parse_request_head};

/// Parses `bytes` as the endpoint does (a head that is not UTF-8 is
/// refused before parsing).
pub(crate) fn parse_request(bytes: &[u8]) {
    let Ok(head) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(MetricsRequest::Metrics(_)) = parse_request_head(head) {
        let line = head.split("\r\n").next().unwrap_or("");
        let mut words = line.split(' ');
        let method = words.next().unwrap_or("");
        let path = words.next().unwrap_or("").split('?').next().unwrap_or("");
        assert!(method == "GET" || method == "HEAD", "{line:?}");
        assert_eq!(path, "/metrics", "{line:?}");
        assert!(
            words.next().unwrap_or("").starts_with("HTTP/1."),
            "{line:?}"
        );
    }
}
