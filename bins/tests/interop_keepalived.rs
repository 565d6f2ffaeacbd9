//! Interoperability with keepalived (Debian's package) in one VRRP group:
//! a rolling migration must never lose the VIP. For VRRPv2/IPv4 (with
//! simple-text authentication), VRRPv3/IPv4 (both on their default
//! pseudo-header checksum) and VRRPv3/IPv6.

mod e2e_support;
mod interop_support;

use std::time::Duration;

use e2e_support::{H1, H2, Lab, Variant, kill, wait_for};
use interop_support::{
    VARIANTS, keepalived_conf, keepalived_log, keepalived_version, start_keepalived,
};

const PASSWORD: &str = "s3cret";

fn available(test: &str) -> bool {
    if !vrrp_testns::netns_available(test) {
        return false;
    }
    eprintln!("{test}: peer is {}", keepalived_version());
    true
}

/// A vrrpd config for host `idx` matching keepalived's (auth for v2).
fn vrrpd_config(lab: &Lab, idx: usize, priority: u8, password: &str) -> std::path::PathBuf {
    let extra = if lab.variant.version == 2 {
        format!("auth_password = \"{password}\"")
    } else {
        String::new()
    };
    lab.write_config(idx, priority, &extra)
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

fn settle(v: Variant) -> Duration {
    v.master_down(100) * 3 + Duration::from_secs(2)
}

/// vrrpd Active (200) with keepalived Backup (100): keepalived takes over on
/// vrrpd's crash within Master_Down_Interval and on its SIGTERM within
/// Skew_Time; vrrpd restarted preempts back and cleans its leftover VIP.
fn vrrpd_active_keepalived_backup(tag: &str, v: Variant) {
    let lab = Lab::new(tag, v);
    let c1 = vrrpd_config(&lab, H1, 200, PASSWORD);
    let mut h1 = lab.start(H1, &c1);
    let _k2 = start_keepalived(&lab, H2, &keepalived_conf(&lab, H2, 100, Some(PASSWORD)));
    ensure!(
        lab,
        wait_for(settle(v), || lab.has_vip(H1)).is_some(),
        "vrrpd never Active"
    );
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
    let mut h1 = lab.start(H1, &c1);
    ensure!(
        lab,
        wait_for(settle(v), || lab.has_vip(H1) && !lab.has_vip(H2)).is_some(),
        "vrrpd did not preempt back from keepalived"
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
fn keepalived_active_vrrpd_backup(tag: &str, v: Variant) {
    let lab = Lab::new(tag, v);
    let k_conf = keepalived_conf(&lab, H1, 200, Some(PASSWORD));
    let mut k1 = start_keepalived(&lab, H1, &k_conf);
    let c2 = vrrpd_config(&lab, H2, 100, PASSWORD);
    let _h2 = lab.start(H2, &c2);
    ensure!(
        lab,
        wait_for(settle(v), || lab.has_vip(H1)).is_some(),
        "keepalived never Master"
    );
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

    let bound = v.master_down(100) + Duration::from_millis(50);
    let took = lab.time_until_vip(H2, Duration::from_secs(15), || {
        kill(k1.pid(), libc::SIGKILL);
        lab.host(H1).ip(&["link", "set", "eth0", "down"]);
    });
    eprintln!("{tag}: vrrpd took over a crashed keepalived in {took:?} (bound {bound:?})");
    ensure!(
        lab,
        took.is_some_and(|t| t <= bound),
        "crash takeover {took:?} over {bound:?}"
    );
    let _ = k1.child().wait();
}

#[test]
fn interop_vrrpd_active_keepalived_backup() {
    if !available("interop_vrrpd_active_keepalived_backup") {
        return;
    }
    for (name, v) in VARIANTS {
        vrrpd_active_keepalived_backup(&format!("ivk{name}"), v);
    }
}

#[test]
fn interop_keepalived_active_vrrpd_backup() {
    if !available("interop_keepalived_active_vrrpd_backup") {
        return;
    }
    for (name, v) in VARIANTS {
        keepalived_active_vrrpd_backup(&format!("ikv{name}"), v);
    }
}

/// Equal priorities: when both are Active (here after a partition heals),
/// the higher primary address wins (RFC 9568 §6.4.3), whichever daemon
/// holds it: h2 (198.18.0.2) is above h1 (198.18.0.1). (Without a split, an
/// equal-priority Backup never preempts, on either daemon.)
#[test]
fn interop_equal_priorities_resolve_by_primary_address() {
    if !available("interop_equal_priorities_resolve_by_primary_address") {
        return;
    }
    let v = Variant::V3_IPV4;
    for vrrpd_on_h2 in [true, false] {
        let lab = Lab::new(if vrrpd_on_h2 { "ieqa" } else { "ieqb" }, v);
        let (vrrpd_host, keepalived_host) = if vrrpd_on_h2 { (H2, H1) } else { (H1, H2) };
        // Detach h1's bridge port (its link stays up) so both go Active.
        let port = lab.lan.port(H1);
        lab.lan.switch.ip(&["link", "set", &port, "nomaster"]);
        let c = vrrpd_config(&lab, vrrpd_host, 100, PASSWORD);
        let _d = lab.start(vrrpd_host, &c);
        let _k = start_keepalived(
            &lab,
            keepalived_host,
            &keepalived_conf(&lab, keepalived_host, 100, None),
        );
        ensure!(
            lab,
            wait_for(settle(v), || lab.has_vip(H2) && lab.has_vip(H1)).is_some(),
            "both should be Active while partitioned"
        );
        lab.lan.switch.ip(&["link", "set", &port, "master", "br0"]);
        ensure!(
            lab,
            wait_for(settle(v), || lab.has_vip(H2) && !lab.has_vip(H1)).is_some(),
            "h2 (higher address) is not the only Active (vrrpd on h2: {vrrpd_on_h2})"
        );
        std::thread::sleep(v.interval_dur * 10);
        ensure!(
            lab,
            lab.has_vip(H2) && !lab.has_vip(H1),
            "the election did not hold"
        );
    }
}

/// VRRPv2 with different passwords: each side discards the other's
/// advertisements, so both become Active; vrrpd counts and logs it.
#[test]
fn interop_v2_password_mismatch_is_discarded_on_both_sides() {
    if !available("interop_v2_password_mismatch_is_discarded_on_both_sides") {
        return;
    }
    let v = Variant::V2_IPV4;
    let lab = Lab::new("iauth", v);
    let c1 = vrrpd_config(&lab, H1, 200, PASSWORD);
    let _h1 = lab.start(H1, &c1);
    let _k2 = start_keepalived(&lab, H2, &keepalived_conf(&lab, H2, 100, Some("other")));
    ensure!(
        lab,
        wait_for(settle(v), || lab.has_vip(H1) && lab.has_vip(H2)).is_some(),
        "with mismatched passwords both sides should be Active"
    );
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
