//! Virtual addresses on the interfaces, through the netaddr ledger: the
//! daemon removes only what it added itself, also after a crash.

use std::path::Path;

use std::collections::HashMap;
use tracing::{debug, info, warn};

use vrrp_netaddr::{
    AddOutcome, AddressInfo, AddressLedger, AddressSpec, Handle, IfIndex, IpPrefix, Release,
    RoutingLedger,
};

use super::DaemonError;

/// The rtnetlink handle and the ledger of the addresses we added.
#[derive(Debug)]
pub(crate) struct AddressManager {
    pub(crate) handle: Handle,
    ledger: AddressLedger,
    /// The routes and rules we added (see [`super::routing`]).
    pub(crate) routing: RoutingLedger,
    /// Those of them with `no_track`: not added back when someone
    /// deletes them.
    pub(crate) untracked: std::collections::HashSet<vrrp_netaddr::Routing>,
    /// The no_accept filter (see [`super::firewall`]).
    pub(crate) filter: super::firewall::NftFilter,
    /// `promote_secondaries` values to put back at a clean stop.
    promoted: Vec<vrrp_netaddr::sysctl::SysctlRestore>,
}

impl AddressManager {
    /// Opens the ledger in `state_dir` and removes whatever a previous run
    /// left in it (a crash, a `kill -9`), before anything else happens.
    pub(crate) fn open_and_clean(
        state_dir: &Path,
        firewall: &crate::config::Firewall,
    ) -> Result<Self, DaemonError> {
        let mut handle = Handle::new().map_err(|e| DaemonError::Netlink(Box::new(e)))?;
        let mut ledger = AddressLedger::open(state_dir).map_err(|source| DaemonError::Ledger {
            path: state_dir.to_path_buf(),
            source: Box::new(source),
        })?;
        let report = ledger
            .cleanup(&mut handle)
            .map_err(|source| DaemonError::Ledger {
                path: ledger.path().to_path_buf(),
                source: Box::new(source),
            })?;
        for (entry, release) in &report.released {
            info!(
                interface = %entry.ifname,
                address = %entry.address,
                outcome = ?release,
                "cleaned up an address left by a previous run"
            );
        }
        for (entry, err) in &report.failed {
            warn!(interface = %entry.ifname, address = %entry.address, error = %err,
                "could not remove an address left by a previous run");
        }
        let routing = RoutingLedger::open(state_dir).map_err(|source| DaemonError::Ledger {
            path: state_dir.to_path_buf(),
            source: Box::new(source),
        })?;
        let mut manager = AddressManager {
            handle,
            ledger,
            routing,
            untracked: Default::default(),
            filter: super::firewall::NftFilter::open(firewall, state_dir),
            promoted: Vec::new(),
        };
        // Routes and rules first: a route's `src` may be a VIP.
        for entry in manager.routing.entries() {
            info!(owner = %entry.owner, item = %entry.item, "cleaning up what a previous run left");
        }
        manager.clear_routing();
        Ok(manager)
    }

    /// Installs `specs` for `instance` in one batch (one dump per
    /// interface, one journal write); failures are logged, not fatal (the
    /// router keeps advertising, and the next event retries). The new
    /// ledger entries stay pending until [`settle`](Self::settle), so that
    /// the announcements go out first.
    pub(crate) fn install(&mut self, instance: &str, specs: &[AddressSpec]) {
        self.install_reporting(instance, specs, &mut |_| {});
    }

    /// [`install`](Self::install), calling `progress` with `k` each time
    /// the first `k` of `specs` are through the kernel, while more are to
    /// come (see [`vrrp_netaddr::PROGRESS_EVERY`]).
    pub(crate) fn install_reporting(
        &mut self,
        instance: &str,
        specs: &[AddressSpec],
        progress: &mut dyn FnMut(usize),
    ) {
        let added = self
            .ledger
            .add_unsettled_all_with_progress(&mut self.handle, specs, progress);
        let outcomes = match added {
            Ok(outcomes) => outcomes,
            Err(e) => {
                warn!(instance, error = %e, "cannot record virtual addresses; none added");
                return;
            }
        };
        for (spec, outcome) in specs.iter().zip(outcomes) {
            match outcome {
                Ok(AddOutcome::Added) => {
                    debug!(instance, address = %spec.prefix, "added virtual address");
                }
                Ok(AddOutcome::AlreadyPresent) if self.ledger.owns(spec.ifindex, spec.prefix) => {
                    debug!(instance, address = %spec.prefix, "virtual address still ours");
                }
                Ok(AddOutcome::AlreadyPresent) => {
                    warn!(instance, address = %spec.prefix,
                        "virtual address was already configured by someone else; it stays theirs");
                }
                Err(e) => warn!(instance, address = %spec.prefix, error = %e,
                    "cannot add virtual address"),
            }
        }
    }

    /// Readies the install of `specs` without changing anything (see
    /// [`AddressLedger::prepare_add_all`]), just before a takeover.
    pub(crate) fn warm(&mut self, specs: &[AddressSpec]) {
        // A failure here is the install's to report.
        let _ = self.ledger.prepare_add_all(&mut self.handle, specs);
    }

    /// Confirms the entries [`install`](Self::install) left pending (one
    /// address dump per interface and one journal write).
    pub(crate) fn settle(&mut self) {
        if let Err(e) = self.ledger.settle(&mut self.handle) {
            warn!(error = %e, "cannot confirm virtual addresses in the ledger");
        }
    }

    /// Removes the addresses of `specs` that we added, in one batch.
    pub(crate) fn remove(&mut self, instance: &str, specs: &[AddressSpec]) {
        let addresses: Vec<(IfIndex, IpPrefix)> =
            specs.iter().map(|s| (s.ifindex, s.prefix)).collect();
        let outcomes = match self.ledger.remove_all(&mut self.handle, &addresses) {
            Ok(outcomes) => outcomes,
            Err(e) => {
                warn!(instance, error = %e, "cannot record the removal of virtual addresses");
                return;
            }
        };
        for (spec, outcome) in specs.iter().zip(outcomes) {
            match outcome {
                Ok(Release::Removed) => {
                    debug!(instance, address = %spec.prefix, "removed virtual address");
                }
                Ok(release) => {
                    debug!(instance, address = %spec.prefix, ?release, "virtual address not removed");
                }
                Err(e) => warn!(instance, address = %spec.prefix, error = %e,
                    "cannot remove virtual address"),
            }
        }
    }

    /// Which of `specs` are not on the host: neither ours nor someone
    /// else's already there. One dump per interface, and only for what is
    /// not ours.
    pub(crate) fn missing(&mut self, specs: &[AddressSpec]) -> Vec<String> {
        let mut missing = Vec::new();
        let mut dumps: HashMap<IfIndex, Vec<AddressInfo>> = HashMap::new();
        for spec in specs {
            // Ours (the fast path), or someone else's that is there already.
            if self.owns(spec.ifindex, spec.prefix) {
                continue;
            }
            let handle = &mut self.handle;
            let all = dumps
                .entry(spec.ifindex)
                .or_insert_with(|| handle.addresses(Some(spec.ifindex)).unwrap_or_default());
            if !all.iter().any(|a| a.matches(spec.ifindex, spec.prefix)) {
                missing.push(spec.prefix.to_string());
            }
        }
        missing
    }

    /// Whether the ledger holds `prefix` on `ifindex`.
    pub(crate) fn owns(&self, ifindex: IfIndex, prefix: IpPrefix) -> bool {
        self.ledger.owns(ifindex, prefix)
    }

    /// Removes every route, rule and address still in the ledgers (clean
    /// stop).
    pub(crate) fn clear(&mut self) {
        self.clear_routing();
        match self.ledger.cleanup(&mut self.handle) {
            Ok(report) => {
                for (entry, err) in &report.failed {
                    warn!(interface = %entry.ifname, address = %entry.address, error = %err,
                        "could not remove a virtual address at stop");
                }
            }
            Err(e) => warn!(error = %e, "cannot clean the address ledger at stop"),
        }
        self.filter.clear();
        for restore in self.promoted.drain(..).rev() {
            if let Err(e) = restore.restore() {
                warn!(error = %e, "cannot put promote_secondaries back");
            }
        }
    }

    /// Sets `promote_secondaries` on `ifname` unless it is on already
    /// (keepalived's `promote_secondaries`); a clean stop puts back what
    /// this changed.
    pub(crate) fn promote_secondaries(&mut self, ifname: &str) {
        match vrrp_netaddr::sysctl::enable_promote_secondaries(ifname) {
            Ok(restore) => {
                if !restore.changes().is_empty() {
                    info!(interface = ifname, "promote_secondaries set");
                    self.promoted.push(restore);
                }
            }
            Err(e) => warn!(interface = ifname, error = %e, "cannot set promote_secondaries"),
        }
    }

    /// The filter elements of `specs`.
    pub(crate) fn filter_elements(specs: &[AddressSpec]) -> Vec<super::firewall::Element> {
        specs
            .iter()
            .map(|s| super::firewall::Element::new(s.prefix.addr(), s.ifindex))
            .collect()
    }
}
