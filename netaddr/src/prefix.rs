//! An interface address with its prefix length, as `ip addr` writes it
//! (`198.18.0.5/24`, `fd00:198:18::5/64`), and the address family.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Ipv4,
    /// IPv6 (`AF_INET6`).
    Ipv6,
}

impl Family {
    /// The family of an address.
    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    /// The longest prefix: 32 or 128.
    pub fn max_prefix_len(self) -> u8 {
        match self {
            Family::Ipv4 => 32,
            Family::Ipv6 => 128,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Ipv4 => "inet",
            Family::Ipv6 => "inet6",
        })
    }
}

/// An address assigned to an interface together with its prefix length.
/// Host bits may be set: `198.18.0.5/24` is the address 198.18.0.5 on the
/// 198.18.0.0/24 subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpPrefix {
    addr: IpAddr,
    prefix_len: u8,
}

/// Why an `address/len` string or pair was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrefixError {
    /// The address part is not an IPv4 or IPv6 address.
    #[error("{0:?} is not an IPv4 or IPv6 address")]
    BadAddress(String),
    /// The part after `/` is not a number.
    #[error("{0:?} is not a prefix length")]
    BadLength(String),
    /// The prefix length is longer than the address.
    #[error("prefix length {len} is longer than {max} for {addr}")]
    TooLong {
        /// The address.
        addr: IpAddr,
        /// The length given.
        len: u8,
        /// 32 or 128.
        max: u8,
    },
}

impl IpPrefix {
    /// Pairs an address with a prefix length (at most 32 for IPv4, 128 for IPv6).
    pub fn new(addr: IpAddr, prefix_len: u8) -> Result<IpPrefix, PrefixError> {
        let max = Family::of(addr).max_prefix_len();
        if prefix_len > max {
            return Err(PrefixError::TooLong {
                addr,
                len: prefix_len,
                max,
            });
        }
        Ok(IpPrefix { addr, prefix_len })
    }

    /// A host prefix: /32 for IPv4, /128 for IPv6.
    pub fn host(addr: IpAddr) -> IpPrefix {
        IpPrefix {
            addr,
            prefix_len: Family::of(addr).max_prefix_len(),
        }
    }

    /// The address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// IPv4 or IPv6.
    pub fn family(&self) -> Family {
        Family::of(self.addr)
    }

    /// The directed broadcast address of an IPv4 subnet (what `ip addr add
    /// ... brd +` sets); `None` for IPv6 and for /31 and /32, which have none
    /// (RFC 3021).
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        match self.addr {
            IpAddr::V4(v4) if self.prefix_len <= 30 => {
                let host_mask = u32::MAX
                    .checked_shr(u32::from(self.prefix_len))
                    .unwrap_or(0);
                Some(Ipv4Addr::from(u32::from(v4) | host_mask))
            }
            _ => None,
        }
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for IpPrefix {
    type Err = PrefixError;

    /// Parses `addr/len`, or a bare address as a host prefix (like `ip addr
    /// add 198.18.0.5 dev X`, which means /32).
    fn from_str(s: &str) -> Result<IpPrefix, PrefixError> {
        let (addr_part, len_part) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = addr_part
            .parse()
            .map_err(|_| PrefixError::BadAddress(addr_part.to_string()))?;
        match len_part {
            None => Ok(IpPrefix::host(addr)),
            Some(l) => {
                let len: u8 = l
                    .parse()
                    .map_err(|_| PrefixError::BadLength(l.to_string()))?;
                IpPrefix::new(addr, len)
            }
        }
    }
}

impl Serialize for IpPrefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpPrefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<IpPrefix, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_like_ip() {
        let p: IpPrefix = "198.18.0.5/24".parse().unwrap();
        assert_eq!(p.addr(), "198.18.0.5".parse::<IpAddr>().unwrap());
        assert_eq!(p.prefix_len(), 24);
        assert_eq!(p.to_string(), "198.18.0.5/24");
        let p6: IpPrefix = "fd00:198:18::5/64".parse().unwrap();
        assert_eq!(p6.family(), Family::Ipv6);
        assert_eq!(p6.to_string(), "fd00:198:18::5/64");
    }

    #[test]
    fn bare_address_is_a_host_prefix() {
        assert_eq!("198.18.0.5".parse::<IpPrefix>().unwrap().prefix_len(), 32);
        assert_eq!(
            "fd00:198:18::5".parse::<IpPrefix>().unwrap().prefix_len(),
            128
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            "198.18.0.5/33".parse::<IpPrefix>(),
            Err(PrefixError::TooLong {
                len: 33,
                max: 32,
                ..
            })
        ));
        assert!(matches!(
            "fd00::1/129".parse::<IpPrefix>(),
            Err(PrefixError::TooLong {
                len: 129,
                max: 128,
                ..
            })
        ));
        assert!(matches!(
            "198.18.0/24".parse::<IpPrefix>(),
            Err(PrefixError::BadAddress(_))
        ));
        assert!(matches!(
            "198.18.0.5/x".parse::<IpPrefix>(),
            Err(PrefixError::BadLength(_))
        ));
        assert!(matches!(
            "198.18.0.5/-1".parse::<IpPrefix>(),
            Err(PrefixError::BadLength(_))
        ));
    }

    #[test]
    fn broadcast_of_subnets() {
        let b = |s: &str| s.parse::<IpPrefix>().unwrap().broadcast();
        assert_eq!(b("198.18.0.5/24"), Some(Ipv4Addr::new(198, 18, 0, 255)));
        assert_eq!(b("198.18.0.5/15"), Some(Ipv4Addr::new(198, 19, 255, 255)));
        assert_eq!(b("198.18.0.5/0"), Some(Ipv4Addr::BROADCAST));
        assert_eq!(b("198.18.0.5/31"), None);
        assert_eq!(b("198.18.0.5/32"), None);
        assert_eq!(b("fd00:198:18::5/64"), None);
    }

    #[test]
    fn serde_round_trip_as_string() {
        let p: IpPrefix = "198.18.0.5/24".parse().unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, "\"198.18.0.5/24\"");
        assert_eq!(serde_json::from_str::<IpPrefix>(&json).unwrap(), p);
        assert!(serde_json::from_str::<IpPrefix>("\"198.18.0.5/40\"").is_err());
    }
}
