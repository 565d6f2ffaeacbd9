//! One `virtual_routes`/`static_routes` line: keepalived 2.2.7's
//! `alloc_route` grammar, and the line printed back.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use vrrp_netaddr::{
    Family, IpPrefix, RouteKind, RouteMetricKind, RouteMetricValue, RouteSpec, Scope,
};

use super::{
    PROTOCOLS, Parsed, ROUTE_UNSUPPORTED, RT_TABLES, Route, Words, one_family, parse_prefix,
    parse_table, parse_u32, tracking_words, unspecified,
};

/// Reads one `virtual_routes`/`static_routes` line.
pub fn parse_route(words: &[&str]) -> Parsed<Route> {
    let mut ws = Words::new(words);
    let mut named: Option<(usize, Family)> = None;
    let mut destination: Option<(usize, Option<IpPrefix>)> = None;
    let mut kind = RouteKind::Unicast;
    let mut spec = RouteSpec::new(IpPrefix::host(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
    let mut device = None;
    let mut no_track = false;
    let mut track_group: Option<String> = None;
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
            "track_group" => track_group = ws.value(k, w).map(|(_, v)| v.to_string()),
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
    if track_group.is_some() && (device.is_none() || no_track) {
        ws.error(
            0,
            "`track_group` needs a tracked route with `dev` (keepalived: \"Static route cannot have track group if no oif specified\")",
        );
    }
    ws.done(Some(Route {
        spec,
        device,
        track,
        track_group,
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
        tracking_words(
            &mut words,
            self.track_group.as_deref(),
            self.track,
            s.protocol,
        );
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
}
