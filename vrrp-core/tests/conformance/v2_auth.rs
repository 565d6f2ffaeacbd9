//! VRRPv2 authentication (RFC 3768 §5.3.6, §5.3.10): none, simple text,
//! and the types that are not supported.

use crate::{emit, fix_checksum, received, v2};
use vrrp_core::wire::{
    AddressFamily, Advertisement, Auth, ChecksumMode, Packet, Password, WireError,
};

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
