//! Native tracker definitions, tracker references, notify hooks and
//! commands.

use std::ops::Range;
use std::path::PathBuf;

use toml::de::{DeTable, DeValue};

use super::value::{Ctx, Val, get};
use crate::config::exec::{Exec, RunAs, split_words};
use crate::config::locations::{Item, ObjectLocs};
use crate::config::model::{
    FileInit, FileTracker, Hook, HostPort, HttpTracker, Notify, Probe, ScriptTracker, TcpTracker,
    TrackInterface, TrackRef, Tracking, Weight,
};
use crate::config::validate::WEIGHT_MAX;

const SCRIPT_KEYS: &[&str] = &[
    "command",
    "shell",
    "interval",
    "timeout",
    "rise",
    "fall",
    "weight",
    "reverse",
    "user",
    "group",
    "init_fail",
];
const TCP_KEYS: &[&str] = &[
    "address", "interval", "timeout", "rise", "fall", "weight", "reverse",
];
const HTTP_KEYS: &[&str] = &[
    "url",
    "address",
    "path",
    "expect_status",
    "interval",
    "timeout",
    "rise",
    "fall",
    "weight",
    "reverse",
];
const FILE_KEYS: &[&str] = &["path", "weight", "reverse", "init_value", "init_overwrite"];
const HOOK_KEYS: &[&str] = &["command", "shell", "user", "group"];
const NOTIFY_KEYS: &[&str] = &[
    "active",
    "backup",
    "fault",
    "stop",
    "any",
    "master_rx_lower_pri",
    "deleted",
    "report_deleted",
];
const REF_KEYS: &[&str] = &["name", "weight", "reverse"];
const TRACK_IF_KEYS: &[&str] = &["interface", "weight", "reverse"];

/// The keys tracking adds to an instance or a sync group.
pub(super) const TRACKING_KEYS: &[&str] = &[
    "track_interface",
    "track_script",
    "track_tcp",
    "track_http",
    "track_file",
    "track_process",
];

/// `user`/`group` style keys.
pub(super) fn read_run_as(
    ctx: &mut Ctx<'_, '_>,
    t: &DeTable<'_>,
    user_key: &str,
    group_key: &str,
) -> Option<RunAs> {
    let user = get(t, user_key).and_then(|v| ctx.nonempty(user_key, v));
    let group = get(t, group_key).and_then(|v| ctx.nonempty(group_key, v));
    if user.is_none() {
        if let (Some(_), Some(v)) = (&group, get(t, group_key)) {
            ctx.error(v.span(), format!("`{group_key}` needs `{user_key}`"), None);
        }
    }
    super::run_as(user, group)
}

/// A command: an argv array, a string split into words (no shell), or
/// with `shell = true` a string run by `/bin/sh -c`.
pub(super) fn read_exec(
    ctx: &mut Ctx<'_, '_>,
    key: &str,
    v: &Val<'_>,
    shell: bool,
) -> Option<Exec> {
    match v.get_ref() {
        DeValue::String(s) if shell => {
            if s.trim().is_empty() {
                ctx.error(v.span(), format!("`{key}` must not be empty"), None);
                return None;
            }
            Some(Exec::Shell(s.to_string()))
        }
        DeValue::String(s) => match split_words(s) {
            Ok(words) => Some(Exec::Argv(words)),
            Err(e) => {
                ctx.error(v.span(), format!("`{key}`: {e}"), None);
                None
            }
        },
        DeValue::Array(items) if !shell => {
            let mut argv = Vec::new();
            for item in items.iter() {
                argv.push(ctx.string(key, item)?.to_string());
            }
            if argv.first().is_none_or(|a| a.is_empty()) {
                ctx.error(v.span(), format!("`{key}` needs at least a program"), None);
                return None;
            }
            Some(Exec::Argv(argv))
        }
        DeValue::Array(_) => {
            ctx.error(
                v.span(),
                "`shell = true` takes the command as one string",
                Some("write `command = \"...\"`, or drop `shell` to run the argv directly".into()),
            );
            None
        }
        _ => {
            ctx.expected(key, v, "an argv array or a command string");
            None
        }
    }
}

/// A `weight` and `reverse` pair; `None` when neither is present.
pub(super) fn read_weight(
    ctx: &mut Ctx<'_, '_>,
    t: &DeTable<'_>,
    range: std::ops::RangeInclusive<i64>,
) -> Option<Weight> {
    let value = get(t, "weight").and_then(|v| ctx.integer("weight", v, range.clone()));
    let reverse = get(t, "reverse").and_then(|v| ctx.boolean("reverse", v));
    match (value, reverse) {
        (None, None) => None,
        (Some(value), reverse) => Some(Weight {
            // The range check above keeps the value within i32.
            value: i32::try_from(value).unwrap_or_default(),
            reverse: reverse.unwrap_or(false),
        }),
        (None, Some(_)) => {
            if get(t, "weight").is_none() {
                if let Some(v) = get(t, "reverse") {
                    ctx.error(v.span(), "`reverse` needs a `weight`", None);
                }
            }
            None
        }
    }
}

/// interval/timeout/rise/fall.
fn read_probe(ctx: &mut Ctx<'_, '_>, t: &DeTable<'_>) -> Probe {
    let mut p = Probe::default();
    if let Some(v) = get(t, "interval") {
        match ctx.duration("interval", v) {
            Some(d) if d.is_zero() => ctx.error(v.span(), "`interval` must be longer than 0", None),
            Some(d) => p.interval = d,
            None => {}
        }
    }
    p.timeout = p.interval;
    if let Some(v) = get(t, "timeout") {
        match ctx.duration("timeout", v) {
            Some(d) if d.is_zero() => ctx.error(v.span(), "`timeout` must be longer than 0", None),
            Some(d) => p.timeout = d,
            None => {}
        }
    }
    for (key, slot) in [("rise", &mut p.rise), ("fall", &mut p.fall)] {
        if let Some(v) = get(t, key) {
            if let Some(n) = ctx.integer(key, v, 1..=1_000_000) {
                *slot = n as u32;
            }
        }
    }
    p
}

/// A required key, reported at `span` when missing.
pub(super) fn required<'v, 'i>(
    ctx: &mut Ctx<'_, '_>,
    t: &'v DeTable<'i>,
    at: &Range<usize>,
    key: &str,
    what: &str,
) -> Option<&'v Val<'i>> {
    let v = get(t, key);
    if v.is_none() {
        ctx.error(at.clone(), format!("{what} has no `{key}`"), None);
    }
    v
}

pub(super) fn read_script(
    ctx: &mut Ctx<'_, '_>,
    name: &str,
    at: &Range<usize>,
    t: &DeTable<'_>,
) -> Option<ScriptTracker> {
    ctx.deny_unknown(t, &format!("[track_script.{name}]"), SCRIPT_KEYS);
    let shell = get(t, "shell")
        .and_then(|v| ctx.boolean("shell", v))
        .unwrap_or(false);
    let exec = required(ctx, t, at, "command", &format!("track_script `{name}`"))
        .and_then(|v| read_exec(ctx, "command", v, shell));
    let probe = read_probe(ctx, t);
    let weight =
        read_weight(ctx, t, -i64::from(WEIGHT_MAX)..=i64::from(WEIGHT_MAX)).unwrap_or_default();
    let run_as = read_run_as(ctx, t, "user", "group");
    let init_fail = get(t, "init_fail")
        .and_then(|v| ctx.boolean("init_fail", v))
        .unwrap_or(false);
    Some(ScriptTracker {
        exec: exec?,
        probe,
        weight,
        run_as,
        init_fail,
    })
}

fn read_host_port(ctx: &mut Ctx<'_, '_>, key: &str, v: &Val<'_>) -> Option<HostPort> {
    let s = ctx.string(key, v)?;
    match HostPort::parse(s, None) {
        Ok(hp) => Some(hp),
        Err(e) => {
            ctx.error(
                v.span(),
                format!("`{key}`: {e}"),
                Some(
                    "write host:port, e.g. \"198.18.0.10:5432\" or \"[fd00:198:18::10]:80\"".into(),
                ),
            );
            None
        }
    }
}

pub(super) fn read_tcp(
    ctx: &mut Ctx<'_, '_>,
    name: &str,
    at: &Range<usize>,
    t: &DeTable<'_>,
) -> Option<TcpTracker> {
    ctx.deny_unknown(t, &format!("[track_tcp.{name}]"), TCP_KEYS);
    let target = required(ctx, t, at, "address", &format!("track_tcp `{name}`"))
        .and_then(|v| read_host_port(ctx, "address", v));
    let probe = read_probe(ctx, t);
    let weight =
        read_weight(ctx, t, -i64::from(WEIGHT_MAX)..=i64::from(WEIGHT_MAX)).unwrap_or_default();
    Some(TcpTracker {
        target: target?,
        probe,
        weight,
    })
}

/// The request path of a `track_http`: it goes into the request line
/// as is, so it must start with `/` and hold no whitespace or control
/// characters (RFC 9112 section 3.2).
fn check_path(path: &str) -> Result<(), String> {
    if path.starts_with('/') && !path.contains(|c: char| c.is_whitespace() || c.is_control()) {
        Ok(())
    } else {
        Err(format!(
            "path `{path}` must start with `/` and contain no spaces"
        ))
    }
}

/// Splits `http://host[:port][/path]`.
fn parse_url(url: &str) -> Result<(HostPort, String), String> {
    let rest = if let Some(r) = url.strip_prefix("http://") {
        r
    } else if url.starts_with("https://") {
        return Err(
            "https is not supported by the built-in check; use a track_script with curl".into(),
        );
    } else {
        return Err("the URL must start with http://".into());
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let target = HostPort::parse(authority, Some(80)).map_err(|e| e.to_string())?;
    check_path(path)?;
    Ok((target, path.to_string()))
}

pub(super) fn read_http(
    ctx: &mut Ctx<'_, '_>,
    name: &str,
    at: &Range<usize>,
    t: &DeTable<'_>,
) -> Option<HttpTracker> {
    ctx.deny_unknown(t, &format!("[track_http.{name}]"), HTTP_KEYS);
    let mut target = None;
    let mut path = "/".to_string();
    match (get(t, "url"), get(t, "address")) {
        (Some(u), None) => {
            if let Some(s) = ctx.string("url", u) {
                match parse_url(s) {
                    Ok((hp, p)) => {
                        target = Some(hp);
                        path = p;
                    }
                    Err(e) => ctx.error(u.span(), format!("`url`: {e}"), None),
                }
            }
            if let Some(p) = get(t, "path") {
                ctx.error(
                    p.span(),
                    "give the path in `url` or use `address` + `path`, not both",
                    None,
                );
            }
        }
        (None, Some(a)) => {
            target = read_host_port(ctx, "address", a);
            if let Some(p) = get(t, "path") {
                if let Some(s) = ctx.string("path", p) {
                    match check_path(s) {
                        Ok(()) => path = s.to_string(),
                        Err(e) => ctx.error(p.span(), format!("`path`: {e}"), None),
                    }
                }
            }
        }
        (Some(_), Some(a)) => ctx.error(a.span(), "give either `url` or `address`, not both", None),
        (None, None) => {
            ctx.error(
                at.clone(),
                format!("track_http `{name}` has no `url` (or `address`)"),
                None,
            );
        }
    }
    let expect_status = get(t, "expect_status")
        .and_then(|v| ctx.integer("expect_status", v, 100..=599))
        .map_or(200, |n| n as u16);
    let probe = read_probe(ctx, t);
    let weight =
        read_weight(ctx, t, -i64::from(WEIGHT_MAX)..=i64::from(WEIGHT_MAX)).unwrap_or_default();
    Some(HttpTracker {
        target: target?,
        path,
        expect_status,
        probe,
        weight,
    })
}

pub(super) fn read_file(
    ctx: &mut Ctx<'_, '_>,
    name: &str,
    at: &Range<usize>,
    t: &DeTable<'_>,
) -> Option<FileTracker> {
    ctx.deny_unknown(t, &format!("[track_file.{name}]"), FILE_KEYS);
    let path = required(ctx, t, at, "path", &format!("track_file `{name}`"))
        .and_then(|v| ctx.nonempty("path", v));
    let weight =
        read_weight(ctx, t, -i64::from(i32::MAX)..=i64::from(i32::MAX)).unwrap_or(Weight::new(1));
    let init_value =
        get(t, "init_value").and_then(|v| ctx.integer("init_value", v, i64::MIN..=i64::MAX));
    let overwrite = get(t, "init_overwrite").and_then(|v| ctx.boolean("init_overwrite", v));
    let init = match (init_value, overwrite) {
        (Some(value), o) => Some(FileInit {
            value,
            overwrite: o.unwrap_or(false),
        }),
        (None, Some(_)) if get(t, "init_value").is_none() => {
            if let Some(v) = get(t, "init_overwrite") {
                ctx.error(v.span(), "`init_overwrite` needs `init_value`", None);
            }
            None
        }
        _ => None,
    };
    Some(FileTracker {
        path: PathBuf::from(path?),
        weight,
        init,
    })
}

/// A notify hook: a string, an argv array, or a table with `command`.
pub(super) fn read_hook(ctx: &mut Ctx<'_, '_>, key: &str, v: &Val<'_>) -> Option<Box<Hook>> {
    match v.get_ref() {
        DeValue::Table(t) => {
            ctx.deny_unknown(t, &format!("notify `{key}`"), HOOK_KEYS);
            let shell = get(t, "shell")
                .and_then(|s| ctx.boolean("shell", s))
                .unwrap_or(false);
            let exec = match get(t, "command") {
                Some(c) => read_exec(ctx, "command", c, shell),
                None => {
                    ctx.error(v.span(), format!("notify `{key}` has no `command`"), None);
                    None
                }
            };
            let run_as = read_run_as(ctx, t, "user", "group");
            Some(Box::new(Hook {
                exec: exec?,
                run_as,
            }))
        }
        _ => Some(Box::new(Hook {
            exec: read_exec(ctx, key, v, false)?,
            run_as: None,
        })),
    }
}

/// The `notify` table of an instance or group.
pub(super) fn read_notify(ctx: &mut Ctx<'_, '_>, v: &Val<'_>) -> Notify {
    let mut n = Notify::default();
    let Some(t) = ctx.table("notify", v) else {
        return n;
    };
    ctx.deny_unknown(t, "notify", NOTIFY_KEYS);
    for (key, slot) in [
        ("active", &mut n.active),
        ("backup", &mut n.backup),
        ("fault", &mut n.fault),
        ("stop", &mut n.stop),
        ("any", &mut n.any),
        ("master_rx_lower_pri", &mut n.master_rx_lower_pri),
        ("deleted", &mut n.deleted),
    ] {
        if let Some(v) = get(t, key) {
            *slot = read_hook(ctx, key, v);
        }
    }
    let report = get(t, "report_deleted").and_then(|v| ctx.boolean("report_deleted", v));
    n.report_deleted = report.unwrap_or(false) || n.deleted.is_some();
    n
}

/// A tracker reference: `"name"` or `{ name, weight, reverse }`.
fn read_ref(ctx: &mut Ctx<'_, '_>, key: &str, v: &Val<'_>) -> Option<TrackRef> {
    match v.get_ref() {
        DeValue::String(s) if !s.is_empty() => Some(TrackRef {
            name: s.to_string(),
            weight: None,
        }),
        DeValue::Table(t) => {
            ctx.deny_unknown(t, &format!("a `{key}` entry"), REF_KEYS);
            let name = match get(t, "name") {
                Some(n) => ctx.nonempty("name", n),
                None => {
                    ctx.error(v.span(), format!("`{key}` entry has no `name`"), None);
                    None
                }
            };
            // The range is checked by the shared validation, which knows
            // the kind; here only keep it within i32.
            let weight = read_weight(ctx, t, -i64::from(i32::MAX)..=i64::from(i32::MAX));
            Some(TrackRef {
                name: name?,
                weight,
            })
        }
        _ => {
            ctx.expected(key, v, "a tracker name or a { name, weight } table");
            None
        }
    }
}

/// A tracked interface: `"eth1"` or `{ interface, weight, reverse }`.
fn read_track_if(ctx: &mut Ctx<'_, '_>, v: &Val<'_>) -> Option<TrackInterface> {
    match v.get_ref() {
        DeValue::String(s) if !s.is_empty() => Some(TrackInterface {
            interface: s.to_string(),
            weight: Weight::default(),
        }),
        DeValue::Table(t) => {
            ctx.deny_unknown(t, "a `track_interface` entry", TRACK_IF_KEYS);
            let interface = match get(t, "interface") {
                Some(n) => ctx.nonempty("interface", n),
                None => {
                    ctx.error(v.span(), "`track_interface` entry has no `interface`", None);
                    None
                }
            };
            let weight =
                read_weight(ctx, t, -i64::from(i32::MAX)..=i64::from(i32::MAX)).unwrap_or_default();
            Some(TrackInterface {
                interface: interface?,
                weight,
            })
        }
        _ => {
            ctx.expected(
                "track_interface",
                v,
                "an interface name or an { interface, weight } table",
            );
            None
        }
    }
}

/// The `track_*` keys of an instance or sync group.
pub(super) fn read_tracking(
    ctx: &mut Ctx<'_, '_>,
    t: &DeTable<'_>,
    locs: &mut ObjectLocs,
) -> Tracking {
    let mut tracking = Tracking::default();
    if let Some(v) = get(t, "track_interface") {
        for item in ctx.array("track_interface", v) {
            if let Some(ti) = read_track_if(ctx, item) {
                locs.set_item(
                    Item::TrackInterface(tracking.interfaces.len()),
                    ctx.pos(item.span()),
                );
                tracking.interfaces.push(ti);
            }
        }
    }
    type Kind<'a> = (&'static str, fn(usize) -> Item, &'a mut Vec<TrackRef>);
    let kinds: [Kind<'_>; 5] = [
        ("track_script", Item::TrackScript, &mut tracking.scripts),
        ("track_tcp", Item::TrackTcp, &mut tracking.tcp),
        ("track_http", Item::TrackHttp, &mut tracking.http),
        ("track_file", Item::TrackFile, &mut tracking.files),
        ("track_process", Item::TrackProcess, &mut tracking.processes),
    ];
    for (key, item_of, list) in kinds {
        if let Some(v) = get(t, key) {
            for item in ctx.array(key, v) {
                if let Some(r) = read_ref(ctx, key, item) {
                    locs.set_item(item_of(list.len()), ctx.pos(item.span()));
                    list.push(r);
                }
            }
        }
    }
    tracking
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (hp, path) = parse_url("http://198.18.0.10:8080/health?x=1").unwrap();
        assert_eq!(hp.to_string(), "198.18.0.10:8080");
        assert_eq!(path, "/health?x=1");
        let (hp, path) = parse_url("http://[fd00:198:18::1]").unwrap();
        assert_eq!((hp.port, path.as_str()), (80, "/"));
        assert!(parse_url("https://x/").is_err());
        assert!(parse_url("ftp://x/").is_err());
        assert!(parse_url("http://:80/").is_err());
        // Found by the config_toml fuzzer: the url form accepted a path
        // that the address + path form (what `convert` prints) refused.
        assert!(parse_url("http://x/healthz ").is_err());
        assert!(parse_url("http://x/a\u{7f}").is_err());
        assert!(check_path("/healthz ").is_err());
    }
}
