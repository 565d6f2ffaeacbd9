//! Reloads in virtual time: what is kept, restarted or only has its
//! addresses changed.

use super::*;

#[test]
fn a_reload_keeps_unchanged_instances_and_restarts_changed_ones() {
    let two = format!(
        "{ONE}\n[[instance]]\nname = \"B\"\ninterface = \"eth0\"\nvrid = 52\npriority = 100\nadvert_interval = \"100ms\"\nvips = [\"198.18.0.101/24\"]\n"
    );
    let mut h = Harness::start(&two);
    h.advance(400 * MS);
    assert_eq!(
        (h.state("A").as_str(), h.state("B").as_str()),
        ("active", "active")
    );
    let mark = h.seen.len();
    let changed = two.replace("vrid = 52\npriority = 100", "vrid = 52\npriority = 110");
    let summary = h.apply(load(&changed)).unwrap();
    assert_eq!((summary.kept, summary.stopped, summary.started), (1, 1, 1));
    let got = h.since(mark);
    assert!(
        !got.iter().any(|s| format!("{s:?}").contains("\"A\"")),
        "A untouched: {got:?}"
    );
    assert!(
        got.contains(&Seen::Send("B".into(), 0)),
        "B released its VIPs: {got:?}"
    );
    assert!(got.contains(&Seen::Remove("B".into())));
    assert!(got.contains(&Seen::Release("B".into())));
    assert_eq!(h.state("A"), "active");
    assert_eq!(h.state("B"), "backup");
    // A removed instance stops; an instance that cannot run rejects the
    // whole reload and changes nothing.
    let mark = h.seen.len();
    let broken = format!(
        "{changed}\n[[instance]]\nname = \"C\"\ninterface = \"bad0\"\nvrid = 53\nvips = [\"198.18.0.102/24\"]\n"
    );
    let err = h.apply(load(&broken)).unwrap_err();
    assert_eq!(err.instance, "C");
    assert!(
        !h.since(mark)
            .iter()
            .any(|s| matches!(s, Seen::Send(..) | Seen::Remove(_)))
    );
    assert_eq!(h.engine.instance_count(), (2, 0));
    let summary = h.apply(load(ONE)).unwrap();
    assert_eq!((summary.kept, summary.stopped, summary.started), (1, 1, 0));
    assert_eq!(h.engine.instance_count(), (1, 0));
}

/// A reload that changes only an instance's VIPs keeps it running (no
/// transition, no priority 0, no removal of the VIPs that stay), as
/// keepalived's does: the shell moves the difference and only what is new
/// is announced; the next advert carries the new list.
#[test]
fn a_reload_that_changes_only_the_vips_keeps_the_instance_running() {
    let mut h = Harness::start(ONE);
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    let transitions = h.engine.stats()[0].transitions.clone();
    let mark = h.seen.len();
    let more = ONE.replace(
        "vips = [\"198.18.0.100/24\"]",
        "vips = [\"198.18.0.100/24\", \"198.18.0.105/24\"]",
    );
    assert_ne!(more, ONE);
    let summary = h.apply(load(&more)).unwrap();
    assert_eq!(
        (
            summary.kept,
            summary.updated,
            summary.stopped,
            summary.started
        ),
        (0, 1, 0, 0)
    );
    let got = h.since(mark);
    assert_eq!(got[0], Seen::Update("A".into(), 2, true), "{got:?}");
    let new: IpAddr = "198.18.0.105".parse().unwrap();
    assert!(got.contains(&Seen::Announce("A".into(), new)), "{got:?}");
    assert!(
        !got.iter()
            .any(|s| matches!(s, Seen::Announce(_, a) if *a == vip())
                || matches!(s, Seen::Send(_, 0) | Seen::Remove(_) | Seen::Release(_))),
        "{got:?}"
    );
    assert_eq!(h.state("A"), "active");
    assert_eq!(h.engine.stats()[0].transitions, transitions);
    // It goes on advertising on its schedule.
    let mark = h.seen.len();
    h.advance(1000 * MS);
    let sent = h
        .since(mark)
        .iter()
        .filter(|s| **s == Seen::Send("A".into(), 100))
        .count();
    assert!(sent >= 9, "{sent} adverts in 1 s after the reload");
    // A change beyond the addresses still restarts the instance.
    let summary = h
        .apply(load(&more.replace("priority = 100", "priority = 90")))
        .unwrap();
    assert_eq!(
        (summary.updated, summary.stopped, summary.started),
        (0, 1, 1)
    );
}

#[test]
fn a_reload_that_changes_only_routes_and_rules_keeps_the_instance_running() {
    let mut h = Harness::start(ONE);
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    let transitions = h.engine.stats()[0].transitions.clone();
    let with = |routes: &str| {
        ONE.replace(
            "vips = [\"198.18.0.100/24\"]",
            &format!("vips = [\"198.18.0.100/24\"]\n{routes}"),
        )
    };
    let mark = h.seen.len();
    let summary = h
        .apply(load(&with(
            "routes = [\"198.18.9.0/24 via 198.18.0.254 no_track\"]\nrules = [\"from 198.18.0.100 preference 5 table 100\"]",
        )))
        .unwrap();
    assert_eq!(
        (summary.updated, summary.stopped, summary.started),
        (1, 0, 0)
    );
    let got = h.since(mark);
    assert_eq!(got[0], Seen::Update("A".into(), 1, true), "{got:?}");
    assert!(
        !got.iter()
            .any(|s| matches!(s, Seen::Send(_, 0) | Seen::Remove(_) | Seen::Release(_))),
        "{got:?}"
    );
    assert_eq!(h.engine.stats()[0].transitions, transitions);
    // A tracked route on another device is a change of tracking: restart.
    let summary = h
        .apply(load(&with(
            "routes = [\"198.18.9.0/24 via 198.18.0.254 dev eth1\"]",
        )))
        .unwrap();
    assert_eq!(
        (summary.updated, summary.stopped, summary.started),
        (0, 1, 1)
    );
}

#[test]
fn a_reload_that_removes_an_instance_reports_it_as_keepalived_does() {
    // With notify_deleted: DELETED; without: FAULT.
    for (extra, want) in [
        (
            "\n[instance.notify]\nany = [\"/bin/true\"]\nreport_deleted = true\n",
            HookState::Deleted,
        ),
        (
            "\n[instance.notify]\nany = [\"/bin/true\"]\n",
            HookState::Fault,
        ),
    ] {
        let mut h = Harness::start(&format!("{ONE}{extra}"));
        h.advance(400 * MS);
        assert_eq!(h.state("A"), "active");
        let mark = h.seen.len();
        let other = ONE
            .replace("name = \"A\"", "name = \"B\"")
            .replace("vrid = 51", "vrid = 52");
        h.apply(load(&other)).unwrap();
        let got = h.since(mark);
        let a = Target::Instance("A".into());
        assert!(got.contains(&Seen::Notify(a.clone(), want)), "{got:?}");
        assert!(!got.contains(&Seen::Notify(a, HookState::Stop)), "{got:?}");
    }
}

#[test]
fn fifo_states_on_reload_reports_kept_backups_only() {
    let text = format!(
        "[global]\nfifo_states_on_reload = true\nnotify_fifo = \"/run/vrrpd-test.fifo\"\n{ONE}"
    );
    let two = format!(
        "{text}\n[[instance]]\nname = \"B\"\ninterface = \"eth0\"\nvrid = 52\npriority = 100\nadvert_interval = \"100ms\"\nvips = [\"198.18.0.101/24\"]\n"
    );
    let mut h = Harness::start(&two);
    // B hears a higher priority and stays Backup; A becomes Active.
    for _ in 0..5 {
        h.advert(52, 200);
        h.advance(80 * MS);
    }
    assert_eq!(h.state("A"), "active");
    assert_eq!(h.state("B"), "backup");
    let mark = h.seen.len();
    h.apply(load(&two)).unwrap();
    let got = h.since(mark);
    let reports: Vec<&Seen> = got
        .iter()
        .filter(|s| matches!(s, Seen::Report(..)))
        .collect();
    assert_eq!(
        reports,
        [&Seen::Report(
            Target::Instance("B".into()),
            HookState::Backup
        )],
        "{got:?}"
    );
}
