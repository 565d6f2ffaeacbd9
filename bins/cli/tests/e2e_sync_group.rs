//! End-to-end: a sync group of two instances on the real `vrrpd`
//! (v3/IPv4, 100 ms). On h1 a `track_file` (weight 0) faults VI_2 only;
//! the group holds VI_1 in Fault with it, so h2 takes both VIPs, and the
//! group's own hook runs.

mod e2e_support;

use std::time::Duration;

use e2e_support::{H1, H2, Lab, Variant, wait_for};

fn config(lab: &Lab, idx: usize, priority: u8, track: bool) -> std::path::PathBuf {
    let dir = lab.host_dir(idx);
    let track_line = if track { "track_file = [\"flag\"]" } else { "" };
    let text = format!(
        r#"[global]
state_dir = "{d}/state"
control_socket = "{d}/ctl.sock"
log_level = "debug"

[track_file.flag]
path = "{d}/flag"
weight = 0

[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 51
priority = {priority}
advert_interval = "100ms"
vips = ["198.18.0.100/24"]

[[instance]]
name = "VI_2"
interface = "eth0"
vrid = 52
priority = {priority}
advert_interval = "100ms"
vips = ["198.18.0.101/24"]
{track_line}

[[sync_group]]
name = "G"
instances = ["VI_1", "VI_2"]

[sync_group.notify]
any = ["/bin/sh", "-c", "echo \"$@\" >> {d}/group.txt", "hook"]
"#,
        d = dir.display()
    );
    let path = dir.join("vrrpd.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn holds(lab: &Lab, idx: usize, vip: &str) -> bool {
    let out = lab.host(idx).ip(&["-o", "addr", "show", "dev", "eth0"]);
    out.split_whitespace()
        .any(|w| w.split('/').next() == Some(vip))
}

#[test]
fn sync_group_moves_members_together() {
    if !vrrp_testns::netns_available("sync_group_moves_members_together") {
        return;
    }
    let lab = Lab::new("sg", Variant::V3_IPV4);
    std::fs::write(lab.host_dir(H1).join("flag"), "0\n").unwrap();
    let c1 = config(&lab, H1, 200, true);
    let c2 = config(&lab, H2, 100, false);
    let _h1 = lab.start(H1, &c1);
    let _h2 = lab.start(H2, &c2);
    let both = |idx| holds(&lab, idx, "198.18.0.100") && holds(&lab, idx, "198.18.0.101");
    let none = |idx| !holds(&lab, idx, "198.18.0.100") && !holds(&lab, idx, "198.18.0.101");
    check!(
        lab,
        wait_for(Duration::from_secs(5), || both(H1) && none(H2)).is_some(),
        "h1 did not take both VIPs"
    );
    let group_file = lab.host_dir(H1).join("group.txt");
    check!(
        lab,
        wait_for(Duration::from_secs(2), || std::fs::read_to_string(
            &group_file
        )
        .unwrap_or_default()
        .contains("GROUP G MASTER"))
        .is_some(),
        "group hook did not run on h1"
    );

    // Fault VI_2 on h1: the group follows, h2 takes both.
    std::fs::write(lab.host_dir(H1).join("flag"), "1\n").unwrap();
    check!(
        lab,
        wait_for(Duration::from_secs(3), || both(H2) && none(H1)).is_some(),
        "the group did not move to h2 together"
    );
    check!(
        lab,
        lab.log(H1)
            .contains("VI_1 active -> fault (sync_group_fault)"),
        "VI_1 was not held in Fault by the group"
    );
    check!(
        lab,
        wait_for(Duration::from_secs(2), || std::fs::read_to_string(
            &group_file
        )
        .unwrap_or_default()
        .contains("GROUP G FAULT"))
        .is_some(),
        "group FAULT hook did not run on h1"
    );

    // Clear it: both come back to h1 (preempt).
    std::fs::write(lab.host_dir(H1).join("flag"), "0\n").unwrap();
    check!(
        lab,
        wait_for(Duration::from_secs(3), || both(H1) && none(H2)).is_some(),
        "the group did not come back to h1"
    );
}
