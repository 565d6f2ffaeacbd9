//! keepalived itself accepts every file of the keepalived.conf corpus, so
//! the corpus is real keepalived configuration, not our reading of it.
//!
//! `keepalived -t` checks that interfaces exist and that scripts exist and
//! are secure, so each file is tested in a throwaway network namespace
//! holding the interfaces the corpus names, inside a private mount
//! namespace where `/etc/keepalived` (with stub scripts) and `/run` are
//! fresh tmpfs mounts: nothing on the host is touched.

use std::path::{Path, PathBuf};

use vrrp_testns::{Netns, netns_available, which};

const INTERFACES: &[&str] = &["eth0", "eth1", "eth2", "ens192", "ens224", "enp0s8"];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keepalived")
}

/// Every corpus input.
fn inputs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "conf") {
            out.push(path);
        } else if path.join("keepalived.conf").is_file() {
            out.push(path.join("keepalived.conf"));
        }
    }
    out.sort();
    out
}

/// The `/etc/keepalived/*.sh` scripts the corpus refers to.
fn stub_scripts() -> Vec<String> {
    let mut names = Vec::new();
    for path in inputs() {
        let text = std::fs::read_to_string(path).unwrap();
        for piece in text.split("/etc/keepalived/").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "_.-".contains(*c))
                .collect();
            if name.ends_with(".sh") && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// Mounts fresh tmpfs on /etc/keepalived and /run (private to this mount
/// namespace), creates the stub scripts, then runs `keepalived -t`.
const SCRIPT: &str = r#"
set -e
mount -t tmpfs -o mode=755 none /etc/keepalived
mount -t tmpfs -o mode=755 none /run
conf="$1"; shift
for s in "$@"; do
  printf '#!/bin/sh\nexit 0\n' > "/etc/keepalived/$s"
  chmod 755 "/etc/keepalived/$s"
done
cd /
exec keepalived --config-test --log-console --log-detail --dont-fork --config-id lb1 --use-file "$conf"
"#;

#[test]
fn keepalived_accepts_every_corpus_file() {
    if !netns_available("keepalived_accepts_every_corpus_file") {
        return;
    }
    if which("keepalived").is_none() || which("unshare").is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "keepalived and unshare must be installed in CI"
        );
        eprintln!(
            "skipping keepalived_accepts_every_corpus_file: keepalived or unshare is not installed"
        );
        return;
    }
    let ns = Netns::new("kacc");
    for name in INTERFACES {
        let peer = format!("{name}p");
        ns.ip(&["link", "add", name, "type", "veth", "peer", "name", &peer]);
        ns.ip(&["link", "set", name, "up"]);
    }
    let stubs = stub_scripts();
    let mut failures = Vec::new();
    for input in inputs() {
        let out = ns
            .command("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                SCRIPT,
                "sh",
            ])
            .arg(&input)
            .args(&stubs)
            .output()
            .expect("run keepalived -t");
        if !out.status.success() {
            failures.push(format!(
                "{}: {}\n{}{}",
                input.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(inputs().len() >= 15);
    assert!(
        failures.is_empty(),
        "keepalived -t rejected:\n{}",
        failures.join("\n")
    );
}
