//! Trackers: what an instance watches to lower its priority or enter Fault.
//!
//! The semantics follow keepalived (keepalived.conf(5), "VRRP script(s)",
//! "Track files" and `track_interface`):
//!
//! - weight 0: the tracker going down puts the instance in Fault;
//! - weight > 0: the weight is added to the priority while the tracker is up;
//! - weight < 0: its absolute value is subtracted while the tracker is down;
//! - `reverse` swaps up and down in the two rules above;
//! - the effective priority is clamped to 1..=254, and an address owner
//!   (priority 255) is never changed by tracking;
//! - a file tracker reads an integer `v` from the file: with weight 0, `v`
//!   ≠ 0 means Fault; otherwise `v × weight` is added to the priority, and a
//!   result below -253 means Fault.
//!
//! Named trackers live at the top of the configuration; instances and sync
//! groups refer to them by name with a [`TrackRef`], which may override the
//! weight.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::exec::{Exec, RunAs};

/// Which kind of named tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrackerKind {
    /// `track_script` (keepalived `vrrp_script`).
    Script,
    /// `track_tcp`: a TCP connect.
    Tcp,
    /// `track_http`: an HTTP GET.
    Http,
    /// `track_file`: a number in a file.
    File,
    /// `track_process`: a count of running processes.
    Process,
}

impl TrackerKind {
    /// The configuration key: `track_script`, `track_tcp`...
    pub const fn as_str(self) -> &'static str {
        match self {
            TrackerKind::Script => "track_script",
            TrackerKind::Tcp => "track_tcp",
            TrackerKind::Http => "track_http",
            TrackerKind::File => "track_file",
            TrackerKind::Process => "track_process",
        }
    }
}

/// A tracking weight (keepalived `weight N [reverse]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Weight {
    /// -253..=253 for interfaces, scripts and checks; a file tracker's own
    /// weight is any i32 except `i32::MIN`, a reference to it -254..=254.
    pub value: i32,
    /// Adjust in the opposite direction (keepalived `reverse`).
    pub reverse: bool,
}

impl Weight {
    /// A weight without `reverse`.
    pub const fn new(value: i32) -> Self {
        Weight {
            value,
            reverse: false,
        }
    }
}

/// Everything an instance or a sync group tracks.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Tracking {
    /// Interfaces whose link state is watched.
    pub interfaces: Vec<TrackInterface>,
    /// References to [`ScriptTracker`]s.
    pub scripts: Vec<TrackRef>,
    /// References to [`TcpTracker`]s.
    pub tcp: Vec<TrackRef>,
    /// References to [`HttpTracker`]s.
    pub http: Vec<TrackRef>,
    /// References to [`FileTracker`]s.
    pub files: Vec<TrackRef>,
    /// References to [`ProcessTracker`]s.
    pub processes: Vec<TrackRef>,
}

impl Tracking {
    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.interfaces.is_empty()
            && self.scripts.is_empty()
            && self.tcp.is_empty()
            && self.http.is_empty()
            && self.files.is_empty()
            && self.processes.is_empty()
    }
}

/// A watched interface: down means Fault (weight 0) or a priority change.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrackInterface {
    /// Interface name.
    pub interface: String,
    /// Weight; 0 (the default) means Fault while the link is down.
    pub weight: Weight,
}

/// A reference to a named tracker.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrackRef {
    /// The tracker's name; it exists in the matching [`Config`](super::Config) map.
    pub name: String,
    /// Overrides the tracker's own weight when set.
    pub weight: Option<Weight>,
}

/// How often and how patiently a tracker probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Probe {
    /// Time between two probes, > 0. Default 1 s.
    pub interval: Duration,
    /// A probe still running after this long has failed, > 0. Default: the
    /// interval (keepalived's behaviour for a script without `timeout`).
    pub timeout: Duration,
    /// Consecutive successes before up, ≥ 1. Default 1.
    pub rise: u32,
    /// Consecutive failures before down, ≥ 1. Default 1.
    pub fall: u32,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            rise: 1,
            fall: 1,
        }
    }
}

/// Runs a command periodically; exit status 0 is up (keepalived
/// `vrrp_script`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScriptTracker {
    /// The command.
    pub exec: Exec,
    /// Timing.
    pub probe: Probe,
    /// Default weight for references that give none. Default 0.
    pub weight: Weight,
    /// Who runs it; [`Global::script_user`](super::Global::script_user)
    /// when `None`.
    pub run_as: Option<RunAs>,
    /// Start in the down state until the first rise (keepalived `init_fail`).
    pub init_fail: bool,
}

/// A `host:port` target; `host` is an IP address or a DNS name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// IP address or name (without IPv6 brackets).
    pub host: String,
    /// TCP port, 1..=65535.
    pub port: u16,
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Why a `host:port` string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HostPortError {
    /// No `:port`.
    #[error("missing `:port`")]
    NoPort,
    /// Port not in 1..=65535.
    #[error("port `{0}` is not in 1..=65535")]
    Port(String),
    /// Empty or malformed host.
    #[error("invalid host `{0}`")]
    Host(String),
}

/// Whether `host` is an IP address or a plausible DNS name.
fn valid_host(host: &str) -> bool {
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

impl HostPort {
    /// Parses `host:port`, `[v6]:port` or, with `default_port`, a host alone.
    pub(crate) fn parse(text: &str, default_port: Option<u16>) -> Result<Self, HostPortError> {
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| HostPortError::Host(text.to_string()))?;
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(HostPortError::Host(host.to_string()));
            }
            match after.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None if after.is_empty() => (host, None),
                None => return Err(HostPortError::Host(text.to_string())),
            }
        } else if text.matches(':').count() > 1 {
            // A bare IPv6 address cannot carry a port.
            (text, None)
        } else {
            match text.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (text, None),
            }
        };
        if !valid_host(host) {
            return Err(HostPortError::Host(host.to_string()));
        }
        let port = match port {
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(HostPortError::Port(p.to_string())),
            },
            None => default_port.ok_or(HostPortError::NoPort)?,
        };
        Ok(HostPort {
            host: host.to_string(),
            port,
        })
    }
}

/// Connects to `target` over TCP; a completed handshake is up.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TcpTracker {
    /// Where to connect.
    pub target: HostPort,
    /// Timing; `timeout` bounds the connect.
    pub probe: Probe,
    /// Default weight for references that give none. Default 0.
    pub weight: Weight,
}

/// Sends `GET path` over plain HTTP/1.1; the expected status is up.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HttpTracker {
    /// Where to connect (also sent as `Host:`).
    pub target: HostPort,
    /// Request path, starting with `/`. Default `/`.
    pub path: String,
    /// Status that counts as up, 100..=599. Default 200.
    pub expect_status: u16,
    /// Timing; `timeout` bounds the whole request.
    pub probe: Probe,
    /// Default weight for references that give none. Default 0.
    pub weight: Weight,
}

/// Watches a number in a file (keepalived `track_file`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileTracker {
    /// The file, re-read whenever it changes.
    pub path: PathBuf,
    /// Multiplies the value read. Default 1.
    pub weight: Weight,
    /// Create (or overwrite) the file at start-up.
    pub init: Option<FileInit>,
}

/// keepalived `init_file [VALUE] [overwrite]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileInit {
    /// The value written. Default 0.
    pub value: i64,
    /// Overwrite an existing file rather than only create a missing one.
    pub overwrite: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        assert_eq!(
            HostPort::parse("198.18.0.10:5432", None)
                .unwrap()
                .to_string(),
            "198.18.0.10:5432"
        );
        assert_eq!(
            HostPort::parse("[fd00:198:18::1]:80", None).unwrap(),
            HostPort {
                host: "fd00:198:18::1".into(),
                port: 80
            }
        );
        assert_eq!(
            HostPort::parse("db.example:5432", None).unwrap().host,
            "db.example"
        );
        assert_eq!(HostPort::parse("fd00::1", Some(80)).unwrap().port, 80);
        assert_eq!(
            HostPort::parse("[fd00::1]:443", None).unwrap().to_string(),
            "[fd00::1]:443"
        );
    }

    #[test]
    fn host_port_errors() {
        assert_eq!(HostPort::parse("host", None), Err(HostPortError::NoPort));
        assert!(matches!(
            HostPort::parse("h:0", None),
            Err(HostPortError::Port(_))
        ));
        assert!(matches!(
            HostPort::parse("h:99999", None),
            Err(HostPortError::Port(_))
        ));
        assert!(matches!(
            HostPort::parse(":80", None),
            Err(HostPortError::Host(_))
        ));
        assert!(matches!(
            HostPort::parse("a b:80", None),
            Err(HostPortError::Host(_))
        ));
        assert!(matches!(
            HostPort::parse("[zz]:80", None),
            Err(HostPortError::Host(_))
        ));
        assert!(matches!(
            HostPort::parse("[::1]x", None),
            Err(HostPortError::Host(_))
        ));
    }
}

/// Counts running processes (keepalived's `vrrp_track_process`): up while
/// their number is within `quorum..=quorum_max`. Zombies do not count.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProcessTracker {
    /// The process: its name as the kernel keeps it (`/proc/PID/comm`, at
    /// most 15 bytes), or with `full_command` or `params` the first word of
    /// its command line.
    pub process: String,
    /// The parameters its command line must have after the first word,
    /// as `param_match` says.
    pub params: Vec<String>,
    /// How `params` match; `None` unless the command line is matched.
    pub param_match: Option<ParamMatch>,
    /// Match the command line, not the name (keepalived `full_command`).
    pub full_command: bool,
    /// Default weight for references that give none. Default 1.
    pub weight: Weight,
    /// At least this many must run, 0..=65535. Default 1.
    pub quorum: u32,
    /// At most this many may run; no bound when `None`. 0 means the
    /// tracker is up only while none runs.
    pub quorum_max: Option<u32>,
    /// How long the quorum must hold before the tracker is up again
    /// (keepalived `fork_delay`). Default 0.
    pub fork_delay: Duration,
    /// How long the quorum must be lost before the tracker is down
    /// (keepalived `terminate_delay`). Default 0.
    pub terminate_delay: Duration,
}

/// How a [`ProcessTracker`]'s parameters match a command line
/// (keepalived's `param_match`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamMatch {
    /// The parameters are exactly these.
    Exact,
    /// The first parameters are these; more may follow.
    Partial,
    /// The parameters are these, the last one as a prefix.
    Initial,
}

impl ParamMatch {
    /// keepalived's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamMatch::Exact => "exact",
            ParamMatch::Partial => "partial",
            ParamMatch::Initial => "initial",
        }
    }
}

impl ProcessTracker {
    /// A tracker of `process` by name with keepalived's defaults: weight
    /// 1, quorum 1, no upper bound, no delays.
    pub fn new(process: impl Into<String>) -> ProcessTracker {
        ProcessTracker {
            process: process.into(),
            params: Vec::new(),
            param_match: None,
            full_command: false,
            weight: Weight::new(1),
            quorum: 1,
            quorum_max: None,
            fork_delay: Duration::ZERO,
            terminate_delay: Duration::ZERO,
        }
    }

    /// Whether a process named `comm` with command line `argv` is one of
    /// those counted.
    pub fn matches(&self, comm: &str, argv: &[&str]) -> bool {
        if !self.full_command && self.param_match.is_none() {
            // The kernel keeps 15 bytes of a name.
            let name = self.process.as_bytes();
            return comm.as_bytes() == &name[..name.len().min(15)];
        }
        let Some((first, args)) = argv.split_first() else {
            return false;
        };
        if *first != self.process {
            return false;
        }
        let n = self.params.len();
        match self.param_match.unwrap_or(ParamMatch::Exact) {
            ParamMatch::Exact => {
                args.len() == n && args.iter().zip(&self.params).all(|(a, p)| a == p)
            }
            ParamMatch::Partial => {
                args.len() >= n && args.iter().zip(&self.params).all(|(a, p)| a == p)
            }
            ParamMatch::Initial => {
                args.len() == n
                    && args
                        .iter()
                        .zip(&self.params)
                        .enumerate()
                        .all(|(k, (a, p))| {
                            if k + 1 == n {
                                a.starts_with(p.as_str())
                            } else {
                                a == p
                            }
                        })
            }
        }
    }

    /// Whether `count` matching processes make the tracker up.
    pub fn quorate(&self, count: u32) -> bool {
        count >= self.quorum && self.quorum_max.is_none_or(|max| count <= max)
    }
}
