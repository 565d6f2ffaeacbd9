//! The numbers of VRRP over IP (RFC 9568 §5.1): its protocol number, the
//! TTL it travels with and its multicast groups.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The IP protocol number of VRRP, for IPv4 and IPv6 alike.
pub const PROTOCOL: u8 = 112;

/// The TTL (IPv4) or hop limit (IPv6) every advertisement is sent with and
/// must arrive with, proving it was not forwarded (RFC 9568 §5.1.1.3, §7.1).
pub const TTL: u8 = 255;

/// The IPv4 multicast group of VRRP, 224.0.0.18 (RFC 9568 §5.1.1.2).
pub const MULTICAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// The IPv6 multicast group of VRRP, ff02::12 (RFC 9568 §5.1.2.2).
pub const MULTICAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
