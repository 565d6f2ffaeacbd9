//! Policy routing rules (`ip rule add|del`): what to install
//! ([`RuleSpec`]) and the `RTM_NEWRULE`/`RTM_DELRULE` messages for it.
//!
//! Kernel facts this follows:
//! - An add with `NLM_F_EXCL` is refused with `EEXIST` when an identical
//!   rule exists (Linux 4.15+), so an existing rule is never taken over.
//! - A delete matches on every attribute it carries, the preference
//!   included when given: a delete built from the spec that added a rule
//!   removes that rule.
//! - A rule without a preference gets one below the first existing one
//!   (`ip rule` prints it); give one to keep the order deterministic.

use std::fmt;

use netlink_packet_route::route::RouteProtocol;
use netlink_packet_route::rule::{
    RuleAction as RawAction, RuleAttribute, RuleFlags, RuleMessage, RulePortRange, RuleUidRange,
};
use netlink_packet_route::{AddressFamily, IpProtocol};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::prefix::{Family, IpPrefix};
use crate::route::host_bits_clear;

/// What a rule does with the packets it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RuleAction {
    /// Look the route up in this table (`table N`, `lookup N`).
    Table(u32),
    /// Go on at the rule with this preference (`goto N`).
    Goto(u32),
    /// Do nothing (`nop`).
    Nop,
    /// Drop silently (`blackhole`).
    Blackhole,
    /// Drop with ICMP unreachable (`unreachable`).
    Unreachable,
    /// Drop with ICMP prohibited (`prohibit`).
    Prohibit,
}

/// An inclusive range of ports or user ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Range<T> {
    /// The first.
    pub start: T,
    /// The last.
    pub end: T,
}

/// A rule to add or delete, as `ip rule` describes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuleSpec {
    /// IPv4 or IPv6 (`ip -4 rule`, `ip -6 rule`).
    pub family: Family,
    /// The source prefix it matches (`from`); `None`: all.
    pub from: Option<IpPrefix>,
    /// The destination prefix it matches (`to`); `None`: all.
    pub to: Option<IpPrefix>,
    /// `not`: match what the selectors do not.
    pub invert: bool,
    /// Its preference (`preference`, `priority`, `order`): lower runs first.
    pub priority: Option<u32>,
    /// What it does.
    pub action: RuleAction,
    /// The firewall mark it matches (`fwmark N[/MASK]`).
    pub fwmark: Option<u32>,
    /// The mask of `fwmark`.
    pub fwmask: Option<u32>,
    /// The TOS it matches (`tos`, `dsfield`).
    pub tos: u8,
    /// The input interface it matches (`iif`, `dev`), by name.
    pub iif: Option<String>,
    /// The output interface it matches (`oif`), by name.
    pub oif: Option<String>,
    /// `suppress_prefixlength N`: ignore a lookup result with a prefix
    /// this short or shorter.
    pub suppress_prefix_len: Option<u32>,
    /// `suppress_ifgroup N`: ignore a result through this interface group.
    pub suppress_ifgroup: Option<u32>,
    /// The protocol it is marked with.
    pub protocol: u8,
    /// The IP protocol it matches (`ipproto`).
    pub ip_protocol: Option<u8>,
    /// The source ports it matches (`sport`).
    pub sport: Option<Range<u16>>,
    /// The destination ports it matches (`dport`).
    pub dport: Option<Range<u16>>,
    /// The user ids it matches (`uidrange`).
    pub uid_range: Option<Range<u32>>,
}

impl RuleSpec {
    /// A rule of `family` that does `action` for every packet, marked as
    /// keepalived's, with nothing else set.
    pub fn new(family: Family, action: RuleAction) -> RuleSpec {
        RuleSpec {
            family,
            from: None,
            to: None,
            invert: false,
            priority: None,
            action,
            fwmark: None,
            fwmask: None,
            tos: 0,
            iif: None,
            oif: None,
            suppress_prefix_len: None,
            suppress_ifgroup: None,
            protocol: crate::route::PROTOCOL_KEEPALIVED,
            ip_protocol: None,
            sport: None,
            dport: None,
            uid_range: None,
        }
    }

    /// Refuses what the kernel would refuse: prefixes of the other family
    /// or with host bits set, table 0, a goto that does not go forward,
    /// a mask without a mark, backwards ranges.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason| {
            Err(Error::InvalidRouteSpec {
                what: format!("rule {self}"),
                reason,
            })
        };
        for prefix in [self.from, self.to].into_iter().flatten() {
            if prefix.family() != self.family {
                return bad("its prefixes are not of the rule's family");
            }
            if !host_bits_clear(prefix) {
                return bad("a prefix has bits set past its prefix length");
            }
        }
        match self.action {
            RuleAction::Table(0) => return bad("table 0 is not a table"),
            RuleAction::Goto(target) if self.priority.is_none_or(|p| p >= target) => {
                return bad("a goto needs a preference below its target");
            }
            _ => {}
        }
        if self.fwmask.is_some() && self.fwmark.is_none() {
            return bad("a fwmark mask needs a fwmark");
        }
        let backwards = self.sport.is_some_and(|r| r.start > r.end)
            || self.dport.is_some_and(|r| r.start > r.end)
            || self.uid_range.is_some_and(|r| r.start > r.end);
        if backwards {
            return bad("a range ends before it starts");
        }
        if (self.suppress_prefix_len.is_some() || self.suppress_ifgroup.is_some())
            && !matches!(self.action, RuleAction::Table(_))
        {
            return bad("suppress_prefixlength and suppress_ifgroup need a table action");
        }
        Ok(())
    }

    /// The message that adds it, or (the same attributes) deletes it.
    pub(crate) fn to_message(&self) -> RuleMessage {
        let mut msg = RuleMessage::default();
        msg.header.family = match self.family {
            Family::Ipv4 => AddressFamily::Inet,
            Family::Ipv6 => AddressFamily::Inet6,
        };
        msg.header.tos = self.tos;
        if self.invert {
            msg.header.flags = RuleFlags::Invert;
        }
        let a = &mut msg.attributes;
        msg.header.action = match self.action {
            RuleAction::Table(t) => {
                msg.header.table = u8::try_from(t).unwrap_or(0);
                a.push(RuleAttribute::Table(t));
                RawAction::ToTable
            }
            RuleAction::Goto(target) => {
                a.push(RuleAttribute::Goto(target));
                RawAction::Goto
            }
            RuleAction::Nop => RawAction::Nop,
            RuleAction::Blackhole => RawAction::Blackhole,
            RuleAction::Unreachable => RawAction::Unreachable,
            RuleAction::Prohibit => RawAction::Prohibit,
        };
        if let Some(from) = self.from {
            msg.header.src_len = from.prefix_len();
            if from.prefix_len() > 0 {
                a.push(RuleAttribute::Source(from.addr()));
            }
        }
        if let Some(to) = self.to {
            msg.header.dst_len = to.prefix_len();
            if to.prefix_len() > 0 {
                a.push(RuleAttribute::Destination(to.addr()));
            }
        }
        if let Some(p) = self.priority {
            a.push(RuleAttribute::Priority(p));
        }
        if let Some(mark) = self.fwmark {
            a.push(RuleAttribute::FwMark(mark));
            a.push(RuleAttribute::FwMask(self.fwmask.unwrap_or(u32::MAX)));
        }
        if let Some(iif) = &self.iif {
            a.push(RuleAttribute::Iifname(iif.clone()));
        }
        if let Some(oif) = &self.oif {
            a.push(RuleAttribute::Oifname(oif.clone()));
        }
        if let Some(len) = self.suppress_prefix_len {
            a.push(RuleAttribute::SuppressPrefixLen(len));
        }
        if let Some(group) = self.suppress_ifgroup {
            a.push(RuleAttribute::SuppressIfGroup(group));
        }
        a.push(RuleAttribute::Protocol(RouteProtocol::from(self.protocol)));
        if let Some(proto) = self.ip_protocol {
            a.push(RuleAttribute::IpProtocol(IpProtocol::from(proto)));
        }
        if let Some(r) = self.sport {
            a.push(RuleAttribute::SourcePortRange(RulePortRange {
                start: r.start,
                end: r.end,
            }));
        }
        if let Some(r) = self.dport {
            a.push(RuleAttribute::DestinationPortRange(RulePortRange {
                start: r.start,
                end: r.end,
            }));
        }
        if let Some(r) = self.uid_range {
            a.push(RuleAttribute::UidRange(RuleUidRange {
                start: r.start,
                end: r.end,
            }));
        }
        msg
    }
}

impl RuleSpec {
    /// The rule a kernel message describes; `None` for a family or action
    /// this crate does not model.
    pub(crate) fn from_message(msg: &RuleMessage) -> Option<RuleSpec> {
        let family = match msg.header.family {
            AddressFamily::Inet => Family::Ipv4,
            AddressFamily::Inet6 => Family::Ipv6,
            _ => return None,
        };
        let mut table = u32::from(msg.header.table);
        let mut goto = None;
        let mut spec = RuleSpec::new(family, RuleAction::Nop);
        spec.tos = msg.header.tos;
        spec.invert = msg.header.flags.contains(RuleFlags::Invert);
        for a in &msg.attributes {
            match a {
                RuleAttribute::Table(t) => table = *t,
                RuleAttribute::Goto(t) => goto = Some(*t),
                RuleAttribute::Source(ip) => {
                    spec.from = IpPrefix::new(*ip, msg.header.src_len).ok();
                }
                RuleAttribute::Destination(ip) => {
                    spec.to = IpPrefix::new(*ip, msg.header.dst_len).ok();
                }
                RuleAttribute::Priority(p) => spec.priority = Some(*p),
                RuleAttribute::FwMark(m) => spec.fwmark = Some(*m),
                RuleAttribute::FwMask(m) => spec.fwmask = Some(*m),
                RuleAttribute::Iifname(n) => spec.iif = Some(n.clone()),
                RuleAttribute::Oifname(n) => spec.oif = Some(n.clone()),
                RuleAttribute::Protocol(p) => spec.protocol = u8::from(*p),
                _ => {}
            }
        }
        spec.action = match msg.header.action {
            RawAction::ToTable => RuleAction::Table(table),
            RawAction::Goto => RuleAction::Goto(goto?),
            RawAction::Nop => RuleAction::Nop,
            RawAction::Blackhole => RuleAction::Blackhole,
            RawAction::Unreachable => RuleAction::Unreachable,
            RawAction::Prohibit => RuleAction::Prohibit,
            _ => return None,
        };
        Some(spec)
    }

    /// Whether the kernel's rule `seen` is this one: the same preference,
    /// selectors and action (a mark without a mask is the full mask).
    pub fn same_rule(&self, seen: &RuleSpec) -> bool {
        let mask = |r: &RuleSpec| r.fwmark.map(|_| r.fwmask.unwrap_or(u32::MAX));
        self.family == seen.family
            && self.priority == seen.priority
            && self.from == seen.from
            && self.to == seen.to
            && self.invert == seen.invert
            && self.action == seen.action
            && self.fwmark == seen.fwmark
            && mask(self) == mask(seen)
            && self.iif == seen.iif
            && self.oif == seen.oif
            && self.tos == seen.tos
    }
}

impl fmt::Display for RuleSpec {
    /// As `ip rule` prints it: `100: from 198.18.0.0/24 lookup 100`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.priority {
            write!(f, "{p}: ")?;
        }
        if self.invert {
            f.write_str("not ")?;
        }
        match self.from {
            Some(from) => write!(f, "from {from}")?,
            None => f.write_str("from all")?,
        }
        if let Some(to) = self.to {
            write!(f, " to {to}")?;
        }
        if let Some(mark) = self.fwmark {
            write!(f, " fwmark {mark:#x}")?;
            if let Some(mask) = self.fwmask {
                write!(f, "/{mask:#x}")?;
            }
        }
        if let Some(iif) = &self.iif {
            write!(f, " iif {iif}")?;
        }
        if let Some(oif) = &self.oif {
            write!(f, " oif {oif}")?;
        }
        match self.action {
            RuleAction::Table(t) => write!(f, " lookup {t}"),
            RuleAction::Goto(t) => write!(f, " goto {t}"),
            RuleAction::Nop => f.write_str(" nop"),
            RuleAction::Blackhole => f.write_str(" blackhole"),
            RuleAction::Unreachable => f.write_str(" unreachable"),
            RuleAction::Prohibit => f.write_str(" prohibit"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Emitable;

    #[test]
    fn message_carries_selectors_and_action() {
        let mut r = RuleSpec::new(Family::Ipv4, RuleAction::Table(100));
        r.from = Some("198.18.0.0/24".parse().unwrap());
        r.priority = Some(100);
        r.fwmark = Some(7);
        r.iif = Some("veth0".into());
        r.dport = Some(Range { start: 80, end: 80 });
        let msg = r.to_message();
        assert_eq!(msg.header.src_len, 24);
        assert_eq!(msg.header.table, 100);
        assert_eq!(msg.header.action, RawAction::ToTable);
        let a = &msg.attributes;
        assert!(a.contains(&RuleAttribute::Priority(100)));
        assert!(a.contains(&RuleAttribute::FwMark(7)));
        assert!(a.contains(&RuleAttribute::FwMask(u32::MAX)));
        assert!(a.contains(&RuleAttribute::Iifname("veth0".into())));
        assert!(a.contains(&RuleAttribute::Protocol(RouteProtocol::KeepAlived)));
        let mut buf = vec![0; msg.buffer_len()];
        msg.emit(&mut buf);
        assert_eq!(
            r.to_string(),
            "100: from 198.18.0.0/24 fwmark 0x7 iif veth0 lookup 100"
        );
    }

    #[test]
    fn a_rule_reads_back_from_its_message() {
        let mut r = RuleSpec::new(Family::Ipv6, RuleAction::Table(300));
        r.to = Some("fd00:198:18:9::/64".parse().unwrap());
        r.priority = Some(7);
        r.fwmark = Some(1);
        let back = RuleSpec::from_message(&r.to_message()).unwrap();
        assert!(r.same_rule(&back));
        let mut other = back.clone();
        other.priority = Some(8);
        assert!(!r.same_rule(&other));
    }

    #[test]
    fn nonsense_is_refused() {
        let mut r = RuleSpec::new(Family::Ipv4, RuleAction::Table(0));
        assert!(r.validate().is_err());
        r.action = RuleAction::Goto(100);
        assert!(r.validate().is_err());
        r.priority = Some(50);
        assert!(r.validate().is_ok());
        r.from = Some("fd00:198:18::/48".parse().unwrap());
        assert!(r.validate().is_err());
        r.from = Some("198.18.0.1/24".parse().unwrap());
        assert!(r.validate().is_err());
        let mut r = RuleSpec::new(Family::Ipv6, RuleAction::Prohibit);
        r.suppress_prefix_len = Some(0);
        assert!(r.validate().is_err());
    }

    #[test]
    fn spec_survives_json() {
        let mut r = RuleSpec::new(Family::Ipv6, RuleAction::Goto(200));
        r.priority = Some(100);
        r.uid_range = Some(Range {
            start: 1000,
            end: 2000,
        });
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<RuleSpec>(&json).unwrap(), r);
    }
}
