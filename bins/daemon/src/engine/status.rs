//! `vrrpctl status` and `stats` ([`crate::control`]) from the engine's
//! running and waiting instances.

use std::collections::BTreeMap;

use super::instance::Instance;
use super::waiting::Waiting;
use crate::control::{InstanceStats, InstanceStatus};

/// `vrrpctl status` for one instance.
pub(crate) fn status(inst: &Instance) -> InstanceStatus {
    let c = &inst.config;
    InstanceStatus {
        name: c.name.clone(),
        interface: c.interface.clone(),
        vrid: c.vrid.get(),
        version: c.version.number(),
        state: inst.router.state().as_str().to_string(),
        priority: c.priority.get(),
        effective_priority: inst.router.priority().get(),
        master_adver_interval_ms: inst.router.master_adver_interval().as_millis(),
        active_router: inst.router.active_router().map(|a| a.to_string()),
        vips: c.vips.iter().map(ToString::to_string).collect(),
        holds_vips: inst.router.holds_addresses(),
        last_transition: inst.extra.last_transition(),
        waiting: None,
        vips_installed: inst.router.holds_addresses()
            && inst.installs_in_flight == 0
            && inst.address_failures == 0,
        trackers: inst.tracking.report(
            c.track_source_address
                .then(|| c.source_address.map(|a| a.to_string()))
                .flatten()
                .as_deref(),
        ),
    }
}

/// `vrrpctl status` for an instance waiting for its interface: in Fault,
/// as keepalived reports one.
pub(crate) fn waiting_status(w: &Waiting) -> InstanceStatus {
    let c = &w.config;
    InstanceStatus {
        name: c.name.clone(),
        interface: c.interface.clone(),
        vrid: c.vrid.get(),
        version: c.version.number(),
        state: vrrp_core::router::State::Fault.as_str().to_string(),
        priority: c.priority.get(),
        effective_priority: c.priority.get(),
        master_adver_interval_ms: u64::try_from(c.advert_interval.as_millis()).unwrap_or(u64::MAX),
        active_router: None,
        vips: c.vips.iter().map(ToString::to_string).collect(),
        holds_vips: false,
        last_transition: w.extra.last_transition(),
        waiting: Some(w.reason.clone()),
        vips_installed: false,
        trackers: Vec::new(),
    }
}

/// `vrrpctl stats` for an instance waiting for its interface.
pub(crate) fn waiting_stats(w: &Waiting) -> InstanceStats {
    w.extra.stats(&w.config.name, BTreeMap::new())
}

/// `vrrpctl stats` for one instance.
pub(crate) fn stats(inst: &Instance) -> InstanceStats {
    let counters = inst
        .router
        .stats()
        .named()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    inst.extra.stats(&inst.config.name, counters)
}
