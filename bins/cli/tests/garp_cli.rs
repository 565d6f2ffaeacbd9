//! The `garp` binary end to end, on a namespaced LAN: host `a` runs `garp`,
//! host `b` runs `garp --listen` and tcpdump, host `c` holds a stale
//! neighbour entry for the VIP at an old MAC that must move to the new one.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use vrrp_arp::{ArpMessage, ArpOperation, MacAddr};
use vrrp_testns::{ChildGuard, Lan, Netns, have_program, netns_available};
use vrrpd_cli::pcap::{LINKTYPE_ETHERNET, Pcap};

const GARP: &str = env!("CARGO_BIN_EXE_garp");
const OLD_MAC: &str = "02:00:00:00:00:01";
const VIP4: &str = "198.18.0.100";
const VIP6: &str = "fd00:198:18::100";
/// Generous for a loaded 2-core CI machine; only bounds a failure.
const PATIENCE: Duration = Duration::from_secs(10);

fn lan(tag: &str, v6: bool, vip: &str) -> Lan {
    let mut lan = Lan::new(tag);
    for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
        let addr = if v6 {
            format!("fd00:198:18::{}/64", i + 1)
        } else {
            format!("198.18.0.{}/24", i + 1)
        };
        lan.add_host(name, &[&addr]);
    }
    lan.hosts[2].ip(&[
        "neigh", "replace", vip, "lladdr", OLD_MAC, "dev", "eth0", "nud", "stale",
    ]);
    lan
}

/// Spawns `argv` in `ns` with piped output and waits for `ready` on its
/// stderr, which both `garp --listen` and tcpdump print once capturing.
fn spawn_ready(ns: &Netns, argv: &[&str], ready: &str) -> ChildGuard {
    let (program, args) = argv.split_first().unwrap();
    let mut child = ns
        .command(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains(ready));
    assert!(started, "{argv:?} never printed {ready:?}");
    thread::spawn(move || lines.for_each(drop));
    ChildGuard::new(child)
}

/// Waits for a child that exits on its own (`--count`, `-c`) and returns its stdout.
fn finish(mut guard: ChildGuard) -> String {
    let deadline = Instant::now() + PATIENCE;
    let child = guard.child();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exited with {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running: too few frames seen"
        );
        thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

fn garp(ns: &Netns, args: &[&str]) -> Output {
    ns.command(GARP).args(args).output().expect("run garp")
}

fn wait_for_neighbour(ns: &Netns, ip: &str, mac: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let entry = ns.ip(&["neigh", "show", ip, "dev", "eth0"]);
        if entry.contains(mac) || Instant::now() > deadline {
            return entry;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn garp_announces_ipv4_and_garp_listen_sees_it() {
    if !netns_available("garp_announces_ipv4_and_garp_listen_sees_it") {
        return;
    }
    assert!(have_program("tcpdump"), "needs tcpdump");
    let lan = lan("gc4", false, VIP4);
    let (a, b, c) = (&lan.hosts[0], &lan.hosts[1], &lan.hosts[2]);
    let vmac = MacAddr::vrrp_v4(51);
    let pcap_dir = tempfile::tempdir().unwrap();
    let pcap_path = pcap_dir.path().join("garp.pcap");
    let pcap_str = pcap_path.to_str().unwrap();

    let listener = spawn_ready(
        b,
        &[GARP, "--listen", "dev", "eth0", "--json", "--count", "3"],
        "listening on eth0",
    );
    let dump = spawn_ready(
        b,
        &[
            "tcpdump", "-i", "eth0", "-Z", "root", "-U", "-c", "3", "-w", pcap_str, "arp",
        ],
        "listening on eth0",
    );
    let vmac_s = vmac.to_string();
    let out = garp(
        a,
        &[
            VIP4,
            "dev",
            "eth0",
            "--count",
            "3",
            "--interval",
            "20",
            "--mac",
            &vmac_s,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("sent 3 gratuitous ARP requests for {VIP4} at {vmac} on eth0\n")
    );

    // garp --listen: one JSON object per announcement.
    let seen = finish(listener);
    let lines: Vec<serde_json::Value> = seen
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 3, "{seen}");
    for v in &lines {
        assert_eq!(v["type"], "arp");
        assert_eq!(v["operation"], "request");
        assert_eq!(v["ip"], VIP4);
        assert_eq!(v["mac"], vmac_s);
        assert_eq!(v["gratuitous"], true);
        assert_eq!(v["packet_type"], "broadcast");
    }

    // tcpdump's capture: exactly the frame the library builds, padded to 60.
    finish(dump);
    let bytes = std::fs::read(&pcap_path).unwrap();
    let pcap = Pcap::new(&bytes).unwrap();
    assert_eq!(pcap.link_type(), LINKTYPE_ETHERNET);
    let expected =
        ArpMessage::gratuitous(VIP4.parse().unwrap(), vmac, ArpOperation::Request).to_frame();
    let frames: Vec<_> = pcap.records().map(|r| r.unwrap().data.to_vec()).collect();
    assert_eq!(frames, vec![expected; 3]);

    let entry = wait_for_neighbour(c, VIP4, &vmac_s);
    assert!(
        entry.contains(&format!("lladdr {vmac}")),
        "c still has: {entry}"
    );
}

#[test]
fn garp_reply_form_is_sent_and_learnt() {
    if !netns_available("garp_reply_form_is_sent_and_learnt") {
        return;
    }
    let lan = lan("gcr", false, VIP4);
    let (a, b, c) = (&lan.hosts[0], &lan.hosts[1], &lan.hosts[2]);
    let listener = spawn_ready(
        b,
        &[GARP, "--listen", "dev", "eth0", "--count", "1"],
        "listening on eth0",
    );
    // Without --mac: the interface's own address.
    let mac = a.ip(&["-br", "link", "show", "eth0"]);
    let mac = mac.split_whitespace().nth(2).expect("MAC in `ip -br link`");
    let out = garp(a, &[VIP4, "dev", "eth0", "--reply", "--count", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = finish(listener);
    assert_eq!(
        seen.trim(),
        format!("arp-reply {VIP4} is-at {mac} target {VIP4} eth-src {mac} broadcast")
    );
    let entry = wait_for_neighbour(c, VIP4, mac);
    assert!(
        entry.contains(&format!("lladdr {mac}")),
        "c still has: {entry}"
    );
}

#[test]
fn garp_announces_ipv6_with_a_neighbor_advertisement() {
    if !netns_available("garp_announces_ipv6_with_a_neighbor_advertisement") {
        return;
    }
    let lan = lan("gc6", true, VIP6);
    let (a, b, c) = (&lan.hosts[0], &lan.hosts[1], &lan.hosts[2]);
    let vmac = MacAddr::vrrp_v6(51).to_string();
    let listener = spawn_ready(
        b,
        &[GARP, "--listen", "dev", "eth0", "--json", "--count", "2"],
        "listening on eth0",
    );
    // Right after link up the link-local is tentative; garp waits out DAD.
    let out = garp(
        a,
        &[
            VIP6, "dev", "eth0", "--count", "2", "--router", "--mac", &vmac,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link_local = a.ip(&["-6", "-br", "addr", "show", "eth0", "scope", "link"]);
    let link_local = link_local
        .split_whitespace()
        .find_map(|w| w.strip_suffix("/64"))
        .expect("link-local address");

    let seen = finish(listener);
    let lines: Vec<serde_json::Value> = seen
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{seen}");
    for v in &lines {
        assert_eq!(v["type"], "na");
        assert_eq!(v["ip"], VIP6);
        assert_eq!(v["mac"], vmac);
        assert_eq!(v["source"], link_local);
        assert_eq!(v["destination"], "ff02::1");
        assert_eq!(v["router"], true);
        assert_eq!(v["solicited"], false);
        assert_eq!(v["override"], true);
        assert_eq!(v["eth_dst"], "33:33:00:00:00:01");
    }
    let entry = wait_for_neighbour(c, VIP6, &vmac);
    assert!(
        entry.contains(&format!("lladdr {vmac}")),
        "c still has: {entry}"
    );
}

#[test]
fn bad_invocations_fail_with_a_message() {
    let run = |args: &[&str]| Command::new(GARP).args(args).output().expect("run garp");
    for (args, code, needle) in [
        (&["198.18.0.5"][..], 2, "expected `ADDR dev IFACE`"),
        (&["--listen", "dev"][..], 2, "expected `--listen dev IFACE`"),
        (
            &["198.18.0.300", "dev", "eth0"][..],
            2,
            "not an IPv4 or IPv6 address",
        ),
        (
            &["198.18.0.5", "dev", "eth0", "--mac", "00:11"][..],
            2,
            "not a MAC address",
        ),
        (
            &["198.18.0.5", "dev", "eth0", "--interval", "1.5"][..],
            2,
            "milliseconds",
        ),
        (&["--json", "dev", "eth0"][..], 2, "--listen"),
        (
            &["--listen", "dev", "eth0", "--reply"][..],
            2,
            "cannot be used with",
        ),
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn runtime_errors_name_the_problem() {
    if !netns_available("runtime_errors_name_the_problem") {
        return;
    }
    let ns = Netns::new("gce");
    let cases: [(&[&str], &str); 3] = [
        (
            &["198.18.0.5", "dev", "nosuch0"],
            "no interface named \"nosuch0\"",
        ),
        (&["198.18.0.5", "dev", "lo"], "is not Ethernet"),
        (
            &["fd00:198:18::5", "dev", "eth0", "--reply"],
            "--reply applies to IPv4 only",
        ),
    ];
    ns.ip(&[
        "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ]);
    for (args, needle) in cases {
        let out = garp(&ns, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
