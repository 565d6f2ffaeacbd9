//! The loop's inputs beside the VRRP sockets (see [`super::sockets`]): the
//! netlink event stream, and the optional channels (reloads, control
//! requests) that never complete when absent.

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use tracing::warn;
use vrrp_netaddr::{Event, EventStream};

use crate::config::Config;
use crate::control::Incoming;

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

/// The next dump asked for; never completes without a channel.
pub(crate) async fn next_dump(
    dumps: &mut Option<mpsc::UnboundedReceiver<crate::dump::DumpKind>>,
) -> Option<crate::dump::DumpKind> {
    match dumps {
        Some(rx) => match rx.recv().await {
            Some(k) => Some(k),
            None => {
                *dumps = None;
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
