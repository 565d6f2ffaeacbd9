//! keepalived.conf's LVS half: `virtual_server` blocks mapped with
//! keepalived 2.2.7's defaults, inheritance (virtual server → real
//! server → checker) and adjustments, each adjustment warned about, and
//! errors at their position.

use std::path::Path;
use std::time::Duration;

use vrrpd::config::lvs::{
    CheckKind, DnsType, Forwarding, Protocol, Scheduler, ServiceFlags, ServiceKey,
};
use vrrpd::config::{self, Config, Diagnostic, KeepalivedOptions, Severity};

fn check(text: &str) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    let o = KeepalivedOptions {
        follow_includes: false,
        ..KeepalivedOptions::default()
    };
    config::check_keepalived_str(text, Path::new("k.conf"), &o)
}

fn ok(text: &str) -> (Config, Vec<Diagnostic>) {
    check(text).unwrap_or_else(|d| panic!("rejected:\n{}", config::render(&d)))
}

fn has(d: &[Diagnostic], severity: Severity, line: usize, needle: &str) {
    assert!(
        d.iter()
            .any(|x| x.severity == severity && x.line == line && x.message.contains(needle)),
        "no {severity} on line {line} containing {needle:?} in:\n{}",
        config::render(d)
    );
}

const S: Duration = Duration::from_secs(1);

#[test]
fn keepalived_defaults_apply_and_the_missing_protocol_is_udp() {
    let (c, w) = ok(
        "virtual_server 198.18.0.10 80 {\n  real_server 198.18.0.21 {\n    TCP_CHECK {\n    }\n    HTTP_GET {\n      url {\n        path /\n      }\n    }\n  }\n}\n",
    );
    has(&w, Severity::Warning, 1, "defaulting to UDP");
    let v = &c.virtual_servers[0];
    assert_eq!(
        v.key,
        ServiceKey::Inet {
            protocol: Protocol::Udp,
            addr: "198.18.0.10:80".parse().unwrap()
        }
    );
    assert_eq!(v.scheduler, Scheduler::Wlc);
    assert_eq!((v.quorum, v.hysteresis), (1, 0));
    let r = &v.real_servers[0];
    // NAT without a port takes the service's.
    assert_eq!(r.addr, "198.18.0.21:80".parse().unwrap());
    assert_eq!((r.forwarding, r.weight), (Forwarding::Masquerade, 1));
    let tcp = &r.checkers[0];
    assert_eq!(tcp.delay_loop, 60 * S);
    assert_eq!(
        (tcp.retry, tcp.delay_before_retry, tcp.warmup),
        (1, S, 60 * S)
    );
    match &tcp.kind {
        // keepalived checks the address as written: no port, port 0.
        CheckKind::Tcp(c) => {
            assert_eq!(c.addr, "198.18.0.21:0".parse().unwrap());
            assert_eq!(c.timeout, 5 * S);
        }
        other => panic!("{other:?}"),
    }
    let http = &r.checkers[1];
    assert_eq!(http.delay_before_retry, 3 * S);
    match &http.kind {
        CheckKind::Http(h) => assert_eq!(h.urls[0].status, [(200, 299)]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn timing_is_inherited_from_the_virtual_server_through_the_real_server() {
    let (c, _) = ok(
        "virtual_server 198.18.0.10 80 {\n  protocol TCP\n  delay_loop 2\n  retry 3\n  connect_timeout 1.5\n  real_server 198.18.0.21 8080 {\n    delay_before_retry 0.5\n    TCP_CHECK {\n      connect_port 9000\n      warmup 0\n    }\n  }\n}\n",
    );
    let ch = &c.virtual_servers[0].real_servers[0].checkers[0];
    assert_eq!((ch.delay_loop, ch.retry), (2 * S, 3));
    assert_eq!(ch.delay_before_retry, Duration::from_millis(500));
    assert_eq!(ch.warmup, Duration::ZERO);
    match &ch.kind {
        CheckKind::Tcp(c) => {
            assert_eq!(c.addr, "198.18.0.21:9000".parse().unwrap());
            assert_eq!(c.timeout, Duration::from_millis(1500));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn keepalived_adjustments_are_warnings() {
    let (c, w) = ok("virtual_server 198.18.0.10 80 {
  protocol TCP
  lb_kind DR
  quorum 9
  ops
  alpha false
  real_server 198.18.0.21 8080 {
    weight 2
  }
  real_server 198.18.0.21 80 {
  }
}
virtual_server 198.18.0.11 0 {
  protocol TCP
  real_server 198.18.0.22 {
  }
}
virtual_server 198.18.0.12 80 {
  protocol TCP
}
");
    has(&w, Severity::Warning, 7, "reset");
    has(&w, Severity::Warning, 10, "duplicate");
    has(&w, Severity::Warning, 1, "quorum 9");
    has(&w, Severity::Warning, 5, "needs UDP");
    has(&w, Severity::Warning, 6, "ignores the argument");
    has(&w, Severity::Warning, 13, "persistent");
    has(&w, Severity::Warning, 18, "no real servers");
    assert_eq!(c.virtual_servers.len(), 2);
    let v = &c.virtual_servers[0];
    assert_eq!(v.real_servers.len(), 1);
    assert_eq!(v.real_servers[0].addr, "198.18.0.21:80".parse().unwrap());
    assert_eq!(v.quorum, 2);
    assert!(!v.flags.contains(ServiceFlags::ONE_PACKET));
    assert!(
        v.real_servers[0].alpha,
        "`alpha false` turns alpha on, as in keepalived"
    );
    assert_eq!(c.virtual_servers[1].persistence.unwrap().timeout, 360 * S);
}

#[test]
fn methods_schedulers_and_flags() {
    let (c, w) = ok("virtual_server fwmark 7 {
  lb_algo sh
  sh-port
  mh-port
  lb_kind TUN type gue port 6080 remcsum
  persistence_timeout
  persistence_granularity 255.255.255.0
  sorry_server 198.18.0.99 80
  sorry_server_inhibit
  real_server 198.18.0.21 80 {
    lvs_method NAT
  }
}
");
    assert!(w.is_empty(), "{}", config::render(&w));
    let v = &c.virtual_servers[0];
    assert!(matches!(v.key, ServiceKey::Fwmark { mark: 7, .. }));
    assert_eq!(
        v.flags,
        ServiceFlags::SH_PORT,
        "mh-port is silently ignored under sh"
    );
    let p = v.persistence.unwrap();
    assert_eq!((p.timeout, p.prefix_len), (360 * S, 24));
    let sorry = v.sorry_server.unwrap();
    assert!(sorry.inhibit);
    assert!(matches!(sorry.forwarding, Forwarding::Tunnel { .. }));
    assert_eq!(v.real_servers[0].forwarding, Forwarding::Masquerade);
}

#[test]
fn what_keepalived_rejects_is_an_error_at_its_position() {
    let d = check(
        "virtual_server 198.18.0.10 80 {
  protocol TCP
  lb_algo fastest
  lb_kind TUN type gre port 9
  real_server 198.18.0.21 80 {
    bogus_keyword 1
    TCP_CHECK {
      connect_port 70000
    }
  }
}
",
    )
    .unwrap_err();
    has(&d, Severity::Error, 3, "not a scheduler");
    has(&d, Severity::Error, 4, "only a gue tunnel takes a `port`");
    has(&d, Severity::Error, 6, "unknown keyword `bogus_keyword`");
    has(&d, Severity::Error, 8, "connect_port");
}

#[test]
fn unsupported_forms_are_warnings_and_run_without_them() {
    let (c, w) = ok("virtual_server group G {
  real_server 198.18.0.21 80 {
  }
}
virtual_server 198.18.0.10 80 {
  protocol TCP
  ha_suspend
  real_server 198.18.0.21 80 {
    FILE_CHECK {
    }
  }
}
SSL {
  certificate /etc/ssl/client.pem
}
");
    has(&w, Severity::Warning, 1, "virtual_server group");
    has(&w, Severity::Warning, 9, "FILE_CHECK");
    has(&w, Severity::Warning, 13, "SSL");
    assert_eq!(c.virtual_servers.len(), 1);
    assert!(c.virtual_servers[0].ha_suspend);
    assert!(c.virtual_servers[0].real_servers[0].checkers.is_empty());
}

#[test]
fn ssl_get_is_an_http_check_over_tls_with_sni_on_request() {
    let (c, w) = ok("virtual_server 198.18.0.10 443 {
  protocol TCP
  virtualhost www.example
  real_server 198.18.0.21 443 {
    SSL_GET {
      url {
        path /health
        digest 5d41402abc4b2a76b9719d911017c592
      }
      enable_sni
      connect_timeout 2
    }
    HTTP_GET {
      url {
        path /
      }
    }
  }
}
");
    assert!(w.is_empty(), "{w:?}");
    let checkers = &c.virtual_servers[0].real_servers[0].checkers;
    let [tls, plain] = [&checkers[0].kind, &checkers[1].kind].map(|k| match k {
        CheckKind::Http(h) => h.clone(),
        other => panic!("not HTTP: {other:?}"),
    });
    assert!(tls.tls && tls.sni);
    assert_eq!(tls.virtualhost.as_deref(), Some("www.example"));
    assert_eq!(tls.connect.addr, "198.18.0.21:443".parse().unwrap());
    assert_eq!(tls.connect.timeout, Duration::from_secs(2));
    assert_eq!(tls.urls[0].path, "/health");
    assert!(!plain.tls && !plain.sni);
}

#[test]
fn ha_suspend_on_a_fwmark_service_is_cleared_with_a_warning() {
    let (c, w) =
        ok("virtual_server fwmark 3 {\n  ha_suspend\n  real_server 198.18.0.21 80 {\n  }\n}\n");
    has(&w, Severity::Warning, 2, "fwmark");
    assert!(!c.virtual_servers[0].ha_suspend);
}

#[test]
fn the_native_form_loads_what_convert_writes() {
    let (c, _) = ok("virtual_server 198.18.0.10 443 {
  protocol TCP
  lb_algo mh
  mh-fallback
  lb_kind NAT
  persistence_timeout 300
  quorum 2
  hysteresis 1
  quorum_up \"/bin/true up\"
  quorum_down /bin/true
  omega
  sorry_server 198.18.0.99 8080
  real_server 198.18.0.21 8443 {
    weight 3
    inhibit_on_failure
    uthreshold 100
    notify_down \"/bin/echo down\" nobody
    MISC_CHECK {
      misc_path \"/bin/check --flag\"
      misc_timeout 4
      misc_dynamic
    }
    HTTP_GET {
      url {
        path /health
        digest 5D41402ABC4B2A76B9719D911017C592
        status_code 200-204 301
      }
      http_protocol 1.1
      virtualhost www.example
    }
  }
  real_server 198.18.0.22 8443 {
    SSL_GET {
      url {
        path /
      }
      enable_sni
      virtualhost tls.example
    }
  }
}
");
    let toml = config::to_native_toml(&c);
    let (again, _) = config::check_native_str(&toml, Path::new("c.toml"))
        .unwrap_or_else(|d| panic!("{toml}\n{}", config::render(&d)));
    assert_eq!(again, c, "{toml}");
    assert!(toml.contains("flags = [\"mh-fallback\"]"), "{toml}");
    assert!(
        toml.contains("type = \"https\"") && toml.contains("sni = true"),
        "{toml}"
    );
    assert!(
        toml.contains("digest = \"5d41402abc4b2a76b9719d911017c592\""),
        "{toml}"
    );
}

#[test]
fn a_misc_check_with_a_user_keeps_the_capabilities_to_switch_to_it() {
    let conf = "virtual_server 198.18.0.10 80 {
  real_server 198.18.0.21 80 {
    MISC_CHECK {
      misc_path /bin/true
      user nobody
    }
  }
}
";
    let (c, _) = ok(conf);
    assert!(c.switches_user());
    let (c, _) = ok(&conf.replace("      user nobody\n", ""));
    assert!(!c.switches_user());
}

#[test]
fn lvs_timeouts_sets_what_it_names_and_refuses_what_keepalived_refuses() {
    let vs =
        "virtual_server 198.18.0.10 80 {\n  protocol TCP\n  real_server 198.18.0.21 80 {\n  }\n}\n";
    let (c, w) = ok(&format!(
        "global_defs {{\n  lvs_timeouts tcp 7200 udp 60\n}}\n{vs}"
    ));
    assert!(w.is_empty(), "{w:?}");
    let t = c.global.lvs_timeouts.expect("set");
    assert_eq!(
        (t.tcp, t.tcp_fin, t.udp),
        (
            Duration::from_secs(7200),
            Duration::ZERO,
            Duration::from_secs(60)
        )
    );
    // Round trip through the native form.
    let toml = config::to_native_toml(&c);
    assert!(
        toml.contains("lvs_timeouts = { tcp = \"2h\", udp = \"1m\" }")
            || toml.contains("lvs_timeouts = { tcp = \"7200s\", udp = \"60s\" }"),
        "{toml}"
    );
    let (again, _) = config::check_native_str(&toml, Path::new("c.toml"))
        .unwrap_or_else(|d| panic!("{toml}\n{}", config::render(&d)));
    assert_eq!(again.global.lvs_timeouts, c.global.lvs_timeouts);
    for (bad, needle) in [
        ("lvs_timeouts", "at least one"),
        ("lvs_timeouts tcp", "no value"),
        ("lvs_timeouts tcpfin x", "lvs_timeouts"),
        ("lvs_timeouts udp 2678401", "lvs_timeouts"),
        ("lvs_timeouts sctp 5", "not tcp, tcpfin or udp"),
    ] {
        let d = check(&format!("global_defs {{\n  {bad}\n}}\n{vs}")).unwrap_err();
        has(&d, Severity::Error, 2, needle);
    }
}

#[test]
fn udp_check_reads_keepalived_hex_and_judges_replies_as_it_does() {
    let (c, w) = ok("virtual_server 198.18.0.10 53 {
  protocol UDP
  real_server 198.18.0.21 53 {
    UDP_CHECK {
      payload 01 02 0a
      require_reply 01 x2 0A
      min_reply_length 2
      max_reply_length 8
      connect_port 5353
    }
  }
}
");
    assert!(w.is_empty(), "{w:?}");
    let CheckKind::Udp(u) = &c.virtual_servers[0].real_servers[0].checkers[0].kind else {
        panic!("not UDP");
    };
    assert_eq!(u.payload, [1, 2, 10]);
    assert_eq!(u.connect.addr, "198.18.0.21:5353".parse().unwrap());
    assert!(u.require_reply);
    // The pattern is compared over the shorter of the two; x is a
    // wildcard nibble; the length must be within 2..=8.
    assert!(u.accepts(&[1, 0xf2, 10]));
    assert!(u.accepts(&[1, 0x02]));
    assert!(u.accepts(&[1, 0x32, 10, 99, 99]));
    assert!(
        !u.accepts(&[1, 0x23, 10]),
        "the low nibble is not a wildcard"
    );
    assert!(!u.accepts(&[1]), "shorter than min_reply_length");
    assert!(!u.accepts(&[1, 2, 10, 0, 0, 0, 0, 0, 0]), "longer than max");
    // The native form carries it over.
    let toml = config::to_native_toml(&c);
    let (again, _) = config::check_native_str(&toml, Path::new("c.toml"))
        .unwrap_or_else(|d| panic!("{toml}\n{}", config::render(&d)));
    assert_eq!(again, c, "{toml}");
    assert!(toml.contains("reply = \"01 x2 0a\""), "{toml}");
    // What keepalived refuses.
    for (bad, needle) in [
        ("payload zz", "hex"),
        ("require_reply 0g", "hex"),
        (
            "min_reply_length 9\n      max_reply_length 3",
            "always fail",
        ),
        ("payload 0x", "hex"),
    ] {
        let text = format!(
            "virtual_server 198.18.0.10 53 {{\n  protocol UDP\n  real_server 198.18.0.21 53 {{\n    UDP_CHECK {{\n      {bad}\n    }}\n  }}\n}}\n"
        );
        let d = check(&text).unwrap_err();
        assert!(
            d.iter()
                .any(|x| x.severity == Severity::Error && x.message.contains(needle)),
            "{bad}: {d:?}"
        );
    }
}

#[test]
fn dns_check_reads_type_and_name_with_keepalived_defaults() {
    let (c, w) = ok("virtual_server 198.18.0.10 53 {
  protocol UDP
  delay_loop 7
  real_server 198.18.0.21 53 {
    DNS_CHECK {
      type aaaa
      name www.example.test.
    }
    DNS_CHECK {
    }
  }
}
");
    assert!(w.is_empty(), "{w:?}");
    let checkers = &c.virtual_servers[0].real_servers[0].checkers;
    let CheckKind::Dns(d) = &checkers[0].kind else {
        panic!("not DNS");
    };
    assert_eq!(d.query_type, DnsType::Aaaa);
    assert_eq!(d.name, "www.example.test");
    assert_eq!(d.connect.addr, "198.18.0.21:53".parse().unwrap());
    // keepalived: SOA for the root by default, retry 3, and
    // delay_before_retry the delay_loop.
    let CheckKind::Dns(d) = &checkers[1].kind else {
        panic!("not DNS");
    };
    assert_eq!((d.query_type, d.name.as_str()), (DnsType::Soa, ""));
    assert_eq!(checkers[1].retry, 3);
    assert_eq!(checkers[1].delay_before_retry, Duration::from_secs(7));
    let toml = config::to_native_toml(&c);
    let (again, _) = config::check_native_str(&toml, Path::new("c.toml"))
        .unwrap_or_else(|d| panic!("{toml}\n{}", config::render(&d)));
    assert_eq!(again, c, "{toml}");
    for (bad, needle) in [
        ("type PTR", "unknown DNS_CHECK type"),
        ("name a..b", "empty label"),
        ("port 53", "unknown"),
    ] {
        let text = format!(
            "virtual_server 198.18.0.10 53 {{\n  real_server 198.18.0.21 53 {{\n    DNS_CHECK {{\n      {bad}\n    }}\n  }}\n}}\n"
        );
        let d = check(&text).unwrap_err();
        assert!(
            d.iter()
                .any(|x| x.severity == Severity::Error && x.message.contains(needle)),
            "{bad}: {d:?}"
        );
    }
}

#[test]
fn ping_check_takes_the_common_options_and_converts() {
    let (c, w) = ok("virtual_server 198.18.0.10 80 {
  protocol TCP
  real_server 198.18.0.21 80 {
    PING_CHECK {
      connect_ip 198.18.0.31
      connect_timeout 2
      retry 4
    }
  }
}
");
    assert!(w.is_empty(), "{w:?}");
    let checker = &c.virtual_servers[0].real_servers[0].checkers[0];
    let CheckKind::Ping(conn) = &checker.kind else {
        panic!("not PING");
    };
    assert_eq!(
        conn.addr.ip(),
        "198.18.0.31".parse::<std::net::IpAddr>().unwrap()
    );
    assert_eq!(conn.timeout, Duration::from_secs(2));
    assert_eq!(checker.retry, 4);
    let toml = config::to_native_toml(&c);
    assert!(toml.contains("type = \"ping\""), "{toml}");
    let (again, _) = config::check_native_str(&toml, Path::new("c.toml"))
        .unwrap_or_else(|d| panic!("{toml}\n{}", config::render(&d)));
    assert_eq!(again, c, "{toml}");
    let d = check("virtual_server 198.18.0.10 80 {\n  real_server 198.18.0.21 80 {\n    PING_CHECK {\n      payload 01\n    }\n  }\n}\n")
        .unwrap_err();
    assert!(d.iter().any(|x| x.severity == Severity::Error), "{d:?}");
}

#[test]
fn smtp_check_host_blocks_are_checkers_of_their_own() {
    let (c, w) = ok("virtual_server 198.18.0.10 25 {
  protocol TCP
  real_server 198.18.0.21 25 {
    connect_timeout 3
    SMTP_CHECK {
      retry 2
      host {
        connect_ip 198.18.0.31
        connect_port 2525
      }
      host {
        connect_ip 198.18.0.32
        connect_timeout 4
      }
      helo_name mx.example.test
    }
    SMTP_CHECK {
      connect_timeout 6
      host {
        connect_port 2526
      }
    }
  }
}
");
    assert!(w.iter().any(|d| d.message.contains("deprecated")), "{w:?}");
    let checkers = &c.virtual_servers[0].real_servers[0].checkers;
    let smtp: Vec<_> = checkers
        .iter()
        .map(|c| match &c.kind {
            CheckKind::Smtp(s) => (
                s.connect.addr.to_string(),
                s.connect.timeout,
                s.helo_name.clone(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    let helo = "mx.example.test".to_string();
    let default = "smtpchecker.keepalived.org".to_string();
    assert_eq!(
        smtp,
        [
            // The first block's own connection is not checked: it sets
            // none. Its hosts take the real server's connect_timeout
            // unless they set one, and the block's retry.
            (
                "198.18.0.31:2525".to_string(),
                Duration::from_secs(3),
                helo.clone()
            ),
            ("198.18.0.32:25".to_string(), Duration::from_secs(4), helo),
            // The second sets connect_timeout: checked too, as keepalived
            // does; its host does not inherit it.
            (
                "198.18.0.21:25".to_string(),
                Duration::from_secs(6),
                default.clone()
            ),
            (
                "198.18.0.21:2526".to_string(),
                Duration::from_secs(3),
                default
            ),
        ]
    );
    assert_eq!(checkers[0].retry, 2);
    let d = check("virtual_server 198.18.0.10 25 {\n  real_server 198.18.0.21 25 {\n    SMTP_CHECK {\n      host {\n        retry 2\n      }\n    }\n  }\n}\n")
        .unwrap_err();
    assert!(d.iter().any(|x| x.message.contains("host block")), "{d:?}");
    let toml = config::to_native_toml(&c);
    let (again, _) = config::check_native_str(&toml, Path::new("c.toml"))
        .unwrap_or_else(|d| panic!("{toml}\n{}", config::render(&d)));
    assert_eq!(again, c, "{toml}");
}
