//! Backup (RFC 9568 §6.4.2): waiting for Master_Down_Interval, what an
//! advertisement does to the timer, preemption and its delay.

use std::time::{Duration, Instant};

use crate::support::*;
use vrrp_core::router::{Output, Reason, State, VirtualRouter};

#[test]
fn backup_startup_waits_master_down_interval() {
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(v3_config(100)).unwrap();
    r.startup(t0);
    assert_eq!(
        drain(&mut r),
        vec![Output::StateChanged {
            from: State::Initialize,
            to: State::Backup,
            reason: Reason::Startup
        }]
    );
    assert_eq!(r.poll_timeout(), Some(t0 + r.master_down_interval()));
}

#[test]
fn backup_priority_zero_sets_master_down_to_skew_time() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    Peer::v3(HIGHER_V4, 200).send(&mut r, t0).unwrap();
    let t1 = t0 + ms(500);
    Peer::v3(HIGHER_V4, 0).send(&mut r, t1).unwrap();
    assert_eq!(r.poll_timeout(), Some(t1 + r.skew_time()));
    assert_eq!(r.master_down_deadline(), Some(t1 + r.skew_time()));
    assert_eq!(r.stats().priority_zero_pkts_rcvd, 1);
    r.handle_timeout(t1 + r.skew_time());
    assert_state(&r, State::Active);
    // An Active router has no takeover to wait for.
    assert_eq!(r.master_down_deadline(), None);
    assert!(r.poll_timeout().is_some());
}

#[test]
fn backup_higher_priority_resets_master_down() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let t1 = t0 + ms(3000);
    Peer::v3(HIGHER_V4, 200).send(&mut r, t1).unwrap();
    assert_eq!(r.poll_timeout(), Some(t1 + r.master_down_interval()));
}

#[test]
fn backup_equal_priority_resets_master_down() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let t1 = t0 + ms(3000);
    Peer::v3(LOWER_V4, 100).send(&mut r, t1).unwrap();
    assert_eq!(r.poll_timeout(), Some(t1 + r.master_down_interval()));
}

#[test]
fn backup_preempt_off_resets_master_down_on_lower_priority() {
    let t0 = Instant::now();
    let mut c = v3_config(100);
    c.preempt = false;
    let mut r = started(c, t0);
    let t1 = t0 + ms(3000);
    Peer::v3(HIGHER_V4, 50).send(&mut r, t1).unwrap();
    assert_eq!(r.poll_timeout(), Some(t1 + r.master_down_interval()));
}

#[test]
fn backup_preempt_on_lower_priority_is_ignored_so_master_down_fires() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let down = t0 + r.master_down_interval();
    Peer::v3(HIGHER_V4, 50).send(&mut r, t0 + ms(3000)).unwrap();
    assert_eq!(r.poll_timeout(), Some(down), "timer not reset");
    r.handle_timeout(down);
    assert_state(&r, State::Active);
}

#[test]
fn backup_master_down_expiry_becomes_active() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let down = t0 + r.master_down_interval();
    r.handle_timeout(down);
    let outs = drain(&mut r);
    assert!(matches!(outs[0], Output::SendAdvertisement(_)));
    assert_eq!(outs[1], Output::InstallAddresses);
    assert_eq!(outs[2], Output::Announce);
    assert_eq!(
        outs[3],
        Output::StateChanged {
            from: State::Backup,
            to: State::Active,
            reason: Reason::MasterDown
        }
    );
    assert_eq!(outs.len(), 4);
    assert_eq!(r.stats().master_transitions, 1);
}

#[test]
fn preempt_delay_holds_off_preemption() {
    let t0 = Instant::now();
    let mut c = v3_config(200);
    c.preempt_delay = Duration::from_secs(10);
    let mut r = started(c, t0);
    // A lower-priority Active keeps advertising: within the delay the Backup
    // accepts it; after the delay it is ignored and the Backup takes over.
    let mut t = t0;
    while t < t0 + Duration::from_secs(10) {
        Peer::v3(LOWER_V4, 100).send(&mut r, t).unwrap();
        r.handle_timeout(t);
        assert_state(&r, State::Backup);
        t += Duration::from_secs(1);
    }
    let mut took_over = None;
    while t < t0 + Duration::from_secs(20) {
        r.handle_timeout(t);
        if r.state() == State::Active {
            took_over = Some(t);
            break;
        }
        Peer::v3(LOWER_V4, 100).send(&mut r, t).unwrap();
        t += Duration::from_millis(100);
    }
    let took_over = took_over.expect("took over after the delay");
    assert!(
        took_over
            >= t0 + Duration::from_secs(10) + r.master_down_interval() - Duration::from_secs(1)
    );
}
