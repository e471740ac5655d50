//! Observability end to end: `/metrics` parsed by a real Prometheus text-format parser
//! (families present, counters moving with writes and queries), `/debug/vars` in
//! InfluxDB's shape, request ids, and `KILL QUERY` stopping a long query that another
//! connection is waiting on.

#![allow(clippy::unwrap_used)]

use hyperbyte_e2e::Server;
use prometheus_parse::{Scrape, Value};
use std::time::{Duration, Instant};

fn scrape(s: &Server) -> Scrape {
    let (status, text) = s.get("/metrics");
    assert_eq!(status, 200, "{text}");
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("prometheus text format")
}

/// The value of a counter or gauge sample with these labels.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .find_map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(*v),
            _ => None,
        })
}

fn histogram_count(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .find_map(|s| match &s.value {
            Value::Histogram(buckets) => buckets.last().map(|b| b.count),
            _ => None,
        })
}

#[test]
fn metrics_parse_and_move_with_writes_and_queries() {
    let s = Server::start();
    assert_eq!(s.query("", "CREATE DATABASE obs").0, 200);
    let before = scrape(&s);
    for family in [
        "hyperbyte_http_request_duration_seconds",
        "hyperbyte_flush_duration_seconds",
        "hyperbyte_query_duration_seconds",
    ] {
        assert!(
            before.docs.contains_key(family),
            "{family} missing: {:?}",
            before.docs.keys()
        );
    }
    assert!(value(&before, "hyperbyte_build_info", &[]).is_some());
    let points = |sc: &Scrape| value(sc, "hyperbyte_points_written_total", &[]).unwrap_or(0.0);
    let writes = |sc: &Scrape| {
        value(
            sc,
            "hyperbyte_http_requests_total",
            &[("endpoint", "write"), ("status", "204")],
        )
        .unwrap_or(0.0)
    };
    let queries = |sc: &Scrape| value(sc, "hyperbyte_queries_total", &[]).unwrap_or(0.0);

    assert_eq!(
        s.write("obs", "cpu,host=a v=1 1\ncpu,host=b v=2 2\n").0,
        204
    );
    // A distinct count reads storage (the recent-data tier would answer `count(v)`).
    let (status, v) = s.query("obs", "SELECT count(distinct(v)) FROM cpu");
    assert_eq!(status, 200, "{v}");
    let after = scrape(&s);
    assert_eq!(points(&after) - points(&before), 2.0);
    assert_eq!(writes(&after) - writes(&before), 1.0);
    assert!(queries(&after) - queries(&before) >= 1.0);
    assert!(
        histogram_count(
            &after,
            "hyperbyte_http_request_duration_seconds",
            &[("endpoint", "write")]
        )
        .unwrap_or(0.0)
            >= 1.0
    );
    // The storage read flushed the write first (read-your-writes): a flush was timed.
    assert!(histogram_count(&after, "hyperbyte_flush_duration_seconds", &[]).unwrap_or(0.0) >= 1.0);
    assert_eq!(
        value(&after, "hyperbyte_series", &[("database", "obs")]),
        Some(2.0)
    );
    assert_eq!(
        value(&after, "hyperbyte_wal_backlog_points", &[]),
        Some(0.0)
    );
    assert!(value(
        &after,
        "hyperbyte_engine_errors_total",
        &[("path", "query")]
    )
    .is_some());

    // /debug/vars in InfluxDB's shape.
    let (status, body) = s.get("/debug/vars");
    assert_eq!(status, 200);
    let vars: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(vars["database:obs"]["name"], "database");
    assert_eq!(vars["database:obs"]["tags"]["database"], "obs");
    assert_eq!(vars["database:obs"]["values"]["numSeries"], 2);
    assert!(
        vars["queryExecutor"]["values"]["queriesExecuted"]
            .as_i64()
            .unwrap()
            >= 2
    );
    assert_eq!(vars["write"]["values"]["pointReq"], 2);
    assert!(vars["cmdline"].is_array() && vars["memstats"].is_object());
    let httpd = vars
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with("httpd:"))
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(httpd["values"]["writeReq"].as_u64().unwrap() >= 1);

    // Every answer carries its request id, in both of InfluxDB's headers.
    let r = ureq::get(&format!("{}/ping", s.url)).call().unwrap();
    let id = r.header("X-Request-Id").unwrap().to_string();
    assert_eq!(r.header("Request-Id"), Some(id.as_str()));
    let r = ureq::get(&format!("{}/metrics", s.url)).call().unwrap();
    assert!(r.header("X-Request-Id").is_some_and(|other| other != id));
}

/// Writes batches `from..to` of 25,000 points each, spread over 20 series.
fn write_batches(s: &Server, from: u64, to: u64) {
    for batch in from..to {
        let body: String = (0..25_000u64)
            .map(|i| {
                let n = batch * 25_000 + i;
                format!(
                    "m,h=h{} v={} {}\n",
                    n % 20,
                    n as f64 * 0.5,
                    n * 1_000_000_000
                )
            })
            .collect();
        assert_eq!(s.write("k", &body).0, 204);
    }
}

/// A query computing for seconds is listed by `SHOW QUERIES` and stopped by `KILL QUERY`
/// from another connection: its client gets `query interrupted` at once.
///
/// How long the query runs depends on the machine and on the read path (memory tier or
/// storage), so the test first grows the data until a run of it takes at least two
/// seconds (the faster of two), and kills the next run a quarter of that time after it
/// is listed: a query that ends between the check and the kill cannot be the outcome.
#[test]
fn kill_query_stops_a_long_query() {
    let s = Server::start();
    assert_eq!(s.query("", "CREATE DATABASE k").0, 200);
    // A moving average over a window of 2,000 points of every series, in a subquery:
    // seconds of evaluation over a few hundred thousand points.
    let long = "SELECT mean(x) FROM (SELECT moving_average(v, 2000) AS x FROM m GROUP BY h)";
    let mut batches = 8;
    write_batches(&s, 0, batches);
    // The faster of two runs: the first after a write may share the machine with the
    // flush of what was just written.
    let run_once = || {
        let started = Instant::now();
        let (status, v) = s.query("k", long);
        assert_eq!(status, 200, "{v}");
        assert!(v["results"][0]["series"].is_array(), "{v}");
        started.elapsed()
    };
    let full_run = loop {
        let took = run_once().min(run_once());
        if took >= Duration::from_secs(2) || batches >= 256 {
            break took;
        }
        write_batches(&s, batches, batches * 2);
        batches *= 2;
    };
    assert!(
        full_run >= Duration::from_millis(800),
        "{} points take only {full_run:?}",
        batches * 25_000
    );
    eprintln!(
        "{} points: one run of the query takes {full_run:?}",
        batches * 25_000
    );
    let url = s.url.clone();
    let started = Instant::now();
    let waiting = std::thread::spawn(move || {
        let r = ureq::post(&format!("{url}/query")).send_form(&[("db", "k"), ("q", long)]);
        let body = match r {
            Ok(r) => r.into_string().unwrap(),
            Err(ureq::Error::Status(_, r)) => r.into_string().unwrap(),
            Err(e) => panic!("{e}"),
        };
        (Instant::now(), body)
    });
    let qid = loop {
        assert!(started.elapsed() < Duration::from_secs(30), "never listed");
        let (status, v) = s.query("", "SHOW QUERIES");
        assert_eq!(status, 200);
        let cols = &v["results"][0]["series"][0]["columns"];
        assert_eq!(
            cols,
            &serde_json::json!(["qid", "query", "database", "duration", "status"])
        );
        let rows = v["results"][0]["series"][0]["values"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let found = rows.iter().find(|r| r[1] == long).cloned();
        if let Some(row) = found {
            assert_eq!(row[2], "k");
            assert_eq!(row[4], "running");
            break row[0].as_u64().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Killed early in its run: a quarter of it left a CI run under load too little
    // margin (the query finished before the kill arrived).
    std::thread::sleep(full_run / 8);
    assert!(
        !waiting.is_finished(),
        "the query was too short to be killed"
    );
    let (status, v) = s.query("", &format!("KILL QUERY {qid}"));
    let killed_at = Instant::now();
    assert_eq!(status, 200);
    assert_eq!(v, serde_json::json!({"results":[{"statement_id":0}]}));
    let (answered_at, body) = waiting.join().unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"results":[{"statement_id":0,"error":"query interrupted"}]})
    );
    let waited = answered_at.saturating_duration_since(killed_at);
    assert!(
        waited < Duration::from_secs(10),
        "answered {waited:?} after the kill"
    );
    // The work stops too (at its next charge of rows or points): the request leaves
    // the list long before the seconds it would have computed.
    let gone = loop {
        let (_, v) = s.query("", "SHOW QUERIES");
        let rows = v["results"][0]["series"][0]["values"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !rows.iter().any(|r| r[0] == qid) {
            break killed_at.elapsed();
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(60),
            "never stopped"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!("killed query answered after {waited:?}, gone after {gone:?}");
    // Unknown ids answer InfluxDB's text.
    let (_, v) = s.query("", "KILL QUERY 999999");
    assert_eq!(
        v,
        serde_json::json!({"results":[{"statement_id":0,"error":"no such query id: 999999"}]})
    );
    let after = scrape(&s);
    assert_eq!(
        value(&after, "hyperbyte_queries_killed_total", &[]),
        Some(1.0)
    );
}
