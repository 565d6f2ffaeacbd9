//! keepalived.conf: the VRRP part of a keepalived configuration.
//!
//! A hand-written lexer ([`lexer`]) applies keepalived's line-level
//! features (comments, includes, `@` conditionals, `$` parameters), a
//! parser ([`parser`]) builds the block tree, and the mapping
//! ([`mapping`]) turns it into the shared [`Config`](super::Config) model,
//! warning about every keyword vrrpd ignores ([`keywords`]).

mod args;
mod checkers;
mod garp;
mod global;
mod includes;
mod instance;
mod keywords;
mod lexer;
mod link_delays;
mod lvs;
mod lvs_defaults;
mod mapping;
mod parser;
mod routing;
mod smtp_check;
mod strict;
mod tracking;
mod vips;

use std::path::Path;

use super::LoadResult;
use super::diagnostics::{Pos, Sink};
use super::validate;

/// How to read a keepalived.conf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeepalivedOptions {
    /// Turn every warning (ignored keywords, keepalived-style adjustments)
    /// into an error (`--strict`).
    pub strict: bool,
    /// keepalived's config-id (`keepalived -i ID`), matched by `@ID` and
    /// `@^ID` lines and substituted for `${_INSTANCE}`. keepalived defaults
    /// it to the host name up to the first dot; with `None` no `@ID` line
    /// applies and every `@^ID` line does.
    pub config_id: Option<String>,
    /// Read `include`d files. When `false` an include is only warned
    /// about, so parsing touches no file (used by the fuzz target).
    pub follow_includes: bool,
}

impl Default for KeepalivedOptions {
    /// Not strict, no config-id, includes followed.
    fn default() -> Self {
        KeepalivedOptions {
            strict: false,
            config_id: None,
            follow_includes: true,
        }
    }
}

/// Lexes, parses, maps and validates `text`, read from `path`.
pub(super) fn check(text: &str, path: &Path, options: &KeepalivedOptions) -> LoadResult {
    let mut sink = Sink::new(options.strict);
    let file = sink.add_file(path);
    let tokens = {
        let mut lx = lexer::Lexer::new(&mut sink, options);
        lx.lex_file(text, path, file);
        lx.tokens
    };
    let stmts = parser::parse(&tokens, &mut sink);
    let origin = Pos {
        file,
        line: 1,
        column: 1,
    };
    let (config, locs) = {
        let mut ctx = args::Ctx {
            sink: &mut sink,
            rule_priorities: Default::default(),
        };
        mapping::map(&stmts, &mut ctx, origin)
    };
    validate::validate(&config, &locs, &mut sink);
    if sink.has_errors() {
        Err(sink.finish())
    } else {
        Ok((config, sink.finish()))
    }
}
