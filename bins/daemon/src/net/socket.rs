//! [`VrrpSocket`]: a raw socket for IP protocol 112 on one interface, of
//! either address family. Set up with socket2; `recvmsg`/`sendmsg` and
//! the options socket2 lacks go through nix, so no unsafe code is needed.

use std::cell::RefCell;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn, SockaddrIn6, SockaddrStorage,
    recvmsg, sendmsg, setsockopt, sockopt,
};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use vrrp_core::wire::{AddressFamily, MULTICAST_V4, MULTICAST_V6, PROTOCOL, TTL};

use super::{RecvMeta, SOCKET_BUFFER, TRAFFIC_CLASS};

/// A raw VRRP socket (`socket(AF_INET or AF_INET6, SOCK_RAW, 112)`) bound
/// to one interface: see the [module documentation](super) for the model.
///
/// Options set by [`open`](Self::open): `SO_BINDTODEVICE`, the receive
/// metadata (`IP_PKTINFO` + `IP_RECVTTL`, or `IPV6_RECVPKTINFO` +
/// `IPV6_RECVHOPLIMIT`), `SO_TIMESTAMPNS`, TTL or hop limit 255 for
/// unicast and multicast, multicast loopback off, `IP(V6)_MULTICAST_ALL`
/// off, the traffic class CS6, 4 MiB `SO_RCVBUF`/`SO_SNDBUF`,
/// non-blocking, close-on-exec.
///
/// The kernel writes the IP header (no `IP_HDRINCL`) and leaves the VRRP
/// checksum alone: an IPv6 raw socket of protocol 112 has no
/// `IPV6_CHECKSUM` offset unless one is set, and none is.
///
/// Multicast leaves through the bound interface: `SO_BINDTODEVICE` and the
/// interface index of each send's `IP(V6)_PKTINFO` both name it.
#[derive(Debug)]
pub struct VrrpSocket {
    socket: Socket,
    family: AddressFamily,
    interface: String,
    ifindex: u32,
    /// The control buffer of `recvmsg`, kept between calls (a `Vec`, so
    /// that it has the alignment `cmsghdr` needs).
    control: RefCell<Vec<u8>>,
    /// The TTL (IPv6: hop limit) unicast sends have now.
    unicast_ttl: std::cell::Cell<u8>,
}

impl VrrpSocket {
    /// Opens the socket of `family` on `interface` (in the calling
    /// thread's network namespace). Needs `CAP_NET_RAW`; the multicast
    /// group is not joined yet (see [`join_group`](Self::join_group)).
    pub fn open(family: AddressFamily, interface: &str) -> io::Result<Self> {
        let ifindex = interface_index(interface)?;
        let domain = match family {
            AddressFamily::Ipv4 => Domain::IPV4,
            AddressFamily::Ipv6 => Domain::IPV6,
        };
        let socket = Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(PROTOCOL))))
            .map_err(context(format_args!(
                "raw {family} socket for VRRP on {interface}"
            )))?;
        let on = |what: &str| context(format!("{what} on {interface}"));
        socket
            .bind_device(Some(interface.as_bytes()))
            .map_err(on("SO_BINDTODEVICE"))?;
        setsockopt(&socket, sockopt::ReceiveTimestampns, &true)
            .map_err(io::Error::from)
            .map_err(on("SO_TIMESTAMPNS"))?;
        match family {
            AddressFamily::Ipv4 => {
                setsockopt(&socket, sockopt::Ipv4PacketInfo, &true)
                    .map_err(io::Error::from)
                    .map_err(on("IP_PKTINFO"))?;
                setsockopt(&socket, sockopt::Ipv4RecvTtl, &true)
                    .map_err(io::Error::from)
                    .map_err(on("IP_RECVTTL"))?;
                socket
                    .set_multicast_ttl_v4(u32::from(TTL))
                    .map_err(on("IP_MULTICAST_TTL"))?;
                socket.set_ttl_v4(u32::from(TTL)).map_err(on("IP_TTL"))?;
                socket
                    .set_multicast_loop_v4(false)
                    .map_err(on("IP_MULTICAST_LOOP"))?;
                socket
                    .set_multicast_all_v4(false)
                    .map_err(on("IP_MULTICAST_ALL"))?;
                socket
                    .set_tos_v4(u32::from(TRAFFIC_CLASS))
                    .map_err(on("IP_TOS"))?;
            }
            AddressFamily::Ipv6 => {
                setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true)
                    .map_err(io::Error::from)
                    .map_err(on("IPV6_RECVPKTINFO"))?;
                socket
                    .set_recv_hoplimit_v6(true)
                    .map_err(on("IPV6_RECVHOPLIMIT"))?;
                socket
                    .set_multicast_hops_v6(u32::from(TTL))
                    .map_err(on("IPV6_MULTICAST_HOPS"))?;
                socket
                    .set_unicast_hops_v6(u32::from(TTL))
                    .map_err(on("IPV6_UNICAST_HOPS"))?;
                socket
                    .set_multicast_loop_v6(false)
                    .map_err(on("IPV6_MULTICAST_LOOP"))?;
                socket
                    .set_multicast_all_v6(false)
                    .map_err(on("IPV6_MULTICAST_ALL"))?;
                socket
                    .set_multicast_if_v6(ifindex)
                    .map_err(on("IPV6_MULTICAST_IF"))?;
                socket
                    .set_tclass_v6(u32::from(TRAFFIC_CLASS))
                    .map_err(on("IPV6_TCLASS"))?;
            }
        }
        set_buffers(&socket).map_err(on("SO_RCVBUF/SO_SNDBUF"))?;
        socket.set_nonblocking(true).map_err(on("O_NONBLOCK"))?;
        Ok(VrrpSocket {
            socket,
            family,
            interface: interface.to_owned(),
            ifindex,
            control: RefCell::new(nix::cmsg_space!(
                libc::in6_pktinfo,
                libc::c_int,
                libc::timespec
            )),
            unicast_ttl: std::cell::Cell::new(TTL),
        })
    }

    /// Joins the VRRP group (224.0.0.18 with an `ip_mreqn` naming the
    /// interface by index, or ff02::12) on the interface. Not used in
    /// unicast mode.
    pub fn join_group(&self) -> io::Result<()> {
        self.join(match self.family {
            AddressFamily::Ipv4 => IpAddr::V4(MULTICAST_V4),
            AddressFamily::Ipv6 => IpAddr::V6(MULTICAST_V6),
        })
    }

    /// Joins multicast `group` (of the socket's family) on the interface:
    /// keepalived's `mcast_dst_ip` / `vrrp_mcast_group4` / `vrrp_mcast_group6`.
    pub fn join(&self, group: IpAddr) -> io::Result<()> {
        let result = match group {
            IpAddr::V4(g) if self.family == AddressFamily::Ipv4 => self
                .socket
                .join_multicast_v4_n(&g, &InterfaceIndexOrAddress::Index(self.ifindex)),
            IpAddr::V6(g) if self.family == AddressFamily::Ipv6 => {
                self.socket.join_multicast_v6(&g, self.ifindex)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("group {group} is not of the socket's family"),
            )),
        };
        result.map_err(context(format_args!(
            "joining the group {group} on {}",
            self.interface
        )))
    }

    /// Gives unicast sends TTL (IPv6: hop limit) `ttl` (keepalived's
    /// `unicast_ttl`; 255 by default). Multicast sends keep 255.
    pub fn set_unicast_ttl(&self, ttl: u8) -> io::Result<()> {
        if self.unicast_ttl.get() == ttl {
            return Ok(());
        }
        match self.family {
            AddressFamily::Ipv4 => self.socket.set_ttl_v4(u32::from(ttl)),
            AddressFamily::Ipv6 => self.socket.set_unicast_hops_v6(u32::from(ttl)),
        }
        .map_err(context(format_args!(
            "setting the unicast TTL on {}",
            self.interface
        )))?;
        self.unicast_ttl.set(ttl);
        Ok(())
    }

    /// Leaves the VRRP group on the interface.
    pub fn leave_group(&self) -> io::Result<()> {
        let result = match self.family {
            AddressFamily::Ipv4 => self
                .socket
                .leave_multicast_v4_n(&MULTICAST_V4, &InterfaceIndexOrAddress::Index(self.ifindex)),
            AddressFamily::Ipv6 => self.socket.leave_multicast_v6(&MULTICAST_V6, self.ifindex),
        };
        result.map_err(context(format_args!(
            "leaving the VRRP group on {}",
            self.interface
        )))
    }

    /// Receives one datagram into `buf`: for IPv4 the whole packet, header
    /// included; for IPv6 the VRRP message. Returns `WouldBlock` when none
    /// is queued.
    ///
    /// A datagram longer than `buf` (see [`RECV_BUFFER_LEN`]), or one
    /// without its packet info and TTL or hop limit, is consumed and
    /// reported as an `InvalidData` error: the caller logs it and reads on.
    ///
    /// [`RECV_BUFFER_LEN`]: super::RECV_BUFFER_LEN
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta> {
        let buf_len = buf.len();
        let result = self.recv_into(buf, &mut self.control.borrow_mut());
        let (len, src, info, ttl, arrival, flags) = result?;
        if flags.contains(MsgFlags::MSG_TRUNC) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "datagram on {} longer than the {buf_len}-byte buffer: dropped",
                    self.interface
                ),
            ));
        }
        if flags.contains(MsgFlags::MSG_CTRUNC) {
            return Err(invalid(format!(
                "control data of a datagram on {} truncated: dropped",
                self.interface
            )));
        }
        let (dst, ifindex) = info.ok_or_else(|| {
            invalid(format!(
                "datagram on {} arrived without its packet info: dropped",
                self.interface
            ))
        })?;
        let ttl = ttl.ok_or_else(|| {
            invalid(format!(
                "datagram on {} arrived without its TTL or hop limit: dropped",
                self.interface
            ))
        })?;
        let src = src.ok_or_else(|| {
            invalid(format!(
                "datagram on {} arrived without a source address: dropped",
                self.interface
            ))
        })?;
        Ok(RecvMeta {
            len,
            src,
            dst,
            ifindex,
            ttl,
            arrival,
        })
    }

    /// One `recvmsg`, and what its address and control messages say.
    #[allow(clippy::type_complexity)]
    fn recv_into(
        &self,
        buf: &mut [u8],
        control: &mut [u8],
    ) -> io::Result<(
        usize,
        Option<IpAddr>,
        Option<(IpAddr, u32)>,
        Option<u8>,
        Option<SystemTime>,
        MsgFlags,
    )> {
        let mut iov = [IoSliceMut::new(buf)];
        let msg = recvmsg::<SockaddrStorage>(
            self.socket.as_raw_fd(),
            &mut iov,
            Some(control),
            MsgFlags::empty(),
        )?;
        let src = msg.address.as_ref().and_then(|a| {
            a.as_sockaddr_in()
                .map(|s| IpAddr::V4(s.ip()))
                .or_else(|| a.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip())))
        });
        let (mut info, mut ttl, mut arrival) = (None, None, None);
        for cmsg in msg.cmsgs()? {
            match cmsg {
                ControlMessageOwned::Ipv4PacketInfo(p) => {
                    let dst = Ipv4Addr::from(u32::from_be(p.ipi_addr.s_addr));
                    info = Some((IpAddr::V4(dst), u32::try_from(p.ipi_ifindex).unwrap_or(0)));
                }
                ControlMessageOwned::Ipv6PacketInfo(p) => {
                    let dst = Ipv6Addr::from(p.ipi6_addr.s6_addr);
                    info = Some((IpAddr::V6(dst), p.ipi6_ifindex));
                }
                ControlMessageOwned::Ipv4Ttl(t) | ControlMessageOwned::Ipv6HopLimit(t) => {
                    ttl = u8::try_from(t).ok();
                }
                ControlMessageOwned::ScmTimestampns(ts) => {
                    arrival = u64::try_from(ts.tv_sec()).ok().and_then(|secs| {
                        let nanos = u32::try_from(ts.tv_nsec()).ok()?;
                        UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
                    });
                }
                _ => {}
            }
        }
        Ok((msg.bytes, src, info, ttl, arrival, msg.flags))
    }

    /// Sends the VRRP message `payload` to `dst` (the group, or a unicast
    /// peer) from `src`, out of the socket's interface, with TTL or hop
    /// limit 255. Both must be of the socket's family, or this fails with
    /// `InvalidInput`.
    ///
    /// The source and the interface are set per packet with an
    /// `IP_PKTINFO` (`ipi_spec_dst`) or `IPV6_PKTINFO` control message, so
    /// the interface's primary address is used even when a virtual address
    /// is on the same interface. `src` must be an address of this host;
    /// for IPv6 it should be the interface's link-local address (RFC 9568
    /// §5.1.2.1), and the kernel refuses one that is tentative.
    pub fn send_to(&self, payload: &[u8], dst: IpAddr, src: IpAddr) -> io::Result<()> {
        let iov = [IoSlice::new(payload)];
        let fd = self.socket.as_raw_fd();
        let sent = match (self.family, dst, src) {
            (AddressFamily::Ipv4, IpAddr::V4(d), IpAddr::V4(s)) => {
                let info = libc::in_pktinfo {
                    ipi_ifindex: libc::c_int::try_from(self.ifindex).unwrap_or(0),
                    ipi_spec_dst: libc::in_addr {
                        s_addr: u32::from(s).to_be(),
                    },
                    ipi_addr: libc::in_addr { s_addr: 0 },
                };
                let addr = SockaddrIn::from(SocketAddrV4::new(d, 0));
                sendmsg(
                    fd,
                    &iov,
                    &[ControlMessage::Ipv4PacketInfo(&info)],
                    MsgFlags::empty(),
                    Some(&addr),
                )
            }
            (AddressFamily::Ipv6, IpAddr::V6(d), IpAddr::V6(s)) => {
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: s.octets(),
                    },
                    ipi6_ifindex: self.ifindex,
                };
                let scope = if needs_scope(d) { self.ifindex } else { 0 };
                let addr = SockaddrIn6::from(SocketAddrV6::new(d, 0, 0, scope));
                sendmsg(
                    fd,
                    &iov,
                    &[ControlMessage::Ipv6PacketInfo(&info)],
                    MsgFlags::empty(),
                    Some(&addr),
                )
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "cannot send from {src} to {dst} on the {} socket of {}",
                        self.family, self.interface
                    ),
                ));
            }
        }
        .map_err(io::Error::from)
        .map_err(context(format_args!(
            "send {src} -> {dst} on {}",
            self.interface
        )))?;
        if sent != payload.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!(
                    "sent {sent} of {} bytes to {dst} on {}",
                    payload.len(),
                    self.interface
                ),
            ));
        }
        Ok(())
    }

    /// Its address family.
    pub fn family(&self) -> AddressFamily {
        self.family
    }

    /// The index of the interface the socket is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The name of the interface the socket is bound to.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The underlying socket, for options this type does not set.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }
}

impl AsFd for VrrpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl AsRawFd for VrrpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

/// Sets `SO_SNDBUF` and `SO_RCVBUF` to [`SOCKET_BUFFER`], past the
/// `net.core.[rw]mem_max` limits with `SO_*BUFFORCE` when the process has
/// CAP_NET_ADMIN (vrrpd does), else as far as the limits allow.
fn set_buffers(socket: &Socket) -> io::Result<()> {
    if setsockopt(socket, sockopt::RcvBufForce, &SOCKET_BUFFER).is_err() {
        socket.set_recv_buffer_size(SOCKET_BUFFER)?;
    }
    if setsockopt(socket, sockopt::SndBufForce, &SOCKET_BUFFER).is_err() {
        socket.set_send_buffer_size(SOCKET_BUFFER)?;
    }
    Ok(())
}

/// The index of the interface called `name` in the calling thread's
/// network namespace.
pub(crate) fn interface_index(name: &str) -> io::Result<u32> {
    let not_found = || {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("no interface named {name:?}"),
        )
    };
    if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains('\0') {
        return Err(not_found());
    }
    match nix::net::if_::if_nametoindex(name) {
        Ok(0) | Err(nix::errno::Errno::ENODEV | nix::errno::Errno::ENXIO) => Err(not_found()),
        Ok(index) => Ok(index),
        Err(e) => Err(e.into()),
    }
}

/// Whether an IPv6 destination needs a scope id: link-local unicast, and
/// interface- or link-local multicast (ff01::/16, ff02::/16).
fn needs_scope(addr: Ipv6Addr) -> bool {
    let first = addr.segments()[0];
    (first & 0xffc0) == 0xfe80 || (addr.is_multicast() && matches!(first & 0x000f, 1 | 2))
}

/// An `InvalidData` error.
fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Adds the socket option or step that failed to an I/O error, keeping its
/// kind: "IP_PKTINFO on eth0: Operation not permitted (os error 1)".
fn context(what: impl std::fmt::Display) -> impl FnOnce(io::Error) -> io::Error {
    move |e| io::Error::new(e.kind(), format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_needed_for_link_local_unicast_and_multicast() {
        assert!(needs_scope("fe80::1".parse().unwrap()));
        assert!(needs_scope(MULTICAST_V6));
        assert!(needs_scope("ff01::1".parse().unwrap()));
        assert!(!needs_scope("ff05::2".parse().unwrap()));
        assert!(!needs_scope("fd00:198:18::1".parse().unwrap()));
    }

    #[test]
    fn unknown_and_malformed_interface_names_are_not_found() {
        for name in ["", "no-such-if0", "a\0b", "0123456789abcdef"] {
            let err = interface_index(name).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{name:?}: {err}");
        }
    }
}
