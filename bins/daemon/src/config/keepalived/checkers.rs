//! The checker blocks of a `real_server`: `TCP_CHECK`, `HTTP_GET`,
//! `SSL_GET` and `MISC_CHECK`, read with what they leave to inherit
//! (timing from the real and virtual server) still open; see
//! [`super::lvs`] for the resolution.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::args::Ctx;
use super::parser::Stmt;
use crate::config::address::parse_ip;
use crate::config::lvs::{DnsCheck, DnsType, HexPattern, HttpCheck, MiscCheck, UdpCheck, UrlCheck};
use crate::config::model::Hook;

/// The longest `connect_timeout` keepalived takes (`UINT_MAX` µs).
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_micros(u32::MAX as u64);
/// A bound for the other times (keepalived's is larger and meaningless).
pub(super) const MAX_TIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// The timing keywords a virtual server, a real server and a checker all
/// take; `None` inherits.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Timing {
    pub(super) delay_loop: Option<Duration>,
    pub(super) retry: Option<u32>,
    pub(super) delay_before_retry: Option<Duration>,
    pub(super) warmup: Option<Duration>,
    pub(super) connect_timeout: Option<Duration>,
    pub(super) alpha: Option<bool>,
}

impl Timing {
    /// Reads one timing keyword; `false` if `s` is not one. `min_retry`:
    /// 1 at virtual and real server level, 0 in a checker (keepalived's).
    pub(super) fn read(&mut self, ctx: &mut Ctx<'_>, s: &Stmt, min_retry: i64) -> bool {
        let key = s.key.text.as_str();
        match key {
            "delay_loop" => {
                if let Some(w) = ctx.single(s) {
                    self.delay_loop = ctx.seconds(key, w, Duration::from_micros(1), MAX_TIME);
                }
            }
            "retry" | "nb_get_retry" => {
                if let Some(w) = ctx.single(s) {
                    self.retry = ctx
                        .int(key, w, min_retry..=i64::from(u32::MAX))
                        .map(|n| n as u32);
                }
            }
            "delay_before_retry" => {
                if let Some(w) = ctx.single(s) {
                    self.delay_before_retry = ctx.seconds(key, w, Duration::ZERO, MAX_TIME);
                }
            }
            "warmup" => {
                if let Some(w) = ctx.single(s) {
                    self.warmup = ctx.seconds(key, w, Duration::ZERO, MAX_TIME);
                }
            }
            "connect_timeout" => {
                if let Some(w) = ctx.single(s) {
                    self.connect_timeout =
                        ctx.seconds(key, w, Duration::from_micros(1), MAX_CONNECT_TIMEOUT);
                }
            }
            _ => return false,
        }
        true
    }

    /// `self`, with what it leaves open taken from `outer`.
    pub(super) fn or(self, outer: Timing) -> Timing {
        Timing {
            delay_loop: self.delay_loop.or(outer.delay_loop),
            retry: self.retry.or(outer.retry),
            delay_before_retry: self.delay_before_retry.or(outer.delay_before_retry),
            warmup: self.warmup.or(outer.warmup),
            connect_timeout: self.connect_timeout.or(outer.connect_timeout),
            alpha: self.alpha.or(outer.alpha),
        }
    }
}

/// Where a checker connects, as written.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct RawConnect {
    pub(super) ip: Option<IpAddr>,
    pub(super) port: Option<u16>,
    pub(super) bind_ip: Option<IpAddr>,
    pub(super) bind_port: Option<u16>,
    pub(super) fwmark: Option<u32>,
}

/// The kind of a checker, as written.
#[derive(Clone, Debug)]
pub(super) enum RawKind {
    Tcp,
    Http(Box<HttpCheck>),
    Misc(Box<MiscCheck>, Option<Duration>),
    Udp(Box<UdpCheck>),
    Dns(Box<DnsCheck>),
    Ping,
    Smtp(Box<crate::config::lvs::SmtpCheck>),
}

/// A checker block as written.
#[derive(Clone, Debug)]
pub(super) struct RawChecker {
    pub(super) kind: RawKind,
    pub(super) timing: Timing,
    pub(super) connect: RawConnect,
}

/// The checkers vrrpd runs.
pub(super) const SUPPORTED: &[&str] = &[
    "TCP_CHECK",
    "HTTP_GET",
    "SSL_GET",
    "MISC_CHECK",
    "UDP_CHECK",
    "DNS_CHECK",
    "PING_CHECK",
    "SMTP_CHECK",
];

/// Reads a checker block `s` (its keyword is one of [`SUPPORTED`] but
/// `SMTP_CHECK`, which [`super::smtp_check`] reads).
pub(super) fn read_checker(ctx: &mut Ctx<'_>, s: &Stmt) -> Option<RawChecker> {
    ctx.arity(s, 0, 0);
    let key = s.key.text.as_str();
    let mut c = RawChecker {
        kind: match key {
            "TCP_CHECK" => RawKind::Tcp,
            "PING_CHECK" => RawKind::Ping,
            "DNS_CHECK" => RawKind::Dns(Box::new(DnsCheck {
                connect: crate::config::lvs::Connect {
                    addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                    bind: None,
                    timeout: Duration::ZERO,
                    fwmark: None,
                },
                query_type: DnsType::Soa,
                name: String::new(),
            })),
            "UDP_CHECK" => RawKind::Udp(Box::new(UdpCheck {
                connect: crate::config::lvs::Connect {
                    addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                    bind: None,
                    timeout: Duration::ZERO,
                    fwmark: None,
                },
                payload: Vec::new(),
                require_reply: false,
                reply: None,
                reply_length: (0, u16::from(u8::MAX)),
            })),
            "MISC_CHECK" => RawKind::Misc(
                Box::new(MiscCheck {
                    script: Hook {
                        exec: crate::config::exec::Exec::Argv(Vec::new()),
                        run_as: None,
                    },
                    timeout: Duration::ZERO,
                    dynamic: false,
                }),
                None,
            ),
            _ => RawKind::Http(Box::new(HttpCheck {
                connect: crate::config::lvs::Connect {
                    addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                    bind: None,
                    timeout: Duration::ZERO,
                    fwmark: None,
                },
                tls: key == "SSL_GET",
                http_1_1: false,
                sni: false,
                virtualhost: None,
                urls: Vec::new(),
            })),
        },
        timing: Timing::default(),
        connect: RawConnect::default(),
    };
    for item in ctx.block(s) {
        read_item(ctx, item, &mut c);
    }
    match &c.kind {
        RawKind::Http(h) if h.urls.is_empty() => {
            ctx.warn(
                s.key.pos,
                format!("`{key}` has no `url`: keepalived drops this checker"),
                Some("add `url { path / }`".into()),
            );
            None
        }
        RawKind::Misc(m, _) if matches!(&m.script.exec, crate::config::exec::Exec::Argv(a) if a.is_empty()) =>
        {
            ctx.warn(
                s.key.pos,
                "`MISC_CHECK` has no `misc_path`: keepalived drops this checker",
                Some("add `misc_path \"/path/to/script args\"`".into()),
            );
            None
        }
        RawKind::Udp(u) if u.reply_length.0 > u.reply_length.1 => {
            ctx.error(
                s.key.pos,
                format!(
                    "`UDP_CHECK` min_reply_length {} > max_reply_length {}: it would always fail",
                    u.reply_length.0, u.reply_length.1
                ),
                None,
            );
            None
        }
        _ => Some(c),
    }
}

/// One item of a checker block: timing, connection, or the kind's own.
pub(super) fn read_item(ctx: &mut Ctx<'_>, s: &Stmt, c: &mut RawChecker) {
    let key = s.key.text.as_str();
    let misc = matches!(c.kind, RawKind::Misc(..));
    if c.timing.read(ctx, s, 0) {
        return;
    }
    match key {
        "alpha" => c.timing.alpha = Some(ctx.flag(s)),
        "log_all_failures" => {
            ctx.flag(s);
        }
        "connect_ip" | "bindto" if !misc => {
            if let Some(w) = ctx.single(s) {
                match parse_ip(&w.text) {
                    Ok(ip) if key == "connect_ip" => c.connect.ip = Some(ip),
                    Ok(ip) => c.connect.bind_ip = Some(ip),
                    Err(_) => ctx.error(
                        w.pos,
                        format!("`{key}`: `{}` is not an IP address", w.text),
                        None,
                    ),
                }
            }
        }
        "connect_port" | "bind_port" if !misc => {
            if let Some(w) = ctx.single(s) {
                let port = ctx.int(key, w, 1..=65535).map(|n| n as u16);
                if key == "connect_port" {
                    c.connect.port = port.or(c.connect.port);
                } else {
                    c.connect.bind_port = port.or(c.connect.bind_port);
                }
            }
        }
        "fwmark" if !misc => {
            if let Some(w) = ctx.single(s) {
                c.connect.fwmark = ctx.int(key, w, 0..=i64::from(u32::MAX)).map(|n| n as u32);
            }
        }
        _ => match &mut c.kind {
            RawKind::Http(h) => read_http_item(ctx, s, h),
            RawKind::Misc(m, timeout) => read_misc_item(ctx, s, m, timeout),
            RawKind::Tcp => unknown(ctx, s, "TCP_CHECK"),
            RawKind::Ping => unknown(ctx, s, "PING_CHECK"),
            RawKind::Smtp(_) => unknown(ctx, s, "SMTP_CHECK"),
            RawKind::Udp(u) => read_udp_item(ctx, s, u),
            RawKind::Dns(d) => read_dns_item(ctx, s, d),
        },
    }
}

/// `type A|NS|CNAME|SOA|MX|TXT|AAAA` and `name NAME` (keepalived's
/// check_dns.c; an unknown type is an error there too).
fn read_dns_item(ctx: &mut Ctx<'_>, s: &Stmt, d: &mut DnsCheck) {
    let key = s.key.text.as_str();
    match key {
        "type" => {
            if let Some(w) = ctx.single(s) {
                match DnsType::from_name(&w.text) {
                    Some(t) => d.query_type = t,
                    None => ctx.error(
                        w.pos,
                        format!("unknown DNS_CHECK type `{}`", w.text),
                        Some("use A, NS, CNAME, SOA, MX, TXT or AAAA".into()),
                    ),
                }
            }
        }
        "name" => {
            if let Some(w) = ctx.single(s) {
                match crate::config::lvs::dns_name_problem(&w.text) {
                    Some(problem) => ctx.error(w.pos, problem, None),
                    None => d.name = w.text.strip_suffix('.').unwrap_or(&w.text).to_string(),
                }
            }
        }
        _ => unknown(ctx, s, "DNS_CHECK"),
    }
}

/// `payload HEX`, `require_reply [HEX]`, `min_reply_length N`,
/// `max_reply_length N` (keepalived's check_udp.c).
fn read_udp_item(ctx: &mut Ctx<'_>, s: &Stmt, u: &mut UdpCheck) {
    let key = s.key.text.as_str();
    let hex = |s: &Stmt| {
        s.args
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match key {
        "payload" => {
            ctx.no_block(s);
            match HexPattern::parse(&hex(s), false) {
                Some(p) if ctx.arity(s, 1, usize::MAX) => u.payload = p.bytes,
                Some(_) => {}
                None => ctx.error(
                    s.key.pos,
                    "`payload` needs hex octets (such as `01 02 0a`)",
                    None,
                ),
            }
        }
        "require_reply" => {
            ctx.no_block(s);
            u.require_reply = true;
            if !s.args.is_empty() {
                match HexPattern::parse(&hex(s), true) {
                    Some(p) => u.reply = Some(p),
                    None => ctx.error(
                        s.key.pos,
                        "`require_reply` takes hex octets (`x` for a nibble that may be anything)",
                        None,
                    ),
                }
            }
        }
        "min_reply_length" | "max_reply_length" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(key, w, 0..=i64::from(u16::MAX)) {
                    if key == "min_reply_length" {
                        u.reply_length.0 = n as u16;
                    } else {
                        u.reply_length.1 = n as u16;
                    }
                }
            }
        }
        _ => unknown(ctx, s, "UDP_CHECK"),
    }
}

fn unknown(ctx: &mut Ctx<'_>, s: &Stmt, block: &str) {
    let key = &s.key.text;
    if ["bind_if", "smtp_alert"].contains(&key.as_str()) {
        ctx.warn(
            s.key.pos,
            format!("`{key}` in {block} is not supported by vrrpd and is ignored"),
            None,
        );
    } else {
        ctx.error(
            s.key.pos,
            format!("unknown keyword `{key}` in {block}"),
            Some("keepalived reports it as an unknown keyword too".into()),
        );
    }
}

fn read_http_item(ctx: &mut Ctx<'_>, s: &Stmt, h: &mut HttpCheck) {
    let key = s.key.text.as_str();
    match key {
        "virtualhost" => {
            if let Some(w) = ctx.single(s) {
                h.virtualhost = Some(w.text.clone());
            }
        }
        "http_protocol" => {
            if let Some(w) = ctx.single(s) {
                match w.text.as_str() {
                    "1.0" => h.http_1_1 = false,
                    "1.1" | "1.0C" | "1.0c" => h.http_1_1 = true,
                    other => ctx.error(
                        w.pos,
                        format!("`http_protocol` `{other}` is not 1.0, 1.0C or 1.1"),
                        None,
                    ),
                }
            }
        }
        "url" => {
            ctx.arity(s, 0, 0);
            let mut url = UrlCheck {
                path: String::new(),
                digest: None,
                status: Vec::new(),
                virtualhost: None,
            };
            for item in ctx.block(s) {
                read_url_item(ctx, item, &mut url);
            }
            if url.path.is_empty() {
                ctx.warn(
                    s.key.pos,
                    "`url` has no `path`: keepalived ignores it",
                    None,
                );
                return;
            }
            if url.status.is_empty() {
                url.status.push((200, 299));
            }
            h.urls.push(url);
        }
        "enable_sni" => h.sni = ctx.flag(s),
        "fast_recovery" => {
            ctx.flag(s);
            ctx.warn(
                s.key.pos,
                format!("`{key}` is not supported by vrrpd yet and is ignored"),
                None,
            );
        }
        _ => unknown(ctx, s, if h.tls { "SSL_GET" } else { "HTTP_GET" }),
    }
}

fn read_url_item(ctx: &mut Ctx<'_>, s: &Stmt, url: &mut UrlCheck) {
    let key = s.key.text.as_str();
    match key {
        "path" => {
            ctx.no_block(s);
            if ctx.arity(s, 1, usize::MAX) {
                url.path = s.args[0].text.clone();
            }
        }
        "digest" => {
            if let Some(w) = ctx.single(s) {
                if url.digest.is_some() {
                    ctx.error(w.pos, "`digest` is a duplicate", None);
                } else if let Some(d) = UrlCheck::parse_digest(&w.text) {
                    url.digest = Some(d);
                } else {
                    ctx.error(w.pos, format!("`digest` `{}` is not 32 hex digits (an MD5, as genhash prints)", w.text), None);
                }
            }
        }
        "status_code" => {
            ctx.no_block(s);
            ctx.arity(s, 1, usize::MAX);
            for w in &s.args {
                match UrlCheck::parse_status(&w.text) {
                    Some(range) => url.status.push(range),
                    _ => ctx.error(
                        w.pos,
                        format!("`status_code` `{}` is not a code or range within 100-599", w.text),
                        None,
                    ),
                }
            }
        }
        "virtualhost" => {
            if let Some(w) = ctx.single(s) {
                url.virtualhost = Some(w.text.clone());
            }
        }
        "regex" | "regex_no_match" | "regex_options" | "regex_min_offset" | "regex_max_offset"
        | "regex_stack" => ctx.warn(
            s.key.pos,
            format!("`{key}` is not supported by vrrpd yet and is ignored: the url is checked without it"),
            None,
        ),
        _ => unknown(ctx, s, "url"),
    }
}

fn read_misc_item(ctx: &mut Ctx<'_>, s: &Stmt, m: &mut MiscCheck, timeout: &mut Option<Duration>) {
    let key = s.key.text.as_str();
    match key {
        "misc_path" => {
            if let Some(w) = ctx.single(s) {
                if let Some(exec) = ctx.command(w) {
                    m.script.exec = exec;
                }
            }
        }
        "misc_timeout" => {
            if let Some(w) = ctx.single(s) {
                *timeout = ctx
                    .int(key, w, 0..=i64::from(u32::MAX / 1_000_000))
                    .map(|n| Duration::from_secs(n as u64))
                    .filter(|d| !d.is_zero());
            }
        }
        "misc_dynamic" => {
            ctx.bare(s);
            m.dynamic = true;
        }
        "user" => {
            ctx.no_block(s);
            if ctx.arity(s, 1, 2) {
                m.script.run_as = Some(crate::config::model::RunAs {
                    user: s.args[0].text.clone(),
                    group: s.args.get(1).map(|g| g.text.clone()),
                });
            }
        }
        _ => unknown(ctx, s, "MISC_CHECK"),
    }
}
