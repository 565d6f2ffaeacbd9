//! IPv6 Neighbor Advertisements (RFC 4861 §4.4) in an Ethernet frame, and
//! the unsolicited form that announces an address's new MAC (§7.2.6).

use std::net::Ipv6Addr;

use pnet_packet::ethernet::{EtherType, EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::icmpv6::ndp::{MutableNeighborAdvertPacket, NeighborAdvertPacket};
use pnet_packet::icmpv6::{Icmpv6Code, Icmpv6Type};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv6::{Ipv6Packet, MutableIpv6Packet};
use pnet_packet::util::ipv6_checksum;
use pnet_packet::{MutablePacket, Packet};

use crate::arp::ethernet;
use crate::error::{BufferTooSmall, ParseError};
use crate::frame::{ETHERNET_HEADER_LEN, from_pnet_mac, to_pnet_mac};
use vrrp_core::MacAddr;

/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

/// The link-local all-nodes multicast group (RFC 4291 §2.7.1).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// Hop limit of every NDP message (RFC 4861 §7.1.2).
const NDP_HOP_LIMIT: u8 = 255;
const IPV6_HEADER_LEN: usize = 40;
/// ICMPv6 type of a Neighbor Advertisement.
const NEIGHBOR_ADVERT: u8 = 136;
/// Type, code, checksum, flags and reserved (8) + target address (16).
const NA_HEADER_LEN: usize = 24;
/// NDP option type "Target Link-Layer Address" (RFC 4861 §4.6.1).
const OPTION_TARGET_LINK_LAYER: u8 = 2;
/// The option for an Ethernet address is one 8-byte unit (RFC 2464 §6).
const LINK_LAYER_OPTION_LEN: usize = 8;

const FLAG_ROUTER: u8 = 0x80;
const FLAG_SOLICITED: u8 = 0x40;
const FLAG_OVERRIDE: u8 = 0x20;

/// One Neighbor Advertisement in an Ethernet frame.
///
/// A checked, owned representation in the smoltcp style: [`parse`](Self::parse)
/// applies the validity checks of RFC 4861 §7.1.2 (hop limit 255, checksum,
/// code 0, non-multicast target, no solicited advertisement to a group,
/// well-formed options) and [`emit`](Self::emit) writes it back with hop
/// limit 255 and a correct checksum. Options other than the first Target
/// Link-Layer Address are validated and skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NeighborAdvert {
    /// Ethernet destination.
    pub eth_dst: MacAddr,
    /// Ethernet source.
    pub eth_src: MacAddr,
    /// IPv6 source address.
    pub source: Ipv6Addr,
    /// IPv6 destination address.
    pub destination: Ipv6Addr,
    /// R: the sender is a router.
    pub router: bool,
    /// S: this answers a solicitation.
    pub solicited: bool,
    /// O: receivers should replace a cached link-layer address.
    pub override_flag: bool,
    /// The address being advertised.
    pub target: Ipv6Addr,
    /// The Target Link-Layer Address option, if present.
    pub target_mac: Option<MacAddr>,
}

impl NeighborAdvert {
    /// Length of an emitted advertisement with the link-layer option:
    /// 14 (Ethernet) + 40 (IPv6) + 24 (NA) + 8 (option). Above the 60-byte
    /// minimum, so never padded.
    pub const UNSOLICITED_FRAME_LEN: usize =
        ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + NA_HEADER_LEN + LINK_LAYER_OPTION_LEN;

    /// An unsolicited advertisement that `target` is at `mac` (RFC 4861 §7.2.6,
    /// RFC 9568 §6.4.2): to all-nodes `ff02::1` (Ethernet `33:33:00:00:00:01`),
    /// S = 0, O = 1, R = `router`, with the Target Link-Layer Address option.
    ///
    /// `source` should be the interface's link-local address (see
    /// [`crate::link_local_address`]); RFC 4861 §7.2.6 allows any address of
    /// the interface. Differences from keepalived 2.2.7: keepalived uses the
    /// VIP itself as the source, and sets R only when IPv6 forwarding is on
    /// for the interface; RFC 9568 §6.4.2 says a VRRP router sets R.
    pub fn unsolicited(
        target: Ipv6Addr,
        mac: MacAddr,
        source: Ipv6Addr,
        router: bool,
    ) -> NeighborAdvert {
        NeighborAdvert {
            eth_dst: MacAddr::ipv6_multicast(ALL_NODES),
            eth_src: mac,
            source,
            destination: ALL_NODES,
            router,
            solicited: false,
            override_flag: true,
            target,
            target_mac: Some(mac),
        }
    }

    /// Whether this is an announcement rather than an answer (S = 0).
    pub fn is_unsolicited(&self) -> bool {
        !self.solicited
    }

    /// Length of the frame [`emit`](Self::emit) writes.
    pub fn frame_len(&self) -> usize {
        let option = if self.target_mac.is_some() {
            LINK_LAYER_OPTION_LEN
        } else {
            0
        };
        ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + NA_HEADER_LEN + option
    }

    /// Parses an Ethernet frame holding a Neighbor Advertisement; bytes past
    /// the IPv6 payload length (Ethernet padding) are ignored.
    pub fn parse(frame: &[u8]) -> Result<NeighborAdvert, ParseError> {
        let eth = ethernet(frame)?;
        match eth.get_ethertype() {
            EtherTypes::Ipv6 => NeighborAdvert::parse_body(&eth),
            other => Err(ParseError::UnsupportedEtherType(other.0)),
        }
    }

    /// Parses the IPv6 body of an Ethernet frame whose EtherType is IPv6.
    pub(crate) fn parse_body(eth: &EthernetPacket<'_>) -> Result<NeighborAdvert, ParseError> {
        let body = eth.payload();
        let ip = Ipv6Packet::new(body).ok_or(ParseError::Truncated {
            layer: "IPv6 header",
            needed: IPV6_HEADER_LEN,
            available: body.len(),
        })?;
        if ip.get_version() != 6 {
            return Err(ParseError::NotIpv6(ip.get_version()));
        }
        let payload_len = usize::from(ip.get_payload_length());
        let icmp = body
            .get(IPV6_HEADER_LEN..IPV6_HEADER_LEN + payload_len)
            .ok_or(ParseError::Truncated {
                layer: "IPv6 payload",
                needed: IPV6_HEADER_LEN + payload_len,
                available: body.len(),
            })?;
        let next_header = ip.get_next_header();
        if next_header != IpNextHeaderProtocols::Icmpv6 {
            return Err(ParseError::NotIcmpv6(next_header.0));
        }
        match icmp.first() {
            Some(&NEIGHBOR_ADVERT) => {}
            Some(&other) => return Err(ParseError::NotNeighborAdvert(other)),
            None => {
                return Err(ParseError::Truncated {
                    layer: "ICMPv6 message",
                    needed: NA_HEADER_LEN,
                    available: 0,
                });
            }
        }
        let na = NeighborAdvertPacket::new(icmp)
            .filter(|_| icmp.len() >= NA_HEADER_LEN)
            .ok_or(ParseError::Truncated {
                layer: "Neighbor Advertisement",
                needed: NA_HEADER_LEN,
                available: icmp.len(),
            })?;
        if ip.get_hop_limit() != NDP_HOP_LIMIT {
            return Err(ParseError::BadHopLimit(ip.get_hop_limit()));
        }
        if na.get_icmpv6_code().0 != 0 {
            return Err(ParseError::BadIcmpCode(na.get_icmpv6_code().0));
        }
        let (source, destination) = (ip.get_source(), ip.get_destination());
        let target = na.get_target_addr();
        if target.is_multicast() {
            return Err(ParseError::MulticastTarget(target));
        }
        let flags = na.get_flags();
        let solicited = flags & FLAG_SOLICITED != 0;
        if solicited && destination.is_multicast() {
            return Err(ParseError::SolicitedToMulticast(destination));
        }
        let target_mac = target_link_layer_option(icmp)?;
        // Checked last, so that a fuzzer (which rarely gets a checksum right)
        // still reaches the checks above.
        let expected = checksum(icmp, source, destination);
        let found = na.get_checksum();
        if !same_ones_complement(expected, found) {
            return Err(ParseError::BadChecksum { expected, found });
        }
        Ok(NeighborAdvert {
            eth_dst: from_pnet_mac(eth.get_destination()),
            eth_src: from_pnet_mac(eth.get_source()),
            source,
            destination,
            router: flags & FLAG_ROUTER != 0,
            solicited,
            override_flag: flags & FLAG_OVERRIDE != 0,
            target,
            target_mac,
        })
    }

    /// Writes the frame into `buf` and returns the number of bytes written
    /// ([`frame_len`](Self::frame_len)).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let len = self.frame_len();
        let too_small = BufferTooSmall {
            needed: len,
            available: buf.len(),
        };
        let frame = buf.get_mut(..len).ok_or(too_small)?;
        frame.fill(0);
        let mut eth = MutableEthernetPacket::new(frame).ok_or(too_small)?;
        eth.set_destination(to_pnet_mac(self.eth_dst));
        eth.set_source(to_pnet_mac(self.eth_src));
        eth.set_ethertype(EtherType(ETHERTYPE_IPV6));

        let icmp_len = len - ETHERNET_HEADER_LEN - IPV6_HEADER_LEN;
        let mut ip = MutableIpv6Packet::new(eth.payload_mut()).ok_or(too_small)?;
        ip.set_version(6);
        ip.set_traffic_class(0);
        ip.set_flow_label(0);
        ip.set_payload_length(icmp_len as u16);
        ip.set_next_header(IpNextHeaderProtocols::Icmpv6);
        ip.set_hop_limit(NDP_HOP_LIMIT);
        ip.set_source(self.source);
        ip.set_destination(self.destination);

        let icmp = &mut ip.payload_mut()[..icmp_len];
        let mut na = MutableNeighborAdvertPacket::new(icmp).ok_or(too_small)?;
        na.set_icmpv6_type(Icmpv6Type(NEIGHBOR_ADVERT));
        na.set_icmpv6_code(Icmpv6Code(0));
        na.set_flags(
            (if self.router { FLAG_ROUTER } else { 0 })
                | (if self.solicited { FLAG_SOLICITED } else { 0 })
                | (if self.override_flag { FLAG_OVERRIDE } else { 0 }),
        );
        na.set_target_addr(self.target);
        drop(na);
        if let Some(mac) = self.target_mac {
            let option = &mut icmp[NA_HEADER_LEN..NA_HEADER_LEN + LINK_LAYER_OPTION_LEN];
            option[0] = OPTION_TARGET_LINK_LAYER;
            option[1] = (LINK_LAYER_OPTION_LEN / 8) as u8;
            option[2..].copy_from_slice(&mac.octets());
        }
        let sum = checksum(icmp, self.source, self.destination);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
        Ok(len)
    }

    /// The emitted frame as a new vector of [`frame_len`](Self::frame_len) bytes.
    pub fn to_frame(&self) -> Vec<u8> {
        let mut frame = vec![0; self.frame_len()];
        let written = self
            .emit(&mut frame)
            .expect("the buffer is exactly frame_len bytes");
        frame.truncate(written);
        frame
    }
}

/// The ICMPv6 checksum of `message` (its checksum field, word 1, is skipped)
/// with the IPv6 pseudo-header (RFC 4443 §2.3).
fn checksum(message: &[u8], source: Ipv6Addr, destination: Ipv6Addr) -> u16 {
    ipv6_checksum(
        message,
        1,
        &[],
        &source,
        &destination,
        IpNextHeaderProtocols::Icmpv6,
    )
}

/// In ones' complement arithmetic 0x0000 and 0xffff are both zero; the
/// Linux receive path (`csum_ipv6_magic`) accepts either.
fn same_ones_complement(a: u16, b: u16) -> bool {
    a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0)
}

/// Walks the NDP options after the fixed header (RFC 4861 §4.6) and returns
/// the first Target Link-Layer Address.
///
/// Done by hand because pnet 0.35's option iterator computes `length * 8` in
/// a `u8`, which overflows (and panics in debug builds) for lengths ≥ 32.
fn target_link_layer_option(message: &[u8]) -> Result<Option<MacAddr>, ParseError> {
    let mut found = None;
    let mut offset = NA_HEADER_LEN;
    while let Some(rest) = message.get(offset..).filter(|rest| !rest.is_empty()) {
        let option_type = rest[0];
        let units = rest.get(1).copied().unwrap_or(0);
        let len = usize::from(units) * 8;
        if units == 0 || len > rest.len() {
            return Err(ParseError::BadOption {
                option_type,
                offset,
            });
        }
        if option_type == OPTION_TARGET_LINK_LAYER && found.is_none() {
            if len != LINK_LAYER_OPTION_LEN {
                return Err(ParseError::BadLinkLayerOption(units));
            }
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&rest[2..8]);
            found = Some(MacAddr(mac));
        }
        offset += len;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([0x8a, 0xb0, 0xfc, 0xb7, 0x59, 0xcb]);
    const VIP: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x198, 0x18, 0, 0, 0, 0, 0x100);
    const LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x88b0, 0xfcff, 0xfeb7, 0x59cb);

    /// Our unsolicited NA for fd00:198:18::100 at 8a:b0:fc:b7:59:cb from
    /// fe80::88b0:fcff:feb7:59cb, R = 0, as `tcpdump -nn -vv -XX` printed it
    /// (sent by `garp fd00:198:18::100 dev eth0 --mac 8a:b0:fc:b7:59:cb
    /// --source fe80::88b0:fcff:feb7:59cb --count 1` between two namespaces):
    ///
    /// ```text
    /// IP6 (hlim 255, next-header ICMPv6 (58) payload length: 32)
    ///   fe80::88b0:fcff:feb7:59cb > ff02::1: [icmp6 sum ok] ICMP6,
    ///   neighbor advertisement, length 32, tgt is fd00:198:18::100, Flags [override]
    ///     destination link-address option (2), length 8 (1): 8a:b0:fc:b7:59:cb
    ///   0x0000:  3333 0000 0001 8ab0 fcb7 59cb 86dd 6000  33........Y...`.
    ///   0x0010:  0000 0020 3aff fe80 0000 0000 0000 88b0  ....:...........
    ///   0x0020:  fcff feb7 59cb ff02 0000 0000 0000 0000  ....Y...........
    ///   0x0030:  0000 0000 0001 8800 9906 2000 0000 fd00  ................
    ///   0x0040:  0198 0018 0000 0000 0000 0000 0100 0201  ................
    ///   0x0050:  8ab0 fcb7 59cb                           ....Y.
    /// ```
    const NA_FRAME: [u8; 86] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x8a, 0xb0, 0xfc, 0xb7, 0x59, 0xcb, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x88, 0xb0, 0xfc, 0xff, 0xfe, 0xb7, 0x59, 0xcb, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0x00, 0x99, 0x06, 0x20, 0x00,
        0x00, 0x00, 0xfd, 0x00, 0x01, 0x98, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x02, 0x01, 0x8a, 0xb0, 0xfc, 0xb7, 0x59, 0xcb,
    ];

    fn na() -> NeighborAdvert {
        NeighborAdvert::unsolicited(VIP, MAC, LINK_LOCAL, false)
    }

    /// Recomputes the checksum after a test edits the message.
    fn fix_checksum(frame: &mut [u8]) {
        let icmp_start = ETHERNET_HEADER_LEN + IPV6_HEADER_LEN;
        let len = usize::from(u16::from_be_bytes([frame[18], frame[19]]));
        let src = Ipv6Addr::from(<[u8; 16]>::try_from(&frame[22..38]).unwrap());
        let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&frame[38..54]).unwrap());
        let sum = checksum(&frame[icmp_start..icmp_start + len], src, dst);
        frame[icmp_start + 2..icmp_start + 4].copy_from_slice(&sum.to_be_bytes());
    }

    #[test]
    fn unsolicited_na_is_byte_exact() {
        assert_eq!(na().to_frame(), NA_FRAME);
        assert_eq!(NA_FRAME.len(), NeighborAdvert::UNSOLICITED_FRAME_LEN);
    }

    #[test]
    fn router_flag_is_optional_and_covered_by_the_checksum() {
        let frame = NeighborAdvert::unsolicited(VIP, MAC, LINK_LOCAL, true).to_frame();
        assert_eq!(frame[ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + 4], 0xa0);
        assert_ne!(frame[56..58], NA_FRAME[56..58]);
        assert!(NeighborAdvert::parse(&frame).unwrap().router);
    }

    #[test]
    fn parse_reads_back_what_emit_wrote() {
        let parsed = NeighborAdvert::parse(&NA_FRAME).unwrap();
        assert_eq!(parsed, na());
        assert!(parsed.is_unsolicited());
        let mut padded = NA_FRAME.to_vec();
        padded.extend_from_slice(&[0xee; 10]);
        assert_eq!(NeighborAdvert::parse(&padded).unwrap(), na());
    }

    #[test]
    fn rfc_4861_validity_checks_are_applied() {
        let mut frame = NA_FRAME;
        frame[21] = 64; // hop limit
        assert_eq!(
            NeighborAdvert::parse(&frame),
            Err(ParseError::BadHopLimit(64))
        );

        let mut frame = NA_FRAME;
        frame[60] ^= 0x01; // a bit of the reserved field
        assert!(matches!(
            NeighborAdvert::parse(&frame),
            Err(ParseError::BadChecksum { found: 0x9906, .. })
        ));

        let mut frame = NA_FRAME;
        frame[55] = 1; // code
        fix_checksum(&mut frame);
        assert_eq!(
            NeighborAdvert::parse(&frame),
            Err(ParseError::BadIcmpCode(1))
        );

        let mut frame = NA_FRAME;
        frame[58] |= FLAG_SOLICITED;
        fix_checksum(&mut frame);
        assert_eq!(
            NeighborAdvert::parse(&frame),
            Err(ParseError::SolicitedToMulticast(ALL_NODES))
        );

        let mut frame = NA_FRAME;
        frame[62] = 0xff; // target ff00:198:18::100
        fix_checksum(&mut frame);
        assert!(matches!(
            NeighborAdvert::parse(&frame),
            Err(ParseError::MulticastTarget(_))
        ));
    }

    #[test]
    fn malformed_options_are_errors_not_panics() {
        let mut frame = NA_FRAME;
        frame[79] = 0; // option length 0 would loop forever
        fix_checksum(&mut frame);
        assert_eq!(
            NeighborAdvert::parse(&frame),
            Err(ParseError::BadOption {
                option_type: 2,
                offset: 24
            })
        );
        let mut frame = NA_FRAME;
        frame[79] = 40; // pnet's u8 `length * 8` overflows here
        fix_checksum(&mut frame);
        assert!(matches!(
            NeighborAdvert::parse(&frame),
            Err(ParseError::BadOption { .. })
        ));
    }

    #[test]
    fn link_layer_option_is_optional_and_must_be_one_unit() {
        let mut bare = na();
        bare.target_mac = None;
        let frame = bare.to_frame();
        assert_eq!(frame.len(), 78);
        assert_eq!(NeighborAdvert::parse(&frame).unwrap(), bare);

        // A 16-byte option of type 2: a non-Ethernet link-layer address.
        let mut long = NA_FRAME.to_vec();
        long.extend_from_slice(&[0; 8]);
        long[19] = 40;
        long[79] = 2;
        fix_checksum(&mut long);
        assert_eq!(
            NeighborAdvert::parse(&long),
            Err(ParseError::BadLinkLayerOption(2))
        );

        // An unknown option before the link-layer one is skipped.
        let mut nonce = NA_FRAME[..78].to_vec();
        nonce.extend_from_slice(&[14, 1, 1, 2, 3, 4, 5, 6]);
        nonce.extend_from_slice(&NA_FRAME[78..]);
        nonce[19] = 40;
        fix_checksum(&mut nonce);
        assert_eq!(NeighborAdvert::parse(&nonce).unwrap(), na());
    }

    #[test]
    fn other_ipv6_traffic_is_refused_with_a_reason() {
        let mut frame = NA_FRAME;
        frame[54] = 135; // Neighbor Solicitation
        assert_eq!(
            NeighborAdvert::parse(&frame),
            Err(ParseError::NotNeighborAdvert(135))
        );
        let mut frame = NA_FRAME;
        frame[20] = 0; // hop-by-hop options header
        assert_eq!(NeighborAdvert::parse(&frame), Err(ParseError::NotIcmpv6(0)));
        let mut frame = NA_FRAME;
        frame[14] = 0x40;
        assert_eq!(NeighborAdvert::parse(&frame), Err(ParseError::NotIpv6(4)));
        assert!(matches!(
            NeighborAdvert::parse(&NA_FRAME[..85]),
            Err(ParseError::Truncated {
                layer: "IPv6 payload",
                needed: 72,
                available: 71
            })
        ));
    }

    #[test]
    fn checksum_accepts_both_ones_complement_zeros() {
        assert!(same_ones_complement(0, 0xffff));
        assert!(same_ones_complement(0xffff, 0));
        assert!(!same_ones_complement(0, 1));
    }

    #[test]
    fn emit_refuses_a_short_buffer() {
        let mut buf = [0u8; 85];
        assert_eq!(
            na().emit(&mut buf),
            Err(BufferTooSmall {
                needed: 86,
                available: 85
            })
        );
    }
}
