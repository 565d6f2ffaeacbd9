//! The loop's packet path: the ready sockets are read, and each datagram
//! is decoded, routed to the instances of its socket and VRID, and handed
//! to their routers; what is refused is counted, and logged at a bounded
//! rate.

use std::time::{Instant, SystemTime};

use tracing::debug;

use super::driver::Driver;
use crate::net::RecvMeta;

/// The most datagrams read from one socket before the loop turns again, so
/// that a flood cannot hold off the timer.
const READ_BUDGET: usize = 64;

/// The most rounds of [`READ_BUDGET`] per socket read before a takeover:
/// enough for what queues up in a stall of seconds, and a flood can hold
/// the takeover off by about a millisecond at most.
const TAKEOVER_READ_ROUNDS: usize = 16;

/// A datagram as read, timestamped on arrival.
#[derive(Debug)]
pub(super) struct Datagram<'a> {
    /// The id of the socket it came in on.
    pub(super) socket: usize,
    /// When it arrived: the kernel's receive stamp on the monotonic clock
    /// (see [`crate::net::arrival_instant`]), or when it was read.
    pub(super) at: Instant,
    /// Its addresses, interface and hop limit.
    pub(super) meta: RecvMeta,
    /// The bytes: `meta.len` of them, IPv4 header included.
    pub(super) data: &'a [u8],
}

impl Driver {
    /// Whether a discard line for `key` may be logged now, and how many
    /// were suppressed before it.
    fn log_allowed(&mut self, key: &'static str, now: Instant) -> Option<u64> {
        allowed(self.log_limit.check(key, now))
    }

    /// Reads the sockets that `set` reports ready and handles every
    /// datagram. Returns whether they were all read dry: `false` when one
    /// used its [`READ_BUDGET`], and the set is still readable.
    pub(super) fn read_sockets(&mut self) -> std::io::Result<bool> {
        let mut ready = std::mem::take(&mut self.ready_sockets);
        let mut buf = std::mem::take(&mut self.recv_buf);
        let result = self.socket_set.ready(&mut ready);
        // A full batch may have left ready sockets in the set.
        let mut dry = ready.len() < super::sockets::MAX_READY;
        for &id in &ready {
            dry &= self.read_socket(id, &mut buf);
        }
        self.ready_sockets = ready;
        self.recv_buf = buf;
        result.map(|()| dry)
    }

    /// Reads what is queued before a due takeover is acted on. An advert
    /// that arrived in time but is still unread, because the host stalled
    /// (a paused VM, a starved CPU) or the loop was busy, restarts
    /// Master_Down_Timer from its arrival (RFC 9568 §6.4.2) and so cancels
    /// the takeover; without this a stalled Backup would take the VIPs on
    /// resume and hand them back at the next advert. With the sockets
    /// empty, the usual case when the Active died, it costs one
    /// `epoll_wait`.
    pub(super) fn read_before_takeover(&mut self) -> std::io::Result<()> {
        for _ in 0..TAKEOVER_READ_ROUNDS {
            if self.read_sockets()? {
                break;
            }
        }
        Ok(())
    }

    /// Reads socket `id` until it would block, at most [`READ_BUDGET`]
    /// datagrams; returns whether it was read dry.
    fn read_socket(&mut self, id: usize, buf: &mut [u8]) -> bool {
        for _ in 0..READ_BUDGET {
            let Some(entry) = self.sockets.get(&id) else {
                return true;
            };
            let quiet_since = entry.quiet_since;
            match entry.socket.recv(buf) {
                Ok(meta) => {
                    let (now, wall_now) = (Instant::now(), SystemTime::now());
                    let at = crate::net::arrival_instant(meta.arrival, now, wall_now, quiet_since);
                    let data = buf.get(..meta.len).unwrap_or(buf);
                    self.on_datagram(&Datagram {
                        socket: id,
                        at,
                        meta,
                        data,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if let Some(entry) = self.sockets.get_mut(&id) {
                        entry.quiet_since = Instant::now();
                    }
                    return true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Consumed (truncated, no ancillary data): read on.
                    debug!(interface = %entry.interface, error = %e, "receive");
                }
            }
        }
        false
    }

    /// Decodes `dg` and hands it to the routers it is for.
    pub(super) fn on_datagram(&mut self, dg: &Datagram<'_>) {
        let received = match dg.meta.received(dg.data) {
            Ok(r) => r,
            Err(e) => {
                if let Some(suppressed) = self.log_allowed(e.code(), dg.at) {
                    debug!(src = %dg.meta.src, error = %e, suppressed, "undecodable VRRP packet");
                }
                *self
                    .global_discards
                    .entry(e.code().to_string())
                    .or_default() += 1;
                return;
            }
        };
        let Some(&vrid) = received.payload().get(1) else {
            *self
                .global_discards
                .entry("packet_length".to_string())
                .or_default() += 1;
            return;
        };
        let mut targets = std::mem::take(&mut self.route_targets);
        self.route(dg.socket, vrid, &mut targets);
        let matched = !targets.is_empty();
        for &i in &targets {
            let inst = &mut self.instances[i];
            if let Err(discard) = inst.router.handle_advertisement(dg.at, &received) {
                inst.extra.discard(discard.code());
                let verdict = self.log_limit.check(discard.code(), dg.at);
                if let Some(suppressed) = allowed(verdict) {
                    let inst = &self.instances[i];
                    debug!(instance = inst.name(), src = %dg.meta.src, ?discard, suppressed, "advertisement discarded");
                }
            }
            self.drain(i, dg.at);
        }
        self.route_targets = targets;
        if !matched {
            if let Some(suppressed) = self.log_allowed("vrid_mismatch", dg.at) {
                debug!(src = %dg.meta.src, vrid, suppressed, "advertisement for a VRID not configured here");
            }
            *self
                .global_discards
                .entry("vrid_mismatch".to_string())
                .or_default() += 1;
        }
    }

    /// Replaces `found` with the instances that a datagram on `socket` for
    /// `vrid` is for.
    fn route(&mut self, socket: usize, vrid: u8, found: &mut Vec<usize>) {
        self.build_routes();
        let instances = &self.instances;
        let routes = self.routes.as_deref().unwrap_or_default();
        let first = routes.partition_point(|&(s, v, _)| (s, v) < (socket, vrid));
        found.clear();
        found.extend(
            routes[first..]
                .iter()
                .take_while(|&&(s, v, _)| (s, v) == (socket, vrid))
                .map(|&(_, _, i)| i),
        );
        // A stale table would point at other instances.
        debug_assert!(
            found
                .iter()
                .all(|&i| instances[i].socket == socket && instances[i].vrid() == vrid),
            "stale datagram routes: instances changed without instances_changed()"
        );
    }

    /// Builds the datagram routes if `instances` changed since they were.
    pub(super) fn build_routes(&mut self) {
        if self.routes.is_none() {
            let mut routes: Vec<(usize, u8, usize)> = self
                .instances
                .iter()
                .enumerate()
                .map(|(i, inst)| (inst.socket, inst.vrid(), i))
                .collect();
            routes.sort_unstable();
            self.routes = Some(routes);
        }
    }
}

/// The suppressed count to log with a line, or `None` to drop the line.
fn allowed(verdict: crate::ratelimit::Verdict) -> Option<u64> {
    use crate::ratelimit::Verdict;
    match verdict {
        Verdict::Log => Some(0),
        Verdict::LogAfterSuppressing(n) => Some(n),
        Verdict::Suppress => None,
    }
}
