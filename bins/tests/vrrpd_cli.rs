//! `vrrpd check` and `vrrpd convert`: exit codes and diagnostics.

use std::process::Command;

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
fn check_accepts_a_good_config_and_exits_2_with_positions_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, GOOD).unwrap();
    let (code, out, err) = vrrpd(&["check", "--config", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("configuration OK (1 instance(s)"), "{out}");

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
