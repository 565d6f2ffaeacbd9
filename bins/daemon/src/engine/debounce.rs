//! keepalived's `interface_up_down_delays`: a link change reaches the
//! instances only once it has lasted its delay, and not at all if the
//! link goes back first. A link that has never been seen up comes up at
//! once, as in keepalived.

use std::time::Instant;

use tracing::info;

use super::action::LinkState;
use crate::config::LinkDelays;

/// A change waiting out its delay.
#[derive(Debug, Clone)]
struct Pending {
    ifindex: u32,
    name: String,
    state: LinkState,
    due: Instant,
}

/// The changes held back, and the links seen so far.
#[derive(Debug, Default)]
pub(super) struct Debounce {
    pending: Vec<Pending>,
    /// Links with delays seen up or going down: their later changes are
    /// delayed.
    seen: Vec<String>,
}

impl Debounce {
    /// Whether the change of link `ifindex` (`name`) to `state` at `now` is
    /// held back, given its `delays`: false to apply it now. A change back
    /// to the state before a held one cancels both.
    pub(super) fn hold(
        &mut self,
        now: Instant,
        ifindex: u32,
        name: &str,
        state: LinkState,
        delays: Option<LinkDelays>,
    ) -> bool {
        if state == LinkState::Removed {
            self.pending.retain(|p| p.ifindex != ifindex);
            return false;
        }
        if let Some(k) = self.pending.iter().position(|p| p.ifindex == ifindex) {
            if self.pending[k].state != state {
                info!(
                    interface = name,
                    "link back before its delay ran out: no change"
                );
                self.pending.remove(k);
            }
            return true;
        }
        // Only links with delays are remembered: the others apply at once.
        let Some(delays) = delays else {
            return false;
        };
        let seen = self.seen.iter().any(|n| n == name);
        if !seen {
            self.seen.push(name.to_string());
        }
        let delay = if state == LinkState::Up {
            delays.up
        } else {
            delays.down
        };
        if delay.is_zero() || (state == LinkState::Up && !seen) {
            return false;
        }
        info!(
            interface = name,
            ?state,
            ?delay,
            "link change delayed (interface_up_down_delays)"
        );
        self.pending.push(Pending {
            ifindex,
            name: name.to_string(),
            state,
            due: now + delay,
        });
        true
    }

    /// When the next held change is due.
    pub(super) fn next(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.due).min()
    }

    /// The held changes due at `now`, in the order they happened.
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<(u32, String, LinkState)> {
        let mut due = Vec::new();
        self.pending.retain(|p| {
            if p.due <= now {
                due.push((p.ifindex, p.name.clone(), p.state));
                false
            } else {
                true
            }
        });
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const DELAYS: Option<LinkDelays> = Some(LinkDelays {
        down: Duration::from_secs(2),
        up: Duration::from_secs(1),
    });

    #[test]
    fn a_bounce_shorter_than_the_delay_is_no_change() {
        let t0 = Instant::now();
        let mut d = Debounce::default();
        // First seen up: at once.
        assert!(!d.hold(t0, 2, "eth0", LinkState::Up, DELAYS));
        assert!(d.hold(t0, 2, "eth0", LinkState::Down, DELAYS));
        assert_eq!(d.next(), Some(t0 + Duration::from_secs(2)));
        // Up again within 2 s: both gone.
        assert!(d.hold(
            t0 + Duration::from_secs(1),
            2,
            "eth0",
            LinkState::Up,
            DELAYS
        ));
        assert_eq!(d.next(), None);
        assert!(d.take_due(t0 + Duration::from_secs(5)).is_empty());
    }

    #[test]
    fn a_change_that_lasts_is_applied_at_its_delay() {
        let t0 = Instant::now();
        let mut d = Debounce::default();
        assert!(d.hold(t0, 2, "eth0", LinkState::Down, DELAYS));
        assert!(d.take_due(t0 + Duration::from_millis(1_999)).is_empty());
        let due = d.take_due(t0 + Duration::from_secs(2));
        assert_eq!(due, vec![(2, "eth0".to_string(), LinkState::Down)]);
        // Seen before: its coming up waits the up delay.
        assert!(d.hold(
            t0 + Duration::from_secs(3),
            2,
            "eth0",
            LinkState::Up,
            DELAYS
        ));
        assert_eq!(d.next(), Some(t0 + Duration::from_secs(4)));
        // Deleted meanwhile: at once, and nothing left held.
        assert!(!d.hold(t0, 2, "eth0", LinkState::Removed, DELAYS));
        assert_eq!(d.next(), None);
        // Without delays, at once.
        assert!(!d.hold(t0, 3, "eth1", LinkState::Down, None));
    }
}
