//! Carrying out [`Action::UpdateAddresses`](crate::engine::Action::UpdateAddresses):
//! a reload that changed only an instance's addresses. The host record
//! takes the new ones; if the instance holds its addresses, those that
//! went are removed and the new ones installed, one batch each.

use std::collections::HashSet;

use super::host::address_spec;
use super::shell::Shell;
use crate::config;
use crate::engine::InstanceId;
use vrrp_netaddr::{AddressSpec, IfIndex, IpPrefix};

impl Shell {
    /// Gives instance `id` the addresses of `config`; `Err` lists those
    /// that could not be resolved or are not on the host afterwards.
    pub(super) fn update_addresses(
        &mut self,
        id: InstanceId,
        config: &config::Instance,
        holds: bool,
    ) -> Result<(), Vec<String>> {
        let Some(host) = self.hosts.get(&id) else {
            return Ok(());
        };
        let default = host.vmac.as_ref().map_or(host.link.index, |v| v.link.index);
        let name = host.name.clone();
        let mut specs = Vec::new();
        let mut failed = Vec::new();
        for vip in config.vips.iter().chain(&config.excluded_vips) {
            match address_spec(&mut self.addrs.handle, vip, default) {
                Ok(spec) => specs.push(spec),
                Err(e) => failed.push(format!("{}: {e}", vip.address)),
            }
        }
        let Some(host) = self.hosts.get_mut(&id) else {
            return Ok(());
        };
        let old = std::mem::replace(&mut host.addresses, specs.clone());
        if holds {
            let key = |s: &AddressSpec| -> (IfIndex, IpPrefix) { (s.ifindex, s.prefix) };
            let new_keys: HashSet<_> = specs.iter().map(key).collect();
            let old_keys: HashSet<_> = old.iter().map(key).collect();
            let gone: Vec<AddressSpec> = old
                .into_iter()
                .filter(|s| !new_keys.contains(&key(s)))
                .collect();
            let came: Vec<AddressSpec> = specs
                .into_iter()
                .filter(|s| !old_keys.contains(&key(s)))
                .collect();
            self.addrs.remove(&name, &gone);
            self.addrs.install(&name, &came);
            failed.extend(self.addrs.missing(&came));
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed)
        }
    }
}
