//! An advertisement as a whole Ethernet frame, to send from the VRRP
//! virtual MAC (RFC 9568 §7.2) through an AF_PACKET socket on the parent
//! interface.
//!
//! Building the frame here, rather than sending through the macvlan,
//! keeps the advert independent of the macvlan's own state: a Backup's
//! IPv6 macvlan has IPv6 off and no link-local address, and the advert's
//! source is the parent's address anyway (RFC 9568 §5.1.1.1, §5.1.2.1).
//! The headers match what the kernel (and keepalived) put on an advert:
//! TTL or hop limit 255, traffic class CS6, no IPv4 options, DF clear.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_core::wire::{PROTOCOL, TTL};

use super::TRAFFIC_CLASS;

const ETHERNET_HEADER: usize = 14;
const IPV4_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Why an advert cannot be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Only multicast adverts are framed: a unicast peer's MAC is the
    /// neighbour table's to resolve (keepalived also needs `vmac_xmit_base`
    /// with unicast peers).
    #[error(
        "{0} is not the VRRP multicast group: only multicast adverts leave from the virtual MAC"
    )]
    NotMulticast(IpAddr),
    /// The source and destination are of different families.
    #[error("cannot send from {src} to {dst}: the families differ")]
    MixedFamilies {
        /// The source.
        src: IpAddr,
        /// The destination.
        dst: IpAddr,
    },
    /// The VRRP message does not fit in one IP packet.
    #[error("a {0}-byte VRRP message does not fit in one IP packet")]
    TooLong(usize),
}

/// The Ethernet multicast MAC of an IP multicast group: 01-00-5E and the
/// low 23 bits for IPv4 (RFC 1112 §6.4), 33-33 and the low 32 bits for
/// IPv6 (RFC 2464 §7).
pub fn multicast_mac(group: IpAddr) -> Option<[u8; 6]> {
    match group {
        IpAddr::V4(g) if g.is_multicast() => {
            let o = g.octets();
            Some([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
        }
        IpAddr::V6(g) if g.is_multicast() => {
            let o = g.octets();
            Some([0x33, 0x33, o[12], o[13], o[14], o[15]])
        }
        _ => None,
    }
}

/// Writes into `frame` (cleared first) the Ethernet frame carrying the
/// VRRP message `payload` from `src` to the multicast group `dst`, sent
/// from `src_mac`. `ipv4_id` is the IPv4 identification (ignored for
/// IPv6); the caller counts it up per packet.
pub fn advert_frame(
    frame: &mut Vec<u8>,
    src_mac: [u8; 6],
    src: IpAddr,
    dst: IpAddr,
    payload: &[u8],
    ipv4_id: u16,
) -> Result<(), FrameError> {
    let dst_mac = multicast_mac(dst).ok_or(FrameError::NotMulticast(dst))?;
    frame.clear();
    frame.reserve(ETHERNET_HEADER + IPV6_HEADER.max(IPV4_HEADER) + payload.len());
    frame.extend_from_slice(&dst_mac);
    frame.extend_from_slice(&src_mac);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            frame.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
            ipv4_header(frame, s, d, payload.len(), ipv4_id)?;
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            frame.extend_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
            ipv6_header(frame, s, d, payload.len())?;
        }
        _ => return Err(FrameError::MixedFamilies { src, dst }),
    }
    frame.extend_from_slice(payload);
    Ok(())
}

fn ipv4_header(
    frame: &mut Vec<u8>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    payload_len: usize,
    id: u16,
) -> Result<(), FrameError> {
    let total =
        u16::try_from(IPV4_HEADER + payload_len).map_err(|_| FrameError::TooLong(payload_len))?;
    let start = frame.len();
    frame.extend_from_slice(&[0x45, TRAFFIC_CLASS]);
    frame.extend_from_slice(&total.to_be_bytes());
    frame.extend_from_slice(&id.to_be_bytes());
    frame.extend_from_slice(&[0, 0, TTL, PROTOCOL, 0, 0]);
    frame.extend_from_slice(&src.octets());
    frame.extend_from_slice(&dst.octets());
    let sum = internet_checksum(&frame[start..]);
    frame[start + 10..start + 12].copy_from_slice(&sum.to_be_bytes());
    Ok(())
}

fn ipv6_header(
    frame: &mut Vec<u8>,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    payload_len: usize,
) -> Result<(), FrameError> {
    let len = u16::try_from(payload_len).map_err(|_| FrameError::TooLong(payload_len))?;
    // Version 6, traffic class, flow label 0.
    frame.extend_from_slice(&[
        0x60 | (TRAFFIC_CLASS >> 4),
        (TRAFFIC_CLASS & 0x0f) << 4,
        0,
        0,
    ]);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&[PROTOCOL, TTL]);
    frame.extend_from_slice(&src.octets());
    frame.extend_from_slice(&dst.octets());
    Ok(())
}

/// The one's-complement sum of RFC 1071 over `data` (an IPv4 header).
fn internet_checksum(data: &[u8]) -> u16 {
    let mut acc: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrrp_core::wire::{MULTICAST_V4, MULTICAST_V6, Received};

    const MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x33];

    /// keepalived's v3/IPv4 advert of `../shared/vectors`, but for its
    /// source MAC: the same IPv4 header bytes (id 1) and VRRP message.
    #[test]
    fn ipv4_frame_matches_keepalived_byte_for_byte() {
        let vrrp = [
            0x31, 0x33, 0x96, 0x01, 0x00, 0x32, 0xcb, 0x7f, 0xc6, 0x12, 0x00, 0x64,
        ];
        let mut frame = Vec::new();
        advert_frame(
            &mut frame,
            MAC,
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
            IpAddr::V4(MULTICAST_V4),
            &vrrp,
            1,
        )
        .unwrap();
        let want = [
            0x01, 0x00, 0x5e, 0x00, 0x00, 0x12, 0x00, 0x00, 0x5e, 0x00, 0x01, 0x33, 0x08, 0x00,
            0x45, 0xc0, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x14, 0x87, 0xc6, 0x12,
            0x00, 0x01, 0xe0, 0x00, 0x00, 0x12,
        ];
        assert_eq!(&frame[..want.len()], &want);
        assert_eq!(&frame[want.len()..], &vrrp);
        assert_eq!(frame.len(), ETHERNET_HEADER + IPV4_HEADER + vrrp.len());
        let r = Received::from_ipv4_packet(&frame[ETHERNET_HEADER..]).unwrap();
        assert_eq!(r.ttl_or_hop_limit(), 255);
        r.validate().unwrap();
    }

    #[test]
    fn ipv6_frame_has_hop_limit_255_cs6_and_the_group_mac() {
        let vrrp = [
            0x31, 0x33, 0x96, 0x01, 0x00, 0x32, 0x5c, 0x96, 0xfd, 0x00, 0x01, 0x98, 0x00, 0x18, 0,
            0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
        ];
        let src: Ipv6Addr = "fe80::88b0:fcff:feb7:59cb".parse().unwrap();
        let mut frame = vec![0xaa; 3]; // cleared first
        advert_frame(
            &mut frame,
            MAC,
            IpAddr::V6(src),
            IpAddr::V6(MULTICAST_V6),
            &vrrp,
            9,
        )
        .unwrap();
        assert_eq!(&frame[..6], &[0x33, 0x33, 0, 0, 0, 0x12]);
        assert_eq!(&frame[6..12], &MAC);
        assert_eq!(&frame[12..14], &[0x86, 0xdd]);
        // Version 6, class 0xc0, flow 0, length 24, next header 112, hop 255.
        assert_eq!(&frame[14..22], &[0x6c, 0x00, 0, 0, 0, 24, 112, 255]);
        assert_eq!(frame.len(), ETHERNET_HEADER + IPV6_HEADER + vrrp.len());
        let r = Received::from_ipv6_packet(&frame[ETHERNET_HEADER..]).unwrap();
        assert_eq!(r.ttl_or_hop_limit(), 255);
        assert_eq!(r.src(), IpAddr::V6(src));
        // The capture's checksum was made for its own source; ours is too.
        r.validate().unwrap();
    }

    #[test]
    fn unicast_and_mixed_families_are_refused() {
        let mut frame = Vec::new();
        let v4 = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
        let peer = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
        assert_eq!(
            advert_frame(&mut frame, MAC, v4, peer, &[0; 12], 0),
            Err(FrameError::NotMulticast(peer))
        );
        let g6 = IpAddr::V6(MULTICAST_V6);
        assert!(matches!(
            advert_frame(&mut frame, MAC, v4, g6, &[0; 12], 0),
            Err(FrameError::MixedFamilies { .. })
        ));
        assert!(matches!(
            advert_frame(
                &mut frame,
                MAC,
                v4,
                IpAddr::V4(MULTICAST_V4),
                &[0; 70_000],
                0
            ),
            Err(FrameError::TooLong(70_000))
        ));
    }

    #[test]
    fn multicast_macs_follow_rfc_1112_and_rfc_2464() {
        assert_eq!(
            multicast_mac(IpAddr::V4(Ipv4Addr::new(239, 129, 2, 3))),
            Some([0x01, 0x00, 0x5e, 0x01, 0x02, 0x03])
        );
        assert_eq!(
            multicast_mac(IpAddr::V6("ff02::1:ff00:1234".parse().unwrap())),
            Some([0x33, 0x33, 0xff, 0x00, 0x12, 0x34])
        );
        assert_eq!(multicast_mac(IpAddr::V4(Ipv4Addr::LOCALHOST)), None);
    }
}
