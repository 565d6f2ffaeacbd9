//! `keepalived.data` against keepalived 2.2.7's captures.

use super::*;

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
