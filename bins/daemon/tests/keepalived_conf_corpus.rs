//! The keepalived.conf corpus: every file is parsed, compared with its
//! hand-written native equivalent, its warnings compared with the expected
//! ones, and converted to native TOML and back.
//!
//! Layout of `tests/data/keepalived/`:
//! - `NAME.conf` or `NAME/keepalived.conf` (with includes): the input;
//! - `NAME.toml`: the expected configuration, written by hand;
//! - `NAME.warnings`: the expected warnings, one rendered diagnostic per
//!   line, paths relative to the data directory (absent: no warning).
//!
//! Every input is also accepted by `keepalived -t` (see
//! `keepalived_conf_keepalived_accepts.rs`).

use std::path::{Path, PathBuf};

use vrrpd::config::{self, Config, KeepalivedOptions};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keepalived")
}

/// (name, input path) for every corpus entry, sorted.
fn cases() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(data_dir()).expect("corpus directory") {
        let path = entry.expect("entry").path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|e| e == "conf") {
            out.push((stem, path));
        } else if path.is_dir() && path.join("keepalived.conf").is_file() {
            out.push((stem, path.join("keepalived.conf")));
        }
    }
    out.sort();
    out
}

/// The corpus is read with config-id `lb1` (used by the conditional file).
fn options() -> KeepalivedOptions {
    KeepalivedOptions {
        config_id: Some("lb1".into()),
        ..KeepalivedOptions::default()
    }
}

fn load(name: &str, path: &Path) -> (Config, Vec<config::Diagnostic>) {
    let (config, warnings) = config::load_keepalived(path, &options())
        .unwrap_or_else(|d| panic!("{name}: keepalived.conf rejected:\n{}", config::render(&d)));
    (config, content_warnings(warnings))
}

/// The warnings about the text, without the one about the file's mode (a
/// checkout leaves these files world-readable).
fn content_warnings(w: Vec<config::Diagnostic>) -> Vec<config::Diagnostic> {
    w.into_iter()
        .filter(|d| !d.message.contains("readable by everyone"))
        .collect()
}

#[test]
fn corpus_has_at_least_15_configurations() {
    assert!(cases().len() >= 15, "{} cases", cases().len());
}

#[test]
fn each_file_maps_to_its_expected_native_config() {
    let mut failures = Vec::new();
    for (name, path) in cases() {
        let (got, _) = load(&name, &path);
        let expected_path = data_dir().join(format!("{name}.toml"));
        let (expected, w) = config::load_native(&expected_path)
            .unwrap_or_else(|d| panic!("{name}.toml: {}", config::render(&d)));
        let w = content_warnings(w);
        assert!(w.is_empty(), "{name}.toml warnings: {}", config::render(&w));
        if got != expected {
            failures.push(format!(
                "== {name}: got\n{}\n== expected\n{}",
                config::to_native_toml(&got),
                config::to_native_toml(&expected)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn each_file_has_exactly_the_expected_warnings() {
    let dir = data_dir();
    let mut failures = Vec::new();
    for (name, path) in cases() {
        let (_, warnings) = load(&name, &path);
        let got: String = warnings
            .iter()
            .map(|d| {
                let mut d = d.clone();
                d.file = d
                    .file
                    .strip_prefix(&dir)
                    .map(Path::to_path_buf)
                    .unwrap_or(d.file);
                format!("{d}\n")
            })
            .collect();
        let expected =
            std::fs::read_to_string(dir.join(format!("{name}.warnings"))).unwrap_or_default();
        if got != expected {
            failures.push(format!("== {name}: got\n{got}== expected\n{expected}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn each_file_converts_to_native_toml_and_back() {
    for (name, path) in cases() {
        let (cfg, _) = load(&name, &path);
        let toml = config::to_native_toml(&cfg);
        let (again, _) = config::check_native_str(&toml, Path::new("converted.toml"))
            .unwrap_or_else(|d| {
                panic!(
                    "{name}: converted TOML rejected:\n{toml}\n{}",
                    config::render(&d)
                )
            });
        assert_eq!(again, cfg, "{name}: round trip changed the model:\n{toml}");
    }
}

#[test]
fn strict_mode_turns_warnings_into_errors() {
    let path = data_dir().join("15_lvs_mixed.conf");
    let strict = KeepalivedOptions {
        strict: true,
        ..options()
    };
    let d = config::load_keepalived(&path, &strict).unwrap_err();
    assert!(d.iter().all(|d| d.is_error()));
    assert!(d.iter().any(|d| d.message.contains("`notification_email`")));
    // The same file loads without --strict.
    assert!(config::load_keepalived(&path, &options()).is_ok());
}

#[test]
fn diagnostics_point_into_the_included_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conf.d")).unwrap();
    std::fs::write(
        dir.path().join("keepalived.conf"),
        "global_defs {\n  router_id x\n}\ninclude conf.d/*.conf\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("conf.d/a.conf"),
        "vrrp_instance A {\n  interface eth0\n  virtual_router_id 300\n  virtual_ipaddress { 198.18.0.1 }\n}\n",
    )
    .unwrap();
    let d = config::load_keepalived(&dir.path().join("keepalived.conf"), &options()).unwrap_err();
    let e = d.iter().find(|d| d.is_error()).unwrap();
    assert_eq!(e.file, dir.path().join("conf.d/a.conf"));
    assert_eq!((e.line, e.column), (3, 21));
    assert!(
        e.message
            .contains("`virtual_router_id` 300 is outside 1..=255"),
        "{e}"
    );
}
