//! `[[virtual_server.real_server.check]]` tables: one checker each, of
//! `type` tcp, udp, dns, ping, smtp, http, https or misc, with the
//! defaults `docs/configuration.md` gives.

use std::net::SocketAddr;
use std::time::Duration;

use toml::de::DeTable;

use super::value::{Ctx, get};
use crate::config::lvs::{
    CheckKind, Checker, Connect, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DELAY_LOOP, DnsCheck, DnsType,
    HexPattern, HttpCheck, MiscCheck, SmtpCheck, UdpCheck, UrlCheck,
};
use crate::config::model::Hook;

const CHECK_KEYS: &[&str] = &[
    "type",
    "interval",
    "retry",
    "retry_delay",
    "warmup",
    "alpha",
    "connect",
    "bind",
    "timeout",
    "fwmark",
    "url",
    "http_version",
    "sni",
    "virtualhost",
    "command",
    "shell",
    "user",
    "group",
    "dynamic",
    "payload",
    "require_reply",
    "reply",
    "min_reply_length",
    "max_reply_length",
    "query_type",
    "name",
    "helo_name",
];
const URL_KEYS: &[&str] = &["path", "status", "digest", "virtualhost"];
pub(super) fn read_check(
    ctx: &mut Ctx<'_, '_>,
    t: &DeTable<'_>,
    span: std::ops::Range<usize>,
    real: SocketAddr,
) -> Option<Checker> {
    ctx.deny_unknown(t, "[[virtual_server.real_server.check]]", CHECK_KEYS);
    let kind_name = match get(t, "type") {
        Some(v) => ctx.string("type", v)?,
        None => {
            ctx.error(
                span,
                "a check needs a `type`: tcp, udp, dns, ping, smtp, http, https or misc",
                None,
            );
            return None;
        }
    };
    let dur = |ctx: &mut Ctx<'_, '_>, k: &str| get(t, k).and_then(|v| ctx.duration(k, v));
    let interval = dur(ctx, "interval").unwrap_or(DEFAULT_DELAY_LOOP);
    let timeout = dur(ctx, "timeout");
    let connect = Connect {
        addr: get(t, "connect")
            .and_then(|v| ctx.socket_addr("connect", v))
            .unwrap_or(real),
        bind: get(t, "bind").and_then(|v| ctx.socket_addr("bind", v)),
        timeout: timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        fwmark: get(t, "fwmark")
            .and_then(|v| ctx.integer("fwmark", v, 0..=i64::from(u32::MAX)))
            .map(|n| n as u32),
    };
    let (kind, retry, retry_delay) = match kind_name {
        "tcp" => (CheckKind::Tcp(connect), 1, Duration::from_secs(1)),
        "ping" => (CheckKind::Ping(connect), 1, Duration::from_secs(1)),
        "smtp" => {
            let helo_name = get(t, "helo_name")
                .and_then(|v| ctx.nonempty("helo_name", v))
                .unwrap_or_else(|| crate::lvs::smtp::DEFAULT_HELO.to_string());
            let check = SmtpCheck { connect, helo_name };
            (CheckKind::Smtp(check), 1, Duration::from_secs(1))
        }
        "http" | "https" => {
            let mut urls = Vec::new();
            if let Some(v) = get(t, "url") {
                for item in ctx.array("url", v) {
                    if let Some(ut) = ctx.table("url", item) {
                        urls.extend(read_url(ctx, ut, item.span()));
                    }
                }
            }
            if urls.is_empty() {
                ctx.error(
                    span,
                    "an http or https check needs at least one `url`",
                    None,
                );
                return None;
            }
            let http_1_1 = match get(t, "http_version").and_then(|v| ctx.string("http_version", v))
            {
                None | Some("1.0") => false,
                Some("1.1") => true,
                Some(other) => {
                    ctx.error(
                        span,
                        format!("`http_version` = \"{other}\" is not 1.0 or 1.1"),
                        None,
                    );
                    return None;
                }
            };
            let check = HttpCheck {
                connect,
                tls: kind_name == "https",
                http_1_1,
                sni: get(t, "sni")
                    .and_then(|v| ctx.boolean("sni", v))
                    .unwrap_or(false),
                virtualhost: get(t, "virtualhost").and_then(|v| ctx.nonempty("virtualhost", v)),
                urls,
            };
            (CheckKind::Http(check), 1, Duration::from_secs(3))
        }
        "udp" => {
            let hex = |ctx: &mut Ctx<'_, '_>, key: &str, wildcards: bool| {
                let v = get(t, key)?;
                let text = ctx.string(key, v)?;
                let parsed = HexPattern::parse(text, wildcards);
                if parsed.is_none() {
                    ctx.error(v.span(), format!("`{key}` is not hex octets"), None);
                }
                parsed
            };
            let len = |ctx: &mut Ctx<'_, '_>, key: &str, default: u16| {
                get(t, key)
                    .and_then(|v| ctx.integer(key, v, 0..=i64::from(u16::MAX)))
                    .map_or(default, |n| n as u16)
            };
            let reply = hex(ctx, "reply", true);
            let check = UdpCheck {
                connect,
                payload: hex(ctx, "payload", false)
                    .map(|p| p.bytes)
                    .unwrap_or_default(),
                require_reply: reply.is_some()
                    || get(t, "require_reply")
                        .and_then(|v| ctx.boolean("require_reply", v))
                        .unwrap_or(false),
                reply,
                reply_length: (
                    len(ctx, "min_reply_length", 0),
                    len(ctx, "max_reply_length", u16::from(u8::MAX)),
                ),
            };
            if check.reply_length.0 > check.reply_length.1 {
                ctx.error(
                    span,
                    "min_reply_length > max_reply_length: the check would always fail",
                    None,
                );
                return None;
            }
            (CheckKind::Udp(check), 1, Duration::from_secs(1))
        }
        "dns" => {
            let query_type = match get(t, "query_type") {
                None => DnsType::Soa,
                Some(v) => {
                    let name = ctx.string("query_type", v)?;
                    let Some(q) = DnsType::from_name(name) else {
                        ctx.error(
                            v.span(),
                            format!("unknown `query_type` \"{name}\""),
                            Some("use A, NS, CNAME, SOA, MX, TXT or AAAA".into()),
                        );
                        return None;
                    };
                    q
                }
            };
            let name = match get(t, "name") {
                None => String::new(),
                Some(v) => {
                    let name = ctx.string("name", v)?;
                    if let Some(problem) = crate::config::lvs::dns_name_problem(name) {
                        ctx.error(v.span(), problem, None);
                        return None;
                    }
                    name.strip_suffix('.').unwrap_or(name).to_string()
                }
            };
            let check = DnsCheck {
                connect,
                query_type,
                name,
            };
            (CheckKind::Dns(check), 3, interval)
        }
        "misc" => {
            let Some(c) = get(t, "command") else {
                ctx.error(span, "a misc check needs a `command`", None);
                return None;
            };
            let shell = get(t, "shell")
                .and_then(|v| ctx.boolean("shell", v))
                .unwrap_or(false);
            let exec = super::trackers::read_exec(ctx, "command", c, shell)?;
            let run_as = super::trackers::read_run_as(ctx, t, "user", "group");
            let check = MiscCheck {
                script: Hook { exec, run_as },
                timeout: timeout.unwrap_or(interval),
                dynamic: get(t, "dynamic")
                    .and_then(|v| ctx.boolean("dynamic", v))
                    .unwrap_or(false),
            };
            (CheckKind::Misc(check), 0, Duration::from_secs(1))
        }
        other => {
            ctx.error(
                span,
                format!(
                    "check `type` = \"{other}\" is not tcp, udp, dns, ping, http, https or misc"
                ),
                None,
            );
            return None;
        }
    };
    Some(Checker {
        kind,
        delay_loop: interval,
        retry: get(t, "retry")
            .and_then(|v| ctx.integer("retry", v, 0..=i64::from(u32::MAX)))
            .map_or(retry, |n| n as u32),
        delay_before_retry: dur(ctx, "retry_delay").unwrap_or(retry_delay),
        warmup: dur(ctx, "warmup").unwrap_or(interval),
        alpha: get(t, "alpha")
            .and_then(|v| ctx.boolean("alpha", v))
            .unwrap_or(false),
    })
}

fn read_url(
    ctx: &mut Ctx<'_, '_>,
    t: &DeTable<'_>,
    span: std::ops::Range<usize>,
) -> Option<UrlCheck> {
    ctx.deny_unknown(t, "url", URL_KEYS);
    let Some(path) = get(t, "path").and_then(|v| ctx.nonempty("path", v)) else {
        ctx.error(span, "a url needs a `path`", None);
        return None;
    };
    let mut status = Vec::new();
    if let Some(v) = get(t, "status") {
        for item in ctx.array("status", v) {
            let Some(s) = ctx.string("status", item) else {
                continue;
            };
            match UrlCheck::parse_status(s) {
                Some(range) => status.push(range),
                _ => ctx.error(
                    item.span(),
                    format!("status \"{s}\" is not a code or range within 100-599"),
                    None,
                ),
            }
        }
    }
    if status.is_empty() {
        status.push((200, 299));
    }
    let digest = get(t, "digest")
        .and_then(|v| ctx.string("digest", v))
        .and_then(|d| {
            UrlCheck::parse_digest(d).or_else(|| {
                ctx.error(
                    span.clone(),
                    format!("`digest` = \"{d}\" is not 32 hex digits (an MD5)"),
                    None,
                );
                None
            })
        });
    Some(UrlCheck {
        path,
        digest,
        status,
        virtualhost: get(t, "virtualhost").and_then(|v| ctx.nonempty("virtualhost", v)),
    })
}
