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

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_netaddr::{Family, IpPrefix, RouteSpec, RuleSpec};

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
    /// `track_group NAME` (static routes only): the group's instances are
    /// in Fault while `dev` is down.
    pub track_group: Option<String>,
}

/// A policy rule to install, and whether vrrpd watches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The rule.
    pub spec: RuleSpec,
    /// Tracked (no `no_track`): the instance goes to Fault while its `iif`
    /// or `oif` is down, as keepalived's does.
    pub track: bool,
    /// `track_group NAME` (static rules only): the group's instances are
    /// in Fault while `iif` is down.
    pub track_group: Option<String>,
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
pub(super) const ROUTE_UNSUPPORTED: &[&str] = &[
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
];

/// Rule words keepalived 2.2.7 knows that vrrpd does not implement.
pub(super) const RULE_UNSUPPORTED: &[&str] = &["realms", "tunnel-id", "l3mdev"];

/// The well-known routing protocol names (`/etc/iproute2/rt_protos`).
pub(super) const PROTOCOLS: &[(&str, u8)] = &[
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
pub(super) const IP_PROTOCOLS: &[(&str, u8)] = &[
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
pub(super) const RT_TABLES: &str = "/etc/iproute2/rt_tables";
const RT_TABLES_MAX: u64 = 64 * 1024;

/// Where the next rule without a preference goes, per family, counting
/// down (keepalived's `next_rule_priority_ipv4/6`).
#[derive(Debug)]
pub struct RulePriorities {
    pub(super) next_v4: u32,
    pub(super) next_v6: u32,
}

impl Default for RulePriorities {
    fn default() -> Self {
        RulePriorities {
            next_v4: 16384,
            next_v6: 16384,
        }
    }
}

pub(super) struct Words<'a> {
    pub(super) words: &'a [&'a str],
    pub(super) at: usize,
    pub(super) errors: Vec<WordProblem>,
    pub(super) warnings: Vec<WordProblem>,
}

impl<'a> Words<'a> {
    pub(super) fn new(words: &'a [&'a str]) -> Self {
        Words {
            words,
            at: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(super) fn next(&mut self) -> Option<(usize, &'a str)> {
        let w = self.words.get(self.at).copied()?;
        self.at += 1;
        Some((self.at - 1, w))
    }

    pub(super) fn peek(&self) -> Option<&'a str> {
        self.words.get(self.at).copied()
    }

    pub(super) fn error(&mut self, word: usize, message: impl Into<String>) {
        self.errors.push(WordProblem {
            word,
            message: message.into(),
        });
    }

    pub(super) fn warn(&mut self, word: usize, message: impl Into<String>) {
        self.warnings.push(WordProblem {
            word,
            message: message.into(),
        });
    }

    /// The value after keyword `key` (at `k`).
    pub(super) fn value(&mut self, k: usize, key: &str) -> Option<(usize, &'a str)> {
        let v = self.next();
        if v.is_none() {
            self.error(k, format!("`{key}` needs a value"));
        }
        v
    }

    pub(super) fn number(&mut self, k: usize, key: &str) -> Option<u32> {
        let (i, w) = self.value(k, key)?;
        match parse_u32(w) {
            Some(n) => Some(n),
            None => {
                self.error(i, format!("`{key} {w}`: not a number"));
                None
            }
        }
    }

    pub(super) fn done<T>(self, item: Option<T>) -> Parsed<T> {
        Parsed {
            item: if self.errors.is_empty() { item } else { None },
            errors: self.errors,
            warnings: self.warnings,
        }
    }
}

/// A number in decimal, or in hex with `0x` (C's `strtoul` base 0).
pub(super) fn parse_u32(w: &str) -> Option<u32> {
    match w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => w.parse().ok(),
    }
}

/// A table number, or `default`, `main`, `local`, or a name from
/// `/etc/iproute2/rt_tables`.
pub(super) fn parse_table(w: &str) -> Option<u32> {
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
pub(super) fn parse_prefix(w: &str) -> Result<Option<IpPrefix>, String> {
    if matches!(w, "default" | "any" | "all") {
        return Ok(None);
    }
    let p: IpPrefix = w.parse().map_err(|e| format!("{e}"))?;
    Ok(Some(p))
}

pub(super) fn unspecified(family: Family) -> IpAddr {
    match family {
        Family::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// One family for the line: the one `inet`/`inet6` named, or that of its
/// addresses, or IPv4 (keepalived's default); an error if they differ.
pub(super) fn one_family(
    ws: &mut Words<'_>,
    named: Option<(usize, Family)>,
    seen: &[IpAddr],
) -> Family {
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

/// The last words of a route or rule line: `track_group NAME`, and
/// `no_track` with the protocol when it is not keepalived's.
pub(super) fn tracking_words(
    words: &mut Vec<String>,
    group: Option<&str>,
    track: bool,
    protocol: u8,
) {
    if let Some(g) = group {
        words.push(format!("track_group {g}"));
    }
    if !track {
        words.push("no_track".into());
        if protocol != vrrp_netaddr::PROTOCOL_KEEPALIVED {
            words.push(format!("protocol {protocol}"));
        }
    }
}

mod route;
mod rule;

pub use route::parse_route;
pub use rule::parse_rule;
