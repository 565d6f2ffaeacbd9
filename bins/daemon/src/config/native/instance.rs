//! Native `[[instance]]` and `[[sync_group]]` tables.

use std::ops::Range;
use std::time::Duration;

use toml::de::{DeTable, DeValue};

use super::trackers::{TRACKING_KEYS, read_notify, read_tracking};
use super::value::{Ctx, Val, get};
use crate::config::locations::{Field, Item, ObjectLocs};
use crate::config::model::{
    Announce, InitialState, Instance, Notify, Priority, SyncGroup, UnicastChecksum, Version,
    VirtualAddress, Vmac, Vrid,
};

const INSTANCE_KEYS: &[&str] = &[
    "name",
    "interface",
    "vrid",
    "version",
    "priority",
    "advert_interval",
    "preempt",
    "preempt_delay",
    "accept",
    "initial_state",
    "vips",
    "excluded_vips",
    "routes",
    "rules",
    "source_address",
    "track_source_address",
    "unicast_peers",
    "check_unicast_source",
    "unicast_ttl",
    "multicast_group",
    "skip_check_adv_addr",
    "lower_prio_no_advert",
    "higher_prio_send_advert",
    "down_timer_adverts",
    "notify_priority_changes",
    "auth_password",
    "vmac",
    "announce",
    "dont_track_primary",
    "promote_secondaries",
    "unicast_fault_no_peer",
    "unicast_checksum",
    "notify",
    "track_interface",
    "track_script",
    "track_tcp",
    "track_http",
    "track_file",
    "track_process",
];
const GROUP_KEYS: &[&str] = &[
    "name",
    "instances",
    "tracking_weight",
    "notify",
    "track_interface",
    "track_script",
    "track_tcp",
    "track_http",
    "track_file",
    "track_process",
];
const VMAC_KEYS: &[&str] = &["name", "xmit_base"];
const ANNOUNCE_KEYS: &[&str] = &[
    "repeat",
    "delay",
    "refresh",
    "refresh_repeat",
    "interval",
    "lower_prio_repeat",
    "lower_prio_delay",
    "extra_interfaces",
];

/// A key that must be present; reported at the table's start otherwise.
fn required<'v, 'i>(
    ctx: &mut Ctx<'_, '_>,
    t: &'v DeTable<'i>,
    at: &Range<usize>,
    key: &str,
    what: &str,
) -> Option<&'v Val<'i>> {
    let v = get(t, key);
    if v.is_none() {
        ctx.error(
            at.clone(),
            format!("{what} has no `{key}`"),
            Some(format!("add `{key} = ...`")),
        );
    }
    v
}

/// Reads a key and records its position as `field`.
fn field<'v, 'i>(
    ctx: &Ctx<'_, '_>,
    t: &'v DeTable<'i>,
    key: &str,
    f: Field,
    locs: &mut ObjectLocs,
) -> Option<&'v Val<'i>> {
    let v = get(t, key)?;
    locs.set_field(f, ctx.pos(v.span()));
    Some(v)
}

pub(super) fn read_instance(
    ctx: &mut Ctx<'_, '_>,
    t: &DeTable<'_>,
    at: Range<usize>,
) -> Option<(Instance, ObjectLocs)> {
    debug_assert!(TRACKING_KEYS.iter().all(|k| INSTANCE_KEYS.contains(k)));
    let mut locs = ObjectLocs::new(ctx.pos(at.clone()));
    let name = field(ctx, t, "name", Field::Name, &mut locs);
    let name = match name {
        Some(v) => ctx.nonempty("name", v),
        None => {
            ctx.error(
                at.clone(),
                "instance has no `name`",
                Some("add `name = \"VI_1\"`".into()),
            );
            None
        }
    };
    let what = format!("instance `{}`", name.as_deref().unwrap_or("?"));
    ctx.deny_unknown(
        t,
        &format!("[[instance]] {}", name.as_deref().unwrap_or("")),
        INSTANCE_KEYS,
    );

    let interface = required(ctx, t, &at, "interface", &what).and_then(|v| {
        locs.set_field(Field::Interface, ctx.pos(v.span()));
        ctx.nonempty("interface", v)
    });
    let vrid = required(ctx, t, &at, "vrid", &what).and_then(|v| {
        locs.set_field(Field::Vrid, ctx.pos(v.span()));
        ctx.integer("vrid", v, 1..=255)
            .and_then(|n| Vrid::new(n as u8))
    });
    let version = match field(ctx, t, "version", Field::Version, &mut locs) {
        Some(v) => match ctx.integer("version", v, 2..=3) {
            Some(2) => Version::V2,
            Some(_) => Version::V3,
            None => Version::V3,
        },
        None => Version::V3,
    };
    let priority = match field(ctx, t, "priority", Field::Priority, &mut locs) {
        Some(v) => ctx
            .integer("priority", v, 1..=255)
            .map(|n| Priority::new(n as u8))
            .unwrap_or(Priority::DEFAULT),
        None => Priority::DEFAULT,
    };
    let advert_interval = field(ctx, t, "advert_interval", Field::AdvertInterval, &mut locs)
        .and_then(|v| ctx.duration("advert_interval", v))
        .unwrap_or(Duration::from_secs(1));
    let preempt = field(ctx, t, "preempt", Field::Preempt, &mut locs)
        .and_then(|v| ctx.boolean("preempt", v))
        .unwrap_or(true);
    let preempt_delay = field(ctx, t, "preempt_delay", Field::PreemptDelay, &mut locs)
        .and_then(|v| ctx.duration("preempt_delay", v))
        .unwrap_or(Duration::ZERO);
    let accept = get(t, "accept")
        .and_then(|v| ctx.boolean("accept", v))
        .unwrap_or(true);
    let initial_state = match field(ctx, t, "initial_state", Field::InitialState, &mut locs) {
        Some(v) => match ctx.string("initial_state", v) {
            Some("backup") => InitialState::Backup,
            Some("active") => InitialState::Active,
            Some(other) => {
                let hint = if other.eq_ignore_ascii_case("master") {
                    "RFC 9568 calls MASTER \"active\": write initial_state = \"active\""
                } else {
                    "use \"backup\" or \"active\""
                };
                ctx.error(
                    v.span(),
                    format!("unknown initial_state `{other}`"),
                    Some(hint.into()),
                );
                InitialState::Backup
            }
            None => InitialState::Backup,
        },
        None => InitialState::Backup,
    };

    let vips = match required(ctx, t, &at, "vips", &what) {
        Some(v) => {
            locs.set_field(Field::Vips, ctx.pos(v.span()));
            read_vips(ctx, "vips", v, &mut locs, Item::Vip)
        }
        None => Vec::new(),
    };
    let excluded_vips = match get(t, "excluded_vips") {
        Some(v) => read_vips(ctx, "excluded_vips", v, &mut locs, Item::ExcludedVip),
        None => Vec::new(),
    };
    let virtual_routes = get(t, "routes")
        .map(|v| super::routing::read_routes(ctx, "routes", v))
        .unwrap_or_default();
    let virtual_rules = get(t, "rules")
        .map(|v| super::routing::read_rules(ctx, "rules", v))
        .unwrap_or_default();
    let grouped = virtual_routes.iter().any(|r| r.track_group.is_some())
        || virtual_rules.iter().any(|r| r.track_group.is_some());
    if grouped {
        ctx.error(
            at.clone(),
            "`track_group` is for [static] routes and rules only",
            None,
        );
    }
    let source_address = field(ctx, t, "source_address", Field::SourceAddress, &mut locs)
        .and_then(|v| ctx.ip("source_address", v));
    let mut unicast_peers = Vec::new();
    if let Some(v) = get(t, "unicast_peers") {
        for item in ctx.array("unicast_peers", v) {
            if let Some(ip) = ctx.ip("unicast_peers", item) {
                locs.set_item(Item::Peer(unicast_peers.len()), ctx.pos(item.span()));
                unicast_peers.push(ip);
            }
        }
    }
    let check_unicast_source = get(t, "check_unicast_source")
        .and_then(|v| ctx.boolean("check_unicast_source", v))
        .unwrap_or(false);
    let unicast_ttl = get(t, "unicast_ttl")
        .and_then(|v| ctx.integer("unicast_ttl", v, 0..=255))
        .map(|n| n as u8);
    let multicast_group = get(t, "multicast_group").and_then(|v| {
        let ip = ctx.ip("multicast_group", v)?;
        if crate::config::model::is_vrrp_group(ip) {
            Some(ip)
        } else {
            ctx.error(
                v.span(),
                format!("multicast_group {ip} is not an IPv4 or link-local IPv6 multicast address"),
                Some("use 224.0.0.18 or ff02::12, or another group of that kind".into()),
            );
            None
        }
    });
    let skip_check_adv_addr = get(t, "skip_check_adv_addr")
        .and_then(|v| ctx.boolean("skip_check_adv_addr", v))
        .unwrap_or(false);
    let lower_prio_no_advert = get(t, "lower_prio_no_advert")
        .and_then(|v| ctx.boolean("lower_prio_no_advert", v))
        .unwrap_or(false);
    let higher_prio_send_advert = get(t, "higher_prio_send_advert")
        .and_then(|v| ctx.boolean("higher_prio_send_advert", v))
        .unwrap_or(false);
    let notify_priority_changes = get(t, "notify_priority_changes")
        .and_then(|v| ctx.boolean("notify_priority_changes", v))
        .unwrap_or(false);
    let down_timer_adverts = get(t, "down_timer_adverts")
        .and_then(|v| ctx.integer("down_timer_adverts", v, 1..=100))
        .map(|n| n as u8);
    let auth_password = field(ctx, t, "auth_password", Field::Auth, &mut locs)
        .and_then(|v| ctx.string("auth_password", v).map(str::to_string));
    let vmac = field(ctx, t, "vmac", Field::Vmac, &mut locs).and_then(|v| read_vmac(ctx, v));
    let announce = get(t, "announce").map_or_else(Announce::default, |v| read_announce(ctx, v));
    let dont_track_primary = get(t, "dont_track_primary")
        .and_then(|v| ctx.boolean("dont_track_primary", v))
        .unwrap_or(false);
    let flag = |ctx: &mut Ctx<'_, '_>, key: &str| {
        get(t, key)
            .and_then(|v| ctx.boolean(key, v))
            .unwrap_or(false)
    };
    let promote_secondaries = flag(ctx, "promote_secondaries");
    let unicast_fault_no_peer = flag(ctx, "unicast_fault_no_peer");
    let track_source_address = flag(ctx, "track_source_address");
    if track_source_address && source_address.is_none() {
        if let Some(v) = get(t, "track_source_address") {
            ctx.error(
                v.span(),
                "`track_source_address` needs `source_address`",
                None,
            );
        }
    }
    let unicast_checksum = get(t, "unicast_checksum")
        .and_then(|v| read_unicast_checksum(ctx, v))
        .unwrap_or(UnicastChecksum::DetectLegacy);
    let notify = get(t, "notify").map_or_else(Notify::default, |v| read_notify(ctx, v));
    let tracking = read_tracking(ctx, t, &mut locs);

    let inst = Instance {
        name: name?,
        interface: interface?,
        vrid: vrid?,
        version,
        priority,
        advert_interval,
        preempt,
        preempt_delay,
        accept,
        initial_state,
        vips,
        excluded_vips,
        virtual_routes,
        virtual_rules,
        source_address,
        track_source_address,
        unicast_peers,
        check_unicast_source,
        unicast_ttl,
        multicast_group,
        skip_check_adv_addr,
        lower_prio_no_advert,
        higher_prio_send_advert,
        down_timer_adverts,
        notify_priority_changes,
        auth_password,
        vmac,
        announce,
        tracking,
        dont_track_primary,
        promote_secondaries,
        unicast_fault_no_peer,
        unicast_checksum,
        notify,
    };
    Some((inst, locs))
}

/// A VIP list: strings `"addr[/prefix]"` or `{ address, device, label,
/// broadcast, scope }` tables.
fn read_vips(
    ctx: &mut Ctx<'_, '_>,
    key: &str,
    v: &Val<'_>,
    locs: &mut ObjectLocs,
    item_of: fn(usize) -> Item,
) -> Vec<VirtualAddress> {
    let mut out = Vec::new();
    for item in ctx.array(key, v) {
        if let Some(vip) = super::vips::read_vip(ctx, key, item) {
            locs.set_item(item_of(out.len()), ctx.pos(item.span()));
            out.push(vip);
        }
    }
    out
}

/// `vmac = true | false | { name, xmit_base }`.
/// `unicast_checksum`: keepalived's `old_unicast_checksum` as a mode.
fn read_unicast_checksum(ctx: &mut Ctx<'_, '_>, v: &Val<'_>) -> Option<UnicastChecksum> {
    let s = ctx.string("unicast_checksum", v)?;
    match s {
        "standard" => Some(UnicastChecksum::Standard),
        "detect-legacy" => Some(UnicastChecksum::DetectLegacy),
        "legacy" => Some(UnicastChecksum::Legacy),
        other => {
            ctx.error(
                v.span(),
                format!("unknown unicast_checksum `{other}`"),
                Some("use \"detect-legacy\" (the default), \"legacy\" (keepalived <= 1.3.6) or \"standard\"".into()),
            );
            None
        }
    }
}

fn read_vmac(ctx: &mut Ctx<'_, '_>, v: &Val<'_>) -> Option<Vmac> {
    match v.get_ref() {
        DeValue::Boolean(true) => Some(Vmac::default()),
        DeValue::Boolean(false) => None,
        DeValue::Table(t) => {
            ctx.deny_unknown(t, "vmac", VMAC_KEYS);
            Some(Vmac {
                name: get(t, "name").and_then(|n| ctx.nonempty("name", n)),
                xmit_base: get(t, "xmit_base")
                    .and_then(|x| ctx.boolean("xmit_base", x))
                    .unwrap_or(false),
            })
        }
        _ => {
            ctx.expected("vmac", v, "true, false or a { name, xmit_base } table");
            None
        }
    }
}

fn read_announce(ctx: &mut Ctx<'_, '_>, v: &Val<'_>) -> Announce {
    let mut a = Announce::default();
    let Some(t) = ctx.table("announce", v) else {
        return a;
    };
    ctx.deny_unknown(t, "announce", ANNOUNCE_KEYS);
    if let Some(n) = get(t, "repeat").and_then(|v| ctx.integer("repeat", v, 1..=255)) {
        a.repeat = n as u32;
    }
    if let Some(n) =
        get(t, "refresh_repeat").and_then(|v| ctx.integer("refresh_repeat", v, 1..=255))
    {
        a.refresh_repeat = n as u32;
    }
    if let Some(v) = get(t, "delay") {
        if let Some(d) = ctx.duration("delay", v) {
            a.delay = (!d.is_zero()).then_some(d);
        }
    }
    if let Some(v) = get(t, "refresh") {
        if let Some(d) = ctx.duration("refresh", v) {
            a.refresh = (!d.is_zero()).then_some(d);
        }
    }
    if let Some(d) = get(t, "interval").and_then(|v| ctx.duration("interval", v)) {
        a.interval = d;
    }
    if let Some(n) =
        get(t, "lower_prio_repeat").and_then(|v| ctx.integer("lower_prio_repeat", v, 0..=255))
    {
        a.lower_prio_repeat = n as u32;
    }
    if let Some(v) = get(t, "lower_prio_delay") {
        if let Some(d) = ctx.duration("lower_prio_delay", v) {
            a.lower_prio_delay = (!d.is_zero()).then_some(d);
        }
    }
    if let Some(v) = get(t, "extra_interfaces") {
        if let Some(d) = ctx.duration("extra_interfaces", v) {
            if d > Duration::from_secs(86_400) {
                ctx.error(
                    v.span(),
                    "`extra_interfaces` is longer than a day",
                    Some("keepalived's garp_extra_if allows 0..=86400 s".into()),
                );
            } else {
                a.extra_interfaces = (!d.is_zero()).then_some(d);
            }
        }
    }
    a
}

pub(super) fn read_sync_group(
    ctx: &mut Ctx<'_, '_>,
    t: &DeTable<'_>,
    at: Range<usize>,
) -> Option<(SyncGroup, ObjectLocs)> {
    let mut locs = ObjectLocs::new(ctx.pos(at.clone()));
    let name = match field(ctx, t, "name", Field::Name, &mut locs) {
        Some(v) => ctx.nonempty("name", v),
        None => {
            ctx.error(at.clone(), "sync_group has no `name`", None);
            None
        }
    };
    ctx.deny_unknown(
        t,
        &format!("[[sync_group]] {}", name.as_deref().unwrap_or("")),
        GROUP_KEYS,
    );
    let mut instances = Vec::new();
    match get(t, "instances") {
        Some(v) => {
            for item in ctx.array("instances", v) {
                if let Some(s) = ctx.nonempty("instances", item) {
                    locs.set_item(Item::Member(instances.len()), ctx.pos(item.span()));
                    instances.push(s);
                }
            }
        }
        None => ctx.error(at.clone(), "sync_group has no `instances`", None),
    }
    let tracking_weight = field(ctx, t, "tracking_weight", Field::TrackingWeight, &mut locs)
        .and_then(|v| ctx.boolean("tracking_weight", v))
        .unwrap_or(false);
    let notify = get(t, "notify").map_or_else(Notify::default, |v| read_notify(ctx, v));
    let tracking = read_tracking(ctx, t, &mut locs);
    Some((
        SyncGroup {
            name: name?,
            instances,
            tracking,
            tracking_weight,
            notify,
        },
        locs,
    ))
}
