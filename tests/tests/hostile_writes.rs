//! Hostile and unusual writes end to end: every acknowledged point is storable and stays
//! readable, one measurement never stalls the others, names never share storage, and a
//! restart is clean. Each test failed on the code before the hardening it covers.
#![allow(clippy::unwrap_used)]

use hyperbyte_e2e::Server;

const WEEK: i64 = 7 * 86_400 * 1_000_000_000;

fn create_db(s: &Server, db: &str) {
    let (status, body) = s.query("", &format!("CREATE DATABASE \"{db}\""));
    assert_eq!(status, 200, "{body}");
}

/// The single value of a one-row answer (e.g. `count`).
fn scalar(s: &Server, db: &str, q: &str) -> serde_json::Value {
    let (status, v) = s.query(db, q);
    assert_eq!(status, 200, "{q}: {v}");
    assert!(v["results"][0]["error"].is_null(), "{q}: {v}");
    v["results"][0]["series"][0]["values"][0][1].clone()
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// A backfill of 101 weekly points in one `/write` used to be acknowledged and then
/// refused by the engine for good ("Too many partitions for single INSERT block"): every
/// query of every database failed and the server no longer started.
#[test]
fn a_backfill_spanning_years_is_stored_and_nothing_stalls() {
    let mut s = Server::start();
    create_db(&s, "backfill");
    create_db(&s, "other");
    let now = now_ns();
    let body: String = (0..101)
        .map(|i| format!("m v={i} {}\n", now - i * WEEK))
        .collect();
    let (status, text) = s.write("backfill", &body);
    assert_eq!(status, 204, "{text}");
    assert_eq!(scalar(&s, "backfill", "SELECT count(v) FROM m"), 101);
    assert_eq!(scalar(&s, "backfill", "SELECT sum(v) FROM m"), 5050.0);
    // Another database keeps read-your-writes.
    assert_eq!(s.write("other", "n v=1").0, 204);
    assert_eq!(scalar(&s, "other", "SELECT count(v) FROM n"), 1);
    // And 2,000 partitions (a daily point over five and a half years, 1-day shards).
    let (status, body) = s.query(
        "",
        "CREATE RETENTION POLICY daily ON backfill DURATION INF REPLICATION 1 SHARD DURATION 1d",
    );
    assert_eq!(status, 200, "{body}");
    let day = WEEK / 7;
    let body: String = (0..2000)
        .map(|i| format!("d v={i} {}\n", now - i * day))
        .collect();
    let (status, text) = s.write_params("db=backfill&rp=daily", &body);
    assert_eq!(status, 204, "{text}");
    assert_eq!(scalar(&s, "backfill", "SELECT count(v) FROM daily.d"), 2000);

    s.restart();
    assert_eq!(scalar(&s, "backfill", "SELECT count(v) FROM m"), 101);
    assert_eq!(scalar(&s, "backfill", "SELECT count(v) FROM daily.d"), 2000);
    let (status, health) = s.query("", "SHOW DATABASES");
    assert_eq!(status, 200, "{health}");
    let h: serde_json::Value = serde_json::from_str(
        &ureq::get(&format!("{}/health", s.url))
            .call()
            .unwrap()
            .into_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(h["status"], "pass", "{h}");
}

/// A line bringing thousands of new fields with long names: the DDL and the insert used
/// to exceed the engine's statement size.
#[test]
fn a_line_with_thousands_of_long_field_names_is_stored() {
    let s = Server::start();
    create_db(&s, "wide");
    let fields: Vec<String> = (0..3000)
        .map(|i| format!("field_with_a_rather_long_descriptive_name_number_{i:05}={i}"))
        .collect();
    let line = format!("w,host=a {} 1000000000\n", fields.join(","));
    let (status, text) = s.write("wide", &line);
    assert_eq!(status, 204, "{text}");
    assert_eq!(
        scalar(
            &s,
            "wide",
            "SELECT field_with_a_rather_long_descriptive_name_number_02999 FROM w"
        ),
        2999.0
    );
    let (status, v) = s.query("wide", "SELECT * FROM w");
    assert_eq!(status, 200);
    let columns = v["results"][0]["series"][0]["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 3002, "time, host and 3,000 fields");
    let (_, v) = s.query("wide", "SHOW FIELD KEY CARDINALITY");
    assert_eq!(v["results"][0]["series"][0]["values"][0][0], 3000, "{v}");
}

/// InfluxDB's extreme valid timestamps are stored and read back.
#[test]
fn points_at_the_ends_of_the_time_range_are_stored() {
    let s = Server::start();
    create_db(&s, "edges");
    let body = "e v=1 -9223372036854775806\ne v=2 9223372036854775806\ne v=3 0\n";
    let (status, text) = s.write("edges", body);
    assert_eq!(status, 204, "{text}");
    let (status, v) = s.query(
        "edges",
        "SELECT v FROM e WHERE time >= -9223372036854775806 AND time <= 9223372036854775806",
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["results"][0]["series"][0]["values"],
        serde_json::json!([
            ["1677-09-21T00:12:43.145224194Z", 1],
            ["1970-01-01T00:00:00Z", 3],
            ["2262-04-11T23:47:16.854775806Z", 2]
        ]),
        "{v}"
    );
}

/// A name shortened for storage used to be able to spell another, short name's storage
/// name: these two measurements shared one table.
#[test]
fn long_and_short_names_never_share_storage() {
    let s = Server::start();
    create_db(&s, "names");
    let long = format!("{}zz", ".".repeat(52));
    let short = "....................._z+8fe45165b20aa568d84ac88a2c2151";
    assert_eq!(s.write("names", &format!("{long} a=1 1")).0, 204);
    assert_eq!(s.write("names", &format!("{short} b=2 1")).0, 204);
    let (_, v) = s.query("names", &format!("SELECT * FROM \"{long}\""));
    assert_eq!(
        v["results"][0]["series"][0]["columns"],
        serde_json::json!(["time", "a"]),
        "{v}"
    );
    let (_, v) = s.query("names", &format!("SELECT * FROM \"{short}\""));
    assert_eq!(
        v["results"][0]["series"][0]["columns"],
        serde_json::json!(["time", "b"]),
        "{v}"
    );
    // Long database, tag and field names work too.
    let db = "d".repeat(300);
    create_db(&s, &db);
    let tag = "t".repeat(300);
    let field = "f".repeat(300);
    assert_eq!(s.write(&db, &format!("m,{tag}=x {field}=1 1")).0, 204);
    assert_eq!(scalar(&s, &db, &format!("SELECT count({field}) FROM m")), 1);
}

/// `SELECT … INTO` cannot create a field whose key would name another field's storage
/// column (a newline separates a field key from the type of its side columns).
#[test]
fn into_refuses_field_keys_storage_cannot_keep_apart() {
    let s = Server::start();
    create_db(&s, "into");
    assert_eq!(s.write("into", "m v=1 1\nm v=2 2").0, 204);
    let (status, v) = s.query("into", "SELECT v AS \"x\\nstring\" INTO m2 FROM m");
    assert_eq!(status, 200, "{v}");
    let err = v["results"][0]["error"].as_str().unwrap_or_default();
    assert!(
        err.contains("newline") || v["results"][0]["series"][0]["values"][0][1] == 0,
        "{v}"
    );
    let (_, v) = s.query("into", "SHOW FIELD KEYS FROM m2");
    assert!(v["results"][0]["series"].is_null(), "{v}");
}

fn count(s: &Server, db: &str, m: &str) -> i64 {
    let (status, v) = s.query(db, &format!("SELECT count(v) FROM \"{m}\""));
    assert_eq!(status, 200, "{v}");
    v["results"][0]["series"][0]["values"][0][1]
        .as_i64()
        .unwrap_or(0)
}

/// Has the server flush what it acknowledged: a read the recent-data tier does not
/// answer (a distinct count) reads storage, which flushes first. (A read the tier answers
/// sees acknowledged points without a flush, before storage could refuse them.)
fn flush(s: &Server, db: &str) {
    let (status, v) = s.query(db, "SELECT count(distinct(v)) FROM /.*/");
    assert_eq!(status, 200, "{v}");
}

fn health(s: &Server) -> serde_json::Value {
    let (status, body) = s.get("/health");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// A measurement storage keeps refusing (made so by the `chdb-insert` failure point) is
/// set aside: the other measurement of the same writes stays readable, `/health` names
/// the held one with the engine's error, a delete that could not reach its points is
/// refused, a restart is clean, and once storage accepts it again every point is there.
#[test]
fn a_table_storage_refuses_is_set_aside_and_flushed_once_accepted() {
    let refuse = [("FAILPOINTS", "chdb-insert=return(bad)")];
    let mut s = Server::start_with_env(&refuse);
    create_db(&s, "held");
    create_db(&s, "other");
    let (status, text) = s.write("held", "good v=1 1000000000\nbad v=1 1000000000\n");
    assert_eq!(status, 204, "{text}");
    assert_eq!(
        s.write("held", "bad v=2 2000000000\ngood v=2 2000000000\n")
            .0,
        204
    );
    flush(&s, "held");
    assert_eq!(count(&s, "held", "good"), 2);
    assert_eq!(count(&s, "held", "bad"), 0);
    assert_eq!(s.write("other", "m v=1").0, 204);
    assert_eq!(count(&s, "other", "m"), 1);
    let h = health(&s);
    assert_eq!(h["status"], "warn", "{h}");
    assert_eq!(h["checks"][0]["measurement"], "bad", "{h}");
    assert!(
        h["checks"][0]["message"]
            .as_str()
            .unwrap()
            .contains("failure point chdb-insert"),
        "{h}"
    );
    let (_, metrics) = s.get("/metrics");
    assert!(
        metrics.contains("hyperbyte_flush_held_tables 1"),
        "{metrics}"
    );
    let (status, v) = s.query("held", "DELETE FROM good WHERE time < 0");
    assert_eq!(status, 200);
    let err = v["results"][0]["error"].as_str().unwrap_or_default();
    assert!(err.contains("\"bad\"") && err.contains("set aside"), "{v}");

    // Still refused after a restart: the server starts, serves, and keeps them aside.
    s.restart();
    assert_eq!(count(&s, "held", "good"), 2);
    assert_eq!(health(&s)["status"], "warn");
    assert_eq!(s.write("held", "bad v=3 3000000000\n").0, 204);

    // Storage accepts it again: the flush loop stores every point, in order.
    s.restart_with_env(&[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    // The table is released once its last page is stored: its points can be counted a
    // moment before `/health` passes.
    while (count(&s, "held", "bad") < 3 || health(&s)["status"] != "pass")
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(count(&s, "held", "bad"), 3);
    assert_eq!(health(&s)["status"], "pass");
    assert_eq!(count(&s, "held", "good"), 2);
}

/// Dropping a held measurement discards what was set aside for it, and nothing of it
/// comes back when the measurement is written again.
#[test]
fn dropping_a_held_measurement_discards_its_points() {
    let mut s = Server::start_with_env(&[("FAILPOINTS", "chdb-insert=return(bad)")]);
    create_db(&s, "dropheld");
    assert_eq!(
        s.write("dropheld", "good v=1 1000000000\nbad v=1 1000000000\n")
            .0,
        204
    );
    flush(&s, "dropheld");
    assert_eq!(count(&s, "dropheld", "good"), 1);
    assert_eq!(health(&s)["status"], "warn");
    let (status, v) = s.query("dropheld", "DROP MEASUREMENT bad");
    assert_eq!(status, 200, "{v}");
    assert!(v["results"][0]["error"].is_null(), "{v}");
    assert_eq!(health(&s)["status"], "pass");
    s.restart_with_env(&[]);
    assert_eq!(s.write("dropheld", "bad v=5 5000000000\n").0, 204);
    assert_eq!(count(&s, "dropheld", "bad"), 1);
}
