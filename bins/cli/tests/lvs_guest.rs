//! End-to-end: keepalived's LVS half run by the real `vrrpd` against a
//! real IPVS. The host kernel has none, so `in_the_ipvs_guest` boots
//! Debian's kernel under qemu once and runs the `#[ignore]`d tests below
//! in it: a director (h1, holding the VIP by VRRP), three real servers
//! with small HTTP servers (one also over TLS), and a client, on one
//! bridge.

mod e2e_support;
mod interop_support;
#[path = "lvs_guest/lab.rs"]
mod lab;
#[path = "lvs_guest/parity.rs"]
mod parity;

use std::time::Duration;

use e2e_support::{H1, H2, kill, wait_for};
use lab::*;
use vrrp_testns::ChildGuard;
use vrrp_testns::guest::{self, assert_in_ipvs_guest};

const GUEST_TESTS: usize = 7;

#[test]
fn in_the_ipvs_guest() {
    if !guest::ipvs_guest_available("vrrpd LVS tests") {
        return;
    }
    guest::run_ignored_tests_in_ipvs_guest(GUEST_TESTS, Duration::from_secs(900));
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn real_servers_leave_and_rejoin_the_table_as_their_checks_fail_and_pass() {
    assert_in_ipvs_guest();
    let lab = lvs_lab("lvs");
    let _r1 = serve(&lab, 3, "r1");
    let mut r2 = serve(&lab, 4, "r2");
    let _r3 = serve(&lab, 5, "r3");
    let mut r3_tls = serve_tls(&lab, 5, "r3");
    let conf = write_conf(&lab);
    let _d = lab.start_keepalived_conf(H1, &conf);
    let both = wait_for(Duration::from_secs(20), || {
        let t = table(&lab);
        t.contains("198.18.0.21:8080")
            && t.contains("198.18.0.22:8080")
            && t.contains("198.18.0.23:8080")
    });
    check!(
        lab,
        both.is_some(),
        "the real servers are not in the table:\n{}",
        table(&lab)
    );
    let t = table(&lab);
    assert!(t.contains(&format!("TCP  {VIP}:80 rr")), "{t}");
    assert!(t.contains("Masq"), "{t}");
    // The VIP is up (VRRP) and round robin spreads the client's requests
    // over all three.
    let (reached, seen) = reaches_all(&lab, &["r1", "r2", "r3"]);
    check!(
        lab,
        reached.is_some(),
        "the client reached {seen:?} through the VIP\n{}",
        table(&lab)
    );
    // `vrrpctl lvs` shows IPVS's counters of what the client did (the
    // kernel folds its per-CPU counters in every 2 s: read until they
    // have all three connections).
    let mut vs = serde_json::Value::Null;
    let counted = wait_for(Duration::from_secs(10), || {
        vs = serde_json::from_str::<serde_json::Value>(&lvs_json(&lab, H1)).unwrap()
            ["virtual_servers"][0]
            .take();
        let per_real = |i: usize| {
            vs["real_servers"][i]["counters"]["stats"]["connections"]
                .as_u64()
                .unwrap_or(0)
        };
        let conns = vs["counters"]["connections"].as_u64().unwrap_or(0);
        conns >= 3 && (0..3).all(|i| per_real(i) >= 1) && (0..3).map(per_real).sum::<u64>() == conns
    });
    assert!(counted.is_some(), "IPVS counters: {vs}");
    // SSL_GET checked r3 over TLS, sending its virtualhost as SNI.
    let sni = std::fs::read_to_string(lab.host_dir(5).join("sni.log")).unwrap_or_default();
    assert!(sni.lines().any(|l| l == "r3.example"), "SNI seen: {sni:?}");
    // r3's TLS side dies: SSL_GET fails and r3 leaves, though its HTTP
    // still answers.
    kill(r3_tls.pid(), SIGKILL);
    let _ = r3_tls.child().wait();
    let gone = wait_for(Duration::from_secs(10), || {
        !table(&lab).contains("198.18.0.23:8080")
    });
    check!(
        lab,
        gone.is_some(),
        "r3 stayed in the table:\n{}",
        table(&lab)
    );
    // r2's HTTP dies: with `retry 0`, out of the table at its next check,
    // within delay_loop + connect_timeout (2 s; 1 s more for the guest's
    // emulated CPU).
    kill(r2.pid(), SIGKILL);
    let _ = r2.child().wait();
    let gone = wait_for(Duration::from_secs(10), || {
        !table(&lab).contains("198.18.0.22:8080")
    });
    check!(
        lab,
        gone.is_some(),
        "r2 stayed in the table:\n{}",
        table(&lab)
    );
    assert!(gone.unwrap() <= Duration::from_secs(3), "took {gone:?}");
    assert_eq!(fetch(&lab), "r1");
    let status = lab.host(H1).exec(&[
        env!("CARGO_BIN_EXE_vrrpctl"),
        "--socket",
        lab.control_socket(H1).to_str().unwrap(),
        "lvs",
    ]);
    assert!(
        status.contains("198.18.0.22:8080") && status.contains("DOWN"),
        "{status}"
    );
    // It comes back.
    let _r2 = serve(&lab, 4, "r2");
    let back = wait_for(Duration::from_secs(10), || {
        table(&lab).contains("198.18.0.22:8080")
    });
    check!(
        lab,
        back.is_some(),
        "r2 did not come back:\n{}",
        table(&lab)
    );
    assert!(lab.log(H1).contains("real server down"), "{}", lab.log(H1));
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn a_reload_changes_the_real_servers_in_place_and_keeps_the_service() {
    assert_in_ipvs_guest();
    let lab = lvs_lab("lvsreload");
    let _r1 = serve(&lab, 3, "r1");
    let _r2 = serve(&lab, 4, "r2");
    let _r3 = serve(&lab, 5, "r3");
    let _r3_tls = serve_tls(&lab, 5, "r3");
    let conf = write_conf(&lab);
    let _d = lab.start_keepalived_conf(H1, &conf);
    let (reached, seen) = reaches_all(&lab, &["r1", "r2", "r3"]);
    check!(
        lab,
        reached.is_some(),
        "the client reached {seen:?}\n{}",
        table(&lab)
    );
    let before = connections_at_least(&lab, H1, 3);
    check!(lab, before.is_some(), "no connections counted");
    // The new file: r2 goes, r1 weighs 4, the scheduler is wrr.
    let text = std::fs::read_to_string(&conf).unwrap();
    let (head, rest) = text
        .split_once("    real_server 198.18.0.22 8080 {")
        .unwrap();
    let (_, tail) = rest
        .split_once("    real_server 198.18.0.23 8080 {")
        .unwrap();
    let edited = format!("{head}    real_server 198.18.0.23 8080 {{{tail}")
        .replace("lb_algo rr", "lb_algo wrr")
        .replace(
            "    real_server 198.18.0.21 8080 {\n",
            "    real_server 198.18.0.21 8080 {\n        weight 4\n",
        );
    std::fs::write(&conf, edited).unwrap();
    let out = lab.host(H1).exec(&[
        env!("CARGO_BIN_EXE_vrrpctl"),
        "--socket",
        lab.control_socket(H1).to_str().unwrap(),
        "reload",
    ]);
    println!("{out}");
    let squeezed = |t: &str| {
        t.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let changed = wait_for(Duration::from_secs(10), || {
        let t = squeezed(&table(&lab));
        t.contains(&format!("TCP {VIP}:80 wrr"))
            && t.contains("-> 198.18.0.21:8080 Masq 4")
            && t.contains("-> 198.18.0.23:8080 Masq 1")
            && !t.contains("198.18.0.22:8080")
    });
    check!(
        lab,
        changed.is_some(),
        "the reload did not reach the table:\n{}",
        table(&lab)
    );
    // The same service, edited in place: its counters were not reset, and
    // the VIP stayed.
    let after = connections_at_least(&lab, H1, before.unwrap());
    check!(
        lab,
        after.is_some(),
        "the service was recreated: {}",
        lvs_json(&lab, H1)
    );
    assert!(lab.has_vip(H1));
    let (reached, seen) = reaches_all(&lab, &["r1", "r3"]);
    check!(
        lab,
        reached.is_some() && !seen.contains("r2"),
        "after the reload the client reached {seen:?}"
    );
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn a_stop_removes_only_its_services_and_a_restart_cleans_up_after_a_crash() {
    assert_in_ipvs_guest();
    let lab = lvs_lab("lvsstop");
    // Someone else's service, which vrrpd must never touch.
    lab.host(H1)
        .exec(&["ipvsadm", "-A", "-t", "198.18.0.200:80", "-s", "wlc"]);
    // lvs_timeouts: set while vrrpd runs, the kernel's own after a stop,
    // even when a crash came between.
    let timeouts = || {
        let out = lab.host(H1).exec(&["ipvsadm", "-L", "--timeout"]);
        out.trim()
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let kernels = timeouts();
    let conf = write_conf(&lab);
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        format!("global_defs {{\n    lvs_timeouts tcp 7200 tcpfin 60 udp 200\n}}\n{text}"),
    )
    .unwrap();
    let mut d = lab.start_keepalived_conf(H1, &conf);
    let up = wait_for(Duration::from_secs(20), || {
        table(&lab).contains(&format!("{VIP}:80"))
    });
    check!(lab, up.is_some(), "no service:\n{}", table(&lab));
    assert_eq!(timeouts(), "7200 60 200", "the kernel's were {kernels}");
    // kill -9: everything stays behind.
    kill(d.pid(), SIGKILL);
    let _ = d.child().wait();
    assert!(table(&lab).contains(&format!("{VIP}:80")));
    assert_eq!(timeouts(), "7200 60 200");
    // The next start cleans up and sets it up again, once.
    let mut d = lab.start_keepalived_conf(H1, &conf);
    let again = wait_for(Duration::from_secs(20), || {
        lab.log(H1)
            .contains("cleaned up an IPVS service left by a previous run")
            && table(&lab).contains(&format!("{VIP}:80"))
    });
    check!(lab, again.is_some(), "no clean-up:\n{}", table(&lab));
    assert_eq!(table(&lab).matches(&format!("{VIP}:80")).count(), 1);
    // SIGTERM: ours goes, theirs stays.
    kill(d.pid(), SIGTERM);
    let status = d.child().wait().unwrap();
    assert!(status.success(), "{status}");
    let t = table(&lab);
    assert!(!t.contains(&format!("{VIP}:80")), "{t}");
    assert!(t.contains("TCP  198.18.0.200:80 wlc"), "{t}");
    assert_eq!(timeouts(), kernels, "the kernel's timeouts are not back");
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn a_failover_moves_the_vip_to_the_second_director_whose_table_serves() {
    assert_in_ipvs_guest();
    let lab = lvs_lab("lvsfo");
    let _r1 = serve(&lab, 3, "r1");
    let _r2 = serve(&lab, 4, "r2");
    // ha_suspend: a director checks only while it holds the VIP.
    let c1 = write_conf_for(&lab, H1, 200, "    ha_suspend");
    let c2 = write_conf_for(&lab, H2, 100, "    ha_suspend");
    let mut d1 = lab.start_keepalived_conf(H1, &c1);
    let _d2 = lab.start_keepalived_conf(H2, &c2);
    let (reached, seen) = reaches_both(&lab);
    check!(
        lab,
        reached.is_some(),
        "through h1 the client reached {seen:?}"
    );
    // Both directors have the table; only the VIP's holder checks.
    assert!(
        table_of(&lab, H2).contains("198.18.0.22:8080"),
        "{}",
        table_of(&lab, H2)
    );
    let suspended = wait_for(Duration::from_secs(10), || {
        lvs_json(&lab, H2).contains("\"suspended\": true")
            && lvs_json(&lab, H1).contains("\"suspended\": false")
    });
    check!(
        lab,
        suspended.is_some(),
        "h1: {}\nh2: {}",
        lvs_json(&lab, H1),
        lvs_json(&lab, H2)
    );
    // h1 dies: h2 takes the VIP, resumes its checks and serves.
    kill(d1.pid(), SIGKILL);
    let _ = d1.child().wait();
    let moved = wait_for(Duration::from_secs(10), || lab.has_vip(H2));
    check!(lab, moved.is_some(), "h2 did not take the VIP over");
    let (reached, seen) = reaches_both(&lab);
    check!(
        lab,
        reached.is_some(),
        "through h2 the client reached {seen:?}\n{}",
        table_of(&lab, H2)
    );
    let resumed = wait_for(Duration::from_secs(10), || {
        lvs_json(&lab, H2).contains("\"suspended\": false")
    });
    check!(
        lab,
        resumed.is_some(),
        "h2 still suspended: {}",
        lvs_json(&lab, H2)
    );
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn with_every_real_server_down_the_sorry_server_serves_and_quorum_down_runs() {
    assert_in_ipvs_guest();
    let mut lab = lvs_lab("lvssorry");
    // r3 serves nothing: its check fails from the start.
    let r4 = lab.lan.add_host("r4", &["198.18.0.24/24"]);
    lab.host(r4)
        .ip(&["route", "add", "198.18.0.10/32", "via", VIP]);
    let mut r1 = serve(&lab, 3, "r1");
    let mut r2 = serve(&lab, 4, "r2");
    let _r4 = serve(&lab, r4, "sorry");
    let marker = lab.host_dir(H1).join("quorum-down");
    let extra = format!(
        "    sorry_server 198.18.0.24 8080\n    quorum_down \"/usr/bin/touch {}\"",
        marker.display()
    );
    let conf = write_conf_for(&lab, H1, 200, &extra);
    let _d = lab.start_keepalived_conf(H1, &conf);
    let mut last = String::new();
    let up = wait_for(Duration::from_secs(20), || {
        last = fetch(&lab);
        last == "r1" || last == "r2"
    });
    check!(
        lab,
        up.is_some(),
        "no service through the VIP (last answer {last:?}):\n{}",
        table(&lab)
    );
    assert!(!table(&lab).contains("198.18.0.24:8080"), "{}", table(&lab));
    for r in [&mut r1, &mut r2] {
        kill(r.pid(), SIGKILL);
        let _ = r.child().wait();
    }
    let sorry = wait_for(Duration::from_secs(15), || {
        let t = table(&lab);
        t.contains("198.18.0.24:8080")
            && !t.contains("198.18.0.21:8080")
            && !t.contains("198.18.0.22:8080")
            && !t.contains("198.18.0.23:8080")
    });
    check!(lab, sorry.is_some(), "no sorry server:\n{}", table(&lab));
    assert_eq!(fetch(&lab), "sorry");
    let hook = wait_for(Duration::from_secs(5), || marker.exists());
    check!(lab, hook.is_some(), "quorum_down did not run");
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn with_direct_routing_three_real_servers_answer_the_client_themselves() {
    assert_in_ipvs_guest();
    let lab = lvs_lab("lvsdr");
    let reals = [(3, "r1"), (4, "r2"), (5, "r3")];
    for (idx, _) in reals {
        // DR: each real server holds the VIP on lo, never answers ARP
        // for it, and replies to the client directly.
        let h = lab.host(idx);
        h.ip(&["route", "del", "198.18.0.10/32"]);
        h.ip(&["addr", "add", &format!("{VIP}/32"), "dev", "lo"]);
        h.exec(&[
            "sysctl",
            "-qw",
            "net.ipv4.conf.all.arp_ignore=1",
            "net.ipv4.conf.all.arp_announce=2",
        ]);
    }
    let mut servers: Vec<ChildGuard> = reals
        .iter()
        .map(|&(idx, name)| serve_on(&lab, idx, name, 80))
        .collect();
    let path = lab.host_dir(H1).join("keepalived.conf");
    let reals_conf: String = ["21", "22", "23"]
        .iter()
        .map(|n| {
            format!(
                "    real_server 198.18.0.{n} 80 {{\n        TCP_CHECK {{\n            connect_timeout 1\n        }}\n    }}\n"
            )
        })
        .collect();
    std::fs::write(
        &path,
        format!(
            "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 200
    advert_int 1
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
virtual_server {VIP} 80 {{
    delay_loop 1
    lvs_sched rr
    lvs_method DR
    protocol TCP
{reals_conf}}}
"
        ),
    )
    .unwrap();
    let _d = lab.start_keepalived_conf(H1, &path);
    let routed = wait_for(Duration::from_secs(20), || {
        table(&lab).matches("Route").count() == 3
    });
    check!(
        lab,
        routed.is_some(),
        "not three DR real servers:\n{}",
        table(&lab)
    );
    let (reached, seen) = reaches_all(&lab, &["r1", "r2", "r3"]);
    check!(
        lab,
        reached.is_some(),
        "the client reached {seen:?} through the VIP\n{}",
        table(&lab)
    );
    // The replies bypassed the director: IPVS saw packets in, none out.
    let json: serde_json::Value = serde_json::from_str(&lvs_json(&lab, H1)).unwrap();
    let counters = &json["virtual_servers"][0]["counters"];
    assert!(
        counters["packets_in"].as_u64().unwrap_or(0) > 0
            && counters["packets_out"].as_u64() == Some(0),
        "{counters}"
    );
    // r2 dies: the other two serve alone.
    let r2 = &mut servers[1];
    kill(r2.pid(), SIGKILL);
    let _ = r2.child().wait();
    let gone = wait_for(Duration::from_secs(10), || {
        !table(&lab).contains("198.18.0.22:80")
    });
    check!(
        lab,
        gone.is_some(),
        "r2 stayed in the table:\n{}",
        table(&lab)
    );
    for _ in 0..6 {
        let got = fetch(&lab);
        assert!(got == "r1" || got == "r3", "{got}\n{}", table(&lab));
    }
}
