//! `virtual_routes`, `virtual_rules` (in a `vrrp_instance`) and
//! `static_ipaddress`, `static_routes`, `static_rules` (at the top): each
//! line goes through the parser both formats share
//! ([`crate::config::parse_route`], [`crate::config::parse_rule`]).

use super::args::Ctx;
use super::parser::Stmt;
use crate::config::routing::{Parsed, Route, Rule, parse_route, parse_rule};

/// The words of one line: its key and its arguments (a line has no block).
fn line_words(ctx: &mut Ctx<'_>, s: &Stmt) -> Vec<super::parser::Word> {
    ctx.no_block(s);
    std::iter::once(s.key.clone())
        .chain(s.args.iter().cloned())
        .collect()
}

/// Reports a line's problems at their words; the item if it has no error.
fn report<T>(
    ctx: &mut Ctx<'_>,
    words: &[super::parser::Word],
    what: &str,
    p: Parsed<T>,
) -> Option<T> {
    let at = |k: usize| words.get(k).or(words.first()).map(|w| w.pos);
    for e in &p.errors {
        if let Some(pos) = at(e.word) {
            ctx.error(pos, format!("{what}: {}", e.message), None);
        }
    }
    for w in &p.warnings {
        if let Some(pos) = at(w.word) {
            ctx.warn(pos, format!("{what}: {}", w.message), None);
        }
    }
    p.item
}

/// Reads a `virtual_routes { ... }` or `static_routes { ... }` block.
pub(super) fn read_routes(ctx: &mut Ctx<'_>, s: &Stmt) -> Vec<Route> {
    let what = s.key.text.clone();
    let mut out = Vec::new();
    for line in ctx.block(s) {
        let words = line_words(ctx, line);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        let parsed = parse_route(&texts);
        if let Some(route) = report(ctx, &words, &what, parsed) {
            if route.track_group.is_some() && what == "virtual_routes" {
                ctx.error(
                    line.key.pos,
                    "`track_group` is for static_routes only",
                    None,
                );
                continue;
            }
            out.push(route);
        }
    }
    out
}

/// Reads a `virtual_rules { ... }` or `static_rules { ... }` block.
pub(super) fn read_rules(ctx: &mut Ctx<'_>, s: &Stmt) -> Vec<Rule> {
    let what = s.key.text.clone();
    let mut out = Vec::new();
    for line in ctx.block(s) {
        let words = line_words(ctx, line);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        let parsed = parse_rule(&texts, &mut ctx.rule_priorities);
        if let Some(rule) = report(ctx, &words, &what, parsed) {
            if rule.track_group.is_some() && what == "virtual_rules" {
                ctx.error(line.key.pos, "`track_group` is for static_rules only", None);
                continue;
            }
            out.push(rule);
        }
    }
    out
}

/// `track_group NAME { group { INSTANCE ... } }`.
pub(super) fn read_track_group(ctx: &mut Ctx<'_>, s: &Stmt) -> Option<(String, Vec<String>)> {
    let Some(name) = s.args.first() else {
        ctx.error(s.key.pos, "`track_group` needs a name", None);
        return None;
    };
    ctx.arity(s, 1, 1);
    let mut members = Vec::new();
    for item in ctx.block(s) {
        if item.key.text != "group" {
            ctx.error(
                item.key.pos,
                format!("unknown keyword `{}` in track_group", item.key.text),
                Some("write `group { VI_1 VI_2 }`".into()),
            );
            continue;
        }
        for m in ctx.block(item) {
            ctx.no_block(m);
            members.push(m.key.text.clone());
            members.extend(m.args.iter().map(|w| w.text.clone()));
        }
    }
    Some((name.text.clone(), members))
}

/// Refuses the static routes and rules of `statics` that name a
/// `track_group` not defined before them (keepalived: "track_group %s not
/// found"), at `at`.
pub(super) fn check_track_groups(
    ctx: &mut Ctx<'_>,
    statics: &crate::config::Statics,
    at: crate::config::diagnostics::Pos,
) {
    let missing = statics.unknown_track_groups();
    for g in &missing {
        ctx.error(
            at,
            format!("track_group `{g}` is not defined before it is used"),
            None,
        );
    }
}
