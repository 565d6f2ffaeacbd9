//! The driver: everything the event loop ([`super::event_loop`]) owns
//! but its channels and timer, and what it does with each input: set-up,
//! timeouts, routers' outputs carried out in order, status and stop.

use std::net::IpAddr;
use std::time::Instant;

use super::refused::install_addresses;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};
use vrrp_core::router::{Output, State};

use std::collections::{BTreeMap, HashMap};

use super::DaemonError;
use super::announce::Announcer;
use super::control as ctl;
use super::deadlines::{self, Deadlines};
use super::hold::{self, ReadHold};
use super::instance::Instance;
use super::setup::SetupError;
use super::sockets::{SocketEntry, SocketSet, open_socket};
use super::tracking;
use super::vips::AddressManager;
use super::waiting::Waiting;
use crate::config::Config;
use crate::control;
use crate::notify::{HookState, Notifier, Target, Transition};
use crate::track::{self, TrackerUpdate};

/// Everything the loop owns but the channels and the timer.
#[derive(Debug)]
pub(super) struct Driver {
    /// The running configuration's global settings, sync groups and
    /// trackers. Its `instances` list is empty: each instance, running or
    /// waiting, holds its own table (a second copy of 1,000 of them was a
    /// sixth of the heap), and `instance_order` keeps their file order.
    pub(super) config: Config,
    /// Each instance's position in the configuration file, by name.
    pub(super) instance_order: HashMap<String, usize>,
    /// The named trackers' tasks and their channel.
    pub(super) trackers: Vec<JoinHandle<()>>,
    pub(super) tracker_tx: mpsc::UnboundedSender<TrackerUpdate>,
    /// Packets refused before reaching an instance, by code.
    pub(super) global_discards: std::collections::BTreeMap<String, u64>,
    /// Bounds the per-packet discard log lines a hostile LAN can cause.
    pub(super) log_limit: crate::ratelimit::LogLimiter,
    /// The hook queue of each instance and group, by name.
    pub(super) notifiers: HashMap<String, Notifier>,
    /// The sync groups.
    pub(super) groups: Vec<super::groups::Group>,
    pub(super) instances: Vec<Instance>,
    /// (socket id, VRID, index in `instances`), sorted, for routing a
    /// datagram without touching every instance (1,000 of them receive
    /// 10,000 adverts a second); `None` once `instances` changed. A sorted
    /// list takes a tenth of the memory of a map of lists.
    pub(super) routes: Option<Vec<(usize, u8, usize)>>,
    /// Scratch for the packet path, kept to save an allocation per
    /// datagram: the instances a datagram is for.
    pub(super) route_targets: Vec<usize>,
    /// Every instance's next deadline, in order.
    pub(super) deadlines: Deadlines,
    /// Instances waiting for their interface (reported in Fault).
    pub(super) waiting: Vec<Waiting>,
    /// When the waiting instances are tried again.
    pub(super) next_waiting_retry: Instant,
    /// The raw sockets by id; ids are never reused, so a datagram still
    /// queued from a closed socket cannot reach another interface's
    /// instances.
    pub(super) sockets: BTreeMap<usize, SocketEntry>,
    pub(super) next_socket: usize,
    /// The set the sockets are read through; the loop waits on it.
    pub(super) socket_set: SocketSet,
    /// Scratch for the packet path: the ids of the ready sockets.
    pub(super) ready_sockets: Vec<usize>,
    /// The receive buffer, [`crate::net::RECV_BUFFER_LEN`] bytes.
    pub(super) recv_buf: Vec<u8>,
    /// The hold on reading the sockets after they were read dry.
    pub(super) hold: ReadHold,
    pub(super) addrs: AddressManager,
    pub(super) announcer: Announcer,
}

impl Driver {
    /// Opens the sockets and builds the instances of `config`; those that
    /// wait for their interface are listed, and an invalid one is an error.
    pub(super) fn setup(&mut self, config: &Config) -> Result<(), DaemonError> {
        // One allocation of the right size: growing by doubling left the
        // smaller copies as holes that later small allocations pinned.
        self.instances.reserve_exact(config.instances.len());
        for ic in &config.instances {
            match self.build_or_wait(ic) {
                Ok(Some(inst)) => {
                    self.instances.push(inst);
                    self.instances_changed();
                }
                Ok(None) => {}
                Err(source) => {
                    return Err(DaemonError::Setup {
                        instance: ic.name.clone(),
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    /// Builds the instance of `ic`, opening (or reusing) its socket and
    /// joining the group. Nothing is sent or installed.
    pub(super) fn build(&mut self, ic: &crate::config::Instance) -> Result<Instance, SetupError> {
        let mut inst = Instance::new(&mut self.addrs.handle, &self.config, ic)?;
        match self.socket_for(&inst) {
            Ok(id) => {
                inst.socket = id;
                Ok(inst)
            }
            Err(e) => {
                if let Some(v) = inst.vmac.take() {
                    v.teardown(&mut self.addrs.handle);
                }
                Err(SetupError::waiting(
                    format!("VRRP socket on {}", ic.interface),
                    e,
                ))
            }
        }
    }

    /// The id of the socket for `inst`'s family and interface, opened and
    /// joined to the group if need be.
    fn socket_for(&mut self, inst: &Instance) -> std::io::Result<usize> {
        let family = inst.config.family();
        let found = self
            .sockets
            .iter()
            .find(|(_, s)| s.family == family && s.ifindex == inst.link.index)
            .map(|(&id, _)| id);
        let id = match found {
            Some(id) => id,
            None => {
                let id = self.next_socket;
                self.next_socket += 1;
                let entry = open_socket(
                    &self.socket_set,
                    id,
                    family,
                    &inst.config.interface,
                    inst.link.index,
                )?;
                self.sockets.insert(id, entry);
                id
            }
        };
        if !inst.config.is_unicast() {
            // Joining twice is harmless (EADDRINUSE is ignored; the socket
            // layer keeps the kind but not the errno).
            if let Some(entry) = self.sockets.get(&id) {
                if let Err(e) = entry.socket.join_group() {
                    if e.kind() != std::io::ErrorKind::AddrInUse {
                        return Err(e);
                    }
                }
            }
        }
        Ok(id)
    }

    /// `vrrpctl status`: the running instances and the waiting ones.
    pub(super) fn status(&self) -> Vec<control::InstanceStatus> {
        let mut out: Vec<_> = self.instances.iter().map(ctl::status).collect();
        out.extend(self.waiting.iter().map(ctl::waiting_status));
        out
    }

    /// `vrrpctl stats`: the running instances and the waiting ones.
    pub(super) fn stats(&self) -> Vec<control::InstanceStats> {
        let mut out: Vec<_> = self.instances.iter().map(ctl::stats).collect();
        out.extend(self.waiting.iter().map(ctl::waiting_stats));
        out
    }

    /// Starts the router of instance `i`.
    pub(super) fn start(&mut self, i: usize, now: Instant) {
        let inst = &mut self.instances[i];
        if !inst.link_up && !inst.config.dont_track_primary {
            inst.router.set_link_up(now, false);
        }
        inst.router.startup(now);
        self.announcer.prepare(&self.instances[i]);
        self.drain(i, now);
    }

    /// (Re)starts the tasks of every named tracker in use.
    pub(super) fn spawn_trackers(&mut self) {
        for t in self.trackers.drain(..) {
            t.abort();
        }
        let instances = self.instances.iter().map(|i| &i.config);
        let waiting = self.waiting.iter().map(|w| &w.config);
        let used = tracking::used(&self.config, instances.chain(waiting));
        self.trackers = track::spawn_all(&self.config, &used, &self.tracker_tx);
    }

    pub(super) fn on_tracker(&mut self, u: &TrackerUpdate) {
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
    pub(super) fn start_all(&mut self, now: Instant) {
        for i in 0..self.instances.len() {
            self.start(i, now);
        }
    }

    /// Runs the read-only part of the takeovers due at `deadline` ahead
    /// of it (the interface and address lookups an install starts with),
    /// so that the install itself finds the netlink path warm: cold, on an
    /// idle virtual machine, it took 250–300 µs instead of 60.
    pub(super) fn warm_takeovers(&mut self, deadline: Instant) {
        for i in self.takeovers_due(deadline) {
            self.addrs.warm(&self.instances[i].addresses);
        }
    }

    /// The instances whose Master_Down_Timer has expired at `at`.
    pub(super) fn takeovers_due(&mut self, at: Instant) -> Vec<usize> {
        self.refresh_deadlines();
        let instances = &self.instances;
        let mut due = self.deadlines.due(at);
        due.retain(|&i| {
            instances[i]
                .router
                .master_down_deadline()
                .is_some_and(|d| d <= at)
        });
        due
    }

    /// The earliest deadline of any router, announcement or retry, and
    /// whether the timer must meet it exactly (see the timer module): a
    /// takeover, or an advertisement at a short interval, is due first.
    pub(super) fn next_deadline(&mut self) -> Option<(Instant, bool)> {
        self.refresh_deadlines();
        let routers = self.deadlines.next();
        #[cfg(debug_assertions)]
        assert_eq!(
            routers,
            deadlines::scan(self.instances.len(), |i| deadlines::of_instance(
                &self.instances[i]
            )),
            "stale deadline index: an instance changed without Deadlines::touch"
        );
        let retry = (!self.waiting.is_empty()).then_some((self.next_waiting_retry, false));
        earliest(routers, retry)
    }

    /// Holds the sockets unread for as long as every instance allows (see
    /// the hold module), after they were read dry at `now`.
    pub(super) fn start_hold(&mut self, now: Instant) {
        let instances = &self.instances;
        self.hold.start(now, || instances.iter().map(hold::allowed));
    }

    /// Brings the deadline index up to date with what was touched.
    pub(super) fn refresh_deadlines(&mut self) {
        let instances = &self.instances;
        self.deadlines
            .refresh(instances.len(), |i| deadlines::of_instance(&instances[i]));
    }

    /// Runs what is due at `now`: routers, announcements, address retries
    /// and the waiting instances' retry.
    pub(super) fn on_timeout(&mut self, now: Instant) {
        self.refresh_deadlines();
        for i in self.deadlines.due(now) {
            self.deadlines.touch(i);
            let inst = &mut self.instances[i];
            if inst.router.poll_timeout().is_some_and(|t| t <= now) {
                inst.router.handle_timeout(now);
                self.drain(i, now);
            }
            let inst = &mut self.instances[i];
            if inst.schedule.poll_timeout().is_some_and(|t| t <= now) {
                self.announcer.send_due(inst, now);
            }
            let inst = &mut self.instances[i];
            if inst.address_retry.is_some_and(|t| t <= now) {
                inst.address_retry = None;
                info!(instance = inst.name(), "trying the virtual addresses again");
                inst.router.set_address_fault(now, false);
                self.drain(i, now);
            }
        }
        if !self.waiting.is_empty() && self.next_waiting_retry <= now {
            self.retry_waiting(now);
        }
    }

    /// Forgets the datagram routes: call after adding, removing or
    /// reordering instances.
    pub(super) fn instances_changed(&mut self) {
        self.routes = None;
        self.deadlines.invalidate();
        self.hold.invalidate();
    }

    /// Carries out every output of instance `i`, then applies its sync
    /// group's rules.
    pub(super) fn drain(&mut self, i: usize, now: Instant) {
        self.deadlines.touch(i);
        self.drain_outputs(i, now);
        self.sync_after(i, now);
    }

    /// Carries out every output of instance `i`, in order, and shortens
    /// the read hold if the router now allows less of one.
    pub(super) fn drain_outputs(&mut self, i: usize, now: Instant) {
        let Driver {
            config,
            instances,
            sockets,
            addrs,
            announcer,
            notifiers,
            hold: read_hold,
            ..
        } = self;
        let inst = &mut instances[i];
        // Set once the addresses could not be installed: what the router
        // queued with them (its first advertisement, the announcements)
        // would claim addresses this host does not hold, so it is dropped;
        // the priority-0 release still goes out.
        let mut refused = false;
        let mut installed = false;
        while let Some(output) = inst.router.poll_output() {
            match output {
                Output::InstallAddresses => {
                    let specs = inst.addresses.clone();
                    refused |= !install_addresses(addrs, inst, &specs, now);
                    installed = true;
                }
                Output::SendAdvertisement(t) if refused && !t.priority.is_shutdown() => {}
                Output::Announce if refused => {}
                Output::SendAdvertisement(t) => {
                    let from_vmac = inst
                        .vmac
                        .as_deref()
                        .and_then(|v| v.advert_source_mac())
                        .filter(|_| t.dst.is_multicast());
                    if let Some(mac) = from_vmac {
                        let parent = inst.link.index.get();
                        if let Err(e) = announcer.send_advert(parent, mac, t.src, t.dst, &t.payload)
                        {
                            warn!(instance = inst.name(), dst = %t.dst, error = %e,
                                "cannot send advertisement from the virtual MAC");
                        }
                        continue;
                    }
                    let Some(sock) = sockets.get(&inst.socket) else {
                        warn!(
                            instance = inst.name(),
                            "no VRRP socket: advertisement not sent"
                        );
                        continue;
                    };
                    if let Err(e) = sock.socket.send_to(&t.payload, t.dst, t.src) {
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
                    if let Some(v) = &inst.vmac {
                        v.set_active(false);
                    }
                    addrs.remove(&inst.config.name, &inst.addresses);
                }
                Output::StateChanged { from, to, reason } => {
                    inst.extra.transition(from, to, reason);
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
        if installed {
            // After the advertisement and the first announcements.
            addrs.settle();
        }
        read_hold.lower(hold::allowed(inst), now);
    }

    /// Stops every router (priority 0 from the Active ones, addresses
    /// removed) and empties the ledger.
    pub(super) fn stop(&mut self, now: Instant) {
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

/// The earlier of two deadlines, each with whether it is exact; at a tie,
/// exact if either is.
pub(super) fn earliest(
    a: Option<(Instant, bool)>,
    b: Option<(Instant, bool)>,
) -> Option<(Instant, bool)> {
    match (a, b) {
        (Some(a), Some(b)) => Some(match a.0.cmp(&b.0) {
            std::cmp::Ordering::Less => a,
            std::cmp::Ordering::Greater => b,
            std::cmp::Ordering::Equal => (a.0, a.1 || b.1),
        }),
        (a, b) => a.or(b),
    }
}

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

/// `config` without its instances, for [`Driver::config`].
pub(super) fn without_instances(config: &Config) -> Config {
    Config {
        global: config.global.clone(),
        instances: Vec::new(),
        sync_groups: config.sync_groups.clone(),
        track_script: config.track_script.clone(),
        track_tcp: config.track_tcp.clone(),
        track_http: config.track_http.clone(),
        track_file: config.track_file.clone(),
    }
}

/// Each instance's position in `config`, by name.
pub(super) fn file_order(config: &Config) -> HashMap<String, usize> {
    config
        .instances
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.clone(), i))
        .collect()
}
