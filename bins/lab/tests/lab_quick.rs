//! Runs `vrrp-lab bench --quick` and both demos, so the lab cannot rot.
//! Needs root and network namespaces (with CI=true it fails rather than
//! skips without them). Timings are not asserted: only that every figure
//! was measured.

use std::process::Command;

const LAB: &str = env!("CARGO_BIN_EXE_vrrp-lab");

/// The lab runs the `vrrpd` beside it, which `vrrpd-cli` builds into the
/// same target directory: `cargo test --workspace` builds both before any
/// test runs. Fails with a hint when it is missing (a lone
/// `cargo test -p vrrp-lab`).
fn require_vrrpd() {
    let beside = std::path::Path::new(LAB).with_file_name("vrrpd");
    assert!(
        beside.is_file(),
        "{} is missing: test the workspace, or build it first with \
         `cargo build -p vrrpd-cli --bin vrrpd` and the same profile",
        beside.display()
    );
}

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
    require_vrrpd();
    let mut cmd = lab();
    cmd.args(["bench", "--quick", "--out"]).arg(&out_dir);
    let out = cmd.output().expect("run vrrp-lab");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}\n{stderr}");
    let json = std::fs::read_to_string(out_dir.join("bench.json")).expect("bench.json written");
    assert!(out_dir.join("bench.md").is_file());
    let _ = std::fs::remove_dir_all(&out_dir);
    let report: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let figures = report["figures"].as_array().expect("figures");
    assert!(figures.len() >= 22, "only {} figures", figures.len());
    let mut problems = Vec::new();
    for f in figures {
        let id = f["id"].as_str().unwrap_or("?");
        // The kernel's floor (the vips group) is measured once, not per daemon.
        let measured: &[&str] = if f["results"].get("ip -batch").is_some() {
            &["ip -batch"]
        } else {
            &["keepalived", "vrrpd"]
        };
        for &daemon in measured {
            let o = &f["results"][daemon];
            let errors = o["errors"].as_array().cloned().unwrap_or_default();
            let samples = o["samples"].as_array().map_or(0, Vec::len);
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
    require_vrrpd();
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

/// Processes whose command line mentions `needle` (our scratch directory).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) {
                found.push(cmd);
            }
        }
    }
    found
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

/// Waits until the demo printed `line`, for at most 30 s.
fn wait_for_line(child: &mut std::process::Child, line: &str) -> String {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut reader = std::io::BufReader::new(stdout);
    let mut seen = String::new();
    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < end {
        let mut l = String::new();
        if reader.read_line(&mut l).unwrap_or(0) == 0 {
            break;
        }
        seen.push_str(&l);
        if l.contains(line) {
            break;
        }
    }
    seen
}

fn assert_cleaned_up(pid: u32) {
    let ns = lab_namespaces_of(pid);
    assert!(ns.is_empty(), "namespaces left behind: {ns:?}");
    let left = processes_mentioning(&format!("vrrp-lab-{pid}-"));
    assert!(left.is_empty(), "processes left behind: {left:?}");
}

#[test]
fn lab_demo_cleans_up_on_ctrl_c() {
    let _serial = serial();
    if !vrrp_testns::netns_available("lab_demo_cleans_up_on_ctrl_c") {
        return;
    }
    let mut child = lab()
        .args(["demo", "--daemon", "keepalived"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run vrrp-lab");
    let pid = child.id();
    let seen = wait_for_line(&mut child, "client reaches");
    assert!(seen.contains("client reaches"), "{seen}");
    assert!(!lab_namespaces_of(pid).is_empty());
    // Our child's pid.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT to vrrp-lab");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_cleaned_up(pid);
}

#[test]
fn lab_demo_cleans_up_on_panic() {
    let _serial = serial();
    if !vrrp_testns::netns_available("lab_demo_cleans_up_on_panic") {
        return;
    }
    let child = lab()
        .args(["demo", "--daemon", "keepalived"])
        .env("VRRP_LAB_TEST_PANIC", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run vrrp-lab");
    let pid = child.id();
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("VRRP_LAB_TEST_PANIC"), "{stderr}");
    assert!(!out.status.success());
    assert_cleaned_up(pid);
}

#[test]
fn lab_refuses_to_run_without_root() {
    let Some(setpriv) = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
    else {
        eprintln!("skipping lab_refuses_to_run_without_root: no setpriv");
        return;
    };
    if !nix::unistd::geteuid().is_root() {
        let out = lab().arg("demo").output().expect("run vrrp-lab");
        assert_eq!(out.status.code(), Some(2));
        return;
    }
    // nobody may not reach the target directory: run a copy from /tmp.
    let copy = std::env::temp_dir().join(format!("vrrp-lab-nonroot-{}", std::process::id()));
    std::fs::copy(LAB, &copy).expect("copy vrrp-lab");
    let out = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&copy)
        .arg("demo")
        .output()
        .expect("run setpriv");
    let _ = std::fs::remove_file(&copy);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("must run as root"), "{stderr}");
}
