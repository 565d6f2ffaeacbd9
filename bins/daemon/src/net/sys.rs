//! The few system calls socket2 does not wrap: integer and `ip_mreqn`
//! socket options it lacks, `recvmsg` into a family-specific address, and
//! interface name lookup.

use std::ffi::CString;
use std::io;
use std::mem::size_of;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, BorrowedFd};

/// A plain C value that `setsockopt` and `recvmsg` may read or fill:
/// an integer or a struct of integers, valid for any bit pattern.
///
/// # Safety
///
/// Implementors must be `repr(C)` plain old data without pointers.
pub(crate) unsafe trait Pod: Copy {}

// SAFETY: integers.
unsafe impl Pod for libc::c_int {}
// SAFETY: a repr(C) struct of integers.
unsafe impl Pod for libc::ip_mreqn {}
// SAFETY: a repr(C) struct of integers and byte arrays.
unsafe impl Pod for libc::sockaddr_in {}
// SAFETY: a repr(C) struct of integers and byte arrays.
unsafe impl Pod for libc::sockaddr_in6 {}

/// `setsockopt(fd, level, name, &value, sizeof value)`.
pub(crate) fn setsockopt<T: Pod>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    let len = libc::socklen_t::try_from(size_of::<T>()).map_err(io::Error::other)?;
    // SAFETY: `fd` is a live descriptor for the borrow; `value` points to a
    // `T` valid for reads of `size_of::<T>()` bytes, which the kernel only
    // reads.
    let rc =
        unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, (value as *const T).cast(), len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets an `int` socket option.
pub(crate) fn set_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    setsockopt(fd, level, name, &value)
}

/// The send and receive buffer asked for each VRRP socket, in bytes (the
/// kernel doubles it for its bookkeeping). An Active router sends the
/// adverts of every instance on a link at the same deadline, so a Backup
/// receives them as one burst: 250 instances on one link are 250 packets
/// of about 900 bytes of kernel memory each, more than the default
/// 208 KiB, and the overflow would be silently dropped and read as a
/// dead Active.
pub(crate) const SOCKET_BUFFER: libc::c_int = 4 << 20;

/// Sets `SO_SNDBUF` and `SO_RCVBUF` to [`SOCKET_BUFFER`], past the
/// `net.core.[rw]mem_max` limits with `SO_*BUFFORCE` when the process has
/// CAP_NET_ADMIN (vrrpd does), else as far as the limits allow.
pub(crate) fn set_buffers(fd: BorrowedFd<'_>) -> io::Result<()> {
    for (force, plain) in [
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    ] {
        if set_int(fd, libc::SOL_SOCKET, force, SOCKET_BUFFER).is_err() {
            set_int(fd, libc::SOL_SOCKET, plain, SOCKET_BUFFER)?;
        }
    }
    Ok(())
}

/// `IP_MULTICAST_IF` by interface index (`struct ip_mreqn`), which unlike
/// the address form works on interfaces without an IPv4 address and picks
/// the interface unambiguously.
pub(crate) fn set_multicast_if_v4(fd: BorrowedFd<'_>, ifindex: u32) -> io::Result<()> {
    let any = libc::in_addr {
        s_addr: u32::from(Ipv4Addr::UNSPECIFIED).to_be(),
    };
    let mreqn = libc::ip_mreqn {
        imr_multiaddr: any,
        imr_address: any,
        imr_ifindex: libc::c_int::try_from(ifindex).map_err(io::Error::other)?,
    };
    setsockopt(fd, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &mreqn)
}

/// What one `recvmsg` returned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recvd {
    /// Bytes of data placed in the buffer.
    pub(crate) len: usize,
    /// Bytes of control data placed in the control buffer.
    pub(crate) control_len: usize,
    /// `msg_flags` (`MSG_TRUNC`, `MSG_CTRUNC`).
    pub(crate) flags: libc::c_int,
}

/// `recvmsg(fd, {name, [buf], control}, 0)`, with the sender's address
/// written into `name` (a `sockaddr_in` or `sockaddr_in6`, by the socket's
/// family). Fails with `InvalidData` if the kernel's address is not a `T`.
pub(crate) fn recvmsg<T: Pod>(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    name: &mut T,
    control: &mut [u8],
) -> io::Result<Recvd> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: `msghdr` is a plain C struct; all-zero (null pointers, zero
    // lengths) is a valid empty value, filled in below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (name as *mut T).cast();
    msg.msg_namelen = libc::socklen_t::try_from(size_of::<T>()).map_err(io::Error::other)?;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control.len() as _;
    // SAFETY: every pointer in `msg` refers to memory exclusively borrowed
    // for this call and valid for the length given next to it: `name` for
    // `size_of::<T>()` bytes, `buf` through `iov`, and `control`. `T` is
    // `Pod`, so whatever bytes the kernel writes make a valid `T`.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, 0) };
    let len = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    if usize::try_from(msg.msg_namelen).ok() != Some(size_of::<T>()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("recvmsg returned a {}-byte source address", msg.msg_namelen),
        ));
    }
    // `msg_controllen` is `size_t` with glibc and `socklen_t` with musl.
    #[allow(clippy::unnecessary_cast)]
    let control_len = (msg.msg_controllen as usize).min(control.len());
    Ok(Recvd {
        len,
        control_len,
        flags: msg.msg_flags,
    })
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
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        return Err(not_found());
    }
    let c_name = CString::new(name).map_err(|_| not_found())?;
    // SAFETY: `c_name` is a valid NUL-terminated string for the call.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    if index == 0 {
        let err = io::Error::last_os_error();
        return Err(match err.raw_os_error() {
            Some(libc::ENODEV) | Some(libc::ENXIO) => not_found(),
            _ => err,
        });
    }
    Ok(index)
}
