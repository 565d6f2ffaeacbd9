//! End-to-end: keepalived's `track_src_ip` on the real `vrrpd`, as its man
//! page describes it ("if the configured src_ip doesn't exist or is
//! removed put the instance into fault state"). h1 (200) sends from a
//! second address on eth0, 198.18.0.11; h2 (100) is its Backup.
//!
//! keepalived 2.2.7 is not compared: its check compares the socket
//! address structure with the bare address and never matches, so there
//! the keyword changes nothing.

mod e2e_support;

use std::path::PathBuf;
use std::time::Duration;

use e2e_support::{H1, H2, Lab, Variant, wait_for};

const SOURCE: &str = "198.18.0.11";

/// Host `idx`'s keepalived.conf: VRRPv3 at 100 ms, and `extra` in the
/// instance.
fn write_conf(lab: &Lab, idx: usize, priority: u8, extra: &str) -> PathBuf {
    let path = lab.host_dir(idx).join("keepalived.conf");
    let text = format!(
        "vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    \
         priority {priority}\n    version 3\n    advert_int 0.1\n{extra}\n    virtual_ipaddress {{\n        \
         198.18.0.100/24\n    }}\n}}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn source(lab: &Lab, verb: &str) {
    lab.host(H1)
        .ip(&["addr", verb, &format!("{SOURCE}/24"), "dev", "eth0"]);
}

#[test]
fn track_src_ip_moves_the_vip_while_the_source_address_is_gone() {
    if !vrrp_testns::netns_available("track_src_ip_moves_the_vip_while_the_source_address_is_gone")
    {
        return;
    }
    let lab = Lab::new("ts", Variant::V3_IPV4);
    let tracked = format!("    mcast_src_ip {SOURCE}\n    track_src_ip");
    let c1 = write_conf(&lab, H1, 200, &tracked);
    let c2 = write_conf(&lab, H2, 100, "");
    // Not there at start: h1 waits in Fault and h2 takes the VIP.
    let _h1 = lab.start_keepalived_conf(H1, &c1);
    let _h2 = lab.start_keepalived_conf(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H2)).is_some(),
        "h2 never took the VIP"
    );
    check!(
        lab,
        lab.log(H1).contains("-> fault") && !lab.has_vip(H1),
        "h1 is not in Fault without its source address"
    );
    // Added: h1 comes up and preempts.
    source(&lab, "add");
    check!(
        lab,
        wait_for(Duration::from_secs(3), || lab.has_vip(H1)
            && !lab.has_vip(H2))
        .is_some(),
        "h1 did not take over once its source address came"
    );
    // Removed: Fault, and h2 takes over within Master_Down.
    let took = lab.time_until_vip(H2, Duration::from_secs(3), || source(&lab, "del"));
    eprintln!("source address removed -> VIP on h2 in {took:?}");
    check!(lab, took.is_some(), "h2 did not take over");
    check!(lab, !lab.has_vip(H1), "h1 kept the VIP without its source");
    // Back: h1 again.
    source(&lab, "add");
    check!(
        lab,
        wait_for(Duration::from_secs(3), || lab.has_vip(H1)
            && !lab.has_vip(H2))
        .is_some(),
        "h1 did not come back with its source address"
    );
}
