//! Parking and rebuilding instances: one whose interface (or a VIP's
//! device, or an IPv6 link-local address) is missing at start, or goes
//! while it runs, is parked as [`Waiting`] and resolved again from its
//! configuration as soon as what it needs is back.

use std::time::Instant;

use tracing::{info, warn};
use vrrp_core::router::State;

use super::Engine;
use super::action::{Action, InstanceId, Resolved};
use super::instance::Instance;
use super::waiting::{RETRY_INTERVAL, Waiting};

impl Engine {
    /// The answer to an [`Action::Resolve`] for a waiting instance: `Err`
    /// says what it still waits for. One that resolved starts now.
    pub fn handle_resolved(
        &mut self,
        now: Instant,
        id: InstanceId,
        result: Result<Resolved, String>,
    ) {
        let Some(k) = self.waiting.iter().position(|w| w.id == id) else {
            // Gone meanwhile (a reload): free what the shell set up.
            if result.is_ok() {
                self.actions.push_back(Action::Release {
                    instance: id,
                    removed_link: None,
                });
            }
            return;
        };
        let built = result.and_then(|resolved| {
            Instance::new(id, &self.config, self.waiting[k].config.clone(), resolved)
                .map_err(|e| e.to_string())
        });
        match built {
            Ok(mut inst) => {
                let w = self.waiting.remove(k);
                info!(instance = inst.name(), interface = %inst.config.interface,
                    "what the instance waited for is there: starting it");
                inst.extra = w.extra;
                self.instances.push(inst);
                self.instances_changed();
                let i = self.instances.len() - 1;
                self.start(i, now);
                self.sort_instances();
            }
            Err(reason) => {
                let w = &mut self.waiting[k];
                w.resolving = false;
                if reason != w.reason {
                    info!(instance = %w.config.name, %reason, "instance still waits");
                    w.reason = reason;
                }
            }
        }
    }

    /// Asks for every waiting instance to be resolved again.
    pub(super) fn retry_waiting(&mut self, now: Instant) {
        self.next_waiting_retry = Some(now + RETRY_INTERVAL);
        for w in &mut self.waiting {
            if !w.resolving {
                w.resolving = true;
                self.actions.push_back(Action::Resolve {
                    instance: w.id,
                    config: Box::new(w.config.clone()),
                });
            }
        }
    }

    /// Interface `ifindex` was deleted: every instance that used it (its
    /// interface, its vmac, a VIP's device) gives its addresses up and
    /// waits for it.
    pub(super) fn link_removed(&mut self, now: Instant, ifindex: u32, name: &str) {
        let mut i = self.instances.len();
        while i > 0 {
            i -= 1;
            if !self.instances[i].depends_on(ifindex) {
                continue;
            }
            let inst = &mut self.instances[i];
            inst.extra.error("interface_lost");
            warn!(
                instance = inst.name(),
                interface = name,
                "interface deleted: the instance waits for it to come back"
            );
            if matches!(inst.router.state(), State::Active | State::Backup) {
                // Still running (a VIP's device, or dont_track_primary): a
                // Backup must not take over without it, an Active one
                // hands over with priority 0.
                inst.router.set_address_fault(now, true);
                self.drain(i, now);
            }
            self.park(i, ifindex, format!("interface {name} was deleted"), now);
        }
        if self.next_waiting_retry.is_none() {
            self.next_waiting_retry = Some(now + RETRY_INTERVAL);
        }
    }

    /// Parks `config` as waiting for `reason`, under a fresh id.
    pub(super) fn wait(&mut self, id: InstanceId, config: crate::config::Instance, reason: String) {
        warn!(instance = %config.name, %reason, "instance waits (Fault) until this is resolved");
        self.waiting.push(Waiting {
            id,
            config,
            reason,
            extra: Default::default(),
            resolving: false,
        });
    }

    /// Moves instance `i` to the waiting list.
    fn park(&mut self, i: usize, removed: u32, reason: String, now: Instant) {
        let inst = self.instances.remove(i);
        self.instances_changed();
        self.actions.push_back(Action::Release {
            instance: inst.id,
            removed_link: Some(removed),
        });
        let name = inst.config.name.clone();
        self.waiting.push(Waiting {
            id: inst.id,
            config: inst.config,
            reason,
            extra: inst.extra,
            resolving: false,
        });
        self.resync_group_of(&name, now);
    }

    /// Runs the sync group rules of `name`'s group for its other members,
    /// after `name` stopped running.
    fn resync_group_of(&mut self, name: &str, now: Instant) {
        let Some(group) = self.config.group_of(name) else {
            return;
        };
        let member = self
            .instances
            .iter()
            .position(|inst| group.instances.contains(&inst.config.name));
        if let Some(k) = member {
            self.sync_after(k, now);
        }
    }

    /// Keeps the instances in configuration file order (status output).
    pub(super) fn sort_instances(&mut self) {
        let order = &self.instance_order;
        self.instances
            .sort_by_key(|inst| order.get(inst.name()).copied().unwrap_or(usize::MAX));
        self.instances_changed();
    }
}
