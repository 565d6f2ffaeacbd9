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

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;

/// The timer slack asked of the kernel for the daemon's thread.
const TIMER_SLACK_NS: libc::c_ulong = 1_000;

/// How long before an exact deadline the timer wakes, to spin the rest.
pub(crate) const SPIN_LEAD: Duration = Duration::from_micros(300);

/// An owned `timerfd`.
#[derive(Debug)]
struct TimerFd(OwnedFd);

impl AsFd for TimerFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl AsRawFd for TimerFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// A one-shot timer armed with [`PreciseTimer::arm`] and awaited with
/// [`PreciseTimer::wait`].
#[derive(Debug)]
pub(crate) struct PreciseTimer {
    fd: AsyncFd<TimerFd>,
    /// The deadline, and whether it is exact.
    armed: Option<(Instant, bool)>,
}

impl PreciseTimer {
    /// A disarmed timer, registered with the current tokio runtime.
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: prctl(PR_SET_TIMERSLACK) takes integers only and affects
        // the calling thread's timer slack; failure is harmless.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, TIMER_SLACK_NS, 0, 0, 0) };
        // SAFETY: timerfd_create takes integers only and returns a new
        // descriptor or -1.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a descriptor we just created and own alone.
        let owned = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: the `TimerFd` owns its descriptor for its whole life and
        // never replaces it; the `AsyncFd` takes ownership of it, so the
        // descriptor outlives the registration.
        let fd = unsafe { AsyncFd::register(TimerFd(owned)) }.map_err(io::Error::from)?;
        Ok(PreciseTimer { fd, armed: None })
    }

    /// Arms the timer for `deadline` (disarms it with `None`); an `exact`
    /// one is not passed late by the time it takes to wake up. A deadline
    /// in the past fires at once.
    pub(crate) fn arm(&mut self, deadline: Option<Instant>, exact: bool) -> io::Result<()> {
        let armed = deadline.map(|d| (d, exact));
        if self.armed == armed {
            return Ok(());
        }
        let wake = match armed {
            Some((d, true)) => Some(d.checked_sub(SPIN_LEAD).unwrap_or(d)),
            _ => deadline,
        };
        let value = match wake {
            None => libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            Some(deadline) => {
                // Translate the Instant into CLOCK_MONOTONIC time: both run on
                // the same clock, so the offset from "now" carries over.
                let now_instant = Instant::now();
                let now = monotonic_now()?;
                let ahead = deadline.saturating_duration_since(now_instant);
                let mut sec = now.tv_sec + ahead.as_secs() as libc::time_t;
                let mut nsec = now.tv_nsec + ahead.subsec_nanos() as libc::c_long;
                if nsec >= 1_000_000_000 {
                    sec += 1;
                    nsec -= 1_000_000_000;
                }
                if sec == 0 && nsec == 0 {
                    // An all-zero it_value would disarm the timer.
                    nsec = 1;
                }
                libc::timespec {
                    tv_sec: sec,
                    tv_nsec: nsec,
                }
            }
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        // SAFETY: the descriptor is a valid timerfd, `spec` is a valid
        // itimerspec and the old-value pointer may be null.
        let rc = unsafe {
            libc::timerfd_settime(
                self.fd.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        self.armed = armed;
        Ok(())
    }

    /// Waits until the armed deadline has passed, or for an exact one
    /// until [`SPIN_LEAD`] before it (then [`finish`](Self::finish) the
    /// rest); never returns while disarmed. Cancel-safe.
    pub(crate) async fn wait(&self) -> io::Result<()> {
        loop {
            let mut guard = self.fd.readable().await?;
            let read = guard.try_io(|fd| {
                let mut expirations = [0u8; 8];
                // SAFETY: reads at most 8 bytes into a buffer of 8 bytes.
                let n = unsafe {
                    libc::read(
                        fd.as_raw_fd(),
                        expirations.as_mut_ptr().cast(),
                        expirations.len(),
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                }
            });
            match read {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
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

fn monotonic_now() -> io::Result<libc::timespec> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ts)
}
