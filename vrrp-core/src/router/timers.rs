//! The three timers of a virtual router (RFC 9568 §6.2), as a small table
//! keyed by [`Timer`].

use std::time::Instant;

/// A timer of a virtual router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Adver_Timer: when the Active router sends its next advertisement.
    Adver = 0,
    /// Master_Down_Timer: when a Backup declares the Active router dead.
    MasterDown = 1,
    /// When a Backup may start preempting (keepalived's `preempt_delay`).
    PreemptDelay = 2,
}

/// Deadlines, one per [`Timer`]; `None` is stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Timers {
    deadlines: [Option<Instant>; 3],
}

impl Timers {
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer as usize] = Some(at);
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.deadlines[timer as usize] = None;
    }

    pub(crate) fn stop_all(&mut self) {
        self.deadlines = [None; 3];
    }

    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer as usize]
    }

    pub(crate) fn is_running(&self, timer: Timer) -> bool {
        self.get(timer).is_some()
    }

    /// Whether `timer` is running and due at `now`.
    pub(crate) fn is_due(&self, timer: Timer, now: Instant) -> bool {
        self.get(timer).is_some_and(|at| at <= now)
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }
}
