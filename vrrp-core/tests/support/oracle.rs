//! The properties checked on every fuzz input. Shared, through `#[path]`, by
//! the fuzz targets (fuzz/fuzz_targets/{advert,ip_packet}.rs) and by
//! tests/fuzz_corpus.rs, so `cargo test` replays the corpus through exactly
//! what the fuzzer runs.
//!
//! Each entry goes through the codec's real receive entry point,
//! [`Received::validate`], and then cross-checks it against the individual
//! steps and a re-emit round trip.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_core::Version;
use vrrp_core::wire::{
    AddressFamily, Advertisement, Auth, ChecksumMode, ChecksumStatus, HEADER_LEN, Packet, Received,
    WireError,
};

/// Source and destination used for bare VRRP messages.
pub(crate) const V4_SRC: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
/// IPv4 VRRP group.
pub(crate) const V4_DST: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// A link-local source.
pub(crate) const V6_SRC: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
/// IPv6 VRRP group.
pub(crate) const V6_DST: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// The `advert` target. Byte 0 selects the IP layer the rest (a VRRP
/// message) arrived over: bit 0 the family (0 IPv4, 1 IPv6), bit 1 a TTL
/// of 254 instead of 255.
pub(crate) fn advert(data: &[u8]) {
    let Some((&select, message)) = data.split_first() else {
        return;
    };
    let ttl = if select & 2 == 0 { 255 } else { 254 };
    let rx = if select & 1 == 0 {
        Received::from_ipv4_payload(V4_SRC, V4_DST, ttl, message)
    } else {
        Received::from_ipv6_payload(V6_SRC, V6_DST, ttl, message)
    };
    check_received(&rx);
}

/// The `ip_packet` target: the input is a whole IPv4 or IPv6 packet.
pub(crate) fn ip_packet(data: &[u8]) {
    match Received::from_ip_packet(data) {
        Ok(rx) => {
            // The payload is a sub-slice that ends where the length field says.
            assert!(rx.payload().len() <= data.len());
            check_received(&rx);
        }
        Err(e) => assert!(!e.to_string().is_empty() && !e.code().is_empty()),
    }
}

/// Cross-checks `validate` against its parts, then round-trips the
/// advertisement through `emit` in both checksum modes.
pub(crate) fn check_received(rx: &Received<'_>) {
    let (src, dst, family) = (rx.src(), rx.dst(), rx.family());
    let validated = rx.validate();
    let packet = match rx.packet() {
        Ok(p) => p,
        Err(e) => {
            let expect = if rx.check_ttl().is_err() {
                WireError::BadTtl(rx.ttl_or_hop_limit())
            } else {
                e
            };
            assert_eq!(validated, Err(expect));
            return;
        }
    };
    let status = packet.verify_checksum(src, dst);
    match &validated {
        Ok(v) => {
            assert_eq!(rx.ttl_or_hop_limit(), 255);
            assert!(status.is_valid());
            assert_eq!(v.checksum, status);
            assert_eq!(v.packet, packet);
        }
        Err(WireError::BadTtl(ttl)) => assert_ne!(*ttl, 255),
        Err(WireError::BadChecksum { found }) => {
            assert_eq!(status, ChecksumStatus::Invalid);
            assert_eq!(*found, packet.checksum());
        }
        Err(e) => panic!("validate failed with {e} although the packet parses"),
    }
    if status == ChecksumStatus::ValidWithoutPseudoHeader {
        assert_eq!(
            (packet.version(), family),
            (Version::V3, AddressFamily::Ipv4)
        );
    }
    // keepalived's old unicast checksum: accepted only when the standard
    // forms fail, only for VRRPv3 over IPv4, and only with the group.
    let group = match family {
        AddressFamily::Ipv4 => std::net::IpAddr::V4(V4_DST),
        AddressFamily::Ipv6 => std::net::IpAddr::V6(V6_DST),
    };
    match rx.validate_unicast(Some(group)) {
        Ok(v) if v.checksum == ChecksumStatus::ValidWithGroupDestination => {
            assert!(!status.is_valid());
            assert_eq!(
                (packet.version(), family),
                (Version::V3, AddressFamily::Ipv4)
            );
            assert_eq!(packet.verify_checksum(src, group), ChecksumStatus::Valid);
        }
        Ok(v) => assert_eq!(v.checksum, status),
        Err(_) => assert!(!status.is_valid() || rx.packet().is_err()),
    }
    assert_eq!(
        rx.validate_unicast(None).map(|v| v.checksum),
        rx.validate_any_ttl().map(|v| v.checksum)
    );
    read_every_field(&packet);

    let adv = Advertisement::from_packet(&packet);
    assert_eq!(adv.addresses.len(), usize::from(packet.address_count()));
    assert!(adv.addresses.iter().eq(packet.addresses()));
    for mode in [ChecksumMode::PseudoHeader, ChecksumMode::MessageOnly] {
        let bytes = adv
            .to_bytes(src, dst, mode)
            .expect("whatever parses can be emitted");
        assert_eq!(bytes.len(), adv.buffer_len());
        let again = Packet::new_checked(&bytes[..], family).expect("emitted bytes parse");
        assert_eq!(Advertisement::from_packet(&again), adv);
        assert_eq!(again.reserved_bits(), 0);
        let expected = sent_form(&again, src, dst, mode);
        assert_eq!(again.verify_checksum(src, dst), expected);
        assert_eq!(
            again.compute_checksum(src, dst, mode),
            Some(again.checksum())
        );
        if status == expected && is_canonical(&packet, &adv) {
            // Re-emitting a canonical message gives it back, byte for byte
            // (the checksum may differ only between 0x0000 and 0xffff, the two
            // ones'-complement zeros).
            let msg = packet.as_bytes();
            assert_eq!(msg[..6], bytes[..6]);
            assert_eq!(msg[HEADER_LEN..], bytes[HEADER_LEN..]);
            let (a, b) = (packet.checksum(), again.checksum());
            assert!(
                a == b || (a | b == 0xffff && a & b == 0),
                "{a:#x} vs {b:#x}"
            );
        }
    }
}

/// The status a message sent in `mode` verifies with: `Valid`, except for
/// VRRPv3 over IPv4 sent without the pseudo-header. When the pseudo-header
/// sums to zero (possible for some address pairs) the two forms coincide and
/// the message verifies as `Valid` either way.
pub(crate) fn sent_form<T: AsRef<[u8]>>(
    p: &Packet<T>,
    src: IpAddr,
    dst: IpAddr,
    mode: ChecksumMode,
) -> ChecksumStatus {
    let forms_coincide = p.compute_checksum(src, dst, ChecksumMode::PseudoHeader)
        == p.compute_checksum(src, dst, ChecksumMode::MessageOnly);
    match (p.version(), p.family(), mode) {
        (Version::V3, AddressFamily::Ipv4, ChecksumMode::MessageOnly) if !forms_coincide => {
            ChecksumStatus::ValidWithoutPseudoHeader
        }
        _ => ChecksumStatus::Valid,
    }
}

/// A message that `emit` would reproduce exactly: no reserved bits, no
/// trailing bytes, and zero Authentication Data for VRRPv2 type 0.
fn is_canonical<T: AsRef<[u8]>>(packet: &Packet<T>, adv: &Advertisement) -> bool {
    let msg = packet.as_bytes();
    let zero_auth_data = match adv.version_fields.auth() {
        Some(Auth::None) => msg[msg.len().saturating_sub(8)..].iter().all(|&b| b == 0),
        _ => true,
    };
    packet.reserved_bits() == 0 && msg.len() == adv.buffer_len() && zero_auth_data
}

/// Every accessor, with the invariants that tie them together.
fn read_every_field<T: AsRef<[u8]>>(p: &Packet<T>) {
    let fields = p.version_fields();
    assert_eq!(p.version(), fields.version());
    assert_eq!(p.interval(), fields.interval());
    assert!(p.interval().get() > 0);
    assert_ne!(p.vrid().get(), 0);
    let _ = (p.priority().is_owner(), p.priority().is_shutdown());
    match p.version() {
        Version::V2 => {
            assert_eq!(p.family(), AddressFamily::Ipv4);
            assert!(p.adver_int().is_some() && p.max_adver_int().is_none());
            assert!(p.auth().is_some());
            assert_eq!(p.reserved_bits(), 0);
        }
        Version::V3 => {
            let max = p.max_adver_int().expect("v3 has Max Adver Int");
            assert!((1..=0x0fff).contains(&max.get()));
            assert!(p.adver_int().is_none() && p.auth().is_none());
            assert!(p.reserved_bits() < 16);
        }
    }
    let mut addrs = p.addresses();
    assert_eq!(addrs.len(), usize::from(p.address_count()));
    let family = p.family();
    assert!(addrs.all(|a| AddressFamily::of(a) == family));
    assert!(
        p.as_bytes().len() >= HEADER_LEN + usize::from(p.address_count()) * family.address_len()
    );
}
