//! Maps parsed keepalived statements onto the [`Config`] model, resolving
//! keepalived's defaults and applying the adjustments keepalived itself
//! makes (each with a warning), so vrrpd behaves as keepalived would.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::args::Ctx;
use super::instance::{RawInstance, read_instance};
use super::keywords::{self, ignore};
use super::parser::Stmt;
use super::tracking::{read_script, read_sync_group, read_track_file, read_track_process};
use crate::config::diagnostics::Pos;
use crate::config::locations::{Dialect, Field, Locations, TrackerKind};
use crate::config::model::{
    AddressFamily, Announce, Config, Hook, InitialState, Instance, NotifyFifo, RunAs, Tracking,
    Version, Weight,
};
use crate::config::validate::{check_advert_interval, has_weights};

/// `global_defs` settings that act as instance defaults.
#[derive(Debug, Default)]
struct Defaults {
    version: Option<Version>,
    garp_delay: Option<Option<Duration>>,
    garp_repeat: Option<u32>,
    garp_refresh: Option<Option<Duration>>,
    garp_refresh_repeat: Option<u32>,
    garp_interval: Option<Duration>,
    gna_interval: Option<Duration>,
    check_unicast_src: bool,
    skip_check_adv_addr: bool,
    lower_prio_no_advert: bool,
    higher_prio_send_advert: bool,
    down_timer_adverts: Option<u8>,
    /// `notify_fifo` then `vrrp_notify_fifo`.
    fifos: [FifoSlot; 2],
    mcast_group4: Option<IpAddr>,
    mcast_group6: Option<IpAddr>,
}

/// A notify FIFO as global_defs writes it: the path (with its owner)
/// and the script, each on its own line.
#[derive(Debug, Default)]
struct FifoSlot {
    path: Option<(PathBuf, Option<RunAs>)>,
    script: Option<Box<Hook>>,
    script_pos: Option<Pos>,
}

const TOP_KEYS: &[&str] = &[
    "global_defs",
    "vrrp_script",
    "vrrp_instance",
    "vrrp_sync_group",
    "track_file",
    "vrrp_track_process",
    "vrrp_track_file",
];
const GLOBAL_KEYS: &[&str] = &[
    "router_id",
    "lvs_id",
    "vrrp_version",
    "script_user",
    "enable_script_security",
    "vrrp_garp_master_delay",
    "vrrp_garp_master_repeat",
    "vrrp_garp_master_refresh",
    "vrrp_garp_master_refresh_repeat",
    "vrrp_garp_interval",
    "vrrp_gna_interval",
    "vrrp_min_garp",
    "vrrp_check_unicast_src",
    "vrrp_skip_check_adv_addr",
    "vrrp_lower_prio_no_advert",
    "vrrp_higher_prio_send_advert",
    "vrrp_down_timer_adverts",
    "vrrp_startup_delay",
    "startup_script",
    "startup_script_timeout",
    "shutdown_script",
    "shutdown_script_timeout",
    "notify_fifo",
    "notify_fifo_script",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
];

/// Builds the configuration and its locations from the top-level statements.
pub(super) fn map(stmts: &[Stmt], ctx: &mut Ctx<'_>, origin: Pos) -> (Config, Locations) {
    let mut config = Config::default();
    let mut locs = Locations::new(Dialect::Keepalived, origin);
    let mut defaults = Defaults::default();
    let mut raw = Vec::new();
    for s in stmts {
        match s.key.text.as_str() {
            "global_defs" => {
                ctx.arity(s, 0, 0);
                for item in ctx.block(s) {
                    read_global(ctx, item, &mut config, &mut defaults);
                }
            }
            "vrrp_script" => {
                if let Some((name, script)) = read_script(ctx, s) {
                    define(ctx, &mut locs, TrackerKind::Script, &name, s, config.track_script.contains_key(&name));
                    config.track_script.entry(name).or_insert(script);
                }
            }
            "vrrp_track_process" => {
                if let Some((name, t)) = read_track_process(ctx, s) {
                    define(ctx, &mut locs, TrackerKind::Process, &name, s, config.track_process.contains_key(&name));
                    config.track_process.entry(name).or_insert(t);
                }
            }
            "track_file" | "vrrp_track_file" => {
                if let Some((name, file)) = read_track_file(ctx, s) {
                    define(ctx, &mut locs, TrackerKind::File, &name, s, config.track_file.contains_key(&name));
                    config.track_file.entry(name).or_insert(file);
                }
            }
            "vrrp_instance" => raw.extend(read_instance(ctx, s)),
            "vrrp_sync_group" => {
                if let Some((group, l)) = read_sync_group(ctx, s) {
                    config.sync_groups.push(group);
                    locs.groups.push(l);
                }
            }
            "include" | "includer" | "includem" | "includew" | "includeb" | "includea" => ctx.warn(
                s.key.pos,
                "this include is not followed: keepalived detects includes before conditional lines and parameters",
                Some("write `include` at the start of its own line".into()),
            ),
            _ => ignore(ctx, s, keywords::TOP, "the top level", TOP_KEYS),
        }
    }
    for slot in std::mem::take(&mut defaults.fifos) {
        let FifoSlot {
            path,
            script,
            script_pos,
        } = slot;
        match path {
            Some((path, owner)) => config.global.notify_fifos.push(NotifyFifo {
                path,
                owner,
                script,
            }),
            None => {
                if let Some(pos) = script_pos {
                    ctx.warn(
                        pos,
                        "a notify FIFO script without its `notify_fifo` has no effect (as in keepalived)",
                        None,
                    );
                }
            }
        }
    }
    let mut broken = HashSet::new();
    for r in raw {
        match finish_instance(ctx, r, &defaults) {
            Ok((inst, l)) => {
                config.instances.push(inst);
                locs.instances.push(l);
            }
            Err(name) => {
                broken.insert(name);
            }
        }
    }
    // Members that failed to build were already reported; do not report
    // them again as unknown.
    for g in &mut config.sync_groups {
        g.instances.retain(|m| !broken.contains(m));
    }
    adjust_tracking(ctx, &mut config, &mut locs);
    (config, locs)
}

/// Records a tracker definition, warning about a duplicate name.
fn define(
    ctx: &mut Ctx<'_>,
    locs: &mut Locations,
    kind: TrackerKind,
    name: &str,
    s: &Stmt,
    duplicate: bool,
) {
    if duplicate {
        ctx.warn(
            s.key.pos,
            format!(
                "{} `{name}` is already defined; this one is ignored",
                s.key.text
            ),
            None,
        );
    } else {
        let pos = s.args.first().map_or(s.key.pos, |w| w.pos);
        locs.trackers.insert((kind, name.to_string()), pos);
    }
}

fn read_global(ctx: &mut Ctx<'_>, s: &Stmt, config: &mut Config, d: &mut Defaults) {
    let key = s.key.text.as_str();
    match key {
        "router_id" => config.global.router_id = ctx.single(s).map(|w| w.text.clone()),
        // keepalived 1.x's name of router_id, still in its sample file;
        // 2.2.7 no longer knows it. router_id only names the host in
        // hooks and logs, so reading it is harmless and what was meant.
        "lvs_id" => {
            if let Some(w) = ctx.single(s) {
                ctx.warn(
                    s.key.pos,
                    "`lvs_id` is keepalived 1.x's name of `router_id`; read as `router_id` (keepalived 2.2.7 ignores it as unknown)",
                    Some(format!("write `router_id {}`", w.text)),
                );
                config.global.router_id = Some(w.text.clone());
            }
        }
        "vrrp_version" => {
            if let Some(w) = ctx.single(s) {
                d.version = match ctx.int(&s.key.text, w, 2..=3) {
                    Some(2) => Some(Version::V2),
                    Some(_) => Some(Version::V3),
                    None => d.version,
                };
            }
        }
        "script_user" => {
            ctx.no_block(s);
            if ctx.arity(s, 1, 2) {
                config.global.script_user = Some(RunAs {
                    user: s.args[0].text.clone(),
                    group: s.args.get(1).map(|g| g.text.clone()),
                });
            }
        }
        "enable_script_security" => {
            ctx.no_block(s);
            config.global.script_security = true;
        }
        "vrrp_garp_master_delay" | "vrrp_garp_master_refresh" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(&s.key.text, w, 0..=86_400) {
                    let v = Some((n > 0).then(|| Duration::from_secs(n as u64)));
                    if key == "vrrp_garp_master_delay" {
                        d.garp_delay = v;
                    } else {
                        d.garp_refresh = v;
                    }
                }
            }
        }
        "vrrp_garp_master_repeat" | "vrrp_garp_master_refresh_repeat" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(&s.key.text, w, 1..=255) {
                    if key == "vrrp_garp_master_repeat" {
                        d.garp_repeat = Some(n as u32);
                    } else {
                        d.garp_refresh_repeat = Some(n as u32);
                    }
                }
            }
        }
        "vrrp_garp_interval" | "vrrp_gna_interval" => {
            if let Some(w) = ctx.single(s) {
                // 0, in a widely copied global_defs, means no gap between
                // packets: keepalived's default.
                let v = ctx.seconds(&s.key.text, w, Duration::ZERO, crate::config::duration::MAX);
                if key == "vrrp_garp_interval" {
                    d.garp_interval = v;
                } else {
                    d.gna_interval = v;
                }
            }
        }
        "vrrp_min_garp" => {
            if ctx.flag(s) {
                d.garp_repeat = Some(1);
                d.garp_delay = Some(None);
            }
        }
        "vrrp_check_unicast_src" => {
            ctx.no_block(s);
            d.check_unicast_src = true;
        }
        "vrrp_skip_check_adv_addr" => {
            // keepalived's handler sets it whatever follows.
            ctx.bare(s);
            d.skip_check_adv_addr = true;
        }
        "vrrp_lower_prio_no_advert" => d.lower_prio_no_advert = ctx.flag(s),
        "vrrp_higher_prio_send_advert" => d.higher_prio_send_advert = ctx.flag(s),
        "vrrp_startup_delay" => {
            if let Some(w) = ctx.single(s) {
                if let Some(delay) = ctx.seconds(
                    &s.key.text,
                    w,
                    Duration::from_millis(1),
                    crate::config::duration::MAX,
                ) {
                    config.global.startup_delay = delay;
                }
            }
        }
        "startup_script" | "shutdown_script" => {
            let startup = key == "startup_script";
            let slot = if startup {
                &mut config.global.startup_script
            } else {
                &mut config.global.shutdown_script
            };
            if slot.is_some() {
                ctx.warn(
                    s.key.pos,
                    format!("`{key}` is already set; this one is ignored (as keepalived)"),
                    None,
                );
            } else if let Some((exec, run_as)) = ctx.command_as(s) {
                *slot = Some(Box::new(crate::config::model::Hook { exec, run_as }));
            }
        }
        "startup_script_timeout" | "shutdown_script_timeout" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(&s.key.text, w, 1..=1000) {
                    let t = Duration::from_secs(n as u64);
                    if key == "startup_script_timeout" {
                        config.global.startup_script_timeout = t;
                    } else {
                        config.global.shutdown_script_timeout = t;
                    }
                }
            }
        }
        "notify_fifo" | "vrrp_notify_fifo" => {
            let slot = &mut d.fifos[usize::from(key == "vrrp_notify_fifo")];
            if slot.path.is_some() {
                ctx.warn(
                    s.key.pos,
                    format!("`{key}` is already set; this one is ignored (as keepalived)"),
                    None,
                );
            } else if ctx.arity(s, 1, 3) {
                ctx.no_block(s);
                let owner = s.args.get(1).map(|u| RunAs {
                    user: u.text.clone(),
                    group: s.args.get(2).map(|g| g.text.clone()),
                });
                slot.path = Some((PathBuf::from(&s.args[0].text), owner));
            }
        }
        "notify_fifo_script" | "vrrp_notify_fifo_script" => {
            let slot = &mut d.fifos[usize::from(key == "vrrp_notify_fifo_script")];
            if slot.script.is_some() {
                ctx.warn(
                    s.key.pos,
                    format!("`{key}` is already set; this one is ignored (as keepalived)"),
                    None,
                );
            } else if let Some((exec, run_as)) = ctx.command_as(s) {
                slot.script = Some(Box::new(Hook { exec, run_as }));
                slot.script_pos = Some(s.key.pos);
            }
        }
        "vrrp_down_timer_adverts" => {
            if let Some(w) = ctx.single(s) {
                d.down_timer_adverts = ctx.int(&s.key.text, w, 1..=100).map(|n| n as u8);
            }
        }
        "vrrp_mcast_group4" | "vrrp_mcast_group6" => {
            if let Some(w) = ctx.single(s) {
                let v6 = key == "vrrp_mcast_group6";
                match crate::config::address::parse_ip(&w.text) {
                    Ok(ip) if ip.is_ipv6() == v6 && crate::config::model::is_vrrp_group(ip) => {
                        if v6 {
                            d.mcast_group6 = Some(ip);
                        } else {
                            d.mcast_group4 = Some(ip);
                        }
                    }
                    Ok(_) => ctx.warn(
                        w.pos,
                        format!(
                            "`{key} {}` is not an IPv{} {}multicast address; ignored, as keepalived skips it",
                            w.text,
                            if v6 { 6 } else { 4 },
                            if v6 { "link-local " } else { "" }
                        ),
                        None,
                    ),
                    Err(e) => ctx.error(w.pos, format!("`{key}`: {e}"), None),
                }
            }
        }
        _ => ignore(ctx, s, keywords::GLOBAL, "global_defs", GLOBAL_KEYS),
    }
}

/// Rounds an advertisement interval the way keepalived does, warning when
/// it changes.
fn round_interval(ctx: &mut Ctx<'_>, version: Version, d: Duration, pos: Pos) -> Duration {
    let ms = d.as_micros() as f64 / 1000.0;
    let adjusted = match version {
        Version::V2 => Duration::from_secs(d.as_secs_f64().round().max(1.0) as u64),
        Version::V3 => {
            let cs = ((d.as_micros() + 5_000) / 10_000).clamp(1, 4095);
            Duration::from_millis(cs as u64 * 10)
        }
    };
    if adjusted != d {
        ctx.warn(
            pos,
            format!(
                "VRRPv{} cannot advertise every {ms} ms; using {} ms (as keepalived)",
                version.number(),
                adjusted.as_millis()
            ),
            Some(match version {
                Version::V2 => {
                    "VRRPv2 intervals are whole seconds; use version 3 for sub-second ones".into()
                }
                Version::V3 => "VRRPv3 intervals are 10 ms..=40.95 s in 10 ms steps".into(),
            }),
        );
    }
    adjusted
}

/// Resolves defaults and keepalived's own adjustments; `Err(name)` when a
/// required setting is missing (already reported).
fn finish_instance(
    ctx: &mut Ctx<'_>,
    r: RawInstance,
    d: &Defaults,
) -> Result<(Instance, crate::config::locations::ObjectLocs), String> {
    let (Some(interface), Some(vrid)) = (r.interface.clone(), r.vrid) else {
        if r.interface.is_none() {
            ctx.error(
                r.locs.header,
                format!("vrrp_instance `{}` has no `interface`", r.name),
                Some("add `interface eth0`".into()),
            );
        }
        if r.vrid.is_none() && !r.locs.has_field(Field::Vrid) {
            ctx.error(
                r.locs.header,
                format!("vrrp_instance `{}` has no `virtual_router_id`", r.name),
                Some("add `virtual_router_id 51`".into()),
            );
        }
        return Err(r.name);
    };
    let family = r.vips.first().map_or(AddressFamily::Ipv4, |v| v.family());
    let mut version = r.version.or(d.version).unwrap_or(Version::V2);
    if family == AddressFamily::Ipv6 && version == Version::V2 {
        if r.version.is_some() {
            ctx.warn(
                r.locs.field(Field::Version),
                "IPv6 instances always use VRRPv3 (as keepalived)",
                Some("remove `version 2`".into()),
            );
        }
        version = Version::V3;
    }
    let advert = r.advert.unwrap_or(Duration::from_secs(1));
    let advert_interval = if check_advert_interval(version, advert).is_ok() {
        advert
    } else {
        round_interval(ctx, version, advert, r.locs.field(Field::AdvertInterval))
    };
    let mut preempt = !r.nopreempt;
    if r.nopreempt && r.state == InitialState::Active {
        ctx.warn(
            r.locs.field(Field::Preempt),
            "nopreempt has no effect with `state MASTER`; keepalived clears it, and so does vrrpd",
            Some("use `state BACKUP` on every node with nopreempt".into()),
        );
        preempt = true;
    }
    let mut preempt_delay = r.preempt_delay;
    if !preempt_delay.is_zero() && r.state == InitialState::Active {
        ctx.warn(
            r.locs.field(Field::PreemptDelay),
            "preempt_delay has no effect with `state MASTER`; keepalived clears it, and so does vrrpd",
            Some("use `state BACKUP` with preempt_delay".into()),
        );
        preempt_delay = Duration::ZERO;
    }
    let mut auth_password = r.auth_password.clone();
    if auth_password.is_some() && version == Version::V3 {
        ctx.warn(
            r.locs.field(Field::Auth),
            "VRRPv3 has no authentication; ignored (as keepalived)",
            None,
        );
        auth_password = None;
    }
    let mut vmac = r.vmac.clone();
    if let Some(v) = &mut vmac {
        v.xmit_base = r.vmac_xmit_base;
        if !r.peers.is_empty() && !v.xmit_base {
            ctx.warn(
                r.locs.field(Field::Vmac),
                "unicast with use_vmac needs vmac_xmit_base; setting it (as keepalived)",
                None,
            );
            v.xmit_base = true;
        }
    } else if r.vmac_xmit_base {
        ctx.warn(
            r.locs.header,
            "`vmac_xmit_base` without `use_vmac` has no effect",
            None,
        );
    }
    let unicast_ttl = match r.unicast_ttl {
        Some((_, pos)) if r.peers.is_empty() => {
            ctx.warn(
                pos,
                "`unicast_ttl` without `unicast_peer` has no effect; keepalived resets it",
                None,
            );
            None
        }
        Some((ttl, _)) => Some(ttl),
        None => None,
    };
    let own_group = match r.mcast_dst_ip {
        Some((ip, pos)) if ip.is_ipv6() != (family == AddressFamily::Ipv6) => {
            ctx.warn(
                pos,
                format!("`mcast_dst_ip {ip}` is not of the instance's address family; ignored, as keepalived skips it"),
                None,
            );
            None
        }
        Some((ip, _)) => Some(ip),
        None => None,
    };
    // The global groups are the multicast instances' default.
    let global_group = match family {
        AddressFamily::Ipv4 => d.mcast_group4,
        AddressFamily::Ipv6 => d.mcast_group6,
    };
    let multicast_group = own_group.or(global_group.filter(|_| r.peers.is_empty()));
    let keep_default = Announce::default();
    let announce = Announce {
        repeat: r
            .garp
            .repeat
            .or(d.garp_repeat)
            .unwrap_or(keep_default.repeat),
        delay: r.garp.delay.or(d.garp_delay).unwrap_or(keep_default.delay),
        refresh: r
            .garp
            .refresh
            .or(d.garp_refresh)
            .unwrap_or(keep_default.refresh),
        refresh_repeat: r
            .garp
            .refresh_repeat
            .or(d.garp_refresh_repeat)
            .unwrap_or(keep_default.refresh_repeat),
        interval: match family {
            AddressFamily::Ipv4 => d.garp_interval,
            AddressFamily::Ipv6 => d.gna_interval,
        }
        .unwrap_or(Duration::ZERO),
    };
    let inst = Instance {
        name: r.name,
        interface,
        vrid,
        version,
        priority: r.priority,
        advert_interval,
        preempt,
        preempt_delay,
        accept: r.accept,
        initial_state: r.state,
        vips: r.vips,
        excluded_vips: r.excluded_vips,
        source_address: r.source_address,
        unicast_peers: r.peers,
        check_unicast_source: r.check_unicast_src || d.check_unicast_src,
        unicast_ttl,
        multicast_group,
        skip_check_adv_addr: r.skip_check_adv_addr.unwrap_or(d.skip_check_adv_addr),
        lower_prio_no_advert: r.lower_prio_no_advert.unwrap_or(d.lower_prio_no_advert),
        higher_prio_send_advert: r
            .higher_prio_send_advert
            .unwrap_or(d.higher_prio_send_advert),
        down_timer_adverts: r.down_timer_adverts.or(d.down_timer_adverts),
        auth_password,
        vmac,
        announce,
        tracking: r.tracking,
        dont_track_primary: r.dont_track_primary,
        notify: r.notify,
    };
    Ok((inst, r.locs))
}

/// The weight a script or file reference ends up with.
fn script_weight(config: &Config, name: &str, w: Option<Weight>) -> i32 {
    w.map_or_else(
        || config.track_script.get(name).map_or(0, |s| s.weight.value),
        |w| w.value,
    )
}

fn file_weight(config: &Config, name: &str, w: Option<Weight>) -> i32 {
    w.map_or_else(
        || config.track_file.get(name).map_or(0, |s| s.weight.value),
        |w| w.value,
    )
}

/// keepalived ignores tracking weights on address owners and on sync
/// group members (unless the group sets `sync_group_tracking_weight`);
/// mirror it, with a warning for each.
fn adjust_tracking(ctx: &mut Ctx<'_>, config: &mut Config, locs: &mut Locations) {
    // Each instance's group, through one map (not a scan per instance).
    // The first group that names it, as `Config::group_of` says.
    let mut groups: std::collections::HashMap<&str, bool> = std::collections::HashMap::new();
    for g in &config.sync_groups {
        for m in &g.instances {
            groups.entry(m.as_str()).or_insert(g.tracking_weight);
        }
    }
    let grouped: Vec<Option<bool>> = config
        .instances
        .iter()
        .map(|i| groups.get(i.name.as_str()).copied())
        .collect();
    let snapshot = config.clone();
    for (i, inst) in config.instances.iter_mut().enumerate() {
        let why = if inst.priority.is_owner() {
            "it is the address owner (priority 255)"
        } else if grouped[i] == Some(false) {
            "it is in a sync group"
        } else {
            continue;
        };
        if !has_weights(&snapshot, &inst.tracking) {
            continue;
        }
        let at = locs.instance(i).header;
        let owner = inst.priority.is_owner();
        let t: &mut Tracking = &mut inst.tracking;
        let before = t.clone();
        if owner {
            t.interfaces.retain(|ti| ti.weight.value == 0);
        } else {
            for ti in &mut t.interfaces {
                ti.weight = Weight::default();
            }
        }
        for r in &t.scripts {
            if script_weight(&snapshot, &r.name, r.weight) != 0 {
                locs.dropped_refs
                    .insert((TrackerKind::Script, r.name.clone()));
            }
        }
        t.scripts
            .retain(|r| script_weight(&snapshot, &r.name, r.weight) == 0);
        if owner {
            for r in &mut t.files {
                if file_weight(&snapshot, &r.name, r.weight) != 0 {
                    r.weight = Some(Weight::default());
                }
            }
        } else {
            for r in &t.files {
                if file_weight(&snapshot, &r.name, r.weight) != 0 {
                    locs.dropped_refs
                        .insert((TrackerKind::File, r.name.clone()));
                }
            }
            t.files
                .retain(|r| file_weight(&snapshot, &r.name, r.weight) == 0);
        }
        let mut changed = Vec::new();
        if before.interfaces != t.interfaces {
            changed.push(if owner {
                "weighted tracked interfaces dropped"
            } else {
                "tracked interface weights set to 0 (Fault on down)"
            });
        }
        if before.scripts != t.scripts {
            changed.push("weighted track_script entries dropped");
        }
        if before.files != t.files {
            changed.push(if owner {
                "track_file weights set to 0"
            } else {
                "weighted track_file entries dropped"
            });
        }
        ctx.warn(
            at,
            format!(
                "instance `{}`: {}, because {why} (as keepalived)",
                inst.name,
                changed.join("; ")
            ),
            Some(if owner {
                "an owner's priority never changes: use weight 0 trackers, or a priority below 255"
                    .into()
            } else {
                "track on the sync group, or set `sync_group_tracking_weight` in it".into()
            }),
        );
    }
}
