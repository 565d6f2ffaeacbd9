//! Receive coalescing: after the loop has read its VRRP sockets dry, it
//! leaves them unread for a short *hold*, so that the adverts arriving
//! meanwhile are read in one wake-up instead of one each. During a hold
//! the socket set is not registered with tokio at all: registered, each
//! arriving datagram would wake the thread even with no task waiting.
//!
//! A Backup of 1,000 routers at 100 ms hears 10,000 adverts a second and
//! woke about 3,000 times a second for them; the wake-ups were the largest
//! part of its CPU. Holding is safe because the routers judge an advert by
//! its kernel arrival stamp, not by when it is read (see
//! [`super::datagrams`]):
//!
//! - an advert that resets Master_Down_Timer (RFC 9568 §6.4.2) resets it
//!   from its arrival, and the loop reads every socket before it acts on a
//!   due takeover, so a held advert never lets a takeover through;
//! - a priority-0 advert sets Master_Down_Timer to Skew_Time after its
//!   arrival (§6.4.2); the hold is at most half of every Backup's
//!   Skew_Time, so the takeover still starts on that deadline;
//! - an Active hears a higher priority (§6.4.3) at most a quarter of its
//!   Adver_Interval late, and [`MAX_HOLD`] late at most.
//!
//! Where those bounds come out below [`MIN_HOLD`] (a high-priority Backup
//! at a short interval has a Skew_Time of microseconds) the loop does not
//! hold at all and reads each datagram as it comes, as before.

use std::time::{Duration, Instant};

use vrrp_core::router::State;

use super::instance::Instance;

/// The longest hold.
pub(super) const MAX_HOLD: Duration = Duration::from_millis(5);

/// A shorter hold than this is not worth its timer wake-up: no hold.
pub(super) const MIN_HOLD: Duration = Duration::from_micros(500);

/// How often the hold's length is recomputed over every instance. It is
/// lowered at once when one instance needs a shorter one (see
/// [`ReadHold::lower`]); this only lets it grow back.
const RECOMPUTE_EVERY: Duration = Duration::from_secs(1);

/// The hold on the VRRP sockets: its length as the routers allow it, and
/// when the current one ends.
#[derive(Debug, Default)]
pub(super) struct ReadHold {
    /// The longest hold every instance allows, or `None` to recompute.
    window: Option<Duration>,
    /// When `window` was last computed over every instance.
    computed_at: Option<Instant>,
    /// The end of the current hold: the sockets are not read before it.
    until: Option<Instant>,
}

impl ReadHold {
    /// The end of the current hold, if the sockets are held.
    pub(super) fn until(&self) -> Option<Instant> {
        self.until
    }

    /// Whether the sockets are held at `now`; ends a hold that is over.
    pub(super) fn holding(&mut self, now: Instant) -> bool {
        if self.until.is_some_and(|t| t <= now) {
            self.until = None;
        }
        self.until.is_some()
    }

    /// Starts a hold at `now`, after the sockets were read dry; its length
    /// is the least that any instance allows (`allowances`, each instance's
    /// [`allowed`], is only walked when that is due for recomputing).
    pub(super) fn start<I>(&mut self, now: Instant, allowances: impl FnOnce() -> I)
    where
        I: Iterator<Item = Option<Duration>>,
    {
        let stale = self
            .computed_at
            .is_none_or(|at| now.saturating_duration_since(at) >= RECOMPUTE_EVERY);
        let window = match self.window {
            Some(w) if !stale => w,
            _ => {
                let w = allowances().flatten().fold(MAX_HOLD, Duration::min);
                self.window = Some(w);
                self.computed_at = Some(now);
                w
            }
        };
        self.until = (window >= MIN_HOLD).then(|| now + window);
    }

    /// An instance changed and now allows `allowed` (its [`allowed`]): if
    /// that is less than the current length, it is the length from now on,
    /// and a hold running longer is cut.
    pub(super) fn lower(&mut self, allowed: Option<Duration>, now: Instant) {
        let Some(allowed) = allowed else {
            return;
        };
        if let Some(w) = &mut self.window {
            *w = (*w).min(allowed);
        }
        if allowed < MIN_HOLD {
            self.until = None;
        } else if let Some(until) = &mut self.until {
            *until = (*until).min(now + allowed);
        }
    }

    /// The instances changed (added, removed, reloaded): recompute the
    /// length, and read at once.
    pub(super) fn invalidate(&mut self) {
        self.window = None;
        self.until = None;
    }
}

/// How long `inst` lets a datagram for it wait unread, or `None` when it
/// does not mind (it neither is Active nor waits for an Active).
pub(super) fn allowed(inst: &Instance) -> Option<Duration> {
    let router = &inst.router;
    allowed_in(
        router.state(),
        router.skew_time(),
        router.config().advert_interval.as_duration(),
    )
}

/// How long a router in `state`, with `skew_time` and `advert_interval`,
/// lets a datagram wait unread: half its Skew_Time as a Backup, a quarter
/// of its Adver_Interval as the Active.
fn allowed_in(state: State, skew_time: Duration, advert_interval: Duration) -> Option<Duration> {
    match state {
        State::Backup => Some(skew_time / 2),
        State::Active => Some(advert_interval / 4),
        State::Initialize | State::Fault => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn none() -> std::iter::Empty<Option<Duration>> {
        std::iter::empty()
    }

    #[test]
    fn a_hold_ends_at_its_time_and_is_capped() {
        let t0 = Instant::now();
        let mut hold = ReadHold::default();
        assert!(!hold.holding(t0));
        hold.start(t0, none);
        assert_eq!(hold.until(), Some(t0 + MAX_HOLD), "no instance: the cap");
        assert!(hold.holding(t0 + MAX_HOLD / 2));
        assert!(!hold.holding(t0 + MAX_HOLD));
        assert_eq!(hold.until(), None);
    }

    #[test]
    fn the_least_allowance_sets_the_length_and_a_tiny_one_means_no_hold() {
        let t0 = Instant::now();
        let mut hold = ReadHold::default();
        hold.start(t0, || [Some(3 * MS), None, Some(40 * MS)].into_iter());
        assert_eq!(hold.until(), Some(t0 + 3 * MS));
        let mut hold = ReadHold::default();
        hold.start(t0, || [Some(3 * MS), Some(MIN_HOLD / 2)].into_iter());
        assert_eq!(hold.until(), None, "below MIN_HOLD the loop reads at once");
        assert!(!hold.holding(t0));
    }

    #[test]
    fn a_lower_allowance_applies_at_once_and_a_higher_one_after_recompute() {
        let t0 = Instant::now();
        let mut hold = ReadHold::default();
        hold.start(t0, || [Some(4 * MS)].into_iter());
        // An instance now allows only 2 ms: the running hold is cut.
        hold.lower(Some(2 * MS), t0 + MS);
        assert_eq!(hold.until(), Some(t0 + 3 * MS));
        // The next hold is 2 ms long, without walking the instances.
        let walked = std::cell::Cell::new(false);
        let walk = || {
            walked.set(true);
            [Some(4 * MS)].into_iter()
        };
        hold.start(t0 + 5 * MS, walk);
        assert!(!walked.get());
        assert_eq!(hold.until(), Some(t0 + 7 * MS));
        // After RECOMPUTE_EVERY the instances are walked and it grows back.
        hold.start(t0 + RECOMPUTE_EVERY, walk);
        assert!(walked.get());
        assert_eq!(hold.until(), Some(t0 + RECOMPUTE_EVERY + 4 * MS));
        // An allowance below MIN_HOLD ends the hold: read now.
        hold.lower(Some(MIN_HOLD / 2), t0 + RECOMPUTE_EVERY);
        assert!(!hold.holding(t0 + RECOMPUTE_EVERY));
        // Instances that do not mind change nothing.
        hold.invalidate();
        hold.start(t0, none);
        hold.lower(None, t0);
        assert_eq!(hold.until(), Some(t0 + MAX_HOLD));
    }

    #[test]
    fn a_backup_allows_half_its_skew_time_and_the_active_a_quarter_interval() {
        let skew = 60 * MS;
        let interval = 100 * MS;
        assert_eq!(
            allowed_in(State::Backup, skew, interval),
            Some(30 * MS),
            "a priority-0 advert read this late still meets Skew_Time"
        );
        assert_eq!(allowed_in(State::Active, skew, interval), Some(25 * MS));
        assert_eq!(allowed_in(State::Fault, skew, interval), None);
        assert_eq!(allowed_in(State::Initialize, skew, interval), None);
    }
}
