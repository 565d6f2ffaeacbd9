//! Real servers (`ipvsadm -a`): where a service forwards, how
//! ([`Forwarding`]), with what weight and connection thresholds.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::attr::{AttrWriter, attrs, get_be16, get_inet_addr, get_u8, get_u16, get_u32};
use crate::constants::*;
use crate::error::{Error, Result};
use crate::service::Family;
use crate::stats::Stats;

/// The encapsulation of a tunnelled destination (keepalived's
/// `tun_type`, kernel 5.3 and later for gue and gre).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelKind {
    /// IP in IP (the default and only one before 5.3).
    Ipip,
    /// Generic UDP encapsulation to `port` on the real server.
    Gue {
        /// The real server's GUE port.
        port: u16,
    },
    /// GRE.
    Gre,
}

/// The checksum option of a gue or gre tunnel (keepalived's
/// `tun_flags`: `nocsum`, `csum`, `remcsum`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelChecksum {
    /// No checksum (`IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM`).
    #[default]
    None,
    /// A checksum (`..._CSUM`).
    Checksum,
    /// Remote checksum offload (`..._REMCSUM`, gue only).
    Remote,
}

impl TunnelChecksum {
    fn bits(self) -> u16 {
        match self {
            TunnelChecksum::None => 0,
            TunnelChecksum::Checksum => 1,
            TunnelChecksum::Remote => 2,
        }
    }

    fn from_bits(bits: u16) -> TunnelChecksum {
        if bits & 2 != 0 {
            TunnelChecksum::Remote
        } else if bits & 1 != 0 {
            TunnelChecksum::Checksum
        } else {
            TunnelChecksum::None
        }
    }
}

/// How packets reach a real server (keepalived's `lb_kind`/`lvs_method`,
/// `ipvsadm -m/-g/-i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Forwarding {
    /// NAT (masquerading): `lb_kind NAT`.
    Masquerade,
    /// Direct routing (gatewaying): `lb_kind DR`; the real server holds
    /// the VIP itself.
    DirectRouting,
    /// Tunnelling: `lb_kind TUN`.
    Tunnel {
        /// The encapsulation.
        kind: TunnelKind,
        /// Its checksum option.
        checksum: TunnelChecksum,
    },
    /// The destination is an address of this host (the kernel picks it
    /// for one; reported, never needed in a request).
    Local,
    /// Cache bypass (reported only).
    Bypass,
}

impl Forwarding {
    /// IP-in-IP tunnelling, the classic `lb_kind TUN`.
    pub const IPIP: Forwarding = Forwarding::Tunnel {
        kind: TunnelKind::Ipip,
        checksum: TunnelChecksum::None,
    };

    fn method(self) -> u32 {
        match self {
            Forwarding::Masquerade => FWD_MASQ,
            Forwarding::DirectRouting => FWD_DROUTE,
            Forwarding::Tunnel { .. } => FWD_TUNNEL,
            Forwarding::Local => FWD_LOCALNODE,
            Forwarding::Bypass => FWD_BYPASS,
        }
    }
}

/// A real server as added or edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Destination {
    /// Its address and port (a fwmark service's destinations may have port 0).
    pub addr: SocketAddr,
    /// How packets reach it.
    pub forwarding: Forwarding,
    /// Its weight (0: no new connections; keepalived's
    /// `inhibit_on_failure`).
    pub weight: u32,
    /// No new connections above this many (0: no limit; `uthreshold`).
    pub upper_threshold: u32,
    /// New connections again below this many (`lthreshold`).
    pub lower_threshold: u32,
}

/// The largest weight the kernel takes (`INT_MAX`).
pub const MAX_WEIGHT: u32 = i32::MAX as u32;

impl Destination {
    /// A real server at `addr` reached by `forwarding`, weight 1, no
    /// thresholds.
    pub fn new(addr: SocketAddr, forwarding: Forwarding) -> Destination {
        Destination {
            addr,
            forwarding,
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
        }
    }

    /// With `weight` (at most [`MAX_WEIGHT`]).
    pub fn with_weight(mut self, weight: u32) -> Destination {
        self.weight = weight.min(MAX_WEIGHT);
        self
    }

    /// With connection thresholds.
    pub fn with_thresholds(mut self, upper: u32, lower: u32) -> Destination {
        self.upper_threshold = upper;
        self.lower_threshold = lower;
        self
    }

    /// Writes the key attributes (address, port, family).
    pub(crate) fn emit_key(addr: SocketAddr, w: &mut AttrWriter) {
        w.inet_addr(DEST_ATTR_ADDR, addr.ip())
            .be16(DEST_ATTR_PORT, addr.port())
            .u16(DEST_ATTR_ADDR_FAMILY, Family::of(addr.ip()).af());
    }

    /// Writes a full entry (`NEW_DEST`, `SET_DEST`).
    pub(crate) fn emit(&self, w: &mut AttrWriter) {
        Destination::emit_key(self.addr, w);
        w.u32(DEST_ATTR_FWD_METHOD, self.forwarding.method())
            .u32(DEST_ATTR_WEIGHT, self.weight.min(MAX_WEIGHT))
            .u32(DEST_ATTR_U_THRESH, self.upper_threshold)
            .u32(DEST_ATTR_L_THRESH, self.lower_threshold);
        if let Forwarding::Tunnel { kind, checksum } = self.forwarding {
            match kind {
                TunnelKind::Ipip => {
                    w.u8(DEST_ATTR_TUN_TYPE, TUNNEL_TYPE_IPIP);
                }
                TunnelKind::Gue { port } => {
                    w.u8(DEST_ATTR_TUN_TYPE, TUNNEL_TYPE_GUE)
                        .be16(DEST_ATTR_TUN_PORT, port)
                        .u16(DEST_ATTR_TUN_FLAGS, checksum.bits());
                }
                TunnelKind::Gre => {
                    w.u8(DEST_ATTR_TUN_TYPE, TUNNEL_TYPE_GRE)
                        .u16(DEST_ATTR_TUN_FLAGS, checksum.bits());
                }
            }
        }
    }
}

/// A real server as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DestinationInfo {
    /// Its settings.
    pub destination: Destination,
    /// Established connections.
    pub active_connections: u32,
    /// Other connections (closing, or UDP).
    pub inactive_connections: u32,
    /// Persistence templates pointing at it.
    pub persistent_connections: u32,
    /// Its counters.
    pub stats: Stats,
}

impl DestinationInfo {
    /// Parses the contents of a nested `IPVS_CMD_ATTR_DEST`. `service` is
    /// the service's family, the default when the kernel (before 4.x)
    /// sends no `ADDR_FAMILY`.
    pub(crate) fn parse(payload: &[u8], service: Family) -> Result<DestinationInfo> {
        const WHAT: &str = "IPVS destination";
        let mut addr = None;
        let mut port = 0;
        let mut method = None;
        let mut weight = 0;
        let mut upper = 0;
        let mut lower = 0;
        let mut active = 0;
        let mut inactive = 0;
        let mut persistent = 0;
        let mut af = service.af();
        let mut tun_type = TUNNEL_TYPE_IPIP;
        let mut tun_port = 0;
        let mut tun_flags = 0;
        let mut stats = None;
        let mut stats64 = None;
        for attr in attrs(payload, WHAT) {
            let (kind, v) = attr?;
            match kind {
                DEST_ATTR_ADDR => addr = Some(v),
                DEST_ATTR_PORT => port = get_be16(v, WHAT)?,
                DEST_ATTR_FWD_METHOD => method = Some(get_u32(v, WHAT)? & FWD_MASK),
                DEST_ATTR_WEIGHT => weight = get_u32(v, WHAT)?,
                DEST_ATTR_U_THRESH => upper = get_u32(v, WHAT)?,
                DEST_ATTR_L_THRESH => lower = get_u32(v, WHAT)?,
                DEST_ATTR_ACTIVE_CONNS => active = get_u32(v, WHAT)?,
                DEST_ATTR_INACT_CONNS => inactive = get_u32(v, WHAT)?,
                DEST_ATTR_PERSIST_CONNS => persistent = get_u32(v, WHAT)?,
                DEST_ATTR_ADDR_FAMILY => af = get_u16(v, WHAT)?,
                DEST_ATTR_TUN_TYPE => tun_type = get_u8(v, WHAT)?,
                DEST_ATTR_TUN_PORT => tun_port = get_be16(v, WHAT)?,
                DEST_ATTR_TUN_FLAGS => tun_flags = get_u16(v, WHAT)?,
                DEST_ATTR_STATS => stats = Some(crate::stats::Stats::parse(v)?),
                DEST_ATTR_STATS64 => stats64 = Some(crate::stats::Stats::parse(v)?),
                _ => {}
            }
        }
        let addr = addr.ok_or_else(|| Error::malformed(WHAT, "no address"))?;
        let ip = get_inet_addr(addr, af, WHAT)?;
        let checksum = TunnelChecksum::from_bits(tun_flags);
        let forwarding = match method.ok_or_else(|| Error::malformed(WHAT, "no method"))? {
            FWD_MASQ => Forwarding::Masquerade,
            FWD_DROUTE => Forwarding::DirectRouting,
            FWD_LOCALNODE => Forwarding::Local,
            FWD_BYPASS => Forwarding::Bypass,
            FWD_TUNNEL => Forwarding::Tunnel {
                kind: match tun_type {
                    TUNNEL_TYPE_GUE => TunnelKind::Gue { port: tun_port },
                    TUNNEL_TYPE_GRE => TunnelKind::Gre,
                    _ => TunnelKind::Ipip,
                },
                checksum: if tun_type == TUNNEL_TYPE_IPIP {
                    TunnelChecksum::None
                } else {
                    checksum
                },
            },
            other => return Err(Error::malformed(WHAT, format!("method {other}"))),
        };
        Ok(DestinationInfo {
            destination: Destination {
                addr: SocketAddr::new(ip, port),
                forwarding,
                weight,
                upper_threshold: upper,
                lower_threshold: lower,
            },
            active_connections: active,
            inactive_connections: inactive,
            persistent_connections: persistent,
            stats: stats64.or(stats).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(d: &Destination, family: Family) -> Destination {
        let mut w = AttrWriter::default();
        d.emit(&mut w);
        DestinationInfo::parse(&w.finish(), family)
            .unwrap()
            .destination
    }

    #[test]
    fn every_forwarding_method_survives_emit_and_parse() {
        let addr: SocketAddr = "198.18.1.2:8080".parse().unwrap();
        let methods = [
            Forwarding::Masquerade,
            Forwarding::DirectRouting,
            Forwarding::IPIP,
            Forwarding::Tunnel {
                kind: TunnelKind::Gue { port: 6080 },
                checksum: TunnelChecksum::Remote,
            },
            Forwarding::Tunnel {
                kind: TunnelKind::Gre,
                checksum: TunnelChecksum::Checksum,
            },
        ];
        for m in methods {
            let d = Destination::new(addr, m)
                .with_weight(7)
                .with_thresholds(100, 10);
            assert_eq!(round_trip(&d, Family::Ipv4), d);
        }
        let v6 = Destination::new(
            "[fd00:198:18::2]:80".parse().unwrap(),
            Forwarding::Masquerade,
        );
        assert_eq!(round_trip(&v6, Family::Ipv6), v6);
    }

    #[test]
    fn weights_are_capped_at_the_kernels_int_max() {
        let d = Destination::new("198.18.1.2:80".parse().unwrap(), Forwarding::Masquerade)
            .with_weight(u32::MAX);
        assert_eq!(d.weight, MAX_WEIGHT);
    }
}
