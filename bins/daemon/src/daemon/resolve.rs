//! Answering the engine's [`Action::Resolve`](crate::engine::Action::Resolve):
//! the address worker looks the interface, source address, VIP devices and
//! tracked state up and creates the macvlan ([`super::lookup`]); the shell
//! opens (or reuses) the VRRP socket and keeps the result as a [`Host`]
//! until the instance is released.

use std::time::Instant;

use super::host::{Host, VmacLink};
use super::lookup::{Found, HostLookup, LookupRequest};
use super::shell::{Resolutions, Shell};
use super::sockets::open_socket;
use crate::config;
use crate::engine::{InstanceId, ReloadPlan, Resolved, SetupError, SocketId};
use vrrp_netaddr::Link;

impl Shell {
    /// Asks the worker to look waiting instance `id` up; the answer comes
    /// to [`on_looked_up`](Self::on_looked_up).
    pub(super) fn request_lookup(&mut self, id: InstanceId, config: Box<config::Instance>) {
        let request = LookupRequest::new(self.engine.config(), &config);
        self.lookups_out += 1;
        self.addresses.look_up(id, config, request);
    }

    /// The worker's answer for waiting instance `id`, handed to the engine.
    pub(super) fn on_looked_up(
        &mut self,
        now: Instant,
        id: InstanceId,
        config: &config::Instance,
        found: Result<Box<HostLookup>, SetupError>,
    ) {
        let result = found
            .and_then(|f| self.finish_resolve(id, config, *f))
            .map_err(|e| e.to_string());
        self.engine.handle_resolved(now, id, result);
    }

    /// Resolves each instance `plan` starts from what was `found` for it
    /// (by its index in the plan's configuration); what was found for an
    /// instance the plan does not start is freed.
    pub(super) fn finish_all(&mut self, plan: &ReloadPlan, found: Vec<Found>) -> Resolutions {
        let mut found: std::collections::HashMap<usize, _> = found.into_iter().collect();
        let mut results = Vec::new();
        self.hosts.reserve_exact(plan.to_resolve_indices().count());
        for (id, k) in plan.to_resolve_indices() {
            let result = match found.remove(&k) {
                Some(r) => r.and_then(|f| self.finish_resolve(id, &plan.config().instances[k], *f)),
                None => Err(SetupError::waiting_for("not looked up yet".to_string())),
            };
            results.push((id, result));
        }
        self.free_found(found);
        results
    }

    /// Frees what look-ups found for instances that will not start: their
    /// macvlans (see [`free_vmac`](Self::free_vmac)).
    pub(super) fn free_found(&mut self, found: impl IntoIterator<Item = Found>) {
        for (_, r) in found {
            if let Ok(mut f) = r {
                if let Some(v) = f.vmac.take() {
                    self.free_vmac(v, None);
                }
            }
        }
    }

    /// Makes instance `id`'s [`Host`] of what was `found` for it: opens
    /// (or reuses) its socket. Nothing is sent or installed.
    pub(super) fn finish_resolve(
        &mut self,
        id: InstanceId,
        config: &config::Instance,
        found: HostLookup,
    ) -> Result<Resolved, SetupError> {
        let HostLookup {
            link,
            primary,
            primary_prefix_len,
            addresses,
            vmac,
            tracked_links,
            tracked_files,
            source_present,
        } = found;
        let socket = match self.socket_for(config, &link) {
            Ok(id) => id,
            Err(e) => {
                if let Some(v) = vmac {
                    self.free_vmac(v, None);
                }
                return Err(SetupError::waiting(
                    format!("VRRP socket on {}", config.interface),
                    e,
                ));
            }
        };
        let mut also_depends_on: Vec<u32> = vmac.iter().map(|v| v.link.index.get()).collect();
        for a in &addresses {
            let i = a.ifindex.get();
            if i != link.index.get() && !also_depends_on.contains(&i) {
                also_depends_on.push(i);
            }
        }
        let resolved = Resolved {
            socket,
            ifindex: link.index.get(),
            link_up: link.is_up(),
            primary,
            primary_prefix_len,
            also_depends_on,
            tracked_links,
            tracked_files,
            source_present,
        };
        let host = Host {
            name: config.name.clone(),
            link,
            socket,
            primary,
            addresses: addresses.into(),
            routing: super::routing_set::RoutingSet::of(config),
            filtered: !config.accept && config.priority.get() != 255,
            vmac,
            unicast_ttl: config.unicast_ttl.unwrap_or(vrrp_core::wire::TTL),
        };
        if config.promote_secondaries && host.vmac.is_none() {
            self.addresses.promote_secondaries(&host.link.name);
        }
        self.announcer.prepare(&host);
        self.hosts.insert(id, host);
        Ok(resolved)
    }

    /// Frees a macvlan an instance held, or that a look-up found and no
    /// instance took: deleted (by the worker, after the jobs before) if we
    /// created it and no running instance has picked the same one up;
    /// that one inherits it otherwise, and deletes it at stop. The kernel
    /// deleted it already if its parent `removed_link` went.
    pub(super) fn free_vmac(&mut self, mut vmac: Box<VmacLink>, removed_link: Option<u32>) {
        if let Some(r) = removed_link {
            vmac.created &= vmac.link.index.get() != r;
        }
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

    /// The id of the socket for `config`'s family on `link`, opened and
    /// joined to the group if need be.
    fn socket_for(&mut self, config: &config::Instance, link: &Link) -> std::io::Result<SocketId> {
        let family = config.family();
        let found = self
            .sockets
            .iter()
            .find(|(_, s)| s.family == family && s.ifindex == link.index)
            .map(|(&id, _)| id);
        let id = match found {
            Some(id) => id,
            None => {
                let id = self.next_socket;
                self.next_socket += 1;
                let entry =
                    open_socket(&self.socket_set, id, family, &config.interface, link.index)?;
                self.sockets.insert(id, entry);
                id
            }
        };
        if !config.is_unicast() {
            // Joining twice is harmless (EADDRINUSE is ignored; the socket
            // layer keeps the kind but not the errno).
            if let Some(entry) = self.sockets.get(&id) {
                let joined = match config.multicast_group {
                    Some(group) => entry.socket.join(group),
                    None => entry.socket.join_group(),
                };
                if let Err(e) = joined {
                    if e.kind() != std::io::ErrorKind::AddrInUse {
                        return Err(e);
                    }
                }
            }
        }
        Ok(SocketId(id))
    }
}
