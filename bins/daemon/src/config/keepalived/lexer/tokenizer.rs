//! The character-level half of the lexer: comments, words, quoted
//! strings and their escapes, and the split of an expanded line into
//! tokens.

use super::{Chars, Lexer, TokKind, Token};
use crate::config::diagnostics::Pos;

impl Lexer<'_> {
    /// Splits an expanded line into tokens.
    pub(super) fn tokenize(&mut self, line: &[(char, u32)], file: u32, line_no: u32) {
        let pos = |column: u32| Pos {
            file,
            line: line_no,
            column,
        };
        let mut i = 0;
        let mut word: Option<(String, u32)> = None;
        let flush = |word: &mut Option<(String, u32)>, tokens: &mut Vec<Token>| {
            if let Some((w, col)) = word.take() {
                tokens.push(Token {
                    kind: TokKind::Word(w),
                    pos: pos(col),
                });
            }
        };
        while i < line.len() {
            let (c, col) = line[i];
            match c {
                '\n' => {
                    flush(&mut word, &mut self.tokens);
                    self.tokens.push(Token {
                        kind: TokKind::Eol,
                        pos: pos(col),
                    });
                    i += 1;
                }
                c if c.is_whitespace() => {
                    flush(&mut word, &mut self.tokens);
                    i += 1;
                }
                '{' | '}' => {
                    flush(&mut word, &mut self.tokens);
                    let kind = if c == '{' {
                        TokKind::Open
                    } else {
                        TokKind::Close
                    };
                    self.tokens.push(Token {
                        kind,
                        pos: pos(col),
                    });
                    i += 1;
                }
                '"' | '\'' => {
                    let (text, next, closed) = quoted(line, i);
                    if !closed {
                        self.sink.error(
                            pos(col),
                            format!("unterminated {c} quote"),
                            Some("close the quoted string on the same line".into()),
                        );
                    }
                    word.get_or_insert_with(|| (String::new(), col))
                        .0
                        .push_str(&text);
                    i = next;
                }
                c => {
                    word.get_or_insert_with(|| (String::new(), col)).0.push(c);
                    i += 1;
                }
            }
        }
        flush(&mut word, &mut self.tokens);
    }
}

/// The line up to its first `#` or `!` outside quotes.
pub(super) fn strip_comment(chars: &[(char, u32)]) -> Chars {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, (c, _)) in chars.iter().enumerate() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if *c == '\\' {
                    escaped = true;
                } else if *c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(*c),
                '#' | '!' => return chars[..i].to_vec(),
                _ => {}
            },
        }
    }
    chars.to_vec()
}

/// The characters up to the first whitespace.
pub(super) fn leading_word(code: &[(char, u32)]) -> String {
    code.iter()
        .take_while(|(c, _)| !c.is_whitespace())
        .map(|(c, _)| c)
        .collect()
}

/// Words of a line with quotes removed (for include arguments).
pub(super) fn split_plain(code: &[(char, u32)]) -> Vec<String> {
    let mut words = Vec::new();
    let mut i = 0;
    let mut word: Option<String> = None;
    while i < code.len() {
        let c = code[i].0;
        if c.is_whitespace() {
            if let Some(w) = word.take() {
                words.push(w);
            }
            i += 1;
        } else if c == '"' || c == '\'' {
            let (text, next, _) = quoted(code, i);
            word.get_or_insert_with(String::new).push_str(&text);
            i = next;
        } else {
            word.get_or_insert_with(String::new).push(c);
            i += 1;
        }
    }
    words.extend(word);
    words
}

/// Reads a quoted string starting at `start` (the quote): its text with
/// escapes applied, the index after the closing quote, and whether it was
/// closed.
fn quoted(line: &[(char, u32)], start: usize) -> (String, usize, bool) {
    let quote = line[start].0;
    let mut out = String::new();
    let mut i = start + 1;
    while i < line.len() {
        let c = line[i].0;
        if c == quote {
            return (out, i + 1, true);
        }
        if c == '\\' && i + 1 < line.len() {
            let (decoded, used) = escape(&line[i + 1..]);
            out.push_str(&decoded);
            i += 1 + used;
            continue;
        }
        out.push(c);
        i += 1;
    }
    (out, i, false)
}

/// Decodes the escape after a backslash; returns the text and how many
/// characters it used (keepalived.conf(5), "Quoted strings").
fn escape(rest: &[(char, u32)]) -> (String, usize) {
    let c = rest[0].0;
    let simple = |ch: char| (ch.to_string(), 1);
    match c {
        'a' => simple('\x07'),
        'b' => simple('\x08'),
        'E' => simple('\x1b'),
        'f' => simple('\x0c'),
        'n' => simple('\n'),
        'r' => simple('\r'),
        't' => simple('\t'),
        'v' => simple('\x0b'),
        '0'..='7' => {
            let digits: String = rest
                .iter()
                .take(3)
                .map(|x| x.0)
                .take_while(|d| d.is_digit(8))
                .collect();
            let v = u32::from_str_radix(&digits, 8).unwrap_or(0) & 0xff;
            (
                char::from_u32(v).map(String::from).unwrap_or_default(),
                digits.len(),
            )
        }
        'x' => {
            let digits: String = rest[1..]
                .iter()
                .map(|x| x.0)
                .take_while(char::is_ascii_hexdigit)
                .take(2)
                .collect();
            if digits.is_empty() {
                return simple('x');
            }
            let v = u32::from_str_radix(&digits, 16).unwrap_or(0);
            (
                char::from_u32(v).map(String::from).unwrap_or_default(),
                1 + digits.len(),
            )
        }
        'c' if rest.len() > 1 => {
            let ctl = (rest[1].0 as u32) & 0x1f;
            (char::from_u32(ctl).map(String::from).unwrap_or_default(), 2)
        }
        other => simple(other),
    }
}
