//! Timers (RFC 9568 §6.1, RFC 3768 §6.1): Skew_Time, Master_Down_Interval,
//! and the Active's advertisement schedule.

use std::time::{Duration, Instant};

use crate::support::*;
use vrrp_core::Centiseconds;
use vrrp_core::router::{State, VirtualRouter};
use vrrp_core::wire::Auth;

#[test]
fn timers_master_down_interval_is_three_intervals_plus_skew() {
    let r = VirtualRouter::new(v3_config(100)).unwrap();
    // (256 − 100) × 1 s / 256 = 609.375 ms.
    assert_eq!(r.skew_time(), Duration::from_micros(609_375));
    assert_eq!(r.master_down_interval(), Duration::from_micros(3_609_375));
}

#[test]
fn timers_skew_time_v3_scales_with_the_interval_in_centiseconds() {
    let mut c = v3_config(200);
    c.advert_interval = Centiseconds::new(1);
    let r = VirtualRouter::new(c).unwrap();
    // (256 − 200) × 10 ms / 256 = 2.1875 ms: not truncated to 0 cs.
    assert_eq!(r.skew_time(), Duration::from_nanos(2_187_500));
    assert_eq!(r.master_down_interval(), Duration::from_nanos(32_187_500));
}

#[test]
fn timers_skew_time_v2_is_in_seconds() {
    let mut c = v2_config(254, Auth::None);
    c.advert_interval = Centiseconds::new(300);
    let r = VirtualRouter::new(c).unwrap();
    // v2: (256 − 254) / 256 s, whatever the interval.
    assert_eq!(
        r.skew_time(),
        Duration::from_micros(7_812) + Duration::from_nanos(500)
    );
    assert_eq!(
        r.master_down_interval(),
        Duration::from_secs(9) + r.skew_time()
    );
}

#[test]
fn timers_v3_backup_learns_master_adver_interval() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    Peer::v3(HIGHER_V4, 200)
        .interval(10)
        .send(&mut r, t0)
        .unwrap();
    assert_eq!(r.master_adver_interval(), Centiseconds::new(10));
    // Master_Down_Interval = 3 × 100 ms + (156 × 100 ms / 256).
    let down =
        Duration::from_millis(300) + Duration::from_micros(60_937) + Duration::from_nanos(500);
    assert_eq!(r.master_down_interval(), down);
    assert_eq!(r.poll_timeout(), Some(t0 + down));
}

#[test]
fn timers_handle_timeout_early_or_twice_is_safe() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    r.handle_timeout(t0 + ms(10));
    r.handle_timeout(t0 + ms(10));
    assert_state(&r, State::Backup);
    assert!(drain(&mut r).is_empty());
    let down = t0 + r.master_down_interval();
    r.handle_timeout(down);
    r.handle_timeout(down);
    assert_state(&r, State::Active);
    let outs = drain(&mut r);
    assert_eq!(transmits(&outs).len(), 1, "one advertisement, not two");
}

#[test]
fn timers_active_schedule_uses_absolute_deadlines() {
    // Late calls do not push the schedule: after 100 ticks each handled 3 ms
    // late, the next deadline is still t + 101 intervals.
    let t0 = Instant::now();
    let mut c = v3_config(255);
    c.advert_interval = Centiseconds::new(1);
    let mut r = started(c, t0);
    for _ in 0..100 {
        let due = r.poll_timeout().unwrap();
        r.handle_timeout(due + ms(3));
        assert_eq!(transmits(&drain(&mut r)).len(), 1);
    }
    assert_eq!(r.poll_timeout(), Some(t0 + ms(10) * 101));
}

#[test]
fn timers_active_after_a_stall_skips_missed_deadlines_and_keeps_the_grid() {
    // A stall of 2.5 intervals: one advert goes out late (not a burst of
    // three), and the next deadline is back on the t0 + k × 10 ms grid
    // rather than a full interval after the late send.
    let t0 = Instant::now();
    let mut c = v3_config(255);
    c.advert_interval = Centiseconds::new(1);
    let mut r = started(c, t0);
    assert_eq!(r.poll_timeout(), Some(t0 + ms(10)));
    r.handle_timeout(t0 + ms(35));
    assert_eq!(transmits(&drain(&mut r)).len(), 1, "no burst after a stall");
    assert_eq!(r.poll_timeout(), Some(t0 + ms(40)));
    // Over the next 100 deadlines, each on time, the count is exact.
    let mut sent = 0;
    for _ in 0..100 {
        let due = r.poll_timeout().unwrap();
        r.handle_timeout(due);
        sent += transmits(&drain(&mut r)).len();
    }
    assert_eq!(sent, 100);
    assert_eq!(r.poll_timeout(), Some(t0 + ms(10) * 104));
    // A stall of exactly one interval past a deadline lands on the grid.
    let due = r.poll_timeout().unwrap();
    r.handle_timeout(due + ms(10));
    drain(&mut r);
    assert_eq!(r.poll_timeout(), Some(due + ms(20)));
}

#[test]
fn timers_down_timer_adverts_replaces_the_three() {
    // keepalived's down_timer_adverts: N × Master_Adver_Interval + Skew.
    let t0 = Instant::now();
    let mut r = started(v3_config(100).with_down_timer_adverts(5), t0);
    assert_eq!(r.master_down_interval(), Duration::from_micros(5_609_375));
    assert_eq!(
        r.poll_timeout(),
        Some(t0 + Duration::from_micros(5_609_375))
    );
    r.handle_timeout(t0 + Duration::from_micros(5_609_375));
    assert_eq!(r.state(), State::Active);
    for bad in [0, 101] {
        assert!(VirtualRouter::new(v3_config(100).with_down_timer_adverts(bad)).is_err());
    }
}
