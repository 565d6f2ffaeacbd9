//! An instance's `virtual_routes` and `virtual_rules` as the shell holds
//! them for the address worker's jobs (see [`super::routing`]).

use std::sync::Arc;

use crate::config;

/// An instance's routes and rules, shared by the shell and the worker's
/// jobs.
#[derive(Debug, Default)]
pub(crate) struct RoutingSet {
    /// `virtual_routes`.
    pub(crate) routes: Vec<config::Route>,
    /// `virtual_rules`.
    pub(crate) rules: Vec<config::Rule>,
}

impl RoutingSet {
    /// The instance's, or `None` when it has none.
    pub(crate) fn of(instance: &config::Instance) -> Option<Arc<RoutingSet>> {
        if instance.virtual_routes.is_empty() && instance.virtual_rules.is_empty() {
            return None;
        }
        Some(Arc::new(RoutingSet {
            routes: instance.virtual_routes.clone(),
            rules: instance.virtual_rules.clone(),
        }))
    }
}
