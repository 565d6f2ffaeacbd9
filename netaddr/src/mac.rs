//! Ethernet MAC addresses, including the VRRP virtual router MACs.

use std::fmt;
use std::num::NonZeroU8;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::prefix::Family;

/// A 48-bit Ethernet MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

/// A string that is not `xx:xx:xx:xx:xx:xx`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a MAC address (expected xx:xx:xx:xx:xx:xx)")]
pub struct MacParseError(pub String);

impl MacAddr {
    /// The VRRP virtual router MAC for a VRID: `00-00-5E-00-01-{VRID}` for
    /// IPv4 and `00-00-5E-00-02-{VRID}` for IPv6 (RFC 9568 §7.3, RFC 3768 §7.3).
    pub fn vrrp(family: Family, vrid: NonZeroU8) -> MacAddr {
        let kind = match family {
            Family::Ipv4 => 0x01,
            Family::Ipv6 => 0x02,
        };
        MacAddr([0x00, 0x00, 0x5e, 0x00, kind, vrid.get()])
    }

    /// The octets.
    pub fn octets(&self) -> [u8; 6] {
        self.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

impl FromStr for MacAddr {
    type Err = MacParseError;
    fn from_str(s: &str) -> Result<MacAddr, MacParseError> {
        let err = || MacParseError(s.to_string());
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut out {
            let part = parts.next().ok_or_else(err)?;
            if part.len() != 2 {
                return Err(err());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(out))
    }
}

impl Serialize for MacAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MacAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MacAddr, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vrrp_virtual_macs() {
        let vrid = NonZeroU8::new(51).unwrap();
        assert_eq!(
            MacAddr::vrrp(Family::Ipv4, vrid).to_string(),
            "00:00:5e:00:01:33"
        );
        assert_eq!(
            MacAddr::vrrp(Family::Ipv6, vrid).to_string(),
            "00:00:5e:00:02:33"
        );
        let max = NonZeroU8::new(255).unwrap();
        assert_eq!(
            MacAddr::vrrp(Family::Ipv4, max).octets(),
            [0, 0, 0x5e, 0, 1, 0xff]
        );
    }

    #[test]
    fn parse_and_print() {
        let m: MacAddr = "00:00:5E:00:01:0a".parse().unwrap();
        assert_eq!(m.0, [0, 0, 0x5e, 0, 1, 10]);
        assert_eq!(m.to_string(), "00:00:5e:00:01:0a");
        assert_eq!("00-00-5e-00-01-0a".parse::<MacAddr>().unwrap(), m);
        for bad in [
            "",
            "00:00:5e:00:01",
            "00:00:5e:00:01:0a:0b",
            "0:00:5e:00:01:0a",
            "zz:00:5e:00:01:0a",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }
}
