//! Packet capture in the client namespace: an AF_PACKET socket with kernel
//! receive timestamps (CLOCK_REALTIME, nanoseconds), decoded into the few
//! events the lab measures. Frames are untrusted: anything malformed is
//! skipped, never a panic.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use vrrp_arp::{Announcement, FrameCapture, PacketType};

use super::ns::{Netns, NsThread};
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
    _thread: NsThread,
}

fn open_socket(dev: &str) -> Result<FrameCapture> {
    let capture = FrameCapture::open_by_name(dev)
        .map_err(|e| LabError::new(format!("capture socket on {dev}: {e}")))?;
    capture
        .set_read_timeout(Some(Duration::from_millis(20)))
        .map_err(|e| LabError::new(format!("capture socket on {dev}: {e}")))?;
    Ok(capture)
}

fn run(socket: FrameCapture, events: &Mutex<Vec<Event>>, stop: &AtomicBool) -> Result<()> {
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let got = match socket.recv(&mut buf) {
            Ok(got) => got,
            Err(e) if e.is_would_block() => continue,
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) => return Err(LabError::new(format!("capture: {e}"))),
        };
        if got.packet_type == PacketType::Outgoing {
            continue;
        }
        // The kernel's receive timestamp (SO_TIMESTAMPNS), taken when the
        // frame arrived: not when this thread, on a busy machine perhaps
        // milliseconds later, read it. The kernel attaches one to every
        // frame once it is on; a frame without one is not measured.
        let Some(t) = got.timestamp.and_then(epoch_ns) else {
            continue;
        };
        if let Some(kind) = decode(got.frame) {
            if let Ok(mut ev) = events.lock() {
                ev.push(Event { t, kind });
            }
        }
    }
    Ok(())
}

/// A receive timestamp in nanoseconds since the epoch.
fn epoch_ns(t: SystemTime) -> Option<i64> {
    let d = t.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_nanos()).ok()
}

impl Capture {
    /// Starts capturing on `dev` in `ns`, and returns once the socket is bound.
    pub fn start(ns: &Netns, dev: &str) -> Result<Capture> {
        let events = Arc::new(Mutex::new(Vec::new()));
        let dev = dev.to_string();
        let ev = events.clone();
        let thread = NsThread::start(
            ns,
            "capture",
            "capture thread",
            move || open_socket(&dev),
            move |socket, stop| run(socket, &ev, stop),
        )?;
        Ok(Capture {
            events,
            _thread: thread,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_stamps_become_epoch_nanoseconds() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        assert_eq!(epoch_ns(t), Some(1_700_000_000_123_456_789));
        assert_eq!(epoch_ns(UNIX_EPOCH - Duration::from_secs(1)), None);
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
