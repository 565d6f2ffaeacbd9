//! VRRP raw sockets: IP protocol 112 over IPv4 or IPv6 ([`VrrpSocket`]),
//! and adverts framed whole for sending from a virtual MAC ([`frame`]).
//!
//! # Model: one socket per address family and interface
//!
//! Each socket is bound to one interface (`SO_BINDTODEVICE`), sends through
//! it and only ever receives what arrived on it. Instances that share an
//! interface and a family share its socket; the driver routes a received
//! advertisement to its instance by VRID. This is keepalived's model too,
//! and it keeps three things simple:
//!
//! - **Isolation**: a packet from another link can never reach an instance,
//!   even in unicast mode where no multicast membership filters it.
//!   `IP_MULTICAST_ALL`/`IPV6_MULTICAST_ALL` are off as well, so a socket
//!   only sees the groups it joined itself, not those of other programs.
//! - **IPv6 scoping**: sources are link-local, so every send names its
//!   interface anyway.
//! - **Lifetime**: when an interface is deleted (and perhaps recreated with
//!   a new index), the driver closes its socket and opens a new one.
//!
//! # Receiving
//!
//! The sockets are non-blocking; register them in a tokio `AsyncFd` (or an
//! epoll set, as the daemon does) and call `recv` when readable. Each
//! datagram comes with a
//! [`RecvMeta`]: source, destination, arrival interface and TTL or hop
//! limit, all from the kernel (`recvmsg` address and control messages:
//! `IP_PKTINFO` + `IP_TTL`, `IPV6_PKTINFO` + `IPV6_HOPLIMIT`), so the
//! state machine can discard what did not arrive with TTL 255
//! (RFC 9568 §7.1), and the kernel's receive time (`SO_TIMESTAMPNS`), so
//! that Master_Down_Timer runs from the advert's arrival, not from when
//! a busy or stalled loop got round to reading it.
//! [`RecvMeta::received`] hands the bytes to the codec.
//!
//! An IPv4 raw socket returns the whole packet, IP header included; an IPv6
//! raw socket returns the VRRP message only.
//!
//! # Sending
//!
//! The caller gives the source address explicitly (the interface's primary
//! IPv4 address, or its IPv6 link-local address, RFC 9568 §5.1.1.1 and
//! §5.1.2.1) and the destination: the group ([`MULTICAST_V4`],
//! [`MULTICAST_V6`]) or, in unicast mode, each peer in turn. Multicast TTL
//! and unicast TTL (hop limits) are 255, multicast loopback is off, and the
//! traffic class is CS6 (`0xc0`, network control) as keepalived sends it.
//! The kernel builds the IP header (no `IP_HDRINCL`) and never touches the
//! VRRP checksum (an IPv6 raw socket has no `IPV6_CHECKSUM` offset): the codec
//! computes it, with or without pseudo-header as configured.
//!
//! [`MULTICAST_V4`]: vrrp_core::wire::MULTICAST_V4
//! [`MULTICAST_V6`]: vrrp_core::wire::MULTICAST_V6

pub mod frame;
mod socket;

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use vrrp_core::wire::{Received, WireError};

pub use socket::VrrpSocket;

/// A receive buffer size that never truncates: the largest IP datagram.
/// (A VRRP advertisement is at most 60 + 8 + 255 × 16 bytes.)
pub const RECV_BUFFER_LEN: usize = 65_535;

/// The traffic class (IPv4 TOS, IPv6 Traffic Class) of advertisements:
/// DSCP CS6, "network control", as keepalived and routers send them.
pub const TRAFFIC_CLASS: u8 = 0xc0;

/// The send and receive buffer asked for each VRRP socket, in bytes (the
/// kernel doubles it for its bookkeeping). An Active router sends the
/// adverts of every instance on a link at the same deadline, so a Backup
/// receives them as one burst: 250 instances on one link are 250 packets
/// of about 900 bytes of kernel memory each, more than the default
/// 208 KiB, and the overflow would be silently dropped and read as a
/// dead Active.
pub const SOCKET_BUFFER: usize = 4 << 20;

/// What the kernel says about one received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecvMeta {
    /// Bytes written to the buffer: for IPv4 the whole packet including its
    /// IP header, for IPv6 the VRRP message.
    pub len: usize,
    /// The IP source address.
    pub src: IpAddr,
    /// The IP destination address (the group, or our address in unicast
    /// mode).
    pub dst: IpAddr,
    /// The index of the interface the packet arrived on.
    pub ifindex: u32,
    /// The IPv4 TTL or the IPv6 hop limit the packet arrived with: 255
    /// unless a router forwarded it.
    pub ttl: u8,
    /// When the kernel received the packet (`SO_TIMESTAMPNS`), on the
    /// realtime clock; `None` if it came without a usable stamp. See
    /// [`arrival_instant`] to place it on the monotonic clock.
    pub arrival: Option<SystemTime>,
}

/// Places a kernel receive stamp (`arrival`, realtime clock) on the
/// monotonic clock, given the two clocks read together now, and `floor`:
/// a time at which the socket was seen empty, so the datagram arrived
/// after it. The result lies in `floor..=now`: a realtime step (NTP,
/// an operator) can make the stamp lie, and then it counts as arriving at
/// the nearest of the two bounds. Without a stamp it is `now`.
pub fn arrival_instant(
    arrival: Option<SystemTime>,
    now: Instant,
    wall_now: SystemTime,
    floor: Instant,
) -> Instant {
    let Some(arrival) = arrival else {
        return now;
    };
    // A stamp ahead of the wall clock is at most "now".
    let age = wall_now.duration_since(arrival).unwrap_or(Duration::ZERO);
    let at = now.checked_sub(age).unwrap_or(floor);
    at.max(floor.min(now))
}

impl RecvMeta {
    /// Splits `&buf[..self.len]` for the codec, by the family of the
    /// addresses: an IPv4 packet's header (with options, by its IHL) is
    /// checked and skipped; an IPv6 payload comes with the addresses and
    /// hop limit the kernel reported.
    pub fn received<'a>(&self, buf: &'a [u8]) -> Result<Received<'a>, WireError> {
        let payload = buf.get(..self.len).unwrap_or(buf);
        match (self.src, self.dst) {
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                Ok(Received::from_ipv6_payload(src, dst, self.ttl, payload))
            }
            _ => Received::from_ipv4_packet(payload),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_becomes_its_age_before_now_within_floor_and_now() {
        let floor = Instant::now();
        let now = floor + Duration::from_millis(500);
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        let ms = Duration::from_millis;
        // 120 ms old: 120 ms before now.
        assert_eq!(
            arrival_instant(Some(wall - ms(120)), now, wall, floor),
            now - ms(120)
        );
        // No stamp: now.
        assert_eq!(arrival_instant(None, now, wall, floor), now);
        // The wall clock stepped back: the stamp is in its future; now.
        assert_eq!(
            arrival_instant(Some(wall + ms(5_000)), now, wall, floor),
            now
        );
        // The wall clock stepped forward: older than the socket was quiet;
        // the floor.
        assert_eq!(
            arrival_instant(Some(wall - ms(3_600_000)), now, wall, floor),
            floor
        );
        // Older than the monotonic clock itself: the floor, no panic.
        assert_eq!(
            arrival_instant(Some(SystemTime::UNIX_EPOCH), now, wall, floor),
            floor
        );
        // A floor after now (cannot happen, but must not invert): now.
        assert_eq!(
            arrival_instant(Some(wall - ms(1)), now, wall, now + ms(9)),
            now
        );
    }
}
