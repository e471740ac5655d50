//! Hostile SELECTs end to end: each answers a statement error (HTTP 200 with InfluxDB's
//! `{"results":[{"statement_id":0,"error":"…"}]}`) or a bounded result, the server keeps
//! answering `/ping`, and a normal query still works afterwards.
#![allow(clippy::unwrap_used)]

use hyperbyte_e2e::Server;
use serde_json::{json, Value};

/// InfluxDB's lowest and highest valid times.
const MIN_TIME: i64 = -9_223_372_036_854_775_806;
const MAX_TIME: i64 = 9_223_372_036_854_775_806;

fn setup(s: &Server) {
    let (status, body) = s.query("", "CREATE DATABASE h");
    assert_eq!(status, 200, "{body}");
    let body = "m,host=a v=1 0\nm,host=a v=2 10000000000\nm,host=b v=4 20000000000\n";
    assert_eq!(s.write("h", body).0, 204);
}

fn ping(s: &Server) {
    let r = ureq::get(&format!("{}/ping", s.url)).call().unwrap();
    assert_eq!(r.status(), 204);
}

/// The statement's error text, asserting InfluxDB's response shape.
fn statement_error(s: &Server, q: &str) -> String {
    let (status, v) = s.query("h", q);
    assert_eq!(status, 200, "{q}: {v}");
    assert_eq!(v["results"][0]["statement_id"], json!(0), "{q}: {v}");
    let e = v["results"][0]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{q}: expected an error, got {v}"))
        .to_string();
    ping(s);
    e
}

/// The rows of every series of a successful statement.
fn rows(s: &Server, q: &str) -> Vec<Value> {
    let (status, v) = s.query("h", q);
    assert_eq!(status, 200, "{q}: {v}");
    assert!(v["results"][0].get("error").is_none(), "{q}: {v}");
    ping(s);
    v["results"][0]["series"]
        .as_array()
        .map(|series| {
            series
                .iter()
                .flat_map(|x| x["values"].as_array().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

fn normal_query_works(s: &Server) {
    let (status, v) = s.query("h", "SELECT count(v) FROM m");
    assert_eq!(status, 200);
    assert_eq!(
        v["results"][0]["series"][0]["values"],
        json!([["1970-01-01T00:00:00Z", 3]])
    );
}

#[test]
fn bucket_explosions_are_refused_with_influxdbs_text() {
    let s = Server::start();
    setup(&s);
    for q in [
        "SELECT mean(v) FROM m WHERE time > 0 GROUP BY time(1ns) fill(0)",
        "SELECT mean(v) FROM m WHERE time >= '1900-01-01T00:00:00Z' \
         AND time <= '2262-04-11T23:47:16Z' GROUP BY time(1ns) fill(linear)",
        "SELECT percentile(v, 50) FROM m GROUP BY time(1ns) fill(previous)",
        "SELECT holt_winters(max(v), 1000000000, 0) FROM m \
         WHERE time >= 0 AND time < 30s GROUP BY time(10s)",
    ] {
        let e = statement_error(&s, q);
        assert!(
            e.starts_with("max-select-buckets limit exceeded: (") && e.ends_with("/1000000)"),
            "{q}: {e}"
        );
    }
    // A transformation reads one window more than the range, whatever its arguments say
    // (InfluxDB 1.6.7 panics on this one: "makeslice: cap out of range").
    let q = "SELECT moving_average(mean(v), 9223372036854775807) FROM m \
             WHERE time >= 0 AND time < 60s GROUP BY time(10s)";
    let (status, v) = s.query("h", q);
    assert_eq!(status, 200, "{q}: {v}");
    assert_eq!(v["results"][0], json!({"statement_id": 0}), "{q}: {v}");
    normal_query_works(&s);
}

#[test]
fn extreme_times_and_arguments_answer_without_killing_the_server() {
    let s = Server::start();
    setup(&s);
    let q = format!(
        "SELECT max(v) FROM m WHERE time >= {MIN_TIME} AND time <= {MAX_TIME} \
         GROUP BY time(1w, -5000w) fill(none)"
    );
    // Bounds at the ends of time: one week of data, or a clean statement error if the
    // storage engine refuses times that far out; never a dead server.
    let (status, v) = s.query("h", &q);
    assert_eq!(status, 200, "{q}: {v}");
    if v["results"][0].get("error").is_none() {
        assert_eq!(
            v["results"][0]["series"][0]["values"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
    ping(&s);
    for q in [
        "SELECT sample(v, 9223372036854775807) FROM m",
        "SELECT top(v, 2000000000) FROM m",
        "SELECT bottom(v, host, 2000000000) FROM m",
        "SELECT distinct(v) FROM m",
        "SELECT mode(v) FROM m",
        "SELECT percentile(v, 99.9999) FROM m",
        "SELECT moving_average(v, 9223372036854775807) FROM m",
        "SELECT chande_momentum_oscillator(v, 9223372036854775807) FROM m",
        "SELECT kaufmans_efficiency_ratio(v, 9223372036854775807) FROM m",
        "SELECT elapsed(v, 1ns) FROM m",
        "SELECT v FROM m LIMIT 9223372036854775807 OFFSET 9223372036854775807",
        "SELECT v FROM m SLIMIT 9223372036854775807 SOFFSET 9223372036854775807",
    ] {
        rows(&s, q);
    }
    assert_eq!(
        statement_error(&s, "SELECT holt_winters(v, 10, 0) FROM m"),
        "must use aggregate function with holt_winters"
    );
    let e = statement_error(
        &s,
        "SELECT v FROM m WHERE time > now() + 9223372036854775807ns",
    );
    assert!(e.contains("overflow"), "{e}");
    normal_query_works(&s);
}

#[test]
fn configured_limits_answer_influxdbs_texts() {
    let s = Server::start_with_env(&[
        ("HYPERBYTE_QUERY__MAX_SELECT_POINT", "2"),
        ("HYPERBYTE_QUERY__MAX_SELECT_BUCKETS", "3"),
    ]);
    setup(&s);
    assert_eq!(
        statement_error(&s, "SELECT v FROM m"),
        "max-select-point limit exceeed: (3/2)"
    );
    // InfluxDB's own example: 5s..35s in 10s buckets is four buckets.
    assert_eq!(
        statement_error(
            &s,
            "SELECT count(v) FROM m WHERE time >= '1970-01-01T00:00:05Z' \
             AND time < '1970-01-01T00:00:35Z' GROUP BY time(10s)"
        ),
        "max-select-buckets limit exceeded: (4/3)"
    );
    normal_query_works(&s);

    let s = Server::start_with_env(&[("HYPERBYTE_QUERY__MAX_SELECT_SERIES", "1")]);
    setup(&s);
    assert_eq!(
        statement_error(&s, "SELECT v FROM m"),
        "max-select-series limit exceeded: (2/1)"
    );
    assert_eq!(
        statement_error(&s, "SELECT count(v) FROM m"),
        "max-select-series limit exceeded: (2/1)"
    );
}

#[test]
fn an_invalid_limit_stops_the_server_naming_the_key() {
    let out = std::process::Command::new(hyperbyte_e2e::binary())
        .args(["config", "check", "/dev/null"])
        .env("HYPERBYTE_QUERY__MAX_SELECT_ROWS", "18446744073709551615")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("query.max_select_rows"), "{text}");
}
