//! Diagnostics: errors and warnings with `file:line:column` and a hint.
//!
//! Both front-ends (native TOML and keepalived.conf) report through a
//! [`Sink`], which collects every problem instead of stopping at the first
//! one, then sorts them by position.

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The configuration is usable; the user should still look.
    Warning,
    /// The configuration is rejected (`vrrpd check` exits with status 2).
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One problem found in a configuration file.
///
/// `line` and `column` are 1-based. Both are 0 when the problem concerns the
/// whole file (for example when it cannot be read); [`Display`](fmt::Display)
/// then prints only the file name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file the problem is in (an included file for keepalived.conf).
    pub file: PathBuf,
    /// 1-based line, 0 when not applicable.
    pub line: usize,
    /// 1-based column in characters, 0 when not applicable.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when we know.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// Whether this diagnostic is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(
                f,
                "{}: {}: {}",
                self.file.display(),
                self.severity,
                self.message
            )?;
        } else {
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.severity,
                self.message
            )?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Whether any of `diagnostics` is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}

/// Renders diagnostics one after the other, each ending with a newline, the
/// way `vrrpd check` prints them.
pub fn render(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    out
}

/// A position in one of the files a [`Sink`] knows about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Pos {
    /// Index into the sink's file table.
    pub(crate) file: u32,
    /// 1-based line; 0 for "the whole file".
    pub(crate) line: u32,
    /// 1-based column in characters.
    pub(crate) column: u32,
}

impl Pos {
    /// A position covering a whole file.
    pub(crate) fn file_start(file: u32) -> Self {
        Pos {
            file,
            line: 0,
            column: 0,
        }
    }
}

/// Collects diagnostics for a set of files.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    files: Vec<PathBuf>,
    /// Per file: whether others than its owner and group may not read it,
    /// so diagnostics must not quote its text.
    private: Vec<bool>,
    items: Vec<(Pos, Severity, String, Option<String>)>,
    /// keepalived `--strict`: every warning becomes an error.
    strict: bool,
}

impl Sink {
    /// A sink whose warnings stay warnings, or become errors when `strict`.
    pub(crate) fn new(strict: bool) -> Self {
        Sink {
            files: Vec::new(),
            private: Vec::new(),
            items: Vec::new(),
            strict,
        }
    }

    /// Registers a file and returns its index for [`Pos::file`].
    pub(crate) fn add_file(&mut self, path: &Path) -> u32 {
        // Index overflow would need 4 billion includes; the include depth
        // and count limits stop far earlier.
        let id = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
        self.files.push(path.to_path_buf());
        // A text given without a file (the `check_*_str` functions) is
        // the caller's: quoting it reveals nothing.
        let private = std::fs::metadata(path).is_ok_and(|m| {
            use std::os::unix::fs::PermissionsExt;
            m.permissions().mode() & 0o004 == 0
        });
        self.private.push(private);
        id
    }

    /// `word`, read at `pos`, quoted for a message; or, when that file is
    /// not readable by everyone, a note that it is not shown. An included
    /// root-only file that is no configuration at all (`include
    /// /etc/shadow`) must not have its first word echoed to a log.
    pub(crate) fn quote(&self, pos: Pos, word: &str) -> String {
        let private = usize::try_from(pos.file)
            .ok()
            .and_then(|i| self.private.get(i))
            .copied()
            .unwrap_or(false);
        if private {
            "(not shown: the file is not readable by everyone)".to_string()
        } else {
            format!("`{word}`")
        }
    }

    /// Records an error.
    pub(crate) fn error(&mut self, pos: Pos, message: impl Into<String>, hint: Option<String>) {
        self.items
            .push((pos, Severity::Error, message.into(), hint));
    }

    /// Records a warning (an error in strict mode).
    pub(crate) fn warn(&mut self, pos: Pos, message: impl Into<String>, hint: Option<String>) {
        let severity = if self.strict {
            Severity::Error
        } else {
            Severity::Warning
        };
        self.items.push((pos, severity, message.into(), hint));
    }

    /// Whether an error has been recorded.
    pub(crate) fn has_errors(&self) -> bool {
        self.items.iter().any(|i| i.1 == Severity::Error)
    }

    /// Turns the collected items into public diagnostics, sorted by file
    /// (in the order files were read), line and column, duplicates removed.
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        self.items
            .sort_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)));
        self.items.dedup();
        let files = self.files;
        self.items
            .into_iter()
            .map(|(pos, severity, message, hint)| Diagnostic {
                severity,
                file: files
                    .get(pos.file as usize)
                    .cloned()
                    .unwrap_or_else(|| PathBuf::from("<unknown>")),
                line: pos.line as usize,
                column: pos.column as usize,
                message,
                hint,
            })
            .collect()
    }
}

/// Maps byte offsets of one text to 1-based line and column (in characters).
#[derive(Debug)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `text`.
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The position of byte `offset` (clamped to the text) in file `file`.
    pub(crate) fn pos(&self, file: u32, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        Pos {
            file,
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_position_severity_and_hint() {
        let d = Diagnostic {
            severity: Severity::Error,
            file: PathBuf::from("a.toml"),
            line: 3,
            column: 7,
            message: "bad".into(),
            hint: Some("fix it".into()),
        };
        assert_eq!(d.to_string(), "a.toml:3:7: error: bad\n  hint: fix it");
    }

    #[test]
    fn display_without_position() {
        let d = Diagnostic {
            severity: Severity::Warning,
            file: PathBuf::from("a.conf"),
            line: 0,
            column: 0,
            message: "empty".into(),
            hint: None,
        };
        assert_eq!(d.to_string(), "a.conf: warning: empty");
    }

    #[test]
    fn line_index_counts_characters() {
        let text = "ab\ncé d\n";
        let idx = LineIndex::new(text);
        assert_eq!(
            idx.pos(0, 0),
            Pos {
                file: 0,
                line: 1,
                column: 1
            }
        );
        assert_eq!(
            idx.pos(0, 3),
            Pos {
                file: 0,
                line: 2,
                column: 1
            }
        );
        // 'd' is after a two-byte 'é'.
        assert_eq!(
            idx.pos(0, 7),
            Pos {
                file: 0,
                line: 2,
                column: 4
            }
        );
        assert_eq!(idx.pos(0, 100).line, 3);
    }

    #[test]
    fn strict_sink_turns_warnings_into_errors() {
        let mut sink = Sink::new(true);
        let f = sink.add_file(Path::new("x"));
        sink.warn(
            Pos {
                file: f,
                line: 1,
                column: 1,
            },
            "w",
            None,
        );
        assert!(sink.has_errors());
        let mut lax = Sink::new(false);
        let f = lax.add_file(Path::new("x"));
        lax.warn(
            Pos {
                file: f,
                line: 1,
                column: 1,
            },
            "w",
            None,
        );
        assert!(!lax.has_errors());
    }

    #[test]
    fn finish_sorts_by_position() {
        let mut sink = Sink::new(false);
        let f = sink.add_file(Path::new("x"));
        sink.error(
            Pos {
                file: f,
                line: 9,
                column: 1,
            },
            "late",
            None,
        );
        sink.error(
            Pos {
                file: f,
                line: 2,
                column: 5,
            },
            "early",
            None,
        );
        let out = sink.finish();
        assert_eq!(out[0].message, "early");
        assert_eq!(out[1].message, "late");
    }
}
