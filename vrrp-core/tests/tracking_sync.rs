//! Tracking weights (keepalived semantics) and sync groups.

#[path = "support/router.rs"]
mod support;

use std::time::Instant;

use support::*;
use vrrp_core::router::{Output, State, VirtualRouter};
use vrrp_core::{Priority, SyncGroup, Tracking, Weight};

#[test]
fn tracking_positive_weight_adds_while_up() {
    let mut t = Tracking::new(Priority::new(100));
    let a = t.add(Weight::Adjust(20), true);
    assert_eq!(t.effective_priority(), Priority::new(120));
    assert!(t.set(a, false));
    assert!(!t.set(a, false), "no change");
    assert_eq!(t.effective_priority(), Priority::new(100));
}

#[test]
fn tracking_negative_weight_subtracts_while_down() {
    let mut t = Tracking::new(Priority::new(100));
    let a = t.add(Weight::Adjust(-30), true);
    let b = t.add(Weight::Adjust(-30), true);
    assert_eq!(t.effective_priority(), Priority::new(100));
    t.set(a, false);
    assert_eq!(t.effective_priority(), Priority::new(70));
    t.set(b, false);
    assert_eq!(t.effective_priority(), Priority::new(40));
    assert!(!t.is_faulted());
}

#[test]
fn tracking_reports_each_trackers_adjustment() {
    let mut t = Tracking::new(Priority::new(100));
    let plus = t.add(Weight::Adjust(20), true);
    let minus = t.add(Weight::Adjust(-30), true);
    let fault = t.add(Weight::Fault, true);
    let file = t.add_value(-10, 3);
    assert_eq!(t.adjustment(plus), Some(20));
    assert_eq!(t.adjustment(minus), Some(0));
    assert_eq!(t.adjustment(fault), Some(0));
    assert_eq!(t.adjustment(file), Some(-30));
    t.set(plus, false);
    t.set(minus, false);
    t.set(fault, false);
    assert_eq!(t.adjustment(plus), Some(0));
    assert_eq!(t.adjustment(minus), Some(-30));
    assert_eq!(t.adjustment(fault), None, "a weight-0 tracker down faults");
    t.set_value(file, 30);
    assert_eq!(t.adjustment(file), None, "below -253 faults");
}

#[test]
fn tracking_clamps_to_1_and_254() {
    let mut t = Tracking::new(Priority::new(250));
    t.add(Weight::Adjust(100), true);
    assert_eq!(t.effective_priority(), Priority::new(254));
    let mut t = Tracking::new(Priority::new(10));
    t.add(Weight::Adjust(-100), false);
    assert_eq!(t.effective_priority(), Priority::new(1));
}

#[test]
fn tracking_weight_zero_down_is_a_fault() {
    let mut t = Tracking::new(Priority::new(100));
    let a = t.add(Weight::from_keepalived(0), true);
    assert!(!t.is_faulted());
    t.set(a, false);
    assert!(t.is_faulted());
    assert!(!t.is_up(a));
}

#[test]
fn tracking_owner_keeps_255_but_faults() {
    let mut t = Tracking::new(Priority::OWNER);
    let w = t.add(Weight::Adjust(-50), false);
    let f = t.add(Weight::Fault, true);
    assert_eq!(t.effective_priority(), Priority::OWNER);
    t.set(f, false);
    assert!(t.is_faulted());
    let _ = w;
}

#[test]
fn tracking_file_value_follows_keepalived() {
    let mut t = Tracking::new(Priority::new(100));
    let f = t.add_value(-10, 0);
    assert_eq!(t.effective_priority(), Priority::new(100));
    t.set_value(f, 3);
    assert_eq!(t.effective_priority(), Priority::new(70));
    t.set_value(f, 26);
    assert!(t.is_faulted(), "-260 is below -253");
    let mut t = Tracking::new(Priority::new(100));
    let z = t.add_value(0, 0);
    assert!(!t.is_faulted());
    t.set_value(z, 1);
    assert!(t.is_faulted(), "weight 0: any non-zero value");
}

#[test]
fn tracking_apply_moves_the_router() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let mut t = Tracking::new(Priority::new(100));
    let chk = t.add(Weight::Adjust(-60), true);
    let link = t.add(Weight::Fault, true);
    t.set(chk, false);
    t.apply(t0, &mut r);
    assert_eq!(r.priority(), Priority::new(40));
    t.set(link, false);
    t.apply(t0, &mut r);
    assert_eq!(r.state(), State::Fault);
    t.set(link, true);
    t.apply(t0, &mut r);
    assert_eq!(r.state(), State::Backup);
}

fn pair(t0: Instant) -> Vec<VirtualRouter> {
    let mut a = v3_config(100);
    a.vrid = vrrp_core::Vrid::new(1).unwrap();
    let mut b = v3_config(100);
    b.vrid = vrrp_core::Vrid::new(2).unwrap();
    vec![started(a, t0), started(b, t0)]
}

fn drain_all(routers: &mut [VirtualRouter]) -> Vec<(usize, Output)> {
    let mut out = Vec::new();
    for (i, r) in routers.iter_mut().enumerate() {
        out.extend(drain(r).into_iter().map(|o| (i, o)));
    }
    out
}

#[test]
fn sync_group_one_member_going_active_pulls_the_others() {
    let t0 = Instant::now();
    let mut routers = pair(t0);
    let mut group = SyncGroup::new(vec![0, 1]);
    group.sync(t0, &mut routers);
    // Member 0 times out first.
    let down = t0 + routers[0].master_down_interval();
    routers[0].handle_timeout(down);
    group.sync(down, &mut routers);
    assert_eq!(routers[0].state(), State::Active);
    assert_eq!(routers[1].state(), State::Active);
    let outs = drain_all(&mut routers);
    assert!(outs.contains(&(1, Output::InstallAddresses)));
}

#[test]
fn sync_group_one_member_yielding_pushes_the_others_to_backup() {
    let t0 = Instant::now();
    let mut routers = pair(t0);
    let mut group = SyncGroup::new(vec![0, 1]);
    let down = t0 + routers[0].master_down_interval();
    for r in routers.iter_mut() {
        r.handle_timeout(down);
    }
    group.sync(down, &mut routers);
    drain_all(&mut routers);
    // A higher-priority peer for VRID 1 only.
    Peer {
        vrid: 1,
        ..Peer::v3(HIGHER_V4, 200)
    }
    .send(&mut routers[0], down)
    .unwrap();
    group.sync(down, &mut routers);
    assert_eq!(routers[0].state(), State::Backup);
    assert_eq!(routers[1].state(), State::Backup);
    let outs = drain_all(&mut routers);
    assert!(outs.contains(&(1, Output::RemoveAddresses)));
}

#[test]
fn sync_group_fault_of_one_member_holds_all_in_fault() {
    let t0 = Instant::now();
    let mut routers = pair(t0);
    let mut group = SyncGroup::new(vec![0, 1]);
    group.sync(t0, &mut routers);
    routers[0].set_link_up(t0, false);
    group.sync(t0, &mut routers);
    assert_eq!(routers[0].state(), State::Fault);
    assert_eq!(routers[1].state(), State::Fault);
    assert!(routers[1].sync_group_fault());
    routers[0].set_link_up(t0, true);
    group.sync(t0, &mut routers);
    assert_eq!(routers[0].state(), State::Backup);
    assert_eq!(routers[1].state(), State::Backup);
}
