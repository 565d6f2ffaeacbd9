//! Fuzzes how DNS_CHECK, PING_CHECK and SMTP_CHECK judge what a checked
//! server sends back (`vrrpd::lvs::{dns, ping, smtp}`).
//!
//! Property: judging never panics, and success means what it says. The
//! corpus is replayed by `bins/daemon/tests/fuzz_corpus.rs`.
#![no_main]

#[path = "../../bins/daemon/tests/support/check_reply_oracle.rs"]
mod check_reply_oracle;

libfuzzer_sys::fuzz_target!(|reply: &[u8]| check_reply_oracle::judge_replies(reply));
