//! Building instances and waiting for the host: an instance whose
//! interface (or a VIP's device, or an IPv6 link-local address) is
//! missing at start, or goes while it runs, is parked as [`Waiting`] and
//! built again from its configuration as soon as what it needs is back
//! (on the netlink event, or at the next periodic retry).

use std::time::Instant;

use tracing::{info, warn};
use vrrp_core::router::State;
use vrrp_netaddr::Link;

use super::counters::Extra;
use super::driver::Driver;
use super::instance::Instance;
use super::setup::SetupError;
use super::waiting::{RETRY_INTERVAL, Waiting};
use crate::config;

impl Driver {
    /// Builds `ic` at start-up or reload: a waiting instance is a warning,
    /// not an error; an invalid one is.
    pub(super) fn build_or_wait(
        &mut self,
        ic: &config::Instance,
    ) -> Result<Option<Instance>, SetupError> {
        match self.build(ic) {
            Ok(inst) => Ok(Some(inst)),
            Err(e) if e.waits() => {
                let reason = e.to_string();
                warn!(instance = %ic.name, %reason, "instance waits (Fault) until this is resolved");
                self.waiting.push(Waiting {
                    config: ic.clone(),
                    reason,
                    extra: Extra::default(),
                });
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Tries every waiting instance again; the ones that build start now.
    pub(super) fn retry_waiting(&mut self, now: Instant) {
        self.next_waiting_retry = now + RETRY_INTERVAL;
        if self.waiting.is_empty() {
            return;
        }
        let mut started = false;
        for mut w in std::mem::take(&mut self.waiting) {
            match self.build(&w.config) {
                Ok(mut inst) => {
                    info!(instance = inst.name(), interface = %inst.config.interface,
                        "what the instance waited for is there: starting it");
                    inst.extra = w.extra;
                    self.instances.push(inst);
                    self.instances_changed();
                    let i = self.instances.len() - 1;
                    self.start(i, now);
                    started = true;
                }
                Err(e) => {
                    let reason = e.to_string();
                    if reason != w.reason {
                        info!(instance = %w.config.name, %reason, "instance still waits");
                        w.reason = reason;
                    }
                    self.waiting.push(w);
                }
            }
        }
        if started {
            self.sort_instances();
        }
    }

    /// `link` was deleted: every instance that used it (its interface, its
    /// vmac, a VIP's device) gives its addresses up and waits for it.
    pub(super) fn link_removed(&mut self, link: &Link, now: Instant) {
        let mut i = self.instances.len();
        while i > 0 {
            i -= 1;
            if !self.instances[i].depends_on(link.index) {
                continue;
            }
            let inst = &mut self.instances[i];
            inst.extra.error("interface_lost");
            warn!(instance = inst.name(), interface = %link.name,
                "interface deleted: the instance waits for it to come back");
            if matches!(inst.router.state(), State::Active | State::Backup) {
                // Still running (a VIP's device, or dont_track_primary): a
                // Backup must not take over without it, an Active one
                // hands over with priority 0.
                inst.router.set_address_fault(now, true);
                self.drain(i, now);
            }
            self.park(i, link, format!("interface {} was deleted", link.name), now);
        }
        self.close_unused_sockets();
    }

    /// Moves instance `i` to the waiting list.
    fn park(&mut self, i: usize, removed: &Link, reason: String, now: Instant) {
        let mut inst = self.instances.remove(i);
        self.instances_changed();
        if let Some(mut vmac) = inst.vmac.take() {
            if inst.link.index == removed.index {
                // The kernel deleted the macvlan with its parent; nothing
                // is left to restore.
                drop(vmac);
            } else {
                vmac.created &= vmac.link.index != removed.index;
                vmac.teardown(&mut self.addrs.handle);
            }
        }
        let name = inst.config.name.clone();
        self.waiting.push(Waiting {
            config: inst.config,
            reason,
            extra: inst.extra,
        });
        self.resync_group_of(&name, now);
    }

    /// Closes the sockets no instance uses any more (after a reload, or an
    /// interface deleted).
    pub(super) fn close_unused_sockets(&mut self) {
        let instances = &self.instances;
        self.sockets.retain(|id, entry| {
            let used = instances.iter().any(|inst| inst.socket == *id);
            if !used {
                info!(interface = %entry.interface, family = ?entry.family, "closing an unused VRRP socket");
            }
            used
        });
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
