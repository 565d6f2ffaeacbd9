//! A precise one-shot timer for the event loop: a `timerfd` on
//! `CLOCK_MONOTONIC` (the clock behind [`Instant`]) armed with an absolute
//! deadline, registered with tokio.
//!
//! tokio's own timer wheel has a 1 ms tick and rounds deadlines up to it;
//! a VRRPv3 router at a 10 ms interval needs better than that. The kernel's
//! high-resolution timers wake us within tens of microseconds, and the
//! thread's timer slack is lowered to 1 µs so the wake-up is not coalesced.
//!
//! Some deadlines are *exact*: a takeover, where waking an idle virtual
//! machine's CPU (measured 100–160 µs, with outliers past a millisecond)
//! would all come on top of Master_Down_Interval, and the adverts of a
//! router at a short interval, where it would be jitter. For those the
//! timer wakes [`SPIN_LEAD`] early and spins the rest of the way, so the
//! work starts on the deadline with a warm CPU. A Backup's
//! Master_Down_Timer only fires when the Active has gone quiet, so there
//! the spin costs a fraction of a millisecond per takeover.
//!
//! A Backup's earliest deadline moves later with every advert it hears
//! (10,000 a second with 1,000 routers), and setting the `timerfd` each
//! time was a tenth of its CPU. So the kernel timer is only ever moved
//! earlier: when the deadline moved later, the timer wakes at the old time,
//! finds nothing due, sets itself to the new one and sleeps on, a few
//! times a second instead of thousands.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use nix::time::clock_gettime;
use tokio::io::unix::AsyncFd;

/// The timer slack asked of the kernel for the daemon's thread.
const TIMER_SLACK_NS: u64 = 1_000;

/// How long before an exact deadline the timer wakes, to spin the rest.
pub(crate) const SPIN_LEAD: Duration = Duration::from_micros(300);

/// The `timerfd`, for tokio (which asks for `AsRawFd`).
#[derive(Debug)]
struct Timer(TimerFd);

impl AsRawFd for Timer {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// A one-shot timer armed with [`PreciseTimer::arm`] and awaited with
/// [`PreciseTimer::wait`].
#[derive(Debug)]
pub(crate) struct PreciseTimer {
    fd: AsyncFd<Timer>,
    /// The deadline, and whether it is exact.
    armed: Option<(Instant, bool)>,
    /// When the `timerfd` is set to go off, if it is: never after the
    /// wake-up `armed` needs, and perhaps before it.
    set: Option<Instant>,
}

impl PreciseTimer {
    /// A disarmed timer, registered with the current tokio runtime.
    pub(crate) fn new() -> io::Result<Self> {
        // Failure is harmless: wake-ups may then be coalesced by up to the
        // default 50 µs.
        let _ = nix::sys::prctl::set_timerslack(TIMER_SLACK_NS);
        let timer = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        // SAFETY: the `Timer` owns its descriptor for its whole life and
        // never replaces it; the AsyncFd owns the `Timer`.
        let fd = unsafe { AsyncFd::register(Timer(timer)) }.map_err(io::Error::from)?;
        Ok(PreciseTimer {
            fd,
            armed: None,
            set: None,
        })
    }

    /// Arms the timer for `deadline` (disarms it with `None`); an `exact`
    /// one is not passed late by the time it takes to wake up. A deadline
    /// in the past fires at once. The kernel timer is only set when this
    /// wakes earlier than it is set for (see the module documentation).
    pub(crate) fn arm(&mut self, deadline: Option<Instant>, exact: bool) -> io::Result<()> {
        self.armed = deadline.map(|d| (d, exact));
        match (self.wake(), self.set) {
            (Some(wake), Some(set)) if wake >= set => Ok(()),
            (Some(wake), _) => self.set_timerfd(wake),
            // Disarmed: a timer still set goes off once, for nothing.
            (None, _) => Ok(()),
        }
    }

    /// When the timer must wake for what is armed: the deadline, or
    /// [`SPIN_LEAD`] before an exact one.
    fn wake(&self) -> Option<Instant> {
        match self.armed? {
            (d, true) => Some(d.checked_sub(SPIN_LEAD).unwrap_or(d)),
            (d, false) => Some(d),
        }
    }

    /// Sets the `timerfd` to go off at `wake`.
    fn set_timerfd(&mut self, wake: Instant) -> io::Result<()> {
        // Translate the Instant into CLOCK_MONOTONIC time: both run on the
        // same clock, so the offset from "now" carries over.
        let now_instant = Instant::now();
        let now = Duration::from(clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)?);
        let ahead = wake.saturating_duration_since(now_instant);
        // Never all zero: an all-zero it_value would disarm the timer.
        let at = (now + ahead).max(Duration::from_nanos(1));
        self.fd
            .get_ref()
            .0
            .set(
                Expiration::OneShot(TimeSpec::from_duration(at)),
                TimerSetTimeFlags::TFD_TIMER_ABSTIME,
            )
            .map_err(io::Error::from)?;
        self.set = Some(wake);
        Ok(())
    }

    /// Waits until the armed deadline has passed, or for an exact one
    /// until [`SPIN_LEAD`] before it (then [`finish`](Self::finish) the
    /// rest); never returns while disarmed. Cancel-safe.
    pub(crate) async fn wait(&mut self) -> io::Result<()> {
        loop {
            let mut guard = self.fd.readable().await?;
            // Reading the expiration count resets readiness.
            let read = guard.try_io(|fd| fd.get_ref().0.wait().map_err(io::Error::from));
            match read {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
            // It went off: a one-shot timer is unset now.
            self.set = None;
            match self.wake() {
                // Disarmed since it was set.
                None => {}
                // The deadline moved later since: sleep on.
                Some(wake) if wake > Instant::now() => self.set_timerfd(wake)?,
                Some(_) => return Ok(()),
            }
        }
    }

    /// The exact deadline [`wait`](Self::wait) returned ahead of, if any.
    pub(crate) fn exact_deadline(&self) -> Option<Instant> {
        match self.armed {
            Some((deadline, true)) => Some(deadline),
            _ => None,
        }
    }

    /// Spins until the exact deadline, if one is armed; at most
    /// [`SPIN_LEAD`] after [`wait`](Self::wait) returned.
    pub(crate) fn finish(&self) {
        if let Some(deadline) = self.exact_deadline() {
            while Instant::now() < deadline {
                std::hint::spin_loop();
            }
        }
    }

    /// Forgets the armed deadline after it fired, so the next
    /// [`arm`](Self::arm) with the same deadline re-arms.
    pub(crate) fn fired(&mut self) {
        self.armed = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// A deadline moved later leaves the kernel timer where it was; the
    /// wait must still end at the new deadline, not at the old one.
    #[tokio::test]
    async fn a_deadline_moved_later_is_met_not_the_old_one() {
        let mut timer = PreciseTimer::new().unwrap();
        let t0 = Instant::now();
        timer.arm(Some(t0 + 20 * MS), false).unwrap();
        timer.arm(Some(t0 + 80 * MS), false).unwrap();
        timer.wait().await.unwrap();
        assert!(Instant::now() >= t0 + 80 * MS, "woke for the old deadline");
        timer.fired();

        // An exact deadline moved later: the wait ends SPIN_LEAD before it.
        let t1 = Instant::now();
        timer.arm(Some(t1 + 10 * MS), true).unwrap();
        timer.arm(Some(t1 + 60 * MS), true).unwrap();
        timer.wait().await.unwrap();
        assert!(Instant::now() >= t1 + 60 * MS - SPIN_LEAD);
        assert_eq!(timer.exact_deadline(), Some(t1 + 60 * MS));
        timer.finish();
        assert!(Instant::now() >= t1 + 60 * MS);
        timer.fired();
    }

    /// A deadline moved earlier moves the kernel timer with it.
    #[tokio::test]
    async fn a_deadline_moved_earlier_is_met() {
        let mut timer = PreciseTimer::new().unwrap();
        let t0 = Instant::now();
        timer.arm(Some(t0 + 10_000 * MS), false).unwrap();
        timer.arm(Some(t0 + 30 * MS), false).unwrap();
        tokio::time::timeout(Duration::from_secs(5), timer.wait())
            .await
            .expect("the earlier deadline was met")
            .unwrap();
        assert!(Instant::now() >= t0 + 30 * MS);
    }

    /// Disarmed after it was set, the timer goes off for nothing and the
    /// wait goes on.
    #[tokio::test]
    async fn a_disarmed_timer_never_ends_the_wait() {
        let mut timer = PreciseTimer::new().unwrap();
        timer.arm(Some(Instant::now() + 5 * MS), false).unwrap();
        timer.arm(None, false).unwrap();
        let waited = tokio::time::timeout(100 * MS, timer.wait()).await;
        assert!(waited.is_err(), "a disarmed timer ended the wait");
    }
}
