//! The LVS half's shell: runs what [`LvsEngine`] asks for. IPVS changes
//! go to the [`IpvsWorker`] thread, checks run as tasks on the loop's
//! runtime and come back on [`LvsShell::results`], hooks run as tasks.
//! Nothing here blocks the loop.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;
use tracing::{info, warn};

use super::checks;
use super::ipvs_worker::{Counters, IpvsWorker};
pub(crate) use super::lvs_input::LvsInput;
use crate::config::lvs::VirtualServer;
use crate::config::{Config, Global};
use crate::lvs::{
    CheckerId, HookReason, LvsAction, LvsEngine, RealServerCounters, VirtualServerStatus,
};
use crate::process::Job;

/// How long `vrrpctl lvs` waits for IPVS's counters.
const COUNTERS_TIMEOUT: Duration = Duration::from_secs(2);

/// How long an LVS notify or quorum hook may run.
const HOOK_TIMEOUT: Duration = Duration::from_secs(60);

/// The LVS engine and its I/O.
#[derive(Debug)]
pub(crate) struct LvsShell {
    /// The engine, and with it the configuration the check tasks share
    /// ([`LvsEngine::config`]).
    engine: LvsEngine,
    global: Arc<Global>,
    worker: IpvsWorker,
    results_tx: mpsc::UnboundedSender<LvsInput>,
    /// Where check results and the worker's address dump arrive.
    pub(crate) results: mpsc::UnboundedReceiver<LvsInput>,
    /// How many interfaces hold each address a `ha_suspend` service
    /// answers on (keepalived counts them too).
    present: HashMap<IpAddr, u32>,
    /// Hook tasks not known to have ended (a stop waits for them).
    hooks: Vec<tokio::task::JoinHandle<()>>,
}

impl LvsShell {
    /// Starts the LVS half of `config` at `now`, or `None` when it has no
    /// virtual server. Must be called inside the loop's runtime.
    pub(crate) fn start(config: &Config, now: Instant) -> Option<LvsShell> {
        if config.virtual_servers.is_empty() {
            return None;
        }
        let (results_tx, results) = mpsc::unbounded_channel();
        let watched = watched(&config.virtual_servers);
        let worker = match IpvsWorker::start(&config.global.state_dir, watched, results_tx.clone())
        {
            Ok(w) => w,
            Err(e) => {
                warn!(error = %e, "cannot start the IPVS worker: the virtual servers are not set up");
                return None;
            }
        };
        worker.set_timeouts(config.global.lvs_timeouts);
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        let mut shell = LvsShell {
            engine: LvsEngine::new(config.virtual_servers.clone(), seed),
            global: Arc::new(config.global.clone()),
            worker,
            results_tx,
            results,
            present: HashMap::new(),
            hooks: Vec::new(),
        };
        shell.engine.start(now);
        shell.drain();
        info!(
            virtual_servers = config.virtual_servers.len(),
            "LVS started"
        );
        Some(shell)
    }

    /// When [`on_timeout`](Self::on_timeout) is next due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.engine.poll_timeout()
    }

    /// Starts the checks due at `now`.
    pub(crate) fn on_timeout(&mut self, now: Instant) {
        self.engine.handle_timeout(now);
        self.drain();
    }

    /// Takes a check's result, or the worker's address dump.
    pub(crate) fn on_input(&mut self, now: Instant, input: LvsInput) {
        match input {
            LvsInput::Checked(id, outcome) => self.engine.handle_check_result(now, id, outcome),
            LvsInput::Addresses(addrs) => {
                self.present.clear();
                for a in addrs {
                    *self.present.entry(a).or_default() += 1;
                }
                for a in watched(self.engine.config()) {
                    let here = self.present.get(&a).is_some_and(|&n| n > 0);
                    self.engine.set_address_present(a, here);
                }
            }
        }
        self.drain();
    }

    /// An address came or went on the host (`ha_suspend`: checks run
    /// while a service's address is here).
    pub(crate) fn on_address(&mut self, addr: IpAddr, added: bool) {
        if !self
            .engine
            .config()
            .iter()
            .any(|v| v.ha_suspend && v.address() == Some(addr))
        {
            return;
        }
        let n = self.present.entry(addr).or_default();
        *n = if added { *n + 1 } else { n.saturating_sub(1) };
        let here = *n > 0;
        info!(address = %addr, here, "a ha_suspend service's address changed: its checks {}", if here { "run" } else { "are suspended" });
        self.engine.set_address_present(addr, here);
        self.drain();
    }

    /// What `vrrpctl lvs` shows: the engine's status at `now`, with
    /// IPVS's counters once the worker has read them (after the changes
    /// queued before), or without them after [`COUNTERS_TIMEOUT`]. The
    /// future borrows nothing, so the loop can hand it to a task.
    pub(crate) fn status(
        &self,
        now: Instant,
    ) -> impl Future<Output = Vec<VirtualServerStatus>> + Send + 'static {
        let mut status = self.engine.status(now);
        let counters = self
            .worker
            .count(status.iter().map(|v| v.service).collect());
        async move {
            match tokio::time::timeout(COUNTERS_TIMEOUT, counters).await {
                Ok(Ok(counters)) => add_counters(&mut status, &counters),
                Ok(Err(_)) => {} // IPVS is not available: logged at start.
                Err(_) => warn!("the IPVS worker did not read the counters in time"),
            }
            status
        }
    }

    /// Takes the LVS half of a reloaded configuration at `now`: the
    /// engine changes only what differs (see [`LvsEngine::reload`]).
    pub(crate) fn reload(&mut self, now: Instant, new: &Config) {
        if new.global.lvs_timeouts != self.global.lvs_timeouts {
            self.worker.set_timeouts(new.global.lvs_timeouts);
        }
        self.global = Arc::new(new.global.clone());
        if new.virtual_servers.as_slice() == &self.engine.config()[..] {
            return;
        }
        self.engine.reload(now, new.virtual_servers.clone());
        let watched = watched(self.engine.config());
        if !watched.is_empty() {
            // The counts are rebuilt from the worker's answer.
            self.worker.report_addresses(watched);
        }
        info!(virtual_servers = new.virtual_servers.len(), "LVS reloaded");
        self.drain();
    }

    /// Removes every service and real server this run added (the worker
    /// finishes its queue first), and runs the `omega` hooks, waiting up
    /// to `hooks_bound` for every hook still running (the runtime would
    /// kill them as it ends). Blocks on the worker: only for the end of
    /// the loop.
    pub(crate) async fn stop(&mut self, hooks_bound: Duration) {
        self.engine.stop();
        self.drain();
        self.worker.finish();
        let deadline = tokio::time::Instant::now() + hooks_bound;
        for hook in std::mem::take(&mut self.hooks) {
            if tokio::time::timeout_at(deadline, hook).await.is_err() {
                warn!("an LVS hook was still running at the stop");
                break;
            }
        }
    }

    fn drain(&mut self) {
        while let Some(action) = self.engine.poll_action() {
            match action {
                LvsAction::RunCheck(id) => self.spawn_check(id),
                LvsAction::Changed(change) => match change {
                    HookReason::RealServerUp { service, addr } => {
                        info!(service = %service, real_server = %addr, "real server up")
                    }
                    HookReason::RealServerDown { service, addr } => {
                        warn!(service = %service, real_server = %addr, "real server down")
                    }
                    HookReason::QuorumUp(s) => info!(service = %s, "quorum gained"),
                    HookReason::QuorumDown(s) => warn!(service = %s, "quorum lost"),
                },
                LvsAction::RunHook(hook, _) => {
                    let job = Job::new(&hook.exec, HOOK_TIMEOUT)
                        .configured(hook.run_as.as_ref(), &self.global);
                    self.hooks.retain(|h| !h.is_finished());
                    self.hooks.push(tokio::spawn(async move {
                        if let Err(e) = job.run().await {
                            warn!(error = %e, "LVS hook failed");
                        }
                    }));
                }
                ipvs => self.worker.send(ipvs),
            }
        }
    }

    fn spawn_check(&self, id: CheckerId) {
        let tx = self.results_tx.clone();
        let servers = Arc::clone(self.engine.config());
        let global = Arc::clone(&self.global);
        tokio::spawn(async move {
            let outcome = checks::run(servers, id, global).await;
            let _ = tx.send(LvsInput::Checked(id, outcome));
        });
    }
}

/// Fills in each service's and real server's counters from `counters`.
fn add_counters(status: &mut [VirtualServerStatus], counters: &Counters) {
    for v in status {
        let Some((stats, dests)) = counters.get(&v.service) else {
            continue;
        };
        v.counters = Some(*stats);
        for r in &mut v.real_servers {
            r.counters = dests
                .iter()
                .find(|d| d.destination.addr == r.addr)
                .map(|d| RealServerCounters {
                    active_connections: d.active_connections,
                    inactive_connections: d.inactive_connections,
                    stats: d.stats,
                });
        }
    }
}

/// The addresses of `ha_suspend` services, whose presence on the host
/// decides whether their checks run.
fn watched(servers: &[VirtualServer]) -> Vec<IpAddr> {
    servers
        .iter()
        .filter(|v| v.ha_suspend)
        .filter_map(VirtualServer::address)
        .collect()
}
