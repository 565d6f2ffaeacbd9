//! VRRP raw sockets: IP protocol 112 over IPv4 ([`VrrpSocketV4`]) and IPv6
//! ([`VrrpSocketV6`]), or either behind [`VrrpSocket`].
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
//! The sockets are non-blocking; register them in a tokio `AsyncFd`
//! (`into_async`, which vouches for `AsyncFd::register`'s contract) and
//! call `recv` inside `try_io`. Each datagram comes with a
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
//! VRRP checksum (`IPV6_CHECKSUM` is explicitly disabled): the codec
//! computes it, with or without pseudo-header as configured.
//!
//! [`MULTICAST_V4`]: vrrp_core::wire::MULTICAST_V4
//! [`MULTICAST_V6`]: vrrp_core::wire::MULTICAST_V6

pub mod cmsg;
pub mod frame;
mod sys;
mod v4;
mod v6;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::unix::AsyncFd;
use vrrp_core::wire::{Received, WireError};

pub use v4::VrrpSocketV4;
pub use v6::VrrpSocketV6;

/// A receive buffer size that never truncates: the largest IP datagram.
/// (A VRRP advertisement is at most 60 + 8 + 255 × 16 bytes.)
pub const RECV_BUFFER_LEN: usize = 65_535;

/// The traffic class (IPv4 TOS, IPv6 Traffic Class) of advertisements:
/// DSCP CS6, "network control", as keepalived and routers send them.
pub const TRAFFIC_CLASS: u8 = 0xc0;

/// What the kernel says about one received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecvMeta<A> {
    /// Bytes written to the buffer: for IPv4 the whole packet including its
    /// IP header, for IPv6 the VRRP message.
    pub len: usize,
    /// The IP source address.
    pub src: A,
    /// The IP destination address (the group, or our address in unicast
    /// mode).
    pub dst: A,
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

impl RecvMeta<Ipv4Addr> {
    /// Splits the received IPv4 packet `&buf[..self.len]` for the codec; the
    /// IPv4 header (with options, by its IHL) is checked and skipped.
    pub fn received<'a>(&self, buf: &'a [u8]) -> Result<Received<'a>, WireError> {
        Received::from_ipv4_packet(buf.get(..self.len).unwrap_or(buf))
    }
}

impl RecvMeta<Ipv6Addr> {
    /// The received VRRP message `&buf[..self.len]` with its addresses and
    /// hop limit, for the codec.
    pub fn received<'a>(&self, buf: &'a [u8]) -> Received<'a> {
        Received::from_ipv6_payload(
            self.src,
            self.dst,
            self.ttl,
            buf.get(..self.len).unwrap_or(buf),
        )
    }
}

impl RecvMeta<IpAddr> {
    /// Splits `&buf[..self.len]` for the codec, by the family of the
    /// addresses (see the family-specific `received`).
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

impl<A: Into<IpAddr>> RecvMeta<A> {
    /// The same metadata with family-neutral addresses.
    pub fn into_ip(self) -> RecvMeta<IpAddr> {
        RecvMeta {
            len: self.len,
            src: self.src.into(),
            dst: self.dst.into(),
            ifindex: self.ifindex,
            ttl: self.ttl,
            arrival: self.arrival,
        }
    }
}

/// A VRRP socket of either family, for drivers that keep one table of
/// sockets keyed by (family, interface).
#[derive(Debug)]
pub enum VrrpSocket {
    /// IPv4.
    V4(VrrpSocketV4),
    /// IPv6.
    V6(VrrpSocketV6),
}

impl VrrpSocket {
    /// Receives one datagram (see [`VrrpSocketV4::recv`] and
    /// [`VrrpSocketV6::recv`]).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta<IpAddr>> {
        match self {
            VrrpSocket::V4(s) => s.recv(buf).map(RecvMeta::into_ip),
            VrrpSocket::V6(s) => s.recv(buf).map(RecvMeta::into_ip),
        }
    }

    /// Sends `payload` from `src` to `dst`; both must be of the socket's
    /// family, or this fails with `InvalidInput`.
    pub fn send_to(&self, payload: &[u8], dst: IpAddr, src: IpAddr) -> io::Result<()> {
        match (self, dst, src) {
            (VrrpSocket::V4(s), IpAddr::V4(dst), IpAddr::V4(src)) => s.send_to(payload, dst, src),
            (VrrpSocket::V6(s), IpAddr::V6(dst), IpAddr::V6(src)) => s.send_to(payload, dst, src),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot send from {src} to {dst} on a socket of the other family"),
            )),
        }
    }

    /// Joins the VRRP multicast group on the socket's interface.
    pub fn join_group(&self) -> io::Result<()> {
        match self {
            VrrpSocket::V4(s) => s.join_group(),
            VrrpSocket::V6(s) => s.join_group(),
        }
    }

    /// Leaves the VRRP multicast group.
    pub fn leave_group(&self) -> io::Result<()> {
        match self {
            VrrpSocket::V4(s) => s.leave_group(),
            VrrpSocket::V6(s) => s.leave_group(),
        }
    }

    /// The interface index the socket is bound to.
    pub fn ifindex(&self) -> u32 {
        match self {
            VrrpSocket::V4(s) => s.ifindex(),
            VrrpSocket::V6(s) => s.ifindex(),
        }
    }

    /// The interface name the socket is bound to.
    pub fn interface(&self) -> &str {
        match self {
            VrrpSocket::V4(s) => s.interface(),
            VrrpSocket::V6(s) => s.interface(),
        }
    }

    /// Registers the socket with the current tokio runtime's reactor, for
    /// `readable().await` + `try_io(|s| s.get_ref().recv(buf))`. Panics
    /// outside a runtime with I/O enabled, as `AsyncFd` does.
    pub fn into_async(self) -> io::Result<AsyncFd<Self>> {
        // SAFETY: both variants own their descriptor (a `socket2::Socket`)
        // for their whole life and never replace it, so `as_raw_fd` always
        // returns the same open descriptor; the `AsyncFd` takes ownership of
        // the socket, so it outlives the registration.
        unsafe { AsyncFd::register(self) }.map_err(io::Error::from)
    }
}

impl AsFd for VrrpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            VrrpSocket::V4(s) => s.as_fd(),
            VrrpSocket::V6(s) => s.as_fd(),
        }
    }
}

impl AsRawFd for VrrpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl From<VrrpSocketV4> for VrrpSocket {
    fn from(s: VrrpSocketV4) -> Self {
        VrrpSocket::V4(s)
    }
}

impl From<VrrpSocketV6> for VrrpSocket {
    fn from(s: VrrpSocketV6) -> Self {
        VrrpSocket::V6(s)
    }
}

/// Adds the socket option or step that failed to an I/O error, keeping its
/// kind: "IP_ADD_MEMBERSHIP 224.0.0.18 on eth0: No such device (os error 19)".
fn context(what: impl std::fmt::Display) -> impl FnOnce(io::Error) -> io::Error {
    move |e| io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Checks what `recvmsg` reported before its data is trusted.
fn check_flags(flags: libc::c_int, buf_len: usize, interface: &str) -> io::Result<()> {
    if flags & libc::MSG_TRUNC != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("datagram on {interface} longer than the {buf_len}-byte buffer: dropped"),
        ));
    }
    if flags & libc::MSG_CTRUNC != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("control data of a datagram on {interface} truncated: dropped"),
        ));
    }
    Ok(())
}

/// The error for a datagram that came without a control message we asked for.
fn missing(what: &str, interface: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("datagram on {interface} arrived without {what}: dropped"),
    )
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
