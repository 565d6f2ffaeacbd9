//! The property the `check_reply` fuzz target and its corpus replay
//! (`tests/fuzz_corpus.rs`) check: judging what a checked server sent back
//! (`DNS_CHECK`, `PING_CHECK`, `SMTP_CHECK`) never panics, whatever the
//! bytes, and a verdict of success means what it says.

#![allow(dead_code)]

use vrrpd::lvs::dns::{self, DnsVerdict};
use vrrpd::lvs::ping::{self, PingVerdict};
use vrrpd::lvs::smtp;

/// Judges `bytes` as every checker would.
pub(crate) fn judge_replies(bytes: &[u8]) {
    let id = bytes
        .get(..2)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    if dns::judge(id, bytes) == DnsVerdict::Answered {
        // An answer carries the ID, QR and response code 0.
        assert!(bytes.len() >= 12 && bytes[2] & 0x80 != 0 && bytes[3] & 0x0f == 0);
    }
    for (v6, ip_header) in [(false, false), (false, true), (true, false)] {
        for id in [None, Some(id)] {
            let verdict = ping::judge(bytes, v6, ip_header, id, 7);
            if verdict == PingVerdict::Reply {
                assert!(bytes.len() >= 8);
            }
        }
    }
    if let Some(code) = smtp::first_line(bytes).and_then(smtp::reply_code) {
        assert!(code <= 999);
    }
}
