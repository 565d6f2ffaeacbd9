//! One parser for everything that tells a segment where an address lives:
//! ARP (IPv4) and Neighbor Advertisements (IPv6).

use std::net::IpAddr;

use pnet_packet::ethernet::EtherTypes;

use crate::arp::{ArpMessage, ethernet};
use crate::error::{BufferTooSmall, ParseError};
use crate::ndp::NeighborAdvert;
use vrrp_core::MacAddr;

/// An ARP message or a Neighbor Advertisement, as found in an Ethernet frame.
///
/// Used by `garp --listen`, by tests, and to spot another host claiming one
/// of our addresses (compare [`ip`](Self::ip) and [`mac`](Self::mac) with
/// our own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Announcement {
    /// An ARP request or reply (gratuitous or not).
    Arp(ArpMessage),
    /// An IPv6 Neighbor Advertisement (solicited or not).
    NeighborAdvert(NeighborAdvert),
}

impl Announcement {
    /// Parses an untagged Ethernet frame holding ARP or a Neighbor
    /// Advertisement. Any other frame, and any malformed one, is a
    /// [`ParseError`]; this never panics.
    pub fn parse(frame: &[u8]) -> Result<Announcement, ParseError> {
        let eth = ethernet(frame)?;
        match eth.get_ethertype() {
            EtherTypes::Arp => ArpMessage::parse_body(&eth).map(Announcement::Arp),
            EtherTypes::Ipv6 => NeighborAdvert::parse_body(&eth).map(Announcement::NeighborAdvert),
            other => Err(ParseError::UnsupportedEtherType(other.0)),
        }
    }

    /// The address whose location is announced: ARP's sender IP, or the NA's target.
    pub fn ip(&self) -> IpAddr {
        match self {
            Announcement::Arp(arp) => arp.sender_ip.into(),
            Announcement::NeighborAdvert(na) => na.target.into(),
        }
    }

    /// The link-layer address announced for [`ip`](Self::ip): ARP's sender
    /// hardware address, or the NA's Target Link-Layer Address option.
    pub fn mac(&self) -> Option<MacAddr> {
        match self {
            Announcement::Arp(arp) => Some(arp.sender_mac),
            Announcement::NeighborAdvert(na) => na.target_mac,
        }
    }

    /// The Ethernet source of the frame.
    pub fn eth_src(&self) -> MacAddr {
        match self {
            Announcement::Arp(arp) => arp.eth_src,
            Announcement::NeighborAdvert(na) => na.eth_src,
        }
    }

    /// Whether it is unprompted: a gratuitous ARP (SPA = TPA) or an
    /// unsolicited NA (S = 0). These are what a VIP move sends.
    pub fn is_unsolicited(&self) -> bool {
        match self {
            Announcement::Arp(arp) => arp.is_gratuitous(),
            Announcement::NeighborAdvert(na) => na.is_unsolicited(),
        }
    }

    /// Writes the frame into `buf`; see [`ArpMessage::emit`] and [`NeighborAdvert::emit`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, BufferTooSmall> {
        match self {
            Announcement::Arp(arp) => arp.emit(buf),
            Announcement::NeighborAdvert(na) => na.emit(buf),
        }
    }

    /// The emitted frame as a new vector.
    pub fn to_frame(&self) -> Vec<u8> {
        match self {
            Announcement::Arp(arp) => arp.to_frame(),
            Announcement::NeighborAdvert(na) => na.to_frame(),
        }
    }
}

impl From<ArpMessage> for Announcement {
    fn from(arp: ArpMessage) -> Self {
        Announcement::Arp(arp)
    }
}

impl From<NeighborAdvert> for Announcement {
    fn from(na: NeighborAdvert) -> Self {
        Announcement::NeighborAdvert(na)
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use proptest::prelude::*;

    use super::*;
    use crate::arp::ArpOperation;

    fn mac() -> impl Strategy<Value = MacAddr> {
        any::<[u8; 6]>().prop_map(MacAddr)
    }

    fn arp() -> impl Strategy<Value = Announcement> {
        (
            mac(),
            mac(),
            any::<bool>(),
            mac(),
            any::<[u8; 4]>(),
            mac(),
            any::<[u8; 4]>(),
        )
            .prop_map(|(eth_dst, eth_src, reply, sha, spa, tha, tpa)| {
                Announcement::Arp(ArpMessage {
                    eth_dst,
                    eth_src,
                    operation: if reply {
                        ArpOperation::Reply
                    } else {
                        ArpOperation::Request
                    },
                    sender_mac: sha,
                    sender_ip: Ipv4Addr::from(spa),
                    target_mac: tha,
                    target_ip: Ipv4Addr::from(tpa),
                })
            })
    }

    fn na() -> impl Strategy<Value = Announcement> {
        (
            (mac(), mac(), any::<u128>(), any::<u128>()),
            (any::<bool>(), any::<bool>(), any::<bool>()),
            any::<u128>().prop_filter("unicast target", |t| !Ipv6Addr::from(*t).is_multicast()),
            proptest::option::of(mac()),
        )
            .prop_map(
                |(
                    (eth_dst, eth_src, src, dst),
                    (router, solicited, override_flag),
                    target,
                    tlla,
                )| {
                    let destination = Ipv6Addr::from(dst);
                    Announcement::NeighborAdvert(NeighborAdvert {
                        eth_dst,
                        eth_src,
                        source: Ipv6Addr::from(src),
                        destination,
                        router,
                        // A solicited advertisement to a group is invalid.
                        solicited: solicited && !destination.is_multicast(),
                        override_flag,
                        target: Ipv6Addr::from(target),
                        target_mac: tlla,
                    })
                },
            )
    }

    proptest! {
        #[test]
        fn parse_of_emit_is_identity(msg in prop_oneof![arp(), na()]) {
            let frame = msg.to_frame();
            prop_assert!(frame.len() >= 60);
            prop_assert_eq!(Announcement::parse(&frame), Ok(msg));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = Announcement::parse(&bytes);
        }

        #[test]
        fn every_truncation_of_a_valid_frame_is_an_error(msg in prop_oneof![arp(), na()]) {
            let frame = msg.to_frame();
            let minimum = match msg {
                Announcement::Arp(_) => 42,
                Announcement::NeighborAdvert(na) => na.frame_len(),
            };
            for len in 0..minimum {
                prop_assert!(Announcement::parse(&frame[..len]).is_err(), "parsed {len} bytes");
            }
        }
    }

    #[test]
    fn accessors_pick_the_announced_address() {
        let m = MacAddr::vrrp_v4(7);
        let v4 = Announcement::from(ArpMessage::gratuitous(
            Ipv4Addr::new(198, 18, 0, 5),
            m,
            ArpOperation::Reply,
        ));
        assert_eq!(v4.ip(), IpAddr::from([198, 18, 0, 5]));
        assert_eq!(v4.mac(), Some(m));
        assert_eq!(v4.eth_src(), m);
        assert!(v4.is_unsolicited());
        let target: Ipv6Addr = "fd00:198:18::5".parse().unwrap();
        let v6 = Announcement::from(NeighborAdvert::unsolicited(
            target,
            MacAddr::vrrp_v6(7),
            "fe80::1".parse().unwrap(),
            true,
        ));
        assert_eq!(v6.ip(), IpAddr::V6(target));
        assert_eq!(v6.mac(), Some(MacAddr::vrrp_v6(7)));
        assert!(v6.is_unsolicited());
        assert_eq!(
            Announcement::parse(&[0u8; 60]),
            Err(ParseError::UnsupportedEtherType(0))
        );
    }
}
