//! When to announce: a sans-IO schedule of gratuitous ARP / unsolicited NA
//! bursts with keepalived's semantics.
//!
//! keepalived.conf(5) (`vrrp_instance` and `global_defs`) defines:
//!
//! | keepalived | here | default |
//! |---|---|---|
//! | `garp_master_repeat` | [`AnnouncementPolicy::repeat`] | 5 |
//! | `garp_master_delay` | [`AnnouncementPolicy::second_burst_delay`] | 5 s (0: no second set) |
//! | `garp_master_refresh` | [`AnnouncementPolicy::refresh_interval`] | 0 (no refresh) |
//! | `garp_master_refresh_repeat` | [`AnnouncementPolicy::refresh_repeat`] | 1 |
//! | `vrrp_garp_interval` / `vrrp_gna_interval` | [`AnnouncementPolicy::packet_interval`] | 0 |
//!
//! On becoming Active keepalived sends `garp_master_repeat` rounds at once
//! (one packet per address per round), then the same again
//! `garp_master_delay` after the transition, then `garp_master_refresh_repeat`
//! rounds every `garp_master_refresh` while Active. `garp_interval` and
//! `gna_interval` space out consecutive packets on one interface.
//!
//! Two differences. With no `garp_interval`, keepalived sends a whole burst
//! back to back; this schedule sends at most [`BACK_TO_BACK`] packets, then
//! waits [`PACING_PAUSE`]: 2,000 addresses × 5 rounds at once overflowed a
//! veth's backlog (1,000 packets) and lost announcements, as a NIC's
//! transmit ring would. And keepalived checks the refresh timer only when it sends an
//! advertisement (hence "minimum time interval" in its manual), so its
//! refresh fires up to one advertisement interval late; this schedule fires
//! on time.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// With no [`AnnouncementPolicy::packet_interval`], at most this many
/// packets are due back to back; the next ones wait [`PACING_PAUSE`].
pub const BACK_TO_BACK: u32 = 256;

/// The pause after [`BACK_TO_BACK`] packets sent back to back: 256
/// packets a millisecond, far above a busy segment's ARP rate and within
/// what a transmit queue holds.
pub const PACING_PAUSE: Duration = Duration::from_millis(1);

/// How many announcements to send, and when (keepalived's `garp_*` knobs).
///
/// A zero [`Duration`] means "off", as 0 does in keepalived.
///
/// Start from [`AnnouncementPolicy::default`] and the `with_*` methods:
///
/// ```
/// use std::time::Duration;
/// use vrrp_arp::AnnouncementPolicy;
///
/// let policy = AnnouncementPolicy::default()
///     .with_repeat(3)
///     .with_refresh(Duration::from_secs(60), 1);
/// assert_eq!(policy.second_burst_delay, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnnouncementPolicy {
    /// Rounds in the burst on becoming Active, and in the second burst
    /// (`garp_master_repeat`, default 5). Each round announces every address once.
    pub repeat: u32,
    /// Time from becoming Active to the second burst (`garp_master_delay`,
    /// default 5 s). Zero: no second burst.
    pub second_burst_delay: Duration,
    /// Period of the refresh bursts while Active (`garp_master_refresh`,
    /// default zero: no refresh). The first comes one period after becoming Active.
    pub refresh_interval: Duration,
    /// Rounds in each refresh burst (`garp_master_refresh_repeat`, default 1).
    pub refresh_repeat: u32,
    /// Minimum gap between two packets on the interface (`vrrp_garp_interval`
    /// for ARP, `vrrp_gna_interval` for NA; default zero: back to back).
    pub packet_interval: Duration,
}

impl Default for AnnouncementPolicy {
    /// keepalived 2.2's defaults.
    fn default() -> Self {
        AnnouncementPolicy {
            repeat: 5,
            second_burst_delay: Duration::from_secs(5),
            refresh_interval: Duration::ZERO,
            refresh_repeat: 1,
            packet_interval: Duration::ZERO,
        }
    }
}

impl AnnouncementPolicy {
    /// With `repeat` rounds per burst (`garp_master_repeat`).
    #[must_use]
    pub fn with_repeat(mut self, repeat: u32) -> Self {
        self.repeat = repeat;
        self
    }

    /// With the second burst `delay` after becoming Active
    /// (`garp_master_delay`); zero for none.
    #[must_use]
    pub fn with_second_burst_delay(mut self, delay: Duration) -> Self {
        self.second_burst_delay = delay;
        self
    }

    /// With a refresh burst of `repeat` rounds every `interval` while Active
    /// (`garp_master_refresh`, `garp_master_refresh_repeat`); a zero
    /// interval for none.
    #[must_use]
    pub fn with_refresh(mut self, interval: Duration, repeat: u32) -> Self {
        self.refresh_interval = interval;
        self.refresh_repeat = repeat;
        self
    }

    /// With at least `interval` between two packets on one interface
    /// (`vrrp_garp_interval`, `vrrp_gna_interval`).
    #[must_use]
    pub fn with_packet_interval(mut self, interval: Duration) -> Self {
        self.packet_interval = interval;
        self
    }
}

/// Which burst a packet belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BurstKind {
    /// Sent on [`AnnouncementSchedule::start`].
    Initial,
    /// Sent [`AnnouncementPolicy::second_burst_delay`] after the start.
    Second,
    /// Sent every [`AnnouncementPolicy::refresh_interval`] while active.
    Refresh,
}

/// One packet to send now: a gratuitous ARP (IPv4) or an unsolicited NA (IPv6) for `addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DueAnnouncement {
    /// The address to announce.
    pub addr: IpAddr,
    /// The burst it belongs to.
    pub burst: BurstKind,
}

/// The announcement timeline of one interface's addresses, with no I/O.
///
/// Drive it like quinn-proto or str0m: after any input, drain
/// [`poll_due`](Self::poll_due) until it returns `None`, then sleep until
/// [`poll_timeout`](Self::poll_timeout). Polling early or twice is harmless.
///
/// ```
/// use std::time::{Duration, Instant};
/// use vrrp_arp::{AnnouncementPolicy, AnnouncementSchedule};
///
/// let mut schedule = AnnouncementSchedule::new(AnnouncementPolicy::default());
/// let t0 = Instant::now();
/// schedule.start(t0, ["198.18.0.5".parse().unwrap()]);
/// let mut sent = 0;
/// while let Some(due) = schedule.poll_due(t0) {
///     // build and send a frame for due.addr
///     sent += 1;
/// }
/// assert_eq!(sent, 5);
/// assert_eq!(schedule.poll_timeout(), Some(t0 + Duration::from_secs(5)));
/// ```
///
/// The addresses of one schedule should share an address family, since the
/// spacing knob differs (`garp_interval` / `gna_interval`); a VRRP instance
/// is single-family anyway.
#[derive(Debug, Clone)]
pub struct AnnouncementSchedule {
    policy: AnnouncementPolicy,
    addrs: Vec<IpAddr>,
    active: Option<Active>,
}

#[derive(Debug, Clone)]
struct Active {
    /// The bursts due, in order: one, or more when [`extend`] added
    /// addresses during an initial burst.
    ///
    /// [`extend`]: AnnouncementSchedule::extend
    bursts: VecDeque<Burst>,
    second_burst_at: Option<Instant>,
    next_refresh_at: Option<Instant>,
    /// No packet before this instant (`packet_interval` after the last one).
    next_packet_at: Instant,
    /// Packets sent back to back since the last pause (no `packet_interval`).
    back_to_back: u32,
}

#[derive(Debug, Clone)]
struct Burst {
    kind: BurstKind,
    remaining: u64,
    /// The burst's addresses: `addrs[first..first + count]`.
    first: usize,
    count: usize,
    /// The next one, from `first`.
    next: usize,
}

impl AnnouncementSchedule {
    /// An idle schedule.
    pub fn new(policy: AnnouncementPolicy) -> Self {
        AnnouncementSchedule {
            policy,
            addrs: Vec::new(),
            active: None,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &AnnouncementPolicy {
        &self.policy
    }

    /// The addresses being announced.
    pub fn addrs(&self) -> &[IpAddr] {
        &self.addrs
    }

    /// Whether [`start`](Self::start) was called and [`stop`](Self::stop) was not.
    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    /// Begins announcing `addrs` (on becoming Active): the initial burst is
    /// due at `now`, the second and refresh bursts follow per the policy.
    ///
    /// Calling it again restarts the timeline, e.g. to re-announce after a
    /// lower-priority advertisement (keepalived's `garp_lower_prio_*`) or a
    /// reload; the packet spacing still counts from the last packet sent.
    pub fn start(&mut self, now: Instant, addrs: impl IntoIterator<Item = IpAddr>) {
        self.addrs = addrs.into_iter().collect();
        let next_packet_at = self
            .active
            .as_ref()
            .map_or(now, |a| a.next_packet_at.max(now));
        let policy = self.policy;
        let n = self.addrs.len();
        // A burst with no packets is never scheduled, so every timeout this
        // schedule reports has a packet behind it.
        let later = |delay: Duration, rounds: u32| {
            (!delay.is_zero() && rounds > 0 && n > 0).then(|| now + delay)
        };
        self.active = Some(Active {
            bursts: (policy.repeat > 0 && n > 0)
                .then(|| Burst::new(BurstKind::Initial, policy.repeat, 0, n))
                .into_iter()
                .collect(),
            second_burst_at: later(policy.second_burst_delay, policy.repeat),
            next_refresh_at: later(policy.refresh_interval, policy.refresh_repeat),
            next_packet_at,
            back_to_back: 0,
        });
    }

    /// Adds `more` addresses while announcing (they became ready after
    /// [`start`](Self::start), as a large batch of VIPs is installed part
    /// by part): each gets its own initial burst of
    /// [`AnnouncementPolicy::repeat`] rounds, due after the bursts already
    /// queued and with the same packet spacing, and is in every later
    /// second and refresh burst. On an idle schedule it is
    /// [`start`](Self::start).
    pub fn extend(&mut self, now: Instant, more: impl IntoIterator<Item = IpAddr>) {
        let Some(active) = self.active.as_mut() else {
            self.start(now, more);
            return;
        };
        let first = self.addrs.len();
        self.addrs.extend(more);
        let count = self.addrs.len() - first;
        if self.policy.repeat > 0 && count > 0 {
            active.bursts.push_back(Burst::new(
                BurstKind::Initial,
                self.policy.repeat,
                first,
                count,
            ));
        }
    }

    /// Stops announcing (on leaving Active). Nothing is due afterwards.
    pub fn stop(&mut self) {
        self.active = None;
    }

    /// When [`poll_due`](Self::poll_due) next has something, or `None` when
    /// nothing more is scheduled.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let active = self.active.as_ref()?;
        let at = match active.bursts.front() {
            Some(_) => active.next_packet_at,
            None => {
                let pending = [active.second_burst_at, active.next_refresh_at];
                pending.into_iter().flatten().min()?
            }
        };
        Some(at.max(active.next_packet_at))
    }

    /// The next packet due at `now`, if any. Call until it returns `None`.
    pub fn poll_due(&mut self, now: Instant) -> Option<DueAnnouncement> {
        let policy = self.policy;
        let active = self.active.as_mut()?;
        if active.bursts.is_empty() {
            // Idle: begin the earliest pending burst once it is due.
            let (kind, at) = match (active.second_burst_at, active.next_refresh_at) {
                (Some(second), Some(refresh)) if refresh < second => (BurstKind::Refresh, refresh),
                (Some(second), _) => (BurstKind::Second, second),
                (None, Some(refresh)) => (BurstKind::Refresh, refresh),
                (None, None) => return None,
            };
            if now < at {
                return None;
            }
            let rounds = if kind == BurstKind::Second {
                active.second_burst_at = None;
                policy.repeat
            } else {
                // Drift-free, but never into the past after a late poll:
                // refresh bursts must not pile up.
                let next = at + policy.refresh_interval;
                active.next_refresh_at = Some(next.max(now + policy.refresh_interval));
                policy.refresh_repeat
            };
            if rounds > 0 && !self.addrs.is_empty() {
                let all = Burst::new(kind, rounds, 0, self.addrs.len());
                active.bursts.push_back(all);
            }
        }
        let burst = active.bursts.front_mut()?;
        if now < active.next_packet_at {
            return None;
        }
        let due = DueAnnouncement {
            addr: *self.addrs.get(burst.first + burst.next)?,
            burst: burst.kind,
        };
        burst.next = (burst.next + 1) % burst.count;
        burst.remaining -= 1;
        if burst.remaining == 0 {
            active.bursts.pop_front();
        }
        active.next_packet_at = now + policy.packet_interval;
        if policy.packet_interval.is_zero() {
            active.back_to_back += 1;
            if active.back_to_back >= BACK_TO_BACK {
                active.back_to_back = 0;
                active.next_packet_at = now + PACING_PAUSE;
            }
        }
        Some(due)
    }
}

impl Burst {
    /// `rounds` over `addrs[first..first + count]` (`count` > 0).
    fn new(kind: BurstKind, rounds: u32, first: usize, count: usize) -> Burst {
        Burst {
            kind,
            remaining: u64::from(rounds).saturating_mul(count as u64),
            first,
            count,
            next: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);
    const MS: Duration = Duration::from_millis(1);

    fn v4(last: u8) -> IpAddr {
        IpAddr::from([198, 18, 0, last])
    }

    fn drain(s: &mut AnnouncementSchedule, now: Instant) -> Vec<DueAnnouncement> {
        std::iter::from_fn(|| s.poll_due(now)).collect()
    }

    /// Runs the schedule like a driver would, until `end`, and returns every
    /// packet with its send time.
    fn run(s: &mut AnnouncementSchedule, end: Instant) -> Vec<(Instant, DueAnnouncement)> {
        let mut sent = Vec::new();
        while let Some(at) = s.poll_timeout().filter(|&at| at <= end) {
            let due = drain(s, at);
            assert!(!due.is_empty(), "poll_timeout {at:?} promised a packet");
            sent.extend(due.into_iter().map(|d| (at, d)));
        }
        sent
    }

    #[test]
    fn keepalived_defaults_send_two_bursts_of_five_five_seconds_apart() {
        let t0 = Instant::now();
        let mut s = AnnouncementSchedule::new(AnnouncementPolicy::default());
        assert_eq!(s.poll_timeout(), None);
        s.start(t0, [v4(100)]);
        assert_eq!(s.poll_timeout(), Some(t0));
        let first = drain(&mut s, t0);
        assert_eq!(first.len(), 5);
        assert!(
            first
                .iter()
                .all(|d| d.addr == v4(100) && d.burst == BurstKind::Initial)
        );
        assert_eq!(s.poll_timeout(), Some(t0 + 5 * SECOND));
        assert_eq!(s.poll_due(t0 + 4 * SECOND), None, "early poll is harmless");
        let second = drain(&mut s, t0 + 5 * SECOND);
        assert_eq!(second.len(), 5);
        assert!(second.iter().all(|d| d.burst == BurstKind::Second));
        assert_eq!(s.poll_timeout(), None, "no refresh by default");
        assert!(s.is_active());
    }

    #[test]
    fn extend_gives_late_addresses_their_own_initial_burst_and_a_place_in_the_later_ones() {
        let t0 = Instant::now();
        let mut s = AnnouncementSchedule::new(AnnouncementPolicy::default());
        s.start(t0, [v4(1), v4(2), v4(3)]);
        let early: Vec<_> = (0..4).filter_map(|_| s.poll_due(t0)).collect();
        assert_eq!(early.len(), 4);
        // Two more become ready while the first burst runs.
        s.extend(t0 + MS, [v4(4), v4(5)]);
        let sent = run(&mut s, t0 + 10 * SECOND);
        let initial: Vec<_> = early
            .iter()
            .chain(sent.iter().map(|(_, d)| d))
            .filter(|d| d.burst == BurstKind::Initial)
            .map(|d| d.addr)
            .collect();
        for a in 1..=5 {
            let n = initial.iter().filter(|&&x| x == v4(a)).count();
            assert_eq!(n, 5, "{} announced {n} times in the initial bursts", v4(a));
        }
        // The first three's burst finishes before the late ones' starts.
        let last_of_first = initial.iter().rposition(|&x| x == v4(3)).unwrap();
        let first_of_late = initial.iter().position(|&x| x == v4(4)).unwrap();
        assert!(last_of_first < first_of_late, "{initial:?}");
        let second: Vec<_> = sent
            .iter()
            .filter(|(_, d)| d.burst == BurstKind::Second)
            .collect();
        assert_eq!(second.len(), 25, "the second burst covers all five");
        assert!(second.iter().all(|(at, _)| *at == t0 + 5 * SECOND));
        // Idle, extend is start.
        let mut idle = AnnouncementSchedule::new(AnnouncementPolicy::default());
        idle.extend(t0, [v4(9)]);
        assert_eq!(drain(&mut idle, t0).len(), 5);
    }

    #[test]
    fn extend_keeps_the_pacing_of_back_to_back_packets() {
        let t0 = Instant::now();
        let mut s = AnnouncementSchedule::new(AnnouncementPolicy::default());
        let addrs: Vec<_> = (0..100u32)
            .map(|i| IpAddr::from([198, 18, 1 + (i / 250) as u8, (i % 250) as u8]))
            .collect();
        s.start(t0, addrs[..40].to_vec());
        s.extend(t0, addrs[40..].to_vec());
        // 500 packets: at most BACK_TO_BACK at once, whichever burst they are in.
        assert_eq!(drain(&mut s, t0).len(), BACK_TO_BACK as usize);
        assert_eq!(s.poll_timeout(), Some(t0 + PACING_PAUSE));
    }

    #[test]
    fn rounds_cycle_through_the_addresses_with_packet_spacing() {
        let t0 = Instant::now();
        let policy = AnnouncementPolicy {
            repeat: 3,
            second_burst_delay: Duration::ZERO,
            packet_interval: 100 * MS,
            ..AnnouncementPolicy::default()
        };
        let mut s = AnnouncementSchedule::new(policy);
        s.start(t0, [v4(1), v4(2)]);
        let sent = run(&mut s, t0 + 10 * SECOND);
        let times: Vec<_> = sent.iter().map(|(at, _)| *at - t0).collect();
        let addrs: Vec<_> = sent.iter().map(|(_, d)| d.addr).collect();
        assert_eq!(times, (0..6).map(|i| i * 100 * MS).collect::<Vec<_>>());
        assert_eq!(addrs, [v4(1), v4(2), v4(1), v4(2), v4(1), v4(2)]);
    }

    #[test]
    fn refresh_repeats_every_period_while_active_and_stop_ends_it() {
        let t0 = Instant::now();
        let policy = AnnouncementPolicy {
            repeat: 1,
            second_burst_delay: Duration::ZERO,
            refresh_interval: 60 * SECOND,
            refresh_repeat: 2,
            ..AnnouncementPolicy::default()
        };
        let mut s = AnnouncementSchedule::new(policy);
        s.start(t0, [v4(1)]);
        let sent = run(&mut s, t0 + 150 * SECOND);
        let summary: Vec<_> = sent.iter().map(|(at, d)| (*at - t0, d.burst)).collect();
        assert_eq!(
            summary,
            [
                (Duration::ZERO, BurstKind::Initial),
                (60 * SECOND, BurstKind::Refresh),
                (60 * SECOND, BurstKind::Refresh),
                (120 * SECOND, BurstKind::Refresh),
                (120 * SECOND, BurstKind::Refresh),
            ]
        );
        assert_eq!(s.poll_timeout(), Some(t0 + 180 * SECOND));
        s.stop();
        assert_eq!(s.poll_timeout(), None);
        assert_eq!(s.poll_due(t0 + 1000 * SECOND), None);
        assert!(!s.is_active());
    }

    #[test]
    fn a_late_driver_gets_one_burst_not_a_backlog() {
        let t0 = Instant::now();
        let policy = AnnouncementPolicy {
            repeat: 1,
            refresh_interval: 10 * SECOND,
            ..AnnouncementPolicy::default()
        };
        let mut s = AnnouncementSchedule::new(policy);
        s.start(t0, [v4(1)]);
        // Asleep for 95 s: the initial, second and one refresh burst are due.
        let late = t0 + 95 * SECOND;
        let bursts: Vec<_> = drain(&mut s, late).iter().map(|d| d.burst).collect();
        assert_eq!(
            bursts,
            [BurstKind::Initial, BurstKind::Second, BurstKind::Refresh]
        );
        assert_eq!(s.poll_timeout(), Some(late + 10 * SECOND));
    }

    #[test]
    fn second_burst_waits_for_a_slow_first_burst() {
        let t0 = Instant::now();
        let policy = AnnouncementPolicy {
            repeat: 4,
            second_burst_delay: 2 * SECOND,
            packet_interval: SECOND,
            ..AnnouncementPolicy::default()
        };
        let mut s = AnnouncementSchedule::new(policy);
        s.start(t0, [v4(1)]);
        let sent = run(&mut s, t0 + 60 * SECOND);
        let summary: Vec<_> = sent.iter().map(|(at, d)| (*at - t0, d.burst)).collect();
        let mut expected: Vec<_> = (0..4).map(|i| (i * SECOND, BurstKind::Initial)).collect();
        expected.extend((4..8).map(|i| (i * SECOND, BurstKind::Second)));
        assert_eq!(summary, expected);
    }

    #[test]
    fn restart_keeps_packet_spacing_and_replaces_the_addresses() {
        let t0 = Instant::now();
        let policy = AnnouncementPolicy {
            repeat: 1,
            packet_interval: SECOND,
            ..AnnouncementPolicy::default()
        };
        let mut s = AnnouncementSchedule::new(policy);
        s.start(t0, [v4(1)]);
        assert_eq!(drain(&mut s, t0).len(), 1);
        s.start(t0 + 100 * MS, [v4(2)]);
        assert_eq!(s.addrs(), [v4(2)]);
        assert_eq!(s.poll_due(t0 + 100 * MS), None);
        assert_eq!(s.poll_timeout(), Some(t0 + SECOND));
        assert_eq!(s.poll_due(t0 + SECOND).map(|d| d.addr), Some(v4(2)));
    }

    #[test]
    fn zero_repeat_or_no_addresses_sends_nothing() {
        let t0 = Instant::now();
        let policy = AnnouncementPolicy {
            repeat: 0,
            ..AnnouncementPolicy::default()
        };
        let mut s = AnnouncementSchedule::new(policy);
        s.start(t0, [v4(1)]);
        assert!(run(&mut s, t0 + 60 * SECOND).is_empty());
        let mut s = AnnouncementSchedule::new(AnnouncementPolicy::default());
        s.start(t0, []);
        assert!(run(&mut s, t0 + 60 * SECOND).is_empty());
        assert_eq!(s.poll_timeout(), None);
    }

    proptest::proptest! {
        #[test]
        fn spacing_and_counts_hold_for_any_policy(
            repeat in 0u32..6,
            delay_ms in 0u32..3000,
            refresh_ms in proptest::prop_oneof![proptest::strategy::Just(0u32), 500u32..5000],
            refresh_repeat in 0u32..4,
            interval_ms in 0u32..400,
            addr_count in 0u8..4,
        ) {
            let policy = AnnouncementPolicy {
                repeat,
                second_burst_delay: delay_ms * MS,
                refresh_interval: refresh_ms * MS,
                refresh_repeat,
                packet_interval: interval_ms * MS,
            };
            let t0 = Instant::now();
            let horizon = t0 + 20 * SECOND;
            let mut s = AnnouncementSchedule::new(policy);
            s.start(t0, (1..=addr_count).map(v4));
            let sent = run(&mut s, horizon);
            for pair in sent.windows(2) {
                proptest::prop_assert!(pair[1].0 - pair[0].0 >= policy.packet_interval);
            }
            let count = |kind| sent.iter().filter(|(_, d)| d.burst == kind).count();
            let n = usize::from(addr_count);
            proptest::prop_assert_eq!(count(BurstKind::Initial), repeat as usize * n);
            let second = if delay_ms == 0 { 0 } else { repeat as usize * n };
            proptest::prop_assert_eq!(count(BurstKind::Second), second);
            if refresh_ms == 0 || refresh_repeat == 0 || n == 0 {
                proptest::prop_assert_eq!(count(BurstKind::Refresh), 0);
            } else {
                // The last refresh burst may straddle the horizon.
                proptest::prop_assert!(count(BurstKind::Refresh) >= refresh_repeat as usize * n);
            }
        }
    }

    /// A burst of 2,000 addresses × 5 rounds goes out in slices of
    /// BACK_TO_BACK a PACING_PAUSE apart, each address exactly 5 times,
    /// instead of 10,000 packets at once (which a veth dropped).
    #[test]
    fn large_bursts_are_paced() {
        let t0 = Instant::now();
        let mut s = AnnouncementSchedule::new(AnnouncementPolicy::default());
        let addrs: Vec<IpAddr> = (0..2000u32)
            .map(|i| IpAddr::from([198, 18, 2 + (i / 250) as u8, 1 + (i % 250) as u8]))
            .collect();
        s.start(t0, addrs.clone());
        assert_eq!(drain(&mut s, t0).len(), BACK_TO_BACK as usize);
        assert_eq!(s.poll_timeout(), Some(t0 + PACING_PAUSE));
        let sent = run(&mut s, t0 + SECOND);
        assert_eq!(sent.len() + BACK_TO_BACK as usize, 10_000);
        let last = sent.last().map(|(at, _)| *at).unwrap();
        assert_eq!(last, t0 + PACING_PAUSE * (10_000 / BACK_TO_BACK));
        let mut counts = std::collections::HashMap::new();
        for (_, d) in &sent {
            *counts.entry(d.addr).or_insert(0) += 1;
        }
        for a in &addrs[..BACK_TO_BACK as usize] {
            *counts.entry(*a).or_insert(0) += 1;
        }
        assert!(addrs.iter().all(|a| counts[a] == 5));
    }
}
