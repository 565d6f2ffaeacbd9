//! End-to-end: `use_vmac` on the real `vrrpd` (v3, 100 ms), IPv4 and IPv6.
//! The VIP lives on a macvlan with the VRRP virtual MAC (RFC 9568 §7.3):
//! `vrrp.51` with 00-00-5E-00-01-33 for IPv4, `vrrp6.51` with
//! 00-00-5E-00-02-33 for IPv6. The client reaches the VIP through the
//! virtual MAC, and after a takeover the MAC it knows stays right. A clean
//! stop deletes the macvlan.

mod e2e_support;

use std::time::Duration;

use e2e_support::{H1, H2, Lab, Variant, kill, wait_for};

/// The macvlan vrrpd names by default and its MAC, for `variant`.
fn vmac_of(variant: Variant) -> (&'static str, &'static str) {
    if variant.ipv6 {
        ("vrrp6.51", "00:00:5e:00:02:33")
    } else {
        ("vrrp.51", "00:00:5e:00:01:33")
    }
}

fn vip_on(lab: &Lab, idx: usize, dev: &str) -> bool {
    let vip = lab.variant.vip().to_string();
    let out = lab.host(idx).ip_try(&["-o", "addr", "show", "dev", dev]);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .any(|w| w.split('/').next() == Some(vip.as_str()))
}

/// The IPv6 addresses of `dev` in host `idx`, one per line.
fn ipv6_addresses(lab: &Lab, idx: usize, dev: &str) -> String {
    let out = lab
        .host(idx)
        .ip_try(&["-o", "-6", "addr", "show", "dev", dev]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The bridge port that has learned `mac`, if any.
fn learned_port(lab: &Lab, mac: &str) -> Option<String> {
    let fdb = lab.lan.switch.exec(&["bridge", "fdb", "show", "br", "br0"]);
    fdb.lines()
        .find(|l| l.starts_with(mac))
        .and_then(|l| l.split_whitespace().skip_while(|w| *w != "dev").nth(1))
        .map(str::to_string)
}

fn vip_answers_from_the_virtual_mac(tag: &str, variant: Variant) {
    let (dev, mac) = vmac_of(variant);
    let lab = Lab::new(tag, variant);
    let c1 = lab.write_config(H1, 200, "vmac = true");
    let c2 = lab.write_config(H2, 100, "vmac = true");
    let mut h1 = lab.start(H1, &c1);
    let _h2 = lab.start(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || vip_on(&lab, H1, dev)).is_some(),
        "h1 never put the VIP on {dev}"
    );
    let link = lab.host(H1).ip(&["-o", "link", "show", "dev", dev]);
    check!(
        lab,
        link.contains(mac),
        "{dev} does not have the virtual MAC {mac}: {link}"
    );
    if variant.ipv6 {
        // No link-local (or SLAAC) address from the shared MAC: it would
        // be the same on the Backup's vmac and fail DAD or flap the MAC.
        for idx in [H1, H2] {
            let addrs = ipv6_addresses(&lab, idx, dev);
            check!(
                lab,
                !addrs.contains("fe80:"),
                "h{} {dev} has a link-local address: {addrs}",
                idx + 1
            );
        }
    }
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.client_pings_vip()).is_some(),
        "client cannot ping the VIP"
    );
    check!(
        lab,
        lab.client_neighbour_mac().as_deref() == Some(mac),
        "client resolved the VIP to {:?}, not the virtual MAC",
        lab.client_neighbour_mac()
    );

    kill(h1.pid(), libc::SIGTERM);
    let _ = h1.child().wait();
    check!(
        lab,
        wait_for(Duration::from_secs(2), || vip_on(&lab, H2, dev)).is_some(),
        "h2 did not take the VIP on its {dev}"
    );
    let gone = lab.host(H1).ip_try(&["link", "show", "dev", dev]);
    check!(
        lab,
        !gone.status.success(),
        "{dev} left on h1 after a clean stop"
    );
    check!(
        lab,
        wait_for(Duration::from_secs(3), || lab.client_pings_vip()).is_some(),
        "client cannot reach the VIP on h2"
    );
    check!(
        lab,
        lab.client_neighbour_mac().as_deref() == Some(mac),
        "client MAC changed to {:?}",
        lab.client_neighbour_mac()
    );

    // Preempt back. The Backup's vmac must then stay silent: one frame
    // from it (an MLD report when its VIP's solicited-node group is left,
    // say) would move the virtual MAC to its bridge port and black-hole
    // the VIP until the Active's next announcement, 5 s later.
    let mut h1 = lab.start(H1, &c1);
    check!(
        lab,
        wait_for(Duration::from_secs(3), || vip_on(&lab, H1, dev)
            && !vip_on(&lab, H2, dev))
        .is_some(),
        "h1 did not preempt back"
    );
    std::thread::sleep(Duration::from_millis(3000));
    let port = learned_port(&lab, mac);
    check!(
        lab,
        port.as_deref() == Some(lab.lan.port(H1).as_str()),
        "the bridge learned the virtual MAC on {port:?}, not on h1's port {}",
        lab.lan.port(H1)
    );
    check!(
        lab,
        lab.client_pings_vip(),
        "client cannot reach the VIP after the preemption"
    );
    kill(h1.pid(), libc::SIGTERM);
    let _ = h1.child().wait();
}

#[test]
fn vip_answers_from_the_virtual_mac_ipv4() {
    if !vrrp_testns::netns_available("vip_answers_from_the_virtual_mac_ipv4") {
        return;
    }
    vip_answers_from_the_virtual_mac("vm4", Variant::V3_IPV4);
}

#[test]
fn vip_answers_from_the_virtual_mac_ipv6() {
    if !vrrp_testns::netns_available("vip_answers_from_the_virtual_mac_ipv6") {
        return;
    }
    vip_answers_from_the_virtual_mac("vm6", Variant::V3_IPV6);
}

/// A `kill -9` leaves the macvlan and the parent's ARP sysctls behind; the
/// next start deletes and restores them (it does not take the macvlan for
/// someone else's), and that run leaves nothing at its own clean stop.
#[test]
fn the_next_start_undoes_what_a_crashed_run_left_for_its_vmac() {
    if !vrrp_testns::netns_available("the_next_start_undoes_what_a_crashed_run_left_for_its_vmac") {
        return;
    }
    let variant = Variant::V3_IPV4;
    let (dev, _) = vmac_of(variant);
    let lab = Lab::new("vmcr", variant);
    let knobs = |lab: &Lab| -> Vec<String> {
        ["arp_ignore", "arp_filter", "arp_announce"]
            .iter()
            .map(|k| {
                lab.host(H1)
                    .exec(&["cat", &format!("/proc/sys/net/ipv4/conf/eth0/{k}")])
                    .trim()
                    .to_string()
            })
            .collect()
    };
    let link_exists = |lab: &Lab| {
        lab.host(H1)
            .ip_try(&["link", "show", "dev", dev])
            .status
            .success()
    };
    let before = knobs(&lab);
    let c1 = lab.write_config(H1, 200, "vmac = true");
    let mut h1 = lab.start(H1, &c1);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || vip_on(&lab, H1, dev)).is_some(),
        "h1 never put the VIP on {dev}"
    );
    let during = knobs(&lab);
    check!(
        lab,
        during != before,
        "the vmac changed no sysctl: {during:?}"
    );
    kill(h1.pid(), libc::SIGKILL);
    let _ = h1.child().wait();
    check!(lab, link_exists(&lab), "the crash took {dev} with it");
    let record = std::fs::read_to_string(lab.host_dir(H1).join("state").join("vmacs.json"));
    check!(
        lab,
        record.as_deref().is_ok_and(|r| r.contains(dev)),
        "the crashed run recorded no {dev}: {record:?}"
    );
    check!(lab, knobs(&lab) == during, "the crash restored the sysctls");

    let mut h1 = lab.start(H1, &c1);
    // The crash left the VIP on the old macvlan: wait for the clean-up
    // first, then for the new macvlan's VIP.
    let cleaned = || {
        lab.log(H1)
            .contains("deleted a macvlan left by a previous run")
    };
    check!(
        lab,
        wait_for(Duration::from_secs(5), cleaned).is_some(),
        "the restart did not clean up {dev}"
    );
    let active_again = || lab.log(H1).matches("-> active").count() == 2 && vip_on(&lab, H1, dev);
    check!(
        lab,
        wait_for(Duration::from_secs(5), active_again).is_some(),
        "the restarted h1 never put the VIP on {dev}"
    );
    kill(h1.pid(), libc::SIGTERM);
    let status = h1.child().wait().unwrap();
    check!(lab, status.success(), "h1 exited with {status}");
    check!(lab, !link_exists(&lab), "{dev} left after the clean stop");
    check!(
        lab,
        knobs(&lab) == before,
        "sysctls left at {:?}, were {before:?}",
        knobs(&lab)
    );
}
