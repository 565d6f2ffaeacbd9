//! Commands the daemon runs (notify hooks, track scripts) and the user they
//! run as.
//!
//! A command is an argv, run directly with no shell; a shell is used only
//! when the configuration asks for one ([`Exec::Shell`]). A command written
//! as one string is split into words the way keepalived splits its
//! `script` and `notify_*` strings: whitespace separates words, single and
//! double quotes group them, a backslash escapes the next character.

use std::fmt;

/// A command to run.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Exec {
    /// Run `argv[0]` with `argv[1..]` as arguments, no shell. Never empty.
    Argv(Vec<String>),
    /// Run `/bin/sh -c <script>`; only when asked with `shell = true`.
    Shell(String),
}

impl Exec {
    /// The argv to pass to `execve`: the words, or `["/bin/sh", "-c", script]`.
    pub fn to_argv(&self) -> Vec<String> {
        match self {
            Exec::Argv(argv) => argv.clone(),
            Exec::Shell(script) => vec!["/bin/sh".into(), "-c".into(), script.clone()],
        }
    }
}

impl fmt::Display for Exec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exec::Argv(argv) => {
                for (i, word) in argv.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    if word.is_empty()
                        || word.contains(|c: char| c.is_whitespace() || "'\"\\".contains(c))
                    {
                        write!(f, "'{}'", word.replace('\'', "'\\''"))?;
                    } else {
                        f.write_str(word)?;
                    }
                }
                Ok(())
            }
            Exec::Shell(script) => write!(f, "sh -c {script:?}"),
        }
    }
}

/// The user (and optionally group) a command runs as.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RunAs {
    /// User name or numeric uid.
    pub user: String,
    /// Group name or numeric gid; the user's primary group when `None`.
    pub group: Option<String>,
}

/// One notify hook.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Hook {
    /// What to run.
    pub exec: Exec,
    /// Who to run it as; the global `script_user` when `None`.
    pub run_as: Option<RunAs>,
}

/// Why a command string could not be split into words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SplitError {
    /// A quote was opened and never closed.
    #[error("unterminated {0} quote")]
    Unterminated(char),
    /// Nothing but whitespace.
    #[error("empty command")]
    Empty,
    /// The first word, the program, is an empty string.
    #[error("empty program name")]
    NoProgram,
}

/// Splits `text` into words: whitespace separates, `'...'` and `"..."`
/// group (quotes removed, adjacent pieces joined), a backslash outside
/// single quotes takes the next character literally.
pub(crate) fn split_words(text: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                let quote = c;
                loop {
                    match chars.next() {
                        None => return Err(SplitError::Unterminated(quote)),
                        Some(q) if q == quote => break,
                        Some('\\') if quote == '"' => match chars.next() {
                            None => return Err(SplitError::Unterminated(quote)),
                            Some(e) => current.push(e),
                        },
                        Some(other) => current.push(other),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(e) = chars.next() {
                    current.push(e);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    match words.first() {
        None => Err(SplitError::Empty),
        Some(program) if program.is_empty() => Err(SplitError::NoProgram),
        Some(_) => Ok(words),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn splits_like_keepalived() {
        assert_eq!(
            split_words("/usr/bin/curl -sf http://198.18.0.1/").unwrap(),
            s(&["/usr/bin/curl", "-sf", "http://198.18.0.1/"])
        );
        assert_eq!(
            split_words(r#"/bin/echo 'a b' "c d" it''s e\ f"#).unwrap(),
            s(&["/bin/echo", "a b", "c d", "its", "e f"])
        );
        assert_eq!(split_words(r#"x "a\"b""#).unwrap(), s(&["x", "a\"b"]));
        assert_eq!(split_words("x ''").unwrap(), s(&["x", ""]));
        assert_eq!(split_words("  a\t b  ").unwrap(), s(&["a", "b"]));
    }

    #[test]
    fn split_errors() {
        assert_eq!(split_words("a 'b"), Err(SplitError::Unterminated('\'')));
        assert_eq!(split_words("a \"b"), Err(SplitError::Unterminated('"')));
        assert_eq!(split_words("   "), Err(SplitError::Empty));
        assert_eq!(split_words("'' x"), Err(SplitError::NoProgram));
    }

    #[test]
    fn display_quotes_when_needed_and_resplits() {
        let argv = s(&["/bin/echo", "a b", "it's", ""]);
        let shown = Exec::Argv(argv.clone()).to_string();
        assert_eq!(split_words(&shown).unwrap(), argv);
    }

    #[test]
    fn shell_argv() {
        assert_eq!(
            Exec::Shell("a | b".into()).to_argv(),
            s(&["/bin/sh", "-c", "a | b"])
        );
    }
}
