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
        out.extend(report(ctx, &words, &what, parsed));
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
        out.extend(report(ctx, &words, &what, parsed));
    }
    out
}
