//! Runs `vrrp-lab bench --quick` and both demos, so the lab cannot rot.
//! Needs root and network namespaces (with CI=true it fails rather than
//! skips without them). Timings are not asserted: only that every figure
//! was measured.

use std::process::Command;

const LAB: &str = env!("CARGO_BIN_EXE_vrrp-lab");
/// Set when the package has a `vrrpd` binary: then its figures must work too.
const VRRPD: Option<&str> = option_env!("CARGO_BIN_EXE_vrrpd");

/// The lab tests share two cores with everything else: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn lab() -> Command {
    let mut cmd = Command::new(LAB);
    // Cargo built every binary of the package for this test already.
    cmd.env("VRRP_LAB_NO_BUILD", "1");
    cmd
}

#[test]
fn lab_bench_quick_measures_every_figure() {
    let _serial = serial();
    if !vrrp_testns::netns_available("lab_bench_quick_measures_every_figure") {
        return;
    }
    let out_dir = std::env::temp_dir().join(format!("vrrp-lab-quick-{}", std::process::id()));
    let mut cmd = lab();
    cmd.args(["bench", "--quick", "--out"]).arg(&out_dir);
    if VRRPD.is_none() {
        eprintln!("this package has no vrrpd binary yet: keepalived figures only");
        cmd.args(["--daemon", "keepalived"]);
    }
    let out = cmd.output().expect("run vrrp-lab");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}\n{stderr}");
    let json = std::fs::read_to_string(out_dir.join("bench.json")).expect("bench.json written");
    assert!(out_dir.join("bench.md").is_file());
    let _ = std::fs::remove_dir_all(&out_dir);
    let report: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let figures = report["figures"].as_array().expect("figures");
    assert!(figures.len() >= 17, "only {} figures", figures.len());
    let mut problems = Vec::new();
    for f in figures {
        let id = f["id"].as_str().unwrap_or("?");
        for daemon in ["keepalived", "vrrpd"] {
            let o = &f["results"][daemon];
            let errors = o["errors"].as_array().cloned().unwrap_or_default();
            let samples = o["samples"].as_array().map_or(0, Vec::len);
            if daemon == "vrrpd" && VRRPD.is_none() {
                continue;
            }
            if !errors.is_empty() || samples == 0 {
                problems.push(format!("{id} ({daemon}): {errors:?}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "figures not measured:\n{}",
        problems.join("\n")
    );
    assert!(out.status.success(), "vrrp-lab bench --quick failed");
}

fn demo(daemon: &str) {
    let out = lab()
        .args(["demo", "--daemon", daemon])
        .output()
        .expect("run vrrp-lab");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo --daemon {daemon} failed:\n{stdout}\n{stderr}"
    );
    for line in [
        "h1 is Active",
        "h2 is Active: gratuitous ARP",
        "outage",
        "h1 is Active again",
        "cleaned up",
    ] {
        assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
    }
    // Not a terminal: no colours.
    assert!(!stdout.contains('\x1b'));
}

#[test]
fn lab_demo_keepalived_runs_to_the_end() {
    let _serial = serial();
    if !vrrp_testns::netns_available("lab_demo_keepalived_runs_to_the_end") {
        return;
    }
    demo("keepalived");
}

#[test]
fn lab_demo_vrrpd_runs_to_the_end() {
    let _serial = serial();
    if !vrrp_testns::netns_available("lab_demo_vrrpd_runs_to_the_end") {
        return;
    }
    if VRRPD.is_none() {
        eprintln!("skipping lab_demo_vrrpd_runs_to_the_end: this package has no vrrpd binary yet");
        return;
    }
    demo("vrrpd");
}

#[test]
fn lab_refuses_bad_arguments() {
    let out = lab()
        .args(["demo", "--daemon", "bird"])
        .output()
        .expect("run vrrp-lab");
    assert!(!out.status.success());
    let out = lab()
        .args(["demo", "--interval", "15ms"])
        .output()
        .expect("run vrrp-lab");
    assert!(!out.status.success());
}
