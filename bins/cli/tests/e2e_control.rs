//! End-to-end: `vrrpctl status|stats|reload` against the real `vrrpd`
//! (v3/IPv4) through its control socket (mode 0600).

mod e2e_support;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use e2e_support::{H1, H2, Variant, elected, transitions};

fn vrrpctl(lab: &e2e_support::Lab, idx: usize, args: &[&str]) -> (bool, String) {
    let socket = lab.host_dir(idx).join("ctl.sock");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vrrpctl"))
        .arg("--socket")
        .arg(&socket)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn vrrpctl_status_stats_reload() {
    if !vrrp_testns::netns_available("vrrpctl_status_stats_reload") {
        return;
    }
    let (lab, _h1, _h2, _) = elected("ct", Variant::V3_IPV4, "");
    let socket = lab.host_dir(H1).join("ctl.sock");
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    check!(lab, mode == 0o600, "control socket mode {mode:o}");

    let (ok, out) = vrrpctl(&lab, H1, &["status", "--json"]);
    check!(lab, ok, "status failed: {out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let inst = &v["instances"][0];
    check!(
        lab,
        inst["name"] == "VI_1" && inst["state"] == "active" && inst["holds_vips"] == true,
        "unexpected status of h1: {out}"
    );
    let (ok, out) = vrrpctl(&lab, H2, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    check!(
        lab,
        ok && v["instances"][0]["state"] == "backup"
            && v["instances"][0]["active_router"] == "198.18.0.1",
        "unexpected status of h2: {out}"
    );
    let (ok, table) = vrrpctl(&lab, H1, &["status"]);
    check!(
        lab,
        ok && table.contains("VI_1") && table.contains("active"),
        "status table: {table}"
    );

    let (ok, out) = vrrpctl(&lab, H2, &["stats", "--json"]);
    check!(lab, ok, "stats failed: {out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rcvd = v["instances"][0]["counters"]["advertisement_rcvd"]
        .as_u64()
        .unwrap_or(0);
    check!(lab, rcvd > 0, "h2 received no advertisements? {out}");
    let (_, out) = vrrpctl(&lab, H1, &["stats", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    check!(
        lab,
        v["instances"][0]["counters"]["advertisement_sent"]
            .as_u64()
            .unwrap_or(0)
            > 0
            && v["instances"][0]["transitions"]["active"] == 1,
        "h1 stats: {out}"
    );

    // The text form names each counter once (Hardening #9).
    let (ok, text) = vrrpctl(&lab, H1, &["stats"]);
    let mut names: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            match words.next() {
                Some("global") => words.next(),
                first => first,
            }
        })
        .collect();
    let listed = names.len();
    names.sort_unstable();
    names.dedup();
    check!(
        lab,
        ok && listed > 10 && names.len() == listed,
        "a counter is listed twice: {text}"
    );

    let before = transitions(&lab, H1);
    let (ok, out) = vrrpctl(&lab, H1, &["reload"]);
    check!(lab, ok && out.contains("1 kept"), "reload: {out}");
    std::thread::sleep(Duration::from_millis(300));
    check!(
        lab,
        transitions(&lab, H1) == before && lab.has_vip(H1),
        "reload moved something"
    );
}
