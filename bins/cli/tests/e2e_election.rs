//! End-to-end election rules on the real `vrrpd` (v3/IPv4, 100 ms):
//! equal priorities (higher IP wins), nopreempt, preempt_delay, and a
//! partition (both Active) that heals to exactly one Active, and a Backup
//! that stalls past Master_Down_Interval while the Active lives on.

mod e2e_support;

use std::time::{Duration, Instant};

use e2e_support::{H1, H2, Lab, Variant, elected, kill, transitions, vip_changes_during, wait_for};

/// RFC 9568 §6.4.3: an Active router that hears an equal priority from a
/// higher primary address yields. (A Backup hearing an equal priority just
/// follows whoever is Active, so this only decides when both are Active:
/// start them partitioned, then heal.)
#[test]
fn equal_priority_higher_address_wins() {
    if !vrrp_testns::netns_available("equal_priority_higher_address_wins") {
        return;
    }
    let lab = Lab::new("eq", Variant::V3_IPV4);
    let isolate = |on: &str| {
        for idx in [H1, H2] {
            lab.lan.switch.ip(&[
                "link",
                "set",
                &lab.lan.port(idx),
                "type",
                "bridge_slave",
                "isolated",
                on,
            ]);
        }
    };
    isolate("on");
    let c1 = lab.write_config(H1, 100, "");
    let c2 = lab.write_config(H2, 100, "");
    let _h1 = lab.start(H1, &c1);
    let _h2 = lab.start(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H1)
            && lab.has_vip(H2))
        .is_some(),
        "both should be Active while partitioned"
    );
    isolate("off");
    check!(
        lab,
        wait_for(Duration::from_secs(2), || lab.has_vip(H2)
            && !lab.has_vip(H1))
        .is_some(),
        "198.18.0.2 should win the tie"
    );
    check!(
        lab,
        lab.log(H1).contains("active -> backup (higher_address)"),
        "h1 did not yield by address"
    );
}

#[test]
fn nopreempt_and_preempt_delay() {
    if !vrrp_testns::netns_available("nopreempt_and_preempt_delay") {
        return;
    }
    let variant = Variant::V3_IPV4;
    let lab = Lab::new("np", variant);
    let c2 = lab.write_config(H2, 100, "");
    let _h2 = lab.start(H2, &c2);
    check!(
        lab,
        wait_for(Duration::from_secs(5), || lab.has_vip(H2)).is_some(),
        "h2 never Active"
    );

    // nopreempt: the higher priority stays Backup.
    let c1 = lab.write_config(H1, 200, "preempt = false");
    let h1 = lab.start(H1, &c1);
    std::thread::sleep(variant.master_down(200) * 4);
    check!(
        lab,
        lab.has_vip(H2) && !lab.has_vip(H1),
        "h1 preempted with preempt = false"
    );
    drop(h1);

    // preempt_delay = 1s: it preempts, but not before the delay.
    let c1 = lab.write_config(H1, 200, "preempt_delay = \"1s\"");
    let start = Instant::now();
    let _h1 = lab.start(H1, &c1);
    let took = wait_for(Duration::from_secs(5), || {
        lab.has_vip(H1) && !lab.has_vip(H2)
    });
    eprintln!("preempt with a 1 s delay after {took:?}");
    check!(lab, took.is_some(), "h1 never preempted");
    check!(
        lab,
        start.elapsed() >= Duration::from_secs(1),
        "h1 preempted before preempt_delay"
    );
}

#[test]
fn partition_then_heal_leaves_one_active() {
    if !vrrp_testns::netns_available("partition_then_heal_leaves_one_active") {
        return;
    }
    let variant = Variant::V3_IPV4;
    let (lab, _h1, _h2, _) = elected("pt", variant, "");
    // Isolated bridge ports cannot talk to each other: h1 and h2 lose
    // each other's adverts while both links stay up.
    let isolate = |on: &str| {
        for idx in [H1, H2] {
            lab.lan.switch.ip(&[
                "link",
                "set",
                &lab.lan.port(idx),
                "type",
                "bridge_slave",
                "isolated",
                on,
            ]);
        }
    };
    isolate("on");
    check!(
        lab,
        wait_for(variant.master_down(100) * 3, || lab.has_vip(H2)).is_some(),
        "h2 did not become Active in the partition"
    );
    check!(
        lab,
        lab.has_vip(H1),
        "h1 should stay Active in the partition"
    );
    isolate("off");
    check!(
        lab,
        wait_for(Duration::from_secs(2), || lab.has_vip(H1)
            && !lab.has_vip(H2))
        .is_some(),
        "after healing the VIP is not only on h1"
    );
    std::thread::sleep(variant.interval_dur * 5);
    check!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "not exactly one Active after heal"
    );
    check!(
        lab,
        lab.log(H2).contains("active -> backup (higher_priority)"),
        "h2 did not yield"
    );
}

/// A Backup stopped (SIGSTOP: a VM pause, a long scheduler stall) for
/// three Master_Down_Intervals while the Active keeps advertising: on
/// resume its timer has expired, but the adverts queued on its socket
/// arrived in time (kernel receive stamps), so it must stay Backup. Taking
/// over would move the VIP for nothing and flap it back.
#[test]
fn a_stalled_backup_reads_queued_adverts_before_taking_over() {
    if !vrrp_testns::netns_available("a_stalled_backup_reads_queued_adverts_before_taking_over") {
        return;
    }
    let variant = Variant::V3_IPV4;
    let (lab, _h1, h2, _) = elected("stall", variant, "");
    let before = transitions(&lab, H2);
    let stall = variant.master_down(100) * 3;
    let changes = vip_changes_during(&lab, H2, stall + variant.master_down(100) * 2, || {
        kill(h2.pid(), libc::SIGSTOP);
        std::thread::sleep(stall);
        kill(h2.pid(), libc::SIGCONT);
    });
    check!(
        lab,
        changes.is_empty(),
        "the stalled Backup took the VIP on resume: {changes:?}"
    );
    check!(
        lab,
        transitions(&lab, H2) == before,
        "the stalled Backup changed state on resume"
    );
    check!(
        lab,
        lab.has_vip(H1) && !lab.has_vip(H2),
        "VIP not only on h1 after the stall"
    );
}

/// The other side of the stall: the Active dies while the Backup is
/// stopped, and its last advert, still queued on the Backup's socket, is
/// older than Master_Down_Interval on resume. Judged by its kernel
/// receive stamp it has expired, so the Backup takes over at once; judged
/// by when it was read, the Backup would wait a whole extra interval.
#[test]
fn a_stalled_backup_whose_active_died_takes_over_at_once_on_resume() {
    if !vrrp_testns::netns_available(
        "a_stalled_backup_whose_active_died_takes_over_at_once_on_resume",
    ) {
        return;
    }
    let variant = Variant::V3_IPV4;
    let (lab, mut h1, h2, _) = elected("stalldead", variant, "");
    let master_down = variant.master_down(100);
    kill(h2.pid(), libc::SIGSTOP);
    std::thread::sleep(variant.interval_dur);
    kill(h1.pid(), libc::SIGKILL);
    let _ = h1.child().wait();
    std::thread::sleep(master_down * 2);
    let took = lab.time_until_vip(H2, Duration::from_secs(5), || {
        kill(h2.pid(), libc::SIGCONT);
    });
    eprintln!("takeover {took:?} after resume (Master_Down_Interval {master_down:?})");
    // At once is a few milliseconds; from the read, a whole interval.
    check!(
        lab,
        took.is_some_and(|t| t < master_down / 2),
        "takeover {took:?} after resume, not at once (Master_Down_Interval {master_down:?})"
    );
}
