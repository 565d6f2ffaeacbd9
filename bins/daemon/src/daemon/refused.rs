//! Virtual addresses the kernel refuses (the device vanished, IPv6 is off
//! on it) or the ledger cannot record (the state directory is full): the
//! router must not claim what this host does not hold.

use std::time::{Duration, Instant};

use super::instance::Instance;
use super::vips::AddressManager;

/// How long an instance whose addresses the kernel (or the ledger) refused
/// stays in Fault before it tries again; doubled after each failure in a
/// row, up to [`ADDRESS_RETRY_MAX`], so a host that cannot hold the VIPs
/// does not keep interrupting the one that does.
const ADDRESS_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
const ADDRESS_RETRY_MAX: Duration = Duration::from_secs(32);

/// Installs `specs` for `inst`; false if one could not be installed (the
/// kernel refused it, the ledger could not record it). Then the router
/// must not claim addresses it does not hold: it goes to Fault, gives the
/// others up, and tries again later.
pub(super) fn install_addresses(
    addrs: &mut AddressManager,
    inst: &mut Instance,
    specs: &[vrrp_netaddr::AddressSpec],
    now: Instant,
) -> bool {
    if let Some(v) = &inst.vmac {
        v.set_active(true);
    }
    addrs.install(&inst.config.name, specs);
    let mut missing = Vec::new();
    for spec in specs {
        // Ours (the fast path), or someone else's that is there already.
        if addrs.owns(spec.ifindex, spec.prefix) {
            continue;
        }
        let present = addrs
            .handle
            .addresses(Some(spec.ifindex))
            .is_ok_and(|all| all.iter().any(|a| a.matches(spec.ifindex, spec.prefix)));
        if !present {
            missing.push(spec.prefix.to_string());
        }
    }
    if missing.is_empty() {
        inst.address_failures = 0;
        return true;
    }
    let wait = ADDRESS_RETRY
        .saturating_mul(1 << inst.address_failures.min(5))
        .min(ADDRESS_RETRY_MAX);
    inst.address_failures = inst.address_failures.saturating_add(1);
    inst.extra.error("address_install_failed");
    tracing::error!(instance = inst.name(), addresses = %missing.join(" "),
        retry_in = ?wait,
        "virtual addresses could not be installed: giving them up (Fault) and retrying");
    inst.router.set_address_fault(now, true);
    inst.address_retry = Some(now + wait);
    false
}
