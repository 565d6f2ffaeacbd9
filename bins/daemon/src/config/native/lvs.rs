//! `[[virtual_server]]` tables: the LVS half in native TOML. Every value
//! is explicit or takes the default written in `docs/configuration.md`;
//! nothing is inherited between levels (`vrrpd convert` writes what a
//! keepalived.conf inherits into each checker).

use toml::de::DeTable;

use super::trackers::read_hook;
use super::value::{Ctx, get};
use crate::config::lvs::{
    Forwarding, Persistence, Protocol, RealServer, Scheduler, ServiceFlags, ServiceKey,
    SorryServer, VirtualServer,
};
use crate::config::model::Hook;
use vrrp_ipvs::{Family, TunnelChecksum, TunnelKind};

const VS_KEYS: &[&str] = &[
    "address",
    "protocol",
    "fwmark",
    "family",
    "scheduler",
    "flags",
    "forwarding",
    "tunnel",
    "persistence_timeout",
    "persistence_granularity",
    "persistence_engine",
    "quorum",
    "hysteresis",
    "quorum_up",
    "quorum_down",
    "omega",
    "ha_suspend",
    "virtualhost",
    "sorry_server",
    "real_server",
];
const RS_KEYS: &[&str] = &[
    "address",
    "weight",
    "forwarding",
    "tunnel",
    "upper_threshold",
    "lower_threshold",
    "inhibit_on_failure",
    "alpha",
    "notify_up",
    "notify_down",
    "check",
];
const SORRY_KEYS: &[&str] = &["address", "forwarding", "tunnel", "inhibit"];
const TUNNEL_KEYS: &[&str] = &["type", "port", "checksum"];
/// The names of `flags` entries.
pub(super) const FLAG_NAMES: &[(&str, ServiceFlags)] = &[
    ("ops", ServiceFlags::ONE_PACKET),
    ("flag-1", ServiceFlags::SCHED1),
    ("flag-2", ServiceFlags::SCHED2),
    ("flag-3", ServiceFlags::SCHED3),
];

fn forwarding(ctx: &mut Ctx<'_, '_>, t: &DeTable<'_>) -> Option<Forwarding> {
    let v = get(t, "forwarding")?;
    let method = ctx.string("forwarding", v)?;
    let tunnel = get(t, "tunnel").and_then(|tv| ctx.table("tunnel", tv));
    match (method, tunnel) {
        ("nat", None) => Some(Forwarding::Masquerade),
        ("dr", None) => Some(Forwarding::DirectRouting),
        ("tun", None) => Some(Forwarding::IPIP),
        ("tun", Some(tt)) => {
            ctx.deny_unknown(tt, "tunnel", TUNNEL_KEYS);
            let kind = get(tt, "type")
                .and_then(|k| ctx.string("type", k))
                .unwrap_or("ipip");
            let port = get(tt, "port").and_then(|p| ctx.integer("port", p, 1..=65535));
            let checksum = match get(tt, "checksum").and_then(|c| ctx.string("checksum", c)) {
                None | Some("nocsum") => TunnelChecksum::None,
                Some("csum") => TunnelChecksum::Checksum,
                Some("remcsum") => TunnelChecksum::Remote,
                Some(other) => {
                    ctx.error(
                        v.span(),
                        format!("tunnel checksum `{other}` is not nocsum, csum or remcsum"),
                        None,
                    );
                    return None;
                }
            };
            let kind = match (kind, port) {
                ("ipip", None) => TunnelKind::Ipip,
                ("gue", Some(p)) => TunnelKind::Gue { port: p as u16 },
                ("gre", None) => TunnelKind::Gre,
                (k, _) => {
                    ctx.error(
                        v.span(),
                        format!(
                            "tunnel type `{k}` (with its port) is not ipip, gue with a port, or gre"
                        ),
                        None,
                    );
                    return None;
                }
            };
            Some(Forwarding::Tunnel { kind, checksum })
        }
        (other, _) => {
            ctx.error(
                v.span(),
                format!(
                    "`forwarding` = \"{other}\" is not nat, dr or tun (with `tunnel` only for tun)"
                ),
                None,
            );
            None
        }
    }
}

fn hook(ctx: &mut Ctx<'_, '_>, t: &DeTable<'_>, key: &str) -> Option<Hook> {
    get(t, key).and_then(|v| read_hook(ctx, key, v)).map(|b| *b)
}

/// Reads one `[[virtual_server]]` table.
pub(super) fn read_virtual_server(
    ctx: &mut Ctx<'_, '_>,
    t: &DeTable<'_>,
    span: std::ops::Range<usize>,
) -> Option<VirtualServer> {
    ctx.deny_unknown(t, "[[virtual_server]]", VS_KEYS);
    let key = match (get(t, "address"), get(t, "fwmark")) {
        (Some(a), None) => {
            let addr = ctx.socket_addr("address", a)?;
            let protocol = match get(t, "protocol").and_then(|p| ctx.string("protocol", p)) {
                None | Some("tcp") => Protocol::Tcp,
                Some("udp") => Protocol::Udp,
                Some("sctp") => Protocol::Sctp,
                Some(other) => {
                    ctx.error(
                        span,
                        format!("`protocol` = \"{other}\" is not tcp, udp or sctp"),
                        None,
                    );
                    return None;
                }
            };
            ServiceKey::Inet { protocol, addr }
        }
        (None, Some(m)) => {
            let mark = ctx.integer("fwmark", m, 0..=i64::from(u32::MAX))? as u32;
            let family = match get(t, "family").and_then(|f| ctx.string("family", f)) {
                None | Some("ipv4") => Family::Ipv4,
                Some("ipv6") => Family::Ipv6,
                Some(other) => {
                    ctx.error(
                        span,
                        format!("`family` = \"{other}\" is not ipv4 or ipv6"),
                        None,
                    );
                    return None;
                }
            };
            ServiceKey::Fwmark { mark, family }
        }
        _ => {
            ctx.error(
                span,
                "a virtual_server needs `address` or `fwmark`, not both",
                None,
            );
            return None;
        }
    };
    let scheduler = match get(t, "scheduler").and_then(|s| ctx.string("scheduler", s)) {
        None => Scheduler::Wlc,
        Some(name) => match name.parse::<Scheduler>() {
            Ok(Scheduler::Other(n)) => {
                ctx.error(
                    span.clone(),
                    format!("`scheduler` = \"{n}\" is not a scheduler"),
                    None,
                );
                return None;
            }
            Ok(s) => s,
            Err(never) => match never {},
        },
    };
    let mut flags = ServiceFlags::default();
    if let Some(v) = get(t, "flags") {
        for item in ctx.array("flags", v) {
            let Some(name) = ctx.string("flags", item) else {
                continue;
            };
            let named = FLAG_NAMES.iter().find(|(n, _)| *n == name).map(|(_, f)| *f);
            let scheduler_flag = match (name, &scheduler) {
                ("sh-fallback", Scheduler::Sh) | ("mh-fallback", Scheduler::Mh) => {
                    Some(ServiceFlags::SCHED1)
                }
                ("sh-port", Scheduler::Sh) | ("mh-port", Scheduler::Mh) => {
                    Some(ServiceFlags::SCHED2)
                }
                _ => None,
            };
            match named.or(scheduler_flag) {
                Some(f) => flags = flags | f,
                None => ctx.error(
                    item.span(),
                    format!("flag `{name}` is unknown or not for the {scheduler} scheduler"),
                    Some(
                        "ops, flag-1..3, sh-port, sh-fallback (sh), mh-port, mh-fallback (mh)"
                            .into(),
                    ),
                ),
            }
        }
    }
    let full: u8 = match key.family() {
        Family::Ipv4 => 32,
        Family::Ipv6 => 128,
    };
    let persistence = get(t, "persistence_timeout")
        .and_then(|v| ctx.duration("persistence_timeout", v))
        .map(|timeout| Persistence {
            timeout,
            prefix_len: get(t, "persistence_granularity")
                .and_then(|g| ctx.integer("persistence_granularity", g, 1..=i64::from(full)))
                .map_or(full, |n| n as u8),
        });
    let vs_forwarding = forwarding(ctx, t).unwrap_or(Forwarding::Masquerade);
    let sorry_server = get(t, "sorry_server")
        .and_then(|v| ctx.table("sorry_server", v))
        .and_then(|st| {
            ctx.deny_unknown(st, "sorry_server", SORRY_KEYS);
            let addr = ctx.socket_addr("address", get(st, "address")?)?;
            Some(SorryServer {
                addr,
                forwarding: forwarding(ctx, st).unwrap_or(vs_forwarding),
                inhibit: get(st, "inhibit")
                    .and_then(|b| ctx.boolean("inhibit", b))
                    .unwrap_or(false),
            })
        });
    let mut real_servers = Vec::new();
    if let Some(v) = get(t, "real_server") {
        for item in ctx.array("real_server", v) {
            if let Some(rt) = ctx.table("real_server", item) {
                real_servers.extend(read_real_server(ctx, rt, item.span(), vs_forwarding));
            }
        }
    }
    if real_servers.is_empty() {
        ctx.error(
            span,
            "a virtual_server needs at least one [[virtual_server.real_server]]",
            None,
        );
        return None;
    }
    let quorum = get(t, "quorum")
        .and_then(|v| ctx.integer("quorum", v, 1..=i64::from(u32::MAX)))
        .map_or(1, |n| n as u32);
    let hysteresis = get(t, "hysteresis")
        .and_then(|v| ctx.integer("hysteresis", v, 0..=i64::from(quorum) - 1))
        .map_or(0, |n| n as u32);
    let ha_suspend = get(t, "ha_suspend")
        .and_then(|v| ctx.boolean("ha_suspend", v))
        .unwrap_or(false);
    if ha_suspend && matches!(key, ServiceKey::Fwmark { .. }) {
        ctx.error(
            span.clone(),
            "`ha_suspend` needs the service's address: a fwmark service has none",
            None,
        );
    }
    Some(VirtualServer {
        key,
        scheduler,
        flags,
        persistence,
        persistence_engine: get(t, "persistence_engine")
            .and_then(|v| ctx.nonempty("persistence_engine", v)),
        ha_suspend,
        quorum,
        hysteresis,
        quorum_up: hook(ctx, t, "quorum_up"),
        quorum_down: hook(ctx, t, "quorum_down"),
        sorry_server,
        omega: get(t, "omega")
            .and_then(|v| ctx.boolean("omega", v))
            .unwrap_or(false),
        virtualhost: get(t, "virtualhost").and_then(|v| ctx.nonempty("virtualhost", v)),
        real_servers,
    })
}

fn read_real_server(
    ctx: &mut Ctx<'_, '_>,
    t: &DeTable<'_>,
    span: std::ops::Range<usize>,
    vs_forwarding: Forwarding,
) -> Option<RealServer> {
    ctx.deny_unknown(t, "[[virtual_server.real_server]]", RS_KEYS);
    let Some(a) = get(t, "address") else {
        ctx.error(span, "a real_server needs an `address`", None);
        return None;
    };
    let addr = ctx.socket_addr("address", a)?;
    let int = |ctx: &mut Ctx<'_, '_>, k: &str, max: i64| {
        get(t, k)
            .and_then(|v| ctx.integer(k, v, 0..=max))
            .map(|n| n as u32)
    };
    let flag =
        |ctx: &mut Ctx<'_, '_>, k: &str| get(t, k).and_then(|v| ctx.boolean(k, v)).unwrap_or(false);
    let mut checkers = Vec::new();
    if let Some(v) = get(t, "check") {
        for item in ctx.array("check", v) {
            if let Some(ct) = ctx.table("check", item) {
                checkers.extend(super::checks::read_check(ctx, ct, item.span(), addr));
            }
        }
    }
    Some(RealServer {
        addr,
        forwarding: forwarding(ctx, t).unwrap_or(vs_forwarding),
        weight: int(ctx, "weight", i64::from(i32::MAX)).unwrap_or(1),
        upper_threshold: int(ctx, "upper_threshold", i64::from(u32::MAX)).unwrap_or(0),
        lower_threshold: int(ctx, "lower_threshold", i64::from(u32::MAX)).unwrap_or(0),
        inhibit_on_failure: flag(ctx, "inhibit_on_failure"),
        alpha: flag(ctx, "alpha"),
        notify_up: hook(ctx, t, "notify_up"),
        notify_down: hook(ctx, t, "notify_down"),
        checkers,
    })
}
