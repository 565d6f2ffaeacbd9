//! [`LvsEngine::reload`]: a new configuration taken without a restart,
//! as keepalived's checker takes one on SIGHUP. A service that stays
//! (same protocol, address and port, or fwmark) keeps its IPVS service,
//! so its connections live on; a real server that stays (same address)
//! keeps its place in the table and the state of each checker whose
//! settings did not change. Only the differences reach IPVS.

use std::sync::Arc;
use std::time::Instant;

use super::action::LvsAction;
use super::engine::{LvsEngine, Real, Virtual, destination, service, sorry_destination};
use crate::config::lvs::VirtualServer;

impl LvsEngine {
    /// Replaces the configuration with `new` at `now`: services that went
    /// are removed (with their real servers), new ones start as at
    /// [`start`](Self::start), and the ones that stay are changed in
    /// place: their settings, real servers added, removed or changed, the
    /// sorry server, and the quorum judged again (its hooks run when it
    /// changes). Checks already out are ignored when they come back; a
    /// kept checker that had one out runs again at once.
    pub fn reload(&mut self, now: Instant, new: impl Into<Arc<[VirtualServer]>>) {
        let new: Arc<[VirtualServer]> = new.into();
        let old = std::mem::replace(&mut self.config, Arc::clone(&new));
        let mut states: Vec<Option<Virtual>> = std::mem::take(&mut self.servers)
            .into_iter()
            .map(Some)
            .collect();
        self.generation = self.generation.wrapping_add(1);
        for (o, oc) in old.iter().enumerate() {
            if new.iter().all(|n| n.key != oc.key) {
                if let Some(state) = states[o].take() {
                    self.remove_virtual(oc, &state);
                }
            }
        }
        for (v, nc) in new.iter().enumerate() {
            let kept = old
                .iter()
                .position(|oc| oc.key == nc.key)
                .and_then(|o| Some((&old[o], states[o].take()?)));
            let state = match kept {
                Some((oc, state)) => self.migrate_virtual(now, oc, state, nc),
                None => self.start_virtual(now, nc),
            };
            self.servers.push(state);
            self.update_quorum(v, true);
        }
    }

    /// Removes a service that left the configuration, real servers first
    /// as at a stop (no hooks run: it is not down, it is gone).
    fn remove_virtual(&mut self, config: &VirtualServer, state: &Virtual) {
        let key = config.key;
        if let Some(s) = &config.sorry_server {
            if state.sorry_alive || s.inhibit {
                self.actions
                    .push_back(LvsAction::RemoveDestination(key, s.addr));
            }
        }
        for (real, rs) in state.reals.iter().zip(&config.real_servers) {
            if real.set {
                self.actions
                    .push_back(LvsAction::RemoveDestination(key, rs.addr));
            }
        }
        self.actions.push_back(LvsAction::RemoveService(key));
    }

    /// Carries a kept service's state over to its new configuration.
    fn migrate_virtual(
        &mut self,
        now: Instant,
        oc: &VirtualServer,
        mut state: Virtual,
        nc: &VirtualServer,
    ) -> Virtual {
        let key = nc.key;
        if service(oc) != service(nc) {
            self.actions
                .push_back(LvsAction::UpdateService(service(nc)));
        }
        // The sorry server: the old one leaves the table if it changed;
        // the new one takes over serving, or waits at weight 0.
        if oc.sorry_server != nc.sorry_server {
            if let Some(s) = &oc.sorry_server {
                if state.sorry_alive || s.inhibit {
                    self.actions
                        .push_back(LvsAction::RemoveDestination(key, s.addr));
                }
            }
            match &nc.sorry_server {
                Some(s) if state.sorry_alive => self
                    .actions
                    .push_back(LvsAction::AddDestination(key, sorry_destination(s, 1))),
                Some(s) if s.inhibit => self
                    .actions
                    .push_back(LvsAction::AddDestination(key, sorry_destination(s, 0))),
                Some(_) => {}
                None => state.sorry_alive = false,
            }
        }
        // While the sorry server serves, the real servers stay out (or at
        // weight 0 when inhibiting); else each is in while up or
        // inhibiting.
        let serving = state.quorum_up || !state.sorry_alive;
        let mut old_reals: Vec<Option<Real>> = state.reals.drain(..).map(Some).collect();
        for (o, ors) in oc.real_servers.iter().enumerate() {
            if nc.real_servers.iter().all(|n| n.addr != ors.addr)
                && old_reals[o].take().is_some_and(|r| r.set)
            {
                self.actions
                    .push_back(LvsAction::RemoveDestination(key, ors.addr));
            }
        }
        for nrs in &nc.real_servers {
            let kept = oc
                .real_servers
                .iter()
                .position(|o| o.addr == nrs.addr)
                .and_then(|o| Some((&oc.real_servers[o], old_reals[o].take()?)));
            let Some((ors, mut real)) = kept else {
                let mut real = self.new_real(now, nrs);
                real.set = serving && real.set;
                if real.set {
                    let weight = if real.alive { nrs.weight } else { 0 };
                    self.actions
                        .push_back(LvsAction::AddDestination(key, destination(nrs, weight)));
                }
                state.reals.push(real);
                continue;
            };
            let was_weight = if serving && real.alive {
                real.weight
            } else {
                0
            };
            // Each checker whose settings are the same keeps its state.
            let mut old_checkers: Vec<_> = real.checkers.drain(..).map(Some).collect();
            for c in &nrs.checkers {
                let same = ors
                    .checkers
                    .iter()
                    .enumerate()
                    .position(|(i, oc)| oc == c && old_checkers[i].is_some());
                let checker = match same.and_then(|i| old_checkers[i].take()) {
                    Some(mut kept) => {
                        // Its check is out under the old configuration.
                        kept.next.get_or_insert(now);
                        kept
                    }
                    None => self.new_checker(now, c),
                };
                real.checkers.push(checker);
            }
            real.alive = real.checkers.iter().all(|c| c.up);
            if nrs.weight != ors.weight {
                real.weight = nrs.weight;
            }
            let want = if serving {
                real.alive || nrs.inhibit_on_failure
            } else {
                real.set && nrs.inhibit_on_failure
            };
            let weight = if serving && real.alive {
                real.weight
            } else {
                0
            };
            match (real.set, want) {
                (false, true) => self
                    .actions
                    .push_back(LvsAction::AddDestination(key, destination(nrs, weight))),
                (true, false) => self
                    .actions
                    .push_back(LvsAction::RemoveDestination(key, nrs.addr)),
                (true, true) if destination(ors, was_weight) != destination(nrs, weight) => self
                    .actions
                    .push_back(LvsAction::UpdateDestination(key, destination(nrs, weight))),
                _ => {}
            }
            real.set = want;
            state.reals.push(real);
        }
        state.suspended = nc.ha_suspend && (!oc.ha_suspend || state.suspended);
        state
    }
}
