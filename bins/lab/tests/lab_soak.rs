//! Runs a 40 s `vrrp-lab bench --soak` with 3 % random loss (the real soak
//! lasts an hour and is not a CI test): random crashes, link flaps,
//! partitions and reloads across four vrrpd hosts, and afterwards exactly
//! one Active per VRID and no stray VIP. Needs root and network namespaces (with CI=true it fails
//! rather than skips without them).

use std::process::Command;

const LAB: &str = env!("CARGO_BIN_EXE_vrrp-lab");

fn lab() -> Command {
    let mut cmd = Command::new(LAB);
    // Cargo built every binary of the package for this test already.
    cmd.env("VRRP_LAB_NO_BUILD", "1");
    cmd
}

fn lab_namespaces_of(pid: u32) -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(&format!("vl{pid}-")))
        .map(str::to_string)
        .collect()
}

#[test]
fn lab_soak_short_run_has_no_violations() {
    if !vrrp_testns::netns_available("lab_soak_short_run_has_no_violations") {
        return;
    }
    let out_dir = tempfile::tempdir().expect("temporary directory");
    let child = lab()
        .args([
            "bench",
            "--soak",
            "--duration",
            "40s",
            "--seed",
            "1",
            "--loss",
            "3",
            "--out",
        ])
        .arg(out_dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run vrrp-lab");
    let pid = child.id();
    let out = child.wait_with_output().expect("wait for vrrp-lab");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}\n{stderr}");
    let left = lab_namespaces_of(pid);
    assert!(left.is_empty(), "namespaces left behind: {left:?}");
    assert!(out.status.success(), "vrrp-lab bench --soak failed");
    assert!(stderr.contains("seed 1"), "the seed is not printed");
    let json = std::fs::read_to_string(out_dir.path().join("soak.json")).expect("soak.json");
    assert!(out_dir.path().join("soak.md").is_file());
    let report: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let faults = report["faults_total"].as_u64().expect("faults_total");
    assert!(faults > 0, "no faults injected");
    assert_eq!(report["violation_count"].as_u64(), Some(0), "{json}");
    assert_eq!(report["violations"].as_array().map(Vec::len), Some(0));
    assert_eq!(report["unexpected_exits"].as_u64(), Some(0));
    assert_eq!(report["final_clean"].as_bool(), Some(true));
    assert_eq!(report["hosts"].as_u64(), Some(4));
    let dropped = report["loss_dropped_packets"].as_u64().unwrap_or(0);
    assert!(dropped > 0, "the random loss dropped nothing");
    let kinds: u64 = report["faults"]
        .as_object()
        .expect("faults by kind")
        .values()
        .filter_map(serde_json::Value::as_u64)
        .sum();
    assert_eq!(kinds, faults);
    let passed = report["checks_passed"].as_u64().unwrap_or(0);
    assert!(passed > faults, "{passed} checks for {faults} faults");
    assert_eq!(
        report["fault_log"].as_array().map(Vec::len),
        Some(faults as usize)
    );
}

#[test]
fn lab_soak_refuses_bad_arguments() {
    for args in [
        &["bench", "--soak", "--quick"][..],
        &["bench", "--soak", "--duration", "10"],
        &["bench", "--soak", "--duration", "1.5h"],
        &["bench", "--soak", "--seed", "x"],
        &["bench", "--seed", "1"],
        &["bench", "--loss", "5"],
        &["bench", "--soak", "--loss", "51"],
        &["bench", "--soak", "--daemon", "keepalived"],
    ] {
        let out = lab().args(args).output().expect("run vrrp-lab");
        assert!(!out.status.success(), "{args:?} accepted");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
