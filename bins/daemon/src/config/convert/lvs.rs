//! `[[virtual_server]]` tables for `vrrpd convert`: every checker gets
//! the timing it inherits in keepalived.conf written out.

use std::fmt::Write as _;

use super::{d, hook, q, q_list};
use crate::config::Exec;
use crate::config::lvs::{
    CheckKind, Checker, DnsType, Forwarding, RealServer, ServiceKey, VirtualServer,
};
use vrrp_ipvs::{Family, Protocol, Scheduler, ServiceFlags, TunnelChecksum, TunnelKind};

/// `forwarding = ...` and, for a tunnel other than plain ipip,
/// `tunnel = { ... }`, as `key = value` pairs.
fn forwarding(f: Forwarding) -> Vec<(&'static str, String)> {
    match f {
        Forwarding::Masquerade | Forwarding::Local | Forwarding::Bypass => {
            vec![("forwarding", q("nat"))]
        }
        Forwarding::DirectRouting => vec![("forwarding", q("dr"))],
        Forwarding::Tunnel { kind, checksum } => {
            let mut v = vec![("forwarding", q("tun"))];
            if f != Forwarding::IPIP {
                let mut t = match kind {
                    TunnelKind::Ipip => "{ type = \"ipip\"".to_string(),
                    TunnelKind::Gue { port } => format!("{{ type = \"gue\", port = {port}"),
                    TunnelKind::Gre => "{ type = \"gre\"".to_string(),
                };
                let c = match checksum {
                    TunnelChecksum::None => "nocsum",
                    TunnelChecksum::Checksum => "csum",
                    TunnelChecksum::Remote => "remcsum",
                };
                let _ = write!(t, ", checksum = {} }}", q(c));
                v.push(("tunnel", t));
            }
            v
        }
    }
}

fn flag_names(flags: ServiceFlags, scheduler: &Scheduler) -> Vec<&'static str> {
    let (one, two) = match scheduler {
        Scheduler::Sh => ("sh-fallback", "sh-port"),
        Scheduler::Mh => ("mh-fallback", "mh-port"),
        _ => ("flag-1", "flag-2"),
    };
    [
        (ServiceFlags::ONE_PACKET, "ops"),
        (ServiceFlags::SCHED1, one),
        (ServiceFlags::SCHED2, two),
        (ServiceFlags::SCHED3, "flag-3"),
    ]
    .into_iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|(_, n)| n)
    .collect()
}

/// Writes every virtual server.
pub(super) fn virtual_servers(out: &mut String, servers: &[VirtualServer]) {
    for v in servers {
        let _ = writeln!(out, "\n[[virtual_server]]");
        match v.key {
            ServiceKey::Inet { protocol, addr } => {
                let p = match protocol {
                    Protocol::Tcp => "tcp",
                    Protocol::Udp => "udp",
                    Protocol::Sctp => "sctp",
                };
                let _ = writeln!(
                    out,
                    "address = {}\nprotocol = {}",
                    q(&addr.to_string()),
                    q(p)
                );
            }
            ServiceKey::Fwmark { mark, family } => {
                let f = if family == Family::Ipv6 {
                    "ipv6"
                } else {
                    "ipv4"
                };
                let _ = writeln!(out, "fwmark = {mark}\nfamily = {}", q(f));
            }
        }
        let _ = writeln!(out, "scheduler = {}", q(v.scheduler.name()));
        let flags = flag_names(v.flags, &v.scheduler);
        if !flags.is_empty() {
            let _ = writeln!(out, "flags = {}", q_list(flags));
        }
        if let Some(p) = v.persistence {
            let _ = writeln!(out, "persistence_timeout = {}", d(p.timeout));
            let full = if v.key.family() == Family::Ipv6 {
                128
            } else {
                32
            };
            if p.prefix_len != full {
                let _ = writeln!(out, "persistence_granularity = {}", p.prefix_len);
            }
        }
        if let Some(pe) = &v.persistence_engine {
            let _ = writeln!(out, "persistence_engine = {}", q(pe));
        }
        if v.quorum != 1 {
            let _ = writeln!(out, "quorum = {}", v.quorum);
        }
        if v.hysteresis != 0 {
            let _ = writeln!(out, "hysteresis = {}", v.hysteresis);
        }
        if let Some(h) = &v.quorum_up {
            let _ = writeln!(out, "quorum_up = {}", hook(h));
        }
        if let Some(h) = &v.quorum_down {
            let _ = writeln!(out, "quorum_down = {}", hook(h));
        }
        if v.omega {
            out.push_str("omega = true\n");
        }
        if v.ha_suspend {
            out.push_str("ha_suspend = true\n");
        }
        if let Some(h) = &v.virtualhost {
            let _ = writeln!(out, "virtualhost = {}", q(h));
        }
        if let Some(s) = &v.sorry_server {
            let mut t = format!("{{ address = {}", q(&s.addr.to_string()));
            for (k, val) in forwarding(s.forwarding) {
                let _ = write!(t, ", {k} = {val}");
            }
            if s.inhibit {
                t.push_str(", inhibit = true");
            }
            let _ = writeln!(out, "sorry_server = {t} }}");
        }
        for r in &v.real_servers {
            real_server(out, r);
        }
    }
}

fn real_server(out: &mut String, r: &RealServer) {
    let _ = writeln!(
        out,
        "\n[[virtual_server.real_server]]\naddress = {}",
        q(&r.addr.to_string())
    );
    let _ = writeln!(out, "weight = {}", r.weight);
    for (k, v) in forwarding(r.forwarding) {
        let _ = writeln!(out, "{k} = {v}");
    }
    if r.upper_threshold != 0 {
        let _ = writeln!(out, "upper_threshold = {}", r.upper_threshold);
    }
    if r.lower_threshold != 0 {
        let _ = writeln!(out, "lower_threshold = {}", r.lower_threshold);
    }
    if r.inhibit_on_failure {
        out.push_str("inhibit_on_failure = true\n");
    }
    if r.alpha {
        out.push_str("alpha = true\n");
    }
    if let Some(h) = &r.notify_up {
        let _ = writeln!(out, "notify_up = {}", hook(h));
    }
    if let Some(h) = &r.notify_down {
        let _ = writeln!(out, "notify_down = {}", hook(h));
    }
    for c in &r.checkers {
        check(out, c);
    }
}

fn check(out: &mut String, c: &Checker) {
    out.push_str("\n[[virtual_server.real_server.check]]\n");
    let connect = match &c.kind {
        CheckKind::Tcp(conn) => {
            out.push_str("type = \"tcp\"\n");
            Some(conn)
        }
        CheckKind::Http(h) => {
            out.push_str(if h.tls {
                "type = \"https\"\n"
            } else {
                "type = \"http\"\n"
            });
            let urls: Vec<String> = h
                .urls
                .iter()
                .map(|u| {
                    let status: Vec<String> = u
                        .status
                        .iter()
                        .map(|&(lo, hi)| {
                            if lo == hi {
                                lo.to_string()
                            } else {
                                format!("{lo}-{hi}")
                            }
                        })
                        .collect();
                    let mut s = format!(
                        "{{ path = {}, status = {}",
                        q(&u.path),
                        q_list(status.iter().map(String::as_str))
                    );
                    if let Some(dg) = &u.digest {
                        let _ = write!(s, ", digest = {}", q(dg));
                    }
                    if let Some(vh) = &u.virtualhost {
                        let _ = write!(s, ", virtualhost = {}", q(vh));
                    }
                    s.push_str(" }");
                    s
                })
                .collect();
            let _ = writeln!(out, "url = [{}]", urls.join(", "));
            if h.http_1_1 {
                out.push_str("http_version = \"1.1\"\n");
            }
            if h.sni {
                out.push_str("sni = true\n");
            }
            if let Some(vh) = &h.virtualhost {
                let _ = writeln!(out, "virtualhost = {}", q(vh));
            }
            Some(&h.connect)
        }
        CheckKind::Udp(u) => {
            out.push_str("type = \"udp\"\n");
            let hex = |bytes: &[u8], mask: Option<&[u8]>| {
                bytes
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        let m = mask.map_or(0, |m| m[i]);
                        let nib = |v: u8, wild: bool| {
                            if wild {
                                'x'
                            } else {
                                char::from_digit(u32::from(v), 16).unwrap_or('0')
                            }
                        };
                        format!(
                            "{}{}",
                            nib(b >> 4, m & 0xf0 != 0),
                            nib(b & 0x0f, m & 0x0f != 0)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            if !u.payload.is_empty() {
                let _ = writeln!(out, "payload = {}", q(&hex(&u.payload, None)));
            }
            match &u.reply {
                Some(p) => {
                    let _ = writeln!(out, "reply = {}", q(&hex(&p.bytes, Some(&p.mask))));
                }
                None if u.require_reply => out.push_str("require_reply = true\n"),
                None => {}
            }
            if u.reply_length != (0, u16::from(u8::MAX)) {
                let _ = writeln!(
                    out,
                    "min_reply_length = {}\nmax_reply_length = {}",
                    u.reply_length.0, u.reply_length.1
                );
            }
            Some(&u.connect)
        }
        CheckKind::Smtp(smtp) => {
            out.push_str("type = \"smtp\"\n");
            if smtp.helo_name != crate::lvs::smtp::DEFAULT_HELO {
                let _ = writeln!(out, "helo_name = {}", q(&smtp.helo_name));
            }
            Some(&smtp.connect)
        }
        CheckKind::Ping(conn) => {
            out.push_str("type = \"ping\"\n");
            Some(conn)
        }
        CheckKind::Dns(dns) => {
            out.push_str("type = \"dns\"\n");
            if dns.query_type != DnsType::Soa {
                let _ = writeln!(out, "query_type = {}", q(dns.query_type.as_str()));
            }
            if !dns.name.is_empty() {
                let _ = writeln!(out, "name = {}", q(&dns.name));
            }
            Some(&dns.connect)
        }
        CheckKind::Misc(m) => {
            out.push_str("type = \"misc\"\n");
            match &m.script.exec {
                Exec::Argv(argv) => {
                    let _ = writeln!(out, "command = {}", q_list(argv.iter().map(String::as_str)));
                }
                Exec::Shell(s) => {
                    let _ = writeln!(out, "command = {}\nshell = true", q(s));
                }
            }
            if let Some(r) = &m.script.run_as {
                let _ = writeln!(out, "user = {}", q(&r.user));
                if let Some(g) = &r.group {
                    let _ = writeln!(out, "group = {}", q(g));
                }
            }
            let _ = writeln!(out, "timeout = {}", d(m.timeout));
            if m.dynamic {
                out.push_str("dynamic = true\n");
            }
            None
        }
    };
    if let Some(conn) = connect {
        let _ = writeln!(out, "connect = {}", q(&conn.addr.to_string()));
        if let Some(b) = conn.bind {
            let _ = writeln!(out, "bind = {}", q(&b.to_string()));
        }
        let _ = writeln!(out, "timeout = {}", d(conn.timeout));
        if let Some(m) = conn.fwmark {
            let _ = writeln!(out, "fwmark = {m}");
        }
    }
    let _ = writeln!(
        out,
        "interval = {}\nretry = {}\nretry_delay = {}\nwarmup = {}",
        d(c.delay_loop),
        c.retry,
        d(c.delay_before_retry),
        d(c.warmup)
    );
    if c.alpha {
        out.push_str("alpha = true\n");
    }
}
