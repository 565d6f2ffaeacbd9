//! Packet capture in the client namespace: an AF_PACKET socket with kernel
//! receive timestamps (CLOCK_REALTIME, nanoseconds), decoded into the few
//! events the lab measures. Frames are untrusted: anything malformed is
//! skipped, never a panic.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use vrrp_arp::Announcement;

use super::ns::Netns;
use super::{LabError, Result, check_interrupted};

/// What a captured frame was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A VRRP advertisement (IPv4, protocol 112).
    Advert {
        /// The IPv4 source (the sender's primary address).
        src: Ipv4Addr,
        /// VRRP version, 2 or 3.
        version: u8,
        /// The virtual router.
        vrid: u8,
        /// The advertised priority (0 = the Active is stopping).
        priority: u8,
    },
    /// A gratuitous ARP or unsolicited Neighbor Advertisement.
    Garp {
        /// The announced address.
        ip: IpAddr,
        /// The Ethernet source of the frame.
        mac: [u8; 6],
    },
    /// An ICMP echo reply to the client.
    EchoReply {
        /// The IPv4 source.
        src: Ipv4Addr,
        /// The Ethernet source: which host answered.
        mac: [u8; 6],
    },
}

/// One decoded frame and its kernel timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Nanoseconds since the Unix epoch.
    pub t: i64,
    /// What it was.
    pub kind: Kind,
}

/// Decodes an Ethernet frame into an [`Event`] kind, or `None` for frames the
/// lab does not measure and for malformed ones.
pub fn decode(frame: &[u8]) -> Option<Kind> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let mut eth_src = [0u8; 6];
    eth_src.copy_from_slice(frame.get(6..12)?);
    match ethertype {
        0x0806 | 0x86dd => {
            let a = Announcement::parse(frame).ok()?;
            if ethertype == 0x0806 && !a.is_unsolicited() {
                return None;
            }
            if ethertype == 0x86dd && !a.is_unsolicited() {
                return None;
            }
            Some(Kind::Garp {
                ip: a.ip(),
                mac: a.eth_src().0,
            })
        }
        0x0800 => {
            let ip = frame.get(14..)?;
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            if ip.first()? >> 4 != 4 || ihl < 20 {
                return None;
            }
            let proto = *ip.get(9)?;
            let src = Ipv4Addr::new(*ip.get(12)?, *ip.get(13)?, *ip.get(14)?, *ip.get(15)?);
            let body = ip.get(ihl..)?;
            match proto {
                112 => {
                    let vt = *body.first()?;
                    if vt & 0x0f != 1 {
                        return None;
                    }
                    Some(Kind::Advert {
                        src,
                        version: vt >> 4,
                        vrid: *body.get(1)?,
                        priority: *body.get(2)?,
                    })
                }
                1 if *body.first()? == 0 => Some(Kind::EchoReply { src, mac: eth_src }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A running capture on one interface of a namespace; stops on drop.
#[derive(Debug)]
pub struct Capture {
    events: Arc<Mutex<Vec<Event>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Result<()>>>>,
}

fn open_socket(dev: &str) -> Result<OwnedFd> {
    let proto = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: plain socket(2) call; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(proto)) };
    if fd < 0 {
        return Err(LabError::new(format!(
            "AF_PACKET socket: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: fd is a fresh, valid descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let ifindex = vrrp_arp::interface_index(dev)
        .map_err(|e| LabError::new(format!("capture interface {dev}: {e}")))?;
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto;
    sll.sll_ifindex = i32::try_from(ifindex).unwrap_or(0);
    // SAFETY: sll is a valid sockaddr_ll and the length matches it.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(LabError::new(format!(
            "bind capture socket: {}",
            std::io::Error::last_os_error()
        )));
    }
    let one: libc::c_int = 1;
    let rcvbuf: libc::c_int = 8 << 20;
    let tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 20_000,
    };
    // SAFETY: the option value points to a live c_int.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(LabError::new(format!(
            "SO_TIMESTAMPNS on the capture socket: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: each option value points to a live value of the right size.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&rcvbuf as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
    Ok(fd)
}

fn run(fd: OwnedFd, events: Arc<Mutex<Vec<Event>>>, stop: Arc<AtomicBool>) -> Result<()> {
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut control = [0u64; 8];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: msghdr is plain old data; all-zero is a valid empty value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&mut from as *mut libc::sockaddr_ll).cast();
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: every pointer in msg refers to a live local valid for the
        // length given beside it.
        let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, 0) };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            match err.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted => continue,
                std::io::ErrorKind::TimedOut => continue,
                _ => return Err(LabError::new(format!("capture: {err}"))),
            }
        }
        if from.sll_pkttype == libc::PACKET_OUTGOING {
            continue;
        }
        // The kernel's receive timestamp (SO_TIMESTAMPNS), taken when the
        // frame arrived: not when this thread, on a busy machine perhaps
        // milliseconds later, read it.
        #[allow(clippy::unnecessary_cast)]
        let control_len = (msg.msg_controllen as usize).min(std::mem::size_of_val(&control));
        // SAFETY: the u64 array is plain old data, viewed as its bytes.
        let control_bytes =
            unsafe { std::slice::from_raw_parts(control.as_ptr().cast::<u8>(), control_len) };
        // The kernel attaches one to every frame once SO_TIMESTAMPNS is on
        // (checked at open); a frame without one is not measured.
        let Some(t) = receive_timestamp(control_bytes) else {
            continue;
        };
        let frame = buf.get(..usize::try_from(n).unwrap_or(0)).unwrap_or(&[]);
        if let Some(kind) = decode(frame) {
            if let Ok(mut ev) = events.lock() {
                ev.push(Event { t, kind });
            }
        }
    }
    Ok(())
}

/// The `SCM_TIMESTAMPNS` of a received frame's control data, in
/// nanoseconds since the epoch.
fn receive_timestamp(control: &[u8]) -> Option<i64> {
    vrrpd::net::cmsg::iter(control)
        .find(|m| m.level == libc::SOL_SOCKET && m.kind == libc::SCM_TIMESTAMPNS)
        .and_then(|m| {
            let sec = i64::from_ne_bytes(m.data.get(..8)?.try_into().ok()?);
            let nsec = i64::from_ne_bytes(m.data.get(8..16)?.try_into().ok()?);
            Some(sec * 1_000_000_000 + nsec)
        })
}

impl Capture {
    /// Starts capturing on `dev` in `ns`, and returns once the socket is bound.
    pub fn start(ns: &Netns, dev: &str) -> Result<Capture> {
        let events = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let dev = dev.to_string();
        let (ev, st) = (events.clone(), stop.clone());
        let thread = ns.spawn_thread("capture", move || match open_socket(&dev) {
            Ok(fd) => {
                let _ = tx.send(Ok(()));
                run(fd, ev, st)
            }
            Err(e) => {
                let _ = tx.send(Err(e.clone()));
                Err(e)
            }
        })?;
        let mut cap = Capture {
            events,
            stop,
            thread: Some(thread),
        };
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => Ok(cap),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                cap.stop_now();
                Err(LabError::new("capture thread did not start"))
            }
        }
    }

    fn stop_now(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// A copy of the events captured at or after `since` (ns since epoch).
    pub fn since(&self, since: i64) -> Vec<Event> {
        let ev = match self.events.lock() {
            Ok(ev) => ev,
            Err(p) => p.into_inner(),
        };
        let start = ev.partition_point(|e| e.t < since);
        ev.get(start..).map(<[Event]>::to_vec).unwrap_or_default()
    }

    /// Waits until an event at or after `since` matches `pred`, polling
    /// every millisecond, for at most `timeout`.
    pub fn wait_for(
        &self,
        since: i64,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&Event) -> bool,
    ) -> Result<Event> {
        self.wait_for_polling(since, timeout, what, Duration::from_millis(1), pred)
    }

    /// [`wait_for`](Self::wait_for), looking at the capture every `poll`:
    /// how late after the event this returns, at most.
    pub fn wait_for_polling(
        &self,
        since: i64,
        timeout: Duration,
        what: &str,
        poll: Duration,
        pred: impl Fn(&Event) -> bool,
    ) -> Result<Event> {
        let end = Instant::now() + timeout;
        let mut from = since;
        loop {
            check_interrupted()?;
            let evs = self.since(from);
            if let Some(e) = evs.iter().find(|e| pred(e)) {
                return Ok(*e);
            }
            // Events arrive in order: later searches can start at the last one.
            if let Some(last) = evs.last() {
                from = from.max(last.t);
            }
            if Instant::now() >= end {
                return Err(LabError::new(format!(
                    "timed out after {timeout:?} waiting for {what}"
                )));
            }
            std::thread::sleep(poll);
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_timestamp_is_the_scm_timestampns_message() {
        let mut data = [0u8; 16];
        data[..8].copy_from_slice(&1_700_000_000_i64.to_ne_bytes());
        data[8..].copy_from_slice(&123_456_789_i64.to_ne_bytes());
        let mut buf = [0u8; 128];
        let ttl = vrrpd::net::cmsg::write(&mut buf, libc::IPPROTO_IP, libc::IP_TTL, &[64, 0, 0, 0])
            .unwrap();
        assert_eq!(receive_timestamp(&buf[..ttl]), None, "another message");
        let ts = vrrpd::net::cmsg::write(
            &mut buf[ttl..],
            libc::SOL_SOCKET,
            libc::SCM_TIMESTAMPNS,
            &data,
        )
        .unwrap();
        assert_eq!(
            receive_timestamp(&buf[..ttl + ts]),
            Some(1_700_000_000_123_456_789)
        );
        let short = vrrpd::net::cmsg::write(
            &mut buf,
            libc::SOL_SOCKET,
            libc::SCM_TIMESTAMPNS,
            &data[..8],
        )
        .unwrap();
        assert_eq!(
            receive_timestamp(&buf[..short]),
            None,
            "a truncated timespec"
        );
        assert_eq!(receive_timestamp(&[]), None);
    }

    #[test]
    fn decode_never_panics_on_truncations() {
        let mut frame = vec![0u8; 60];
        frame[12] = 0x08;
        frame[14] = 0x45;
        frame[23] = 112;
        frame[34] = 0x31;
        frame[35] = 51;
        frame[36] = 200;
        assert!(matches!(
            decode(&frame),
            Some(Kind::Advert {
                version: 3,
                vrid: 51,
                priority: 200,
                ..
            })
        ));
        for n in 0..frame.len() {
            let _ = decode(&frame[..n]);
        }
        frame[14] = 0x4f;
        let _ = decode(&frame);
    }
}
