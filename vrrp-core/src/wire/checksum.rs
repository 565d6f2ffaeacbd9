//! The VRRP checksum: the Internet checksum (RFC 1071) over the VRRP message,
//! preceded for VRRPv3 by the IPv4 or IPv6 pseudo-header with protocol 112
//! (RFC 9568 §5.2.8).
//!
//! | version / family | sent                                  | accepted                           |
//! |------------------|---------------------------------------|------------------------------------|
//! | v2 / IPv4        | message only (RFC 3768 §5.3.8)        | message only                       |
//! | v3 / IPv4        | [`ChecksumMode`]: pseudo-header by default | pseudo-header, or message only |
//! | v3 / IPv6        | pseudo-header (RFC 8200 §8.1)         | pseudo-header                      |
//!
//! keepalived, FRR up to 8.4 and Wireshark compute the v3/IPv4 checksum with
//! the pseudo-header; Cisco and newer FRR read RFC 9568 §5.2.8 as leaving it
//! out. Verification tries both and reports which one matched
//! ([`ChecksumStatus`]), so the caller can count legacy peers.
//!
//! keepalived up to 1.3.6 summed unicast VRRPv3/IPv4 adverts with the
//! multicast group, not the peer, as the pseudo-header destination (its
//! `old_unicast_checksum`); [`Received::validate_unicast`](super::Received::validate_unicast)
//! accepts that form on request
//! ([`ChecksumStatus::ValidWithGroupDestination`]).

use core::fmt;
use std::net::IpAddr;

use super::address::AddressFamily;
use super::constants::PROTOCOL;
use crate::Version;

/// The form in which a VRRPv3-over-IPv4 checksum is sent. VRRPv2 always
/// sums the message alone and VRRPv3 over IPv6 always includes the
/// pseudo-header; the mode only matters for VRRPv3 over IPv4.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ChecksumMode {
    /// Include the IPv4 pseudo-header, as keepalived, FRR ≤ 8.4 and Wireshark
    /// do. The default.
    #[default]
    PseudoHeader,
    /// Sum the VRRP message alone, as Cisco and newer FRR do.
    MessageOnly,
}

/// The outcome of checking a received checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumStatus {
    /// The checksum matches the form the RFC specifies: message only for
    /// VRRPv2, with the pseudo-header for VRRPv3.
    Valid,
    /// VRRPv3 over IPv4 only: the checksum matches the message alone, without
    /// the pseudo-header (a legacy peer, see [`ChecksumMode::MessageOnly`]).
    ValidWithoutPseudoHeader,
    /// VRRPv3 over IPv4, unicast only: the checksum matches with the
    /// multicast group instead of the real destination in the
    /// pseudo-header, as keepalived ≤ 1.3.6 (and its
    /// `old_unicast_checksum`) sums it.
    ValidWithGroupDestination,
    /// The checksum matches no accepted form.
    Invalid,
}

impl ChecksumStatus {
    /// Whether the packet should be accepted.
    pub const fn is_valid(self) -> bool {
        !matches!(self, ChecksumStatus::Invalid)
    }

    /// A stable name: `valid`, `valid-without-pseudo-header`,
    /// `valid-with-group-destination` or `invalid`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChecksumStatus::Valid => "valid",
            ChecksumStatus::ValidWithoutPseudoHeader => "valid-without-pseudo-header",
            ChecksumStatus::ValidWithGroupDestination => "valid-with-group-destination",
            ChecksumStatus::Invalid => "invalid",
        }
    }
}

impl fmt::Display for ChecksumStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Offset of the 16-bit Checksum field in the VRRP header.
pub(crate) const CHECKSUM_OFFSET: usize = 6;

/// The ones'-complement sum of `data` read as big-endian 16-bit words (an odd
/// last byte is padded with zero), not yet folded to 16 bits.
///
/// Eight bytes are added per step, as two 32-bit words into a 64-bit
/// accumulator: 2^16 ≡ 1 (mod 2^16 − 1), so summing wider words gives the
/// same result after folding (RFC 1071 §2(B)), and the accumulator cannot
/// overflow below 2^31 steps.
pub(crate) fn sum(data: &[u8]) -> u64 {
    let mut acc = 0u64;
    let mut words = data.chunks_exact(8);
    for chunk in &mut words {
        if let Ok(bytes) = <[u8; 8]>::try_from(chunk) {
            acc += sum_u64(u64::from_be_bytes(bytes));
        }
    }
    // At most 7 bytes left: a 32-bit word, a 16-bit word, a byte, each
    // without a loop (a VRRPv3/IPv4 advert with one address is 8 + 4).
    let mut rest = words.remainder();
    if let Some((word, tail)) = rest.split_first_chunk::<4>() {
        acc += u64::from(u32::from_be_bytes(*word));
        rest = tail;
    }
    if let Some((word, tail)) = rest.split_first_chunk::<2>() {
        acc += u64::from(u16::from_be_bytes(*word));
        rest = tail;
    }
    if let [last] = *rest {
        acc += u64::from(last) << 8;
    }
    acc
}

/// A 64-bit word as the sum of its two 32-bit halves (congruent modulo
/// 2^16 − 1, and at most 2^33, so such sums cannot overflow).
#[inline]
const fn sum_u64(w: u64) -> u64 {
    (w >> 32) + (w & 0xffff_ffff)
}

/// Folds a partial sum to 16 bits with end-around carry.
///
/// Four fixed steps instead of a loop: after the first the value is below
/// 2^33, after the second below 2^17 + 2^16, after the third at most
/// 0x1_0001, and after the fourth at most 0xffff.
#[inline]
pub(crate) const fn fold(acc: u64) -> u16 {
    let acc = (acc & 0xffff_ffff) + (acc >> 32);
    let acc = (acc & 0xffff) + (acc >> 16);
    let acc = (acc & 0xffff) + (acc >> 16);
    let acc = (acc & 0xffff) + (acc >> 16);
    acc as u16
}

/// The partial sum of the pseudo-header for a VRRP message of `len` bytes,
/// or `None` if `src` and `dst` are not both of `family`.
///
/// IPv4 (RFC 768 style): source, destination, zero, protocol, 16-bit length.
/// IPv6 (RFC 8200 §8.1): source, destination, 32-bit length, three zero
/// bytes, next header.
pub(crate) fn pseudo_header_sum(
    family: AddressFamily,
    src: IpAddr,
    dst: IpAddr,
    len: usize,
) -> Option<u64> {
    let proto = u64::from(PROTOCOL);
    match (family, src, dst) {
        // Whole 32-bit (IPv4) or 64-bit (IPv6) words: see `sum`.
        (AddressFamily::Ipv4, IpAddr::V4(s), IpAddr::V4(d)) => {
            Some(u64::from(s.to_bits()) + u64::from(d.to_bits()) + proto + (len as u64 & 0xffff))
        }
        (AddressFamily::Ipv6, IpAddr::V6(s), IpAddr::V6(d)) => {
            let len = len as u64 & 0xffff_ffff;
            let (s, d) = (s.to_bits(), d.to_bits());
            let halves = [(s >> 64) as u64, s as u64, (d >> 64) as u64, d as u64];
            Some(halves.into_iter().map(sum_u64).sum::<u64>() + proto + len)
        }
        _ => None,
    }
}

/// Whether a message of `version` over `family` is checksummed with the
/// pseudo-header when sent in `mode`.
fn uses_pseudo_header(version: Version, family: AddressFamily, mode: ChecksumMode) -> bool {
    match (version, family) {
        (Version::V2, _) => false,
        (Version::V3, AddressFamily::Ipv6) => true,
        (Version::V3, AddressFamily::Ipv4) => mode == ChecksumMode::PseudoHeader,
    }
}

/// Which accepted form, if any, the checksum of `msg` (Checksum field
/// included) matches.
pub(crate) fn verify(
    version: Version,
    family: AddressFamily,
    msg: &[u8],
    src: IpAddr,
    dst: IpAddr,
) -> ChecksumStatus {
    let msg_sum = sum(msg);
    let message_only = fold(msg_sum) == 0xffff;
    if version == Version::V2 {
        return if message_only {
            ChecksumStatus::Valid
        } else {
            ChecksumStatus::Invalid
        };
    }
    let with_pseudo =
        pseudo_header_sum(family, src, dst, msg.len()).is_some_and(|p| fold(msg_sum + p) == 0xffff);
    if with_pseudo {
        ChecksumStatus::Valid
    } else if message_only && family == AddressFamily::Ipv4 {
        ChecksumStatus::ValidWithoutPseudoHeader
    } else {
        ChecksumStatus::Invalid
    }
}

/// The Checksum field value for `msg` in `mode`, ignoring whatever the field
/// holds now; `None` if a pseudo-header is needed and `src`/`dst` are not of
/// `family`.
pub(crate) fn compute(
    version: Version,
    family: AddressFamily,
    mode: ChecksumMode,
    msg: &[u8],
    src: IpAddr,
    dst: IpAddr,
) -> Option<u16> {
    let before = msg.get(..CHECKSUM_OFFSET).unwrap_or(msg);
    let after = msg.get(CHECKSUM_OFFSET + 2..).unwrap_or(&[]);
    // CHECKSUM_OFFSET is even, so the two parts stay word-aligned.
    let mut acc = sum(before) + sum(after);
    if uses_pseudo_header(version, family, mode) {
        acc += pseudo_header_sum(family, src, dst, msg.len())?;
    }
    Some(!fold(acc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Word-at-a-time reference implementation, straight from RFC 1071.
    fn reference(data: &[u8]) -> u16 {
        let mut acc: u32 = 0;
        for pair in data.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            let lo = pair.get(1).map_or(0, |&b| u32::from(b));
            acc += hi | lo;
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    #[test]
    fn rfc1071_example_sums_to_ddf2() {
        // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
        assert_eq!(
            fold(sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])),
            0xddf2
        );
    }

    #[test]
    fn wide_sum_matches_the_word_at_a_time_reference_at_every_length() {
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(97) ^ 0xa5) as u8)
            .collect();
        for len in 0..data.len() {
            assert_eq!(
                fold(sum(&data[..len])),
                reference(&data[..len]),
                "len {len}"
            );
        }
        let ones = vec![0xffu8; 1024];
        assert_eq!(fold(sum(&ones)), reference(&ones));
    }

    #[test]
    fn pseudo_header_needs_both_addresses_of_the_family() {
        let v4: IpAddr = [198, 18, 0, 1].into();
        let v6: IpAddr = "fe80::1".parse().unwrap();
        assert!(pseudo_header_sum(AddressFamily::Ipv4, v4, v4, 12).is_some());
        assert!(pseudo_header_sum(AddressFamily::Ipv4, v4, v6, 12).is_none());
        assert!(pseudo_header_sum(AddressFamily::Ipv6, v4, v4, 12).is_none());
        assert!(pseudo_header_sum(AddressFamily::Ipv6, v6, v6, 12).is_some());
    }

    #[test]
    fn fold_carries_around_at_every_boundary() {
        for (acc, want) in [
            (0, 0),
            (0xffff, 0xffff),
            (0x1_0000, 1),
            (0x1_fffe, 0xffff),
            (0xffff_ffff, 0xffff),
            (0x1_0000_0000, 1),
            (0xffff_ffff_ffff, 0xffff),
            (u64::MAX, 0xffff),
            (0x8000_0000_0000_0000, 0x8000),
        ] {
            // Reference: repeated end-around carry.
            let mut r = acc;
            while r > 0xffff {
                r = (r & 0xffff) + (r >> 16);
            }
            assert_eq!(u64::from(fold(acc)), r, "{acc:#x}");
            assert_eq!(fold(acc), want, "{acc:#x}");
        }
    }

    #[test]
    fn pseudo_header_sum_matches_the_bytes_it_stands_for() {
        let cases: [(AddressFamily, &str, &str, usize); 4] = [
            (AddressFamily::Ipv4, "198.18.0.1", "224.0.0.18", 12),
            (
                AddressFamily::Ipv4,
                "255.255.255.255",
                "255.255.255.254",
                0xffff,
            ),
            (AddressFamily::Ipv6, "fe80::1", "ff02::12", 24),
            (
                AddressFamily::Ipv6,
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "fe80::ffff:ffff:ffff:ffff",
                0x1_0008,
            ),
        ];
        for (family, src, dst, len) in cases {
            let (src, dst): (IpAddr, IpAddr) = (src.parse().unwrap(), dst.parse().unwrap());
            let mut bytes = Vec::new();
            match (src, dst) {
                (IpAddr::V4(s), IpAddr::V4(d)) => {
                    bytes.extend(s.octets());
                    bytes.extend(d.octets());
                    bytes.extend([0, PROTOCOL]);
                    bytes.extend((len as u16).to_be_bytes());
                }
                (IpAddr::V6(s), IpAddr::V6(d)) => {
                    bytes.extend(s.octets());
                    bytes.extend(d.octets());
                    bytes.extend((len as u32).to_be_bytes());
                    bytes.extend([0, 0, 0, PROTOCOL]);
                }
                _ => unreachable!("the cases pair addresses of one family"),
            }
            let got = pseudo_header_sum(family, src, dst, len).unwrap();
            assert_eq!(fold(got), reference(&bytes), "{src} > {dst} len {len}");
        }
    }
}
