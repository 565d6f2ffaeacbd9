//! Carrying out [`Action::UpdateAddresses`](crate::engine::Action::UpdateAddresses):
//! a reload that changed only an instance's addresses. The host record
//! takes the new ones; if the instance holds its addresses, the address
//! worker removes those that went and installs the new ones, one batch
//! each.

use std::collections::HashSet;
use std::time::Instant;

use super::host::address_spec;
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
        let default = host.vmac.as_ref().map_or(host.link.index, |v| v.link.index);
        let name = host.name.clone();
        let mut specs = Vec::new();
        let mut failed = Vec::new();
        for vip in config.vips.iter().chain(&config.excluded_vips) {
            match address_spec(&mut self.netlink, vip, default) {
                Ok(spec) => specs.push(spec),
                Err(e) => failed.push(format!("{}: {e}", vip.address)),
            }
        }
        let Some(host) = self.hosts.get_mut(&id) else {
            return;
        };
        let old = std::mem::replace(&mut host.addresses, specs.clone().into());
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
        self.addresses.update(id, &name, gone, came, failed);
    }
}
