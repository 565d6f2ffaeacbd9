//! The effective priority: clamping of the reserved values, and a lowered
//! priority letting a preempting Backup take over.

use std::time::{Duration, Instant};

use crate::support::*;
use vrrp_core::Priority;
use vrrp_core::router::{Output, State};

#[test]
fn set_priority_clamps_the_reserved_values() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    r.set_priority(t0, Priority::SHUTDOWN);
    assert_eq!(r.priority(), Priority::new(1));
    r.set_priority(t0, Priority::OWNER);
    assert_eq!(r.priority(), Priority::new(254));
    r.set_priority(t0, Priority::new(180));
    assert_eq!(r.priority(), Priority::new(180));
    assert_eq!(r.skew_time(), Duration::from_secs(1) * 76 / 256);
}

#[test]
fn lowered_priority_lets_a_preempting_backup_take_over() {
    // Tracking lowers the Active below the Backup: the Backup ignores its
    // advertisements and takes over after Master_Down_Interval.
    let t0 = Instant::now();
    let mut backup = started(v3_config(150), t0);
    let mut a_cfg = v3_config(200);
    a_cfg.primary_address = HIGHER_V4.into();
    let mut a = started(a_cfg, t0);
    a.handle_timeout(t0 + a.master_down_interval());
    drain(&mut a);
    a.set_priority(t0, Priority::new(120));
    let mut t = t0;
    let deadline = t0 + ms(10_000);
    while backup.state() != State::Active && t < deadline {
        t += ms(100);
        a.handle_timeout(t);
        for o in drain(&mut a) {
            if let Output::SendAdvertisement(tx) = o {
                let rx = received(tx.src, tx.dst, 255, &tx.payload);
                let _ = backup.handle_advertisement(t, &rx);
            }
        }
        backup.handle_timeout(t);
    }
    assert_state(&backup, State::Active);
}
