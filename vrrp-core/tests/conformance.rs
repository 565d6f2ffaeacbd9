//! The codec-level items of the receive-validation checklist (DESIGN.md §3,
//! RFC 3768 §7.1, RFC 9568 §7.1), one test per item, named after it.
//! Items that need the local configuration (VRID configured, version, v2
//! password and interval, address list) belong to the state machine.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_core::wire::{
    AddressFamily, AddressList, Advertisement, Auth, ChecksumMode, ChecksumStatus, Packet,
    Password, Received, VersionFields, WireError,
};
use vrrp_core::{AdverIntSeconds, Centiseconds, MaxAdverInt, Priority, Vrid};

const SRC4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const DST4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
const SRC6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const DST6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

fn v3_v4() -> Advertisement {
    Advertisement {
        vrid: Vrid::new(51).unwrap(),
        priority: Priority::new(150),
        version_fields: VersionFields::V3 {
            max_adver_int: MaxAdverInt::new(50).unwrap(),
        },
        addresses: AddressList::V4(vec![[198, 18, 0, 100].into(), [198, 18, 0, 101].into()]),
    }
}

fn v3_v6() -> Advertisement {
    Advertisement {
        addresses: AddressList::V6(vec!["fd00:198:18::100".parse().unwrap()]),
        ..v3_v4()
    }
}

fn v2(auth: Auth) -> Advertisement {
    Advertisement {
        version_fields: VersionFields::V2 {
            adver_int: AdverIntSeconds::new(1).unwrap(),
            auth,
        },
        ..v3_v4()
    }
}

fn endpoints(family: AddressFamily) -> (IpAddr, IpAddr) {
    match family {
        AddressFamily::Ipv4 => (SRC4.into(), DST4.into()),
        AddressFamily::Ipv6 => (SRC6.into(), DST6.into()),
    }
}

fn emit(adv: &Advertisement, mode: ChecksumMode) -> Vec<u8> {
    let (src, dst) = endpoints(adv.family());
    adv.to_bytes(src, dst, mode).unwrap()
}

fn received(msg: &[u8], family: AddressFamily, ttl: u8) -> Received<'_> {
    match family {
        AddressFamily::Ipv4 => Received::from_ipv4_payload(SRC4, DST4, ttl, msg),
        AddressFamily::Ipv6 => Received::from_ipv6_payload(SRC6, DST6, ttl, msg),
    }
}

/// Rewrites the checksum of an edited message in `mode`.
fn fix_checksum(msg: &mut [u8], family: AddressFamily, mode: ChecksumMode) {
    let (src, dst) = endpoints(family);
    let sum = Packet::new_checked(&*msg, family)
        .unwrap()
        .compute_checksum(src, dst, mode)
        .unwrap();
    msg[6..8].copy_from_slice(&sum.to_be_bytes());
}

/// A whole IPv4 packet around `msg`, with `options` (a multiple of 4 bytes).
fn ipv4_packet(msg: &[u8], ttl: u8, options: &[u8]) -> Vec<u8> {
    let header_len = 20 + options.len();
    let total = u16::try_from(header_len + msg.len()).unwrap();
    let mut p = vec![0x40 | (header_len / 4) as u8, 0xc0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 1, 0, 0, ttl, 112, 0, 0]);
    p.extend_from_slice(&SRC4.octets());
    p.extend_from_slice(&DST4.octets());
    p.extend_from_slice(options);
    p.extend_from_slice(msg);
    p
}

fn ipv6_packet(msg: &[u8], hop_limit: u8) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&u16::try_from(msg.len()).unwrap().to_be_bytes());
    p.extend_from_slice(&[112, hop_limit]);
    p.extend_from_slice(&SRC6.octets());
    p.extend_from_slice(&DST6.octets());
    p.extend_from_slice(msg);
    p
}

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

// --- Length ≥ header + count × address size, IHL honoured ---

#[test]
fn receive_validation_length_must_cover_count_addresses() {
    for adv in [v3_v4(), v3_v6()] {
        let family = adv.family();
        let msg = emit(&adv, ChecksumMode::PseudoHeader);
        for len in 8..msg.len() {
            assert_eq!(
                Packet::new_checked(&msg[..len], family),
                Err(WireError::LengthMismatch {
                    count: msg[3],
                    needed: msg.len(),
                    len
                }),
                "{family} cut to {len}"
            );
        }
        let mut more = msg.clone();
        more[3] += 1;
        assert_eq!(
            Packet::new_checked(&more[..], family),
            Err(WireError::LengthMismatch {
                count: more[3],
                needed: msg.len() + family.address_len(),
                len: msg.len()
            })
        );
    }
    for len in 0..8 {
        let msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
        assert_eq!(
            Packet::new_checked(&msg[..len], AddressFamily::Ipv4),
            Err(WireError::Truncated { len })
        );
    }
}

#[test]
fn receive_validation_extra_bytes_after_the_addresses_are_covered_by_the_checksum() {
    let mut msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    msg.extend_from_slice(&[0xde, 0xad]);
    assert_eq!(
        received(&msg, AddressFamily::Ipv4, 255)
            .validate()
            .map(|v| v.checksum),
        Err(WireError::BadChecksum {
            found: u16::from_be_bytes([msg[6], msg[7]])
        })
    );
    fix_checksum(&mut msg, AddressFamily::Ipv4, ChecksumMode::PseudoHeader);
    let ok = received(&msg, AddressFamily::Ipv4, 255).validate().unwrap();
    assert_eq!(Advertisement::from_packet(&ok.packet), v3_v4());
}

#[test]
fn receive_validation_ihl_with_ip_options_is_honoured() {
    let msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    for option_words in 0..=10usize {
        // NOP options, then the VRRP message right after IHL × 4 bytes.
        let ip = ipv4_packet(&msg, 255, &vec![1u8; option_words * 4]);
        let rx = Received::from_ipv4_packet(&ip).unwrap();
        assert_eq!(rx.payload(), &msg[..], "IHL {}", 5 + option_words);
        let ok = rx.validate().unwrap();
        assert_eq!(Advertisement::from_packet(&ok.packet), v3_v4());
    }
    let mut ip = ipv4_packet(&msg, 255, &[]);
    for ihl in 0..5u8 {
        ip[0] = 0x40 | ihl;
        assert_eq!(Received::from_ipv4_packet(&ip), Err(WireError::BadIhl(ihl)));
    }
    // IHL 15 says 60 header bytes, more than Total Length.
    ip[0] = 0x4f;
    assert_eq!(
        Received::from_ipv4_packet(&ip),
        Err(WireError::BadIpLength {
            claimed: ip.len(),
            header_len: 60,
            received: ip.len()
        })
    );
}

#[test]
fn receive_validation_lying_ip_lengths_are_refused() {
    let msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    let ip = ipv4_packet(&msg, 255, &[]);
    // Total Length beyond the bytes received.
    let mut long = ip.clone();
    let claimed = ip.len() + 1;
    long[2..4].copy_from_slice(&u16::try_from(claimed).unwrap().to_be_bytes());
    assert_eq!(
        Received::from_ipv4_packet(&long),
        Err(WireError::BadIpLength {
            claimed,
            header_len: 20,
            received: ip.len()
        })
    );
    // Total Length shorter than the header.
    let mut short = ip.clone();
    short[2..4].copy_from_slice(&19u16.to_be_bytes());
    assert!(matches!(
        Received::from_ipv4_packet(&short),
        Err(WireError::BadIpLength { claimed: 19, .. })
    ));
    // Total Length shorter than the buffer: the rest (Ethernet padding) is
    // not VRRP. Here it cuts the address list.
    let mut cut = ip.clone();
    cut[2..4].copy_from_slice(&u16::try_from(ip.len() - 4).unwrap().to_be_bytes());
    let rx = Received::from_ipv4_packet(&cut).unwrap();
    assert_eq!(rx.payload(), &msg[..msg.len() - 4]);
    assert!(matches!(
        rx.validate(),
        Err(WireError::LengthMismatch { .. })
    ));
    // Ethernet pads short frames with zeros: they are dropped.
    let mut padded = ip.clone();
    padded.extend_from_slice(&[0; 14]);
    let rx = Received::from_ipv4_packet(&padded).unwrap();
    assert_eq!(rx.payload(), &msg[..]);
    assert!(rx.validate().is_ok());
    for len in 0..20 {
        assert_eq!(
            Received::from_ipv4_packet(&ip[..len]),
            Err(WireError::IpTruncated { len, needed: 20 })
        );
    }

    let msg6 = emit(&v3_v6(), ChecksumMode::PseudoHeader);
    let ip6 = ipv6_packet(&msg6, 255);
    let mut padded = ip6.clone();
    padded.extend_from_slice(&[0; 6]);
    assert_eq!(
        Received::from_ipv6_packet(&padded).unwrap().payload(),
        &msg6[..]
    );
    assert_eq!(
        Received::from_ipv6_packet(&ip6[..ip6.len() - 1]),
        Err(WireError::BadIpLength {
            claimed: ip6.len(),
            header_len: 40,
            received: ip6.len() - 1
        })
    );
}

#[test]
fn receive_validation_fragments_and_other_protocols_are_refused() {
    let msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    let ip = ipv4_packet(&msg, 255, &[]);
    for frag in [0x2000u16, 0x0001, 0x3fff] {
        let mut f = ip.clone();
        f[6..8].copy_from_slice(&frag.to_be_bytes());
        assert_eq!(Received::from_ipv4_packet(&f), Err(WireError::Fragmented));
    }
    // Don't Fragment is fine.
    let mut df = ip.clone();
    df[6] = 0x40;
    assert!(Received::from_ipv4_packet(&df).is_ok());
    let mut tcp = ip.clone();
    tcp[9] = 6;
    assert_eq!(Received::from_ipv4_packet(&tcp), Err(WireError::NotVrrp(6)));
    let mut icmp6 = ipv6_packet(&msg, 255);
    icmp6[6] = 58;
    assert_eq!(
        Received::from_ipv6_packet(&icmp6),
        Err(WireError::NotVrrp(58))
    );
    icmp6[6] = 44;
    assert_eq!(
        Received::from_ipv6_packet(&icmp6),
        Err(WireError::Fragmented)
    );
}

// --- Checksum ---

#[test]
fn checksum_v2_is_over_the_message_only() {
    let adv = v2(Auth::None);
    let msg = emit(&adv, ChecksumMode::PseudoHeader);
    let (src, dst) = endpoints(AddressFamily::Ipv4);
    let p = Packet::new_checked(&msg[..], AddressFamily::Ipv4).unwrap();
    assert_eq!(p.verify_checksum(src, dst), ChecksumStatus::Valid);
    // The mode does not apply to v2: both give the message-only sum.
    assert_eq!(emit(&adv, ChecksumMode::MessageOnly), msg);
    // Any source and destination: v2 does not use them.
    let other: IpAddr = [198, 18, 9, 9].into();
    assert_eq!(p.verify_checksum(other, other), ChecksumStatus::Valid);
    // A v2 message summed with a pseudo-header, as if it were v3, is wrong.
    let mut with_pseudo = msg.clone();
    let len = u16::try_from(msg.len()).unwrap().to_be_bytes();
    let pseudo = [&SRC4.octets()[..], &DST4.octets(), &[0, 112], &len].concat();
    let sum = rfc1071(&[&pseudo, &msg[..6], &msg[8..]]);
    with_pseudo[6..8].copy_from_slice(&sum.to_be_bytes());
    let p = Packet::new_checked(&with_pseudo[..], AddressFamily::Ipv4).unwrap();
    assert_eq!(p.verify_checksum(src, dst), ChecksumStatus::Invalid);
}

#[test]
fn checksum_v3_ipv4_with_pseudo_header_is_valid() {
    let msg = emit(&v3_v4(), ChecksumMode::PseudoHeader);
    let rx = received(&msg, AddressFamily::Ipv4, 255);
    assert_eq!(rx.validate().unwrap().checksum, ChecksumStatus::Valid);
    // The pseudo-header binds the checksum to the addresses.
    let elsewhere = Received::from_ipv4_payload([198, 18, 0, 2].into(), DST4, 255, &msg);
    assert!(matches!(
        elsewhere.validate(),
        Err(WireError::BadChecksum { .. })
    ));
}

#[test]
fn checksum_v3_ipv4_without_pseudo_header_is_accepted_and_reported() {
    let msg = emit(&v3_v4(), ChecksumMode::MessageOnly);
    let ok = received(&msg, AddressFamily::Ipv4, 255).validate().unwrap();
    assert_eq!(ok.checksum, ChecksumStatus::ValidWithoutPseudoHeader);
    assert_eq!(ok.checksum.as_str(), "valid-without-pseudo-header");
    assert_eq!(Advertisement::from_packet(&ok.packet), v3_v4());
    // Message-only does not depend on the addresses.
    let elsewhere = Received::from_ipv4_payload([198, 18, 0, 2].into(), DST4, 255, &msg);
    assert_eq!(
        elsewhere.validate().unwrap().checksum,
        ChecksumStatus::ValidWithoutPseudoHeader
    );
}

#[test]
fn checksum_v3_ipv6_requires_the_pseudo_header() {
    let msg = emit(&v3_v6(), ChecksumMode::PseudoHeader);
    assert_eq!(
        received(&msg, AddressFamily::Ipv6, 255)
            .validate()
            .unwrap()
            .checksum,
        ChecksumStatus::Valid
    );
    // The mode does not apply to IPv6: the pseudo-header is mandatory.
    assert_eq!(emit(&v3_v6(), ChecksumMode::MessageOnly), msg);
    // A message-only sum over IPv6 is refused.
    let mut bare = msg.clone();
    let sum = message_only_checksum(&bare);
    bare[6..8].copy_from_slice(&sum.to_be_bytes());
    assert!(matches!(
        received(&bare, AddressFamily::Ipv6, 255).validate(),
        Err(WireError::BadChecksum { .. })
    ));
}

/// RFC 1071 over the message with its checksum field taken as zero.
fn message_only_checksum(msg: &[u8]) -> u16 {
    rfc1071(&[&msg[..6], &msg[8..]])
}

/// The RFC 1071 checksum of the concatenation of `parts` (each of even length
/// but the last), word by word: an independent reference for the codec's.
fn rfc1071(parts: &[&[u8]]) -> u16 {
    let bytes = parts.concat();
    let mut acc: u32 = 0;
    for pair in bytes.chunks(2) {
        acc += u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0));
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

#[test]
fn checksum_failing_both_forms_is_discarded() {
    for (adv, mode) in [
        (v3_v4(), ChecksumMode::PseudoHeader),
        (v3_v4(), ChecksumMode::MessageOnly),
        (v3_v6(), ChecksumMode::PseudoHeader),
        (v2(Auth::None), ChecksumMode::PseudoHeader),
    ] {
        let mut msg = emit(&adv, mode);
        msg[7] ^= 0x10;
        let found = u16::from_be_bytes([msg[6], msg[7]]);
        let rx = received(&msg, adv.family(), 255);
        assert_eq!(rx.validate(), Err(WireError::BadChecksum { found }));
        let (src, dst) = endpoints(adv.family());
        assert_eq!(
            rx.packet().unwrap().verify_checksum(src, dst),
            ChecksumStatus::Invalid
        );
    }
}

#[test]
fn checksum_transmit_form_defaults_to_pseudo_header() {
    assert_eq!(ChecksumMode::default(), ChecksumMode::PseudoHeader);
    let pseudo = emit(&v3_v4(), ChecksumMode::default());
    let bare = emit(&v3_v4(), ChecksumMode::MessageOnly);
    assert_ne!(pseudo, bare);
    assert_eq!(pseudo[..6], bare[..6]);
    assert_eq!(
        u16::from_be_bytes([bare[6], bare[7]]),
        message_only_checksum(&bare)
    );
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

// --- v2 authentication ---

#[test]
fn v2_auth_none_ignores_the_auth_data() {
    // keepalived sends 8 bytes of authentication data even for type 0; RFC
    // 3768 §5.3.10 says to ignore them.
    let mut msg = emit(&v2(Auth::None), ChecksumMode::PseudoHeader);
    let n = msg.len();
    msg[n - 8..].copy_from_slice(b"garbage!");
    fix_checksum(&mut msg, AddressFamily::Ipv4, ChecksumMode::PseudoHeader);
    let ok = received(&msg, AddressFamily::Ipv4, 255).validate().unwrap();
    assert_eq!(ok.packet.auth(), Some(Auth::None));
}

#[test]
fn v2_auth_none_accepts_a_missing_auth_data_trailer() {
    // Leniency: with type 0 the trailer carries nothing, so a sender that
    // omits (or truncates) it is accepted.
    let full = emit(&v2(Auth::None), ChecksumMode::PseudoHeader);
    for cut in 1..=8 {
        let mut msg = full[..full.len() - cut].to_vec();
        fix_checksum(&mut msg, AddressFamily::Ipv4, ChecksumMode::PseudoHeader);
        let ok = received(&msg, AddressFamily::Ipv4, 255).validate().unwrap();
        assert_eq!(Advertisement::from_packet(&ok.packet), v2(Auth::None));
    }
}

#[test]
fn v2_auth_simple_text_carries_the_password() {
    let auth = Auth::SimpleText(Password::new(b"s3cret").unwrap());
    let msg = emit(&v2(auth), ChecksumMode::PseudoHeader);
    assert_eq!(msg[4], 1);
    assert_eq!(&msg[msg.len() - 8..], b"s3cret\0\0");
    let ok = received(&msg, AddressFamily::Ipv4, 255).validate().unwrap();
    let Some(Auth::SimpleText(p)) = ok.packet.auth() else {
        panic!("expected simple text auth");
    };
    assert_eq!(p.as_bytes(), b"s3cret");
    assert_ne!(p, Password::new(b"s3cre").unwrap());
}

#[test]
fn v2_auth_simple_text_requires_the_auth_data() {
    let auth = Auth::SimpleText(Password::new(b"s3cret").unwrap());
    let full = emit(&v2(auth), ChecksumMode::PseudoHeader);
    for cut in 1..=8 {
        let msg = &full[..full.len() - cut];
        assert_eq!(
            Packet::new_checked(msg, AddressFamily::Ipv4),
            Err(WireError::LengthMismatch {
                count: 2,
                needed: full.len(),
                len: msg.len()
            })
        );
    }
}

#[test]
fn v2_auth_ip_ah_is_reported_unsupported() {
    let mut msg = emit(&v2(Auth::None), ChecksumMode::PseudoHeader);
    msg[4] = 2;
    let err = Packet::new_checked(&msg[..], AddressFamily::Ipv4).unwrap_err();
    assert_eq!(err, WireError::UnsupportedAuth(2));
    assert!(err.to_string().contains("IP Authentication Header"));
}

#[test]
fn v2_auth_unknown_types_are_unsupported() {
    let mut msg = emit(&v2(Auth::None), ChecksumMode::PseudoHeader);
    for ty in 3..=255u8 {
        msg[4] = ty;
        assert_eq!(
            Packet::new_checked(&msg[..], AddressFamily::Ipv4),
            Err(WireError::UnsupportedAuth(ty))
        );
    }
}
