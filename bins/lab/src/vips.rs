//! The many-VIPs figures (Many VIPs #7): one instance with `n` VIPs,
//! VRRPv3 at 100 ms, the first 20 in `virtual_ipaddress` and the rest in
//! `virtual_ipaddress_excluded` (the same set-up for both daemons), and the
//! kernel's own cost of adding and removing `n` addresses (`ip -batch`),
//! measured in the same run as the floor.
//!
//! Packet times come from the client's capture. When the addresses are on
//! a host comes from that host's rtnetlink notifications, read by a thread
//! in its namespace ([`AddressWatch`]).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vrrp_netaddr::{Event as NetEvent, EventStream, Handle};

use super::capture::{Event, Kind};
use super::daemon::{DaemonKind, HostConfig, Instance};
use super::ns::{Netns, NsThread, Topology};
use super::scenario::{Lab, PRIO_ACTIVE, PRIO_BACKUP, VRID};
use super::{LabError, Result, check_interrupted, now_ns, sleep};

/// The advertisement interval of the figures.
pub const INTERVAL: Duration = Duration::from_millis(100);
/// VIPs in `virtual_ipaddress`; the rest are excluded.
const ADVERTISED: usize = 20;
/// Where the VIPs are: 198.18.32.1 - 198.18.39.250, 2,000 at most.
const VIP_RANGE: &str = "198.18.32.0/21";
/// The most VIPs [`vip`] can name.
pub const MAX_VIPS: usize = 2000;
/// How long any one step may take.
const STEP: Duration = Duration::from_secs(15);

/// The `i`-th VIP (`i < MAX_VIPS`).
pub fn vip(i: usize) -> Ipv4Addr {
    let i = i.min(MAX_VIPS - 1);
    Ipv4Addr::new(198, 18, 32 + (i / 250) as u8, 1 + (i % 250) as u8)
}

/// The configuration of host `h` (1 = the preferred Active) with `n` VIPs.
pub fn config(h: usize, n: usize) -> HostConfig {
    let n = n.clamp(1, MAX_VIPS);
    let cidrs: Vec<String> = (0..n).map(|i| format!("{}/32", vip(i))).collect();
    let mut advertised = cidrs[..n.min(ADVERTISED)].to_vec();
    let excluded = cidrs[n.min(ADVERTISED)..].to_vec();
    // The lab's instance takes one advertised VIP; the other advertised
    // ones go with the excluded, which both daemons install alike.
    let first = advertised.remove(0);
    let mut rest = advertised;
    rest.extend(excluded);
    HostConfig {
        router_id: format!("h{h}"),
        instances: vec![Instance {
            interface: "eth0".into(),
            vrid: VRID,
            version: 3,
            priority: if h == 1 { PRIO_ACTIVE } else { PRIO_BACKUP },
            interval: INTERVAL,
            initial_active: h == 1,
            vip: first,
            excluded: rest,
        }],
    }
}

/// The VIPs on one host's eth0 over time, from rtnetlink notifications.
#[derive(Debug)]
pub struct AddressWatch {
    /// (time, VIPs present after a change), in order.
    history: Arc<Mutex<Vec<(i64, usize)>>>,
    _thread: NsThread,
}

impl AddressWatch {
    /// Starts watching which of `vips` are on `ns`'s interfaces; returns
    /// once subscribed (and the addresses present then are counted).
    pub fn start(ns: &Netns, vips: HashSet<Ipv4Addr>) -> Result<AddressWatch> {
        let history = Arc::new(Mutex::new(Vec::new()));
        let h = history.clone();
        let setup_vips = vips.clone();
        let thread = NsThread::start(
            ns,
            "address-watch",
            "the address watch",
            move || {
                let stream = EventStream::subscribe()
                    .map_err(|e| LabError::new(format!("address events: {e}")))?;
                Ok((stream, dump(&setup_vips)?))
            },
            move |(stream, present), stop| watch(stream, &vips, present, &h, stop),
        )?;
        Ok(AddressWatch {
            history,
            _thread: thread,
        })
    }

    /// The VIPs present now.
    pub fn count(&self) -> usize {
        self.history
            .lock()
            .ok()
            .and_then(|h| h.last().map(|&(_, n)| n))
            .unwrap_or(0)
    }

    /// The first time at or after `since` at which exactly `count` VIPs
    /// were present (`since` itself if they already were); waits up to
    /// `timeout`.
    pub fn wait_count(&self, since: i64, count: usize, timeout: Duration) -> Result<i64> {
        let end = Instant::now() + timeout;
        loop {
            check_interrupted()?;
            if let Ok(h) = self.history.lock() {
                let before = h.iter().rev().find(|&&(t, _)| t < since);
                if before.is_some_and(|&(_, n)| n == count) {
                    return Ok(since);
                }
                if let Some(&(t, _)) = h.iter().find(|&&(t, n)| t >= since && n == count) {
                    return Ok(t);
                }
            }
            if Instant::now() >= end {
                return Err(LabError::new(format!(
                    "timed out after {timeout:?} waiting for {count} VIPs (now {})",
                    self.count()
                )));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Which of `vips` are on the host now.
fn dump(vips: &HashSet<Ipv4Addr>) -> Result<HashSet<Ipv4Addr>> {
    let mut handle = Handle::new().map_err(|e| LabError::new(format!("netlink: {e}")))?;
    let all = handle
        .addresses(None)
        .map_err(|e| LabError::new(format!("address dump: {e}")))?;
    Ok(all
        .iter()
        .filter_map(|a| match a.prefix.addr() {
            IpAddr::V4(v4) if vips.contains(&v4) => Some(v4),
            _ => None,
        })
        .collect())
}

/// The watch thread: every change to the set of present VIPs, timed when
/// read (within a millisecond of the kernel's notification on an idle
/// core); a lost notification (`ENOBUFS`) is mended with a dump.
fn watch(
    mut stream: EventStream,
    vips: &HashSet<Ipv4Addr>,
    mut present: HashSet<Ipv4Addr>,
    history: &Mutex<Vec<(i64, usize)>>,
    stop: &AtomicBool,
) -> Result<()> {
    let record = |n: usize| {
        if let Ok(mut h) = history.lock() {
            h.push((now_ns(), n));
        }
    };
    record(present.len());
    while !stop.load(Ordering::Relaxed) {
        let event = stream
            .recv_timeout(Duration::from_millis(20))
            .map_err(|e| LabError::new(format!("address events: {e}")))?;
        let before = present.len();
        match event {
            Some(NetEvent::AddressAdded { address, .. }) => {
                if let IpAddr::V4(a) = address.prefix.addr() {
                    if vips.contains(&a) {
                        present.insert(a);
                    }
                }
            }
            Some(NetEvent::AddressRemoved { address, .. }) => {
                if let IpAddr::V4(a) = address.prefix.addr() {
                    present.remove(&a);
                }
            }
            Some(NetEvent::Resync) => present = dump(vips)?,
            _ => continue,
        }
        if present.len() != before {
            record(present.len());
        }
    }
    Ok(())
}

/// The kernel's own cost of `n` addresses on a host's eth0: `ip -batch`
/// of `n` adds, then of `n` deletes, in nanoseconds (the process start
/// included, as a user would time it).
pub fn floor(lab: &Lab, n: usize) -> Result<(i64, i64)> {
    lab.reset(&[]);
    let ns = lab.topo.host(1);
    let _ = ns.ip_checked(&["addr", "flush", "dev", "eth0", "to", VIP_RANGE]);
    let dir = lab.dir.path();
    let run = |verb: &str| -> Result<i64> {
        let path = dir.join(format!("floor-{verb}.batch"));
        let text: String = (0..n.min(MAX_VIPS))
            .map(|i| format!("addr {verb} {}/32 dev eth0\n", vip(i)))
            .collect();
        std::fs::write(&path, text)?;
        let t0 = now_ns();
        ns.ip_checked(&["-batch", &path.display().to_string()])?;
        Ok(now_ns() - t0)
    };
    let add = run("add")?;
    let del = run("del")?;
    Ok((add, del))
}

/// One repetition with `n` VIPs, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VipsRun {
    /// h1 started alone → all its VIPs present.
    pub start_present: i64,
    /// h1's first advert as Active → all its VIPs present.
    pub start_install: i64,
    /// kill -9 of the Active: its last advert → the Backup's first GARP.
    pub crash_first_garp: i64,
    /// The new Active's first advert → the first GARP of its last VIP.
    pub crash_last_garp: i64,
    /// The kill → all VIPs present on the new Active.
    pub crash_present: i64,
    /// h1 back (preempting): its first advert → all VIPs gone from h2.
    pub preempt_removed: i64,
    /// SIGTERM of the Active: its priority-0 advert → the Backup's first GARP.
    pub graceful_first_garp: i64,
    /// The new Active's first advert → the first GARP of its last VIP.
    pub graceful_last_garp: i64,
    /// SIGTERM of the last Active → all its VIPs gone.
    pub stop_removed: i64,
}

/// When host `h` first announced each of the first `n` VIPs at or after
/// `since`: the latest of those, once all are in; waits up to `timeout`.
fn last_first_garp(lab: &Lab, h: usize, n: usize, since: i64, timeout: Duration) -> Result<i64> {
    let mac = lab.mac(h);
    let end = Instant::now() + timeout;
    loop {
        check_interrupted()?;
        let mut first: HashMap<IpAddr, i64> = HashMap::new();
        for e in lab.capture.since(since) {
            if let Kind::Garp { ip, mac: m } = e.kind {
                if m == mac {
                    first.entry(ip).or_insert(e.t);
                }
            }
        }
        let all = (0..n).all(|i| first.contains_key(&IpAddr::V4(vip(i))));
        if all {
            return Ok(first.values().copied().max().unwrap_or(since));
        }
        if Instant::now() >= end {
            return Err(LabError::new(format!(
                "h{h} announced {} of {n} VIPs in {timeout:?}",
                first.len()
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The first GARP from host `h` at or after `since`.
fn first_garp(lab: &Lab, h: usize, since: i64) -> Result<Event> {
    let mac = lab.mac(h);
    lab.capture.wait_for(
        since,
        STEP,
        &format!("a gratuitous ARP from h{h}"),
        |e| matches!(e.kind, Kind::Garp { mac: m, .. } if m == mac),
    )
}

/// Start, crash failover, preempt-back, graceful takeover and clean stop
/// with `n` VIPs on both hosts.
pub fn run(lab: &Lab, kind: DaemonKind, n: usize) -> Result<VipsRun> {
    let n = n.clamp(1, MAX_VIPS);
    lab.reset(&[]);
    for h in 1..=2 {
        let _ = lab
            .topo
            .host(h)
            .ip_checked(&["addr", "flush", "dev", "eth0", "to", VIP_RANGE]);
    }
    let set: HashSet<Ipv4Addr> = (0..n).map(vip).collect();
    let w1 = AddressWatch::start(lab.topo.host(1), set.clone())?;
    let w2 = AddressWatch::start(lab.topo.host(2), set)?;
    let (c1, c2) = (config(1, n), config(2, n));

    // Start-up alone.
    let mut h1 = lab.start(kind, 1, &c1)?;
    let present = w1.wait_count(h1.started_ns, n, STEP);
    h1.check_alive()?;
    let present = present?;
    let start_present = present - h1.started_ns;
    let active = lab.wait_advert(1, VRID, h1.started_ns, STEP)?;
    let start_install = present - active.t;
    let mut h2 = lab.start(kind, 2, &c2)?;
    sleep(Duration::from_millis(300) + INTERVAL * 2)?;
    h2.check_alive()?;
    if w2.count() != 0 {
        return Err(LabError::new(format!(
            "h2 holds {} VIPs as Backup",
            w2.count()
        )));
    }

    // kill -9 right after an advert, links down (as the crash figures).
    lab.wait_advert(1, VRID, now_ns(), STEP)?;
    let kill_t = now_ns();
    lab.topo.host(1).kill_all();
    lab.topo.set_links(1, false)?;
    let crash_garp = first_garp(lab, 2, kill_t);
    h2.check_alive()?;
    let crash_garp = crash_garp?;
    let last = lab
        .last_advert(
            1,
            VRID,
            kill_t - 2 * INTERVAL.as_nanos() as i64,
            crash_garp.t,
        )
        .ok_or_else(|| LabError::new("no advert from h1 before the kill"))?;
    let first_advert = lab.wait_advert(2, VRID, kill_t, STEP)?;
    let crash_last = last_first_garp(lab, 2, n, kill_t, STEP)?;
    let crash_present = w2.wait_count(kill_t, n, STEP)? - kill_t;

    // h1 comes back, without what the crash left, and preempts.
    drop(h1);
    let _ = lab
        .topo
        .host(1)
        .ip_checked(&["addr", "flush", "dev", "eth0", "to", VIP_RANGE]);
    lab.topo.set_links(1, true)?;
    w1.wait_count(now_ns(), 0, STEP)?;
    sleep(INTERVAL * 2)?;
    let mut h1 = lab.start(kind, 1, &c1)?;
    let back = lab.wait_advert(1, VRID, h1.started_ns, STEP)?;
    let removed = w2.wait_count(back.t, 0, STEP);
    h1.check_alive()?;
    let preempt_removed = removed? - back.t;
    w1.wait_count(back.t, n, STEP)?;
    sleep(Duration::from_millis(300) + INTERVAL * 2)?;

    // SIGTERM: priority 0, h2 takes over.
    let term_t = now_ns();
    h1.signal(libc::SIGTERM);
    let src = Topology::host_addr(1);
    let zero = lab.capture.wait_for(term_t, STEP, "h1's priority-0 advert", |e| {
        matches!(e.kind, Kind::Advert { src: s, vrid, priority: 0, .. } if s == src && vrid == VRID)
    })?;
    let garp = first_garp(lab, 2, term_t)?;
    let first_advert2 = lab.wait_advert(2, VRID, zero.t, STEP)?;
    let graceful_last = last_first_garp(lab, 2, n, term_t, STEP)?;
    h1.stop(Duration::from_secs(5));
    w2.wait_count(term_t, n, STEP)?;
    sleep(Duration::from_millis(300))?;

    // Clean stop of the last Active.
    let stop_t = now_ns();
    h2.signal(libc::SIGTERM);
    let stop_removed = w2.wait_count(stop_t, 0, STEP)? - stop_t;
    h2.stop(Duration::from_secs(5));
    Ok(VipsRun {
        start_present,
        start_install,
        crash_first_garp: crash_garp.t - last.t,
        crash_last_garp: crash_last - first_advert.t,
        crash_present,
        preempt_removed,
        graceful_first_garp: garp.t - zero.t,
        graceful_last_garp: graceful_last - first_advert2.t,
        stop_removed,
    })
}
