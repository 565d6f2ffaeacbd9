//! keepalived's `interface_up_down_delays` on the real `vrrpd`, side by
//! side with keepalived 2.2.7 on the same file: with a 1.5 s down delay on
//! eth0, a 0.5 s link bounce leaves the Active instance alone, and a 3 s
//! outage puts it in Fault (and its VIP away) only once 1.5 s have passed.
//! h1 alone, VRRPv3 at 1 s.

mod e2e_support;
mod interop_support;

use std::time::{Duration, Instant};

use e2e_support::{H1, Lab, Variant, kill, wait_for};
use interop_support::{keepalived_log, keepalived_version, start_keepalived};

const CONF: &str = "global_defs {
    router_id h1
    vrrp_version 3
}
interface_up_down_delays {
    eth0 1.5
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        198.18.0.100/24
    }
}
";

/// What one daemon did: (Fault after the short bounce, seconds from the
/// long outage's start to the VIP leaving, or `None`).
fn run(lab: &Lab, log: &dyn Fn() -> String, fault_word: &str) -> (bool, Option<f64>) {
    let h1 = lab.host(H1);
    let ok = wait_for(Duration::from_secs(8), || lab.has_vip(H1)).is_some();
    assert!(ok, "never Active:\n{}", log());
    h1.ip(&["link", "set", "eth0", "down"]);
    std::thread::sleep(Duration::from_millis(500));
    h1.ip(&["link", "set", "eth0", "up"]);
    std::thread::sleep(Duration::from_secs(2));
    let bounced = log().contains(fault_word);
    let ok = wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some();
    assert!(ok, "VIP not back after the bounce:\n{}", log());
    let start = Instant::now();
    h1.ip(&["link", "set", "eth0", "down"]);
    let gone = wait_for(Duration::from_secs(3), || !lab.has_vip(H1))
        .map(|_| start.elapsed().as_secs_f64());
    h1.ip(&["link", "set", "eth0", "up"]);
    (bounced, gone)
}

#[test]
fn interface_up_down_delays_ride_out_a_bounce_as_keepalived_does() {
    if !vrrp_testns::netns_available(
        "interface_up_down_delays_ride_out_a_bounce_as_keepalived_does",
    ) {
        return;
    }
    eprintln!("compared with {}", keepalived_version());
    let lab = Lab::new("ld", Variant::V3_IPV4);
    let path = lab.host_dir(H1).join("vrrpd-keepalived.conf");
    std::fs::write(&path, CONF).unwrap();
    let mut vrrpd = lab.start_keepalived_conf(H1, &path);
    let ours = run(&lab, &|| lab.log(H1), "-> fault");
    kill(vrrpd.pid(), libc::SIGTERM);
    let _ = vrrpd.child().wait();
    let ok = wait_for(Duration::from_secs(3), || !lab.has_vip(H1)).is_some();
    assert!(ok, "vrrpd left its VIP");

    let mut k = start_keepalived(&lab, H1, CONF);
    let theirs = run(&lab, &|| keepalived_log(&lab, H1), "Entering FAULT STATE");
    kill(k.pid(), libc::SIGTERM);
    let _ = k.child().wait();
    eprintln!("bounce faulted, outage -> VIP gone (s): vrrpd {ours:?}, keepalived {theirs:?}");
    let good = |(bounced, gone): (bool, Option<f64>)| {
        !bounced && gone.is_some_and(|s| (1.4..2.5).contains(&s))
    };
    if !good(ours) || !good(theirs) {
        lab.dump_logs();
        eprintln!("----- keepalived -----\n{}", keepalived_log(&lab, H1));
    }
    assert!(
        good(theirs),
        "keepalived did not behave as expected: {theirs:?}"
    );
    assert!(good(ours), "vrrpd: {ours:?}");
}
