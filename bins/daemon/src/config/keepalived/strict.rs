//! keepalived's strict mode (`vrrp_strict` in global_defs, `strict_mode
//! [on|off]` in an instance), applied to a finished instance as keepalived
//! 2.2.7's `vrrp_complete_instance` applies it: what RFC 3768 / RFC 9568
//! do not allow is reset with a warning (keepalived logs and resets too),
//! and an instance without VIPs or with unicast peers is refused.
//!
//! The effect users notice: a non-owner's accept mode defaults to off,
//! so while Active it drops packets to its VIPs (the nftables filter,
//! [`crate::config::Firewall`]), as keepalived's does.

use std::time::Duration;

use super::args::Ctx;
use crate::config::diagnostics::Pos;
use crate::config::model::{InitialState, Instance, Version};

/// What the file said, where strict mode cares whether it said it.
pub(super) struct Explicit {
    /// `accept` / `no_accept`.
    pub(super) accept: Option<bool>,
    /// `lower_prio_no_advert`.
    pub(super) lower_prio_no_advert: Option<bool>,
    /// `higher_prio_send_advert`.
    pub(super) higher_prio_send_advert: Option<bool>,
    /// Whether `garp_lower_prio_repeat` or its global default was set.
    pub(super) lower_prio_garps: bool,
    /// Where the instance starts, for the messages.
    pub(super) at: Pos,
}

/// Whether `accept` ends up on for an instance: the file's choice, or
/// keepalived's default (on, but off for a non-owner in strict mode).
pub(super) fn accept_default(explicit: Option<bool>, strict: bool, owner: bool) -> bool {
    explicit.unwrap_or(owner || !strict)
}

/// Applies strict mode to `inst`; `Err` if keepalived refuses it.
pub(super) fn apply(ctx: &mut Ctx<'_>, inst: &mut Instance, e: &Explicit) -> Result<(), ()> {
    let name = inst.name.clone();
    let at = e.at;
    let warn =
        |ctx: &mut Ctx<'_>, msg: String| ctx.warn(at, format!("({name}) strict mode: {msg}"), None);
    let mut refused = false;
    if inst.vips.is_empty() {
        ctx.error(
            at,
            format!("({}) strict mode needs at least one VIP (keepalived: \"No VIP specified; at least one is required\")", inst.name),
            None,
        );
        refused = true;
    }
    if !inst.unicast_peers.is_empty() {
        ctx.error(
            at,
            format!("({}) strict mode does not allow unicast peers (RFC 9568 multicasts adverts; keepalived 2.2.7 fails to enforce this, 2.4.0 refuses it)", inst.name),
            Some("remove `unicast_peer`, or `strict_mode off` for this instance".into()),
        );
        refused = true;
    }
    let owner = inst.priority.get() == 255;
    match inst.initial_state {
        InitialState::Active if !owner => {
            warn(
                ctx,
                "`state MASTER` must be the address owner (priority 255): starting as BACKUP"
                    .into(),
            );
            inst.initial_state = InitialState::Backup;
        }
        InitialState::Backup if owner => {
            warn(
                ctx,
                "the address owner (priority 255) starts as MASTER".into(),
            );
            inst.initial_state = InitialState::Active;
        }
        _ => {}
    }
    if inst.auth_password.take().is_some() {
        warn(ctx, "authentication is not allowed: ignored".into());
    }
    if inst.family() == crate::config::AddressFamily::Ipv6
        && inst.unicast_peers.is_empty()
        && inst.vips.first().is_some_and(|v| match v.address {
            std::net::IpAddr::V6(a) => !a.is_unicast_link_local(),
            std::net::IpAddr::V4(_) => false,
        })
    {
        warn(
            ctx,
            "the first IPv6 VIP should be link-local (RFC 9568 §5.2.9)".into(),
        );
    }
    if inst.preempt_delay > Duration::ZERO {
        warn(ctx, "preempt_delay is not allowed: reset".into());
        inst.preempt_delay = Duration::ZERO;
    }
    if inst.down_timer_adverts.is_some_and(|n| n != 3) {
        warn(ctx, "down_timer_adverts is not allowed: reset to 3".into());
        inst.down_timer_adverts = None;
    }
    if e.accept == Some(true) && !owner && inst.version == Version::V2 {
        warn(
            ctx,
            "accept mode does not comply with RFC 3768 (VRRPv2): reset to no_accept".into(),
        );
        inst.accept = false;
    }
    if e.lower_prio_garps {
        warn(
            ctx,
            "no repeated GARPs to a lower priority router: garp_lower_prio_repeat and _delay reset"
                .into(),
        );
    }
    inst.announce.lower_prio_repeat = 0;
    inst.announce.lower_prio_delay = None;
    if e.lower_prio_no_advert == Some(false) {
        warn(ctx, "lower_prio_no_advert is required: set".into());
    }
    inst.lower_prio_no_advert = true;
    if e.higher_prio_send_advert == Some(true) {
        warn(
            ctx,
            "higher_prio_send_advert is not allowed: cleared".into(),
        );
    }
    inst.higher_prio_send_advert = false;
    if let Some(v) = &mut inst.vmac {
        if v.xmit_base {
            warn(ctx, "vmac_xmit_base is not allowed: cleared".into());
            v.xmit_base = false;
        }
    }
    if refused { Err(()) } else { Ok(()) }
}
