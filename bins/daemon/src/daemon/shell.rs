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
use super::host::HostTable;
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
    /// Installs and removes addresses off the loop, in order.
    pub(crate) addresses: AddressWorker,
    /// The loop's own rtnetlink handle, for look-ups (interfaces, primary
    /// addresses, VIP devices) and macvlans.
    pub(crate) netlink: vrrp_netaddr::Handle,
    pub(crate) announcer: Announcer,
}

impl Shell {
    /// A shell over `addresses` (the worker over the ledger, already
    /// cleaned up), `netlink` for look-ups, and an engine for `config`,
    /// with no instance yet.
    pub(crate) fn new(
        config: &Config,
        addresses: AddressWorker,
        netlink: vrrp_netaddr::Handle,
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
            netlink,
            announcer: Announcer::default(),
        }
    }

    /// Resolves the instances that applying `config` starts (new, changed
    /// or waiting ones), without changing anything else yet: the first
    /// half of [`apply`](Self::apply).
    pub(crate) fn resolve_all(&mut self, config: Config) -> (ReloadPlan, Resolutions) {
        let plan = self.engine.plan_reload(config);
        let mut results = Vec::with_capacity(plan.to_resolve().count());
        self.hosts.reserve_exact(results.capacity());
        for (id, ic) in plan.to_resolve() {
            results.push((id, self.resolve(id, ic)));
        }
        (plan, results)
    }

    /// Applies what [`resolve_all`](Self::resolve_all) found: unchanged
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

    /// Reloads `config` (SIGHUP, `vrrpctl reload`): the message to answer.
    pub(crate) fn reload(&mut self, config: Config) -> Result<String, String> {
        let (plan, results) = self.resolve_all(config);
        match self.commit(plan, results) {
            Ok(summary) => {
                self.spawn_trackers();
                let ReloadSummary {
                    kept,
                    updated,
                    stopped,
                    started,
                    waiting,
                } = summary;
                info!(
                    kept,
                    updated, stopped, started, waiting, "configuration reloaded"
                );
                Ok(format!("reloaded: {summary}"))
            }
            Err(e) => {
                tracing::error!(error = %e, "reload rejected: the running configuration stays");
                Err(format!("reload rejected: {e}"))
            }
        }
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
            Action::Resolve { instance, config } => {
                let result = self.resolve(instance, &config).map_err(|e| e.to_string());
                self.engine.handle_resolved(now, instance, result);
            }
            Action::InstallAddresses { instance, which } => self.install(now, instance, which),
            Action::SettleAddresses => self.addresses.settle(),
            Action::UpdateAddresses {
                instance,
                config,
                holds,
            } => self.update_addresses(now, instance, &config, holds),
            Action::RemoveAddresses { instance } => {
                if let Some(host) = self.hosts.get(&instance) {
                    if let Some(v) = &host.vmac {
                        v.set_active(false);
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
                }
            }
            Action::Notify(t) => {
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
        if let Some(v) = &host.vmac {
            v.set_active(true);
        }
        let one = match which {
            Addresses::All => None,
            Addresses::One(k) => Some(k),
        };
        self.addresses
            .install(instance, &host.name, host.addresses.clone(), one);
    }

    /// The worker finished a job the engine waits for.
    pub(crate) fn on_address_done(&mut self, done: Done) {
        let now = Instant::now();
        match done {
            Done::Installed { instance, result } => {
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
        let Some(mut vmac) = host.vmac.take() else {
            return;
        };
        if removed_link == Some(host.link.index.get()) {
            // Deleted with its parent: nothing is left to restore.
            return;
        }
        if let Some(r) = removed_link {
            vmac.created &= vmac.link.index.get() != r;
        }
        // A new instance (a reload) may have picked the same macvlan up;
        // it inherits it, and deletes it at stop.
        let heir = self
            .hosts
            .values_mut()
            .filter_map(|h| h.vmac.as_mut())
            .find(|v| v.link.index == vmac.link.index);
        match heir {
            Some(h) => {
                h.created |= vmac.created;
                h.recorded_in = h.recorded_in.take().or(vmac.recorded_in.take());
            }
            None => self.addresses.delete_vmac(vmac),
        }
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
