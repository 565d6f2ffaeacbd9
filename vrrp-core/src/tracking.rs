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

/// One tracker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// Up or down, with a [`Weight`].
    Binary { weight: Weight, up: bool },
    /// keepalived's `track_file`: a number read from a file, times a weight.
    Value { weight: i32, value: i64 },
}

impl Entry {
    /// The priority adjustment, or `None` for a fault.
    fn contribution(self) -> Option<i64> {
        match self {
            Entry::Binary {
                weight: Weight::Fault,
                up,
            } => up.then_some(0),
            Entry::Binary {
                weight: Weight::Adjust(w),
                up,
            } => Some(if (w > 0) == up { i64::from(w) } else { 0 }),
            // keepalived: weight 0 means any non-zero value is a fault;
            // otherwise value × weight is added, and below -253 is a fault.
            Entry::Value { weight: 0, value } => (value == 0).then_some(0),
            Entry::Value { weight, value } => {
                let adj = value.saturating_mul(i64::from(weight));
                (adj >= -253).then_some(adj)
            }
        }
    }
}

/// The trackers of one router and the priority they add up to.
///
/// The effective priority is the configured one plus the weights in effect,
/// clamped to 1..=254 as keepalived does. An owner (255) keeps 255: weights
/// do not move it, only a [`Weight::Fault`] tracker does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    base: Priority,
    trackers: Vec<Entry>,
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
        self.trackers.push(Entry::Binary { weight, up });
        TrackerId(self.trackers.len() - 1)
    }

    /// Registers a value tracker (keepalived's `track_file`) with its
    /// `weight` and first `value`: weight 0 faults on any non-zero value;
    /// otherwise `value × weight` is added, and below -253 is a fault.
    pub fn add_value(&mut self, weight: i32, value: i64) -> TrackerId {
        self.trackers.push(Entry::Value { weight, value });
        TrackerId(self.trackers.len() - 1)
    }

    /// Records an up/down tracker's result; `true` if it changed.
    pub fn set(&mut self, id: TrackerId, up: bool) -> bool {
        match self.trackers.get_mut(id.0) {
            Some(Entry::Binary { up: state, .. }) if *state != up => {
                *state = up;
                true
            }
            _ => false,
        }
    }

    /// Records a value tracker's number; `true` if it changed.
    pub fn set_value(&mut self, id: TrackerId, value: i64) -> bool {
        match self.trackers.get_mut(id.0) {
            Some(Entry::Value { value: v, .. }) if *v != value => {
                *v = value;
                true
            }
            _ => false,
        }
    }

    /// Whether a tracker is up (a value tracker: not faulting); `false` for
    /// an unknown id.
    pub fn is_up(&self, id: TrackerId) -> bool {
        match self.trackers.get(id.0) {
            Some(Entry::Binary { up, .. }) => *up,
            Some(e) => e.contribution().is_some(),
            None => false,
        }
    }

    /// The priority adjustment a tracker applies now (0 when it adds
    /// nothing), or `None` when it puts the router in Fault or the id is
    /// unknown: keepalived's "weight applied" of a `track_*` entry.
    pub fn adjustment(&self, id: TrackerId) -> Option<i64> {
        self.trackers.get(id.0).and_then(|e| e.contribution())
    }

    /// Whether any tracker puts the router in Fault: a [`Weight::Fault`]
    /// tracker down, or a value tracker past its limit.
    pub fn is_faulted(&self) -> bool {
        self.trackers.iter().any(|e| e.contribution().is_none())
    }

    /// The configured priority with every weight in effect.
    pub fn effective_priority(&self) -> Priority {
        if self.base.is_owner() {
            return self.base;
        }
        let sum: i64 = self
            .trackers
            .iter()
            .filter_map(|e| e.contribution())
            .fold(0, i64::saturating_add);
        let p = (i64::from(self.base.get()).saturating_add(sum)).clamp(1, 254);
        Priority::new(u8::try_from(p).unwrap_or(254))
    }

    /// Hands the effective priority and the fault to `router`.
    pub fn apply(&self, now: Instant, router: &mut VirtualRouter) {
        router.set_priority(now, self.effective_priority());
        router.set_fault(now, self.is_faulted());
    }
}
