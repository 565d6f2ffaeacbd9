//! Ethernet MAC addresses, among them the VRRP virtual router MACs
//! (RFC 9568 §7.3): one type for the codec, `vrrp-arp` (frames) and
//! `vrrp-netaddr` (links, macvlans), independent of any packet or netlink
//! library's own.

use std::fmt;
use std::str::FromStr;

/// A 48-bit IEEE 802 MAC address.
///
/// Displayed as `02:00:5e:00:01:33`; parsed from six hex octets separated by
/// `:` or `-` (the form RFC 9568 §7.3 and `ip link` use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The broadcast address `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// The all-zero address, used where a field is "unknown" (RFC 5227 §2.3).
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// The IPv4 VRRP virtual MAC `00-00-5E-00-01-{VRID}` (RFC 9568 §7.3).
    ///
    /// VRID 0 is not a valid VRRP router id, but the address is still formed.
    pub const fn vrrp_v4(vrid: u8) -> MacAddr {
        MacAddr([0x00, 0x00, 0x5e, 0x00, 0x01, vrid])
    }

    /// The IPv6 VRRP virtual MAC `00-00-5E-00-02-{VRID}` (RFC 9568 §7.3).
    pub const fn vrrp_v6(vrid: u8) -> MacAddr {
        MacAddr([0x00, 0x00, 0x5e, 0x00, 0x02, vrid])
    }

    /// The Ethernet multicast address an IPv6 multicast group maps to:
    /// `33:33` followed by the group's low 32 bits (RFC 2464 §7).
    pub const fn ipv6_multicast(group: std::net::Ipv6Addr) -> MacAddr {
        let o = group.octets();
        MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }

    /// The six octets.
    pub const fn octets(self) -> [u8; 6] {
        self.0
    }

    /// Whether the group bit (I/G, the low bit of the first octet) is set.
    pub const fn is_multicast(self) -> bool {
        self.0[0] & 1 == 1
    }

    /// Whether this is `ff:ff:ff:ff:ff:ff`.
    pub fn is_broadcast(self) -> bool {
        self == MacAddr::BROADCAST
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(octets: [u8; 6]) -> Self {
        MacAddr(octets)
    }
}

impl From<MacAddr> for [u8; 6] {
    fn from(mac: MacAddr) -> Self {
        mac.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// Why a string is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a MAC address (expected six hex octets like 00:00:5e:00:01:33)")]
pub struct ParseMacError {
    input: String,
}

impl FromStr for MacAddr {
    type Err = ParseMacError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseMacError {
            input: s.to_string(),
        };
        let separator = if s.contains('-') { '-' } else { ':' };
        let mut octets = [0u8; 6];
        let mut parts = s.split(separator);
        for octet in &mut octets {
            let part = parts.next().ok_or_else(err)?;
            if part.is_empty() || part.len() > 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err());
            }
            *octet = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(octets))
    }
}

/// As the text form (`00:00:5e:00:01:33`), with the `serde` feature.
#[cfg(feature = "serde")]
impl serde::Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// From the text form, with the `serde` feature.
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for MacAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<MacAddr, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vrrp_virtual_macs_follow_rfc_9568() {
        assert_eq!(MacAddr::vrrp_v4(51).to_string(), "00:00:5e:00:01:33");
        assert_eq!(MacAddr::vrrp_v6(255).to_string(), "00:00:5e:00:02:ff");
        assert!(!MacAddr::vrrp_v4(1).is_multicast());
    }

    #[test]
    fn parses_colon_and_dash_forms_and_rejects_junk() {
        let mac: MacAddr = "00-00-5E-00-01-33".parse().unwrap();
        assert_eq!(mac, MacAddr::vrrp_v4(0x33));
        assert_eq!("8e:17:83:ff:f9:95".parse::<MacAddr>().unwrap().0[5], 0x95);
        assert_eq!(
            "0:1:2:3:4:5".parse::<MacAddr>().unwrap(),
            MacAddr([0, 1, 2, 3, 4, 5])
        );
        for bad in [
            "",
            "00:00:5e:00:01",
            "00:00:5e:00:01:33:44",
            "00:00:5e:00:01:",
            "000:00:5e:00:01:33",
            "00:00:5e:00:01:3g",
            "00:00-5e:00:01:33",
            "+1:00:5e:00:01:33",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn ipv6_multicast_mapping_uses_low_32_bits() {
        let all_nodes = "ff02::1".parse().unwrap();
        assert_eq!(
            MacAddr::ipv6_multicast(all_nodes),
            MacAddr([0x33, 0x33, 0, 0, 0, 1])
        );
        assert!(MacAddr::ipv6_multicast(all_nodes).is_multicast());
        assert!(MacAddr::BROADCAST.is_broadcast());
    }
}
