//! The address worker: one thread that owns the rtnetlink handle and the
//! ledger ([`AddressManager`]) and carries out address jobs in the order
//! the loop hands them over, so that installing or removing thousands of
//! VIPs never stalls the event loop (which keeps advertising meanwhile).
//! It also runs the loop's look-ups ([`super::lookup`]): interfaces,
//! addresses, macvlans, tracked files; the loop makes no netlink call.
//!
//! Jobs go in through a channel; what the engine must hear about (an
//! install's outcome, whether a removed address was ours) comes back as a
//! [`Done`] on the loop's channel. Jobs run strictly in order, so a remove
//! queued after an install undoes it, and a settle runs after the install
//! it confirms; the install's outcome is sent before the settle starts.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::mpsc::UnboundedSender;
use tracing::warn;
use vrrp_netaddr::{AddressSpec, IfIndex, IpPrefix};

use super::host::VmacLink;
use super::lookup::{self, HostLookup, LookupRequest, ReloadLookups};
use super::routing;
use super::routing_set::RoutingSet;
use super::vips::AddressManager;
use crate::config::{self, Config};
use crate::engine::{InstanceId, LinkState, SetupError};

/// An address of an instance that someone removed: which instance, its
/// index among the instance's addresses, and where it was.
pub(crate) type RemovedCandidate = (InstanceId, usize, IfIndex, IpPrefix);

/// What the worker reports back to the loop.
#[derive(Debug)]
pub(crate) enum Done {
    /// An install or an address update finished: `Err` lists the
    /// addresses that are not on the host (for
    /// [`Engine::handle_install_result`](crate::engine::Engine::handle_install_result)).
    Installed {
        /// The instance.
        instance: InstanceId,
        /// The outcome.
        result: Result<(), Vec<String>>,
    },
    /// The first `installed` addresses of an install of all of an
    /// instance's addresses are through the kernel; the rest follow (for
    /// [`Engine::handle_install_progress`](crate::engine::Engine::handle_install_progress)).
    Progress {
        /// The instance.
        instance: InstanceId,
        /// How many, from the first.
        installed: usize,
    },
    /// A removed address's candidates, each with whether the ledger still
    /// holds it (for
    /// [`Engine::handle_address_removed`](crate::engine::Engine::handle_address_removed)).
    Removed(Vec<(InstanceId, usize, bool)>),
    /// The answer to [`AddressWorker::look_up`].
    LookedUp {
        /// The instance it was asked for.
        instance: InstanceId,
        /// Its table, handed back.
        config: Box<config::Instance>,
        /// What the host holds for it, or why it cannot run (yet).
        result: Result<Box<HostLookup>, SetupError>,
    },
    /// The answer to [`AddressWorker::look_up_reload`]: the
    /// configuration handed back, with what was found.
    Reload(Box<Config>, Box<ReloadLookups>),
    /// The answer to [`AddressWorker::link_states`].
    LinkStates(Vec<(u32, String, LinkState)>),
}

/// A reload's change of an instance's addresses, routes and rules.
#[derive(Debug)]
pub(crate) struct AddressChange {
    /// Addresses to remove.
    pub(crate) gone: Vec<AddressSpec>,
    /// Addresses to add.
    pub(crate) came: Vec<AddressSpec>,
    /// Addresses that failed before the worker saw them.
    pub(crate) unresolved: Vec<String>,
    /// When it holds its addresses: its routes and rules now.
    pub(crate) routing: Option<Option<Arc<RoutingSet>>>,
    /// Whether its addresses are in the no_accept filter.
    pub(crate) filter: bool,
}

/// One job, in the order the loop queued it.
#[derive(Debug)]
enum Job {
    /// Add `specs` (all of an instance's, or one of them).
    Install {
        instance: InstanceId,
        name: String,
        specs: Arc<[AddressSpec]>,
        one: Option<usize>,
        /// Its routes and rules, added after the addresses (not with `one`).
        routing: Option<Arc<RoutingSet>>,
        /// Whether its addresses go in the no_accept filter first.
        filter: bool,
    },
    /// A reload's change of an instance's addresses: remove `gone`, add
    /// `came`; `unresolved` failed before the worker saw them.
    Update {
        instance: InstanceId,
        name: String,
        change: AddressChange,
    },
    /// Remove the routes and rules, then the addresses of `specs`, that
    /// we added.
    Remove {
        name: String,
        specs: Arc<[AddressSpec]>,
    },
    /// Install the static addresses, routes and rules: at start (no old
    /// ones), or after a reload changed them.
    Statics {
        old: Option<Box<config::Statics>>,
        new: Box<config::Statics>,
    },
    /// Confirm the pending ledger entries.
    Settle,
    /// Ready the install of `specs` ahead of a takeover.
    Warm(Arc<[AddressSpec]>),
    /// The kernel deleted a route or rule marked as keepalived's.
    RoutingRemoved(vrrp_netaddr::Routing),
    /// Set `promote_secondaries` on an interface until the stop.
    PromoteSecondaries(String),
    /// An interface came up: its static routes come back.
    LinkUp(IfIndex),
    /// Ask whether the ledger still holds each candidate.
    CheckRemoved(Vec<RemovedCandidate>),
    /// Remove every address still in the ledger.
    Clear,
    /// Delete a macvlan we created (after its addresses went) and restore
    /// its parent's sysctls.
    DeleteVmac(Box<VmacLink>),
    /// Turn IPv6 on or off on an IPv6 macvlan (see [`VmacLink::ipv6_name`]).
    VmacIpv6 { ifname: String, active: bool },
    /// Look a waiting instance up.
    LookUp {
        instance: InstanceId,
        config: Box<config::Instance>,
        request: LookupRequest,
    },
    /// Look up what a reload needs.
    Reload(Box<Config>, Box<ReloadLookups>),
    /// Read the state of interfaces.
    LinkStates(Vec<(IfIndex, String)>),
}

/// The loop's side of the worker.
#[derive(Debug)]
pub(crate) struct AddressWorker {
    jobs: Option<mpsc::Sender<Job>>,
    /// What the thread takes when it starts; jobs queue until then.
    idle: Option<Idle>,
    thread: Option<JoinHandle<()>>,
}

/// The worker's half, before its thread starts.
#[derive(Debug)]
struct Idle {
    manager: AddressManager,
    jobs: mpsc::Receiver<Job>,
    done: UnboundedSender<Done>,
}

impl AddressWorker {
    /// A worker over `manager` (the ledger, already cleaned up) that
    /// reports to `done`; its thread starts with [`start`](Self::start).
    /// Jobs queue until then.
    pub(crate) fn new(manager: AddressManager, done: UnboundedSender<Done>) -> AddressWorker {
        let (tx, rx) = mpsc::channel();
        AddressWorker {
            jobs: Some(tx),
            idle: Some(Idle {
                manager,
                jobs: rx,
                done,
            }),
            thread: None,
        }
    }

    /// Starts the thread. Capabilities belong to each thread: start it
    /// after the daemon dropped the ones it does not need, so that it
    /// inherits the reduced sets.
    pub(crate) fn start(&mut self) -> std::io::Result<()> {
        let Some(idle) = self.idle.take() else {
            return Ok(());
        };
        let thread = std::thread::Builder::new()
            .name("vrrpd-addresses".into())
            .spawn(move || run(idle.manager, &idle.jobs, &idle.done))?;
        self.thread = Some(thread);
        Ok(())
    }

    fn send(&self, job: Job) {
        let sent = self.jobs.as_ref().is_some_and(|tx| tx.send(job).is_ok());
        if !sent {
            warn!("the address worker is gone: an address change was not made");
        }
    }

    /// Installs `specs` of `instance` (`one`: only the one at that index);
    /// the outcome comes back as [`Done::Installed`].
    pub(crate) fn install(
        &self,
        instance: InstanceId,
        name: &str,
        specs: Arc<[AddressSpec]>,
        one: Option<usize>,
        routing: Option<Arc<RoutingSet>>,
        filter: bool,
    ) {
        self.send(Job::Install {
            instance,
            name: name.to_string(),
            specs,
            one,
            routing: if one.is_none() { routing } else { None },
            filter,
        });
    }

    /// Installs the static addresses, routes and rules.
    pub(crate) fn install_statics(&self, statics: config::Statics) {
        if !statics.is_empty() {
            self.send(Job::Statics {
                old: None,
                new: Box::new(statics),
            });
        }
    }

    /// A reload changed the static entries from `old` to `new`.
    pub(crate) fn replace_statics(&self, old: config::Statics, new: config::Statics) {
        if old != new {
            self.send(Job::Statics {
                old: Some(Box::new(old)),
                new: Box::new(new),
            });
        }
    }

    /// Removes `gone` and installs `came` for `instance`, in one batch
    /// each, and (`routing`, when it holds its addresses) makes its routes
    /// and rules those; the outcome (with `unresolved`) comes back as
    /// [`Done::Installed`].
    pub(crate) fn update(&self, instance: InstanceId, name: &str, change: AddressChange) {
        self.send(Job::Update {
            instance,
            name: name.to_string(),
            change,
        });
    }

    /// Removes the addresses of `specs` that we added.
    pub(crate) fn remove(&self, name: &str, specs: Arc<[AddressSpec]>) {
        self.send(Job::Remove {
            name: name.to_string(),
            specs,
        });
    }

    /// Confirms the ledger entries the installs so far left pending.
    pub(crate) fn settle(&self) {
        self.send(Job::Settle);
    }

    /// Readies the install of `specs` (a takeover is near).
    pub(crate) fn warm(&self, specs: Arc<[AddressSpec]>) {
        self.send(Job::Warm(specs));
    }

    /// Asks whether the ledger still holds each candidate; the answer
    /// comes back as [`Done::Removed`].
    pub(crate) fn check_removed(&self, candidates: Vec<RemovedCandidate>) {
        self.send(Job::CheckRemoved(candidates));
    }

    /// Interface `ifindex` came up: the static routes through it that the
    /// kernel dropped while it was down are added back.
    pub(crate) fn link_up(&self, ifindex: IfIndex) {
        self.send(Job::LinkUp(ifindex));
    }

    /// Sets `promote_secondaries` on `ifname` (keepalived's keyword); put
    /// back at a clean stop.
    pub(crate) fn promote_secondaries(&self, ifname: &str) {
        self.send(Job::PromoteSecondaries(ifname.to_string()));
    }

    /// The kernel deleted `seen`: add it back if it is a tracked one of ours.
    pub(crate) fn routing_removed(&self, seen: vrrp_netaddr::Routing) {
        self.send(Job::RoutingRemoved(seen));
    }

    /// Removes every address still in the ledger (a clean stop).
    pub(crate) fn clear(&self) {
        self.send(Job::Clear);
    }

    /// Deletes `vmac` (if we created it) once the jobs before it ran.
    pub(crate) fn delete_vmac(&self, vmac: Box<VmacLink>) {
        self.send(Job::DeleteVmac(vmac));
    }

    /// Turns IPv6 on (just before an install) or off (before a removal)
    /// on the IPv6 macvlan `ifname`, in order with the address jobs.
    pub(crate) fn set_vmac_ipv6(&self, ifname: &str, active: bool) {
        self.send(Job::VmacIpv6 {
            ifname: ifname.to_string(),
            active,
        });
    }

    /// Looks waiting `instance` (its table `config`) up; the answer
    /// comes back as [`Done::LookedUp`].
    pub(crate) fn look_up(
        &self,
        instance: InstanceId,
        config: Box<config::Instance>,
        request: LookupRequest,
    ) {
        self.send(Job::LookUp {
            instance,
            config,
            request,
        });
    }

    /// Looks up what a reload to `config` needs (`lookups` says which);
    /// the answer comes back as [`Done::Reload`].
    pub(crate) fn look_up_reload(&self, config: Box<Config>, lookups: Box<ReloadLookups>) {
        self.send(Job::Reload(config, lookups));
    }

    /// Reads the state of `links`; the answer comes back as
    /// [`Done::LinkStates`].
    pub(crate) fn link_states(&self, links: Vec<(IfIndex, String)>) {
        self.send(Job::LinkStates(links));
    }

    /// Waits for every queued job to run, then stops the worker (a worker
    /// that never started runs them here). Blocks: only for the end of
    /// the loop.
    pub(crate) fn finish(&mut self) {
        self.jobs = None;
        if let Some(idle) = self.idle.take() {
            run(idle.manager, &idle.jobs, &idle.done);
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                warn!("the address worker panicked: the ledger is left for the next start");
            }
        }
    }
}

impl Drop for AddressWorker {
    fn drop(&mut self) {
        // Lets the thread end; an embedder that drops the daemon without
        // stopping it leaves the ledger for the next start.
        self.jobs = None;
    }
}

/// The worker thread: jobs in order until the loop hangs up. Once the
/// queue is empty after a batch, the memory the batch freed goes back to
/// the kernel: glibc keeps it in this thread's own arena otherwise (about
/// half a MiB of resident size after a 1,000-VIP takeover).
fn run(mut manager: AddressManager, jobs: &mpsc::Receiver<Job>, done: &UnboundedSender<Done>) {
    let mut freed = false;
    loop {
        let job = match jobs.try_recv() {
            Ok(job) => job,
            Err(mpsc::TryRecvError::Disconnected) => break,
            Err(mpsc::TryRecvError::Empty) => {
                if std::mem::take(&mut freed) {
                    super::memory::return_free_memory();
                }
                match jobs.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            }
        };
        freed |= matches!(
            job,
            Job::Install { .. }
                | Job::Statics { .. }
                | Job::Update { .. }
                | Job::Remove { .. }
                | Job::Settle
                | Job::Clear
        );
        match job {
            Job::Install {
                instance,
                name,
                specs,
                one,
                routing,
                filter,
            } => {
                let specs = match one {
                    Some(k) => specs.get(k..=k).unwrap_or_default(),
                    None => &specs[..],
                };
                if filter {
                    // In the filter before they are on the host, as keepalived.
                    manager.filter.add(&AddressManager::filter_elements(specs));
                }
                manager.install_reporting(&name, specs, &mut |installed| {
                    let _ = done.send(Done::Progress {
                        instance,
                        installed,
                    });
                });
                let missing = manager.missing(specs);
                let result = if missing.is_empty() {
                    Ok(())
                } else {
                    Err(missing)
                };
                let _ = done.send(Done::Installed { instance, result });
                // After the outcome, so the announcements need not wait.
                if let Some(r) = routing {
                    manager.install_routing(&routing::owner_of(&name), &r.routes, &r.rules);
                }
            }
            Job::Update {
                instance,
                name,
                change:
                    AddressChange {
                        gone,
                        came,
                        mut unresolved,
                        routing: new_routing,
                        filter,
                    },
            } => {
                if filter {
                    manager.filter.add(&AddressManager::filter_elements(&came));
                }
                let owner = routing::owner_of(&name);
                if new_routing.is_some() {
                    // Rules and routes that went, before the addresses.
                    manager.keep_routing(&owner, new_routing.as_ref().and_then(Option::as_deref));
                }
                manager.remove(&name, &gone);
                manager
                    .filter
                    .remove(&AddressManager::filter_elements(&gone));
                manager.install(&name, &came);
                if let Some(Some(r)) = &new_routing {
                    manager.install_routing(&owner, &r.routes, &r.rules);
                }
                unresolved.extend(manager.missing(&came));
                let result = if unresolved.is_empty() {
                    Ok(())
                } else {
                    Err(unresolved)
                };
                let _ = done.send(Done::Installed { instance, result });
            }
            Job::Remove { name, specs } => {
                manager.remove_routing(&routing::owner_of(&name));
                manager.remove(&name, &specs);
                // Out of the filter once they left the host, as keepalived.
                manager
                    .filter
                    .remove(&AddressManager::filter_elements(&specs));
            }
            Job::Statics { old, new } => match old {
                Some(old) => manager.replace_statics(&old, &new),
                None => manager.install_statics(&new),
            },
            Job::Settle => manager.settle(),
            Job::Warm(specs) => manager.warm(&specs),
            Job::CheckRemoved(candidates) => {
                let answers = candidates
                    .into_iter()
                    .map(|(id, k, ifindex, prefix)| (id, k, manager.owns(ifindex, prefix)))
                    .collect();
                let _ = done.send(Done::Removed(answers));
            }
            Job::Clear => manager.clear(),
            Job::RoutingRemoved(seen) => manager.on_routing_removed(&seen),
            Job::PromoteSecondaries(ifname) => manager.promote_secondaries(&ifname),
            Job::LinkUp(ifindex) => manager.restore_static_routes(ifindex),
            Job::DeleteVmac(vmac) => vmac.teardown(&mut manager.handle),
            Job::VmacIpv6 { ifname, active } => super::host::set_vmac_ipv6(&ifname, active),
            Job::LookUp {
                instance,
                config,
                request,
            } => {
                let result = lookup::look_up(&mut manager.handle, &config, &request).map(Box::new);
                let _ = done.send(Done::LookedUp {
                    instance,
                    config,
                    result,
                });
            }
            Job::Reload(config, mut lookups) => {
                lookups.run(&mut manager.handle, &config);
                let _ = done.send(Done::Reload(config, lookups));
            }
            Job::LinkStates(links) => {
                let states = lookup::link_states(&mut manager.handle, links);
                let _ = done.send(Done::LinkStates(states));
            }
        }
    }
}
