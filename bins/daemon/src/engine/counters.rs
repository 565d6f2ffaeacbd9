//! [`Extra`]: what an instance counts for `vrrpctl stats` beyond its
//! router's counters (transitions by state, discards and errors by name,
//! the last transition), kept across a rebuild while it waits.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use vrrp_core::router::{Reason, State};

use crate::control::{InstanceStats, LastTransition, TransitionCount};

/// What an instance remembers for `vrrpctl stats` beyond the router's
/// counters. Every key is a static name, and the counters are short lists
/// (a few entries each), so an instance that never discards or fails
/// costs one small allocation here: with 1,000 instances, maps keyed by
/// `String` were a tenth of the daemon's heap.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extra {
    /// Discards by [`vrrp_core::router::Discard::code`].
    discards: Counters,
    /// Transitions into each state, in the order of [`STATES`].
    transitions: [u64; STATES.len()],
    /// The last transition.
    last: Option<Transition>,
    /// Local failures by kind.
    errors: Counters,
    /// Transitions by the state entered and the reason, in first-seen
    /// order.
    reasons: Vec<((State, &'static str), u64)>,
}

/// Every [`State`].
const STATES: [State; 4] = [
    State::Initialize,
    State::Backup,
    State::Active,
    State::Fault,
];

/// Counts by static name, in first-seen order.
#[derive(Debug, Clone, Default)]
struct Counters(Vec<(&'static str, u64)>);

impl Counters {
    fn add(&mut self, key: &'static str) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => self.0.push((key, 1)),
        }
    }

    fn to_map(&self) -> BTreeMap<String, u64> {
        self.0.iter().map(|(k, n)| ((*k).to_string(), *n)).collect()
    }
}

/// A transition as remembered: when, from, to, why.
#[derive(Debug, Clone, Copy)]
struct Transition {
    at_unix_ms: u64,
    from: State,
    to: State,
    reason: Reason,
}

impl Extra {
    /// Records a transition.
    pub(crate) fn transition(&mut self, from: State, to: State, reason: Reason) {
        if let Some(k) = STATES.iter().position(|&s| s == to) {
            self.transitions[k] += 1;
        }
        let key = (to, reason.as_str());
        match self.reasons.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => self.reasons.push((key, 1)),
        }
        let at_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.last = Some(Transition {
            at_unix_ms,
            from,
            to,
            reason,
        });
    }

    /// Records a local failure of `kind`.
    pub(crate) fn error(&mut self, kind: &'static str) {
        self.errors.add(kind);
    }

    /// Records a discarded advertisement.
    pub(crate) fn discard(&mut self, code: &'static str) {
        self.discards.add(code);
    }

    /// The last transition, for `vrrpctl status` and `stats`.
    pub(super) fn last_transition(&self) -> Option<LastTransition> {
        self.last.map(|t| LastTransition {
            at_unix_ms: t.at_unix_ms,
            from: t.from.as_str().to_string(),
            to: t.to.as_str().to_string(),
            reason: t.reason.as_str().to_string(),
        })
    }

    /// The stats of an instance whose router counts `counters`.
    pub(super) fn stats(&self, name: &str, counters: BTreeMap<String, u64>) -> InstanceStats {
        InstanceStats {
            name: name.to_string(),
            counters,
            discards: self.discards.to_map(),
            transitions: STATES
                .iter()
                .zip(self.transitions)
                .filter(|&(_, n)| n > 0)
                .map(|(state, n)| (state.as_str().to_string(), n))
                .collect(),
            last_transition: self.last_transition(),
            errors: self.errors.to_map(),
            transitions_by_reason: self
                .reasons
                .iter()
                .map(|&((to, reason), count)| TransitionCount {
                    to: to.as_str().to_string(),
                    reason: reason.to_string(),
                    count,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_counts_by_name_and_reports_the_last_transition() {
        let mut extra = Extra::default();
        assert!(extra.last_transition().is_none());
        extra.transition(State::Initialize, State::Backup, Reason::Startup);
        extra.transition(State::Backup, State::Active, Reason::MasterDown);
        let from = "198.18.0.2".parse().unwrap();
        let priority = vrrp_core::Priority::new(200);
        let reason = Reason::HigherPriority { from, priority };
        extra.transition(State::Active, State::Backup, reason);
        extra.discard("ttl");
        extra.discard("ttl");
        extra.discard("vrid_mismatch");
        extra.error("address_install_failed");
        let stats = extra.stats("VI_1", BTreeMap::new());
        assert_eq!(stats.name, "VI_1");
        let map = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
            pairs.iter().map(|(k, n)| ((*k).to_string(), *n)).collect()
        };
        let backup = State::Backup.as_str();
        let active = State::Active.as_str();
        assert_eq!(stats.transitions, map(&[(backup, 2), (active, 1)]));
        assert_eq!(stats.discards, map(&[("ttl", 2), ("vrid_mismatch", 1)]));
        let by_reason: Vec<(&str, &str, u64)> = stats
            .transitions_by_reason
            .iter()
            .map(|t| (t.to.as_str(), t.reason.as_str(), t.count))
            .collect();
        assert_eq!(
            by_reason,
            [
                (backup, "startup", 1),
                (active, "master_down", 1),
                (backup, "higher_priority", 1)
            ]
        );
        assert_eq!(stats.errors, map(&[("address_install_failed", 1)]));
        let last = stats.last_transition.unwrap();
        assert_eq!(
            (last.from, last.to, last.reason),
            (
                State::Active.as_str().to_string(),
                State::Backup.as_str().to_string(),
                reason.as_str().to_string()
            )
        );
        assert!(last.at_unix_ms > 0);
    }
}
