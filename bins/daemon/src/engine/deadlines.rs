//! The routers' deadlines, kept in order: the loop finds the next one, and
//! the timer the due ones, without polling every router after every
//! packet. With 1,000 routers that poll was a third of a Backup's CPU.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::instance::{self, Instance};

/// Routers that advertise more often than this have every deadline met
/// exactly, at up to the shell timer's spin lead (0.3 ms) of CPU per advertisement
/// (about 2 % of a core at 10 ms): measured over 60 s at 10 ms on an idle
/// 2-vCPU VM, the p99 gap fell from 11.5–11.7 ms to 10.6 ms and the rate
/// rose from 99.94–99.98/s to 100.000/s. At 100 ms and more a millisecond
/// of jitter is noise, and a thousand such routers would spin constantly.
const EXACT_ADVERT_INTERVAL: Duration = Duration::from_millis(100);

/// An instance's earliest deadline: (when, *not* exact, index). Among
/// equal instants an exact one sorts first, so the first key says whether
/// the timer must meet it exactly.
type Key = (Instant, bool, usize);

/// Each instance's earliest deadline, by index and in order.
///
/// Whoever changes an instance marks it with [`Deadlines::touch`] (the
/// engine's `drain` does), or everything with [`Deadlines::invalidate`]
/// (its `instances_changed` does, after adding, removing or reordering);
/// [`Deadlines::refresh`] recomputes only what was marked.
#[derive(Debug)]
pub(super) struct Deadlines {
    /// By instance index: its key in `order`, if it has a deadline.
    cached: Vec<Option<Key>>,
    order: BTreeSet<Key>,
    /// Instances changed since the last refresh.
    touched: Vec<usize>,
    /// Every key must be recomputed.
    stale: bool,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            cached: Vec::new(),
            order: BTreeSet::new(),
            touched: Vec::new(),
            stale: true,
        }
    }
}

impl Deadlines {
    /// Instance `i` may have new deadlines.
    pub(super) fn touch(&mut self, i: usize) {
        if !self.stale {
            self.touched.push(i);
        }
    }

    /// Any instance may have new deadlines, or the list changed.
    pub(super) fn invalidate(&mut self) {
        self.stale = true;
        self.touched.clear();
    }

    /// Recomputes the keys of what was touched, or of everything, for
    /// `len` instances whose deadlines `deadline_of` gives by index.
    pub(super) fn refresh(
        &mut self,
        len: usize,
        deadline_of: impl Fn(usize) -> Option<(Instant, bool)>,
    ) {
        let key = |i| deadline_of(i).map(|(at, exact)| (at, !exact, i));
        if self.stale || self.cached.len() != len {
            self.order.clear();
            self.cached.clear();
            self.cached.extend((0..len).map(key));
            self.order.extend(self.cached.iter().flatten().copied());
            self.touched.clear();
            self.stale = false;
            return;
        }
        for i in self.touched.drain(..) {
            let Some(slot) = self.cached.get_mut(i) else {
                continue;
            };
            let new = key(i);
            if *slot == new {
                continue;
            }
            if let Some(old) = slot.take() {
                self.order.remove(&old);
            }
            if let Some(k) = new {
                self.order.insert(k);
            }
            *slot = new;
        }
    }

    /// The earliest deadline as of the last refresh, and whether the
    /// timer must meet it exactly.
    pub(super) fn next(&self) -> Option<(Instant, bool)> {
        self.order
            .first()
            .map(|&(at, not_exact, _)| (at, !not_exact))
    }

    /// The indices, ascending, of the instances with a deadline at or
    /// before `now`, as of the last refresh.
    pub(super) fn due(&self, now: Instant) -> Vec<usize> {
        let mut due: Vec<usize> = self
            .order
            .range(..=(now, true, usize::MAX))
            .map(|&(_, _, i)| i)
            .collect();
        due.sort_unstable();
        due
    }
}

/// The earliest of `len` deadlines, computed afresh: what
/// [`Deadlines::next`] must agree with (checked with debug assertions on).
#[cfg_attr(not(debug_assertions), allow(dead_code))]
pub(super) fn scan(
    len: usize,
    deadline_of: impl Fn(usize) -> Option<(Instant, bool)>,
) -> Option<(Instant, bool)> {
    (0..len)
        .filter_map(|i| deadline_of(i).map(|(at, exact)| (at, !exact)))
        .min()
        .map(|(at, not_exact)| (at, !not_exact))
}

/// The earliest of `inst`'s router's, announcements' and address retry's
/// deadlines, and whether the timer must meet it exactly.
pub(super) fn of_instance(inst: &Instance) -> Option<(Instant, bool)> {
    let at = match (instance::next_deadline(inst), inst.address_retry) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some((at, exact_deadline(inst) == Some(at)))
}

/// The deadline of `inst` the timer must meet exactly: its
/// Master_Down_Timer, or any timer of a router that advertises more often
/// than every [`EXACT_ADVERT_INTERVAL`].
fn exact_deadline(inst: &Instance) -> Option<Instant> {
    if inst.router.config().advert_interval.as_duration() < EXACT_ADVERT_INTERVAL {
        inst.router.poll_timeout()
    } else {
        inst.router.master_down_deadline()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index over `table`, refreshed.
    fn refreshed(d: &mut Deadlines, table: &[Option<(Instant, bool)>]) {
        d.refresh(table.len(), |i| table[i]);
        assert_eq!(d.next(), scan(table.len(), |i| table[i]));
    }

    #[test]
    fn the_earliest_wins_and_an_exact_one_wins_a_tie() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Deadlines::default();
        assert_eq!(d.next(), None);
        let mut table = vec![Some((ms(30), false)), None, Some((ms(20), false))];
        refreshed(&mut d, &table);
        assert_eq!(d.next(), Some((ms(20), false)));
        table[1] = Some((ms(20), true));
        d.touch(1);
        refreshed(&mut d, &table);
        assert_eq!(d.next(), Some((ms(20), true)));
        assert_eq!(d.due(ms(19)), Vec::<usize>::new());
        assert_eq!(d.due(ms(20)), vec![1, 2]);
        assert_eq!(d.due(ms(30)), vec![0, 1, 2]);
    }

    #[test]
    fn only_touched_instances_are_recomputed() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Deadlines::default();
        let mut table = vec![Some((ms(10), false)), Some((ms(20), false))];
        refreshed(&mut d, &table);
        // Instance 0 moves later and says so; instance 1 disarms silently.
        table[0] = Some((ms(40), false));
        table[1] = None;
        d.touch(0);
        d.refresh(table.len(), |i| table[i]);
        assert_eq!(d.next(), Some((ms(20), false)), "1 was not touched");
        assert_eq!(d.due(ms(40)), vec![0, 1]);
        d.invalidate();
        refreshed(&mut d, &table);
        assert_eq!(d.next(), Some((ms(40), false)));
        assert_eq!(d.due(ms(40)), vec![0]);
    }

    #[test]
    fn a_new_length_rebuilds_everything() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Deadlines::default();
        refreshed(&mut d, &[Some((ms(10), false))]);
        // An instance was added without invalidate(): the length shows it.
        let table = [Some((ms(15), false)), Some((ms(5), true))];
        refreshed(&mut d, &table);
        assert_eq!(d.next(), Some((ms(5), true)));
        // A touch of an index past the end is ignored.
        d.touch(7);
        refreshed(&mut d, &table);
    }
}
