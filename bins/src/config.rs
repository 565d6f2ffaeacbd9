//! Configuration: the native TOML format and keepalived.conf.
//!
//! Two front-ends build the same validated [`Config`]:
//!
//! - [`load_native`] / [`check_native_str`] read vrrpd's TOML format
//!   (`docs/configuration.md`);
//! - [`load_keepalived`] / [`check_keepalived_str`] read the VRRP part of a
//!   keepalived.conf, with its includes, and warn about every keyword they
//!   do not support.
//!
//! Both collect every problem as a [`Diagnostic`] with `file:line:column`
//! and a hint instead of stopping at the first one. They return
//! `Ok((config, warnings))` when there is no error, and `Err(diagnostics)`
//! (errors and warnings, sorted by position) otherwise. [`to_native_toml`]
//! prints a `Config` as native TOML that loads back to an equal `Config`,
//! which is what `vrrpd convert` does.

mod address;
mod convert;
mod diagnostics;
mod duration;
mod exec;
mod keepalived;
mod locations;
mod model;
mod native;
mod tracking;
mod validate;

use std::path::Path;

pub use convert::to_native_toml;
pub use diagnostics::{Diagnostic, Severity, has_errors, render};
pub use keepalived::KeepalivedOptions;
pub use model::{
    AddressFamily, AddressScope, Announce, ChecksumMode, Config, Exec, FileInit, FileTracker,
    Global, Hook, HostPort, HttpTracker, InitialState, Instance, LogLevel, Notify, Priority, Probe,
    RunAs, ScriptTracker, SyncGroup, TcpTracker, TrackInterface, TrackRef, Tracking, Version,
    VirtualAddress, Vmac, Vrid, Weight,
};

/// What a loader returns: the configuration and its warnings, or every
/// diagnostic (at least one of them an error).
pub type LoadResult = Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>>;

/// The diagnostic for a file that cannot be read.
fn unreadable(path: &Path, err: &std::io::Error) -> Vec<Diagnostic> {
    vec![Diagnostic {
        severity: Severity::Error,
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read the configuration: {err}"),
        hint: None,
    }]
}

/// Reads and checks a native TOML configuration file.
pub fn load_native(path: &Path) -> LoadResult {
    match std::fs::read_to_string(path) {
        Ok(text) => check_native_str(&text, path),
        Err(e) => Err(unreadable(path, &e)),
    }
}

/// Checks native TOML `text`; diagnostics name `path`. Never touches the
/// file system.
pub fn check_native_str(text: &str, path: &Path) -> LoadResult {
    native::check_str(text, path)
}

/// Reads and checks a keepalived.conf, following its `include`s (relative
/// to the including file's directory, like keepalived).
pub fn load_keepalived(path: &Path, options: &KeepalivedOptions) -> LoadResult {
    match std::fs::read(path) {
        Ok(bytes) => keepalived::check(&String::from_utf8_lossy(&bytes), path, options),
        Err(e) => Err(unreadable(path, &e)),
    }
}

/// Checks keepalived.conf `text`; diagnostics name `path`. Includes are
/// read from the file system relative to `path`'s directory only when
/// [`KeepalivedOptions::follow_includes`] is set.
pub fn check_keepalived_str(text: &str, path: &Path, options: &KeepalivedOptions) -> LoadResult {
    keepalived::check(text, path, options)
}
