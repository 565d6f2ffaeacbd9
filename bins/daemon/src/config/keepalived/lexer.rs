//! keepalived.conf lexer: lines to tokens, with keepalived's line-level
//! features applied first.
//!
//! Per line, in keepalived's order (keepalived.conf(5), "ADVANCED
//! CONFIGURATION"):
//!
//! 1. comments (`#` or `!` outside quotes, to the end of the line) go;
//! 2. `include FILE` (and its variants) splice other files in;
//! 3. `@id` / `@^id` conditional lines are kept or dropped by config-id;
//! 4. `$NAME=VALUE` defines a parameter (multi-line with trailing `\`);
//! 5. `$NAME` / `${NAME}` are substituted, recursively;
//! 6. the result is split into words, `{`, `}` and end-of-line tokens.
//!
//! Every token keeps the file, line and column it came from; a substituted
//! value points at the `$` that produced it.

mod tokenizer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::KeepalivedOptions;
use super::includes::{self, IncludeKind};
use crate::config::diagnostics::{Pos, Sink};
use tokenizer::{leading_word, split_plain, strip_comment};

/// Limits that keep hostile input (the fuzzer) bounded.
const MAX_SUBST_PASSES: usize = 32;
const MAX_LINE_CHARS: usize = 1 << 16;

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum TokKind {
    /// A word, quotes removed.
    Word(String),
    /// `{`.
    Open,
    /// `}`.
    Close,
    /// End of a line.
    Eol,
}

/// A token and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) kind: TokKind,
    pub(super) pos: Pos,
}

/// A character and the 1-based column it stands for.
type Chars = Vec<(char, u32)>;

/// Lexer state shared across included files.
pub(super) struct Lexer<'a> {
    pub(super) sink: &'a mut Sink,
    options: &'a KeepalivedOptions,
    vars: HashMap<String, String>,
    /// Canonical paths of the files being read, to stop include cycles.
    stack: Vec<PathBuf>,
    files_read: usize,
    pub(super) tokens: Vec<Token>,
}

impl<'a> Lexer<'a> {
    /// A lexer reporting to `sink`.
    pub(super) fn new(sink: &'a mut Sink, options: &'a KeepalivedOptions) -> Self {
        Lexer {
            sink,
            options,
            vars: HashMap::new(),
            stack: Vec::new(),
            files_read: 0,
            tokens: Vec::new(),
        }
    }

    /// Lexes `text`, read from `path` and registered as `file`.
    pub(super) fn lex_file(&mut self, text: &str, path: &Path, file: u32) {
        self.files_read += 1;
        let canonical = if self.options.follow_includes {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        } else {
            path.to_path_buf()
        };
        self.stack.push(canonical);
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let lines: Vec<&str> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        let mut i = 0;
        while i < lines.len() {
            let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let pos = |column: u32| Pos {
                file,
                line: line_no,
                column,
            };
            let chars: Chars = lines[i].chars().take(MAX_LINE_CHARS).zip(1u32..).collect();
            i += 1;
            let code = strip_comment(&chars);
            let Some(first) = code.iter().position(|(c, _)| !c.is_whitespace()) else {
                continue;
            };
            let code = &code[first..];
            let word = leading_word(code);
            if let Some(kind) = IncludeKind::from_keyword(&word) {
                let rest = &code[word.chars().count()..];
                self.include(kind, rest, &dir, pos(code[0].1));
                continue;
            }
            let Some(code) = self.conditional(code) else {
                continue;
            };
            if code.is_empty() {
                // `@id` (or `@^id`, or `@id ! comment`) with nothing after
                // it: an empty line. (Found by the keepalived_conf fuzz
                // target: the code below indexed its first character.)
                continue;
            }
            if code.first().is_some_and(|(c, _)| *c == '$') {
                if let Some((name, value)) = definition(&code) {
                    let value = if value.trim() == "\\" {
                        // A multi-line definition: continuation lines end
                        // with `\`; the first one that does not is the last.
                        let mut parts = Vec::new();
                        while i < lines.len() {
                            let cont: Chars =
                                lines[i].chars().take(MAX_LINE_CHARS).zip(1u32..).collect();
                            i += 1;
                            let text: String =
                                strip_comment(&cont).iter().map(|(c, _)| c).collect();
                            match text.trim_end().strip_suffix('\\') {
                                Some(body) => parts.push(body.to_string()),
                                None => {
                                    parts.push(text);
                                    break;
                                }
                            }
                        }
                        parts.join("\n")
                    } else {
                        value
                    };
                    self.vars.insert(name, value);
                    continue;
                }
            }
            if code.first().is_some_and(|(c, _)| *c == '~') {
                self.sink.warn(
                    pos(code[0].1),
                    format!("`{}` sequence and list blocks are not supported; line ignored", leading_word(&code)),
                    Some("expand the generated lines by hand, or run `keepalived -t` with config dumping".into()),
                );
                continue;
            }
            let Some(expanded) = self.substitute(&code, &dir, pos(code[0].1)) else {
                continue;
            };
            // A substituted value may itself start a conditional line.
            let expanded = match expanded.iter().position(|(c, _)| !c.is_whitespace()) {
                Some(f) => expanded[f..].to_vec(),
                None => continue,
            };
            let Some(expanded) = self.conditional(&expanded) else {
                continue;
            };
            self.tokenize(&expanded, file, line_no);
            self.tokens.push(Token {
                kind: TokKind::Eol,
                pos: pos(u32::try_from(chars.len() + 1).unwrap_or(u32::MAX)),
            });
        }
        self.stack.pop();
    }

    /// Applies an `@id` / `@^id` prefix: the rest of the line when it
    /// applies to this config-id, `None` when the line is dropped.
    fn conditional(&self, code: &[(char, u32)]) -> Option<Chars> {
        if code.first().map(|c| c.0) != Some('@') {
            return Some(code.to_vec());
        }
        let word = leading_word(code);
        let (negate, id) = match word[1..].strip_prefix('^') {
            Some(id) => (true, id),
            None => (false, &word[1..]),
        };
        let matches = self.options.config_id.as_deref() == Some(id);
        if matches == negate {
            return None;
        }
        let rest = &code[word.chars().count()..];
        let start = rest
            .iter()
            .position(|(c, _)| !c.is_whitespace())
            .unwrap_or(rest.len());
        Some(rest[start..].to_vec())
    }

    /// Handles one include line.
    fn include(&mut self, kind: IncludeKind, rest: &[(char, u32)], dir: &Path, pos: Pos) {
        let words = split_plain(rest);
        let Some(pattern) = words.first() else {
            self.sink.error(pos, "`include` needs a file name", None);
            return;
        };
        if !self.options.follow_includes {
            self.sink.warn(
                pos,
                format!("include `{pattern}` not followed: includes are disabled"),
                None,
            );
            return;
        }
        let files = includes::resolve(kind, pattern, dir, pos, self.sink);
        for path in files {
            let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if self.stack.contains(&canonical) {
                self.sink.error(
                    pos,
                    format!("include cycle: `{}` includes itself", path.display()),
                    None,
                );
                continue;
            }
            if self.stack.len() >= includes::MAX_DEPTH || self.files_read >= includes::MAX_FILES {
                self.sink.error(
                    pos,
                    "too many nested or included files",
                    Some("keepalived configurations rarely need more than a few levels".into()),
                );
                return;
            }
            match crate::planted::read_config(&path) {
                Ok(bytes) => {
                    let id = self.sink.add_file(&path);
                    self.lex_file(&String::from_utf8_lossy(&bytes), &path, id);
                }
                Err(e) => {
                    // It exists: running without part of the configuration
                    // is worse than not starting.
                    self.sink.error(
                        pos,
                        format!("cannot read included file `{}`: {e}", path.display()),
                        None,
                    );
                }
            }
        }
    }

    /// The value of parameter `name`, including keepalived's predefined ones.
    fn lookup(&self, name: &str, dir: &Path) -> Option<String> {
        match name {
            "_PWD" => Some(dir.display().to_string()),
            "_INSTANCE" => Some(self.options.config_id.clone().unwrap_or_default()),
            "_HASH" => Some("#".into()),
            "_BANG" => Some("!".into()),
            _ => self.vars.get(name).cloned(),
        }
    }

    /// Substitutes `$NAME` (followed by whitespace or the end) and
    /// `${NAME}` until nothing changes. Undefined names stay as written.
    fn substitute(&mut self, code: &[(char, u32)], dir: &Path, pos: Pos) -> Option<Chars> {
        let mut cur = code.to_vec();
        for _ in 0..MAX_SUBST_PASSES {
            let mut out: Chars = Vec::with_capacity(cur.len());
            let mut changed = false;
            let mut i = 0;
            while i < cur.len() {
                let (c, col) = cur[i];
                if c != '$' {
                    out.push((c, col));
                    i += 1;
                    continue;
                }
                let (name, end, braced) = if cur.get(i + 1).map(|x| x.0) == Some('{') {
                    match cur[i + 2..].iter().position(|x| x.0 == '}') {
                        Some(len) => (
                            cur[i + 2..i + 2 + len]
                                .iter()
                                .map(|x| x.0)
                                .collect::<String>(),
                            i + 3 + len,
                            true,
                        ),
                        None => (String::new(), i + 1, true),
                    }
                } else {
                    let len = cur[i + 1..]
                        .iter()
                        .take_while(|x| x.0.is_ascii_alphanumeric() || x.0 == '_')
                        .count();
                    (
                        cur[i + 1..i + 1 + len]
                            .iter()
                            .map(|x| x.0)
                            .collect::<String>(),
                        i + 1 + len,
                        false,
                    )
                };
                let followed_ok = braced || cur.get(end).is_none_or(|x| x.0.is_whitespace());
                let value = (!name.is_empty() && followed_ok)
                    .then(|| self.lookup(name.split_whitespace().next().unwrap_or(""), dir))
                    .flatten();
                if name.starts_with("_RANDOM") && followed_ok {
                    self.sink.warn(
                        Pos { column: col, ..pos },
                        "`${_RANDOM}` is not supported; left as written",
                        Some("a configuration that differs on every load cannot be checked".into()),
                    );
                }
                match value {
                    Some(v) => {
                        out.extend(v.chars().map(|vc| (vc, col)));
                        changed = true;
                        i = end;
                    }
                    None => {
                        out.push((c, col));
                        i += 1;
                    }
                }
                if out.len() > MAX_LINE_CHARS {
                    self.sink
                        .error(pos, "parameter substitution makes this line too long", None);
                    return None;
                }
            }
            if !changed {
                return Some(out);
            }
            cur = out;
        }
        self.sink.error(
            pos,
            "parameter substitution does not terminate",
            Some("a parameter's value refers to itself".into()),
        );
        None
    }
}

/// `$NAME=VALUE`: name and value, when `code` is a definition.
fn definition(code: &[(char, u32)]) -> Option<(String, String)> {
    let text: String = code.iter().map(|(c, _)| c).collect();
    let body = text.strip_prefix('$')?;
    let (name, value) = body.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    if !(first.is_ascii_alphabetic() || first == '_')
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    Some((name.to_string(), value.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(
        text: &str,
        options: &KeepalivedOptions,
    ) -> (Vec<TokKind>, Vec<crate::config::Diagnostic>) {
        let mut sink = Sink::new(false);
        let f = sink.add_file(Path::new("t.conf"));
        let tokens = {
            let mut lx = Lexer::new(&mut sink, options);
            lx.lex_file(text, Path::new("t.conf"), f);
            lx.tokens.into_iter().map(|t| t.kind).collect()
        };
        (tokens, sink.finish())
    }

    fn words(text: &str) -> Vec<String> {
        lex(text, &KeepalivedOptions::default())
            .0
            .into_iter()
            .map(|k| match k {
                TokKind::Word(w) => w,
                TokKind::Open => "{".into(),
                TokKind::Close => "}".into(),
                TokKind::Eol => ";".into(),
            })
            .collect()
    }

    #[test]
    fn braces_comments_and_quotes() {
        assert_eq!(words("a {b} # c\n! d\n"), ["a", "{", "b", "}", ";"]);
        assert_eq!(words("x \"a # b\" c!d"), ["x", "a # b", "c", ";"]);
        assert_eq!(
            words(r#"abcd" efg h jkl "mnop"#),
            ["abcd efg h jkl mnop", ";"]
        );
        assert_eq!(
            words(r#"s "a \"q\" \t\x41\101""#),
            ["s", "a \"q\" \tAA", ";"]
        );
    }

    #[test]
    fn parameters() {
        assert_eq!(
            words("$A=1.2\nx $A ${A}.3 $AB $A"),
            ["x", "1.2", "1.2.3", "$AB", "1.2", ";"]
        );
        // Replacement happens at use time and is recursive.
        assert_eq!(
            words("$B=10.${S}\n$S=0\n${B}.1\n$S=9\n${B}.1"),
            ["10.0.1", ";", "10.9.1", ";"]
        );
        assert_eq!(words("x ${_HASH} ${_BANG}"), ["x", "#", "!", ";"]);
        assert_eq!(
            words("$M= \\\na { \\\nb }\nm $M"),
            ["m", "a", "{", ";", "b", "}", ";"]
        );
    }

    #[test]
    fn self_reference_is_an_error() {
        let (_, d) = lex("$A=$A x\ny $A", &KeepalivedOptions::default());
        assert!(d.iter().any(|d| d.message.contains("does not terminate")));
    }

    #[test]
    fn conditionals() {
        let o = KeepalivedOptions {
            config_id: Some("main".into()),
            ..Default::default()
        };
        let (t, _) = lex(
            "@main a\n@backup b\n@^main c\n@^backup d\n$X=@main\n$X e",
            &o,
        );
        let w: Vec<_> = t
            .into_iter()
            .filter_map(|k| match k {
                TokKind::Word(w) => Some(w),
                _ => None,
            })
            .collect();
        assert_eq!(w, ["a", "d", "e"]);
    }

    #[test]
    fn unterminated_quote_reported() {
        let (_, d) = lex("x \"abc", &KeepalivedOptions::default());
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].line, d[0].column), (1, 3));
    }

    #[test]
    fn positions_point_at_use_site() {
        let o = KeepalivedOptions::default();
        let mut sink = Sink::new(false);
        let f = sink.add_file(Path::new("t.conf"));
        let mut lx = Lexer::new(&mut sink, &o);
        lx.lex_file("$V=a b\n  k $V", Path::new("t.conf"), f);
        let cols: Vec<_> = lx
            .tokens
            .iter()
            .map(|t| (t.pos.line, t.pos.column))
            .collect();
        assert_eq!(cols, [(2, 3), (2, 5), (2, 5), (2, 7)]);
    }
}
