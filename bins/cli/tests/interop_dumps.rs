//! keepalived's dumps, side by side: keepalived 2.2.7 and vrrpd run the
//! same keepalived.conf (two instances, VRRPv2 with a password and a
//! tracked script, VRRPv3 unicast with a tracked interface), each alone
//! on its own LAN until both instances are MASTER; then SIGUSR1, SIGUSR2
//! and SIGRTMIN+2 (found with `--signum`) go to the pid each wrote, and
//! the data, stats and JSON files each writes under its `$TMPDIR` must
//! have the same sections and fields, with the same values where they do
//! not vary from run to run.

mod e2e_support;
mod interop_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use e2e_support::{H1, Lab, Variant, wait_for};
use interop_support::{keepalived, keepalived_version};
use serde_json::Value;

const CONF: &str = r#"global_defs {
    router_id dumps
}

vrrp_script chk_true {
    script "/bin/true"
    interval 1
    weight -20
}

vrrp_instance VI_1 {
    version 2
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret1
    }
    virtual_ipaddress {
        198.18.0.100/32
        198.18.0.101/24 dev eth0 label eth0:1
    }
    track_script {
        chk_true
    }
}

vrrp_instance VI_2 {
    version 3
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority 150
    advert_int 1
    unicast_src_ip 198.18.0.1
    unicast_peer {
        198.18.0.2
    }
    track_interface {
        eth0
    }
    virtual_ipaddress {
        198.18.0.102/32
    }
}
"#;

/// What one daemon wrote: data, stats, JSON.
struct Dumps {
    data: String,
    stats: String,
    json: String,
}

/// The number of the signal `--signum NAME` names, from `program`.
fn signum(program: &Path, name: &str) -> i32 {
    let out = Command::new(program)
        .arg(format!("--signum={name}"))
        .output()
        .expect("--signum");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{}: --signum={name}: {out:?}", program.display()))
}

fn has(lab: &Lab, addr: &str) -> bool {
    lab.host(H1)
        .ip(&["-o", "addr", "show", "dev", "eth0"])
        .split_whitespace()
        .any(|w| w.split('/').next() == Some(addr))
}

/// Runs `program` (keepalived or vrrpd) on `CONF` alone on a new LAN
/// until both instances hold their VIPs, asks it for the three dumps and
/// returns them.
fn dumps_of(tag: &str, program: &Path, keepalived: bool) -> Dumps {
    let lab = Lab::new(tag, Variant::V3_IPV4);
    let dir = lab.host_dir(H1);
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, CONF).unwrap();
    // It holds a password: not readable by others (vrrpd warns otherwise).
    std::fs::set_permissions(&conf, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let pid_file = dir.join("daemon.pid");
    let log = std::fs::File::create(dir.join("daemon.log")).unwrap();
    let mut cmd = lab.host(H1).command(program);
    if keepalived {
        cmd.args(["--dont-fork", "--log-console", "--vrrp", "--use-file"])
            .arg(&conf)
            .arg("--pid")
            .arg(&pid_file)
            .arg("--vrrp_pid")
            .arg(dir.join("vrrp.pid"));
    } else {
        cmd.arg("--keepalived-config")
            .arg(&conf)
            .arg("--state-dir")
            .arg(dir.join("state"))
            .arg("--control-socket")
            .arg(dir.join("ctl.sock"))
            .arg("--pid-file")
            .arg(&pid_file);
    }
    let _daemon = vrrp_testns::ChildGuard::new(
        cmd.env("TMPDIR", &tmp)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start the daemon"),
    );
    let log = || std::fs::read_to_string(dir.join("daemon.log")).unwrap_or_default();
    assert!(
        wait_for(Duration::from_secs(10), || has(&lab, "198.18.0.100")
            && has(&lab, "198.18.0.102"))
        .is_some(),
        "{tag}: the instances never became MASTER:\n{}",
        log()
    );
    // A few adverts, and the first script results.
    std::thread::sleep(Duration::from_secs(2));
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{tag}: no pid file:\n{}", log()));
    let mut out = Vec::new();
    for (name, file) in [
        ("DATA", "keepalived.data"),
        ("STATS", "keepalived.stats"),
        ("JSON", "keepalived.json"),
    ] {
        let path: PathBuf = tmp.join(file);
        // kill(1): nix has no real-time signals, and SIGRTMIN+2 is one.
        let sent = Command::new("kill")
            .arg(format!("-{}", signum(program, name)))
            .arg(pid.to_string())
            .status()
            .expect("kill");
        assert!(sent.success(), "{tag}: kill -{name} {pid}");
        // keepalived renames its file into place, then writes it.
        let read = || std::fs::read_to_string(&path).unwrap_or_default();
        let done = wait_for(Duration::from_secs(5), || {
            let a = read();
            std::thread::sleep(Duration::from_millis(100));
            !a.is_empty() && a.ends_with('\n') && read() == a
        });
        assert!(done.is_some(), "{tag}: no {file}:\n{}", log());
        out.push(read());
    }
    let json = out.pop().unwrap();
    let stats = out.pop().unwrap();
    let data = out.pop().unwrap();
    Dumps { data, stats, json }
}

/// The stats dump with every number replaced by `N`.
fn stats_shape(stats: &str) -> Vec<String> {
    stats
        .lines()
        .map(|l| {
            let mut out = String::new();
            let mut in_number = false;
            for c in l.chars() {
                if c.is_ascii_digit() {
                    if !in_number {
                        out.push('N');
                    }
                    in_number = true;
                } else {
                    out.push(c);
                    in_number = false;
                }
            }
            out
        })
        .collect()
}

/// The section titles of a data dump, in order.
fn sections(data: &str) -> Vec<String> {
    data.lines()
        .filter(|l| l.starts_with("------<"))
        .map(str::to_string)
        .collect()
}

/// The lines of the section `title`.
fn section<'a>(data: &'a str, title: &str) -> Vec<&'a str> {
    data.lines()
        .skip_while(|l| !l.contains(title))
        .skip(1)
        .take_while(|l| !l.starts_with("------<"))
        .collect()
}

/// One VRRP Topology instance block: its field names, in order, and the
/// value of each (lists under a `Key :` line become `Key[i]`), as
/// keepalived exporters read them.
fn instance_fields(data: &str, name: &str) -> Vec<(String, String)> {
    let topology = section(data, "< VRRP Topology >");
    let mut fields = Vec::new();
    let mut inside = false;
    let mut list = String::new();
    let mut item = 0;
    for l in topology {
        if let Some(rest) = l.strip_prefix(" VRRP Instance = ") {
            inside = rest.trim() == name;
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(v) = l.strip_prefix("     ") {
            fields.push((format!("{list}[{item}]"), v.trim().to_string()));
            item += 1;
            continue;
        }
        let l = l.trim();
        let (k, v) = match l.split_once(" = ") {
            Some((k, v)) => (k.trim(), v.trim()),
            None => match l.split_once(':') {
                Some((k, v)) => (k.trim(), v.trim()),
                None => (l, ""),
            },
        };
        list = k.to_string();
        item = 0;
        fields.push((k.to_string(), v.to_string()));
    }
    fields
}

/// The keys of each instance's `data` and `stats` objects in the order
/// they are written (serde_json's maps sort them): `(part, keys)` per
/// object, instance after instance.
fn key_order(json: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut depth = 0usize;
    let mut chars = json.chars().peekable();
    let mut last_key = String::new();
    while let Some(c) = chars.next() {
        match c {
            '{' | '[' => {
                depth += 1;
                // An object opened at depth 3 is a `data` or `stats`.
                if c == '{' && depth == 3 {
                    out.push((last_key.clone(), Vec::new()));
                }
            }
            '}' | ']' => depth = depth.saturating_sub(1),
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        c => s.push(c),
                    }
                }
                if chars.peek() == Some(&':') {
                    if depth == 3 {
                        if let Some((_, keys)) = out.last_mut() {
                            keys.push(s.clone());
                        }
                    }
                    last_key = s;
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn key_order_follows_the_text() {
    let json = r#"[{"data":{"b":1,"a":[1,{"x":2}],"s":"q\"x"},"stats":{"z":0,"y":1}}]"#;
    assert_eq!(
        key_order(json),
        vec![
            ("data".to_string(), vec!["b".into(), "a".into(), "s".into()]),
            ("stats".to_string(), vec!["z".into(), "y".into()]),
        ]
    );
}

#[test]
fn keepalived_and_vrrpd_write_the_same_dumps() {
    if !vrrp_testns::netns_available("keepalived_and_vrrpd_write_the_same_dumps") {
        return;
    }
    eprintln!("keepalived under test: {}", keepalived_version());
    let k = dumps_of("dk", &keepalived(), true);
    let v = dumps_of("dv", Path::new(env!("CARGO_BIN_EXE_vrrpd")), false);

    // Stats: the same text but for the counts.
    assert_eq!(
        stats_shape(&v.stats),
        stats_shape(&k.stats),
        "stats differ:\nvrrpd:\n{}\nkeepalived:\n{}",
        v.stats,
        k.stats
    );

    // Data: the same sections (keepalived's interface, socket pool and
    // process sections describe its own internals; see
    // docs/operations.md), and per instance the same fields in the same
    // order, with the same values where they are not timings or sockets.
    let ours = sections(&v.data);
    let theirs: Vec<String> = sections(&k.data)
        .into_iter()
        .filter(|s| ours.contains(s))
        .collect();
    assert_eq!(ours, theirs, "sections differ:\n{}", v.data);
    for s in [
        "------< Global definitions >------",
        "------< VRRP Topology >------",
        "------< VRRP Scripts >------",
    ] {
        assert!(ours.iter().any(|o| o == s), "vrrpd has no {s}:\n{}", v.data);
    }
    let varies = |key: &str| {
        [
            "Last transition",
            "Read timeout",
            "fd_in",
            "Using src_ip",
            "Number of track scripts init",
        ]
        .iter()
        .any(|p| key.starts_with(p))
    };
    // Lines vrrpd does not write (docs/operations.md): the next timer of
    // a running instance, the Active router's priority, and keepalived's
    // socket numbers.
    let not_written = |(key, _): &(String, String)| {
        !["Read timeout", "Master priority", "fd_in"]
            .iter()
            .any(|p| key.starts_with(p))
    };
    for name in ["VI_1", "VI_2"] {
        let ours: Vec<_> = instance_fields(&v.data, name)
            .into_iter()
            .filter(not_written)
            .collect();
        let theirs: Vec<_> = instance_fields(&k.data, name)
            .into_iter()
            .filter(not_written)
            .collect();
        let keys =
            |f: &[(String, String)]| -> Vec<String> { f.iter().map(|(k, _)| k.clone()).collect() };
        assert_eq!(
            keys(&ours),
            keys(&theirs),
            "{name}: fields differ:\nvrrpd:\n{}\nkeepalived:\n{}",
            section(&v.data, "< VRRP Topology >").join("\n"),
            section(&k.data, "< VRRP Topology >").join("\n")
        );
        for ((key, a), (_, b)) in ours.iter().zip(&theirs) {
            if !varies(key) {
                assert_eq!(a, b, "{name}: {key}: vrrpd {a:?}, keepalived {b:?}");
            }
        }
    }

    // JSON: the same keys in the same order, and the same values but for
    // times and counters.
    let parse = |s: &str| -> Vec<Value> {
        serde_json::from_str::<Value>(s)
            .unwrap_or_else(|e| panic!("bad JSON ({e}): {s}"))
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let (ours, theirs) = (parse(&v.json), parse(&k.json));
    assert_eq!(ours.len(), 2, "{}", v.json);
    assert_eq!(theirs.len(), 2, "{}", k.json);
    assert_eq!(
        key_order(&v.json),
        key_order(&k.json),
        "JSON keys differ:\nvrrpd:      {}\nkeepalived: {}",
        v.json,
        k.json
    );
    for (a, b) in ours.iter().zip(&theirs) {
        for key in [
            "iname",
            "state",
            "wantstate",
            "vrid",
            "ifp_ifname",
            "vips",
            "base_priority",
            "effective_priority",
            "adver_int",
            "version",
            "auth_type",
            "auth_data",
            "garp_delay",
            "track_ifp",
            "track_script",
        ] {
            assert_eq!(a["data"][key], b["data"][key], "data.{key}:\n{a}\n{b}");
        }
    }
}
