//! Regular-expression literals and bound regexes, checked as Go's RE2 would check them.
//!
//! Why it exists: InfluxDB compiles regexes with Go's `regexp`, which refuses patterns
//! Rust's `regex` accepts (nested repetitions) and words its errors differently; a query
//! must be rejected, with Go's text and InfluxDB's position, exactly when InfluxDB rejects it.

use super::{Builder, R};
use crate::ast::*;
use crate::parser::errors::{at, line_char};
use crate::parser::{ParamValue, ParseError, Rule};
use pest::iterators::Pair;

fn unescape_regex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('/') => out.push('/'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A bound regex in the form a regex literal can spell: `\/` becomes `/` and a raw newline
/// becomes `\n` (the same pattern for the regex engine), so that the bound pattern prints
/// as `/.../` and parses back to itself (stored continuous queries are re-parsed).
pub(super) fn canonical_bound_regex(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut it = raw.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some('/') => out.push('/'),
                Some('\n') => out.push_str("\\n"),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The span `[start, end)` (in chars of the pattern) that `regex` marks with carets.
fn caret_span(text: &str) -> Option<(usize, usize)> {
    let mut lines = text.lines().skip(1);
    let _pattern_line = lines.next()?;
    let carets = lines.next()?;
    let body = carets.strip_prefix("    ")?;
    let start = body.find('^')?;
    let end = body.rfind('^')? + 1;
    Some((start, end))
}

/// Go's RE2 refuses a repetition operator applied to a repetition (`a**`, `a+*`, `a{2}+`);
/// Rust's `regex` accepts them. Returns the offending text as Go prints it (from the first
/// operator through the second, lazy `?` included).
fn nested_repetition(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let op_len = |i: usize| -> Option<usize> {
        match chars.get(i)? {
            '*' | '+' | '?' => Some(1),
            '{' => {
                let len = chars[i..].iter().position(|&x| x == '}')?;
                let inner = &chars[i + 1..i + len];
                let ok = !inner.is_empty()
                    && inner[0].is_ascii_digit()
                    && inner.iter().all(|x| x.is_ascii_digit() || *x == ',');
                ok.then_some(len + 1)
            }
            _ => None,
        }
    };
    let mut i = 0;
    let mut prev_start: Option<usize> = None;
    while i < chars.len() {
        if let Some(len) = op_len(i) {
            let mut end = i + len;
            if chars.get(end) == Some(&'?') {
                end += 1;
            }
            if let Some(start) = prev_start {
                return Some(chars[start..end].iter().collect());
            }
            prev_start = Some(i);
            i = end;
            continue;
        }
        prev_start = None;
        match chars[i] {
            '\\' => i += 2,
            '[' => {
                let mut j = i + 1;
                if chars.get(j) == Some(&'^') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += if chars[j] == '\\' { 2 } else { 1 };
                }
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Go-style (`regexp/syntax`) message for an invalid regex.
fn regex_error_message(pattern: &str, err: &regex::Error) -> String {
    let text = err.to_string();
    let chars: Vec<char> = pattern.chars().collect();
    let (start, end) = caret_span(&text).unwrap_or((0, chars.len()));
    let slice = |a: usize, b: usize| -> String {
        chars[a.min(chars.len())..b.min(chars.len())]
            .iter()
            .collect()
    };
    let rest = slice(start, chars.len());
    let marked = slice(start, end);
    let (code, frag) = if text.contains("unclosed group") {
        ("missing closing )", pattern.to_string())
    } else if text.contains("unopened group") {
        ("unexpected )", pattern.to_string())
    } else if text.contains("unclosed character class") {
        ("missing closing ]", rest)
    } else if text.contains("repetition operator missing expression") {
        let prev = start.checked_sub(1).and_then(|i| chars.get(i)).copied();
        if matches!(prev, Some('*' | '+' | '?' | '}')) {
            ("invalid nested repetition operator", slice(start - 1, end))
        } else {
            ("missing argument to repetition operator", marked)
        }
    } else if text.contains("group name") {
        let from = pattern[..]
            .rfind("(?P<")
            .or_else(|| pattern.rfind("(?<"))
            .unwrap_or(0);
        ("invalid named capture", pattern[from..].to_string())
    } else if text.contains("incomplete escape") {
        ("trailing backslash at end of expression", String::new())
    } else if text.contains("escape") {
        ("invalid escape sequence", marked)
    } else if text.contains("class range") {
        ("invalid character class range", marked)
    } else if text.contains("repetition") && text.contains("range") {
        ("invalid repeat count", marked)
    } else {
        ("invalid or unsupported Perl syntax", marked)
    };
    format!("error parsing regexp: {code}: `{frag}`")
}

impl Builder<'_> {
    pub(super) fn regex(&self, p: Pair<'_, Rule>) -> R<Regex> {
        let pos = self.pos(&p);
        if let Some(v) = self.bound(&p)? {
            let ParamValue::Regex(raw) = v else {
                return Err(at(self.input, pos, "bound parameter of the wrong type"));
            };
            // InfluxDB reports a bound regex at the parameter's own position.
            return self.checked_regex(canonical_bound_regex(raw), pos, 0);
        }
        let mut raw = "";
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::regex_inner => raw = part.as_str(),
                _ => {
                    let (line, char) = line_char(self.input, pos);
                    return Err(ParseError::At {
                        message: "bad regex: ".into(),
                        line,
                        char: char.saturating_sub(1).max(1),
                    });
                }
            }
        }
        // InfluxDB reports a regex literal one character before its opening `/`.
        self.checked_regex(unescape_regex(raw), pos, 1)
    }

    /// `pattern` if Go's RE2 would compile it, else its error at `pos` moved `back` chars.
    fn checked_regex(&self, pattern: String, pos: usize, back: usize) -> R<Regex> {
        let err = |message: String| {
            let (line, char) = line_char(self.input, pos);
            ParseError::At {
                message,
                line,
                char: char.saturating_sub(back).max(1),
            }
        };
        if let Some(op) = nested_repetition(&pattern) {
            return Err(err(format!(
                "error parsing regexp: invalid nested repetition operator: `{op}`"
            )));
        }
        if let Err(e) = regex::Regex::new(&pattern) {
            return Err(err(regex_error_message(&pattern, &e)));
        }
        Ok(Regex { pattern })
    }
}
