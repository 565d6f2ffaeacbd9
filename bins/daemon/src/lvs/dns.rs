//! `DNS_CHECK`'s messages, without a socket: the query it sends (RFC 1035
//! §4.1) and how it judges what comes back, as keepalived's check_dns.c
//! does: a datagram with another ID, too short or not a response is
//! ignored (the check keeps waiting until its timeout); a response with
//! response code 0 passes, any other fails.

use crate::config::lvs::DnsCheck;

/// The DNS header's length.
const HEADER: usize = 12;
/// The flags of the query: RD (recursion desired), as keepalived sets.
const FLAGS_RD: u16 = 0x0100;
/// QR: the message is a response.
const FLAG_QR: u16 = 0x8000;
/// Class IN.
const CLASS_IN: u16 = 1;

/// The query with `id` for `check`.
pub fn query(id: u16, check: &DnsCheck) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + check.name.len() + 6);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&FLAGS_RD.to_be_bytes());
    // QDCOUNT 1, ANCOUNT, NSCOUNT, ARCOUNT 0.
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    let name = check.name.strip_suffix('.').unwrap_or(&check.name);
    if !name.is_empty() {
        for label in name.split('.') {
            // Checked by the configuration: 1..=63 bytes.
            out.push(label.len().min(63) as u8);
            out.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
        }
    }
    out.push(0);
    out.extend_from_slice(&check.query_type.code().to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out
}

/// What a datagram says about the query with `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsVerdict {
    /// The answer, without error: the check passes.
    Answered,
    /// The answer, with this response code: the check fails.
    Error(u8),
    /// Not the answer (another ID, too short, a query): keep waiting.
    NotOurs,
}

/// Judges `reply` to the query with `id`.
pub fn judge(id: u16, reply: &[u8]) -> DnsVerdict {
    let Some(header) = reply.get(..HEADER) else {
        return DnsVerdict::NotOurs;
    };
    let reply_id = u16::from_be_bytes([header[0], header[1]]);
    let flags = u16::from_be_bytes([header[2], header[3]]);
    if reply_id != id || flags & FLAG_QR == 0 {
        return DnsVerdict::NotOurs;
    }
    match (flags & 0x000f) as u8 {
        0 => DnsVerdict::Answered,
        rcode => DnsVerdict::Error(rcode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lvs::{Connect, DnsType};
    use std::time::Duration;

    fn check(name: &str, query_type: DnsType) -> DnsCheck {
        DnsCheck {
            connect: Connect {
                addr: ([198, 18, 0, 21], 53).into(),
                bind: None,
                timeout: Duration::from_secs(1),
                fwmark: None,
            },
            query_type,
            name: name.into(),
        }
    }

    #[test]
    fn the_query_is_rfc_1035_with_recursion_desired() {
        let q = query(0xbeef, &check("ok.test", DnsType::A));
        assert_eq!(
            q,
            [
                &[0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0][..],
                &[2, b'o', b'k', 4, b't', b'e', b's', b't', 0],
                &[0, 1, 0, 1],
            ]
            .concat()
        );
        // A final dot changes nothing; the root is a single zero.
        assert_eq!(q, query(0xbeef, &check("ok.test.", DnsType::A)));
        let root = query(1, &check("", DnsType::Soa));
        assert_eq!(&root[HEADER..], &[0, 0, 6, 0, 1]);
        assert_eq!(root, query(1, &check(".", DnsType::Soa)));
    }

    #[test]
    fn only_an_answer_to_this_id_decides() {
        let mut answer = query(7, &check("ok.test", DnsType::A));
        answer[2] |= 0x80;
        assert_eq!(judge(7, &answer), DnsVerdict::Answered);
        assert_eq!(judge(8, &answer), DnsVerdict::NotOurs);
        assert_eq!(judge(7, &answer[..11]), DnsVerdict::NotOurs);
        // The query itself (an echo) is not an answer.
        assert_eq!(
            judge(7, &query(7, &check("ok.test", DnsType::A))),
            DnsVerdict::NotOurs
        );
        // NXDOMAIN, REFUSED.
        answer[3] = 0x03;
        assert_eq!(judge(7, &answer), DnsVerdict::Error(3));
        answer[3] = 0x85;
        assert_eq!(judge(7, &answer), DnsVerdict::Error(5));
    }
}
