//! The comparison rules of the corpus (its README, "Comparison rules"): how an answer is
//! parsed into a body format, how a recorded JSON value is compared with the one
//! received, and how recorded headers are checked. Each rule is the recorder's, so a
//! check passes here exactly when it passes in `conformance.py`.

use super::pytext::{dumps, number_repr, splitlines, str_list_repr, str_repr};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Relative tolerance of float comparisons (rule 4).
const FLOAT_REL_TOL: f64 = 1e-9;

/// A parsed answer body: the format name the case files record and the value compared.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Body {
    /// `empty`, `json`, `chunks` or `text`.
    pub(crate) format: &'static str,
    /// `null`, the JSON value, the list of chunks, or the text.
    pub(crate) value: Value,
}

/// Parses a raw answer: no bytes is `empty`; a check with `"compare": "text"` is
/// `text`; a JSON content type gives `json` (one document) or `chunks` (one document
/// per non-blank line; tried first when the request asked for `chunked=true`);
/// anything else is `text`.
pub(crate) fn parse_body(check: &Value, content_type: &str, raw: &[u8]) -> Body {
    if raw.is_empty() {
        return Body {
            format: "empty",
            value: Value::Null,
        };
    }
    let text = String::from_utf8_lossy(raw).into_owned();
    let as_text = |text: String| Body {
        format: "text",
        value: Value::String(text),
    };
    if check.get("compare").and_then(Value::as_str) == Some("text") {
        return as_text(text);
    }
    if content_type.contains("json") {
        if asked_chunked(check) {
            if let Some(chunks) = parse_chunks(&text) {
                return chunks;
            }
        }
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            return Body {
                format: "json",
                value: v,
            };
        }
        if let Some(chunks) = parse_chunks(&text) {
            return chunks;
        }
    }
    as_text(text)
}

/// `str(params.get("chunked", "")).lower() == "true"`.
fn asked_chunked(check: &Value) -> bool {
    match check.get("params").and_then(|p| p.get("chunked")) {
        Some(Value::String(s)) => s.to_lowercase() == "true",
        Some(Value::Bool(b)) => *b,
        _ => false,
    }
}

/// Every non-blank line parsed as one JSON document, or `None` if one is not JSON.
fn parse_chunks(text: &str) -> Option<Body> {
    let chunks = splitlines(text)
        .into_iter()
        .filter(|l| !super::pytext::is_blank(l))
        .map(serde_json::from_str::<Value>)
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    Some(Body {
        format: "chunks",
        value: Value::Array(chunks),
    })
}

/// `short()` of the recorder: a string's `repr`, any other value's JSON, cut to `n`
/// characters.
pub(crate) fn short(v: &Value, n: usize) -> String {
    let s = match v {
        Value::String(s) => str_repr(s),
        other => dumps(other, false),
    };
    cut(s, n)
}

/// The first `n - 3` characters and `...` when `s` is longer than `n`.
pub(crate) fn cut(s: String, n: usize) -> String {
    if s.chars().count() <= n {
        return s;
    }
    let mut out: String = s.chars().take(n.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

/// The paths a check leaves out of the comparison and the lists it compares unordered.
#[derive(Debug, Default)]
pub(crate) struct Rules<'a> {
    pub(crate) strict_errors: bool,
    pub(crate) ignore: Vec<&'a str>,
    pub(crate) unordered: Vec<&'a str>,
}

impl<'a> Rules<'a> {
    /// The rules a check declares (`ignore`, `unordered`), errors compared as asked.
    pub(crate) fn of(check: &'a Value, strict_errors: bool) -> Self {
        let paths = |key: &str| -> Vec<&'a str> {
            check
                .get(key)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        Rules {
            strict_errors,
            ignore: paths("ignore"),
            unordered: paths("unordered"),
        }
    }
}

/// The sort key of an element of an unordered list: a series by its name and tags,
/// anything else by its whole JSON text.
fn order_key(v: &Value) -> String {
    if let Value::Object(m) = v {
        if m.contains_key("name") || m.contains_key("tags") {
            let mut key = serde_json::Map::new();
            key.insert("name".into(), m.get("name").cloned().unwrap_or(Value::Null));
            key.insert("tags".into(), m.get("tags").cloned().unwrap_or(Value::Null));
            return dumps(&Value::Object(key), true);
        }
    }
    dumps(v, true)
}

fn sorted_by_key(items: &[Value]) -> Vec<&Value> {
    let mut keyed: Vec<(String, &Value)> = items.iter().map(|v| (order_key(v), v)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0)); // stable, as Python's sorted()
    keyed.into_iter().map(|(_, v)| v).collect()
}

/// A description of the first difference between `expected` and `got`, or `None`.
pub(crate) fn diff(expected: &Value, got: &Value, path: &str, rules: &Rules<'_>) -> Option<String> {
    if rules.ignore.contains(&path) {
        return None;
    }
    match (expected, got) {
        (Value::Object(e), Value::Object(g)) => diff_objects(e, g, expected, got, path, rules),
        (Value::Array(e), Value::Array(g)) => {
            let (e, g): (Vec<&Value>, Vec<&Value>) = if rules.unordered.contains(&path) {
                (sorted_by_key(e), sorted_by_key(g))
            } else {
                (e.iter().collect(), g.iter().collect())
            };
            for (i, (ev, gv)) in e.iter().zip(g.iter()).enumerate() {
                if let Some(d) = diff(ev, gv, &format!("{path}[{i}]"), rules) {
                    return Some(d);
                }
            }
            (e.len() != g.len()).then(|| {
                format!(
                    "{path}: expected {} elements, got {} (expected {}, got {})",
                    e.len(),
                    g.len(),
                    short(expected, 160),
                    short(got, 160)
                )
            })
        }
        (Value::Number(e), Value::Number(g)) => (!numbers_match(e, g)).then(|| {
            format!(
                "{path}: expected {}, got {}",
                number_repr(e),
                number_repr(g)
            )
        }),
        _ if expected == got => None,
        _ => Some(format!(
            "{path}: expected {}, got {}",
            short(expected, 160),
            short(got, 160)
        )),
    }
}

fn diff_objects(
    e: &serde_json::Map<String, Value>,
    g: &serde_json::Map<String, Value>,
    expected: &Value,
    got: &Value,
    path: &str,
    rules: &Rules<'_>,
) -> Option<String> {
    let ek: BTreeSet<&str> = e.keys().map(String::as_str).collect();
    let gk: BTreeSet<&str> = g.keys().map(String::as_str).collect();
    if ek != gk {
        let missing: Vec<&str> = ek.difference(&gk).copied().collect();
        let extra: Vec<&str> = gk.difference(&ek).copied().collect();
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing keys {}", str_list_repr(&missing)));
        }
        if !extra.is_empty() {
            parts.push(format!("unexpected keys {}", str_list_repr(&extra)));
        }
        return Some(format!(
            "{path}: {} (expected {}, got {})",
            parts.join(", "),
            short(expected, 160),
            short(got, 160)
        ));
    }
    for (k, ev) in e {
        let sub = format!("{path}.{k}");
        let gv = g.get(k).unwrap_or(&Value::Null);
        if k == "error" && !rules.strict_errors && !rules.ignore.contains(&sub.as_str()) {
            // Rule 5: an error is compared for presence only.
            if !matches!(gv, Value::String(s) if !s.is_empty()) {
                return Some(format!(
                    "{sub}: expected an error message, got {}",
                    short(gv, 160)
                ));
            }
            continue;
        }
        if let Some(d) = diff(ev, gv, &sub, rules) {
            return Some(d);
        }
    }
    None
}

/// Rule 4: integers exactly; when either side is a float, equal within a relative
/// tolerance (`math.isclose(a, b, rel_tol=1e-9)`), so `2.0` equals `2`.
fn numbers_match(e: &serde_json::Number, g: &serde_json::Number) -> bool {
    let int = |n: &serde_json::Number| -> Option<i128> {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    if let (Some(a), Some(b)) = (int(e), int(g)) {
        return a == b;
    }
    match (e.as_f64(), g.as_f64()) {
        (Some(a), Some(b)) => is_close(a, b),
        _ => false,
    }
}

fn is_close(a: f64, b: f64) -> bool {
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    let d = (a - b).abs();
    d <= FLOAT_REL_TOL * b.abs() || d <= FLOAT_REL_TOL * a.abs()
}

/// Rule 6: `Content-Type` by value (case and spaces ignored), others by presence.
/// `headers` holds the first value of each answer header, by lower-case name.
pub(crate) fn compare_headers(expected: &Value, headers: &BTreeMap<String, String>) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(expected) = expected.as_object() else {
        return problems;
    };
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase()
    };
    let got_repr = |v: Option<&String>| v.map_or_else(|| "None".to_string(), |s| str_repr(s));
    for (name, want) in expected {
        let v = headers.get(&name.to_lowercase());
        match want {
            Value::Bool(present) => {
                if v.is_some() != *present {
                    let want = if *present { "present" } else { "absent" };
                    let got = v.map_or_else(|| "absent".to_string(), |s| str_repr(s));
                    problems.push(format!("header {name}: expected {want}, got {got}"));
                }
            }
            Value::Null => {
                if let Some(v) = v {
                    problems.push(format!(
                        "header {name}: expected absent, got {}",
                        str_repr(v)
                    ));
                }
            }
            want => {
                let want_text = match want {
                    Value::String(s) => s.clone(),
                    other => dumps(other, false),
                };
                if v.is_none_or(|v| norm(v) != norm(&want_text)) {
                    problems.push(format!(
                        "header {name}: expected {}, got {}",
                        str_repr(&want_text),
                        got_repr(v)
                    ));
                }
            }
        }
    }
    problems
}

/// Every problem of one answer: status (rule 1), body format and value (rules 2-5, 7,
/// unless the check compares the status only) and headers (rule 6).
pub(crate) fn evaluate(
    check: &Value,
    status: u16,
    headers: &BTreeMap<String, String>,
    body: &Body,
    strict_errors: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let want_status = check.get("expect_status").unwrap_or(&Value::Null);
    if want_status.as_f64() != Some(f64::from(status)) {
        let want = match want_status {
            Value::Null => "None".to_string(),
            other => dumps(other, false),
        };
        problems.push(format!("status: expected {want}, got {status}"));
    }
    if check.get("compare").and_then(Value::as_str) != Some("status") {
        let want_format = check
            .get("expect_body_format")
            .and_then(Value::as_str)
            .unwrap_or("json");
        let want_body = check.get("expect_body").unwrap_or(&Value::Null);
        if want_format != body.format {
            problems.push(format!(
                "body: expected {want_format} body {}, got {} body {}",
                short(want_body, 160),
                body.format,
                short(&body.value, 160)
            ));
        } else if let Some(d) = diff(
            want_body,
            &body.value,
            "$",
            &Rules::of(check, strict_errors),
        ) {
            problems.push(d);
        }
    }
    problems.extend(compare_headers(
        check.get("expect_headers").unwrap_or(&Value::Null),
        headers,
    ));
    problems
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
