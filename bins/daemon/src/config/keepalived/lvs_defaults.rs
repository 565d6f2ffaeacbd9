//! A `virtual_server` as written ([`RawVirtual`], [`RawReal`], which
//! [`super::lvs`] fills), and the second half of reading it: keepalived
//! 2.2.7's defaults, inheritance (virtual server → real server → checker)
//! and adjustments, each adjustment with a warning.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::args::Ctx;
use super::checkers::{RawChecker, RawKind, Timing};
use crate::config::diagnostics::Pos;
use crate::config::lvs::{
    CheckKind, Checker, Connect, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DELAY_LOOP, Forwarding,
    Persistence, Protocol, RealServer, Scheduler, ServiceFlags, ServiceKey, SorryServer,
    VirtualServer,
};
use crate::config::model::Hook;
use vrrp_ipvs::Family;

/// keepalived's persistence timeout when none is given (`IPVS_SVC_PERSISTENT_TIMEOUT`).
pub(super) const DEFAULT_PERSISTENCE: Duration = Duration::from_secs(360);
/// keepalived's longest persistence timeout (31 days).
pub(super) const MAX_PERSISTENCE: u64 = 2_678_400;

/// A `real_server` as written.
pub(super) struct RawReal {
    pub(super) pos: Pos,
    pub(super) ip: IpAddr,
    pub(super) port: Option<u16>,
    pub(super) forwarding: Option<Forwarding>,
    pub(super) weight: Option<u32>,
    pub(super) upper: u32,
    pub(super) lower: u32,
    pub(super) inhibit: Option<bool>,
    pub(super) notify_up: Option<Hook>,
    pub(super) notify_down: Option<Hook>,
    pub(super) virtualhost: Option<String>,
    pub(super) timing: Timing,
    pub(super) checkers: Vec<RawChecker>,
}

/// A `virtual_server` as written.
pub(super) struct RawVirtual {
    pub(super) pos: Pos,
    pub(super) ip: Option<IpAddr>,
    pub(super) port: u16,
    pub(super) fwmark: Option<u32>,
    pub(super) protocol: Option<(Protocol, Pos)>,
    pub(super) scheduler: Option<Scheduler>,
    pub(super) flags: ServiceFlags,
    pub(super) ops: Option<Pos>,
    pub(super) forwarding: Option<Forwarding>,
    pub(super) persistence_timeout: Option<Duration>,
    pub(super) granularity: Option<u8>,
    pub(super) persistence_engine: Option<String>,
    pub(super) ha_suspend: bool,
    pub(super) ha_suspend_pos: Option<Pos>,
    pub(super) quorum: u32,
    pub(super) hysteresis: u32,
    pub(super) quorum_up: Option<Hook>,
    pub(super) quorum_down: Option<Hook>,
    pub(super) weight: u32,
    pub(super) inhibit: bool,
    pub(super) omega: bool,
    pub(super) virtualhost: Option<String>,
    pub(super) sorry: Option<(IpAddr, Option<u16>)>,
    pub(super) sorry_inhibit: bool,
    pub(super) sorry_forwarding: Option<Forwarding>,
    pub(super) timing: Timing,
    pub(super) reals: Vec<RawReal>,
}

/// Applies keepalived's defaults, inheritance and adjustments.
pub(super) fn finish(ctx: &mut Ctx<'_>, v: RawVirtual) -> Option<VirtualServer> {
    let key = match (v.fwmark, v.ip) {
        (Some(mark), _) => {
            if let Some((_, pos)) = v.protocol {
                ctx.warn(
                    pos,
                    "a fwmark virtual_server has no protocol: ignored, as keepalived ignores it",
                    None,
                );
            }
            let family = v.reals.first().map_or(Family::Ipv4, |r| Family::of(r.ip));
            ServiceKey::Fwmark { mark, family }
        }
        (None, Some(ip)) => {
            let protocol = match v.protocol {
                Some((p, _)) => p,
                None => {
                    ctx.warn(
                        v.pos,
                        "no `protocol` set: defaulting to UDP, as keepalived does",
                        Some("add `protocol TCP` for a TCP service".into()),
                    );
                    Protocol::Udp
                }
            };
            ServiceKey::Inet {
                protocol,
                addr: SocketAddr::new(ip, v.port),
            }
        }
        (None, None) => return None,
    };
    if v.reals.is_empty() {
        ctx.warn(
            v.pos,
            format!("virtual server {key} has no real servers: ignored, as keepalived ignores it"),
            None,
        );
        return None;
    }
    let mut flags = v.flags;
    if let Some(pos) = v.ops {
        if matches!(key, ServiceKey::Inet { protocol, .. } if protocol != Protocol::Udp) {
            ctx.warn(
                pos,
                "one-packet scheduling (`ops`) needs UDP: ignored, as keepalived resets it",
                None,
            );
        } else {
            flags = flags | ServiceFlags::ONE_PACKET;
        }
    }
    let full = match key.family() {
        Family::Ipv4 => 32,
        Family::Ipv6 => 128,
    };
    let mut timeout = v.persistence_timeout;
    if v.granularity.is_some() && timeout.is_none() {
        timeout = Some(DEFAULT_PERSISTENCE);
    }
    if matches!(key, ServiceKey::Inet { addr, .. } if addr.port() == 0) && timeout.is_none() {
        ctx.warn(
            v.pos,
            "a port-0 service must be persistent: persistence_timeout 360, as keepalived sets",
            None,
        );
        timeout = Some(DEFAULT_PERSISTENCE);
    }
    let persistence = timeout.map(|timeout| Persistence {
        timeout,
        prefix_len: v.granularity.unwrap_or(full).min(full),
    });
    let vs_forwarding = v.forwarding.unwrap_or(Forwarding::Masquerade);
    let vs_port = match key {
        ServiceKey::Inet { addr, .. } => addr.port(),
        ServiceKey::Fwmark { .. } => 0,
    };
    let defaults = Timing {
        delay_loop: Some(v.timing.delay_loop.unwrap_or(DEFAULT_DELAY_LOOP)),
        connect_timeout: Some(v.timing.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT)),
        ..v.timing
    };
    let mut real_servers: Vec<RealServer> = Vec::new();
    for r in v.reals {
        let forwarding = r.forwarding.unwrap_or(vs_forwarding);
        if !matches!(forwarding, Forwarding::Tunnel { .. }) && Family::of(r.ip) != key.family() {
            ctx.warn(r.pos, format!("real server {} and virtual server {key} are of different families: skipped, as keepalived skips it", r.ip), None);
            continue;
        }
        let port = match (key, forwarding, r.port) {
            (ServiceKey::Fwmark { .. }, Forwarding::Masquerade, p) => p.unwrap_or(0),
            (ServiceKey::Fwmark { .. }, _, _) => 0,
            (_, Forwarding::Masquerade, p) => p.unwrap_or(vs_port),
            (_, _, Some(p)) if p != vs_port => {
                ctx.warn(r.pos, format!("real server port {p} differs from the virtual server's {vs_port}, which DR and TUN need: reset, as keepalived resets it"), None);
                vs_port
            }
            _ => vs_port,
        };
        let addr = SocketAddr::new(r.ip, port);
        if real_servers.iter().any(|x| x.addr == addr) {
            ctx.warn(
                r.pos,
                format!("real server {addr} is a duplicate: skipped, as keepalived skips it"),
                None,
            );
            continue;
        }
        let timing = r.timing.or(defaults);
        let alpha = timing.alpha.unwrap_or(false);
        // keepalived checks the address as the real server wrote it.
        let written = SocketAddr::new(r.ip, r.port.unwrap_or(0));
        let vhost = r.virtualhost.clone().or_else(|| v.virtualhost.clone());
        let checkers = r
            .checkers
            .into_iter()
            .map(|c| resolve_checker(c, timing, written, vhost.clone(), defaults))
            .collect();
        real_servers.push(RealServer {
            addr,
            forwarding,
            weight: r.weight.unwrap_or(v.weight),
            upper_threshold: r.upper,
            lower_threshold: r.lower,
            inhibit_on_failure: r.inhibit.unwrap_or(v.inhibit),
            alpha,
            notify_up: r.notify_up,
            notify_down: r.notify_down,
            checkers,
        });
    }
    if real_servers.is_empty() {
        return None;
    }
    let total: u64 = real_servers.iter().map(|r| u64::from(r.weight)).sum();
    let mut quorum = v.quorum;
    if u64::from(quorum) > total {
        ctx.warn(v.pos, format!("quorum {quorum} is more than the real servers' total weight {total}: lowered to it, as keepalived lowers it"), None);
        quorum = total as u32;
    }
    let mut hysteresis = v.hysteresis;
    if hysteresis >= quorum && hysteresis > 0 {
        let lowered = quorum.saturating_sub(1);
        ctx.warn(v.pos, format!("hysteresis {hysteresis} is not below the quorum {quorum}: lowered to {lowered}, as keepalived lowers it"), None);
        hysteresis = lowered;
    }
    let sorry_server = v.sorry.map(|(ip, port)| {
        let forwarding = v.sorry_forwarding.unwrap_or(vs_forwarding);
        let port = match forwarding {
            Forwarding::Masquerade => port.unwrap_or(0),
            _ => vs_port,
        };
        SorryServer {
            addr: SocketAddr::new(ip, port),
            forwarding,
            inhibit: v.sorry_inhibit,
        }
    });
    Some(VirtualServer {
        key,
        scheduler: v.scheduler.unwrap_or(Scheduler::Wlc),
        flags,
        persistence,
        persistence_engine: v.persistence_engine,
        ha_suspend: match (v.ha_suspend_pos, key) {
            (Some(pos), ServiceKey::Fwmark { .. }) => {
                ctx.warn(pos, "`ha_suspend` needs the service's address, which a fwmark service has none of: ignored, as keepalived clears it", None);
                false
            }
            _ => v.ha_suspend,
        },
        quorum,
        hysteresis,
        quorum_up: v.quorum_up,
        quorum_down: v.quorum_down,
        sorry_server,
        omega: v.omega,
        virtualhost: v.virtualhost,
        real_servers,
    })
}

/// A checker with its timing and target resolved.
fn resolve_checker(
    c: RawChecker,
    outer: Timing,
    written: SocketAddr,
    virtualhost: Option<String>,
    vs: Timing,
) -> Checker {
    let t = c.timing.or(outer);
    let delay_loop = t.delay_loop.unwrap_or(DEFAULT_DELAY_LOOP);
    let connect = Connect {
        addr: SocketAddr::new(
            c.connect.ip.unwrap_or(written.ip()),
            c.connect.port.unwrap_or(written.port()),
        ),
        bind: c
            .connect
            .bind_ip
            .map(|ip| SocketAddr::new(ip, c.connect.bind_port.unwrap_or(0))),
        timeout: t.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        fwmark: c.connect.fwmark,
    };
    let (kind, retry, before_retry) = match c.kind {
        RawKind::Tcp => (CheckKind::Tcp(connect), 1, Duration::from_secs(1)),
        RawKind::Ping => (CheckKind::Ping(connect), 1, Duration::from_secs(1)),
        RawKind::Smtp(mut smtp) => {
            smtp.connect = connect;
            (CheckKind::Smtp(*smtp), 1, Duration::from_secs(1))
        }
        RawKind::Udp(mut u) => {
            u.connect = connect;
            (CheckKind::Udp(*u), 1, Duration::from_secs(1))
        }
        // keepalived: retry 3 and delay_before_retry delay_loop for DNS.
        RawKind::Dns(mut dns) => {
            dns.connect = connect;
            (CheckKind::Dns(*dns), 3, delay_loop)
        }
        RawKind::Http(mut h) => {
            h.connect = connect;
            h.virtualhost = h.virtualhost.or(virtualhost);
            (CheckKind::Http(*h), 1, Duration::from_secs(3))
        }
        RawKind::Misc(mut m, timeout) => {
            // misc_timeout 0 or unset: the virtual server's delay_loop.
            m.timeout = timeout.unwrap_or(vs.delay_loop.unwrap_or(DEFAULT_DELAY_LOOP));
            (CheckKind::Misc(*m), 0, Duration::from_secs(1))
        }
    };
    Checker {
        kind,
        delay_loop,
        retry: t.retry.unwrap_or(retry),
        delay_before_retry: t.delay_before_retry.unwrap_or(before_retry),
        warmup: t.warmup.unwrap_or(delay_loop),
        alpha: t.alpha.unwrap_or(false),
    }
}
