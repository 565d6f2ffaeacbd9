//! What keepalived exporters (mehdy/keepalived-exporter,
//! gen2brain/keepalived_exporter) parse, read from our dumps.

use super::*;

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
