//! Fuzzes how the HTTP_GET checker judges a response (status line,
//! headers, Content-Length, digest) in `vrrpd::lvs::http`.
//!
//! Property: judging never panics, and a response judged good has a
//! digest. The corpus is replayed by `bins/daemon/tests/fuzz_corpus.rs`.
#![no_main]

#[path = "../../bins/daemon/tests/support/http_oracle.rs"]
mod http_oracle;

libfuzzer_sys::fuzz_target!(|response: &[u8]| http_oracle::judge_response(response));
