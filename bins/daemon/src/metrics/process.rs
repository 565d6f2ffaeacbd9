//! The standard `process_*` metrics, read from `/proc/self` at each scrape
//! (bounded reads of small files, off the event loop).

use std::io::Read;
use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Unit;

use super::families::{Families, Labels};

/// What `/proc/self` says of the daemon.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessStats {
    /// User plus system CPU time, in seconds.
    pub cpu_seconds: f64,
    /// Resident set size, in bytes.
    pub resident_bytes: u64,
    /// Virtual memory size, in bytes.
    pub virtual_bytes: u64,
    /// Open file descriptors.
    pub open_fds: u64,
    /// The soft limit on file descriptors.
    pub max_fds: u64,
    /// When the process started, in seconds since the Unix epoch.
    pub start_time_seconds: f64,
}

/// The most read of any one `/proc` file.
const MAX_PROC_FILE: u64 = 64 * 1024;

fn read_small(path: &str) -> Option<String> {
    let mut out = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_PROC_FILE)
        .read_to_string(&mut out)
        .ok()?;
    Some(out)
}

impl ProcessStats {
    /// Reads them now; `None` when `/proc` does not answer as Linux does.
    pub fn read() -> Option<Self> {
        let stat = read_small("/proc/self/stat")?;
        let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .filter(|&t| t > 0)? as f64;
        let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .and_then(|p| u64::try_from(p).ok())?;
        let boot = read_small("/proc/stat")?
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<u64>().ok())?;
        let fields = parse_stat(&stat)?;
        let open_fds = std::fs::read_dir("/proc/self/fd")
            .map(|d| d.count() as u64)
            .unwrap_or(0);
        let max_fds = read_small("/proc/self/limits")
            .and_then(|l| parse_max_open_files(&l))
            .unwrap_or(0);
        Some(ProcessStats {
            cpu_seconds: (fields.utime + fields.stime) as f64 / ticks,
            resident_bytes: fields.rss_pages.saturating_mul(page),
            virtual_bytes: fields.vsize,
            open_fds,
            max_fds,
            start_time_seconds: boot as f64 + fields.starttime as f64 / ticks,
        })
    }
}

/// The fields of `/proc/self/stat` used here.
#[derive(Debug, PartialEq, Eq)]
struct StatFields {
    utime: u64,
    stime: u64,
    starttime: u64,
    vsize: u64,
    rss_pages: u64,
}

/// Parses `/proc/PID/stat` (proc(5)): the command name in parentheses may
/// hold spaces and parentheses, so fields are counted after the last `)`.
fn parse_stat(stat: &str) -> Option<StatFields> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name.
    let f: Vec<&str> = rest.split_whitespace().collect();
    let at = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    Some(StatFields {
        utime: at(14)?,
        stime: at(15)?,
        starttime: at(22)?,
        vsize: at(23)?,
        rss_pages: at(24)?,
    })
}

/// The soft "Max open files" of `/proc/PID/limits`.
fn parse_max_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The `process_*` families of `p`.
pub(super) fn families(f: &mut Families, p: &ProcessStats) {
    let one = |v: f64| [(Labels::new(), v)];
    // The standard names (process_cpu_seconds_total, ...), as every
    // Prometheus client library exports them.
    let cpu = Family::<Labels, Counter<f64, AtomicU64>>::default();
    cpu.get_or_create(&Labels::new()).inc_by(p.cpu_seconds);
    f.0.register_with_unit(
        "process_cpu",
        "Total user and system CPU time spent",
        Unit::Seconds,
        cpu,
    );
    f.gauge_f64(
        "process_resident_memory",
        "Resident memory size",
        Unit::Bytes,
        one(p.resident_bytes as f64),
    );
    f.gauge_f64(
        "process_virtual_memory",
        "Virtual memory size",
        Unit::Bytes,
        one(p.virtual_bytes as f64),
    );
    f.gauge(
        "process_open_fds",
        "Open file descriptors",
        [(Labels::new(), i64::try_from(p.open_fds).unwrap_or(i64::MAX))],
    );
    f.gauge(
        "process_max_fds",
        "The limit on open file descriptors",
        [(Labels::new(), i64::try_from(p.max_fds).unwrap_or(i64::MAX))],
    );
    f.gauge_f64(
        "process_start_time",
        "When the process started, since the Unix epoch",
        Unit::Seconds,
        one(p.start_time_seconds),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_last_parenthesis() {
        let stat = "4242 (vr (rpd) x) S 1 4242 4242 0 -1 4194560 120 0 0 0 \
                    7 3 0 0 20 0 1 0 5000 12345678 900 18446744073709551615";
        assert_eq!(
            parse_stat(stat),
            Some(StatFields {
                utime: 7,
                stime: 3,
                starttime: 5000,
                vsize: 12_345_678,
                rss_pages: 900,
            })
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1 2"), None);
    }

    #[test]
    fn the_soft_open_file_limit_is_read() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_open_files(limits), Some(1024));
        assert_eq!(parse_max_open_files("nothing"), None);
    }

    #[test]
    fn this_process_reads_as_running() {
        let p = ProcessStats::read().expect("/proc/self");
        assert!(p.resident_bytes > 0 && p.virtual_bytes >= p.resident_bytes);
        assert!(p.open_fds > 0 && p.start_time_seconds > 1.0e9);
    }
}
