//! Hostile advertisements, crafted by the test and injected from the
//! client's namespace as raw Ethernet frames: the daemons keep running, the
//! election is unaffected (except where the RFC says to react), the right
//! counter in the stats rises, and a flood does not flood the log.

mod e2e_support;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use e2e_support::{CLIENT, H1, H2, Lab, Variant, wait_for};
use vrrp_arp::AnnounceSocket;
use vrrp_core::wire::{AddressList, Advertisement, ChecksumMode, MULTICAST_V4, VersionFields};
use vrrp_core::{MaxAdverInt, Priority, Vrid};
use vrrpd::control::{Request, Response};

const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 10);
const H1_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const VIP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 100);

/// A valid VRRPv3 advertisement for VRID 51 at `priority`, from `src`.
fn advert(priority: u8, vrid: u8, src: Ipv4Addr) -> Vec<u8> {
    advert_listing(priority, vrid, src, vec![VIP])
}

/// A VRRPv3 advertisement listing `addresses`.
fn advert_listing(priority: u8, vrid: u8, src: Ipv4Addr, addresses: Vec<Ipv4Addr>) -> Vec<u8> {
    Advertisement {
        vrid: Vrid::new(vrid).unwrap(),
        priority: Priority::new(priority),
        version_fields: VersionFields::V3 {
            max_adver_int: MaxAdverInt::new(10).unwrap(),
        },
        addresses: AddressList::V4(addresses),
    }
    .to_bytes(src.into(), MULTICAST_V4.into(), ChecksumMode::default())
    .unwrap()
}

/// Recomputes the VRRPv3/IPv4 checksum (pseudo-header) after a mutation.
fn fix_checksum(msg: &mut [u8], src: Ipv4Addr) {
    msg[6] = 0;
    msg[7] = 0;
    let mut sum: u32 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
    };
    add(&src.octets());
    add(&MULTICAST_V4.octets());
    add(&[0, 112]);
    add(&(msg.len() as u16).to_be_bytes());
    add(msg);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let c = !(sum as u16);
    msg[6..8].copy_from_slice(&c.to_be_bytes());
}

/// An Ethernet frame carrying an IPv4 packet to 224.0.0.18.
fn frame(src_mac: [u8; 6], src: Ipv4Addr, ttl: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x01, 0x00, 0x5e, 0x00, 0x00, 0x12];
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + payload.len()) as u16;
    let mut ip = vec![0x45, 0xc0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0, 0, ttl, 112, 0, 0]);
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&MULTICAST_V4.octets());
    let mut sum: u32 = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(payload);
    while f.len() < 60 {
        f.push(0);
    }
    f
}

/// Sends `frames` from the client's eth0.
fn inject(lab: &Lab, frames: Vec<Vec<u8>>) {
    lab.host(CLIENT).run_in(move || {
        let sock = AnnounceSocket::open_by_name("eth0").unwrap();
        for f in &frames {
            // A flood may briefly fill the socket buffer; retry.
            while let Err(e) = sock.send_frame(f) {
                if e.raw_os_error() != Some(libc::ENOBUFS) {
                    panic!("send: {e}");
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    });
}

fn stats(lab: &Lab, idx: usize) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let path = lab.host_dir(idx).join("ctl.sock");
    match vrrpd::control::request(&path, &Request::Stats, Duration::from_secs(5)) {
        Ok(Response::Stats { global, instances }) => {
            let mut inst = BTreeMap::new();
            for i in instances {
                for (k, v) in i.counters.into_iter().chain(i.discards) {
                    *inst.entry(k).or_default() += v;
                }
            }
            (global, inst)
        }
        other => panic!("stats from h{}: {other:?}", idx + 1),
    }
}

/// The total of `keys` across the global and instance counters of h1.
fn total(lab: &Lab, keys: &[&str]) -> u64 {
    let (global, inst) = stats(lab, H1);
    keys.iter()
        .map(|k| global.get(*k).copied().unwrap_or(0) + inst.get(*k).copied().unwrap_or(0))
        .sum()
}

fn mac(lab: &Lab) -> [u8; 6] {
    let text = lab.mac(CLIENT);
    let mut out = [0u8; 6];
    for (o, part) in out.iter_mut().zip(text.split(':')) {
        *o = u8::from_str_radix(part, 16).unwrap();
    }
    out
}

#[test]
fn hostile_advertisements_are_counted_and_change_nothing() {
    if !vrrp_testns::netns_available("hostile_advertisements_are_counted_and_change_nothing") {
        return;
    }
    let v = Variant::V3_IPV4;
    let lab = Lab::new("hostile", v);
    let c1 = lab.write_config(H1, 200, "");
    let c2 = lab.write_config(H2, 100, "");
    let mut h1 = lab.start(H1, &c1);
    let mut h2 = lab.start(H2, &c2);
    let settle = v.master_down(100) * 3 + Duration::from_secs(2);
    assert!(
        wait_for(settle, || lab.has_vip(H1)).is_some(),
        "h1 never Active"
    );
    let src_mac = mac(&lab);

    let valid = advert(100, 51, CLIENT_IP);
    let mut bad_sum = valid.clone();
    bad_sum[7] ^= 0x55;
    let mut v4 = valid.clone();
    v4[0] = 0x41;
    fix_checksum(&mut v4, CLIENT_IP);
    let mut type2 = valid.clone();
    type2[0] = 0x32;
    fix_checksum(&mut type2, CLIENT_IP);
    let mut vrid0 = valid.clone();
    vrid0[1] = 0;
    fix_checksum(&mut vrid0, CLIENT_IP);
    let mut lying_count = valid.clone();
    lying_count[3] = 9;
    fix_checksum(&mut lying_count, CLIENT_IP);
    let own = advert(100, 51, H1_IP);
    // Both at a higher priority than h1's: before, each made h1 step down.
    let count_zero = advert_listing(250, 51, CLIENT_IP, vec![]);
    let unspecified = Ipv4Addr::UNSPECIFIED;
    let class_e = Ipv4Addr::new(240, 0, 0, 1);
    let subnet_broadcast = Ipv4Addr::new(198, 18, 0, 255);

    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "TTL 254",
            frame(src_mac, CLIENT_IP, 254, &valid),
            &["bad_ttl", "ip_ttl_errors"],
        ),
        (
            "wrong checksum",
            frame(src_mac, CLIENT_IP, 255, &bad_sum),
            &["bad_checksum", "checksum_errors"],
        ),
        (
            "truncated header",
            frame(src_mac, CLIENT_IP, 255, &valid[..5]),
            &["truncated", "packet_length_errors"],
        ),
        (
            "count beyond the packet",
            frame(src_mac, CLIENT_IP, 255, &lying_count),
            &["length_mismatch", "packet_length_errors"],
        ),
        (
            "version 4",
            frame(src_mac, CLIENT_IP, 255, &v4),
            &["bad_version", "version_errors"],
        ),
        (
            "type 2",
            frame(src_mac, CLIENT_IP, 255, &type2),
            &["bad_type", "invalid_type_pkts_rcvd"],
        ),
        (
            "VRID 0",
            frame(src_mac, CLIENT_IP, 255, &vrid0),
            &["zero_vrid", "vrid_mismatch", "vrid_errors"],
        ),
        (
            "foreign VRID",
            frame(src_mac, CLIENT_IP, 255, &advert(100, 77, CLIENT_IP)),
            &["vrid_mismatch", "vrid_errors"],
        ),
        (
            "count 0 (RFC 9568 §5.2.5)",
            frame(src_mac, CLIENT_IP, 255, &count_zero),
            &["no_addresses"],
        ),
        (
            "source 0.0.0.0",
            frame(src_mac, unspecified, 255, &advert(250, 51, unspecified)),
            &["bogus_source"],
        ),
        (
            "source 240.0.0.1",
            frame(src_mac, class_e, 255, &advert(250, 51, class_e)),
            &["bogus_source"],
        ),
        (
            "source 198.18.0.255 (the subnet's broadcast)",
            frame(
                src_mac,
                subnet_broadcast,
                255,
                &advert(250, 51, subnet_broadcast),
            ),
            &["bogus_source"],
        ),
    ];
    for (name, f, keys) in cases {
        let before = total(&lab, keys);
        inject(&lab, vec![f; 3]);
        let counted = wait_for(Duration::from_secs(3), || total(&lab, keys) >= before + 3);
        if counted.is_none() {
            lab.dump_logs();
            panic!(
                "{name}: {keys:?} went from {before} to {}",
                total(&lab, keys)
            );
        }
        assert!(lab.has_vip(H1) && !lab.has_vip(H2), "{name} moved the VIP");
    }

    // Our own primary address as the source: Linux drops such a packet as a
    // martian before any socket sees it (the state machine's own check,
    // Discard::OwnAddress, is tested in vrrp-core). Nothing may change.
    let received_before = total(&lab, &["advertisement_rcvd"]);
    inject(&lab, vec![frame(src_mac, H1_IP, 255, &own); 3]);
    std::thread::sleep(v.interval_dur * 3);
    assert!(
        lab.has_vip(H1) && !lab.has_vip(H2),
        "a spoof of h1 moved the VIP"
    );
    assert_eq!(
        total(&lab, &["advertisement_rcvd", "own_address"]),
        received_before,
        "h1 received its own spoofed address"
    );

    // Priority 255 from a non-owner: the RFC says yield (the sender claims
    // to own the addresses); once it goes quiet, h1 takes back over.
    inject(
        &lab,
        vec![frame(src_mac, CLIENT_IP, 255, &advert(255, 51, CLIENT_IP))],
    );
    let recovered = wait_for(v.master_down(200) * 3 + Duration::from_secs(1), || {
        lab.has_vip(H1) && !lab.has_vip(H2)
    });
    assert!(
        recovered.is_some(),
        "h1 did not recover after a spoofed owner went quiet"
    );

    // Priority-0 adverts from a stranger: each asks h1 for an advert at once
    // (RFC 9568 §6.4.3), so a flood of them must be coalesced, not
    // reflected one for one.
    let rcvd_before = total(&lab, &["priority_zero_pkts_rcvd"]);
    let sent_before = total(&lab, &["advertisement_sent"]);
    inject(
        &lab,
        vec![frame(src_mac, CLIENT_IP, 255, &advert(0, 51, CLIENT_IP)); 5_000],
    );
    std::thread::sleep(v.interval_dur * 2);
    let rcvd = total(&lab, &["priority_zero_pkts_rcvd"]) - rcvd_before;
    let sent = total(&lab, &["advertisement_sent"]) - sent_before;
    eprintln!("priority-0 flood: {rcvd} received, {sent} adverts sent");
    assert!(rcvd >= 1_000, "only {rcvd} of 5000 priority-0 adverts seen");
    assert!(
        sent * 10 < rcvd,
        "{sent} adverts sent for {rcvd} priority-0 adverts"
    );
    assert!(
        lab.has_vip(H1) && !lab.has_vip(H2),
        "the priority-0 flood moved the VIP"
    );

    // A flood: 100,000 bad packets. The daemons live, nothing moves, and the
    // log grows by a bounded number of lines.
    let log_before = lab.log(H1).lines().count();
    let flood = frame(src_mac, CLIENT_IP, 254, &valid);
    let before = total(&lab, &["ip_ttl_errors"]);
    inject(&lab, vec![flood; 100_000]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        h1.child().try_wait().unwrap().is_none(),
        "h1 died in the flood"
    );
    assert!(
        h2.child().try_wait().unwrap().is_none(),
        "h2 died in the flood"
    );
    assert!(
        lab.has_vip(H1) && !lab.has_vip(H2),
        "the flood moved the VIP"
    );
    let counted = total(&lab, &["ip_ttl_errors"]) - before;
    eprintln!("flood: {counted} of 100000 counted by h1");
    assert!(counted >= 1_000, "only {counted} of 100000 counted");
    let grew = lab.log(H1).lines().count() - log_before;
    assert!(
        grew < 1_000,
        "the log grew by {grew} lines during the flood"
    );
}
