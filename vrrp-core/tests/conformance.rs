//! The codec-level items of the receive-validation checklist (DESIGN.md §3,
//! RFC 3768 §7.1, RFC 9568 §7.1), one test per item, named after it.
//! Items that need the local configuration (VRID configured, version, v2
//! password and interval, address list) belong to the state machine.
//!
//! The tests are grouped by topic in the modules below (files in
//! `conformance/`); the helpers here build and frame the messages they
//! check.

#[path = "conformance/checksum.rs"]
mod checksum;
#[path = "conformance/framing.rs"]
mod framing;
#[path = "conformance/header.rs"]
mod header;
#[path = "conformance/v2_auth.rs"]
mod v2_auth;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_core::wire::{
    AddressFamily, AddressList, Advertisement, Auth, ChecksumMode, Packet, Received, VersionFields,
};
use vrrp_core::{AdverIntSeconds, MaxAdverInt, Priority, Vrid};

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
