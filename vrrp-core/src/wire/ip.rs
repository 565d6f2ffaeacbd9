//! [`Received`]: a VRRP message with what the IP layer says about it, taken
//! from a whole IPv4 or IPv6 packet or from parts a socket handed over, so
//! that drivers never slice headers by hand.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::address::AddressFamily;
use super::checksum::ChecksumStatus;
use super::constants::{PROTOCOL, TTL};
use super::error::WireError;
use super::packet::Packet;

const IPV4_MIN_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;

/// IPv6 extension headers walked to reach the VRRP payload: Hop-by-Hop
/// Options, Routing and Destination Options (RFC 8200 §4), which share the
/// "next header, length in 8-octet units beyond the first" layout.
const IPV6_HOP_BY_HOP: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_FRAGMENT: u8 = 44;
const IPV6_DEST_OPTS: u8 = 60;

/// The source and destination, always of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Endpoints {
    V4 { src: Ipv4Addr, dst: Ipv4Addr },
    V6 { src: Ipv6Addr, dst: Ipv6Addr },
}

/// A received VRRP message with its IP source, destination and TTL (or hop
/// limit). The source and destination are always of the same family.
///
/// Nothing is checked beyond the IP header here; [`Received::validate`] (or
/// [`check_ttl`](Received::check_ttl), [`packet`](Received::packet) and
/// [`Packet::verify_checksum`]) checks the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Received<'a> {
    endpoints: Endpoints,
    ttl: u8,
    payload: &'a [u8],
}

/// An advertisement that passed every check the codec can make, from
/// [`Received::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated<'a> {
    /// The checked view.
    pub packet: Packet<&'a [u8]>,
    /// Which checksum form matched: [`ChecksumStatus::Valid`] or, for VRRPv3
    /// over IPv4 from a legacy peer, [`ChecksumStatus::ValidWithoutPseudoHeader`].
    pub checksum: ChecksumStatus,
}

impl<'a> Received<'a> {
    /// A VRRP message that arrived over IPv4 from `src` to `dst` with `ttl`.
    pub const fn from_ipv4_payload(
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ttl: u8,
        payload: &'a [u8],
    ) -> Self {
        Received {
            endpoints: Endpoints::V4 { src, dst },
            ttl,
            payload,
        }
    }

    /// A VRRP message that arrived over IPv6 from `src` to `dst` with
    /// `hop_limit` (an IPv6 raw socket gives the payload; the addresses and
    /// hop limit come from `recvmsg` ancillary data).
    pub const fn from_ipv6_payload(
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hop_limit: u8,
        payload: &'a [u8],
    ) -> Self {
        Received {
            endpoints: Endpoints::V6 { src, dst },
            ttl: hop_limit,
            payload,
        }
    }

    /// Splits a whole IPv4 packet, as an IPv4 raw socket returns it.
    ///
    /// Checks: version 4; IHL ≥ 5, and the options it covers are skipped;
    /// protocol 112; `IHL × 4 ≤ Total Length ≤ received bytes` (a packet
    /// claiming more than was received is refused, bytes beyond Total Length,
    /// such as Ethernet padding, are dropped); not a fragment. The header
    /// checksum is not verified: the kernel drops packets with a bad one
    /// before a raw socket sees them.
    pub fn from_ipv4_packet(packet: &'a [u8]) -> Result<Self, WireError> {
        let Some(header) = packet.get(..IPV4_MIN_HEADER) else {
            return Err(WireError::IpTruncated {
                len: packet.len(),
                needed: IPV4_MIN_HEADER,
            });
        };
        let version = header[0] >> 4;
        if version != 4 {
            return Err(WireError::BadIpVersion(version));
        }
        let ihl = header[0] & 0x0f;
        if ihl < 5 {
            return Err(WireError::BadIhl(ihl));
        }
        // Refuse other protocols before judging lengths, so that a capture cut
        // short by its snap length reports TCP as "not VRRP", not "truncated".
        let protocol = header[9];
        if protocol != PROTOCOL {
            return Err(WireError::NotVrrp(protocol));
        }
        let header_len = usize::from(ihl) * 4;
        let total_len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let bad_length = WireError::BadIpLength {
            claimed: total_len,
            header_len,
            received: packet.len(),
        };
        let payload = packet.get(header_len..total_len).ok_or(bad_length)?;
        let frag = u16::from_be_bytes([header[6], header[7]]);
        let more_fragments = frag & 0x2000 != 0;
        let offset = frag & 0x1fff;
        if more_fragments || offset != 0 {
            return Err(WireError::Fragmented);
        }
        let src = Ipv4Addr::new(header[12], header[13], header[14], header[15]);
        let dst = Ipv4Addr::new(header[16], header[17], header[18], header[19]);
        Ok(Self::from_ipv4_payload(src, dst, header[8], payload))
    }

    /// Splits a whole IPv6 packet (as captured; an IPv6 raw socket gives the
    /// payload, see [`Received::from_ipv6_payload`]).
    ///
    /// Checks: version 6; Hop-by-Hop, Routing and Destination Options
    /// extension headers are skipped; the final next header is 112; a
    /// Fragment header is refused; `40 + Payload Length ≤ received bytes`
    /// (bytes beyond are dropped).
    pub fn from_ipv6_packet(packet: &'a [u8]) -> Result<Self, WireError> {
        let Some(header) = packet.get(..IPV6_HEADER) else {
            return Err(WireError::IpTruncated {
                len: packet.len(),
                needed: IPV6_HEADER,
            });
        };
        let version = header[0] >> 4;
        if version != 6 {
            return Err(WireError::BadIpVersion(version));
        }
        let claimed = IPV6_HEADER + usize::from(u16::from_be_bytes([header[4], header[5]]));
        // Walk the chain within what both the length field and the capture allow.
        let avail = packet.get(..claimed).unwrap_or(packet);
        let mut next = header[6];
        let mut offset = IPV6_HEADER;
        loop {
            match next {
                PROTOCOL => break,
                IPV6_HOP_BY_HOP | IPV6_ROUTING | IPV6_DEST_OPTS => {
                    let &[nh, units] = avail.get(offset..offset + 2).unwrap_or(&[]) else {
                        return Err(WireError::IpTruncated {
                            len: avail.len(),
                            needed: offset + 2,
                        });
                    };
                    next = nh;
                    offset += (usize::from(units) + 1) * 8;
                }
                IPV6_FRAGMENT => return Err(WireError::Fragmented),
                other => return Err(WireError::NotVrrp(other)),
            }
        }
        let payload = packet.get(offset..claimed).ok_or(WireError::BadIpLength {
            claimed,
            header_len: offset,
            received: packet.len(),
        })?;
        let mut src = [0; 16];
        src.copy_from_slice(&header[8..24]);
        let mut dst = [0; 16];
        dst.copy_from_slice(&header[24..40]);
        Ok(Self::from_ipv6_payload(
            Ipv6Addr::from(src),
            Ipv6Addr::from(dst),
            header[7],
            payload,
        ))
    }

    /// Splits a whole IPv4 or IPv6 packet, by its version nibble.
    pub fn from_ip_packet(packet: &'a [u8]) -> Result<Self, WireError> {
        match packet.first().map(|b| b >> 4) {
            Some(4) => Self::from_ipv4_packet(packet),
            Some(6) => Self::from_ipv6_packet(packet),
            Some(v) => Err(WireError::BadIpVersion(v)),
            None => Err(WireError::IpTruncated {
                len: 0,
                needed: IPV4_MIN_HEADER,
            }),
        }
    }

    /// The address family.
    pub const fn family(&self) -> AddressFamily {
        match self.endpoints {
            Endpoints::V4 { .. } => AddressFamily::Ipv4,
            Endpoints::V6 { .. } => AddressFamily::Ipv6,
        }
    }

    /// The IP source address.
    pub const fn src(&self) -> IpAddr {
        match self.endpoints {
            Endpoints::V4 { src, .. } => IpAddr::V4(src),
            Endpoints::V6 { src, .. } => IpAddr::V6(src),
        }
    }

    /// The IP destination address.
    pub const fn dst(&self) -> IpAddr {
        match self.endpoints {
            Endpoints::V4 { dst, .. } => IpAddr::V4(dst),
            Endpoints::V6 { dst, .. } => IpAddr::V6(dst),
        }
    }

    /// The IPv4 TTL or IPv6 hop limit.
    pub const fn ttl_or_hop_limit(&self) -> u8 {
        self.ttl
    }

    /// The VRRP message.
    pub const fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Checks that the TTL or hop limit is 255 ([`TTL`]).
    pub const fn check_ttl(&self) -> Result<(), WireError> {
        if self.ttl == TTL {
            Ok(())
        } else {
            Err(WireError::BadTtl(self.ttl))
        }
    }

    /// The checked view of the payload ([`Packet::new_checked`] with this
    /// family).
    pub fn packet(&self) -> Result<Packet<&'a [u8]>, WireError> {
        Packet::new_checked(self.payload, self.family())
    }

    /// Every check the codec can make, in one call and without allocating:
    /// TTL 255, [`Packet::new_checked`], then the checksum in either accepted
    /// form (an invalid one is [`WireError::BadChecksum`]).
    ///
    /// What needs the local configuration (VRID configured, version, VRRPv2
    /// password and interval, address list) is the state machine's job.
    pub fn validate(&self) -> Result<Validated<'a>, WireError> {
        self.check_ttl()?;
        self.validate_any_ttl()
    }

    /// [`validate`](Self::validate) without the TTL check: for unicast
    /// advertisements, which may cross routers.
    pub fn validate_any_ttl(&self) -> Result<Validated<'a>, WireError> {
        let packet = self.packet()?;
        let checksum = packet.verify_checksum(self.src(), self.dst());
        if !checksum.is_valid() {
            return Err(WireError::BadChecksum {
                found: packet.checksum(),
            });
        }
        Ok(Validated { packet, checksum })
    }

    /// [`validate_any_ttl`](Self::validate_any_ttl) for a unicast
    /// advertisement, also accepting a VRRPv3-over-IPv4 checksum summed
    /// with `legacy_group` as the pseudo-header destination, as keepalived
    /// ≤ 1.3.6 sends it (keepalived's `old_unicast_checksum`); such a
    /// packet reports [`ChecksumStatus::ValidWithGroupDestination`]. With
    /// `None`, or for VRRPv2 and IPv6, the same as `validate_any_ttl`.
    pub fn validate_unicast(
        &self,
        legacy_group: Option<IpAddr>,
    ) -> Result<Validated<'a>, WireError> {
        let packet = self.packet()?;
        let mut checksum = packet.verify_checksum(self.src(), self.dst());
        if let Some(group) = legacy_group {
            let legacy_form = !checksum.is_valid()
                && packet.version() == crate::Version::V3
                && self.family() == AddressFamily::Ipv4
                && group != self.dst();
            if legacy_form && packet.verify_checksum(self.src(), group) == ChecksumStatus::Valid {
                checksum = ChecksumStatus::ValidWithGroupDestination;
            }
        }
        if !checksum.is_valid() {
            return Err(WireError::BadChecksum {
                found: packet.checksum(),
            });
        }
        Ok(Validated { packet, checksum })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::constants::MULTICAST_V6;

    #[test]
    fn empty_and_unknown_version_packets_are_refused() {
        assert_eq!(
            Received::from_ip_packet(&[]),
            Err(WireError::IpTruncated { len: 0, needed: 20 })
        );
        assert_eq!(
            Received::from_ip_packet(&[0x50; 40]),
            Err(WireError::BadIpVersion(5))
        );
        assert_eq!(
            Received::from_ipv4_packet(&[0x60; 40]),
            Err(WireError::BadIpVersion(6))
        );
        assert_eq!(
            Received::from_ipv6_packet(&[0x45; 40]),
            Err(WireError::BadIpVersion(4))
        );
    }

    #[test]
    fn ipv6_hop_by_hop_header_is_skipped() {
        let mut p = vec![0x60, 0, 0, 0, 0, 8 + 4, IPV6_HOP_BY_HOP, 255];
        p.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&MULTICAST_V6.octets());
        // Hop-by-Hop: next header 112, length 0 (8 bytes), PadN.
        p.extend_from_slice(&[PROTOCOL, 0, 1, 4, 0, 0, 0, 0]);
        p.extend_from_slice(&[1, 2, 3, 4]);
        let rx = Received::from_ipv6_packet(&p).unwrap();
        assert_eq!(rx.payload(), &[1, 2, 3, 4]);
        assert_eq!(rx.dst(), IpAddr::V6(MULTICAST_V6));
        assert_eq!(rx.ttl_or_hop_limit(), 255);
        // Cut inside the extension header.
        p[5] = 1;
        assert_eq!(
            Received::from_ipv6_packet(&p[..41]),
            Err(WireError::IpTruncated {
                len: 41,
                needed: 42
            })
        );
    }
}
