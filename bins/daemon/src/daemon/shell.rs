//! The I/O shell: what the event loop ([`super::event_loop`]) owns besides
//! its channels and timer, and the one place where the engine's
//! [`Action`]s are carried out, in order.

use std::collections::{BTreeMap, HashMap};

use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::DaemonError;
use super::address_worker::{AddressWorker, Done};
use super::announce::Announcer;
use super::fifo::NotifyFifos;
use super::host::{HostTable, VmacLink};
use super::lookup;
use super::observe::Observers;
use super::reload_queue::Reloads;
use super::sockets::{SocketEntry, SocketSet};
use crate::config::Config;
use crate::engine::{
    Action, Addresses, Engine, InstanceId, ReloadPlan, ReloadSummary, Resolved, SetupError,
};
use crate::notify::{Notifier, Target};
use crate::track::{self, TrackerUpdate};

/// What the shell found for each instance of a [`ReloadPlan`].
pub(crate) type Resolutions = Vec<(InstanceId, Result<Resolved, SetupError>)>;

/// The engine and every resource of the host it acts through.
#[derive(Debug)]
pub(crate) struct Shell {
    /// The sans-IO engine: every instance's protocol state.
    pub(crate) engine: Engine,
    /// What each instance holds on the host, by handle.
    pub(crate) hosts: HostTable,
    /// The named trackers' tasks and their channel.
    trackers: Vec<JoinHandle<()>>,
    tracker_tx: mpsc::UnboundedSender<TrackerUpdate>,
    /// The hook queue of each instance and group, by name.
    pub(crate) notifiers: HashMap<String, Notifier>,
    /// The raw sockets by id; ids are never reused, so a datagram still
    /// queued from a closed socket cannot reach another interface's
    /// instances.
    pub(crate) sockets: BTreeMap<usize, SocketEntry>,
    pub(crate) next_socket: usize,
    /// The set the sockets are read through; the loop waits on it.
    pub(crate) socket_set: SocketSet,
    /// Scratch for the packet path: the ids of the ready sockets.
    pub(crate) ready_sockets: Vec<usize>,
    /// The receive buffer, [`crate::net::RECV_BUFFER_LEN`] bytes.
    pub(crate) recv_buf: Vec<u8>,
    /// Installs and removes addresses off the loop, in order, and runs
    /// the look-ups (the loop makes no netlink call).
    pub(crate) addresses: AddressWorker,
    pub(crate) announcer: Announcer,
    /// Reloads being looked up or waiting for their turn.
    pub(crate) reloads: Reloads,
    /// Look-ups the worker has not answered yet (what they find may hold
    /// a macvlan to free).
    pub(crate) lookups_out: usize,
    /// keepalived's notify FIFOs.
    pub(crate) fifos: NotifyFifos,
    /// `vrrpctl watch` clients and the metrics' timings.
    pub(crate) observers: Observers,
}

impl Shell {
    /// A shell over `addresses` (the worker over the ledger, already
    /// cleaned up) and an engine for `config`, with no instance yet.
    pub(crate) fn new(
        config: &Config,
        addresses: AddressWorker,
        socket_set: SocketSet,
        tracker_tx: mpsc::UnboundedSender<TrackerUpdate>,
    ) -> Self {
        Shell {
            engine: Engine::new(config),
            hosts: HostTable::default(),
            trackers: Vec::new(),
            tracker_tx,
            notifiers: HashMap::new(),
            sockets: BTreeMap::new(),
            next_socket: 0,
            socket_set,
            ready_sockets: Vec::new(),
            recv_buf: vec![0; crate::net::RECV_BUFFER_LEN],
            addresses,
            announcer: Announcer::default(),
            reloads: Reloads::default(),
            lookups_out: 0,
            fifos: NotifyFifos::default(),
            observers: Observers::default(),
        }
    }

    /// Resolves the instances that applying `config` starts, here and now,
    /// through `netlink`: start-up, before the loop runs (and before the
    /// worker starts). The first half of [`commit`](Self::commit).
    pub(crate) fn resolve_now(
        &mut self,
        config: Config,
        netlink: &mut vrrp_netaddr::Handle,
    ) -> (ReloadPlan, Resolutions) {
        let plan = self.engine.plan_reload(config);
        let mut results = Vec::new();
        self.hosts.reserve_exact(plan.to_resolve_indices().count());
        // One at a time, each made a host at once: 1,000 look-ups held
        // together until the end left the heap fragmented.
        for (id, k) in plan.to_resolve_indices() {
            let ic = &plan.config().instances[k];
            let result = lookup::look_up_in(netlink, plan.config(), ic)
                .and_then(|found| self.finish_resolve(id, ic, found));
            results.push((id, result));
        }
        (plan, results)
    }

    /// Applies what [`resolve_now`](Self::resolve_now) or a reload's
    /// look-ups found: unchanged
    /// instances keep running, changed and removed ones stop, new ones
    /// start. If one cannot run at all, nothing changes.
    pub(crate) fn commit(
        &mut self,
        plan: ReloadPlan,
        results: Resolutions,
    ) -> Result<ReloadSummary, DaemonError> {
        let now = Instant::now();
        let applied = self.engine.apply_reload(now, plan, results);
        self.run_actions(now);
        self.close_unused_sockets();
        applied.map_err(|e| DaemonError::Setup {
            instance: e.instance,
            source: e.source,
        })
    }

    /// (Re)starts the tasks of every named tracker in use.
    pub(crate) fn spawn_trackers(&mut self) {
        for t in self.trackers.drain(..) {
            t.abort();
        }
        let used = self.engine.used_trackers();
        self.trackers = track::spawn_all(self.engine.config(), &used, &self.tracker_tx);
    }

    /// A tracker changed.
    pub(crate) fn on_tracker(&mut self, u: &TrackerUpdate) {
        let now = Instant::now();
        self.engine.handle_tracker(now, u);
        self.run_actions(now);
    }

    /// The timer fired: what is due runs.
    pub(crate) fn on_timeout(&mut self, now: Instant) {
        self.engine.handle_timeout(now);
        self.run_actions(now);
    }

    /// Readies the address path of the takeovers due at `deadline`, ahead
    /// of it, so that the install finds netlink warm: cold, on an idle
    /// virtual machine, it took 250–300 µs instead of 60.
    pub(crate) fn warm_takeovers(&mut self, deadline: Instant) {
        for id in self.engine.takeovers_due(deadline) {
            if let Some(host) = self.hosts.get(&id) {
                self.addresses.warm(host.addresses.clone());
            }
        }
    }

    /// Carries out every action the engine queued, in order.
    pub(crate) fn run_actions(&mut self, now: Instant) {
        while let Some(action) = self.engine.poll_action() {
            self.execute(action, now);
        }
    }

    /// Carries out one action.
    fn execute(&mut self, action: Action, now: Instant) {
        match action {
            Action::Resolve { instance, config } => self.request_lookup(instance, config),
            Action::InstallAddresses { instance, which } => self.install(now, instance, which),
            Action::SettleAddresses => self.addresses.settle(),
            Action::UpdateAddresses {
                instance,
                config,
                holds,
            } => self.update_addresses(now, instance, &config, holds),
            Action::RemoveAddresses { instance } => {
                if let Some(host) = self.hosts.get(&instance) {
                    if let Some(name) = host.vmac.as_deref().and_then(VmacLink::ipv6_name) {
                        self.addresses.set_vmac_ipv6(name, false);
                    }
                    self.addresses.remove(&host.name, host.addresses.clone());
                }
            }
            Action::SendAdvertisement { instance, transmit } => {
                let Some(host) = self.hosts.get(&instance) else {
                    return;
                };
                let from_vmac = host
                    .vmac
                    .as_deref()
                    .and_then(super::host::VmacLink::advert_source_mac)
                    .filter(|_| transmit.dst.is_multicast());
                if let Some(mac) = from_vmac {
                    let parent = host.link.index.get();
                    if let Err(e) = self.announcer.send_advert(
                        parent,
                        mac,
                        transmit.src,
                        transmit.dst,
                        &transmit.payload,
                    ) {
                        warn!(instance = %host.name, dst = %transmit.dst, error = %e,
                            "cannot send advertisement from the virtual MAC");
                    }
                    return;
                }
                let Some(sock) = self.sockets.get(&host.socket.0) else {
                    warn!(instance = %host.name, "no VRRP socket: advertisement not sent");
                    return;
                };
                if !transmit.dst.is_multicast() {
                    if let Err(e) = sock.socket.set_unicast_ttl(host.unicast_ttl) {
                        warn!(instance = %host.name, error = %e, "cannot set the unicast TTL");
                    }
                }
                if let Err(e) = sock
                    .socket
                    .send_to(&transmit.payload, transmit.dst, transmit.src)
                {
                    warn!(instance = %host.name, dst = %transmit.dst, error = %e,
                        "cannot send advertisement");
                }
            }
            Action::Announce { instance, address } => {
                if let Some(host) = self.hosts.get(&instance) {
                    self.announcer.announce(host, address);
                    self.observers.announcing(instance);
                }
            }
            Action::Publish(event) => self.observers.publish(&self.engine, event),
            Action::ReportState(t) => self.fifos.write(&t),
            Action::Notify(t) => {
                self.fifos.write(&t);
                let Some(hooks) = self.engine.hooks(&t.target) else {
                    return;
                };
                let key = match &t.target {
                    Target::Instance(name) => name.clone(),
                    Target::Group(name) => format!("group:{name}"),
                };
                let notifier = self.notifiers.entry(key).or_insert_with(Notifier::spawn);
                notifier.notify(self.engine.config(), hooks, t);
            }
            Action::Release {
                instance,
                removed_link,
            } => {
                self.observers.forget(instance);
                self.release(instance, removed_link);
                self.close_unused_sockets();
            }
        }
    }

    /// Hands the install of `instance`'s addresses to the worker; its
    /// outcome comes back through [`on_address_done`](Self::on_address_done).
    /// An instance that is gone has nothing to install.
    fn install(&mut self, now: Instant, instance: InstanceId, which: Addresses) {
        let Some(host) = self.hosts.get(&instance) else {
            self.engine.handle_install_result(now, instance, Ok(()));
            return;
        };
        if let Some(name) = host.vmac.as_deref().and_then(VmacLink::ipv6_name) {
            self.addresses.set_vmac_ipv6(name, true);
        }
        let one = match which {
            Addresses::All => {
                self.observers.install_started(instance);
                None
            }
            Addresses::One(k) => Some(k),
        };
        self.addresses.install(
            instance,
            &host.name,
            host.addresses.clone(),
            one,
            host.routing.clone(),
            host.filtered,
        );
    }

    /// The worker finished a job the engine waits for.
    pub(crate) fn on_address_done(&mut self, done: Done) {
        let now = Instant::now();
        match done {
            Done::Installed { instance, result } => {
                self.observers.install_done(instance, result.is_ok());
                self.engine.handle_install_result(now, instance, result);
            }
            Done::Progress {
                instance,
                installed,
            } => self
                .engine
                .handle_install_progress(now, instance, installed),
            Done::Removed(answers) => {
                for (id, k, still_ours) in answers {
                    if self.engine.handle_address_removed(now, id, k, still_ours) {
                        break;
                    }
                }
            }
            Done::LookedUp {
                instance,
                config,
                result,
            } => {
                self.lookups_out -= 1;
                self.on_looked_up(now, instance, &config, result);
            }
            Done::Reload(config, lookups) => {
                self.lookups_out -= 1;
                self.on_reload_looked_up(*config, *lookups);
            }
            Done::LinkStates(states) => {
                for (ifindex, name, state) in states {
                    self.engine.handle_link(now, ifindex, &name, state);
                }
                self.engine.retry_waiting_soon(now);
            }
        }
        self.run_actions(now);
    }

    /// Frees what `instance` held: its macvlan (deleted if we created it and
    /// no other instance took it over; the kernel deleted it already if its
    /// parent `removed_link` went).
    fn release(&mut self, instance: InstanceId, removed_link: Option<u32>) {
        let Some(mut host) = self.hosts.remove(&instance) else {
            return;
        };
        let Some(vmac) = host.vmac.take() else {
            return;
        };
        if removed_link == Some(host.link.index.get()) {
            // Deleted with its parent: nothing is left to restore.
            return;
        }
        self.free_vmac(vmac, removed_link);
    }

    /// Closes the sockets no instance uses any more (after a reload, or an
    /// interface deleted).
    fn close_unused_sockets(&mut self) {
        let hosts = &self.hosts;
        self.sockets.retain(|id, entry| {
            let used = hosts.values().any(|h| h.socket.0 == *id);
            if !used {
                info!(interface = %entry.interface, family = ?entry.family, "closing an unused VRRP socket");
            }
            used
        });
    }

    /// Stops every router (priority 0 from the Active ones, addresses
    /// removed), frees the macvlans, then waits for the worker to finish
    /// and empties the ledger.
    pub(crate) fn stop(&mut self, now: Instant) {
        self.engine.shutdown(now);
        let mut releases = Vec::new();
        while let Some(action) = self.engine.poll_action() {
            match action {
                Action::Release {
                    instance,
                    removed_link,
                } => releases.push((instance, removed_link)),
                other => self.execute(other, now),
            }
        }
        self.addresses.clear();
        for (instance, removed_link) in releases {
            self.release(instance, removed_link);
        }
        self.addresses.finish();
        for t in self.trackers.drain(..) {
            t.abort();
        }
    }
}
