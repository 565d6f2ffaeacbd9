//! keepalived's gratuitous ARP / NA keywords: an instance's
//! `garp_master_*`, `garp_lower_prio_*` and `garp_extra_if` overrides, and
//! the top-level `garp_group` blocks that pace them per interface.

use std::collections::BTreeMap;
use std::time::Duration;

use super::args::Ctx;
use super::parser::Stmt;

/// Per-instance `garp_master_*` overrides.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct GarpSettings {
    /// `Some(None)`: `garp_master_delay 0`, no second burst.
    pub(super) delay: Option<Option<Duration>>,
    pub(super) repeat: Option<u32>,
    pub(super) refresh: Option<Option<Duration>>,
    pub(super) refresh_repeat: Option<u32>,
    pub(super) lower_prio_repeat: Option<u32>,
    /// `Some(None)`: `garp_lower_prio_delay 0`, no second burst.
    pub(super) lower_prio_delay: Option<Option<Duration>>,
    /// `garp_extra_if [all] N`: `Some(None)` when 0 or without `all`.
    pub(super) extra_if: Option<Option<Duration>>,
}

/// `garp_extra_if [all] N` (instance, N in 0..=86400) or `vrrp_garp_extra_if
/// [all] N` (global, 1..=86400), and their deprecated `vmac_garp_intvl`
/// names: the interval of the periodic messages on other interfaces, or
/// `Some(None)` for none. Without `all` keepalived sends only on the VMACs
/// it creates for VIPs (`use_vmac_addr`), which vrrpd does not create:
/// warned about, no effect.
pub(super) fn read_garp_extra_if(
    ctx: &mut Ctx<'_>,
    s: &Stmt,
    min: i64,
) -> Option<Option<Duration>> {
    ctx.no_block(s);
    let key = s.key.text.as_str();
    if key.contains("vmac_garp_intvl") {
        let new = if key.starts_with("vrrp_") {
            "vrrp_garp_extra_if"
        } else {
            "garp_extra_if"
        };
        ctx.warn(
            s.key.pos,
            format!("`{key}` is deprecated (keepalived 2.2.2)"),
            Some(format!("write `{new}`")),
        );
    }
    let mut all = false;
    let mut secs = None;
    for w in &s.args {
        if w.text == "all" {
            all = true;
        } else {
            secs = Some(ctx.int(key, w, min..=86_400)?);
        }
    }
    let Some(secs) = secs else {
        ctx.error(s.key.pos, format!("`{key}` needs a time in seconds"), None);
        return None;
    };
    if secs > 0 && !all {
        ctx.warn(
            s.key.pos,
            format!(
                "`{key}` without `all` sends only on VMACs created for VIPs \
                 (use_vmac_addr), which vrrpd does not create: no effect"
            ),
            Some(format!(
                "write `{key} all {secs}` to send on every interface of a VIP"
            )),
        );
    }
    Some((secs > 0 && all).then(|| Duration::from_secs(secs as u64)))
}

/// Reads one of an instance's garp keywords into `g`.
pub(super) fn read_garp_keyword(ctx: &mut Ctx<'_>, s: &Stmt, g: &mut GarpSettings) {
    let key = s.key.text.as_str();
    match key {
        "garp_master_delay" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(&s.key.text, w, 0..=86_400) {
                    g.delay = Some((n > 0).then(|| Duration::from_secs(n as u64)));
                }
            }
        }
        "garp_master_repeat" | "garp_master_refresh_repeat" => {
            if let Some(w) = ctx.single(s) {
                if let Some(mut n) = ctx.int(&s.key.text, w, 0..=255) {
                    if n == 0 {
                        ctx.warn(
                            w.pos,
                            format!("`{key}` must be at least 1; using 1 (as keepalived)"),
                            None,
                        );
                        n = 1;
                    }
                    if key == "garp_master_repeat" {
                        g.repeat = Some(n as u32);
                    } else {
                        g.refresh_repeat = Some(n as u32);
                    }
                }
            }
        }
        "garp_lower_prio_repeat" => {
            if let Some(w) = ctx.single(s) {
                g.lower_prio_repeat = ctx.int(&s.key.text, w, 0..=255).map(|n| n as u32);
            }
        }
        "garp_lower_prio_delay" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(&s.key.text, w, 0..=86_400) {
                    g.lower_prio_delay = Some((n > 0).then(|| Duration::from_secs(n as u64)));
                }
            }
        }
        "garp_extra_if" | "vmac_garp_intvl" => {
            if let Some(v) = read_garp_extra_if(ctx, s, 0) {
                g.extra_if = Some(v);
            }
        }
        "garp_master_refresh" => {
            if let Some(w) = ctx.single(s) {
                if let Some(n) = ctx.int(&s.key.text, w, 0..=86_400) {
                    g.refresh = Some((n > 0).then(|| Duration::from_secs(n as u64)));
                }
            }
        }
        _ => {}
    }
}

/// A `garp_group`: the pause between gratuitous ARPs (`garp_interval`)
/// and between unsolicited NAs (`gna_interval`) on its interfaces; one
/// not given is none. Interfaces outside every group take the global
/// `vrrp_garp_interval`/`vrrp_gna_interval`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct GarpPacing {
    pub(super) garp: Duration,
    pub(super) gna: Duration,
}

/// Reads a top-level `garp_group { garp_interval; gna_interval; interface
/// NAME | interfaces { ... } }` into `groups`, by interface. An interface
/// already in a group keeps its first one, as in keepalived.
///
/// keepalived spreads a group's pause over all its interfaces together;
/// vrrpd paces each instance's messages, so a group of several
/// interfaces is paced per instance (documented).
pub(super) fn read_garp_group(
    ctx: &mut Ctx<'_>,
    s: &Stmt,
    groups: &mut BTreeMap<String, GarpPacing>,
) {
    ctx.arity(s, 0, 0);
    let mut pacing = GarpPacing::default();
    let mut any_interval = false;
    let mut interfaces: Vec<(String, crate::config::diagnostics::Pos)> = Vec::new();
    for item in ctx.block(s) {
        let key = item.key.text.as_str();
        match key {
            "garp_interval" | "gna_interval" => {
                let Some(w) = ctx.single(item) else { continue };
                let max = crate::config::duration::MAX;
                if let Some(v) = ctx.seconds(key, w, Duration::ZERO, max) {
                    any_interval = true;
                    if key == "garp_interval" {
                        pacing.garp = v;
                    } else {
                        pacing.gna = v;
                    }
                }
            }
            "interface" => {
                if let Some(w) = ctx.single(item) {
                    interfaces.push((w.text.clone(), w.pos));
                }
            }
            "interfaces" => {
                ctx.arity(item, 0, 0);
                let names = ctx.block(item);
                if names.is_empty() {
                    ctx.warn(item.key.pos, "empty garp_group interfaces block", None);
                }
                for n in names {
                    ctx.no_block(n);
                    interfaces.push((n.key.text.clone(), n.key.pos));
                    for w in &n.args {
                        interfaces.push((w.text.clone(), w.pos));
                    }
                }
            }
            _ => ctx.error(
                item.key.pos,
                format!("unknown keyword `{key}` in garp_group"),
                Some("garp_group takes garp_interval, gna_interval, interface, interfaces".into()),
            ),
        }
    }
    if !any_interval {
        ctx.warn(
            s.key.pos,
            "garp_group without garp_interval or gna_interval has no effect (as in keepalived)",
            None,
        );
        return;
    }
    for (name, pos) in interfaces {
        match groups.entry(name) {
            std::collections::btree_map::Entry::Occupied(e) => ctx.warn(
                pos,
                format!(
                    "garp_group already given for {}: this one is ignored (as keepalived)",
                    e.key()
                ),
                None,
            ),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(pacing);
            }
        }
    }
}
