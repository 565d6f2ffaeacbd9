//! What the engine tells observers ([`Action::Publish`](super::Action::Publish)):
//! state and priority changes, tracker results and discards, for
//! `vrrpctl watch` and the metrics endpoint. Nothing on the host changes
//! with them.

use std::time::Instant;

use vrrp_core::router::{Reason, State};

use super::action::InstanceId;

/// One thing that happened, in the order the engine saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// An instance changed state.
    StateChanged {
        /// The instance.
        instance: InstanceId,
        /// The state left.
        from: State,
        /// The state entered.
        to: State,
        /// Why.
        reason: Reason,
        /// Its effective priority.
        priority: u8,
        /// On a takeover (`to` is Active): when it became due, the
        /// Master_Down deadline that expired or else the time of the input
        /// that caused it. The shell times its first announcement from it.
        takeover_since: Option<Instant>,
    },
    /// An instance's effective priority changed.
    PriorityChanged {
        /// The instance.
        instance: InstanceId,
        /// Before.
        from: u8,
        /// Now.
        to: u8,
    },
    /// One of an instance's trackers changed its result.
    TrackerChanged {
        /// The instance.
        instance: InstanceId,
        /// The keepalived keyword that tracks it (`track_script`, ...).
        kind: &'static str,
        /// The tracker (an interface name for `track_interface`).
        name: String,
        /// Its result now.
        up: bool,
    },
    /// An advertisement was refused.
    Discarded {
        /// The instance that refused it; `None` when it reached none.
        instance: Option<InstanceId>,
        /// Why ([`vrrp_core::router::Discard::code`] or
        /// [`vrrp_core::wire::WireError::code`]).
        reason: &'static str,
    },
}
