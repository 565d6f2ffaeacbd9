//! Every VRRP packet in the keepalived 2.2.7 captures (testdata/keepalived,
//! see its README) decodes with the expected fields and a valid checksum,
//! through the `vrrpd_cli::decode` library and through the `vrrpctl decode`
//! binary. keepalived's VRRPv3-over-IPv4 checksum includes the pseudo-header,
//! so it must verify as `valid`, not `valid-without-pseudo-header`.

use std::net::IpAddr;
use std::process::Command;

use serde_json::Value;
use vrrpd_cli::decode::{PacketReport, decode_pcap};
use vrrpd_cli::pcap::{ETHERTYPE_IPV4, ETHERTYPE_IPV6, EthernetFrame, Pcap};

fn capture_path(name: &str) -> String {
    format!(
        "{}/../../testdata/keepalived/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn capture(name: &str) -> Vec<u8> {
    let path = capture_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Frames whose IP protocol / next header is 112, counted without the
/// decoder, so a VRRP packet wrongly skipped would show.
fn count_vrrp_frames(file: &[u8]) -> usize {
    Pcap::new(file)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .filter_map(|r| EthernetFrame::parse(r.data))
        .filter(|f| match f.ethertype {
            ETHERTYPE_IPV4 => f.payload.get(9) == Some(&112),
            ETHERTYPE_IPV6 => f.payload.get(6) == Some(&112),
            _ => false,
        })
        .count()
}

struct Expected {
    file: &'static str,
    version: u8,
    interval: (u16, &'static str, u64),
    src: &'static str,
    dst: &'static str,
    vip: &'static str,
    password: Option<&'static str>,
}

const CAPTURES: [Expected; 3] = [
    Expected {
        file: "keepalived-v2-ipv4-auth.pcap",
        version: 2,
        interval: (1, "s", 1000),
        src: "198.18.0.1",
        dst: "224.0.0.18",
        vip: "198.18.0.100",
        password: Some("s3cret"),
    },
    Expected {
        file: "keepalived-v3-ipv4.pcap",
        version: 3,
        interval: (50, "cs", 500),
        src: "198.18.0.1",
        dst: "224.0.0.18",
        vip: "198.18.0.100",
        password: None,
    },
    Expected {
        file: "keepalived-v3-ipv6.pcap",
        version: 3,
        interval: (50, "cs", 500),
        src: "fe80::88b0:fcff:feb7:59cb",
        dst: "ff02::12",
        vip: "fd00:198:18::100",
        password: None,
    },
];

fn check_report(r: &PacketReport, want: &Expected) {
    assert!(r.ok, "{}: {r:?}", want.file);
    assert!(r.errors.is_empty());
    assert_eq!(r.src, Some(want.src.parse::<IpAddr>().unwrap()));
    assert_eq!(r.dst, Some(want.dst.parse::<IpAddr>().unwrap()));
    assert_eq!(r.ttl, Some(255));
    let a = r.advertisement.as_ref().expect("fields");
    assert_eq!(a.version, want.version);
    assert_eq!(a.vrid, 51);
    assert_eq!(a.priority, 150);
    assert_eq!(a.count, 1);
    assert_eq!(a.addresses, [want.vip.parse::<IpAddr>().unwrap()]);
    let (value, unit, ms) = want.interval;
    assert_eq!(
        (a.interval.value, a.interval.unit, a.interval.ms),
        (value, unit, ms)
    );
    match want.password {
        Some(pw) => {
            let auth = a.auth.as_ref().expect("v2 has auth");
            assert_eq!((auth.auth_type, auth.name), (1, "simple-text"));
            assert_eq!(auth.password.as_deref(), Some(pw));
        }
        None => assert_eq!(a.auth, None),
    }
    let c = r.checksum.as_ref().expect("checksum");
    assert_eq!(c.status, "valid");
    assert_eq!(c.expected, None);
}

#[test]
fn every_vrrp_packet_in_the_keepalived_captures_decodes_and_verifies() {
    for want in &CAPTURES {
        let file = capture(want.file);
        let decoded = decode_pcap(&file).unwrap();
        assert!(decoded.all_ok(), "{}", want.file);
        let s = &decoded.summary;
        assert_eq!(s.vrrp, count_vrrp_frames(&file), "{}", want.file);
        assert!(s.vrrp >= 4, "{}: only {} adverts", want.file, s.vrrp);
        assert_eq!((s.valid, s.invalid, s.error.as_deref()), (s.vrrp, 0, None));
        assert_eq!(s.frames, s.vrrp + s.skipped);
        assert_eq!(s.skipped, s.skipped_by_kind.values().sum::<usize>());
        // The README: besides VRRP, only ARP and neighbor/router discovery.
        assert!(s.skipped > 0);
        assert!(
            s.skipped_by_kind
                .keys()
                .all(|k| k == "arp" || k.starts_with("icmpv6 ")),
            "{}: {:?}",
            want.file,
            s.skipped_by_kind
        );
        for r in &decoded.reports {
            check_report(r, want);
        }
        // The advertisements are spaced by the interval they announce.
        let times: Vec<f64> = decoded.reports.iter().map(|r| r.time.unwrap()).collect();
        let interval_s = want.interval.2 as f64 / 1000.0;
        for gap in times.windows(2).map(|w| w[1] - w[0]) {
            assert!(
                (gap - interval_s).abs() < interval_s * 0.2,
                "{}: gap {gap}",
                want.file
            );
        }
    }
}

#[test]
fn vrrpctl_decode_pcap_prints_one_json_object_per_advert_and_exits_0() {
    for want in &CAPTURES {
        let out = Command::new(env!("CARGO_BIN_EXE_vrrpctl"))
            .args(["decode", "--pcap", &capture_path(want.file)])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}: {out:?}", want.file);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), count_vrrp_frames(&capture(want.file)));
        for v in &lines {
            assert_eq!(v["ok"], true);
            assert_eq!(v["version"], want.version);
            assert_eq!(v["type"], "advertisement");
            assert_eq!(v["vrid"], 51);
            assert_eq!(v["priority"], 150);
            assert_eq!(v["src"], want.src);
            assert_eq!(v["dst"], want.dst);
            assert_eq!(v["ttl"], 255);
            assert_eq!(v["addresses"], serde_json::json!([want.vip]));
            assert_eq!(v["interval"]["value"], want.interval.0);
            assert_eq!(v["interval"]["unit"], want.interval.1);
            assert_eq!(v["interval"]["ms"], want.interval.2);
            assert_eq!(v["checksum"]["status"], "valid");
            assert!(v["frame"].as_u64().unwrap() >= 1);
            match want.password {
                Some(pw) => assert_eq!(v["auth"]["password"], pw),
                None => assert!(v.get("auth").is_none()),
            }
        }
        let summary: Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(summary["summary"]["vrrp"], lines.len());
        assert_eq!(summary["summary"]["invalid"], 0);
        assert!(summary["summary"]["skipped"].as_u64().unwrap() > 0);
    }
}
