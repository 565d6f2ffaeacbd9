//! The client's probes of the VIP: ICMP echo requests at a fixed period
//! from a raw socket in the client namespace. Replies are not read here:
//! the capture sees them, with the MAC of the host that answered.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::Result;
use super::ns::Netns;

/// A running prober; stops on drop.
#[derive(Debug)]
pub struct Prober {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<std::io::Result<Result<()>>>>,
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum = sum.wrapping_add(u32::from(word));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn echo_request(id: u16, seq: u16) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[0] = 8;
    p[4..6].copy_from_slice(&id.to_be_bytes());
    p[6..8].copy_from_slice(&seq.to_be_bytes());
    p[8..16].copy_from_slice(b"vrrp-lab");
    let c = checksum(&p);
    p[2..4].copy_from_slice(&c.to_be_bytes());
    p
}

impl Prober {
    /// Sends an echo request to `target` every `period`, from `ns`.
    pub fn start(ns: &Netns, target: Ipv4Addr, period: Duration) -> Result<Prober> {
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = ns.spawn_thread("probe", move || -> Result<()> {
            let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?;
            // Replies are read from the capture; keep this queue tiny.
            let _ = sock.set_recv_buffer_size(1);
            let _ = sock.set_nonblocking(true);
            let dst = SockAddr::from(SocketAddrV4::new(target, 0));
            let id = (std::process::id() & 0xffff) as u16;
            let mut seq: u16 = 0;
            let mut next = Instant::now();
            while !st.load(Ordering::Relaxed) {
                seq = seq.wrapping_add(1);
                // Errors (no route or neighbour yet) are a failed probe.
                let _ = sock.send_to(&echo_request(id, seq), &dst);
                next += period;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                } else {
                    next = now;
                }
            }
            Ok(())
        })?;
        Ok(Prober {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_request_checksums_to_zero() {
        assert_eq!(checksum(&echo_request(0x1234, 7)), 0);
    }
}
