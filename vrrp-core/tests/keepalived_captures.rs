//! Interop at the state-machine level: the real keepalived 2.2.7 captures in
//! testdata/keepalived are replayed, with their own timestamps as virtual
//! time, into a VirtualRouter configured as keepalived's peer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use vrrp_core::router::{Config, Output, Reason, State, VirtualRouter};
use vrrp_core::wire::{Auth, Password, Received};
use vrrp_core::{Centiseconds, Priority, Version, Vrid};

fn capture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/keepalived")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The VRRP packets of a little-endian microsecond pcap of Ethernet frames:
/// (time since the first record, IP packet).
fn vrrp_packets(pcap: &[u8]) -> Vec<(Duration, Vec<u8>)> {
    assert_eq!(
        &pcap[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian µs pcap"
    );
    let mut out = Vec::new();
    let mut at = 24;
    let mut first = None;
    while at + 16 <= pcap.len() {
        let word = |o: usize| u32::from_le_bytes(pcap[at + o..at + o + 4].try_into().unwrap());
        let t = Duration::from_secs(word(0).into()) + Duration::from_micros(word(4).into());
        let len = word(8) as usize;
        let frame = &pcap[at + 16..at + 16 + len];
        at += 16 + len;
        let first = *first.get_or_insert(t);
        let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
        let ip = &frame[14..];
        let is_vrrp = match ethertype {
            0x0800 => ip[9] == 112,
            0x86dd => ip[6] == 112,
            _ => false,
        };
        if is_vrrp {
            out.push((t - first, ip.to_vec()));
        }
    }
    out
}

fn peer_config(version: Version, v6: bool, interval_cs: u32, priority: u8) -> Config {
    let (primary, vip): (IpAddr, IpAddr) = if v6 {
        (
            Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2).into(),
            Ipv6Addr::new(0xfd00, 0x198, 0x18, 0, 0, 0, 0, 0x100).into(),
        )
    } else {
        (
            Ipv4Addr::new(198, 18, 0, 2).into(),
            Ipv4Addr::new(198, 18, 0, 100).into(),
        )
    };
    let mut c = Config::new(Vrid::new(51).unwrap(), primary, vec![vip]);
    c.version = version;
    c.priority = Priority::new(priority);
    c.advert_interval = Centiseconds::new(interval_cs);
    c
}

/// Replays `name` into a Backup at priority 100: every advertisement is
/// accepted, the router stays Backup while they flow, and takes over one
/// Master_Down_Interval after the last.
fn backup_follows(name: &str, config: Config) {
    let packets = vrrp_packets(&capture(name));
    assert!(packets.len() >= 3, "{name}: {} VRRP packets", packets.len());
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(config).unwrap();
    r.startup(t0);
    while r.poll_output().is_some() {}
    let mut last = t0;
    for (offset, ip) in &packets {
        let now = t0 + *offset;
        r.handle_timeout(now);
        let rx = Received::from_ip_packet(ip).unwrap();
        assert_eq!(
            r.handle_advertisement(now, &rx),
            Ok(()),
            "{name} at {offset:?}"
        );
        assert_eq!(r.state(), State::Backup, "{name} at {offset:?}");
        assert_eq!(r.active_router(), Some(rx.src()));
        last = now;
    }
    assert_eq!(r.stats().advertisement_rcvd, packets.len() as u64);
    assert_eq!(r.stats().address_list_errors, 0, "{name}");
    let down = last + r.master_down_interval();
    r.handle_timeout(down - Duration::from_micros(1));
    assert_eq!(r.state(), State::Backup);
    r.handle_timeout(down);
    assert_eq!(r.state(), State::Active);
    let outs: Vec<_> = std::iter::from_fn(|| r.poll_output()).collect();
    assert!(outs.contains(&Output::StateChanged {
        from: State::Backup,
        to: State::Active,
        reason: Reason::MasterDown
    }));
}

#[test]
fn keepalived_v2_ipv4_auth_capture_drives_a_backup() {
    let mut c = peer_config(Version::V2, false, 100, 100);
    c.auth = Auth::SimpleText(Password::new(b"s3cret").unwrap());
    backup_follows("keepalived-v2-ipv4-auth.pcap", c);
}

#[test]
fn keepalived_v2_capture_with_the_wrong_password_is_refused() {
    let packets = vrrp_packets(&capture("keepalived-v2-ipv4-auth.pcap"));
    let mut c = peer_config(Version::V2, false, 100, 100);
    c.auth = Auth::SimpleText(Password::new(b"wrong").unwrap());
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(c).unwrap();
    r.startup(t0);
    for (offset, ip) in &packets {
        let rx = Received::from_ip_packet(ip).unwrap();
        assert!(r.handle_advertisement(t0 + *offset, &rx).is_err());
    }
    assert_eq!(r.stats().auth_failures, packets.len() as u64);
}

#[test]
fn keepalived_v3_ipv4_capture_drives_a_backup_and_teaches_it_50cs() {
    // Our configured interval is 1 s; keepalived's 50 cs is learned.
    backup_follows(
        "keepalived-v3-ipv4.pcap",
        peer_config(Version::V3, false, 100, 100),
    );
}

#[test]
fn keepalived_v3_ipv6_capture_drives_a_backup() {
    backup_follows(
        "keepalived-v3-ipv6.pcap",
        peer_config(Version::V3, true, 50, 100),
    );
}

#[test]
fn keepalived_capture_does_not_hold_off_a_higher_priority_router() {
    // At priority 200 with preempt on, keepalived's priority-150 adverts
    // neither reset our Master_Down_Timer as Backup nor move us as Active.
    let packets = vrrp_packets(&capture("keepalived-v3-ipv4.pcap"));
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(peer_config(Version::V3, false, 50, 200)).unwrap();
    r.startup(t0);
    let down = t0 + r.master_down_interval();
    let (first, ip) = &packets[0];
    let rx = Received::from_ip_packet(ip).unwrap();
    assert_eq!(r.handle_advertisement(t0 + *first, &rx), Ok(()));
    assert_eq!(r.poll_timeout(), Some(down), "timer not reset");
    r.handle_timeout(down);
    assert_eq!(r.state(), State::Active);
    for (offset, ip) in &packets {
        let rx = Received::from_ip_packet(ip).unwrap();
        assert_eq!(r.handle_advertisement(down + *offset, &rx), Ok(()));
        assert_eq!(r.state(), State::Active);
    }
}
