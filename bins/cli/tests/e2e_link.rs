//! End-to-end: link events drive the real `vrrpd` (v3/IPv4, 100 ms).
//!
//! - an operator deleting the VIP on the Active host gets it re-added;
//! - the Active host's cable is pulled (its bridge port goes down): it
//!   enters Fault and drops the VIP, and the Backup takes over;
//! - the cable comes back: Fault → Backup, then the higher priority
//!   preempts back.

mod e2e_support;

use std::time::Duration;

use e2e_support::{H1, H2, Variant, elected, transitions, wait_for};

#[test]
fn link_events_fault_recover_and_vip_readd() {
    if !vrrp_testns::netns_available("link_events_fault_recover_and_vip_readd") {
        return;
    }
    let variant = Variant::V3_IPV4;
    let (lab, _h1, _h2, _) = elected("lk", variant, "");

    // An operator deletes the VIP on the Active host.
    lab.host(H1)
        .ip(&["addr", "del", variant.vip_cidr(), "dev", "eth0"]);
    check!(
        lab,
        wait_for(Duration::from_secs(2), || lab.has_vip(H1)).is_some(),
        "deleted VIP not re-added"
    );
    check!(
        lab,
        lab.log(H1).contains("adding it back"),
        "re-add not logged"
    );
    check!(lab, !lab.has_vip(H2), "h2 took the VIP");

    // Pull h1's cable: the bridge port goes down, eth0 loses carrier.
    let before = transitions(&lab, H2);
    lab.lan
        .switch
        .ip(&["link", "set", &lab.lan.port(H1), "down"]);
    check!(
        lab,
        wait_for(Duration::from_secs(2), || lab
            .log(H1)
            .contains("active -> fault (link_down)"))
        .is_some(),
        "h1 did not enter Fault on link down"
    );
    check!(lab, !lab.has_vip(H1), "h1 kept the VIP in Fault");
    let bound = variant.master_down(100) + Duration::from_millis(50);
    check!(
        lab,
        wait_for(bound + Duration::from_millis(200), || lab.has_vip(H2)).is_some(),
        "h2 did not take over"
    );
    check!(lab, transitions(&lab, H2) > before, "no transition on h2");

    // Plug it back: Fault -> Backup, then preempt back to h1.
    lab.lan.switch.ip(&["link", "set", &lab.lan.port(H1), "up"]);
    check!(
        lab,
        wait_for(Duration::from_secs(3), || lab
            .log(H1)
            .contains("fault -> backup (recovered)"))
        .is_some(),
        "h1 did not recover to Backup"
    );
    check!(
        lab,
        wait_for(Duration::from_secs(3), || lab.has_vip(H1)
            && !lab.has_vip(H2))
        .is_some(),
        "h1 did not preempt back"
    );
}
