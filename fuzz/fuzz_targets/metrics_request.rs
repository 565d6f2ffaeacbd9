//! Fuzzes the metrics endpoint's request-head parser
//! (`vrrpd::metrics::parse_request_head`), which reads what any client of
//! `metrics_listen` sends.
//!
//! Property: parsing never panics, and only a GET or HEAD of `/metrics`
//! over HTTP/1.x is served. The corpus is replayed by
//! `bins/daemon/tests/fuzz_corpus.rs`.
#![no_main]

#[path = "../../bins/daemon/tests/support/metrics_request_oracle.rs"]
mod metrics_request_oracle;

libfuzzer_sys::fuzz_target!(|head: &[u8]| metrics_request_oracle::parse_request(head));
