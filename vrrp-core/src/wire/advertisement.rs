//! [`Advertisement`], the owned representation of a VRRP advertisement.

use std::net::IpAddr;

use super::address::{AddressFamily, AddressList};
use super::auth::AUTH_DATA_LEN;
use super::checksum::{self, CHECKSUM_OFFSET, ChecksumMode};
use super::error::{EmitError, WireError};
use super::packet::{HEADER_LEN, Packet, TYPE_ADVERTISEMENT};
use super::version_fields::VersionFields;
use crate::{Centiseconds, Priority, Version, Vrid};

/// A VRRP advertisement as plain data: what [`Packet`] reads, owned, and what
/// [`Advertisement::emit`] writes.
///
/// `parse(emit(a)) == a` for every value (the property tests check it), with
/// one proviso: a VRRPv2 advertisement cannot carry IPv6 addresses, and
/// `emit` refuses one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Advertisement {
    /// The Virtual Router Identifier.
    pub vrid: Vrid,
    /// The sender's priority.
    pub priority: Priority,
    /// Version, interval and (VRRPv2) authentication.
    pub version_fields: VersionFields,
    /// The virtual addresses; their family is the IP family the
    /// advertisement travels over.
    pub addresses: AddressList,
}

impl Advertisement {
    /// Copies a checked packet into an owned advertisement.
    pub fn from_packet<T: AsRef<[u8]>>(packet: &Packet<T>) -> Self {
        let addresses = match packet.family() {
            AddressFamily::Ipv4 => AddressList::V4(
                packet
                    .addresses()
                    .filter_map(|a| match a {
                        IpAddr::V4(a) => Some(a),
                        IpAddr::V6(_) => None,
                    })
                    .collect(),
            ),
            AddressFamily::Ipv6 => AddressList::V6(
                packet
                    .addresses()
                    .filter_map(|a| match a {
                        IpAddr::V6(a) => Some(a),
                        IpAddr::V4(_) => None,
                    })
                    .collect(),
            ),
        };
        Advertisement {
            vrid: packet.vrid(),
            priority: packet.priority(),
            version_fields: packet.version_fields(),
            addresses,
        }
    }

    /// Checks `bytes` (a VRRP message received over `family`) with
    /// [`Packet::new_checked`] and copies it. The checksum is not verified:
    /// use [`Packet::verify_checksum`] for that.
    pub fn parse(bytes: &[u8], family: AddressFamily) -> Result<Self, WireError> {
        Packet::new_checked(bytes, family).map(|p| Self::from_packet(&p))
    }

    /// The protocol version.
    pub fn version(&self) -> Version {
        self.version_fields.version()
    }

    /// The interval in centiseconds.
    pub fn interval(&self) -> Centiseconds {
        self.version_fields.interval()
    }

    /// The address family.
    pub fn family(&self) -> AddressFamily {
        self.addresses.family()
    }

    /// The length of the emitted message: the 8-byte header, the addresses
    /// and, for VRRPv2, the 8 Authentication Data bytes.
    pub fn buffer_len(&self) -> usize {
        let auth = match self.version() {
            Version::V2 => AUTH_DATA_LEN,
            Version::V3 => 0,
        };
        HEADER_LEN + self.addresses.len() * self.family().address_len() + auth
    }

    /// Writes the message into the first [`buffer_len`](Self::buffer_len)
    /// bytes of `buf`, with the checksum for `src` → `dst` computed as
    /// [`ChecksumMode`] says, and returns the number of bytes written.
    ///
    /// The VRRPv3 reserved bits are written as zero. For VRRPv2 with
    /// authentication type 0 the Authentication Data is 8 zero bytes.
    pub fn emit(
        &self,
        buf: &mut [u8],
        src: IpAddr,
        dst: IpAddr,
        mode: ChecksumMode,
    ) -> Result<usize, EmitError> {
        let family = self.family();
        let version = self.version();
        if version == Version::V2 && family == AddressFamily::Ipv6 {
            return Err(EmitError::V2OverIpv6);
        }
        let count = u8::try_from(self.addresses.len())
            .map_err(|_| EmitError::TooManyAddresses(self.addresses.len()))?;
        if AddressFamily::of(src) != family || AddressFamily::of(dst) != family {
            return Err(EmitError::FamilyMismatch);
        }
        let len = self.buffer_len();
        let buf_len = buf.len();
        let out = buf.get_mut(..len).ok_or(EmitError::BufferTooSmall {
            needed: len,
            len: buf_len,
        })?;
        let (b4, b5) = match self.version_fields {
            VersionFields::V2 { adver_int, auth } => (auth.auth_type(), adver_int.get()),
            VersionFields::V3 { max_adver_int } => {
                // At most 12 bits, so the 4 reserved bits come out zero.
                let [hi, lo] = max_adver_int.get().to_be_bytes();
                (hi, lo)
            }
        };
        let header = [
            version.number() << 4 | TYPE_ADVERTISEMENT,
            self.vrid.get(),
            self.priority.get(),
            count,
            b4,
            b5,
            0,
            0,
        ];
        // `len` is HEADER_LEN + count × size (+ AUTH_DATA_LEN), so the splits
        // and copies below are all in bounds.
        let size = family.address_len();
        let (head, rest) = out.split_at_mut(HEADER_LEN);
        head.copy_from_slice(&header);
        let (addr_area, auth_area) = rest.split_at_mut(usize::from(count) * size);
        for (slot, addr) in addr_area.chunks_exact_mut(size).zip(self.addresses.iter()) {
            match addr {
                IpAddr::V4(a) => slot.copy_from_slice(&a.octets()),
                IpAddr::V6(a) => slot.copy_from_slice(&a.octets()),
            }
        }
        if let Some(auth) = self.version_fields.auth() {
            auth_area.copy_from_slice(&auth.data());
        }
        // `src` and `dst` were checked to be of the family above.
        let sum = checksum::compute(version, family, mode, out, src, dst)
            .ok_or(EmitError::FamilyMismatch)?;
        out[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 2].copy_from_slice(&sum.to_be_bytes());
        Ok(len)
    }

    /// [`emit`](Self::emit) into a new vector of exactly
    /// [`buffer_len`](Self::buffer_len) bytes.
    pub fn to_bytes(
        &self,
        src: IpAddr,
        dst: IpAddr,
        mode: ChecksumMode,
    ) -> Result<Vec<u8>, EmitError> {
        let mut buf = vec![0; self.buffer_len()];
        self.emit(&mut buf, src, dst, mode)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Auth;
    use crate::{AdverIntSeconds, MaxAdverInt};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v3(addresses: AddressList) -> Advertisement {
        Advertisement {
            vrid: Vrid::new(51).unwrap(),
            priority: Priority::new(150),
            version_fields: VersionFields::V3 {
                max_adver_int: MaxAdverInt::new(50).unwrap(),
            },
            addresses,
        }
    }

    const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
    const DST: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));

    #[test]
    fn emit_refuses_what_the_wire_cannot_carry() {
        let many = v3(AddressList::V4(vec![Ipv4Addr::LOCALHOST; 256]));
        assert_eq!(
            many.to_bytes(SRC, DST, ChecksumMode::default()),
            Err(EmitError::TooManyAddresses(256))
        );
        let mut v2v6 = v3(AddressList::V6(vec![Ipv6Addr::LOCALHOST]));
        v2v6.version_fields = VersionFields::V2 {
            adver_int: AdverIntSeconds::MIN,
            auth: Auth::None,
        };
        assert_eq!(
            v2v6.to_bytes(SRC, DST, ChecksumMode::default()),
            Err(EmitError::V2OverIpv6)
        );
        let one = v3(AddressList::V4(vec![Ipv4Addr::LOCALHOST]));
        let v6: IpAddr = "fe80::1".parse().unwrap();
        assert_eq!(
            one.to_bytes(v6, DST, ChecksumMode::default()),
            Err(EmitError::FamilyMismatch)
        );
        let mut short = [0u8; 11];
        assert_eq!(
            one.emit(&mut short, SRC, DST, ChecksumMode::default()),
            Err(EmitError::BufferTooSmall {
                needed: 12,
                len: 11
            })
        );
    }

    #[test]
    fn emit_leaves_bytes_past_buffer_len_alone() {
        let one = v3(AddressList::V4(vec![Ipv4Addr::new(198, 18, 0, 100)]));
        let mut buf = [0xeeu8; 64];
        let n = one
            .emit(&mut buf, SRC, DST, ChecksumMode::default())
            .unwrap();
        assert_eq!(n, one.buffer_len());
        assert!(buf[n..].iter().all(|&b| b == 0xee));
        assert_eq!(
            Advertisement::parse(&buf[..n], AddressFamily::Ipv4),
            Ok(one)
        );
    }
}
