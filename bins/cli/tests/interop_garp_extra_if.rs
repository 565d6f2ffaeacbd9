//! keepalived's `garp_extra_if all N` on the real `vrrpd`, side by side
//! with keepalived 2.2.7 on the same file: while Active, one gratuitous
//! ARP every N seconds on each other interface that holds a VIP (`dev`),
//! for the first VIP there only, so that switches keep that interface's
//! MAC. h1 alone, a veth pair `eth1`/`eth1p` in its namespace for the
//! second interface.

mod e2e_support;
mod interop_support;

use std::time::Duration;

use e2e_support::{H1, Lab, Variant, kill, wait_for};
use interop_support::{keepalived_log, keepalived_version, start_keepalived};

const CONF: &str = "global_defs {
    router_id h1
    vrrp_version 3
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 1
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 0.1
    garp_extra_if all 1
    virtual_ipaddress {
        198.18.0.100/24
        198.18.1.100/24 dev eth1
        198.18.1.101/24 dev eth1
    }
}
";

/// The gratuitous ARPs seen on eth1 in 3.5 s once the VIPs are there:
/// (for 198.18.1.100, for 198.18.1.101).
fn extra_garps(lab: &Lab) -> (usize, usize) {
    let ok = wait_for(Duration::from_secs(5), || {
        lab.host(H1)
            .ip(&["-4", "addr", "show", "dev", "eth1"])
            .contains("198.18.1.101")
    })
    .is_some();
    assert!(ok, "the VIPs never reached eth1");
    // After the takeover's own burst.
    std::thread::sleep(Duration::from_millis(300));
    let out = lab.host(H1).exec_try(&[
        "timeout", "3.5", "tcpdump", "-i", "eth1p", "-nn", "-l", "arp",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{text}");
    let count = |ip: &str| {
        text.lines()
            // keepalived's target MAC is ff:ff:ff:ff:ff:ff, which tcpdump
            // prints after the address; vrrpd's is zero.
            .filter(|l| l.contains(&format!("who-has {ip} ")) && l.contains(&format!("tell {ip},")))
            .count()
    };
    (count("198.18.1.100"), count("198.18.1.101"))
}

#[test]
fn garp_extra_if_refreshes_other_interfaces_as_keepalived_does() {
    if !vrrp_testns::netns_available("garp_extra_if_refreshes_other_interfaces_as_keepalived_does")
    {
        return;
    }
    if !vrrp_testns::have_program("tcpdump") {
        assert!(std::env::var_os("CI").is_none(), "tcpdump is missing in CI");
        eprintln!("skipped: no tcpdump");
        return;
    }
    eprintln!("compared with {}", keepalived_version());
    let lab = Lab::new("gx", Variant::V3_IPV4);
    let h1 = lab.host(H1);
    h1.ip(&[
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
    ]);
    h1.ip(&["link", "set", "eth1", "up"]);
    h1.ip(&["link", "set", "eth1p", "up"]);

    let path = lab.host_dir(H1).join("vrrpd-keepalived.conf");
    std::fs::write(&path, CONF).unwrap();
    let mut vrrpd = lab.start_keepalived_conf(H1, &path);
    let ours = extra_garps(&lab);
    kill(vrrpd.pid(), libc::SIGTERM);
    let _ = vrrpd.child().wait();
    let gone = wait_for(Duration::from_secs(3), || {
        !lab.host(H1)
            .ip(&["-4", "addr", "show", "dev", "eth1"])
            .contains("198.18.1.100")
    });
    assert!(gone.is_some(), "vrrpd left its VIPs on eth1");

    let _k = start_keepalived(&lab, H1, CONF);
    let theirs = extra_garps(&lab);
    eprintln!("garp_extra_if all 1 over 3.5 s: vrrpd {ours:?}, keepalived {theirs:?}");
    if !(3..=4).contains(&ours.0) || ours.1 != 0 || ours != theirs {
        lab.dump_logs();
        eprintln!("----- keepalived -----\n{}", keepalived_log(&lab, H1));
    }
    assert!(
        (3..=4).contains(&ours.0) && ours.1 == 0,
        "vrrpd sent {ours:?}, not one per second for the first VIP on eth1 only"
    );
    assert_eq!(ours, theirs, "vrrpd and keepalived differ");
}
