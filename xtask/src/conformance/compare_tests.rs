//! The comparison rules, each with the case that motivates it.

use super::*;
use serde_json::json;

fn d(expected: Value, got: Value) -> Option<String> {
    diff(&expected, &got, "$", &Rules::default())
}

fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.to_string()))
        .collect()
}

#[test]
fn floats_within_relative_tolerance() {
    assert_eq!(
        d(json!(2.0), json!(2)),
        None,
        "integer-valued float equals integer"
    );
    assert_eq!(d(json!(0.1), json!(0.1 + 1e-12)), None);
    assert_eq!(d(json!(1e20), json!(1e20 * (1.0 + 5e-10))), None);
    assert_eq!(
        d(json!({"v": 0.1}), json!({"v": 0.1001})),
        Some("$.v: expected 0.1, got 0.1001".into())
    );
    assert!(
        d(json!(0.0), json!(1e-300)).is_some(),
        "no absolute tolerance"
    );
    assert!(d(json!(3), json!(4)).is_some());
    assert_eq!(
        d(json!(9007199254740993_i64), json!(9007199254740992_i64)),
        Some("$: expected 9007199254740993, got 9007199254740992".into()),
        "integers compare exactly"
    );
}

#[test]
fn types_are_not_mixed() {
    assert!(d(json!(true), json!(1)).is_some());
    assert!(d(json!("1"), json!(1)).is_some());
    assert!(d(json!(null), json!(0)).is_some());
    assert_eq!(
        d(json!([1]), json!({"a": 1})),
        Some("$: expected [1], got {\"a\": 1}".into())
    );
}

#[test]
fn object_keys_must_match() {
    assert_eq!(
        d(json!({"a": 1, "b": 2}), json!({"a": 1, "c": 2})),
        Some(
            "$: missing keys ['b'], unexpected keys ['c'] (expected {\"a\": 1, \"b\": 2}, got {\"a\": 1, \"c\": 2})"
                .into()
        )
    );
}

#[test]
fn arrays_report_first_difference_then_length() {
    assert_eq!(
        d(json!([1, 2, 3]), json!([1, 5])),
        Some("$[1]: expected 2, got 5".into())
    );
    assert_eq!(
        d(json!([1, 2]), json!([1, 2, 3])),
        Some("$: expected 2 elements, got 3 (expected [1, 2], got [1, 2, 3])".into())
    );
}

#[test]
fn errors_need_only_a_message_unless_strict() {
    let want = json!({"results": [{"statement_id": 0, "error": "database not found: x"}]});
    let other = json!({"results": [{"statement_id": 0, "error": "no such database"}]});
    let empty = json!({"results": [{"statement_id": 0, "error": ""}]});
    let number = json!({"results": [{"statement_id": 0, "error": 1}]});
    assert_eq!(d(want.clone(), other.clone()), None);
    assert_eq!(
        d(want.clone(), empty),
        Some("$.results[0].error: expected an error message, got ''".into())
    );
    assert!(d(want.clone(), number).is_some());
    let strict = Rules {
        strict_errors: true,
        ..Rules::default()
    };
    assert!(diff(&want, &other, "$", &strict).is_some());
    // Other strings, warnings included, are compared exactly.
    let msg = |t: &str| json!({"messages": [{"level": "warning", "text": t}]});
    assert!(d(msg("a"), msg("b")).is_some());
}

#[test]
fn ignored_paths_are_not_compared_but_must_exist() {
    let rules = Rules {
        ignore: vec!["$.results[0].series[0].values"],
        ..Rules::default()
    };
    let e = json!({"results": [{"series": [{"name": "m", "values": [[1, 2]]}]}]});
    let g = json!({"results": [{"series": [{"name": "m", "values": [[9]]}]}]});
    assert_eq!(diff(&e, &g, "$", &rules), None);
    let missing = json!({"results": [{"series": [{"name": "m"}]}]});
    assert!(diff(&e, &missing, "$", &rules).is_some());
    // An ignored error is not even checked for presence of text.
    let rules = Rules {
        ignore: vec!["$.error"],
        ..Rules::default()
    };
    assert_eq!(
        diff(&json!({"error": "x"}), &json!({"error": 5}), "$", &rules),
        None
    );
}

#[test]
fn unordered_lists_sort_series_by_name_and_tags() {
    let rules = Rules {
        unordered: vec!["$.series"],
        ..Rules::default()
    };
    let a = json!({"name": "m", "tags": {"host": "a"}, "values": [[1]]});
    let b = json!({"name": "m", "tags": {"host": "b"}, "values": [[2]]});
    let e = json!({"series": [a.clone(), b.clone()]});
    let g = json!({"series": [b.clone(), a.clone()]});
    assert_eq!(diff(&e, &g, "$", &rules), None);
    assert!(d(e.clone(), g.clone()).is_some(), "ordered elsewhere");
    // Same name and tags, different values: still a difference.
    let b2 = json!({"name": "m", "tags": {"host": "b"}, "values": [[3]]});
    let g = json!({"series": [b2, a]});
    assert_eq!(
        diff(&e, &g, "$", &rules),
        Some("$.series[1].values[0][0]: expected 2, got 3".into())
    );
    // Plain values sort by their JSON text.
    assert_eq!(
        diff(
            &json!([3, 1, 2]),
            &json!([2, 3, 1]),
            "$",
            &Rules {
                unordered: vec!["$"],
                ..Rules::default()
            }
        ),
        None
    );
}

#[test]
fn bodies_parse_into_formats() {
    let plain = json!({"params": {"q": "SHOW DATABASES"}});
    assert_eq!(parse_body(&plain, "application/json", b"").format, "empty");
    let one = parse_body(&plain, "application/json", br#"{"results":[]}"#);
    assert_eq!(one.format, "json");
    assert_eq!(one.value, json!({"results": []}));
    let csv = parse_body(&plain, "application/csv", b"name,tags\n");
    assert_eq!(csv.format, "text");
    assert_eq!(csv.value, json!("name,tags\n"));
    let text = json!({"compare": "text"});
    assert_eq!(parse_body(&text, "application/json", b"{}").format, "text");
    let bad = parse_body(&plain, "application/json", b"{\"a\":");
    assert_eq!(bad.format, "text");
}

#[test]
fn chunked_answers_are_one_document_per_line() {
    let raw = b"{\"results\":[{\"statement_id\":0,\"partial\":true}]}\n\n{\"results\":[{\"statement_id\":0}]}\r\n";
    let chunked = json!({"params": {"chunked": "TRUE"}});
    let body = parse_body(&chunked, "application/json", raw);
    assert_eq!(body.format, "chunks");
    assert_eq!(
        body.value,
        json!([
            {"results": [{"statement_id": 0, "partial": true}]},
            {"results": [{"statement_id": 0}]}
        ])
    );
    // Without chunked=true, several documents still parse as chunks...
    let plain = json!({"params": {}});
    assert_eq!(parse_body(&plain, "application/json", raw).format, "chunks");
    // ...while a single document asked for chunked is one chunk.
    let single = parse_body(&chunked, "application/json", b"{\"results\":[]}\n");
    assert_eq!(single.format, "chunks");
    assert_eq!(single.value, json!([{"results": []}]));
}

#[test]
fn headers_by_value_or_presence() {
    let got = headers(&[
        ("Content-Type", "application/json; charset=UTF-8"),
        ("X-Influxdb-Version", "1.6.7"),
    ]);
    let want = json!({
        "Content-Type": "application/json;charset=utf-8",
        "X-Influxdb-Version": true,
        "X-Influxdb-Error": false,
    });
    assert!(compare_headers(&want, &got).is_empty());
    let want =
        json!({"Content-Type": "text/plain", "Request-Id": true, "X-Influxdb-Version": false});
    assert_eq!(
        compare_headers(&want, &got),
        vec![
            "header Content-Type: expected 'text/plain', got 'application/json; charset=UTF-8'",
            "header Request-Id: expected present, got absent",
            "header X-Influxdb-Version: expected absent, got '1.6.7'",
        ]
    );
}

#[test]
fn evaluate_checks_status_body_and_headers() {
    let check = json!({
        "params": {"q": "SHOW DATABASES"},
        "expect_status": 200,
        "expect_body_format": "json",
        "expect_body": {"results": [{"statement_id": 0}]},
        "expect_headers": {"Content-Type": "application/json"}
    });
    let hdrs = headers(&[("Content-Type", "application/json")]);
    let ok = parse_body(
        &check,
        "application/json",
        br#"{"results":[{"statement_id":0}]}"#,
    );
    assert!(evaluate(&check, 200, &hdrs, &ok, false).is_empty());
    let problems = evaluate(&check, 400, &BTreeMap::new(), &ok, false);
    assert_eq!(
        problems,
        vec![
            "status: expected 200, got 400",
            "header Content-Type: expected 'application/json', got None",
        ]
    );
    let empty = parse_body(&check, "application/json", b"");
    assert_eq!(
        evaluate(&check, 200, &hdrs, &empty, false),
        vec![
            "body: expected json body {\"results\": [{\"statement_id\": 0}]}, got empty body null"
        ]
    );
    let status_only = json!({"compare": "status", "expect_status": 204});
    assert!(evaluate(&status_only, 204, &hdrs, &ok, false).is_empty());
}
