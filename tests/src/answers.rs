//! Comparison of two `/query` answers, for the side-by-side benchmark against the reference
//! InfluxDB (`cargo xtask bench --against-reference`).
//!
//! The benchmark's speed figures only mean something if both servers computed the same
//! thing, so every query instance's answer is compared in full, not by a summary: the same
//! statements, errors, series (name, tags, columns) and rows, in the same order (the order
//! of series and rows is part of InfluxDB's answer: time order, tag-sorted series). Strings
//! (times, tag values) and booleans must be equal; numbers may differ by 1e-9 relative, the
//! rounding of a sum or mean computed in another order; `null` equals only `null`. JSON
//! object key order never matters (objects are compared key by key).

use serde_json::Value;

/// Relative tolerance for numbers: `|a - b| <= REL_TOL * max(|a|, |b|)`.
pub const REL_TOL: f64 = 1e-9;

/// Whether two numbers are equal to [`REL_TOL`] relative. Exact equality (also of two
/// zeros) always matches; NaN never does (JSON has no NaN: a NaN would be a bug).
pub fn numbers_match(a: f64, b: f64) -> bool {
    if a == b {
        return true;
    }
    if a.is_nan() || b.is_nan() || a.is_infinite() || b.is_infinite() {
        return false;
    }
    (a - b).abs() <= REL_TOL * a.abs().max(b.abs())
}

/// The first difference between two answers (`None`: they match). `path` names where it
/// is, JSON-pointer style (`/results/0/series/3/values/17/2`).
pub fn first_difference(left: &Value, right: &Value) -> Option<Difference> {
    let mut path = String::new();
    diff_value(left, right, &mut path)
}

/// Where two answers first differ, and what each side holds there.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// JSON-pointer path of the first difference.
    pub path: String,
    /// The left answer's value there (`<absent>` when missing), shortened.
    pub left: String,
    /// The right answer's value there, shortened.
    pub right: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at {}: {} vs {}", self.path, self.left, self.right)
    }
}

fn short(v: Option<&Value>) -> String {
    let Some(v) = v else {
        return "<absent>".into();
    };
    let text = v.to_string();
    if text.chars().count() > 160 {
        let cut: String = text.chars().take(160).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn differ(path: &str, left: Option<&Value>, right: Option<&Value>) -> Option<Difference> {
    Some(Difference {
        path: if path.is_empty() {
            "/".into()
        } else {
            path.into()
        },
        left: short(left),
        right: short(right),
    })
}

fn diff_value(left: &Value, right: &Value, path: &mut String) -> Option<Difference> {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => {
            // Integers compare exactly (counts, integer fields); anything else as f64.
            let equal = match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => x == y,
                _ => match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => numbers_match(x, y),
                    _ => a == b,
                },
            };
            if equal {
                None
            } else {
                differ(path, Some(left), Some(right))
            }
        }
        (Value::Array(a), Value::Array(b)) => diff_arrays(a, b, path),
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let len = path.len();
                path.push('/');
                path.push_str(key);
                let found = match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => diff_value(x, y, path),
                    (x, y) => differ(path, x, y),
                };
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        _ if left == right => None,
        _ => differ(path, Some(left), Some(right)),
    }
}

fn diff_arrays(a: &[Value], b: &[Value], path: &mut String) -> Option<Difference> {
    for i in 0..a.len().max(b.len()) {
        let len = path.len();
        path.push('/');
        path.push_str(&i.to_string());
        let found = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => diff_value(x, y, path),
            (x, y) => differ(path, x, y),
        };
        path.truncate(len);
        if found.is_some() {
            return found;
        }
    }
    None
}

/// A `/query` answer reduced to what the comparison needs: the parsed body, or the
/// transport/parse failure as text (never equal to anything, so it always shows).
pub fn parse_answer(status: u16, body: &[u8]) -> Value {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if status == 200 || v.get("error").is_some() => v,
        Ok(v) => serde_json::json!({ "http_status": status, "body": v }),
        Err(_) => serde_json::json!({
            "http_status": status,
            "unparsable_body": String::from_utf8_lossy(body).chars().take(300).collect::<String>(),
        }),
    }
}

/// Counts of what an answer holds, for the printed summary (`12 series, 340 rows`).
pub fn summary(v: &Value) -> String {
    if let Some(e) = v["error"].as_str().or(v["results"][0]["error"].as_str()) {
        return format!("error: {e}");
    }
    let series = v["results"][0]["series"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let rows: usize = series
        .iter()
        .map(|s| s["values"].as_array().map_or(0, Vec::len))
        .sum();
    format!("{} series, {rows} rows", series.len())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(values: Value) -> Value {
        json!({"results": [{"statement_id": 0, "series": [
            {"name": "cpu", "tags": {"hostname": "host_1"}, "columns": ["time", "max"], "values": values}
        ]}]})
    }

    #[test]
    fn numbers_within_1e9_relative_match() {
        assert!(numbers_match(1.0, 1.0 + 0.9e-9));
        assert!(numbers_match(1e12, 1e12 + 900.0));
        assert!(!numbers_match(1.0, 1.0 + 1.1e-9));
        assert!(!numbers_match(1e12, 1e12 + 1100.0));
        assert!(numbers_match(0.0, 0.0));
        assert!(numbers_match(0.0, -0.0));
        // Near zero the tolerance is relative too: a tiny absolute difference is a mismatch.
        assert!(!numbers_match(0.0, 1e-300));
    }

    #[test]
    fn nan_and_infinities_never_match() {
        assert!(!numbers_match(f64::NAN, f64::NAN));
        assert!(!numbers_match(f64::NAN, 1.0));
        assert!(numbers_match(f64::INFINITY, f64::INFINITY));
        assert!(!numbers_match(f64::INFINITY, 1e308));
    }

    #[test]
    fn answers_equal_to_rounding_match() {
        let a = answer(json!([["2016-01-01T00:00:00Z", 0.1 + 0.2]]));
        let b = answer(json!([["2016-01-01T00:00:00Z", 0.3]]));
        assert_eq!(first_difference(&a, &b), None);
    }

    #[test]
    fn a_different_number_is_found_with_its_path() {
        let a = answer(json!([
            ["2016-01-01T00:00:00Z", 1.0],
            ["2016-01-01T00:01:00Z", 2.0]
        ]));
        let b = answer(json!([
            ["2016-01-01T00:00:00Z", 1.0],
            ["2016-01-01T00:01:00Z", 2.001]
        ]));
        let d = first_difference(&a, &b).unwrap();
        assert_eq!(d.path, "/results/0/series/0/values/1/1");
        assert_eq!((d.left.as_str(), d.right.as_str()), ("2.0", "2.001"));
    }

    #[test]
    fn null_matches_only_null() {
        let null = answer(json!([["2016-01-01T00:00:00Z", null]]));
        let zero = answer(json!([["2016-01-01T00:00:00Z", 0.0]]));
        assert_eq!(first_difference(&null, &null.clone()), None);
        assert!(first_difference(&null, &zero).is_some());
        assert!(first_difference(&zero, &null).is_some());
    }

    #[test]
    fn integers_compare_exactly_and_with_floats_numerically() {
        let a = answer(json!([["t", 864000]]));
        assert_eq!(first_difference(&a, &answer(json!([["t", 864000]]))), None);
        assert!(first_difference(&a, &answer(json!([["t", 864001]]))).is_some());
        assert_eq!(
            first_difference(&a, &answer(json!([["t", 864000.0]]))),
            None
        );
    }

    #[test]
    fn row_and_series_order_matter() {
        let a = answer(json!([["t1", 1.0], ["t2", 2.0]]));
        let b = answer(json!([["t2", 2.0], ["t1", 1.0]]));
        assert!(first_difference(&a, &b).is_some());
        let two = |x: &str, y: &str| {
            json!({"results": [{"series": [
                {"name": "cpu", "tags": {"hostname": x}, "columns": ["time"], "values": [["t"]]},
                {"name": "cpu", "tags": {"hostname": y}, "columns": ["time"], "values": [["t"]]}
            ]}]})
        };
        let d = first_difference(&two("a", "b"), &two("b", "a")).unwrap();
        assert_eq!(d.path, "/results/0/series/0/tags/hostname");
    }

    #[test]
    fn object_key_order_does_not_matter() {
        let a: Value =
            serde_json::from_str(r#"{"results":[{"statement_id":0,"series":[]}]}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"results":[{"series":[],"statement_id":0}]}"#).unwrap();
        assert_eq!(first_difference(&a, &b), None);
    }

    #[test]
    fn missing_rows_columns_and_series_are_differences() {
        let a = answer(json!([["t1", 1.0], ["t2", 2.0]]));
        let b = answer(json!([["t1", 1.0]]));
        let d = first_difference(&a, &b).unwrap();
        assert_eq!(d.path, "/results/0/series/0/values/1");
        assert_eq!(d.right, "<absent>");
        let no_series = json!({"results": [{"statement_id": 0}]});
        let d = first_difference(&a, &no_series).unwrap();
        assert_eq!(d.path, "/results/0/series");
    }

    #[test]
    fn errors_match_only_by_their_text() {
        let e1 = json!({"results": [{"statement_id": 0, "error": "boom"}]});
        let e2 = json!({"results": [{"statement_id": 0, "error": "bang"}]});
        assert_eq!(first_difference(&e1, &e1.clone()), None);
        assert!(first_difference(&e1, &e2).is_some());
        assert_eq!(summary(&e1), "error: boom");
    }

    #[test]
    fn unparsable_and_failed_bodies_are_kept_as_differences() {
        let bad = parse_answer(0, b"connection refused");
        let ok = parse_answer(200, br#"{"results":[{"statement_id":0}]}"#);
        assert!(first_difference(&bad, &ok).is_some());
        assert_eq!(parse_answer(500, b"{}")["http_status"], 500);
        assert_eq!(
            summary(&answer(json!([["t", 1], ["u", 2]]))),
            "1 series, 2 rows"
        );
    }
}
