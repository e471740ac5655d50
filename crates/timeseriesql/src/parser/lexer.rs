//! A small InfluxDB-compatible token scanner.
//!
//! Why it exists: the pest grammar does the parsing, but InfluxDB's error messages name the
//! *token* found at the failure point (`found SELEC`, `found EOF`, `found serverA`) using
//! the rules of its own scanner (keywords upper-cased, strings without quotes, bad strings
//! truncated). This module reproduces that scanner; it is also used to substitute bound
//! parameters (`$name`) token by token.

/// Token class, as InfluxDB's scanner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// End of input.
    Eof,
    /// Whitespace run.
    Ws,
    /// Identifier (unquoted or double-quoted).
    Ident,
    /// Reserved word (its text is the upper-case keyword).
    Keyword,
    /// `$name`.
    BoundParam,
    /// Float literal.
    Number,
    /// Integer literal.
    Integer,
    /// Duration literal (`1h`, also invalid ones like `1x`).
    Duration,
    /// Single-quoted string.
    String,
    /// Unterminated string / quoted identifier.
    BadString,
    /// Invalid escape in a string.
    BadEscape,
    /// Operator or punctuation.
    Punct,
    /// Anything else.
    Illegal,
}

/// One scanned token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// Class.
    pub(crate) tok: Tok,
    /// Byte offset of the first character.
    pub(crate) start: usize,
    /// Byte offset after the last character.
    pub(crate) end: usize,
    /// Text InfluxDB prints for it in `found X`.
    pub(crate) text: String,
    /// Double-quoted identifier / single-quoted string (position quirk).
    pub(crate) quoted: bool,
    /// For [`Tok::BadEscape`]: byte offset of the character after the backslash.
    pub(crate) escape_at: usize,
}

pub(crate) fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Scans the quoted text starting at `start` (which holds the quote).
fn scan_quoted(input: &str, start: usize) -> Token {
    let quote = input[start..].chars().next().unwrap_or('\'');
    let mut text = String::new();
    let mut it = input[start + quote.len_utf8()..].char_indices();
    let base = start + quote.len_utf8();
    loop {
        match it.next() {
            None => {
                return Token {
                    tok: Tok::BadString,
                    start,
                    end: input.len(),
                    text,
                    quoted: true,
                    escape_at: 0,
                }
            }
            Some((i, '\n')) => {
                return Token {
                    tok: Tok::BadString,
                    start,
                    end: base + i,
                    text,
                    quoted: true,
                    escape_at: 0,
                }
            }
            Some((i, c)) if c == quote => {
                let tok = if quote == '"' {
                    Tok::Ident
                } else {
                    Tok::String
                };
                return Token {
                    tok,
                    start,
                    end: base + i + 1,
                    text,
                    quoted: true,
                    escape_at: 0,
                };
            }
            Some((_, '\\')) => match it.next() {
                Some((_, 'n')) => text.push('\n'),
                Some((_, c @ ('\\' | '"' | '\''))) => text.push(c),
                other => {
                    let (j, c) = other.map_or((input.len() - base, '\0'), |(j, c)| (j, c));
                    // InfluxDB prints the rune after the backslash, NUL at end of input.
                    let mut t = String::from("\\");
                    t.push(c);
                    return Token {
                        tok: Tok::BadEscape,
                        start,
                        end: base + j + c.len_utf8(),
                        text: t,
                        quoted: true,
                        escape_at: base + j,
                    };
                }
            },
            Some((_, c)) => text.push(c),
        }
    }
}

/// Length in bytes of the run of chars at `from` matching `pred`.
fn run(input: &str, from: usize, pred: impl Fn(char) -> bool) -> usize {
    input[from..]
        .char_indices()
        .find(|&(_, c)| !pred(c))
        .map_or(input.len() - from, |(i, _)| i)
}

/// Scans one token at byte offset `pos` (comments are returned as whitespace).
pub(crate) fn scan(input: &str, pos: usize) -> Token {
    let mk = |tok, end: usize, text: String| Token {
        tok,
        start: pos,
        end,
        text,
        quoted: false,
        escape_at: 0,
    };
    let rest = &input[pos.min(input.len())..];
    let Some(c) = rest.chars().next() else {
        return mk(Tok::Eof, input.len(), "EOF".to_string());
    };
    if is_ws(c) {
        let n = run(input, pos, is_ws);
        return mk(Tok::Ws, pos + n, rest[..n].to_string());
    }
    if rest.starts_with("--") {
        let n = rest.find('\n').unwrap_or(rest.len());
        return mk(Tok::Ws, pos + n, String::new());
    }
    if let Some(body) = rest.strip_prefix("/*") {
        if let Some(e) = body.find("*/") {
            return mk(Tok::Ws, pos + 2 + e + 2, String::new());
        }
    }
    if c.is_ascii_alphabetic() || c == '_' {
        let n = run(input, pos, is_ident_char);
        let word = &rest[..n];
        if crate::ast::display::is_keyword(word) {
            return mk(Tok::Keyword, pos + n, word.to_ascii_uppercase());
        }
        return mk(Tok::Ident, pos + n, word.to_string());
    }
    if c.is_ascii_digit() || (c == '.' && rest[1..].starts_with(|d: char| d.is_ascii_digit())) {
        let int_len = run(input, pos, |d| d.is_ascii_digit());
        let after = &rest[int_len..];
        if after.starts_with('.') && after[1..].starts_with(|d: char| d.is_ascii_digit()) {
            let frac = run(input, pos + int_len + 1, |d| d.is_ascii_digit());
            let n = int_len + 1 + frac;
            return mk(Tok::Number, pos + n, rest[..n].to_string());
        }
        if after.starts_with(|d: char| d.is_ascii_alphabetic() || d == 'µ') {
            let n = int_len
                + run(input, pos + int_len, |d| {
                    d.is_ascii_alphanumeric() || d == 'µ'
                });
            return mk(Tok::Duration, pos + n, rest[..n].to_string());
        }
        return mk(Tok::Integer, pos + int_len, rest[..int_len].to_string());
    }
    match c {
        '"' | '\'' => scan_quoted(input, pos),
        '$' => {
            let n = 1 + run(input, pos + 1, is_ident_char);
            mk(Tok::BoundParam, pos + n, rest[..n].to_string())
        }
        _ => {
            const TWO: [&str; 8] = ["=~", "!=", "!~", ">=", "<=", "<>", "::", "--"];
            for t in TWO {
                if rest.starts_with(t) {
                    // InfluxDB's scanner reads `<>` as its `!=` token, and names it so.
                    let text = if t == "<>" { "!=" } else { t };
                    return mk(Tok::Punct, pos + 2, text.to_string());
                }
            }
            if "+-*/%&|^=<>(),;:.".contains(c) {
                return mk(Tok::Punct, pos + 1, c.to_string());
            }
            mk(Tok::Illegal, pos + c.len_utf8(), c.to_string())
        }
    }
}

/// Scans at `pos`, skipping whitespace and comments.
pub(crate) fn scan_skip_ws(input: &str, mut pos: usize) -> Token {
    loop {
        let t = scan(input, pos);
        if t.tok != Tok::Ws || t.end <= pos {
            return t;
        }
        pos = t.end;
    }
}

/// All tokens of `input` (whitespace/comments included), ending with `Eof`.
pub(crate) fn tokenize(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let t = scan(input, pos);
        let done = t.tok == Tok::Eof || t.end <= pos;
        pos = t.end;
        out.push(t);
        if done {
            return out;
        }
    }
}

/// The last non-whitespace token that ends at or before `pos`.
pub(crate) fn last_token_before(input: &str, pos: usize) -> Option<Token> {
    tokenize(input)
        .into_iter()
        .rev()
        .find(|t| t.tok != Tok::Ws && t.tok != Tok::Eof && t.end <= pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_like_influxdb() {
        let t = scan_skip_ws("  SELEC x", 0);
        assert_eq!((t.tok, t.text.as_str(), t.start), (Tok::Ident, "SELEC", 2));
        assert_eq!(scan("select", 0).text, "SELECT");
        assert_eq!(scan("'serverA", 0).tok, Tok::BadString);
        assert_eq!(scan("'serverA", 0).text, "serverA");
        assert_eq!(scan("'a\\qb'", 0).text, "\\q");
        assert_eq!(scan("1.5", 0).tok, Tok::Number);
        assert_eq!(scan("10x", 0).tok, Tok::Duration);
        assert_eq!(scan(".5", 0).text, ".5");
        assert_eq!(scan("", 0).text, "EOF");
        assert_eq!(scan("=~", 0).text, "=~");
        assert_eq!(scan("$host", 0).text, "$host");
        assert_eq!(scan("\"a\\\"b\"", 0).text, "a\"b");
        assert_eq!(tokenize("a /* c */ b").len(), 6);
    }
}
