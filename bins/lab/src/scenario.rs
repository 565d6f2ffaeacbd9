//! One lab (topology, capture, scratch directory) and the single
//! measurements the demo and the bench are made of. Every figure comes from
//! the client namespace's capture; nothing is estimated.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::capture::{Capture, Event, Kind};
use super::daemon::{self, DaemonKind, HostConfig, Instance, Running};
use super::ns::Topology;
use super::{LabError, Result, sleep};

/// The VIP of the single-router scenarios.
pub const VIP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 100);
/// Its VRID.
pub const VRID: u8 = 51;
/// Priority of h1, the preferred Active.
pub const PRIO_ACTIVE: u8 = 200;
/// Priority of h2, the Backup.
pub const PRIO_BACKUP: u8 = 100;

/// A scratch directory removed on drop.
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// Creates `vrrp-lab-<pid>-<tag>` on tmpfs (`/dev/shm`, else
    /// `$TMPDIR`): the daemons' state dirs live here, as on the tmpfs
    /// `/run/vrrpd` of production.
    pub fn new(tag: &str) -> Result<ScratchDir> {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let p = base.join(format!("vrrp-lab-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p)?;
        Ok(ScratchDir(p))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Master_Down_Interval = 3 × interval + Skew_Time, in nanoseconds.
pub fn master_down_ns(version: u8, interval: Duration, priority: u8) -> i64 {
    3 * interval.as_nanos() as i64 + skew_ns(version, interval, priority)
}

/// Skew_Time in nanoseconds: v3 `(256 − p) × interval / 256`, v2 `(256 − p) / 256` s.
pub fn skew_ns(version: u8, interval: Duration, priority: u8) -> i64 {
    let base = if version == 2 {
        1_000_000_000
    } else {
        interval.as_nanos() as i64
    };
    (256 - i64::from(priority)) * base / 256
}

/// A built lab. Fields drop in order: daemons first, then the capture, the
/// namespaces and the scratch directory.
#[derive(Debug)]
pub struct Lab {
    /// The capture on the client's eth0.
    pub capture: Capture,
    /// The namespaces.
    pub topo: Topology,
    /// Configuration files and daemon logs.
    pub dir: ScratchDir,
    /// The MAC of eth0 of h1 and h2.
    pub macs: [[u8; 6]; 2],
}

impl Lab {
    /// Builds a lab with `links` links per host.
    pub fn new(tag: &str, links: usize) -> Result<Lab> {
        let dir = ScratchDir::new(tag)?;
        let topo = Topology::new(links)?;
        let macs = [topo.host(1).mac("eth0")?, topo.host(2).mac("eth0")?];
        let capture = Capture::start(&topo.client, "eth0")?;
        Ok(Lab {
            capture,
            topo,
            dir,
            macs,
        })
    }

    /// Starts `kind` on host `h` with `config`.
    pub fn start(&self, kind: DaemonKind, h: usize, config: &HostConfig) -> Result<Running> {
        let dir = self.dir.path().join(format!("h{h}"));
        daemon::start(kind, self.topo.host(h), config, &dir)
    }

    /// The MAC of host `h`.
    pub fn mac(&self, h: usize) -> [u8; 6] {
        self.macs[h.clamp(1, 2) - 1]
    }

    /// Waits for host `h`'s first gratuitous ARP for `vip` at or after `since`.
    pub fn wait_garp(
        &self,
        h: usize,
        vip: Ipv4Addr,
        since: i64,
        timeout: Duration,
    ) -> Result<Event> {
        let mac = self.mac(h);
        self.capture.wait_for(
            since,
            timeout,
            &format!("h{h}'s gratuitous ARP for {vip}"),
            |e| matches!(e.kind, Kind::Garp { ip, mac: m } if ip == IpAddr::V4(vip) && m == mac),
        )
    }

    /// Waits for the first echo reply from `vip` sent by host `h` at or after `since`.
    pub fn wait_reply(
        &self,
        h: usize,
        vip: Ipv4Addr,
        since: i64,
        timeout: Duration,
    ) -> Result<Event> {
        let mac = self.mac(h);
        self.capture.wait_for(
            since,
            timeout,
            &format!("the client's probe of {vip} answered by h{h}"),
            |e| matches!(e.kind, Kind::EchoReply { src, mac: m } if src == vip && m == mac),
        )
    }

    /// Waits for host `h`'s first advert for `vrid` at or after `since`.
    /// Returns within about 50 µs (the kill poll) of the advert's capture.
    pub fn wait_advert(&self, h: usize, vrid: u8, since: i64, timeout: Duration) -> Result<Event> {
        let src = Topology::host_addr(h);
        let what = format!("an advert from h{h}");
        self.capture
            .wait_for_polling(since, timeout, &what, KILL_POLL, |e| {
                is_advert(e, src, vrid)
            })
    }

    /// The last advert for `vrid` from host `h` before `before`, if any.
    pub fn last_advert(&self, h: usize, vrid: u8, since: i64, before: i64) -> Option<Event> {
        let src = Topology::host_addr(h);
        self.capture
            .since(since)
            .into_iter()
            .filter(|e| e.t < before)
            .rfind(|e| is_advert(e, src, vrid))
    }

    /// Stops whatever runs on both hosts and resets them: links up, VIPs
    /// removed, the client's neighbour cache flushed.
    pub fn reset(&self, vips: &[String]) {
        for h in 1..=2 {
            self.topo.host(h).kill_all();
            let _ = self.topo.set_links(h, true);
            for vip in vips {
                let _ = self
                    .topo
                    .host(h)
                    .ip_checked(&["addr", "del", vip, "dev", "eth0"]);
            }
        }
        self.topo.flush_client_neighbours();
    }
}

/// Whether `e` is an advert for `vrid` sent from `src`.
fn is_advert(e: &Event, src: Ipv4Addr, vrid: u8) -> bool {
    matches!(e.kind, Kind::Advert { src: s, vrid: v, .. } if s == src && v == vrid)
}

/// The single-router configuration of host `h` (1 = preferred Active).
pub fn single(h: usize, version: u8, interval: Duration, priority: u8) -> HostConfig {
    HostConfig {
        router_id: format!("h{h}"),
        instances: vec![Instance {
            interface: "eth0".into(),
            vrid: VRID,
            version,
            priority,
            interval,
            initial_active: h == 1,
            vip: format!("{VIP}/24"),
            excluded: Vec::new(),
        }],
    }
}

/// Starts h1 (priority 200) and waits until it is Active, then h2 (priority
/// 100) and gives it time to settle as Backup.
pub fn start_pair(
    lab: &Lab,
    kind: DaemonKind,
    version: u8,
    interval: Duration,
) -> Result<(Running, Running)> {
    let mut h1 = lab.start(kind, 1, &single(1, version, interval, PRIO_ACTIVE))?;
    let garp = lab.wait_garp(1, VIP, h1.started_ns, Duration::from_secs(5) + interval * 5);
    h1.check_alive()?;
    garp?;
    let mut h2 = lab.start(kind, 2, &single(2, version, interval, PRIO_BACKUP))?;
    sleep(Duration::from_millis(300) + interval * 2)?;
    h2.check_alive()?;
    Ok((h1, h2))
}

/// One crash failover, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crash {
    /// Dead Active's last advert → new Active's first gratuitous ARP.
    pub detection: i64,
    /// Kill → first probe of the VIP answered by the new Active.
    pub outage: i64,
    /// The dead Active's last advert → the kill: the part of an interval
    /// that the outage does not cover.
    pub kill_phase: i64,
    /// Master_Down_Interval of the Backup.
    pub bound: i64,
    /// When the Active was killed.
    pub kill_t: i64,
    /// The new Active's first gratuitous ARP.
    pub garp_t: i64,
}

/// How often the capture is looked at for the advert a crash kill follows.
/// Polled every millisecond, the kill phase spread over 0.1–1.2 ms, and
/// with five repetitions the two daemons' outage medians differed by up to
/// half a millisecond by that chance alone.
const KILL_POLL: Duration = Duration::from_micros(50);

/// Kills h1 (kill -9 of every process in it, then its links down) while
/// the client probes the VIP, and measures the takeover by h2.
pub fn crash(lab: &Lab, kind: DaemonKind, version: u8, interval: Duration) -> Result<Crash> {
    lab.reset(&[format!("{VIP}/24")]);
    let (_h1, mut h2) = start_pair(lab, kind, version, interval)?;
    // The probe period is the outage's resolution: at most 1 ms, so that
    // the two daemons' outages compare to the millisecond at every interval
    // (a 10 ms period at 1 s made their medians differ by chance).
    let period = (interval / 20).clamp(Duration::from_micros(500), Duration::from_millis(1));
    let _probe = super::probe::Prober::start(&lab.topo.client, VIP, period)?;
    let t0 = super::now_ns();
    lab.wait_reply(1, VIP, t0, Duration::from_secs(3))?;
    sleep(interval * 2)?;
    // The kill follows an advert of h1 as closely as the capture allows
    // (it is polled every KILL_POLL), so that the outage spans nearly a
    // whole Master_Down_Interval for either daemon rather than whatever
    // part of an interval the kill happened to land in.
    lab.wait_advert(
        1,
        VRID,
        super::now_ns(),
        interval * 3 + Duration::from_secs(1),
    )?;
    let kill_t = super::now_ns();
    lab.topo.host(1).kill_all();
    lab.topo.set_links(1, false)?;
    let bound = master_down_ns(version, interval, PRIO_BACKUP);
    let wait = Duration::from_nanos(bound as u64) + Duration::from_secs(3);
    let garp = lab.wait_garp(2, VIP, kill_t, wait);
    h2.check_alive()?;
    let garp = garp?;
    let last = lab
        .last_advert(1, VRID, t0, garp.t)
        .ok_or_else(|| LabError::new("no advert from h1 was captured before the kill"))?;
    let reply = lab.wait_reply(2, VIP, kill_t, wait + Duration::from_secs(2))?;
    h2.stop(Duration::from_secs(2));
    Ok(Crash {
        detection: garp.t - last.t,
        outage: reply.t - kill_t,
        kill_phase: kill_t - last.t,
        bound,
        kill_t,
        garp_t: garp.t,
    })
}

/// One graceful takeover, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Graceful {
    /// Priority-0 advert of the stopping Active → new Active's first GARP.
    pub takeover: i64,
    /// SIGTERM → new Active's first GARP.
    pub from_signal: i64,
    /// Skew_Time of the Backup.
    pub skew: i64,
}

/// Stops h1 with SIGTERM and measures h2's takeover.
pub fn graceful(lab: &Lab, kind: DaemonKind, version: u8, interval: Duration) -> Result<Graceful> {
    lab.reset(&[format!("{VIP}/24")]);
    let (mut h1, mut h2) = start_pair(lab, kind, version, interval)?;
    let term_t = super::now_ns();
    h1.signal(libc::SIGTERM);
    let src = Topology::host_addr(1);
    let zero = lab.capture.wait_for(
        term_t,
        Duration::from_secs(3),
        "h1's priority-0 advert",
        |e| matches!(e.kind, Kind::Advert { src: s, vrid, priority: 0, .. } if s == src && vrid == VRID),
    )?;
    let garp = lab.wait_garp(2, VIP, term_t, Duration::from_secs(3));
    h2.check_alive()?;
    let garp = garp?;
    h1.stop(Duration::from_secs(2));
    h2.stop(Duration::from_secs(2));
    Ok(Graceful {
        takeover: garp.t - zero.t,
        from_signal: garp.t - term_t,
        skew: skew_ns(version, interval, PRIO_BACKUP),
    })
}

/// Advert timing of an Active.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Median gap between two adverts, ns.
    pub p50: i64,
    /// 99th percentile gap, ns.
    pub p99: i64,
    /// Largest gap, ns.
    pub max: i64,
    /// Adverts per second over the window.
    pub rate: f64,
    /// Adverts captured.
    pub count: usize,
}

/// Captures h1's adverts as Active for `window` and measures their gaps.
pub fn timing(lab: &Lab, kind: DaemonKind, interval: Duration, window: Duration) -> Result<Timing> {
    lab.reset(&[format!("{VIP}/24")]);
    let (mut h1, mut h2) = start_pair(lab, kind, 3, interval)?;
    sleep(Duration::from_millis(200))?;
    let t0 = super::now_ns();
    sleep(window)?;
    let t1 = super::now_ns();
    h1.check_alive()?;
    let src = Topology::host_addr(1);
    let times: Vec<i64> = lab
        .capture
        .since(t0)
        .into_iter()
        .filter(|e| e.t < t1)
        .filter(|e| is_advert(e, src, VRID))
        .map(|e| e.t)
        .collect();
    h1.stop(Duration::from_secs(2));
    h2.stop(Duration::from_secs(2));
    if times.len() < 3 {
        return Err(LabError::new(format!(
            "only {} adverts from h1 captured in {window:?}",
            times.len()
        )));
    }
    let mut gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    let span = times[times.len() - 1] - times[0];
    Ok(Timing {
        p50: super::stats::percentile(&gaps, 50.0),
        p99: super::stats::percentile(&gaps, 99.0),
        max: gaps[gaps.len() - 1],
        rate: (times.len() - 1) as f64 * 1e9 / span as f64,
        count: times.len(),
    })
}

/// Starts an address owner (priority 255) on h1 and measures process start
/// → first gratuitous ARP, in nanoseconds.
pub fn owner(lab: &Lab, kind: DaemonKind) -> Result<i64> {
    lab.reset(&[format!("{VIP}/24")]);
    let interval = Duration::from_millis(100);
    let mut h1 = lab.start(kind, 1, &single(1, 3, interval, 255))?;
    let garp = lab.wait_garp(1, VIP, h1.started_ns, Duration::from_secs(5));
    h1.check_alive()?;
    let garp = garp?;
    h1.stop(Duration::from_secs(2));
    Ok(garp.t - h1.started_ns)
}
