//! Routes and rules on the host, through the routing ledger: an
//! instance's `virtual_routes` and `virtual_rules` go in after its VIPs
//! and out before them (keepalived's order, so a route's `src` can be a
//! VIP); the `static_*` ones go in at start and out at a stop. Only what
//! the ledger says we added is ever removed.

use tracing::{debug, info, warn};
use vrrp_netaddr::{AddOutcome, Release, Routing};

use super::routing_set::RoutingSet;
use super::vips::AddressManager;
use crate::config::{self, Statics};

/// The ledger's owner name of an instance's routes and rules.
pub(crate) fn owner_of(instance: &str) -> String {
    format!("instance {instance}")
}

/// The ledger's owner name of the static ones.
const STATIC_OWNER: &str = "static";

impl AddressManager {
    /// Adds `routes` then `rules` for `owner`: each route's `dev` is found
    /// by name now. Failures are logged; the instance's state does not
    /// change (as keepalived's does not).
    pub(crate) fn install_routing(
        &mut self,
        owner: &str,
        routes: &[config::Route],
        rules: &[config::Rule],
    ) {
        let mut items = Vec::with_capacity(routes.len() + rules.len());
        for r in routes {
            let mut spec = r.spec.clone();
            if let Some(dev) = &r.device {
                match self.handle.link_by_name(dev) {
                    Ok(link) => spec.device = Some(link.index),
                    Err(e) => {
                        warn!(owner, route = %r, error = %e, "cannot add route: no such device");
                        continue;
                    }
                }
            }
            if !r.track {
                self.untracked.insert(Routing::Route(spec.clone()));
            }
            items.push(Routing::Route(spec));
        }
        for r in rules.iter().filter(|r| !r.track) {
            self.untracked.insert(Routing::Rule(r.spec.clone()));
        }
        items.extend(rules.iter().map(|r| Routing::Rule(r.spec.clone())));
        if items.is_empty() {
            return;
        }
        let outcomes = match self.routing.add_all(&mut self.handle, owner, &items) {
            Ok(outcomes) => outcomes,
            Err(e) => {
                warn!(owner, error = %e, "cannot record routes and rules; none added");
                return;
            }
        };
        for (item, outcome) in items.iter().zip(outcomes) {
            match outcome {
                Ok(AddOutcome::Added) => debug!(owner, %item, "added"),
                Ok(AddOutcome::AlreadyPresent) if self.routing.owns(item) => {
                    debug!(owner, %item, "still ours");
                }
                Ok(AddOutcome::AlreadyPresent) => {
                    warn!(owner, %item, "already configured by someone else; it stays theirs");
                }
                Err(e) => warn!(owner, %item, error = %e, "cannot add"),
            }
        }
    }

    /// Removes what the ledger holds for `owner` that `now` (its routes and
    /// rules after a reload) no longer has; what stays is not touched.
    pub(crate) fn keep_routing(&mut self, owner: &str, now: Option<&RoutingSet>) {
        let keep = |item: &Routing| match (item, now) {
            (Routing::Route(r), Some(set)) => set.routes.iter().any(|n| {
                let mut spec = n.spec.clone();
                spec.device = r.device;
                spec == *r && n.device.is_some() == r.device.is_some()
            }),
            (Routing::Rule(r), Some(set)) => set.rules.iter().any(|n| n.spec == *r),
            (_, None) => false,
        };
        let mut gone: Vec<Routing> = self
            .routing
            .owned_by(owner)
            .filter(|i| !keep(i))
            .cloned()
            .collect();
        if gone.is_empty() {
            return;
        }
        gone.reverse();
        gone.sort_by_key(|i| matches!(i, Routing::Route(_)));
        if let Err(e) = self.routing.remove_all(&mut self.handle, &gone) {
            warn!(owner, error = %e, "cannot record the removal of routes and rules");
        }
    }

    /// Removes what the ledger holds for `owner`: rules first, then
    /// routes, each in the reverse order of their adds.
    pub(crate) fn remove_routing(&mut self, owner: &str) {
        let mut items: Vec<Routing> = self.routing.owned_by(owner).cloned().collect();
        if items.is_empty() {
            return;
        }
        items.reverse();
        items.sort_by_key(|i| matches!(i, Routing::Route(_)));
        let outcomes = match self.routing.remove_all(&mut self.handle, &items) {
            Ok(outcomes) => outcomes,
            Err(e) => {
                warn!(owner, error = %e, "cannot record the removal of routes and rules");
                return;
            }
        };
        for (item, outcome) in items.iter().zip(outcomes) {
            match outcome {
                Ok(Release::Removed) => debug!(owner, %item, "removed"),
                Ok(release) => debug!(owner, %item, ?release, "not removed"),
                Err(e) => warn!(owner, %item, error = %e, "cannot remove"),
            }
        }
    }

    /// Installs the `static_ipaddress`, `static_routes` and `static_rules`
    /// (at start, in that order, as keepalived does).
    pub(crate) fn install_statics(&mut self, statics: &Statics) {
        if !statics.addresses.is_empty() {
            // Each static address names its device; the default is unused.
            let any = vrrp_netaddr::IfIndex::new(1).expect("1 is an index");
            let (specs, failed) =
                super::lookup::address_specs(&mut self.handle, &statics.addresses, any);
            for f in failed {
                warn!(address = %f, "cannot add static address");
            }
            self.install(STATIC_OWNER, &specs);
            self.settle();
            info!(count = specs.len(), "static addresses installed");
        }
        self.install_routing(STATIC_OWNER, &statics.routes, &statics.rules);
    }

    /// A reload changed the static entries from `old` to `new`: the
    /// static routes and rules go and come back (a few milliseconds), the
    /// addresses `new` lacks go, the others are added if they are not
    /// there.
    pub(crate) fn replace_statics(&mut self, old: &Statics, new: &Statics) {
        self.remove_routing(STATIC_OWNER);
        let gone: Vec<config::VirtualAddress> = old
            .addresses
            .iter()
            .filter(|a| !new.addresses.contains(a))
            .cloned()
            .collect();
        if !gone.is_empty() {
            let any = vrrp_netaddr::IfIndex::new(1).expect("1 is an index");
            let (specs, _) = super::lookup::address_specs(&mut self.handle, &gone, any);
            self.remove(STATIC_OWNER, &specs);
        }
        self.install_statics(new);
    }

    /// The kernel deleted `seen`: if it is a route or rule of ours that
    /// is tracked, add it back (keepalived re-adds a static one; for a
    /// virtual one it steps down to Backup and, as the highest priority,
    /// comes back after Skew_Time re-adding it: the VIPs flap. vrrpd keeps
    /// them and adds the route back).
    pub(crate) fn on_routing_removed(&mut self, seen: &Routing) {
        let Some(entry) = self.routing.matching(seen) else {
            return;
        };
        if self.untracked.contains(&entry.item) {
            return;
        }
        let (owner, item) = (entry.owner.clone(), entry.item.clone());
        warn!(%owner, %item, "removed by someone else: adding it back");
        if let Err(e) = self.routing.restore(&mut self.handle, &item) {
            warn!(%owner, %item, error = %e, "cannot add it back");
        }
    }

    /// Interface `ifindex` came up: adds back the tracked static routes
    /// through it, which the kernel dropped silently while it was down
    /// (keepalived's `interface_up` does the same). A route still there
    /// answers "exists" and stays as it is.
    pub(crate) fn restore_static_routes(&mut self, ifindex: vrrp_netaddr::IfIndex) {
        let through: Vec<Routing> = self
            .routing
            .owned_by(STATIC_OWNER)
            .filter(|i| matches!(i, Routing::Route(r) if r.device == Some(ifindex)))
            .filter(|i| !self.untracked.contains(*i))
            .cloned()
            .collect();
        for item in through {
            match self.routing.restore(&mut self.handle, &item) {
                Ok(AddOutcome::Added) => info!(%item, "static route back with its interface"),
                Ok(AddOutcome::AlreadyPresent) => {}
                Err(e) => warn!(%item, error = %e, "cannot add the static route back"),
            }
        }
    }

    /// Removes every route and rule in the ledger (a clean stop, and the
    /// start after a crash).
    pub(crate) fn clear_routing(&mut self) {
        match self.routing.cleanup(&mut self.handle) {
            Ok(report) => {
                for (entry, outcome) in report {
                    match outcome {
                        Ok(release) => {
                            debug!(owner = %entry.owner, item = %entry.item, ?release, "cleaned up");
                        }
                        Err(e) => warn!(owner = %entry.owner, item = %entry.item, error = %e,
                            "could not remove"),
                    }
                }
            }
            Err(e) => warn!(error = %e, "cannot clean the routing ledger"),
        }
    }
}
