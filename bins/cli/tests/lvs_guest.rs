//! End-to-end: keepalived's LVS half run by the real `vrrpd` against a
//! real IPVS. The host kernel has none, so `in_the_ipvs_guest` boots
//! Debian's kernel under qemu once and runs the `#[ignore]`d tests below
//! in it: a director (h1, holding the VIP by VRRP), three real servers
//! with small HTTP servers (one also over TLS), and a client, on one
//! bridge.

mod e2e_support;
mod interop_support;

use std::path::PathBuf;
use std::time::Duration;

use e2e_support::{CLIENT, H1, H2, Lab, Variant, kill, wait_for};
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

const VIP: &str = "198.18.0.100";
/// The MD5 of r3's page ("r3"), as `genhash` prints it.
const R3_DIGEST: &str = "9d3e622df914d8de7f747b7b8b143c52";
const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;

/// The lab plus three real servers (198.18.0.21, .22 and .23, hosts 3
/// to 5) whose replies to the client go back through whichever director
/// holds the VIP (NAT).
fn lvs_lab(tag: &str) -> Lab {
    let mut lab = Lab::new(tag, Variant::V3_IPV4);
    for (name, addr) in [
        ("r1", "198.18.0.21/24"),
        ("r2", "198.18.0.22/24"),
        ("r3", "198.18.0.23/24"),
    ] {
        let idx = lab.lan.add_host(name, &[addr]);
        lab.host(idx)
            .ip(&["route", "add", "198.18.0.10/32", "via", VIP]);
    }
    for d in [H1, H2] {
        lab.host(d)
            .exec(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    }
    lab
}

/// An HTTP server on port 8080 of real server `idx` whose page names it.
fn serve(lab: &Lab, idx: usize, name: &str) -> ChildGuard {
    serve_on(lab, idx, name, 8080)
}

/// The directory of real server `idx`'s page, which names it.
fn www(lab: &Lab, idx: usize, name: &str) -> PathBuf {
    let root = lab.host_dir(idx).join("www");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), name).unwrap();
    root
}

/// Waits until something listens on `port` of host `idx`.
fn wait_listening(lab: &Lab, idx: usize, port: u16, what: &str) {
    let probe = format!("import socket; socket.create_connection(('127.0.0.1', {port}), 1)");
    let up = wait_for(Duration::from_secs(20), || {
        lab.host(idx)
            .exec_try(&["python3", "-c", &probe])
            .status
            .success()
    });
    assert!(up.is_some(), "{what} did not start");
}

/// An HTTP server on `port` of real server `idx` whose page names it.
fn serve_on(lab: &Lab, idx: usize, name: &str, port: u16) -> ChildGuard {
    let root = www(lab, idx, name);
    let server = lab.host(idx).spawn(&[
        "python3",
        "-m",
        "http.server",
        &port.to_string(),
        "--bind",
        "0.0.0.0",
        "--directory",
        root.to_str().unwrap(),
    ]);
    wait_listening(lab, idx, port, &format!("the HTTP server of {name}"));
    server
}

/// An HTTPS server on port 8443 of real server `idx` (a fresh self-signed
/// certificate) serving the same page; it writes each TLS server name a
/// client sends (SNI) to `sni.log` in the host's directory.
fn serve_tls(lab: &Lab, idx: usize, name: &str) -> ChildGuard {
    let root = www(lab, idx, name);
    let dir = lab.host_dir(idx);
    let (cert, key, sni) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("sni.log"),
    );
    if !cert.exists() {
        lab.host(idx).exec(&[
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ]);
    }
    let script = format!(
        "import functools, http.server, ssl\n\
         ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
         ctx.load_cert_chain({cert:?}, {key:?})\n\
         def named(sock, name, _ctx):\n    open({sni:?}, 'a').write(f'{{name}}\\n')\n\
         ctx.sni_callback = named\n\
         handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory={root:?})\n\
         srv = http.server.ThreadingHTTPServer(('0.0.0.0', 8443), handler)\n\
         srv.socket = ctx.wrap_socket(srv.socket, server_side=True)\n\
         srv.serve_forever()\n"
    );
    let server = lab.host(idx).spawn(&["python3", "-c", &script]);
    wait_listening(lab, idx, 8443, &format!("the HTTPS server of {name}"));
    server
}

fn write_conf(lab: &Lab) -> PathBuf {
    write_conf_for(lab, H1, 200, "")
}

/// Director `idx`'s keepalived.conf: the VRRP instance at `priority`, and
/// the virtual server with `extra` inside it.
fn write_conf_for(lab: &Lab, idx: usize, priority: u8, extra: &str) -> PathBuf {
    let path = lab.host_dir(idx).join("keepalived.conf");
    let text = format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
virtual_server {VIP} 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
{extra}
    real_server 198.18.0.21 8080 {{
        TCP_CHECK {{
            connect_timeout 1
        }}
    }}
    real_server 198.18.0.22 8080 {{
        HTTP_GET {{
            url {{
                path /
                status_code 200
            }}
            connect_timeout 1
            retry 0
        }}
    }}
    real_server 198.18.0.23 8080 {{
        SSL_GET {{
            url {{
                path /
                digest {R3_DIGEST}
            }}
            connect_port 8443
            connect_timeout 1
            delay_before_retry 1
            enable_sni
            virtualhost r3.example
        }}
    }}
}}
"
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn table(lab: &Lab) -> String {
    table_of(lab, H1)
}

fn table_of(lab: &Lab, idx: usize) -> String {
    lab.host(idx).exec(&["ipvsadm", "-Ln"])
}

/// `vrrpctl lvs --json` of director `idx`.
fn lvs_json(lab: &Lab, idx: usize) -> String {
    lab.host(idx).exec(&[
        env!("CARGO_BIN_EXE_vrrpctl"),
        "--socket",
        lab.control_socket(idx).to_str().unwrap(),
        "lvs",
        "--json",
    ])
}

/// What the client gets from the VIP, or why not (python's error).
fn fetch(lab: &Lab) -> String {
    let out = lab.host(CLIENT).exec_try(&[
        "python3",
        "-c",
        &format!("import urllib.request; print(urllib.request.urlopen('http://{VIP}/', timeout=2).read().decode())"),
    ]);
    if out.status.success() {
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        format!("failed: {}", err.lines().last().unwrap_or_default())
    }
}

/// Fetches through the VIP until both r1 and r2 answered (30 s at most):
/// how long it took, and every answer seen.
fn reaches_both(lab: &Lab) -> (Option<Duration>, std::collections::BTreeSet<String>) {
    reaches_all(lab, &["r1", "r2"])
}

/// Fetches through the VIP until each of `names` answered (30 s at most).
fn reaches_all(
    lab: &Lab,
    names: &[&str],
) -> (Option<Duration>, std::collections::BTreeSet<String>) {
    let mut seen = std::collections::BTreeSet::new();
    let reached = wait_for(Duration::from_secs(30), || {
        seen.insert(fetch(lab));
        names.iter().all(|n| seen.contains(*n))
    });
    (reached, seen)
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

/// IPVS's count of connections to the first service of director `idx`,
/// once it is at least `min` (the kernel folds its counters in every 2 s).
fn connections_at_least(lab: &Lab, idx: usize, min: u64) -> Option<u64> {
    let mut seen = 0;
    wait_for(Duration::from_secs(10), || {
        let json: serde_json::Value = serde_json::from_str(&lvs_json(lab, idx)).unwrap();
        seen = json["virtual_servers"][0]["counters"]["connections"]
            .as_u64()
            .unwrap_or(0);
        seen >= min
    })
    .map(|_| seen)
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
    let conf = write_conf(&lab);
    let mut d = lab.start_keepalived_conf(H1, &conf);
    let up = wait_for(Duration::from_secs(20), || {
        table(&lab).contains(&format!("{VIP}:80"))
    });
    check!(lab, up.is_some(), "no service:\n{}", table(&lab));
    // kill -9: everything stays behind.
    kill(d.pid(), SIGKILL);
    let _ = d.child().wait();
    assert!(table(&lab).contains(&format!("{VIP}:80")));
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

/// A keepalived.conf of LVS keywords whose effect shows in the table:
/// schedulers and their flags (and the `lvs_sched`/`lvs_method` names),
/// every forwarding method, persistence and its granularity, one-packet
/// UDP (the protocol left to its default), weights and thresholds,
/// inhibit_on_failure, a sorry server for real servers that do not answer
/// (nothing listens on 198.18.0.23:9999) and one kept at weight 0
/// (`sorry_server_inhibit`, with its own `sorry_server_lvs_method`),
/// quorum with hysteresis and its hooks, notify hooks and `omega` (the
/// hooks touch files in `@HOOKS@`), every checker (HTTP_GET with digest and
/// status_code, SSL_GET with SNI on r3's 8443, MISC_CHECK whose exit
/// status sets the weight, TCP_CHECK on a `connect_ip`/`connect_port`),
/// and `alpha`.
const PARITY_CONF: &str = "
virtual_server 198.18.0.100 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    persistence_timeout 300
    persistence_granularity 255.255.255.0
    retry 1
    delay_before_retry 1
    quorum 2
    hysteresis 1
    quorum_up \"/usr/bin/touch @HOOKS@/q100-up\"
    quorum_down \"/usr/bin/touch @HOOKS@/q100-down\"
    omega
    real_server 198.18.0.21 8080 {
        weight 2
        uthreshold 100
        lthreshold 10
        TCP_CHECK {
            bindto 198.18.0.1
            connect_timeout 1
            warmup 0
        }
    }
    real_server 198.18.0.22 8080 {
        weight 3
        notify_up \"/usr/bin/touch @HOOKS@/r2-up\"
        notify_down \"/usr/bin/touch @HOOKS@/r2-down\"
        HTTP_GET {
            url {
                path /
            }
            connect_timeout 1
            warmup 0
        }
    }
    real_server 198.18.0.23 9999 {
        inhibit_on_failure
        weight 4
        TCP_CHECK {
            connect_timeout 1
            warmup 0
        }
    }
}
virtual_server 198.18.0.101 53 {
    delay_loop 1
    lb_algo wlc
    ops
    real_server 198.18.0.21 53 {
    }
}
virtual_server fwmark 5 {
    delay_loop 1
    lb_algo sh
    sh-port
    sh-fallback
    lb_kind DR
    real_server 198.18.0.21 80 {
        weight 5
    }
}
virtual_server 198.18.0.102 443 {
    delay_loop 1
    protocol TCP
    lb_algo mh
    mh-port
    lb_kind TUN type gue port 6080 csum
    real_server 198.18.0.22 443 {
    }
}
virtual_server 198.18.0.103 80 {
    delay_loop 1
    protocol TCP
    lb_algo lc
    sorry_server 198.18.0.22 8080
    quorum_down \"/usr/bin/touch @HOOKS@/q103-down\"
    real_server 198.18.0.23 9999 {
        TCP_CHECK {
            connect_timeout 1
            warmup 0
        }
    }
}
virtual_server 198.18.0.104 8080 {
    delay_loop 1
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
    alpha
    real_server 198.18.0.22 8080 {
        weight 6
        HTTP_GET {
            url {
                path /
                digest d279186428a75016b17e4df5ea43d080
                status_code 200
            }
            url {
                path /
                status_code 200-299
            }
            nb_get_retry 1
            connect_timeout 1
            warmup 0
        }
    }
    real_server 198.18.0.23 8080 {
        weight 7
        SSL_GET {
            url {
                path /
                digest 9d3e622df914d8de7f747b7b8b143c52
            }
            connect_port 8443
            connect_timeout 1
            enable_sni
            virtualhost r3.example
            warmup 0
        }
    }
    real_server 198.18.0.21 9000 {
        MISC_CHECK {
            misc_path \"/bin/sh -c 'exit 7'\"
            user nobody
            misc_timeout 2
            misc_dynamic
            warmup 0
        }
    }
    real_server 198.18.0.23 9999 {
        weight 8
        TCP_CHECK {
            connect_ip 198.18.0.21
            connect_port 8080
            connect_timeout 1
            warmup 0
        }
    }
}
virtual_server 198.18.0.105 80 {
    delay_loop 1
    protocol TCP
    lb_kind DR
    sorry_server 198.18.0.23 80
    sorry_server_inhibit
    sorry_server_lvs_method NAT
    real_server 198.18.0.21 80 {
    }
}
";

/// `ipvsadm -Ln --sort` of director `idx`, with the tunnel columns.
fn sorted_table(lab: &Lab, idx: usize) -> String {
    let plain = lab.host(idx).exec(&["ipvsadm", "-Ln", "--sort"]);
    let tun = lab
        .host(idx)
        .exec(&["ipvsadm", "-Ln", "--sort", "--tun-info"]);
    format!("{plain}{tun}")
}

/// Whether an `ipvsadm -Ln` listing has a service line.
fn has_services(table: &str) -> bool {
    table.lines().any(|l| {
        ["TCP ", "UDP ", "SCTP ", "FWM "]
            .iter()
            .any(|p| l.starts_with(p))
    })
}

/// Waits until `idx`'s table stops changing for 3 s (checks every 1 s),
/// and returns it.
fn settled_table(lab: &Lab, idx: usize) -> String {
    let mut last = sorted_table(lab, idx);
    let mut stable_since = std::time::Instant::now();
    let start = std::time::Instant::now();
    while stable_since.elapsed() < Duration::from_secs(3)
        && start.elapsed() < Duration::from_secs(40)
    {
        std::thread::sleep(Duration::from_millis(250));
        let now = sorted_table(lab, idx);
        if now != last {
            last = now;
            stable_since = std::time::Instant::now();
        }
    }
    last
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn keepalived_and_vrrpd_build_the_same_table_from_the_same_file() {
    assert_in_ipvs_guest();
    let lab = lvs_lab("lvspar");
    let _r1 = serve(&lab, 3, "r1");
    let mut r2 = serve(&lab, 4, "r2");
    let _r3 = serve_tls(&lab, 5, "r3");
    let path = lab.host_dir(H1).join("parity.conf");
    // Each daemon's hooks touch files here; compared after each run.
    let hooks = lab.host_dir(H1).join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::write(
        &path,
        PARITY_CONF.replace("@HOOKS@", hooks.to_str().unwrap()),
    )
    .unwrap();
    let touched = || {
        // The hooks are processes of their own: let the last ones end.
        std::thread::sleep(Duration::from_secs(1));
        let mut names: Vec<String> = std::fs::read_dir(&hooks)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in &names {
            std::fs::remove_file(hooks.join(n)).unwrap();
        }
        names
    };
    println!("{}", interop_support::keepalived_version());
    // keepalived's checker process alone, on the file.
    let dir = lab.host_dir(H1);
    let mut k = vrrp_testns::ChildGuard::new(
        lab.host(H1)
            .command(interop_support::keepalived())
            .args(["--dont-fork", "--log-console", "--log-detail", "--check"])
            .arg("--use-file")
            .arg(&path)
            .arg("--pid")
            .arg(dir.join("k.pid"))
            .arg("--checkers_pid")
            .arg(dir.join("k-check.pid"))
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(dir.join("keepalived.log")).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn keepalived"),
    );
    std::thread::sleep(Duration::from_secs(3));
    let theirs = settled_table(&lab, H1);
    kill(r2.pid(), SIGKILL);
    let _ = r2.child().wait();
    std::thread::sleep(Duration::from_secs(2));
    let theirs_failed = settled_table(&lab, H1);
    kill(k.pid(), SIGTERM);
    let _ = k.child().wait();
    let empty = wait_for(Duration::from_secs(10), || {
        !has_services(&sorted_table(&lab, H1))
    });
    assert!(
        empty.is_some(),
        "keepalived left:\n{}",
        sorted_table(&lab, H1)
    );
    let their_hooks = touched();
    // vrrpd on the same file, r2 back first.
    let mut r2 = serve(&lab, 4, "r2");
    let mut d = lab.start_keepalived_conf(H1, &path);
    std::thread::sleep(Duration::from_secs(3));
    let ours = settled_table(&lab, H1);
    kill(r2.pid(), SIGKILL);
    let _ = r2.child().wait();
    std::thread::sleep(Duration::from_secs(2));
    let ours_failed = settled_table(&lab, H1);
    kill(d.pid(), SIGTERM);
    let _ = d.child().wait();
    let our_hooks = touched();
    let log = std::fs::read_to_string(dir.join("keepalived.log")).unwrap_or_default();
    check!(
        lab,
        ours == theirs,
        "with every server up:\n== keepalived\n{theirs}\n== vrrpd\n{ours}\n== keepalived log\n{log}"
    );
    check!(
        lab,
        ours_failed == theirs_failed,
        "after r2 failed:\n== keepalived\n{theirs_failed}\n== vrrpd\n{ours_failed}"
    );
    // The file exercises what it should.
    for needle in [
        "persistent 300 mask 255.255.255.0",
        "Masq",
        "Route",
        "Tunnel",
        "sh-fallback,sh-port",
        "ops",
        "198.18.0.23:9999",
        "198.18.0.23:8080",
    ] {
        assert!(theirs.contains(needle), "no {needle:?} in\n{theirs}");
    }
    // misc_dynamic: exit 7 is weight 5; r2's digest and r3's over TLS
    // matched; the TCP_CHECK on connect_ip passed; the inhibited sorry
    // server waits at weight 0.
    let has = |t: &str, dest: &str, how: &str| {
        t.lines().any(|l| {
            let l = l.split_whitespace().collect::<Vec<_>>().join(" ");
            l.contains(&format!("{dest} {how}"))
        })
    };
    for (dest, how) in [
        ("198.18.0.21:9000", "Masq 5"),
        ("198.18.0.22:8080", "Masq 6"),
        ("198.18.0.23:8080", "Masq 7"),
        ("198.18.0.23:9999", "Masq 8"),
        // sorry_server_inhibit: in the table at weight 0 while unneeded.
        ("198.18.0.23:80", "Masq 0"),
    ] {
        assert!(has(&theirs, dest, how), "no {dest} {how} in\n{theirs}");
    }
    assert_ne!(theirs, theirs_failed, "r2's failure changed nothing");
    // The same hooks ran: notify_down, quorum_down at a start with the
    // sorry server, and whatever omega adds at the stop.
    assert!(
        their_hooks.iter().any(|h| h == "r2-down"),
        "{their_hooks:?}"
    );
    check!(
        lab,
        our_hooks == their_hooks,
        "hooks run: keepalived {their_hooks:?}, vrrpd {our_hooks:?}"
    );
    assert!(
        !has_services(&sorted_table(&lab, H1)),
        "vrrpd left:\n{}",
        sorted_table(&lab, H1)
    );
}
