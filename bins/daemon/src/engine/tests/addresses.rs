//! Addresses in virtual time: installs that report late or in parts,
//! refused addresses and their retries, a VIP someone else removed.

use super::*;

/// Adverts, announcements and a slow install (Many VIPs #7: the shell
/// installs off its loop).
fn kinds(seen: &[(Instant, Seen)]) -> (Vec<Instant>, Vec<Instant>) {
    let sends = seen
        .iter()
        .filter(|(_, s)| matches!(s, Seen::Send(_, p) if *p != 0))
        .map(|(t, _)| *t)
        .collect();
    let announces = seen
        .iter()
        .filter(|(_, s)| matches!(s, Seen::Announce(..)))
        .map(|(t, _)| *t)
        .collect();
    (sends, announces)
}

#[test]
fn a_slow_install_keeps_the_adverts_on_time_and_holds_the_announcements_until_it_is_done() {
    let mut h = Harness::start(ONE);
    h.defer_installs = true;
    let mark = h.seen.len();
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    assert_eq!(h.deferred.len(), 1, "one install in flight");
    // 250 ms of install: the adverts go on every 100 ms, nothing is
    // announced for an address not yet on the host.
    h.advance(250 * MS);
    let (sends, announces) = kinds(&h.seen[mark..]);
    assert_eq!(sends.len(), 3, "{:?}", h.since(mark));
    for w in sends.windows(2) {
        assert_eq!(w[1] - w[0], 100 * MS);
    }
    assert!(announces.is_empty(), "{:?}", h.since(mark));
    // Done: the burst starts now.
    let done = h.now;
    h.finish_installs();
    let (_, announces) = kinds(&h.seen[mark..]);
    assert_eq!(announces.first(), Some(&done));
    h.advance(100 * MS);
    let (_, announces) = kinds(&h.seen[mark..]);
    assert_eq!(announces.len(), 5, "garp_master_repeat 5, all at once");
    assert_eq!(h.state("A"), "active");
}

#[test]
fn addresses_reported_installed_are_announced_before_the_rest_are_in() {
    let mut h = Harness::start(
        r#"
[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 100
advert_interval = "100ms"
vips = ["198.18.0.100/24", "198.18.0.101/24"]
excluded_vips = ["198.18.0.102/24"]
"#,
    );
    h.defer_installs = true;
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    let (id, _) = h.deferred[0].clone();
    let announced = |h: &Harness, mark: usize| -> Vec<IpAddr> {
        h.since(mark)
            .into_iter()
            .filter_map(|s| match s {
                Seen::Announce(_, a) => Some(a),
                _ => None,
            })
            .collect()
    };
    let addr = |last: u8| IpAddr::V4(Ipv4Addr::new(198, 18, 0, last));
    // The first two are in: each announced five times, the third not yet.
    let mark = h.seen.len();
    h.engine.handle_install_progress(h.now, id, 2);
    h.pump();
    let got = announced(&h, mark);
    assert_eq!(got.len(), 10, "{got:?}");
    assert!(got.iter().all(|&a| a == addr(100) || a == addr(101)));
    // A stale or repeated report announces nothing twice.
    let mark = h.seen.len();
    h.engine.handle_install_progress(h.now, id, 1);
    h.pump();
    assert!(announced(&h, mark).is_empty());
    // Done: the third gets its own five.
    h.advance(5 * MS);
    let mark = h.seen.len();
    h.finish_installs();
    let got = announced(&h, mark);
    assert_eq!(got, vec![addr(102); 5]);
    // The second burst, 5 s on, covers all three.
    let mark = h.seen.len();
    h.advance(Duration::from_secs(6));
    let got = announced(&h, mark);
    assert_eq!(got.len(), 15, "{got:?}");
}

#[test]
fn an_install_undone_by_a_step_down_before_it_finished_is_ignored_and_announces_nothing() {
    let mut h = Harness::start(ONE);
    h.defer_installs = true;
    h.refuse_installs = true;
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    // A higher priority takes over before the install is done: the
    // install is undone (removal queued after it), and its report, even
    // a failure, neither faults the Backup nor announces anything.
    h.advert(51, 200);
    assert_eq!(h.state("A"), "backup");
    let mark = h.seen.len();
    h.finish_installs();
    h.advance(50 * MS);
    assert_eq!(h.state("A"), "backup");
    let (sends, announces) = kinds(&h.seen[mark..]);
    assert!(
        sends.is_empty() && announces.is_empty(),
        "{:?}",
        h.since(mark)
    );
}

#[test]
fn a_retry_holds_its_adverts_while_its_install_is_in_flight() {
    let mut h = Harness::start(ONE);
    h.refuse_installs = true;
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "fault");
    // The retry (after 1 s and a Master_Down wait) installs slowly, and
    // succeeds: no advert claims the VIP until it is in.
    h.refuse_installs = false;
    h.defer_installs = true;
    let mark = h.seen.len();
    for _ in 0..30 {
        h.advance(100 * MS);
        if !h.deferred.is_empty() {
            break;
        }
    }
    assert_eq!(h.deferred.len(), 1, "{:?}", h.since(mark));
    h.advance(300 * MS);
    let (sends, _) = kinds(&h.seen[mark..]);
    assert!(sends.is_empty(), "held: {:?}", h.since(mark));
    let done = h.now;
    h.finish_installs();
    let (sends, announces) = kinds(&h.seen[mark..]);
    assert_eq!(sends, vec![done], "the held advert goes at once");
    assert_eq!(announces.first(), Some(&done));
    h.advance(250 * MS);
    let (sends, _) = kinds(&h.seen[mark..]);
    assert!(sends.len() >= 3, "{:?}", h.since(mark));
    assert!(
        sends.windows(2).all(|w| w[1] - w[0] <= 100 * MS),
        "then on schedule: {sends:?}"
    );
}

#[test]
fn refused_addresses_fault_the_instance_drop_its_claims_and_retry_with_back_off() {
    let mut h = Harness::start(ONE);
    h.refuse_installs = true;
    let mark = h.seen.len();
    h.advance(400 * MS);
    let got = h.since(mark);
    // The advert goes first, at the deadline; when the VIPs are refused
    // it is taken back at once with priority 0, and nothing is announced.
    assert_eq!(got[0], Seen::Send("A".into(), 100));
    assert_eq!(got[1], Seen::Install("A".into(), Addresses::All));
    assert!(got.contains(&Seen::Send("A".into(), 0)), "{got:?}");
    assert!(
        !got[2..]
            .iter()
            .any(|s| matches!(s, Seen::Send(_, p) if *p != 0) || matches!(s, Seen::Announce(..))),
        "no advert or announcement claims addresses it does not hold: {got:?}"
    );
    assert_eq!(h.state("A"), "fault");
    let installs = |h: &Harness| {
        h.seen
            .iter()
            .filter(|(_, s)| matches!(s, Seen::Install(..)))
            .map(|(t, _)| *t)
            .collect::<Vec<_>>()
    };
    // Retries after 1 s, then 2 s (each followed by a new Master_Down wait).
    h.advance(Duration::from_secs(5));
    let tries = installs(&h);
    assert!(tries.len() >= 3, "{tries:?}");
    // A retry installs first and holds its advert: no advert at all while
    // the VIPs are refused, so the Active is not made to step down.
    for &t in &tries[1..] {
        let at: Vec<_> = h.seen.iter().filter(|(u, _)| *u == t).collect();
        assert!(matches!(at[0].1, Seen::Install(..)), "{at:?}");
        assert!(
            !at.iter()
                .any(|(_, s)| matches!(s, Seen::Send(_, p) if *p != 0)),
            "{at:?}"
        );
    }
    let gap1 = tries[1] - tries[0];
    let gap2 = tries[2] - tries[1];
    assert!(
        gap2 > gap1 + Duration::from_millis(900),
        "back-off: {gap1:?} then {gap2:?}"
    );
    h.refuse_installs = false;
    h.advance(Duration::from_secs(10));
    assert_eq!(h.state("A"), "active");
    let stats = h.engine.stats();
    assert!(
        stats[0]
            .errors
            .get("address_install_failed")
            .copied()
            .unwrap_or(0)
            >= 3
    );
}

#[test]
fn a_vip_removed_by_someone_else_while_active_is_added_back() {
    let mut h = Harness::start(ONE);
    assert!(
        !h.engine
            .handle_address_removed(h.now, InstanceId(1), 0, true),
        "Backup: not ours to add"
    );
    h.advance(400 * MS);
    let mark = h.seen.len();
    assert!(
        h.engine
            .handle_address_removed(h.now, InstanceId(1), 0, true)
    );
    h.pump();
    assert_eq!(
        h.since(mark)[..2],
        [Seen::Install("A".into(), Addresses::One(0)), Seen::Settle]
    );
}

/// keepalived's garp_lower_prio_repeat / garp_lower_prio_delay: an Active
/// router that hears a lower priority (a router that took over during a
/// partition) announces its addresses again, and once more after the
/// delay; the hook `notify_master_rx_lower_pri` runs, not `notify`.
#[test]
fn hearing_a_lower_priority_announces_again() {
    let count = |h: &Harness, mark: usize| {
        h.since(mark)
            .iter()
            .filter(|s| matches!(s, Seen::Announce(..)))
            .count()
    };
    let text = ONE.replace(
        "vips = [",
        "announce = { lower_prio_repeat = 2, lower_prio_delay = \"1s\" }\nvips = [",
    ) + "[instance.notify]\nmaster_rx_lower_pri = [\"/bin/true\"]\nany = [\"/bin/true\"]\n";
    let mut h = Harness::start(&text);
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    // Past the takeover's own bursts (5 now, 5 after 5 s).
    h.advance(6000 * MS);
    let mark = h.seen.len();
    h.advert(51, 50);
    assert_eq!(count(&h, mark), 2, "{:?}", h.since(mark));
    assert!(
        h.since(mark).contains(&Seen::Notify(
            Target::Instance("A".into()),
            HookState::MasterRxLowerPri
        )),
        "{:?}",
        h.since(mark)
    );
    h.advance(1100 * MS);
    assert_eq!(count(&h, mark), 4, "a second burst after lower_prio_delay");
    assert_eq!(h.state("A"), "active");
    // Off with 0.
    let off = ONE.replace("vips = [", "announce = { lower_prio_repeat = 0 }\nvips = [");
    let mut h = Harness::start(&off);
    h.advance(6400 * MS);
    let mark = h.seen.len();
    h.advert(51, 50);
    h.advance(6000 * MS);
    assert_eq!(count(&h, mark), 0);
}

#[test]
fn garp_extra_if_announces_the_first_address_of_each_other_interface_while_active() {
    // keepalived's `garp_extra_if all 2`: one message per other interface
    // every 2 s while Active, none on the instance's own, none after.
    let mut h = Harness::start(
        r#"
[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 100
advert_interval = "100ms"
vips = ["198.18.0.100/24", { address = "198.18.1.100/24", device = "eth1" },
        { address = "198.18.1.101/24", device = "eth1" }]
excluded_vips = [{ address = "198.18.2.100/24", device = "eth2" }]
announce = { repeat = 1, delay = "0s", extra_interfaces = "2s" }
"#,
    );
    let start = h.seen.len();
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    // The takeover: its first advert.
    let active_at = h.seen[start..]
        .iter()
        .find(|(_, s)| matches!(s, Seen::Send(..)))
        .map(|(t, _)| *t)
        .unwrap();
    let mark = h.seen.len();
    h.advance(4_050 * MS);
    let extra: Vec<(Duration, IpAddr)> = h.seen[mark..]
        .iter()
        .filter_map(|(t, s)| match s {
            Seen::Announce(_, a) => Some((*t - active_at, *a)),
            _ => None,
        })
        .collect();
    let at = |ms: u64| -> Vec<IpAddr> {
        extra
            .iter()
            .filter(|(t, _)| *t == Duration::from_millis(ms))
            .map(|(_, a)| *a)
            .collect()
    };
    let eth1: IpAddr = "198.18.1.100".parse().unwrap();
    let eth2: IpAddr = "198.18.2.100".parse().unwrap();
    assert_eq!(extra.len(), 4, "{extra:?}");
    assert_eq!(at(2_000), vec![eth1, eth2], "{extra:?}");
    assert_eq!(at(4_000), vec![eth1, eth2], "{extra:?}");
    // A higher priority takes over: no more.
    h.advert(51, 200);
    assert_eq!(h.state("A"), "backup");
    let mark = h.seen.len();
    for _ in 0..30 {
        h.advance(100 * MS);
        h.advert(51, 200);
    }
    assert!(
        !h.since(mark)
            .iter()
            .any(|s| matches!(s, Seen::Announce(..))),
        "{:?}",
        h.since(mark)
    );
}

#[test]
fn track_src_ip_faults_the_instance_while_its_source_address_is_gone() {
    const TRACKED: &str = r#"
[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 100
advert_interval = "100ms"
source_address = "198.18.0.1"
track_source_address = true
vips = ["198.18.0.100/24"]
"#;
    let source: IpAddr = PRIMARY.into();
    // Missing at start: Fault until it comes.
    let mut h = Harness {
        missing: vec!["source".into()],
        ..Harness::start(ONE)
    };
    h.apply(crate::engine::instance::tests::load(TRACKED))
        .expect("reload");
    h.advance(1_000 * MS);
    assert_eq!(h.state("A"), "fault");
    // On another interface: no change.
    h.engine.handle_address(h.now, 99, source, true);
    h.pump();
    h.advance(1_000 * MS);
    assert_eq!(h.state("A"), "fault");
    h.engine.handle_address(h.now, ETH0, source, true);
    h.pump();
    assert_eq!(h.state("A"), "backup");
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    // Removed while Active: Fault, the VIP released.
    let mark = h.seen.len();
    h.engine.handle_address(h.now, ETH0, source, false);
    h.pump();
    assert_eq!(h.state("A"), "fault");
    assert!(
        h.since(mark).contains(&Seen::Remove("A".into())),
        "{:?}",
        h.since(mark)
    );
    // Another address going does not matter to an untracked instance.
    let mut plain = Harness::start(ONE);
    plain.advance(400 * MS);
    plain.engine.handle_address(plain.now, ETH0, source, false);
    plain.pump();
    assert_eq!(plain.state("A"), "active");
}
