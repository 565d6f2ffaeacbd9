//! Helpers shared by the `net_*` namespace tests: advertisement bytes from
//! the codec, waiting for a datagram through tokio's `AsyncFd` (as the
//! driver does), tcpdump captures and IPv6 link-local addresses.

#![allow(dead_code, unreachable_pub)]

use std::io::{self, BufRead, BufReader};
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::AsFd;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use vrrp_core::wire::{AddressList, Advertisement, ChecksumMode, VersionFields};
use vrrp_core::{MaxAdverInt, Priority, Vrid};
use vrrp_testns::{ChildGuard, Netns};

/// How long a datagram that should arrive may take on a loaded machine.
pub const ARRIVAL: Duration = Duration::from_secs(5);

/// A VRRPv3 advertisement (VRID 51, priority 150, 1 s) for `vips`, with the
/// pseudo-header checksum for `src` → `dst`.
pub fn advert(vips: AddressList, src: IpAddr, dst: IpAddr) -> Vec<u8> {
    Advertisement {
        vrid: Vrid::new(51).unwrap(),
        priority: Priority::new(150),
        version_fields: VersionFields::V3 {
            max_adver_int: MaxAdverInt::new(100).unwrap(),
        },
        addresses: vips,
    }
    .to_bytes(src, dst, ChecksumMode::PseudoHeader)
    .unwrap()
}

/// Waits up to `timeout` for `sock` to become readable, then calls `recv`
/// when `poll(2)` says it is readable, as the daemon's loop does through
/// its epoll set.
pub fn recv_within<S: AsFd, M>(
    sock: &S,
    timeout: Duration,
    mut recv: impl FnMut(&S, &mut [u8]) -> io::Result<M>,
) -> Option<(M, Vec<u8>)> {
    let mut buf = vec![0; vrrpd::net::RECV_BUFFER_LEN];
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(sock.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(ms)).unwrap() == 0 {
            continue;
        }
        match recv(sock, &mut buf) {
            Ok(meta) => return Some((meta, buf)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("recv failed: {e}"),
        }
    }
}

/// Asserts that nothing is queued on `sock` (after the caller proved that a
/// packet sent at the same time reached somewhere else).
pub fn assert_nothing_queued<S, M: std::fmt::Debug>(
    sock: &S,
    what: &str,
    recv: impl Fn(&S, &mut [u8]) -> io::Result<M>,
) {
    // Local delivery is synchronous in the kernel; a short grace period
    // covers a loopback copy that is queued through the backlog.
    std::thread::sleep(Duration::from_millis(100));
    let mut buf = vec![0; vrrpd::net::RECV_BUFFER_LEN];
    match recv(sock, &mut buf) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("{what}: expected nothing queued, got {other:?}"),
    }
}

/// A running `tcpdump -v` in a namespace.
pub struct Capture {
    child: ChildGuard,
}

impl Capture {
    /// Starts `tcpdump -i IFACE -n -v -l -c COUNT FILTER` in `ns` and waits
    /// until it listens.
    pub fn start(ns: &Netns, iface: &str, filter: &str, count: usize) -> Capture {
        let tcpdump = vrrp_testns::which("tcpdump").expect("tcpdump is installed");
        let mut cmd = ns.command(tcpdump);
        cmd.args(["-i", iface, "-n", "-v", "-l", "-c", &count.to_string()])
            .args(filter.split_whitespace())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = ChildGuard::new(cmd.spawn().expect("spawn tcpdump"));
        let stderr = child.child().stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("listening on") => break,
                Some(Ok(_)) => {}
                other => panic!("tcpdump did not start: {other:?}"),
            }
        }
        // Keep draining stderr so tcpdump never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        Capture { child }
    }

    /// Waits (up to [`ARRIVAL`]) for tcpdump to exit after its packet count
    /// and returns what it printed.
    pub fn finish(mut self) -> String {
        let deadline = Instant::now() + ARRIVAL;
        while Instant::now() < deadline {
            if self.child.child().try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let child = self.child.into_inner();
        let mut child = child;
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// The link-local address of `iface` in `ns`, once DAD has finished (the
/// kernel refuses to send from a tentative address).
pub fn link_local(ns: &Netns, iface: &str) -> Ipv6Addr {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = ns.ip(&["-6", "addr", "show", "dev", iface, "scope", "link"]);
        let addr = out.lines().find_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("inet6 ")?;
            let cidr = rest.split_whitespace().next()?;
            cidr.split('/').next()?.parse::<Ipv6Addr>().ok()
        });
        match addr {
            Some(addr) if !out.contains("tentative") => return addr,
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "no usable link-local on {iface}: {out}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The interface index of `iface` in `ns`.
pub fn ifindex(ns: &Netns, iface: &str) -> u32 {
    let out = ns.ip(&["-o", "link", "show", "dev", iface]);
    out.split(':').next().unwrap().trim().parse().unwrap()
}
