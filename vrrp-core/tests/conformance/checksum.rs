//! The checksum: v2 over the message only, v3 with the pseudo-header
//! (and, over IPv4, without it), and what fails both forms.

use std::net::IpAddr;

use crate::{DST4, SRC4, emit, endpoints, received, v2, v3_v4, v3_v6};
use vrrp_core::wire::{
    AddressFamily, Advertisement, Auth, ChecksumMode, ChecksumStatus, Packet, Received, WireError,
};

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
