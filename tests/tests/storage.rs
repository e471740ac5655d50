//! Storage end to end: read-your-writes, InfluxDB's field-wise overwrite semantics,
//! restarts (graceful and SIGKILL), schema evolution and hostile names.
#![allow(clippy::unwrap_used)]

use hyperbyte_e2e::Server;
use serde_json::{json, Value};

fn values(v: &Value) -> Value {
    v["results"][0]["series"][0]["values"].clone()
}

fn create_db(s: &Server, db: &str) {
    let (status, body) = s.query("", &format!("CREATE DATABASE \"{db}\""));
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_write_is_visible_to_the_next_query() {
    let s = Server::start();
    create_db(&s, "ryw");
    for i in 0..20 {
        let (status, _) = s.write("ryw", &format!("m v={i} {}", 1_000_000_000 + i));
        assert_eq!(status, 204);
        let (_, v) = s.query("ryw", "SELECT count(v) FROM m");
        assert_eq!(
            values(&v),
            json!([["1970-01-01T00:00:00Z", i + 1]]),
            "after write {i}"
        );
    }
}

#[test]
fn overwrites_merge_field_by_field_like_influxdb() {
    let s = Server::start();
    create_db(&s, "ow");
    // Across requests (and flushes): a=1, then b=2, then a=3 at the same series and time.
    for body in [
        "m,h=x a=1 1000000000",
        "m,h=x b=2 1000000000",
        "m,h=x a=3 1000000000",
    ] {
        assert_eq!(s.write("ow", body).0, 204);
        let _ = s.query("ow", "SELECT count(a) FROM m"); // forces a flush in between
    }
    // Within one request.
    assert_eq!(
        s.write(
            "ow",
            "m,h=y a=1 2000000000\nm,h=y b=2 2000000000\nm,h=y a=3 2000000000"
        )
        .0,
        204
    );
    let (_, v) = s.query("ow", "SELECT a, b FROM m GROUP BY h");
    let series = &v["results"][0]["series"];
    assert_eq!(
        series[0]["values"],
        json!([["1970-01-01T00:00:01Z", 3, 2]]),
        "{v}"
    );
    assert_eq!(
        series[1]["values"],
        json!([["1970-01-01T00:00:02Z", 3, 2]]),
        "{v}"
    );
    // Writing the same point again changes nothing.
    assert_eq!(s.write("ow", "m,h=x a=3 1000000000").0, 204);
    let (_, v) = s.query("ow", "SELECT count(a) FROM m");
    assert_eq!(values(&v), json!([["1970-01-01T00:00:00Z", 2]]));
}

#[test]
fn data_survives_graceful_and_hard_restarts() {
    let mut s = Server::start();
    create_db(&s, "rs");
    assert_eq!(
        s.write("rs", "m,h=a v=1 1000000000\nm,h=b v=2 2000000000")
            .0,
        204
    );
    assert!(s.terminate());
    s.restart();
    let (_, v) = s.query("rs", "SELECT sum(v) FROM m");
    assert_eq!(values(&v), json!([["1970-01-01T00:00:00Z", 3]]));
    // Acknowledged but (probably) unflushed, then SIGKILL: the WAL replays it.
    assert_eq!(s.write("rs", "m,h=c v=4 3000000000").0, 204);
    s.kill9();
    s.restart();
    let (_, v) = s.query("rs", "SELECT sum(v) FROM m");
    assert_eq!(values(&v), json!([["1970-01-01T00:00:00Z", 7]]));
    let (_, v) = s.query("rs", "SHOW SERIES");
    assert_eq!(values(&v).as_array().map(Vec::len), Some(3), "{v}");
}

#[test]
fn schema_evolves_online() {
    let s = Server::start();
    create_db(&s, "ev");
    assert_eq!(s.write("ev", "m,h=a v=1 1000000000").0, 204);
    let _ = s.query("ev", "SELECT * FROM m");
    // New field, new tag, after data exists.
    assert_eq!(s.write("ev", "m,h=a,z=q v=2,w=\"s\" 2000000000").0, 204);
    let (_, v) = s.query("ev", "SELECT * FROM m");
    assert_eq!(
        v["results"][0]["series"][0]["columns"],
        json!(["time", "h", "v", "w", "z"]),
        "{v}"
    );
    assert_eq!(
        values(&v),
        json!([
            ["1970-01-01T00:00:01Z", "a", 1, null, null],
            ["1970-01-01T00:00:02Z", "a", 2, "s", "q"]
        ])
    );
    let (_, v) = s.query("ev", "SELECT count(v) FROM m GROUP BY z");
    assert_eq!(
        v["results"][0]["series"].as_array().map(Vec::len),
        Some(2),
        "{v}"
    );
}

#[test]
fn hostile_names_round_trip() {
    let s = Server::start();
    let db = "we`ird'db.name";
    let (status, body) = s.query("", "CREATE DATABASE \"we`ird'db.name\"");
    assert_eq!(status, 200, "{body}");
    let lines = [
        r#"m\ 1,t\,1=a\ b,T=x v=1 1000000000"#,
        r#"M\ 1,t\,1=a\ b,T=x v=2 1000000000"#,
        "ünï,tag=x tag=3,\"quote=4 1000000000",
        "drop\\ table,x=y v=5 1000000000",
    ];
    let r = ureq::post(&format!("{}/write", s.url))
        .query("db", db)
        .send_string(&lines.join("\n"));
    assert_eq!(r.map(|r| r.status()).unwrap_or(0), 204);
    let (_, v) = s.query(db, "SHOW MEASUREMENTS");
    assert_eq!(
        values(&v),
        json!([["M 1"], ["drop table"], ["m 1"], ["ünï"]]),
        "{v}"
    );
    let (_, v) = s.query(db, r#"SELECT v FROM "m 1" WHERE "t,1" = 'a b'"#);
    assert_eq!(values(&v), json!([["1970-01-01T00:00:01Z", 1]]), "{v}");
    let (_, v) = s.query(db, r#"SELECT v FROM "M 1""#);
    assert_eq!(values(&v), json!([["1970-01-01T00:00:01Z", 2]]), "{v}");
    let (_, v) = s.query(
        db,
        "SELECT \"tag\"::field, \"tag\"::tag, \"\\\"quote\" FROM \"ünï\"",
    );
    assert_eq!(
        values(&v),
        json!([["1970-01-01T00:00:01Z", 3, "x", 4]]),
        "{v}"
    );
    let (_, v) = s.query(db, "SELECT * FROM \"drop table\" WHERE x = 'y'' OR 1=1 --'");
    assert!(
        v["results"][0]["series"].is_null() || v["results"][0].get("error").is_some(),
        "{v}"
    );
}
