//! The libc calls behind the AF_PACKET sockets. Every `unsafe` block of the
//! crate is in this file, each one a single system call on memory we own.

use std::ffi::CString;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// `struct sockaddr_ll` for `ifindex` and an EtherType (host byte order),
/// built as a plain struct literal: no zeroing, no casts of uninitialised memory.
pub(crate) fn sockaddr_ll(ifindex: u32, protocol: u16) -> io::Result<libc::sockaddr_ll> {
    let ifindex = i32::try_from(ifindex).map_err(|_| io::Error::from_raw_os_error(libc::ENODEV))?;
    Ok(libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: protocol.to_be(),
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    })
}

/// A raw AF_PACKET socket that receives nothing until it is bound with a
/// protocol (protocol 0 at creation), close-on-exec.
pub(crate) fn packet_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket() takes no pointers; a non-negative result is a new fd
    // that nothing else owns, so OwnedFd may take it.
    unsafe {
        let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// Binds to one interface and, when `protocol` is non-zero, starts receiving
/// frames of that EtherType (`ETH_P_ALL` for all).
pub(crate) fn bind(fd: &OwnedFd, ifindex: u32, protocol: u16) -> io::Result<()> {
    let addr = sockaddr_ll(ifindex, protocol)?;
    // SAFETY: `addr` is a valid sockaddr_ll that outlives the call, and the
    // length passed is its size.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&raw const addr).cast::<libc::sockaddr>(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    check(rc).map(drop)
}

/// The socket's bound address: interface index, ARPHRD type and hardware address.
pub(crate) fn local_address(fd: &OwnedFd) -> io::Result<libc::sockaddr_ll> {
    let mut addr = sockaddr_ll(0, 0)?;
    let mut len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `addr` and `len` are valid for writes and `len` holds the size
    // of `addr`; the kernel writes at most that many bytes.
    let rc = unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&raw mut addr).cast::<libc::sockaddr>(),
            &raw mut len,
        )
    };
    check(rc).map(|_| addr)
}

/// Sends one complete Ethernet frame out of `ifindex`.
pub(crate) fn send_to(
    fd: &OwnedFd,
    ifindex: u32,
    protocol: u16,
    frame: &[u8],
) -> io::Result<usize> {
    let addr = sockaddr_ll(ifindex, protocol)?;
    // SAFETY: `frame` is valid for reads of its length, `addr` is a valid
    // sockaddr_ll of the size passed; both outlive the call.
    let sent = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            frame.as_ptr().cast(),
            frame.len(),
            0,
            (&raw const addr).cast::<libc::sockaddr>(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    check_size(sent)
}

/// Receives one frame into `buf`; returns its length (at most `buf.len()`)
/// and the sender address, whose `sll_pkttype` says where it was going.
pub(crate) fn recv_from(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<(usize, libc::sockaddr_ll)> {
    let mut addr = sockaddr_ll(0, 0)?;
    let mut len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `buf` is valid for writes of its length; `addr`/`len` are valid
    // for writes and `len` holds the size of `addr`.
    let received = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            0,
            (&raw mut addr).cast::<libc::sockaddr>(),
            &raw mut len,
        )
    };
    check_size(received).map(|n| (n.min(buf.len()), addr))
}

/// Receives one frame into `buf` with the kernel's receive timestamp
/// (`SCM_TIMESTAMPNS`, once `SO_TIMESTAMPNS` is on): its length (at most
/// `buf.len()`), the sender address and the stamp, if one came.
pub(crate) fn recv_timestamped(
    fd: &OwnedFd,
    buf: &mut [u8],
) -> io::Result<(usize, libc::sockaddr_ll, Option<libc::timespec>)> {
    let mut addr = sockaddr_ll(0, 0)?;
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one timespec message, 8-byte aligned as cmsghdr needs.
    let mut control = [0u64; 8];
    let mut msg = libc::msghdr {
        msg_name: (&raw mut addr).cast(),
        msg_namelen: size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        msg_iov: &raw mut iov,
        msg_iovlen: 1,
        msg_control: control.as_mut_ptr().cast(),
        msg_controllen: size_of::<[u64; 8]>() as _,
        msg_flags: 0,
    };
    // SAFETY: every pointer in `msg` refers to a live local (or `buf`)
    // valid for writes of the length given beside it.
    let received = check_size(unsafe { libc::recvmsg(fd.as_raw_fd(), &raw mut msg, 0) })?;
    let mut stamp = None;
    // SAFETY: `msg` was filled by recvmsg; the CMSG_* macros walk its
    // control buffer within `msg_controllen`, and the data of an
    // SCM_TIMESTAMPNS message is one (possibly unaligned) timespec.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                stamp = Some(std::ptr::read_unaligned(
                    libc::CMSG_DATA(cmsg).cast::<libc::timespec>(),
                ));
            }
            cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
        }
    }
    Ok((received.min(buf.len()), addr, stamp))
}

/// Turns on `SO_TIMESTAMPNS`, and asks for a `bytes` receive buffer
/// (`SO_RCVBUFFORCE`, best effort).
pub(crate) fn set_capture_options(fd: &OwnedFd, bytes: libc::c_int) -> io::Result<()> {
    set_option(
        fd,
        libc::SOL_SOCKET,
        libc::SO_TIMESTAMPNS,
        &1 as &libc::c_int,
    )?;
    let _ = set_option(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &bytes);
    Ok(())
}

/// `SO_RCVTIMEO`: `None` blocks forever. A zero duration is refused, as
/// `std::net::UdpSocket::set_read_timeout` does, since the kernel reads it as "forever".
pub(crate) fn set_read_timeout(fd: &OwnedFd, timeout: Option<Duration>) -> io::Result<()> {
    let timeval = match timeout {
        None => libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        Some(d) if d.is_zero() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a zero read timeout is not allowed",
            ));
        }
        Some(d) => libc::timeval {
            tv_sec: libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX),
            // Round sub-microsecond timeouts up so they do not become "forever".
            tv_usec: libc::suseconds_t::from(d.subsec_micros().max(u32::from(d.as_secs() == 0))),
        },
    };
    set_option(fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeval)
}

/// Attaches a classic BPF program (`SO_ATTACH_FILTER`).
pub(crate) fn attach_filter(fd: &OwnedFd, program: &[libc::sock_filter]) -> io::Result<()> {
    let len = u16::try_from(program.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "BPF program too long"))?;
    let fprog = libc::sock_fprog {
        len,
        filter: program.as_ptr().cast_mut(),
    };
    // The kernel copies the program during the call and never writes through the pointer.
    set_option(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
}

fn set_option<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live, initialised T and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    check(rc).map(drop)
}

/// `O_NONBLOCK` on or off, for use with an event loop (e.g. tokio's `AsyncFd`).
pub(crate) fn set_nonblocking(fd: &OwnedFd, nonblocking: bool) -> io::Result<()> {
    let mut value = libc::c_int::from(nonblocking);
    // SAFETY: FIONBIO reads one c_int through the pointer, which is valid.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONBIO, &raw mut value) };
    check(rc).map(drop)
}

/// The index of the interface called `name`, in the calling thread's network namespace.
pub(crate) fn if_nametoindex(name: &CString) -> io::Result<u32> {
    // SAFETY: `name` is a valid NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(index)
    }
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn check_size(rc: libc::ssize_t) -> io::Result<usize> {
    usize::try_from(rc).map_err(|_| io::Error::last_os_error())
}
