//! Text conventions of the corpus's recording tool, reproduced so the Rust runner reaches
//! the same verdicts as the Python runner the expectations were recorded with
//! (`shared/conformance/conformance.py`, `record.py`):
//!
//! - [`dumps`] is `json.dumps`: the recorder sorts `unordered` lists by the
//!   `json.dumps(v, sort_keys=True)` text of their elements, so the replay sorts by the
//!   same text (same separators, same `\uXXXX` escapes, same float spelling);
//! - [`float_repr`] and [`str_repr`] are Python's `repr`, used in problem lines;
//! - [`splitlines`] and [`is_blank`] are `str.splitlines()` and `not s.strip()`, which
//!   cut a `chunked=true` answer into its JSON documents;
//! - [`urlencode`] is `urllib.parse.urlencode` (`quote_plus`): the query string sent.

use serde_json::Value;

/// `json.dumps(v, sort_keys=True, ensure_ascii=ascii)` with the default separators
/// (`", "` and `": "`). serde_json's maps iterate in key order, which is what
/// `sort_keys` gives (both order by code point).
pub(crate) fn dumps(v: &Value, ascii: bool) -> String {
    let mut out = String::new();
    dump_into(v, ascii, &mut out);
    out
}

fn dump_into(v: &Value, ascii: bool, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_repr(n)),
        Value::String(s) => json_string(s, ascii, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dump_into(item, ascii, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_string(k, ascii, out);
                out.push_str(": ");
                dump_into(item, ascii, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string literal as Python's encoder writes it: with `ascii`, everything outside
/// `' '..='~'` is escaped (astral characters as surrogate pairs).
fn json_string(s: &str, ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ascii && !(' '..='~').contains(&c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON number as Python prints it once parsed: integers as integers, floats by `repr`.
pub(crate) fn number_repr(n: &serde_json::Number) -> String {
    if n.is_f64() {
        n.as_f64().map(float_repr).unwrap_or_else(|| n.to_string())
    } else {
        n.to_string()
    }
}

/// Python's `repr(float)`: the shortest round-trip digits, positional for decimal
/// exponents from -4 to 15 (always with a fractional part), scientific otherwise
/// (`1e+16`, `2.5e-05`).
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    // `{:e}` gives the shortest round-trip digits: "-1.2345e6", "1e-5".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if !(-4..16).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.unsigned_abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((exp.unsigned_abs() - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = exp as usize + 1;
    if digits.len() <= point {
        format!("{sign}{digits}{}.0", "0".repeat(point - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point);
        format!("{sign}{int}.{frac}")
    }
}

/// Python's `repr(str)`: single quotes unless the text holds `'` and no `"`.
pub(crate) fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr` of a list of strings: `['a', 'b']`.
pub(crate) fn str_list_repr(items: &[&str]) -> String {
    let parts: Vec<String> = items.iter().map(|s| str_repr(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// `str.splitlines()`: every line boundary Python knows, `\r\n` counting once.
pub(crate) fn splitlines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let boundary = matches!(
            c,
            '\n' | '\r'
                | '\u{b}'
                | '\u{c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if !boundary {
            continue;
        }
        lines.push(&text[start..i]);
        let mut end = i + c.len_utf8();
        if c == '\r' {
            if let Some((j, '\n')) = chars.peek().copied() {
                chars.next();
                end = j + 1;
            }
        }
        start = end;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// `not s.strip()`: the line holds only whitespace in Python's sense.
pub(crate) fn is_blank(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// `urllib.parse.quote_plus`: letters, digits and `_.-~` stay, a space becomes `+`,
/// every other byte of the UTF-8 text is percent-encoded.
pub(crate) fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `str(v)` of a parameter value as `urlencode` would spell it.
fn param_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) => number_repr(n),
        other => dumps(other, false),
    }
}

/// `urllib.parse.urlencode(params, doseq=True)`: lists repeat their key.
pub(crate) fn urlencode(params: &serde_json::Map<String, Value>) -> String {
    let mut parts = Vec::new();
    for (k, v) in params {
        let values: Vec<&Value> = match v {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for v in values {
            parts.push(format!("{}={}", quote_plus(k), quote_plus(&param_text(v))));
        }
    }
    parts.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_like_python() {
        assert_eq!(float_repr(2.0), "2.0");
        assert_eq!(float_repr(-0.0), "-0.0");
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(float_repr(123.456), "123.456");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1234567890123456.0), "1234567890123456.0");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(0.00001), "1e-05");
        assert_eq!(float_repr(-2.5e-7), "-2.5e-07");
        assert_eq!(float_repr(1.5e300), "1.5e+300");
    }

    #[test]
    fn dumps_matches_python_sort_keys() {
        let v = json!({"tags": {"host": "é"}, "name": "cpu", "v": [1, 2.0, null, true]});
        assert_eq!(
            dumps(&v, true),
            r#"{"name": "cpu", "tags": {"host": "\u00e9"}, "v": [1, 2.0, null, true]}"#
        );
        assert_eq!(dumps(&json!("😀\n"), true), r#""\ud83d\ude00\n""#);
        assert_eq!(dumps(&json!("é"), false), "\"é\"");
    }

    #[test]
    fn repr_of_strings() {
        assert_eq!(str_repr("abc"), "'abc'");
        assert_eq!(str_repr("it's"), "\"it's\"");
        assert_eq!(str_repr("a\nb\\"), "'a\\nb\\\\'");
        assert_eq!(str_list_repr(&["a", "b"]), "['a', 'b']");
    }

    #[test]
    fn splitlines_knows_every_boundary() {
        assert_eq!(splitlines("a\nb\r\nc\rd"), vec!["a", "b", "c", "d"]);
        assert_eq!(splitlines("a\n\nb\n"), vec!["a", "", "b"]);
        assert_eq!(splitlines("x\u{2028}y"), vec!["x", "y"]);
        assert!(splitlines("").is_empty());
        assert!(is_blank(" \t\u{1f}"));
        assert!(!is_blank(" x "));
    }

    #[test]
    fn urlencode_is_quote_plus() {
        let params = json!({"q": "SELECT \"v\" FROM m WHERE t='a b'", "db": "d~1"});
        let map = params.as_object().unwrap();
        assert_eq!(
            urlencode(map),
            "db=d~1&q=SELECT+%22v%22+FROM+m+WHERE+t%3D%27a+b%27"
        );
        let list = json!({"k": ["a", 1, true]});
        assert_eq!(urlencode(list.as_object().unwrap()), "k=a&k=1&k=True");
    }
}
