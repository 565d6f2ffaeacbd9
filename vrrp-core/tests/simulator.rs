//! Property and scenario tests on the simulated LAN (tests/sim).
//!
//! Each property runs many seeds (`VRRP_SIM_SEEDS`, default 10,000 for the
//! random scenarios); a failure prints its seed, and `VRRP_SIM_SEED=N`
//! replays just that one.

mod sim;

use std::time::Duration;

use sim::{Event, Impairment, Lan, Rng};
use vrrp_core::router::State;
use vrrp_core::{Centiseconds, Priority, Version};

fn seeds(default: u64) -> Vec<u64> {
    if let Ok(one) = std::env::var("VRRP_SIM_SEED") {
        return vec![one.parse().expect("VRRP_SIM_SEED is a number")];
    }
    let n = std::env::var("VRRP_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    (0..n).collect()
}

/// A random protocol flavour: (version, IPv6?, interval).
fn flavour(rng: &mut Rng) -> (Version, bool, Centiseconds) {
    let v6 = rng.chance(0.3);
    if !v6 && rng.chance(0.3) {
        (
            Version::V2,
            false,
            Centiseconds::new(100 * rng.range(1, 2) as u32),
        )
    } else {
        let cs = [1, 2, 5, 10, 100][rng.range(0, 4) as usize];
        (Version::V3, v6, Centiseconds::new(cs))
    }
}

/// Builds `n` hosts of one flavour with the given priorities.
fn lan_of(seed: u64, flavour: (Version, bool, Centiseconds), priorities: &[u8]) -> Lan {
    let (version, v6, interval) = flavour;
    let mut lan = Lan::new(seed, Impairment::default());
    for (i, &p) in priorities.iter().enumerate() {
        let mut c = Lan::config(i, 51, p, v6);
        c.version = version;
        c.advert_interval = interval;
        lan.add(c);
    }
    lan
}

/// Master_Down_Interval at the lowest priority: an upper bound for all.
fn worst_mdi(interval: Centiseconds, version: Version) -> Duration {
    let skew = match version {
        Version::V2 => Duration::from_secs(1),
        Version::V3 => interval.as_duration(),
    };
    interval.as_duration() * 3 + skew
}

#[test]
fn sim_random_chaos_then_stability_converges_to_one_rightful_active() {
    let list = seeds(10_000);
    for &seed in &list {
        let mut rng = Rng::new(seed ^ 0x5eed);
        let fl = flavour(&mut rng);
        let (version, _, interval) = fl;
        let n = rng.range(2, 4) as usize;
        let mut priorities: Vec<u8> = (0..n)
            .map(|_| [100, 150, 200, rng.range(1, 254) as u8][rng.range(0, 3) as usize])
            .collect();
        if rng.chance(0.2) {
            priorities[0] = 255;
        }
        let mut lan = lan_of(seed, fl, &priorities);
        let iv = interval.as_duration();
        lan.impairment = Impairment {
            loss: rng.range(0, 20) as f64 / 100.0,
            duplicate: 0.05,
            max_delay: iv / 10,
        };
        lan.start_all();
        let mdi = worst_mdi(interval, version);
        let chaos = mdi * 20;
        for _ in 0..rng.range(0, 6) {
            let at = rng.duration(chaos);
            let host = rng.range(0, n as u64 - 1) as usize;
            let event = match rng.range(0, 7) {
                0 => Event::Crash(host),
                1 => Event::Restart(host),
                2 => Event::Shutdown(host),
                3 => Event::LinkDown(host),
                4 => Event::LinkUp(host),
                5 => Event::SetPriority(host, rng.range(1, 254) as u8),
                6 => Event::Partition(host, 1),
                _ => Event::Heal,
            };
            lan.at(at, event);
        }
        lan.run_until(chaos);
        // Stabilise: heal, links up, everyone running, no loss.
        lan.impairment.loss = 0.0;
        lan.apply(Event::Heal);
        for i in 0..n {
            lan.apply(Event::LinkUp(i));
            lan.apply(Event::Restart(i));
        }
        let settle = chaos + mdi * 3 + iv * 5;
        lan.run_until(settle);
        // Stable for a further 2 × Master_Down_Interval, checked at every
        // interval.
        let mut t = settle;
        while t < settle + mdi * 2 {
            lan.run_until(t);
            let actives = lan.actives();
            assert_eq!(
                actives.len(),
                1,
                "seed {seed}: actives {actives:?} at {t:?}"
            );
            let best = lan.expected_active().unwrap();
            let p = |i: usize| lan.nodes[i].router.as_ref().unwrap().priority();
            assert_eq!(
                p(actives[0]),
                p(best),
                "seed {seed}: host {} is Active but host {best} has a higher priority",
                actives[0]
            );
            lan.assert_vips_only_on_active(seed);
            t += iv;
        }
    }
}

#[test]
fn sim_equal_priorities_resolve_to_the_highest_address() {
    for seed in seeds(2_000) {
        let mut rng = Rng::new(seed ^ 0xe9);
        let fl = flavour(&mut rng);
        let n = rng.range(2, 4) as usize;
        let mut lan = lan_of(seed, fl, &vec![100; n]);
        lan.impairment.max_delay = fl.2.as_duration() / 10;
        lan.start_all();
        lan.run_until(worst_mdi(fl.2, fl.0) * 3);
        assert_eq!(lan.actives(), vec![n - 1], "seed {seed}");
        lan.assert_vips_only_on_active(seed);
    }
}

#[test]
fn sim_crash_failover_completes_within_master_down_interval() {
    for seed in seeds(2_000) {
        let mut rng = Rng::new(seed ^ 0xc4);
        let fl = flavour(&mut rng);
        let iv = fl.2.as_duration();
        let max_delay = iv / 20;
        let mut lan = lan_of(seed, fl, &[200, 150, 100]);
        lan.impairment.max_delay = max_delay;
        lan.start_all();
        let stable = worst_mdi(fl.2, fl.0) * 3;
        let crash_at = stable + rng.duration(iv * 3);
        lan.at(crash_at, Event::Crash(0));
        lan.run_until(crash_at + worst_mdi(fl.2, fl.0) * 3);
        let crash = lan.t0 + crash_at;
        let last = lan.last_sent_by(0, crash).expect("host 0 advertised");
        let (takeover, node) = lan.takeover_after(0, crash).expect("someone took over");
        assert_eq!(node, 1, "seed {seed}: the next-highest priority takes over");
        let mdi = lan.nodes[1].router.as_ref().unwrap().master_down_interval();
        let detection = takeover - last;
        assert!(
            detection >= mdi && detection <= mdi + max_delay,
            "seed {seed}: detection {detection:?}, Master_Down_Interval {mdi:?}"
        );
        assert!(
            takeover - crash <= mdi + max_delay,
            "seed {seed}: failover {:?} after the crash",
            takeover - crash
        );
        assert_eq!(lan.actives(), vec![1], "seed {seed}");
        lan.assert_vips_only_on_active(seed);
    }
}

#[test]
fn sim_priority_zero_release_completes_within_skew_time() {
    for seed in seeds(2_000) {
        let mut rng = Rng::new(seed ^ 0x70);
        let fl = flavour(&mut rng);
        let iv = fl.2.as_duration();
        let max_delay = iv / 20;
        let mut lan = lan_of(seed, fl, &[200, 150, 100]);
        lan.impairment.max_delay = max_delay;
        lan.start_all();
        let stop_at = worst_mdi(fl.2, fl.0) * 3 + rng.duration(iv * 3);
        lan.at(stop_at, Event::Shutdown(0));
        lan.run_until(stop_at + worst_mdi(fl.2, fl.0) * 2);
        let stop = lan.t0 + stop_at;
        let (takeover, node) = lan.takeover_after(0, stop).expect("someone took over");
        assert_eq!(node, 1, "seed {seed}");
        let skew = lan.nodes[1].router.as_ref().unwrap().skew_time();
        let elapsed = takeover - stop;
        assert!(
            elapsed >= skew && elapsed <= skew + max_delay,
            "seed {seed}: takeover {elapsed:?} after release, Skew_Time {skew:?}"
        );
        lan.assert_vips_only_on_active(seed);
    }
}

#[test]
fn sim_preempt_off_never_steals_from_a_live_active() {
    for seed in seeds(2_000) {
        let mut rng = Rng::new(seed ^ 0x9e);
        let fl = flavour(&mut rng);
        let mut lan = lan_of(seed, fl, &[100, 200]);
        lan.nodes[1].config.preempt = false;
        lan.impairment.max_delay = fl.2.as_duration() / 10;
        lan.apply(Event::Restart(0));
        let mdi = worst_mdi(fl.2, fl.0);
        lan.at(mdi * 2, Event::Restart(1));
        lan.run_until(mdi * 20);
        assert_eq!(lan.actives(), vec![0], "seed {seed}");
        assert!(
            lan.first_active_after(1, lan.t0).is_none(),
            "seed {seed}: the non-preempting router became Active"
        );
        // With preempt on, the same router takes over.
        let mut lan = lan_of(seed, fl, &[100, 200]);
        lan.apply(Event::Restart(0));
        lan.at(mdi * 2, Event::Restart(1));
        lan.run_until(mdi * 20);
        assert_eq!(lan.actives(), vec![1], "seed {seed}: preempt on");
    }
}

#[test]
fn sim_partition_makes_two_actives_and_heal_leaves_one() {
    for seed in seeds(1_000) {
        let mut rng = Rng::new(seed ^ 0x9a);
        let fl = flavour(&mut rng);
        let mdi = worst_mdi(fl.2, fl.0);
        let mut lan = lan_of(seed, fl, &[200, 100]);
        lan.start_all();
        lan.at(mdi * 3, Event::Partition(1, 1));
        lan.run_until(mdi * 8);
        assert_eq!(
            lan.actives(),
            vec![0, 1],
            "seed {seed}: split brain while partitioned"
        );
        lan.at(mdi * 8, Event::Heal);
        lan.run_until(mdi * 8 + fl.2.as_duration() * 3);
        assert_eq!(
            lan.actives(),
            vec![0],
            "seed {seed}: one Active after healing"
        );
        lan.assert_vips_only_on_active(seed);
    }
}

// ----------------------------------------------------------------------
// Scenarios named after RFC sections.

#[test]
fn rfc9568_6_4_1_owner_becomes_active_at_once_and_preempts() {
    let mut lan = lan_of(1, (Version::V3, false, Centiseconds::new(100)), &[150, 255]);
    lan.apply(Event::Restart(0));
    lan.run_until(Duration::from_secs(10));
    assert_eq!(lan.actives(), vec![0]);
    lan.at(Duration::from_secs(10), Event::Restart(1));
    lan.run_until(Duration::from_secs(10) + Duration::from_millis(1));
    assert_eq!(lan.state(1), Some(State::Active));
    // Host 0 yields on the owner's first advertisement, sent at start-up.
    assert_eq!(lan.actives(), vec![1]);
    lan.assert_vips_only_on_active(1);
}

#[test]
fn rfc9568_6_4_2_backup_learns_the_interval_of_the_active() {
    let mut lan = lan_of(2, (Version::V3, false, Centiseconds::new(100)), &[200, 100]);
    lan.nodes[0].config.advert_interval = Centiseconds::new(10);
    lan.start_all();
    lan.run_until(Duration::from_secs(5));
    let backup = lan.nodes[1].router.as_ref().unwrap();
    assert_eq!(backup.master_adver_interval(), Centiseconds::new(10));
    lan.at(Duration::from_secs(5), Event::Crash(0));
    lan.run_until(Duration::from_secs(6));
    let (t, node) = lan
        .takeover_after(0, lan.t0 + Duration::from_secs(5))
        .unwrap();
    assert_eq!(node, 1);
    // 3 × 100 ms + (156 × 100 ms / 256), not 3 × 1 s + skew.
    assert!(t - (lan.t0 + Duration::from_secs(5)) <= Duration::from_millis(361));
}

#[test]
fn rfc9568_6_4_3_active_yields_to_a_higher_priority_on_its_first_advertisement() {
    let mut lan = lan_of(3, (Version::V3, true, Centiseconds::new(100)), &[100, 200]);
    lan.apply(Event::Restart(0));
    lan.run_until(Duration::from_secs(10));
    lan.at(Duration::from_secs(10), Event::Restart(1));
    lan.run_until(Duration::from_secs(20));
    assert_eq!(lan.actives(), vec![1]);
    let yielded = lan
        .transitions
        .iter()
        .find(|t| t.node == 0 && t.from == State::Active)
        .unwrap();
    let took = lan.first_active_after(1, lan.t0).unwrap();
    assert_eq!(yielded.at, took, "yield on the first advertisement");
}

#[test]
fn rfc3768_6_4_2_v2_backup_takes_over_after_three_seconds_plus_skew() {
    let mut lan = lan_of(4, (Version::V2, false, Centiseconds::new(100)), &[200, 100]);
    lan.start_all();
    lan.run_until(Duration::from_secs(10));
    assert_eq!(lan.actives(), vec![0]);
    lan.at(Duration::from_secs(10), Event::Crash(0));
    lan.run_until(Duration::from_secs(20));
    let crash = lan.t0 + Duration::from_secs(10);
    let last = lan.last_sent_by(0, crash).unwrap();
    let (t, _) = lan.takeover_after(0, crash).unwrap();
    // 3 × 1 s + (256 − 100) / 256 s.
    assert_eq!(
        t - last,
        Duration::from_secs(3) + Duration::from_micros(609_375)
    );
    assert_eq!(
        lan.nodes[1].router.as_ref().unwrap().priority(),
        Priority::new(100)
    );
}
