//! End-to-end: `use_vmac` on the real `vrrpd` (v3/IPv4, 100 ms). The VIP
//! lives on a macvlan `vrrp.51` with MAC 00-00-5E-00-01-33, so the client
//! reaches it through the virtual MAC, and after a takeover the MAC it
//! knows stays right. A clean stop deletes the macvlan.

mod e2e_support;

use std::time::Duration;

use e2e_support::{CLIENT, H1, H2, Lab, Variant, kill, wait_for};

const VMAC: &str = "00:00:5e:00:01:33";

fn vip_on_vmac(lab: &Lab, idx: usize) -> bool {
    let out = lab
        .host(idx)
        .ip_try(&["-o", "addr", "show", "dev", "vrrp.51"]);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .any(|w| w.split('/').next() == Some("198.18.0.100"))
}

#[test]
fn vip_answers_from_the_virtual_mac() {
    if !vrrp_testns::netns_available("vip_answers_from_the_virtual_mac") {
        return;
    }
    let lab = Lab::new("vm", Variant::V3_IPV4);
    let c1 = lab.write_config(H1, 200, "vmac = true");
    let c2 = lab.write_config(H2, 100, "vmac = true");
    let mut h1 = lab.start(H1, &c1);
    let _h2 = lab.start(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || vip_on_vmac(&lab, H1)).is_some(),
        "h1 never put the VIP on vrrp.51"
    );
    let link = lab.host(H1).ip(&["-o", "link", "show", "dev", "vrrp.51"]);
    check!(
        lab,
        link.contains(VMAC),
        "vrrp.51 does not have the virtual MAC: {link}"
    );
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.client_pings_vip()).is_some(),
        "client cannot ping the VIP"
    );
    check!(
        lab,
        lab.client_neighbour_mac().as_deref() == Some(VMAC),
        "client resolved the VIP to {:?}, not the virtual MAC",
        lab.client_neighbour_mac()
    );
    let _ = CLIENT;

    kill(h1.pid(), libc::SIGTERM);
    let _ = h1.child().wait();
    check!(
        lab,
        wait_for(Duration::from_secs(2), || vip_on_vmac(&lab, H2)).is_some(),
        "h2 did not take the VIP on its vrrp.51"
    );
    let gone = lab.host(H1).ip_try(&["link", "show", "dev", "vrrp.51"]);
    check!(
        lab,
        !gone.status.success(),
        "vrrp.51 left on h1 after a clean stop"
    );
    check!(
        lab,
        wait_for(Duration::from_secs(3), || lab.client_pings_vip()).is_some(),
        "client cannot reach the VIP on h2"
    );
    check!(
        lab,
        lab.client_neighbour_mac().as_deref() == Some(VMAC),
        "client MAC changed"
    );
}
