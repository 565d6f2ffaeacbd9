//! The loop's inputs: raw VRRP sockets with their reader tasks, the
//! netlink event stream, and the optional channels (reloads, control
//! requests) that never complete when absent.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, warn};
use vrrp_netaddr::{Event, EventStream};

use crate::config::{AddressFamily, Config};
use crate::control::Incoming;
use crate::net::{RECV_BUFFER_LEN, RecvMeta, VrrpSocket, VrrpSocketV4, VrrpSocketV6};

/// A datagram from a reader task.
#[derive(Debug)]
pub(crate) struct Datagram {
    pub(crate) socket: usize,
    pub(crate) at: Instant,
    pub(crate) meta: RecvMeta<IpAddr>,
    pub(crate) data: Vec<u8>,
}

/// One raw socket and its reader task. Dropping it stops the reader and
/// closes the socket.
#[derive(Debug)]
pub(crate) struct SocketEntry {
    pub(crate) family: AddressFamily,
    pub(crate) interface: String,
    /// The interface it is bound to: a re-created interface of the same
    /// name has another index and needs a new socket.
    pub(crate) ifindex: vrrp_netaddr::IfIndex,
    pub(crate) fd: Arc<AsyncFd<VrrpSocket>>,
    pub(crate) reader: JoinHandle<()>,
}

impl Drop for SocketEntry {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// The next control request; never completes without a socket.
pub(crate) async fn next_request(rx: &mut Option<mpsc::Receiver<Incoming>>) -> Option<Incoming> {
    match rx {
        Some(r) => match r.recv().await {
            Some(i) => Some(i),
            None => {
                *rx = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

/// The next configuration to reload; never completes without a channel.
pub(crate) async fn next_reload(
    reloads: &mut Option<mpsc::UnboundedReceiver<Config>>,
) -> Option<Config> {
    match reloads {
        Some(rx) => match rx.recv().await {
            Some(c) => Some(c),
            None => {
                *reloads = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

/// Waits for netlink events and returns every queued one; never completes
/// without a stream.
pub(crate) async fn read_events(events: &mut Option<AsyncFd<EventStream>>) -> Vec<Event> {
    let Some(fd) = events else {
        return std::future::pending().await;
    };
    let mut out = Vec::new();
    let mut guard = match fd.readable_mut().await {
        Ok(g) => g,
        Err(e) => {
            warn!(error = %e, "netlink event socket failed; link events are off");
            *events = None;
            return out;
        }
    };
    loop {
        match guard.get_inner_mut().try_recv() {
            Ok(Some(ev)) => out.push(ev),
            Ok(None) => {
                guard.clear_ready();
                break;
            }
            Err(e) => {
                warn!(error = %e, "netlink event");
                guard.clear_ready();
                break;
            }
        }
    }
    out
}

/// Reads datagrams from one socket forever, timestamped on arrival.
async fn reader(socket: usize, fd: Arc<AsyncFd<VrrpSocket>>, tx: mpsc::UnboundedSender<Datagram>) {
    let mut buf = vec![0u8; RECV_BUFFER_LEN];
    loop {
        let mut guard = match fd.readable().await {
            Ok(g) => g,
            Err(e) => {
                warn!(interface = fd.get_ref().interface(), error = %e, "VRRP socket failed");
                return;
            }
        };
        match guard.try_io(|s| s.get_ref().recv(&mut buf)) {
            Ok(Ok(meta)) => {
                let at = Instant::now();
                let data = buf.get(..meta.len).unwrap_or(&buf).to_vec();
                if tx
                    .send(Datagram {
                        socket,
                        at,
                        meta,
                        data,
                    })
                    .is_err()
                {
                    return;
                }
            }
            Ok(Err(e)) => debug!(interface = fd.get_ref().interface(), error = %e, "receive"),
            Err(_would_block) => {}
        }
    }
}

/// Opens the raw socket of `family` on `interface` (index `ifindex`) and
/// starts its reader, which tags datagrams with `id`.
pub(crate) fn open_socket(
    id: usize,
    family: AddressFamily,
    interface: &str,
    ifindex: vrrp_netaddr::IfIndex,
    tx: &mpsc::UnboundedSender<Datagram>,
) -> std::io::Result<SocketEntry> {
    let socket: VrrpSocket = match family {
        AddressFamily::Ipv4 => VrrpSocketV4::open(interface)?.into(),
        AddressFamily::Ipv6 => VrrpSocketV6::open(interface)?.into(),
    };
    let fd = Arc::new(socket.into_async()?);
    let reader = tokio::spawn(reader(id, Arc::clone(&fd), tx.clone()));
    Ok(SocketEntry {
        family,
        interface: interface.to_string(),
        ifindex,
        fd,
        reader,
    })
}
