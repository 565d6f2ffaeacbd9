//! Sync groups (keepalived's `vrrp_sync_group`) at run time: their
//! members and what was last reported; [`super::sync`] applies them.

use vrrp_core::SyncGroup;
use vrrp_core::router::State;

use crate::config::Config;

/// One configured group at run time.
#[derive(Debug)]
pub(crate) struct Group {
    /// The group's name.
    pub(super) name: String,
    /// Its members' instance names, in configuration order.
    pub(super) members: Vec<String>,
    /// Over the members' routers in `members` order.
    pub(super) sync: SyncGroup,
    /// The state last reported to the group's hooks.
    pub(super) reported: Option<State>,
}

/// The groups of `config`.
pub(crate) fn build(config: &Config) -> Vec<Group> {
    config
        .sync_groups
        .iter()
        .map(|g| Group {
            name: g.name.clone(),
            members: g.instances.clone(),
            sync: SyncGroup::new((0..g.instances.len()).collect()),
            reported: None,
        })
        .collect()
}
