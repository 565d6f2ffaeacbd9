//! End-to-end: unicast peers (keepalived's `unicast_peer`) on the real
//! `vrrpd` (v3/IPv4, 100 ms): election and graceful takeover work with no
//! multicast membership at all.

mod e2e_support;

use std::time::Duration;

use e2e_support::{H1, H2, Lab, Variant, kill, wait_for};

#[test]
fn unicast_peers_elect_and_fail_over_without_multicast() {
    if !vrrp_testns::netns_available("unicast_peers_elect_and_fail_over_without_multicast") {
        return;
    }
    let variant = Variant::V3_IPV4;
    let lab = Lab::new("uc", variant);
    let c1 = lab.write_config(H1, 200, "unicast_peers = [\"198.18.0.2\"]");
    let c2 = lab.write_config(H2, 100, "unicast_peers = [\"198.18.0.1\"]");
    let mut h1 = lab.start(H1, &c1);
    let _h2 = lab.start(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "h1 never became Active"
    );
    std::thread::sleep(variant.interval_dur * 5);
    check!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "VIP not only on h1 in unicast mode"
    );
    for idx in [H1, H2] {
        let maddr = lab.host(idx).ip(&["maddr", "show", "dev", "eth0"]);
        check!(
            lab,
            !maddr.contains("224.0.0.18"),
            "h{} joined the VRRP group in unicast mode: {maddr}",
            idx + 1
        );
    }
    let bound = variant.skew(100) + Duration::from_millis(50);
    let took = lab.time_until_vip(H2, Duration::from_secs(5), || kill(h1.pid(), libc::SIGTERM));
    eprintln!("unicast SIGTERM takeover took {took:?} (bound {bound:?})");
    check!(
        lab,
        took.is_some_and(|t| t <= bound),
        "unicast takeover {took:?} over {bound:?}"
    );
    let _ = h1.child().wait();
    check!(lab, !lab.has_vip(H1), "VIP left on h1");
}
