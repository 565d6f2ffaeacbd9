//! The VRRP protocol version.

use core::fmt;

/// The protocol version in the high nibble of an advertisement's first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// VRRPv2, RFC 3768: IPv4 only, intervals in whole seconds, optional
    /// simple-text authentication.
    V2,
    /// VRRPv3, RFC 9568: IPv4 and IPv6, intervals in centiseconds, no
    /// authentication.
    V3,
}

impl Version {
    /// The version number on the wire, 2 or 3.
    pub const fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }

    /// The version with number `n`, or `None` if it is neither 2 nor 3.
    pub const fn from_number(n: u8) -> Option<Self> {
        match n {
            2 => Some(Version::V2),
            3 => Some(Version::V3),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VRRPv{}", self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for v in [Version::V2, Version::V3] {
            assert_eq!(Version::from_number(v.number()), Some(v));
        }
        for n in (0..=255u8).filter(|n| !matches!(n, 2 | 3)) {
            assert_eq!(Version::from_number(n), None);
        }
        assert_eq!(Version::V3.to_string(), "VRRPv3");
    }
}
