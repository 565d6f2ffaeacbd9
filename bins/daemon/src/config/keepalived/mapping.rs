//! Maps parsed keepalived statements onto the [`Config`] model, resolving
//! keepalived's defaults and applying the adjustments keepalived itself
//! makes (each with a warning), so vrrpd behaves as keepalived would.

use std::collections::HashSet;
use std::time::Duration;

use super::args::Ctx;
use super::global::{Defaults, finish_fifos, read_global};
use super::instance::{RawInstance, read_instance};
use super::keywords::{self, ignore};
use super::parser::Stmt;
use super::tracking::{read_script, read_sync_group, read_track_file, read_track_process};
use crate::config::diagnostics::Pos;
use crate::config::locations::{Dialect, Field, Locations, TrackerKind};
use crate::config::model::{
    AddressFamily, Announce, Config, InitialState, Instance, Tracking, Version, Weight,
};
use crate::config::validate::{check_advert_interval, has_weights};

const TOP_KEYS: &[&str] = &[
    "global_defs",
    "vrrp_script",
    "vrrp_instance",
    "vrrp_sync_group",
    "track_file",
    "vrrp_track_process",
    "vrrp_track_file",
    "virtual_server",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "track_group",
    "garp_group",
    "interface_up_down_delays",
    "net_namespace",
];
/// Builds the configuration and its locations from the top-level statements.
pub(super) fn map(stmts: &[Stmt], ctx: &mut Ctx<'_>, origin: Pos) -> (Config, Locations) {
    let mut config = Config::default();
    let mut locs = Locations::new(Dialect::Keepalived, origin);
    let mut defaults = Defaults::default();
    let mut raw = Vec::new();
    let mut group_priority_changes: Vec<(String, bool)> = Vec::new();
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
            "garp_group" => super::garp::read_garp_group(ctx, s, &mut defaults.garp_groups),
            "net_namespace" => {
                if let Some(w) = ctx.single(s) {
                    if !crate::netns::valid_name(&w.text) {
                        ctx.error(w.pos, format!("`{}` is not a namespace name", w.text), None);
                    } else if config.global.net_namespace.is_some() {
                        ctx.warn(s.key.pos, "net_namespace given twice: the first one counts", None);
                    } else {
                        config.global.set_net_namespace(&w.text);
                    }
                }
            }
            "interface_up_down_delays" => {
                defaults.link_delays_at.get_or_insert(s.key.pos);
                super::link_delays::read_up_down_delays(ctx, s, &mut config.global.link_delays);
            }
            "static_ipaddress" => {
                for item in ctx.block(s) {
                    let mut group = None;
                    let Some(a) = super::vips::read_vip(ctx, item, Some(&mut group)) else {
                        continue;
                    };
                    if let Some(g) = group {
                        if config.statics.track_groups.contains_key(&g) {
                            config.statics.address_track_groups.insert(a.address, g);
                        } else {
                            // keepalived: "track_group %s not found".
                            ctx.error(
                                item.key.pos,
                                format!("track_group `{g}` is not defined before it is used"),
                                None,
                            );
                        }
                    }
                    config.statics.addresses.push(a);
                }
            }
            "static_routes" => {
                let routes = super::routing::read_routes(ctx, s);
                let these = crate::config::Statics {
                    routes,
                    track_groups: config.statics.track_groups.clone(),
                    ..Default::default()
                };
                super::routing::check_track_groups(ctx, &these, s.key.pos);
                config.statics.routes.extend(these.routes);
            }
            "static_rules" => {
                let rules = super::routing::read_rules(ctx, s);
                let these = crate::config::Statics {
                    rules,
                    track_groups: config.statics.track_groups.clone(),
                    ..Default::default()
                };
                super::routing::check_track_groups(ctx, &these, s.key.pos);
                config.statics.rules.extend(these.rules);
            }
            "track_group" => {
                if let Some((name, members)) = super::routing::read_track_group(ctx, s) {
                    match config.statics.track_groups.entry(name) {
                        std::collections::btree_map::Entry::Occupied(e) => ctx.error(
                            s.key.pos,
                            format!("track_group `{}` is defined twice", e.key()),
                            None,
                        ),
                        std::collections::btree_map::Entry::Vacant(e) => {
                            e.insert(members);
                        }
                    }
                }
            }
            "virtual_server" => config
                .virtual_servers
                .extend(super::lvs::read_virtual_server(ctx, s)),
            "vrrp_sync_group" => {
                if let Some((group, l, changes)) = read_sync_group(ctx, s) {
                    if let Some(on) = changes {
                        group_priority_changes.push((group.name.clone(), on));
                    }
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
    finish_fifos(ctx, &mut defaults, &mut config);
    let default_interface = defaults.default_interface.as_deref().unwrap_or("eth0");
    for address in &mut config.statics.addresses {
        address
            .device
            .get_or_insert_with(|| default_interface.to_string());
    }
    let mut broken = HashSet::new();
    for r in raw {
        let own_changes = r.notify_priority_changes;
        match finish_instance(ctx, r, &defaults) {
            Ok((mut inst, l)) => {
                // Its own setting, else its sync group's, else the global.
                let group = config
                    .sync_groups
                    .iter()
                    .find(|g| g.instances.contains(&inst.name))
                    .and_then(|g| {
                        group_priority_changes
                            .iter()
                            .find(|(n, _)| *n == g.name)
                            .map(|(_, on)| *on)
                    });
                inst.notify_priority_changes = own_changes
                    .or(group)
                    .unwrap_or(defaults.notify_priority_changes);
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
    if let Some(at) = defaults.link_delays_at {
        super::link_delays::limit_link_delays(ctx, &mut config, at);
    }
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
    if let (Some(pos), None) = (r.track_src_ip, r.source_address) {
        ctx.warn(
            pos,
            "`track_src_ip` without `unicast_src_ip` or `mcast_src_ip` has no effect (as in keepalived)",
            None,
        );
    }
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
    if let (Some(v), Some(prefix)) = (&mut vmac, &d.vmac_prefix) {
        // keepalived's `vmac_prefix`: <prefix>.<vrid>, <prefix>6.<vrid>
        // for IPv6 (vrrpd's own names are vrrp.<vrid>, vrrp6.<vrid>).
        if v.name.is_none() {
            let six = if family == AddressFamily::Ipv6 {
                "6"
            } else {
                ""
            };
            let tail = format!("{six}.{}", vrid.get());
            let keep = 15usize.saturating_sub(tail.len());
            let prefix: String = prefix.chars().take(keep).collect();
            v.name = Some(format!("{prefix}{tail}"));
        }
    }
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
    if r.promote_secondaries && vmac.is_some() {
        ctx.warn(
            r.locs.header,
            "promote_secondaries is set on the vmac anyway: ignored (as keepalived)",
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
        // The instance's interface's garp_group, else the global pause.
        interval: match (d.garp_groups.get(&interface), family) {
            (Some(g), AddressFamily::Ipv4) => Some(g.garp),
            (Some(g), AddressFamily::Ipv6) => Some(g.gna),
            (None, AddressFamily::Ipv4) => d.garp_interval,
            (None, AddressFamily::Ipv6) => d.gna_interval,
        }
        .unwrap_or(Duration::ZERO),
        // keepalived's default is the global garp_master settings, not
        // the instance's own.
        lower_prio_repeat: r
            .garp
            .lower_prio_repeat
            .or(d.garp_lower_prio_repeat)
            .or(d.garp_repeat)
            .unwrap_or(keep_default.lower_prio_repeat),
        lower_prio_delay: r
            .garp
            .lower_prio_delay
            .or(d.garp_lower_prio_delay)
            .or(d.garp_delay)
            .unwrap_or(keep_default.lower_prio_delay),
        extra_interfaces: r
            .garp
            .extra_if
            .or(d.garp_extra_if)
            .unwrap_or(keep_default.extra_interfaces),
    };
    let strict = r.strict.unwrap_or(d.strict);
    let explicit = super::strict::Explicit {
        accept: r.accept,
        lower_prio_no_advert: r.lower_prio_no_advert,
        higher_prio_send_advert: r.higher_prio_send_advert,
        lower_prio_garps: r.garp.lower_prio_repeat.is_some()
            || d.garp_lower_prio_repeat.is_some()
            || r.garp.lower_prio_delay.is_some()
            || d.garp_lower_prio_delay.is_some(),
        at: r.locs.header,
    };
    let mut inst = Instance {
        name: r.name,
        interface,
        vrid,
        version,
        priority: r.priority,
        advert_interval,
        preempt,
        preempt_delay,
        accept: super::strict::accept_default(r.accept, strict, r.priority.get() == 255),
        initial_state: r.state,
        vips: r.vips,
        excluded_vips: r.excluded_vips,
        virtual_routes: r.virtual_routes,
        virtual_rules: r.virtual_rules,
        source_address: r.source_address,
        track_source_address: r.track_src_ip.is_some() && r.source_address.is_some(),
        unicast_peers: r.peers,
        check_unicast_source: r.check_unicast_src || d.check_unicast_src,
        unicast_ttl,
        multicast_group,
        skip_check_adv_addr: r.skip_check_adv_addr.unwrap_or(d.skip_check_adv_addr),
        notify_priority_changes: false,
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
        promote_secondaries: r.promote_secondaries && r.vmac.is_none(),
        unicast_fault_no_peer: r.unicast_fault_no_peer,
        unicast_checksum: r.unicast_checksum,
        notify: r.notify,
    };
    if strict && super::strict::apply(ctx, &mut inst, &explicit).is_err() {
        return Err(inst.name);
    }
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
