//! Argument helpers for keepalived statements: arity, booleans, numbers,
//! decimal seconds, commands; each reports at the offending word.

use std::time::Duration;

use super::parser::{Stmt, Word};
use crate::config::diagnostics::{Pos, Sink};
use crate::config::duration;
use crate::config::exec::{Exec, RunAs, split_words};

/// The mapping context: where diagnostics go.
pub(super) struct Ctx<'a> {
    pub(super) sink: &'a mut Sink,
    /// The preference the next rule without one gets (`virtual_rules`,
    /// `static_rules`), counting down over the file as keepalived does.
    pub(super) rule_priorities: crate::config::RulePriorities,
}

impl Ctx<'_> {
    /// Records an error.
    pub(super) fn error(&mut self, pos: Pos, msg: impl Into<String>, hint: Option<String>) {
        self.sink.error(pos, msg, hint);
    }

    /// Records a warning.
    pub(super) fn warn(&mut self, pos: Pos, msg: impl Into<String>, hint: Option<String>) {
        self.sink.warn(pos, msg, hint);
    }

    /// Checks that `s` has `min..=max` arguments; extra ones are errors.
    pub(super) fn arity(&mut self, s: &Stmt, min: usize, max: usize) -> bool {
        let n = s.args.len();
        if n < min {
            let what = if min == 1 {
                "a value".to_string()
            } else {
                format!("{min} values")
            };
            self.error(s.key.pos, format!("`{}` needs {what}", s.key.text), None);
            return false;
        }
        if n > max {
            self.error(
                s.args[max].pos,
                format!("unexpected `{}` after `{}`", s.args[max].text, s.key.text),
                None,
            );
        }
        true
    }

    /// Reports a block where none belongs.
    pub(super) fn no_block(&mut self, s: &Stmt) {
        if let Some(b) = &s.block {
            self.error(b.open, format!("`{}` takes no block", s.key.text), None);
        }
    }

    /// The items of the block `s` must have.
    pub(super) fn block<'s>(&mut self, s: &'s Stmt) -> &'s [Stmt] {
        match &s.block {
            Some(b) => &b.items,
            None => {
                self.error(
                    s.key.pos,
                    format!("`{}` needs a `{{ ... }}` block", s.key.text),
                    None,
                );
                &[]
            }
        }
    }

    /// A statement with one value and no block: the value.
    pub(super) fn single<'s>(&mut self, s: &'s Stmt) -> Option<&'s Word> {
        self.no_block(s);
        if self.arity(s, 1, 1) {
            s.args.first()
        } else {
            None
        }
    }

    /// A keyword that takes no value, read as keepalived's handler reads
    /// it: words after it (`nopreempt 1`) are ignored, with a warning
    /// naming them, where [`arity`](Self::arity) would refuse them.
    pub(super) fn bare(&mut self, s: &Stmt) {
        self.no_block(s);
        if let Some(w) = s.args.first() {
            self.warn(
                w.pos,
                format!(
                    "`{}` takes no value: `{}` is ignored, as keepalived ignores it",
                    s.key.text,
                    s.args
                        .iter()
                        .map(|a| a.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                Some(format!("write `{}` alone", s.key.text)),
            );
        }
    }

    /// A flag with an optional `<BOOL>` argument (absent means on).
    pub(super) fn flag(&mut self, s: &Stmt) -> bool {
        self.no_block(s);
        self.arity(s, 0, 1);
        match s.args.first() {
            None => true,
            Some(w) => parse_bool(&w.text).unwrap_or_else(|| {
                self.error(
                    w.pos,
                    format!("`{}` is not a boolean", w.text),
                    Some("use on|off|true|false|yes|no".into()),
                );
                true
            }),
        }
    }

    /// An integer in `range`, the argument of keyword `key` (named in the
    /// error).
    pub(super) fn int(
        &mut self,
        key: &str,
        w: &Word,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        match w.text.parse::<i64>() {
            Ok(n) if range.contains(&n) => Some(n),
            Ok(_) => {
                self.error(
                    w.pos,
                    format!(
                        "`{key}` {} is outside {}..={}",
                        w.text,
                        range.start(),
                        range.end()
                    ),
                    None,
                );
                None
            }
            Err(_) => {
                self.error(
                    w.pos,
                    format!("`{key}`: `{}` is not an integer", w.text),
                    None,
                );
                None
            }
        }
    }

    /// keepalived decimal seconds (`1`, `0.5`) in `min..=max`, the argument
    /// of keyword `key` (named in the error).
    pub(super) fn seconds(
        &mut self,
        key: &str,
        w: &Word,
        min: Duration,
        max: Duration,
    ) -> Option<Duration> {
        match duration::parse_decimal_seconds(&w.text) {
            Ok(d) if d >= min && d <= max => Some(d),
            Ok(_) => {
                self.error(
                    w.pos,
                    format!(
                        "`{key}` {} s is outside {}..={} s",
                        w.text,
                        min.as_secs_f64(),
                        max.as_secs_f64()
                    ),
                    None,
                );
                None
            }
            Err(_) => {
                self.error(
                    w.pos,
                    format!("`{key}`: `{}` is not a number of seconds", w.text),
                    Some("keepalived times are decimal seconds, e.g. 1 or 0.5".into()),
                );
                None
            }
        }
    }

    /// A command string, split into argv like keepalived.
    pub(super) fn command(&mut self, w: &Word) -> Option<Exec> {
        match split_words(&w.text) {
            Ok(argv) => Some(Exec::Argv(argv)),
            Err(e) => {
                self.error(w.pos, format!("command `{}`: {e}", w.text), None);
                None
            }
        }
    }

    /// `<command> [username [groupname]]`, as notify scripts take.
    pub(super) fn command_as(&mut self, s: &Stmt) -> Option<(Exec, Option<RunAs>)> {
        self.no_block(s);
        if !self.arity(s, 1, 3) {
            return None;
        }
        let exec = self.command(&s.args[0])?;
        let run_as = s.args.get(1).map(|u| RunAs {
            user: u.text.clone(),
            group: s.args.get(2).map(|g| g.text.clone()),
        });
        Some((exec, run_as))
    }
}

/// keepalived's `<BOOL>`: on|off|true|false|yes|no.
pub(super) fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Some(true),
        "off" | "false" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("on"), Some(true));
        assert_eq!(parse_bool("No"), Some(false));
        assert_eq!(parse_bool("1"), None);
    }
}
