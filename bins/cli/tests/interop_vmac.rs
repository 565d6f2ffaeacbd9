//! Virtual MAC against every kind of peer (RFC 9568 §7.2): vrrpd with
//! `vmac` must hear a peer's adverts whatever MAC they leave from, and
//! send its own from the virtual MAC (or from the parent's with
//! `xmit_base`, keepalived's `vmac_xmit_base`).
//!
//! Each scenario runs two routers on a bridge with a client, v3 at
//! 100 ms, IPv4 and IPv6: h1 at priority 200, h2 at 100. It checks, after
//! the start, a crash of h1 (kill -9 and link down), h1's restart (it
//! preempts back) and a clean stop of h1:
//! - exactly one host holds the VIP, over three Master_Down_Intervals;
//! - every advert on the wire comes from one router, from the MAC its
//!   configuration says;
//! - the client reaches the VIP, through the MAC the Active's VIP has.
//!
//! Before the fix, vrrpd's private-mode macvlan swallowed the adverts of a
//! peer sending from the same virtual MAC, and both routers stayed Active.
//!
//! Network safety: everything runs in namespaces created here (removed on
//! drop), with 198.18.0.0/15 and fd00:198:18::/48 only.

mod e2e_support;
mod interop_support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use e2e_support::{CLIENT, H1, H2, Lab, Variant, kill, wait_for};
use interop_support::{keepalived_conf_with, keepalived_log, keepalived_version, start_keepalived};
use vrrp_testns::ChildGuard;

/// One router of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Router {
    /// vrrpd; `vmac` on or off, and `xmit_base` with it.
    Vrrpd { vmac: bool, xmit_base: bool },
    /// keepalived with `use_vmac`, and `vmac_xmit_base` or not.
    Keepalived { xmit_base: bool },
}

const VRRPD_VMAC: Router = Router::Vrrpd {
    vmac: true,
    xmit_base: false,
};
const VRRPD_VMAC_XMIT_BASE: Router = Router::Vrrpd {
    vmac: true,
    xmit_base: true,
};
const VRRPD_PLAIN: Router = Router::Vrrpd {
    vmac: false,
    xmit_base: false,
};
const KEEPALIVED_VMAC: Router = Router::Keepalived { xmit_base: false };
const KEEPALIVED_VMAC_XMIT_BASE: Router = Router::Keepalived { xmit_base: true };

/// The virtual MAC of VRID 51 for `variant`.
fn virtual_mac(variant: Variant) -> &'static str {
    if variant.ipv6 {
        "00:00:5e:00:02:33"
    } else {
        "00:00:5e:00:01:33"
    }
}

impl Router {
    /// Starts the router in host `idx` at `priority`.
    fn start(self, lab: &Lab, idx: usize, priority: u8) -> ChildGuard {
        match self {
            Router::Vrrpd { vmac, xmit_base } => {
                let extra = match (vmac, xmit_base) {
                    (false, _) => "",
                    (true, false) => "vmac = true",
                    (true, true) => "vmac = { xmit_base = true }",
                };
                let config = lab.write_config(idx, priority, extra);
                lab.start(idx, &config)
            }
            Router::Keepalived { xmit_base } => {
                let extra = if xmit_base {
                    "use_vmac\nvmac_xmit_base"
                } else {
                    "use_vmac"
                };
                let conf = keepalived_conf_with(lab, idx, priority, None, extra);
                start_keepalived(lab, idx, &conf)
            }
        }
    }

    /// The source MAC of its adverts, in host `idx`.
    fn advert_mac(self, lab: &Lab, idx: usize) -> String {
        match self {
            Router::Vrrpd {
                vmac: true,
                xmit_base: false,
            }
            | Router::Keepalived { xmit_base: false } => virtual_mac(lab.variant).to_string(),
            _ => lab.mac(idx),
        }
    }

    /// How soon after it became the sole Active a client must reach its
    /// VIP.
    ///
    /// A vmac that adverts from the parent's MAC (`xmit_base`) teaches the
    /// switch where the virtual MAC is only by its announcements. When it
    /// preempts a keepalived, which sets `accept_local=1` on its macvlan,
    /// keepalived still holds the VIP for the moment it takes to read the
    /// new advert, answers the first gratuitous ARPs from the virtual MAC,
    /// and so moves the MAC back to its own switch port. The second burst,
    /// 5 s later (`garp_master_delay`, keepalived's default and vrrpd's),
    /// moves it back for good. Adverts from the virtual MAC fix it within
    /// one interval.
    fn reach_within(self) -> Duration {
        match self {
            Router::Vrrpd {
                vmac: true,
                xmit_base: true,
            }
            | Router::Keepalived { xmit_base: true } => Duration::from_secs(9),
            _ => Duration::from_secs(3),
        }
    }

    /// The MACs a client may reach its VIP through, in host `idx`.
    ///
    /// keepalived 2.2.7 leaves the parent's `arp_announce` at 0: when its
    /// host ARPs for the client to answer it, the request leaves the
    /// parent with the VIP as sender, and the client moves the VIP to the
    /// parent's MAC. vrrpd sets `arp_announce=2` on the parent, so its VIP
    /// stays on the virtual MAC.
    fn vip_macs(self, lab: &Lab, idx: usize) -> Vec<String> {
        match self {
            Router::Vrrpd { vmac: false, .. } => vec![lab.mac(idx)],
            Router::Vrrpd { vmac: true, .. } => vec![virtual_mac(lab.variant).to_string()],
            Router::Keepalived { .. } if lab.variant.ipv6 => {
                vec![virtual_mac(lab.variant).to_string()]
            }
            Router::Keepalived { .. } => vec![virtual_mac(lab.variant).to_string(), lab.mac(idx)],
        }
    }
}

/// Whether host `idx` holds the VIP, on any interface.
fn holds_vip(lab: &Lab, idx: usize) -> bool {
    let vip = lab.variant.vip().to_string();
    let out = lab.host(idx).ip(&["-o", "addr", "show"]);
    out.split_whitespace()
        .any(|w| w.split('/').next() == Some(vip.as_str()))
}

/// One advert seen by the client: source MAC, source IP and priority.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    mac: String,
    ip: String,
    priority: u8,
}

/// Parses one line of `tcpdump -e -n -l`: "TIME SRC_MAC > DST_MAC,
/// ethertype ..., length N: SRC_IP > DST_IP: VRRPv3, Advertisement, vrid
/// 51, prio 200, ...".
fn parse_advert(line: &str) -> Option<Seen> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let mac = words.get(1)?.to_string();
    let after_length = words.iter().position(|w| *w == "length")? + 2;
    let ip = words.get(after_length)?.to_string();
    let prio = words.iter().position(|w| *w == "prio")? + 1;
    let priority = words.get(prio)?.trim_end_matches(',').parse().ok()?;
    Some(Seen { mac, ip, priority })
}

/// Captures the adverts the client sees for `window`, with tcpdump.
struct AdvertCapture {
    child: ChildGuard,
    lines: std::sync::mpsc::Receiver<String>,
}

impl AdvertCapture {
    fn start(lab: &Lab) -> AdvertCapture {
        let tcpdump = vrrp_testns::which("tcpdump").expect("tcpdump is installed");
        let mut child = ChildGuard::new(
            lab.host(CLIENT)
                .command(tcpdump)
                .args(["-i", "eth0", "-e", "-n", "-l"])
                .args(["ip", "proto", "112", "or", "ip6", "proto", "112"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn tcpdump"),
        );
        let stderr = child.child().stderr.take().unwrap();
        let mut err_lines = BufReader::new(stderr).lines();
        loop {
            match err_lines.next() {
                Some(Ok(line)) if line.contains("listening on") => break,
                Some(Ok(_)) => {}
                other => panic!("tcpdump did not start: {other:?}"),
            }
        }
        std::thread::spawn(move || err_lines.for_each(drop));
        let stdout = child.child().stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        AdvertCapture { child, lines }
    }

    /// Stops the capture and returns the adverts it saw.
    fn finish(self) -> Vec<Seen> {
        // tcpdump prints each packet at once (-l); give the last a moment.
        std::thread::sleep(Duration::from_millis(50));
        drop(self.child);
        self.lines
            .try_iter()
            .filter_map(|l| parse_advert(&l))
            .collect()
    }
}

struct Scenario {
    tag: String,
    lab: Lab,
    routers: [Router; 2],
}

impl Scenario {
    fn fail(&self, what: &str) -> ! {
        self.lab.dump_logs();
        let lab = &self.lab;
        eprintln!(
            "----- the bridge's MAC table -----\n{}\n----- the client's neighbours -----\n{}",
            lab.lan.switch.exec(&["bridge", "fdb", "show", "br", "br0"]),
            lab.host(CLIENT).ip(&["neigh", "show"]),
        );
        for idx in [H1, H2] {
            eprintln!(
                "----- h{} links -----\n{}",
                idx + 1,
                lab.host(idx).ip(&["-o", "link", "show"])
            );
        }
        for (idx, router) in self.routers.iter().enumerate() {
            if matches!(router, Router::Keepalived { .. }) {
                eprintln!(
                    "----- keepalived log of h{} -----\n{}",
                    idx + 1,
                    keepalived_log(&self.lab, idx)
                );
            }
        }
        panic!("{}: {what}", self.tag);
    }

    fn ensure(&self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.fail(&what());
        }
    }

    /// Checks that host `active` (and only it) holds the VIP and is the
    /// only router on the wire, from the MAC its router says, for three
    /// Master_Down_Intervals; then that the client reaches the VIP through
    /// the VIP's MAC. `other_alive`: whether the other router runs (a
    /// crashed one keeps its VIP on a downed link).
    fn ensure_sole_active(&self, active: usize, other_alive: bool, when: &str) {
        let lab = &self.lab;
        let other = 1 - active;
        let capture = AdvertCapture::start(lab);
        let window = lab.variant.master_down(100) * 3;
        let start = Instant::now();
        while start.elapsed() < window {
            let a = holds_vip(lab, active);
            let b = other_alive && holds_vip(lab, other);
            self.ensure(a && !b, || {
                format!(
                    "{when}: h{} holds the VIP: {a}, h{}: {b}, {:?} into the window",
                    active + 1,
                    other + 1,
                    start.elapsed()
                )
            });
            std::thread::sleep(Duration::from_millis(20));
        }
        let seen = capture.finish();
        let mac = self.routers[active].advert_mac(lab, active);
        let expected = (window.as_millis() / lab.variant.interval_dur.as_millis()) as usize / 2;
        self.ensure(seen.len() >= expected, || {
            format!("{when}: only {} adverts seen: {seen:?}", seen.len())
        });
        let first = &seen[0];
        self.ensure(
            seen.iter()
                .all(|s| s.mac == mac && s.ip == first.ip && s.priority == first.priority),
            || format!("{when}: adverts not all from {mac} and one router: {seen:?}"),
        );
        let reach = self.routers[active].reach_within();
        self.ensure(wait_for(reach, || lab.client_pings_vip()).is_some(), || {
            format!(
                "{when}: the client cannot reach the VIP on h{} within {reach:?}",
                active + 1
            )
        });
        let want = self.routers[active].vip_macs(lab, active);
        let got = lab.client_neighbour_mac();
        self.ensure(got.as_ref().is_some_and(|m| want.contains(m)), || {
            format!("{when}: the client reaches the VIP through {got:?}, not {want:?}")
        });
        eprintln!(
            "{}: {when}: h{} sole Active, {} adverts from {mac}",
            self.tag,
            active + 1,
            seen.len()
        );
    }
}

/// Runs the scenario with `high` on h1 (200) and `low` on h2 (100).
fn scenario(tag: &str, variant: Variant, high: Router, low: Router) {
    if !vrrp_testns::netns_available(tag) {
        return;
    }
    if [high, low]
        .iter()
        .any(|r| matches!(r, Router::Keepalived { .. }))
    {
        eprintln!("{tag}: peer is {}", keepalived_version());
    }
    let s = Scenario {
        tag: tag.to_string(),
        lab: Lab::new(tag, variant),
        routers: [high, low],
    };
    let lab = &s.lab;
    let settle = variant.master_down(100) * 3 + Duration::from_secs(3);
    let mut h1 = high.start(lab, H1, 200);
    let mut h2 = low.start(lab, H2, 100);
    s.ensure(
        wait_for(settle, || holds_vip(lab, H1) && !holds_vip(lab, H2)).is_some(),
        || "h1 never became the sole Active".into(),
    );
    s.ensure_sole_active(H1, true, "start");

    // Crash: kill -9 and link down.
    kill(h1.pid(), libc::SIGKILL);
    let _ = h1.child().wait();
    lab.host(H1).ip(&["link", "set", "eth0", "down"]);
    s.ensure(wait_for(settle, || holds_vip(lab, H2)).is_some(), || {
        "h2 did not take over the crashed h1".into()
    });
    s.ensure_sole_active(H2, false, "after h1's crash");

    // Restart: h1 preempts back.
    lab.host(H1).ip(&["link", "set", "eth0", "up"]);
    h1 = high.start(lab, H1, 200);
    s.ensure(
        wait_for(settle, || holds_vip(lab, H1) && !holds_vip(lab, H2)).is_some(),
        || "h1 did not preempt back".into(),
    );
    s.ensure_sole_active(H1, true, "after h1's restart");

    // Clean stop: priority 0, h2 takes over.
    kill(h1.pid(), libc::SIGTERM);
    let _ = h1.child().wait();
    s.ensure(
        wait_for(settle, || holds_vip(lab, H2) && !holds_vip(lab, H1)).is_some(),
        || "h2 did not take over from the stopped h1".into(),
    );
    s.ensure_sole_active(H2, false, "after h1's clean stop");
    kill(h2.pid(), libc::SIGTERM);
    let _ = h2.child().wait();
}

#[test]
fn vmac_vrrpd_active_over_keepalived_use_vmac_ipv4() {
    scenario("vkv4", Variant::V3_IPV4, VRRPD_VMAC, KEEPALIVED_VMAC);
}

#[test]
fn vmac_vrrpd_active_over_keepalived_use_vmac_ipv6() {
    scenario("vkv6", Variant::V3_IPV6, VRRPD_VMAC, KEEPALIVED_VMAC);
}

#[test]
fn vmac_keepalived_use_vmac_active_over_vrrpd_ipv4() {
    scenario("kvv4", Variant::V3_IPV4, KEEPALIVED_VMAC, VRRPD_VMAC);
}

#[test]
fn vmac_keepalived_use_vmac_active_over_vrrpd_ipv6() {
    scenario("kvv6", Variant::V3_IPV6, KEEPALIVED_VMAC, VRRPD_VMAC);
}

#[test]
fn vmac_xmit_base_vrrpd_with_keepalived_vmac_xmit_base_ipv4() {
    scenario(
        "vxk4",
        Variant::V3_IPV4,
        VRRPD_VMAC_XMIT_BASE,
        KEEPALIVED_VMAC_XMIT_BASE,
    );
}

#[test]
fn vmac_xmit_base_keepalived_with_vrrpd_vmac_xmit_base_ipv6() {
    scenario(
        "kxv6",
        Variant::V3_IPV6,
        KEEPALIVED_VMAC_XMIT_BASE,
        VRRPD_VMAC_XMIT_BASE,
    );
}

#[test]
fn vmac_vrrpd_with_vrrpd_vmac_ipv4() {
    scenario("vvv4", Variant::V3_IPV4, VRRPD_VMAC, VRRPD_VMAC);
}

#[test]
fn vmac_vrrpd_with_vrrpd_vmac_ipv6() {
    scenario("vvv6", Variant::V3_IPV6, VRRPD_VMAC, VRRPD_VMAC);
}

#[test]
fn vmac_vrrpd_active_over_plain_vrrpd_ipv4() {
    scenario("vpv4", Variant::V3_IPV4, VRRPD_VMAC, VRRPD_PLAIN);
}

#[test]
fn vmac_plain_vrrpd_active_over_vrrpd_vmac_ipv6() {
    scenario("pvv6", Variant::V3_IPV6, VRRPD_PLAIN, VRRPD_VMAC);
}

#[test]
fn tcpdump_advert_lines_parse() {
    let line = "17:01:02.123456 00:00:5e:00:01:33 > 01:00:5e:00:00:12, ethertype IPv4 \
                (0x0800), length 46: 198.18.0.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, \
                prio 200, intvl 10cs, length 12";
    assert_eq!(
        parse_advert(line),
        Some(Seen {
            mac: "00:00:5e:00:01:33".into(),
            ip: "198.18.0.1".into(),
            priority: 200
        })
    );
    assert_eq!(parse_advert("tcpdump: verbose output suppressed"), None);
}
