//! End-to-end: keepalived's `vrrp_strict` and non-accept mode shown by
//! their effect on the real `vrrpd` (two hosts and a client on one
//! bridge): the Active drops packets to its VIPs through keepalived's
//! nftables tables, which move with the VIPs, go at a stop and after a
//! crash at the next start; and keepalived 2.2.7, given the same file,
//! builds the same tables.

mod e2e_support;
mod interop_support;

use std::path::PathBuf;
use std::time::Duration;

use e2e_support::{CLIENT, H1, H2, Lab, Variant, kill, wait_for};
use interop_support::{keepalived_log, start_keepalived};

fn conf(priority: u8, global: &str) -> String {
    format!(
        "global_defs {{\n{global}\n}}\nvrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    \
         virtual_router_id 51\n    priority {priority}\n    version 3\n    advert_int 0.1\n    \
         virtual_ipaddress {{\n        198.18.0.100/24\n    }}\n    \
         virtual_ipaddress_excluded {{\n        fd00:198:18::100/64\n    }}\n}}\n"
    )
}

fn write_conf(lab: &Lab, idx: usize, priority: u8, global: &str) -> PathBuf {
    let path = lab.host_dir(idx).join("keepalived.conf");
    std::fs::write(&path, conf(priority, global)).unwrap();
    path
}

fn nft_available() -> bool {
    if vrrp_testns::have_program("nft") || std::path::Path::new("/usr/sbin/nft").exists() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "nft is missing in CI");
    eprintln!("skipped: no nft");
    false
}

/// `nft list table FAMILY keepalived` on host `idx`, or empty if none.
fn table(lab: &Lab, idx: usize, family: &str) -> String {
    let out = lab
        .host(idx)
        .exec_try(&["nft", "list", "table", family, "keepalived"]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether host `idx`'s filter drops the VIPs (both families).
fn filters_vips(lab: &Lab, idx: usize) -> bool {
    table(lab, idx, "ip").contains("198.18.0.100")
        && table(lab, idx, "ip6").contains("fd00:198:18::100")
}

fn pings(lab: &Lab, from: usize, to: &str) -> bool {
    lab.host(from)
        .exec_try(&["ping", "-c", "1", "-W", "1", to])
        .status
        .success()
}

#[test]
fn vrrp_strict_drops_packets_to_the_vips_while_active_and_cleans_up() {
    if !vrrp_testns::netns_available(
        "vrrp_strict_drops_packets_to_the_vips_while_active_and_cleans_up",
    ) || !nft_available()
    {
        return;
    }
    let lab = Lab::new("st", Variant::V3_IPV4);
    let c1 = write_conf(&lab, H1, 200, "    vrrp_strict");
    let c2 = write_conf(&lab, H2, 100, "    vrrp_strict");
    let mut h1 = lab.start_keepalived_conf(H1, &c1);
    let mut h2 = lab.start_keepalived_conf(H2, &c2);
    let t = Duration::from_secs(5);
    check!(
        lab,
        wait_for(t, || lab.has_vip(H1) && filters_vips(&lab, H1)).is_some(),
        "h1 never held the VIPs in its filter: {}",
        table(&lab, H1, "ip")
    );
    check!(lab, !lab.has_vip(H2), "h2 holds the VIP too");
    check!(
        lab,
        !table(&lab, H2, "ip").contains("198.18.0.100"),
        "the Backup filters the VIP"
    );
    // Non-accept mode: the VIP answers no ping; the host's own address does.
    check!(
        lab,
        pings(&lab, CLIENT, "198.18.0.1"),
        "h1's own address does not answer"
    );
    check!(
        lab,
        !pings(&lab, CLIENT, "198.18.0.100"),
        "the VIP answered a ping in non-accept mode"
    );
    check!(
        lab,
        !pings(&lab, CLIENT, "fd00:198:18::100"),
        "the IPv6 VIP answered a ping in non-accept mode"
    );
    // The election still runs over the filter: h2 stays Backup.
    std::thread::sleep(Duration::from_millis(600));
    check!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "the filter broke the election"
    );

    // A clean stop: the filter moves with the VIPs; h1 keeps no table.
    kill(h1.pid(), libc::SIGTERM);
    let _ = h1.child().wait();
    check!(
        lab,
        wait_for(t, || lab.has_vip(H2) && filters_vips(&lab, H2)).is_some(),
        "h2 took over without the filter"
    );
    check!(
        lab,
        table(&lab, H1, "ip").is_empty() && table(&lab, H1, "ip6").is_empty(),
        "h1 left its tables behind"
    );

    // A crash leaves the tables; the next start (in accept mode) deletes
    // them, and a table of the same name it did not make stays.
    kill(h2.pid(), libc::SIGKILL);
    let _ = h2.child().wait();
    check!(
        lab,
        filters_vips(&lab, H2),
        "kill -9 removed the tables (it cannot)"
    );
    let c2 = write_conf(&lab, H2, 100, "");
    let _h2 = lab.start_keepalived_conf(H2, &c2);
    check!(
        lab,
        wait_for(t, || table(&lab, H2, "ip").is_empty()
            && table(&lab, H2, "ip6").is_empty())
        .is_some(),
        "the restart did not delete the tables the crashed run made"
    );
    check!(
        lab,
        wait_for(t, || lab.has_vip(H2) && pings(&lab, CLIENT, "198.18.0.100")).is_some(),
        "in accept mode the VIP does not answer"
    );
}

#[test]
fn a_table_someone_else_made_is_left_alone() {
    if !vrrp_testns::netns_available("a_table_someone_else_made_is_left_alone") || !nft_available()
    {
        return;
    }
    let lab = Lab::new("so", Variant::V3_IPV4);
    lab.host(H1)
        .exec(&["nft", "add", "table", "ip", "keepalived"]);
    let c1 = write_conf(&lab, H1, 200, "    vrrp_strict");
    let mut h1 = lab.start_keepalived_conf(H1, &c1);
    let t = Duration::from_secs(5);
    check!(
        lab,
        wait_for(t, || lab.has_vip(H1)).is_some(),
        "h1 never became Active"
    );
    check!(
        lab,
        wait_for(t, || lab
            .log(H1)
            .contains("cannot create the no_accept filter"))
        .is_some(),
        "no error says the filter is off"
    );
    kill(h1.pid(), libc::SIGTERM);
    let _ = h1.child().wait();
    check!(
        lab,
        lab.host(H1)
            .exec_try(&["nft", "list", "table", "ip", "keepalived"])
            .status
            .success(),
        "the stop deleted someone else's table"
    );
}

/// The lines of a table listing, trimmed and sorted (nft lists chains and
/// sets in the order they were made, which differs).
fn lines(listing: &str) -> Vec<String> {
    let mut out: Vec<String> = listing
        .lines()
        .map(|l| l.trim().trim_end_matches(',').to_string())
        .filter(|l| !l.is_empty())
        .collect();
    out.sort();
    out
}

#[test]
fn keepalived_builds_the_same_tables() {
    if !vrrp_testns::netns_available("keepalived_builds_the_same_tables") || !nft_available() {
        return;
    }
    let lab = Lab::new("sk", Variant::V3_IPV4);
    same_tables(&lab, &conf(200, "    vrrp_strict"), |lab| {
        filters_vips(lab, H1)
    });
}

#[test]
fn keepalived_builds_the_same_tables_for_a_link_local_vip() {
    if !vrrp_testns::netns_available("keepalived_builds_the_same_tables_for_a_link_local_vip")
        || !nft_available()
    {
        return;
    }
    let lab = Lab::new("sl", Variant::V3_IPV6);
    let text = "global_defs {\n    vrrp_strict\n}\nvrrp_instance VI_6 {\n    state BACKUP\n    \
                interface eth0\n    virtual_router_id 52\n    priority 200\n    advert_int 0.1\n    \
                virtual_ipaddress {\n        fe80::52/64\n        fd00:198:18::100/64\n    }\n}\n";
    same_tables(&lab, text, |lab| {
        let t = table(lab, H1, "ip6");
        t.contains("fe80::52 . \"eth0\"") && t.contains("fd00:198:18::100")
    });
}

/// Runs keepalived 2.2.7 then vrrpd on `text` on h1 alone, each until
/// `ready`, and compares their tables.
fn same_tables(lab: &Lab, text: &str, ready: impl Fn(&Lab) -> bool) {
    let t = Duration::from_secs(10);
    let keepalived = {
        let mut k = start_keepalived(lab, H1, text);
        let ok = wait_for(t, || ready(lab)).is_some();
        let seen = (table(lab, H1, "ip"), table(lab, H1, "ip6"));
        kill(k.pid(), libc::SIGTERM);
        let _ = k.child().wait();
        check!(
            lab,
            ok,
            "keepalived never filtered: {seen:?}\n{}",
            keepalived_log(lab, H1)
        );
        seen
    };
    check!(
        lab,
        table(lab, H1, "ip").is_empty() && table(lab, H1, "ip6").is_empty(),
        "keepalived left its table behind"
    );
    let path = lab.host_dir(H1).join("same.conf");
    std::fs::write(&path, text).unwrap();
    let mut v = lab.start_keepalived_conf(H1, &path);
    check!(
        lab,
        wait_for(t, || ready(lab)).is_some(),
        "vrrpd never filtered"
    );
    let ours = (table(lab, H1, "ip"), table(lab, H1, "ip6"));
    kill(v.pid(), libc::SIGTERM);
    let _ = v.child().wait();
    check!(
        lab,
        lines(&ours.0) == lines(&keepalived.0) && lines(&ours.1) == lines(&keepalived.1),
        "vrrpd and keepalived differ:\nvrrpd:\n{}\n{}\nkeepalived:\n{}\n{}",
        ours.0,
        ours.1,
        keepalived.0,
        keepalived.1
    );
}
