//! `/query` parameters: the query string and the form body merged as Go's `FormValue`
//! does, and bound parameters (`params=`) decoded into typed values.

use axum::http::{header, HeaderMap};
use hyperbyte_application::query::ParamValue;
use std::collections::{BTreeMap, HashMap};

/// Merges query-string and form parameters (form wins, as Go's `FormValue` reads the form
/// first for POST).
pub(crate) fn query_params(
    raw: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> HashMap<String, String> {
    let mut p = url_params(raw);
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        for (k, v) in form_urlencoded_pairs(body) {
            p.insert(k, v);
        }
    }
    p
}

/// The query string's parameters, a repeated one by its first value (Go's
/// `URL.Query().Get`).
pub(crate) fn url_params(raw: Option<&str>) -> HashMap<String, String> {
    let mut p: HashMap<String, String> = HashMap::new();
    for (k, v) in form_urlencoded_pairs(raw.unwrap_or_default().as_bytes()) {
        p.entry(k).or_insert(v);
    }
    p
}

/// `key=value` pairs of a query string or form body, as Go's `url.ParseQuery` reads them
/// (InfluxDB's `FormValue`): split on `&`, `+` is a space, and a pair is left out when it
/// holds a `;` (Go refuses the old separator) or an invalid `%` escape: `q=SHOW%ZZ`
/// is no `q` at all ("missing required parameter"), not a query with a `%` in it.
pub(crate) fn form_urlencoded_pairs(input: &[u8]) -> Vec<(String, String)> {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    fn decode(s: &[u8]) -> Option<String> {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hi = hex(*s.get(i + 1)?)?;
                    let lo = hex(*s.get(i + 2)?)?;
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        Some(String::from_utf8_lossy(&out).into_owned())
    }
    input
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty() && !pair.contains(&b';'))
        .filter_map(|pair| {
            let mut it = pair.splitn(2, |&b| b == b'=');
            let k = decode(it.next().unwrap_or_default())?;
            let v = decode(it.next().unwrap_or_default())?;
            Some((k, v))
        })
        .collect()
}

/// Decodes `params=` as InfluxDB 1.6 does (Go's `encoding/json` with `UseNumber` into a
/// map). `Err` is the whole error message: a body that is no JSON object is "error parsing
/// query parameters: json: cannot unmarshal <kind> into Go value of type map[string]interface
/// {}", a number without a `.` that is no `int64` is "error parsing json value: ...";
/// `null` binds nothing.
pub(crate) fn parse_bind_params(text: &str) -> Result<BTreeMap<String, ParamValue>, String> {
    let unmarshal = |kind: &str| {
        format!(
            "error parsing query parameters: json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
        )
    };
    // Go decodes the first value and ignores what follows it.
    let first = serde_json::Deserializer::from_str(text)
        .into_iter::<serde_json::Value>()
        .next();
    let v = match first {
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            return Err(format!(
                "error parsing query parameters: {}",
                go_json_error(&e, text)
            ))
        }
        None => return Err("error parsing query parameters: EOF".to_string()),
    };
    let obj = match v {
        serde_json::Value::Object(o) => o,
        serde_json::Value::Null => return Ok(BTreeMap::new()),
        serde_json::Value::Array(_) => return Err(unmarshal("array")),
        serde_json::Value::String(_) => return Err(unmarshal("string")),
        serde_json::Value::Number(_) => return Err(unmarshal("number")),
        serde_json::Value::Bool(_) => return Err(unmarshal("bool")),
    };
    if let Some(bad) = top_level_numbers(text)
        .into_iter()
        .find(|n| !n.contains('.') && n.parse::<i64>().is_err())
    {
        let why = if bad.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            "value out of range"
        } else {
            "invalid syntax"
        };
        return Err(format!(
            "error parsing json value: strconv.ParseInt: parsing {bad:?}: {why}"
        ));
    }
    let mut out = BTreeMap::new();
    for (k, v) in &obj {
        let pv = match v {
            serde_json::Value::String(s) => ParamValue::String(s.clone()),
            serde_json::Value::Bool(b) => ParamValue::Boolean(*b),
            // (Numbers without a `.` are integers: checked above on their text.)
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => ParamValue::Integer(i),
                None => ParamValue::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::Null => ParamValue::Unsupported("<nil>".into()),
            serde_json::Value::Array(_) => ParamValue::Unsupported("[]interface {}".into()),
            serde_json::Value::Object(o) => {
                let text = |k: &str| o.get(k).and_then(|x| x.as_str()).map(str::to_string);
                if let Some(i) = text("identifier") {
                    ParamValue::Identifier(i)
                } else if let Some(d) = text("duration") {
                    ParamValue::Duration(d)
                } else if let Some(r) = text("regex") {
                    ParamValue::Regex(r)
                } else {
                    match o.keys().next() {
                        Some(key) => {
                            ParamValue::Refused(format!("unknown bind object type: {key}"))
                        }
                        None => ParamValue::Unsupported("map[string]interface {}".into()),
                    }
                }
            }
        };
        out.insert(k.clone(), pv);
    }
    Ok(out)
}

/// The number literals of the values of a JSON object, as written (`1e3` stays `1e3`,
/// where a parsed number would print `1000.0`). Go reads each as a `json.Number` and
/// parses one without a `.` as an `int64`.
fn top_level_numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut number = String::new();
    for c in text.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        let in_number = depth == 1
            && if number.is_empty() {
                c.is_ascii_digit() || c == '-'
            } else {
                c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')
            };
        if in_number {
            number.push(c);
            continue;
        }
        if !number.is_empty() {
            out.push(std::mem::take(&mut number));
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    out
}

/// Go's `encoding/json` error wording for the syntax errors clients make
/// (`invalid character 'b' looking for beginning of object key string`, `unexpected
/// EOF`); other errors keep serde's text.
fn go_json_error(e: &serde_json::Error, text: &str) -> String {
    let serde_msg = e.to_string();
    if serde_msg.starts_with("EOF while parsing") {
        return "unexpected EOF".to_string();
    }
    let found = text
        .lines()
        .nth(e.line().saturating_sub(1))
        .and_then(|l| l.chars().nth(e.column().saturating_sub(1)));
    let Some(c) = found else {
        return serde_msg;
    };
    let after = if serde_msg.starts_with("key must be a string")
        || (serde_msg.starts_with("trailing comma") && c == '}')
    {
        "looking for beginning of object key string"
    } else if serde_msg.starts_with("expected value") || serde_msg.starts_with("trailing comma") {
        "looking for beginning of value"
    } else if serde_msg.starts_with("expected `:`") {
        "after object key"
    } else if serde_msg.starts_with("expected `,` or `}`") {
        "after object key:value pair"
    } else if serde_msg.starts_with("expected `,` or `]`") {
        "after array element"
    } else {
        return serde_msg;
    };
    format!("invalid character {} {after}", go_quote_char(c))
}

/// A character quoted as Go's `encoding/json` quotes it in errors: `'b'`, `'\''`, `'\n'`.
fn go_quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        c if c.is_control() => format!("'{}'", c.escape_default()),
        c => format!("'{c}'"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bind_params_decode_as_influxdb_1_6_does() {
        assert_eq!(
            top_level_numbers(r#"{"a":1e3,"b":"2e5","c":[3e1],"d":true,"e":-1.5}"#),
            vec!["1e3", "-1.5"]
        );
        assert_eq!(
            parse_bind_params(r#"{"h":1e3}"#).unwrap_err(),
            r#"error parsing json value: strconv.ParseInt: parsing "1e3": invalid syntax"#
        );
        assert_eq!(
            parse_bind_params("[]").unwrap_err(),
            "error parsing query parameters: json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
        assert!(parse_bind_params("null").unwrap().is_empty());
        // Go's syntax errors, and the value before anything that follows it.
        let syntax = |t: &str| parse_bind_params(t).unwrap_err();
        let go = |m: &str| format!("error parsing query parameters: {m}");
        assert_eq!(
            syntax("{bad"),
            go("invalid character 'b' looking for beginning of object key string")
        );
        assert_eq!(
            syntax(r#"{"a":}"#),
            go("invalid character '}' looking for beginning of value")
        );
        assert_eq!(
            syntax("abc"),
            go("invalid character 'a' looking for beginning of value")
        );
        assert_eq!(
            syntax(r#"{"a" 1}"#),
            go("invalid character '1' after object key")
        );
        assert_eq!(
            syntax(r#"{"a":1,}"#),
            go("invalid character '}' looking for beginning of object key string")
        );
        assert_eq!(
            syntax(r#"{"a":1 "b"}"#),
            go("invalid character '\"' after object key:value pair")
        );
        assert_eq!(syntax("{"), go("unexpected EOF"));
        assert_eq!(syntax(" "), go("EOF"));
        assert_eq!(parse_bind_params(r#"{"a":1}x"#).unwrap().len(), 1);
        let p = parse_bind_params(r#"{"f":1.5e3,"i":7,"o":{"x":1}}"#).unwrap();
        assert_eq!(p["f"], ParamValue::Float(1500.0));
        assert_eq!(p["i"], ParamValue::Integer(7));
        assert_eq!(
            p["o"],
            ParamValue::Refused("unknown bind object type: x".into())
        );
    }
}
