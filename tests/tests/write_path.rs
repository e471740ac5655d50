//! The write path end to end: status codes and errors as InfluxDB answers them, gzip,
//! size limits. (Durability across SIGKILL: the crash harness, `tests/tests/crash.rs`.)
#![allow(clippy::unwrap_used)]

use hyperbyte_e2e::Server;
use std::io::Write;

fn create_db(s: &Server, db: &str) {
    let (status, body) = s.query("", &format!("CREATE DATABASE \"{db}\""));
    assert_eq!(status, 200, "{body}");
}

#[test]
fn write_answers_like_influxdb() {
    let s = Server::start();
    let (status, body) = s.write("nosuch", "m v=1 1");
    assert_eq!(status, 404);
    assert!(
        body.contains("database not found: \\\"nosuch\\\""),
        "{body}"
    );

    create_db(&s, "w");
    // v is a float in the first line and an integer in the second: InfluxDB rejects the
    // whole request and writes nothing.
    let (status, body) = s.write("w", "m,host=a v=1 1000000000\nm,host=b v=2i 2000000000\n");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("field type conflict"), "{body}");
    let (_, v) = s.query("w", "SELECT count(v) FROM m");
    assert!(v["results"][0]["series"].is_null(), "{v}");
    // Against the stored type: a partial write that drops the conflicting point.
    let (status, _) = s.write("w", "m v=1 1000000000");
    assert_eq!(status, 204);
    let (status, body) = s.write("w", "m v=1i 3000000000");
    assert_eq!(status, 400);
    assert!(body.contains("field type conflict"), "{body}");
    // A dropped point creates none of its fields (here `b`, checked before `v`).
    let (status, body) = s.write("w", "m b=1,v=1i 3000000000");
    assert_eq!(status, 400);
    assert!(body.contains("dropped=1"), "{body}");
    let (_, v) = s.query("w", "SHOW FIELD KEYS FROM m");
    assert_eq!(
        v["results"][0]["series"][0]["values"],
        serde_json::json!([["v", "float"]]),
        "{v}"
    );
    let (status, body) = s.write("w", "m v= 1");
    assert_eq!(status, 400);
    assert!(body.contains("unable to parse"), "{body}");
    let (status, _) = s.write("w", "m v=3 4000000000");
    assert_eq!(status, 204);
    let (status, body) = s.write_params("db=w&rp=nosuch", "m v=1 1");
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("retention policy not found"), "{body}");

    // gzip bodies and the v2 endpoint
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(b"g v=1 1\n").unwrap();
    let gz = enc.finish().unwrap();
    let r = ureq::post(&format!("{}/write?db=w", s.url))
        .set("Content-Encoding", "gzip")
        .send_bytes(&gz)
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = ureq::post(&format!("{}/api/v2/write?bucket=w/autogen&org=x", s.url))
        .send_string("v2 v=1 1");
    assert_eq!(r.unwrap().status(), 204);
    let r = ureq::get(&format!("{}/write?db=w", s.url)).call();
    assert!(matches!(r, Err(ureq::Error::Status(405, _))));
}

/// A gzip body is read member after member, as InfluxDB (Go's `gzip.Reader`) reads it:
/// a body made of concatenated compressed pieces stores every piece's points (before,
/// only the first piece's were stored, and the write was acknowledged). A broken stream
/// gets Go's error text; a missing database is answered before the body is read.
#[test]
fn every_member_of_a_gzip_body_is_stored() {
    let s = Server::start();
    create_db(&s, "gzm");
    let gz = |lines: &[u8]| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(lines).unwrap();
        enc.finish().unwrap()
    };
    let post = |db: &str, body: &[u8]| match ureq::post(&format!("{}/write?db={db}", s.url))
        .set("Content-Encoding", "gzip")
        .send_bytes(body)
    {
        Ok(r) => (r.status(), String::new()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
        Err(e) => panic!("{e}"),
    };
    let mut body = gz(b"m v=1 1\nm v=2 2\n");
    body.extend(gz(b"m v=3 3\n"));
    body.extend(gz(b"m v=4 4\n"));
    assert_eq!(post("gzm", &body).0, 204);
    let (_, v) = s.query("gzm", "SELECT count(v) FROM m");
    assert_eq!(v["results"][0]["series"][0]["values"][0][1], 4, "{v}");

    let mut trailing = gz(b"m v=5 5\n");
    trailing.extend_from_slice(b"garbage");
    assert_eq!(
        post("gzm", &trailing),
        (400, "{\"error\":\"unexpected EOF\"}\n".to_string())
    );
    let (status, text) = post("nosuch", b"not gzip");
    assert_eq!(status, 404, "{text}");
    let (_, v) = s.query("gzm", "SELECT count(v) FROM m");
    assert_eq!(v["results"][0]["series"][0]["values"][0][1], 4, "{v}");
}

/// InfluxDB fixes a field's type per shard group (a week for `autogen`): another type is
/// accepted in another week and refused in a week that already has the field.
#[test]
fn field_types_are_fixed_per_shard_group() {
    let mut s = Server::start();
    create_db(&s, "sg");
    const JAN_2020: i64 = 1_577_836_801_000_000_000;
    const JUL_2010: i64 = 1_278_010_020_000_000_000;
    const SEP_2001: i64 = 1_000_000_000_000_000_000;
    for body in [
        format!("m v=1 {JAN_2020}"),
        format!("m v=\"s\" {JUL_2010}"),
        format!("m v=3i {SEP_2001}"),
        // One request, two types of a new field in two weeks.
        format!("n w=1 {JAN_2020}\nn w=true {JUL_2010}"),
    ] {
        let (status, text) = s.write("sg", &body);
        assert_eq!(status, 204, "{body}: {text}");
    }
    let conflicts = [
        (
            format!("m v=\"x\" {}", JAN_2020 + 1_000_000_000),
            "field type conflict: input field \\\"v\\\" on measurement \\\"m\\\" is type string, already exists as type float dropped=1",
        ),
        (
            format!("m v=2 {}", JUL_2010 + 1_000_000_000),
            "is type float, already exists as type string dropped=1",
        ),
    ];
    let check = |s: &Server| {
        for (body, want) in &conflicts {
            let (status, text) = s.write("sg", body);
            assert_eq!(status, 400, "{body}");
            assert!(text.contains(want), "{body}: {text}");
        }
        let (_, v) = s.query("sg", "SHOW FIELD KEYS FROM m");
        assert_eq!(
            v["results"][0]["series"][0]["values"],
            serde_json::json!([["v", "float"], ["v", "integer"], ["v", "string"]]),
            "{v}"
        );
        // Queries read the field's first type; other types never leak as columns.
        let (_, v) = s.query("sg", "SELECT * FROM m");
        assert_eq!(
            v["results"][0]["series"][0]["columns"],
            serde_json::json!(["time", "v"]),
            "{v}"
        );
        let (_, v) = s.query("sg", "SELECT v FROM m WHERE time >= '2020-01-01T00:00:00Z'");
        assert_eq!(
            v["results"][0]["series"][0]["values"],
            serde_json::json!([["2020-01-01T00:00:01Z", 1]]),
            "{v}"
        );
    };
    check(&s);
    assert!(s.terminate());
    s.restart();
    check(&s);
}

/// Past `wal.max_backlog_points` unflushed points, writes get a retryable 503 (never a 4xx,
/// which Telegraf would drop); once the flush catches up they succeed again.
#[test]
fn a_full_write_backlog_answers_503_until_the_flush_catches_up() {
    let s = Server::start_with_env(&[
        ("HYPERBYTE_WAL__MAX_BACKLOG_POINTS", "10"),
        ("HYPERBYTE_FLUSH__INTERVAL_SECS", "3600"),
        ("HYPERBYTE_FLUSH__BACKLOG_TRIGGER", "1000000"),
    ]);
    create_db(&s, "bp");
    let body: String = (0..10).map(|i| format!("m v={i} {}\n", 1 + i)).collect();
    assert_eq!(s.write("bp", &body).0, 204);
    let r = ureq::post(&format!("{}/write?db=bp", s.url)).send_string("m v=99 100");
    match r {
        Err(ureq::Error::Status(503, resp)) => {
            assert_eq!(resp.header("Retry-After"), Some("1"));
            let text = resp.into_string().unwrap();
            assert!(text.contains("write backlog full"), "{text}");
        }
        other => panic!("expected 503, got {other:?}"),
    }
    // /health says why (still 200: queries are served), and so do the metrics.
    let (status, body) = s.get("/health");
    assert_eq!(status, 200, "{body}");
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(h["status"], "warn", "{h}");
    assert_eq!(h["checks"][0]["name"], "wal", "{h}");
    assert_eq!(h["checks"][0]["backlog_points"], 10, "{h}");
    let (_, metrics) = s.get("/metrics");
    assert!(
        metrics.contains("\nhyperbyte_wal_backlog_points 10\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nhyperbyte_wal_backlog_limit_points 10\n"),
        "{metrics}"
    );
    // A storage read makes every acknowledged write visible, which empties the backlog
    // (a distinct count: the recent-data tier would answer `count(v)` without a flush).
    let (_, v) = s.query("bp", "SELECT count(distinct(v)) FROM m");
    assert_eq!(
        v["results"][0]["series"][0]["values"],
        serde_json::json!([["1970-01-01T00:00:00Z", 10]]),
        "{v}"
    );
    assert_eq!(s.write("bp", "m v=99 100").0, 204);
    let (_, body) = s.get("/health");
    assert!(body.contains("\"status\":\"pass\""), "{body}");
}

#[test]
fn oversized_body_is_413_and_large_bodies_below_the_limit_work() {
    let s = Server::start_with_env(&[("HYPERBYTE_HTTP__MAX_BODY_BYTES", "4000000")]);
    create_db(&s, "big");
    // 3 MB: above axum's 2 MB default, below the configured limit.
    let mut body = String::new();
    let mut i = 0u64;
    while body.len() < 3_000_000 {
        body.push_str(&format!("m,host=a v={i} {}\n", i + 1));
        i += 1;
    }
    let (status, text) = s.write("big", &body);
    assert_eq!(status, 204, "{text}");
    while body.len() < 4_100_000 {
        body.push_str(&format!("m,host=a v={i} {}\n", i + 1));
        i += 1;
    }
    let (status, text) = s.write("big", &body);
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("request body too large"), "{text}");
}

/// An error quoting a long line answers 400 with the whole text in the body and
/// InfluxDB's first 1,024 bytes of it in `X-Influxdb-Error`: the full 200 kB in a header
/// line made clients (Python's `http.client`, ureq) fail to read the answer at all.
#[test]
fn a_long_parse_error_keeps_its_header_to_1024_bytes() {
    let s = Server::start();
    create_db(&s, "long_err");
    let line = format!("m {}g=1", "f,".repeat(100_000));
    let answer = ureq::post(&format!("{}/write?db=long_err", s.url)).send_string(&line);
    let resp = match answer {
        Err(ureq::Error::Status(400, resp)) => resp,
        Err(e) => panic!("the answer could not be read: {e}"),
        Ok(resp) => panic!("status {}", resp.status()),
    };
    let header = resp.header("X-Influxdb-Error").unwrap().to_string();
    let body: serde_json::Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
    let error = body["error"].as_str().unwrap();
    assert!(error.starts_with("unable to parse 'm f,f,"), "{error:.80}");
    assert!(error.len() > 200_000, "{}", error.len());
    assert_eq!(header.len(), 1024);
    assert_eq!(header, error[..1024]);
}

/// Whether a file named `name` exists anywhere under `dir`.
fn file_under(dir: &std::path::Path, name: &str) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                file_under(&p, name)
            } else {
                e.file_name() == name
            }
        })
}

#[test]
fn steady_small_writes_reach_storage_without_a_query() {
    // Writes every 100 ms stay far below the flush's backlog trigger; the periodic flush
    // (every second) must still run while they keep coming.
    let s = Server::start();
    create_db(&s, "steady");
    // The first flush also creates the database and table in the engine, which a loaded
    // machine may take seconds for: up to 30 s of writes (a flush timer that each write
    // restarted would still never fire).
    let mut flushed = false;
    for i in 0..300 {
        let (status, body) = s.write("steady", &format!("m,h=a v={i} {}", 1_000_000_000 + i));
        assert_eq!(status, 204, "{body}");
        if file_under(&s.data_dir.join("chdb"), "r_autogen_m_m.sql") {
            flushed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        flushed,
        "nothing was flushed into storage in 30 s of steady writes"
    );
}

/// A point refused by the field checks (a field type conflict, a `time`-only field set)
/// still puts its series in the index, as InfluxDB 1.x does (it indexes the series before
/// it validates the fields): `SHOW SERIES`, `SHOW TAG KEYS`, `SHOW TAG VALUES` and
/// `SHOW MEASUREMENTS` list it, with no data. Answers recorded from InfluxDB 1.6.7; found by
/// the Python client scenario in `real_clients.rs`.
#[test]
fn refused_points_still_index_their_series() {
    let s = Server::start();
    create_db(&s, "r");
    assert_eq!(s.write("r", "m,host=a v=1 1000").0, 204);
    let (status, body) = s.write("r", "m2,host=q time=1 1000");
    assert_eq!(status, 400);
    assert!(body.contains("invalid field name"), "{body}");
    let (status, body) = s.write("r", "m,host=newh,newtag=x v=\"s\" 2000");
    assert_eq!(status, 400);
    assert!(body.contains("field type conflict"), "{body}");
    let (_, v) = s.query(
        "r",
        "SHOW SERIES; SHOW MEASUREMENTS; SHOW TAG KEYS; SHOW TAG VALUES WITH KEY = host; \
         SHOW FIELD KEYS; SELECT * FROM m",
    );
    let expected: serde_json::Value = serde_json::from_str(
        r#"{"results":[
        {"statement_id":0,"series":[{"columns":["key"],"values":[["m,host=a"],["m,host=newh,newtag=x"],["m2,host=q"]]}]},
        {"statement_id":1,"series":[{"name":"measurements","columns":["name"],"values":[["m"],["m2"]]}]},
        {"statement_id":2,"series":[{"name":"m","columns":["tagKey"],"values":[["host"],["newtag"]]},{"name":"m2","columns":["tagKey"],"values":[["host"]]}]},
        {"statement_id":3,"series":[{"name":"m","columns":["key","value"],"values":[["host","a"],["host","newh"]]},{"name":"m2","columns":["key","value"],"values":[["host","q"]]}]},
        {"statement_id":4,"series":[{"name":"m","columns":["fieldKey","fieldType"],"values":[["v","float"]]}]},
        {"statement_id":5,"series":[{"name":"m","columns":["time","host","newtag","v"],"values":[["1970-01-01T00:00:00.000001Z","a",null,1]]}]}]}"#,
    )
    .unwrap();
    assert_eq!(v, expected);
}

/// Read-your-writes under concurrent writers: each write puts its points in the recent-data
/// tier in WAL order before its `204`, so a read right after the `204` sees the write,
/// and the value of a point several writers overwrite is the last acknowledged one. Four
/// writers, each overwriting its own point and adding one of a shared series; after every
/// `204` the writer reads both back. Once more with the tier off (storage reads flush).
#[test]
fn reads_right_after_concurrent_writes_see_them() {
    for env in [&[][..], &[("HYPERBYTE_HOT_TIER__MAX_BYTES", "0")][..]] {
        let s = Server::start_with_env(env);
        create_db(&s, "ryw");
        std::thread::scope(|scope| {
            for w in 0..4 {
                let s = &s;
                scope.spawn(move || {
                    for i in 1..=40_i64 {
                        let t = 1_000_000_000 * (w * 1000 + i);
                        let body = format!("m,w=w{w} v={i} 1000000000\nall,w=w{w} v={i} {t}");
                        let (status, b) = s.write("ryw", &body);
                        assert_eq!(status, 204, "{b}");
                        let (_, v) = s.query("ryw", &format!("SELECT v FROM m WHERE w = 'w{w}'"));
                        assert_eq!(
                            v["results"][0]["series"][0]["values"][0][1], i,
                            "{env:?} writer {w} after write {i}: {v}"
                        );
                        let (_, v) = s.query(
                            "ryw",
                            &format!("SELECT count(v) FROM \"all\" WHERE w = 'w{w}'"),
                        );
                        assert_eq!(
                            v["results"][0]["series"][0]["values"][0][1], i,
                            "{env:?} writer {w} after write {i}: {v}"
                        );
                    }
                });
            }
        });
        let (_, v) = s.query("ryw", "SELECT count(v) FROM \"all\"");
        assert_eq!(v["results"][0]["series"][0]["values"][0][1], 160, "{v}");
    }
}
