//! What a route does ([`RouteKind`], `rtm_type`) and its TCP metrics
//! ([`RouteMetricKind`], `RTA_METRICS`), with the names `ip route` uses.

use std::fmt;
use std::str::FromStr;

use netlink_packet_route::route::{RouteMetric, RouteType};
use serde::{Deserialize, Serialize};

use crate::address::Scope;

/// What a route does with the packets it matches (`rtm_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RouteKind {
    /// Forward, through a gateway or directly (`unicast`, the default).
    #[default]
    Unicast,
    /// Deliver locally (`local`).
    Local,
    /// Broadcast on the link (`broadcast`).
    Broadcast,
    /// Anycast (`anycast`).
    Anycast,
    /// Multicast (`multicast`).
    Multicast,
    /// Drop silently (`blackhole`).
    Blackhole,
    /// Drop with ICMP host unreachable (`unreachable`).
    Unreachable,
    /// Drop with ICMP administratively prohibited (`prohibit`).
    Prohibit,
    /// Stop the lookup in this table and go on with the next rule (`throw`).
    Throw,
}

impl RouteKind {
    /// Every kind, with the name `ip route` gives it.
    pub const NAMES: [(RouteKind, &'static str); 9] = [
        (RouteKind::Unicast, "unicast"),
        (RouteKind::Local, "local"),
        (RouteKind::Broadcast, "broadcast"),
        (RouteKind::Anycast, "anycast"),
        (RouteKind::Multicast, "multicast"),
        (RouteKind::Blackhole, "blackhole"),
        (RouteKind::Unreachable, "unreachable"),
        (RouteKind::Prohibit, "prohibit"),
        (RouteKind::Throw, "throw"),
    ];

    pub(crate) fn to_route_type(self) -> RouteType {
        match self {
            RouteKind::Unicast => RouteType::Unicast,
            RouteKind::Local => RouteType::Local,
            RouteKind::Broadcast => RouteType::Broadcast,
            RouteKind::Anycast => RouteType::Anycast,
            RouteKind::Multicast => RouteType::Multicast,
            RouteKind::Blackhole => RouteType::BlackHole,
            RouteKind::Unreachable => RouteType::Unreachable,
            RouteKind::Prohibit => RouteType::Prohibit,
            RouteKind::Throw => RouteType::Throw,
        }
    }

    /// The scope `ip route add` gives a route of this kind when none is
    /// given: host for `local`, link for `broadcast`, `anycast`,
    /// `multicast` and for a direct unicast route (no gateway), global
    /// otherwise (iproute2's `iproute_modify`). The kernel refuses a
    /// `local` route of global scope.
    pub fn default_scope(self, has_gateway: bool) -> Scope {
        match self {
            RouteKind::Local => Scope::Host,
            RouteKind::Broadcast | RouteKind::Anycast | RouteKind::Multicast => Scope::Link,
            RouteKind::Unicast if !has_gateway => Scope::Link,
            _ => Scope::Global,
        }
    }
}

impl fmt::Display for RouteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = RouteKind::NAMES
            .iter()
            .find(|(k, _)| k == self)
            .map_or("unicast", |(_, n)| n);
        f.write_str(name)
    }
}

/// A word that is not a route kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a route type (unicast, local, broadcast, anycast, multicast, blackhole, unreachable, prohibit, throw)"
)]
pub struct RouteKindParseError(pub String);

impl FromStr for RouteKind {
    type Err = RouteKindParseError;
    fn from_str(s: &str) -> std::result::Result<RouteKind, RouteKindParseError> {
        let s = if s == "brd" { "broadcast" } else { s };
        RouteKind::NAMES
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(k, _)| *k)
            .ok_or_else(|| RouteKindParseError(s.to_string()))
    }
}

/// A per-route TCP metric (`RTA_METRICS`), as `ip route ... mtu lock 1400`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RouteMetricKind {
    /// Path MTU (`mtu`).
    Mtu,
    /// Advertised MSS (`advmss`).
    Advmss,
    /// Hop limit (`hoplimit`).
    Hoplimit,
    /// Initial congestion window (`initcwnd`).
    InitCwnd,
    /// Initial receive window (`initrwnd`).
    InitRwnd,
    /// Window clamp (`window`).
    Window,
    /// Congestion window clamp (`cwnd`).
    Cwnd,
    /// Slow-start threshold (`ssthresh`).
    SsThresh,
    /// Reordering (`reordering`).
    Reordering,
}

impl RouteMetricKind {
    /// Every metric, with its `ip route` keyword.
    pub const NAMES: [(RouteMetricKind, &'static str); 9] = [
        (RouteMetricKind::Mtu, "mtu"),
        (RouteMetricKind::Advmss, "advmss"),
        (RouteMetricKind::Hoplimit, "hoplimit"),
        (RouteMetricKind::InitCwnd, "initcwnd"),
        (RouteMetricKind::InitRwnd, "initrwnd"),
        (RouteMetricKind::Window, "window"),
        (RouteMetricKind::Cwnd, "cwnd"),
        (RouteMetricKind::SsThresh, "ssthresh"),
        (RouteMetricKind::Reordering, "reordering"),
    ];

    /// The kind of `keyword`, if it names one.
    pub fn from_keyword(keyword: &str) -> Option<RouteMetricKind> {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == keyword)
            .map(|(k, _)| *k)
    }

    /// Its `RTAX_*` number, whose bit in `RTAX_LOCK` locks it.
    pub(crate) fn rtax(self) -> u32 {
        match self {
            RouteMetricKind::Window => 3,
            RouteMetricKind::SsThresh => 6,
            RouteMetricKind::Cwnd => 7,
            RouteMetricKind::Advmss => 8,
            RouteMetricKind::Reordering => 9,
            RouteMetricKind::Hoplimit => 10,
            RouteMetricKind::InitCwnd => 11,
            RouteMetricKind::InitRwnd => 14,
            RouteMetricKind::Mtu => 2,
        }
    }

    pub(crate) fn attribute(self, value: u32) -> RouteMetric {
        match self {
            RouteMetricKind::Mtu => RouteMetric::Mtu(value),
            RouteMetricKind::Advmss => RouteMetric::Advmss(value),
            RouteMetricKind::Hoplimit => RouteMetric::Hoplimit(value),
            RouteMetricKind::InitCwnd => RouteMetric::InitCwnd(value),
            RouteMetricKind::InitRwnd => RouteMetric::InitRwnd(value),
            RouteMetricKind::Window => RouteMetric::Window(value),
            RouteMetricKind::Cwnd => RouteMetric::Cwnd(value),
            RouteMetricKind::SsThresh => RouteMetric::SsThresh(value),
            RouteMetricKind::Reordering => RouteMetric::Reordering(value),
        }
    }
}

/// One metric of a route, with whether it is locked (the kernel does not
/// learn a new value for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RouteMetricValue {
    /// Which metric.
    pub kind: RouteMetricKind,
    /// Its value.
    pub value: u32,
    /// `lock`.
    pub locked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_print() {
        for (kind, name) in RouteKind::NAMES {
            assert_eq!(name.parse::<RouteKind>().unwrap(), kind);
            assert_eq!(kind.to_string(), name);
        }
        assert_eq!("brd".parse::<RouteKind>().unwrap(), RouteKind::Broadcast);
        assert!("nat".parse::<RouteKind>().is_err());
    }
}
