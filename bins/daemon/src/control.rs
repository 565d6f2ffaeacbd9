//! The control socket: a unix stream socket (mode 0600, root only by peer
//! credentials) on which `vrrpctl` asks for status, counters or a reload.
//!
//! The protocol is one JSON [`Request`] line in, one JSON [`Response`] line
//! out, then the connection closes. The server hands each request to the
//! daemon's loop on a channel, so the loop answers from its own state.
//! [`Request::Watch`] is the exception: its answer is a stream of
//! [`WatchEvent`] lines, until the client goes away.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, oneshot};

mod watch;

pub use watch::{MAX_EVENT_LINE, WATCH_BACKLOG, WatchEvent, watch};

/// The longest request line accepted.
pub const MAX_REQUEST: usize = 4096;

/// What `vrrpctl` asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    /// Every instance's state.
    Status,
    /// Every instance's counters.
    Stats,
    /// Re-read the configuration (as SIGHUP does).
    Reload,
    /// The LVS half: virtual servers and their real servers.
    Lvs,
    /// A live stream of [`WatchEvent`]s, one JSON line each, until the
    /// client closes the connection (`vrrpctl watch`).
    Watch,
}

/// The daemon's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    /// For [`Request::Status`].
    Status {
        /// One entry per instance, in configuration order.
        instances: Vec<InstanceStatus>,
    },
    /// For [`Request::Stats`].
    Stats {
        /// Packets refused before they reached an instance (RFC 8347's
        /// global statistics: `checksum_errors`, `version_errors`,
        /// `vrid_errors`, `ip_ttl_errors`, ...), by
        /// [`Discard::code`](vrrp_core::router::Discard::code) or
        /// [`WireError::code`](vrrp_core::wire::WireError::code).
        #[serde(default)]
        global: BTreeMap<String, u64>,
        /// One entry per instance, in configuration order.
        instances: Vec<InstanceStats>,
    },
    /// For [`Request::Reload`].
    Reloaded {
        /// Whether the new configuration was taken.
        ok: bool,
        /// What changed, or why it was refused.
        message: String,
    },
    /// For [`Request::Lvs`].
    Lvs {
        /// One entry per virtual server, in configuration order.
        virtual_servers: Vec<crate::lvs::VirtualServerStatus>,
    },
    /// The request could not be served.
    Error {
        /// Why.
        message: String,
    },
}

/// The last state change of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastTransition {
    /// Milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The state left.
    pub from: String,
    /// The state entered.
    pub to: String,
    /// Why (a [`vrrp_core::router::Reason`] name).
    pub reason: String,
}

/// One instance in `vrrpctl status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceStatus {
    /// Instance name.
    pub name: String,
    /// Interface.
    pub interface: String,
    /// VRID.
    pub vrid: u8,
    /// 2 or 3.
    pub version: u8,
    /// `initialize`, `backup`, `active` or `fault`.
    pub state: String,
    /// Configured priority.
    pub priority: u8,
    /// Priority after tracking.
    pub effective_priority: u8,
    /// Master_Adver_Interval in milliseconds.
    pub master_adver_interval_ms: u64,
    /// The current Active router's address, if known.
    pub active_router: Option<String>,
    /// The VIPs, as configured.
    pub vips: Vec<String>,
    /// Whether this host holds them now.
    pub holds_vips: bool,
    /// The last transition.
    pub last_transition: Option<LastTransition>,
    /// Why the instance is not running yet, while it waits for its
    /// interface, an address or a device (its state is then `fault`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
    /// Whether its VIPs are on the host as the kernel confirmed them: it
    /// holds them, no install is in flight and none failed.
    #[serde(default)]
    pub vips_installed: bool,
    /// Its trackers (keepalived's `track_*`), with the weight each applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trackers: Vec<TrackerStatus>,
}

/// One tracker of an instance in `vrrpctl status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerStatus {
    /// The keepalived keyword that tracks it: `track_interface`,
    /// `track_script`, `track_tcp`, `track_http`, `track_file`,
    /// `track_process` or `track_src_ip`.
    pub kind: String,
    /// The tracker's name (an interface name for `interface`).
    pub name: String,
    /// Its result: up, or for a `track_file`, a value that does not fault.
    pub up: bool,
    /// The priority adjustment it applies now; `None` while it puts the
    /// instance in Fault.
    pub weight_applied: Option<i64>,
}

/// How often an instance entered a state for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionCount {
    /// The state entered.
    pub to: String,
    /// Why (a [`vrrp_core::router::Reason`] name).
    pub reason: String,
    /// How many times.
    pub count: u64,
}

/// One instance in `vrrpctl stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceStats {
    /// Instance name.
    pub name: String,
    /// The RFC 8347 counters ([`vrrp_core::router::Stats::named`]).
    pub counters: BTreeMap<String, u64>,
    /// Discards by reason code ([`vrrp_core::router::Discard::code`]).
    pub discards: BTreeMap<String, u64>,
    /// Transitions into each state.
    pub transitions: BTreeMap<String, u64>,
    /// The last transition.
    pub last_transition: Option<LastTransition>,
    /// Local failures by kind, such as `address_install_failed` (the
    /// kernel or the ledger refused a VIP) and `interface_lost`.
    #[serde(default)]
    pub errors: BTreeMap<String, u64>,
    /// Transitions by the state entered and the reason.
    #[serde(default)]
    pub transitions_by_reason: Vec<TransitionCount>,
}

/// Why the control socket failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// Socket-level failure, with the path.
    #[error("{path}: {source}")]
    Io {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The peer sent something that is not a valid message.
    #[error("bad message: {0}")]
    Protocol(String),
}

/// A request from a client, with the way back.
#[derive(Debug)]
pub struct Incoming {
    /// What was asked.
    pub request: Request,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Response>,
}

/// Binds the socket at `path` (replacing a stale one), mode 0600, and
/// serves it until the returned handle is aborted: requests go to the
/// daemon's loop on `requests`, and [`Request::Watch`] clients get what is
/// sent on `events`.
pub fn serve(
    path: &Path,
    requests: mpsc::Sender<Incoming>,
    events: broadcast::Sender<WatchEvent>,
) -> Result<tokio::task::JoinHandle<()>, ControlError> {
    let io = |source| ControlError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let tx = requests.clone();
            let events = events.subscribe();
            tokio::spawn(async move {
                if let Err(e) = handle(stream, tx, events).await {
                    tracing::debug!("control connection: {e}");
                }
            });
        }
    });
    Ok(task)
}

/// Whether the peer may talk to us: root, or our own effective uid.
fn peer_allowed(stream: &UnixStream) -> bool {
    match stream.peer_cred() {
        Ok(cred) => cred.uid() == 0 || cred.uid() == nix::unistd::geteuid().as_raw(),
        Err(_) => false,
    }
}

async fn handle(
    stream: UnixStream,
    tx: mpsc::Sender<Incoming>,
    events: broadcast::Receiver<WatchEvent>,
) -> Result<(), String> {
    if !peer_allowed(&stream) {
        return Err("peer refused: not root".into());
    }
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = tokio::io::BufReader::new(read.take(MAX_REQUEST as u64));
    let read_line = reader.read_line(&mut line);
    tokio::time::timeout(Duration::from_secs(5), read_line)
        .await
        .map_err(|_| "request timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let response = match serde_json::from_str::<Request>(line.trim()) {
        Err(e) => Response::Error {
            message: format!("bad request: {e}"),
        },
        Ok(Request::Watch) => return watch::stream_events(events, reader, write).await,
        Ok(request) => {
            let (reply, answer) = oneshot::channel();
            if tx.send(Incoming { request, reply }).await.is_err() {
                Response::Error {
                    message: "daemon is stopping".into(),
                }
            } else {
                answer.await.unwrap_or(Response::Error {
                    message: "daemon dropped the request".into(),
                })
            }
        }
    };
    let mut out = serde_json::to_string(&response).map_err(|e| e.to_string())?;
    out.push('\n');
    write
        .write_all(out.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The client side, blocking: sends `request` to the socket at `path` and
/// reads the answer.
pub fn request(
    path: &Path,
    request: &Request,
    timeout: Duration,
) -> Result<Response, ControlError> {
    let io = |source| ControlError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut stream = std::os::unix::net::UnixStream::connect(path).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let mut line =
        serde_json::to_string(request).map_err(|e| ControlError::Protocol(e.to_string()))?;
    line.push('\n');
    stream.write_all(line.as_bytes()).map_err(io)?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).map_err(io)?;
    serde_json::from_str(answer.trim()).map_err(|e| ControlError::Protocol(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_a_stable_wire_form() {
        assert_eq!(
            serde_json::to_string(&Request::Status).unwrap(),
            r#"{"cmd":"status"}"#
        );
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"cmd":"reload"}"#).unwrap(),
            Request::Reload
        );
        assert!(serde_json::from_str::<Request>(r#"{"cmd":"rm -rf"}"#).is_err());
    }

    #[test]
    fn a_request_round_trips_through_the_socket_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctl.sock");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (tx, mut rx) = mpsc::channel(4);
        let (events, _) = broadcast::channel(4);
        let task = rt.block_on(async { serve(&path, tx, events) }).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let client_path = path.clone();
        let client = std::thread::spawn(move || {
            request(&client_path, &Request::Reload, Duration::from_secs(5)).unwrap()
        });
        rt.block_on(async {
            let incoming = rx.recv().await.unwrap();
            assert_eq!(incoming.request, Request::Reload);
            incoming
                .reply
                .send(Response::Reloaded {
                    ok: false,
                    message: "vrrpd.toml:3:1: error".into(),
                })
                .unwrap();
            // Let the connection task write the answer.
            for _ in 0..100 {
                if client.is_finished() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        let answer = client.join().unwrap();
        assert_eq!(
            answer,
            Response::Reloaded {
                ok: false,
                message: "vrrpd.toml:3:1: error".into()
            }
        );
        task.abort();
    }

    #[test]
    fn garbage_gets_an_error_response() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctl.sock");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (tx, _rx) = mpsc::channel(4);
        let (events, _) = broadcast::channel(4);
        let task = rt.block_on(async { serve(&path, tx, events) }).unwrap();
        let client_path = path.clone();
        let client = std::thread::spawn(move || {
            let mut s = std::os::unix::net::UnixStream::connect(&client_path).unwrap();
            s.write_all(b"not json\n").unwrap();
            let mut answer = String::new();
            BufReader::new(s).read_line(&mut answer).unwrap();
            answer
        });
        rt.block_on(async {
            for _ in 0..200 {
                if client.is_finished() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        let answer = client.join().unwrap();
        assert!(answer.contains(r#""kind":"error""#), "{answer}");
        task.abort();
    }
}
