//! The dumps against keepalived 2.2.7's own, for the configuration they
//! were captured with (testdata/keepalived-dumps, see its README.md), and
//! through the parsers of the exporters that read them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::*;
use crate::config::{Config, KeepalivedOptions};
use crate::control::{LastTransition, TrackerStatus};

const CONF: &str = include_str!("../../../../../testdata/keepalived-dumps/keepalived.conf");

/// keepalived's dumps, by capture.
struct Capture {
    data: &'static str,
    stats: &'static str,
    json: &'static str,
}

const MASTER: Capture = Capture {
    data: include_str!("../../../../../testdata/keepalived-dumps/keepalived.data"),
    stats: include_str!("../../../../../testdata/keepalived-dumps/keepalived.stats"),
    json: include_str!("../../../../../testdata/keepalived-dumps/keepalived.json"),
};
const BACKUP: Capture = Capture {
    data: include_str!("../../../../../testdata/keepalived-dumps/keepalived-backup.data"),
    stats: include_str!("../../../../../testdata/keepalived-dumps/keepalived-backup.stats"),
    json: include_str!("../../../../../testdata/keepalived-dumps/keepalived-backup.json"),
};
const FAULT: Capture = Capture {
    data: include_str!("../../../../../testdata/keepalived-dumps/keepalived-fault.data"),
    stats: include_str!("../../../../../testdata/keepalived-dumps/keepalived-fault.stats"),
    json: include_str!("../../../../../testdata/keepalived-dumps/keepalived-fault.json"),
};

fn config() -> Config {
    let options = KeepalivedOptions {
        follow_includes: false,
        ..KeepalivedOptions::default()
    };
    match crate::config::check_keepalived_str(CONF, Path::new("keepalived.conf"), &options) {
        Ok((config, _warnings)) => config,
        Err(e) => panic!("the reference configuration: {e:?}"),
    }
}

/// Which capture to reproduce.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scene {
    /// Alone on the link: both instances Active.
    Master,
    /// The peer (priority 200, 198.18.0.2) took over: both Backup.
    Backup,
    /// veth2 (VI_2's track_interface) went down: VI_2 in Fault, VI_1 in
    /// Fault through the sync group.
    Fault,
}

/// The engine's view of `config`'s instances in `scene`, with the
/// counters of keepalived's stats capture.
fn instances(config: &Config, scene: Scene) -> Vec<DumpInstance> {
    config
        .instances
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let vi2 = c.name == "VI_2";
            let (state, reason, at) = match scene {
                Scene::Master => (
                    "active",
                    "master_down",
                    [1_796_694_273_301, 1_796_694_273_305],
                ),
                Scene::Backup => (
                    "backup",
                    "higher_priority",
                    [1_796_694_297_964, 1_796_694_297_972],
                ),
                Scene::Fault if vi2 => ("fault", "fault", [0, 1_796_694_308_277]),
                Scene::Fault => ("fault", "sync_group_fault", [1_796_694_308_277, 0]),
            };
            let from = match scene {
                Scene::Master => "backup",
                Scene::Backup => "active",
                Scene::Fault => "backup",
            };
            let last = LastTransition {
                at_unix_ms: at[i],
                from: from.into(),
                to: state.into(),
                reason: reason.into(),
            };
            let mut trackers = Vec::new();
            if vi2 {
                let link_up = scene != Scene::Fault;
                trackers.push(TrackerStatus {
                    kind: "track_interface".into(),
                    name: "veth2".into(),
                    up: link_up,
                    weight_applied: link_up.then_some(0),
                });
                trackers.push(TrackerStatus {
                    kind: "track_script".into(),
                    name: "chk_true".into(),
                    up: true,
                    weight_applied: Some(0),
                });
            }
            let active = scene == Scene::Master;
            let status = InstanceStatus {
                name: c.name.clone(),
                interface: c.interface.clone(),
                vrid: c.vrid.get(),
                version: c.version.number(),
                state: state.into(),
                priority: c.priority.get(),
                effective_priority: c.priority.get(),
                master_adver_interval_ms: 1000,
                active_router: (scene == Scene::Backup).then(|| "198.18.0.2".into()),
                vips: c.vips.iter().map(ToString::to_string).collect(),
                holds_vips: active,
                last_transition: Some(last.clone()),
                waiting: None,
                vips_installed: active,
                trackers,
            };
            let (rcvd, sent, transitions): (u64, u64, &[(&str, u64)]) = match scene {
                Scene::Master => (0, 17, &[("backup", 1), ("active", 1)]),
                Scene::Backup => (6, 25, &[("backup", 2), ("active", 1)]),
                Scene::Fault => (11, 25, &[("backup", 2), ("active", 1), ("fault", 1)]),
            };
            let mut counters: BTreeMap<String, u64> = vrrp_core::router::Stats::default()
                .named()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            counters.insert("advertisement_rcvd".into(), rcvd);
            counters.insert("advertisement_sent".into(), sent);
            counters.insert("master_transitions".into(), 1);
            let stats = InstanceStats {
                name: c.name.clone(),
                counters,
                discards: BTreeMap::new(),
                transitions: transitions
                    .iter()
                    .map(|(k, v)| (k.to_string(), *v))
                    .collect(),
                last_transition: Some(last),
                errors: BTreeMap::new(),
                transitions_by_reason: Vec::new(),
            };
            DumpInstance {
                config: c.clone(),
                status,
                stats,
            }
        })
        .collect()
}

fn capture(scene: Scene) -> &'static Capture {
    match scene {
        Scene::Master => &MASTER,
        Scene::Backup => &BACKUP,
        Scene::Fault => &FAULT,
    }
}

const SCENES: [Scene; 3] = [Scene::Master, Scene::Backup, Scene::Fault];

// ---------------------------------------------------------------- stats

#[test]
fn stats_is_keepalived_s_text() {
    let config = config();
    for scene in SCENES {
        let ours = stats(&instances(&config, scene));
        let theirs = capture(scene).stats;
        // Line by line, keys first (so that a mismatch says where).
        let key = |l: &str| l.split(':').next().unwrap_or("").to_string();
        let ours_keys: Vec<String> = ours.lines().map(key).collect();
        let theirs_keys: Vec<String> = theirs.lines().map(key).collect();
        assert_eq!(ours_keys, theirs_keys, "{scene:?}");
        // Fed keepalived's counter values, the text is keepalived's.
        assert_eq!(ours, theirs, "{scene:?}");
    }
}

#[test]
fn released_master_counts_the_stays_in_active_that_ended() {
    let config = config();
    let mut list = instances(&config, Scene::Master);
    let d = &mut list[0];
    d.stats.transitions.insert("active".into(), 3);
    let text = stats(&list[..1]);
    assert!(text.contains("  Became master: 3\n  Released master: 2\n"));
    list[0].status.state = "backup".into();
    let text = stats(&list[..1]);
    assert!(text.contains("  Became master: 3\n  Released master: 3\n"));
}

#[test]
fn no_instances_no_stats() {
    assert_eq!(stats(&[]), "");
}

// ----------------------------------------------------------------- data

mod data;
mod exporters;
mod json;

#[test]
fn kinds_name_keepalived_s_files_and_signals() {
    assert_eq!(DumpKind::Data.file_name(), "keepalived.data");
    assert_eq!(DumpKind::Stats.file_name(), "keepalived.stats");
    assert_eq!(DumpKind::Json.file_name(), "keepalived.json");
    assert_eq!(DumpKind::Data.signal(), 10);
    assert_eq!(DumpKind::Stats.signal(), 12);
    #[cfg(target_env = "gnu")]
    assert_eq!(DumpKind::Json.signal(), 36);
    for k in DumpKind::ALL {
        assert_eq!(DumpKind::from_signal(k.signal()), Some(k));
    }
    assert_eq!(DumpKind::from_signal(libc::SIGHUP), None);
}

#[test]
fn render_never_panics_on_odd_status() {
    let config = config();
    let mut list = instances(&config, Scene::Backup);
    for d in &mut list {
        d.status.master_adver_interval_ms = u64::MAX;
        d.status.effective_priority = 0;
        d.status.last_transition = Some(LastTransition {
            at_unix_ms: u64::MAX,
            from: String::new(),
            to: String::new(),
            reason: String::new(),
        });
        d.status.active_router = None;
        d.status.waiting = Some("no interface".into());
        d.stats.counters.clear();
        d.stats.transitions.insert("active".into(), u64::MAX);
    }
    for kind in DumpKind::ALL {
        let text = render(kind, &config, &list);
        assert!(text.ends_with('\n'));
    }
    let empty = Config::default();
    assert_eq!(render(DumpKind::Json, &empty, &[]), "[]\n");
    assert!(
        render(DumpKind::Data, &empty, &[]).starts_with("------< Global definitions >------\n")
    );
}
