//! Receive validation against the local configuration (RFC 9568 §7.1,
//! RFC 3768 §7.1): what the router discards, counts or accepts.

use std::net::IpAddr;
use std::time::Instant;

use crate::password;
use crate::support::*;
use vrrp_core::router::{Discard, Output, State, UnicastChecksum, VirtualRouter};
use vrrp_core::wire::{
    AddressFamily, Auth, ChecksumMode, ChecksumStatus, MULTICAST_V4, Received, WireError,
};
use vrrp_core::{Centiseconds, Version};

#[test]
fn receive_validation_ttl_255_is_required() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let mut peer = Peer::v3(HIGHER_V4, 200);
    peer.ttl = 254;
    assert_eq!(
        peer.send(&mut r, t0),
        Err(Discard::Wire(WireError::BadTtl(254)))
    );
    assert_eq!(r.stats().ip_ttl_errors, 1);
    assert_eq!(r.stats().advertisement_rcvd, 0);
}

#[test]
fn receive_validation_version_must_match_the_instance() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let peer = Peer::v2(HIGHER_V4, 200, Auth::None);
    assert_eq!(
        peer.send(&mut r, t0),
        Err(Discard::VersionMismatch {
            received: Version::V2,
            local: Version::V3
        })
    );
    assert_eq!(r.stats().version_errors, 1);
}

#[test]
fn receive_validation_vrid_must_be_configured() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let mut peer = Peer::v3(HIGHER_V4, 200);
    peer.vrid = 52;
    assert!(matches!(
        peer.send(&mut r, t0),
        Err(Discard::VridMismatch { .. })
    ));
    assert_eq!(r.stats().vrid_errors, 1);
}

#[test]
fn receive_validation_checksum_failing_both_forms_is_discarded() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let peer = Peer::v3(HIGHER_V4, 200);
    let mut bytes = peer.bytes();
    bytes[6] ^= 0xff;
    let rx = received(peer.src, peer.dst(), 255, &bytes);
    assert!(matches!(
        r.handle_advertisement(t0, &rx),
        Err(Discard::Wire(WireError::BadChecksum { .. }))
    ));
    assert_eq!(r.stats().checksum_errors, 1);
}

#[test]
fn receive_validation_ipv4_options_are_honoured_end_to_end() {
    // A whole IPv4 packet with 4 bytes of options (IHL 6), as a raw socket
    // returns it, is accepted by the router.
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let peer = Peer::v3(HIGHER_V4, 200);
    let msg = peer.bytes();
    let total = 24 + msg.len();
    let mut ip = vec![
        0x46,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0,
        0,
        255,
        112,
        0,
        0,
    ];
    ip.extend_from_slice(&HIGHER_V4.octets());
    ip.extend_from_slice(&MULTICAST_V4.octets());
    ip.extend_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
    ip.extend_from_slice(&msg);
    let rx = Received::from_ipv4_packet(&ip).unwrap();
    assert_eq!(r.handle_advertisement(t0, &rx), Ok(()));
    assert_eq!(r.active_router(), Some(HIGHER_V4.into()));
}

#[test]
fn receive_validation_v2_auth_type_must_match() {
    let t0 = Instant::now();
    let mut r = started(v2_config(100, password("secret")), t0);
    let peer = Peer::v2(HIGHER_V4, 200, Auth::None).interval(100);
    assert_eq!(
        peer.send(&mut r, t0),
        Err(Discard::AuthTypeMismatch {
            received: 0,
            local: 1
        })
    );
    assert_eq!(r.stats().auth_type_mismatch, 1);
}

#[test]
fn receive_validation_v2_simple_text_password_must_match() {
    let t0 = Instant::now();
    let mut r = started(v2_config(100, password("secret")), t0);
    let wrong = Peer::v2(HIGHER_V4, 200, password("guess"));
    assert_eq!(wrong.send(&mut r, t0), Err(Discard::AuthFailure));
    assert_eq!(r.stats().auth_failures, 1);
    let right = Peer::v2(HIGHER_V4, 200, password("secret"));
    assert_eq!(right.send(&mut r, t0), Ok(()));
}

#[test]
fn receive_validation_v2_interval_must_match() {
    let t0 = Instant::now();
    let mut r = started(v2_config(100, Auth::None), t0);
    let peer = Peer::v2(HIGHER_V4, 200, Auth::None).interval(200);
    assert!(matches!(
        peer.send(&mut r, t0),
        Err(Discard::IntervalMismatch { .. })
    ));
    assert_eq!(r.stats().interval_errors, 1);
}

#[test]
fn receive_validation_v3_interval_is_not_checked_but_learned() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    Peer::v3(HIGHER_V4, 200)
        .interval(25)
        .send(&mut r, t0)
        .unwrap();
    assert_eq!(r.master_adver_interval(), Centiseconds::new(25));
}

#[test]
fn receive_validation_v3_address_list_mismatch_is_counted_but_processed() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let other: IpAddr = "198.18.0.101".parse().unwrap();
    let peer = Peer::v3(HIGHER_V4, 200).addresses(vec![other]);
    assert_eq!(peer.send(&mut r, t0), Ok(()));
    assert_eq!(r.stats().address_list_errors, 1);
    assert_eq!(r.active_router(), Some(HIGHER_V4.into()));
}

/// RFC 9568 §5.2.5: Count IPvX Addr is at least 1. A count-0 advert from a
/// higher priority must not move an Active router (before, it did).
#[test]
fn receive_validation_v3_count_zero_is_discarded_and_counted() {
    let t0 = Instant::now();
    let mut r = started(v3_config(150), t0);
    run_until(&mut r, t0 + ms(4000));
    assert_state(&r, State::Active);
    let peer = Peer::v3(HIGHER_V4, 200).addresses(vec![]);
    assert_eq!(peer.send(&mut r, t0 + ms(4000)), Err(Discard::NoAddresses));
    assert_eq!(r.stats().address_list_errors, 1);
    assert_state(&r, State::Active);
}

/// A source no router can have (unspecified, limited broadcast, multicast,
/// class E) must not win an election: before, a forged 0.0.0.0 advert at a
/// higher priority made the Active step down.
#[test]
fn receive_validation_ipv4_bogus_sources_are_discarded() {
    let t0 = Instant::now();
    for bogus in [
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.5",
        "240.0.0.1",
        "250.1.2.3",
    ] {
        let src: std::net::Ipv4Addr = bogus.parse().unwrap();
        let mut r = started(v3_config(100), t0);
        let peer = Peer::v3(src, 200);
        assert_eq!(
            peer.send(&mut r, t0),
            Err(Discard::BogusSource(src.into())),
            "{bogus}"
        );
        assert_eq!(r.active_router(), None, "{bogus}");
    }
    // The primary's subnet broadcast, once the prefix is known.
    let broadcast: std::net::Ipv4Addr = "198.18.0.255".parse().unwrap();
    let mut r = started(v3_config(100).with_primary_prefix_len(24), t0);
    assert_eq!(
        Peer::v3(broadcast, 200).send(&mut r, t0),
        Err(Discard::BogusSource(broadcast.into()))
    );
    let mut r = started(v3_config(100), t0);
    assert!(Peer::v3(broadcast, 200).send(&mut r, t0).is_ok());
}

#[test]
fn receive_validation_v2_address_list_mismatch_is_dropped_unless_owner() {
    let t0 = Instant::now();
    let mut r = started(v2_config(100, Auth::None), t0);
    let other: IpAddr = "198.18.0.101".parse().unwrap();
    let peer = Peer::v2(HIGHER_V4, 200, Auth::None).addresses(vec![other]);
    assert_eq!(peer.send(&mut r, t0), Err(Discard::AddressListMismatch));
    let owner = Peer::v2(HIGHER_V4, 255, Auth::None).addresses(vec![other]);
    assert_eq!(owner.send(&mut r, t0), Ok(()));
    assert_eq!(r.stats().address_list_errors, 2);
}

#[test]
fn receive_validation_address_list_order_does_not_matter() {
    let t0 = Instant::now();
    let a: IpAddr = "198.18.0.100".parse().unwrap();
    let b: IpAddr = "198.18.0.101".parse().unwrap();
    let mut c = v2_config(100, Auth::None);
    c.addresses = vec![a, b];
    let mut r = started(c, t0);
    let peer = Peer::v2(HIGHER_V4, 200, Auth::None).addresses(vec![b, a]);
    assert_eq!(peer.send(&mut r, t0), Ok(()));
    assert_eq!(r.stats().address_list_errors, 0);
}

#[test]
fn receive_validation_ipv6_source_must_be_link_local() {
    let t0 = Instant::now();
    let mut r = started(v6_config(100), t0);
    let global: std::net::Ipv6Addr = "fd00:198:18::20".parse().unwrap();
    let peer = Peer::v3(global, 200);
    assert_eq!(
        peer.send(&mut r, t0),
        Err(Discard::NotLinkLocal(global.into()))
    );
}

#[test]
fn receive_validation_ipv6_link_local_first_address_is_optional() {
    // RFC 9568 puts the virtual link-local address first; FRR leaves it out.
    let t0 = Instant::now();
    let mut r = started(v6_config(100), t0);
    let ll: IpAddr = "fe80::200:5eff:fe00:233".parse().unwrap();
    let with = Peer::v3(PEER_V6, 200).addresses(vec![ll, VIP_V6.into()]);
    assert_eq!(with.send(&mut r, t0), Ok(()));
    let without = Peer::v3(PEER_V6, 200);
    assert_eq!(without.send(&mut r, t0), Ok(()));
    assert_eq!(r.stats().address_list_errors, 0);
}

#[test]
fn receive_validation_own_address_is_discarded() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let peer = Peer::v3(LOCAL_V4, 200);
    assert_eq!(
        peer.send(&mut r, t0),
        Err(Discard::OwnAddress(LOCAL_V4.into()))
    );
}

#[test]
fn receive_validation_nothing_is_heard_before_startup_or_in_fault() {
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(v3_config(100)).unwrap();
    assert_eq!(
        Peer::v3(HIGHER_V4, 200).send(&mut r, t0),
        Err(Discard::NotListening(State::Initialize))
    );
    r.startup(t0);
    r.set_link_up(t0, false);
    assert_eq!(
        Peer::v3(HIGHER_V4, 200).send(&mut r, t0),
        Err(Discard::NotListening(State::Fault))
    );
}

#[test]
fn receive_validation_unicast_adverts_may_have_crossed_routers() {
    // keepalived's unicast_ttl: a unicast advert's TTL is not checked (as
    // in keepalived); a multicast one's still is.
    let t0 = Instant::now();
    let mut config = v3_config(100);
    config.unicast_peers = vec![HIGHER_V4.into()];
    let mut r = started(config, t0);
    let mut peer = Peer::v3(HIGHER_V4, 200);
    peer.ttl = 62;
    assert_eq!(peer.send(&mut r, t0), Ok(()));
    assert_eq!(r.stats().ip_ttl_errors, 0);
    let mut m = started(v3_config(100), t0);
    assert_eq!(
        peer.send(&mut m, t0),
        Err(Discard::Wire(WireError::BadTtl(62)))
    );
}

#[test]
fn receive_validation_skip_check_adv_addr_trusts_the_known_active() {
    // VRRPv2 drops a list that differs from ours. With skip_check_adv_addr
    // a Backup checks only an Active it has not accepted yet.
    let t0 = Instant::now();
    let other: IpAddr = "198.18.0.200".parse().unwrap();
    for skip in [false, true] {
        let config = v2_config(100, Auth::None).with_skip_address_check(skip);
        let mut r = started(config, t0);
        let peer = Peer::v2(HIGHER_V4, 200, Auth::None);
        assert_eq!(peer.send(&mut r, t0), Ok(()));
        let changed = Peer::v2(HIGHER_V4, 200, Auth::None).addresses(vec![other]);
        let got = changed.send(&mut r, t0);
        if skip {
            assert_eq!(got, Ok(()));
        } else {
            assert_eq!(got, Err(Discard::AddressListMismatch));
        }
        // A source it has not accepted is always checked.
        let stranger =
            Peer::v2("198.18.0.3".parse().unwrap(), 200, Auth::None).addresses(vec![other]);
        assert_eq!(stranger.send(&mut r, t0), Err(Discard::AddressListMismatch));
    }
}

/// A unicast VRRPv3 advert from `peer` to [`LOCAL_V4`], summed with the
/// peer (`standard`) or with 224.0.0.18 (keepalived ≤ 1.3.6) as the
/// pseudo-header destination.
fn unicast_bytes(peer: &Peer, standard: bool) -> Vec<u8> {
    let mut bytes = peer.bytes();
    if standard {
        let packet = vrrp_core::wire::Packet::new_checked(&bytes[..], AddressFamily::Ipv4).unwrap();
        let sum = packet
            .compute_checksum(peer.src, LOCAL_V4.into(), ChecksumMode::PseudoHeader)
            .unwrap();
        bytes[6..8].copy_from_slice(&sum.to_be_bytes());
    }
    bytes
}

#[test]
fn receive_validation_old_unicast_checksum_is_detected_adopted_or_refused() {
    // keepalived's old_unicast_checksum: `never` refuses the old form, the
    // default adopts it from the first peer that uses it, and the keyword
    // alone sends it from the start.
    let t0 = Instant::now();
    let peer = Peer::v3(HIGHER_V4, 200);
    let legacy = unicast_bytes(&peer, false);
    let standard = unicast_bytes(&peer, true);
    let local: IpAddr = LOCAL_V4.into();
    let group: IpAddr = MULTICAST_V4.into();
    for form in [
        UnicastChecksum::Standard,
        UnicastChecksum::DetectLegacy,
        UnicastChecksum::Legacy,
    ] {
        let mut config = v3_config(100).with_unicast_checksum(form);
        config.unicast_peers = vec![HIGHER_V4.into()];
        let mut r = started(config, t0);
        drain(&mut r);
        let rx = received(HIGHER_V4.into(), local, 255, &standard);
        assert_eq!(r.handle_advertisement(t0, &rx), Ok(()), "{form:?}");
        let rx = received(HIGHER_V4.into(), local, 255, &legacy);
        let got = r.handle_advertisement(t0, &rx);
        if form == UnicastChecksum::Standard {
            assert!(
                matches!(got, Err(Discard::Wire(WireError::BadChecksum { .. }))),
                "{got:?}"
            );
            assert_eq!(r.stats().checksum_errors, 1);
        } else {
            assert_eq!(got, Ok(()), "{form:?}");
        }
        // Reported once, and only when detected.
        assert_eq!(r.handle_advertisement(t0, &rx).is_ok(), got.is_ok());
        let adopted: Vec<_> = drain(&mut r)
            .into_iter()
            .filter(|o| matches!(o, Output::LegacyChecksumAdopted { .. }))
            .collect();
        let expected = match form {
            UnicastChecksum::DetectLegacy => vec![Output::LegacyChecksumAdopted {
                from: HIGHER_V4.into(),
            }],
            _ => vec![],
        };
        assert_eq!(adopted, expected, "{form:?}");
        // What it sends after: the old form unless `never`.
        r.handle_timeout(t0 + ms(10_000));
        let outputs = drain(&mut r);
        let sent = transmits(&outputs);
        let t = sent.first().expect("an advert after Master_Down");
        assert_eq!(t.dst, IpAddr::from(HIGHER_V4));
        let packet =
            vrrp_core::wire::Packet::new_checked(&t.payload[..], AddressFamily::Ipv4).unwrap();
        let old_form = packet.verify_checksum(local, group) == ChecksumStatus::Valid;
        let new_form = packet.verify_checksum(local, t.dst) == ChecksumStatus::Valid;
        assert_eq!(old_form, form != UnicastChecksum::Standard, "{form:?}");
        assert_eq!(new_form, !old_form, "{form:?}");
    }
}

#[test]
fn receive_validation_old_unicast_checksum_is_not_learnt_from_multicast() {
    // A multicast instance never looks for the old form.
    let t0 = Instant::now();
    let config = v3_config(100).with_unicast_checksum(UnicastChecksum::DetectLegacy);
    let mut r = started(config, t0);
    let peer = Peer::v3(HIGHER_V4, 200);
    let legacy = unicast_bytes(&peer, false);
    let rx = received(HIGHER_V4.into(), LOCAL_V4.into(), 255, &legacy);
    assert!(matches!(
        r.handle_advertisement(t0, &rx),
        Err(Discard::Wire(WireError::BadChecksum { .. }))
    ));
}
