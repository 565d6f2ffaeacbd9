//! The message header: IP TTL or hop limit, version, type, the v3
//! reserved bits and interval, VRID and interval.

use crate::{emit, fix_checksum, ipv4_packet, ipv6_packet, received, v2, v3_v4, v3_v6};
use vrrp_core::wire::{
    AddressFamily, Advertisement, Auth, ChecksumMode, Packet, Received, VersionFields, WireError,
};
use vrrp_core::{Centiseconds, MaxAdverInt};

// --- IP TTL or IPv6 hop limit = 255 ---

#[test]
fn receive_validation_ttl_must_be_255() {
    for adv in [v3_v4(), v3_v6(), v2(Auth::None)] {
        let msg = emit(&adv, ChecksumMode::PseudoHeader);
        for ttl in 0..=254u8 {
            let rx = received(&msg, adv.family(), ttl);
            assert_eq!(rx.check_ttl(), Err(WireError::BadTtl(ttl)));
            assert_eq!(rx.validate(), Err(WireError::BadTtl(ttl)));
        }
        assert!(received(&msg, adv.family(), 255).validate().is_ok());
    }
    // Read from the IP header itself.
    let msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    let ip = ipv4_packet(&msg, 64, &[]);
    let rx = Received::from_ipv4_packet(&ip).unwrap();
    assert_eq!(rx.ttl_or_hop_limit(), 64);
    assert_eq!(rx.validate(), Err(WireError::BadTtl(64)));
    let ip = ipv6_packet(&emit(&v3_v6(), ChecksumMode::PseudoHeader), 1);
    assert_eq!(
        Received::from_ipv6_packet(&ip).unwrap().validate(),
        Err(WireError::BadTtl(1))
    );
}

// --- Version 2 or 3 ---

#[test]
fn receive_validation_version_must_be_2_or_3() {
    let mut msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    for version in (0..16u8).filter(|v| !matches!(v, 2 | 3)) {
        msg[0] = version << 4 | 1;
        assert_eq!(
            Packet::new_checked(&msg[..], AddressFamily::Ipv4),
            Err(WireError::BadVersion(version))
        );
    }
}

#[test]
fn receive_validation_v2_over_ipv6_is_refused() {
    // A v2 message with one 16-byte "address" worth of bytes, over IPv6.
    let mut msg = emit(&v2(Auth::None), ChecksumMode::PseudoHeader);
    msg[3] = 1;
    assert_eq!(
        Packet::new_checked(&msg[..], AddressFamily::Ipv6),
        Err(WireError::V2OverIpv6)
    );
}

// --- Type = 1 (Advertisement) ---

#[test]
fn receive_validation_type_must_be_advertisement() {
    for adv in [v3_v4(), v2(Auth::None)] {
        let mut msg = emit(&adv, ChecksumMode::PseudoHeader);
        let version = msg[0] >> 4;
        for ty in (0..16u8).filter(|&t| t != 1) {
            msg[0] = version << 4 | ty;
            assert_eq!(
                Packet::new_checked(&msg[..], AddressFamily::Ipv4),
                Err(WireError::BadType(ty))
            );
        }
    }
}

// --- v3: reserved bits ignored, interval = low 12 bits ---

#[test]
fn v3_reserved_bits_are_ignored_on_receive() {
    let original = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    for reserved in 1..16u8 {
        let mut msg = original.clone();
        msg[4] |= reserved << 4;
        fix_checksum(&mut msg, AddressFamily::Ipv4, ChecksumMode::PseudoHeader);
        let ok = received(&msg, AddressFamily::Ipv4, 255).validate().unwrap();
        assert_eq!(ok.packet.reserved_bits(), reserved);
        assert_eq!(
            ok.packet.interval(),
            Centiseconds::new(50),
            "reserved {reserved:#x}"
        );
        assert_eq!(Advertisement::from_packet(&ok.packet), v3_v4());
    }
}

#[test]
fn v3_interval_is_the_low_12_bits_only() {
    let mut msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    // FRR 8.4 would read 0xf000 as 61440 cs; the interval is 0, which is invalid.
    msg[4] = 0xf0;
    msg[5] = 0x00;
    assert_eq!(
        Packet::new_checked(&msg[..], AddressFamily::Ipv4),
        Err(WireError::ZeroInterval)
    );
    msg[4] = 0xff;
    msg[5] = 0xff;
    let p = Packet::new_checked(&msg[..], AddressFamily::Ipv4).unwrap();
    assert_eq!(p.max_adver_int(), Some(MaxAdverInt::MAX));
    assert_eq!(p.interval(), Centiseconds::new(4095));
}

#[test]
fn v3_reserved_bits_are_sent_as_zero() {
    let adv = Advertisement {
        version_fields: VersionFields::V3 {
            max_adver_int: MaxAdverInt::MAX,
        },
        ..v3_v4()
    };
    let msg = emit(&adv, ChecksumMode::PseudoHeader);
    assert_eq!(msg[4..6], [0x0f, 0xff]);
}

// --- VRID and interval ---

#[test]
fn receive_validation_vrid_zero_is_refused() {
    for adv in [v3_v4(), v2(Auth::None)] {
        let mut msg = emit(&adv, ChecksumMode::PseudoHeader);
        msg[1] = 0;
        assert_eq!(
            Packet::new_checked(&msg[..], AddressFamily::Ipv4),
            Err(WireError::ZeroVrid)
        );
    }
}

#[test]
fn receive_validation_zero_interval_is_refused() {
    for adv in [v3_v4(), v2(Auth::None)] {
        let mut msg = emit(&adv, ChecksumMode::PseudoHeader);
        msg[5] = 0;
        assert_eq!(
            Packet::new_checked(&msg[..], AddressFamily::Ipv4),
            Err(WireError::ZeroInterval)
        );
    }
}
