//! Typed, position-aware access to a parsed TOML table.
//!
//! Every getter reports a type or range error with the value's position
//! and carries on, so one pass finds every problem in a file.

use std::net::IpAddr;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::config::address;
use crate::config::diagnostics::{LineIndex, Pos, Sink};
use crate::config::duration;

/// A spanned TOML value.
pub(super) type Val<'i> = Spanned<DeValue<'i>>;

/// The reading context: the sink and the text's line index.
pub(super) struct Ctx<'s, 't> {
    pub(super) sink: &'s mut Sink,
    pub(super) lines: LineIndex<'t>,
    pub(super) file: u32,
    /// The preference the next rule without one gets.
    pub(super) rule_priorities: crate::config::RulePriorities,
}

/// A value's TOML type name, for messages.
pub(super) fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The edit distance between two short strings, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest of `candidates` to `word`, if close enough to be a typo.
/// A keyword cut short (`virtual_router` for `virtual_router_id`) is
/// taken over a closer one that is not (`virtual_routes`).
pub(crate) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let cut_short = candidates
        .iter()
        .filter(|c| {
            word.len() >= 6 && c.starts_with(word) && c.as_bytes().get(word.len()) == Some(&b'_')
        })
        .min_by_key(|c| c.len());
    if let Some(c) = cut_short {
        return Some(c);
    }
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

impl Ctx<'_, '_> {
    /// The position of the start of `span`.
    pub(super) fn pos(&self, span: Range<usize>) -> Pos {
        self.lines.pos(self.file, span.start)
    }

    /// Records an error at `span`.
    pub(super) fn error(
        &mut self,
        span: Range<usize>,
        msg: impl Into<String>,
        hint: Option<String>,
    ) {
        let p = self.pos(span);
        self.sink.error(p, msg, hint);
    }

    /// Reports every key of `table` not in `allowed` as an error.
    pub(super) fn deny_unknown(&mut self, table: &DeTable<'_>, section: &str, allowed: &[&str]) {
        for key in table.keys() {
            if !allowed.contains(&key.get_ref().as_ref()) {
                let hint = match suggest(key.get_ref(), allowed) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("known keys in {section}: {}", allowed.join(", ")),
                };
                self.error(
                    key.span(),
                    format!("unknown key `{}` in {section}", key.get_ref()),
                    Some(hint),
                );
            }
        }
    }

    /// Reports a type mismatch.
    pub(super) fn expected(&mut self, key: &str, v: &Val<'_>, what: &str) {
        self.error(
            v.span(),
            format!("`{key}` must be {what}, not {}", type_name(v.get_ref())),
            None,
        );
    }

    /// A string value.
    pub(super) fn string<'v>(&mut self, key: &str, v: &'v Val<'_>) -> Option<&'v str> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            _ => {
                self.expected(key, v, "a string");
                None
            }
        }
    }

    /// A non-empty string value.
    pub(super) fn nonempty(&mut self, key: &str, v: &Val<'_>) -> Option<String> {
        let s = self.string(key, v)?;
        if s.is_empty() {
            self.error(v.span(), format!("`{key}` must not be empty"), None);
            return None;
        }
        Some(s.to_string())
    }

    /// A boolean value.
    pub(super) fn boolean(&mut self, key: &str, v: &Val<'_>) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.expected(key, v, "true or false");
                None
            }
        }
    }

    /// An integer in `range`.
    pub(super) fn integer(
        &mut self,
        key: &str,
        v: &Val<'_>,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        let DeValue::Integer(i) = v.get_ref() else {
            let hint = matches!(v.get_ref(), DeValue::String(_))
                .then(|| "write the number without quotes".to_string());
            self.error(
                v.span(),
                format!("`{key}` must be an integer, not {}", type_name(v.get_ref())),
                hint,
            );
            return None;
        };
        match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.error(
                    v.span(),
                    format!(
                        "`{key}` = {} is outside {}..={}",
                        i.as_str(),
                        range.start(),
                        range.end()
                    ),
                    None,
                );
                None
            }
        }
    }

    /// A duration string such as `"1s"` or `"100ms"`.
    pub(super) fn duration(&mut self, key: &str, v: &Val<'_>) -> Option<Duration> {
        match v.get_ref() {
            DeValue::String(s) => match duration::parse_native(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.error(
                        v.span(),
                        format!("`{key}`: {e}"),
                        Some(
                            "write a number and a unit: \"1s\", \"100ms\", \"1.5s\", \"2m\"".into(),
                        ),
                    );
                    None
                }
            },
            DeValue::Integer(i) => {
                self.error(
                    v.span(),
                    format!("`{key}` needs a unit"),
                    Some(format!("write \"{}s\" or \"{}ms\"", i.as_str(), i.as_str())),
                );
                None
            }
            _ => {
                self.expected(key, v, "a duration string such as \"1s\"");
                None
            }
        }
    }

    /// An IP address string.
    pub(super) fn ip(&mut self, key: &str, v: &Val<'_>) -> Option<IpAddr> {
        let s = self.string(key, v)?;
        match address::parse_ip(s) {
            Ok(a) => Some(a),
            Err(e) => {
                let hint = s
                    .contains('/')
                    .then(|| "write the address without a prefix length".to_string());
                self.error(v.span(), format!("`{key}`: {e}"), hint);
                None
            }
        }
    }

    /// An `address:port` string (`[v6]:port` for IPv6).
    pub(super) fn socket_addr(&mut self, key: &str, v: &Val<'_>) -> Option<std::net::SocketAddr> {
        let s = self.string(key, v)?;
        match s.parse::<std::net::SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.error(
                    v.span(),
                    format!("`{key}` = \"{s}\" is not an address:port"),
                    Some("write \"198.18.0.10:80\" or \"[fd00:198:18::10]:80\"".into()),
                );
                None
            }
        }
    }

    /// The elements of an array value.
    pub(super) fn array<'v, 'i>(&mut self, key: &str, v: &'v Val<'i>) -> &'v [Val<'i>] {
        match v.get_ref() {
            DeValue::Array(a) => a,
            _ => {
                self.expected(key, v, "an array");
                &[]
            }
        }
    }

    /// A table value.
    pub(super) fn table<'v, 'i>(&mut self, key: &str, v: &'v Val<'i>) -> Option<&'v DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.expected(key, v, "a table");
                None
            }
        }
    }
}

/// The value under `key`.
pub(super) fn get<'v, 'i>(table: &'v DeTable<'i>, key: &str) -> Option<&'v Val<'i>> {
    table.get(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("priorty", &["priority", "preempt"]),
            Some("priority")
        );
        assert_eq!(suggest("vird", &["vrid", "vips"]), Some("vrid"));
        assert_eq!(suggest("zzzzzz", &["vrid", "vips"]), None);
        assert_eq!(
            suggest("virtual_router", &["virtual_routes", "virtual_router_id"]),
            Some("virtual_router_id")
        );
    }
}
