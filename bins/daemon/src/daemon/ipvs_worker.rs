//! The IPVS worker: one thread that owns the IPVS handle and ledger and
//! carries out the LVS engine's IPVS changes in order, so that netlink
//! never blocks the event loop. At start it cleans up what a crashed run
//! left (the ledger); at stop, after the engine's removals, it removes
//! whatever the ledger still holds.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use tracing::{error, info, warn};
use vrrp_ipvs::{
    AddOutcome, DestinationInfo, Handle, IpvsLedger, Release, ServiceKey, Stats, Timeouts,
};

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

use super::lvs_input::LvsInput;
use crate::lvs::LvsAction;

/// What IPVS counts for each service asked about that it has: the
/// service's totals and its destinations.
pub(crate) type Counters = HashMap<ServiceKey, (Stats, Vec<DestinationInfo>)>;

/// What the worker is asked to do, in order.
#[derive(Debug)]
enum Job {
    /// An IPVS change of the engine's.
    Apply(LvsAction),
    /// Read the counters of these services (for `vrrpctl lvs`).
    Count(Vec<ServiceKey>, oneshot::Sender<Counters>),
    /// Report which of these addresses the host holds (`ha_suspend`).
    ReportAddresses(Vec<IpAddr>),
    /// Set the connection timeouts (`lvs_timeouts`; `None`: put back what
    /// the kernel had before we set them).
    SetTimeouts(Option<Timeouts>),
}

/// The loop's side of the worker.
#[derive(Debug)]
pub(crate) struct IpvsWorker {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl IpvsWorker {
    /// Starts the thread; it opens IPVS (loading `ip_vs` if needed) and
    /// cleans up the ledger in `state_dir` before the first job.
    /// When `watched` (the addresses of `ha_suspend` services) is not
    /// empty, it first reports which addresses the host holds on `report`.
    pub(crate) fn start(
        state_dir: &Path,
        watched: Vec<IpAddr>,
        report: UnboundedSender<LvsInput>,
    ) -> std::io::Result<IpvsWorker> {
        let (tx, rx) = mpsc::channel();
        let dir = state_dir.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("vrrpd-ipvs".into())
            .spawn(move || {
                if !watched.is_empty() {
                    report_addresses(&watched, &report);
                }
                run(&dir, &rx, &report)
            })?;
        Ok(IpvsWorker {
            jobs: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues an IPVS change (other actions are not the worker's).
    pub(crate) fn send(&self, action: LvsAction) {
        if let Some(tx) = &self.jobs {
            let _ = tx.send(Job::Apply(action));
        }
    }

    /// Sets IPVS's connection timeouts (`None`: the kernel's own again).
    pub(crate) fn set_timeouts(&self, timeouts: Option<Timeouts>) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job::SetTimeouts(timeouts));
        }
    }

    /// Asks for a report of which of `watched` the host holds (after a
    /// reload added `ha_suspend` services).
    pub(crate) fn report_addresses(&self, watched: Vec<IpAddr>) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job::ReportAddresses(watched));
        }
    }

    /// Asks for the counters of `services`, read after the changes
    /// queued before; the answer is dropped (the receiver errs) when IPVS
    /// is not available.
    pub(crate) fn count(&self, services: Vec<ServiceKey>) -> oneshot::Receiver<Counters> {
        let (tx, rx) = oneshot::channel();
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job::Count(services, tx));
        }
        rx
    }

    /// Runs what is queued, removes what the ledger still holds, and
    /// stops. Blocks: only for the end of the loop.
    pub(crate) fn finish(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                warn!("the IPVS worker panicked: the ledger is left for the next start");
            }
        }
    }
}

impl Drop for IpvsWorker {
    fn drop(&mut self) {
        self.jobs = None;
    }
}

fn open(dir: &Path) -> Option<(Handle, IpvsLedger)> {
    let mut handle = match Handle::new() {
        Ok(h) => h,
        Err(vrrp_ipvs::Error::NotAvailable) => {
            // keepalived loads the module itself.
            let _ = std::process::Command::new("modprobe")
                .arg("ip_vs")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
            match Handle::new() {
                Ok(h) => h,
                Err(e) => {
                    error!(error = %e, "IPVS is not available: the virtual servers are not set up");
                    return None;
                }
            }
        }
        Err(e) => {
            error!(error = %e, "cannot open IPVS: the virtual servers are not set up");
            return None;
        }
    };
    let mut ledger = match IpvsLedger::open(dir) {
        Ok(l) => l,
        Err(e) => {
            error!(error = %e, "cannot open the IPVS ledger: the virtual servers are not set up");
            return None;
        }
    };
    match ledger.clear(&mut handle) {
        Ok(report) => {
            for (key, release) in &report.services {
                info!(service = %key, outcome = ?release, "cleaned up an IPVS service left by a previous run");
            }
            for (key, addr, release) in &report.destinations {
                info!(service = %key, real_server = %addr, outcome = ?release, "cleaned up a real server left by a previous run");
            }
            for (what, e) in &report.failed {
                warn!(entry = %what, error = %e, "cannot clean up what a previous run left");
            }
        }
        Err(e) => warn!(error = %e, "cannot clean up the IPVS ledger"),
    }
    Some((handle, ledger))
}

/// Sends which of `watched` the host holds (one entry per interface
/// holding it); on a netlink failure, none (the checks stay suspended and
/// address events still wake them).
fn report_addresses(watched: &[IpAddr], report: &UnboundedSender<LvsInput>) {
    let held = vrrp_netaddr::Handle::new()
        .and_then(|mut h| h.addresses(None))
        .map(|all| {
            all.into_iter()
                .map(|a| a.prefix.addr())
                .filter(|a| watched.contains(a))
                .collect()
        })
        .unwrap_or_else(|e| {
            warn!(error = %e, "cannot list the host's addresses for ha_suspend");
            Vec::new()
        });
    let _ = report.send(LvsInput::Addresses(held));
}

/// The counters of `services` that exist; a failed read leaves its
/// service out.
fn count(h: &mut Handle, services: &[ServiceKey]) -> Counters {
    let mut out = Counters::new();
    for key in services {
        let read = match h.service(key) {
            Ok(Some(info)) => h.destinations(key).map(|d| Some((info.stats, d))),
            other => other.map(|_| None),
        };
        match read {
            Ok(Some(counted)) => {
                out.insert(*key, counted);
            }
            Ok(None) => {}
            Err(e) => warn!(service = %key, error = %e, "cannot read the IPVS counters"),
        }
    }
    out
}

fn run(dir: &Path, jobs: &mpsc::Receiver<Job>, report: &UnboundedSender<LvsInput>) {
    let Some((mut handle, mut ledger)) = open(dir) else {
        // Drain, so the loop's sends never pile up.
        while jobs.recv().is_ok() {}
        return;
    };
    let h = &mut handle;
    let mut kernel_timeouts = KernelTimeouts::open(dir);
    while let Ok(job) = jobs.recv() {
        let job = match job {
            Job::Apply(action) => action,
            Job::Count(services, reply) => {
                let _ = reply.send(count(h, &services));
                continue;
            }
            Job::ReportAddresses(watched) => {
                report_addresses(&watched, report);
                continue;
            }
            Job::SetTimeouts(t) => {
                kernel_timeouts.set(h, t);
                continue;
            }
        };
        match job {
            LvsAction::AddService(s) => match ledger.add_service(h, &s) {
                Ok(AddOutcome::Added) => {
                    info!(service = %s.key, scheduler = %s.scheduler, "IPVS service added")
                }
                Ok(AddOutcome::AlreadyPresent) => warn!(
                    service = %s.key,
                    "the IPVS service exists already (someone else's): its settings are left alone and it is never removed"
                ),
                Err(e) => error!(service = %s.key, error = %e, "cannot add the IPVS service"),
            },
            LvsAction::UpdateService(s) => match ledger.update_service(h, &s) {
                Ok(true) => {
                    info!(service = %s.key, scheduler = %s.scheduler, "IPVS service changed")
                }
                Ok(false) => {
                    warn!(service = %s.key, "not our IPVS service: its settings are left alone")
                }
                Err(e) => error!(service = %s.key, error = %e, "cannot change the IPVS service"),
            },
            LvsAction::RemoveService(key) => match ledger.remove_service(h, &key) {
                Ok(Release::NotOwned) => {}
                Ok(r) => info!(service = %key, outcome = ?r, "IPVS service removed"),
                Err(e) => error!(service = %key, error = %e, "cannot remove the IPVS service"),
            },
            LvsAction::AddDestination(key, d) => match ledger.add_destination(h, &key, &d) {
                Ok(_) => {
                    info!(service = %key, real_server = %d.addr, weight = d.weight, "real server added")
                }
                Err(e) => {
                    error!(service = %key, real_server = %d.addr, error = %e, "cannot add the real server")
                }
            },
            LvsAction::UpdateDestination(key, d) => match ledger.update_destination(h, &key, &d) {
                Ok(true) => {
                    info!(service = %key, real_server = %d.addr, weight = d.weight, "real server weight set")
                }
                Ok(false) => {
                    warn!(service = %key, real_server = %d.addr, "not our real server: left alone")
                }
                Err(vrrp_ipvs::Error::Kernel(k)) if k.is_not_found() => {
                    // keepalived adds it when the edit finds none.
                    if let Err(e) = ledger.add_destination(h, &key, &d) {
                        error!(service = %key, real_server = %d.addr, error = %e, "cannot add the real server");
                    }
                }
                Err(e) => {
                    error!(service = %key, real_server = %d.addr, error = %e, "cannot change the real server")
                }
            },
            LvsAction::RemoveDestination(key, addr) => {
                match ledger.remove_destination(h, &key, addr) {
                    Ok(Release::NotOwned) => {}
                    Ok(r) => {
                        info!(service = %key, real_server = %addr, outcome = ?r, "real server removed")
                    }
                    Err(e) => {
                        error!(service = %key, real_server = %addr, error = %e, "cannot remove the real server")
                    }
                }
            }
            LvsAction::RunCheck(_) | LvsAction::RunHook(..) | LvsAction::Changed(_) => {}
        }
    }
    // A clean stop: whatever is still recorded goes, and the timeouts are
    // the kernel's again.
    kernel_timeouts.set(h, None);
    match ledger.clear(h) {
        Ok(report) => {
            for (what, e) in &report.failed {
                warn!(entry = %what, error = %e, "cannot remove at stop");
            }
        }
        Err(e) => warn!(error = %e, "cannot clear the IPVS ledger at stop"),
    }
}

/// What the kernel's connection timeouts were before `lvs_timeouts` set
/// them, to put back at a clean stop. Kept in `ipvs-timeouts.json` in the
/// state directory until then, so the start after a crash puts them back
/// too (keepalived never does).
#[derive(Debug)]
struct KernelTimeouts {
    path: PathBuf,
    before: Option<Timeouts>,
}

impl KernelTimeouts {
    /// The record in `dir`, if a run set the timeouts and did not put
    /// them back.
    fn open(dir: &Path) -> KernelTimeouts {
        let path = dir.join("ipvs-timeouts.json");
        let before = match std::fs::read(&path) {
            Ok(bytes) if bytes.len() <= 4096 => serde_json::from_slice(&bytes)
                .map_err(|e| warn!(path = %path.display(), error = %e, "unreadable IPVS timeouts record: ignored"))
                .ok(),
            Ok(_) => {
                warn!(path = %path.display(), "IPVS timeouts record over 4 KiB: ignored");
                None
            }
            Err(_) => None,
        };
        KernelTimeouts { path, before }
    }

    /// Sets `wanted` (zero fields unchanged), or puts the kernel's back.
    fn set(&mut self, h: &mut Handle, wanted: Option<Timeouts>) {
        let target = match (wanted, self.before) {
            (Some(t), Some(_)) => t,
            (Some(t), None) => {
                let before = match h.timeouts() {
                    Ok(b) => b,
                    Err(e) => {
                        warn!(error = %e, "cannot read IPVS's timeouts: lvs_timeouts not set");
                        return;
                    }
                };
                // Recorded before they change (as the ledger does).
                let tmp = self.path.with_extension("json.tmp");
                let saved = serde_json::to_vec(&before)
                    .map_err(std::io::Error::other)
                    .and_then(|b| std::fs::write(&tmp, b))
                    .and_then(|()| std::fs::rename(&tmp, &self.path));
                if let Err(e) = saved {
                    warn!(path = %self.path.display(), error = %e, "cannot record IPVS's timeouts: lvs_timeouts not set");
                    return;
                }
                self.before = Some(before);
                t
            }
            (None, Some(before)) => before,
            (None, None) => return,
        };
        match h.set_timeouts(&target) {
            Ok(()) => {
                info!(tcp = ?target.tcp, tcp_fin = ?target.tcp_fin, udp = ?target.udp, "IPVS timeouts set");
                if wanted.is_none() {
                    self.before = None;
                    let _ = std::fs::remove_file(&self.path);
                }
            }
            Err(e) => warn!(error = %e, "cannot set IPVS's timeouts"),
        }
    }
}
