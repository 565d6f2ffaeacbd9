//! The scale figure: many virtual routers per host, and what they cost in
//! CPU time and memory, read from /proc for every process of the daemon.

use std::time::Duration;

use super::capture::Kind;
use super::daemon::{DaemonKind, HostConfig, Instance};
use super::ns::Topology;
use super::scenario::{Lab, PRIO_ACTIVE, PRIO_BACKUP};
use super::{LabError, Result, sleep};

/// What `links × vrids` virtual routers cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    /// CPU seconds per minute of the Active's processes.
    pub cpu_active: f64,
    /// CPU seconds per minute of the Backup's processes.
    pub cpu_backup: f64,
    /// RSS of the Active's processes, MiB.
    pub rss_active: f64,
    /// RSS of the Backup's processes, MiB.
    pub rss_backup: f64,
    /// Adverts per second captured on link 0 from h1 (expected: vrids / interval).
    pub adverts_active: f64,
    /// Adverts per second captured on link 0 from h2 (expected: 0).
    pub adverts_backup: f64,
}

/// The VIP of router `vrid` on link `link`: 198.18.(16 + link).vrid/32.
fn vip(link: usize, vrid: u8) -> String {
    format!("198.18.{}.{vrid}/32", 16 + link)
}

/// The configuration of host `h` (1 = Active) for the scale figure.
pub fn config(h: usize, links: usize, vrids: u8, interval: Duration) -> HostConfig {
    let mut instances = Vec::new();
    for link in 0..links {
        for vrid in 1..=vrids {
            instances.push(Instance {
                interface: format!("eth{link}"),
                vrid,
                version: 3,
                priority: if h == 1 { PRIO_ACTIVE } else { PRIO_BACKUP },
                interval,
                initial_active: h == 1,
                vip: vip(link, vrid),
                excluded: Vec::new(),
            });
        }
    }
    HostConfig {
        router_id: format!("h{h}"),
        instances,
    }
}

/// utime + stime (clock ticks) and RSS (kB) of one process, from /proc.
fn proc_usage(pid: i32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Some((utime + stime, rss))
}

/// CPU ticks and RSS (kB) summed over every process of a host namespace.
fn usage(lab: &Lab, h: usize) -> (u64, u64) {
    lab.topo
        .host(h)
        .pids()
        .into_iter()
        .filter_map(proc_usage)
        .fold((0, 0), |(c, r), (c2, r2)| (c + c2, r + r2))
}

/// Runs `links × vrids` VRRPv3 routers at `interval` on both hosts and
/// measures over `window`.
pub fn scale(
    kind: DaemonKind,
    links: usize,
    vrids: u8,
    interval: Duration,
    window: Duration,
) -> Result<Scale> {
    let lab = Lab::new(&format!("scale-{}", kind.name()), links)?;
    let mut h1 = lab.start(kind, 1, &config(1, links, vrids, interval))?;
    // The Active is up when it announced the last VIP of link 0.
    let last = vip(0, vrids);
    let last_ip: std::net::Ipv4Addr = last
        .trim_end_matches("/32")
        .parse()
        .map_err(|_| LabError::new("bad VIP"))?;
    let up = lab.wait_garp(1, last_ip, h1.started_ns, Duration::from_secs(30));
    h1.check_alive()?;
    up?;
    let mut h2 = lab.start(kind, 2, &config(2, links, vrids, interval))?;
    sleep(Duration::from_secs(2) + interval * 5)?;
    h1.check_alive()?;
    h2.check_alive()?;
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100)
        .max(1) as f64;
    let (c1a, _) = usage(&lab, 1);
    let (c2a, _) = usage(&lab, 2);
    let t0 = super::now_ns();
    sleep(window)?;
    let t1 = super::now_ns();
    let (c1b, rss1) = usage(&lab, 1);
    let (c2b, rss2) = usage(&lab, 2);
    h1.check_alive()?;
    h2.check_alive()?;
    let secs = (t1 - t0) as f64 / 1e9;
    let per_min = |a: u64, b: u64| b.saturating_sub(a) as f64 / hz / secs * 60.0;
    let count = |h: usize| {
        let src = Topology::host_addr(h);
        lab.capture
            .since(t0)
            .iter()
            .filter(|e| e.t < t1 && matches!(e.kind, Kind::Advert { src: s, .. } if s == src))
            .count() as f64
            / secs
    };
    let result = Scale {
        cpu_active: per_min(c1a, c1b),
        cpu_backup: per_min(c2a, c2b),
        rss_active: rss1 as f64 / 1024.0,
        rss_backup: rss2 as f64 / 1024.0,
        adverts_active: count(1),
        adverts_backup: count(2),
    };
    h2.stop(Duration::from_secs(5));
    h1.stop(Duration::from_secs(5));
    Ok(result)
}
