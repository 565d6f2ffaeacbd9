//! `PING_CHECK`'s messages, without a socket: the ICMP or ICMPv6 echo
//! request it sends (RFC 792, RFC 4443 §4.1) and how it judges what comes
//! back. The check passes on the echo reply to its request and fails on
//! an error about it (destination unreachable) or on silence.
//!
//! Two kinds of socket carry them: a ping socket (`SOCK_DGRAM`,
//! `IPPROTO_ICMP`), where the kernel sets the identifier and delivers
//! only the replies to it, and a raw socket (CAP_NET_RAW), which sees
//! every ICMP message of the host, IPv4 ones with their IP header.

/// ICMP echo request and reply, and destination unreachable.
const V4_ECHO: u8 = 8;
const V4_REPLY: u8 = 0;
const V4_UNREACHABLE: u8 = 3;
/// ICMPv6 echo request and reply, and destination unreachable.
const V6_ECHO: u8 = 128;
const V6_REPLY: u8 = 129;
const V6_UNREACHABLE: u8 = 1;
/// The echo data: keepalived sends 56 bytes, as ping(8) does.
const DATA: usize = 56;

/// The echo request with `id` and `seq` (ICMPv6 when `v6`), checksum
/// included (for ICMPv6 the kernel overwrites it with one over its
/// pseudo-header).
pub fn echo_request(id: u16, seq: u16, v6: bool) -> Vec<u8> {
    let mut out = vec![0u8; 8 + DATA];
    out[0] = if v6 { V6_ECHO } else { V4_ECHO };
    out[4..6].copy_from_slice(&id.to_be_bytes());
    out[6..8].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in out[8..].iter_mut().enumerate() {
        *b = i as u8;
    }
    let sum = checksum(&out);
    out[2..4].copy_from_slice(&sum.to_be_bytes());
    out
}

/// The Internet checksum (RFC 1071) of `data`.
fn checksum(data: &[u8]) -> u16 {
    let mut acc: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// What a received message says about the request `(id, seq)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingVerdict {
    /// Its echo reply: the check passes.
    Reply,
    /// An ICMP error about it (destination unreachable): the check fails.
    Unreachable,
    /// Something else: keep waiting.
    NotOurs,
}

/// Judges `message`, as a socket gave it: from a raw IPv4 socket with its
/// IP header (`ip_header`), otherwise the ICMP message alone. A ping
/// socket rewrites the identifier, so `id` is `None` there.
pub fn judge(message: &[u8], v6: bool, ip_header: bool, id: Option<u16>, seq: u16) -> PingVerdict {
    let icmp = if ip_header {
        let Some(&first) = message.first() else {
            return PingVerdict::NotOurs;
        };
        match message.get(usize::from(first & 0x0f) * 4..) {
            Some(rest) => rest,
            None => return PingVerdict::NotOurs,
        }
    } else {
        message
    };
    let Some(header) = icmp.get(..8) else {
        return PingVerdict::NotOurs;
    };
    let ours = |echo: &[u8]| {
        let got_id = u16::from_be_bytes([echo[4], echo[5]]);
        let got_seq = u16::from_be_bytes([echo[6], echo[7]]);
        got_seq == seq && id.is_none_or(|id| id == got_id)
    };
    let (reply, unreachable, request) = if v6 {
        (V6_REPLY, V6_UNREACHABLE, V6_ECHO)
    } else {
        (V4_REPLY, V4_UNREACHABLE, V4_ECHO)
    };
    if header[0] == reply {
        return if ours(header) {
            PingVerdict::Reply
        } else {
            PingVerdict::NotOurs
        };
    }
    if header[0] == unreachable {
        // The error quotes our packet: its IP header, then our request.
        let quoted = &icmp[8..];
        let echo = if v6 {
            quoted.get(40..48)
        } else {
            quoted
                .first()
                .and_then(|b| quoted.get(usize::from(b & 0x0f) * 4..usize::from(b & 0x0f) * 4 + 8))
        };
        if let Some(echo) = echo {
            if echo[0] == request && ours(echo) {
                return PingVerdict::Unreachable;
            }
        }
    }
    PingVerdict::NotOurs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_has_a_valid_checksum() {
        let r = echo_request(0x1234, 7, false);
        assert_eq!(r.len(), 64);
        assert_eq!((r[0], &r[4..8]), (8, &[0x12, 0x34, 0, 7][..]));
        assert_eq!(checksum(&r), 0, "sums to zero with its checksum");
        assert_eq!(echo_request(1, 1, true)[0], 128);
    }

    #[test]
    fn replies_and_errors_about_our_request_decide_the_rest_is_ignored() {
        let mut reply = echo_request(0x1234, 7, false);
        reply[0] = 0;
        assert_eq!(
            judge(&reply, false, false, Some(0x1234), 7),
            PingVerdict::Reply
        );
        assert_eq!(
            judge(&reply, false, false, Some(0x4321), 7),
            PingVerdict::NotOurs
        );
        assert_eq!(judge(&reply, false, false, None, 7), PingVerdict::Reply);
        assert_eq!(judge(&reply, false, false, None, 8), PingVerdict::NotOurs);
        // From a raw socket: behind a 20-byte IPv4 header.
        let mut ip = vec![0x45u8];
        ip.resize(20, 0);
        let framed = [&ip[..], &reply].concat();
        assert_eq!(
            judge(&framed, false, true, Some(0x1234), 7),
            PingVerdict::Reply
        );
        // Our own request, seen by a raw socket on loopback, is not a reply.
        let request = [&ip[..], &echo_request(0x1234, 7, false)].concat();
        assert_eq!(
            judge(&request, false, true, Some(0x1234), 7),
            PingVerdict::NotOurs
        );
        // Unreachable, quoting our request.
        let quote = [&ip[..], &echo_request(0x1234, 7, false)[..8]].concat();
        let error = [&ip[..], &[3, 1, 0, 0, 0, 0, 0, 0], &quote[..]].concat();
        assert_eq!(
            judge(&error, false, true, Some(0x1234), 7),
            PingVerdict::Unreachable
        );
        assert_eq!(
            judge(&error, false, true, Some(0x9999), 7),
            PingVerdict::NotOurs
        );
        // IPv6: no header; an error quotes a 40-byte IPv6 header.
        let mut reply6 = echo_request(5, 9, true);
        reply6[0] = 129;
        assert_eq!(judge(&reply6, true, false, Some(5), 9), PingVerdict::Reply);
        let quote6 = [&[0x60u8; 40][..], &echo_request(5, 9, true)[..8]].concat();
        let error6 = [&[1u8, 3, 0, 0, 0, 0, 0, 0][..], &quote6].concat();
        assert_eq!(
            judge(&error6, true, false, Some(5), 9),
            PingVerdict::Unreachable
        );
        // Truncated or empty: ignored, no panic.
        for n in 0..framed.len() {
            let _ = judge(&framed[..n], false, true, Some(0x1234), 7);
            let _ = judge(&error[..n.min(error.len())], false, true, Some(0x1234), 7);
        }
    }
}
