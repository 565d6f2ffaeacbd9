//! `vrrpd check` and `vrrpd convert`: exit codes and diagnostics; the
//! `--state-dir` and `--control-socket` overrides, also on a running
//! daemon across reloads (in a network namespace).

mod e2e_support;

use std::process::Command;
use std::time::Duration;

use e2e_support::{H1, Lab, Variant, kill, wait_for};

fn vrrpd(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vrrpd"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const GOOD: &str = r#"
[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 51
priority = 150
advert_interval = "100ms"
vips = ["198.18.0.100/24"]
"#;

#[test]
fn signum_prints_keepalived_s_signal_numbers() {
    // What keepalived 2.2.7 prints (glibc's SIGRTMIN is 34).
    for (name, number) in [
        ("DATA", "10"),
        ("STATS", "12"),
        ("JSON", "36"),
        ("RELOAD", "1"),
        ("STOP", "15"),
    ] {
        let (code, out, err) = vrrpd(&[&format!("--signum={name}")]);
        assert_eq!((code, out.trim()), (0, number), "{name}: {err}");
    }
    let (code, _, err) = vrrpd(&["--signum", "STATS_CLEAR"]);
    assert_eq!(code, 1);
    assert_eq!(err.trim(), "Unknown sigfunc STATS_CLEAR");
}

#[test]
fn check_accepts_a_good_config_and_exits_2_with_positions_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, GOOD).unwrap();
    let (code, out, err) = vrrpd(&["check", "--config", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("configuration OK (1 instance(s)"), "{out}");

    // A file with no instance (an include fragment) says so.
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "[global]\nrouter_id = \"lb1\"\n").unwrap();
    let (code, out, err) = vrrpd(&["check", "--config", empty.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("hint: it defines no instance"), "{out}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        GOOD.replace("vrid = 51", "vrid = 300\ncolour = \"blue\""),
    )
    .unwrap();
    let (code, _, err) = vrrpd(&["check", "--config", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    let prefix = format!("{}:", bad.display());
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with(&prefix)).collect();
    assert!(lines.len() >= 2, "expected two positioned errors: {err}");
    assert!(
        lines.iter().any(|l| l.starts_with(&format!("{prefix}5:"))),
        "vrid line: {err}"
    );
    assert!(err.contains("colour"), "unknown key not reported: {err}");
}

/// Hardening #7: `check` warns that scripts run as root, and reports a
/// script that `enable_script_security` will refuse at run time.
#[test]
fn check_warns_about_root_scripts_and_what_run_time_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keepalived.conf");
    let conf = "vrrp_script chk {\n  script \"/nonexistent/chk.sh\"\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    198.18.0.100/24\n  }\n  track_script {\n    chk\n  }\n}\n";
    std::fs::write(&path, conf).unwrap();
    let (code, out, err) = vrrpd(&["check", "--keepalived-config", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("warning: 1 script(s) and hook(s) run as vrrpd's own user"),
        "{err}"
    );
    assert!(
        err.contains(
            "warning: the track script `chk` will not run: `/nonexistent/chk.sh` not found"
        ),
        "{err}"
    );
    let secured = format!("global_defs {{\n  enable_script_security\n}}\n{conf}");
    std::fs::write(&path, secured).unwrap();
    let (code, out, err) = vrrpd(&["check", "--keepalived-config", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("run as vrrpd's own user"), "{err}");
}

#[test]
fn check_and_convert_read_keepalived_conf() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("keepalived.conf");
    std::fs::write(
        &conf,
        "vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  priority 150\n  advert_int 1\n  virtual_ipaddress {\n    198.18.0.100/24\n  }\n}\n",
    )
    .unwrap();
    let path = conf.to_str().unwrap();
    let (code, out, err) = vrrpd(&["check", "--keepalived-config", path]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, toml, err) = vrrpd(&["convert", "--keepalived-config", path]);
    assert_eq!(code, 0, "{err}");
    let native = dir.path().join("native.toml");
    std::fs::write(&native, &toml).unwrap();
    let (code, out, err) = vrrpd(&["check", "--config", native.to_str().unwrap()]);
    assert_eq!(
        code, 0,
        "converted config does not check: {toml}\n{out}{err}"
    );
}

#[test]
fn no_configuration_is_a_usage_error() {
    let (code, _, err) = vrrpd(&[]);
    assert_eq!(code, 2, "{err}");
}

const KEEPALIVED_CONF: &str = "vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority 150\n  advert_int 1\n  virtual_ipaddress {\n    198.18.0.100/24\n  }\n}\n";

#[test]
fn check_accepts_state_dir_and_control_socket_and_rejects_empty_ones() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("keepalived.conf");
    std::fs::write(&conf, KEEPALIVED_CONF).unwrap();
    let native = dir.path().join("vrrpd.toml");
    std::fs::write(&native, GOOD).unwrap();
    for (flag, file) in [("--keepalived-config", &conf), ("--config", &native)] {
        let file = file.to_str().unwrap();
        let (code, out, err) = vrrpd(&[
            "check",
            flag,
            file,
            "--state-dir",
            "/tmp/vrrpd-test-a",
            "--control-socket",
            "/tmp/vrrpd-test-a/ctl.sock",
        ]);
        assert_eq!(code, 0, "{flag}: {out}{err}");
        assert!(out.contains("configuration OK (1 instance(s)"), "{out}");
        for empty in ["--state-dir", "--control-socket"] {
            let (code, _, err) = vrrpd(&["check", flag, file, empty, ""]);
            assert_eq!(code, 2, "{flag} {empty} \"\": {err}");
            assert!(
                err.contains(empty) && err.contains("must not be empty"),
                "{empty}: {err}"
            );
        }
    }
}

#[test]
fn convert_writes_the_command_line_paths_into_global() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("keepalived.conf");
    std::fs::write(&conf, KEEPALIVED_CONF).unwrap();
    let path = conf.to_str().unwrap();
    let (code, toml, err) = vrrpd(&["convert", "--keepalived-config", path]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !toml.contains("state_dir") && !toml.contains("control_socket"),
        "defaults are not written: {toml}"
    );
    let (code, toml, err) = vrrpd(&[
        "convert",
        "--keepalived-config",
        path,
        "--state-dir",
        "/srv/vrrpd/b",
        "--control-socket",
        "/srv/vrrpd/b.sock",
    ]);
    assert_eq!(code, 0, "{err}");
    let global = toml.split("[[instance]]").next().unwrap();
    assert!(
        global.contains("[global]")
            && global.contains("state_dir = \"/srv/vrrpd/b\"")
            && global.contains("control_socket = \"/srv/vrrpd/b.sock\""),
        "overrides missing from [global]: {toml}"
    );
    let native = dir.path().join("native.toml");
    std::fs::write(&native, &toml).unwrap();
    let (code, out, err) = vrrpd(&["check", "--config", native.to_str().unwrap()]);
    assert_eq!(
        code, 0,
        "converted config does not check: {toml}\n{out}{err}"
    );
}

/// `vrrpctl --socket SOCKET ARGS...`: success and output.
fn vrrpctl(socket: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vrrpctl"))
        .arg("--socket")
        .arg(socket)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A running vrrpd given `--state-dir` and `--control-socket` uses them
/// instead of the TOML's `[global]` paths, and keeps them over a SIGHUP
/// and a `vrrpctl reload` (each reload reads the file again, so without
/// the overrides re-applied the daemon would warn that the paths changed).
#[test]
fn state_dir_and_control_socket_override_the_config_and_hold_over_reloads() {
    let test = "state_dir_and_control_socket_override_the_config_and_hold_over_reloads";
    if !vrrp_testns::netns_available(test) {
        return;
    }
    let v = Variant::V3_IPV4;
    let lab = Lab::new("cliov", v);
    let config = lab.write_config(H1, 200, "");
    let dir = lab.host_dir(H1);
    let state = dir.join("flag-state");
    let socket = dir.join("flag.sock");
    let h1 = lab.start_args(
        H1,
        &[
            "--config".as_ref(),
            config.as_os_str(),
            "--state-dir".as_ref(),
            state.as_os_str(),
            "--control-socket".as_ref(),
            socket.as_os_str(),
        ],
        &[],
    );
    let settle = v.master_down(100) * 3 + Duration::from_secs(2);
    check!(
        lab,
        wait_for(settle, || lab.has_vip(H1)).is_some(),
        "vrrpd never became Active"
    );
    let ledger = state.join("netaddr-ledger.json");
    let paths_used = || {
        socket.exists()
            && ledger.exists()
            && !lab.control_socket(H1).exists()
            && !lab.state_dir(H1).exists()
    };
    check!(
        lab,
        paths_used(),
        "not on the command line's paths: socket {} {}, ledger {} {}, config's socket {}, state {}",
        socket.display(),
        socket.exists(),
        ledger.display(),
        ledger.exists(),
        lab.control_socket(H1).exists(),
        lab.state_dir(H1).exists()
    );
    let (ok, out) = vrrpctl(&socket, &["status", "--json"]);
    check!(lab, ok && out.contains("\"active\""), "status: {out}");

    kill(h1.pid(), libc::SIGHUP);
    check!(
        lab,
        wait_for(Duration::from_secs(3), || lab
            .log(H1)
            .contains("configuration reloaded"))
        .is_some(),
        "SIGHUP reload not logged"
    );
    let (ok, out) = vrrpctl(&socket, &["reload"]);
    check!(lab, ok && out.contains("1 kept"), "vrrpctl reload: {out}");
    check!(
        lab,
        lab.log(H1).matches("configuration reloaded").count() == 2,
        "two reloads expected"
    );
    check!(
        lab,
        !lab.log(H1).contains("take effect at the next restart"),
        "a reload saw the config's paths instead of the command line's"
    );
    check!(lab, paths_used(), "a reload moved the paths");
    let (ok, out) = vrrpctl(&socket, &["status", "--json"]);
    check!(
        lab,
        ok && out.contains("\"active\""),
        "status after reloads: {out}"
    );

    kill(h1.pid(), libc::SIGTERM);
    let status = wait_for(Duration::from_secs(5), || !lab.has_vip(H1));
    check!(lab, status.is_some(), "VIP left after SIGTERM");
}
