//! One ` VRRP Instance = ` block of `keepalived.data` (keepalived's
//! `dump_vrrp`), with the figures it derives: faults, Master_Down_Interval
//! and flags.

use std::fmt::Write as _;

use super::super::DumpInstance;
use super::super::format::{self, KaState};
use super::{notify_scripts, tracked};
use crate::config::{AddressFamily, Config, Instance, Version};
use crate::control::InstanceStatus;

/// Interface and tracker faults, keepalived's `num_script_if_fault`:
/// the trackers holding the instance in Fault, and its own link when it
/// went to Fault for it.
fn tracker_faults(inst: &Instance, status: &InstanceStatus) -> usize {
    let trackers = status
        .trackers
        .iter()
        .filter(|t| t.weight_applied.is_none())
        .count();
    let own_link = KaState::from_vrrpd(&status.state) == KaState::Fault
        && !inst.dont_track_primary
        && status
            .last_transition
            .as_ref()
            .is_some_and(|t| t.reason == "link_down");
    trackers + usize::from(own_link)
}

/// Master_Down_Interval in microseconds as vrrpd computes it:
/// `down_timer_adverts × Master_Adver_Interval + Skew_Time`, Skew_Time
/// `(256 − priority)/256` s for VRRPv2 and `(256 − priority) ×
/// Master_Adver_Interval / 256` for VRRPv3 (keepalived's figure too).
fn master_down_usecs(inst: &Instance, status: &InstanceStatus) -> u128 {
    let mai = format::master_adver_interval(inst, status).as_nanos();
    let base = match inst.version {
        Version::V2 => 1_000_000_000,
        Version::V3 => mai,
    };
    let adverts = u128::from(inst.down_timer_adverts.unwrap_or(3));
    let skew = base * (256 - u128::from(status.effective_priority)) / 256;
    (adverts * mai + skew) / 1000
}

/// Whether keepalived's `vrrp->flags` would be non-zero, which decides
/// between `Flags: none` and `Flags:`.
fn has_flags(inst: &Instance) -> bool {
    let evip_other_family = inst
        .excluded_vips
        .iter()
        .any(|v| v.family() != inst.family());
    inst.is_unicast()
        || inst.unicast_fault_no_peer
        || inst.dont_track_primary
        || inst.skip_check_adv_addr
        || inst.source_address.is_some()
        || inst.track_source_address
        || inst.check_unicast_source
        || inst.promote_secondaries
        || evip_other_family
        || !inst.preempt
        || inst.vmac.is_some()
}

fn enabled(b: bool) -> &'static str {
    if b { "enabled" } else { "disabled" }
}

/// One ` VRRP Instance = ` block.
pub(super) fn instance(out: &mut String, config: &Config, d: &DumpInstance) {
    let c = &d.config;
    let s = &d.status;
    let g = &config.global;
    let state = KaState::from_vrrpd(&s.state);
    let v3 = c.version == Version::V3;
    let mai = format::master_adver_interval(c, s);

    put!(out, " VRRP Instance = {}", c.name);
    put!(out, "   VRRP Version = {}", c.version.number());
    if let Some(group) = config.group_of(&c.name) {
        put!(out, "   Sync group = {}", group.name);
    }
    if c.family() == AddressFamily::Ipv6 {
        put!(out, "   Using Native IPv6");
    }
    put!(out, "   State = {}", state.name());
    if state == KaState::Backup {
        if let Some(router) = &s.active_router {
            put!(out, "   Master router = {router}");
        }
        if v3 {
            put!(out, "   Master advert int = {:.2} sec", format::secs_f(mai));
        }
    }
    if has_flags(c) {
        put!(out, "   Flags:");
        if c.is_unicast() {
            put!(out, "     Using unicast");
        } else if c.unicast_fault_no_peer {
            put!(
                out,
                "     Unicast config option specified but using multicast"
            );
        }
        if c.unicast_fault_no_peer {
            put!(out, "     If unicast go to fault state if no peers");
        }
    } else {
        put!(out, "   Flags: none");
    }
    put!(out, "   Wantstate = {}", state.name());
    let config_faults = usize::from(c.unicast_fault_no_peer && !c.is_unicast());
    put!(out, "   Number of config faults = {config_faults}");
    put!(
        out,
        "   Number of interface and track script faults = {}",
        tracker_faults(c, s)
    );
    put!(out, "   Number of track scripts init = 0");
    let (secs, usec) = format::last_transition(s);
    put!(
        out,
        "   Last transition = {}",
        format::data_time(secs, usec)
    );
    if matches!(state, KaState::Fault | KaState::Init) {
        put!(out, "   Read timeout = DISABLED");
    }
    put!(
        out,
        "   Master down timer = {} usecs",
        master_down_usecs(c, s)
    );
    match (c.vmac.as_ref(), c.vmac_name()) {
        (Some(vmac), Some(name)) => {
            put!(
                out,
                "   Use VMAC, i/f name {name}, is_up = {}, xmit_base = {}",
                s.waiting.is_none(),
                vmac.xmit_base
            );
            put!(
                out,
                "   Interface = {name}, vmac on {}{}",
                c.interface,
                if vmac.xmit_base {
                    ", xmit base i/f"
                } else {
                    ""
                }
            );
        }
        _ => put!(out, "   Interface = {}", c.interface),
    }
    if c.dont_track_primary {
        put!(out, "   VRRP interface tracking disabled");
    }
    if c.skip_check_adv_addr {
        put!(out, "   Skip checking advert IP addresses");
    }
    match c.source_address {
        Some(a) => put!(out, "   Using src_ip = {a} (from configuration)"),
        None => put!(out, "   Using src_ip = (none)"),
    }
    if !c.is_unicast() {
        let group = c
            .multicast_group
            .unwrap_or_else(|| format::default_group(c.family()));
        put!(out, "   Multicast address {group}");
    }
    let a = &c.announce;
    put!(
        out,
        "   Gratuitous ARP delay = {}",
        a.delay.map_or(0, format::secs)
    );
    put!(out, "   Gratuitous ARP repeat = {}", a.repeat);
    put!(
        out,
        "   Gratuitous ARP refresh = {}",
        a.refresh.map_or(0, format::secs)
    );
    put!(
        out,
        "   Gratuitous ARP refresh repeat = {}",
        a.refresh_repeat
    );
    put!(
        out,
        "   Gratuitous ARP lower priority delay = {}",
        a.lower_prio_delay.map_or(0, format::secs)
    );
    put!(
        out,
        "   Gratuitous ARP lower priority repeat = {}",
        a.lower_prio_repeat
    );
    put!(
        out,
        "   Down timer adverts = {}",
        c.down_timer_adverts.unwrap_or(3)
    );
    if let Some(every) = a.extra_interfaces {
        put!(
            out,
            "   Gratuitous ARP for each secondary i/f = {}",
            format::secs(every)
        );
    }
    put!(
        out,
        "   Send advert after receive lower priority advert = {}",
        !c.lower_prio_no_advert
    );
    put!(
        out,
        "   Send advert after receive higher priority advert = {}",
        c.higher_prio_send_advert
    );
    put!(out, "   Virtual Router ID = {}", c.vrid.get());
    put!(out, "   Priority = {}", c.priority.get());
    put!(out, "   Effective priority = {}", s.effective_priority);
    let total = s
        .trackers
        .iter()
        .filter_map(|t| t.weight_applied)
        .fold(i64::from(c.priority.get()), i64::saturating_add);
    put!(out, "   Total priority = {total}");
    if v3 {
        put!(
            out,
            "   Advert interval = {} milli-sec",
            c.advert_interval.as_millis()
        );
    } else {
        put!(
            out,
            "   Advert interval = {} sec",
            format::secs(c.advert_interval)
        );
    }
    if state == KaState::Backup && v3 {
        put!(
            out,
            "   Master advert interval = {} milli-sec",
            mai.as_millis()
        );
    }
    put!(out, "   Accept = {}", enabled(c.accept));
    put!(out, "   Preempt = {}", enabled(c.preempt));
    if !c.preempt_delay.is_zero() {
        put!(
            out,
            "   Preempt delay = {} secs",
            format::fmt_g(format::secs_f(c.preempt_delay))
        );
    }
    put!(
        out,
        "   Promote_secondaries = {}",
        enabled(c.promote_secondaries)
    );
    match (&c.auth_password, c.version) {
        (Some(pass), _) => {
            put!(out, "   Authentication type = SIMPLE_PASSWORD");
            put!(out, "   Password = {pass}");
        }
        (None, Version::V2) => put!(out, "   Authentication type = none"),
        (None, Version::V3) => {}
    }
    let (vips, evips) = format::instance_addresses(c, s.vips_installed);
    if !vips.is_empty() {
        put!(out, "   Virtual IP ({}):", vips.len());
        for v in &vips {
            put!(out, "     {v}");
        }
    }
    if !evips.is_empty() {
        put!(out, "   Virtual IP Excluded :");
        for v in &evips {
            put!(out, "     {v}");
        }
    }
    if c.is_unicast() {
        put!(out, "   Unicast TTL = {}", c.unicast_ttl.unwrap_or(255));
        put!(
            out,
            "   Check unicast src : {}",
            if c.check_unicast_source { "yes" } else { "no" }
        );
        put!(out, "   Unicast Peer :");
        for p in &c.unicast_peers {
            // vrrpd accepts unicast adverts whatever their TTL.
            put!(out, "     {p} min_ttl 0 max_ttl 255");
        }
        let compat = match c.unicast_checksum {
            crate::config::UnicastChecksum::DetectLegacy => "no",
            crate::config::UnicastChecksum::Standard => "never",
            crate::config::UnicastChecksum::Legacy => "config",
        };
        put!(out, "   Unicast checksum compatibility = {compat}");
    }
    if s.waiting.is_some() {
        put!(out, "   No sockets allocated");
    }
    if !c.virtual_routes.is_empty() {
        put!(out, "   Virtual Routes :");
        for r in &c.virtual_routes {
            put!(out, "     {r}");
        }
    }
    if !c.virtual_rules.is_empty() {
        put!(out, "   Virtual Rules :");
        for r in &c.virtual_rules {
            put!(out, "     {r}");
        }
    }
    tracked(
        out,
        config,
        &c.tracking,
        "Tracked processes",
        Some(c.interface.as_str()),
    );
    put!(out, "   Using smtp notification = no");
    let deleted = c.notify.report_deleted || c.notify.deleted.is_some();
    put!(
        out,
        "   Notify deleted = {}",
        if deleted { "Deleted" } else { "Fault" }
    );
    notify_scripts(out, g, &c.notify, true);
    put!(
        out,
        "   Notify priority changes = {}",
        c.notify_priority_changes
    );
}
