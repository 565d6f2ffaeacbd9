//! A reload that changes only an instance's addresses (`vips`,
//! `excluded_vips`) or its routes and rules (`virtual_routes`,
//! `virtual_rules`) keeps the instance running, as keepalived's does: no
//! transition and no flap of the addresses that stay. The router takes
//! the new list for its adverts, and the shell removes what went and
//! installs what came.

use std::collections::HashSet;
use std::net::IpAddr;

use tracing::{info, warn};

use super::Engine;
use super::action::Action;
use crate::config;

/// Whether `old` and `new` differ in their addresses and nothing else,
/// and their addresses use the same devices (so the instance depends on
/// the same interfaces).
pub(super) fn only_addresses_differ(old: &config::Instance, new: &config::Instance) -> bool {
    if old.vips == new.vips
        && old.excluded_vips == new.excluded_vips
        && old.virtual_routes == new.virtual_routes
        && old.virtual_rules == new.virtual_rules
    {
        return false;
    }
    // The interfaces tracked routes and rules use are tracked: a change
    // of those is a change of tracking.
    if old.routing_links() != new.routing_links() {
        return false;
    }
    let devices = |i: &config::Instance| {
        let mut d: Vec<Option<String>> = i
            .vips
            .iter()
            .chain(&i.excluded_vips)
            .map(|v| v.device.clone())
            .collect();
        d.sort_unstable();
        d.dedup();
        d
    };
    if devices(old) != devices(new) {
        return false;
    }
    let bare = |i: &config::Instance| {
        let mut i = i.clone();
        i.vips.clear();
        i.excluded_vips.clear();
        i.virtual_routes.clear();
        i.virtual_rules.clear();
        i
    };
    bare(old) == bare(new)
}

impl Engine {
    /// Gives running instance `i` the addresses of `config`, which differs
    /// from its own in them only: the router advertises the new list, the
    /// shell moves the addresses if the instance holds them, and what is
    /// new is announced.
    pub(super) fn update_addresses(&mut self, i: usize, config: config::Instance) {
        let inst = &mut self.instances[i];
        let advertised: Vec<IpAddr> = config.advertised_vips().collect();
        if let Err(e) = inst.router.set_addresses(advertised) {
            // The configuration was validated: not expected.
            warn!(instance = inst.name(), error = %e, "new virtual addresses refused");
            return;
        }
        let before: HashSet<IpAddr> = inst.announced().collect();
        inst.config = config;
        let after: HashSet<IpAddr> = inst.announced().collect();
        let added: Vec<IpAddr> = inst.announced().filter(|a| !before.contains(a)).collect();
        let holds = inst.router.holds_addresses();
        info!(
            instance = inst.name(),
            added = added.len(),
            removed = before.difference(&after).count(),
            "virtual addresses changed by the reload"
        );
        self.actions.push_back(Action::UpdateAddresses {
            instance: inst.id,
            config: Box::new(inst.config.clone()),
            holds,
        });
        // Reported whether it holds them or not (unresolvable addresses).
        inst.installs_in_flight += 1;
        if holds && !added.is_empty() {
            // Announced once installed (see `handle_install_result`).
            inst.announce_after_install.extend(added);
            self.actions.push_back(Action::SettleAddresses);
        }
        self.deadlines.touch(i);
    }
}
