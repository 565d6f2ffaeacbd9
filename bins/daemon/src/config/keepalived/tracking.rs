//! `vrrp_script`, `track_file`, `vrrp_sync_group`, the `track_*` blocks of
//! instances and groups, and the `notify*` keywords.

use std::path::PathBuf;
use std::time::Duration;

use super::args::Ctx;
use super::keywords::{self, ignore};
use super::parser::{Stmt, Word};
use crate::config::locations::{Field, Item, ObjectLocs};
use crate::config::model::{
    FileInit, FileTracker, Hook, Notify, ParamMatch, Probe, ProcessTracker, RunAs, ScriptTracker,
    SyncGroup, TrackInterface, TrackRef, Tracking, Weight,
};
use crate::config::validate::{FILE_REF_WEIGHT_MAX, WEIGHT_MAX};

/// `weight N [reverse|noreverse|no_reverse]` starting at `args[0]`.
fn read_weight(ctx: &mut Ctx<'_>, owner: &Word, args: &[Word], max: i64) -> Option<Weight> {
    let first = args.first()?;
    if first.text != "weight" {
        ctx.error(
            first.pos,
            format!("unexpected `{}` after `{}`", first.text, owner.text),
            Some("write `weight N [reverse]`".into()),
        );
        return None;
    }
    let Some(value) = args.get(1) else {
        ctx.error(first.pos, "`weight` needs a value", None);
        return None;
    };
    let value = ctx.int("weight", value, -max..=max)?;
    let reverse = match args.get(2).map(|w| (w, w.text.as_str())) {
        None => false,
        Some((_, "reverse")) => true,
        Some((_, "noreverse" | "no_reverse")) => false,
        Some((w, other)) => {
            ctx.error(
                w.pos,
                format!("unexpected `{other}` after the weight"),
                Some("only `reverse` may follow".into()),
            );
            false
        }
    };
    if let Some(extra) = args.get(3) {
        ctx.error(extra.pos, format!("unexpected `{}`", extra.text), None);
    }
    Some(Weight {
        value: i32::try_from(value).unwrap_or_default(),
        reverse,
    })
}

/// `vrrp_script NAME { script ...; interval ...; ... }`.
pub(super) fn read_script(ctx: &mut Ctx<'_>, s: &Stmt) -> Option<(String, ScriptTracker)> {
    let Some(name) = s.args.first() else {
        ctx.error(s.key.pos, "`vrrp_script` needs a name", None);
        return None;
    };
    ctx.arity(s, 1, 1);
    let mut exec = None;
    let mut probe = Probe::default();
    let mut timeout = None;
    let mut weight = Weight::default();
    let mut run_as = None;
    let mut init_fail = false;
    for item in ctx.block(s) {
        match item.key.text.as_str() {
            "script" => {
                ctx.no_block(item);
                if let Some(cmd) = item.args.first() {
                    exec = ctx.command(cmd);
                    if let Some(extra) = item.args.get(1) {
                        ctx.warn(
                            extra.pos,
                            "keepalived uses only the first word of an unquoted `script`; the rest is ignored",
                            Some(format!("quote the whole command: script \"{} ...\"", cmd.text)),
                        );
                    }
                } else {
                    ctx.error(item.key.pos, "`script` needs a command", None);
                }
            }
            "interval" | "timeout" => {
                if let Some(w) = ctx.single(item) {
                    if let Some(n) = ctx.int(&item.key.text, w, 1..=4294) {
                        let d = Duration::from_secs(n as u64);
                        if item.key.text == "interval" {
                            probe.interval = d;
                        } else {
                            timeout = Some(d);
                        }
                    }
                }
            }
            "weight" => {
                ctx.no_block(item);
                let mut args = vec![item.key.clone()];
                args.extend(item.args.iter().cloned());
                if let Some(w) = read_weight(ctx, name, &args, i64::from(WEIGHT_MAX)) {
                    weight = w;
                }
            }
            "rise" | "fall" => {
                if let Some(w) = ctx.single(item) {
                    if let Some(n) = ctx.int(&item.key.text, w, 1..=1_000_000) {
                        if item.key.text == "rise" {
                            probe.rise = n as u32;
                        } else {
                            probe.fall = n as u32;
                        }
                    }
                }
            }
            "user" => {
                ctx.no_block(item);
                if ctx.arity(item, 1, 2) {
                    run_as = Some(RunAs {
                        user: item.args[0].text.clone(),
                        group: item.args.get(1).map(|g| g.text.clone()),
                    });
                }
            }
            "init_fail" => {
                ctx.no_block(item);
                init_fail = true;
            }
            other => {
                let hint = crate::config::native::suggest(other, SCRIPT_KEYS)
                    .map(|k| format!("did you mean `{k}`?"));
                ctx.error(
                    item.key.pos,
                    format!(
                        "unknown keyword {} in vrrp_script",
                        ctx.sink.quote(item.key.pos, other)
                    ),
                    hint,
                );
            }
        }
    }
    probe.timeout = timeout.unwrap_or(probe.interval);
    let Some(exec) = exec else {
        ctx.error(
            s.key.pos,
            format!("vrrp_script `{}` has no `script`", name.text),
            None,
        );
        return None;
    };
    Some((
        name.text.clone(),
        ScriptTracker {
            exec,
            probe,
            weight,
            run_as,
            init_fail,
        },
    ))
}

const SCRIPT_KEYS: &[&str] = &[
    "script",
    "interval",
    "timeout",
    "weight",
    "rise",
    "fall",
    "user",
    "init_fail",
];

/// `track_file NAME { file ...; weight ...; init_file ... }`.
pub(super) fn read_track_file(ctx: &mut Ctx<'_>, s: &Stmt) -> Option<(String, FileTracker)> {
    let Some(name) = s.args.first() else {
        ctx.error(s.key.pos, format!("`{}` needs a name", s.key.text), None);
        return None;
    };
    ctx.arity(s, 1, 1);
    if s.key.text == "vrrp_track_file" {
        ctx.warn(
            s.key.pos,
            "`vrrp_track_file` is a deprecated synonym of `track_file`",
            None,
        );
    }
    let mut path = None;
    let mut weight = Weight::new(1);
    let mut init = None;
    for item in ctx.block(s) {
        match item.key.text.as_str() {
            "file" => path = ctx.single(item).map(|w| PathBuf::from(&w.text)),
            "weight" => {
                ctx.no_block(item);
                let mut args = vec![item.key.clone()];
                args.extend(item.args.iter().cloned());
                if let Some(w) = read_weight(ctx, name, &args, i64::from(i32::MAX)) {
                    weight = w;
                }
            }
            "init_file" => {
                ctx.no_block(item);
                ctx.arity(item, 0, 2);
                let mut value = 0;
                let mut overwrite = false;
                for w in &item.args {
                    if w.text == "overwrite" {
                        overwrite = true;
                    } else if let Some(n) = ctx.int(&item.key.text, w, i64::MIN..=i64::MAX) {
                        value = n;
                    }
                }
                init = Some(FileInit { value, overwrite });
            }
            other => ctx.error(
                item.key.pos,
                format!(
                    "unknown keyword {} in track_file",
                    ctx.sink.quote(item.key.pos, other)
                ),
                Some("use file, weight or init_file".into()),
            ),
        }
    }
    let Some(path) = path else {
        ctx.error(
            s.key.pos,
            format!("track_file `{}` has no `file`", name.text),
            None,
        );
        return None;
    };
    Some((name.text.clone(), FileTracker { path, weight, init }))
}

/// `vrrp_track_process NAME { process P [PARAM...]; param_match
/// [initial|partial]; weight N [reverse]; quorum N; quorum_max N;
/// fork_delay S; terminate_delay S; delay S; full_command }`.
pub(super) fn read_track_process(ctx: &mut Ctx<'_>, s: &Stmt) -> Option<(String, ProcessTracker)> {
    let Some(name) = s.args.first() else {
        ctx.error(s.key.pos, "`vrrp_track_process` needs a name", None);
        return None;
    };
    ctx.arity(s, 1, 1);
    let mut t = ProcessTracker::new("");
    for item in ctx.block(s) {
        let key = item.key.text.as_str();
        ctx.no_block(item);
        match key {
            "process" => {
                if !ctx.arity(item, 1, usize::MAX) {
                    continue;
                }
                t.process = item.args[0].text.clone();
                t.params = item.args[1..].iter().map(|w| w.text.clone()).collect();
                if !t.params.is_empty() {
                    t.param_match.get_or_insert(ParamMatch::Exact);
                    t.full_command = true;
                }
            }
            "param_match" => {
                ctx.arity(item, 0, 1);
                t.full_command = true;
                t.param_match = match item.args.first().map(|w| w.text.as_str()) {
                    None => Some(ParamMatch::Exact),
                    Some("initial") => Some(ParamMatch::Initial),
                    Some("partial") => Some(ParamMatch::Partial),
                    Some(other) => {
                        ctx.error(
                            item.args[0].pos,
                            format!("unknown param_match `{other}`"),
                            Some("use initial or partial, or nothing for an exact match".into()),
                        );
                        t.param_match
                    }
                };
            }
            "weight" => {
                let mut args = vec![item.key.clone()];
                args.extend(item.args.iter().cloned());
                if let Some(w) = read_weight(ctx, name, &args, 254) {
                    t.weight = w;
                }
            }
            "quorum" => {
                if let Some(w) = ctx.single(item) {
                    if let Some(n) = ctx.int(key, w, 1..=65535) {
                        t.quorum = n as u32;
                    }
                }
            }
            "quorum_max" => {
                if let Some(w) = ctx.single(item) {
                    if let Some(n) = ctx.int(key, w, 0..=65535) {
                        t.quorum_max = Some(n as u32);
                        if n == 0 {
                            t.quorum = 0;
                        }
                    }
                }
            }
            "fork_delay" | "terminate_delay" | "delay" => {
                if let Some(w) = ctx.single(item) {
                    if let Some(d) =
                        ctx.seconds(key, w, Duration::from_micros(1), Duration::from_secs(3600))
                    {
                        if key != "terminate_delay" {
                            t.fork_delay = d;
                        }
                        if key != "fork_delay" {
                            t.terminate_delay = d;
                        }
                    }
                }
            }
            "full_command" => {
                ctx.bare(item);
                t.full_command = true;
            }
            other => ctx.error(
                item.key.pos,
                format!(
                    "unknown keyword {} in vrrp_track_process",
                    ctx.sink.quote(item.key.pos, other)
                ),
                Some("use process, param_match, weight, quorum, quorum_max, delay, fork_delay, terminate_delay or full_command".into()),
            ),
        }
    }
    if t.process.is_empty() {
        ctx.error(
            s.key.pos,
            format!("vrrp_track_process `{}` has no `process`", name.text),
            None,
        );
        return None;
    }
    if t.quorum_max.is_some_and(|max| max < t.quorum) {
        ctx.error(
            s.key.pos,
            format!(
                "vrrp_track_process `{}`: quorum_max is less than quorum",
                name.text
            ),
            None,
        );
    }
    Some((name.text.clone(), t))
}

/// A `track_interface`, `track_script`, `track_file` or `track_process` block.
pub(super) fn read_track_block(
    ctx: &mut Ctx<'_>,
    s: &Stmt,
    tracking: &mut Tracking,
    locs: &mut ObjectLocs,
) {
    let kind = s.key.text.as_str();
    for item in ctx.block(s) {
        ctx.no_block(item);
        match kind {
            "track_interface" => {
                let weight = read_weight(ctx, &item.key, &item.args, i64::from(WEIGHT_MAX))
                    .unwrap_or_default();
                locs.set_item(
                    Item::TrackInterface(tracking.interfaces.len()),
                    item.key.pos,
                );
                tracking.interfaces.push(TrackInterface {
                    interface: item.key.text.clone(),
                    weight,
                });
            }
            "track_script" => {
                let weight = read_weight(ctx, &item.key, &item.args, i64::from(WEIGHT_MAX));
                locs.set_item(Item::TrackScript(tracking.scripts.len()), item.key.pos);
                tracking.scripts.push(TrackRef {
                    name: item.key.text.clone(),
                    weight,
                });
            }
            "track_process" => {
                let weight = read_weight(ctx, &item.key, &item.args, 254);
                locs.set_item(Item::TrackProcess(tracking.processes.len()), item.key.pos);
                tracking.processes.push(TrackRef {
                    name: item.key.text.clone(),
                    weight,
                });
            }
            _ => {
                let weight =
                    read_weight(ctx, &item.key, &item.args, i64::from(FILE_REF_WEIGHT_MAX));
                locs.set_item(Item::TrackFile(tracking.files.len()), item.key.pos);
                tracking.files.push(TrackRef {
                    name: item.key.text.clone(),
                    weight,
                });
            }
        }
    }
}

/// `notify_master|backup|fault|stop|notify <command> [user [group]]`.
pub(super) fn read_notify_keyword(ctx: &mut Ctx<'_>, s: &Stmt, notify: &mut Notify) {
    let Some((exec, run_as)) = ctx.command_as(s) else {
        return;
    };
    let slot = match s.key.text.as_str() {
        "notify_master" => &mut notify.active,
        "notify_backup" => &mut notify.backup,
        "notify_fault" => &mut notify.fault,
        "notify_stop" => &mut notify.stop,
        "notify_master_rx_lower_pri" => &mut notify.master_rx_lower_pri,
        "notify_deleted" => &mut notify.deleted,
        _ => &mut notify.any,
    };
    if slot.is_some() {
        ctx.warn(
            s.key.pos,
            format!(
                "`{}` is already set; this one is ignored (as keepalived)",
                s.key.text
            ),
            None,
        );
        return;
    }
    *slot = Some(Box::new(Hook { exec, run_as }));
}

/// `vrrp_sync_group NAME { group { ... } ... }`, with the group's
/// `notify_priority_changes` (its members' default) if it sets one.
pub(super) fn read_sync_group(
    ctx: &mut Ctx<'_>,
    s: &Stmt,
) -> Option<(SyncGroup, ObjectLocs, Option<bool>)> {
    let Some(name) = s.args.first() else {
        ctx.error(s.key.pos, "`vrrp_sync_group` needs a name", None);
        return None;
    };
    ctx.arity(s, 1, 1);
    let mut locs = ObjectLocs::new(s.key.pos);
    locs.set_field(Field::Name, name.pos);
    let mut group = SyncGroup {
        name: name.text.clone(),
        instances: Vec::new(),
        tracking: Tracking::default(),
        tracking_weight: false,
        notify: Notify::default(),
    };
    let mut seen_group = false;
    let mut priority_changes = None;
    for item in ctx.block(s) {
        match item.key.text.as_str() {
            "notify_priority_changes" => priority_changes = Some(ctx.flag(item)),
            "group" => {
                if seen_group {
                    ctx.warn(
                        item.key.pos,
                        "`group` is already given; this one is ignored (as keepalived)",
                        None,
                    );
                    continue;
                }
                seen_group = true;
                ctx.arity(item, 0, 0);
                // keepalived takes every word in the block as a member.
                for member in ctx.block(item) {
                    for w in std::iter::once(&member.key).chain(&member.args) {
                        locs.set_item(Item::Member(group.instances.len()), w.pos);
                        group.instances.push(w.text.clone());
                    }
                }
            }
            "track_interface" | "track_script" | "track_file" | "track_process" => {
                read_track_block(ctx, item, &mut group.tracking, &mut locs)
            }
            "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" | "notify" => {
                read_notify_keyword(ctx, item, &mut group.notify)
            }
            "sync_group_tracking_weight" => {
                ctx.no_block(item);
                locs.set_field(Field::TrackingWeight, item.key.pos);
                group.tracking_weight = true;
            }
            "global_tracking" => {
                ctx.no_block(item);
                ctx.warn(
                    item.key.pos,
                    "`global_tracking` is deprecated; treated as `sync_group_tracking_weight` (as keepalived)",
                    Some("track on the sync group instead".into()),
                );
                locs.set_field(Field::TrackingWeight, item.key.pos);
                group.tracking_weight = true;
            }
            _ => ignore(ctx, item, keywords::GROUP, "vrrp_sync_group", GROUP_KEYS),
        }
    }
    if !seen_group {
        ctx.error(
            s.key.pos,
            format!("sync group `{}` has no `group {{ ... }}` block", group.name),
            None,
        );
    }
    Some((group, locs, priority_changes))
}

const GROUP_KEYS: &[&str] = &[
    "group",
    "track_interface",
    "track_script",
    "track_file",
    "track_process",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify",
    "sync_group_tracking_weight",
    "notify_priority_changes",
    "global_tracking",
];
