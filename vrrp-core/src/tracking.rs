//! Tracking (keepalived's `track_interface`, `track_script`, `track_file`
//! weights): tracker results in, effective priority and fault out. Sans-IO;
//! the driver runs the checks.

use std::time::Instant;

use crate::Priority;
use crate::router::VirtualRouter;

/// What a tracker does to its router, keepalived's `weight`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weight {
    /// Weight 0: while the tracker is down the router is in Fault.
    Fault,
    /// A positive weight is added to the priority while the tracker is up; a
    /// negative one is added (subtracted) while it is down.
    Adjust(i16),
}

impl Weight {
    /// keepalived's integer weight: 0 is [`Weight::Fault`].
    pub const fn from_keepalived(weight: i16) -> Self {
        if weight == 0 {
            Weight::Fault
        } else {
            Weight::Adjust(weight)
        }
    }
}

/// A tracker registered with [`Tracking::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackerId(usize);

/// The trackers of one router and the priority they add up to.
///
/// The effective priority is the configured one plus the weights in effect,
/// clamped to 1..=254 as keepalived does. An owner (255) keeps 255: weights
/// do not move it, only a [`Weight::Fault`] tracker does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    base: Priority,
    trackers: Vec<(Weight, bool)>,
}

impl Tracking {
    /// No trackers over the configured priority `base`.
    pub fn new(base: Priority) -> Self {
        Tracking {
            base,
            trackers: Vec::new(),
        }
    }

    /// Registers a tracker with its `weight` and first result.
    pub fn add(&mut self, weight: Weight, up: bool) -> TrackerId {
        self.trackers.push((weight, up));
        TrackerId(self.trackers.len() - 1)
    }

    /// Records a tracker's result; `true` if it changed.
    pub fn set(&mut self, id: TrackerId, up: bool) -> bool {
        match self.trackers.get_mut(id.0) {
            Some((_, state)) if *state != up => {
                *state = up;
                true
            }
            _ => false,
        }
    }

    /// Whether a tracker is up; `false` for an unknown id.
    pub fn is_up(&self, id: TrackerId) -> bool {
        self.trackers.get(id.0).is_some_and(|(_, up)| *up)
    }

    /// Whether a [`Weight::Fault`] tracker is down.
    pub fn is_faulted(&self) -> bool {
        self.trackers
            .iter()
            .any(|(w, up)| *w == Weight::Fault && !*up)
    }

    /// The configured priority with every weight in effect.
    pub fn effective_priority(&self) -> Priority {
        if self.base.is_owner() {
            return self.base;
        }
        let sum: i32 = self
            .trackers
            .iter()
            .map(|(w, up)| match *w {
                Weight::Adjust(w) if (w > 0) == *up => i32::from(w),
                _ => 0,
            })
            .sum();
        let p = (i32::from(self.base.get()) + sum).clamp(1, 254);
        Priority::new(u8::try_from(p).unwrap_or(254))
    }

    /// Hands the effective priority and the fault to `router`.
    pub fn apply(&self, now: Instant, router: &mut VirtualRouter) {
        router.set_priority(now, self.effective_priority());
        router.set_fault(now, self.is_faulted());
    }
}
