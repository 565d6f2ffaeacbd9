//! `vrrp-arp` against real keepalived 2.2.7 traffic (testdata/keepalived,
//! VIPs 198.18.0.100 and fd00:198:18::100): every gratuitous ARP and
//! unsolicited NA decodes, our builders are compared with keepalived's frames
//! field by field, and our default schedule with keepalived's burst timing.
//!
//! What keepalived does differently (all within the RFCs):
//! - GARP: THA is `ff:ff:ff:ff:ff:ff` (we send zero, per RFC 5227 §2.3), and
//!   the frame is 42 bytes, unpadded (we pad to the 60-byte Ethernet minimum,
//!   since veth and bridges do not pad).
//! - NA: the IPv6 source is the VIP itself (we default to the link-local
//!   address), and R is set only when the interface forwards IPv6 (we leave
//!   it to the caller; RFC 9568 §6.4.2 says set it).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use vrrp_arp::{
    Announcement, AnnouncementPolicy, AnnouncementSchedule, ArpMessage, ArpOperation, MacAddr,
    NeighborAdvert, ParseError,
};
use vrrpd_cli::pcap::{ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, EthernetFrame, Pcap};

const VIP4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 100);
const VIP6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x198, 0x18, 0, 0, 0, 0, 0x100);

/// Every frame of a capture, with its timestamp.
fn capture(name: &str) -> Vec<(Duration, Vec<u8>)> {
    let path = format!(
        "{}/../../testdata/keepalived/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let pcap = Pcap::new(&bytes).unwrap();
    pcap.records()
        .map(|r| r.map(|r| (r.timestamp, r.data.to_vec())).unwrap())
        .collect()
}

/// Whether the frame is an ICMPv6 message of `icmp_type` with no extension header.
fn is_icmpv6(frame: &EthernetFrame<'_>, icmp_type: u8) -> bool {
    frame.ethertype == ETHERTYPE_IPV6
        && frame.payload.get(6) == Some(&58)
        && frame.payload.get(40) == Some(&icmp_type)
}

/// The announcements of a capture with their timestamps; every other frame
/// is checked to be refused for the right reason.
fn announcements(name: &str) -> Vec<(Duration, Announcement)> {
    let mut found = Vec::new();
    for (at, bytes) in capture(name) {
        let frame = EthernetFrame::parse(&bytes).expect("Ethernet frame");
        let parsed = Announcement::parse(&bytes);
        if frame.ethertype == ETHERTYPE_ARP || is_icmpv6(&frame, 136) {
            found.push((
                at,
                parsed.unwrap_or_else(|e| panic!("{name} at {at:?}: {e}")),
            ));
        } else if is_icmpv6(&frame, 135) || is_icmpv6(&frame, 133) {
            assert!(
                matches!(parsed, Err(ParseError::NotNeighborAdvert(135 | 133))),
                "{parsed:?}"
            );
        } else if frame.ethertype == ETHERTYPE_IPV6 {
            assert_eq!(parsed, Err(ParseError::NotIcmpv6(112)), "VRRP over IPv6");
        } else {
            assert_eq!(frame.ethertype, ETHERTYPE_IPV4);
            assert_eq!(
                parsed,
                Err(ParseError::UnsupportedEtherType(ETHERTYPE_IPV4))
            );
        }
    }
    found
}

#[test]
fn every_keepalived_gratuitous_arp_decodes_with_the_vip_and_mac() {
    for (name, count, mac) in [
        (
            "keepalived-v2-ipv4-auth.pcap",
            5,
            MacAddr([0x8e, 0x17, 0x83, 0xff, 0xf9, 0x95]),
        ),
        (
            "keepalived-v3-ipv4.pcap",
            10,
            MacAddr([0x76, 0xec, 0xab, 0xa0, 0x2d, 0x36]),
        ),
    ] {
        let seen = announcements(name);
        assert_eq!(seen.len(), count, "{name}");
        for (_, a) in seen {
            let Announcement::Arp(arp) = a else {
                panic!("{name}: {a:?}")
            };
            assert_eq!(a.ip(), IpAddr::V4(VIP4));
            assert_eq!(a.mac(), Some(mac));
            assert!(arp.is_gratuitous() && a.is_unsolicited());
            assert_eq!(arp.operation, ArpOperation::Request);
            assert_eq!((arp.eth_src, arp.eth_dst), (mac, MacAddr::BROADCAST));
        }
    }
}

#[test]
fn every_keepalived_neighbor_advertisement_decodes_with_the_vip_and_mac() {
    let mac = MacAddr([0x8a, 0xb0, 0xfc, 0xb7, 0x59, 0xcb]);
    let seen = announcements("keepalived-v3-ipv6.pcap");
    assert_eq!(seen.len(), 10);
    for (_, a) in seen {
        let Announcement::NeighborAdvert(na) = a else {
            panic!("{a:?}")
        };
        assert_eq!(a.ip(), IpAddr::V6(VIP6));
        assert_eq!(a.mac(), Some(mac));
        assert_eq!(na.eth_src, mac);
        assert_eq!(na.eth_dst, MacAddr([0x33, 0x33, 0, 0, 0, 1]));
        assert_eq!(na.destination, "ff02::1".parse::<Ipv6Addr>().unwrap());
        assert!(na.override_flag && !na.solicited && !na.router);
        assert_eq!(na.source, VIP6, "keepalived sends from the VIP itself");
    }
}

/// The first raw frame of `name` that parses as an announcement.
fn first_announcement(name: &str) -> (Vec<u8>, Announcement) {
    capture(name)
        .into_iter()
        .find_map(|(_, bytes)| Announcement::parse(&bytes).ok().map(|a| (bytes, a)))
        .expect("an announcement")
}

#[test]
fn our_gratuitous_arp_differs_from_keepalived_only_in_tha_and_padding() {
    let (theirs_raw, theirs) = first_announcement("keepalived-v3-ipv4.pcap");
    let Announcement::Arp(theirs) = theirs else {
        panic!()
    };
    let ours = ArpMessage::gratuitous(VIP4, theirs.sender_mac, ArpOperation::Request);
    assert_eq!(ours.eth_dst, theirs.eth_dst);
    assert_eq!(ours.eth_src, theirs.eth_src);
    assert_eq!(ours.operation, theirs.operation);
    assert_eq!(ours.sender_mac, theirs.sender_mac);
    assert_eq!(ours.sender_ip, theirs.sender_ip);
    assert_eq!(ours.target_ip, theirs.target_ip);
    assert_eq!(theirs.target_mac, MacAddr::BROADCAST, "keepalived's THA");
    assert_eq!(ours.target_mac, MacAddr::ZERO, "RFC 5227 §2.3");

    let ours_raw = ours.to_frame();
    assert_eq!((theirs_raw.len(), ours_raw.len()), (42, 60));
    assert_eq!(ours_raw[..32], theirs_raw[..32]);
    assert_eq!(ours_raw[38..42], theirs_raw[38..42]);
    assert!(ours_raw[42..].iter().all(|&b| b == 0), "zero padding");
    // With keepalived's THA our emitter reproduces its bytes exactly.
    let keepalived_style = ArpMessage {
        target_mac: MacAddr::BROADCAST,
        ..ours
    };
    assert_eq!(keepalived_style.to_frame()[..42], theirs_raw[..]);
}

#[test]
fn our_na_matches_keepalived_byte_for_byte_given_its_source_and_flags() {
    let (theirs_raw, theirs) = first_announcement("keepalived-v3-ipv6.pcap");
    let mac = theirs.eth_src();
    // keepalived's choices: source = VIP, R = 0 (IPv6 forwarding was off).
    let keepalived_style = NeighborAdvert::unsolicited(VIP6, mac, VIP6, false);
    assert_eq!(keepalived_style.to_frame(), theirs_raw, "checksum included");

    // Our recommended form: link-local source and R set.
    let link_local: Ipv6Addr = "fe80::88b0:fcff:feb7:59cb".parse().unwrap();
    let ours = NeighborAdvert::unsolicited(VIP6, mac, link_local, true).to_frame();
    let differing: Vec<usize> = (0..ours.len())
        .filter(|&i| ours[i] != theirs_raw[i])
        .collect();
    let allowed = |i: &usize| (22..38).contains(i) || (56..59).contains(i);
    assert!(
        differing.iter().all(allowed),
        "only source, checksum and flags differ: {differing:?}"
    );
    assert_eq!(ours[58], 0xa0, "R and O");
    assert_eq!(theirs_raw[58], 0x20, "O only");
}

/// Sizes of the bursts (announcements less than a second apart) and the
/// start time of each.
fn bursts(times: &[Duration]) -> Vec<(Duration, usize)> {
    let mut bursts: Vec<(Duration, usize)> = Vec::new();
    for (i, &t) in times.iter().enumerate() {
        match bursts.last_mut() {
            Some((_, n)) if t - times[i - 1] < Duration::from_secs(1) => *n += 1,
            _ => bursts.push((t, 1)),
        }
    }
    bursts
}

#[test]
fn default_schedule_matches_keepalived_burst_timing() {
    // Our schedule with keepalived's defaults, as a driver would run it.
    let t0 = Instant::now();
    let mut schedule = AnnouncementSchedule::new(AnnouncementPolicy::default());
    schedule.start(t0, [IpAddr::V4(VIP4)]);
    let mut ours = Vec::new();
    while let Some(at) = schedule.poll_timeout() {
        while schedule.poll_due(at).is_some() {
            ours.push(at - t0);
        }
    }
    let ours = bursts(&ours);
    assert_eq!(ours.iter().map(|b| b.1).collect::<Vec<_>>(), [5, 5]);

    for name in ["keepalived-v3-ipv4.pcap", "keepalived-v3-ipv6.pcap"] {
        let times: Vec<_> = announcements(name).into_iter().map(|(t, _)| t).collect();
        let theirs = bursts(&times);
        assert_eq!(
            theirs.iter().map(|b| b.1).collect::<Vec<_>>(),
            [5, 5],
            "{name}"
        );
        let gap = theirs[1].0 - theirs[0].0;
        let our_gap = ours[1].0 - ours[0].0;
        assert!(
            gap.abs_diff(our_gap) < Duration::from_millis(100),
            "{name}: keepalived's second burst came {gap:?} after the first, ours {our_gap:?}"
        );
    }
}
