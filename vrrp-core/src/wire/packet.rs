//! [`Packet`], the zero-copy checked view of a received VRRP message.

use core::iter::FusedIterator;
use core::slice::ChunksExact;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::address::AddressFamily;
use super::advertisement::VersionFields;
use super::auth::{AUTH_DATA_LEN, AUTH_TYPE_NONE, AUTH_TYPE_SIMPLE_TEXT, Auth, Password};
use super::checksum::{self, ChecksumMode, ChecksumStatus};
use super::error::WireError;
use crate::{AdverIntSeconds, Centiseconds, MaxAdverInt, Priority, Version, Vrid};

/// Length of the fixed VRRP header (both versions), before the addresses.
pub const HEADER_LEN: usize = 8;

/// The Type nibble of an Advertisement, the only VRRP message type.
pub const TYPE_ADVERTISEMENT: u8 = 1;

/// A checked, zero-copy view of one VRRP message (the IP payload).
///
/// [`Packet::new_checked`] validates everything that can be validated without
/// the IP header: length against the address count, version, type, VRID,
/// interval and (VRRPv2) authentication type. It decodes the 8-byte fixed
/// header once, so every accessor is a field read that cannot fail or panic,
/// and nothing allocates: [`Packet::addresses`] iterates over the buffer.
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
    header: Header,
}

/// The decoded fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    vrid: Vrid,
    priority: Priority,
    count: u8,
    fields: VersionFields,
    reserved: u8,
    checksum: u16,
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
    pub fn new_checked(buffer: T, family: AddressFamily) -> Result<Self, WireError> {
        let header = Header::parse(buffer.as_ref(), family)?;
        Ok(Packet {
            buffer,
            family,
            header,
        })
    }

    /// The address family the message was received over.
    pub fn family(&self) -> AddressFamily {
        self.family
    }

    /// The protocol version.
    pub fn version(&self) -> Version {
        self.header.fields.version()
    }

    /// The Virtual Router Identifier.
    pub fn vrid(&self) -> Vrid {
        self.header.vrid
    }

    /// The sender's priority.
    pub fn priority(&self) -> Priority {
        self.header.priority
    }

    /// The Count IPvX Addrs field: how many addresses follow the header.
    pub fn address_count(&self) -> u8 {
        self.header.count
    }

    /// The version-specific fields: interval (with its unit) and, for
    /// VRRPv2, authentication.
    pub fn version_fields(&self) -> VersionFields {
        self.header.fields
    }

    /// The advertisement interval in centiseconds, whatever the version.
    pub fn interval(&self) -> Centiseconds {
        self.header.fields.interval()
    }

    /// The VRRPv3 Max Adver Int, or `None` for VRRPv2.
    pub fn max_adver_int(&self) -> Option<MaxAdverInt> {
        match self.header.fields {
            VersionFields::V3 { max_adver_int } => Some(max_adver_int),
            VersionFields::V2 { .. } => None,
        }
    }

    /// The VRRPv2 Adver Int, or `None` for VRRPv3.
    pub fn adver_int(&self) -> Option<AdverIntSeconds> {
        match self.header.fields {
            VersionFields::V2 { adver_int, .. } => Some(adver_int),
            VersionFields::V3 { .. } => None,
        }
    }

    /// The VRRPv2 authentication, or `None` for VRRPv3.
    pub fn auth(&self) -> Option<Auth> {
        self.header.fields.auth()
    }

    /// The 4 reserved bits before Max Adver Int (VRRPv3; 0 for VRRPv2).
    /// Ignored by the protocol; exposed for diagnostics.
    pub fn reserved_bits(&self) -> u8 {
        self.header.reserved
    }

    /// The Checksum field as received.
    pub fn checksum(&self) -> u16 {
        self.header.checksum
    }

    /// The virtual addresses, read from the buffer without allocating.
    pub fn addresses(&self) -> Addresses<'_> {
        let size = self.family.address_len();
        let end = HEADER_LEN + usize::from(self.header.count) * size;
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

impl Header {
    fn parse(b: &[u8], family: AddressFamily) -> Result<Header, WireError> {
        let &[ver_type, vrid, priority, count, b4, b5, c0, c1, ..] = b else {
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
        let vrid = Vrid::new(vrid).ok_or(WireError::ZeroVrid)?;
        let (fields, reserved) = match version {
            Version::V3 => {
                // RFC 9568 §5.2.6: the top 4 bits are reserved and ignored.
                let interval = u16::from_be_bytes([b4 & 0x0f, b5]);
                let max_adver_int = MaxAdverInt::new(interval).ok_or(WireError::ZeroInterval)?;
                (VersionFields::V3 { max_adver_int }, b4 >> 4)
            }
            Version::V2 => {
                let adver_int = AdverIntSeconds::new(b5).ok_or(WireError::ZeroInterval)?;
                let auth = match b4 {
                    AUTH_TYPE_NONE => Auth::None,
                    AUTH_TYPE_SIMPLE_TEXT => {
                        let end = addr_end + AUTH_DATA_LEN;
                        let data = b
                            .get(addr_end..end)
                            .and_then(|d| <[u8; AUTH_DATA_LEN]>::try_from(d).ok())
                            .ok_or(WireError::LengthMismatch {
                                count,
                                needed: end,
                                len: b.len(),
                            })?;
                        Auth::SimpleText(Password::from_wire(data))
                    }
                    other => return Err(WireError::UnsupportedAuth(other)),
                };
                (VersionFields::V2 { adver_int, auth }, 0)
            }
        };
        Ok(Header {
            vrid,
            priority: Priority::new(priority),
            count,
            fields,
            reserved,
            checksum: u16::from_be_bytes([c0, c1]),
        })
    }
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
