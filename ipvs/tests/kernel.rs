//! vrrp-ipvs against a real IPVS: Debian's kernel booted under qemu (the
//! host kernel has none). `in_the_ipvs_guest` boots it once and runs the
//! `#[ignore]`d tests below inside it, each in a network namespace of its
//! own (IPVS state is per namespace), cross-checked with `ipvsadm`.

use std::net::SocketAddr;
use std::time::Duration;

use vrrp_ipvs::{
    AddOutcome, Destination, Error, Family, Forwarding, Handle, IpvsLedger, Persistence, Protocol,
    Release, Scheduler, Service, ServiceFlags, ServiceKey, SyncDaemon, SyncRole, Timeouts,
    TunnelChecksum, TunnelKind,
};
use vrrp_testns::Netns;
use vrrp_testns::guest::{self, assert_in_ipvs_guest};

const GUEST_TESTS: usize = 6;

#[test]
fn in_the_ipvs_guest() {
    if !guest::ipvs_guest_available("vrrp-ipvs kernel tests") {
        return;
    }
    guest::run_ignored_tests_in_ipvs_guest(GUEST_TESTS, Duration::from_secs(600));
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Whether the running kernel has `ip_vs_NAME` as a module.
fn scheduler_module_exists(sched: &Scheduler) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let dir = format!("/lib/modules/{}/kernel/net/netfilter/ipvs", release.trim());
    let prefix = format!("ip_vs_{}.ko", sched.name());
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with(&prefix))
}

/// `ipvsadm -Ln` (with `extra`) in `ns`.
fn ipvsadm(ns: &Netns, extra: &[&str]) -> String {
    let mut argv = vec!["ipvsadm", "-Ln"];
    argv.extend_from_slice(extra);
    ns.exec(&argv)
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn services_of_every_kind_and_scheduler() {
    assert_in_ipvs_guest();
    let ns = Netns::new("ipvs-svc");
    let table = ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let info = h.info().unwrap();
        assert_eq!(info.version.0, 1, "{info:?}");
        let mut added = Vec::new();
        for (i, sched) in Scheduler::KNOWN.into_iter().enumerate() {
            let key = ServiceKey::tcp(sa(&format!("198.18.0.1:{}", 8000 + i)));
            let service = Service::new(key, sched.clone());
            if !scheduler_module_exists(&sched) {
                // twos came with 6.7; Debian 12's kernel is 6.1.
                let e = h.add_service(&service).unwrap_err();
                assert!(e.kernel().is_some_and(|k| k.is_not_found()), "{sched}: {e}");
                continue;
            }
            h.add_service(&service)
                .unwrap_or_else(|e| panic!("{sched}: {e}"));
            let got = h.service(&key).unwrap().expect("the service just added");
            assert_eq!(got.service, service);
            added.push(service);
        }
        let sh = Service::new(ServiceKey::tcp(sa("198.18.0.2:80")), Scheduler::Sh)
            .with_flags(ServiceFlags::SH_FALLBACK | ServiceFlags::SH_PORT)
            .with_persistence(Persistence {
                timeout: Duration::from_secs(300),
                prefix_len: 24,
            });
        let udp_ops = Service::new(
            ServiceKey::Inet {
                protocol: Protocol::Udp,
                addr: sa("198.18.0.3:53"),
            },
            Scheduler::Rr,
        )
        .with_flags(ServiceFlags::ONE_PACKET);
        let sctp6 = Service::new(
            ServiceKey::Inet {
                protocol: Protocol::Sctp,
                addr: sa("[fd00:198:18::1]:3868"),
            },
            Scheduler::Mh,
        )
        .with_flags(ServiceFlags::MH_PORT)
        .with_persistence(Persistence {
            timeout: Duration::from_secs(60),
            prefix_len: 64,
        });
        let fwmark = Service::new(
            ServiceKey::Fwmark {
                mark: 42,
                family: Family::Ipv4,
            },
            Scheduler::Wlc,
        );
        for s in [&sh, &udp_ops, &sctp6, &fwmark] {
            h.add_service(s)
                .unwrap_or_else(|e| panic!("{}: {e}", s.key));
            assert_eq!(h.service(&s.key).unwrap().unwrap().service, *s);
            added.push(s.clone());
        }
        let mut listed: Vec<Service> = h
            .services()
            .unwrap()
            .into_iter()
            .map(|i| i.service)
            .collect();
        listed.sort_by_key(|s| s.key);
        added.sort_by_key(|s| s.key);
        assert_eq!(listed, added);
        // Edit: a new scheduler and no persistence.
        let edited = Service::new(sh.key, Scheduler::Wrr);
        h.update_service(&edited).unwrap();
        assert_eq!(h.service(&sh.key).unwrap().unwrap().service, edited);
        h.delete_service(&udp_ops.key).unwrap();
        assert_eq!(h.service(&udp_ops.key).unwrap(), None);
        added.len() - 1
    });
    let listing = ipvsadm(&ns, &[]);
    for needle in [
        "TCP  198.18.0.1:8000 rr",
        "TCP  198.18.0.1:8012 mh",
        "TCP  198.18.0.2:80 wrr",
        "SCTP [fd00:198:18::1]:3868 mh (mh-port) persistent 60 mask 64",
        "FWM  42 wlc",
    ] {
        assert!(listing.contains(needle), "no {needle:?} in\n{listing}");
    }
    assert!(!listing.contains("198.18.0.3:53"), "{listing}");
    let services = listing.lines().filter(|l| !l.starts_with("  ->")).count() - 2;
    assert_eq!(services, table, "{listing}");
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn destinations_of_every_forwarding_method() {
    assert_in_ipvs_guest();
    let ns = Netns::new("ipvs-dst");
    let key = ServiceKey::tcp(sa("198.18.0.1:80"));
    let dests = [
        Destination::new(sa("198.18.1.1:8080"), Forwarding::Masquerade)
            .with_weight(3)
            .with_thresholds(100, 10),
        Destination::new(sa("198.18.1.2:80"), Forwarding::DirectRouting).with_weight(0),
        Destination::new(sa("198.18.1.3:80"), Forwarding::IPIP),
        Destination::new(
            sa("198.18.1.4:80"),
            Forwarding::Tunnel {
                kind: TunnelKind::Gue { port: 6080 },
                checksum: TunnelChecksum::Remote,
            },
        ),
        Destination::new(
            sa("198.18.1.5:80"),
            Forwarding::Tunnel {
                kind: TunnelKind::Gre,
                checksum: TunnelChecksum::Checksum,
            },
        ),
    ];
    ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        h.add_service(&Service::new(key, Scheduler::Wlc)).unwrap();
        for d in &dests {
            h.add_destination(&key, d)
                .unwrap_or_else(|e| panic!("{:?}: {e}", d.forwarding));
        }
        let mut got: Vec<Destination> = h
            .destinations(&key)
            .unwrap()
            .into_iter()
            .map(|i| i.destination)
            .collect();
        got.sort_by_key(|d| d.addr);
        assert_eq!(got, dests);
        let info = &h.destinations(&key).unwrap()[0];
        assert_eq!(info.active_connections, 0);
        assert_eq!(info.stats.connections, 0);
        // inhibit_on_failure: weight 0 in place.
        let inhibited = dests[0].with_weight(0);
        h.update_destination(&key, &inhibited).unwrap();
        let now = h.destinations(&key).unwrap();
        assert!(now.iter().any(|i| i.destination == inhibited));
        h.delete_destination(&key, dests[1].addr).unwrap();
        let again = h.delete_destination(&key, dests[1].addr).unwrap_err();
        assert!(again.kernel().is_some_and(|k| k.is_not_found()), "{again}");
        assert_eq!(h.destinations(&key).unwrap().len(), dests.len() - 1);
    });
    let listing = ipvsadm(&ns, &[]);
    for needle in [
        "-> 198.18.1.1:8080              Masq    0",
        "-> 198.18.1.3:80                Tunnel  1",
        "-> 198.18.1.4:80                Tunnel  1",
    ] {
        assert!(listing.contains(needle), "no {needle:?} in\n{listing}");
    }
    assert!(!listing.contains("198.18.1.2:80"), "{listing}");
    let tun = ipvsadm(&ns, &["--tun-info"]);
    assert!(tun.contains("gue") && tun.contains("6080"), "{tun}");
    assert!(tun.contains("gre"), "{tun}");
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn the_kernels_refusals_are_typed_errors() {
    assert_in_ipvs_guest();
    let ns = Netns::new("ipvs-err");
    ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let key = ServiceKey::tcp(sa("198.18.0.1:80"));
        h.add_service(&Service::new(key, Scheduler::Rr)).unwrap();
        let dup = h
            .add_service(&Service::new(key, Scheduler::Rr))
            .unwrap_err();
        assert!(dup.kernel().is_some_and(|k| k.is_exists()), "{dup}");
        let missing = ServiceKey::tcp(sa("198.18.0.9:80"));
        let gone = h.delete_service(&missing).unwrap_err();
        assert!(gone.kernel().is_some_and(|k| k.is_not_found()), "{gone}");
        let bad = h
            .add_service(&Service::new(missing, "no-such-sched".parse().unwrap()))
            .unwrap_err();
        assert!(matches!(bad, Error::Kernel(_)), "{bad}");
        assert!(bad.to_string().starts_with("add service: "), "{bad}");
        let no_service = h
            .add_destination(
                &missing,
                &Destination::new(sa("198.18.1.1:80"), Forwarding::Masquerade),
            )
            .unwrap_err();
        assert!(
            no_service.kernel().is_some_and(|k| k.is_not_found()),
            "{no_service}"
        );
    });
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn timeouts_and_the_sync_daemon() {
    assert_in_ipvs_guest();
    let ns = Netns::new("ipvs-sync");
    let peer = Netns::new("ipvs-peer");
    ns.veth_to("eth0", &peer, "eth0");
    ns.ip(&["link", "set", "eth0", "up"]);
    ns.run_in(|| {
        let mut h = Handle::new().unwrap();
        let t = Timeouts {
            tcp: Duration::from_secs(7200),
            tcp_fin: Duration::from_secs(90),
            udp: Duration::from_secs(240),
        };
        h.set_timeouts(&t).unwrap();
        assert_eq!(h.timeouts().unwrap(), t);
        let mut master = SyncDaemon::new(SyncRole::Master, "eth0", 7);
        master.port = Some(8850);
        master.ttl = Some(2);
        h.start_sync_daemon(&master).unwrap();
        let running = h.sync_daemons().unwrap();
        assert_eq!(running.len(), 1, "{running:?}");
        assert_eq!(running[0].role, SyncRole::Master);
        assert_eq!(running[0].interface, "eth0");
        assert_eq!(running[0].sync_id, 7);
        assert_eq!(running[0].port, Some(8850));
        h.stop_sync_daemon(SyncRole::Master).unwrap();
        assert!(h.sync_daemons().unwrap().is_empty());
    });
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn the_ledger_removes_only_what_it_added_even_after_a_crash() {
    assert_in_ipvs_guest();
    let ns = Netns::new("ipvs-ledger");
    // Someone else's service, with one real server, made with ipvsadm.
    ns.exec(&["ipvsadm", "-A", "-t", "198.18.0.9:80", "-s", "rr"]);
    ns.exec(&[
        "ipvsadm",
        "-a",
        "-t",
        "198.18.0.9:80",
        "-r",
        "198.18.1.9:80",
        "-m",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_path_buf();
    let theirs = ServiceKey::tcp(sa("198.18.0.9:80"));
    let ours = ServiceKey::tcp(sa("198.18.0.1:80"));
    let real = Destination::new(sa("198.18.1.1:80"), Forwarding::Masquerade);
    let s1 = state.clone();
    ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        let mut ledger = IpvsLedger::open(&s1).unwrap();
        assert_eq!(
            ledger
                .add_service(&mut h, &Service::new(theirs, Scheduler::Wlc))
                .unwrap(),
            AddOutcome::AlreadyPresent
        );
        assert_eq!(
            ledger.remove_service(&mut h, &theirs).unwrap(),
            Release::NotOwned
        );
        assert!(
            !ledger
                .update_service(&mut h, &Service::new(theirs, Scheduler::Wlc))
                .unwrap()
        );
        assert_eq!(
            ledger
                .add_service(&mut h, &Service::new(ours, Scheduler::Wlc))
                .unwrap(),
            AddOutcome::Added
        );
        assert_eq!(
            ledger.add_destination(&mut h, &ours, &real).unwrap(),
            AddOutcome::Added
        );
        assert_eq!(
            ledger.add_destination(&mut h, &theirs, &real).unwrap(),
            AddOutcome::Added
        );
        let foreign = sa("198.18.1.9:80");
        assert_eq!(
            ledger.remove_destination(&mut h, &theirs, foreign).unwrap(),
            Release::NotOwned
        );
        // A crash: the ledger is dropped with everything still in place.
    });
    let before = ipvsadm(&ns, &[]);
    assert!(
        before.contains("198.18.0.1:80") && before.contains("198.18.1.1:80"),
        "{before}"
    );
    let s2 = state.clone();
    let report = ns.run_in(move || {
        let mut h = Handle::new().unwrap();
        let mut ledger = IpvsLedger::open(&s2).unwrap();
        assert_eq!(ledger.services(), &[ours]);
        let report = ledger.clear(&mut h).unwrap();
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        assert!(ledger.services().is_empty() && ledger.destinations().is_empty());
        (report.services.len(), report.destinations.len())
    });
    assert_eq!(report, (1, 1));
    let after = ipvsadm(&ns, &[]);
    assert!(!after.contains("198.18.0.1:80"), "ours is gone:\n{after}");
    assert!(
        after.contains("TCP  198.18.0.9:80 rr"),
        "theirs stays:\n{after}"
    );
    assert!(
        after.contains("198.18.1.9:80"),
        "their real server stays:\n{after}"
    );
    assert!(
        !after.contains("198.18.1.1:80"),
        "ours in theirs is gone:\n{after}"
    );
}

#[test]
#[ignore = "runs inside the IPVS guest"]
fn a_handle_opened_in_one_namespace_never_sees_anothers_services() {
    assert_in_ipvs_guest();
    let a = Netns::new("ipvs-a");
    let b = Netns::new("ipvs-b");
    a.exec(&["ipvsadm", "-A", "-t", "198.18.0.1:80"]);
    let seen = b.run_in(|| Handle::new().unwrap().services().unwrap().len());
    assert_eq!(seen, 0);
    let seen = a.run_in(|| Handle::new().unwrap().services().unwrap().len());
    assert_eq!(seen, 1);
}
