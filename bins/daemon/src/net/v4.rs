//! [`VrrpSocketV4`]: a raw IPv4 socket for IP protocol 112 on one interface.

use std::io::{self, IoSlice};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use socket2::{Domain, InterfaceIndexOrAddress, MsgHdr, Protocol, SockAddr, Socket, Type};
use tokio::io::unix::AsyncFd;
use vrrp_core::wire::{MULTICAST_V4, PROTOCOL, TTL};

use super::cmsg::{self, InPktinfo};
use super::{RecvMeta, TRAFFIC_CLASS, check_flags, context, missing, sys};

/// Control buffer room for what a received datagram carries: `IP_PKTINFO`,
/// `IP_TTL` and `SCM_TIMESTAMPNS`.
const RECV_CONTROL_LEN: usize = cmsg::space(cmsg::IN_PKTINFO_LEN)
    + cmsg::space(cmsg::INT_LEN)
    + cmsg::space(cmsg::TIMESPEC_LEN);
/// Control buffer room for a send: `IP_PKTINFO`.
const SEND_CONTROL_LEN: usize = cmsg::space(cmsg::IN_PKTINFO_LEN);

/// A raw IPv4 socket (`socket(AF_INET, SOCK_RAW, 112)`) bound to one
/// interface: see the [module documentation](super) for the model.
///
/// Options set by [`open`](Self::open): `SO_BINDTODEVICE`, `IP_PKTINFO`,
/// `IP_RECVTTL`, `SO_TIMESTAMPNS`, `IP_MULTICAST_TTL` 255, `IP_TTL` 255, `IP_MULTICAST_LOOP`
/// off, `IP_MULTICAST_ALL` off, `IP_MULTICAST_IF` (by index), `IP_TOS` CS6,
/// 4 MiB `SO_RCVBUF`/`SO_SNDBUF`, non-blocking,
/// close-on-exec. `IP_HDRINCL` is not used: the kernel writes
/// the IPv4 header.
#[derive(Debug)]
pub struct VrrpSocketV4 {
    socket: Socket,
    interface: String,
    ifindex: u32,
}

impl VrrpSocketV4 {
    /// Opens the socket on `interface` (in the calling thread's network
    /// namespace). Needs `CAP_NET_RAW`; the multicast group is not joined
    /// yet (see [`join_group`](Self::join_group)).
    pub fn open(interface: &str) -> io::Result<Self> {
        let ifindex = sys::interface_index(interface)?;
        let socket = Socket::new(
            Domain::IPV4,
            Type::RAW,
            Some(Protocol::from(i32::from(PROTOCOL))),
        )
        .map_err(context(format_args!(
            "raw IPv4 socket for VRRP on {interface}"
        )))?;
        let fd = socket.as_fd();
        let on = |what: &str| context(format!("{what} on {interface}"));
        socket
            .bind_device(Some(interface.as_bytes()))
            .map_err(on("SO_BINDTODEVICE"))?;
        sys::set_int(fd, libc::IPPROTO_IP, libc::IP_PKTINFO, 1).map_err(on("IP_PKTINFO"))?;
        sys::set_int(fd, libc::IPPROTO_IP, libc::IP_RECVTTL, 1).map_err(on("IP_RECVTTL"))?;
        sys::set_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)
            .map_err(on("SO_TIMESTAMPNS"))?;
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
        sys::set_multicast_if_v4(fd, ifindex).map_err(on("IP_MULTICAST_IF"))?;
        socket
            .set_tos_v4(u32::from(TRAFFIC_CLASS))
            .map_err(on("IP_TOS"))?;
        sys::set_buffers(fd).map_err(on("SO_RCVBUF/SO_SNDBUF"))?;
        socket.set_nonblocking(true).map_err(on("O_NONBLOCK"))?;
        Ok(VrrpSocketV4 {
            socket,
            interface: interface.to_owned(),
            ifindex,
        })
    }

    /// Joins 224.0.0.18 on the interface (`IP_ADD_MEMBERSHIP` with an
    /// `ip_mreqn` naming the interface by index). Not used in unicast mode.
    pub fn join_group(&self) -> io::Result<()> {
        self.socket
            .join_multicast_v4_n(&MULTICAST_V4, &InterfaceIndexOrAddress::Index(self.ifindex))
            .map_err(context(format_args!(
                "IP_ADD_MEMBERSHIP {MULTICAST_V4} on {}",
                self.interface
            )))
    }

    /// Leaves 224.0.0.18 on the interface.
    pub fn leave_group(&self) -> io::Result<()> {
        self.socket
            .leave_multicast_v4_n(&MULTICAST_V4, &InterfaceIndexOrAddress::Index(self.ifindex))
            .map_err(context(format_args!(
                "IP_DROP_MEMBERSHIP {MULTICAST_V4} on {}",
                self.interface
            )))
    }

    /// Receives one datagram into `buf`: the whole IPv4 packet, header
    /// included. Returns `WouldBlock` when none is queued.
    ///
    /// A datagram longer than `buf` (see [`RECV_BUFFER_LEN`]), or one whose
    /// `IP_PKTINFO`/`IP_TTL` is missing, is consumed and reported as an
    /// `InvalidData` error: the caller logs it and reads on.
    ///
    /// [`RECV_BUFFER_LEN`]: super::RECV_BUFFER_LEN
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta<Ipv4Addr>> {
        let mut name = libc::sockaddr_in {
            sin_family: 0,
            sin_port: 0,
            sin_addr: libc::in_addr { s_addr: 0 },
            sin_zero: [0; 8],
        };
        let mut control = [0_u8; RECV_CONTROL_LEN];
        let got = sys::recvmsg(self.socket.as_fd(), buf, &mut name, &mut control)?;
        check_flags(got.flags, buf.len(), &self.interface)?;
        let mut pktinfo = None;
        let mut arrival = None;
        let mut ttl = None;
        for msg in cmsg::iter(&control[..got.control_len]) {
            match (msg.level, msg.kind) {
                (libc::IPPROTO_IP, libc::IP_PKTINFO) => pktinfo = InPktinfo::decode(msg.data),
                (libc::IPPROTO_IP, libc::IP_TTL) => ttl = cmsg::decode_hop_limit(msg.data),
                (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                    arrival = cmsg::decode_timestamp(msg.data);
                }
                _ => {}
            }
        }
        let pktinfo = pktinfo.ok_or_else(|| missing("IP_PKTINFO", &self.interface))?;
        let ttl = ttl.ok_or_else(|| missing("IP_TTL", &self.interface))?;
        Ok(RecvMeta {
            len: got.len,
            src: Ipv4Addr::from(u32::from_be(name.sin_addr.s_addr)),
            dst: pktinfo.addr,
            ifindex: pktinfo.ifindex,
            ttl,
            arrival,
        })
    }

    /// Sends the VRRP message `payload` to `dst` (224.0.0.18, or a unicast
    /// peer) from `src`, out of the socket's interface, with TTL 255.
    ///
    /// The source is set per packet with an `IP_PKTINFO` control message
    /// (`ipi_spec_dst`), so the interface's primary address is used even
    /// when a virtual address is installed on the same interface. `src`
    /// must be an address of this host.
    pub fn send_to(&self, payload: &[u8], dst: Ipv4Addr, src: Ipv4Addr) -> io::Result<()> {
        let info = InPktinfo {
            ifindex: self.ifindex,
            spec_dst: src,
            addr: Ipv4Addr::UNSPECIFIED,
        };
        let mut control = [0_u8; SEND_CONTROL_LEN];
        let used = cmsg::write(
            &mut control,
            libc::IPPROTO_IP,
            libc::IP_PKTINFO,
            &info.encode(),
        )
        .ok_or_else(|| io::Error::other("IP_PKTINFO control buffer too small"))?;
        let addr = SockAddr::from(SocketAddrV4::new(dst, 0));
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

impl AsFd for VrrpSocketV4 {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl AsRawFd for VrrpSocketV4 {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}
