//! Property tests of the codec: round trips for every valid advertisement,
//! no panics on any input, and single-byte corruption is always caught.

#[path = "support/oracle.rs"]
mod oracle;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::prelude::*;
use vrrp_core::wire::{
    AddressFamily, AddressList, Advertisement, Auth, ChecksumMode, ChecksumStatus, EmitError,
    Packet, Password, Received, VersionFields, WireError,
};
use vrrp_core::{AdverIntSeconds, MaxAdverInt, Priority, Version, Vrid};

fn vrid() -> impl Strategy<Value = Vrid> {
    (1u8..=255).prop_map(|v| Vrid::new(v).unwrap())
}

fn priority() -> impl Strategy<Value = Priority> {
    any::<u8>().prop_map(Priority::new)
}

fn v2_fields() -> impl Strategy<Value = VersionFields> {
    let auth = prop_oneof![
        Just(Auth::None),
        vec(any::<u8>(), 0..=8).prop_map(|p| Auth::SimpleText(Password::new(&p).unwrap())),
    ];
    (1u8..=255, auth).prop_map(|(secs, auth)| VersionFields::V2 {
        adver_int: AdverIntSeconds::new(secs).unwrap(),
        auth,
    })
}

fn v3_fields() -> impl Strategy<Value = VersionFields> {
    (1u16..=4095).prop_map(|cs| VersionFields::V3 {
        max_adver_int: MaxAdverInt::new(cs).unwrap(),
    })
}

fn v4_list() -> impl Strategy<Value = AddressList> {
    vec(any::<[u8; 4]>().prop_map(Ipv4Addr::from), 0..=255).prop_map(AddressList::V4)
}

fn v6_list() -> impl Strategy<Value = AddressList> {
    vec(any::<[u8; 16]>().prop_map(Ipv6Addr::from), 0..=255).prop_map(AddressList::V6)
}

/// Every valid advertisement: v2/IPv4, v3/IPv4, v3/IPv6 (v2/IPv6 does not
/// exist, see `v2_over_ipv6_is_refused_both_ways`).
fn advertisement() -> impl Strategy<Value = Advertisement> {
    let fields_and_list = prop_oneof![
        (v2_fields(), v4_list()),
        (v3_fields(), v4_list()),
        (v3_fields(), v6_list()),
    ];
    (vrid(), priority(), fields_and_list).prop_map(
        |(vrid, priority, (version_fields, addresses))| Advertisement {
            vrid,
            priority,
            version_fields,
            addresses,
        },
    )
}

fn mode() -> impl Strategy<Value = ChecksumMode> {
    prop_oneof![
        Just(ChecksumMode::PseudoHeader),
        Just(ChecksumMode::MessageOnly)
    ]
}

/// Any source and destination of `family`.
fn endpoints(family: AddressFamily) -> BoxedStrategy<(IpAddr, IpAddr)> {
    match family {
        AddressFamily::Ipv4 => any::<([u8; 4], [u8; 4])>()
            .prop_map(|(s, d)| (IpAddr::from(s), IpAddr::from(d)))
            .boxed(),
        AddressFamily::Ipv6 => any::<([u8; 16], [u8; 16])>()
            .prop_map(|(s, d)| (IpAddr::from(s), IpAddr::from(d)))
            .boxed(),
    }
}

fn advert_with_endpoints() -> impl Strategy<Value = (Advertisement, IpAddr, IpAddr, ChecksumMode)> {
    (advertisement(), mode()).prop_flat_map(|(adv, mode)| {
        let family = adv.family();
        endpoints(family).prop_map(move |(src, dst)| (adv.clone(), src, dst, mode))
    })
}

fn received(msg: &[u8], src: IpAddr, dst: IpAddr) -> Received<'_> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Received::from_ipv4_payload(s, d, 255, msg),
        (IpAddr::V6(s), IpAddr::V6(d)) => Received::from_ipv6_payload(s, d, 255, msg),
        _ => unreachable!("endpoints are of one family"),
    }
}

proptest! {
    #[test]
    fn parse_of_emit_is_identity((adv, src, dst, mode) in advert_with_endpoints()) {
        let bytes = adv.to_bytes(src, dst, mode).unwrap();
        prop_assert_eq!(bytes.len(), adv.buffer_len());
        prop_assert_eq!(Advertisement::parse(&bytes, adv.family()), Ok(adv.clone()));
        let ok = received(&bytes, src, dst).validate().unwrap();
        prop_assert_eq!(ok.checksum, oracle::sent_form(&ok.packet, src, dst, mode));
        prop_assert_eq!(Advertisement::from_packet(&ok.packet), adv.clone());
        // The zero-copy view agrees with the owned repr field by field.
        prop_assert_eq!(ok.packet.vrid(), adv.vrid);
        prop_assert_eq!(ok.packet.priority(), adv.priority);
        prop_assert_eq!(ok.packet.version_fields(), adv.version_fields);
        prop_assert_eq!(ok.packet.interval(), adv.interval());
        prop_assert!(ok.packet.addresses().eq(adv.addresses.iter()));
    }

    #[test]
    fn v2_over_ipv6_is_refused_both_ways(
        fields in v2_fields(),
        list in v6_list(),
        (src, dst) in endpoints(AddressFamily::Ipv6),
        mode in mode(),
    ) {
        let adv = Advertisement { vrid: Vrid::MIN, priority: Priority::DEFAULT, version_fields: fields, addresses: list };
        prop_assert_eq!(adv.to_bytes(src, dst, mode), Err(EmitError::V2OverIpv6));
        // The same header over IPv6 is refused on receive too.
        let as_v4 = Advertisement { addresses: AddressList::V4(vec![]), ..adv };
        let bytes = as_v4.to_bytes([198, 18, 0, 1].into(), [224, 0, 0, 18].into(), mode).unwrap();
        prop_assert_eq!(Packet::new_checked(&bytes[..], AddressFamily::Ipv6), Err(WireError::V2OverIpv6));
    }

    #[test]
    fn any_single_byte_corruption_is_caught(
        (adv, src, dst, mode) in advert_with_endpoints(),
        index in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let mut bytes = adv.to_bytes(src, dst, mode).unwrap();
        let sent = oracle::sent_form(&Packet::new_checked(&bytes[..], adv.family()).unwrap(), src, dst, mode);
        let i = index.index(bytes.len());
        bytes[i] ^= flip;
        match received(&bytes, src, dst).validate() {
            // Refused: structurally, or by the checksum.
            Err(_) => {}
            // A one-byte change shifts the sum by d or d × 256 (0 < d < 256),
            // never by a multiple of 0xffff, so it cannot pass in the form it
            // was sent in. It can only match the other v3/IPv4 form, by
            // chance, and then it is a well-formed advertisement.
            Ok(ok) => {
                prop_assert_ne!(ok.checksum, sent);
                prop_assert_eq!((ok.packet.version(), ok.packet.family()), (Version::V3, AddressFamily::Ipv4));
                prop_assert_ne!(ok.packet.as_bytes(), &adv.to_bytes(src, dst, mode).unwrap()[..]);
            }
        }
    }

    #[test]
    fn arbitrary_messages_never_panic(data in vec(any::<u8>(), 0..600)) {
        oracle::advert(&data);
        for family in [AddressFamily::Ipv4, AddressFamily::Ipv6] {
            let _ = Advertisement::parse(&data[..], family);
            if let Ok(p) = Packet::new_checked(&data[..], family) {
                let _ = p.verify_checksum([0, 0, 0, 0].into(), Ipv6Addr::UNSPECIFIED.into());
                let _ = p.compute_checksum(Ipv6Addr::UNSPECIFIED.into(), [0, 0, 0, 0].into(), ChecksumMode::MessageOnly);
            }
        }
    }

    #[test]
    fn arbitrary_ip_packets_never_panic(data in vec(any::<u8>(), 0..600)) {
        oracle::ip_packet(&data);
        let _ = Received::from_ipv4_packet(&data).map(|rx| rx.validate());
        let _ = Received::from_ipv6_packet(&data).map(|rx| rx.validate());
    }

    /// Random bytes rarely get past the IP header, so also try them behind a
    /// plausible one: version, IHL or next header, protocol and lengths right.
    #[test]
    fn arbitrary_payloads_behind_ip_headers_never_panic(
        payload in vec(any::<u8>(), 0..300),
        ihl in 5u8..=15,
        ttl in any::<u8>(),
        v6 in any::<bool>(),
        length_skew in -3i32..=3,
    ) {
        let mut p = if v6 {
            let mut h = vec![0x60, 0, 0, 0, 0, 0, 112, ttl];
            h.extend_from_slice(&[0xfe, 0x80]);
            h.resize(40, 1);
            h
        } else {
            let mut h = vec![0x40 | ihl, 0, 0, 0, 0, 0, 0, 0, ttl, 112];
            h.resize(usize::from(ihl) * 4, 0);
            h
        };
        let header_len = p.len();
        p.extend_from_slice(&payload);
        let len = i32::try_from(p.len()).unwrap() + length_skew;
        let field = u16::try_from(if v6 { len - 40 } else { len }.max(0)).unwrap();
        let at = if v6 { 4 } else { 2 };
        p[at..at + 2].copy_from_slice(&field.to_be_bytes());
        oracle::ip_packet(&p);
        if length_skew == 0 {
            let rx = Received::from_ip_packet(&p).unwrap();
            prop_assert_eq!(rx.payload(), &p[header_len..]);
            prop_assert_eq!(rx.ttl_or_hop_limit(), ttl);
        }
    }
}

#[test]
fn checksum_status_names_are_stable() {
    assert_eq!(ChecksumStatus::Valid.to_string(), "valid");
    assert_eq!(ChecksumStatus::Invalid.as_str(), "invalid");
    assert!(!ChecksumStatus::Invalid.is_valid());
    assert!(ChecksumStatus::ValidWithoutPseudoHeader.is_valid());
}
