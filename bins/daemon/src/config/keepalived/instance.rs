//! `vrrp_instance` blocks, read into a [`RawInstance`] whose defaults are
//! resolved later, once `global_defs` (which may come after) is known.

use std::net::IpAddr;
use std::time::Duration;

use super::args::Ctx;
use super::garp::{GarpSettings, read_garp_keyword};
use super::keywords;
use super::parser::{Stmt, Word};
use super::tracking::{read_notify_keyword, read_track_block};
use super::vips::read_vip;
use crate::config::address::parse_ip;
use crate::config::diagnostics::Pos;
use crate::config::locations::{Field, Item, ObjectLocs};
use crate::config::model::{
    InitialState, Notify, Priority, Tracking, UnicastChecksum, Version, VirtualAddress, Vmac, Vrid,
};
use crate::config::validate::AUTH_PASSWORD_MAX;

/// A `vrrp_instance` as written, before defaults.
#[derive(Debug)]
pub(super) struct RawInstance {
    pub(super) name: String,
    pub(super) locs: ObjectLocs,
    pub(super) state: InitialState,
    pub(super) interface: Option<String>,
    pub(super) vrid: Option<Vrid>,
    pub(super) priority: Priority,
    pub(super) advert: Option<Duration>,
    pub(super) version: Option<Version>,
    pub(super) nopreempt: bool,
    pub(super) preempt_delay: Duration,
    pub(super) accept: Option<bool>,
    /// `strict_mode`; `None`: the global `vrrp_strict`.
    pub(super) strict: Option<bool>,
    pub(super) vips: Vec<VirtualAddress>,
    pub(super) excluded_vips: Vec<VirtualAddress>,
    pub(super) virtual_routes: Vec<crate::config::Route>,
    pub(super) virtual_rules: Vec<crate::config::Rule>,
    pub(super) source_address: Option<IpAddr>,
    pub(super) peers: Vec<IpAddr>,
    pub(super) check_unicast_src: bool,
    pub(super) unicast_ttl: Option<(u8, Pos)>,
    pub(super) mcast_dst_ip: Option<(IpAddr, Pos)>,
    pub(super) skip_check_adv_addr: Option<bool>,
    pub(super) lower_prio_no_advert: Option<bool>,
    pub(super) higher_prio_send_advert: Option<bool>,
    pub(super) down_timer_adverts: Option<u8>,
    pub(super) notify_priority_changes: Option<bool>,
    pub(super) auth_password: Option<String>,
    pub(super) vmac: Option<Vmac>,
    pub(super) vmac_xmit_base: bool,
    pub(super) garp: GarpSettings,
    pub(super) tracking: Tracking,
    pub(super) dont_track_primary: bool,
    pub(super) promote_secondaries: bool,
    pub(super) unicast_fault_no_peer: bool,
    pub(super) unicast_checksum: UnicastChecksum,
    /// `track_src_ip`, where it was written.
    pub(super) track_src_ip: Option<Pos>,
    pub(super) notify: Notify,
}

/// Reads `vrrp_instance NAME { ... }`.
pub(super) fn read_instance(ctx: &mut Ctx<'_>, s: &Stmt) -> Option<RawInstance> {
    let Some(name) = s.args.first() else {
        ctx.error(
            s.key.pos,
            "`vrrp_instance` needs a name",
            Some("write `vrrp_instance VI_1 {`".into()),
        );
        return None;
    };
    ctx.arity(s, 1, 1);
    let mut locs = ObjectLocs::new(s.key.pos);
    locs.set_field(Field::Name, name.pos);
    let mut r = RawInstance {
        name: name.text.clone(),
        locs,
        state: InitialState::Backup,
        interface: None,
        vrid: None,
        priority: Priority::DEFAULT,
        advert: None,
        version: None,
        nopreempt: false,
        preempt_delay: Duration::ZERO,
        accept: None,
        strict: None,
        vips: Vec::new(),
        excluded_vips: Vec::new(),
        virtual_routes: Vec::new(),
        virtual_rules: Vec::new(),
        source_address: None,
        peers: Vec::new(),
        check_unicast_src: false,
        unicast_ttl: None,
        mcast_dst_ip: None,
        skip_check_adv_addr: None,
        lower_prio_no_advert: None,
        higher_prio_send_advert: None,
        down_timer_adverts: None,
        notify_priority_changes: None,
        auth_password: None,
        vmac: None,
        vmac_xmit_base: false,
        garp: GarpSettings::default(),
        tracking: Tracking::default(),
        dont_track_primary: false,
        promote_secondaries: false,
        unicast_fault_no_peer: false,
        unicast_checksum: UnicastChecksum::DetectLegacy,
        track_src_ip: None,
        notify: Notify::default(),
    };
    for item in ctx.block(s) {
        read_item(ctx, item, &mut r);
    }
    Some(r)
}

fn read_item(ctx: &mut Ctx<'_>, s: &Stmt, r: &mut RawInstance) {
    let key = s.key.text.as_str();
    let pos = s.key.pos;
    match key {
        "state" => {
            if let Some(w) = ctx.single(s) {
                r.locs.set_field(Field::InitialState, w.pos);
                r.state = match w.text.as_str() {
                    "MASTER" => InitialState::Active,
                    "BACKUP" => InitialState::Backup,
                    other => {
                        ctx.warn(
                            w.pos,
                            format!("unknown state `{other}`, using BACKUP"),
                            Some("use MASTER or BACKUP".into()),
                        );
                        InitialState::Backup
                    }
                };
            }
        }
        "interface" => {
            if let Some(w) = ctx.single(s) {
                r.locs.set_field(Field::Interface, w.pos);
                r.interface = Some(w.text.clone());
            }
        }
        "virtual_router_id" => {
            if let Some(w) = ctx.single(s) {
                r.locs.set_field(Field::Vrid, w.pos);
                r.vrid = ctx
                    .int(&s.key.text, w, 1..=255)
                    .and_then(|n| Vrid::new(n as u8));
            }
        }
        "priority" => {
            if let Some(w) = ctx.single(s) {
                r.locs.set_field(Field::Priority, w.pos);
                if let Some(p) = ctx
                    .int(&s.key.text, w, 1..=255)
                    .map(|n| Priority::new(n as u8))
                {
                    r.priority = p;
                }
            }
        }
        "advert_int" => {
            if let Some(w) = ctx.single(s) {
                r.locs.set_field(Field::AdvertInterval, w.pos);
                r.advert = ctx.seconds(
                    &s.key.text,
                    w,
                    Duration::from_millis(10),
                    Duration::from_secs(255),
                );
            }
        }
        "version" => {
            if let Some(w) = ctx.single(s) {
                r.locs.set_field(Field::Version, w.pos);
                r.version = match ctx.int(&s.key.text, w, 2..=3) {
                    Some(2) => Some(Version::V2),
                    Some(_) => Some(Version::V3),
                    None => None,
                };
            }
        }
        "nopreempt" => {
            ctx.bare(s);
            r.locs.set_field(Field::Preempt, pos);
            r.nopreempt = true;
        }
        "preempt" => {
            ctx.bare(s);
            r.nopreempt = false;
        }
        "preempt_delay" => {
            if let Some(w) = ctx.single(s) {
                r.locs.set_field(Field::PreemptDelay, w.pos);
                if let Some(d) =
                    ctx.seconds(&s.key.text, w, Duration::ZERO, Duration::from_secs(1000))
                {
                    r.preempt_delay = d;
                }
            }
        }
        "accept" | "no_accept" => {
            ctx.bare(s);
            r.accept = Some(key == "accept");
        }
        "strict_mode" => r.strict = Some(ctx.flag(s)),
        "promote_secondaries" => {
            ctx.bare(s);
            r.promote_secondaries = true;
        }
        "unicast_fault_no_peer" => {
            ctx.bare(s);
            r.unicast_fault_no_peer = true;
        }
        "old_unicast_checksum" => {
            ctx.no_block(s);
            ctx.arity(s, 0, 1);
            match s.args.first() {
                None => r.unicast_checksum = UnicastChecksum::Legacy,
                Some(w) if w.text == "never" => r.unicast_checksum = UnicastChecksum::Standard,
                Some(w) => ctx.error(
                    w.pos,
                    format!("`old_unicast_checksum` {} is not a mode", w.text),
                    Some("write `old_unicast_checksum` or `old_unicast_checksum never`".into()),
                ),
            }
        }
        "dont_track_primary" => {
            ctx.bare(s);
            r.dont_track_primary = true;
        }
        "track_src_ip" => {
            ctx.bare(s);
            r.track_src_ip = Some(s.key.pos);
        }
        "check_unicast_src" => {
            ctx.bare(s);
            r.check_unicast_src = true;
        }
        "unicast_ttl" => {
            if let Some(w) = ctx.single(s) {
                r.unicast_ttl = ctx.int(&s.key.text, w, 0..=255).map(|n| (n as u8, w.pos));
            }
        }
        "mcast_dst_ip" => {
            if let Some(w) = ctx.single(s) {
                match parse_ip(&w.text) {
                    Ok(ip) if crate::config::model::is_vrrp_group(ip) => r.mcast_dst_ip = Some((ip, w.pos)),
                    Ok(_) => ctx.warn(
                        w.pos,
                        format!("`mcast_dst_ip {}` is not a (link-local, for IPv6) multicast address; ignored, as keepalived skips it", w.text),
                        None,
                    ),
                    Err(e) => ctx.error(w.pos, format!("`mcast_dst_ip`: {e}"), None),
                }
            }
        }
        "skip_check_adv_addr" => {
            r.skip_check_adv_addr = Some(ctx.flag(s));
        }
        "lower_prio_no_advert" => {
            r.lower_prio_no_advert = Some(ctx.flag(s));
        }
        "higher_prio_send_advert" => {
            r.higher_prio_send_advert = Some(ctx.flag(s));
        }
        "notify_priority_changes" => r.notify_priority_changes = Some(ctx.flag(s)),
        "down_timer_adverts" => {
            if let Some(w) = ctx.single(s) {
                r.down_timer_adverts = ctx.int(&s.key.text, w, 1..=100).map(|n| n as u8);
            }
        }
        "native_ipv6" => {
            ctx.no_block(s);
            ctx.warn(
                pos,
                "`native_ipv6` is deprecated: the addresses decide the family",
                None,
            );
        }
        "authentication" => read_auth(ctx, s, r),
        "virtual_ipaddress" => {
            r.locs.set_field(Field::Vips, pos);
            for item in ctx.block(s) {
                if let Some(vip) = read_vip(ctx, item, None) {
                    r.locs.set_item(Item::Vip(r.vips.len()), item.key.pos);
                    r.vips.push(vip);
                }
            }
        }
        "virtual_ipaddress_excluded" => {
            for item in ctx.block(s) {
                if let Some(vip) = read_vip(ctx, item, None) {
                    r.locs
                        .set_item(Item::ExcludedVip(r.excluded_vips.len()), item.key.pos);
                    r.excluded_vips.push(vip);
                }
            }
        }
        "virtual_routes" => {
            let routes = super::routing::read_routes(ctx, s);
            r.virtual_routes.extend(routes);
        }
        "virtual_rules" => {
            let rules = super::routing::read_rules(ctx, s);
            r.virtual_rules.extend(rules);
        }
        "unicast_src_ip" | "mcast_src_ip" => {
            if let Some(w) = ctx.single(s) {
                r.locs.set_field(Field::SourceAddress, w.pos);
                match parse_ip(&w.text) {
                    Ok(ip) => r.source_address = Some(ip),
                    Err(e) => ctx.error(w.pos, format!("`{key}`: {e}"), None),
                }
            }
        }
        "unicast_peer" => {
            for item in ctx.block(s) {
                read_peer(ctx, item, r);
            }
        }
        "use_vmac" => {
            ctx.no_block(s);
            ctx.arity(s, 0, 2);
            r.locs
                .set_field(Field::Vmac, s.args.first().map_or(pos, |w| w.pos));
            if let Some(mac) = s.args.get(1) {
                ctx.warn(mac.pos, "a custom virtual MAC address is not supported; using the RFC 00-00-5E-00-0x-{VRID}", None);
            }
            r.vmac = Some(Vmac {
                name: s.args.first().map(|w| w.text.clone()),
                xmit_base: false,
            });
        }
        "vmac_xmit_base" => {
            ctx.no_block(s);
            r.vmac_xmit_base = true;
        }
        "garp_master_delay"
        | "garp_master_repeat"
        | "garp_master_refresh_repeat"
        | "garp_lower_prio_repeat"
        | "garp_lower_prio_delay"
        | "garp_extra_if"
        | "vmac_garp_intvl"
        | "garp_master_refresh" => read_garp_keyword(ctx, s, &mut r.garp),
        "track_interface" | "track_script" | "track_file" | "track_process" => {
            read_track_block(ctx, s, &mut r.tracking, &mut r.locs);
        }
        "notify_master"
        | "notify_backup"
        | "notify_fault"
        | "notify_stop"
        | "notify"
        | "notify_master_rx_lower_pri" => {
            read_notify_keyword(ctx, s, &mut r.notify);
        }
        "notify_deleted" => {
            // keepalived: `notify_deleted [SCRIPT [USER [GROUP]]]`.
            if r.notify.report_deleted {
                ctx.warn(
                    s.key.pos,
                    "`notify_deleted` is already set; this one is ignored (as keepalived)",
                    None,
                );
            } else {
                r.notify.report_deleted = true;
                if !s.args.is_empty() {
                    read_notify_keyword(ctx, s, &mut r.notify);
                }
            }
        }
        _ => keywords::ignore(ctx, s, keywords::INSTANCE, "vrrp_instance", SUPPORTED),
    }
}

/// The `vrrp_instance` keywords the mapping handles, for suggestions.
const SUPPORTED: &[&str] = &[
    "state",
    "interface",
    "virtual_router_id",
    "priority",
    "advert_int",
    "version",
    "nopreempt",
    "preempt",
    "preempt_delay",
    "accept",
    "no_accept",
    "strict_mode",
    "promote_secondaries",
    "unicast_fault_no_peer",
    "old_unicast_checksum",
    "track_src_ip",
    "dont_track_primary",
    "check_unicast_src",
    "unicast_ttl",
    "mcast_dst_ip",
    "skip_check_adv_addr",
    "lower_prio_no_advert",
    "higher_prio_send_advert",
    "down_timer_adverts",
    "notify_priority_changes",
    "native_ipv6",
    "authentication",
    "virtual_ipaddress",
    "virtual_ipaddress_excluded",
    "virtual_routes",
    "virtual_rules",
    "unicast_src_ip",
    "mcast_src_ip",
    "unicast_peer",
    "use_vmac",
    "vmac_xmit_base",
    "garp_master_delay",
    "garp_master_repeat",
    "garp_master_refresh",
    "garp_extra_if",
    "vmac_garp_intvl",
    "garp_master_refresh_repeat",
    "garp_lower_prio_repeat",
    "garp_lower_prio_delay",
    "notify_master_rx_lower_pri",
    "notify_deleted",
    "track_interface",
    "track_script",
    "track_file",
    "track_process",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify",
];

fn read_auth(ctx: &mut Ctx<'_>, s: &Stmt, r: &mut RawInstance) {
    r.locs.set_field(Field::Auth, s.key.pos);
    let mut auth_type: Option<&Word> = None;
    let mut pass: Option<&Word> = None;
    for item in ctx.block(s) {
        match item.key.text.as_str() {
            "auth_type" => auth_type = ctx.single(item),
            "auth_pass" => pass = ctx.single(item),
            other => ctx.error(
                item.key.pos,
                format!(
                    "unknown keyword {} in authentication",
                    ctx.sink.quote(item.key.pos, other)
                ),
                Some("use auth_type and auth_pass".into()),
            ),
        }
    }
    match auth_type.map(|w| w.text.as_str()) {
        Some("PASS") => {}
        Some("AH") => {
            ctx.warn(
                auth_type.map_or(s.key.pos, |w| w.pos),
                "IPsec AH authentication is not supported; the instance runs without authentication",
                Some("AH was removed from VRRP by RFC 3768; peers using it will not interoperate".into()),
            );
            return;
        }
        Some(other) => {
            ctx.error(
                auth_type.map_or(s.key.pos, |w| w.pos),
                format!("unknown auth_type `{other}`"),
                Some("use PASS".into()),
            );
            return;
        }
        None => {
            ctx.error(
                s.key.pos,
                "authentication has no auth_type",
                Some("add `auth_type PASS`".into()),
            );
            return;
        }
    }
    let Some(pass) = pass else {
        ctx.error(s.key.pos, "authentication has no auth_pass", None);
        return;
    };
    let mut password = pass.text.clone();
    if password.len() > AUTH_PASSWORD_MAX {
        let mut cut = AUTH_PASSWORD_MAX;
        while !password.is_char_boundary(cut) {
            cut -= 1;
        }
        password.truncate(cut);
        ctx.warn(
            pass.pos,
            format!("auth_pass is longer than 8 bytes; only `{password}` is used (as keepalived)"),
            None,
        );
    }
    r.auth_password = Some(password);
}

/// One `unicast_peer` line: `<IPADDR> [min_ttl N] [max_ttl N]`.
fn read_peer(ctx: &mut Ctx<'_>, s: &Stmt, r: &mut RawInstance) {
    ctx.no_block(s);
    match parse_ip(&s.key.text) {
        Ok(ip) => {
            r.locs.set_item(Item::Peer(r.peers.len()), s.key.pos);
            r.peers.push(ip);
        }
        Err(e) => ctx.error(s.key.pos, format!("unicast peer: {e}"), None),
    }
    if let Some(opt) = s.args.first() {
        ctx.warn(
            opt.pos,
            format!(
                "unicast peer option `{}` is not supported and is ignored",
                opt.text
            ),
            None,
        );
    }
}
