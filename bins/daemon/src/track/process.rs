//! keepalived's `vrrp_track_process`: counts the running processes that
//! match, by scanning `/proc` on tokio's blocking pool every
//! [`SCAN_INTERVAL`] (bounded in time and in what it reads), and reports
//! up while the count is within the quorum, after `fork_delay` (up) or
//! `terminate_delay` (down). keepalived listens to the kernel's process
//! events connector instead, which answers only in the initial network
//! namespace; the scan works anywhere.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::{Observation, TrackerKind, TrackerUpdate};
use crate::config::ProcessTracker;

/// Time between two scans of `/proc`.
pub const SCAN_INTERVAL: Duration = Duration::from_millis(200);

/// How long one scan may take before it counts as failed.
const SCAN_TIMEOUT: Duration = Duration::from_secs(2);

/// The most bytes of a command line read.
const CMDLINE_MAX: usize = 4096;

/// How many processes in `/proc` match `t` now (zombies and this process
/// excepted). Blocks on `/proc`: run it off the event loop.
pub fn count_matching(t: &ProcessTracker) -> u32 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let own = std::process::id();
    let mut n = 0;
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == own {
            continue;
        }
        if process_matches(t, pid) {
            n += 1;
        }
    }
    n
}

/// Whether process `pid` runs (is not a zombie) and matches `t`.
fn process_matches(t: &ProcessTracker, pid: u32) -> bool {
    // /proc/PID/stat: "PID (COMM) STATE ...", COMM may hold spaces and ')'.
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let comm = &stat[open + 1..close];
    let state = stat[close + 1..].trim_start().chars().next();
    if matches!(state, Some('Z') | Some('X') | None) {
        return false;
    }
    if !t.full_command && t.param_match.is_none() {
        return t.matches(comm, &[]);
    }
    let Ok(raw) = read_bounded(&format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let text = String::from_utf8_lossy(&raw);
    let argv: Vec<&str> = text.split('\0').filter(|w| !w.is_empty()).collect();
    t.matches(comm, &argv)
}

/// At most [`CMDLINE_MAX`] bytes of `path`.
fn read_bounded(path: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(CMDLINE_MAX as u64)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// Scans every [`SCAN_INTERVAL`] and reports each change of the quorum,
/// once it has held for its delay. The first result is reported at once.
pub(super) async fn run(name: String, t: ProcessTracker, tx: UnboundedSender<TrackerUpdate>) {
    let mut reported: Option<bool> = None;
    // A change seen but not yet reported: its value and since when.
    let mut pending: Option<(bool, Instant)> = None;
    let mut ticker = tokio::time::interval(SCAN_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let scan = {
            let t = t.clone();
            tokio::task::spawn_blocking(move || count_matching(&t))
        };
        let count = match tokio::time::timeout(SCAN_TIMEOUT, scan).await {
            Ok(Ok(n)) => n,
            _ => {
                tracing::warn!(tracker = %name, "scanning /proc failed or timed out");
                continue;
            }
        };
        let up = t.quorate(count);
        let now = Instant::now();
        let report = match reported {
            None => true,
            Some(r) if r == up => {
                pending = None;
                false
            }
            Some(_) => {
                let since = match pending {
                    Some((p, since)) if p == up => since,
                    _ => {
                        pending = Some((up, now));
                        now
                    }
                };
                let delay = if up { t.fork_delay } else { t.terminate_delay };
                now.duration_since(since) >= delay
            }
        };
        if report {
            reported = Some(up);
            pending = None;
            let update = TrackerUpdate {
                kind: TrackerKind::Process,
                name: name.clone(),
                observation: Observation::Up(up),
                detail: format!("{count} matching process(es) running"),
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
    use crate::config::ParamMatch;

    fn tracker(process: &str) -> ProcessTracker {
        ProcessTracker::new(process)
    }

    #[test]
    fn names_and_command_lines_match_as_keepalived_s() {
        // The name as the kernel keeps it: exact, 15 bytes; not a prefix.
        assert!(tracker("haproxy").matches("haproxy", &[]));
        assert!(!tracker("ssh").matches("sshd", &[]));
        assert!(tracker("a-very-long-process-name").matches("a-very-long-pro", &[]));
        let mut t = tracker("/usr/sbin/haproxy");
        t.params = vec!["-f".into(), "/etc/haproxy/haproxy.cfg".into()];
        t.param_match = Some(ParamMatch::Exact);
        let argv = ["/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg"];
        assert!(t.matches("haproxy", &argv));
        assert!(!t.matches("haproxy", &[argv[0], argv[1]]));
        assert!(!t.matches("haproxy", &[argv[0], argv[1], argv[2], "-q"]));
        t.param_match = Some(ParamMatch::Partial);
        assert!(t.matches("haproxy", &[argv[0], argv[1], argv[2], "-q"]));
        t.param_match = Some(ParamMatch::Initial);
        t.params = vec!["-f".into(), "/etc/haproxy/".into()];
        assert!(t.matches("haproxy", &argv));
        // full_command without parameters: the first word, whatever follows.
        let mut f = tracker("/usr/sbin/haproxy");
        f.full_command = true;
        assert!(!f.matches("haproxy", &argv), "exact: no parameters allowed");
        f.param_match = Some(ParamMatch::Partial);
        assert!(f.matches("haproxy", &argv));
    }

    #[test]
    fn the_quorum_bounds_the_count() {
        let mut t = tracker("x");
        assert!(!t.quorate(0) && t.quorate(1) && t.quorate(9));
        t.quorum = 2;
        t.quorum_max = Some(3);
        assert!(!t.quorate(1) && t.quorate(2) && t.quorate(3) && !t.quorate(4));
        t.quorum = 0;
        t.quorum_max = Some(0);
        assert!(t.quorate(0) && !t.quorate(1));
    }

    #[test]
    fn a_scan_counts_running_processes_and_not_zombies() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let n = count_matching(&tracker("sleep"));
        assert!(n >= 1, "{n}");
        child.kill().unwrap();
        // Killed, not reaped: a zombie, which does not count.
        std::thread::sleep(Duration::from_millis(100));
        let zombie = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap();
        assert!(zombie.contains(") Z"), "{zombie}");
        assert_eq!(count_matching(&tracker("sleep")), n - 1);
        child.wait().unwrap();
    }
}
