//! The native TOML format (see `docs/configuration.md`).
//!
//! The text is parsed into toml's spanned document tree, then walked by
//! hand: unknown keys, type errors and range errors are all collected with
//! their position, then the shared semantic checks run.

mod checks;
mod instance;
mod lvs;
mod process;
mod routing;
mod trackers;
mod value;
mod vips;

use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use super::diagnostics::{Diagnostic, LineIndex, Pos, Sink};
use super::locations::{Dialect, Locations, TrackerKind};
use super::model::{ChecksumMode, Config, Global, LogLevel, NotifyFifo, RunAs};
use super::validate;
use value::{Ctx, get};

pub(crate) use value::suggest;

/// Top-level keys.
const TOP_KEYS: &[&str] = &[
    "global",
    "instance",
    "sync_group",
    "track_script",
    "track_tcp",
    "track_http",
    "track_process",
    "track_file",
    "virtual_server",
    "static",
];

/// `[global]` keys.
const GLOBAL_KEYS: &[&str] = &[
    "router_id",
    "state_dir",
    "control_socket",
    "metrics_listen",
    "dump_dir",
    "log_level",
    "script_user",
    "script_group",
    "script_security",
    "v3_ipv4_checksum",
    "startup_delay",
    "startup_script",
    "startup_script_timeout",
    "shutdown_script",
    "shutdown_script_timeout",
    "notify_fifo",
    "lvs_timeouts",
    "firewall",
    "log_unknown_vrids",
    "fifo_states_on_reload",
    "link_delays",
    "disable_local_igmp",
    "net_namespace",
];

/// Parses and checks native TOML `text`, reporting positions in `path`.
pub(crate) fn check_str(
    text: &str,
    path: &Path,
) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut sink = Sink::new(false);
    let file = sink.add_file(path);
    let lines = LineIndex::new(text);
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        for e in errors {
            let pos = e
                .span()
                .map_or(Pos::file_start(file), |s| lines.pos(file, s.start));
            sink.error(
                pos,
                format!("TOML syntax: {}", e.message().trim_end()),
                None,
            );
        }
        return Err(sink.finish());
    }
    let mut locs = Locations::new(Dialect::Native, lines.pos(file, 0));
    let config = {
        let mut ctx = Ctx {
            sink: &mut sink,
            lines,
            file,
            rule_priorities: Default::default(),
        };
        read_document(&mut ctx, doc.get_ref(), &mut locs)
    };
    validate::validate(&config, &locs, &mut sink);
    if sink.has_errors() {
        Err(sink.finish())
    } else {
        Ok((config, sink.finish()))
    }
}

fn read_document(ctx: &mut Ctx<'_, '_>, doc: &DeTable<'_>, locs: &mut Locations) -> Config {
    ctx.deny_unknown(doc, "the top level", TOP_KEYS);
    let mut config = Config::default();
    if let Some(v) = get(doc, "global") {
        if let Some(t) = ctx.table("global", v) {
            config.global = read_global(ctx, t);
        }
    }
    if let Some(v) = get(doc, "track_script") {
        for (name, span, t) in named_tables(ctx, "track_script", v) {
            locs.trackers
                .insert((TrackerKind::Script, name.clone()), ctx.pos(span.clone()));
            if let Some(s) = trackers::read_script(ctx, &name, &span, t) {
                config.track_script.insert(name, s);
            }
        }
    }
    if let Some(v) = get(doc, "track_tcp") {
        for (name, span, t) in named_tables(ctx, "track_tcp", v) {
            locs.trackers
                .insert((TrackerKind::Tcp, name.clone()), ctx.pos(span.clone()));
            if let Some(s) = trackers::read_tcp(ctx, &name, &span, t) {
                config.track_tcp.insert(name, s);
            }
        }
    }
    if let Some(v) = get(doc, "track_http") {
        for (name, span, t) in named_tables(ctx, "track_http", v) {
            locs.trackers
                .insert((TrackerKind::Http, name.clone()), ctx.pos(span.clone()));
            if let Some(s) = trackers::read_http(ctx, &name, &span, t) {
                config.track_http.insert(name, s);
            }
        }
    }
    if let Some(v) = get(doc, "track_file") {
        for (name, span, t) in named_tables(ctx, "track_file", v) {
            locs.trackers
                .insert((TrackerKind::File, name.clone()), ctx.pos(span.clone()));
            if let Some(s) = trackers::read_file(ctx, &name, &span, t) {
                config.track_file.insert(name, s);
            }
        }
    }
    if let Some(v) = get(doc, "track_process") {
        for (name, span, t) in named_tables(ctx, "track_process", v) {
            locs.trackers
                .insert((TrackerKind::Process, name.clone()), ctx.pos(span.clone()));
            if let Some(s) = process::read_process(ctx, &name, &span, t) {
                config.track_process.insert(name, s);
            }
        }
    }
    if let Some(v) = get(doc, "instance") {
        for item in ctx.array("instance", v) {
            let Some(t) = ctx.table("instance", item) else {
                continue;
            };
            if let Some((inst, l)) = instance::read_instance(ctx, t, item.span()) {
                config.instances.push(inst);
                locs.instances.push(l);
            }
        }
    }
    if let Some(v) = get(doc, "static") {
        config.statics = routing::read_statics(ctx, v);
    }
    if let Some(v) = get(doc, "virtual_server") {
        for item in ctx.array("virtual_server", v) {
            if let Some(t) = ctx.table("virtual_server", item) {
                config
                    .virtual_servers
                    .extend(lvs::read_virtual_server(ctx, t, item.span()));
            }
        }
    }
    if let Some(v) = get(doc, "sync_group") {
        for item in ctx.array("sync_group", v) {
            let Some(t) = ctx.table("sync_group", item) else {
                continue;
            };
            if let Some((group, l)) = instance::read_sync_group(ctx, t, item.span()) {
                config.sync_groups.push(group);
                locs.groups.push(l);
            }
        }
    }
    config
}

/// The `[section.NAME]` tables of a tracker section.
fn named_tables<'v, 'i>(
    ctx: &mut Ctx<'_, '_>,
    section: &str,
    v: &'v value::Val<'i>,
) -> Vec<(String, std::ops::Range<usize>, &'v DeTable<'i>)> {
    let Some(t) = ctx.table(section, v) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in t.iter() {
        let name = k.get_ref().to_string();
        if name.is_empty() || name.contains(char::is_whitespace) {
            ctx.error(
                k.span(),
                format!("invalid {section} name `{name}`"),
                Some("use a name without spaces".into()),
            );
            continue;
        }
        match v.get_ref() {
            DeValue::Table(inner) => out.push((name, k.span(), inner)),
            other => ctx.error(
                v.span(),
                format!(
                    "`{section}.{name}` must be a table, not {}",
                    value::type_name(other)
                ),
                Some(format!(
                    "write it as `[{section}.{name}]` followed by its keys"
                )),
            ),
        }
    }
    out
}

fn read_global(ctx: &mut Ctx<'_, '_>, t: &DeTable<'_>) -> Global {
    ctx.deny_unknown(t, "[global]", GLOBAL_KEYS);
    let mut g = Global::default();
    if let Some(v) = get(t, "router_id") {
        g.router_id = ctx.nonempty("router_id", v);
    }
    if let Some(v) = get(t, "state_dir") {
        if let Some(s) = ctx.nonempty("state_dir", v) {
            g.state_dir = PathBuf::from(s);
        }
    }
    if let Some(v) = get(t, "control_socket") {
        if let Some(s) = ctx.nonempty("control_socket", v) {
            g.control_socket = PathBuf::from(s);
        }
    }
    if let Some(v) = get(t, "dump_dir") {
        if let Some(s) = ctx.nonempty("dump_dir", v) {
            g.dump_dir = Some(PathBuf::from(s));
        }
    }
    if let Some(v) = get(t, "metrics_listen") {
        g.metrics_listen = ctx.socket_addr("metrics_listen", v);
    }
    if let Some(v) = get(t, "net_namespace") {
        if let Some(name) = ctx.nonempty("net_namespace", v) {
            if crate::netns::valid_name(&name) {
                g.set_net_namespace(&name);
            } else {
                ctx.error(v.span(), format!("`{name}` is not a namespace name"), None);
            }
        }
    }
    if let Some(v) = get(t, "log_level") {
        if let Some(s) = ctx.string("log_level", v) {
            match LogLevel::from_name(s) {
                Some(l) => g.log_level = l,
                None => ctx.error(
                    v.span(),
                    format!("unknown log level `{s}`"),
                    Some("use one of error, warn, info, debug, trace".into()),
                ),
            }
        }
    }
    g.script_user = trackers::read_run_as(ctx, t, "script_user", "script_group");
    if let Some(v) = get(t, "script_security") {
        g.script_security = ctx.boolean("script_security", v).unwrap_or(false);
    }
    if let Some(v) = get(t, "v3_ipv4_checksum") {
        if let Some(s) = ctx.string("v3_ipv4_checksum", v) {
            match s {
                "pseudo-header" => g.v3_ipv4_checksum = ChecksumMode::PseudoHeader,
                "message-only" => g.v3_ipv4_checksum = ChecksumMode::MessageOnly,
                other => ctx.error(
                    v.span(),
                    format!("unknown checksum mode `{other}`"),
                    Some("use \"pseudo-header\" (keepalived, FRR <= 8.4) or \"message-only\" (Cisco, newer FRR)".into()),
                ),
            }
        }
    }
    if let Some(v) = get(t, "startup_delay") {
        if let Some(d) = ctx.duration("startup_delay", v) {
            g.startup_delay = d;
        }
    }
    if let Some(v) = get(t, "notify_fifo") {
        match v.get_ref() {
            DeValue::Array(items) => {
                for item in items {
                    g.notify_fifos.extend(read_fifo(ctx, item));
                }
            }
            _ => g.notify_fifos.extend(read_fifo(ctx, v)),
        }
    }
    if let Some(v) = get(t, "lvs_timeouts") {
        g.lvs_timeouts = read_lvs_timeouts(ctx, v);
    }
    if let Some(v) = get(t, "fifo_states_on_reload") {
        g.fifo_states_on_reload = ctx.boolean("fifo_states_on_reload", v).unwrap_or(false);
    }
    if let Some(v) = get(t, "link_delays") {
        g.link_delays = read_link_delays(ctx, v);
    }
    if let Some(v) = get(t, "disable_local_igmp") {
        g.disable_local_igmp = ctx.boolean("disable_local_igmp", v).unwrap_or(false);
    }
    if let Some(v) = get(t, "log_unknown_vrids") {
        g.log_unknown_vrids = ctx.boolean("log_unknown_vrids", v).unwrap_or(false);
    }
    if let Some(v) = get(t, "firewall") {
        if let Some(f) = ctx.table("firewall", v) {
            ctx.deny_unknown(f, "firewall", &["table", "priority", "counters"]);
            if let Some(name) = get(f, "table").and_then(|n| ctx.nonempty("table", n)) {
                if name.len() > crate::config::Firewall::MAX_TABLE_LEN {
                    ctx.error(
                        v.span(),
                        format!(
                            "firewall.table is longer than {} bytes",
                            crate::config::Firewall::MAX_TABLE_LEN
                        ),
                        None,
                    );
                } else {
                    g.firewall.table = name;
                }
            }
            if let Some(p) = get(f, "priority")
                .and_then(|p| ctx.integer("priority", p, i64::from(i32::MIN)..=i64::from(i32::MAX)))
            {
                g.firewall.priority = i32::try_from(p).unwrap_or(-1);
            }
            if let Some(c) = get(f, "counters").and_then(|c| ctx.boolean("counters", c)) {
                g.firewall.counters = c;
            }
        }
    }
    g.startup_script =
        get(t, "startup_script").and_then(|v| trackers::read_hook(ctx, "startup_script", v));
    g.shutdown_script =
        get(t, "shutdown_script").and_then(|v| trackers::read_hook(ctx, "shutdown_script", v));
    for (key, slot) in [
        ("startup_script_timeout", &mut g.startup_script_timeout),
        ("shutdown_script_timeout", &mut g.shutdown_script_timeout),
    ] {
        if let Some(v) = get(t, key) {
            match ctx.duration(key, v) {
                Some(d)
                    if (std::time::Duration::from_secs(1)
                        ..=std::time::Duration::from_secs(1000))
                        .contains(&d) =>
                {
                    *slot = d;
                }
                Some(_) => ctx.error(v.span(), format!("{key} must be 1s..=1000s"), None),
                None => {}
            }
        }
    }
    g
}

/// The keys of a `notify_fifo` table.
const FIFO_KEYS: &[&str] = &["path", "user", "group", "script"];

/// One `notify_fifo`: a path, or a table with `path` and optionally the
/// owner (`user`, `group`) and a `script` to read it.
fn read_fifo(ctx: &mut Ctx<'_, '_>, v: &value::Val<'_>) -> Option<NotifyFifo> {
    match v.get_ref() {
        DeValue::Table(t) => {
            ctx.deny_unknown(t, "notify_fifo", FIFO_KEYS);
            let Some(path) = get(t, "path").and_then(|p| ctx.nonempty("path", p)) else {
                ctx.error(v.span(), "notify_fifo needs a `path`", None);
                return None;
            };
            let owner = trackers::read_run_as(ctx, t, "user", "group");
            let script = get(t, "script").and_then(|s| trackers::read_hook(ctx, "script", s));
            Some(NotifyFifo {
                path: PathBuf::from(path),
                owner,
                script,
            })
        }
        _ => Some(NotifyFifo {
            path: PathBuf::from(ctx.nonempty("notify_fifo", v)?),
            owner: None,
            script: None,
        }),
    }
}

/// A user name written as `script_user`/`user` with its optional group key.
pub(super) fn run_as(user: Option<String>, group: Option<String>) -> Option<RunAs> {
    user.map(|user| RunAs { user, group })
}

/// `lvs_timeouts = { tcp = "2h", tcp_fin = "2m", udp = "5m" }`: each up
/// to 31 days; one left out is left as the kernel has it.
fn read_lvs_timeouts(ctx: &mut Ctx<'_, '_>, v: &value::Val<'_>) -> Option<vrrp_ipvs::Timeouts> {
    let t = ctx.table("lvs_timeouts", v)?;
    ctx.deny_unknown(t, "lvs_timeouts", &["tcp", "tcp_fin", "udp"]);
    let mut out = vrrp_ipvs::Timeouts::default();
    for (key, slot) in [
        ("tcp", &mut out.tcp),
        ("tcp_fin", &mut out.tcp_fin),
        ("udp", &mut out.udp),
    ] {
        let Some(v) = get(t, key) else { continue };
        match ctx.duration(key, v) {
            Some(d) if d <= Global::MAX_LVS_TIMEOUT && d.subsec_nanos() == 0 => *slot = d,
            Some(_) => ctx.error(
                v.span(),
                format!("lvs_timeouts.{key} must be whole seconds, at most 31 days"),
                None,
            ),
            None => {}
        }
    }
    Some(out)
}

/// `link_delays = { eth0 = { down = "2s", up = "1s" } }`: keepalived's
/// `interface_up_down_delays`, each at most 255 s.
fn read_link_delays(
    ctx: &mut Ctx<'_, '_>,
    v: &value::Val<'_>,
) -> std::collections::BTreeMap<String, crate::config::LinkDelays> {
    const KEYS: &[&str] = &["down", "up"];
    let mut out = std::collections::BTreeMap::new();
    let Some(t) = ctx.table("link_delays", v) else {
        return out;
    };
    for (name, delays) in t.iter() {
        let Some(d) = ctx.table("link_delays", delays) else {
            continue;
        };
        ctx.deny_unknown(d, "link_delays", KEYS);
        let mut read = |key: &str| {
            let v = get(d, key)?;
            let value = ctx.duration(key, v)?;
            if value > std::time::Duration::from_secs(255) {
                ctx.error(v.span(), format!("`{key}` is longer than 255 s"), None);
                return None;
            }
            Some(value)
        };
        let delays = crate::config::LinkDelays {
            down: read("down").unwrap_or_default(),
            up: read("up").unwrap_or_default(),
        };
        out.insert(name.get_ref().to_string(), delays);
    }
    out
}
