//! Applying sync groups (keepalived's `vrrp_sync_group`): after every
//! input to a member, [`vrrp_core::SyncGroup`] moves the others with it,
//! and the group's own notify hooks run when the whole group changes
//! state.

use std::time::Instant;

use tracing::info;
use vrrp_core::router::{State, VirtualRouter};

use super::Engine;
use super::action::Action;
use crate::notify::{HookState, Target, Transition};

/// How many sync/drain rounds one input may cause: a member forced to a
/// state can only move the others once more.
const ROUNDS: usize = 3;

impl Engine {
    /// Applies the rules of the group of instance `i`, if any, draining the
    /// members it moved.
    pub(super) fn sync_after(&mut self, i: usize, now: Instant) {
        let name = &self.instances[i].config.name;
        let Some(g) = self.groups.iter().position(|g| g.members.contains(name)) else {
            return;
        };
        for _ in 0..ROUNDS {
            let idx: Vec<Option<usize>> = self.groups[g]
                .members
                .iter()
                .map(|m| {
                    self.instances
                        .iter()
                        .position(|inst| &inst.config.name == m)
                })
                .collect();
            // The group works on a slice of routers; lend it copies (their
            // output queues are empty: every member was drained) and take
            // them back.
            let Some(template) = idx
                .iter()
                .flatten()
                .next()
                .map(|&k| self.instances[k].router.clone())
            else {
                return;
            };
            // A member waiting for its interface counts as in Fault, as
            // keepalived holds the group in FAULT while one is.
            let waiting = || {
                let mut r = template.clone();
                r.set_link_up(now, false);
                while r.poll_output().is_some() {}
                r
            };
            let mut routers: Vec<VirtualRouter> = idx
                .iter()
                .map(|k| k.map_or_else(waiting, |k| self.instances[k].router.clone()))
                .collect();
            let before: Vec<State> = routers.iter().map(VirtualRouter::state).collect();
            self.groups[g].sync.sync(now, &mut routers);
            let mut moved = false;
            for (k, router) in idx.iter().zip(routers) {
                if let Some(k) = *k {
                    self.deadlines.touch(k);
                    self.instances[k].router = router;
                }
            }
            for (n, k) in idx.iter().enumerate() {
                if let Some(k) = *k {
                    moved |= self.instances[k].router.state() != before[n];
                    self.drain_outputs(k, now);
                }
            }
            if !moved {
                break;
            }
        }
        self.report_group(g);
    }

    /// Runs the group's hooks when every member is in one new state.
    fn report_group(&mut self, g: usize) {
        let states: Vec<State> = self.groups[g]
            .members
            .iter()
            .filter_map(|m| self.instances.iter().find(|i| &i.config.name == m))
            .map(|i| i.router.state())
            .collect();
        let Some(&first) = states.first() else { return };
        if states.iter().any(|s| *s != first) || self.groups[g].reported == Some(first) {
            return;
        }
        let previous = self.groups[g].reported.replace(first);
        let name = self.groups[g].name.clone();
        info!(group = %name, state = %first, "sync group state");
        let Some(group_config) = self.config.sync_groups.iter().find(|c| c.name == name) else {
            return;
        };
        if group_config.notify.is_empty() && self.config.global.notify_fifos.is_empty() {
            return;
        }
        let state = match HookState::from_router(first) {
            Some(s) => s,
            None if previous.is_some() => HookState::Stop,
            None => return,
        };
        let priority = self
            .instances
            .iter()
            .find(|i| group_config.instances.contains(&i.config.name))
            .map_or(0, |i| i.router.priority().get());
        self.actions.push_back(Action::Notify(Transition {
            target: Target::Group(name),
            state,
            previous: previous.and_then(HookState::from_router),
            priority,
        }));
    }
}
