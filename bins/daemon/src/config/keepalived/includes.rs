//! `include` resolution: paths relative to the including file's directory,
//! shell wildcards and csh-style `{a,b}` braces, as keepalived does.

use std::path::{Path, PathBuf};

use crate::config::diagnostics::{Pos, Sink};

/// Deepest include nesting we follow.
pub(super) const MAX_DEPTH: usize = 16;
/// Most files one configuration may read.
pub(super) const MAX_FILES: usize = 1024;
/// Most alternatives a brace expression may expand to.
const MAX_BRACE_EXPANSION: usize = 256;

/// The include keyword variants (keepalived.conf(5), DESCRIPTION).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IncludeKind {
    /// `include`: missing files are only warned about; files that exist
    /// but cannot be read are errors.
    Plain,
    /// `includer`, `includem`, `includew`, `includeb`, `includea`: stricter
    /// checks, so missing files are errors.
    Checked,
}

impl IncludeKind {
    /// The variant a keyword names, if it is one.
    pub(super) fn from_keyword(word: &str) -> Option<Self> {
        match word {
            "include" => Some(IncludeKind::Plain),
            "includer" | "includem" | "includew" | "includeb" | "includea" => {
                Some(IncludeKind::Checked)
            }
            _ => None,
        }
    }
}

/// Expands `{a,b}` alternatives (nested allowed), left to right.
pub(super) fn expand_braces(pattern: &str) -> Vec<String> {
    let bytes: Vec<char> = pattern.chars().collect();
    // Find the first top-level `{` with a matching `}` and a `,` inside.
    let mut depth = 0usize;
    let mut open = None;
    for (i, c) in bytes.iter().enumerate() {
        match c {
            '{' => {
                if depth == 0 {
                    open = Some(i);
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let start = open.unwrap_or(0);
                    let inner: String = bytes[start + 1..i].iter().collect();
                    let alternatives = split_top_level(&inner);
                    if alternatives.len() < 2 {
                        continue;
                    }
                    let prefix: String = bytes[..start].iter().collect();
                    let suffix: String = bytes[i + 1..].iter().collect();
                    // Expand the suffix once, so the work stays linear in
                    // the number of brace groups.
                    let tails = expand_braces(&suffix);
                    let mut out = Vec::new();
                    for alt in alternatives {
                        for head in expand_braces(&alt) {
                            for tail in &tails {
                                if out.len() >= MAX_BRACE_EXPANSION {
                                    return out;
                                }
                                out.push(format!("{prefix}{head}{tail}"));
                            }
                        }
                    }
                    return out;
                }
            }
            _ => {}
        }
    }
    vec![pattern.to_string()]
}

/// Splits on commas not nested in braces.
fn split_top_level(inner: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0usize;
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

/// The files an include names, sorted. A pattern that matches nothing is
/// a warning for plain `include` (keepalived skips it) and an error for
/// the checked variants; a name that is not a regular file (a FIFO, a
/// directory named without a wildcard) is an error.
pub(super) fn resolve(
    kind: IncludeKind,
    pattern: &str,
    dir: &Path,
    pos: Pos,
    sink: &mut Sink,
) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for alt in expand_braces(pattern) {
        let full = if Path::new(&alt).is_absolute() {
            PathBuf::from(&alt)
        } else {
            dir.join(&alt)
        };
        let text = full.to_string_lossy().into_owned();
        let has_wildcard = alt.contains(['*', '?', '[']);
        let found: Vec<PathBuf> = match glob::glob(&text) {
            Ok(paths) => paths.filter_map(Result::ok).collect(),
            Err(e) => {
                sink.error(pos, format!("invalid include pattern `{alt}`: {e}"), None);
                continue;
            }
        };
        let (matched, others): (Vec<PathBuf>, Vec<PathBuf>) =
            found.into_iter().partition(|p| p.is_file());
        for other in &others {
            // A directory among a wildcard's matches is what `conf.d/*`
            // often finds; anything else named or matched cannot be read.
            if has_wildcard && other.is_dir() {
                continue;
            }
            sink.error(
                pos,
                format!(
                    "included `{}` is {}, not a regular file",
                    other.display(),
                    file_kind(other)
                ),
                None,
            );
        }
        if matched.is_empty() && others.is_empty() {
            let msg = if has_wildcard {
                format!("include `{alt}` matches no file")
            } else {
                format!("included file `{alt}` does not exist")
            };
            let hint = Some(
                "relative include paths are relative to the including file's directory".to_string(),
            );
            match kind {
                IncludeKind::Plain => sink.warn(pos, msg, hint),
                IncludeKind::Checked => sink.error(pos, msg, hint),
            }
        }
        files.extend(matched);
    }
    files
}

/// What `path` is, for a message: "a directory", "a FIFO"...
fn file_kind(path: &Path) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(path).map(|m| m.file_type()) {
        Ok(t) if t.is_dir() => "a directory",
        Ok(t) if t.is_fifo() => "a FIFO",
        Ok(t) if t.is_socket() => "a socket",
        Ok(t) if t.is_char_device() => "a character device",
        Ok(t) if t.is_block_device() => "a block device",
        _ => "unreadable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces() {
        assert_eq!(expand_braces("a/{b,c}.conf"), ["a/b.conf", "a/c.conf"]);
        assert_eq!(
            expand_braces("{foo/{,cat,dog},bar}"),
            ["foo/", "foo/cat", "foo/dog", "bar"]
        );
        assert_eq!(expand_braces("x{y}z"), ["x{y}z"]);
        assert_eq!(expand_braces("x{y"), ["x{y"]);
        assert!(expand_braces(&"{a,b}".repeat(20)).len() <= MAX_BRACE_EXPANSION);
    }
}
