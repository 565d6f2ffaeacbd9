//! One checker's state: when it runs next, and how its results become
//! a verdict (keepalived's `retry_it` logic).

use std::time::Instant;

use crate::config::lvs::{CheckKind, Checker};

/// What a result did to the checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// It went up (or passed its first check).
    WentUp,
    /// It went down (or failed its first check).
    WentDown,
    /// A first failure of a checker that started down (`alpha`).
    StayedDownFirst,
    /// Nothing changed.
    Same,
}

#[derive(Debug)]
pub(super) struct CheckerState {
    pub(super) up: bool,
    has_run: bool,
    retry_it: u32,
    /// When it runs next; `None` while a check is out.
    pub(super) next: Option<Instant>,
    /// TCP and HTTP checkers keep cycling their retries while down; MISC,
    /// UDP, DNS, PING and SMTP ones wait a `delay_loop` (keepalived's
    /// epilogs).
    retries_while_down: bool,
}

impl CheckerState {
    /// A checker before its first run at `first`: up unless `alpha`, and
    /// with its retries spent, so the first failure is decisive.
    pub(super) fn new(config: &Checker, first: Instant) -> CheckerState {
        CheckerState {
            up: !config.alpha,
            has_run: false,
            retry_it: config.retry,
            next: Some(first),
            retries_while_down: !matches!(
                config.kind,
                CheckKind::Misc(_)
                    | CheckKind::Udp(_)
                    | CheckKind::Dns(_)
                    | CheckKind::Ping(_)
                    | CheckKind::Smtp(_)
            ),
        }
    }

    /// Whether it is due at `now`.
    pub(super) fn due(&self, now: Instant) -> bool {
        self.next.is_some_and(|t| t <= now)
    }

    /// Takes a result at `now` and schedules the next run.
    pub(super) fn record(&mut self, config: &Checker, now: Instant, passed: bool) -> Verdict {
        let first = !self.has_run;
        self.has_run = true;
        // MISC_CHECK and UDP_CHECK count failures only while up (or
        // before their first run); TCP and HTTP keep cycling their retries
        // while down.
        let counts = self.retries_while_down || self.up || first;
        if passed || self.retry_it >= config.retry || !counts {
            self.next = Some(now + config.delay_loop);
            self.retry_it = 0;
            if passed && (!self.up || first) {
                let was = self.up;
                self.up = true;
                return if was && first {
                    Verdict::Same
                } else {
                    Verdict::WentUp
                };
            }
            if !passed && (self.up || first) {
                let was = self.up;
                self.up = false;
                return if was {
                    Verdict::WentDown
                } else {
                    Verdict::StayedDownFirst
                };
            }
            return Verdict::Same;
        }
        self.retry_it += 1;
        self.next = Some(now + config.delay_before_retry);
        Verdict::Same
    }
}
