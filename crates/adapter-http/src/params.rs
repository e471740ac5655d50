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
    let mut p: HashMap<String, String> = HashMap::new();
    if let Some(q) = raw {
        for (k, v) in form_urlencoded_pairs(q.as_bytes()) {
            p.entry(k).or_insert(v);
        }
    }
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

pub(crate) fn form_urlencoded_pairs(input: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &[u8]) -> String {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < s.len() => {
                    let hex = std::str::from_utf8(&s[i + 1..i + 3]).ok();
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    input
        .split(|&b| b == b'&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |&b| b == b'=');
            let k = decode(it.next().unwrap_or_default());
            let v = decode(it.next().unwrap_or_default());
            (k, v)
        })
        .collect()
}

pub(crate) fn parse_bind_params(text: &str) -> Result<BTreeMap<String, ParamValue>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let obj = v
        .as_object()
        .ok_or_else(|| "json: cannot unmarshal into map".to_string())?;
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        let pv = match v {
            serde_json::Value::String(s) => ParamValue::String(s.clone()),
            serde_json::Value::Bool(b) => ParamValue::Boolean(*b),
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
                    ParamValue::Unsupported("map[string]interface {}".into())
                }
            }
        };
        out.insert(k.clone(), pv);
    }
    Ok(out)
}
