//! [`Packet`], the zero-copy checked view of a received VRRP message.

use core::iter::FusedIterator;
use core::slice::ChunksExact;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::address::AddressFamily;
use super::auth::{AUTH_DATA_LEN, AUTH_TYPE_NONE, AUTH_TYPE_SIMPLE_TEXT, Auth, Password};
use super::checksum::{self, ChecksumMode, ChecksumStatus};
use super::error::WireError;
use super::version_fields::VersionFields;
use crate::{AdverIntSeconds, Centiseconds, MaxAdverInt, Priority, Version, Vrid};

/// Length of the fixed VRRP header (both versions), before the addresses.
pub const HEADER_LEN: usize = 8;

/// The Type nibble of an Advertisement, the only VRRP message type.
pub const TYPE_ADVERTISEMENT: u8 = 1;

/// A checked, zero-copy view of one VRRP message (the IP payload).
///
/// [`Packet::new_checked`] validates everything that can be validated without
/// the IP header: length against the address count, version, type, VRID,
/// interval and (VRRPv2) authentication type. The view keeps only the buffer
/// and the family: every accessor reads its field in place, and cannot fail
/// or panic because `new_checked` has already checked it. Nothing allocates:
/// [`Packet::addresses`] iterates over the buffer.
///
/// (Keeping nothing decoded is also what makes the view fast: an earlier
/// version decoded the header into a struct of byte fields, and copying it
/// out of `new_checked` cost a store-forwarding stall per copy, over a third
/// of the receive path; see `benches/codec.rs`.)
///
/// What needs the IP layer is checked separately: the checksum with
/// [`Packet::verify_checksum`] (it needs the source and destination), and the
/// TTL with [`Received::check_ttl`](super::Received::check_ttl).
/// [`Received::validate`](super::Received::validate) does all three.
///
/// The view is read-only. Writing is done in one step by
/// [`Advertisement::emit`](super::Advertisement::emit), so no half-written or
/// inconsistent view (say, a count that runs past the buffer) can exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
    family: AddressFamily,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks `buffer`, the whole VRRP message received over `family`.
    ///
    /// The message may be longer than its header and addresses need; the
    /// extra bytes are kept (the checksum covers them) but not interpreted.
    ///
    /// VRRPv2 leniency: with authentication type 0, the 8 Authentication Data
    /// bytes are ignored on receive (RFC 3768 §5.3.10), so a message that
    /// omits or truncates them is accepted. With type 1 (simple text) they
    /// hold the password and must be present.
    ///
    /// VRRPv3: the 4 reserved bits before Max Adver Int are ignored, and the
    /// interval is the low 12 bits (RFC 9568 §5.2.6). FRR 8.4 read all 16
    /// bits and lost its Active for two minutes on one such packet.
    #[inline]
    pub fn new_checked(buffer: T, family: AddressFamily) -> Result<Self, WireError> {
        check_header(buffer.as_ref(), family)?;
        Ok(Packet { buffer, family })
    }

    /// The fixed header. `new_checked` guarantees it is there; the zero
    /// fallback only keeps this free of any panic path.
    #[inline]
    fn header(&self) -> [u8; HEADER_LEN] {
        self.buffer
            .as_ref()
            .first_chunk::<HEADER_LEN>()
            .copied()
            .unwrap_or([0; HEADER_LEN])
    }

    /// The address family the message was received over.
    pub fn family(&self) -> AddressFamily {
        self.family
    }

    /// The protocol version.
    #[inline]
    pub fn version(&self) -> Version {
        // `new_checked` admits only 2 and 3.
        if self.header()[0] >> 4 == 2 {
            Version::V2
        } else {
            Version::V3
        }
    }

    /// The Virtual Router Identifier.
    #[inline]
    pub fn vrid(&self) -> Vrid {
        // Non-zero: checked by `new_checked`.
        Vrid::new(self.header()[1]).unwrap_or(Vrid::MIN)
    }

    /// The sender's priority.
    #[inline]
    pub fn priority(&self) -> Priority {
        Priority::new(self.header()[2])
    }

    /// The Count IPvX Addrs field: how many addresses follow the header.
    #[inline]
    pub fn address_count(&self) -> u8 {
        self.header()[3]
    }

    /// The version-specific fields: interval (with its unit) and, for
    /// VRRPv2, authentication.
    pub fn version_fields(&self) -> VersionFields {
        match (self.max_adver_int(), self.adver_int(), self.auth()) {
            (Some(max_adver_int), _, _) => VersionFields::V3 { max_adver_int },
            (None, Some(adver_int), Some(auth)) => VersionFields::V2 { adver_int, auth },
            // Unreachable: a v2 view has both.
            (None, _, _) => VersionFields::V3 {
                max_adver_int: MaxAdverInt::MIN,
            },
        }
    }

    /// The advertisement interval in centiseconds, whatever the version.
    #[inline]
    pub fn interval(&self) -> Centiseconds {
        match (self.max_adver_int(), self.adver_int()) {
            (Some(v3), _) => v3.as_centiseconds(),
            (None, Some(v2)) => v2.as_centiseconds(),
            (None, None) => MaxAdverInt::MIN.as_centiseconds(),
        }
    }

    /// The VRRPv3 Max Adver Int, or `None` for VRRPv2.
    #[inline]
    pub fn max_adver_int(&self) -> Option<MaxAdverInt> {
        let h = self.header();
        match self.version() {
            // Non-zero: checked by `new_checked`.
            Version::V3 => Some(
                MaxAdverInt::new(u16::from_be_bytes([h[4] & 0x0f, h[5]]))
                    .unwrap_or(MaxAdverInt::MIN),
            ),
            Version::V2 => None,
        }
    }

    /// The VRRPv2 Adver Int, or `None` for VRRPv3.
    #[inline]
    pub fn adver_int(&self) -> Option<AdverIntSeconds> {
        match self.version() {
            // Non-zero: checked by `new_checked`.
            Version::V2 => {
                Some(AdverIntSeconds::new(self.header()[5]).unwrap_or(AdverIntSeconds::MIN))
            }
            Version::V3 => None,
        }
    }

    /// The VRRPv2 authentication, or `None` for VRRPv3.
    pub fn auth(&self) -> Option<Auth> {
        if self.version() != Version::V2 {
            return None;
        }
        if self.header()[4] != AUTH_TYPE_SIMPLE_TEXT {
            // `new_checked` admits only types 0 and 1.
            return Some(Auth::None);
        }
        let start = HEADER_LEN + usize::from(self.address_count()) * self.family.address_len();
        let data = self
            .buffer
            .as_ref()
            .get(start..)
            .and_then(<[u8]>::first_chunk::<AUTH_DATA_LEN>)
            .copied()
            // Present: checked by `new_checked`.
            .unwrap_or([0; AUTH_DATA_LEN]);
        Some(Auth::SimpleText(Password::from_wire(data)))
    }

    /// The 4 reserved bits before Max Adver Int (VRRPv3; 0 for VRRPv2).
    /// Ignored by the protocol; exposed for diagnostics.
    #[inline]
    pub fn reserved_bits(&self) -> u8 {
        match self.version() {
            Version::V3 => self.header()[4] >> 4,
            Version::V2 => 0,
        }
    }

    /// The Checksum field as received.
    #[inline]
    pub fn checksum(&self) -> u16 {
        let h = self.header();
        u16::from_be_bytes([h[6], h[7]])
    }

    /// The virtual addresses, read from the buffer without allocating.
    #[inline]
    pub fn addresses(&self) -> Addresses<'_> {
        let size = self.family.address_len();
        let end = HEADER_LEN + usize::from(self.address_count()) * size;
        let bytes = self.buffer.as_ref().get(HEADER_LEN..end).unwrap_or(&[]);
        Addresses {
            chunks: bytes.chunks_exact(size),
        }
    }

    /// The whole message, as given to [`Packet::new_checked`].
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Checks the checksum against the IP source and destination, trying each
    /// form this version and family accept (see [`checksum`](super::checksum)).
    /// Addresses of another family than the packet's match no pseudo-header.
    #[inline]
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> ChecksumStatus {
        checksum::verify(self.version(), self.family, self.as_bytes(), src, dst)
    }

    /// The value the Checksum field should hold if sent in `mode`, whatever it
    /// holds now; `None` if a pseudo-header is needed and `src`/`dst` are not
    /// of the packet's family.
    pub fn compute_checksum(&self, src: IpAddr, dst: IpAddr, mode: ChecksumMode) -> Option<u16> {
        checksum::compute(self.version(), self.family, mode, self.as_bytes(), src, dst)
    }
}

/// Everything [`Packet::new_checked`] checks about the message `b`.
#[inline]
fn check_header(b: &[u8], family: AddressFamily) -> Result<(), WireError> {
    let &[ver_type, vrid, _priority, count, b4, b5, _, _, ..] = b else {
        return Err(WireError::Truncated { len: b.len() });
    };
    let version =
        Version::from_number(ver_type >> 4).ok_or(WireError::BadVersion(ver_type >> 4))?;
    if ver_type & 0x0f != TYPE_ADVERTISEMENT {
        return Err(WireError::BadType(ver_type & 0x0f));
    }
    if version == Version::V2 && family == AddressFamily::Ipv6 {
        return Err(WireError::V2OverIpv6);
    }
    let addr_end = HEADER_LEN + usize::from(count) * family.address_len();
    if b.len() < addr_end {
        return Err(WireError::LengthMismatch {
            count,
            needed: addr_end,
            len: b.len(),
        });
    }
    if vrid == 0 {
        return Err(WireError::ZeroVrid);
    }
    match version {
        Version::V3 => {
            // RFC 9568 §5.2.6: the top 4 bits are reserved and ignored.
            if u16::from_be_bytes([b4 & 0x0f, b5]) == 0 {
                return Err(WireError::ZeroInterval);
            }
        }
        Version::V2 => {
            if b5 == 0 {
                return Err(WireError::ZeroInterval);
            }
            match b4 {
                AUTH_TYPE_NONE => {}
                AUTH_TYPE_SIMPLE_TEXT => {
                    let end = addr_end + AUTH_DATA_LEN;
                    if b.len() < end {
                        return Err(WireError::LengthMismatch {
                            count,
                            needed: end,
                            len: b.len(),
                        });
                    }
                }
                other => return Err(WireError::UnsupportedAuth(other)),
            }
        }
    }
    Ok(())
}

/// Iterator over the addresses of a [`Packet`], read in place.
#[derive(Debug, Clone)]
pub struct Addresses<'a> {
    chunks: ChunksExact<'a, u8>,
}

impl Iterator for Addresses<'_> {
    type Item = IpAddr;

    fn next(&mut self) -> Option<IpAddr> {
        let chunk = self.chunks.next()?;
        if let Ok(v4) = <[u8; 4]>::try_from(chunk) {
            Some(IpAddr::V4(Ipv4Addr::from(v4)))
        } else {
            <[u8; 16]>::try_from(chunk)
                .ok()
                .map(|v6| IpAddr::V6(Ipv6Addr::from(v6)))
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for Addresses<'_> {}

impl FusedIterator for Addresses<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    const V3_V4: [u8; 12] = [
        0x31, 0x33, 0x96, 0x01, 0x00, 0x32, 0xcb, 0x7f, 198, 18, 0, 100,
    ];

    #[test]
    fn accessors_read_the_decoded_header() {
        let p = Packet::new_checked(&V3_V4[..], AddressFamily::Ipv4).unwrap();
        assert_eq!(p.version(), Version::V3);
        assert_eq!(p.vrid().get(), 51);
        assert_eq!(p.priority().get(), 150);
        assert_eq!(p.address_count(), 1);
        assert_eq!(p.interval(), Centiseconds::new(50));
        assert_eq!(p.max_adver_int().map(MaxAdverInt::get), Some(50));
        assert_eq!(p.adver_int(), None);
        assert_eq!(p.auth(), None);
        assert_eq!(p.reserved_bits(), 0);
        assert_eq!(p.checksum(), 0xcb7f);
        assert_eq!(p.addresses().len(), 1);
        assert_eq!(
            p.addresses().collect::<Vec<_>>(),
            [IpAddr::from([198, 18, 0, 100])]
        );
        assert_eq!(p.into_inner(), &V3_V4[..]);
    }

    #[test]
    fn a_buffer_shorter_than_the_fixed_header_is_truncated_at_every_length() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                Packet::new_checked(&V3_V4[..len], AddressFamily::Ipv4),
                Err(WireError::Truncated { len })
            );
        }
    }

    #[test]
    fn the_same_bytes_over_ipv6_need_sixteen_bytes_per_address() {
        assert_eq!(
            Packet::new_checked(&V3_V4[..], AddressFamily::Ipv6),
            Err(WireError::LengthMismatch {
                count: 1,
                needed: 24,
                len: 12
            })
        );
    }
}
