//! End-to-end: keepalived.conf keywords of the VRRP half shown by their
//! effect on the real `vrrpd` (two hosts and a client on one bridge):
//! `vrrp_mcast_group4`, `unicast_ttl` and `skip_check_adv_addr`.

mod e2e_support;

use std::path::PathBuf;
use std::time::Duration;

use e2e_support::{CLIENT, H1, H2, Lab, Variant, kill, wait_for};

/// Writes host `idx`'s keepalived.conf: `global` inside global_defs and
/// `instance` inside the one vrrp_instance (VRID 51 on eth0).
fn write_conf(lab: &Lab, idx: usize, priority: u8, global: &str, instance: &str) -> PathBuf {
    let path = lab.host_dir(idx).join("keepalived.conf");
    let text = format!(
        "global_defs {{\n{global}\n}}\nvrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    \
         virtual_router_id 51\n    priority {priority}\n{instance}\n}}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// `count` VRRP packets seen on `idx`'s eth0 that match `filter` (tcpdump
/// syntax), one line each, verbose (TTL shown).
fn capture(lab: &Lab, idx: usize, count: &str, filter: &[&str]) -> String {
    let mut argv = vec![
        "timeout", "5", "tcpdump", "-i", "eth0", "-c", count, "-v", "-nn", "-l",
    ];
    argv.extend_from_slice(filter);
    let out = lab.host(idx).exec_try(&argv);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tcpdump_available() -> bool {
    if vrrp_testns::have_program("tcpdump") {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "tcpdump is missing in CI");
    eprintln!("skipped: no tcpdump");
    false
}

const V3_100MS: &str = "    version 3\n    advert_int 0.1\n";

#[test]
fn vrrp_mcast_group4_moves_the_adverts_to_another_group() {
    if !vrrp_testns::netns_available("vrrp_mcast_group4_moves_the_adverts_to_another_group")
        || !tcpdump_available()
    {
        return;
    }
    let variant = Variant::V3_IPV4;
    let lab = Lab::new("mg", variant);
    let global = "    vrrp_mcast_group4 224.0.0.50";
    let vips = "    virtual_ipaddress {\n        198.18.0.100/24\n    }";
    let c1 = write_conf(&lab, H1, 200, global, &format!("{V3_100MS}{vips}"));
    let c2 = write_conf(&lab, H2, 100, global, &format!("{V3_100MS}{vips}"));
    let mut h1 = lab.start_keepalived_conf(H1, &c1);
    let _h2 = lab.start_keepalived_conf(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "h1 never became Active"
    );
    // h2 hears h1 only through the group it joined: it stays Backup.
    std::thread::sleep(variant.interval_dur * 6);
    check!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "VIP not only on h1 with vrrp_mcast_group4"
    );
    let maddr = lab.host(H2).ip(&["maddr", "show", "dev", "eth0"]);
    check!(
        lab,
        maddr.contains("224.0.0.50") && !maddr.contains("224.0.0.18"),
        "h2 did not join 224.0.0.50 (and only it): {maddr}"
    );
    let seen = capture(&lab, CLIENT, "3", &["ip", "proto", "112"]);
    check!(
        lab,
        seen.matches("> 224.0.0.50: VRRPv3").count() == 3,
        "adverts not sent to 224.0.0.50: {seen}"
    );
    let took = lab.time_until_vip(H2, Duration::from_secs(5), || kill(h1.pid(), libc::SIGTERM));
    check!(lab, took.is_some(), "h2 did not take over on 224.0.0.50");
    let _ = h1.child().wait();
}

#[test]
fn unicast_ttl_is_sent_and_a_lower_ttl_is_accepted() {
    if !vrrp_testns::netns_available("unicast_ttl_is_sent_and_a_lower_ttl_is_accepted")
        || !tcpdump_available()
    {
        return;
    }
    let variant = Variant::V3_IPV4;
    let lab = Lab::new("ut", variant);
    let vips = "    virtual_ipaddress {\n        198.18.0.100/24\n    }";
    let unicast = |me: &str, peer: &str| {
        format!(
            "{V3_100MS}    unicast_src_ip {me}\n    unicast_peer {{\n        {peer}\n    }}\n    unicast_ttl 64\n{vips}"
        )
    };
    let c1 = write_conf(&lab, H1, 200, "", &unicast("198.18.0.1", "198.18.0.2"));
    let c2 = write_conf(&lab, H2, 100, "", &unicast("198.18.0.2", "198.18.0.1"));
    let _h1 = lab.start_keepalived_conf(H1, &c1);
    let _h2 = lab.start_keepalived_conf(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)).is_some(),
        "h1 never became Active"
    );
    let seen = capture(
        &lab,
        H2,
        "2",
        &["ip", "proto", "112", "and", "src", "198.18.0.1"],
    );
    check!(
        lab,
        seen.matches("ttl 64,").count() == 2,
        "h1's unicast adverts do not have TTL 64: {seen}"
    );
    // h2 accepts adverts whose TTL is not 255 in unicast mode, as
    // keepalived does: it stays Backup.
    std::thread::sleep(variant.interval_dur * 6);
    check!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "h2 refused h1's TTL-64 adverts and took the VIP as well"
    );
}

/// VRRPv2 drops an advert whose address list is not the Backup's. After h1
/// (Active) reloads with one more VIP, h2 takes over unless it has
/// `skip_check_adv_addr`, which trusts the Active it already accepted.
fn after_the_active_adds_a_vip(skip: bool) -> bool {
    let variant = Variant::V2_IPV4;
    let lab = Lab::new(if skip { "sk" } else { "sc" }, variant);
    let one = "    virtual_ipaddress {\n        198.18.0.100/24\n    }";
    let two = "    virtual_ipaddress {\n        198.18.0.100/24\n        198.18.0.101/24\n    }";
    let c1 = write_conf(&lab, H1, 200, "", one);
    let own = if skip {
        "    skip_check_adv_addr\n"
    } else {
        ""
    };
    let c2 = write_conf(&lab, H2, 100, "", &format!("{own}{one}"));
    let h1 = lab.start_keepalived_conf(H1, &c1);
    let _h2 = lab.start_keepalived_conf(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(8), || lab.has_vip(H1)).is_some(),
        "h1 never became Active"
    );
    std::thread::sleep(variant.interval_dur * 2);
    check!(lab, !lab.has_vip(H2), "h2 took the VIP before the reload");
    write_conf(&lab, H1, 200, "", two);
    kill(h1.pid(), libc::SIGHUP);
    // Master_Down_Interval at priority 100 is 3.6 s; wait past it.
    let took = wait_for(variant.master_down(100) + Duration::from_secs(2), || {
        lab.has_vip(H2)
    });
    took.is_some()
}

#[test]
fn skip_check_adv_addr_keeps_the_backup_when_the_active_changes_its_list() {
    if !vrrp_testns::netns_available(
        "skip_check_adv_addr_keeps_the_backup_when_the_active_changes_its_list",
    ) {
        return;
    }
    assert!(
        after_the_active_adds_a_vip(false),
        "without skip_check_adv_addr, h2 should drop the new list and take over"
    );
    assert!(
        !after_the_active_adds_a_vip(true),
        "with skip_check_adv_addr, h2 took over after the Active's list changed"
    );
}
