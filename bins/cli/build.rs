//! Sets the git revision and the cargo profile that `--version` prints
//! (`VRRPD_GIT_REVISION`, `VRRPD_BUILD_PROFILE`; see `src/args/mod.rs`).
//!
//! The script runs again only when build.rs or git's HEAD, the branch it
//! names, packed-refs or the index change (a commit, a checkout, a `git
//! add`), so an edit elsewhere does not rebuild the binaries. "-dirty" is
//! therefore as of the last of those: an edit left unstaged since is not
//! seen until the next one.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let revision = git_revision(&manifest_dir).unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=VRRPD_GIT_REVISION={revision}");
    println!("cargo:rustc-env=VRRPD_BUILD_PROFILE={}", profile());
}

/// Runs git in `dir` and returns its trimmed output, or `None` if git is
/// missing or fails. The variables a git hook sets are dropped, so the
/// checkout is the one `dir` is in.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}

/// `1a2b3c4d`, `1a2b3c4d-dirty`, or `None` outside a git checkout of this
/// crate. A crate unpacked from a `.crate` file below some other checkout
/// (cargo package's verify step unpacks into target/package/) is not one:
/// its Cargo.toml is not a file git tracks there.
fn git_revision(dir: &Path) -> Option<String> {
    git(dir, &["ls-files", "--error-unmatch", "Cargo.toml"])?;
    // What a commit, a checkout or a `git add` changes. A missing file
    // would make cargo run this script on every build, so only existing
    // ones are named (`--git-path` finds them in a linked worktree too).
    let mut watched = vec!["HEAD".to_string(), "packed-refs".into(), "index".into()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in &watched {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", name]) {
            let path = dir.join(path);
            if path.is_file() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    let hash = git(dir, &["rev-parse", "--short", "HEAD"])?;
    // Tracked files only, as `git describe --dirty` does; GIT_OPTIONAL_LOCKS=0
    // keeps `status` from rewriting the index it watches.
    let changes = git(dir, &["status", "--porcelain", "--untracked-files=no"])?;
    Some(if changes.is_empty() {
        hash
    } else {
        format!("{hash}-dirty")
    })
}

/// The real profile name. Build scripts get only `PROFILE` (`release` or
/// `debug`), but OUT_DIR is `<target>/[<triple>/]<profile dir>/build/<pkg>-<hash>/out`,
/// and a profile's directory bears its name, except `dev`'s (and `test`'s),
/// which is `debug`.
fn profile() -> String {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let dir = out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .and_then(|n| n.to_str());
    match dir {
        Some("debug") => "dev".to_string(),
        Some(name) => name.to_string(),
        None => env::var("PROFILE").unwrap_or_else(|_| "unknown".to_string()),
    }
}
