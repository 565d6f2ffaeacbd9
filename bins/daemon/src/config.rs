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
mod global;
mod keepalived;
mod locations;
pub mod lvs;
mod model;
mod native;
mod routing;
mod scripts;
mod tracking;
mod unique;
mod validate;

use std::path::Path;

pub use convert::to_native_toml;
pub use diagnostics::{Diagnostic, Severity, has_errors, render};
pub use keepalived::KeepalivedOptions;
pub use model::{
    AddressFamily, AddressScope, Announce, ChecksumMode, Config, Exec, FileInit, FileTracker,
    Firewall, Global, Hook, HostPort, HttpTracker, InitialState, Instance, LinkDelays, LogLevel,
    MAX_ADVERTISED_VIPS, Notify, NotifyFifo, ParamMatch, Priority, Probe, ProcessTracker, RunAs,
    ScriptTracker, Statics, SyncGroup, TcpTracker, TrackInterface, TrackRef, TrackerKind, Tracking,
    UnicastChecksum, Version, VirtualAddress, Vmac, Vrid, Weight, checksum_mode_name,
    unicast_checksum_name,
};
pub use routing::{Parsed, Route, Rule, RulePriorities, WordProblem, parse_route, parse_rule};
pub use scripts::script_warnings;

/// What a loader returns: the configuration and its warnings, or every
/// diagnostic (at least one of them an error).
pub type LoadResult = Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>>;

/// The diagnostic for a file that cannot be read.
fn unreadable(path: &Path, err: &dyn std::fmt::Display) -> Vec<Diagnostic> {
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
    match crate::planted::read_config(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => check_native_str(&text, path).map(|loaded| warn_if_readable(loaded, path)),
            Err(_) => Err(unreadable(path, &"not UTF-8")),
        },
        Err(e) => Err(unreadable(path, &e)),
    }
}

/// A VRRPv2 password in a file others can read is no secret: warn, as
/// sshd does for a readable key (the password is cleartext on the wire
/// too, RFC 3768 §10, but it should not be on the disk as well).
fn warn_if_readable(
    (config, mut warnings): (Config, Vec<Diagnostic>),
    path: &Path,
) -> (Config, Vec<Diagnostic>) {
    use std::os::unix::fs::PermissionsExt;
    let has_password = config.instances.iter().any(|i| i.auth_password.is_some());
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode())
        .unwrap_or(0);
    if has_password && mode & 0o004 != 0 {
        warnings.push(Diagnostic {
            severity: Severity::Warning,
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!(
                "the file holds a VRRPv2 password and is readable by everyone (mode {:o})",
                mode & 0o777
            ),
            hint: Some(format!("chmod o-r {}", path.display())),
        });
    }
    (config, warnings)
}

/// Checks native TOML `text`; diagnostics name `path`. Never touches the
/// file system.
pub fn check_native_str(text: &str, path: &Path) -> LoadResult {
    native::check_str(text, path)
}

/// Reads and checks a keepalived.conf, following its `include`s (relative
/// to the including file's directory, like keepalived).
pub fn load_keepalived(path: &Path, options: &KeepalivedOptions) -> LoadResult {
    match crate::planted::read_config(path) {
        Ok(bytes) => keepalived::check(&String::from_utf8_lossy(&bytes), path, options)
            .map(|loaded| warn_if_readable(loaded, path)),
        Err(e) => Err(unreadable(path, &e)),
    }
}

/// Checks keepalived.conf `text`; diagnostics name `path`. Includes are
/// read from the file system relative to `path`'s directory only when
/// [`KeepalivedOptions::follow_includes`] is set.
pub fn check_keepalived_str(text: &str, path: &Path, options: &KeepalivedOptions) -> LoadResult {
    keepalived::check(text, path, options)
}
