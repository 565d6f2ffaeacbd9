//! The daemon's side of the control socket ([`crate::control`]): answers
//! `vrrpctl status`, `stats` and `reload` from the loop's own state.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use super::instance::Instance;
use super::waiting::Waiting;
use crate::control::{InstanceStats, InstanceStatus, LastTransition};

/// What an instance remembers for `vrrpctl stats` beyond the router's
/// counters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extra {
    /// Discards by [`vrrp_core::router::Discard::code`].
    pub(crate) discards: BTreeMap<String, u64>,
    /// Transitions into each state.
    pub(crate) transitions: BTreeMap<String, u64>,
    /// The last transition: when, from, to, why.
    pub(crate) last: Option<LastTransition>,
    /// Local failures by kind.
    pub(crate) errors: BTreeMap<String, u64>,
}

impl Extra {
    /// Records a transition.
    pub(crate) fn transition(&mut self, from: &str, to: &str, reason: &str) {
        *self.transitions.entry(to.to_string()).or_default() += 1;
        let at_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.last = Some(LastTransition {
            at_unix_ms,
            from: from.to_string(),
            to: to.to_string(),
            reason: reason.to_string(),
        });
    }

    /// Records a local failure of `kind`.
    pub(crate) fn error(&mut self, kind: &str) {
        *self.errors.entry(kind.to_string()).or_default() += 1;
    }

    /// Records a discarded advertisement.
    pub(crate) fn discard(&mut self, code: &str) {
        *self.discards.entry(code.to_string()).or_default() += 1;
    }
}

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
        last_transition: inst.extra.last.clone(),
        waiting: None,
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
        last_transition: w.extra.last.clone(),
        waiting: Some(w.reason.clone()),
    }
}

/// `vrrpctl stats` for an instance waiting for its interface.
pub(crate) fn waiting_stats(w: &Waiting) -> InstanceStats {
    InstanceStats {
        name: w.config.name.clone(),
        counters: BTreeMap::new(),
        discards: w.extra.discards.clone(),
        transitions: w.extra.transitions.clone(),
        last_transition: w.extra.last.clone(),
        errors: w.extra.errors.clone(),
    }
}

/// `vrrpctl stats` for one instance.
pub(crate) fn stats(inst: &Instance) -> InstanceStats {
    InstanceStats {
        name: inst.config.name.clone(),
        counters: inst
            .router
            .stats()
            .named()
            .iter()
            .map(|(k, v)| ((*k).to_string(), *v))
            .collect(),
        discards: inst.extra.discards.clone(),
        transitions: inst.extra.transitions.clone(),
        last_transition: inst.extra.last.clone(),
        errors: inst.extra.errors.clone(),
    }
}
