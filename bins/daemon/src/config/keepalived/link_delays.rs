//! keepalived's top-level `interface_up_down_delays { IFNAME DOWN [UP] }`:
//! a link change waits DOWN (or UP) seconds before instances hear it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::args::Ctx;
use super::parser::Stmt;
use crate::config::{Config, LinkDelays};

/// The longest delay keepalived accepts.
const MAX: Duration = Duration::from_secs(255);

/// Reads the block into `delays`. Without UP, the up delay is 0: what
/// keepalived 2.2.7's parser does (its man page says the down delay).
pub(super) fn read_up_down_delays(
    ctx: &mut Ctx<'_>,
    s: &Stmt,
    delays: &mut BTreeMap<String, LinkDelays>,
) {
    ctx.arity(s, 0, 0);
    for item in ctx.block(s) {
        ctx.no_block(item);
        let name = item.key.text.clone();
        if item.args.is_empty() {
            ctx.error(
                item.key.pos,
                format!("no delays given for {name}"),
                Some(format!("write `{name} DOWN [UP]` in seconds")),
            );
            continue;
        }
        ctx.arity(item, 1, 2);
        let key = format!("{name} delay");
        let down = ctx.seconds(&key, &item.args[0], Duration::ZERO, MAX);
        let up = match item.args.get(1) {
            Some(w) => ctx.seconds(&key, w, Duration::ZERO, MAX),
            None => Some(Duration::ZERO),
        };
        if let (Some(down), Some(up)) = (down, up) {
            delays.insert(name, LinkDelays { down, up });
        }
    }
}

/// keepalived keeps an instance's interface delays below
/// `(down_timer_adverts − 1) × advert_int` (less 1/256 of the interval),
/// or else a Backup elsewhere takes over before the Active one notices
/// its link is down; with `down_timer_adverts 1` they are 0. Shortens
/// them so, with a warning.
pub(super) fn limit_link_delays(
    ctx: &mut Ctx<'_>,
    config: &mut Config,
    at: crate::config::diagnostics::Pos,
) {
    for inst in &config.instances {
        let Some(delays) = config.global.link_delays.get_mut(&inst.interface) else {
            continue;
        };
        let adverts = u32::from(inst.down_timer_adverts.unwrap_or(3)).max(1);
        let interval = inst.advert_interval;
        let bound = interval * (adverts - 1);
        let limit = bound.saturating_sub(interval / 256);
        for (what, d) in [("down", &mut delays.down), ("up", &mut delays.up)] {
            if !d.is_zero() && *d >= bound {
                ctx.warn(
                    at,
                    format!(
                        "the {what} delay of {} is cut to {:?}: instance {} advertises every {:?} \
                         (as keepalived does)",
                        inst.interface, limit, inst.name, interval
                    ),
                    None,
                );
                *d = limit;
            }
        }
    }
}
