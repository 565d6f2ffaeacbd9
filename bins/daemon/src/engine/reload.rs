//! Reload (SIGHUP, `vrrpctl reload`): diff the running configuration
//! against a new one. Start-up is a reload from nothing.
//!
//! - An instance whose configuration (and the global settings it depends
//!   on) is unchanged keeps its router, state and addresses: no
//!   transition, no VIP flap.
//! - An instance whose addresses (`vips`, `excluded_vips`) are all that
//!   changed keeps running too, as keepalived's does: the addresses that
//!   went are removed, the new ones installed and announced.
//! - Any other changed instance is stopped (priority 0 if Active,
//!   addresses removed) and started again from the new configuration.
//! - A removed instance is stopped; a new one is started.
//!
//! Every new or changed instance is resolved (interface, addresses,
//! socket) before anything is stopped: if one cannot run at all, the
//! reload is rejected with a logged error and the old configuration keeps
//! running. One whose interface is missing waits for it, as at start-up.
//! Sockets no instance uses any more are closed.

use std::time::Instant;

use tracing::warn;

use super::action::{Action, InstanceId, Resolved};
use super::instance::Instance;
use super::setup::SetupError;
use super::update::only_addresses_differ;
use super::{Engine, file_order, without_instances};
use crate::config::{self, Config, Global};

/// Whether a change of the global settings from `old` to `new` changes
/// what an instance runs (its advert checksum form).
fn instances_affected(old: &Global, new: &Global) -> bool {
    old.v3_ipv4_checksum != new.v3_ipv4_checksum
}

/// Whether what the instance with table `oi` depends on besides that table
/// (its sync group, the named trackers it and its group use) is the same in
/// `old` and `new`. `old` has no instance list (see [`Engine::config`]).
fn same_context(old: &Config, oi: &config::Instance, new: &Config) -> bool {
    let name = oi.name.as_str();
    if new.instance(name).is_none() {
        return false;
    }
    let og = old.group_of(name);
    if og != new.group_of(name) {
        return false;
    }
    let sets = [Some(&oi.tracking), og.map(|g| &g.tracking)];
    sets.into_iter().flatten().all(|set| {
        set.scripts
            .iter()
            .all(|r| old.track_script.get(&r.name) == new.track_script.get(&r.name))
            && set
                .tcp
                .iter()
                .all(|r| old.track_tcp.get(&r.name) == new.track_tcp.get(&r.name))
            && set
                .http
                .iter()
                .all(|r| old.track_http.get(&r.name) == new.track_http.get(&r.name))
            && set
                .files
                .iter()
                .all(|r| old.track_file.get(&r.name) == new.track_file.get(&r.name))
            && set
                .processes
                .iter()
                .all(|r| old.track_process.get(&r.name) == new.track_process.get(&r.name))
    })
}

/// A reload waiting for its new and changed instances to be resolved:
/// from [`Engine::plan_reload`], for [`Engine::apply_reload`].
#[derive(Debug)]
pub struct ReloadPlan {
    /// The new configuration.
    config: Config,
    /// The instances to resolve: new, changed, or waiting.
    resolve: Vec<(InstanceId, usize)>,
}

impl ReloadPlan {
    /// The instances the shell must resolve (as for [`Action::Resolve`])
    /// before [`Engine::apply_reload`].
    pub fn to_resolve(&self) -> impl Iterator<Item = (InstanceId, &config::Instance)> + '_ {
        self.resolve
            .iter()
            .map(|&(id, k)| (id, &self.config.instances[k]))
    }

    /// Each instance to resolve with the index of its table in
    /// [`config`](Self::config)`.instances`.
    pub fn to_resolve_indices(&self) -> impl Iterator<Item = (InstanceId, usize)> + '_ {
        self.resolve.iter().copied()
    }

    /// The new configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Gives the new configuration back, unapplied.
    pub fn into_config(self) -> Config {
        self.config
    }
}

/// Why a reload was rejected; the running configuration stays.
#[derive(Debug, thiserror::Error)]
#[error("instance {instance}: {source}")]
pub struct ReloadError {
    /// The instance that cannot run.
    pub instance: String,
    /// Why.
    #[source]
    pub source: SetupError,
}

/// What a reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadSummary {
    /// Instances that kept running untouched.
    pub kept: usize,
    /// Instances that kept running with new addresses.
    pub updated: usize,
    /// Instances stopped (changed or removed).
    pub stopped: usize,
    /// Instances started (new or changed).
    pub started: usize,
    /// Instances waiting for the host.
    pub waiting: usize,
}

impl std::fmt::Display for ReloadSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} kept, {} with new addresses, {} stopped, {} started, {} waiting",
            self.kept, self.updated, self.stopped, self.started, self.waiting
        )
    }
}

impl Engine {
    /// Whether running instance `old` stays untouched under `config`.
    fn keeps(&self, old: &Instance, config: &Config) -> bool {
        !instances_affected(&self.config.global, &config.global)
            && config.instance(old.name()) == Some(&old.config)
            && same_context(&self.config, &old.config, config)
    }

    /// Whether running instance `old` keeps running under `config` with
    /// new addresses (see [`only_addresses_differ`]).
    fn updates(&self, old: &Instance, config: &Config) -> bool {
        !instances_affected(&self.config.global, &config.global)
            && config
                .instance(old.name())
                .is_some_and(|new| only_addresses_differ(&old.config, new))
            && same_context(&self.config, &old.config, config)
    }

    /// The indices in `config.instances` of the instances that applying
    /// `config` now would resolve: new, changed, or still waiting (what
    /// [`plan_reload`](Self::plan_reload) picks). The shell looks them up
    /// ahead of the plan, off its loop.
    pub fn needs_resolving(&self, config: &Config) -> Vec<usize> {
        config
            .instances
            .iter()
            .enumerate()
            .filter(|(_, ic)| {
                !self.instances.iter().any(|old| {
                    old.name() == ic.name && (self.keeps(old, config) || self.updates(old, config))
                })
            })
            .map(|(k, _)| k)
            .collect()
    }

    /// The running instances that applying `config` now would keep with
    /// new addresses ([`Action::UpdateAddresses`]), each with the index
    /// of its new table in `config.instances`.
    pub fn address_updates(&self, config: &Config) -> Vec<(InstanceId, usize)> {
        self.instances
            .iter()
            .filter(|old| !self.keeps(old, config) && self.updates(old, config))
            .filter_map(|old| {
                let k = config
                    .instances
                    .iter()
                    .position(|ic| ic.name == old.name())?;
                Some((old.id, k))
            })
            .collect()
    }

    /// The first step of applying `config` (at start-up, or a reload): the
    /// instances that are new, changed or still waiting, to be resolved by
    /// the shell. Nothing changes yet.
    pub fn plan_reload(&mut self, config: Config) -> ReloadPlan {
        let resolve = self
            .needs_resolving(&config)
            .into_iter()
            .map(|k| (self.new_id(), k))
            .collect();
        ReloadPlan { config, resolve }
    }

    /// Applies `plan` with what the shell found for each of its instances.
    /// If one cannot run at all (not merely waiting for the host), nothing
    /// changes, the shell is asked to release what it resolved, and the
    /// error says which. Otherwise unchanged instances keep their router,
    /// state and addresses (no transition, no VIP flap); changed and
    /// removed ones stop (priority 0 if Active, addresses removed); new
    /// and changed ones start; those whose host is not ready wait.
    pub fn apply_reload(
        &mut self,
        now: Instant,
        plan: ReloadPlan,
        results: Vec<(InstanceId, Result<Resolved, SetupError>)>,
    ) -> Result<ReloadSummary, ReloadError> {
        self.finish_due();
        let ReloadPlan {
            mut config,
            resolve,
        } = plan;
        // What needs the whole new configuration, before its instance
        // tables are moved out (copying 1,000 of them at start-up left the
        // heap fragmented).
        let keep: Vec<bool> = self
            .instances
            .iter()
            .map(|old| self.keeps(old, &config))
            .collect();
        let update: Vec<bool> = self
            .instances
            .iter()
            .map(|old| self.updates(old, &config))
            .collect();
        // Removed, not changed: reported as keepalived reports a deleted
        // instance (`notify_deleted`).
        let gone: Vec<bool> = self
            .instances
            .iter()
            .map(|old| config.instance(old.name()).is_none())
            .collect();
        let global = without_instances(&config);
        let order = file_order(&config);
        let groups = super::groups::build(&config);
        let mut tables: Vec<Option<config::Instance>> = std::mem::take(&mut config.instances)
            .into_iter()
            .map(Some)
            .collect();
        // Build every router first: nothing may change if one cannot run.
        let mut fresh = Vec::with_capacity(results.len());
        let mut waits = Vec::new();
        let mut failed = None;
        for (id, result) in results {
            let Some(ic) = resolve
                .iter()
                .find(|(r, _)| *r == id)
                .and_then(|&(_, k)| tables.get_mut(k)?.take())
            else {
                continue;
            };
            let name = ic.name.clone();
            match result {
                Ok(r) => match Instance::new(id, &global, ic, r) {
                    Ok(inst) => fresh.push(inst),
                    Err(source) => {
                        failed.get_or_insert(ReloadError {
                            instance: name,
                            source,
                        });
                    }
                },
                Err(e) if e.waits() => waits.push((id, ic, e.to_string())),
                Err(source) => {
                    failed.get_or_insert(ReloadError {
                        instance: name,
                        source,
                    });
                }
            }
        }
        if let Some(e) = failed {
            for inst in fresh {
                self.actions.push_back(Action::Release {
                    instance: inst.id,
                    removed_link: None,
                });
            }
            return Err(e);
        }
        if global.global.state_dir != self.config.global.state_dir
            || global.global.control_socket != self.config.global.control_socket
        {
            warn!("state_dir and control_socket changes take effect at the next restart");
        }
        // Stop what changed or went away.
        let mut stopped = 0;
        let mut updated = 0;
        let mut i = 0;
        for ((kept, update), gone) in keep.into_iter().zip(update).zip(gone) {
            if kept {
                i += 1;
                continue;
            }
            if update {
                let name = self.instances[i].name().to_string();
                let table = tables
                    .iter_mut()
                    .find(|t| t.as_ref().is_some_and(|t| t.name == name))
                    .and_then(Option::take);
                if let Some(table) = table {
                    self.update_addresses(i, table);
                    updated += 1;
                    i += 1;
                    continue;
                }
            }
            if gone {
                self.instances[i].removed_by_reload = true;
            }
            self.instances[i].router.shutdown(now);
            self.drain(i, now);
            let mut old = self.instances.remove(i);
            // Its stop is reported after this: keep its hooks for that.
            let notify = std::mem::take(&mut old.config.notify);
            self.departed.push((old.config.name.clone(), notify));
            self.instances_changed();
            self.actions.push_back(Action::Release {
                instance: old.id,
                removed_link: None,
            });
            stopped += 1;
        }
        self.config = global;
        self.instance_order = order;
        self.groups = groups;
        // The old waiting list was planned again with the rest.
        self.waiting.clear();
        for (id, ic, reason) in waits {
            self.wait(id, ic, reason);
        }
        if !self.waiting.is_empty() && self.next_waiting_retry.is_none() {
            self.next_waiting_retry = Some(now + super::waiting::RETRY_INTERVAL);
        }
        // Start the new ones, in file order after the kept ones.
        let kept = self.instances.len() - updated;
        let started = fresh.len();
        let fresh_ids: Vec<InstanceId> = fresh.iter().map(|i| i.id).collect();
        self.instances.reserve_exact(started);
        for inst in fresh {
            self.instances.push(inst);
            self.instances_changed();
            let i = self.instances.len() - 1;
            self.start(i, now);
        }
        self.sort_instances();
        if self.config.global.fifo_states_on_reload && !self.config.global.notify_fifos.is_empty() {
            self.report_states_after_reload(&fresh_ids);
        }
        Ok(ReloadSummary {
            kept,
            updated,
            stopped,
            started,
            waiting: self.waiting.len(),
        })
    }
}

impl Engine {
    /// keepalived's `fifo_write_vrrp_states_on_reload`: the FIFOs hear
    /// again the state of every instance the reload kept that is Backup or
    /// in Fault (keepalived writes no line for an Active one), and of every
    /// sync group whose members agree (priority 0, as keepalived writes).
    fn report_states_after_reload(&mut self, fresh: &[InstanceId]) {
        use crate::notify::{HookState, Target, Transition};
        use vrrp_core::router::State;
        for inst in self.instances.iter().filter(|i| !fresh.contains(&i.id)) {
            let state = match inst.router.state() {
                State::Backup => HookState::Backup,
                State::Fault => HookState::Fault,
                _ => continue,
            };
            self.actions.push_back(Action::ReportState(Transition {
                target: Target::Instance(inst.config.name.clone()),
                state,
                previous: Some(state),
                priority: inst.router.priority().get(),
            }));
        }
        for g in &self.config.sync_groups {
            let states: Vec<State> = g
                .instances
                .iter()
                .filter_map(|m| self.instances.iter().find(|i| &i.config.name == m))
                .map(|i| i.router.state())
                .collect();
            let Some(&first) = states.first() else {
                continue;
            };
            let Some(state) = HookState::from_router(first) else {
                continue;
            };
            if states.iter().all(|s| *s == first) {
                self.actions.push_back(Action::ReportState(Transition {
                    target: Target::Group(g.name.clone()),
                    state,
                    previous: Some(state),
                    priority: 0,
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::instance::tests::load;
    use crate::engine::without_instances;

    const BASE: &str = r#"
[track_file.flag]
path = "/run/vrrpd-test-flag"

[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 150
vips = ["198.18.0.100/24"]
track_file = ["flag"]

[[instance]]
name = "B"
interface = "eth0"
vrid = 52
priority = 150
vips = ["198.18.0.101/24"]

[[instance]]
name = "C"
interface = "eth0"
vrid = 53
priority = 150
vips = ["198.18.0.102/24"]
"#;

    /// The running configuration keeps no instance list: the context check
    /// takes the instance's own table, and still sees its trackers, its
    /// group and whether it is still configured.
    #[test]
    fn context_is_judged_from_the_instance_table() {
        let old = load(BASE);
        let running = without_instances(&old);
        assert!(running.instances.is_empty());
        let [a, b, c] = [&old.instances[0], &old.instances[1], &old.instances[2]];
        assert!(same_context(&running, a, &old));
        assert!(same_context(&running, b, &old));

        let moved = load(&BASE.replace("/run/vrrpd-test-flag", "/run/vrrpd-test-other"));
        assert!(!same_context(&running, a, &moved), "A's tracker changed");
        assert!(same_context(&running, b, &moved), "B uses no tracker");

        let grouped = load(&format!(
            "{BASE}\n[[sync_group]]\nname = \"G\"\ninstances = [\"B\", \"C\"]\n"
        ));
        assert!(!same_context(&running, b, &grouped), "B joined a group");
        assert!(same_context(&running, a, &grouped));

        let without_c = load(&BASE.replace("name = \"C\"", "name = \"D\""));
        assert!(!same_context(&running, c, &without_c), "C is gone");
    }
}
