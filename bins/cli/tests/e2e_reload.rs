//! End-to-end: SIGHUP reload of the real `vrrpd` (v3/IPv4, 100 ms).
//!
//! - unchanged configuration: no transition, the VIP never flaps;
//! - broken configuration: rejected, the running one keeps going;
//! - changed priority: the instance restarts and the election follows.

mod e2e_support;

use std::time::Duration;

use e2e_support::{H1, H2, Variant, elected, kill, transitions, vip_changes_during, wait_for};

#[test]
fn sighup_reload_keeps_unchanged_and_rejects_broken() {
    if !vrrp_testns::netns_available("sighup_reload_keeps_unchanged_and_rejects_broken") {
        return;
    }
    let variant = Variant::V3_IPV4;
    let (lab, h1, _h2, c1) = elected("rl", variant, "");
    let pid = h1.pid();

    // Unchanged: nothing moves.
    let t1 = transitions(&lab, H1);
    let t2 = transitions(&lab, H2);
    let changes = vip_changes_during(&lab, H1, Duration::from_secs(1), || kill(pid, libc::SIGHUP));
    check!(
        lab,
        changes.is_empty(),
        "the VIP flapped on an unchanged reload: {changes:?}"
    );
    check!(
        lab,
        lab.log(H1).contains("configuration reloaded"),
        "reload not logged"
    );
    check!(lab, lab.log(H1).contains("kept=1"), "instance not kept");
    check!(
        lab,
        transitions(&lab, H1) == t1 && transitions(&lab, H2) == t2,
        "a transition happened on an unchanged reload"
    );

    // Broken: rejected, still Active.
    let good = std::fs::read_to_string(&c1).unwrap();
    std::fs::write(&c1, good.replace("priority = 200", "priority = \"high\"")).unwrap();
    let changes = vip_changes_during(&lab, H1, Duration::from_secs(1), || kill(pid, libc::SIGHUP));
    check!(
        lab,
        lab.log(H1).contains("reload rejected"),
        "broken reload not rejected"
    );
    check!(
        lab,
        changes.is_empty() && lab.has_vip(H1) && !lab.has_vip(H2),
        "a broken reload disturbed the running instance: {changes:?}"
    );
    check!(
        lab,
        transitions(&lab, H1) == t1,
        "a transition happened on a broken reload"
    );

    // Changed: priority 50 now loses to h2.
    std::fs::write(&c1, good.replace("priority = 200", "priority = 50")).unwrap();
    kill(pid, libc::SIGHUP);
    check!(
        lab,
        wait_for(Duration::from_secs(3), || lab.has_vip(H2)
            && !lab.has_vip(H1))
        .is_some(),
        "changed priority did not move the VIP to h2"
    );
    check!(
        lab,
        lab.log(H1).contains("stopped=1") && lab.log(H1).contains("started=1"),
        "changed instance not restarted"
    );
}
