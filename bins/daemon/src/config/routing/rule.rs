//! One `virtual_rules`/`static_rules` line: keepalived 2.2.7's
//! `alloc_rule` grammar, and the line printed back.

use std::fmt;
use std::net::IpAddr;

use vrrp_netaddr::{Family, Range, RuleAction, RuleSpec};

use super::{
    IP_PROTOCOLS, Parsed, RULE_UNSUPPORTED, Rule, RulePriorities, Words, one_family, parse_prefix,
    parse_table, parse_u32, tracking_words,
};

/// Reads one `virtual_rules`/`static_rules` line; a rule without a
/// preference gets the next of `priorities`, with a warning, as
/// keepalived does.
pub fn parse_rule(words: &[&str], priorities: &mut RulePriorities) -> Parsed<Rule> {
    let mut ws = Words::new(words);
    let mut named: Option<(usize, Family)> = None;
    let mut spec = RuleSpec::new(Family::Ipv4, RuleAction::Nop);
    let mut action: Option<RuleAction> = None;
    let mut no_track = false;
    let mut track_group: Option<String> = None;
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
            "track_group" => track_group = ws.value(k, w).map(|(_, v)| v.to_string()),
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
    if track_group.is_some() && (spec.iif.is_none() || no_track) {
        ws.error(
            0,
            "`track_group` needs a tracked rule with `iif` (keepalived: \"Static rule cannot have track_group if dev/iif not specified\")",
        );
    }
    ws.done(Some(Rule {
        spec,
        track: !no_track,
        track_group,
    }))
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

    fn rule(line: &str) -> Parsed<Rule> {
        let words: Vec<&str> = line.split_whitespace().collect();
        parse_rule(&words, &mut RulePriorities::default())
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
