//! `--version` and `-V` of every binary: the crate's version, the git
//! revision it was built from and the cargo profile it was built with.

use std::path::Path;
use std::process::Command;

const BINARIES: [(&str, &str); 4] = [
    ("vrrpd", env!("CARGO_BIN_EXE_vrrpd")),
    ("vrrpctl", env!("CARGO_BIN_EXE_vrrpctl")),
    ("vip", env!("CARGO_BIN_EXE_vip")),
    ("garp", env!("CARGO_BIN_EXE_garp")),
];

/// The profile whose directory `exe` was built in: `target/ci/vrrpd` is
/// `ci`, `target/debug/vrrpd` is `dev`.
fn profile_of(exe: &str) -> String {
    let dir = Path::new(exe).parent().and_then(Path::file_name).unwrap();
    match dir.to_str().unwrap() {
        "debug" => "dev".to_string(),
        name => name.to_string(),
    }
}

/// `git rev-parse HEAD` of the checkout this crate is in, if it is in one.
fn head() -> Option<String> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    git(&["ls-files", "--error-unmatch", "Cargo.toml"])?;
    git(&["rev-parse", "HEAD"])
}

/// Splits `vrrpd 0.1.0 (rev 1a2b3c4-dirty, profile ci)` into the revision
/// and the profile, checking the rest.
fn parse<'a>(name: &str, line: &'a str) -> (&'a str, &'a str) {
    let prefix = format!("{name} {} (rev ", env!("CARGO_PKG_VERSION"));
    let rest = line
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("{line:?} is not `{prefix}REV, profile PROFILE)`"));
    rest.split_once(", profile ")
        .unwrap_or_else(|| panic!("no profile in {line:?}"))
}

#[test]
fn every_binary_prints_its_version_git_revision_and_profile() {
    let head = head();
    for (name, exe) in BINARIES {
        let mut lines = Vec::new();
        for flag in ["--version", "-V"] {
            let out = Command::new(exe).arg(flag).output().unwrap();
            assert!(out.status.success(), "{name} {flag}: {out:?}");
            assert!(out.stderr.is_empty(), "{name} {flag}: {out:?}");
            lines.push(String::from_utf8(out.stdout).unwrap());
        }
        assert_eq!(lines[0], lines[1], "{name}: --version and -V differ");
        let (rev, profile) = parse(name, &lines[0]);

        assert_eq!(profile, profile_of(exe), "{name}: {}", lines[0]);
        let hash = rev.strip_suffix("-dirty").unwrap_or(rev);
        match &head {
            // Built in this checkout: a short hash of HEAD (at least 7
            // digits, as git abbreviates).
            Some(head) => assert!(
                hash.len() >= 7 && head.starts_with(hash),
                "{name}: revision {rev} is not HEAD {head}"
            ),
            // From a packaged crate (no git checkout around it).
            None => assert_eq!(rev, "unknown", "{name}"),
        }
    }
}
