//! keepalived-compatible dumps (issue #27): the data dump (SIGUSR1,
//! `keepalived.data`), the stats dump (SIGUSR2, `keepalived.stats`) and
//! the JSON dump (SIGRTMIN+2, `keepalived.json`), in keepalived 2.2.7's
//! formats, so that exporters which parse them keep working.
//!
//! Rendering is pure: [`stats`], [`data`] and [`json`] (or [`render`])
//! turn the engine's [`DumpInstance`]s (and the configuration) into the
//! file's text; [`write()`] puts the text in place atomically. Times are
//! printed in local time, as keepalived prints them: `localtime_r(3)`,
//! which follows `TZ` and `/etc/localtime`; UTC if that fails.

mod data;
mod format;
mod json;
mod stats;
mod write;

#[cfg(test)]
mod tests;

use crate::config;
use crate::control::{InstanceStats, InstanceStatus};

pub use data::data;
pub use json::json;
pub use stats::stats;
pub use write::write;

/// One instance as the dumps see it.
#[derive(Debug, Clone)]
pub struct DumpInstance {
    /// Its configuration.
    pub config: config::Instance,
    /// Its state now (`vrrpctl status`).
    pub status: InstanceStatus,
    /// Its counters (`vrrpctl stats`).
    pub stats: InstanceStats,
}

/// Which of keepalived's three dumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DumpKind {
    /// The configuration and state of everything (`keepalived.data`),
    /// asked for with SIGUSR1 (`keepalived --signum=DATA` prints 10).
    Data,
    /// The counters of each instance (`keepalived.stats`), asked for with
    /// SIGUSR2 (`keepalived --signum=STATS` prints 12).
    Stats,
    /// State and counters of each instance as one line of JSON
    /// (`keepalived.json`), asked for with SIGRTMIN+2, which is 36 on
    /// Linux with glibc (`keepalived --signum=JSON` prints 36). keepalived
    /// writes no file at all when there is no instance.
    Json,
}

impl DumpKind {
    /// Every kind.
    pub const ALL: [DumpKind; 3] = [DumpKind::Data, DumpKind::Stats, DumpKind::Json];

    /// The file keepalived writes it to, in `$TMPDIR` (when set and
    /// absolute) or `/tmp`.
    pub const fn file_name(self) -> &'static str {
        match self {
            DumpKind::Data => "keepalived.data",
            DumpKind::Stats => "keepalived.stats",
            DumpKind::Json => "keepalived.json",
        }
    }

    /// The signal that asks for it: SIGUSR1 (10) for [`DumpKind::Data`],
    /// SIGUSR2 (12) for [`DumpKind::Stats`], SIGRTMIN+2 (36 with glibc,
    /// whose SIGRTMIN is 34) for [`DumpKind::Json`].
    pub fn signal(self) -> libc::c_int {
        match self {
            DumpKind::Data => libc::SIGUSR1,
            DumpKind::Stats => libc::SIGUSR2,
            DumpKind::Json => libc::SIGRTMIN() + 2,
        }
    }

    /// The kind `signal` asks for, if any.
    pub fn from_signal(signal: libc::c_int) -> Option<DumpKind> {
        DumpKind::ALL.into_iter().find(|k| k.signal() == signal)
    }
}

/// The text of dump `kind` for `instances` (in configuration order) of
/// `config`.
pub fn render(kind: DumpKind, config: &config::Config, instances: &[DumpInstance]) -> String {
    match kind {
        DumpKind::Data => data(config, instances),
        DumpKind::Stats => stats(instances),
        DumpKind::Json => json::json_with(Some(config), instances),
    }
}
