//! End-to-end: once its sockets are open, `vrrpd` keeps only CAP_NET_ADMIN
//! and CAP_NET_RAW (plus CAP_SETUID, CAP_SETGID and CAP_KILL when scripts
//! run as another user), in every thread, as /proc/PID/task/*/status shows;
//! and it still does its job with what it kept: VIPs added after the drop,
//! a socket opened by a reload after the drop.

mod e2e_support;

use std::time::Duration;

use e2e_support::{H1, Lab, Variant, wait_for};
use vrrpd::system::{Capability, CapabilitySets, needed};

/// The capability sets of every thread of `pid`.
fn threads(pid: u32) -> Vec<(String, CapabilitySets)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let path = entry.unwrap().path().join("status");
        let text = std::fs::read_to_string(&path).unwrap();
        let sets = CapabilitySets::parse(&text).expect("Cap* lines in status");
        out.push((path.display().to_string(), sets));
    }
    out
}

fn assert_only(lab: &Lab, pid: u32, keep: &[Capability]) {
    let mask = CapabilitySets::mask(keep);
    let all = threads(pid);
    check!(lab, !all.is_empty(), "no threads of {pid}");
    for (path, sets) in all {
        check!(
            lab,
            sets.effective == mask && sets.permitted == mask && sets.bounding == mask,
            "{path}: effective {:#x}, permitted {:#x}, bounding {:#x}; want {mask:#x}",
            sets.effective,
            sets.permitted,
            sets.bounding
        );
        check!(
            lab,
            sets.inheritable == 0,
            "{path}: inheritable {:#x}",
            sets.inheritable
        );
    }
}

fn has_addr(lab: &Lab, dev: &str, addr: &str) -> bool {
    lab.host(H1)
        .ip(&["-o", "addr", "show", "dev", dev])
        .split_whitespace()
        .any(|w| w.split('/').next() == Some(addr))
}

#[test]
fn vrrpd_keeps_only_the_network_capabilities() {
    if !vrrp_testns::netns_available("vrrpd_keeps_only_the_network_capabilities") {
        return;
    }
    let lab = Lab::new("pc", Variant::V3_IPV4);
    let config = lab.write_config(H1, 200, "");
    let h1 = lab.start(H1, &config);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "h1 never became Active (its VIP is added after the drop)"
    );
    let keep = [Capability::NET_ADMIN, Capability::NET_RAW];
    assert_eq!(needed(false), keep);
    assert_only(&lab, h1.pid(), &keep);

    // A reload adds an instance on a new interface: its raw socket is
    // opened, and its VIP added, with the reduced set.
    let host = lab.host(H1);
    host.veth_to("eth1", &lab.lan.switch, "q0");
    lab.lan.switch.ip(&["link", "set", "q0", "master", "br0"]);
    host.ip(&["addr", "add", "198.18.1.1/24", "dev", "eth1"]);
    let extra = "\n[[instance]]\nname = \"VI_2\"\ninterface = \"eth1\"\nvrid = 52\n\
                 priority = 200\nadvert_interval = \"100ms\"\nvips = [\"198.18.1.100/24\"]\n";
    let text = std::fs::read_to_string(&config).unwrap() + extra;
    std::fs::write(&config, text).unwrap();
    h1.signal(libc::SIGHUP);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || has_addr(
            &lab,
            "eth1",
            "198.18.1.100"
        ))
        .is_some(),
        "the instance added by the reload never became Active"
    );
    assert_only(&lab, h1.pid(), &keep);
}

#[test]
fn vrrpd_keeps_setuid_when_scripts_run_as_another_user() {
    if !vrrp_testns::netns_available("vrrpd_keeps_setuid_when_scripts_run_as_another_user") {
        return;
    }
    let lab = Lab::new("pu", Variant::V3_IPV4);
    let config = lab.write_config(H1, 200, "");
    // A global script user: the daemon must still be able to switch to it.
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "[global]\n",
        "[global]\nscript_user = \"nobody\"\n",
        1,
    );
    std::fs::write(&config, text).unwrap();
    let h1 = lab.start(H1, &config);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "h1 never became Active"
    );
    let keep = needed(true);
    for c in [Capability::SETUID, Capability::SETGID, Capability::KILL] {
        assert!(keep.contains(&c));
    }
    assert_only(&lab, h1.pid(), &keep);
}
