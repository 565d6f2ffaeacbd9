//! The sans-IO engine: every configured instance, its trackers, sync
//! groups, waiting instances, address faults and reloads, with no socket,
//! clock, thread or file of its own. It is to the daemon what
//! [`VirtualRouter`](vrrp_core::router::VirtualRouter) is to one router,
//! as quinn's `Endpoint` is to its `Connection`s.
//!
//! Inputs are data, each with the time it happened:
//! [`handle_datagram`](Engine::handle_datagram),
//! [`handle_link`](Engine::handle_link),
//! [`handle_address`](Engine::handle_address),
//! [`handle_tracker`](Engine::handle_tracker),
//! [`handle_timeout`](Engine::handle_timeout), the results of what it asked
//! for ([`handle_resolved`](Engine::handle_resolved),
//! [`handle_install_result`](Engine::handle_install_result)), a new
//! configuration ([`plan_reload`](Engine::plan_reload) then
//! [`apply_reload`](Engine::apply_reload)) and
//! [`shutdown`](Engine::shutdown). After each, drain
//! [`poll_action`](Engine::poll_action) to `None` and carry the
//! [`Action`]s out in order, then wait until
//! [`poll_timeout`](Engine::poll_timeout). An install may finish later,
//! off the caller's loop: the instance keeps advertising, and announces
//! its addresses once its result comes back. The daemon's shell
//! ([`crate::daemon`]) does exactly that; the tests drive it in virtual
//! time.

mod action;
mod counters;
mod deadlines;
mod debounce;
mod drain;
mod event;
mod groups;
mod hold;
mod input;
mod instance;
mod links;
mod rebuild;
mod reload;
mod setup;
mod status;
mod sync;
mod tracking;
mod update;
mod waiting;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

pub use action::{Action, Addresses, InstanceId, LinkState, Resolved, SocketId};
pub use event::Event;
pub use reload::{ReloadError, ReloadPlan, ReloadSummary};
pub use setup::SetupError;

use crate::config::{Config, Notify};
use crate::control;
use crate::notify::Target;
use crate::track::TrackerKind;
use deadlines::Deadlines;
use hold::ReadHold;
use instance::Instance;
use waiting::Waiting;

/// The most queued actions whose room is kept once the queue is drained.
const SPARE_ACTIONS: usize = 256;

/// Every instance of one configuration; see the [module docs](self).
#[derive(Debug)]
pub struct Engine {
    /// The running configuration's global settings, sync groups and
    /// trackers. Its `instances` list is empty: each instance, running or
    /// waiting, holds its own table (a second copy of 1,000 of them was a
    /// sixth of the heap), and `instance_order` keeps their file order.
    config: Config,
    /// Each instance's position in the configuration file, by name.
    instance_order: HashMap<String, usize>,
    /// Packets refused before reaching an instance, by code.
    global_discards: BTreeMap<String, u64>,
    /// Bounds the per-packet discard log lines a hostile LAN can cause.
    log_limit: crate::ratelimit::LogLimiter,
    /// The sync groups.
    groups: Vec<groups::Group>,
    /// The running instances, in file order.
    instances: Vec<Instance>,
    /// (socket, VRID, index in `instances`), sorted, for routing a
    /// datagram without touching every instance (1,000 of them receive
    /// 10,000 adverts a second); `None` once `instances` changed. A sorted
    /// list takes a tenth of the memory of a map of lists.
    routes: Option<Vec<(SocketId, u8, usize)>>,
    /// Scratch for the packet path: the instances a datagram is for.
    route_targets: Vec<usize>,
    /// Every instance's next deadline, in order.
    deadlines: Deadlines,
    /// Instances waiting for the host (reported in Fault).
    waiting: Vec<Waiting>,
    /// When the waiting instances are tried again.
    next_waiting_retry: Option<Instant>,
    /// The hold on reading the VRRP sockets after they were read dry.
    hold: ReadHold,
    /// What the shell is to do, in order.
    actions: VecDeque<Action>,
    /// The hooks of instances a reload stopped, until the shell has taken
    /// the actions that report their stop ([`Engine::hooks`]).
    departed: Vec<(String, Notify)>,
    /// The instances due at `due_at` not run yet, last first (see
    /// [`Engine::handle_timeout`]).
    due: Vec<usize>,
    /// The time of the timeout being run, until all of it has.
    due_at: Option<Instant>,
    /// Instances were added or removed while a timeout was being run.
    due_stale: bool,
    /// The next [`InstanceId`].
    next_id: u64,
    /// Link changes waiting out `interface_up_down_delays`.
    debounce: debounce::Debounce,
}

impl Engine {
    /// An engine for `config`'s global settings, sync groups and trackers,
    /// with no instance yet: start them with [`plan_reload`](Self::plan_reload)
    /// and [`apply_reload`](Self::apply_reload) on the same configuration.
    pub fn new(config: &Config) -> Self {
        Engine {
            config: without_instances(config),
            instance_order: file_order(config),
            global_discards: BTreeMap::new(),
            log_limit: crate::ratelimit::LogLimiter::new(10, Duration::from_secs(10)),
            groups: groups::build(config),
            instances: Vec::new(),
            routes: None,
            route_targets: Vec::new(),
            deadlines: Deadlines::default(),
            waiting: Vec::new(),
            departed: Vec::new(),
            next_waiting_retry: None,
            hold: ReadHold::default(),
            actions: VecDeque::new(),
            due: Vec::new(),
            due_at: None,
            due_stale: false,
            next_id: 0,
            debounce: debounce::Debounce::default(),
        }
    }

    /// The name of a running instance.
    pub fn instance_name(&self, id: InstanceId) -> Option<&str> {
        self.index_of(id).map(|i| self.instances[i].name())
    }

    /// The running configuration, without its instance list.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The next thing to do, in order; `None` when there is nothing left.
    pub fn poll_action(&mut self) -> Option<Action> {
        let mut next = self.actions.pop_front();
        while next.is_none() && self.step_due() {
            next = self.actions.pop_front();
        }
        if next.is_none() {
            self.departed.clear();
        }
        if next.is_none() && self.actions.capacity() > SPARE_ACTIONS {
            // A takeover of 1,000 instances queues thousands of actions at
            // once; kept, that buffer would stay resident for good.
            self.actions = VecDeque::new();
        }
        next
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next, and
    /// whether that instant must be met exactly (a takeover, or an advert
    /// at an interval under 100 ms) or may be coalesced with others.
    pub fn poll_timeout(&mut self) -> Option<(Instant, bool)> {
        self.finish_due();
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
        let retry = self
            .next_waiting_retry
            .filter(|_| !self.waiting.is_empty())
            .map(|at| (at, false));
        let links = self.debounce.next().map(|at| (at, false));
        earliest(earliest(routers, retry), links)
    }

    /// The instances whose Master_Down_Timer has expired at `at`: the
    /// shell reads its sockets before such a takeover, and warms the
    /// address path ahead of it.
    pub fn takeovers_due(&mut self, at: Instant) -> Vec<InstanceId> {
        self.refresh_deadlines();
        let instances = &self.instances;
        self.deadlines
            .due(at)
            .into_iter()
            .filter(|&i| {
                instances[i]
                    .router
                    .master_down_deadline()
                    .is_some_and(|d| d <= at)
            })
            .map(|i| instances[i].id)
            .collect()
    }

    /// Whether instance `id` is Active, so that a VIP of its removed by
    /// someone else concerns it (see
    /// [`handle_address_removed`](Self::handle_address_removed)): the
    /// shell need not look a removed address up for the others, which at
    /// a step-down see thousands of their own removals go by.
    pub fn is_active(&self, id: InstanceId) -> bool {
        self.index_of(id)
            .is_some_and(|i| self.instances[i].router.state() == vrrp_core::router::State::Active)
    }

    /// Whether the VRRP sockets are held unread at `now`: after they were
    /// read dry the shell may leave them for a while (see
    /// [`start_read_hold`](Self::start_read_hold)).
    pub fn read_held(&mut self, now: Instant) -> bool {
        self.hold.holding(now)
    }

    /// When the current hold on the VRRP sockets ends.
    pub fn read_hold_until(&self) -> Option<Instant> {
        self.hold.until()
    }

    /// The shell read its VRRP sockets dry at `now`: holds them unread for
    /// as long as every instance allows (half a Backup's Skew_Time, a
    /// quarter of an Active's Adver_Interval, at most 5 ms), so that what
    /// arrives meanwhile is read in one wake-up. Safe because adverts are
    /// judged by their arrival stamp; see the hold module.
    pub fn start_read_hold(&mut self, now: Instant) {
        let instances = &self.instances;
        self.hold.start(now, || instances.iter().map(hold::allowed));
    }

    /// `vrrpctl status`: the running instances, then the waiting ones.
    pub fn status(&self) -> Vec<control::InstanceStatus> {
        let mut out: Vec<_> = self.instances.iter().map(status::status).collect();
        out.extend(self.waiting.iter().map(status::waiting_status));
        out
    }

    /// `vrrpctl stats`: the running instances, then the waiting ones.
    pub fn stats(&self) -> Vec<control::InstanceStats> {
        let mut out: Vec<_> = self.instances.iter().map(status::stats).collect();
        out.extend(self.waiting.iter().map(status::waiting_stats));
        out
    }

    /// Every instance, running or waiting, with its configuration, status
    /// and counters, in the order of the configuration file: what
    /// keepalived's data, stats and JSON dumps list ([`crate::dump`]).
    pub fn dump_instances(&self) -> Vec<crate::dump::DumpInstance> {
        let mut out: Vec<crate::dump::DumpInstance> = self
            .instances
            .iter()
            .map(|i| crate::dump::DumpInstance {
                config: i.config.clone(),
                status: status::status(i),
                stats: status::stats(i),
            })
            .chain(self.waiting.iter().map(|w| crate::dump::DumpInstance {
                config: w.config.clone(),
                status: status::waiting_status(w),
                stats: status::waiting_stats(w),
            }))
            .collect();
        out.sort_by_key(|d| {
            self.instance_order
                .get(&d.config.name)
                .copied()
                .unwrap_or(usize::MAX)
        });
        out
    }

    /// Packets refused before reaching any instance, by code.
    pub fn global_discards(&self) -> &BTreeMap<String, u64> {
        &self.global_discards
    }

    /// How many instances run, and how many wait for the host.
    pub fn instance_count(&self) -> (usize, usize) {
        (self.instances.len(), self.waiting.len())
    }

    /// A one-line summary for the service manager's `STATUS=`: how many
    /// instances are Active, Backup, in Fault (waiting ones included).
    pub fn summary(&self) -> String {
        let (mut active, mut backup, mut fault) = (0, 0, self.waiting.len());
        for i in &self.instances {
            match i.router.state() {
                vrrp_core::router::State::Active => active += 1,
                vrrp_core::router::State::Backup => backup += 1,
                _ => fault += 1,
            }
        }
        format!("{active} active, {backup} backup, {fault} fault")
    }

    /// The hooks of `target` (an instance's or a sync group's `notify*`).
    pub fn hooks(&self, target: &Target) -> Option<&Notify> {
        match target {
            Target::Instance(name) => self
                .instances
                .iter()
                .map(|i| &i.config)
                .chain(self.waiting.iter().map(|w| &w.config))
                .find(|c| c.name == *name)
                .map(|c| &c.notify)
                .or_else(|| {
                    self.departed
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, notify)| notify)
                }),
            Target::Group(name) => self
                .config
                .sync_groups
                .iter()
                .find(|g| g.name == *name)
                .map(|g| &g.notify),
        }
    }

    /// Every named tracker some instance or group refers to, once: the
    /// trackers the shell runs.
    pub fn used_trackers(&self) -> Vec<(TrackerKind, String)> {
        let instances = self.instances.iter().map(|i| &i.config);
        let waiting = self.waiting.iter().map(|w| &w.config);
        tracking::used(&self.config, instances.chain(waiting))
    }

    /// A fresh [`InstanceId`].
    fn new_id(&mut self) -> InstanceId {
        self.next_id += 1;
        InstanceId(self.next_id)
    }

    /// The index of the running instance `id`.
    fn index_of(&self, id: InstanceId) -> Option<usize> {
        self.instances.iter().position(|i| i.id == id)
    }

    /// Brings the deadline index up to date with what was touched.
    fn refresh_deadlines(&mut self) {
        let instances = &self.instances;
        self.deadlines
            .refresh(instances.len(), |i| deadlines::of_instance(&instances[i]));
    }

    /// Forgets the datagram routes and deadlines: call after adding,
    /// removing or reordering instances.
    fn instances_changed(&mut self) {
        self.due_stale = self.due_at.is_some();
        self.routes = None;
        self.deadlines.invalidate();
        self.hold.invalidate();
    }
}

/// The earlier of two deadlines, each with whether it is exact; at a tie,
/// exact if either is.
pub(crate) fn earliest(
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

/// `config` without its instances, for [`Engine::config`].
fn without_instances(config: &Config) -> Config {
    Config {
        global: config.global.clone(),
        instances: Vec::new(),
        sync_groups: config.sync_groups.clone(),
        track_script: config.track_script.clone(),
        track_tcp: config.track_tcp.clone(),
        track_http: config.track_http.clone(),
        track_file: config.track_file.clone(),
        track_process: config.track_process.clone(),
        // The LVS half has an engine of its own.
        virtual_servers: Vec::new(),
        // The shell installs them at start and removes them at a stop.
        statics: config.statics.clone(),
    }
}

/// Each instance's position in `config`, by name.
fn file_order(config: &Config) -> HashMap<String, usize> {
    config
        .instances
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.clone(), i))
        .collect()
}
