//! Virtual services (`ipvsadm -A`): what identifies one ([`ServiceKey`]),
//! how it schedules ([`Scheduler`], [`ServiceFlags`]) and persistence.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::attr::{AttrWriter, attrs, get_be16, get_inet_addr, get_string, get_u16, get_u32};
use crate::constants::*;
use crate::error::{Error, Result};
use crate::stats::Stats;

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Ipv4,
    /// IPv6 (`AF_INET6`).
    Ipv6,
}

impl Family {
    /// The family of `addr`.
    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    pub(crate) fn af(self) -> u16 {
        match self {
            Family::Ipv4 => AF_INET,
            Family::Ipv6 => AF_INET6,
        }
    }

    pub(crate) fn from_af(af: u16) -> Result<Family> {
        match af {
            AF_INET => Ok(Family::Ipv4),
            AF_INET6 => Ok(Family::Ipv6),
            other => Err(Error::malformed(
                "IPVS service",
                format!("address family {other}"),
            )),
        }
    }
}

/// The transport protocol of an address:port service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP (`ipvsadm -t`).
    Tcp,
    /// UDP (`ipvsadm -u`).
    Udp,
    /// SCTP (`ipvsadm --sctp-service`).
    Sctp,
}

impl Protocol {
    fn number(self) -> u16 {
        match self {
            Protocol::Tcp => libc::IPPROTO_TCP as u16,
            Protocol::Udp => libc::IPPROTO_UDP as u16,
            Protocol::Sctp => libc::IPPROTO_SCTP as u16,
        }
    }

    fn from_number(n: u16) -> Result<Protocol> {
        match i32::from(n) {
            libc::IPPROTO_TCP => Ok(Protocol::Tcp),
            libc::IPPROTO_UDP => Ok(Protocol::Udp),
            libc::IPPROTO_SCTP => Ok(Protocol::Sctp),
            _ => Err(Error::malformed("IPVS service", format!("protocol {n}"))),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        })
    }
}

/// What identifies a virtual service in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKey {
    /// Packets to `addr` over `protocol` (keepalived's
    /// `virtual_server IP PORT`).
    Inet {
        /// The protocol.
        protocol: Protocol,
        /// The virtual address and port (port 0: every port, which
        /// needs persistence).
        addr: SocketAddr,
    },
    /// Packets carrying firewall mark `mark` (keepalived's
    /// `virtual_server fwmark N`).
    Fwmark {
        /// The mark.
        mark: u32,
        /// The family of the packets it matches.
        family: Family,
    },
}

impl ServiceKey {
    /// A TCP service on `addr`.
    pub fn tcp(addr: SocketAddr) -> ServiceKey {
        ServiceKey::Inet {
            protocol: Protocol::Tcp,
            addr,
        }
    }

    /// The address family.
    pub fn family(&self) -> Family {
        match *self {
            ServiceKey::Inet { addr, .. } => Family::of(addr.ip()),
            ServiceKey::Fwmark { family, .. } => family,
        }
    }

    /// Writes the attributes that identify the service.
    pub(crate) fn emit(&self, w: &mut AttrWriter) {
        w.u16(SVC_ATTR_AF, self.family().af());
        match *self {
            ServiceKey::Inet { protocol, addr } => {
                w.u16(SVC_ATTR_PROTOCOL, protocol.number())
                    .inet_addr(SVC_ATTR_ADDR, addr.ip())
                    .be16(SVC_ATTR_PORT, addr.port());
            }
            ServiceKey::Fwmark { mark, .. } => {
                w.u32(SVC_ATTR_FWMARK, mark);
            }
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Inet { protocol, addr } => write!(f, "{protocol} {addr}"),
            ServiceKey::Fwmark { mark, family } => write!(f, "FWM {mark} {family:?}"),
        }
    }
}

/// A scheduling algorithm (keepalived's `lb_algo`/`lvs_sched`,
/// `ipvsadm -s`). The kernel loads `ip_vs_NAME` on first use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Scheduler {
    /// Round robin.
    Rr,
    /// Weighted round robin.
    Wrr,
    /// Least connections.
    Lc,
    /// Weighted least connections (the kernel's and keepalived's default).
    Wlc,
    /// Locality-based least connections.
    Lblc,
    /// Locality-based least connections with replication.
    Lblcr,
    /// Destination hashing.
    Dh,
    /// Source hashing (flags: [`ServiceFlags::SH_FALLBACK`], [`ServiceFlags::SH_PORT`]).
    Sh,
    /// Shortest expected delay.
    Sed,
    /// Never queue.
    Nq,
    /// Weighted failover.
    Fo,
    /// Weighted overflow.
    Ovf,
    /// Maglev hashing (flags: [`ServiceFlags::MH_FALLBACK`], [`ServiceFlags::MH_PORT`]).
    Mh,
    /// Weighted random twos choice.
    Twos,
    /// A scheduler this crate does not name (a newer kernel's).
    #[serde(untagged)]
    Other(String),
}

impl Scheduler {
    /// Every scheduler this crate names.
    pub const KNOWN: [Scheduler; 14] = [
        Scheduler::Rr,
        Scheduler::Wrr,
        Scheduler::Lc,
        Scheduler::Wlc,
        Scheduler::Lblc,
        Scheduler::Lblcr,
        Scheduler::Dh,
        Scheduler::Sh,
        Scheduler::Sed,
        Scheduler::Nq,
        Scheduler::Fo,
        Scheduler::Ovf,
        Scheduler::Mh,
        Scheduler::Twos,
    ];

    /// The kernel's name for it.
    pub fn name(&self) -> &str {
        match self {
            Scheduler::Rr => "rr",
            Scheduler::Wrr => "wrr",
            Scheduler::Lc => "lc",
            Scheduler::Wlc => "wlc",
            Scheduler::Lblc => "lblc",
            Scheduler::Lblcr => "lblcr",
            Scheduler::Dh => "dh",
            Scheduler::Sh => "sh",
            Scheduler::Sed => "sed",
            Scheduler::Nq => "nq",
            Scheduler::Fo => "fo",
            Scheduler::Ovf => "ovf",
            Scheduler::Mh => "mh",
            Scheduler::Twos => "twos",
            Scheduler::Other(name) => name,
        }
    }
}

impl FromStr for Scheduler {
    type Err = std::convert::Infallible;

    /// A known name, or [`Scheduler::Other`]; the kernel judges the rest.
    fn from_str(s: &str) -> Result<Scheduler, Self::Err> {
        Ok(Scheduler::KNOWN
            .into_iter()
            .find(|k| k.name() == s)
            .unwrap_or_else(|| Scheduler::Other(s.to_string())))
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `IP_VS_SVC_F_*`: a service's flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServiceFlags(pub u32);

impl ServiceFlags {
    /// Persistent (set by [`Service::persistence`]).
    pub const PERSISTENT: ServiceFlags = ServiceFlags(0x0001);
    /// The kernel's "hashed" bit (it sets it itself; never sent).
    pub const HASHED: ServiceFlags = ServiceFlags(0x0002);
    /// One-packet scheduling (keepalived's `ops`, UDP only).
    pub const ONE_PACKET: ServiceFlags = ServiceFlags(0x0004);
    /// Scheduler flag 1 (`sh-fallback`, `mh-fallback`; keepalived's
    /// `flag-1`).
    pub const SCHED1: ServiceFlags = ServiceFlags(0x0008);
    /// Scheduler flag 2 (`sh-port`, `mh-port`; keepalived's `flag-2`).
    pub const SCHED2: ServiceFlags = ServiceFlags(0x0010);
    /// Scheduler flag 3 (keepalived's `flag-3`).
    pub const SCHED3: ServiceFlags = ServiceFlags(0x0020);
    /// sh: pick another server when the chosen one is unavailable.
    pub const SH_FALLBACK: ServiceFlags = ServiceFlags::SCHED1;
    /// sh: hash the source port too.
    pub const SH_PORT: ServiceFlags = ServiceFlags::SCHED2;
    /// mh: pick another server when the chosen one is unavailable.
    pub const MH_FALLBACK: ServiceFlags = ServiceFlags::SCHED1;
    /// mh: hash the source port too.
    pub const MH_PORT: ServiceFlags = ServiceFlags::SCHED2;

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: ServiceFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for ServiceFlags {
    type Output = ServiceFlags;
    fn bitor(self, rhs: ServiceFlags) -> ServiceFlags {
        ServiceFlags(self.0 | rhs.0)
    }
}

/// Persistence (keepalived's `persistence_timeout` and
/// `persistence_granularity`, `ipvsadm -p -M`): a client's connections
/// go to the same real server while it has one within `timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Persistence {
    /// How long after its last connection a client stays (whole seconds).
    pub timeout: Duration,
    /// The prefix length of client addresses grouped together (32 or 128:
    /// each client alone).
    pub prefix_len: u8,
}

/// A virtual service as added or edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Service {
    /// What identifies it.
    pub key: ServiceKey,
    /// How it picks a real server.
    pub scheduler: Scheduler,
    /// Flags ([`ServiceFlags::PERSISTENT`] follows `persistence`).
    pub flags: ServiceFlags,
    /// Persistence, if any.
    pub persistence: Option<Persistence>,
    /// A persistence engine (`ipvsadm --pe`, e.g. "sip").
    pub persistence_engine: Option<String>,
}

impl Service {
    /// A service on `key` with `scheduler`, no flags, no persistence.
    pub fn new(key: ServiceKey, scheduler: Scheduler) -> Service {
        Service {
            key,
            scheduler,
            flags: ServiceFlags::default(),
            persistence: None,
            persistence_engine: None,
        }
    }

    /// With `flags` added.
    pub fn with_flags(mut self, flags: ServiceFlags) -> Service {
        self.flags = self.flags | flags;
        self
    }

    /// With persistence.
    pub fn with_persistence(mut self, persistence: Persistence) -> Service {
        self.persistence = Some(persistence);
        self
    }

    fn full_prefix(&self) -> u8 {
        match self.key.family() {
            Family::Ipv4 => 32,
            Family::Ipv6 => 128,
        }
    }

    /// Writes the key and every setting (a full entry, as `NEW_SERVICE`
    /// and `SET_SERVICE` need).
    pub(crate) fn emit(&self, w: &mut AttrWriter) {
        self.key.emit(w);
        let mut flags = ServiceFlags(self.flags.0 & !ServiceFlags::HASHED.0);
        if self.persistence.is_some() {
            flags = flags | ServiceFlags::PERSISTENT;
        }
        let (timeout, prefix) = match self.persistence {
            Some(p) => (
                u32::try_from(p.timeout.as_secs()).unwrap_or(u32::MAX),
                p.prefix_len,
            ),
            None => (0, self.full_prefix()),
        };
        let mut flag_bytes = [0u8; 8];
        flag_bytes[..4].copy_from_slice(&flags.0.to_ne_bytes());
        flag_bytes[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
        w.string(SVC_ATTR_SCHED_NAME, self.scheduler.name())
            .bytes(SVC_ATTR_FLAGS, &flag_bytes)
            .u32(SVC_ATTR_TIMEOUT, timeout);
        match self.key.family() {
            // IPv4: the netmask itself, in network byte order.
            Family::Ipv4 => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(prefix.min(32)))
                    .unwrap_or(0);
                w.bytes(SVC_ATTR_NETMASK, &mask.to_be_bytes());
            }
            Family::Ipv6 => {
                w.u32(SVC_ATTR_NETMASK, u32::from(prefix.min(128)));
            }
        }
        if let Some(pe) = &self.persistence_engine {
            w.string(SVC_ATTR_PE_NAME, pe);
        }
    }
}

/// A service as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ServiceInfo {
    /// Its settings (flags without [`ServiceFlags::HASHED`]).
    pub service: Service,
    /// Its counters.
    pub stats: Stats,
}

impl ServiceInfo {
    /// Parses the contents of a nested `IPVS_CMD_ATTR_SERVICE`.
    pub(crate) fn parse(payload: &[u8]) -> Result<ServiceInfo> {
        const WHAT: &str = "IPVS service";
        let mut af = None;
        let mut protocol = None;
        let mut addr = None;
        let mut port = None;
        let mut fwmark = None;
        let mut scheduler = None;
        let mut flags = 0u32;
        let mut timeout = 0u32;
        let mut netmask: Option<&[u8]> = None;
        let mut pe = None;
        let mut stats = None;
        let mut stats64 = None;
        for attr in attrs(payload, WHAT) {
            let (kind, v) = attr?;
            match kind {
                SVC_ATTR_AF => af = Some(get_u16(v, WHAT)?),
                SVC_ATTR_PROTOCOL => protocol = Some(get_u16(v, WHAT)?),
                SVC_ATTR_ADDR => addr = Some(v),
                SVC_ATTR_PORT => port = Some(get_be16(v, WHAT)?),
                SVC_ATTR_FWMARK => fwmark = Some(get_u32(v, WHAT)?),
                SVC_ATTR_SCHED_NAME => scheduler = Some(get_string(v, WHAT)?),
                SVC_ATTR_FLAGS => flags = get_u32(v.get(..4).unwrap_or(v), WHAT)?,
                SVC_ATTR_TIMEOUT => timeout = get_u32(v, WHAT)?,
                SVC_ATTR_NETMASK => netmask = Some(v),
                SVC_ATTR_PE_NAME => pe = Some(get_string(v, WHAT)?),
                SVC_ATTR_STATS => stats = Some(Stats::parse(v)?),
                SVC_ATTR_STATS64 => stats64 = Some(Stats::parse(v)?),
                _ => {}
            }
        }
        let af = af.ok_or_else(|| Error::malformed(WHAT, "no address family"))?;
        let family = Family::from_af(af)?;
        let key = match (fwmark, protocol, addr) {
            (Some(mark), _, _) if mark != 0 => ServiceKey::Fwmark { mark, family },
            (_, Some(protocol), Some(addr)) => ServiceKey::Inet {
                protocol: Protocol::from_number(protocol)?,
                addr: SocketAddr::new(get_inet_addr(addr, af, WHAT)?, port.unwrap_or(0)),
            },
            _ => return Err(Error::malformed(WHAT, "neither fwmark nor address")),
        };
        let scheduler = scheduler.ok_or_else(|| Error::malformed(WHAT, "no scheduler"))?;
        let flags = ServiceFlags(flags & !ServiceFlags::HASHED.0);
        let persistence = if flags.contains(ServiceFlags::PERSISTENT) {
            let prefix_len = match (family, netmask) {
                (Family::Ipv4, Some(m)) => {
                    let m: [u8; 4] = m
                        .try_into()
                        .map_err(|_| Error::malformed(WHAT, "netmask length"))?;
                    u32::from_be_bytes(m).leading_ones() as u8
                }
                (Family::Ipv6, Some(m)) => get_u32(m, WHAT)?.min(128) as u8,
                (Family::Ipv4, None) => 32,
                (Family::Ipv6, None) => 128,
            };
            Some(Persistence {
                timeout: Duration::from_secs(u64::from(timeout)),
                prefix_len,
            })
        } else {
            None
        };
        let scheduler = match scheduler.parse::<Scheduler>() {
            Ok(s) => s,
            Err(never) => match never {},
        };
        Ok(ServiceInfo {
            service: Service {
                key,
                scheduler,
                flags: ServiceFlags(flags.0 & !ServiceFlags::PERSISTENT.0),
                persistence,
                persistence_engine: pe,
            },
            stats: stats64.or(stats).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(service: &Service) -> Service {
        let mut w = AttrWriter::default();
        service.emit(&mut w);
        ServiceInfo::parse(&w.finish()).unwrap().service
    }

    #[test]
    fn every_form_of_service_survives_emit_and_parse() {
        let v4 = ServiceKey::tcp("198.18.0.1:80".parse().unwrap());
        let v6 = ServiceKey::Inet {
            protocol: Protocol::Sctp,
            addr: "[fd00:198:18::1]:443".parse().unwrap(),
        };
        let mark = ServiceKey::Fwmark {
            mark: 7,
            family: Family::Ipv6,
        };
        for sched in Scheduler::KNOWN {
            let s = Service::new(v4, sched);
            assert_eq!(round_trip(&s), s);
        }
        let persistent = Service::new(v4, Scheduler::Sh)
            .with_flags(ServiceFlags::SH_FALLBACK | ServiceFlags::SH_PORT)
            .with_persistence(Persistence {
                timeout: Duration::from_secs(300),
                prefix_len: 24,
            });
        assert_eq!(round_trip(&persistent), persistent);
        let v6p = Service::new(v6, Scheduler::Mh).with_persistence(Persistence {
            timeout: Duration::from_secs(60),
            prefix_len: 64,
        });
        assert_eq!(round_trip(&v6p), v6p);
        let ops =
            Service::new(mark, Scheduler::Other("xyz".into())).with_flags(ServiceFlags::ONE_PACKET);
        assert_eq!(round_trip(&ops), ops);
    }

    #[test]
    fn the_ipv4_netmask_goes_in_network_order() {
        let s = Service::new(
            ServiceKey::tcp("198.18.0.1:80".parse().unwrap()),
            Scheduler::Rr,
        )
        .with_persistence(Persistence {
            timeout: Duration::from_secs(1),
            prefix_len: 24,
        });
        let mut w = AttrWriter::default();
        s.emit(&mut w);
        let buf = w.finish();
        let mask = attrs(&buf, "t")
            .map(Result::unwrap)
            .find(|(k, _)| *k == SVC_ATTR_NETMASK)
            .unwrap()
            .1;
        assert_eq!(mask, &[255, 255, 255, 0]);
    }

    #[test]
    fn a_reply_without_a_key_or_scheduler_is_malformed() {
        let mut w = AttrWriter::default();
        w.u16(SVC_ATTR_AF, AF_INET)
            .string(SVC_ATTR_SCHED_NAME, "rr");
        assert!(ServiceInfo::parse(&w.finish()).is_err());
        let mut w = AttrWriter::default();
        w.u16(SVC_ATTR_AF, AF_INET).u32(SVC_ATTR_FWMARK, 3);
        assert!(ServiceInfo::parse(&w.finish()).is_err());
        let mut w = AttrWriter::default();
        w.u16(SVC_ATTR_AF, 77).u32(SVC_ATTR_FWMARK, 3);
        assert!(ServiceInfo::parse(&w.finish()).is_err());
    }
}
