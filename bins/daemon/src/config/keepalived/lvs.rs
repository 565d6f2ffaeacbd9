//! `virtual_server` blocks (keepalived's LVS half) and their
//! `real_server`s, mapped onto [`VirtualServer`] with keepalived 2.2.7's
//! defaults, inheritance (virtual server → real server → checker) and
//! adjustments, each adjustment with a warning.

use std::net::IpAddr;
use std::time::Duration;

use super::args::Ctx;
use super::checkers::{SUPPORTED, Timing, read_checker};
use super::lvs_defaults::{DEFAULT_PERSISTENCE, MAX_PERSISTENCE, RawReal, RawVirtual};
use super::parser::{Stmt, Word};
use crate::config::address::parse_ip;
use crate::config::lvs::{Forwarding, Protocol, Scheduler, ServiceFlags, VirtualServer};
use crate::config::model::Hook;
use vrrp_ipvs::{TunnelChecksum, TunnelKind};

/// Reads `virtual_server IP [PORT] { ... }` or `virtual_server fwmark N
/// { ... }`. `None` when keepalived would skip the block.
pub(super) fn read_virtual_server(ctx: &mut Ctx<'_>, s: &Stmt) -> Option<VirtualServer> {
    let mut v = RawVirtual {
        pos: s.key.pos,
        ip: None,
        port: 0,
        fwmark: None,
        protocol: None,
        scheduler: None,
        flags: ServiceFlags::default(),
        ops: None,
        forwarding: None,
        persistence_timeout: None,
        granularity: None,
        persistence_engine: None,
        ha_suspend: false,
        ha_suspend_pos: None,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        weight: 1,
        inhibit: false,
        omega: false,
        virtualhost: None,
        sorry: None,
        sorry_inhibit: false,
        sorry_forwarding: None,
        timing: Timing::default(),
        reals: Vec::new(),
    };
    match s.args.first().map(|w| w.text.as_str()) {
        Some("group") => {
            ctx.warn(
                s.key.pos,
                "`virtual_server group` is not supported by vrrpd yet and is ignored, with its real servers",
                Some("write one virtual_server per address for now".into()),
            );
            return None;
        }
        Some("fwmark") => {
            ctx.arity(s, 2, 2);
            let w = s.args.get(1)?;
            v.fwmark = Some(ctx.int("fwmark", w, 0..=i64::from(u32::MAX))? as u32);
        }
        Some(_) => {
            ctx.arity(s, 1, 2);
            let (ip, port) = address_port(ctx, &s.args, "virtual server")?;
            v.ip = Some(ip);
            v.port = port.unwrap_or(0);
        }
        None => {
            ctx.error(
                s.key.pos,
                "`virtual_server` needs an address and port, or `fwmark N`",
                Some("write `virtual_server 198.18.0.10 80 {`".into()),
            );
            return None;
        }
    }
    for item in ctx.block(s) {
        read_item(ctx, item, &mut v);
    }
    super::lvs_defaults::finish(ctx, v)
}

/// `IP [PORT]` from `args`; an error (and `None`) when invalid.
fn address_port(ctx: &mut Ctx<'_>, args: &[Word], what: &str) -> Option<(IpAddr, Option<u16>)> {
    let w = args.first()?;
    let Ok(ip) = parse_ip(&w.text) else {
        ctx.error(
            w.pos,
            format!("{what}: `{}` is not an IP address", w.text),
            None,
        );
        return None;
    };
    let port = match args.get(1) {
        None => None,
        Some(p) => Some(ctx.int(&format!("{what} port"), p, 0..=65535)? as u16).filter(|&p| p != 0),
    };
    Some((ip, port))
}

/// `NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`.
fn read_method(ctx: &mut Ctx<'_>, s: &Stmt) -> Option<Forwarding> {
    ctx.no_block(s);
    if !ctx.arity(s, 1, 6) {
        return None;
    }
    let w = &s.args[0];
    let bad = |ctx: &mut Ctx<'_>, w: &Word, why: &str| {
        ctx.error(
            w.pos,
            format!("`{}`: {why}", s.key.text),
            Some("write NAT, DR or TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]".into()),
        );
        None
    };
    match w.text.as_str() {
        "NAT" if s.args.len() == 1 => Some(Forwarding::Masquerade),
        "DR" if s.args.len() == 1 => Some(Forwarding::DirectRouting),
        "TUN" => {
            let mut kind = "ipip";
            let mut port = None;
            let mut checksum = None;
            let mut rest = s.args[1..].iter();
            while let Some(a) = rest.next() {
                match a.text.as_str() {
                    "type" => match rest.next().map(|t| t.text.as_str()) {
                        Some(t @ ("ipip" | "gue" | "gre")) => kind = t,
                        _ => return bad(ctx, a, "`type` is ipip, gue or gre"),
                    },
                    "port" => match rest.next() {
                        Some(p) => port = Some(ctx.int("port", p, 1..=65535)? as u16),
                        None => return bad(ctx, a, "`port` needs a number"),
                    },
                    "nocsum" => checksum = Some(TunnelChecksum::None),
                    "csum" => checksum = Some(TunnelChecksum::Checksum),
                    "remcsum" => checksum = Some(TunnelChecksum::Remote),
                    _ => return bad(ctx, a, "unknown tunnel option"),
                }
            }
            let kind = match (kind, port) {
                ("gue", Some(port)) => TunnelKind::Gue { port },
                ("gue", None) => return bad(ctx, w, "a gue tunnel needs a `port`"),
                (_, Some(_)) => return bad(ctx, w, "only a gue tunnel takes a `port`"),
                ("gre", _) if checksum == Some(TunnelChecksum::Remote) => {
                    return bad(ctx, w, "a gre tunnel has no remcsum");
                }
                ("gre", _) => TunnelKind::Gre,
                _ if checksum.is_some() => {
                    return bad(ctx, w, "an ipip tunnel takes no checksum option");
                }
                _ => TunnelKind::Ipip,
            };
            Some(Forwarding::Tunnel {
                kind,
                checksum: checksum.unwrap_or_default(),
            })
        }
        "NAT" | "DR" => bad(ctx, w, "NAT and DR take no options"),
        other => bad(ctx, w, &format!("unknown routing method `{other}`")),
    }
}

/// A keyword whose arguments keepalived ignores (`alpha false` turns it
/// on): on, with a warning when arguments are given.
fn argless_flag(ctx: &mut Ctx<'_>, s: &Stmt) -> bool {
    ctx.no_block(s);
    if let Some(w) = s.args.first() {
        ctx.warn(
            w.pos,
            format!(
                "keepalived ignores the argument of `{}` in a virtual_server: it is on",
                s.key.text
            ),
            Some(format!(
                "write `{}` alone, or remove it to turn it off",
                s.key.text
            )),
        );
    }
    true
}

fn hook(ctx: &mut Ctx<'_>, s: &Stmt, slot: &mut Option<Hook>) {
    if slot.is_some() {
        ctx.error(s.key.pos, format!("`{}` is a duplicate", s.key.text), None);
        return;
    }
    if let Some((exec, run_as)) = ctx.command_as(s) {
        *slot = Some(Hook { exec, run_as });
    }
}

fn read_item(ctx: &mut Ctx<'_>, s: &Stmt, v: &mut RawVirtual) {
    let key = s.key.text.as_str();
    if v.timing.read(ctx, s, 1) {
        return;
    }
    match key {
        "lb_algo" | "lvs_sched" => {
            if let Some(w) = ctx.single(s) {
                match w.text.parse::<Scheduler>() {
                    Ok(Scheduler::Other(name)) => ctx.error(
                        w.pos,
                        format!("`{key}` `{name}` is not a scheduler"),
                        Some("use rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh or twos".into()),
                    ),
                    Ok(sched) => v.scheduler = Some(sched),
                    Err(never) => match never {},
                }
            }
        }
        "ops" => {
            ctx.bare(s);
            v.ops = Some(s.key.pos);
        }
        "flag-1" | "flag-2" | "flag-3" => {
            ctx.bare(s);
            v.flags = v.flags
                | match key {
                    "flag-1" => ServiceFlags::SCHED1,
                    "flag-2" => ServiceFlags::SCHED2,
                    _ => ServiceFlags::SCHED3,
                };
        }
        "sh-port" | "sh-fallback" | "mh-port" | "mh-fallback" => {
            ctx.bare(s);
            let want = if key.starts_with("sh") {
                Scheduler::Sh
            } else {
                Scheduler::Mh
            };
            match &v.scheduler {
                Some(sched) if *sched == want => {
                    v.flags = v.flags
                        | if key.ends_with("port") { ServiceFlags::SCHED2 } else { ServiceFlags::SCHED1 };
                }
                Some(Scheduler::Sh | Scheduler::Mh) => {}
                _ => ctx.warn(
                    s.key.pos,
                    format!("`{key}` applies only to the {} scheduler set before it: ignored, as keepalived ignores it", want.name()),
                    None,
                ),
            }
        }
        "lb_kind" | "lvs_method" => {
            if let Some(m) = read_method(ctx, s) {
                v.forwarding = Some(m);
            }
        }
        "persistence_timeout" => {
            ctx.no_block(s);
            ctx.arity(s, 0, 1);
            v.persistence_timeout = match s.args.first() {
                None => Some(DEFAULT_PERSISTENCE),
                Some(w) => ctx
                    .int(key, w, 1..=MAX_PERSISTENCE as i64)
                    .map(|n| Duration::from_secs(n as u64))
                    .or(v.persistence_timeout),
            };
        }
        "persistence_granularity" => {
            if let Some(w) = ctx.single(s) {
                let prefix = if w.text.contains('.') {
                    w.text.parse::<std::net::Ipv4Addr>().ok().and_then(|m| {
                        let bits = u32::from(m);
                        (bits.leading_ones() + bits.trailing_zeros() == 32)
                            .then(|| bits.leading_ones() as u8)
                    })
                } else {
                    w.text.parse::<u8>().ok().filter(|n| (1..=128).contains(n))
                };
                match prefix {
                    Some(p) => v.granularity = Some(p),
                    None => ctx.error(w.pos, format!("`persistence_granularity` `{}` is neither a contiguous IPv4 netmask nor an IPv6 prefix length", w.text), None),
                }
            }
        }
        "persistence_engine" => {
            if let Some(w) = ctx.single(s) {
                v.persistence_engine = Some(w.text.clone());
            }
        }
        "protocol" => {
            if let Some(w) = ctx.single(s) {
                match w.text.to_ascii_uppercase().as_str() {
                    "TCP" => v.protocol = Some((Protocol::Tcp, w.pos)),
                    "UDP" => v.protocol = Some((Protocol::Udp, w.pos)),
                    "SCTP" => v.protocol = Some((Protocol::Sctp, w.pos)),
                    _ => ctx.error(
                        w.pos,
                        format!("`protocol` `{}` is not TCP, UDP or SCTP", w.text),
                        None,
                    ),
                }
            }
        }
        "ha_suspend" => {
            v.ha_suspend = argless_flag(ctx, s);
            v.ha_suspend_pos = Some(s.key.pos);
        }
        "alpha" => v.timing.alpha = Some(argless_flag(ctx, s)),
        "omega" => v.omega = argless_flag(ctx, s),
        "inhibit_on_failure" => v.inhibit = argless_flag(ctx, s),
        "virtualhost" => {
            if let Some(w) = ctx.single(s) {
                v.virtualhost = Some(w.text.clone());
            }
        }
        "quorum" => {
            if let Some(w) = ctx.single(s) {
                v.quorum = ctx
                    .int(key, w, 1..=i64::from(u32::MAX))
                    .map_or(1, |n| n as u32);
            }
        }
        "hysteresis" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(key, w, 0..=i64::from(u32::MAX)) {
                    v.hysteresis = n as u32;
                }
            }
        }
        "quorum_up" => hook(ctx, s, &mut v.quorum_up),
        "quorum_down" => hook(ctx, s, &mut v.quorum_down),
        "weight" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(key, w, 1..=i64::from(i32::MAX)) {
                    v.weight = n as u32;
                }
            }
        }
        "sorry_server" => {
            ctx.no_block(s);
            if ctx.arity(s, 1, 2) {
                if let Some(a) = address_port(ctx, &s.args, "sorry server") {
                    v.sorry = Some(a);
                }
            }
        }
        "sorry_server_inhibit" => {
            ctx.flag(s);
            if v.sorry.is_none() {
                ctx.error(
                    s.key.pos,
                    "`sorry_server_inhibit` must come after `sorry_server`",
                    None,
                );
            } else {
                v.sorry_inhibit = true;
            }
        }
        "sorry_server_lvs_method" => {
            if v.sorry.is_none() {
                ctx.error(
                    s.key.pos,
                    "`sorry_server_lvs_method` must come after `sorry_server`",
                    None,
                );
            } else if let Some(m) = read_method(ctx, s) {
                v.sorry_forwarding = Some(m);
            }
        }
        "real_server" => {
            if let Some(r) = read_real_server(ctx, s) {
                v.reals.push(r);
            }
        }
        "smtp_alert" | "snmp_name" | "ip_family" | "hashed" => ctx.warn(
            s.key.pos,
            format!("`{key}` in virtual_server has no effect in vrrpd and is ignored"),
            None,
        ),
        _ => ctx.error(
            s.key.pos,
            format!("unknown keyword `{key}` in virtual_server"),
            Some("keepalived reports it as an unknown keyword too".into()),
        ),
    }
}

fn read_real_server(ctx: &mut Ctx<'_>, s: &Stmt) -> Option<RawReal> {
    ctx.arity(s, 1, 2);
    let (ip, port) = address_port(ctx, &s.args, "real server")?;
    let mut r = RawReal {
        pos: s.key.pos,
        ip,
        port,
        forwarding: None,
        weight: None,
        upper: 0,
        lower: 0,
        inhibit: None,
        notify_up: None,
        notify_down: None,
        virtualhost: None,
        timing: Timing::default(),
        checkers: Vec::new(),
    };
    for item in ctx.block(s) {
        let key = item.key.text.as_str();
        if r.timing.read(ctx, item, 1) {
            continue;
        }
        match key {
            "weight" => {
                if let Some(w) = ctx.single(item) {
                    r.weight = ctx
                        .int(key, w, 0..=i64::from(i32::MAX))
                        .map(|n| n as u32)
                        .or(r.weight);
                }
            }
            "lvs_method" => r.forwarding = read_method(ctx, item).or(r.forwarding),
            "uthreshold" | "lthreshold" => {
                if let Some(w) = ctx.single(item) {
                    if let Some(n) = ctx.int(key, w, 0..=i64::from(u32::MAX)) {
                        if key == "uthreshold" {
                            r.upper = n as u32;
                        } else {
                            r.lower = n as u32;
                        }
                    }
                }
            }
            "inhibit_on_failure" => r.inhibit = Some(ctx.flag(item)),
            "alpha" => r.timing.alpha = Some(ctx.flag(item)),
            "notify_up" => hook(ctx, item, &mut r.notify_up),
            "notify_down" => hook(ctx, item, &mut r.notify_down),
            "virtualhost" => {
                if let Some(w) = ctx.single(item) {
                    r.virtualhost = Some(w.text.clone());
                }
            }
            "SMTP_CHECK" => r
                .checkers
                .extend(super::smtp_check::read_smtp_check(ctx, item)),
            k if SUPPORTED.contains(&k) => r.checkers.extend(read_checker(ctx, item)),
            "FILE_CHECK" | "BFD_CHECK" => {
                ctx.warn(
                    item.key.pos,
                    format!("`{key}` is not supported by vrrpd yet and is ignored: the real server runs without this check"),
                    Some("TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, UDP_CHECK, DNS_CHECK, PING_CHECK and SMTP_CHECK are supported".into()),
                );
            }
            "smtp_alert" | "snmp_name" => ctx.warn(
                item.key.pos,
                format!("`{key}` in real_server has no effect in vrrpd and is ignored"),
                None,
            ),
            _ => ctx.error(
                item.key.pos,
                format!("unknown keyword `{key}` in real_server"),
                Some("keepalived reports it as an unknown keyword too".into()),
            ),
        }
    }
    Some(r)
}
