//! Interoperability with keepalived 2.2.7 over unicast VRRPv3/IPv4 when one
//! side sums its adverts the old way (keepalived ≤ 1.3.6, and its
//! `old_unicast_checksum`): the multicast group, not the peer, in the
//! checksum's pseudo-header. Both daemons read the same keepalived.conf
//! but for the priority and the keyword.
//!
//! - keepalived with `old_unicast_checksum` at 200, vrrpd at 100 with
//!   keepalived's default: vrrpd hears it, adopts the old form and stays
//!   Backup; keepalived stopped, vrrpd takes over, and keepalived restarted
//!   at 50 (it accepts only the old form now) stays Backup under vrrpd.
//! - vrrpd with `old_unicast_checksum never`: it refuses keepalived's
//!   adverts as bad checksums and takes the VIP too, as keepalived does.

mod e2e_support;
mod interop_support;

use std::time::Duration;

use e2e_support::{H1, H2, Lab, Variant, kill, wait_for};
use interop_support::{keepalived_conf_with, keepalived_log, keepalived_version, start_keepalived};

/// Host `idx`'s keepalived.conf: unicast to the other host, plus `extra`.
fn conf(lab: &Lab, idx: usize, priority: u8, extra: &str) -> String {
    let (own, peer) = if idx == H1 {
        ("198.18.0.1", "198.18.0.2")
    } else {
        ("198.18.0.2", "198.18.0.1")
    };
    let lines = format!("unicast_src_ip {own}\nunicast_peer {{\n{peer}\n}}\n{extra}");
    keepalived_conf_with(lab, idx, priority, None, &lines)
}

fn dump(lab: &Lab) {
    lab.dump_logs();
    eprintln!(
        "----- keepalived log of h1 -----\n{}",
        keepalived_log(lab, H1)
    );
}

macro_rules! ensure {
    ($lab:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            dump(&$lab);
            panic!($($msg)+);
        }
    };
}

#[test]
fn interop_old_unicast_checksum_is_adopted_from_keepalived() {
    if !vrrp_testns::netns_available("interop_old_unicast_checksum_is_adopted_from_keepalived") {
        return;
    }
    eprintln!("peer is {}", keepalived_version());
    let v = Variant::V3_IPV4;
    let lab = Lab::new("oc", v);
    let mut k1 = start_keepalived(&lab, H1, &conf(&lab, H1, 200, "old_unicast_checksum"));
    ensure!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "keepalived never took the VIP"
    );
    let c2 = lab.host_dir(H2).join("vrrpd-keepalived.conf");
    std::fs::write(&c2, conf(&lab, H2, 100, "")).unwrap();
    let _h2 = lab.start_keepalived_conf(H2, &c2);
    std::thread::sleep(v.master_down(100) * 3);
    ensure!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "vrrpd did not stay Backup under keepalived's old-checksum adverts"
    );
    ensure!(
        lab,
        lab.log(H2).contains("old_unicast_checksum"),
        "vrrpd did not report adopting the old checksum"
    );

    kill(k1.pid(), libc::SIGTERM);
    let _ = k1.child().wait();
    ensure!(
        lab,
        wait_for(Duration::from_secs(3), || lab.has_vip(H2)).is_some(),
        "vrrpd did not take over"
    );
    // keepalived configured with old_unicast_checksum accepts only the old
    // form: it stays Backup only if vrrpd now sends it.
    let _k1 = start_keepalived(&lab, H1, &conf(&lab, H1, 50, "old_unicast_checksum"));
    std::thread::sleep(v.master_down(50) * 3);
    ensure!(
        lab,
        lab.has_vip(H2) && !lab.has_vip(H1),
        "keepalived (old checksum) did not stay Backup under vrrpd"
    );
    ensure!(
        lab,
        !keepalived_log(&lab, H1).contains("Invalid VRRPv3 checksum"),
        "keepalived refused vrrpd's checksum"
    );
}

#[test]
fn interop_old_unicast_checksum_never_refuses_keepalived() {
    if !vrrp_testns::netns_available("interop_old_unicast_checksum_never_refuses_keepalived") {
        return;
    }
    let v = Variant::V3_IPV4;
    let lab = Lab::new("on", v);
    let _k1 = start_keepalived(&lab, H1, &conf(&lab, H1, 200, "old_unicast_checksum"));
    ensure!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "keepalived never took the VIP"
    );
    let c2 = lab.host_dir(H2).join("vrrpd-keepalived.conf");
    std::fs::write(&c2, conf(&lab, H2, 100, "old_unicast_checksum never")).unwrap();
    let _h2 = lab.start_keepalived_conf(H2, &c2);
    ensure!(
        lab,
        wait_for(v.master_down(100) * 3, || lab.has_vip(H2)).is_some(),
        "vrrpd with `old_unicast_checksum never` heard the old checksum"
    );
    let discards = bad_checksums(&lab, H2);
    ensure!(lab, discards > 0, "no bad checksum counted");
}

/// The bad checksums host `idx`'s vrrpd counted, from `vrrpctl stats`.
fn bad_checksums(lab: &Lab, idx: usize) -> u64 {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vrrpctl"))
        .arg("--socket")
        .arg(lab.control_socket(idx))
        .args(["stats", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let by_instance = v["instances"][0]["discards"]["bad_checksum"]
        .as_u64()
        .unwrap_or(0);
    by_instance + v["global"]["bad_checksum"].as_u64().unwrap_or(0)
}
