//! keepalived.conf parser: tokens to a tree of statements.
//!
//! A statement is a keyword, the words after it on its line, and an
//! optional `{ ... }` block, which may open on the same line or the next
//! one (keepalived accepts both). Nothing here knows what keywords mean;
//! [`super::mapping`] does.

use super::lexer::{TokKind, Token};
use crate::config::diagnostics::{Pos, Sink};

/// Deepest block nesting accepted; keepalived's own grammar needs 4.
const MAX_DEPTH: usize = 32;

/// A word and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Word {
    pub(super) text: String,
    pub(super) pos: Pos,
}

/// One statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Stmt {
    pub(super) key: Word,
    pub(super) args: Vec<Word>,
    pub(super) block: Option<Block>,
}

/// A `{ ... }` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Block {
    /// Where the `{` is.
    pub(super) open: Pos,
    pub(super) items: Vec<Stmt>,
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    sink: &'a mut Sink,
}

/// Parses the whole token stream into top-level statements.
pub(super) fn parse(tokens: &[Token], sink: &mut Sink) -> Vec<Stmt> {
    let mut p = Parser {
        tokens,
        at: 0,
        sink,
    };
    let mut top = Vec::new();
    loop {
        let (items, closed_at) = p.items(0);
        top.extend(items);
        match closed_at {
            // A stray `}` at the top level: report it and carry on.
            Some(pos) => p.sink.error(
                pos,
                "unexpected `}` with no open block",
                Some("remove it, or look for an extra `}` above".into()),
            ),
            None => return top,
        }
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&TokKind> {
        self.tokens.get(self.at).map(|t| &t.kind)
    }

    fn pos(&self) -> Pos {
        self.tokens
            .get(self.at)
            .or_else(|| self.tokens.last())
            .map_or_else(Pos::default, |t| t.pos)
    }

    /// Statements until a `}` (whose position is returned) or the end.
    fn items(&mut self, depth: usize) -> (Vec<Stmt>, Option<Pos>) {
        let mut items = Vec::new();
        loop {
            match self.peek() {
                None => return (items, None),
                Some(TokKind::Eol) => self.at += 1,
                Some(TokKind::Close) => {
                    let pos = self.pos();
                    self.at += 1;
                    return (items, Some(pos));
                }
                Some(TokKind::Open) => {
                    let pos = self.pos();
                    self.sink.error(pos, "a block must follow a keyword", None);
                    self.at += 1;
                    self.block_body(pos, depth + 1);
                }
                Some(TokKind::Word(_)) => {
                    if let Some(stmt) = self.statement(depth) {
                        items.push(stmt);
                    }
                }
            }
        }
    }

    /// The body of a block whose `{` (at `open`) was just consumed.
    fn block_body(&mut self, open: Pos, depth: usize) -> Block {
        if depth > MAX_DEPTH {
            self.sink.error(open, "blocks are nested too deeply", None);
            self.skip_block();
            return Block {
                open,
                items: Vec::new(),
            };
        }
        let (items, closed) = self.items(depth);
        if closed.is_none() {
            self.sink.error(
                open,
                "this `{` is never closed",
                Some("add the missing `}`".into()),
            );
        }
        Block { open, items }
    }

    /// Skips to the `}` matching an already consumed `{`.
    fn skip_block(&mut self) {
        let mut depth = 1usize;
        while let Some(k) = self.peek() {
            match k {
                TokKind::Open => depth += 1,
                TokKind::Close => {
                    depth -= 1;
                    if depth == 0 {
                        self.at += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.at += 1;
        }
    }

    fn statement(&mut self, depth: usize) -> Option<Stmt> {
        let key = self.word()?;
        let mut args = Vec::new();
        while let Some(TokKind::Word(_)) = self.peek() {
            args.extend(self.word());
        }
        // A block may open on this line or, after line breaks, on the next.
        let mut look = self.at;
        while let Some(Token {
            kind: TokKind::Eol, ..
        }) = self.tokens.get(look)
        {
            look += 1;
        }
        let block = match self.tokens.get(look) {
            Some(Token {
                kind: TokKind::Open,
                pos,
            }) => {
                let open = *pos;
                self.at = look + 1;
                Some(self.block_body(open, depth + 1))
            }
            _ => None,
        };
        Some(Stmt { key, args, block })
    }

    fn word(&mut self) -> Option<Word> {
        let t = self.tokens.get(self.at)?;
        if let TokKind::Word(w) = &t.kind {
            self.at += 1;
            Some(Word {
                text: w.clone(),
                pos: t.pos,
            })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::KeepalivedOptions;
    use super::super::lexer::Lexer;
    use super::*;
    use std::path::Path;

    fn parse_text(text: &str) -> (Vec<Stmt>, Vec<crate::config::Diagnostic>) {
        let o = KeepalivedOptions::default();
        let mut sink = Sink::new(false);
        let f = sink.add_file(Path::new("t.conf"));
        let tokens = {
            let mut lx = Lexer::new(&mut sink, &o);
            lx.lex_file(text, Path::new("t.conf"), f);
            lx.tokens
        };
        let stmts = parse(&tokens, &mut sink);
        (stmts, sink.finish())
    }

    #[test]
    fn nested_blocks_same_and_next_line() {
        let (s, d) = parse_text("a x {\n b { c }\n}\nd\n{\n e 1 2\n}\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].key.text, "a");
        assert_eq!(s[0].args[0].text, "x");
        let inner = &s[0].block.as_ref().unwrap().items;
        assert_eq!(inner[0].key.text, "b");
        assert_eq!(inner[0].block.as_ref().unwrap().items[0].key.text, "c");
        let e = &s[1].block.as_ref().unwrap().items[0];
        assert_eq!((e.key.text.as_str(), e.args.len()), ("e", 2));
        assert_eq!((e.key.pos.line, e.key.pos.column), (6, 2));
    }

    #[test]
    fn unclosed_and_stray_braces() {
        let (_, d) = parse_text("a {\n b\n");
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("never closed"));
        assert_eq!((d[0].line, d[0].column), (1, 3));
        let (s, d) = parse_text("}\na\n");
        assert_eq!(s.len(), 1);
        assert!(d[0].message.contains("unexpected"));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let text = "a {".repeat(100) + &"}".repeat(100);
        let (_, d) = parse_text(&text);
        assert!(d.iter().any(|d| d.message.contains("too deeply")));
    }
}
