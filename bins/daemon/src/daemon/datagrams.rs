//! The loop's packet path: the ready sockets are read, and each datagram
//! is decoded and handed to the engine, which routes it to the instances
//! of its socket and VRID and counts what they refuse.

use std::time::{Instant, SystemTime};

use tracing::debug;

use super::shell::Shell;
use crate::engine::SocketId;
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

impl Shell {
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

    /// Decodes `dg` and hands it to the engine, then carries out what it
    /// asked for.
    pub(super) fn on_datagram(&mut self, dg: &Datagram<'_>) {
        match dg.meta.received(dg.data) {
            Ok(received) => {
                self.engine
                    .handle_datagram(dg.at, SocketId(dg.socket), &received);
            }
            Err(e) => self.engine.handle_undecodable(dg.at, e.code(), &e),
        }
        self.run_actions(dg.at);
    }
}
