//! Carrying out [`Action::UpdateAddresses`](crate::engine::Action::UpdateAddresses):
//! a reload that changed only an instance's addresses. The host record
//! takes the new ones (looked up with the reload, see [`super::reload`]); if the instance holds its addresses, the address
//! worker removes those that went and installs the new ones, one batch
//! each.

use std::collections::HashSet;
use std::time::Instant;

use super::shell::Shell;
use crate::config;
use crate::engine::InstanceId;
use vrrp_netaddr::{AddressSpec, IfIndex, IpPrefix};

impl Shell {
    /// Gives instance `id` the addresses of `config` and, if it `holds`
    /// them, hands the move to the address worker; the outcome (with the
    /// addresses that could not be resolved) comes back to the engine
    /// through the worker.
    pub(super) fn update_addresses(
        &mut self,
        now: Instant,
        id: InstanceId,
        config: &config::Instance,
        holds: bool,
    ) {
        let Some(host) = self.hosts.get(&id) else {
            self.engine.handle_install_result(now, id, Ok(()));
            return;
        };
        let name = host.name.clone();
        // Looked up by the worker before the reload was applied.
        let (specs, failed) = self.reloads.specs.remove(&config.name).unwrap_or_else(|| {
            let all = config.vips.iter().chain(&config.excluded_vips);
            (
                Vec::new(),
                all.map(|v| format!("{v}: not looked up")).collect(),
            )
        });
        let Some(host) = self.hosts.get_mut(&id) else {
            return;
        };
        let old = std::mem::replace(&mut host.addresses, specs.clone().into());
        host.routing = super::routing_set::RoutingSet::of(config);
        let routing = holds.then(|| host.routing.clone());
        let filter = holds && host.filtered;
        let (gone, came) = if holds {
            let key = |s: &AddressSpec| -> (IfIndex, IpPrefix) { (s.ifindex, s.prefix) };
            let new_keys: HashSet<_> = specs.iter().map(key).collect();
            let old_keys: HashSet<_> = old.iter().map(key).collect();
            let gone: Vec<AddressSpec> = old
                .iter()
                .filter(|s| !new_keys.contains(&key(s)))
                .cloned()
                .collect();
            let came: Vec<AddressSpec> = specs
                .into_iter()
                .filter(|s| !old_keys.contains(&key(s)))
                .collect();
            (gone, came)
        } else {
            (Vec::new(), Vec::new())
        };
        let change = super::address_worker::AddressChange {
            gone,
            came,
            unresolved: failed,
            routing,
            filter,
        };
        self.addresses.update(id, &name, change);
    }
}
