//! Fault: link down, failed trackers and addresses the driver could not
//! install, and the recovery to Backup or Active.

use std::time::Instant;

use crate::support::*;
use vrrp_core::Priority;
use vrrp_core::router::{Output, Reason, State, VirtualRouter};

#[test]
fn fault_link_down_releases_the_vips_without_an_advertisement() {
    let t0 = Instant::now();
    let mut r = started(v3_config(255), t0);
    r.set_link_up(t0, false);
    assert_eq!(
        drain(&mut r),
        vec![
            Output::RemoveAddresses,
            Output::StateChanged {
                from: State::Active,
                to: State::Fault,
                reason: Reason::LinkDown
            }
        ]
    );
    assert_eq!(r.poll_timeout(), None);
    r.set_link_up(t0 + ms(10), true);
    let outs = drain(&mut r);
    assert_eq!(outs[1], Output::InstallAddresses, "owner returns at once");
    assert_state(&r, State::Active);
}

#[test]
fn fault_from_a_tracker_releases_with_priority_zero_and_recovers_to_backup() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    r.handle_timeout(t0 + r.master_down_interval());
    drain(&mut r);
    r.set_fault(t0 + ms(4000), true);
    let outs = drain(&mut r);
    assert_eq!(transmits(&outs)[0].priority, Priority::SHUTDOWN);
    assert!(outs.contains(&Output::RemoveAddresses));
    assert_state(&r, State::Fault);
    let t1 = t0 + ms(5000);
    r.set_fault(t1, false);
    let outs = drain(&mut r);
    assert_eq!(
        outs,
        vec![Output::StateChanged {
            from: State::Fault,
            to: State::Backup,
            reason: Reason::Recovered
        }]
    );
    assert_eq!(r.poll_timeout(), Some(t1 + r.master_down_interval()));
}

#[test]
fn fault_address_failure_gives_up_the_vips_and_recovers_to_backup() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    r.handle_timeout(t0 + r.master_down_interval());
    assert_eq!(drain(&mut r)[1], Output::InstallAddresses);
    // The driver could not install them: the router must not claim them.
    let t1 = t0 + ms(4000);
    r.set_address_fault(t1, true);
    let outs = drain(&mut r);
    assert_eq!(transmits(&outs)[0].priority, Priority::SHUTDOWN);
    assert!(outs.contains(&Output::RemoveAddresses));
    assert!(outs.contains(&Output::StateChanged {
        from: State::Active,
        to: State::Fault,
        reason: Reason::AddressFailure
    }));
    assert!(r.has_own_fault());
    assert!(!r.holds_addresses());
    // An owner too stays in Fault while the failure holds.
    let mut owner = started(v3_config(255), t0);
    drain(&mut owner);
    owner.set_address_fault(t1, true);
    drain(&mut owner);
    assert_state(&owner, State::Fault);
    // The retry clears it: Backup, and the election runs again.
    let t2 = t1 + ms(1000);
    r.set_address_fault(t2, false);
    assert_eq!(
        drain(&mut r),
        vec![Output::StateChanged {
            from: State::Fault,
            to: State::Backup,
            reason: Reason::Recovered
        }]
    );
    assert_eq!(r.poll_timeout(), Some(t2 + r.master_down_interval()));
}

#[test]
fn fault_raised_before_startup_starts_in_fault() {
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(v3_config(255)).unwrap();
    r.set_link_up(t0, false);
    r.startup(t0);
    assert_eq!(
        drain(&mut r),
        vec![Output::StateChanged {
            from: State::Initialize,
            to: State::Fault,
            reason: Reason::LinkDown
        }]
    );
}
