//! keepalived 2.2.7's checker and vrrpd on one keepalived.conf, one after
//! the other in the same guest: the same `ipvsadm -Ln` table, the same
//! table after a real server fails, and the same hooks run.

use std::time::Duration;

use crate::check;
use crate::e2e_support::{H1, Lab, kill, wait_for};
use crate::interop_support;
use crate::lab::{
    SIGKILL, SIGTERM, lvs_lab, serve, serve_dns, serve_smtp, serve_tls, serve_udp_echo,
};
use vrrp_testns::guest::assert_in_ipvs_guest;

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
/// `alpha`, `ha_suspend` on an address the host does not hold, and
/// UDP_CHECK against an echo server (a reply pattern with a wildcard) and
/// against a closed port (ICMP port unreachable), DNS_CHECK against a
/// DNS server (NOERROR in, NXDOMAIN out) and a closed port, PING_CHECK
/// against a host and an address nobody has, and SMTP_CHECK against a
/// server, a closed port and with `host` blocks (each with its own
/// `connect_timeout`: without one keepalived 2.2.7 gives a host a timeout
/// of 0, and it always fails; vrrpd gives it the real server's).
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
        UDP_CHECK {
            payload 01 02 03
            require_reply 01 x2 03
            min_reply_length 3
            max_reply_length 16
            connect_timeout 1
            warmup 0
        }
    }
    real_server 198.18.0.22 53 {
        UDP_CHECK {
            payload 0a
            connect_timeout 1
            warmup 0
        }
    }
}
virtual_server 198.18.0.107 53 {
    delay_loop 1
    protocol UDP
    real_server 198.18.0.21 5300 {
        DNS_CHECK {
            type A
            name ok.test
            retry 0
            connect_timeout 1
            warmup 0
        }
    }
    real_server 198.18.0.21 5301 {
        DNS_CHECK {
            name bad.test
            connect_port 5300
            retry 0
            connect_timeout 1
            warmup 0
        }
    }
    real_server 198.18.0.23 5300 {
        DNS_CHECK {
            type SOA
            retry 0
            connect_timeout 1
            warmup 0
        }
    }
}
virtual_server 198.18.0.108 80 {
    delay_loop 1
    real_server 198.18.0.21 81 {
        PING_CHECK {
            retry 0
            connect_timeout 1
            warmup 0
        }
    }
    real_server 198.18.0.29 81 {
        PING_CHECK {
            retry 0
            connect_timeout 1
            warmup 0
        }
    }
}
virtual_server 198.18.0.109 25 {
    delay_loop 1
    protocol TCP
    real_server 198.18.0.21 2525 {
        SMTP_CHECK {
            helo_name check.test
            retry 0
            connect_timeout 1
            warmup 0
        }
    }
    real_server 198.18.0.22 2525 {
        SMTP_CHECK {
            retry 0
            connect_timeout 1
            warmup 0
        }
    }
    real_server 198.18.0.21 2526 {
        connect_timeout 1
        SMTP_CHECK {
            retry 0
            warmup 0
            host {
                connect_port 2525
                connect_timeout 1
            }
        }
    }
    real_server 198.18.0.21 2527 {
        connect_timeout 1
        SMTP_CHECK {
            retry 0
            warmup 0
            host {
                connect_port 2525
                connect_timeout 1
            }
            host {
                connect_ip 198.18.0.22
                connect_port 2525
                connect_timeout 1
            }
        }
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
virtual_server 198.18.0.106 80 {
    delay_loop 1
    protocol TCP
    ha_suspend
    real_server 198.18.0.23 9999 {
        TCP_CHECK {
            connect_timeout 1
            warmup 0
        }
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
    // r1 echoes on UDP 53; nothing listens on r2's, which answers with
    // ICMP port unreachable.
    let _r1_udp = serve_udp_echo(&lab, 3, 53);
    // r1 answers DNS on 5300: NOERROR for ok.test, NXDOMAIN otherwise;
    // nothing listens on r3's 5300 (r3, not r2: r2's ICMP errors are
    // rate-limited per destination, and r2's UDP 53 needs them).
    let _r1_dns = serve_dns(&lab, 3, 5300);
    // r1 speaks SMTP on 2525; nothing listens on r2's.
    let _r1_smtp = serve_smtp(&lab, 3, 2525);
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
        // ha_suspend: 198.18.0.106 is not on the host, so its dead real
        // server is never checked and stays in.
        ("198.18.0.23:9999", "Masq 1"),
        // UDP_CHECK: r1's echo matches the pattern.
        ("198.18.0.21:53", "Masq 1"),
        // DNS_CHECK: r1 answers ok.test without error.
        ("198.18.0.21:5300", "Masq 1"),
        // PING_CHECK: r1 answers the echo.
        ("198.18.0.21:81", "Masq 1"),
        // SMTP_CHECK: r1's server, and a host block that points at it
        // (the block's own port 2526 is closed).
        ("198.18.0.21:2525", "Masq 1"),
        ("198.18.0.21:2526", "Masq 1"),
    ] {
        assert!(has(&theirs, dest, how), "no {dest} {how} in\n{theirs}");
    }
    assert_ne!(theirs, theirs_failed, "r2's failure changed nothing");
    // UDP_CHECK on r2's closed port: the ICMP error took it out.
    assert!(!theirs.contains("198.18.0.22:53"), "{theirs}");
    // DNS_CHECK: NXDOMAIN for bad.test, and no DNS server on r3.
    assert!(!theirs.contains("198.18.0.21:5301"), "{theirs}");
    assert!(!theirs.contains("198.18.0.23:5300"), "{theirs}");
    // PING_CHECK: no host has 198.18.0.29.
    assert!(!theirs.contains("198.18.0.29:81"), "{theirs}");
    // SMTP_CHECK: nothing on r2; one of two host blocks fails.
    assert!(!theirs.contains("198.18.0.22:2525"), "{theirs}");
    assert!(!theirs.contains("198.18.0.21:2527"), "{theirs}");
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
