//! The event loop: one task on the current tokio runtime owns every
//! router, socket, timer and the netlink handle, so no state is shared.
//! Each socket has a small reader task that timestamps datagrams and
//! passes them over a channel.

use std::future::Future;
use std::net::IpAddr;
use std::time::Instant;

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};
use vrrp_core::router::{Output, State};
use vrrp_netaddr::{Event, EventStream, Link};

use std::collections::HashMap;

use super::DaemonError;
use super::announce::Announcer;
use super::control as ctl;
use super::instance::{self, Instance};
use super::io::{Datagram, SocketEntry, next_reload, next_request, open_socket, read_events};
use super::sdnotify;
use super::timer::PreciseTimer;
use super::tracking;
use super::vips::AddressManager;
use crate::config::Config;
use crate::control::{self, Request, Response};
use crate::notify::{HookState, Notifier, Target, Transition};
use crate::track::{self, TrackerUpdate};

/// Everything the loop owns but the channels and the timer.
#[derive(Debug)]
pub(super) struct Driver {
    /// The running configuration.
    pub(super) config: Config,
    /// The named trackers' tasks and their channel.
    pub(super) trackers: Vec<JoinHandle<()>>,
    pub(super) tracker_tx: mpsc::UnboundedSender<TrackerUpdate>,
    /// Packets refused before reaching an instance, by code.
    global_discards: std::collections::BTreeMap<String, u64>,
    /// Bounds the per-packet discard log lines a hostile LAN can cause.
    log_limit: crate::ratelimit::LogLimiter,
    /// The hook queue of each instance and group, by name.
    pub(super) notifiers: HashMap<String, Notifier>,
    /// The sync groups.
    pub(super) groups: Vec<super::groups::Group>,
    pub(super) instances: Vec<Instance>,
    sockets: Vec<SocketEntry>,
    pub(super) addrs: AddressManager,
    announcer: Announcer,
}

/// Runs `config` until `shutdown` completes; see [`super::Daemon::run`].
pub(crate) async fn run(
    config: Config,
    shutdown: impl Future<Output = ()>,
    mut reloads: Option<mpsc::UnboundedReceiver<Config>>,
    loader: Option<super::ConfigLoader>,
) -> Result<(), DaemonError> {
    // 1. Clean up after a previous run, before anything else.
    let addrs = AddressManager::open_and_clean(&config.global.state_dir)?;
    // 2. Watch links and addresses before reading their state.
    let events = match EventStream::subscribe() {
        // SAFETY: the stream owns its netlink descriptor for its whole
        // life and never replaces it; the AsyncFd owns the stream.
        Ok(stream) => Some(
            unsafe { AsyncFd::register(stream) }.map_err(|e| DaemonError::Io {
                what: "registering the netlink event socket".into(),
                source: e.into(),
            })?,
        ),
        Err(e) => {
            warn!(error = %e, "no link events: link state and VIP deletions will not be noticed");
            None
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (tracker_tx, mut tracker_rx) = mpsc::unbounded_channel();
    let mut driver = Driver {
        config: config.clone(),
        trackers: Vec::new(),
        tracker_tx,
        notifiers: HashMap::new(),
        groups: super::groups::build(&config),
        global_discards: Default::default(),
        log_limit: crate::ratelimit::LogLimiter::new(10, std::time::Duration::from_secs(10)),
        instances: Vec::new(),
        sockets: Vec::new(),
        addrs,
        announcer: Announcer::default(),
    };
    // 3. Sockets, then routers.
    if let Err(e) = driver.setup(&config, &tx) {
        driver.addrs.clear();
        return Err(e);
    }
    let mut timer = PreciseTimer::new().map_err(|e| DaemonError::Io {
        what: "creating the timer".into(),
        source: e,
    })?;
    let (control_task, mut control_rx) = match control::serve(&config.global.control_socket) {
        Ok((task, rx)) => (Some(task), Some(rx)),
        Err(e) => {
            warn!(error = %e, "no control socket: vrrpctl will not reach this daemon");
            (None, None)
        }
    };
    driver.spawn_trackers();
    driver.start_all(Instant::now());
    sdnotify::notify("READY=1");
    info!(instances = driver.instances.len(), "vrrpd running");

    let mut events = events;
    tokio::pin!(shutdown);
    let result = loop {
        if let Err(e) = timer.arm(driver.next_deadline()) {
            break Err(DaemonError::Io {
                what: "arming the timer".into(),
                source: e,
            });
        }
        tokio::select! {
            biased;
            () = &mut shutdown => break Ok(()),
            r = timer.wait() => {
                if let Err(e) = r {
                    break Err(DaemonError::Io { what: "waiting on the timer".into(), source: e });
                }
                timer.fired();
                driver.on_timeout(Instant::now());
            }
            Some(dg) = rx.recv() => {
                driver.on_datagram(&dg);
                // Drain what else is queued before re-arming.
                while let Ok(dg) = rx.try_recv() {
                    driver.on_datagram(&dg);
                }
            }
            Some(u) = tracker_rx.recv() => driver.on_tracker(&u),
            Some(req) = next_request(&mut control_rx) => {
                let response = match req.request {
                    Request::Status => Response::Status {
                        instances: driver.instances.iter().map(ctl::status).collect(),
                    },
                    Request::Stats => Response::Stats {
                        global: driver.global_discards.clone(),
                        instances: driver.instances.iter().map(ctl::stats).collect(),
                    },
                    Request::Reload => match loader.as_ref().map(|f| f()) {
                        None => Response::Reloaded {
                            ok: false,
                            message: "this daemon has no configuration file to reload".into(),
                        },
                        Some(Err(message)) => {
                            warn!("reload rejected: {message}");
                            Response::Reloaded { ok: false, message }
                        }
                        Some(Ok(new)) => {
                            sdnotify::notify("RELOADING=1");
                            let message = driver.reload(&new, &tx);
                            sdnotify::notify("READY=1");
                            Response::Reloaded { ok: message.is_ok(), message: message.unwrap_or_else(|e| e) }
                        }
                    },
                };
                let _ = req.reply.send(response);
            }
            Some(new) = next_reload(&mut reloads) => {
                sdnotify::notify("RELOADING=1");
                let _ = driver.reload(&new, &tx);
                sdnotify::notify("READY=1");
            }
            evs = read_events(&mut events) => {
                for ev in evs {
                    driver.on_event(ev);
                }
            }
        }
    };
    sdnotify::notify("STOPPING=1");
    if let Some(task) = control_task {
        task.abort();
        let _ = std::fs::remove_file(&driver.config.global.control_socket);
    }
    driver.stop(Instant::now());
    for notifier in driver.notifiers.values() {
        notifier.drain(HOOK_DRAIN).await;
    }
    info!("vrrpd stopped");
    result
}

impl Driver {
    /// Opens the sockets and builds the instances of `config`.
    fn setup(
        &mut self,
        config: &Config,
        tx: &mpsc::UnboundedSender<Datagram>,
    ) -> Result<(), DaemonError> {
        for ic in &config.instances {
            let inst = self.build(ic, tx)?;
            self.instances.push(inst);
        }
        Ok(())
    }

    /// Builds the instance of `ic`, opening (or reusing) its socket and
    /// joining the group. Nothing is sent or installed.
    pub(super) fn build(
        &mut self,
        ic: &crate::config::Instance,
        tx: &mpsc::UnboundedSender<Datagram>,
    ) -> Result<Instance, DaemonError> {
        let family = ic.family();
        let setup = |e: std::io::Error| DaemonError::Setup {
            instance: ic.name.clone(),
            message: e.to_string(),
        };
        let socket = match self
            .sockets
            .iter()
            .position(|s| s.family == family && s.interface == ic.interface)
        {
            Some(i) => i,
            None => {
                let i = self.sockets.len();
                let entry = open_socket(i, family, &ic.interface, tx).map_err(setup)?;
                self.sockets.push(entry);
                i
            }
        };
        if !ic.is_unicast() {
            // Joining twice is harmless (EADDRINUSE is ignored; the socket
            // layer keeps the kind but not the errno).
            if let Err(e) = self.sockets[socket].fd.get_ref().join_group() {
                if e.kind() != std::io::ErrorKind::AddrInUse {
                    return Err(setup(e));
                }
            }
        }
        Instance::new(&mut self.addrs.handle, &self.config, ic, socket)
    }

    /// Starts the router of instance `i`.
    pub(super) fn start(&mut self, i: usize, now: Instant) {
        let inst = &mut self.instances[i];
        if !inst.link_up && !inst.config.dont_track_primary {
            inst.router.set_link_up(now, false);
        }
        inst.router.startup(now);
        self.drain(i, now);
    }

    /// (Re)starts the tasks of every named tracker in use.
    pub(super) fn spawn_trackers(&mut self) {
        for t in self.trackers.drain(..) {
            t.abort();
        }
        let used = tracking::used(&self.config);
        self.trackers = track::spawn_all(&self.config, &used, &self.tracker_tx);
    }

    fn on_tracker(&mut self, u: &TrackerUpdate) {
        let now = Instant::now();
        info!(tracker = %u.name, kind = u.kind.as_str(), observation = ?u.observation,
            detail = %u.detail, "tracker changed");
        for i in 0..self.instances.len() {
            let inst = &mut self.instances[i];
            if inst.tracking.update(u) {
                inst.tracking.apply(now, &mut inst.router);
                self.drain(i, now);
            }
        }
    }

    /// Starts every router.
    fn start_all(&mut self, now: Instant) {
        for i in 0..self.instances.len() {
            self.start(i, now);
        }
    }

    /// The earliest deadline of any router or announcement.
    fn next_deadline(&self) -> Option<Instant> {
        self.instances
            .iter()
            .filter_map(instance::next_deadline)
            .min()
    }

    fn on_timeout(&mut self, now: Instant) {
        for i in 0..self.instances.len() {
            let inst = &mut self.instances[i];
            if inst.router.poll_timeout().is_some_and(|t| t <= now) {
                inst.router.handle_timeout(now);
                self.drain(i, now);
            }
            let inst = &mut self.instances[i];
            if inst.schedule.poll_timeout().is_some_and(|t| t <= now) {
                self.announcer.send_due(inst, now);
            }
        }
    }

    /// Whether a discard line for `key` may be logged now, and how many
    /// were suppressed before it.
    fn log_allowed(&mut self, key: &'static str, now: Instant) -> Option<u64> {
        allowed(self.log_limit.check(key, now))
    }

    fn on_datagram(&mut self, dg: &Datagram) {
        let received = match dg.meta.received(&dg.data) {
            Ok(r) => r,
            Err(e) => {
                if let Some(suppressed) = self.log_allowed(e.code(), dg.at) {
                    debug!(src = %dg.meta.src, error = %e, suppressed, "undecodable VRRP packet");
                }
                *self
                    .global_discards
                    .entry(e.code().to_string())
                    .or_default() += 1;
                return;
            }
        };
        let Some(&vrid) = received.payload().get(1) else {
            *self
                .global_discards
                .entry("packet_length".to_string())
                .or_default() += 1;
            return;
        };
        let mut matched = false;
        for i in 0..self.instances.len() {
            let inst = &mut self.instances[i];
            if inst.socket != dg.socket || inst.vrid() != vrid {
                continue;
            }
            matched = true;
            if let Err(discard) = inst.router.handle_advertisement(dg.at, &received) {
                inst.extra.discard(discard.code());
                let verdict = self.log_limit.check(discard.code(), dg.at);
                if let Some(suppressed) = allowed(verdict) {
                    let inst = &self.instances[i];
                    debug!(instance = inst.name(), src = %dg.meta.src, ?discard, suppressed, "advertisement discarded");
                }
            }
            self.drain(i, dg.at);
        }
        if !matched {
            if let Some(suppressed) = self.log_allowed("vrid_mismatch", dg.at) {
                debug!(src = %dg.meta.src, vrid, suppressed, "advertisement for a VRID not configured here");
            }
            *self
                .global_discards
                .entry("vrid_mismatch".to_string())
                .or_default() += 1;
        }
    }

    fn on_event(&mut self, event: Event) {
        let now = Instant::now();
        match event {
            Event::LinkUp(link) => self.link_changed(&link, true, now),
            Event::LinkDown(link) | Event::LinkRemoved(link) => {
                self.announcer.forget(link.index.get());
                self.link_changed(&link, false, now);
            }
            Event::AddressRemoved { address, .. } => {
                for inst in &self.instances {
                    if inst.router.state() != State::Active {
                        continue;
                    }
                    let Some(spec) = inst
                        .addresses
                        .iter()
                        .find(|s| address.matches(s.ifindex, s.prefix))
                    else {
                        continue;
                    };
                    // The ledger still claims it only if we did not remove it.
                    if self.addrs.owns(spec.ifindex, spec.prefix) || inst.link_up {
                        warn!(instance = inst.name(), address = %spec.prefix,
                            "virtual address removed by someone else while Active: adding it back");
                        let spec = spec.clone();
                        let name = inst.name().to_string();
                        self.addrs.install(&name, std::slice::from_ref(&spec));
                        break;
                    }
                }
            }
            Event::Resync => {
                let links: Vec<Link> = self
                    .instances
                    .iter()
                    .filter_map(|i| self.addrs.handle.link_by_index(i.link.index).ok())
                    .collect();
                for link in links {
                    let up = link.is_up();
                    self.link_changed(&link, up, now);
                }
            }
            _ => {}
        }
    }

    fn link_changed(&mut self, link: &Link, up: bool, now: Instant) {
        for i in 0..self.instances.len() {
            let inst = &mut self.instances[i];
            if inst.tracking.link(&link.name, up) {
                inst.tracking.apply(now, &mut inst.router);
                self.drain(i, now);
            }
            let inst = &mut self.instances[i];
            if inst.link.index != link.index || inst.link_up == up {
                continue;
            }
            inst.link_up = up;
            info!(instance = inst.name(), interface = %link.name, up, "link state changed");
            if !inst.config.dont_track_primary {
                inst.router.set_link_up(now, up);
                self.drain(i, now);
            }
        }
    }

    /// Carries out every output of instance `i`, then applies its sync
    /// group's rules.
    pub(super) fn drain(&mut self, i: usize, now: Instant) {
        self.drain_outputs(i, now);
        self.sync_after(i, now);
    }

    /// Carries out every output of instance `i`, in order.
    pub(super) fn drain_outputs(&mut self, i: usize, now: Instant) {
        let Driver {
            config,
            instances,
            sockets,
            addrs,
            announcer,
            notifiers,
            ..
        } = self;
        let inst = &mut instances[i];
        while let Some(output) = inst.router.poll_output() {
            match output {
                Output::InstallAddresses => addrs.install(&inst.config.name, &inst.addresses),
                Output::SendAdvertisement(t) => {
                    let sock = sockets[inst.socket].fd.get_ref();
                    if let Err(e) = sock.send_to(&t.payload, t.dst, t.src) {
                        warn!(instance = inst.name(), dst = %t.dst, error = %e,
                            "cannot send advertisement");
                    }
                }
                Output::Announce => {
                    let addrs: Vec<IpAddr> = inst.announced().collect();
                    inst.schedule.start(now, addrs);
                    announcer.send_due(inst, now);
                }
                Output::RemoveAddresses => {
                    inst.schedule.stop();
                    addrs.remove(&inst.config.name, &inst.addresses);
                }
                Output::StateChanged { from, to, reason } => {
                    inst.extra
                        .transition(from.as_str(), to.as_str(), reason.as_str());
                    notify_transition(config, notifiers, inst, from, to);
                    info!(
                        instance = inst.name(),
                        vrid = inst.vrid(),
                        %from,
                        %to,
                        reason = reason.as_str(),
                        priority = inst.router.priority().get(),
                        "state change: {} {from} -> {to} ({})",
                        inst.name(),
                        reason.as_str()
                    );
                }
                other => debug!(instance = inst.name(), ?other, "unhandled output"),
            }
        }
    }

    /// Stops every router (priority 0 from the Active ones, addresses
    /// removed) and empties the ledger.
    fn stop(&mut self, now: Instant) {
        for i in 0..self.instances.len() {
            self.instances[i].router.shutdown(now);
            self.drain(i, now);
        }
        self.addrs.clear();
        for inst in &mut self.instances {
            if let Some(v) = inst.vmac.take() {
                v.teardown(&mut self.addrs.handle);
            }
        }
    }
}

/// How long a clean stop waits for queued notify hooks.
const HOOK_DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Queues the notify hooks of a transition of `inst`, without waiting.
fn notify_transition(
    config: &Config,
    notifiers: &mut HashMap<String, Notifier>,
    inst: &Instance,
    from: State,
    to: State,
) {
    let state = match (HookState::from_router(to), from) {
        (Some(s), _) => s,
        (None, State::Initialize) => return,
        (None, _) => HookState::Stop,
    };
    if inst.config.notify.is_empty() {
        return;
    }
    let notifier = notifiers
        .entry(inst.config.name.clone())
        .or_insert_with(Notifier::spawn);
    notifier.notify(
        config,
        &inst.config.notify,
        Transition {
            target: Target::Instance(inst.config.name.clone()),
            state,
            previous: HookState::from_router(from),
            priority: inst.router.priority().get(),
        },
    );
}

/// The suppressed count to log with a line, or `None` to drop the line.
fn allowed(verdict: crate::ratelimit::Verdict) -> Option<u64> {
    use crate::ratelimit::Verdict;
    match verdict {
        Verdict::Log => Some(0),
        Verdict::LogAfterSuppressing(n) => Some(n),
        Verdict::Suppress => None,
    }
}
