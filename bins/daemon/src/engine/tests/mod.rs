//! The engine in virtual time: a harness plays the shell (resolving,
//! installing, recording every action in order) and a peer's adverts come
//! from the codec, so start-up, takeover, trackers, sync groups, address
//! faults, waiting instances and reloads run without a socket or a clock.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use vrrp_core::wire::{AddressList, Advertisement, ChecksumMode, Received, VersionFields};
use vrrp_core::{MaxAdverInt, Priority, Vrid};

use super::instance::tests::load;
use super::*;
use crate::config::Config;
use crate::notify::HookState;
use crate::track::{Observation, TrackerKind, TrackerUpdate};

mod addresses;
mod events;
mod links;
mod reload;

const PRIMARY: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
const ETH0: u32 = 2;
const MS: Duration = Duration::from_millis(1);

/// What the harness saw, in order, with the virtual time.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Resolve(String),
    Install(String, Addresses),
    /// An in-place address update: the instance, how many addresses, held.
    Update(String, usize, bool),
    Settle,
    Remove(String),
    Send(String, u8),
    Announce(String, IpAddr),
    Notify(Target, HookState),
    /// A state for the notify FIFOs only.
    Report(Target, HookState),
    Release(String),
}

/// The shell, played in memory.
struct Harness {
    engine: Engine,
    now: Instant,
    /// Instance names by id, as resolved.
    names: std::collections::HashMap<InstanceId, String>,
    seen: Vec<(Instant, Seen)>,
    /// Installs fail while set.
    refuse_installs: bool,
    /// While set, installs are reported only by
    /// [`finish_installs`](Harness::finish_installs), as a shell that
    /// installs off its loop does.
    defer_installs: bool,
    /// The deferred installs' reports, in order.
    deferred: Vec<(InstanceId, Result<(), Vec<String>>)>,
    /// Interfaces that do not exist.
    missing: Vec<String>,
    /// What the engine published, in order, with the virtual time.
    events: Vec<(Instant, Event)>,
}

impl Harness {
    /// Starts `config`, as the daemon does at start-up.
    fn start(text: &str) -> Self {
        let config = load(text);
        let mut h = Harness {
            engine: Engine::new(&config),
            now: Instant::now(),
            names: Default::default(),
            seen: Vec::new(),
            refuse_installs: false,
            defer_installs: false,
            deferred: Vec::new(),
            missing: Vec::new(),
            events: Vec::new(),
        };
        h.apply(config).expect("start-up");
        h
    }

    /// Applies `config` as a reload. What the shell looks up ahead of it
    /// (`needs_resolving`, `address_updates`) must be what the plan
    /// resolves and what the reload updates in place.
    fn apply(&mut self, config: Config) -> Result<ReloadSummary, ReloadError> {
        let ahead = self.engine.needs_resolving(&config);
        let updates: Vec<String> = self
            .engine
            .address_updates(&config)
            .into_iter()
            .map(|(id, k)| {
                assert_eq!(self.name(id), config.instances[k].name);
                config.instances[k].name.clone()
            })
            .collect();
        let plan = self.engine.plan_reload(config);
        let planned: Vec<usize> = plan.to_resolve_indices().map(|(_, k)| k).collect();
        assert_eq!(planned, ahead, "looked up ahead = resolved by the plan");
        let todo: Vec<_> = plan.to_resolve().map(|(id, ic)| (id, ic.clone())).collect();
        let results = todo
            .into_iter()
            .map(|(id, ic)| (id, self.resolve(id, &ic)))
            .collect();
        let mark = self.seen.len();
        let r = self.engine.apply_reload(self.now, plan, results);
        self.pump();
        if r.is_ok() {
            let updated: Vec<String> = self.seen[mark..]
                .iter()
                .filter_map(|(_, s)| match s {
                    Seen::Update(name, ..) => Some(name.clone()),
                    _ => None,
                })
                .collect();
            assert_eq!(updated, updates, "looked up ahead = updated in place");
        }
        r
    }

    fn resolve(
        &mut self,
        id: InstanceId,
        ic: &crate::config::Instance,
    ) -> Result<Resolved, SetupError> {
        self.names.insert(id, ic.name.clone());
        self.seen.push((self.now, Seen::Resolve(ic.name.clone())));
        if self.missing.contains(&ic.interface) {
            return Err(SetupError::waiting_for(format!(
                "interface {}",
                ic.interface
            )));
        }
        if ic.interface == "bad0" {
            return Err(SetupError::invalid_because("bad0 cannot run"));
        }
        Ok(Resolved {
            socket: SocketId(0),
            ifindex: ETH0,
            link_up: true,
            primary: IpAddr::V4(PRIMARY),
            primary_prefix_len: Some(24),
            also_depends_on: vec![7],
            tracked_links: vec![("eth1".into(), true)],
            tracked_files: Vec::new(),
            source_present: !self.missing.contains(&"source".to_string()),
        })
    }

    fn name(&self, id: InstanceId) -> String {
        self.names.get(&id).cloned().unwrap_or_default()
    }

    /// Carries out every action, in order.
    fn pump(&mut self) {
        while let Some(action) = self.engine.poll_action() {
            let seen = match action {
                Action::Resolve { instance, config } => {
                    let r = self.resolve(instance, &config).map_err(|e| e.to_string());
                    self.engine.handle_resolved(self.now, instance, r);
                    continue;
                }
                Action::InstallAddresses { instance, which } => {
                    self.seen
                        .push((self.now, Seen::Install(self.name(instance), which)));
                    let r = if self.refuse_installs {
                        Err(vec!["198.18.0.100/24".to_string()])
                    } else {
                        Ok(())
                    };
                    if self.defer_installs {
                        self.deferred.push((instance, r));
                    } else {
                        self.engine.handle_install_result(self.now, instance, r);
                    }
                    continue;
                }
                Action::UpdateAddresses {
                    instance,
                    config,
                    holds,
                } => {
                    let n = config.vips.len() + config.excluded_vips.len();
                    self.seen
                        .push((self.now, Seen::Update(self.name(instance), n, holds)));
                    self.engine
                        .handle_install_result(self.now, instance, Ok(()));
                    continue;
                }
                Action::SettleAddresses => Seen::Settle,
                Action::RemoveAddresses { instance } => Seen::Remove(self.name(instance)),
                Action::SendAdvertisement { instance, transmit } => {
                    Seen::Send(self.name(instance), transmit.priority.get())
                }
                Action::Announce { instance, address } => {
                    Seen::Announce(self.name(instance), address)
                }
                Action::Notify(t) => {
                    assert!(self.engine.hooks(&t.target).is_some());
                    Seen::Notify(t.target, t.state)
                }
                Action::ReportState(t) => Seen::Report(t.target, t.state),
                Action::Publish(e) => {
                    self.events.push((self.now, e));
                    continue;
                }
                Action::Release { instance, .. } => Seen::Release(self.name(instance)),
            };
            self.seen.push((self.now, seen));
        }
    }

    /// Reports every deferred install, in order, now.
    fn finish_installs(&mut self) {
        for (id, r) in std::mem::take(&mut self.deferred) {
            self.engine.handle_install_result(self.now, id, r);
        }
        self.pump();
    }

    /// Runs every deadline up to `now + d`.
    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some((at, _)) = self.engine.poll_timeout() {
            if at > end {
                break;
            }
            self.now = self.now.max(at);
            self.engine.handle_timeout(self.now);
            self.pump();
        }
        self.now = end;
    }

    /// A VRRPv3 advert from the peer at `priority` for `vrid`, arriving now.
    fn advert(&mut self, vrid: u8, priority: u8) {
        let advert = Advertisement {
            vrid: Vrid::new(vrid).unwrap(),
            priority: Priority::new(priority),
            version_fields: VersionFields::V3 {
                max_adver_int: MaxAdverInt::new(10).unwrap(),
            },
            addresses: AddressList::V4(vec![Ipv4Addr::new(198, 18, 0, 100)]),
        };
        let mut buf = vec![0; advert.buffer_len()];
        advert
            .emit(
                &mut buf,
                PEER.into(),
                GROUP.into(),
                ChecksumMode::PseudoHeader,
            )
            .unwrap();
        let received = Received::from_ipv4_payload(PEER, GROUP, 255, &buf);
        self.engine
            .handle_datagram(self.now, SocketId(0), &received);
        self.pump();
    }

    fn state(&self, name: &str) -> String {
        self.engine
            .status()
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.state)
            .unwrap_or_default()
    }

    /// What was seen since `mark`, without times.
    fn since(&self, mark: usize) -> Vec<Seen> {
        self.seen[mark..].iter().map(|(_, s)| s.clone()).collect()
    }
}

const ONE: &str = r#"
[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 100
advert_interval = "100ms"
vips = ["198.18.0.100/24"]
"#;

fn vip() -> IpAddr {
    "198.18.0.100".parse().unwrap()
}

#[test]
fn a_backup_takes_over_at_master_down_and_advertises_before_it_installs() {
    let mut h = Harness::start(ONE);
    assert_eq!(h.state("A"), "backup");
    let t0 = h.now;
    let mark = h.seen.len();
    h.advance(400 * MS);
    let first = h.seen[mark].0;
    // 3 × 100 ms + Skew_Time (156/256 × 100 ms = 60.9375 ms).
    assert_eq!(
        first - t0,
        Duration::from_micros(360_937) + Duration::from_nanos(500)
    );
    let got: Vec<_> = h.seen[mark..]
        .iter()
        .filter(|(t, _)| *t == first)
        .map(|(_, s)| s.clone())
        .collect();
    // The ledger settles after the install (the shell's worker reports
    // the install before it settles); the address is announced once it
    // is installed.
    assert_eq!(
        got[..4],
        [
            Seen::Send("A".into(), 100),
            Seen::Install("A".into(), Addresses::All),
            Seen::Settle,
            Seen::Announce("A".into(), vip()),
        ]
    );
    assert_eq!(h.state("A"), "active");
}

#[test]
fn an_advert_from_a_higher_priority_keeps_it_backup_and_routes_by_vrid() {
    let mut h = Harness::start(ONE);
    for _ in 0..10 {
        h.advance(100 * MS);
        h.advert(51, 200);
    }
    assert_eq!(h.state("A"), "backup");
    h.advert(52, 200);
    assert_eq!(h.engine.global_discards().get("vrid_mismatch"), Some(&1));
    // Garbage is counted for what is wrong with it, whatever its second
    // byte says (Hardening #9: it was all "vrid_mismatch").
    let garbage = [0x51, 52, 0xff, 1, 0, 0, 0, 0, 1, 2, 3, 4];
    let received = Received::from_ipv4_payload(PEER, GROUP, 255, &garbage);
    h.engine.handle_datagram(h.now, SocketId(0), &received);
    assert_eq!(h.engine.global_discards().get("bad_version"), Some(&1));
    assert_eq!(h.engine.global_discards().get("vrid_mismatch"), Some(&1));
    let stats = h.engine.stats();
    assert!(
        stats[0]
            .counters
            .get("advertisement_rcvd")
            .copied()
            .unwrap_or(0)
            >= 10
    );
}

#[test]
fn a_tracker_at_weight_zero_faults_the_instance_and_its_recovery_brings_it_back() {
    let mut h = Harness::start(
        r#"
[track_script.chk]
command = ["/bin/true"]

[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 100
advert_interval = "100ms"
vips = ["198.18.0.100/24"]
track_script = [{ name = "chk", weight = 0 }]
"#,
    );
    assert_eq!(
        h.engine.used_trackers(),
        vec![(TrackerKind::Script, "chk".to_string())]
    );
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    let update = |up| TrackerUpdate {
        kind: TrackerKind::Script,
        name: "chk".into(),
        observation: Observation::Up(up),
        detail: String::new(),
    };
    let mark = h.seen.len();
    h.engine.handle_tracker(h.now, &update(false));
    h.pump();
    assert_eq!(h.state("A"), "fault");
    let got = h.since(mark);
    assert!(
        got.contains(&Seen::Send("A".into(), 0)),
        "priority 0 on the way out: {got:?}"
    );
    assert!(got.contains(&Seen::Remove("A".into())));
    h.engine.handle_tracker(h.now, &update(true));
    h.pump();
    assert_eq!(h.state("A"), "backup");
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
}

#[test]
fn a_weighted_tracker_lowers_the_priority_below_a_peer() {
    let mut h = Harness::start(
        r#"
[track_script.chk]
command = ["/bin/true"]

[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 150
advert_interval = "100ms"
vips = ["198.18.0.100/24"]
track_script = [{ name = "chk", weight = -60 }]
"#,
    );
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    h.engine.handle_tracker(
        h.now,
        &TrackerUpdate {
            kind: TrackerKind::Script,
            name: "chk".into(),
            observation: Observation::Up(false),
            detail: String::new(),
        },
    );
    h.pump();
    assert_eq!(h.engine.status()[0].effective_priority, 90);
    h.advert(51, 120);
    assert_eq!(h.state("A"), "backup");
}

/// keepalived's notify_priority_changes: each change of the effective
/// priority is reported (MASTER_PRIORITY while Active, BACKUP_PRIORITY
/// otherwise), for notify FIFOs; without it, nothing.
#[test]
fn priority_changes_are_reported_when_asked() {
    let text = |on: bool| {
        format!(
            r#"
[track_script.chk]
command = ["/bin/true"]

[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 150
advert_interval = "100ms"
vips = ["198.18.0.100/24"]
track_script = [{{ name = "chk", weight = -60 }}]
notify_priority_changes = {on}
"#
        )
    };
    let update = |up| TrackerUpdate {
        kind: TrackerKind::Script,
        name: "chk".into(),
        observation: Observation::Up(up),
        detail: String::new(),
    };
    let reported = |h: &Harness, mark: usize| -> Vec<HookState> {
        h.since(mark)
            .into_iter()
            .filter_map(|s| match s {
                Seen::Notify(_, st)
                    if matches!(st, HookState::MasterPriority | HookState::BackupPriority) =>
                {
                    Some(st)
                }
                _ => None,
            })
            .collect()
    };
    let mut h = Harness::start(&text(true));
    h.advance(400 * MS);
    assert_eq!(h.state("A"), "active");
    let mark = h.seen.len();
    h.engine.handle_tracker(h.now, &update(false));
    h.pump();
    h.advert(51, 120);
    assert_eq!(h.state("A"), "backup");
    h.engine.handle_tracker(h.now, &update(true));
    h.pump();
    assert_eq!(
        reported(&h, mark),
        [HookState::MasterPriority, HookState::BackupPriority]
    );
    // The same tracker does not change the priority again: nothing.
    let mark = h.seen.len();
    h.engine.handle_tracker(h.now, &update(true));
    h.pump();
    assert!(reported(&h, mark).is_empty());
    let mut off = Harness::start(&text(false));
    off.advance(400 * MS);
    let mark = off.seen.len();
    off.engine.handle_tracker(off.now, &update(false));
    off.pump();
    assert!(reported(&off, mark).is_empty());
}

const GROUPED: &str = r#"
[[instance]]
name = "A"
interface = "eth0"
vrid = 51
priority = 100
advert_interval = "100ms"
vips = ["198.18.0.100/24"]

[[instance]]
name = "B"
interface = "eth0"
vrid = 52
priority = 100
advert_interval = "100ms"
vips = ["198.18.0.101/24"]

[[sync_group]]
name = "G"
instances = ["A", "B"]

[sync_group.notify]
any = ["/bin/true"]
"#;

#[test]
fn a_sync_group_moves_together_and_reports_once() {
    let mut h = Harness::start(GROUPED);
    h.advance(400 * MS);
    assert_eq!(
        (h.state("A").as_str(), h.state("B").as_str()),
        ("active", "active")
    );
    let group = Target::Group("G".into());
    let reports = |h: &Harness, state| {
        h.seen
            .iter()
            .filter(|(_, s)| *s == Seen::Notify(group.clone(), state))
            .count()
    };
    assert_eq!(reports(&h, HookState::Master), 1, "{:?}", h.seen);
    // A higher priority for A alone: B follows it to Backup.
    h.advert(51, 200);
    assert_eq!(
        (h.state("A").as_str(), h.state("B").as_str()),
        ("backup", "backup")
    );
    // Once at start-up (both Backup), once now.
    assert_eq!(reports(&h, HookState::Backup), 2);
}

#[test]
fn a_member_whose_interface_is_deleted_waits_and_holds_its_group_in_fault() {
    let mut h = Harness::start(GROUPED);
    h.advance(400 * MS);
    let mark = h.seen.len();
    // Interface 7 is a device A and B depend on (a VIP's, say): an Active
    // instance that loses it hands over with priority 0.
    h.missing.push("eth0".into());
    h.engine.handle_link(h.now, 7, "vip0", LinkState::Removed);
    h.pump();
    let got = h.since(mark);
    assert!(got.contains(&Seen::Send("A".into(), 0)), "{got:?}");
    assert!(got.contains(&Seen::Release("A".into())));
    assert!(got.contains(&Seen::Release("B".into())));
    assert_eq!(h.engine.instance_count(), (0, 2));
    assert!(h.engine.status()[0].waiting.is_some());
    // Retried every second while missing; back when it is.
    h.advance(Duration::from_millis(2500));
    let resolves = h.seen[mark..]
        .iter()
        .filter(|(_, s)| *s == Seen::Resolve("A".into()))
        .count();
    assert!(resolves >= 2, "{resolves}");
    h.missing.clear();
    h.engine.handle_link(h.now, ETH0, "eth0", LinkState::Up);
    h.pump();
    assert_eq!(h.engine.instance_count(), (2, 0));
    h.advance(400 * MS);
    assert_eq!(
        (h.state("A").as_str(), h.state("B").as_str()),
        ("active", "active")
    );
}

#[test]
fn an_instance_missing_its_interface_at_start_waits_in_fault_without_failing() {
    let config = load(ONE);
    let mut h = Harness {
        engine: Engine::new(&config),
        now: Instant::now(),
        names: Default::default(),
        seen: Vec::new(),
        refuse_installs: false,
        defer_installs: false,
        deferred: Vec::new(),
        missing: vec!["eth0".into()],
        events: Vec::new(),
    };
    let summary = h.apply(config).unwrap();
    assert_eq!(summary.waiting, 1);
    assert_eq!(h.state("A"), "fault");
    let (at, exact) = h.engine.poll_timeout().expect("a retry");
    assert_eq!((at - h.now, exact), (Duration::from_secs(1), false));
    h.missing.clear();
    h.advance(Duration::from_secs(1));
    assert_eq!(h.state("A"), "backup");
}

#[test]
fn shutdown_sends_priority_zero_removes_and_releases_everything() {
    let mut h = Harness::start(ONE);
    h.advance(400 * MS);
    let mark = h.seen.len();
    h.engine.shutdown(h.now);
    h.pump();
    assert_eq!(
        h.since(mark),
        [
            Seen::Send("A".into(), 0),
            Seen::Remove("A".into()),
            Seen::Release("A".into()),
        ]
    );
    assert_eq!(h.state("A"), "initialize");
}
