//! End-to-end: `vrrpctl watch` streams the Backup's takeover as it
//! happens, as JSON lines and as text, and ends (exit 0) when the daemon
//! stops.

mod e2e_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use e2e_support::{H2, Variant, elected, kill, wait_for};

/// Starts `vrrpctl watch` on host `idx`'s socket; its lines arrive on the
/// receiver.
fn watch(lab: &e2e_support::Lab, idx: usize, json: bool) -> (Child, mpsc::Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vrrpctl"));
    cmd.arg("--socket")
        .arg(lab.host_dir(idx).join("ctl.sock"))
        .arg("watch");
    if json {
        cmd.arg("--json");
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn().expect("vrrpctl watch");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The lines received within `within` until one satisfies `until`.
fn lines_until(
    rx: &mpsc::Receiver<String>,
    within: Duration,
    until: impl Fn(&str) -> bool,
) -> (bool, Vec<String>) {
    let deadline = std::time::Instant::now() + within;
    let mut got = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = until(&line);
                got.push(line);
                if done {
                    return (true, got);
                }
            }
            Err(_) => break,
        }
    }
    (false, got)
}

#[test]
fn vrrpctl_watch_streams_a_takeover_and_ends_with_the_daemon() {
    if !vrrp_testns::netns_available("vrrpctl_watch_streams_a_takeover_and_ends_with_the_daemon") {
        return;
    }
    let (lab, h1, mut h2, _) = elected("wt", Variant::V3_IPV4, "");
    let (mut json_watch, json_lines) = watch(&lab, H2, true);
    let (mut text_watch, text_lines) = watch(&lab, H2, false);
    // Both subscribed before the failover.
    std::thread::sleep(Duration::from_millis(300));
    drop(h1);
    let (took, got) = lines_until(&json_lines, Duration::from_secs(5), |l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
        v["event"] == "state" && v["to"] == "active"
    });
    check!(lab, took, "no takeover event in the JSON stream: {got:?}");
    let v: serde_json::Value = serde_json::from_str(got.last().unwrap()).unwrap();
    check!(
        lab,
        v["instance"] == "VI_1"
            && v["from"] == "backup"
            && v["reason"] == "master_down"
            && v["priority"] == 100
            && v["at_unix_ms"].as_u64().is_some_and(|t| t > 0),
        "takeover event: {v}"
    );
    let (took, got) = lines_until(&text_lines, Duration::from_secs(5), |l| {
        l.contains("VI_1: backup -> active (master_down, priority 100)")
    });
    check!(lab, took, "no takeover line in the text stream: {got:?}");
    // The daemon stops: both streams end, and vrrpctl exits 0.
    kill(h2.pid(), libc::SIGTERM);
    for (name, child) in [("json", &mut json_watch), ("text", &mut text_watch)] {
        let ended = wait_for(Duration::from_secs(10), || {
            child.try_wait().ok().flatten().is_some()
        });
        check!(
            lab,
            ended.is_some(),
            "vrrpctl watch --{name} outlived the daemon"
        );
        let status = child.wait().unwrap();
        check!(lab, status.success(), "vrrpctl watch --{name}: {status}");
    }
    let _ = h2.child().wait();
}
