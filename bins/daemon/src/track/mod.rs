//! The checks behind `track_script`, `track_tcp`, `track_http` and
//! `track_file`: one tokio task per named tracker, reporting changes on a
//! channel. What a result does to an instance (weights, Fault) is
//! [`vrrp_core::Tracking`]'s job; interface tracking comes from the
//! netaddr event stream in the driver.

pub mod process;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

pub use crate::config::TrackerKind;
use crate::config::{Config, FileTracker, HostPort, HttpTracker, Probe, ScriptTracker, TcpTracker};
use crate::process::Job;

/// What a tracker saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// An up/down tracker changed state (after rise/fall).
    Up(bool),
    /// A file tracker read a new value.
    Value(i64),
}

/// A change reported by a tracker task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerUpdate {
    /// The kind of tracker.
    pub kind: TrackerKind,
    /// Its name in the configuration.
    pub name: String,
    /// What it saw.
    pub observation: Observation,
    /// A short description for the log: exit status, error, HTTP status.
    pub detail: String,
}

/// keepalived's rise/fall: the state flips after `rise` successes in a row
/// (down → up) or `fall` failures in a row (up → down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hysteresis {
    rise: u32,
    fall: u32,
    up: bool,
    streak: u32,
}

impl Hysteresis {
    /// Starting `up` (or down), with `rise` and `fall` of at least 1.
    pub fn new(probe: &Probe, up: bool) -> Self {
        Hysteresis {
            rise: probe.rise.max(1),
            fall: probe.fall.max(1),
            up,
            streak: 0,
        }
    }

    /// The current state.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Records one probe result; the new state when it flips.
    pub fn record(&mut self, success: bool) -> Option<bool> {
        if success == self.up {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        let needed = if success { self.rise } else { self.fall };
        if self.streak >= needed {
            self.up = success;
            self.streak = 0;
            Some(success)
        } else {
            None
        }
    }
}

/// The state a tracker is assumed to be in before its first result: up,
/// except a script with `init_fail`.
pub fn initial_up(kind: TrackerKind, config: &Config, name: &str) -> bool {
    match kind {
        TrackerKind::Script => config.track_script.get(name).is_none_or(|s| !s.init_fail),
        _ => true,
    }
}

/// Starts a task for every named tracker in `config` whose name is in
/// `used` (the ones some instance or group refers to). Tasks end when the
/// receiver is dropped or the handles are aborted.
pub fn spawn_all(
    config: &Config,
    used: &[(TrackerKind, String)],
    tx: &UnboundedSender<TrackerUpdate>,
) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    for (kind, name) in used {
        let tx = tx.clone();
        let name = name.clone();
        let task = match kind {
            TrackerKind::Script => config.track_script.get(&name).map(|s| {
                let job = script_job(config, s);
                let s = s.clone();
                tokio::spawn(run_up_down(
                    TrackerKind::Script,
                    name,
                    s.probe,
                    !s.init_fail,
                    tx,
                    move || {
                        let job = job.clone();
                        async move { probe_script(job).await }
                    },
                ))
            }),
            TrackerKind::Tcp => config.track_tcp.get(&name).cloned().map(|t| {
                let probe = t.probe;
                tokio::spawn(run_up_down(
                    TrackerKind::Tcp,
                    name,
                    probe,
                    true,
                    tx,
                    move || {
                        let t = t.clone();
                        async move { probe_tcp(&t).await }
                    },
                ))
            }),
            TrackerKind::Http => config.track_http.get(&name).cloned().map(|h| {
                let probe = h.probe;
                tokio::spawn(run_up_down(
                    TrackerKind::Http,
                    name,
                    probe,
                    true,
                    tx,
                    move || {
                        let h = h.clone();
                        async move { probe_http(&h).await }
                    },
                ))
            }),
            TrackerKind::File => config
                .track_file
                .get(&name)
                .cloned()
                .map(|f| tokio::spawn(run_file(name, f, tx))),
            TrackerKind::Process => config
                .track_process
                .get(&name)
                .cloned()
                .map(|p| tokio::spawn(process::run(name, p, tx))),
        };
        tasks.extend(task);
    }
    tasks
}

/// The job a script tracker runs: its command, as its user or the global
/// script user, killed at its timeout.
fn script_job(config: &Config, s: &ScriptTracker) -> Job {
    Job::new(&s.exec, s.probe.timeout).configured(s.run_as.as_ref(), &config.global)
}

/// Probes every interval, feeds the hysteresis, reports flips.
async fn run_up_down<F, Fut>(
    kind: TrackerKind,
    name: String,
    probe: Probe,
    initially_up: bool,
    tx: UnboundedSender<TrackerUpdate>,
    mut check: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (bool, String)>,
{
    let mut state = Hysteresis::new(&probe, initially_up);
    let mut ticker = tokio::time::interval(probe.interval.max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let (success, detail) = check().await;
        if let Some(up) = state.record(success) {
            let update = TrackerUpdate {
                kind,
                name: name.clone(),
                observation: Observation::Up(up),
                detail,
            };
            if tx.send(update).is_err() {
                return;
            }
        }
    }
}

async fn probe_script(job: Job) -> (bool, String) {
    match job.run().await {
        Ok(status) if status.success() => (true, "exit 0".into()),
        Ok(status) => (false, format!("{status}")),
        Err(e) => (false, e.to_string()),
    }
}

/// Resolves `target` (an address or a name) to socket addresses.
async fn resolve(target: &HostPort) -> std::io::Result<Vec<SocketAddr>> {
    let addrs: Vec<_> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await?
        .collect();
    Ok(addrs)
}

async fn connect(target: &HostPort) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::other("no address");
    for addr in resolve(target).await? {
        match TcpStream::connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn probe_tcp(t: &TcpTracker) -> (bool, String) {
    match tokio::time::timeout(t.probe.timeout, connect(&t.target)).await {
        Ok(Ok(_)) => (true, format!("connected to {}", t.target)),
        Ok(Err(e)) => (false, format!("{}: {e}", t.target)),
        Err(_) => (false, format!("{}: connect timed out", t.target)),
    }
}

/// The longest response head read before giving up on a status line.
const MAX_STATUS_LINE: usize = 4096;

async fn http_status(h: &HttpTracker) -> std::io::Result<u16> {
    let mut stream = connect(&h.target).await?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: vrrpd\r\nConnection: close\r\n\r\n",
        h.path, h.target
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 512];
    while !head.contains(&b'\n') && head.len() < MAX_STATUS_LINE {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    parse_status_line(&head).ok_or_else(|| std::io::Error::other("no HTTP status line"))
}

/// The status code of an HTTP/1.x response head: `HTTP/1.1 200 OK`.
pub fn parse_status_line(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut words = line.split(' ');
    let version = words.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code = words.next()?;
    (code.len() == 3)
        .then(|| code.parse().ok())
        .flatten()
        .filter(|c| (100..=599).contains(c))
}

async fn probe_http(h: &HttpTracker) -> (bool, String) {
    match tokio::time::timeout(h.probe.timeout, http_status(h)).await {
        Ok(Ok(code)) => (
            code == h.expect_status,
            format!("GET {}{} -> {code}", h.target, h.path),
        ),
        Ok(Err(e)) => (false, format!("GET {}{}: {e}", h.target, h.path)),
        Err(_) => (false, format!("GET {}{}: timed out", h.target, h.path)),
    }
}

/// How often a file tracker re-reads its file.
pub const FILE_POLL: Duration = Duration::from_millis(200);

/// How long one read of a `track_file` may take (a hung network file
/// system) before the tracker logs it and keeps its last value.
pub const FILE_READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Reads the number in a `track_file`: surrounding whitespace allowed; a
/// missing, empty or unparsable file counts as 0, as in keepalived. Only a
/// regular file is read, at most [`crate::planted::MAX_READ`] bytes, and a
/// FIFO does not block (see [`crate::planted`]).
pub fn read_file_value(path: &std::path::Path) -> (i64, String) {
    match crate::planted::read_bounded(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            match text.trim().parse::<i64>() {
                Ok(v) => (v, format!("{} reads {v}", path.display())),
                Err(_) => (0, format!("{}: not a number, taken as 0", path.display())),
            }
        }
        Err(e) => (0, format!("{}: {e}, taken as 0", path.display())),
    }
}

/// Writes `init_file` if configured (never through a symlink), then reports
/// the value at start and on every change. Each read runs on tokio's
/// blocking pool, one at a time, bounded by [`FILE_READ_TIMEOUT`], so a file
/// on a hung file system cannot stall the event loop.
async fn run_file(name: String, f: FileTracker, tx: UnboundedSender<TrackerUpdate>) {
    if let Some(init) = &f.init {
        let text = format!("{}\n", init.value);
        if let Err(e) = crate::planted::write_no_follow(&f.path, text.as_bytes(), init.overwrite) {
            tracing::warn!(tracker = %name, path = %f.path.display(), error = %e,
                "cannot write the track_file's initial value");
        }
    }
    let mut last = None;
    let mut ticker = tokio::time::interval(FILE_POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pending: Option<tokio::task::JoinHandle<(i64, String)>> = None;
    loop {
        ticker.tick().await;
        let mut read = pending.take().unwrap_or_else(|| {
            let path = f.path.clone();
            tokio::task::spawn_blocking(move || read_file_value(&path))
        });
        let (value, detail) = match tokio::time::timeout(FILE_READ_TIMEOUT, &mut read).await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => (0, format!("{}: read failed: {e}", f.path.display())),
            Err(_) => {
                tracing::warn!(tracker = %name, path = %f.path.display(),
                    "track_file read still blocked after {FILE_READ_TIMEOUT:?}; keeping the last value");
                pending = Some(read);
                continue;
            }
        };
        if last != Some(value) {
            last = Some(value);
            let update = TrackerUpdate {
                kind: TrackerKind::File,
                name: name.clone(),
                observation: Observation::Value(value),
                detail,
            };
            if tx.send(update).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(rise: u32, fall: u32) -> Probe {
        Probe {
            rise,
            fall,
            ..Probe::default()
        }
    }

    #[test]
    fn hysteresis_needs_fall_failures_and_rise_successes_in_a_row() {
        let mut h = Hysteresis::new(&probe(2, 3), true);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(true), None, "a success breaks the streak");
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(false), Some(false));
        assert!(!h.is_up());
        assert_eq!(h.record(true), None);
        assert_eq!(h.record(true), Some(true));
    }

    #[test]
    fn hysteresis_of_one_flips_at_once() {
        let mut h = Hysteresis::new(&probe(1, 1), false);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(true), Some(true));
        assert_eq!(h.record(false), Some(false));
    }

    #[test]
    fn status_lines_parse_strictly() {
        assert_eq!(
            parse_status_line(b"HTTP/1.1 200 OK\r\nServer: x\r\n"),
            Some(200)
        );
        assert_eq!(
            parse_status_line(b"HTTP/1.0 503 Service Unavailable\r\n"),
            Some(503)
        );
        assert_eq!(parse_status_line(b"HTTP/1.1 204\r\n"), Some(204));
        assert_eq!(parse_status_line(b"HTTP/2 200\r\n"), None);
        assert_eq!(parse_status_line(b"HTTP/1.1 2000 OK\r\n"), None);
        assert_eq!(parse_status_line(b"HTTP/1.1 099 x\r\n"), None);
        assert_eq!(parse_status_line(b"garbage"), None);
        assert_eq!(parse_status_line(b""), None);
        assert_eq!(parse_status_line(&[0xff, 0xfe, b'\n']), None);
    }

    #[test]
    fn file_values_follow_keepalived() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("prio");
        assert_eq!(read_file_value(&p).0, 0, "missing is 0");
        std::fs::write(&p, " -12\n").unwrap();
        assert_eq!(read_file_value(&p).0, -12);
        std::fs::write(&p, "abc").unwrap();
        assert_eq!(read_file_value(&p).0, 0);
    }
}
