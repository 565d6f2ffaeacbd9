//! Sync groups (keepalived's `vrrp_sync_group`): virtual routers that change
//! state together, so that, say, the outside and inside addresses of a
//! firewall always live on the same host. Sans-IO.

use std::time::Instant;

use crate::router::{State, VirtualRouter};

/// A group of virtual routers, named by their index in the driver's slice.
///
/// After every input to any member, call [`sync`](SyncGroup::sync) and then
/// drain every member's outputs. The rules, as keepalived's:
/// - a member that goes Active pulls the other Backups to Active;
/// - a member that leaves Active for Backup pushes the others to Backup;
/// - a member in Fault of its own (link or tracker) holds the others in
///   Fault until it recovers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroup {
    members: Vec<usize>,
    last: Vec<State>,
}

impl SyncGroup {
    /// A group of the routers at `members` in the slice given to `sync`.
    pub fn new(members: Vec<usize>) -> Self {
        let last = vec![State::Initialize; members.len()];
        SyncGroup { members, last }
    }

    /// The member indices.
    pub fn members(&self) -> &[usize] {
        &self.members
    }

    /// Whether `index` is a member.
    pub fn contains(&self, index: usize) -> bool {
        self.members.contains(&index)
    }

    /// Applies the group rules after a change of any member. Indices outside
    /// `routers` are skipped.
    pub fn sync(&mut self, now: Instant, routers: &mut [VirtualRouter]) {
        let own_fault = self
            .members
            .iter()
            .filter_map(|&i| routers.get(i))
            .any(|r| r.has_own_fault());
        for &i in &self.members {
            if let Some(r) = routers.get_mut(i) {
                let held = own_fault && !r.has_own_fault();
                if r.sync_group_fault() != held {
                    r.set_sync_group_fault(now, held);
                }
            }
        }
        let mut went_active = false;
        let mut went_backup = false;
        for (k, &i) in self.members.iter().enumerate() {
            let Some(r) = routers.get(i) else { continue };
            let (before, after) = (self.last[k], r.state());
            went_active |= after == State::Active && before != State::Active;
            went_backup |= before == State::Active && after == State::Backup;
        }
        for &i in &self.members {
            if let Some(r) = routers.get_mut(i) {
                // Giving up wins over taking over: never two Actives.
                if went_backup {
                    r.force_backup(now);
                } else if went_active {
                    r.force_active(now);
                }
            }
        }
        for (k, &i) in self.members.iter().enumerate() {
            if let Some(r) = routers.get(i) {
                self.last[k] = r.state();
            }
        }
    }
}
