//! The `vip` binary, run inside throwaway network namespaces: add, list,
//! delete, errors, and `watch`.

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use vrrp_testns::{ChildGuard, Netns};

const VIP: &str = env!("CARGO_BIN_EXE_vip");

/// A namespace with `veth0`, its peer `veth1` in a second namespace.
fn setup(tag: &str) -> (Netns, Netns) {
    let ns = Netns::new(tag);
    let peer = Netns::new(&format!("{tag}p"));
    ns.veth_to("veth0", &peer, "veth1");
    (ns, peer)
}

fn vip(ns: &Netns, args: &[&str]) -> Output {
    ns.command(VIP).args(args).output().expect("run vip")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `vip list dev veth0 --json`, parsed.
fn listed(ns: &Netns) -> Vec<Value> {
    let out = vip(ns, &["list", "dev", "veth0", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("list --json is a JSON array")
}

#[test]
fn add_list_delete() {
    if !vrrp_testns::netns_available("add_list_delete") {
        return;
    }
    let (ns, _peer) = setup("vip");
    let add = vip(
        &ns,
        &[
            "add",
            "198.18.0.5/24",
            "dev",
            "veth0",
            "label",
            "veth0:1",
            "--broadcast",
            "+",
        ],
    );
    assert!(add.status.success(), "{}", stderr(&add));
    assert_eq!(stdout(&add), "added 198.18.0.5/24 on veth0\n");
    let again = vip(
        &ns,
        &["add", "198.18.0.5/24", "dev", "veth0", "label", "veth0:1"],
    );
    assert!(again.status.success());
    assert_eq!(stdout(&again), "198.18.0.5/24 already present on veth0\n");
    let v6 = vip(
        &ns,
        &["add", "fd00:198:18::5/64", "dev", "veth0", "--nodad"],
    );
    assert!(v6.status.success(), "{}", stderr(&v6));

    let list = listed(&ns);
    let v4 = list
        .iter()
        .find(|a| a["address"] == "198.18.0.5/24")
        .expect("listed");
    assert_eq!(v4["ifname"], "veth0");
    assert_eq!(v4["label"], "veth0:1");
    assert_eq!(v4["broadcast"], "198.18.0.255");
    assert_eq!(v4["family"], "ipv4");
    let v6 = list
        .iter()
        .find(|a| a["address"] == "fd00:198:18::5/64")
        .expect("listed");
    assert!(
        v6["flags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("nodad"))
    );

    // The same as `ip -j addr show` says.
    let ip: Value = serde_json::from_str(&ns.ip(&["-j", "addr", "show", "dev", "veth0"])).unwrap();
    let ip_addrs: Vec<String> = ip[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
        .collect();
    let ours: Vec<String> = list
        .iter()
        .map(|a| a["address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ours, ip_addrs);

    let text = vip(&ns, &["list", "dev", "veth0"]);
    assert!(
        stdout(&text)
            .contains("veth0 inet 198.18.0.5/24 brd 198.18.0.255 scope global label veth0:1\n"),
        "{}",
        stdout(&text)
    );

    let del = vip(&ns, &["del", "198.18.0.5/24", "dev", "veth0"]);
    assert!(del.status.success(), "{}", stderr(&del));
    assert_eq!(stdout(&del), "deleted 198.18.0.5/24 from veth0\n");
    let del_again = vip(&ns, &["del", "198.18.0.5/24", "dev", "veth0"]);
    assert!(del_again.status.success());
    assert_eq!(stdout(&del_again), "198.18.0.5/24 not present on veth0\n");
    assert!(listed(&ns).iter().all(|a| a["address"] != "198.18.0.5/24"));
}

#[test]
fn errors_go_to_stderr_with_a_failure_status() {
    if !vrrp_testns::netns_available("errors_go_to_stderr_with_a_failure_status") {
        return;
    }
    let (ns, _peer) = setup("viperr");
    let missing = vip(&ns, &["add", "198.18.0.5/24", "dev", "nosuch0"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stdout(&missing).is_empty());
    assert_eq!(stderr(&missing), "vip: error: no such interface: nosuch0\n");

    let long = vip(
        &ns,
        &[
            "add",
            "198.18.0.5/24",
            "dev",
            "veth0",
            "label",
            "veth0:0123456789",
        ],
    );
    assert_eq!(long.status.code(), Some(1));
    assert!(
        stderr(&long).contains("16 bytes long; the kernel allows at most 15"),
        "{}",
        stderr(&long)
    );

    // The kernel's refusal, with its errno and extended ack.
    ns.exec(&["sysctl", "-q", "-w", "net.ipv6.conf.veth0.disable_ipv6=1"]);
    let refused = vip(&ns, &["add", "fd00:198:18::5/64", "dev", "veth0"]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(
        err.starts_with("vip: error: add fd00:198:18::5/64 on interface "),
        "{err}"
    );
    assert!(
        err.contains("Permission denied") && err.contains("IPv6 is disabled on this device"),
        "{err}"
    );

    let syntax = vip(&ns, &["add", "198.18.0.5/24", "dev", "veth0", "lable", "x"]);
    assert_eq!(syntax.status.code(), Some(2));
    assert!(
        stderr(&syntax).contains("unexpected \"lable\""),
        "{}",
        stderr(&syntax)
    );
    let bad_addr = vip(&ns, &["add", "198.18.0.5/33", "dev", "veth0"]);
    assert_eq!(bad_addr.status.code(), Some(2));
    assert!(
        stderr(&bad_addr).contains("prefix length 33"),
        "{}",
        stderr(&bad_addr)
    );
    // Nothing was added by any of these.
    assert!(listed(&ns).iter().all(|a| a["family"] != "ipv4"));
}

/// Starts `vip watch ARGS` in `ns`, with its stdout lines sent to a channel.
fn watch(ns: &Netns, args: &[&str]) -> (ChildGuard, mpsc::Receiver<String>) {
    let mut child = ns
        .command(VIP)
        .arg("watch")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn vip watch");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (ChildGuard::new(child), rx)
}

/// Makes a change with `poke(n)` until `vip watch` prints a line that
/// `want` accepts (the first pokes may come before it has subscribed).
fn poke_until(
    rx: &mpsc::Receiver<String>,
    mut poke: impl FnMut(u32),
    want: impl Fn(&str) -> bool,
) -> String {
    let start = Instant::now();
    for n in 0.. {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "vip watch printed nothing wanted"
        );
        poke(n);
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if want(&line) {
                return line;
            }
        }
    }
    unreachable!()
}

#[test]
fn watch_prints_events() {
    if !vrrp_testns::netns_available("watch_prints_events") {
        return;
    }
    let (ns, peer) = setup("vipw");
    let (_json_watch, json_lines) = watch(&ns, &["--json"]);
    let line = poke_until(
        &json_lines,
        |n| {
            ns.ip(&[
                "addr",
                "add",
                &format!("198.18.0.{}/32", n + 10),
                "dev",
                "veth0",
            ]);
        },
        |l| l.contains("address_added"),
    );
    let event: Value = serde_json::from_str(&line).expect("one JSON object per line");
    assert_eq!(event["event"], "address_added");
    assert_eq!(event["ifname"], "veth0");
    assert!(event["address"].as_str().unwrap().starts_with("198.18.0."));

    let (mut text_watch, text_lines) = watch(&ns, &["--count", "1"]);
    let line = poke_until(
        &text_lines,
        |n| {
            let state = if n % 2 == 0 { "down" } else { "up" };
            peer.ip(&["link", "set", "veth1", state]);
        },
        |l| l.starts_with("link veth0 "),
    );
    assert!(
        line.contains(" down ") || line.contains(" up ") || line.contains(" changed "),
        "{line}"
    );
    // --count 1: it exits by itself after one event.
    let status = text_watch.child().wait().unwrap();
    assert!(status.success());
}

#[test]
fn help_is_complete() {
    let out = std::process::Command::new(VIP)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = stdout(&out);
    for sub in ["add", "replace", "del", "list", "watch"] {
        assert!(
            help.contains(&format!("  {sub} ")),
            "{sub} missing from:\n{help}"
        );
    }
    let out = std::process::Command::new(VIP)
        .args(["add", "--help"])
        .output()
        .unwrap();
    let help = stdout(&out);
    for word in [
        "dev IFACE [label LABEL]",
        "--nodad",
        "--noprefixroute",
        "--scope",
        "--broadcast",
        "15 bytes",
    ] {
        assert!(help.contains(word), "{word} missing from:\n{help}");
    }
    for sub in ["del", "list", "watch"] {
        let out = std::process::Command::new(VIP)
            .args([sub, "--help"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{sub} --help");
    }
    let out = std::process::Command::new(VIP)
        .args(["watch", "--help"])
        .output()
        .unwrap();
    assert!(stdout(&out).contains("--json") && stdout(&out).contains("--count"));
}
