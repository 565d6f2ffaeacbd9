//! Interoperability with keepalived (Debian's package) in one VRRP group:
//! a rolling migration must never lose the VIP. For VRRPv2/IPv4 (with
//! simple-text authentication), VRRPv3/IPv4 (both on their default
//! pseudo-header checksum) and VRRPv3/IPv6.
//!
//! Every scenario runs twice: with vrrpd reading its native TOML
//! (`interop_*`), and with vrrpd reading a keepalived.conf, the one
//! keepalived itself gets but for priority and router_id, with
//! `--state-dir` and `--control-socket` from the command line
//! (`interop_keepalived_conf_*`), as a migration would first run it.

mod e2e_support;
mod interop_support;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use e2e_support::{H1, H2, Lab, Variant, kill, wait_for};
use interop_support::{
    VARIANTS, keepalived_conf, keepalived_log, keepalived_version, start_keepalived,
};
use vrrp_testns::ChildGuard;

const PASSWORD: &str = "s3cret";

fn available(test: &str) -> bool {
    if !vrrp_testns::netns_available(test) {
        return false;
    }
    eprintln!("{test}: peer is {}", keepalived_version());
    true
}

fn dump(lab: &Lab) {
    lab.dump_logs();
    for idx in [H1, H2] {
        eprintln!(
            "----- keepalived log of h{} -----\n{}",
            idx + 1,
            keepalived_log(lab, idx)
        );
    }
}

macro_rules! ensure {
    ($lab:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            dump(&$lab);
            panic!($($msg)+);
        }
    };
}

/// Which configuration format vrrpd reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Native TOML (`--config`).
    Toml,
    /// A keepalived.conf (`--keepalived-config`, with `--state-dir` and
    /// `--control-socket`).
    KeepalivedConf,
}

impl Format {
    /// `tag` as a lab tag for this format (unique per format).
    fn tag(self, tag: &str) -> String {
        match self {
            Format::Toml => tag.to_string(),
            Format::KeepalivedConf => format!("k{tag}"),
        }
    }
}

/// A vrrpd configuration written for one host.
struct VrrpdConfig {
    idx: usize,
    path: PathBuf,
    format: Format,
}

/// A vrrpd config for host `idx` matching keepalived's (auth for v2): a
/// native one, or the keepalived.conf keepalived would get.
fn vrrpd_config(
    lab: &Lab,
    idx: usize,
    priority: u8,
    password: &str,
    format: Format,
) -> VrrpdConfig {
    let path = match format {
        Format::Toml => {
            let extra = if lab.variant.version == 2 {
                format!("auth_password = \"{password}\"")
            } else {
                String::new()
            };
            lab.write_config(idx, priority, &extra)
        }
        Format::KeepalivedConf => {
            let path = lab.host_dir(idx).join("vrrpd-keepalived.conf");
            std::fs::write(&path, keepalived_conf(lab, idx, priority, Some(password))).unwrap();
            path
        }
    };
    VrrpdConfig { idx, path, format }
}

impl VrrpdConfig {
    /// Starts vrrpd with this configuration in its host.
    fn start(&self, lab: &Lab) -> ChildGuard {
        match self.format {
            Format::Toml => lab.start(self.idx, &self.path),
            Format::KeepalivedConf => lab.start_keepalived_conf(self.idx, &self.path),
        }
    }

    /// Fails unless the running vrrpd serves its control socket and keeps
    /// its ledger where the lab said (from the TOML, or from the
    /// command-line overrides of a keepalived.conf).
    fn ensure_paths(&self, lab: &Lab) {
        let socket = lab.control_socket(self.idx);
        let state = lab.state_dir(self.idx);
        ensure!(
            lab,
            wait_for(Duration::from_secs(2), || socket.exists()).is_some() && state.is_dir(),
            "vrrpd ({:?}) has no control socket {} or state dir {}",
            self.format,
            socket.display(),
            state.display()
        );
    }
}

fn settle(v: Variant) -> Duration {
    v.master_down(100) * 3 + Duration::from_secs(2)
}

/// vrrpd Active (200) with keepalived Backup (100): keepalived takes over on
/// vrrpd's crash within Master_Down_Interval and on its SIGTERM within
/// Skew_Time; vrrpd restarted preempts back and cleans its leftover VIP.
fn vrrpd_active_keepalived_backup(tag: &str, v: Variant, format: Format) {
    let lab = Lab::new(tag, v);
    let c1 = vrrpd_config(&lab, H1, 200, PASSWORD, format);
    let mut h1 = c1.start(&lab);
    let _k2 = start_keepalived(&lab, H2, &keepalived_conf(&lab, H2, 100, Some(PASSWORD)));
    ensure!(
        lab,
        wait_for(settle(v), || lab.has_vip(H1)).is_some(),
        "vrrpd never Active"
    );
    c1.ensure_paths(&lab);
    std::thread::sleep(v.interval_dur * 5);
    ensure!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "VIP not only on vrrpd's host"
    );

    // Crash: kill -9 and link down.
    let bound = v.master_down(100) + Duration::from_millis(50);
    let took = lab.time_until_vip(H2, Duration::from_secs(15), || {
        kill(h1.pid(), libc::SIGKILL);
        lab.host(H1).ip(&["link", "set", "eth0", "down"]);
    });
    eprintln!("{tag}: keepalived took over a crashed vrrpd in {took:?} (bound {bound:?})");
    ensure!(
        lab,
        took.is_some_and(|t| t <= bound),
        "crash takeover {took:?} over {bound:?}"
    );
    let _ = h1.child().wait();

    // Restart: the leftover VIP is cleaned and vrrpd preempts back.
    lab.host(H1).ip(&["link", "set", "eth0", "up"]);
    let mut h1 = c1.start(&lab);
    ensure!(
        lab,
        wait_for(settle(v), || lab.has_vip(H1) && !lab.has_vip(H2)).is_some(),
        "vrrpd did not preempt back from keepalived"
    );
    ensure!(
        lab,
        lab.log(H1)
            .contains("cleaned up an address left by a previous run"),
        "the restarted vrrpd did not find its ledger's leftover VIP"
    );

    // Graceful stop: priority 0, keepalived within Skew_Time.
    let bound = v.skew(100) + Duration::from_millis(50);
    let took = lab.time_until_vip(H2, Duration::from_secs(10), || {
        kill(h1.pid(), libc::SIGTERM)
    });
    eprintln!("{tag}: keepalived took over a stopped vrrpd in {took:?} (bound {bound:?})");
    ensure!(
        lab,
        took.is_some_and(|t| t <= bound),
        "SIGTERM takeover {took:?} over {bound:?}"
    );
    let status = h1.child().wait().unwrap();
    ensure!(lab, status.success(), "vrrpd exited with {status}");
    ensure!(lab, !lab.has_vip(H1), "VIP left behind by vrrpd");
}

/// keepalived Active (200) with vrrpd Backup (100): the mirror image.
fn keepalived_active_vrrpd_backup(tag: &str, v: Variant, format: Format) {
    let lab = Lab::new(tag, v);
    let k_conf = keepalived_conf(&lab, H1, 200, Some(PASSWORD));
    let mut k1 = start_keepalived(&lab, H1, &k_conf);
    let c2 = vrrpd_config(&lab, H2, 100, PASSWORD, format);
    let _h2 = c2.start(&lab);
    ensure!(
        lab,
        wait_for(settle(v), || lab.has_vip(H1)).is_some(),
        "keepalived never Master"
    );
    c2.ensure_paths(&lab);
    std::thread::sleep(v.interval_dur * 5);
    ensure!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "VIP not only on keepalived's host"
    );

    let bound = v.skew(100) + Duration::from_millis(50);
    let took = lab.time_until_vip(H2, Duration::from_secs(10), || {
        kill(k1.pid(), libc::SIGTERM)
    });
    eprintln!("{tag}: vrrpd took over a stopped keepalived in {took:?} (bound {bound:?})");
    ensure!(
        lab,
        took.is_some_and(|t| t <= bound),
        "SIGTERM takeover {took:?} over {bound:?}"
    );
    let _ = k1.child().wait();

    let mut k1 = start_keepalived(&lab, H1, &k_conf);
    ensure!(
        lab,
        wait_for(settle(v), || lab.has_vip(H1) && !lab.has_vip(H2)).is_some(),
        "keepalived did not preempt back from vrrpd"
    );

    // keepalived's VRRP work is done by a child process, which on its
    // parent's death still sends priority 0: kill it first, so this is a
    // crash (Master_Down_Interval), not a graceful stop.
    let vrrp_child: u32 = std::fs::read_to_string(lab.host_dir(H1).join("keepalived-vrrp.pid"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no keepalived-vrrp.pid for h1"));
    let bound = v.master_down(100) + Duration::from_millis(50);
    let took = lab.time_until_vip(H2, Duration::from_secs(15), || {
        kill(vrrp_child, libc::SIGKILL);
        kill(k1.pid(), libc::SIGKILL);
        lab.host(H1).ip(&["link", "set", "eth0", "down"]);
    });
    eprintln!("{tag}: vrrpd took over a crashed keepalived in {took:?} (bound {bound:?})");
    // The kill lands up to one interval after the last advert, so a crash
    // takes at least Master_Down_Interval minus that; much earlier means
    // vrrpd saw a priority-0 release.
    let floor = v.master_down(100) - v.interval_dur - Duration::from_millis(20);
    ensure!(
        lab,
        took.is_some_and(|t| t >= floor),
        "crash takeover {took:?} well under Master_Down_Interval: keepalived was not really killed"
    );
    ensure!(
        lab,
        took.is_some_and(|t| t <= bound),
        "crash takeover {took:?} over {bound:?}"
    );
    let _ = k1.child().wait();
}

/// The address host `idx` sends its advertisements from: 198.18.0.x for
/// IPv4, the (random, MAC-derived) link-local address of eth0 for IPv6.
fn primary_address(lab: &Lab, idx: usize) -> IpAddr {
    if !lab.variant.ipv6 {
        return format!("198.18.0.{}", idx + 1).parse().unwrap();
    }
    let out = lab
        .host(idx)
        .ip(&["-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]);
    out.split_whitespace()
        .skip_while(|w| *w != "inet6")
        .nth(1)
        .and_then(|a| a.split('/').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no link-local address on h{}: {out}", idx + 1))
}

/// Equal priorities: when both are Active (here after a partition heals),
/// the higher primary address wins (RFC 9568 §6.4.3), whichever daemon
/// holds it: for IPv4 h2 (198.18.0.2) is above h1 (198.18.0.1); for IPv6
/// the higher link-local address wins. (Without a split, an equal-priority
/// Backup never preempts, on either daemon.)
fn equal_priorities_resolve_by_primary_address(tag: &str, v: Variant, format: Format) {
    for vrrpd_on_h2 in [true, false] {
        let lab = Lab::new(&format!("{tag}{}", if vrrpd_on_h2 { "a" } else { "b" }), v);
        let (vrrpd_host, keepalived_host) = if vrrpd_on_h2 { (H2, H1) } else { (H1, H2) };
        // Detach h1's bridge port (its link stays up) so both go Active.
        let port = lab.lan.port(H1);
        lab.lan.switch.ip(&["link", "set", &port, "nomaster"]);
        let c = vrrpd_config(&lab, vrrpd_host, 100, PASSWORD, format);
        let _d = c.start(&lab);
        let _k = start_keepalived(
            &lab,
            keepalived_host,
            &keepalived_conf(&lab, keepalived_host, 100, Some(PASSWORD)),
        );
        ensure!(
            lab,
            wait_for(settle(v), || lab.has_vip(H2) && lab.has_vip(H1)).is_some(),
            "both should be Active while partitioned"
        );
        c.ensure_paths(&lab);
        let (won, lost) = if primary_address(&lab, H2) > primary_address(&lab, H1) {
            (H2, H1)
        } else {
            (H1, H2)
        };
        lab.lan.switch.ip(&["link", "set", &port, "master", "br0"]);
        ensure!(
            lab,
            wait_for(settle(v), || lab.has_vip(won) && !lab.has_vip(lost)).is_some(),
            "h{} (higher address {}) is not the only Active (vrrpd on h2: {vrrpd_on_h2})",
            won + 1,
            primary_address(&lab, won)
        );
        std::thread::sleep(v.interval_dur * 10);
        ensure!(
            lab,
            lab.has_vip(won) && !lab.has_vip(lost),
            "the election did not hold"
        );
    }
}

/// VRRPv2 with different passwords: each side discards the other's
/// advertisements, so both become Active; vrrpd counts and logs it.
fn v2_password_mismatch_is_discarded_on_both_sides(tag: &str, format: Format) {
    let v = Variant::V2_IPV4;
    let lab = Lab::new(tag, v);
    let c1 = vrrpd_config(&lab, H1, 200, PASSWORD, format);
    let _h1 = c1.start(&lab);
    let _k2 = start_keepalived(&lab, H2, &keepalived_conf(&lab, H2, 100, Some("other")));
    ensure!(
        lab,
        wait_for(settle(v), || lab.has_vip(H1) && lab.has_vip(H2)).is_some(),
        "with mismatched passwords both sides should be Active"
    );
    c1.ensure_paths(&lab);
    ensure!(
        lab,
        lab.log(H1).contains("AuthFailure"),
        "vrrpd did not log the authentication failure"
    );
    // keepalived 2.2.7: "(VI_1) received an invalid passwd!"
    ensure!(
        lab,
        keepalived_log(&lab, H2).contains("invalid passwd"),
        "keepalived did not log the authentication failure"
    );
}

/// Runs `scenario` for every variant, tagging each lab `tag` + variant.
fn every_variant(test: &str, tag: &str, format: Format, scenario: fn(&str, Variant, Format)) {
    if !available(test) {
        return;
    }
    for (name, v) in VARIANTS {
        scenario(&format!("{}{name}", format.tag(tag)), v, format);
    }
}

#[test]
fn interop_vrrpd_active_keepalived_backup() {
    every_variant(
        "interop_vrrpd_active_keepalived_backup",
        "ivk",
        Format::Toml,
        vrrpd_active_keepalived_backup,
    );
}

#[test]
fn interop_keepalived_conf_vrrpd_active_keepalived_backup() {
    every_variant(
        "interop_keepalived_conf_vrrpd_active_keepalived_backup",
        "ivk",
        Format::KeepalivedConf,
        vrrpd_active_keepalived_backup,
    );
}

#[test]
fn interop_keepalived_active_vrrpd_backup() {
    every_variant(
        "interop_keepalived_active_vrrpd_backup",
        "ikv",
        Format::Toml,
        keepalived_active_vrrpd_backup,
    );
}

#[test]
fn interop_keepalived_conf_keepalived_active_vrrpd_backup() {
    every_variant(
        "interop_keepalived_conf_keepalived_active_vrrpd_backup",
        "ikv",
        Format::KeepalivedConf,
        keepalived_active_vrrpd_backup,
    );
}

#[test]
fn interop_equal_priorities_resolve_by_primary_address() {
    every_variant(
        "interop_equal_priorities_resolve_by_primary_address",
        "ieq",
        Format::Toml,
        equal_priorities_resolve_by_primary_address,
    );
}

#[test]
fn interop_keepalived_conf_equal_priorities_resolve_by_primary_address() {
    every_variant(
        "interop_keepalived_conf_equal_priorities_resolve_by_primary_address",
        "ieq",
        Format::KeepalivedConf,
        equal_priorities_resolve_by_primary_address,
    );
}

#[test]
fn interop_v2_password_mismatch_is_discarded_on_both_sides() {
    let test = "interop_v2_password_mismatch_is_discarded_on_both_sides";
    if available(test) {
        v2_password_mismatch_is_discarded_on_both_sides("iauth", Format::Toml);
    }
}

#[test]
fn interop_keepalived_conf_v2_password_mismatch_is_discarded_on_both_sides() {
    let test = "interop_keepalived_conf_v2_password_mismatch_is_discarded_on_both_sides";
    if available(test) {
        v2_password_mismatch_is_discarded_on_both_sides(
            &Format::KeepalivedConf.tag("iauth"),
            Format::KeepalivedConf,
        );
    }
}
