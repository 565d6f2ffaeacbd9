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

use core::fmt;
use std::net::IpAddr;

use super::address::AddressFamily;
use super::ip::PROTOCOL;
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
    /// The checksum matches no accepted form.
    Invalid,
}

impl ChecksumStatus {
    /// Whether the packet should be accepted.
    pub const fn is_valid(self) -> bool {
        !matches!(self, ChecksumStatus::Invalid)
    }

    /// A stable name: `valid`, `valid-without-pseudo-header` or `invalid`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChecksumStatus::Valid => "valid",
            ChecksumStatus::ValidWithoutPseudoHeader => "valid-without-pseudo-header",
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
            let w = u64::from_be_bytes(bytes);
            acc += (w >> 32) + (w & 0xffff_ffff);
        }
    }
    let mut pairs = words.remainder().chunks_exact(2);
    for pair in &mut pairs {
        if let [hi, lo] = *pair {
            acc += u64::from(u16::from_be_bytes([hi, lo]));
        }
    }
    if let [last] = *pairs.remainder() {
        acc += u64::from(last) << 8;
    }
    acc
}

/// Folds a partial sum to 16 bits with end-around carry.
pub(crate) fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
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
        (AddressFamily::Ipv4, IpAddr::V4(s), IpAddr::V4(d)) => {
            Some(sum(&s.octets()) + sum(&d.octets()) + proto + (len as u64 & 0xffff))
        }
        (AddressFamily::Ipv6, IpAddr::V6(s), IpAddr::V6(d)) => {
            let len = len as u64 & 0xffff_ffff;
            Some(sum(&s.octets()) + sum(&d.octets()) + proto + (len >> 16) + (len & 0xffff))
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
}
