//! Active (RFC 9568 §6.4.3): becoming Active, advertising, yielding to a
//! better router, and shutting down.

use std::net::IpAddr;
use std::time::Instant;

use crate::support::*;
use vrrp_core::Priority;
use vrrp_core::router::{Output, Reason, State, VirtualRouter};
use vrrp_core::wire::{MULTICAST_V4, MULTICAST_V6};

#[test]
fn owner_becomes_active_at_startup_without_waiting() {
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(v3_config(255)).unwrap();
    r.startup(t0);
    let outs = drain(&mut r);
    assert!(matches!(outs[0], Output::SendAdvertisement(_)));
    assert_eq!(outs[1], Output::InstallAddresses);
    assert_eq!(transmits(&outs)[0].priority, Priority::OWNER);
    assert_eq!(
        outs.last(),
        Some(&Output::StateChanged {
            from: State::Initialize,
            to: State::Active,
            reason: Reason::Owner
        })
    );
}

#[test]
fn active_sends_an_advertisement_every_interval_to_the_group() {
    let t0 = Instant::now();
    let mut r = started(v3_config(255), t0);
    let outs = run_until(&mut r, t0 + ms(10_000));
    let times: Vec<_> = outs
        .iter()
        .filter_map(|(t, o)| matches!(o, Output::SendAdvertisement(_)).then_some(*t))
        .collect();
    let expected: Vec<_> = (1..=10).map(|i| t0 + ms(1000) * i).collect();
    assert_eq!(times, expected);
    for (_, o) in &outs {
        if let Output::SendAdvertisement(t) = o {
            assert_eq!(t.dst, IpAddr::V4(MULTICAST_V4));
            assert_eq!(t.src, IpAddr::V4(LOCAL_V4));
            let rx = received(t.src, t.dst, 255, &t.payload);
            let v = rx.validate().unwrap();
            assert_eq!(v.packet.priority(), Priority::OWNER);
            assert_eq!(v.packet.vrid().get(), VRID);
        }
    }
}

#[test]
fn active_ipv6_advertises_to_ff02_12() {
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(v6_config(255)).unwrap();
    r.startup(t0);
    let outs = drain(&mut r);
    let t = transmits(&outs)[0];
    assert_eq!(t.dst, IpAddr::V6(MULTICAST_V6));
    assert!(received(t.src, t.dst, 255, &t.payload).validate().is_ok());
}

#[test]
fn active_priority_zero_sends_an_advertisement_at_once_and_resets_its_timer() {
    let t0 = Instant::now();
    let mut r = started(v3_config(255), t0);
    let t1 = t0 + ms(30);
    Peer::v3(LOWER_V4, 0).send(&mut r, t1).unwrap();
    assert_eq!(transmits(&drain(&mut r)).len(), 1);
    assert_eq!(r.poll_timeout(), Some(t1 + ms(1000)));
}

/// A flood of priority-0 adverts (Hardening #5): the first is answered at
/// once, the rest are coalesced to one answer per tenth of the interval,
/// each within that tenth, instead of one answer per packet.
#[test]
fn active_priority_zero_flood_is_answered_once_per_tenth_of_the_interval() {
    let t0 = Instant::now();
    let mut r = started(v3_config(255), t0);
    drain(&mut r);
    let mut sent = Vec::new();
    let mut now = t0 + ms(30);
    // 2,000 priority-0 adverts, one every 0.5 ms, for one second.
    for _ in 0..2000 {
        if let Some(due) = r.poll_timeout().filter(|due| *due <= now) {
            r.handle_timeout(due);
            sent.extend(transmits(&drain(&mut r)).iter().map(|_| due));
        }
        Peer::v3(LOWER_V4, 0).send(&mut r, now).unwrap();
        sent.extend(transmits(&drain(&mut r)).iter().map(|_| now));
        now += std::time::Duration::from_micros(500);
    }
    assert_eq!(sent[0], t0 + ms(30), "the first is answered at once");
    assert_eq!(r.stats().priority_zero_pkts_rcvd, 2000);
    assert!(
        (10..=11).contains(&sent.len()),
        "{} adverts for 2,000 priority-0 adverts in 1 s",
        sent.len()
    );
    for pair in sent.windows(2) {
        assert!(pair[1] - pair[0] >= ms(100), "{:?}", pair[1] - pair[0]);
        assert!(pair[1] - pair[0] <= ms(101), "{:?}", pair[1] - pair[0]);
    }
}

#[test]
fn active_higher_priority_becomes_backup_and_removes_the_vips() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    r.handle_timeout(t0 + r.master_down_interval());
    drain(&mut r);
    let t1 = t0 + ms(5000);
    Peer::v3(LOWER_V4, 150).send(&mut r, t1).unwrap();
    let outs = drain(&mut r);
    assert_eq!(
        outs,
        vec![
            Output::RemoveAddresses,
            Output::StateChanged {
                from: State::Active,
                to: State::Backup,
                reason: Reason::HigherPriority {
                    from: LOWER_V4.into(),
                    priority: Priority::new(150)
                }
            }
        ]
    );
    assert_eq!(r.poll_timeout(), Some(t1 + r.master_down_interval()));
}

#[test]
fn active_equal_priority_from_a_higher_ip_becomes_backup() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    r.handle_timeout(t0 + r.master_down_interval());
    drain(&mut r);
    Peer::v3(HIGHER_V4, 100)
        .send(&mut r, t0 + ms(5000))
        .unwrap();
    assert_state(&r, State::Backup);
}

#[test]
fn active_equal_priority_from_a_lower_ip_is_ignored() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    r.handle_timeout(t0 + r.master_down_interval());
    drain(&mut r);
    Peer::v3(LOWER_V4, 100).send(&mut r, t0 + ms(5000)).unwrap();
    assert_state(&r, State::Active);
    // Nothing is sent (RFC 9568 §6.4.3); the event is reported.
    assert_eq!(
        drain(&mut r),
        vec![Output::LowerPriorityHeard {
            from: LOWER_V4.into(),
            priority: Priority::new(100)
        }]
    );
}

#[test]
fn active_lower_priority_is_ignored() {
    let t0 = Instant::now();
    let mut r = started(v3_config(255), t0);
    Peer::v3(HIGHER_V4, 254).send(&mut r, t0).unwrap();
    assert_state(&r, State::Active);
}

#[test]
fn shutdown_active_sends_priority_zero_and_removes_the_vips() {
    let t0 = Instant::now();
    let mut r = started(v3_config(255), t0);
    r.shutdown(t0 + ms(50));
    let outs = drain(&mut r);
    assert_eq!(transmits(&outs)[0].priority, Priority::SHUTDOWN);
    assert!(matches!(outs[0], Output::SendAdvertisement(_)));
    assert_eq!(outs[1], Output::RemoveAddresses);
    assert_eq!(
        outs[2],
        Output::StateChanged {
            from: State::Active,
            to: State::Initialize,
            reason: Reason::Shutdown
        }
    );
    assert_eq!(r.poll_timeout(), None);
    assert_eq!(r.stats().priority_zero_pkts_sent, 1);
}

#[test]
fn shutdown_backup_sends_nothing() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    r.shutdown(t0);
    assert_eq!(
        drain(&mut r),
        vec![Output::StateChanged {
            from: State::Backup,
            to: State::Initialize,
            reason: Reason::Shutdown
        }]
    );
    assert_eq!(r.poll_timeout(), None);
}

/// A reload that edits only the addresses keeps the state: the next
/// advert carries the new list; a list of the wrong family changes nothing.
#[test]
fn set_addresses_keeps_the_state_and_changes_the_next_advert() {
    let t0 = Instant::now();
    let mut r = started(v3_config(255), t0);
    drain(&mut r);
    let new: IpAddr = "198.18.0.77".parse().unwrap();
    r.set_addresses(vec![new]).unwrap();
    assert!(drain(&mut r).is_empty(), "no output of its own");
    assert_state(&r, State::Active);
    r.handle_timeout(t0 + ms(1000));
    let outs = drain(&mut r);
    let t = transmits(&outs)[0];
    let rx = received(t.src, t.dst, 255, &t.payload);
    let got: Vec<IpAddr> = rx.validate().unwrap().packet.addresses().collect();
    assert_eq!(got, vec![new]);
    assert!(
        r.set_addresses(vec!["fd00:198:18::1".parse().unwrap()])
            .is_err()
    );
    assert_eq!(r.config().addresses, vec![new]);
}

#[test]
fn active_answers_a_lower_priority_at_once_when_asked_and_coalesces_a_flood() {
    // keepalived's default (lower_prio_no_advert off): the router that
    // took over during a partition hears us within a round trip.
    let t0 = Instant::now();
    let mut r = started(v3_config(255).with_answer_lower_priority(true), t0);
    drain(&mut r);
    let t1 = t0 + ms(30);
    Peer::v3(HIGHER_V4, 100).send(&mut r, t1).unwrap();
    let outs = drain(&mut r);
    let sent = transmits(&outs);
    assert_eq!(sent.len(), 1, "{outs:?}");
    assert_eq!(sent[0].priority, Priority::OWNER);
    assert_state(&r, State::Active);
    // Within a tenth of the interval, more are not answered one by one.
    let mut answers = 0;
    for k in 1..50u64 {
        Peer::v3(HIGHER_V4, 100).send(&mut r, t1 + ms(k)).unwrap();
        answers += transmits(&drain(&mut r)).len();
    }
    assert_eq!(answers, 0);
    // Off (the RFC's default), it is discarded without an answer.
    let mut quiet = started(v3_config(255), t0);
    drain(&mut quiet);
    Peer::v3(HIGHER_V4, 100).send(&mut quiet, t1).unwrap();
    assert!(transmits(&drain(&mut quiet)).is_empty());
}

#[test]
fn active_advertises_before_yielding_when_asked() {
    // keepalived's higher_prio_send_advert.
    let t0 = Instant::now();
    for on in [false, true] {
        let mut r = started(v3_config(100).with_advertise_before_yielding(on), t0);
        r.handle_timeout(t0 + r.master_down_interval());
        drain(&mut r);
        Peer::v3(LOWER_V4, 150).send(&mut r, t0 + ms(5000)).unwrap();
        let outs = drain(&mut r);
        let sent: Vec<_> = transmits(&outs).iter().map(|t| t.priority).collect();
        assert_eq!(sent, if on { vec![Priority::new(100)] } else { vec![] });
        assert_state(&r, State::Backup);
    }
}

#[test]
fn active_reports_lower_priority_adverts_once_per_tenth_of_the_interval() {
    // keepalived's garp_lower_prio_repeat and notify_master_rx_lower_pri
    // act on it: a flood must not turn into a flood of announcements.
    let t0 = Instant::now();
    let mut r = started(v3_config(255), t0);
    drain(&mut r);
    let mut heard = Vec::new();
    for k in 0..1000u64 {
        let at = t0 + std::time::Duration::from_micros(500 * k);
        Peer::v3(HIGHER_V4, 100).send(&mut r, at).unwrap();
        for o in drain(&mut r) {
            if matches!(o, Output::LowerPriorityHeard { .. }) {
                heard.push(at);
            }
        }
    }
    // 500 ms of adverts, one report per 100 ms.
    assert_eq!(heard.len(), 5, "{heard:?}");
}
