//! The raw VRRP sockets, read by the loop itself.
//!
//! Every socket sits in one inner epoll set, which tokio watches as a
//! single descriptor. A wake-up asks that set which sockets are ready, and
//! the loop reads them into one buffer: no task or channel per socket and
//! no allocation per datagram. With 1,000 routers a Backup receives
//! 10,000 adverts a second; the reader task, the channel hop and the copy
//! cost it about 5 % of its CPU.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use tokio::io::unix::AsyncFd;

use crate::config::AddressFamily;
use crate::net::VrrpSocket;

/// A [`SocketSet`]'s registration with tokio (see [`SocketSet::watch`]): a
/// duplicate of the set's descriptor, so that it owns what tokio watches.
#[derive(Debug)]
pub(crate) struct Watch(OwnedFd);

impl AsRawFd for Watch {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// The most ready sockets taken from the set in one call; the rest come in
/// the next.
pub(crate) const MAX_READY: usize = 64;

/// An epoll set of VRRP sockets, level-triggered, each tagged with its id.
#[derive(Debug)]
pub(crate) struct SocketSet(Epoll);

impl SocketSet {
    /// An empty set.
    pub(crate) fn new() -> io::Result<Self> {
        Ok(SocketSet(Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?))
    }

    /// Registers the set with the current tokio runtime: the watch is
    /// readable while a socket in the set is.
    ///
    /// Dropping the watch deregisters the set, and that is what the loop's
    /// hold does: while registered, every datagram that arrives wakes the
    /// runtime's thread, even when no task is waiting on the watch.
    pub(crate) fn watch(&self) -> io::Result<AsyncFd<Watch>> {
        let watch = Watch(self.0.0.try_clone()?);
        // SAFETY: the watch owns its descriptor (a duplicate of the set's)
        // for its whole life and never replaces it; the AsyncFd owns the
        // watch.
        unsafe { AsyncFd::register(watch) }.map_err(io::Error::from)
    }

    /// Adds `socket`, tagged `id`. It leaves the set when it is closed
    /// (epoll(7)): the daemon never duplicates these descriptors.
    fn add(&self, socket: impl AsFd, id: usize) -> io::Result<()> {
        let event = EpollEvent::new(EpollFlags::EPOLLIN, id as u64);
        Ok(self.0.add(socket, event)?)
    }

    /// Replaces `ready` with the ids of the sockets that hold datagrams
    /// now, without waiting; empty when none does.
    pub(crate) fn ready(&self, ready: &mut Vec<usize>) -> io::Result<()> {
        ready.clear();
        let mut events = [EpollEvent::empty(); MAX_READY];
        let n = match self.0.wait(&mut events, EpollTimeout::ZERO) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        ready.extend(
            events
                .iter()
                .take(n.min(MAX_READY))
                .map(|e| usize::try_from(e.data()).unwrap_or(usize::MAX)),
        );
        Ok(())
    }
}

/// One open raw socket. Dropping it closes the socket, which takes it out
/// of the set.
#[derive(Debug)]
pub(crate) struct SocketEntry {
    /// Its address family.
    pub(crate) family: AddressFamily,
    /// The interface's name, for log lines.
    pub(crate) interface: String,
    /// The interface it is bound to: a re-created interface of the same
    /// name has another index and needs a new socket.
    pub(crate) ifindex: vrrp_netaddr::IfIndex,
    /// The socket, non-blocking.
    pub(crate) socket: VrrpSocket,
    /// When the socket was last seen empty (or opened): whatever is read
    /// from it now arrived later, which bounds a kernel receive stamp that
    /// a realtime clock step made lie (see [`crate::net::arrival_instant`]).
    pub(crate) quiet_since: std::time::Instant,
}

/// Opens the raw socket of `family` on `interface` (index `ifindex`) and
/// adds it to `set` as `id`.
pub(crate) fn open_socket(
    set: &SocketSet,
    id: usize,
    family: AddressFamily,
    interface: &str,
    ifindex: vrrp_netaddr::IfIndex,
) -> io::Result<SocketEntry> {
    let socket = VrrpSocket::open(family, interface)?;
    set.add(&socket, id)?;
    Ok(SocketEntry {
        family,
        interface: interface.to_string(),
        ifindex,
        socket,
        quiet_since: std::time::Instant::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    /// The set reports exactly the members that hold data, by id, and
    /// forgets a member once it is closed.
    #[tokio::test]
    async fn reports_ready_members_by_id() {
        let set = SocketSet::new().unwrap();
        let watch = set.watch().unwrap();
        let (a_tx, a_rx) = UnixDatagram::pair().unwrap();
        let (b_tx, b_rx) = UnixDatagram::pair().unwrap();
        set.add(a_rx.as_fd(), 7).unwrap();
        set.add(b_rx.as_fd(), 9).unwrap();
        let mut ready = vec![42];
        set.ready(&mut ready).unwrap();
        assert!(ready.is_empty(), "nothing was sent yet: {ready:?}");

        b_tx.send(b"x").unwrap();
        set.ready(&mut ready).unwrap();
        assert_eq!(ready, [9]);
        // Level-triggered: still ready until read.
        set.ready(&mut ready).unwrap();
        assert_eq!(ready, [9]);

        a_tx.send(b"y").unwrap();
        let mut buf = [0u8; 4];
        b_rx.recv(&mut buf).unwrap();
        set.ready(&mut ready).unwrap();
        assert_eq!(ready, [7]);

        drop(a_rx);
        set.ready(&mut ready).unwrap();
        assert!(ready.is_empty(), "a closed member left the set: {ready:?}");

        // The set as a whole is readable through tokio while a member is,
        // and again after the loop read it dry and cleared the readiness.
        let wait = std::time::Duration::from_secs(5);
        for round in 0..3 {
            b_tx.send(b"z").unwrap();
            let mut guard = tokio::time::timeout(wait, watch.readable())
                .await
                .unwrap_or_else(|_| panic!("round {round}: the set became readable"))
                .unwrap();
            set.ready(&mut ready).unwrap();
            assert_eq!(ready, [9], "round {round}");
            b_rx.recv(&mut buf).unwrap();
            set.ready(&mut ready).unwrap();
            assert!(ready.is_empty(), "round {round}: read dry");
            guard.clear_ready();
        }

        // A set that became readable while it had no watch (the loop's
        // hold) is readable at once through a new one.
        drop(watch);
        b_tx.send(b"held").unwrap();
        let watch = set.watch().unwrap();
        let guard = tokio::time::timeout(wait, watch.readable())
            .await
            .expect("a new watch sees what arrived before it")
            .unwrap();
        drop(guard);
    }
}
