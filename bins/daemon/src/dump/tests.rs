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

const CONF: &str = include_str!("../../../../testdata/keepalived-dumps/keepalived.conf");

/// keepalived's dumps, by capture.
struct Capture {
    data: &'static str,
    stats: &'static str,
    json: &'static str,
}

const MASTER: Capture = Capture {
    data: include_str!("../../../../testdata/keepalived-dumps/keepalived.data"),
    stats: include_str!("../../../../testdata/keepalived-dumps/keepalived.stats"),
    json: include_str!("../../../../testdata/keepalived-dumps/keepalived.json"),
};
const BACKUP: Capture = Capture {
    data: include_str!("../../../../testdata/keepalived-dumps/keepalived-backup.data"),
    stats: include_str!("../../../../testdata/keepalived-dumps/keepalived-backup.stats"),
    json: include_str!("../../../../testdata/keepalived-dumps/keepalived-backup.json"),
};
const FAULT: Capture = Capture {
    data: include_str!("../../../../testdata/keepalived-dumps/keepalived-fault.data"),
    stats: include_str!("../../../../testdata/keepalived-dumps/keepalived-fault.stats"),
    json: include_str!("../../../../testdata/keepalived-dumps/keepalived-fault.json"),
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

/// A `keepalived.data` file cut into sections, each into objects (the
/// lines with one leading space), each into fields (three spaces) and
/// their list items (five).
#[derive(Debug, Default)]
struct Section {
    title: String,
    objects: Vec<Object>,
}

#[derive(Debug, Default, Clone)]
struct Object {
    header: String,
    fields: Vec<Field>,
}

#[derive(Debug, Default, Clone, PartialEq)]
struct Field {
    key: String,
    value: String,
    items: Vec<String>,
}

/// The key of a field line: the text before ` = `, ` :` or `:`, or the
/// line itself (`Multicast address 224.0.0.18` keeps its address, `fd_in
/// 13, fd_out 14` is `fd_in`).
fn field(line: &str) -> Field {
    let t = line.trim();
    let (key, value) = if let Some((k, v)) = t.split_once(" = ") {
        (k, v)
    } else if let Some((k, v)) = t.split_once(" :") {
        (k, v)
    } else if let Some((k, v)) = t.split_once(':') {
        (k, v)
    } else if t.starts_with("fd_in ") {
        ("fd_in", t)
    } else {
        (t, "")
    };
    Field {
        key: key.trim().to_string(),
        value: value.trim().to_string(),
        items: Vec::new(),
    }
}

fn sections(text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for line in text.lines() {
        if let Some(title) = line
            .strip_prefix("------< ")
            .and_then(|l| l.strip_suffix(" >------"))
        {
            out.push(Section {
                title: title.into(),
                objects: Vec::new(),
            });
            continue;
        }
        let Some(section) = out.last_mut() else {
            panic!("text before the first section: {line:?}");
        };
        if let Some(item) = line.strip_prefix("     ") {
            let object = section.objects.last_mut().expect("an object");
            let field = object.fields.last_mut().expect("a field");
            field.items.push(item.to_string());
        } else if line.starts_with("   ") {
            let object = section.objects.last_mut().expect("an object");
            object.fields.push(field(line));
        } else if let Some(header) = line.strip_prefix(' ') {
            section.objects.push(Object {
                header: header.to_string(),
                fields: Vec::new(),
            });
        } else {
            panic!("unexpected line {line:?}");
        }
    }
    out
}

fn section<'a>(sections: &'a [Section], title: &str) -> &'a Section {
    match sections.iter().find(|s| s.title == title) {
        Some(s) => s,
        None => panic!("no section {title}"),
    }
}

/// keepalived's instance-block keys that vrrpd leaves out on purpose: the
/// next timer (`Read timeout`, outside FAULT), the Active router's
/// priority (`Master priority`), socket numbers (`fd_in`). The engine
/// reports none of them.
fn left_out(key: &str, value: &str) -> bool {
    (key == "Read timeout" && value != "DISABLED") || key == "Master priority" || key == "fd_in"
}

/// Values that legitimately differ: times (local time, milliseconds),
/// and `Using src_ip` of a multicast instance (keepalived prints the
/// interface's address, which vrrpd's status does not report).
fn may_differ(key: &str) -> bool {
    matches!(key, "Last transition" | "Using src_ip")
}

#[test]
fn data_has_keepalived_s_sections_and_instance_fields() {
    let config = config();
    for scene in SCENES {
        let ours_text = data(&config, &instances(&config, scene));
        let ours = sections(&ours_text);
        let theirs = sections(capture(scene).data);
        // The same sections, in keepalived's order.
        let ours_titles: Vec<&str> = ours.iter().map(|s| s.title.as_str()).collect();
        let theirs_titles: Vec<&str> = theirs
            .iter()
            .map(|s| s.title.as_str())
            .filter(|t| ours_titles.contains(t))
            .collect();
        assert_eq!(
            ours_titles,
            [
                "Global definitions",
                "VRRP Topology",
                "VRRP Sync groups",
                "VRRP Scripts"
            ]
        );
        assert_eq!(ours_titles, theirs_titles, "{scene:?}");

        // Each instance block: keepalived's keys in its order, and the
        // same values but for times and src_ip.
        let ours_top = section(&ours, "VRRP Topology");
        let theirs_top = section(&theirs, "VRRP Topology");
        assert_eq!(ours_top.objects.len(), theirs_top.objects.len());
        for (o, t) in ours_top.objects.iter().zip(&theirs_top.objects) {
            assert_eq!(o.header, t.header);
            let t_fields: Vec<&Field> = t
                .fields
                .iter()
                .filter(|f| !left_out(&f.key, &f.value))
                .collect();
            let o_keys: Vec<&str> = o.fields.iter().map(|f| f.key.as_str()).collect();
            let t_keys: Vec<&str> = t_fields.iter().map(|f| f.key.as_str()).collect();
            assert_eq!(o_keys, t_keys, "{scene:?} {}", o.header);
            for (of, tf) in o.fields.iter().zip(t_fields) {
                if !may_differ(&of.key) {
                    assert_eq!(of, tf, "{scene:?} {}", o.header);
                }
            }
            // The values the exporters read, named.
            let get = |fields: &[Field], key: &str| {
                fields
                    .iter()
                    .find(|f| f.key == key)
                    .map(|f| (f.value.clone(), f.items.clone()))
            };
            for key in [
                "State",
                "Wantstate",
                "Interface",
                "Virtual Router ID",
                "Priority",
                "Effective priority",
                "Advert interval",
                "Gratuitous ARP delay",
            ] {
                assert_eq!(get(&o.fields, key), get(&t.fields, key), "{key}");
                assert!(get(&o.fields, key).is_some(), "{key}");
            }
            let vips = |fields: &[Field]| {
                fields
                    .iter()
                    .find(|f| f.key.starts_with("Virtual IP ("))
                    .map(|f| (f.key.clone(), f.items.clone()))
            };
            assert_eq!(vips(&o.fields), vips(&t.fields));
        }

        // The sync group block is keepalived's.
        let ours_groups = section(&ours, "VRRP Sync groups");
        let theirs_groups = section(&theirs, "VRRP Sync groups");
        assert_eq!(
            ours_groups.objects.len(),
            theirs_groups.objects.len(),
            "{scene:?}"
        );
        for (o, t) in ours_groups.objects.iter().zip(&theirs_groups.objects) {
            assert_eq!(o.header, t.header, "{scene:?}");
            assert_eq!(o.fields, t.fields, "{scene:?}");
        }

        // Script blocks: keepalived's keys; the command (keepalived
        // resolves `/bin/true` to `/usr/bin/true`) and the timeout
        // (keepalived prints 0 for "the interval", vrrpd the interval)
        // differ.
        let ours_scripts = section(&ours, "VRRP Scripts");
        let theirs_scripts = section(&theirs, "VRRP Scripts");
        assert_eq!(ours_scripts.objects.len(), theirs_scripts.objects.len());
        for (o, t) in ours_scripts.objects.iter().zip(&theirs_scripts.objects) {
            assert_eq!(o.header, t.header);
            let keys = |x: &Object| x.fields.iter().map(|f| f.key.clone()).collect::<Vec<_>>();
            assert_eq!(keys(o), keys(t));
            for (of, tf) in o.fields.iter().zip(&t.fields) {
                if !matches!(of.key.as_str(), "Command" | "Timeout") {
                    assert_eq!(of, tf, "{scene:?}");
                }
            }
        }
        assert!(ours_text.ends_with('\n') && !ours_text.ends_with("\n\n"));
        assert!(!ours_text.contains('\t'));
    }
}

#[test]
fn data_global_section_names_what_vrrpd_has() {
    let config = config();
    let text = data(&config, &instances(&config, Scene::Master));
    let global: Vec<&str> = text
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("------<"))
        .collect();
    assert_eq!(global.first(), Some(&" Network namespace = (default)"));
    assert!(global.contains(&" Router ID = test1"));
    assert!(global.contains(&" Disable local IGMP = no"));
    assert!(global.contains(&" Script security disabled"));
    // Every line is a key of keepalived's global section.
    let theirs: Vec<String> = sections(MASTER.data)[0]
        .objects
        .iter()
        .map(|o| field(&o.header).key)
        .collect();
    for line in global {
        let key = field(line).key;
        let known = theirs.contains(&key)
            || ["nftables table name", "nftables base chain priority"].contains(&key.as_str());
        assert!(known, "{line:?} is not keepalived's");
    }
}

#[test]
fn data_never_prints_a_state_exporters_refuse() {
    let config = config();
    let mut list = instances(&config, Scene::Master);
    for state in ["initialize", "backup", "active", "fault", "bogus", ""] {
        list[0].status.state = state.into();
        let text = data(&config, &list);
        let topology = text
            .lines()
            .take_while(|l| !l.starts_with("------< VRRP Sync groups"));
        for l in topology {
            if let Some(v) = l
                .strip_prefix("   State = ")
                .or(l.strip_prefix("   Wantstate = "))
            {
                assert!(["INIT", "BACKUP", "MASTER", "FAULT"].contains(&v), "{v}");
            }
        }
    }
}

// ----------------------------------------------------------------- json

/// A JSON object with its keys in the file's order.
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<V>, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, V>()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V2(std::marker::PhantomData))
    }
}

impl<V> Ordered<V> {
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

type Dump = Vec<Ordered<Ordered<Value>>>;

fn parse(text: &str) -> Dump {
    match serde_json::from_str(text) {
        Ok(d) => d,
        Err(e) => panic!("{e}: {text}"),
    }
}

#[test]
fn json_has_keepalived_s_keys_and_values() {
    let config = config();
    for scene in SCENES {
        let list = instances(&config, scene);
        let text = render(DumpKind::Json, &config, &list);
        assert_eq!(text.lines().count(), 1);
        assert!(text.ends_with("]\n"));
        let ours = parse(&text);
        let theirs = parse(capture(scene).json);
        assert_eq!(ours.len(), theirs.len());
        for (o, t) in ours.iter().zip(&theirs) {
            assert_eq!(o.keys(), ["data", "stats"]);
            assert_eq!(o.keys(), t.keys());
            for part in ["data", "stats"] {
                let (Some(od), Some(td)) = (o.get(part), t.get(part)) else {
                    panic!("no {part}");
                };
                assert_eq!(od.keys(), td.keys(), "{scene:?} {part}");
            }
            let (Some(od), Some(td)) = (o.get("data"), t.get("data")) else {
                panic!("no data");
            };
            for key in [
                "iname",
                "state",
                "wantstate",
                "vrid",
                "ifp_ifname",
                "vips",
                "base_priority",
                "adver_int",
                "version",
                "auth_type",
            ] {
                assert_eq!(od.get(key), td.get(key), "{scene:?} {key}");
            }
            // Everything else too, but for times, the Active router's
            // priority (not reported by the engine) and the script path
            // (keepalived resolves /bin/true).
            for (key, value) in &od.0 {
                if !["last_transition", "master_priority", "track_script"].contains(&key.as_str()) {
                    assert_eq!(Some(value), td.get(key), "{scene:?} {key}");
                }
            }
        }
        // keepalived's number formats: integers where it prints %g of a
        // whole number.
        assert!(text.contains("\"garp_delay\":5,"));
        assert!(text.contains("\"adver_int\":1,\"master_adver_int\":1,"));
        let real = std::fs::canonicalize("/bin/true").unwrap();
        let real = real.to_string_lossy().replace('/', "\\/");
        assert!(
            text.contains(&format!("\"track_script\":[\"'{real}'\"]")),
            "{text}"
        );
        assert!(text.contains("\"198.18.1.11\\/24 dev veth0 scope global label veth0:1"));
    }
}

#[test]
fn json_last_transition_is_printf_f() {
    let config = config();
    let text = json(&instances(&config, Scene::Master));
    assert!(text.contains("\"last_transition\":1796694273.301000,"));
    // Without the configuration, scripts are listed by name.
    assert!(text.contains("\"track_script\":[\"chk_true\"]"));
}

#[test]
fn json_strings_are_escaped_and_stay_valid() {
    let mut out = String::new();
    json::push_string(&mut out, "a/b\"c\\d\te\nf\u{1}g\u{7f}é");
    assert_eq!(out, "\"a\\/b\\\"c\\\\d\\te\\nf\\u0001g\\u007fé\"");
    let back: String = serde_json::from_str(&out).unwrap();
    assert_eq!(back, "a/b\"c\\d\te\nf\u{1}g\u{7f}é");
}

#[test]
fn json_sub_second_intervals_are_g() {
    let config = config();
    let mut list = instances(&config, Scene::Master);
    list[1].config.advert_interval = std::time::Duration::from_millis(500);
    list[1].status.master_adver_interval_ms = 250;
    let text = json(&list);
    assert!(text.contains("\"adver_int\":0.5,\"master_adver_int\":0.25,"));
}

// ------------------------------------------------------- exporter parsers

/// What mehdy/keepalived-exporter takes from `keepalived.data`
/// (`ParseVRRPData`): per instance, its state, wanted state, interface,
/// gratuitous ARP delay, VRID, VIPs; errors where it errors.
#[derive(Debug, Default, PartialEq)]
struct MehdyData {
    state: usize,
    wantstate: usize,
    intf: String,
    garp_delay: i64,
    vrid: i64,
    vips: Vec<String>,
}

fn mehdy_state(v: &str) -> Result<usize, String> {
    ["INIT", "BACKUP", "MASTER", "FAULT"]
        .iter()
        .position(|s| *s == v)
        .ok_or_else(|| format!("unknown state {v:?}"))
}

fn mehdy_parse_data(text: &str) -> Result<Vec<(String, MehdyData)>, String> {
    let mut out: Vec<(String, MehdyData)> = Vec::new();
    let mut current = false;
    let mut key = String::new();
    for l in text.lines() {
        if l.starts_with(" VRRP Instance") && l.contains('=') {
            let name = l.trim().split('=').nth(1).unwrap_or("").trim().to_string();
            out.push((name, MehdyData::default()));
            current = true;
        } else if l.starts_with("   ") && current {
            let val;
            if l.starts_with("     ") {
                val = l.trim().to_string();
            } else {
                let parts: Vec<&str> = if l.contains('=') {
                    l.trim().split('=').collect()
                } else if l.contains(':') {
                    l.trim().split(':').collect()
                } else {
                    continue;
                };
                key = parts[0].trim().to_string();
                if key == "Virtual IP" {
                    continue;
                }
                val = parts.get(1).unwrap_or(&"").trim().to_string();
            }
            let Some((_, d)) = out.last_mut() else {
                return Err("no instance".into());
            };
            if (key.starts_with("Virtual IP (") || key == "Virtual IP") && !val.is_empty() {
                d.vips.push(val.clone());
            }
            let int = |v: &str| v.parse::<i64>().map_err(|e| format!("{key}: {e}"));
            match key.as_str() {
                "State" => d.state = mehdy_state(&val)?,
                "Wantstate" => d.wantstate = mehdy_state(&val)?,
                "Interface" | "Listening device" => d.intf = val,
                "Gratuitous ARP delay" => d.garp_delay = int(&val)?,
                "Virtual Router ID" => d.vrid = int(&val)?,
                _ => {}
            }
        } else if l.starts_with(" VRRP Version") || l.starts_with(" VRRP Script") {
            continue;
        } else {
            current = false;
        }
    }
    Ok(out)
}

/// mehdy's `ParseVRRPScript`: name, Status, State.
fn mehdy_parse_scripts(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut script: Option<(String, String, String)> = None;
    for l in text.lines() {
        if l.starts_with(" VRRP Script") && l.contains('=') {
            out.extend(script.take());
            let name = l.trim().split('=').nth(1).unwrap_or("").trim().to_string();
            script = Some((name, String::new(), String::new()));
        } else if l.starts_with("   ") && script.is_some() {
            let Some((k, v)) = l.trim().split_once('=') else {
                continue;
            };
            if let Some(s) = script.as_mut() {
                match k.trim() {
                    "Status" => s.1 = v.trim().to_string(),
                    "State" => s.2 = v.trim().to_string(),
                    _ => {}
                }
            }
        } else if !l.starts_with("    ") {
            out.extend(script.take());
        }
    }
    out.extend(script);
    out
}

/// Counters by `section/key` (or `key` outside a section), by instance.
type MehdyStats = Vec<(String, BTreeMap<String, i64>)>;

/// mehdy's `ParseStats`: per instance, every counter, by section and key.
fn mehdy_parse_stats(text: &str) -> Result<MehdyStats, String> {
    let mut out: Vec<(String, BTreeMap<String, i64>)> = Vec::new();
    let mut section = String::new();
    for l in text.lines() {
        let int = |v: &str| v.trim().parse::<i64>().map_err(|e| format!("{l:?}: {e}"));
        if l.starts_with("VRRP Instance") && l.contains(':') {
            let name = l.split(':').nth(1).unwrap_or("").trim().to_string();
            out.push((name, BTreeMap::new()));
        } else if l.starts_with("  ") && l.ends_with(':') {
            section = l.trim().trim_end_matches(':').to_string();
        } else if l.starts_with("    ") && !section.is_empty() {
            let (k, v) = l.trim().split_once(':').ok_or("no colon")?;
            let value = int(v)?;
            let (_, m) = out.last_mut().ok_or("no instance")?;
            m.insert(format!("{section}/{}", k.trim()), value);
        } else if l.starts_with("  ") && !l.starts_with("    ") {
            let (k, v) = l.trim().split_once(':').ok_or("no colon")?;
            section.clear();
            let value = int(v)?;
            let (_, m) = out.last_mut().ok_or("no instance")?;
            m.insert(k.trim().to_string(), value);
        }
    }
    Ok(out)
}

/// mehdy's `parseVIP`: word 0 is the address, word 2 the interface.
fn mehdy_vip(vip: &str) -> Option<(&str, &str)> {
    let words: Vec<&str> = vip.split(' ').collect();
    (words.len() >= 3).then(|| (words[0], words[2]))
}

#[test]
fn exporters_read_our_backup_and_fault_dumps_as_keepalived_s() {
    let config = config();
    for scene in SCENES {
        let list = instances(&config, scene);
        let cap = capture(scene);

        // Text mode (mehdy): .data and .stats.
        let ours = mehdy_parse_data(&data(&config, &list)).unwrap();
        let theirs = mehdy_parse_data(cap.data).unwrap();
        assert_eq!(ours, theirs, "{scene:?}");
        for (_, d) in &ours {
            for vip in &d.vips {
                let (ip, intf) = mehdy_vip(vip).expect("three words");
                assert!(
                    ip.split('/')
                        .next()
                        .unwrap()
                        .parse::<std::net::IpAddr>()
                        .is_ok()
                );
                assert_eq!(intf, "veth0");
            }
        }
        let ours_stats = mehdy_parse_stats(&stats(&list)).unwrap();
        let theirs_stats = mehdy_parse_stats(cap.stats).unwrap();
        assert_eq!(ours_stats, theirs_stats, "{scene:?}");
        assert_eq!(ours_stats.len(), ours.len());
        assert_eq!(ours_stats[0].1.len(), 14);
        assert_eq!(
            mehdy_parse_scripts(&data(&config, &list)),
            mehdy_parse_scripts(cap.data)
        );

        // JSON mode (mehdy and gen2brain): the keys they decode, with
        // their types (garp_delay into a Go int).
        let text = render(DumpKind::Json, &config, &list);
        let v: Vec<Value> = serde_json::from_str(&text).unwrap();
        let t: Vec<Value> = serde_json::from_str(cap.json).unwrap();
        for (o, t) in v.iter().zip(&t) {
            for key in [
                "iname",
                "state",
                "wantstate",
                "ifp_ifname",
                "garp_delay",
                "vrid",
                "vips",
            ] {
                assert_eq!(o["data"][key], t["data"][key], "{key}");
            }
            assert!(o["data"]["garp_delay"].is_u64());
            assert!(o["data"]["last_transition"].is_f64());
            assert!(o["data"].get("evips").is_none());
            let stats = o["stats"].as_object().unwrap();
            assert_eq!(stats.len(), 14);
            assert!(stats.values().all(Value::is_u64));
        }
    }
}

// ---------------------------------------------------------------- kinds

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
