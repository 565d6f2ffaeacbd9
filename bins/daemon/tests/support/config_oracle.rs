//! The checks shared by the `config_toml` and `keepalived_conf` fuzz
//! targets (fuzz/fuzz_targets/) and the corpus replay in
//! `bins/daemon/tests/fuzz_corpus.rs`, so `cargo test` runs exactly what the
//! fuzzer runs.
//!
//! Both front-ends must turn any input into `Ok` or diagnostics without
//! panicking, and every accepted configuration must print as native TOML
//! (`to_native_toml`) that loads back to an equal `Config`.

// Each fuzz target uses only one of the two entry points.
#![allow(dead_code)]

use std::path::Path;

use vrrpd::config::{self, Config, KeepalivedOptions};

/// Asserts that `config` survives a trip through native TOML unchanged.
fn round_trips(config: &Config, origin: &str) {
    let toml = config::to_native_toml(config);
    match config::check_native_str(&toml, Path::new("round-trip.toml")) {
        Ok((back, _)) => assert_eq!(
            &back, config,
            "{origin}: the native TOML of an accepted configuration loads to a different one:\n{toml}"
        ),
        Err(d) => panic!(
            "{origin}: the native TOML of an accepted configuration is rejected:\n{}\n{toml}",
            config::render(&d)
        ),
    }
}

/// Native TOML front-end: `data` read lossily as UTF-8.
pub(crate) fn native(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok((config, _)) = config::check_native_str(&text, Path::new("fuzz.toml")) {
        round_trips(&config, "native");
    }
}

/// keepalived.conf front-end, includes not followed (no file system
/// access) and no config-id; `data` read lossily as UTF-8.
pub(crate) fn keepalived(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let options = KeepalivedOptions {
        follow_includes: false,
        ..KeepalivedOptions::default()
    };
    if let Ok((config, _)) = config::check_keepalived_str(&text, Path::new("fuzz.conf"), &options) {
        round_trips(&config, "keepalived");
    }
}
