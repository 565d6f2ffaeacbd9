//! End-to-end election rules on the real `vrrpd` (v3/IPv4, 100 ms):
//! equal priorities (higher IP wins), nopreempt, preempt_delay, and a
//! partition (both Active) that heals to exactly one Active.

mod e2e_support;

use std::time::{Duration, Instant};

use e2e_support::{H1, H2, Lab, Variant, elected, wait_for};

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
