//! [`VrrpSocketV6`]: a raw IPv6 socket for IP protocol 112 on one interface.

use std::io::{self, IoSlice};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use socket2::{Domain, MsgHdr, Protocol, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;
use vrrp_core::wire::{MULTICAST_V6, PROTOCOL, TTL};

use super::cmsg::{self, In6Pktinfo};
use super::{RecvMeta, TRAFFIC_CLASS, check_flags, context, missing, sys};

/// Control buffer room for what a received datagram carries:
/// `IPV6_PKTINFO`, `IPV6_HOPLIMIT` and `SCM_TIMESTAMPNS`.
const RECV_CONTROL_LEN: usize = cmsg::space(cmsg::IN6_PKTINFO_LEN)
    + cmsg::space(cmsg::INT_LEN)
    + cmsg::space(cmsg::TIMESPEC_LEN);
/// Control buffer room for a send: `IPV6_PKTINFO`.
const SEND_CONTROL_LEN: usize = cmsg::space(cmsg::IN6_PKTINFO_LEN);

/// A raw IPv6 socket (`socket(AF_INET6, SOCK_RAW, 112)`) bound to one
/// interface: see the [module documentation](super) for the model.
///
/// Options set by [`open`](Self::open): `SO_BINDTODEVICE`,
/// `IPV6_RECVPKTINFO`, `IPV6_RECVHOPLIMIT`, `SO_TIMESTAMPNS`,
/// `IPV6_MULTICAST_HOPS` 255,
/// `IPV6_UNICAST_HOPS` 255, `IPV6_MULTICAST_LOOP` off, `IPV6_MULTICAST_ALL`
/// off, `IPV6_MULTICAST_IF`, `IPV6_TCLASS` CS6, `IPV6_CHECKSUM` disabled
/// (the codec's checksum goes out untouched and nothing is verified on
/// receive), 4 MiB `SO_RCVBUF`/`SO_SNDBUF`, non-blocking,
/// close-on-exec.
#[derive(Debug)]
pub struct VrrpSocketV6 {
    socket: Socket,
    interface: String,
    ifindex: u32,
}

impl VrrpSocketV6 {
    /// Opens the socket on `interface` (in the calling thread's network
    /// namespace). Needs `CAP_NET_RAW`; the multicast group is not joined
    /// yet (see [`join_group`](Self::join_group)).
    pub fn open(interface: &str) -> io::Result<Self> {
        let ifindex = sys::interface_index(interface)?;
        let socket = Socket::new(
            Domain::IPV6,
            Type::RAW,
            Some(Protocol::from(i32::from(PROTOCOL))),
        )
        .map_err(context(format_args!(
            "raw IPv6 socket for VRRP on {interface}"
        )))?;
        let fd = socket.as_fd();
        let on = |what: &str| context(format!("{what} on {interface}"));
        socket
            .bind_device(Some(interface.as_bytes()))
            .map_err(on("SO_BINDTODEVICE"))?;
        // The kernel neither computes nor checks the checksum: the codec
        // does both (RFC 9568 §5.2.8).
        sys::set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_CHECKSUM, -1)
            .map_err(on("IPV6_CHECKSUM"))?;
        sys::set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)
            .map_err(on("IPV6_RECVPKTINFO"))?;
        socket
            .set_recv_hoplimit_v6(true)
            .map_err(on("IPV6_RECVHOPLIMIT"))?;
        sys::set_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)
            .map_err(on("SO_TIMESTAMPNS"))?;
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
        sys::set_buffers(fd).map_err(on("SO_RCVBUF/SO_SNDBUF"))?;
        socket.set_nonblocking(true).map_err(on("O_NONBLOCK"))?;
        Ok(VrrpSocketV6 {
            socket,
            interface: interface.to_owned(),
            ifindex,
        })
    }

    /// Joins ff02::12 on the interface (`IPV6_JOIN_GROUP`). Not used in
    /// unicast mode.
    pub fn join_group(&self) -> io::Result<()> {
        self.socket
            .join_multicast_v6(&MULTICAST_V6, self.ifindex)
            .map_err(context(format_args!(
                "IPV6_JOIN_GROUP {MULTICAST_V6} on {}",
                self.interface
            )))
    }

    /// Leaves ff02::12 on the interface.
    pub fn leave_group(&self) -> io::Result<()> {
        self.socket
            .leave_multicast_v6(&MULTICAST_V6, self.ifindex)
            .map_err(context(format_args!(
                "IPV6_LEAVE_GROUP {MULTICAST_V6} on {}",
                self.interface
            )))
    }

    /// Receives one VRRP message into `buf` (an IPv6 raw socket returns the
    /// payload; addresses and hop limit are in the [`RecvMeta`]). Returns
    /// `WouldBlock` when none is queued.
    ///
    /// A datagram longer than `buf`, or one whose `IPV6_PKTINFO` or
    /// `IPV6_HOPLIMIT` is missing, is consumed and reported as an
    /// `InvalidData` error: the caller logs it and reads on.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta<Ipv6Addr>> {
        let mut name = libc::sockaddr_in6 {
            sin6_family: 0,
            sin6_port: 0,
            sin6_flowinfo: 0,
            sin6_addr: libc::in6_addr { s6_addr: [0; 16] },
            sin6_scope_id: 0,
        };
        let mut control = [0_u8; RECV_CONTROL_LEN];
        let got = sys::recvmsg(self.socket.as_fd(), buf, &mut name, &mut control)?;
        check_flags(got.flags, buf.len(), &self.interface)?;
        let mut pktinfo = None;
        let mut arrival = None;
        let mut hop_limit = None;
        for msg in cmsg::iter(&control[..got.control_len]) {
            match (msg.level, msg.kind) {
                (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => pktinfo = In6Pktinfo::decode(msg.data),
                (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) => {
                    hop_limit = cmsg::decode_hop_limit(msg.data);
                }
                (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                    arrival = cmsg::decode_timestamp(msg.data);
                }
                _ => {}
            }
        }
        let pktinfo = pktinfo.ok_or_else(|| missing("IPV6_PKTINFO", &self.interface))?;
        let hop_limit = hop_limit.ok_or_else(|| missing("IPV6_HOPLIMIT", &self.interface))?;
        Ok(RecvMeta {
            len: got.len,
            src: Ipv6Addr::from(name.sin6_addr.s6_addr),
            dst: pktinfo.addr,
            ifindex: pktinfo.ifindex,
            ttl: hop_limit,
            arrival,
        })
    }

    /// Sends the VRRP message `payload` to `dst` (ff02::12, or a unicast
    /// peer) from `src`, out of the socket's interface, with hop limit 255.
    ///
    /// `src` should be the interface's link-local address (RFC 9568
    /// §5.1.2.1); it is set per packet with an `IPV6_PKTINFO` control
    /// message, together with the interface. The kernel refuses an address
    /// that is not on the interface, or still tentative (DAD running), with
    /// `EINVAL` / `EADDRNOTAVAIL`. The checksum in `payload` is sent as is.
    pub fn send_to(&self, payload: &[u8], dst: Ipv6Addr, src: Ipv6Addr) -> io::Result<()> {
        let info = In6Pktinfo {
            addr: src,
            ifindex: self.ifindex,
        };
        let mut control = [0_u8; SEND_CONTROL_LEN];
        let used = cmsg::write(
            &mut control,
            libc::IPPROTO_IPV6,
            libc::IPV6_PKTINFO,
            &info.encode(),
        )
        .ok_or_else(|| io::Error::other("IPV6_PKTINFO control buffer too small"))?;
        let scope = if needs_scope(dst) { self.ifindex } else { 0 };
        let addr = SockAddr::from(SocketAddrV6::new(dst, 0, 0, scope));
        let bufs = [IoSlice::new(payload)];
        let msg = MsgHdr::new()
            .with_addr(&addr)
            .with_buffers(&bufs)
            .with_control(&control[..used]);
        let sent = self.socket.sendmsg(&msg, 0).map_err(context(format_args!(
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

    /// Registers the socket with the current tokio runtime's reactor, for
    /// `readable().await` + `try_io(|s| s.get_ref().recv(buf))`. Panics
    /// outside a runtime with I/O enabled, as `AsyncFd` does.
    pub fn into_async(self) -> io::Result<AsyncFd<Self>> {
        // SAFETY: the socket owns its descriptor for its whole life and
        // never replaces it, so `as_raw_fd` always returns the same open
        // descriptor; the `AsyncFd` takes ownership of the socket, so it
        // outlives the registration.
        unsafe { AsyncFd::register(self) }.map_err(io::Error::from)
    }
}

/// Whether `addr` is only meaningful with an interface: link-local unicast
/// (fe80::/10) or interface/link-local multicast (ff01::/16, ff02::/16).
fn needs_scope(addr: Ipv6Addr) -> bool {
    let first = addr.segments()[0];
    (first & 0xffc0) == 0xfe80 || (addr.is_multicast() && matches!(first & 0x000f, 1 | 2))
}

impl AsFd for VrrpSocketV6 {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl AsRawFd for VrrpSocketV6 {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_destinations() {
        assert!(needs_scope(MULTICAST_V6));
        assert!(needs_scope("fe80::1".parse().unwrap()));
        assert!(needs_scope("ff01::1".parse().unwrap()));
        assert!(!needs_scope("ff05::2".parse().unwrap()));
        assert!(!needs_scope("fd00:198:18::1".parse().unwrap()));
    }
}
