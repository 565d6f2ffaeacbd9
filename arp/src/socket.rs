//! AF_PACKET sockets: [`AnnounceSocket`] sends prebuilt frames out of one
//! interface, [`AnnounceListener`] receives the ARP and Neighbor
//! Advertisements seen on one. Both are blocking by default and expose their
//! fd, so a caller can drive them from its own event loop.
//!
//! Both need `CAP_NET_RAW`. Sockets live in the network namespace of the
//! thread that opens them.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, SystemTime};

use crate::announcement::Announcement;
use crate::arp::ETHERTYPE_ARP;
use crate::ndp::ETHERTYPE_IPV6;
use crate::sys;
use vrrp_core::MacAddr;

/// The system call that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketOp {
    /// `socket(AF_PACKET, SOCK_RAW, …)`.
    Open,
    /// `bind` to the interface.
    Bind,
    /// `getsockname`, to learn the interface's hardware address.
    LocalAddress,
    /// `setsockopt` or `ioctl`.
    SetOption,
    /// `sendto`.
    Send,
    /// `recvfrom`.
    Receive,
}

impl std::fmt::Display for SocketOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SocketOp::Open => "socket",
            SocketOp::Bind => "bind",
            SocketOp::LocalAddress => "getsockname",
            SocketOp::SetOption => "setsockopt",
            SocketOp::Send => "sendto",
            SocketOp::Receive => "recvfrom",
        })
    }
}

/// Why an AF_PACKET operation failed. System errors keep their errno.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    /// The name is empty, too long (`IFNAMSIZ`) or contains a NUL byte.
    #[error("{0:?} is not a valid interface name")]
    InvalidInterfaceName(String),
    /// No interface has this name in the current network namespace.
    #[error("no interface named {name:?}: {source}")]
    NoSuchInterface {
        /// The name looked up.
        name: String,
        /// The error of `if_nametoindex` (usually `ENODEV`).
        #[source]
        source: io::Error,
    },
    /// The interface does not carry Ethernet frames (e.g. `lo`, a tun device).
    #[error("interface {ifindex} is not Ethernet (ARPHRD type {hardware_type})")]
    NotEthernet {
        /// The interface index.
        ifindex: u32,
        /// Its `ARPHRD_*` type; Ethernet is 1.
        hardware_type: u16,
    },
    /// A frame shorter than an Ethernet header cannot be sent.
    #[error("frame of {0} bytes is shorter than an Ethernet header")]
    FrameTooShort(usize),
    /// The kernel accepted only part of the frame.
    #[error("sent {sent} of {len} bytes")]
    ShortSend {
        /// Bytes sent.
        sent: usize,
        /// Bytes in the frame.
        len: usize,
    },
    /// A system call failed.
    #[error("{op} on AF_PACKET socket for interface {ifindex}: {source}")]
    Io {
        /// The call.
        op: SocketOp,
        /// The interface index the socket is for.
        ifindex: u32,
        /// The OS error, with its errno.
        #[source]
        source: io::Error,
    },
}

impl SocketError {
    /// The errno, when the error came from the kernel.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            SocketError::NoSuchInterface { source, .. } | SocketError::Io { source, .. } => {
                source.raw_os_error()
            }
            _ => None,
        }
    }

    /// Whether a non-blocking socket had nothing to do, or a read timeout expired.
    pub fn is_would_block(&self) -> bool {
        matches!(
            self,
            SocketError::Io { source, .. } if source.kind() == io::ErrorKind::WouldBlock
        )
    }
}

/// The interface index of `name` in the calling thread's network namespace.
pub fn interface_index(name: &str) -> Result<u32, SocketError> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        return Err(SocketError::InvalidInterfaceName(name.to_string()));
    }
    let c_name =
        CString::new(name).map_err(|_| SocketError::InvalidInterfaceName(name.to_string()))?;
    sys::if_nametoindex(&c_name).map_err(|source| SocketError::NoSuchInterface {
        name: name.to_string(),
        source,
    })
}

/// Opens a packet socket bound to `ifindex` (receiving `protocol`, 0 for
/// nothing) after `setup` ran on it, and checks the interface is Ethernet.
fn open_bound(
    ifindex: u32,
    protocol: u16,
    setup: impl FnOnce(&OwnedFd) -> io::Result<()>,
) -> Result<OwnedFd, SocketError> {
    let io = |op| {
        move |source| SocketError::Io {
            op,
            ifindex,
            source,
        }
    };
    let fd = sys::packet_socket().map_err(io(SocketOp::Open))?;
    setup(&fd).map_err(io(SocketOp::SetOption))?;
    sys::bind(&fd, ifindex, protocol).map_err(io(SocketOp::Bind))?;
    let local = sys::local_address(&fd).map_err(io(SocketOp::LocalAddress))?;
    if local.sll_hatype != libc::ARPHRD_ETHER || local.sll_halen != 6 {
        return Err(SocketError::NotEthernet {
            ifindex,
            hardware_type: local.sll_hatype,
        });
    }
    Ok(fd)
}

/// Sends gratuitous ARP and unsolicited NA frames (or any Ethernet frame) out
/// of one interface, through a raw AF_PACKET socket bound to it.
///
/// The socket is opened with protocol 0, so it never queues received frames.
#[derive(Debug)]
pub struct AnnounceSocket {
    fd: OwnedFd,
    ifindex: u32,
}

impl AnnounceSocket {
    /// Opens a socket on the interface with index `ifindex`.
    pub fn open(ifindex: u32) -> Result<AnnounceSocket, SocketError> {
        let fd = open_bound(ifindex, 0, |_| Ok(()))?;
        Ok(AnnounceSocket { fd, ifindex })
    }

    /// Opens a socket on the interface called `name`.
    pub fn open_by_name(name: &str) -> Result<AnnounceSocket, SocketError> {
        AnnounceSocket::open(interface_index(name)?)
    }

    /// The interface index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The interface's current MAC address (asked of the kernel each time,
    /// since it can change).
    pub fn interface_mac(&self) -> Result<MacAddr, SocketError> {
        interface_mac(&self.fd, self.ifindex)
    }

    /// Sends one complete Ethernet frame (header included, no FCS).
    pub fn send_frame(&self, frame: &[u8]) -> Result<(), SocketError> {
        let ethertype = match frame {
            [_, _, _, _, _, _, _, _, _, _, _, _, hi, lo, ..] => u16::from_be_bytes([*hi, *lo]),
            _ => return Err(SocketError::FrameTooShort(frame.len())),
        };
        let sent = sys::send_to(&self.fd, self.ifindex, ethertype, frame).map_err(|source| {
            SocketError::Io {
                op: SocketOp::Send,
                ifindex: self.ifindex,
                source,
            }
        })?;
        if sent == frame.len() {
            Ok(())
        } else {
            Err(SocketError::ShortSend {
                sent,
                len: frame.len(),
            })
        }
    }

    /// Emits `announcement` and sends it.
    pub fn send(&self, announcement: &Announcement) -> Result<(), SocketError> {
        let mut buf = [0u8; 128];
        let len = announcement
            .emit(&mut buf)
            .expect("an ARP or NA frame with one option fits in 128 bytes");
        self.send_frame(&buf[..len])
    }

    /// Switches `O_NONBLOCK`, for use with an event loop.
    pub fn set_nonblocking(&self, nonblocking: bool) -> Result<(), SocketError> {
        sys::set_nonblocking(&self.fd, nonblocking).map_err(|source| SocketError::Io {
            op: SocketOp::SetOption,
            ifindex: self.ifindex,
            source,
        })
    }
}

impl AsFd for AnnounceSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for AnnounceSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Where a received frame was going, from `sll_pkttype` (`linux/if_packet.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// To this host's MAC (`PACKET_HOST`).
    Host,
    /// To the broadcast address (`PACKET_BROADCAST`).
    Broadcast,
    /// To a multicast group (`PACKET_MULTICAST`).
    Multicast,
    /// To another host, seen in promiscuous mode (`PACKET_OTHERHOST`).
    OtherHost,
    /// Sent by this host (`PACKET_OUTGOING`).
    Outgoing,
    /// Any other value.
    Other(u8),
}

impl PacketType {
    fn from_raw(raw: u8) -> PacketType {
        match raw {
            0 => PacketType::Host,
            1 => PacketType::Broadcast,
            2 => PacketType::Multicast,
            3 => PacketType::OtherHost,
            4 => PacketType::Outgoing,
            other => PacketType::Other(other),
        }
    }
}

/// An announcement received by an [`AnnounceListener`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedAnnouncement {
    /// The parsed frame.
    pub announcement: Announcement,
    /// Where the frame was going.
    pub packet_type: PacketType,
}

/// Receives the ARP messages and Neighbor Advertisements seen on one
/// interface, in both directions.
///
/// A classic BPF filter keeps everything else out of the socket, so a busy
/// interface does not wake the reader; frames are still fully validated by
/// [`Announcement::parse`].
#[derive(Debug)]
pub struct AnnounceListener {
    fd: OwnedFd,
    ifindex: u32,
}

/// Largest frame read: an Ethernet MTU plus header; announcements are far smaller.
const RECEIVE_BUFFER_LEN: usize = 1514;

impl AnnounceListener {
    /// Opens a listener on the interface with index `ifindex`.
    pub fn open(ifindex: u32) -> Result<AnnounceListener, SocketError> {
        // Filter first, then bind with ETH_P_ALL: the socket receives nothing
        // before it is bound, so no unfiltered frame slips in.
        let fd = open_bound(ifindex, libc::ETH_P_ALL as u16, |fd| {
            sys::attach_filter(fd, &announcement_filter())
        })?;
        Ok(AnnounceListener { fd, ifindex })
    }

    /// Opens a listener on the interface called `name`.
    pub fn open_by_name(name: &str) -> Result<AnnounceListener, SocketError> {
        AnnounceListener::open(interface_index(name)?)
    }

    /// The interface index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The interface's current MAC address.
    pub fn interface_mac(&self) -> Result<MacAddr, SocketError> {
        interface_mac(&self.fd, self.ifindex)
    }

    /// Makes receives give up after `timeout` with an error for which
    /// [`SocketError::is_would_block`] is true; `None` blocks forever. Zero is refused.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<(), SocketError> {
        sys::set_read_timeout(&self.fd, timeout)
            .map_err(|source| self.io(SocketOp::SetOption, source))
    }

    /// Switches `O_NONBLOCK`, for use with an event loop.
    pub fn set_nonblocking(&self, nonblocking: bool) -> Result<(), SocketError> {
        sys::set_nonblocking(&self.fd, nonblocking)
            .map_err(|source| self.io(SocketOp::SetOption, source))
    }

    /// Receives one raw frame (ARP or a Neighbor Advertisement, unless the
    /// filter let something odd through) into `buf`.
    pub fn recv_frame<'b>(&self, buf: &'b mut [u8]) -> Result<(&'b [u8], PacketType), SocketError> {
        let (len, from) =
            sys::recv_from(&self.fd, buf).map_err(|source| self.io(SocketOp::Receive, source))?;
        Ok((&buf[..len], PacketType::from_raw(from.sll_pkttype)))
    }

    /// Receives frames until one parses as an [`Announcement`] and returns
    /// it; malformed frames are skipped. Each receive honours the read timeout.
    pub fn recv_announcement(&self) -> Result<ReceivedAnnouncement, SocketError> {
        let mut buf = [0u8; RECEIVE_BUFFER_LEN];
        loop {
            let (frame, packet_type) = self.recv_frame(&mut buf)?;
            if let Ok(announcement) = Announcement::parse(frame) {
                return Ok(ReceivedAnnouncement {
                    announcement,
                    packet_type,
                });
            }
        }
    }

    fn io(&self, op: SocketOp, source: io::Error) -> SocketError {
        SocketError::Io {
            op,
            ifindex: self.ifindex,
            source,
        }
    }
}

impl AsFd for AnnounceListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for AnnounceListener {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// One frame received by a [`FrameCapture`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapturedFrame<'b> {
    /// The whole Ethernet frame (no FCS).
    pub frame: &'b [u8],
    /// Where the frame was going.
    pub packet_type: PacketType,
    /// When the kernel received it (`SO_TIMESTAMPNS`, the realtime clock),
    /// if it said.
    pub timestamp: Option<SystemTime>,
}

/// Receives every frame seen on one interface, in both directions and
/// without a filter, each with the kernel's receive timestamp: the receive
/// side for measuring tools, which time a frame by its arrival rather than
/// by when they got round to reading it.
#[derive(Debug)]
pub struct FrameCapture {
    fd: OwnedFd,
    ifindex: u32,
}

/// The receive buffer a [`FrameCapture`] asks for: room for a burst.
const CAPTURE_BUFFER: libc::c_int = 8 << 20;

impl FrameCapture {
    /// Opens a capture on the interface with index `ifindex`.
    pub fn open(ifindex: u32) -> Result<FrameCapture, SocketError> {
        let fd = open_bound(ifindex, libc::ETH_P_ALL as u16, |fd| {
            sys::set_capture_options(fd, CAPTURE_BUFFER)
        })?;
        Ok(FrameCapture { fd, ifindex })
    }

    /// Opens a capture on the interface called `name`.
    pub fn open_by_name(name: &str) -> Result<FrameCapture, SocketError> {
        FrameCapture::open(interface_index(name)?)
    }

    /// Makes receives give up after `timeout` with an error for which
    /// [`SocketError::is_would_block`] is true; `None` blocks forever. Zero
    /// is refused.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<(), SocketError> {
        sys::set_read_timeout(&self.fd, timeout).map_err(|source| SocketError::Io {
            op: SocketOp::SetOption,
            ifindex: self.ifindex,
            source,
        })
    }

    /// Receives one frame into `buf` (cut to its length if longer).
    pub fn recv<'b>(&self, buf: &'b mut [u8]) -> Result<CapturedFrame<'b>, SocketError> {
        let (len, from, stamp) =
            sys::recv_timestamped(&self.fd, buf).map_err(|source| SocketError::Io {
                op: SocketOp::Receive,
                ifindex: self.ifindex,
                source,
            })?;
        let timestamp = stamp.and_then(|ts| {
            let secs = u64::try_from(ts.tv_sec).ok()?;
            let nanos = u32::try_from(ts.tv_nsec).ok()?;
            SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
        });
        Ok(CapturedFrame {
            frame: &buf[..len],
            packet_type: PacketType::from_raw(from.sll_pkttype),
            timestamp,
        })
    }
}

impl AsFd for FrameCapture {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn interface_mac(fd: &OwnedFd, ifindex: u32) -> Result<MacAddr, SocketError> {
    let local = sys::local_address(fd).map_err(|source| SocketError::Io {
        op: SocketOp::LocalAddress,
        ifindex,
        source,
    })?;
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&local.sll_addr[..6]);
    Ok(MacAddr(mac))
}

/// Classic BPF: accept ARP, and IPv6 whose next header is ICMPv6 (58) with
/// type 136 (Neighbor Advertisement); drop the rest. Offsets count from the
/// Ethernet header (VLAN tags are already stripped by the kernel).
fn announcement_filter() -> [libc::sock_filter; 9] {
    const LD_H_ABS: u16 = (libc::BPF_LD | libc::BPF_H | libc::BPF_ABS) as u16;
    const LD_B_ABS: u16 = (libc::BPF_LD | libc::BPF_B | libc::BPF_ABS) as u16;
    const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    let op = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    // Jump offsets count instructions after the next one.
    [
        /* 0 */ op(LD_H_ABS, 0, 0, 12), // EtherType
        /* 1 */ op(JEQ_K, 5, 0, u32::from(ETHERTYPE_ARP)), // -> 7 accept
        /* 2 */ op(JEQ_K, 0, 5, u32::from(ETHERTYPE_IPV6)), // else -> 8 drop
        /* 3 */ op(LD_B_ABS, 0, 0, 14 + 6), // IPv6 next header
        /* 4 */ op(JEQ_K, 0, 3, 58), // else -> 8 drop
        /* 5 */ op(LD_B_ABS, 0, 0, 14 + 40), // ICMPv6 type
        /* 6 */ op(JEQ_K, 0, 1, 136), // else -> 8 drop
        /* 7 */ op(RET_K, 0, 0, u32::MAX), // accept the whole frame
        /* 8 */ op(RET_K, 0, 0, 0), // drop
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_interface_names_are_typed_errors() {
        for bad in ["", "a-name-that-is-too-long", "eth\0"] {
            assert!(matches!(
                interface_index(bad),
                Err(SocketError::InvalidInterfaceName(_))
            ));
        }
        let err = interface_index("vt-nonexistent").unwrap_err();
        assert!(matches!(err, SocketError::NoSuchInterface { .. }), "{err}");
        assert_eq!(err.raw_os_error(), Some(libc::ENODEV));
    }

    #[test]
    fn filter_jumps_land_on_the_two_returns() {
        let program = announcement_filter();
        let jumps = program
            .iter()
            .enumerate()
            .filter(|(_, insn)| u32::from(insn.code) & 0x07 == libc::BPF_JMP);
        for (pc, insn) in jumps {
            for offset in [insn.jt, insn.jf] {
                let target = pc + 1 + usize::from(offset);
                assert!(target < program.len(), "insn {pc} jumps out of the program");
            }
        }
        let ret = (libc::BPF_RET | libc::BPF_K) as u16;
        assert_eq!(program[1 + 1 + 5].code, ret);
        assert_eq!(program[2 + 1 + 5].k, 0);
        assert_eq!(program[4 + 1 + 3].k, 0);
        assert_eq!(program[6 + 1 + 1].k, 0);
        assert_eq!(program[7].k, u32::MAX);
    }

    #[test]
    fn packet_types_follow_if_packet_h() {
        assert_eq!(PacketType::from_raw(0), PacketType::Host);
        assert_eq!(PacketType::from_raw(4), PacketType::Outgoing);
        assert_eq!(PacketType::from_raw(9), PacketType::Other(9));
    }
}
