//! `vrrpctl watch` ([`Request::Watch`]): the events, the server's stream
//! of JSON lines and the blocking client.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast;

use super::{ControlError, Request, Response};

/// One line of `vrrpctl watch` ([`Request::Watch`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WatchEvent {
    /// An instance changed state.
    State {
        /// Milliseconds since the Unix epoch.
        at_unix_ms: u64,
        /// The instance.
        instance: String,
        /// The state left.
        from: String,
        /// The state entered.
        to: String,
        /// Why (a [`vrrp_core::router::Reason`] name).
        reason: String,
        /// Its effective priority.
        priority: u8,
    },
    /// An instance's effective priority changed (tracking).
    Priority {
        /// Milliseconds since the Unix epoch.
        at_unix_ms: u64,
        /// The instance.
        instance: String,
        /// The priority before.
        from: u8,
        /// The priority now.
        to: u8,
    },
    /// A tracker of an instance changed its result.
    Tracker {
        /// Milliseconds since the Unix epoch.
        at_unix_ms: u64,
        /// The instance.
        instance: String,
        /// As [`TrackerStatus::kind`](super::TrackerStatus::kind).
        kind: String,
        /// The tracker.
        name: String,
        /// Its result now.
        up: bool,
    },
    /// An advertisement was refused.
    Discard {
        /// Milliseconds since the Unix epoch.
        at_unix_ms: u64,
        /// The instance that refused it; `None` when it reached none
        /// (an unknown VRID, a bad checksum).
        instance: Option<String>,
        /// Why ([`vrrp_core::router::Discard::code`] or
        /// [`vrrp_core::wire::WireError::code`]).
        reason: String,
    },
    /// The client read too slowly and this many events were dropped.
    Lagged {
        /// How many.
        missed: u64,
    },
}

impl std::fmt::Display for WatchEvent {
    /// One line for people (`vrrpctl watch` without `--json`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WatchEvent::State {
                instance,
                from,
                to,
                reason,
                priority,
                ..
            } => write!(
                f,
                "state     {instance}: {from} -> {to} ({reason}, priority {priority})"
            ),
            WatchEvent::Priority {
                instance, from, to, ..
            } => write!(f, "priority  {instance}: {from} -> {to}"),
            WatchEvent::Tracker {
                instance,
                kind,
                name,
                up,
                ..
            } => {
                let result = if *up { "up" } else { "down" };
                write!(f, "tracker   {instance}: {kind} {name} {result}")
            }
            WatchEvent::Discard {
                instance, reason, ..
            } => match instance {
                Some(i) => write!(f, "discard   {i}: {reason}"),
                None => write!(f, "discard   (no instance): {reason}"),
            },
            WatchEvent::Lagged { missed } => {
                write!(f, "lagged    {missed} events dropped (reading too slowly)")
            }
        }
    }
}

/// How many [`WatchEvent`]s a slow `vrrpctl watch` may fall behind before
/// it is told it lost some ([`WatchEvent::Lagged`]).
pub const WATCH_BACKLOG: usize = 1024;

/// Writes every event to a `watch` client, one JSON line each, until it
/// closes its end or the daemon stops. A write that takes longer than 5 s
/// ends the stream: a stuck client must not hold a task for good.
pub(super) async fn stream_events(
    mut events: broadcast::Receiver<WatchEvent>,
    mut reader: impl tokio::io::AsyncRead + Unpin,
    mut write: impl tokio::io::AsyncWrite + Unpin,
) -> Result<(), String> {
    let mut sink = [0u8; 64];
    loop {
        let event = tokio::select! {
            r = events.recv() => match r {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(missed)) => WatchEvent::Lagged { missed },
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            // The client closed its end (or sent more, which is ignored).
            n = reader.read(&mut sink) => match n {
                Ok(0) | Err(_) => return Ok(()),
                Ok(_) => continue,
            },
        };
        let mut out = serde_json::to_string(&event).map_err(|e| e.to_string())?;
        out.push('\n');
        tokio::time::timeout(Duration::from_secs(5), write.write_all(out.as_bytes()))
            .await
            .map_err(|_| "watch client stopped reading".to_string())?
            .map_err(|e| e.to_string())?;
    }
}

/// The client side of [`Request::Watch`], blocking: hands each event to
/// `on_event` until it returns false, the daemon stops (`Ok`), or the
/// connection fails. Lines are at most [`MAX_EVENT_LINE`] bytes.
pub fn watch(
    path: &Path,
    mut on_event: impl FnMut(WatchEvent) -> bool,
) -> Result<(), ControlError> {
    let io = |source| ControlError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut stream = std::os::unix::net::UnixStream::connect(path).map_err(io)?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .map_err(io)?;
    let mut line = serde_json::to_string(&Request::Watch)
        .map_err(|e| ControlError::Protocol(e.to_string()))?;
    line.push('\n');
    stream.write_all(line.as_bytes()).map_err(io)?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut answer = String::new();
        let n = std::io::Read::take(&mut reader, MAX_EVENT_LINE as u64)
            .read_line(&mut answer)
            .map_err(io)?;
        if n == 0 {
            return Ok(());
        }
        if !answer.ends_with('\n') {
            return Err(ControlError::Protocol(format!(
                "an event line longer than {MAX_EVENT_LINE} bytes"
            )));
        }
        let event: WatchEvent = match serde_json::from_str(answer.trim()) {
            Ok(e) => e,
            // An error response (an older daemon): say what it said.
            Err(e) => match serde_json::from_str::<Response>(answer.trim()) {
                Ok(Response::Error { message }) => return Err(ControlError::Protocol(message)),
                _ => return Err(ControlError::Protocol(e.to_string())),
            },
        };
        if !on_event(event) {
            return Ok(());
        }
    }
}

/// The longest event line [`watch`] accepts.
pub const MAX_EVENT_LINE: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use tokio::sync::{broadcast, mpsc};

    use super::*;
    use crate::control::serve;

    #[test]
    fn watch_streams_events_as_json_lines_until_the_client_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctl.sock");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (tx, _rx) = mpsc::channel(4);
        let (events, _) = broadcast::channel(4);
        let task = rt
            .block_on(async { serve(&path, tx, events.clone()) })
            .unwrap();
        let client_path = path.clone();
        let client = std::thread::spawn(move || {
            let mut got = Vec::new();
            watch(&client_path, |e| {
                got.push(e);
                got.len() < 2
            })
            .unwrap();
            got
        });
        let state = WatchEvent::State {
            at_unix_ms: 1,
            instance: "vi_1".into(),
            from: "backup".into(),
            to: "active".into(),
            reason: "master_down".into(),
            priority: 100,
        };
        let discard = WatchEvent::Discard {
            at_unix_ms: 2,
            instance: None,
            reason: "checksum".into(),
        };
        rt.block_on(async {
            // The connection subscribes when it is accepted.
            for _ in 0..500 {
                if events.receiver_count() > 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            // Past the 5 s request timeout would fail; the request is
            // read at once, then the stream starts.
            tokio::time::sleep(Duration::from_millis(50)).await;
            events.send(state.clone()).unwrap();
            events.send(discard.clone()).unwrap();
            for _ in 0..500 {
                if client.is_finished() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        assert_eq!(client.join().unwrap(), vec![state.clone(), discard]);
        assert_eq!(
            state.to_string(),
            "state     vi_1: backup -> active (master_down, priority 100)"
        );
        task.abort();
    }
}
