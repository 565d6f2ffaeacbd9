//! keepalived's `disable_local_igmp` on the real `vrrpd`, side by side with
//! keepalived 2.2.7 on the same file: IGMP reports for 224.0.0.0/24
//! (`net.ipv4.igmp_link_local_mcast_reports`, per network namespace) are
//! off while the daemon runs and back on after a clean stop. h1 alone.

mod e2e_support;
mod interop_support;

use std::time::Duration;

use e2e_support::{H1, Lab, Variant, kill, wait_for};
use interop_support::{keepalived_version, start_keepalived};

const CONF: &str = "global_defs {
    router_id h1
    disable_local_igmp
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

fn reports(lab: &Lab) -> String {
    lab.host(H1)
        .exec(&["cat", "/proc/sys/net/ipv4/igmp_link_local_mcast_reports"])
        .trim()
        .to_string()
}

#[test]
fn disable_local_igmp_turns_reports_off_while_running_as_keepalived_does() {
    if !vrrp_testns::netns_available(
        "disable_local_igmp_turns_reports_off_while_running_as_keepalived_does",
    ) {
        return;
    }
    eprintln!("compared with {}", keepalived_version());
    let lab = Lab::new("ig", Variant::V2_IPV4);
    assert_eq!(reports(&lab), "1", "the namespace's default");
    let path = lab.host_dir(H1).join("vrrpd-keepalived.conf");
    std::fs::write(&path, CONF).unwrap();
    let mut results = Vec::new();
    for daemon in ["vrrpd", "keepalived"] {
        let mut child = if daemon == "vrrpd" {
            lab.start_keepalived_conf(H1, &path)
        } else {
            start_keepalived(&lab, H1, CONF)
        };
        let off = wait_for(Duration::from_secs(5), || reports(&lab) == "0").is_some();
        kill(child.pid(), libc::SIGTERM);
        let _ = child.child().wait();
        let back = reports(&lab) == "1";
        eprintln!("{daemon}: off while running {off}, back on after a stop {back}");
        results.push((off, back));
    }
    if results != [(true, true), (true, true)] {
        lab.dump_logs();
    }
    assert_eq!(
        results[1],
        (true, true),
        "keepalived did not do as expected"
    );
    assert_eq!(results[0], (true, true), "vrrpd");
}
