//! Routes and policy rules of an instance (keepalived's `virtual_routes`,
//! `virtual_rules`) or of the host (`static_routes`, `static_rules`), and
//! the one parser of their lines that keepalived.conf and native TOML
//! share: `ip route`/`ip rule` words, as keepalived 2.2.7 reads them
//! (`vrrp_iproute.c`, `vrrp_iprule.c`).
//!
//! Where vrrpd differs from keepalived 2.2.7, it says so:
//! - a word neither knows is an error here; keepalived takes it for the
//!   destination and drops the line with an error;
//! - a route of the kinds `local`, `broadcast`, `anycast`, `multicast` or
//!   a direct unicast route get `ip route`'s scope (host, link) when none
//!   is given; keepalived sends global, which the kernel refuses for
//!   `local`;
//! - a single port after `sport`/`dport` is a range of one; keepalived
//!   reports it and drops the port match.

use std::fmt;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_netaddr::{
    Family, IpPrefix, Range, RouteKind, RouteMetricKind, RouteMetricValue, RouteSpec, RuleAction,
    RuleSpec, Scope,
};

/// A route to install: the kernel's [`RouteSpec`] (without its device,
/// which is found by name when it is installed) and what vrrpd watches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The route; `spec.device` is unset.
    pub spec: RouteSpec,
    /// The output interface (`dev`), by name.
    pub device: Option<String>,
    /// Tracked (no `no_track`, and a `dev`): the instance goes to Fault
    /// while that interface is down, as keepalived's does.
    pub track: bool,
}

/// A policy rule to install, and whether vrrpd watches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The rule.
    pub spec: RuleSpec,
    /// Tracked (no `no_track`): the instance goes to Fault while its `iif`
    /// or `oif` is down, as keepalived's does.
    pub track: bool,
}

/// A problem with one word of a line: its index among the line's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WordProblem {
    /// Which word (0 is the first).
    pub word: usize,
    /// What is wrong.
    pub message: String,
}

/// What reading a line gave: the item, or the errors; warnings either way.
#[derive(Debug)]
pub struct Parsed<T> {
    /// The route or rule, when the line has no error.
    pub item: Option<T>,
    /// Errors (the line is refused).
    pub errors: Vec<WordProblem>,
    /// Warnings (the line is used).
    pub warnings: Vec<WordProblem>,
}

/// Route words keepalived 2.2.7 knows that vrrpd does not implement.
const ROUTE_UNSUPPORTED: &[&str] = &[
    "or",
    "nexthop",
    "tos",
    "dsfield",
    "pref",
    "realms",
    "expires",
    "encap",
    "features",
    "quickack",
    "congctl",
    "fastopen_no_cookie",
    "ttl-propagate",
    "rtt",
    "rttvar",
    "rto_min",
    "vrf",
    "as",
    "add",
    "append",
    "prepend",
    "track_group",
];

/// Rule words keepalived 2.2.7 knows that vrrpd does not implement.
const RULE_UNSUPPORTED: &[&str] = &["realms", "tunnel-id", "l3mdev", "track_group"];

/// The well-known routing protocol names (`/etc/iproute2/rt_protos`).
const PROTOCOLS: &[(&str, u8)] = &[
    ("unspec", 0),
    ("redirect", 1),
    ("kernel", 2),
    ("boot", 3),
    ("static", 4),
    ("gated", 8),
    ("ra", 9),
    ("mrt", 10),
    ("zebra", 11),
    ("bird", 12),
    ("dnrouted", 13),
    ("xorp", 14),
    ("ntk", 15),
    ("dhcp", 16),
    ("keepalived", 18),
    ("babel", 42),
    ("bgp", 186),
    ("isis", 187),
    ("ospf", 188),
    ("rip", 189),
    ("eigrp", 192),
];

/// The IP protocols `ipproto` knows by name.
const IP_PROTOCOLS: &[(&str, u8)] = &[
    ("icmp", 1),
    ("igmp", 2),
    ("tcp", 6),
    ("udp", 17),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("sctp", 132),
];

/// The file `table NAME` is looked up in, besides `default`, `main` and
/// `local`, as keepalived does; read at most this many bytes of it.
const RT_TABLES: &str = "/etc/iproute2/rt_tables";
const RT_TABLES_MAX: u64 = 64 * 1024;

/// Where the next rule without a preference goes, per family, counting
/// down (keepalived's `next_rule_priority_ipv4/6`).
#[derive(Debug)]
pub struct RulePriorities {
    next_v4: u32,
    next_v6: u32,
}

impl Default for RulePriorities {
    fn default() -> Self {
        RulePriorities {
            next_v4: 16384,
            next_v6: 16384,
        }
    }
}

struct Words<'a> {
    words: &'a [&'a str],
    at: usize,
    errors: Vec<WordProblem>,
    warnings: Vec<WordProblem>,
}

impl<'a> Words<'a> {
    fn new(words: &'a [&'a str]) -> Self {
        Words {
            words,
            at: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn next(&mut self) -> Option<(usize, &'a str)> {
        let w = self.words.get(self.at).copied()?;
        self.at += 1;
        Some((self.at - 1, w))
    }

    fn peek(&self) -> Option<&'a str> {
        self.words.get(self.at).copied()
    }

    fn error(&mut self, word: usize, message: impl Into<String>) {
        self.errors.push(WordProblem {
            word,
            message: message.into(),
        });
    }

    fn warn(&mut self, word: usize, message: impl Into<String>) {
        self.warnings.push(WordProblem {
            word,
            message: message.into(),
        });
    }

    /// The value after keyword `key` (at `k`).
    fn value(&mut self, k: usize, key: &str) -> Option<(usize, &'a str)> {
        let v = self.next();
        if v.is_none() {
            self.error(k, format!("`{key}` needs a value"));
        }
        v
    }

    fn number(&mut self, k: usize, key: &str) -> Option<u32> {
        let (i, w) = self.value(k, key)?;
        match parse_u32(w) {
            Some(n) => Some(n),
            None => {
                self.error(i, format!("`{key} {w}`: not a number"));
                None
            }
        }
    }

    fn done<T>(self, item: Option<T>) -> Parsed<T> {
        Parsed {
            item: if self.errors.is_empty() { item } else { None },
            errors: self.errors,
            warnings: self.warnings,
        }
    }
}

/// A number in decimal, or in hex with `0x` (C's `strtoul` base 0).
fn parse_u32(w: &str) -> Option<u32> {
    match w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => w.parse().ok(),
    }
}

/// A table number, or `default`, `main`, `local`, or a name from
/// `/etc/iproute2/rt_tables`.
fn parse_table(w: &str) -> Option<u32> {
    match w {
        "default" => return Some(253),
        "main" => return Some(254),
        "local" => return Some(255),
        _ => {}
    }
    if let Some(n) = parse_u32(w) {
        return Some(n);
    }
    let mut text = String::new();
    let file = std::fs::File::open(RT_TABLES).ok()?;
    file.take(RT_TABLES_MAX).read_to_string(&mut text).ok()?;
    text.lines().find_map(|line| {
        let line = line.split('#').next()?.trim();
        let mut parts = line.split_whitespace();
        let n = parse_u32(parts.next()?)?;
        (parts.next()? == w).then_some(n)
    })
}

/// A destination or selector: `default`, `any`, `all` (of the line's
/// family, found later) or `ADDR[/LEN]`; `None` for all.
fn parse_prefix(w: &str) -> Result<Option<IpPrefix>, String> {
    if matches!(w, "default" | "any" | "all") {
        return Ok(None);
    }
    let p: IpPrefix = w.parse().map_err(|e| format!("{e}"))?;
    Ok(Some(p))
}

fn unspecified(family: Family) -> IpAddr {
    match family {
        Family::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// One family for the line: the one `inet`/`inet6` named, or that of its
/// addresses, or IPv4 (keepalived's default); an error if they differ.
fn one_family(ws: &mut Words<'_>, named: Option<(usize, Family)>, seen: &[IpAddr]) -> Family {
    let mut family = named.map(|(_, f)| f);
    for a in seen {
        let f = Family::of(*a);
        match family {
            None => family = Some(f),
            Some(g) if g != f => {
                let at = named.map_or(0, |(k, _)| k);
                ws.error(at, "cannot mix IPv4 and IPv6 addresses in one line");
                break;
            }
            _ => {}
        }
    }
    family.unwrap_or(Family::Ipv4)
}

/// Reads one `virtual_routes`/`static_routes` line.
pub fn parse_route(words: &[&str]) -> Parsed<Route> {
    let mut ws = Words::new(words);
    let mut named: Option<(usize, Family)> = None;
    let mut destination: Option<(usize, Option<IpPrefix>)> = None;
    let mut kind = RouteKind::Unicast;
    let mut spec = RouteSpec::new(IpPrefix::host(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
    let mut device = None;
    let mut no_track = false;
    let mut protocol: Option<(usize, u8)> = None;
    while let Some((k, w)) = ws.next() {
        match w {
            "inet" => named = Some((k, Family::Ipv4)),
            "inet6" => named = Some((k, Family::Ipv6)),
            "src" => {
                if let Some((i, v)) = ws.value(k, w) {
                    match v.parse::<IpAddr>() {
                        Ok(a) => spec.source = Some(a),
                        Err(_) => ws.error(i, format!("`src {v}`: not an address")),
                    }
                }
            }
            "from" => {
                if let Some((i, v)) = ws.value(k, w) {
                    match v.parse::<IpPrefix>() {
                        Ok(p) => spec.from = Some(p),
                        Err(e) => ws.error(i, format!("`from {v}`: {e}")),
                    }
                }
            }
            "via" | "gw" => {
                if w == "gw" {
                    ws.warn(
                        k,
                        "`gw` is deprecated: use `via` (keepalived says the same)",
                    );
                }
                if matches!(ws.peek(), Some("inet" | "inet6")) {
                    ws.next();
                }
                if let Some((i, v)) = ws.value(k, w) {
                    match v.parse::<IpAddr>() {
                        Ok(a) => spec.gateway = Some(a),
                        Err(_) => ws.error(i, format!("`{w} {v}`: not an address")),
                    }
                }
            }
            "dev" | "oif" => device = ws.value(k, w).map(|(_, v)| v.to_string()),
            "table" => {
                if let Some((i, v)) = ws.value(k, w) {
                    match parse_table(v) {
                        Some(t) => spec.table = t,
                        None => ws.error(
                            i,
                            format!("routing table `{v}` not found (not a number, default, main, local or a name in {RT_TABLES})"),
                        ),
                    }
                }
            }
            "protocol" => {
                if let Some((i, v)) = ws.value(k, w) {
                    let n = parse_u32(v)
                        .and_then(|n| u8::try_from(n).ok())
                        .or_else(|| PROTOCOLS.iter().find(|(n, _)| *n == v).map(|(_, p)| *p));
                    match n {
                        Some(n) => protocol = Some((i, n)),
                        None => {
                            ws.error(i, format!("`protocol {v}`: not a protocol number or name"))
                        }
                    }
                }
            }
            "scope" => {
                if let Some((i, v)) = ws.value(k, w) {
                    match v.parse::<Scope>() {
                        Ok(s) => spec.scope = Some(s),
                        Err(e) => ws.error(i, e.to_string()),
                    }
                }
            }
            "metric" | "priority" | "preference" => spec.metric = ws.number(k, w),
            "onlink" => spec.onlink = true,
            "no_track" => no_track = true,
            w if RouteMetricKind::from_keyword(w).is_some() => {
                let locked = ws.peek() == Some("lock");
                if locked {
                    ws.next();
                }
                if let (Some(kind), Some(value)) =
                    (RouteMetricKind::from_keyword(w), ws.number(k, w))
                {
                    spec.metrics.push(RouteMetricValue {
                        kind,
                        value,
                        locked,
                    });
                }
            }
            w if ROUTE_UNSUPPORTED.contains(&w) => {
                ws.error(k, format!("route option `{w}` is not supported by vrrpd"));
                // Its value is not a destination.
                ws.at = ws.words.len();
            }
            _ => {
                // [to] [TYPE] DEST
                let (mut i, mut v) = (k, w);
                if v == "to" {
                    match ws.value(k, "to") {
                        Some(next) => (i, v) = next,
                        None => continue,
                    }
                } else if let Ok(t) = v.parse::<RouteKind>() {
                    kind = t;
                    match ws.value(k, v) {
                        Some(next) => (i, v) = next,
                        None => continue,
                    }
                }
                match parse_prefix(v) {
                    Ok(p) => destination = Some((i, p)),
                    Err(e) => ws.error(i, format!("unknown route word `{v}` ({e})")),
                }
            }
        }
    }
    let Some((dk, dst)) = destination else {
        if ws.errors.is_empty() {
            ws.error(
                0,
                "a route needs a destination (an address/prefix or `default`)",
            );
        }
        return ws.done(None);
    };
    let mut seen: Vec<IpAddr> = dst.map(|p| p.addr()).into_iter().collect();
    seen.extend(spec.source);
    seen.extend(spec.gateway);
    seen.extend(spec.from.map(|p| p.addr()));
    let family = one_family(&mut ws, named, &seen);
    spec.destination = dst.unwrap_or_else(|| {
        IpPrefix::new(unspecified(family), 0).unwrap_or(IpPrefix::host(unspecified(family)))
    });
    spec.kind = kind;
    let track = !no_track && device.is_some();
    match protocol {
        Some((i, p)) if track && p != vrrp_netaddr::PROTOCOL_KEEPALIVED => {
            ws.warn(
                i,
                "a tracked route is marked protocol 18 (keepalived); add `no_track` to keep another",
            );
        }
        Some((_, p)) => spec.protocol = p,
        None => {}
    }
    if !no_track && device.is_none() {
        ws.warn(
            dk,
            "a route without `dev` is not tracked (keepalived: \"cannot track route with no interface specified\")",
        );
    }
    if let Err(e) = spec.validate() {
        ws.error(dk, e.to_string());
    }
    ws.done(Some(Route {
        spec,
        device,
        track,
    }))
}

/// Reads one `virtual_rules`/`static_rules` line; a rule without a
/// preference gets the next of `priorities`, with a warning, as
/// keepalived does.
pub fn parse_rule(words: &[&str], priorities: &mut RulePriorities) -> Parsed<Rule> {
    let mut ws = Words::new(words);
    let mut named: Option<(usize, Family)> = None;
    let mut spec = RuleSpec::new(Family::Ipv4, RuleAction::Nop);
    let mut action: Option<RuleAction> = None;
    let mut no_track = false;
    let mut seen: Vec<IpAddr> = Vec::new();
    let mut set_action = |ws: &mut Words<'_>, k: usize, a: RuleAction| {
        if action.replace(a).is_some() {
            ws.error(
                k,
                "a rule has one of table, goto, nop, blackhole, unreachable, prohibit",
            );
        }
    };
    while let Some((k, w)) = ws.next() {
        match w {
            "inet" => named = Some((k, Family::Ipv4)),
            "inet6" => named = Some((k, Family::Ipv6)),
            "from" | "to" => {
                if let Some((i, v)) = ws.value(k, w) {
                    match parse_prefix(v) {
                        Ok(p) => {
                            seen.extend(p.map(|p| p.addr()));
                            if w == "from" {
                                spec.from = p;
                            } else {
                                spec.to = p;
                            }
                        }
                        Err(e) => ws.error(i, format!("`{w} {v}`: {e}")),
                    }
                }
            }
            "not" => spec.invert = true,
            "table" | "lookup" => {
                if let Some((i, v)) = ws.value(k, w) {
                    match parse_table(v) {
                        Some(0) => ws.error(i, "table 0 is not a table"),
                        Some(t) => set_action(&mut ws, k, RuleAction::Table(t)),
                        None => ws.error(i, format!("routing table `{v}` not found")),
                    }
                }
            }
            "goto" => {
                if let Some(t) = ws.number(k, w) {
                    set_action(&mut ws, k, RuleAction::Goto(t));
                }
            }
            "nop" => set_action(&mut ws, k, RuleAction::Nop),
            "blackhole" => set_action(&mut ws, k, RuleAction::Blackhole),
            "unreachable" => set_action(&mut ws, k, RuleAction::Unreachable),
            "prohibit" => set_action(&mut ws, k, RuleAction::Prohibit),
            "preference" | "order" | "priority" => spec.priority = ws.number(k, w),
            "tos" | "dsfield" => {
                if let Some(n) = ws.number(k, w) {
                    match u8::try_from(n) {
                        Ok(t) => spec.tos = t,
                        Err(_) => ws.error(k, format!("`{w}` is at most 255")),
                    }
                }
            }
            "fwmark" => {
                if let Some((i, v)) = ws.value(k, w) {
                    let (mark, mask) = match v.split_once('/') {
                        Some((m, k)) => (m, Some(k)),
                        None => (v, None),
                    };
                    match (parse_u32(mark), mask.map(parse_u32)) {
                        (Some(m), None) => spec.fwmark = Some(m),
                        (Some(m), Some(Some(k))) => {
                            spec.fwmark = Some(m);
                            spec.fwmask = Some(k);
                        }
                        _ => ws.error(i, format!("`fwmark {v}`: not MARK or MARK/MASK")),
                    }
                }
            }
            "dev" | "iif" => spec.iif = ws.value(k, w).map(|(_, v)| v.to_string()),
            "oif" => spec.oif = ws.value(k, w).map(|(_, v)| v.to_string()),
            "suppress_prefixlength" | "sup_pl" => spec.suppress_prefix_len = ws.number(k, w),
            "suppress_ifgroup" | "sup_group" => spec.suppress_ifgroup = ws.number(k, w),
            "protocol" => {
                if let Some(n) = ws.number(k, w) {
                    match u8::try_from(n) {
                        Ok(p) => spec.protocol = p,
                        Err(_) => ws.error(k, "`protocol` is at most 255"),
                    }
                }
            }
            "ipproto" => {
                if let Some((i, v)) = ws.value(k, w) {
                    let lower = v.to_ascii_lowercase();
                    let n = parse_u32(v).and_then(|n| u8::try_from(n).ok()).or_else(|| {
                        IP_PROTOCOLS
                            .iter()
                            .find(|(n, _)| *n == lower)
                            .map(|(_, p)| *p)
                    });
                    match n {
                        Some(n) => spec.ip_protocol = Some(n),
                        None => ws.error(i, format!("`ipproto {v}`: not a protocol")),
                    }
                }
            }
            "sport" | "dport" => {
                if let Some((i, v)) = ws.value(k, w) {
                    let range = match v.split_once('-') {
                        Some((a, b)) => a.parse().ok().zip(b.parse().ok()),
                        None => v.parse().ok().map(|p| (p, p)),
                    };
                    match range {
                        Some((start, end)) if w == "sport" => {
                            spec.sport = Some(Range { start, end })
                        }
                        Some((start, end)) => spec.dport = Some(Range { start, end }),
                        None => ws.error(i, format!("`{w} {v}`: not PORT or PORT-PORT")),
                    }
                }
            }
            "uidrange" => {
                if let Some((i, v)) = ws.value(k, w) {
                    match v
                        .split_once('-')
                        .and_then(|(a, b)| a.parse().ok().zip(b.parse().ok()))
                    {
                        Some((start, end)) => spec.uid_range = Some(Range { start, end }),
                        None => ws.error(i, format!("`uidrange {v}`: not UID-UID")),
                    }
                }
            }
            "no_track" => no_track = true,
            w if RULE_UNSUPPORTED.contains(&w) => {
                ws.error(k, format!("rule option `{w}` is not supported by vrrpd"));
                ws.at = ws.words.len();
            }
            other => ws.error(k, format!("unknown rule word `{other}`")),
        }
    }
    let family = one_family(&mut ws, named, &seen);
    spec.family = family;
    let Some(action) = action else {
        if ws.errors.is_empty() {
            ws.error(
                0,
                "a rule needs an action: table N, goto N, nop, blackhole, unreachable or prohibit",
            );
        }
        return ws.done(None);
    };
    spec.action = action;
    if !no_track {
        spec.protocol = vrrp_netaddr::PROTOCOL_KEEPALIVED;
    }
    if spec.priority.is_none() && ws.errors.is_empty() {
        let next = match family {
            Family::Ipv4 => &mut priorities.next_v4,
            Family::Ipv6 => &mut priorities.next_v6,
        };
        spec.priority = Some(*next);
        ws.warn(
            0,
            format!("a rule without a preference gets {next}, counting down, as keepalived gives it (\"probably not what you want\"): set `preference`"),
        );
        *next = next.saturating_sub(1);
    }
    if let Err(e) = spec.validate() {
        ws.error(0, e.to_string());
    }
    ws.done(Some(Rule {
        spec,
        track: !no_track,
    }))
}

impl fmt::Display for Route {
    /// The line in keepalived's syntax, which both formats read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.spec;
        let mut words: Vec<String> = Vec::new();
        if s.destination.family() == Family::Ipv6 && s.destination.prefix_len() == 0 {
            words.push("inet6".into());
        }
        if s.kind != RouteKind::Unicast {
            words.push(s.kind.to_string());
        }
        words.push(if s.destination.prefix_len() == 0 {
            "default".into()
        } else {
            s.destination.to_string()
        });
        if let Some(from) = s.from {
            words.push(format!("from {from}"));
        }
        if let Some(src) = s.source {
            words.push(format!("src {src}"));
        }
        if let Some(gw) = s.gateway {
            words.push(format!("via {gw}"));
        }
        if let Some(dev) = &self.device {
            words.push(format!("dev {dev}"));
        }
        if s.table != vrrp_netaddr::TABLE_MAIN {
            words.push(format!("table {}", s.table));
        }
        if let Some(m) = s.metric {
            words.push(format!("metric {m}"));
        }
        if let Some(scope) = s.scope {
            words.push(format!("scope {scope}"));
        }
        if s.onlink {
            words.push("onlink".into());
        }
        for m in &s.metrics {
            let name = RouteMetricKind::NAMES
                .iter()
                .find(|(k, _)| *k == m.kind)
                .map_or("mtu", |(_, n)| n);
            let lock = if m.locked { " lock" } else { "" };
            words.push(format!("{name}{lock} {}", m.value));
        }
        if !self.track {
            words.push("no_track".into());
            if s.protocol != vrrp_netaddr::PROTOCOL_KEEPALIVED {
                words.push(format!("protocol {}", s.protocol));
            }
        }
        f.write_str(&words.join(" "))
    }
}

impl fmt::Display for Rule {
    /// The line in keepalived's syntax, which both formats read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.spec;
        let mut words: Vec<String> = Vec::new();
        if s.family == Family::Ipv6 {
            words.push("inet6".into());
        }
        if s.invert {
            words.push("not".into());
        }
        if let Some(from) = s.from {
            words.push(format!("from {from}"));
        }
        if let Some(to) = s.to {
            words.push(format!("to {to}"));
        }
        if let Some(p) = s.priority {
            words.push(format!("preference {p}"));
        }
        if s.tos != 0 {
            words.push(format!("tos {}", s.tos));
        }
        if let Some(mark) = s.fwmark {
            match s.fwmask {
                Some(mask) => words.push(format!("fwmark {mark:#x}/{mask:#x}")),
                None => words.push(format!("fwmark {mark:#x}")),
            }
        }
        if let Some(iif) = &s.iif {
            words.push(format!("iif {iif}"));
        }
        if let Some(oif) = &s.oif {
            words.push(format!("oif {oif}"));
        }
        if let Some(n) = s.suppress_prefix_len {
            words.push(format!("suppress_prefixlength {n}"));
        }
        if let Some(n) = s.suppress_ifgroup {
            words.push(format!("suppress_ifgroup {n}"));
        }
        if let Some(p) = s.ip_protocol {
            words.push(format!("ipproto {p}"));
        }
        if let Some(r) = s.sport {
            words.push(format!("sport {}-{}", r.start, r.end));
        }
        if let Some(r) = s.dport {
            words.push(format!("dport {}-{}", r.start, r.end));
        }
        if let Some(r) = s.uid_range {
            words.push(format!("uidrange {}-{}", r.start, r.end));
        }
        words.push(match s.action {
            RuleAction::Table(t) => format!("table {t}"),
            RuleAction::Goto(t) => format!("goto {t}"),
            RuleAction::Nop => "nop".into(),
            RuleAction::Blackhole => "blackhole".into(),
            RuleAction::Unreachable => "unreachable".into(),
            RuleAction::Prohibit => "prohibit".into(),
            _ => "nop".into(),
        });
        if !self.track {
            words.push("no_track".into());
            if s.protocol != vrrp_netaddr::PROTOCOL_KEEPALIVED {
                words.push(format!("protocol {}", s.protocol));
            }
        }
        f.write_str(&words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(line: &str) -> Parsed<Route> {
        let words: Vec<&str> = line.split_whitespace().collect();
        parse_route(&words)
    }

    fn rule(line: &str) -> Parsed<Rule> {
        let words: Vec<&str> = line.split_whitespace().collect();
        parse_rule(&words, &mut RulePriorities::default())
    }

    #[test]
    fn keepalived_man_page_routes() {
        let r = route("src 198.18.0.1 to 198.18.9.0/24 via 198.18.0.254 dev eth1")
            .item
            .unwrap();
        assert_eq!(r.spec.destination.to_string(), "198.18.9.0/24");
        assert_eq!(r.spec.source, Some("198.18.0.1".parse().unwrap()));
        assert_eq!(r.device.as_deref(), Some("eth1"));
        assert!(r.track);
        let r = route("blackhole 198.18.14.0/24").item.unwrap();
        assert_eq!(r.spec.kind, RouteKind::Blackhole);
        assert!(!r.track);
        let p = route("0.0.0.0/0 gw 198.18.0.1 table 100");
        assert_eq!(p.warnings.len(), 2, "gw and untracked: {:?}", p.warnings);
        let r = p.item.unwrap();
        assert_eq!(r.spec.table, 100);
        assert_eq!(r.spec.destination.prefix_len(), 0);
        let r = route("inet6 default via fd00:198:18::1 dev eth0 metric 5")
            .item
            .unwrap();
        assert_eq!(r.spec.destination.to_string(), "::/0");
        assert_eq!(r.spec.metric, Some(5));
        let r = route("default via fd00:198:18::1").item.unwrap();
        assert_eq!(r.spec.family(), Family::Ipv6);
    }

    #[test]
    fn route_errors_name_the_word() {
        let p = route("198.18.9.0/24 via 198.18.0.1 nexthop via 198.18.0.2");
        assert_eq!(p.errors[0].word, 3);
        assert!(p.errors[0].message.contains("nexthop"));
        assert!(p.item.is_none());
        let p = route("198.18.9.0/24 proto 18");
        assert!(p.errors[0].message.contains("proto"), "{:?}", p.errors);
        let p = route("198.18.9.1/24 dev eth0");
        assert!(p.errors[0].message.contains("bits set"), "{:?}", p.errors);
        let p = route("198.18.9.0/24 via fd00::1");
        assert!(p.errors[0].message.contains("mix"), "{:?}", p.errors);
        let p = route("dev eth0");
        assert!(p.errors[0].message.contains("destination"));
        let p = route("198.18.9.0/24 table nosuchtable");
        assert!(p.errors[0].message.contains("nosuchtable"));
    }

    #[test]
    fn route_lines_print_back_to_themselves() {
        for line in [
            "198.18.9.0/24 src 198.18.0.1 via 198.18.0.254 dev eth1",
            "blackhole 198.18.14.0/24 no_track",
            "default via 198.18.0.1 table 100 no_track",
            "inet6 default via fd00:198:18::1 dev eth0 metric 5",
            "unreachable fd00:198:18:9::/64 no_track protocol 4",
            "198.18.9.0/24 dev eth0 scope link onlink mtu lock 1400 advmss 1360",
        ] {
            let r = route(line).item.unwrap_or_else(|| panic!("{line}"));
            assert_eq!(r.to_string(), line);
            assert_eq!(route(&r.to_string()).item.unwrap(), r);
        }
    }

    #[test]
    fn rules_read_as_keepalived_and_print_back() {
        let p = rule("from 198.18.0.0/24 table 100");
        assert_eq!(p.item.as_ref().unwrap().spec.priority, Some(16384));
        assert_eq!(p.warnings.len(), 1);
        for line in [
            "from 198.18.0.0/24 preference 100 table 100",
            "inet6 to fd00:198:18:9::/64 preference 5 prohibit",
            "not from 198.18.0.0/16 preference 7 fwmark 0x3/0xff iif eth0 table 200 no_track",
            "preference 9 ipproto 6 dport 80-80 uidrange 1000-2000 goto 20",
        ] {
            let r = rule(line).item.unwrap_or_else(|| panic!("{line}"));
            assert_eq!(r.to_string(), line);
        }
        assert!(
            rule("from 198.18.0.0/24").errors[0]
                .message
                .contains("action")
        );
        assert!(
            rule("from 198.18.0.0/24 table 1 prohibit").errors[0]
                .message
                .contains("one of")
        );
        assert!(
            rule("from 198.18.0.0/24 pref 1 table 1").errors[0]
                .message
                .contains("pref")
        );
        assert!(
            rule("inet6 from 198.18.0.0/24 table 1").errors[0]
                .message
                .contains("mix")
        );
        let mut prios = RulePriorities::default();
        let words = ["inet6", "fwmark", "1", "table", "5"];
        assert_eq!(
            parse_rule(&words, &mut prios).item.unwrap().spec.priority,
            Some(16384)
        );
        assert_eq!(
            parse_rule(&words, &mut prios).item.unwrap().spec.priority,
            Some(16383)
        );
    }
}
