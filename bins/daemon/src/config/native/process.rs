//! `[track_process.NAME]`: keepalived's `vrrp_track_process` in TOML.

use std::ops::Range;
use std::time::Duration;

use toml::de::DeTable;

use super::trackers::{read_weight, required};
use super::value::{Ctx, get};
use crate::config::model::{ParamMatch, ProcessTracker, Weight};

const PROCESS_KEYS: &[&str] = &[
    "process",
    "params",
    "param_match",
    "full_command",
    "weight",
    "reverse",
    "quorum",
    "quorum_max",
    "fork_delay",
    "terminate_delay",
];

/// One `[track_process.NAME]` table.
pub(super) fn read_process(
    ctx: &mut Ctx<'_, '_>,
    name: &str,
    at: &Range<usize>,
    t: &DeTable<'_>,
) -> Option<ProcessTracker> {
    ctx.deny_unknown(t, &format!("[track_process.{name}]"), PROCESS_KEYS);
    let process = required(ctx, t, at, "process", &format!("track_process `{name}`"))
        .and_then(|v| ctx.nonempty("process", v));
    let mut params = Vec::new();
    if let Some(v) = get(t, "params") {
        for item in ctx.array("params", v) {
            if let Some(p) = ctx.string("params", item) {
                params.push(p.to_string());
            }
        }
    }
    let mut param_match = match get(t, "param_match") {
        Some(v) => match ctx.string("param_match", v) {
            Some("exact") => Some(ParamMatch::Exact),
            Some("partial") => Some(ParamMatch::Partial),
            Some("initial") => Some(ParamMatch::Initial),
            Some(other) => {
                ctx.error(
                    v.span(),
                    format!("unknown param_match `{other}`"),
                    Some("use \"exact\", \"partial\" or \"initial\"".into()),
                );
                None
            }
            None => None,
        },
        None => None,
    };
    if !params.is_empty() && param_match.is_none() {
        param_match = Some(ParamMatch::Exact);
    }
    let full_command = get(t, "full_command")
        .and_then(|v| ctx.boolean("full_command", v))
        .unwrap_or(false)
        || param_match.is_some();
    let weight = read_weight(ctx, t, -254..=254).unwrap_or(Weight::new(1));
    let quorum_max = get(t, "quorum_max")
        .and_then(|v| ctx.integer("quorum_max", v, 0..=65535))
        .map(|n| n as u32);
    let quorum = get(t, "quorum")
        .and_then(|v| ctx.integer("quorum", v, 0..=65535))
        .map_or(if quorum_max == Some(0) { 0 } else { 1 }, |n| n as u32);
    if quorum_max.is_some_and(|max| max < quorum) {
        ctx.error(
            at.clone(),
            format!("track_process `{name}`: quorum_max is less than quorum"),
            None,
        );
    }
    let mut delay = |key: &str| -> Duration {
        get(t, key)
            .and_then(|v| ctx.duration(key, v))
            .unwrap_or(Duration::ZERO)
    };
    let fork_delay = delay("fork_delay");
    let terminate_delay = delay("terminate_delay");
    Some(ProcessTracker {
        process: process?,
        params,
        param_match,
        full_command,
        weight,
        quorum,
        quorum_max,
        fork_delay,
        terminate_delay,
    })
}
