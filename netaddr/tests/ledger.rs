//! The ownership ledger: cleanup removes exactly the addresses this process
//! added, across restarts, and never one someone else configured.

mod common;

use std::path::Path;

use common::{ip_addr, pair};
use vrrp_netaddr::{
    AddOutcome, AddressLedger, AddressSpec, Claim, CleanupReport, Error, Handle, IpPrefix,
    JOURNAL_FILE, LEDGER_FILE, Label, Release,
};

fn prefix(s: &str) -> IpPrefix {
    s.parse().unwrap()
}

/// The ledger as a later start reads it: opening folds the journal into
/// the snapshot, which is then read as JSON.
fn entries_in_file(dir: &Path) -> serde_json::Value {
    drop(AddressLedger::open(dir).unwrap());
    serde_json::from_slice(&std::fs::read(dir.join(LEDGER_FILE)).unwrap()).unwrap()
}

/// What the next start does: opens the ledger in `dir` inside `ns` and
/// cleans up.
fn restart_and_clean(ns: &vrrp_testns::Netns, dir: std::path::PathBuf) -> CleanupReport {
    ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        AddressLedger::open(&dir).unwrap().cleanup(&mut h).unwrap()
    })
}

#[test]
fn cleanup_removes_only_owned_addresses() {
    if !vrrp_testns::netns_available("cleanup_removes_only_owned_addresses") {
        return;
    }
    let p = pair("ldg");
    // The operator's own addresses, configured before the daemon starts.
    p.ns.ip(&["addr", "add", "198.18.0.10/24", "dev", "veth0"]);
    p.ns.ip(&["addr", "add", "fd00:198:18::10/64", "dev", "veth0", "nodad"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let report = p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let mut ledger = AddressLedger::open(&path).unwrap();
        let vip = AddressSpec::new(veth0, prefix("198.18.0.5/24"))
            .with_label(Label::new("veth0:1").unwrap());
        assert_eq!(ledger.add(&mut h, &vip).unwrap(), AddOutcome::Added);
        let vip6 = AddressSpec::new(veth0, prefix("fd00:198:18::5/64"))
            .with_flags(vrrp_netaddr::AddressFlags::NODAD);
        assert_eq!(ledger.add(&mut h, &vip6).unwrap(), AddOutcome::Added);
        // Already there (the operator's): reported, not recorded.
        let theirs = AddressSpec::new(veth0, prefix("198.18.0.10/24"));
        assert_eq!(
            ledger.add(&mut h, &theirs).unwrap(),
            AddOutcome::AlreadyPresent
        );
        assert!(!ledger.owns(veth0, theirs.prefix));
        assert_eq!(ledger.entries().len(), 2);
        assert!(
            ledger
                .entries()
                .iter()
                .all(|e| matches!(e.claim, Claim::Owned { created: Some(_) }))
        );
        // Removing an address we do not own touches nothing.
        assert_eq!(
            ledger.remove(&mut h, veth0, theirs.prefix).unwrap(),
            Release::NotOwned
        );
        ledger.cleanup(&mut h).unwrap()
    });
    let mut released: Vec<_> = report
        .released
        .iter()
        .map(|(e, r)| (e.address.to_string(), *r))
        .collect();
    released.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        released,
        [
            ("198.18.0.5/24".to_string(), Release::Removed),
            ("fd00:198:18::5/64".to_string(), Release::Removed)
        ]
    );
    assert!(report.failed.is_empty() && report.previous_boot.is_empty());
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.5", 24).is_none());
    assert!(ip_addr(&p.ns, "veth0", "fd00:198:18::5", 64).is_none());
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.10", 24).is_some());
    assert!(ip_addr(&p.ns, "veth0", "fd00:198:18::10", 64).is_some());
    assert_eq!(
        entries_in_file(dir.path())["entries"],
        serde_json::json!([])
    );
}

#[test]
fn restart_after_a_crash_cleans_up() {
    if !vrrp_testns::netns_available("restart_after_a_crash_cleans_up") {
        return;
    }
    let p = pair("ldgcr");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let path2 = path.clone();
    p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let mut ledger = AddressLedger::open(&path).unwrap();
        ledger
            .add(&mut h, &AddressSpec::new(veth0, prefix("198.18.0.5/24")))
            .unwrap();
        // The process dies here: no cleanup.
        std::mem::forget(ledger);
    });
    let file = entries_in_file(dir.path());
    assert_eq!(file["entries"][0]["address"], "198.18.0.5/24");
    assert_eq!(file["entries"][0]["ifname"], "veth0");
    assert_eq!(file["entries"][0]["state"], "owned");
    assert!(!dir.path().join("netaddr-ledger.json.tmp").exists());
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.5", 24).is_some());
    let report = restart_and_clean(&p.ns, path2);
    assert_eq!(report.released.len(), 1);
    assert_eq!(report.released[0].1, Release::Removed);
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.5", 24).is_none());
}

#[test]
fn an_unsettled_add_is_pending_until_settled_and_survives_a_crash() {
    if !vrrp_testns::netns_available(
        "an_unsettled_add_is_pending_until_settled_and_survives_a_crash",
    ) {
        return;
    }
    let p = pair("ldgun");
    // Two primaries (/32): removing one does not take the other along.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let path2 = path.clone();
    let claims = p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let mut ledger = AddressLedger::open(&path).unwrap();
        let settled = AddressSpec::new(veth0, prefix("198.18.0.5/32"));
        let unsettled = AddressSpec::new(veth0, prefix("198.18.0.6/32"));
        assert_eq!(
            ledger.add_unsettled(&mut h, &settled).unwrap(),
            AddOutcome::Added
        );
        let before = ledger.entries()[0].claim;
        ledger.settle(&mut h).unwrap();
        let after = ledger.entries()[0].claim;
        assert_eq!(
            ledger.add_unsettled(&mut h, &unsettled).unwrap(),
            AddOutcome::Added
        );
        // The process dies here, before settling the second one.
        std::mem::forget(ledger);
        (before, after)
    });
    assert_eq!(claims.0, Claim::Pending);
    assert!(
        matches!(claims.1, Claim::Owned { created: Some(_) }),
        "{:?}",
        claims.1
    );
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.6", 32).is_some());
    let file = entries_in_file(dir.path());
    assert_eq!(file["entries"][0]["state"], "owned");
    assert_eq!(file["entries"][1]["address"], "198.18.0.6/32");
    assert_eq!(file["entries"][1]["state"], "pending");
    let report = restart_and_clean(&p.ns, path2);
    assert_eq!(report.released.len(), 2);
    assert!(report.released.iter().all(|(_, r)| *r == Release::Removed));
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.5", 32).is_none());
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.6", 32).is_none());
}

#[test]
fn address_deleted_and_re_added_by_someone_else_is_left_alone() {
    if !vrrp_testns::netns_available("address_deleted_and_re_added_by_someone_else_is_left_alone") {
        return;
    }
    let p = pair("ldgre");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let mut ledger = AddressLedger::open(&path).unwrap();
        ledger
            .add(&mut h, &AddressSpec::new(veth0, prefix("198.18.0.5/24")))
            .unwrap();
    });
    // An operator takes the address over. The kernel's creation stamps
    // have 10 ms resolution; a human is slower than that.
    p.ns.ip(&["addr", "del", "198.18.0.5/24", "dev", "veth0"]);
    std::thread::sleep(std::time::Duration::from_millis(30));
    p.ns.ip(&["addr", "add", "198.18.0.5/24", "dev", "veth0"]);
    let path = dir.path().to_path_buf();
    let report = p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        AddressLedger::open(&path).unwrap().cleanup(&mut h).unwrap()
    });
    assert_eq!(report.released[0].1, Release::NotOurs);
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.5", 24).is_some());
}

#[test]
fn re_adding_an_address_an_operator_deleted_owns_the_new_one() {
    if !vrrp_testns::netns_available("re_adding_an_address_an_operator_deleted_owns_the_new_one") {
        return;
    }
    let p = pair("ldgra");
    let name = p.ns.name().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let report = p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let mut ledger = AddressLedger::open(&path).unwrap();
        let vip = AddressSpec::new(veth0, prefix("198.18.0.5/24"));
        ledger.add(&mut h, &vip).unwrap();
        let ok = std::process::Command::new("ip")
            .args(["-n", &name, "addr", "del", "198.18.0.5/24", "dev", "veth0"])
            .status()
            .unwrap();
        assert!(ok.success());
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert_eq!(ledger.add(&mut h, &vip).unwrap(), AddOutcome::Added);
        assert_eq!(
            ledger.add(&mut h, &vip).unwrap(),
            AddOutcome::AlreadyPresent
        );
        assert!(
            ledger.owns(veth0, vip.prefix),
            "still ours after an idempotent add"
        );
        ledger.cleanup(&mut h).unwrap()
    });
    assert_eq!(report.released[0].1, Release::Removed);
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.5", 24).is_none());
}

#[test]
fn pending_entries_after_a_crash_mid_add() {
    if !vrrp_testns::netns_available("pending_entries_after_a_crash_mid_add") {
        return;
    }
    let p = pair("ldgpd");
    // We crashed after recording the intent: for .5 after the kernel added
    // it, for .6 before.
    p.ns.ip(&["addr", "add", "198.18.0.5/24", "dev", "veth0"]);
    let dir = tempfile::tempdir().unwrap();
    let ifindex = common::ip_json(&p.ns, &["link", "show", "dev", "veth0"])[0]["ifindex"].clone();
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let file = serde_json::json!({
        "version": 1,
        "boot_id": boot_id.trim(),
        "entries": [
            {"ifname": "veth0", "ifindex": ifindex, "address": "198.18.0.5/24", "label": null, "state": "pending"},
            {"ifname": "veth0", "ifindex": ifindex, "address": "198.18.0.6/24", "label": null, "state": "pending"}
        ]
    });
    std::fs::write(dir.path().join(LEDGER_FILE), file.to_string()).unwrap();
    let path = dir.path().to_path_buf();
    let report = p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        AddressLedger::open(&path).unwrap().cleanup(&mut h).unwrap()
    });
    let released: Vec<_> = report
        .released
        .iter()
        .map(|(e, r)| (e.address.to_string(), *r))
        .collect();
    assert_eq!(
        released,
        [
            ("198.18.0.5/24".to_string(), Release::Removed),
            ("198.18.0.6/24".to_string(), Release::AlreadyGone)
        ]
    );
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.5", 24).is_none());
}

#[test]
fn ledger_from_a_previous_boot_touches_nothing() {
    if !vrrp_testns::netns_available("ledger_from_a_previous_boot_touches_nothing") {
        return;
    }
    let p = pair("ldgbt");
    p.ns.ip(&["addr", "add", "198.18.0.5/24", "dev", "veth0"]);
    let dir = tempfile::tempdir().unwrap();
    let ifindex = common::ip_json(&p.ns, &["link", "show", "dev", "veth0"])[0]["ifindex"].clone();
    let file = serde_json::json!({
        "version": 1,
        "boot_id": "00000000-0000-0000-0000-000000000000",
        "entries": [
            {"ifname": "veth0", "ifindex": ifindex, "address": "198.18.0.5/24", "label": null,
             "state": "owned", "created": null}
        ]
    });
    std::fs::write(dir.path().join(LEDGER_FILE), file.to_string()).unwrap();
    let path = dir.path().to_path_buf();
    let report = p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        AddressLedger::open(&path).unwrap().cleanup(&mut h).unwrap()
    });
    assert_eq!(report.previous_boot.len(), 1);
    assert!(report.released.is_empty());
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.5", 24).is_some());
    assert_eq!(
        entries_in_file(dir.path())["entries"],
        serde_json::json!([])
    );
}

#[test]
fn address_on_a_deleted_interface_is_already_gone() {
    if !vrrp_testns::netns_available("address_on_a_deleted_interface_is_already_gone") {
        return;
    }
    let p = pair("ldgif");
    p.ns.ip(&[
        "link", "add", "extra0", "type", "veth", "peer", "name", "extra1",
    ]);
    p.ns.ip(&["link", "set", "extra0", "up"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let name = p.ns.name().to_string();
    let report = p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        let extra0 = h.link_by_name("extra0").unwrap().index;
        let mut ledger = AddressLedger::open(&path).unwrap();
        ledger
            .add(&mut h, &AddressSpec::new(extra0, prefix("198.18.0.5/24")))
            .unwrap();
        let ok = std::process::Command::new("ip")
            .args(["-n", &name, "link", "del", "extra0"])
            .status()
            .unwrap();
        assert!(ok.success());
        ledger.cleanup(&mut h).unwrap()
    });
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.released[0].1, Release::AlreadyGone);
}

#[test]
fn corrupt_ledger_is_a_typed_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(LEDGER_FILE);
    std::fs::write(&file, b"{ not json").unwrap();
    let err = AddressLedger::open(dir.path()).unwrap_err();
    assert!(
        matches!(&err, Error::Ledger { path, .. } if *path == file),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );
    std::fs::write(&file, br#"{"version": 99, "boot_id": null, "entries": []}"#).unwrap();
    let err = AddressLedger::open(dir.path()).unwrap_err();
    assert!(err.to_string().contains("version 99"), "{err}");
    std::fs::write(
        &file,
        br#"{"version": 1, "boot_id": null, "entries": [{"ifname": "x", "ifindex": 2, "address": "198.18.0.5/99", "label": null, "state": "pending"}]}"#,
    )
    .unwrap();
    assert!(matches!(
        AddressLedger::open(dir.path()),
        Err(Error::Ledger { .. })
    ));
}

#[test]
fn missing_state_dir_is_created_and_empty() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("run").join("vrrpd");
    let ledger = AddressLedger::open(&state).unwrap();
    assert!(state.is_dir());
    assert!(ledger.entries().is_empty());
    assert_eq!(ledger.path(), state.join(LEDGER_FILE));
}

#[test]
fn prepare_add_changes_nothing_and_the_add_follows() {
    if !vrrp_testns::netns_available("prepare_add_changes_nothing_and_the_add_follows") {
        return;
    }
    let p = pair("ldgprep");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (entries_after_prepare, missing_interface) = p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let mut ledger = AddressLedger::open(&path).unwrap();
        let vip = AddressSpec::new(veth0, prefix("198.18.0.7/32"));
        assert!(!path.join(JOURNAL_FILE).exists());
        ledger.prepare_add(&mut h, &vip).unwrap();
        // Opened ahead, empty.
        assert_eq!(std::fs::read(path.join(JOURNAL_FILE)).unwrap(), b"");
        let entries_after_prepare = ledger.entries().len();
        // What a takeover does next.
        assert_eq!(
            ledger.add_unsettled(&mut h, &vip).unwrap(),
            AddOutcome::Added
        );
        ledger.settle(&mut h).unwrap();
        let gone = AddressSpec::new(
            vrrp_netaddr::IfIndex::new(999_999).unwrap(),
            prefix("198.18.0.8/32"),
        );
        let missing_interface = ledger.prepare_add(&mut h, &gone);
        (entries_after_prepare, missing_interface)
    });
    assert_eq!(entries_after_prepare, 0, "prepare_add recorded an entry");
    assert!(
        matches!(missing_interface, Err(Error::NoSuchInterface(_))),
        "{missing_interface:?}"
    );
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.7", 32).is_some());
    let file = entries_in_file(dir.path());
    let entries = file["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{file}");
    assert_eq!(entries[0]["address"], "198.18.0.7/32");
    assert_eq!(entries[0]["state"], "owned");
}

#[test]
fn a_prepared_journal_left_empty_reads_as_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    // prepare_add needs no kernel state for the journal part: an empty
    // journal (opened ahead of an add that never came) must load cleanly.
    std::fs::write(dir.path().join(JOURNAL_FILE), b"").unwrap();
    let ledger = AddressLedger::open(&path).unwrap();
    assert!(ledger.entries().is_empty());
}

/// A batch (many VIPs): every address added, one journal write, the
/// operator's address and a duplicate told apart, a refused one reported
/// on its own; then one batch removal takes exactly ours away.
#[test]
fn batches_add_and_remove_many_addresses_and_only_ours() {
    if !vrrp_testns::netns_available("batches_add_and_remove_many_addresses_and_only_ours") {
        return;
    }
    let p = pair("ldb");
    p.ns.ip(&["addr", "add", "198.18.0.10/24", "dev", "veth0"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    p.ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        let veth0 = h.link_by_name("veth0").unwrap().index;
        let mut ledger = AddressLedger::open(&path).unwrap();
        let mut specs: Vec<AddressSpec> = (0..500u32)
            .map(|i| {
                let a = std::net::Ipv4Addr::new(198, 18, 1 + (i / 250) as u8, 1 + (i % 250) as u8);
                AddressSpec::new(veth0, IpPrefix::new(a.into(), 32).unwrap())
            })
            .collect();
        // The operator's, a duplicate, and one on a missing interface.
        specs.push(AddressSpec::new(veth0, prefix("198.18.0.10/24")));
        specs.push(specs[0].clone());
        let missing = vrrp_netaddr::IfIndex::new(99_999).unwrap();
        specs.push(AddressSpec::new(missing, prefix("198.18.9.9/32")));
        let outcomes = ledger.add_unsettled_all(&mut h, &specs).unwrap();
        assert_eq!(outcomes.len(), 503);
        assert!(
            outcomes[..500]
                .iter()
                .all(|o| matches!(o, Ok(AddOutcome::Added)))
        );
        assert!(matches!(outcomes[500], Ok(AddOutcome::AlreadyPresent)));
        assert!(matches!(outcomes[501], Ok(AddOutcome::AlreadyPresent)));
        assert!(outcomes[502].is_err(), "{:?}", outcomes[502]);
        assert_eq!(ledger.entries().len(), 500);
        assert!(ledger.entries().iter().all(|e| e.claim == Claim::Pending));
        ledger.settle(&mut h).unwrap();
        assert!(
            ledger
                .entries()
                .iter()
                .all(|e| matches!(e.claim, Claim::Owned { created: Some(_) }))
        );
        let present = h.addresses(Some(veth0)).unwrap();
        assert!(present.len() >= 501, "{} addresses", present.len());
        // Remove half, plus the operator's (not ours: untouched).
        let mut gone: Vec<(vrrp_netaddr::IfIndex, IpPrefix)> =
            specs[..250].iter().map(|s| (s.ifindex, s.prefix)).collect();
        gone.push((veth0, prefix("198.18.0.10/24")));
        let released = ledger.remove_all(&mut h, &gone).unwrap();
        assert!(
            released[..250]
                .iter()
                .all(|r| matches!(r, Ok(Release::Removed)))
        );
        assert!(matches!(released[250], Ok(Release::NotOwned)));
        assert_eq!(ledger.entries().len(), 250);
        let left: Vec<IpPrefix> = h
            .addresses(Some(veth0))
            .unwrap()
            .iter()
            .map(|a| a.prefix)
            .collect();
        assert!(left.contains(&prefix("198.18.0.10/24")));
        assert!(!left.contains(&specs[0].prefix));
        assert!(left.contains(&specs[499].prefix));
    });
    // The journal says the same after a restart: the other 250 are ours.
    let report = restart_and_clean(&p.ns, dir.path().to_path_buf());
    assert_eq!(report.released.len(), 250);
    assert!(report.released.iter().all(|(_, r)| *r == Release::Removed));
    assert!(ip_addr(&p.ns, "veth0", "198.18.0.10", 24).is_some());
    assert!(ip_addr(&p.ns, "veth0", "198.18.2.250", 32).is_none());
}
