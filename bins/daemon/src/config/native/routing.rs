//! `routes` and `rules` of an `[[instance]]` (keepalived's
//! `virtual_routes`, `virtual_rules`) and the `[static]` table
//! (`static_ipaddress`, `static_routes`, `static_rules`). Each route or
//! rule is one string in keepalived's syntax, `ip route`'s words, read
//! by the parser both formats share.

use toml::de::DeValue;

use super::value::{Ctx, Val, get};
use crate::config::model::Statics;
use crate::config::routing::{Parsed, Route, Rule, parse_route, parse_rule};

const STATIC_KEYS: &[&str] = &["addresses", "routes", "rules", "track_groups"];

/// Reports a line's problems at its string; the item if it has no error.
fn report<T>(ctx: &mut Ctx<'_, '_>, key: &str, v: &Val<'_>, p: Parsed<T>) -> Option<T> {
    for e in &p.errors {
        ctx.error(v.span(), format!("`{key}`: {}", e.message), None);
    }
    for w in &p.warnings {
        let pos = ctx.pos(v.span());
        ctx.sink.warn(pos, format!("`{key}`: {}", w.message), None);
    }
    p.item
}

/// `routes = ["198.18.9.0/24 via 198.18.0.254 dev eth0", ...]`.
pub(super) fn read_routes(ctx: &mut Ctx<'_, '_>, key: &str, v: &Val<'_>) -> Vec<Route> {
    let mut out = Vec::new();
    for item in ctx.array(key, v) {
        if let Some(line) = ctx.string(key, item) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let parsed = parse_route(&words);
            out.extend(report(ctx, key, item, parsed));
        }
    }
    out
}

/// `rules = ["from 198.18.0.0/24 preference 100 table 100", ...]`.
pub(super) fn read_rules(ctx: &mut Ctx<'_, '_>, key: &str, v: &Val<'_>) -> Vec<Rule> {
    let mut out = Vec::new();
    for item in ctx.array(key, v) {
        if let Some(line) = ctx.string(key, item) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let parsed = parse_rule(&words, &mut ctx.rule_priorities);
            out.extend(report(ctx, key, item, parsed));
        }
    }
    out
}

/// `[static]`: `addresses` (as `vips`, each with its `device`), `routes`
/// and `rules`.
pub(super) fn read_statics(ctx: &mut Ctx<'_, '_>, v: &Val<'_>) -> Statics {
    let mut statics = Statics::default();
    let Some(t) = ctx.table("static", v) else {
        return statics;
    };
    ctx.deny_unknown(t, "[static]", STATIC_KEYS);
    if let Some(a) = get(t, "addresses") {
        for item in ctx.array("addresses", a) {
            let Some(address) =
                super::vips::read_vip_with(ctx, "addresses", item, &["track_group"])
            else {
                continue;
            };
            if let DeValue::Table(entry) = item.get_ref() {
                if let Some(g) =
                    get(entry, "track_group").and_then(|g| ctx.nonempty("track_group", g))
                {
                    statics.address_track_groups.insert(address.address, g);
                }
            }
            if address.device.is_none() {
                let hint = match item.get_ref() {
                    DeValue::String(s) => {
                        format!("write {{ address = \"{s}\", device = \"eth0\" }}")
                    }
                    _ => "add `device = \"eth0\"`".to_string(),
                };
                ctx.error(
                    item.span(),
                    "a static address needs its `device`",
                    Some(hint),
                );
                continue;
            }
            statics.addresses.push(address);
        }
    }
    if let Some(g) = get(t, "track_groups") {
        if let Some(groups) = ctx.table("track_groups", g) {
            for (name, members) in groups.iter() {
                let list = ctx
                    .array("track_groups", members)
                    .iter()
                    .filter_map(|m| ctx.nonempty("track_groups", m))
                    .collect();
                statics
                    .track_groups
                    .insert(name.get_ref().to_string(), list);
            }
        }
    }
    if let Some(r) = get(t, "routes") {
        statics.routes = read_routes(ctx, "routes", r);
    }
    if let Some(r) = get(t, "rules") {
        statics.rules = read_rules(ctx, "rules", r);
    }
    let unknown = statics.unknown_track_groups();
    for g in unknown {
        ctx.error(
            v.span(),
            format!("track_group `{g}` is not in [static] track_groups"),
            None,
        );
    }
    statics
}
