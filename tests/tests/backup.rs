//! `hyperbyted backup`, `restore` and `export` against the real binary: a round trip under
//! write load (every batch acknowledged before the snapshot instant is restored, whole),
//! a time-bounded backup, a database renamed on restore into a live server, damaged and
//! incomplete backups refused, an export re-imported (through `/write`, and with the
//! `influx` CLI when `E2E_CLIENT_INFLUX` locates it), and admin-only access with auth on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hyperbyte_e2e::{binary, Server};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SEC: i64 = 1_000_000_000;
/// Aligned on 1000 s, so `GROUP BY time(1000s)` puts each load batch in its own bucket.
const BASE: i64 = 1_700_000_000 * SEC;
/// Start of the write load in `round_trip_under_write_load`: a week boundary (a backup
/// window), with each batch of 1,000 points within one second of its 1,000-second slot,
/// so no batch spans two windows (points written after the snapshot may be in the
/// backup or not, window by window: a batch across a boundary could be cut in two).
const LOAD_BASE: i64 = 1_699_488_000 * SEC;

/// Runs `hyperbyted ARGS` with no `HYPERBYTE_*` configuration from the test's environment.
fn hyperbyted(args: &[&str]) -> Output {
    let mut cmd = Command::new(binary());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("HYPERBYTE_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args).output().expect("run hyperbyted")
}

fn ok(args: &[&str]) -> String {
    let out = hyperbyted(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "hyperbyted {args:?} failed: {stderr}");
    stderr
}

fn fails(args: &[&str]) -> String {
    let out = hyperbyted(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "hyperbyted {args:?} should fail");
    stderr
}

fn q(s: &Server, db: &str, query: &str) -> Value {
    let (st, v) = s.query(db, query);
    assert_eq!(st, 200, "{query}: {v}");
    assert!(v.pointer("/results/0/error").is_none(), "{query}: {v}");
    v
}

fn write(s: &Server, params: &str, body: &str) {
    let (st, b) = s.write_params(params, body);
    assert_eq!(st, 204, "write {params}: {b}");
}

/// A few measurements with every field type, tags needing escapes, two policies.
fn seed(s: &Server, db: &str) {
    q(s, "", &format!("CREATE DATABASE {db}"));
    q(
        s,
        "",
        &format!("CREATE RETENTION POLICY short ON {db} DURATION 3650d REPLICATION 1"),
    );
    let mut body = String::new();
    for i in 0..100i64 {
        let t = BASE + i * SEC;
        body.push_str(&format!(
            "cpu,host=h{},dc=a\\ b usage={}.5,n={i}i,ok={},note=\"q\\\"{i}\" {t}\n",
            i % 4,
            i * 3,
            i % 2 == 0
        ));
        body.push_str(&format!("mem,host=h{} free={} {t}\n", i % 2, 1000 - i));
    }
    write(s, &format!("db={db}"), &body);
    write(
        s,
        &format!("db={db}&rp=short"),
        &format!("disk,host=h0 used=7i {BASE}\n"),
    );
}

/// The answers that must match between an original and a restored database.
const CHECKS: &[&str] = &[
    "SELECT count(*), sum(usage), sum(n), min(usage), max(n) FROM cpu",
    "SELECT count(*), sum(free) FROM mem GROUP BY host",
    "SELECT * FROM cpu WHERE host = 'h1' LIMIT 5",
    "SELECT * FROM short.disk",
    "SHOW FIELD KEYS",
    "SHOW TAG VALUES WITH KEY = host",
    "SHOW SERIES",
    "SHOW RETENTION POLICIES",
];

fn same_answers(a: &Server, db_a: &str, b: &Server, db_b: &str) {
    for check in CHECKS {
        assert_eq!(
            q(a, db_a, check),
            q(b, db_b, check),
            "{check} differs between {db_a} and {db_b}"
        );
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// A backup taken while a writer writes, restored into a new data directory: every batch
/// acknowledged before the snapshot instant is there whole, no batch is partial, and the
/// seeded measurements answer the same.
#[test]
fn round_trip_under_write_load() {
    let s = Server::start();
    seed(&s, "db");
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<(i64, i64)>>> = Arc::default();
    let writer = {
        let (url, stop, acked) = (s.url.clone(), stop.clone(), acked.clone());
        std::thread::spawn(move || {
            let mut batch = 0i64;
            while !stop.load(Ordering::SeqCst) && batch < 10_000 {
                let mut body = String::new();
                for i in 0..1000 {
                    let seq = batch * 1000 + i;
                    let t = LOAD_BASE + batch * 1000 * SEC + i * 1_000_000;
                    body.push_str(&format!("load,w=0 seq={seq}i {t}\n"));
                }
                let r = ureq::post(&format!("{url}/write?db=db")).send_string(&body);
                if r.map(|r| r.status()).ok() == Some(204) {
                    acked.lock().unwrap().push((batch, now_ns()));
                }
                batch += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    while acked.lock().unwrap().len() < 20 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("backup");
    ok(&["backup", "--url", &s.url, "--out", out.to_str().unwrap()]);
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let instant = manifest(&out)["snapshot_instant_ns"].as_i64().unwrap();
    let before: Vec<i64> = acked
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, at)| *at < instant)
        .map(|(b, _)| *b)
        .collect();
    assert!(
        before.len() >= 20,
        "batches acknowledged before the snapshot"
    );

    let data = tmp.path().join("restored");
    ok(&[
        "restore",
        "--from",
        out.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let r = Server::start_in(data, &[]);
    let (st, v) = r.query_params(
        "db=db&epoch=ns",
        &format!("SELECT count(seq) FROM load WHERE time >= {LOAD_BASE} AND time < {} GROUP BY time(1000s) fill(none)", LOAD_BASE + 20_000_000 * SEC),
    );
    assert_eq!(st, 200, "{v}");
    assert!(v.pointer("/results/0/error").is_none(), "{v}");
    let counts: std::collections::BTreeMap<i64, i64> = v
        .pointer("/results/0/series/0/values")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|row| {
            let t = row[0].as_i64().unwrap();
            ((t - LOAD_BASE) / (1000 * SEC), row[1].as_i64().unwrap())
        })
        .collect();
    for b in &before {
        assert_eq!(
            counts.get(b),
            Some(&1000),
            "batch {b} acknowledged before the snapshot"
        );
    }
    assert!(
        counts.values().all(|c| *c == 1000),
        "a batch is whole or absent: {counts:?}"
    );
    same_answers(&s, "db", &r, "db");
}

/// `--since/--until` keep only `[since, until)`; restored into a live server as a new name.
#[test]
fn time_bounded_backup() {
    let s = Server::start();
    seed(&s, "db");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    let since = (BASE + 20 * SEC).to_string();
    let until = (BASE + 50 * SEC).to_string();
    ok(&[
        "backup",
        "--url",
        &s.url,
        "--out",
        out.to_str().unwrap(),
        "--database",
        "db",
        "--rp",
        "autogen",
        "--since",
        &since,
        "--until",
        &until,
    ]);
    let m = manifest(&out);
    assert_eq!(m["since"].as_i64(), Some(BASE + 20 * SEC));
    assert_eq!(m["database"], "db");
    ok(&[
        "restore",
        "--from",
        out.to_str().unwrap(),
        "--url",
        &s.url,
        "--database",
        "db",
        "--new-database",
        "part",
    ]);
    let v = q(&s, "part", "SELECT count(usage), min(n), max(n) FROM cpu");
    assert_eq!(
        v.pointer("/results/0/series/0/values/0").unwrap(),
        &serde_json::json!(["1970-01-01T00:00:00Z", 30, 20, 49])
    );
    // Only the autogen policy was backed up.
    let rps = q(&s, "part", "SHOW RETENTION POLICIES");
    assert_eq!(
        rps.pointer("/results/0/series/0/values")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// A full backup up to a time, then an incremental one from that time, restored one on top
/// of the other (`--merge`), answer as the original.
#[test]
fn an_incremental_backup_restores_on_top_of_a_full_one() {
    let s = Server::start();
    seed(&s, "db");
    let tmp = tempfile::tempdir().unwrap();
    let (full, incr) = (tmp.path().join("full"), tmp.path().join("incr"));
    let cut = (BASE + 60 * SEC).to_string();
    ok(&[
        "backup",
        "--url",
        &s.url,
        "--out",
        full.to_str().unwrap(),
        "--database",
        "db",
        "--until",
        &cut,
    ]);
    ok(&[
        "backup",
        "--url",
        &s.url,
        "--out",
        incr.to_str().unwrap(),
        "--database",
        "db",
        "--since",
        &cut,
    ]);
    let t = Server::start();
    ok(&["restore", "--from", full.to_str().unwrap(), "--url", &t.url]);
    let err = fails(&["restore", "--from", incr.to_str().unwrap(), "--url", &t.url]);
    assert!(err.contains("database already exists: db"), "{err}");
    ok(&[
        "restore",
        "--from",
        incr.to_str().unwrap(),
        "--url",
        &t.url,
        "--merge",
    ]);
    same_answers(&s, "db", &t, "db");
}

/// One database restored under another name into the running server answers the same;
/// restoring onto an existing database is refused.
#[test]
fn database_renamed_on_restore_into_a_live_server() {
    let s = Server::start();
    seed(&s, "db");
    seed(&s, "other");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    ok(&["backup", "--url", &s.url, "--out", out.to_str().unwrap()]);
    ok(&[
        "restore",
        "--from",
        out.to_str().unwrap(),
        "--url",
        &s.url,
        "-db",
        "db",
        "-newdb",
        "copy",
    ]);
    same_answers(&s, "db", &s, "copy");
    let err = fails(&[
        "restore",
        "--from",
        out.to_str().unwrap(),
        "--url",
        &s.url,
        "--database",
        "db",
        "--new-database",
        "copy",
    ]);
    assert!(err.contains("database already exists: copy"), "{err}");
    let err = fails(&[
        "restore",
        "--from",
        out.to_str().unwrap(),
        "--url",
        &s.url,
        "--database",
        "nope",
    ]);
    assert!(err.contains("\"nope\" is not in the backup"), "{err}");
}

/// A damaged, truncated or incomplete backup is refused before anything changes, naming
/// the file.
#[test]
fn a_damaged_backup_is_refused() {
    let s = Server::start();
    seed(&s, "db");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    ok(&["backup", "--url", &s.url, "--out", out.to_str().unwrap()]);
    let from = out.to_str().unwrap();
    let data = out.join("data/000001.lp.gz");
    let good = std::fs::read(&data).unwrap();

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    std::fs::write(&data, &flipped).unwrap();
    let target = tmp.path().join("restored");
    let err = fails(&[
        "restore",
        "--from",
        from,
        "--data-dir",
        target.to_str().unwrap(),
    ]);
    assert!(
        err.contains("damaged") && err.contains("data/000001.lp.gz"),
        "{err}"
    );
    assert!(!target.exists(), "nothing created for a damaged backup");
    let err = fails(&[
        "restore",
        "--from",
        from,
        "--url",
        &s.url,
        "--database",
        "db",
        "--new-database",
        "x",
    ]);
    assert!(err.contains("data/000001.lp.gz"), "{err}");
    let (_, dbs) = s.query("", "SHOW DATABASES");
    assert!(!dbs.to_string().contains("\"x\""), "{dbs}");

    std::fs::write(&data, &good[..good.len() - 1]).unwrap();
    let err = fails(&[
        "restore",
        "--from",
        from,
        "--data-dir",
        target.to_str().unwrap(),
    ]);
    assert!(err.contains("data/000001.lp.gz"), "{err}");

    std::fs::remove_file(&data).unwrap();
    let err = fails(&[
        "restore",
        "--from",
        from,
        "--data-dir",
        target.to_str().unwrap(),
    ]);
    assert!(
        err.contains("incomplete") && err.contains("data/000001.lp.gz is missing"),
        "{err}"
    );

    std::fs::remove_file(out.join("manifest.json")).unwrap();
    let err = fails(&[
        "restore",
        "--from",
        from,
        "--data-dir",
        target.to_str().unwrap(),
    ]);
    assert!(err.contains("manifest.json is missing"), "{err}");
}

/// Replays an export the way `influx -import` does: DDL statements through `/query`, then
/// each `# CONTEXT-...` section's lines through `/write`.
fn import(s: &Server, export: &str) {
    let (mut ddl, mut db, mut rp) = (false, String::new(), String::new());
    let mut body = String::new();
    let flush = |body: &mut String, db: &str, rp: &str| {
        if !body.is_empty() {
            write(s, &format!("db={db}&rp={rp}&precision=ns"), body);
            body.clear();
        }
    };
    for line in export.split_inclusive('\n') {
        let text = line.trim_end_matches('\n');
        if text == "# DDL" {
            ddl = true;
        } else if text == "# DML" {
            ddl = false;
        } else if let Some(d) = text.strip_prefix("# CONTEXT-DATABASE:") {
            flush(&mut body, &db, &rp);
            db = d.to_string();
        } else if let Some(r) = text.strip_prefix("# CONTEXT-RETENTION-POLICY:") {
            flush(&mut body, &db, &rp);
            rp = r.to_string();
        } else if ddl && !text.is_empty() {
            q(s, "", text);
        } else if !ddl && !text.starts_with('#') {
            body.push_str(line);
        }
    }
    flush(&mut body, &db, &rp);
}

/// An export (plain and gzip) re-imported into another server answers the same; with the
/// `influx` CLI too when `E2E_CLIENT_INFLUX` names it.
#[test]
fn an_export_reimports_to_the_same_answers() {
    let s = Server::start();
    seed(&s, "db");
    write(&s, "db=db", "text,host=h0 s=\"two\nlines\" 5\n");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("db.lp");
    let err = ok(&[
        "export",
        "--url",
        &s.url,
        "--database",
        "db",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(err.contains("exported 202 points"), "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# DDL\nCREATE DATABASE \"db\" WITH DURATION INF"),
        "{text}"
    );
    assert!(text.contains("# DML\n# CONTEXT-DATABASE:db\n# CONTEXT-RETENTION-POLICY:autogen\n"));
    assert!(text.contains("ok=true") && text.contains("n=3i") && text.contains("dc=a\\ b"));

    let t = Server::start();
    import(&t, &text);
    same_answers(&s, "db", &t, "db");
    assert_eq!(
        q(&s, "db", "SELECT * FROM text"),
        q(&t, "db", "SELECT * FROM text")
    );

    let gz = tmp.path().join("db.lp.gz");
    ok(&[
        "export",
        "--url",
        &s.url,
        "--database",
        "db",
        "--compress",
        "--out",
        gz.to_str().unwrap(),
    ]);
    let mut unzipped = String::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap())
        .read_to_string(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, text);

    match std::env::var("E2E_CLIENT_INFLUX") {
        Ok(influx) if !influx.is_empty() => {
            let u = Server::start();
            let out = Command::new(influx)
                .args([
                    "-host",
                    "127.0.0.1",
                    "-port",
                    &u.port.to_string(),
                    "-import",
                    "-path",
                ])
                .arg(&gz)
                .args(["-compressed", "-precision", "ns"])
                .output()
                .expect("run influx");
            assert!(
                out.status.success(),
                "influx -import: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            same_answers(&s, "db", &u, "db");
        }
        _ => eprintln!("E2E_CLIENT_INFLUX is not set: the influx -import variant is skipped"),
    }
}

/// With authentication on, backup and export need an admin user.
#[test]
fn backup_and_export_need_an_admin() {
    let s = Server::start_with_env(&[("HYPERBYTE_AUTH__ENABLED", "true")]);
    q(
        &s,
        "",
        "CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES",
    );
    let (st, _) = s.query_params(
        "u=admin&p=pw",
        "CREATE DATABASE db; CREATE USER r WITH PASSWORD 'rp'; GRANT READ ON db TO r",
    );
    assert_eq!(st, 200);
    write(&s, "db=db&u=admin&p=pw", "cpu v=1 1000000000");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    let o = out.to_str().unwrap();
    let err = fails(&["backup", "--url", &s.url, "--out", o]);
    assert!(err.contains("HTTP 401"), "{err}");
    let err = fails(&[
        "export",
        "--url",
        &s.url,
        "--database",
        "db",
        "-username",
        "r",
        "-password",
        "rp",
    ]);
    assert!(err.contains("HTTP 403") && err.contains("admin"), "{err}");
    let err = fails(&[
        "backup",
        "--url",
        &s.url,
        "--out",
        o,
        "--username",
        "admin",
        "--password",
        "bad",
    ]);
    assert!(err.contains("HTTP 401"), "{err}");
    ok(&[
        "backup",
        "--url",
        &s.url,
        "--out",
        o,
        "--username",
        "admin",
        "--password",
        "pw",
    ]);
    // Users come back with a full restore: the admin's password still works.
    let data = tmp.path().join("restored");
    ok(&["restore", "--from", o, "--data-dir", data.to_str().unwrap()]);
    let r = Server::start_in(data, &[("HYPERBYTE_AUTH__ENABLED", "true")]);
    let (st, v) = r.query_params("u=admin&p=pw", "SELECT count(v) FROM db..cpu");
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v.pointer("/results/0/series/0/values/0/1"),
        Some(&serde_json::json!(1))
    );
}

trait QueryParams {
    fn query_params(&self, params: &str, q: &str) -> (u16, Value);
}

impl QueryParams for Server {
    fn query_params(&self, params: &str, q: &str) -> (u16, Value) {
        let r = ureq::post(&format!("{}/query?{params}", self.url)).send_form(&[("q", q)]);
        let (st, body) = match r {
            Ok(resp) => (resp.status(), resp.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(c, resp)) => (c, resp.into_string().unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        };
        (
            st,
            serde_json::from_str(&body).unwrap_or(Value::String(body)),
        )
    }
}
