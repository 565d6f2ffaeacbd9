//! The election state machine against the conformance checklist of
//! RFC 9568 §6–7 and RFC 3768 §6–7: one test per item, named after it.

#[path = "support/router.rs"]
mod support;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use support::*;
use vrrp_core::router::{
    Config, ConfigError, Discard, InitialState, Output, Reason, State, VirtualRouter,
};
use vrrp_core::wire::{Auth, MULTICAST_V4, MULTICAST_V6, Password, Received, WireError};
use vrrp_core::{Centiseconds, Priority, Version};

fn password(s: &str) -> Auth {
    Auth::SimpleText(Password::new(s.as_bytes()).unwrap())
}

// ----------------------------------------------------------------------
// Receive validation (RFC 9568 §7.1, RFC 3768 §7.1)

#[test]
fn receive_validation_ttl_255_is_required() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let mut peer = Peer::v3(HIGHER_V4, 200);
    peer.ttl = 254;
    assert_eq!(
        peer.send(&mut r, t0),
        Err(Discard::Wire(WireError::BadTtl(254)))
    );
    assert_eq!(r.stats().ip_ttl_errors, 1);
    assert_eq!(r.stats().advertisement_rcvd, 0);
}

#[test]
fn receive_validation_version_must_match_the_instance() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let peer = Peer::v2(HIGHER_V4, 200, Auth::None);
    assert_eq!(
        peer.send(&mut r, t0),
        Err(Discard::VersionMismatch {
            received: Version::V2,
            local: Version::V3
        })
    );
    assert_eq!(r.stats().version_errors, 1);
}

#[test]
fn receive_validation_vrid_must_be_configured() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let mut peer = Peer::v3(HIGHER_V4, 200);
    peer.vrid = 52;
    assert!(matches!(
        peer.send(&mut r, t0),
        Err(Discard::VridMismatch { .. })
    ));
    assert_eq!(r.stats().vrid_errors, 1);
}

#[test]
fn receive_validation_checksum_failing_both_forms_is_discarded() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let peer = Peer::v3(HIGHER_V4, 200);
    let mut bytes = peer.bytes();
    bytes[6] ^= 0xff;
    let rx = received(peer.src, peer.dst(), 255, &bytes);
    assert!(matches!(
        r.handle_advertisement(t0, &rx),
        Err(Discard::Wire(WireError::BadChecksum { .. }))
    ));
    assert_eq!(r.stats().checksum_errors, 1);
}

#[test]
fn receive_validation_ipv4_options_are_honoured_end_to_end() {
    // A whole IPv4 packet with 4 bytes of options (IHL 6), as a raw socket
    // returns it, is accepted by the router.
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let peer = Peer::v3(HIGHER_V4, 200);
    let msg = peer.bytes();
    let total = 24 + msg.len();
    let mut ip = vec![
        0x46,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0,
        0,
        255,
        112,
        0,
        0,
    ];
    ip.extend_from_slice(&HIGHER_V4.octets());
    ip.extend_from_slice(&MULTICAST_V4.octets());
    ip.extend_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
    ip.extend_from_slice(&msg);
    let rx = Received::from_ipv4_packet(&ip).unwrap();
    assert_eq!(r.handle_advertisement(t0, &rx), Ok(()));
    assert_eq!(r.active_router(), Some(HIGHER_V4.into()));
}

#[test]
fn receive_validation_v2_auth_type_must_match() {
    let t0 = Instant::now();
    let mut r = started(v2_config(100, password("secret")), t0);
    let peer = Peer::v2(HIGHER_V4, 200, Auth::None).interval(100);
    assert_eq!(
        peer.send(&mut r, t0),
        Err(Discard::AuthTypeMismatch {
            received: 0,
            local: 1
        })
    );
    assert_eq!(r.stats().auth_type_mismatch, 1);
}

#[test]
fn receive_validation_v2_simple_text_password_must_match() {
    let t0 = Instant::now();
    let mut r = started(v2_config(100, password("secret")), t0);
    let wrong = Peer::v2(HIGHER_V4, 200, password("guess"));
    assert_eq!(wrong.send(&mut r, t0), Err(Discard::AuthFailure));
    assert_eq!(r.stats().auth_failures, 1);
    let right = Peer::v2(HIGHER_V4, 200, password("secret"));
    assert_eq!(right.send(&mut r, t0), Ok(()));
}

#[test]
fn receive_validation_v2_interval_must_match() {
    let t0 = Instant::now();
    let mut r = started(v2_config(100, Auth::None), t0);
    let peer = Peer::v2(HIGHER_V4, 200, Auth::None).interval(200);
    assert!(matches!(
        peer.send(&mut r, t0),
        Err(Discard::IntervalMismatch { .. })
    ));
    assert_eq!(r.stats().interval_errors, 1);
}

#[test]
fn receive_validation_v3_interval_is_not_checked_but_learned() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    Peer::v3(HIGHER_V4, 200)
        .interval(25)
        .send(&mut r, t0)
        .unwrap();
    assert_eq!(r.master_adver_interval(), Centiseconds::new(25));
}

#[test]
fn receive_validation_v3_address_list_mismatch_is_counted_but_processed() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let other: IpAddr = "198.18.0.101".parse().unwrap();
    let peer = Peer::v3(HIGHER_V4, 200).addresses(vec![other]);
    assert_eq!(peer.send(&mut r, t0), Ok(()));
    assert_eq!(r.stats().address_list_errors, 1);
    assert_eq!(r.active_router(), Some(HIGHER_V4.into()));
}

#[test]
fn receive_validation_v2_address_list_mismatch_is_dropped_unless_owner() {
    let t0 = Instant::now();
    let mut r = started(v2_config(100, Auth::None), t0);
    let other: IpAddr = "198.18.0.101".parse().unwrap();
    let peer = Peer::v2(HIGHER_V4, 200, Auth::None).addresses(vec![other]);
    assert_eq!(peer.send(&mut r, t0), Err(Discard::AddressListMismatch));
    let owner = Peer::v2(HIGHER_V4, 255, Auth::None).addresses(vec![other]);
    assert_eq!(owner.send(&mut r, t0), Ok(()));
    assert_eq!(r.stats().address_list_errors, 2);
}

#[test]
fn receive_validation_address_list_order_does_not_matter() {
    let t0 = Instant::now();
    let a: IpAddr = "198.18.0.100".parse().unwrap();
    let b: IpAddr = "198.18.0.101".parse().unwrap();
    let mut c = v2_config(100, Auth::None);
    c.addresses = vec![a, b];
    let mut r = started(c, t0);
    let peer = Peer::v2(HIGHER_V4, 200, Auth::None).addresses(vec![b, a]);
    assert_eq!(peer.send(&mut r, t0), Ok(()));
    assert_eq!(r.stats().address_list_errors, 0);
}

#[test]
fn receive_validation_ipv6_source_must_be_link_local() {
    let t0 = Instant::now();
    let mut r = started(v6_config(100), t0);
    let global: std::net::Ipv6Addr = "fd00:198:18::20".parse().unwrap();
    let peer = Peer::v3(global, 200);
    assert_eq!(
        peer.send(&mut r, t0),
        Err(Discard::NotLinkLocal(global.into()))
    );
}

#[test]
fn receive_validation_ipv6_link_local_first_address_is_optional() {
    // RFC 9568 puts the virtual link-local address first; FRR leaves it out.
    let t0 = Instant::now();
    let mut r = started(v6_config(100), t0);
    let ll: IpAddr = "fe80::200:5eff:fe00:233".parse().unwrap();
    let with = Peer::v3(PEER_V6, 200).addresses(vec![ll, VIP_V6.into()]);
    assert_eq!(with.send(&mut r, t0), Ok(()));
    let without = Peer::v3(PEER_V6, 200);
    assert_eq!(without.send(&mut r, t0), Ok(()));
    assert_eq!(r.stats().address_list_errors, 0);
}

#[test]
fn receive_validation_own_address_is_discarded() {
    let t0 = Instant::now();
    let mut r = started(v3_config(100), t0);
    let peer = Peer::v3(LOCAL_V4, 200);
    assert_eq!(
        peer.send(&mut r, t0),
        Err(Discard::OwnAddress(LOCAL_V4.into()))
    );
}

#[test]
fn receive_validation_nothing_is_heard_before_startup_or_in_fault() {
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(v3_config(100)).unwrap();
    assert_eq!(
        Peer::v3(HIGHER_V4, 200).send(&mut r, t0),
        Err(Discard::NotListening(State::Initialize))
    );
    r.startup(t0);
    r.set_link_up(t0, false);
    assert_eq!(
        Peer::v3(HIGHER_V4, 200).send(&mut r, t0),
        Err(Discard::NotListening(State::Fault))
    );
}

// ----------------------------------------------------------------------
// Timers (RFC 9568 §6.1, RFC 3768 §6.1)

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

// ----------------------------------------------------------------------
// Backup (RFC 9568 §6.4.2)

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
    assert_eq!(outs[0], Output::InstallAddresses);
    assert!(matches!(outs[1], Output::SendAdvertisement(_)));
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

// ----------------------------------------------------------------------
// Active (RFC 9568 §6.4.3)

#[test]
fn owner_becomes_active_at_startup_without_waiting() {
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(v3_config(255)).unwrap();
    r.startup(t0);
    let outs = drain(&mut r);
    assert_eq!(outs[0], Output::InstallAddresses);
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
    assert!(drain(&mut r).is_empty());
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

// ----------------------------------------------------------------------
// Configuration, modes and faults

#[test]
fn config_intervals_are_checked_against_the_version() {
    let mut c = v2_config(100, Auth::None);
    c.advert_interval = Centiseconds::new(150);
    assert!(matches!(
        VirtualRouter::new(c),
        Err(ConfigError::IntervalOutOfRange { .. })
    ));
    let mut c = v3_config(100);
    c.advert_interval = Centiseconds::new(4096);
    assert!(matches!(
        VirtualRouter::new(c),
        Err(ConfigError::IntervalOutOfRange { .. })
    ));
    let mut c = v3_config(100);
    c.advert_interval = Centiseconds::ZERO;
    assert!(VirtualRouter::new(c).is_err());
    assert!(matches!(
        VirtualRouter::new(v3_config(0)),
        Err(ConfigError::ShutdownPriority)
    ));
    let mut c = v6_config(100);
    c.version = Version::V2;
    assert_eq!(VirtualRouter::new(c).err(), Some(ConfigError::V2OverIpv6));
    let mut c = v3_config(100);
    c.addresses.push(VIP_V6.into());
    assert!(matches!(
        VirtualRouter::new(c),
        Err(ConfigError::FamilyMismatch(_))
    ));
    let mut c = v3_config(100);
    c.auth = password("x");
    assert_eq!(VirtualRouter::new(c).err(), Some(ConfigError::AuthWithV3));
    let c = Config::new(vrid(), LOCAL_V4.into(), vec![]);
    assert_eq!(VirtualRouter::new(c).err(), Some(ConfigError::NoAddresses));
}

#[test]
fn initial_state_hint_active_does_not_skip_the_election() {
    let t0 = Instant::now();
    let mut c = v3_config(100);
    c.initial_state = InitialState::Active;
    let mut r = VirtualRouter::new(c).unwrap();
    r.startup(t0);
    drain(&mut r);
    assert_state(&r, State::Backup);
    assert_eq!(r.poll_timeout(), Some(t0 + r.master_down_interval()));
}

#[test]
fn accept_mode_is_carried_for_the_driver() {
    let mut c = v3_config(100);
    c.accept_mode = true;
    assert!(VirtualRouter::new(c).unwrap().config().accept_mode);
}

#[test]
fn unicast_mode_sends_to_each_peer_and_ignores_others() {
    let t0 = Instant::now();
    let p1: IpAddr = "198.18.0.21".parse().unwrap();
    let p2: IpAddr = "198.18.0.22".parse().unwrap();
    let mut c = v3_config(255);
    c.unicast_peers = vec![p1, p2];
    let mut r = VirtualRouter::new(c).unwrap();
    r.startup(t0);
    let outs = drain(&mut r);
    let dsts: Vec<_> = transmits(&outs).iter().map(|t| t.dst).collect();
    assert_eq!(dsts, vec![p1, p2]);
    for t in transmits(&outs) {
        assert!(received(t.src, t.dst, 255, &t.payload).validate().is_ok());
    }
    let stranger = Peer::v3(HIGHER_V4, 254);
    assert_eq!(
        stranger.send(&mut r, t0),
        Err(Discard::NotAPeer(HIGHER_V4.into()))
    );
}

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
    assert_eq!(outs[0], Output::InstallAddresses, "owner returns at once");
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
    assert_eq!(drain(&mut r)[0], Output::InstallAddresses);
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
