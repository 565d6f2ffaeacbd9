//! Routes (`ip route add|del`): what to install ([`RouteSpec`]) and the
//! `RTM_NEWROUTE`/`RTM_DELROUTE` messages for it.
//!
//! Kernel facts this follows:
//! - An add with `NLM_F_CREATE` alone (what `ip route prepend` and
//!   keepalived's `virtual_routes` send) puts the route in front of others
//!   for the same destination; the kernel answers `EEXIST` only for an
//!   identical one.
//! - A delete matches on every attribute it carries (gateway, device,
//!   protocol, metric, type, preferred source) and on any scope when it
//!   says `RT_SCOPE_NOWHERE`: a delete built from the spec that added a
//!   route removes that route and not another one to the same prefix.
//! - IPv4 refuses a destination with host bits set (`EINVAL`);
//!   [`RouteSpec::validate`] refuses it first.

use std::fmt;
use std::net::IpAddr;

use netlink_packet_route::AddressFamily;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteMetric,
    RouteProtocol, RouteScope,
};
use serde::{Deserialize, Serialize};

use crate::address::Scope;
use crate::error::{Error, Result};
use crate::link::IfIndex;
use crate::prefix::{Family, IpPrefix};
use crate::route_kind::{RouteKind, RouteMetricValue};

/// The routing protocol number keepalived marks its routes and rules with
/// (`RTPROT_KEEPALIVED`, "keepalived" in `ip route`): vrrpd uses it too,
/// so tools that filter on it see both alike.
pub const PROTOCOL_KEEPALIVED: u8 = 18;

/// The main routing table (`RT_TABLE_MAIN`).
pub const TABLE_MAIN: u32 = 254;

/// A route to add or delete, as `ip route` describes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RouteSpec {
    /// The destination prefix (host bits clear; `0.0.0.0/0` is `default`).
    pub destination: IpPrefix,
    /// What the route does.
    pub kind: RouteKind,
    /// The table (254 is `main`; above 255 goes in `RTA_TABLE`).
    pub table: u32,
    /// The protocol it is marked with ([`PROTOCOL_KEEPALIVED`] unless told).
    pub protocol: u8,
    /// Its scope; `None`: [`RouteKind::default_scope`].
    pub scope: Option<Scope>,
    /// Its metric (`RTA_PRIORITY`, `ip route ... metric N`).
    pub metric: Option<u32>,
    /// The preferred source address (`src`, `RTA_PREFSRC`).
    pub source: Option<IpAddr>,
    /// IPv6 only: the source prefix it applies to (`from`, `RTA_SRC`).
    pub from: Option<IpPrefix>,
    /// The next hop (`via`).
    pub gateway: Option<IpAddr>,
    /// The output interface (`dev`).
    pub device: Option<IfIndex>,
    /// `onlink`: the gateway is on the link even if no prefix says so.
    pub onlink: bool,
    /// TCP metrics (`mtu`, `advmss`, ...).
    pub metrics: Vec<RouteMetricValue>,
}

impl RouteSpec {
    /// A unicast route to `destination` in the main table, marked as
    /// keepalived's, with nothing else set.
    pub fn new(destination: IpPrefix) -> RouteSpec {
        RouteSpec {
            destination,
            kind: RouteKind::Unicast,
            table: TABLE_MAIN,
            protocol: PROTOCOL_KEEPALIVED,
            scope: None,
            metric: None,
            source: None,
            from: None,
            gateway: None,
            device: None,
            onlink: false,
            metrics: Vec::new(),
        }
    }

    /// IPv4 or IPv6.
    pub fn family(&self) -> Family {
        self.destination.family()
    }

    /// The scope it is added with.
    pub fn effective_scope(&self) -> Scope {
        self.scope
            .unwrap_or_else(|| self.kind.default_scope(self.gateway.is_some()))
    }

    /// Refuses what the kernel would refuse or misread: host bits in the
    /// destination, addresses of another family, `from` on IPv4, a
    /// gateway on a route that drops packets, table 0.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason| {
            Err(Error::InvalidRouteSpec {
                what: format!("route to {}", self.destination),
                reason,
            })
        };
        if !host_bits_clear(self.destination) {
            return bad("the destination has bits set past its prefix length");
        }
        let family = self.family();
        let others = [self.source, self.gateway, self.from.map(|f| f.addr())];
        if others
            .into_iter()
            .flatten()
            .any(|a| Family::of(a) != family)
        {
            return bad("its addresses are not all of one family");
        }
        if self.from.is_some() && family == Family::Ipv4 {
            return bad("`from` (a source prefix) exists for IPv6 routes only");
        }
        if self.from.is_some_and(|f| !host_bits_clear(f)) {
            return bad("the `from` prefix has bits set past its prefix length");
        }
        let drops = matches!(
            self.kind,
            RouteKind::Blackhole | RouteKind::Unreachable | RouteKind::Prohibit | RouteKind::Throw
        );
        if drops && (self.gateway.is_some() || self.device.is_some()) {
            return bad(
                "a blackhole, unreachable, prohibit or throw route has no gateway or device",
            );
        }
        if self.table == 0 {
            return bad("table 0 is not a table");
        }
        Ok(())
    }

    /// The `RTM_NEWROUTE` message that adds it.
    pub(crate) fn to_message(&self) -> RouteMessage {
        let mut msg = self.base_message();
        msg.header.scope = RouteScope::from(self.effective_scope().to_raw());
        if !self.metrics.is_empty() {
            let mut lock = 0u32;
            let mut metrics = Vec::new();
            for m in &self.metrics {
                if m.locked {
                    lock |= 1 << m.kind.rtax();
                }
                metrics.push(m.kind.attribute(m.value));
            }
            if lock != 0 {
                metrics.insert(0, RouteMetric::Lock(lock));
            }
            msg.attributes.push(RouteAttribute::Metrics(metrics));
        }
        msg
    }

    /// The `RTM_DELROUTE` message that deletes exactly this route: every
    /// attribute that tells it from another route to the same prefix, and
    /// any scope.
    pub(crate) fn to_delete_message(&self) -> RouteMessage {
        let mut msg = self.base_message();
        msg.header.scope = RouteScope::NoWhere;
        msg
    }

    fn base_message(&self) -> RouteMessage {
        let mut msg = RouteMessage::default();
        let family = self.family();
        msg.header.address_family = match family {
            Family::Ipv4 => AddressFamily::Inet,
            Family::Ipv6 => AddressFamily::Inet6,
        };
        msg.header.destination_prefix_length = self.destination.prefix_len();
        msg.header.protocol = RouteProtocol::from(self.protocol);
        msg.header.kind = self.kind.to_route_type();
        if self.onlink {
            msg.header.flags = RouteFlags::Onlink;
        }
        match u8::try_from(self.table) {
            Ok(t) => msg.header.table = t,
            Err(_) => msg.header.table = RouteHeader::RT_TABLE_UNSPEC,
        }
        // Always in RTA_TABLE too: it is what the kernel reads first.
        msg.attributes.push(RouteAttribute::Table(self.table));
        if self.destination.prefix_len() > 0 {
            msg.attributes
                .push(RouteAttribute::Destination(RouteAddress::from(
                    self.destination.addr(),
                )));
        }
        if let Some(from) = self.from {
            msg.header.source_prefix_length = from.prefix_len();
            msg.attributes
                .push(RouteAttribute::Source(RouteAddress::from(from.addr())));
        }
        if let Some(src) = self.source {
            msg.attributes
                .push(RouteAttribute::PrefSource(RouteAddress::from(src)));
        }
        if let Some(gw) = self.gateway {
            msg.attributes
                .push(RouteAttribute::Gateway(RouteAddress::from(gw)));
        }
        if let Some(dev) = self.device {
            msg.attributes.push(RouteAttribute::Oif(dev.get()));
        }
        if let Some(metric) = self.metric {
            msg.attributes.push(RouteAttribute::Priority(metric));
        }
        msg
    }
}

impl RouteSpec {
    /// The route a kernel message describes (a notification or a dump),
    /// without its metrics; `None` for a family or type this crate does
    /// not model.
    pub(crate) fn from_message(msg: &RouteMessage) -> Option<RouteSpec> {
        let family = match msg.header.address_family {
            AddressFamily::Inet => Family::Ipv4,
            AddressFamily::Inet6 => Family::Ipv6,
            _ => return None,
        };
        let kind = RouteKind::NAMES
            .iter()
            .map(|(k, _)| *k)
            .find(|k| k.to_route_type() == msg.header.kind)?;
        let any = match family {
            Family::Ipv4 => IpAddr::from([0u8; 4]),
            Family::Ipv6 => IpAddr::from([0u8; 16]),
        };
        let addr = |a: &RouteAddress| match a {
            RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
            RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
            _ => None,
        };
        let mut spec = RouteSpec::new(IpPrefix::host(any));
        spec.kind = kind;
        spec.table = u32::from(msg.header.table);
        spec.protocol = u8::from(msg.header.protocol);
        spec.scope = Some(Scope::from_raw(u8::from(msg.header.scope)));
        spec.onlink = msg.header.flags.contains(RouteFlags::Onlink);
        let mut dst = any;
        for a in &msg.attributes {
            match a {
                RouteAttribute::Table(t) => spec.table = *t,
                RouteAttribute::Destination(d) => dst = addr(d)?,
                RouteAttribute::Source(s) => {
                    spec.from =
                        Some(IpPrefix::new(addr(s)?, msg.header.source_prefix_length).ok()?);
                }
                RouteAttribute::PrefSource(s) => spec.source = addr(s),
                RouteAttribute::Gateway(g) => spec.gateway = addr(g),
                RouteAttribute::Oif(i) => spec.device = IfIndex::new(*i),
                RouteAttribute::Priority(p) => spec.metric = Some(*p),
                _ => {}
            }
        }
        spec.destination = IpPrefix::new(dst, msg.header.destination_prefix_length).ok()?;
        Some(spec)
    }

    /// Whether the kernel's route `seen` is this one: the same table,
    /// destination, type and next hop, and the same metric, device and
    /// preferred source where this one sets them (the kernel fills in a
    /// metric and a device of its own otherwise).
    pub fn same_route(&self, seen: &RouteSpec) -> bool {
        fn set_and_differs<T: PartialEq>(ours: Option<T>, theirs: Option<T>) -> bool {
            ours.is_some() && ours != theirs
        }
        self.table == seen.table
            && self.destination == seen.destination
            && self.kind == seen.kind
            && self.gateway == seen.gateway
            && self.from == seen.from
            && !set_and_differs(self.metric, seen.metric)
            && !set_and_differs(self.device, seen.device)
            && !set_and_differs(self.source, seen.source)
    }
}

impl fmt::Display for RouteSpec {
    /// As `ip route` prints it: `198.18.5.0/24 via 198.18.0.1 dev 3 table 100`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind != RouteKind::Unicast {
            write!(f, "{} ", self.kind)?;
        }
        if self.destination.prefix_len() == 0 {
            f.write_str("default")?;
        } else {
            write!(f, "{}", self.destination)?;
        }
        if let Some(from) = self.from {
            write!(f, " from {from}")?;
        }
        if let Some(gw) = self.gateway {
            write!(f, " via {gw}")?;
        }
        if let Some(dev) = self.device {
            write!(f, " dev {dev}")?;
        }
        if let Some(src) = self.source {
            write!(f, " src {src}")?;
        }
        if self.table != TABLE_MAIN {
            write!(f, " table {}", self.table)?;
        }
        if let Some(metric) = self.metric {
            write!(f, " metric {metric}")?;
        }
        Ok(())
    }
}

/// Whether `prefix` has no bits set past its length.
pub(crate) fn host_bits_clear(prefix: IpPrefix) -> bool {
    let len = u32::from(prefix.prefix_len());
    match prefix.addr() {
        IpAddr::V4(a) => u32::from(a).checked_shl(len).unwrap_or(0) == 0,
        IpAddr::V6(a) => u128::from(a).checked_shl(len).unwrap_or(0) == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route_kind::RouteMetricKind;
    use netlink_packet_core::Emitable;

    fn idx(i: u32) -> IfIndex {
        IfIndex::new(i).unwrap()
    }

    fn spec(dst: &str) -> RouteSpec {
        RouteSpec::new(dst.parse().unwrap())
    }

    #[test]
    fn host_bits_are_refused() {
        assert!(spec("198.18.5.0/24").validate().is_ok());
        assert!(spec("0.0.0.0/0").validate().is_ok());
        assert!(spec("198.18.5.1/24").validate().is_err());
        assert!(spec("fd00:198:18:5::/64").validate().is_ok());
        assert!(spec("fd00:198:18:5::1/64").validate().is_err());
    }

    #[test]
    fn mixed_families_and_misplaced_options_are_refused() {
        let mut s = spec("198.18.5.0/24");
        s.gateway = Some("fd00:198:18::1".parse().unwrap());
        assert!(s.validate().unwrap_err().to_string().contains("one family"));
        let mut s = spec("198.18.5.0/24");
        s.from = Some("198.18.0.0/16".parse().unwrap());
        assert!(s.validate().unwrap_err().to_string().contains("IPv6"));
        let mut s = spec("198.18.5.0/24");
        s.kind = RouteKind::Blackhole;
        s.device = Some(idx(3));
        assert!(s.validate().is_err());
        let mut s = spec("198.18.5.0/24");
        s.table = 0;
        assert!(s.validate().is_err());
    }

    #[test]
    fn scope_defaults_follow_ip_route() {
        let mut s = spec("198.18.5.0/24");
        assert_eq!(s.effective_scope(), Scope::Link);
        s.gateway = Some("198.18.0.1".parse().unwrap());
        assert_eq!(s.effective_scope(), Scope::Global);
        s.kind = RouteKind::Local;
        assert_eq!(s.effective_scope(), Scope::Host);
        s.scope = Some(Scope::Global);
        assert_eq!(s.effective_scope(), Scope::Global);
    }

    #[test]
    fn add_message_carries_every_attribute() {
        let mut s = spec("198.18.5.0/24");
        s.gateway = Some("198.18.0.1".parse().unwrap());
        s.device = Some(idx(7));
        s.source = Some("198.18.0.100".parse().unwrap());
        s.metric = Some(50);
        s.table = 1000;
        s.metrics.push(RouteMetricValue {
            kind: RouteMetricKind::Mtu,
            value: 1400,
            locked: true,
        });
        let msg = s.to_message();
        assert_eq!(msg.header.destination_prefix_length, 24);
        assert_eq!(u8::from(msg.header.protocol), PROTOCOL_KEEPALIVED);
        assert_eq!(msg.header.scope, RouteScope::Universe);
        assert_eq!(msg.header.table, RouteHeader::RT_TABLE_UNSPEC);
        let a = &msg.attributes;
        assert!(a.contains(&RouteAttribute::Table(1000)));
        assert!(a.contains(&RouteAttribute::Oif(7)));
        assert!(a.contains(&RouteAttribute::Priority(50)));
        assert!(a.contains(&RouteAttribute::Gateway(RouteAddress::Inet(
            "198.18.0.1".parse().unwrap()
        ))));
        assert!(a.contains(&RouteAttribute::PrefSource(RouteAddress::Inet(
            "198.18.0.100".parse().unwrap()
        ))));
        assert!(a.contains(&RouteAttribute::Metrics(vec![
            RouteMetric::Lock(1 << 2),
            RouteMetric::Mtu(1400)
        ])));
        // It encodes.
        let mut buf = vec![0; msg.buffer_len()];
        msg.emit(&mut buf);
    }

    #[test]
    fn delete_matches_any_scope_and_the_same_next_hop() {
        let mut s = spec("0.0.0.0/0");
        s.gateway = Some("198.18.0.1".parse().unwrap());
        let msg = s.to_delete_message();
        assert_eq!(msg.header.scope, RouteScope::NoWhere);
        assert_eq!(msg.header.destination_prefix_length, 0);
        assert!(
            !msg.attributes
                .iter()
                .any(|a| matches!(a, RouteAttribute::Destination(_)))
        );
        assert!(
            msg.attributes
                .iter()
                .any(|a| matches!(a, RouteAttribute::Gateway(_)))
        );
        assert_eq!(msg.header.table, 254);
    }

    #[test]
    fn a_route_reads_back_from_its_message() {
        let mut s = spec("198.18.9.0/24");
        s.gateway = Some("198.18.0.254".parse().unwrap());
        s.source = Some("198.18.0.1".parse().unwrap());
        s.device = Some(idx(4));
        s.table = 1000;
        let back = RouteSpec::from_message(&s.to_message()).unwrap();
        assert!(s.same_route(&back));
        assert_eq!(back.protocol, PROTOCOL_KEEPALIVED);
        // The kernel's metric and device fill in what ours leaves open.
        let mut open = s.clone();
        open.device = None;
        let mut kernel = back.clone();
        kernel.metric = Some(1024);
        assert!(open.same_route(&kernel));
        // Another gateway is another route.
        kernel.gateway = Some("198.18.0.253".parse().unwrap());
        assert!(!open.same_route(&kernel));
        let mut v6 = spec("::/0");
        v6.kind = RouteKind::Unreachable;
        let back = RouteSpec::from_message(&v6.to_message()).unwrap();
        assert!(v6.same_route(&back));
    }

    #[test]
    fn spec_survives_json() {
        let mut s = spec("fd00:198:18:5::/64");
        s.from = Some("fd00:198:18::/48".parse().unwrap());
        s.scope = Some(Scope::Link);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<RouteSpec>(&json).unwrap(), s);
    }
}
