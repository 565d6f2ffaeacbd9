//! Log rate limiting: a hostile LAN can send 100,000 bad packets a second,
//! and each would otherwise be a log line. [`LogLimiter`] lets a burst of
//! lines through per key and window, then counts what it suppressed and
//! reports that number with the next line allowed. Sans-IO: time comes in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What to do with one log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Log it.
    Log,
    /// Log it, and say that this many lines of the key were suppressed
    /// since the last one logged.
    LogAfterSuppressing(u64),
    /// Drop it (counted).
    Suppress,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    logged: u32,
    suppressed: u64,
}

/// At most `burst` lines per key in each `window`.
#[derive(Debug, Clone)]
pub struct LogLimiter {
    burst: u32,
    window: Duration,
    keys: HashMap<&'static str, Window>,
}

impl LogLimiter {
    /// A limiter letting `burst` lines per key through in each `window`.
    pub fn new(burst: u32, window: Duration) -> Self {
        LogLimiter {
            burst,
            window,
            keys: HashMap::new(),
        }
    }

    /// The verdict for one line of `key` at `now`.
    pub fn check(&mut self, key: &'static str, now: Instant) -> Verdict {
        let w = self.keys.entry(key).or_insert(Window {
            start: now,
            logged: 0,
            suppressed: 0,
        });
        if now.saturating_duration_since(w.start) >= self.window {
            w.start = now;
            w.logged = 0;
        }
        if w.logged >= self.burst {
            w.suppressed += 1;
            return Verdict::Suppress;
        }
        w.logged += 1;
        match std::mem::take(&mut w.suppressed) {
            0 => Verdict::Log,
            n => Verdict::LogAfterSuppressing(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_lines_are_counted_until_the_next_window() {
        let t0 = Instant::now();
        let mut l = LogLimiter::new(3, Duration::from_secs(1));
        for _ in 0..3 {
            assert_eq!(l.check("bad_ttl", t0), Verdict::Log);
        }
        for _ in 0..1000 {
            assert_eq!(l.check("bad_ttl", t0), Verdict::Suppress);
        }
        // Another key has its own budget.
        assert_eq!(l.check("bad_checksum", t0), Verdict::Log);
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(l.check("bad_ttl", t1), Verdict::LogAfterSuppressing(1000));
        assert_eq!(l.check("bad_ttl", t1), Verdict::Log);
    }
}
