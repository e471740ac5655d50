//! Prometheus remote write and read end to end (`/api/v1/prom/write`, `/api/v1/prom/read`):
//! snappy protobuf bodies made here land as InfluxDB 1.8 stores them and read back with
//! InfluxQL; remote read answers every matcher type; hostile bodies get 400 and leave the
//! server up; and a real Prometheus (Debian's, located by `E2E_CLIENT_PROMETHEUS`, which
//! `cargo xtask test` sets after installing it: `xtask/src/clients.rs`) remote-writes its
//! own metrics into hyperbyted, and a second Prometheus that only remote-reads them
//! answers PromQL exactly as the first answers over its own storage.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hyperbyte_e2e::Server;
use prost::Message;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// Prometheus' messages: the server's own definitions, included as source (this crate may
// not depend on workspace crates; the file depends on `prost` alone).
#[allow(dead_code)]
#[path = "../../crates/adapter-http/src/prompb.rs"]
mod prompb;
use prompb::{Label, LabelMatcher as Matcher, Query as ReadQuery, QueryResult, ReadRequest};
use prompb::{ReadResponse, Sample, TimeSeries, WriteRequest};

const EQ: i32 = 0;
const NEQ: i32 = 1;
const RE: i32 = 2;
const NRE: i32 = 3;
/// 2023-11-14T22:13:20Z, in milliseconds.
const T0: i64 = 1_700_000_000_000;

fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: labels
            .iter()
            .map(|(n, v)| Label {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        samples: samples
            .iter()
            .map(|(t, v)| Sample {
                value: *v,
                timestamp: *t,
            })
            .collect(),
    }
}

fn snappy(raw: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(raw).unwrap()
}

/// POSTs a body; the status and the body of the answer.
fn post(url: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let r = ureq::post(url)
        .set("Content-Type", "application/x-protobuf")
        .set("Content-Encoding", "snappy")
        .set("X-Prometheus-Remote-Write-Version", "0.1.0")
        .send_bytes(body);
    let read = |resp: ureq::Response| {
        let status = resp.status();
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut out).unwrap();
        (status, out)
    };
    match r {
        Ok(resp) => read(resp),
        Err(ureq::Error::Status(_, resp)) => read(resp),
        Err(e) => panic!("{url}: {e}"),
    }
}

fn remote_write(s: &Server, params: &str, ts: Vec<TimeSeries>) -> (u16, String) {
    let body = snappy(&WriteRequest { timeseries: ts }.encode_to_vec());
    let (status, text) = post(&format!("{}/api/v1/prom/write?{params}", s.url), &body);
    (status, String::from_utf8_lossy(&text).to_string())
}

fn remote_read(s: &Server, db: &str, queries: Vec<ReadQuery>) -> Vec<QueryResult> {
    let body = snappy(&ReadRequest { queries }.encode_to_vec());
    let (status, answer) = post(&format!("{}/api/v1/prom/read?db={db}", s.url), &body);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let raw = snap::raw::Decoder::new().decompress_vec(&answer).unwrap();
    ReadResponse::decode(raw.as_slice()).unwrap().results
}

fn query(start: i64, end: i64, matchers: &[(i32, &str, &str)]) -> ReadQuery {
    ReadQuery {
        start_timestamp_ms: start,
        end_timestamp_ms: end,
        matchers: matchers
            .iter()
            .map(|(t, n, v)| Matcher {
                r#type: *t,
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
    }
}

/// An InfluxQL answer with millisecond times.
fn influxql(s: &Server, db: &str, q: &str) -> serde_json::Value {
    let r = ureq::post(&format!("{}/query", s.url))
        .send_form(&[("db", db), ("q", q), ("epoch", "ms")])
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    assert!(v["results"][0]["error"].is_null(), "{q}: {v}");
    v
}

fn create_db(s: &Server, db: &str) {
    let (status, body) = s.query("", &format!("CREATE DATABASE \"{db}\""));
    assert_eq!(status, 200, "{body}");
}

/// `name{k="v",...}` of a series, for readable comparisons.
fn show(ts: &TimeSeries) -> String {
    let labels: Vec<String> = ts
        .labels
        .iter()
        .map(|l| format!("{}={}", l.name, l.value))
        .collect();
    labels.join(",")
}

#[test]
fn remote_write_lands_as_influxdb_1_8_stores_it() {
    let s = Server::start();
    create_db(&s, "prom");
    let (status, body) = remote_write(
        &s,
        "db=prom",
        vec![
            series(
                &[("__name__", "up"), ("job", "api"), ("instance", "a:9100")],
                &[(T0, 1.0), (T0 + 1000, f64::NAN), (T0 + 2000, 0.0)],
            ),
            series(
                &[("job", "nameless"), ("empty", "")],
                &[(T0, f64::INFINITY), (T0 + 1000, 2.5)],
            ),
        ],
    );
    assert_eq!(status, 204, "{body}");
    let v = influxql(&s, "prom", "SELECT value FROM up GROUP BY *");
    let up = &v["results"][0]["series"][0];
    assert_eq!(
        up["tags"],
        serde_json::json!({"__name__": "up", "instance": "a:9100", "job": "api"})
    );
    assert_eq!(up["columns"], serde_json::json!(["time", "value"]));
    // The NaN sample is dropped, the others kept at their millisecond.
    assert_eq!(
        up["values"],
        // (InfluxDB prints whole floats without a fraction.)
        serde_json::json!([[T0, 1], [T0 + 2000, 0]])
    );
    let v = influxql(
        &s,
        "prom",
        "SELECT value FROM prom_metric_not_specified GROUP BY *",
    );
    let nameless = &v["results"][0]["series"][0];
    assert_eq!(nameless["tags"], serde_json::json!({"job": "nameless"}));
    assert_eq!(nameless["values"], serde_json::json!([[T0 + 1000, 2.5]]));
    let v = influxql(&s, "prom", "SHOW FIELD KEYS FROM up");
    assert_eq!(
        v["results"][0]["series"][0]["values"],
        serde_json::json!([["value", "float"]])
    );
    // A retention policy by name; InfluxDB's answers for a missing or unknown database.
    let (status, body) = s.query(
        "",
        "CREATE RETENTION POLICY short ON prom DURATION INF REPLICATION 1",
    );
    assert_eq!(status, 200, "{body}");
    let one = || vec![series(&[("__name__", "rp_test")], &[(T0, 4.0)])];
    assert_eq!(remote_write(&s, "db=prom&rp=short", one()).0, 204);
    let v = influxql(&s, "prom", "SELECT value FROM prom.short.rp_test");
    assert_eq!(
        v["results"][0]["series"][0]["values"],
        serde_json::json!([[T0, 4]])
    );
    let (status, body) = remote_write(&s, "db=nope", one());
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("database not found"), "{body}");
    let (status, body) = remote_write(&s, "", one());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("database is required"), "{body}");
    let (status, body) = remote_write(&s, "db=prom&rp=nope", one());
    assert_eq!(status, 500, "{body}");
    // The counters.
    let (_, metrics) = s.get("/metrics");
    assert!(
        metrics.contains("hyperbyte_prom_samples_written_total 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hyperbyte_prom_samples_dropped_total 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("endpoint=\"prom_write\",status=\"204\""),
        "{metrics}"
    );
}

#[test]
fn remote_read_answers_each_matcher_type() {
    let s = Server::start();
    create_db(&s, "prom");
    let three = [(T0, 1.0), (T0 + 1000, 2.0), (T0 + 2000, 3.0)];
    let (status, body) = remote_write(
        &s,
        "db=prom",
        vec![
            series(&[("__name__", "m"), ("job", "b"), ("zone", "y")], &three),
            series(&[("__name__", "m"), ("job", "a"), ("zone", "x")], &three),
            series(&[("__name__", "m"), ("job", "c")], &three),
            series(&[("__name__", "other"), ("job", "a")], &three),
            series(&[("__name__", "mm"), ("job", "a")], &three),
        ],
    );
    assert_eq!(status, 204, "{body}");
    let all = (T0 - 1000, T0 + 5000);
    let results = remote_read(
        &s,
        "prom",
        vec![
            query(all.0, all.1, &[(EQ, "__name__", "m"), (EQ, "job", "a")]),
            query(all.0, all.1, &[(EQ, "__name__", "m"), (NEQ, "job", "a")]),
            query(
                all.0,
                all.1,
                &[(RE, "__name__", "m|other"), (RE, "job", "a")],
            ),
            query(all.0, all.1, &[(EQ, "__name__", "m"), (NRE, "zone", "x|y")]),
            query(all.0, all.1, &[(EQ, "__name__", "m"), (EQ, "zone", "")]),
            query(
                T0 + 1000,
                T0 + 1000,
                &[(EQ, "__name__", "m"), (EQ, "job", "b")],
            ),
            query(all.0, all.1, &[(RE, "__name__", "m"), (NEQ, "job", "")]),
            query(all.0, all.1, &[(NRE, "__name__", "m.*")]),
            query(all.0, all.1, &[(EQ, "__name__", "absent")]),
        ],
    );
    let got: Vec<Vec<String>> = results
        .iter()
        .map(|r| r.timeseries.iter().map(show).collect())
        .collect();
    let want: Vec<Vec<&str>> = vec![
        vec!["__name__=m,job=a,zone=x"],
        vec!["__name__=m,job=b,zone=y", "__name__=m,job=c"],
        vec!["__name__=m,job=a,zone=x", "__name__=other,job=a"],
        vec!["__name__=m,job=c"],
        vec!["__name__=m,job=c"],
        vec!["__name__=m,job=b,zone=y"],
        // Anchored: `m` does not match `mm`.
        vec![
            "__name__=m,job=a,zone=x",
            "__name__=m,job=b,zone=y",
            "__name__=m,job=c",
        ],
        vec!["__name__=other,job=a"],
        vec![],
    ];
    assert_eq!(got, want);
    let samples = |ts: &TimeSeries| -> Vec<(i64, f64)> {
        ts.samples.iter().map(|p| (p.timestamp, p.value)).collect()
    };
    assert_eq!(samples(&results[0].timeseries[0]), three.to_vec());
    assert_eq!(samples(&results[5].timeseries[0]), [(T0 + 1000, 2.0)]);
    // A bad regular expression is the client's error; an unknown database is 404.
    let bad = snappy(
        &ReadRequest {
            queries: vec![query(all.0, all.1, &[(RE, "job", "(")])],
        }
        .encode_to_vec(),
    );
    let (status, _) = post(&format!("{}/api/v1/prom/read?db=prom", s.url), &bad);
    assert_eq!(status, 400);
    let (status, _) = post(&format!("{}/api/v1/prom/read?db=nope", s.url), &bad);
    assert_eq!(status, 404);
}

#[test]
fn hostile_bodies_get_400_and_the_server_stays_up() {
    let s = Server::start();
    create_db(&s, "prom");
    let not_protobuf = snappy(b"\x0a\xff\xff\xff\xff\x0f garbage");
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("bad snappy", b"\xff\xfe\xfd\xfc not snappy at all".to_vec()),
        ("bad protobuf", not_protobuf),
        (
            "huge declared length",
            vec![0x80, 0x80, 0x80, 0x80, 0x08, 0x00],
        ),
        ("empty", Vec::new()),
        ("truncated", {
            // Incompressible bytes, so that half the block is missing.
            let mut x = 0x2545_f491_4f6c_dd1du64;
            let noise: Vec<u8> = (0..4096)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let mut b = snappy(&noise);
            b.truncate(b.len() / 2);
            b
        }),
    ];
    for endpoint in ["write", "read"] {
        for (what, body) in &bodies {
            let url = format!("{}/api/v1/prom/{endpoint}?db=prom", s.url);
            let (status, text) = post(&url, body);
            let text = String::from_utf8_lossy(&text);
            assert_eq!(status, 400, "{endpoint}, {what}: {text}");
            assert!(text.contains("\"error\""), "{endpoint}, {what}: {text}");
        }
    }
    // Only POST.
    let r = ureq::get(&format!("{}/api/v1/prom/write?db=prom", s.url)).call();
    assert!(matches!(r, Err(ureq::Error::Status(405, _))));
    // Still up and writing.
    assert_eq!(s.get("/ping").0, 204);
    let (status, body) = remote_write(
        &s,
        "db=prom",
        vec![series(&[("__name__", "after")], &[(T0, 1.0)])],
    );
    assert_eq!(status, 204, "{body}");
    let v = influxql(&s, "prom", "SELECT value FROM after");
    assert_eq!(
        v["results"][0]["series"][0]["values"],
        serde_json::json!([[T0, 1]])
    );
}

/// POSTs a snappy body with an `Authorization` header; the status.
fn post_as(url: &str, authorization: Option<&str>, body: &[u8]) -> u16 {
    let mut r = ureq::post(url).set("Content-Encoding", "snappy");
    if let Some(a) = authorization {
        r = r.set("Authorization", a);
    }
    match r.send_bytes(body) {
        Ok(resp) => resp.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{url}: {e}"),
    }
}

#[test]
fn credentials_and_privileges_apply_as_on_write_and_query() {
    let s = Server::start_with_env(&[("HYPERBYTE_AUTH__ENABLED", "true")]);
    let admin = |q: &str, creds: &str| {
        let r = ureq::post(&format!("{}/query?{creds}", s.url)).send_form(&[("q", q)]);
        assert!(r.is_ok(), "{q}: {r:?}");
    };
    admin(
        "CREATE USER admin WITH PASSWORD 'admin-pw' WITH ALL PRIVILEGES",
        "",
    );
    admin(
        "CREATE DATABASE prom; CREATE USER r WITH PASSWORD 'r-pw'; \
         CREATE USER w WITH PASSWORD 'w-pw'; GRANT READ ON prom TO r; GRANT WRITE ON prom TO w",
        "u=admin&p=admin-pw",
    );
    let write = snappy(
        &WriteRequest {
            timeseries: vec![series(&[("__name__", "m")], &[(T0, 1.0)])],
        }
        .encode_to_vec(),
    );
    let read = snappy(
        &ReadRequest {
            queries: vec![query(T0, T0, &[(EQ, "__name__", "m")])],
        }
        .encode_to_vec(),
    );
    let w = format!("{}/api/v1/prom/write?db=prom", s.url);
    let r = format!("{}/api/v1/prom/read?db=prom", s.url);
    // Basic auth of `user:password`.
    let basic = |u: &str| {
        let raw = format!("{u}:{u}-pw");
        let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in raw.as_bytes().chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(table[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        format!("Basic {out}")
    };
    assert_eq!(post_as(&w, None, &write), 401);
    assert_eq!(post_as(&format!("{w}&u=w&p=nope"), None, &write), 401);
    assert_eq!(post_as(&format!("{w}&u=w&p=w-pw"), None, &write), 204);
    assert_eq!(post_as(&w, Some(&basic("r")), &write), 403);
    assert_eq!(post_as(&w, Some(&basic("w")), &write), 204);
    assert_eq!(post_as(&r, None, &read), 401);
    assert_eq!(post_as(&r, Some(&basic("w")), &read), 403);
    assert_eq!(post_as(&r, Some(&basic("r")), &read), 200);
    assert_eq!(
        post_as(&format!("{r}&u=admin&p=admin-pw"), None, &read),
        200
    );
}

/// Measures remote write throughput (printed, not asserted: no test asserts on timing).
#[test]
fn remote_write_throughput() {
    let s = Server::start();
    create_db(&s, "prom");
    // 100 requests of 100 series × 10 samples (Prometheus sends up to a few thousand
    // samples per request).
    let requests: Vec<Vec<u8>> = (0..100)
        .map(|r| {
            let ts = (0..100)
                .map(|i| {
                    let host = format!("host{i}");
                    let samples: Vec<(i64, f64)> = (0..10)
                        .map(|k| (T0 + (r * 10 + k) * 1000, (r * 10 + k) as f64))
                        .collect();
                    series(
                        &[("__name__", "load"), ("host", &host), ("job", "node")],
                        &samples,
                    )
                })
                .collect();
            snappy(&WriteRequest { timeseries: ts }.encode_to_vec())
        })
        .collect();
    let url = format!("{}/api/v1/prom/write?db=prom", s.url);
    let started = Instant::now();
    for body in &requests {
        let (status, text) = post(&url, body);
        assert_eq!(status, 204, "{}", String::from_utf8_lossy(&text));
    }
    let took = started.elapsed();
    let samples = 100 * 100 * 10;
    println!(
        "remote write: {samples} samples in {:.2} s ({:.0} samples/s, one client, sequential)",
        took.as_secs_f64(),
        samples as f64 / took.as_secs_f64()
    );
    let v = influxql(&s, "prom", "SELECT count(value) FROM load");
    assert_eq!(v["results"][0]["series"][0]["values"][0][1], samples);
    let started = Instant::now();
    let results = remote_read(
        &s,
        "prom",
        vec![query(T0, T0 + 1_000_000, &[(EQ, "__name__", "load")])],
    );
    let took = started.elapsed();
    let read: usize = results[0].timeseries.iter().map(|t| t.samples.len()).sum();
    assert_eq!((results[0].timeseries.len(), read), (100, samples as usize));
    println!(
        "remote read: {read} samples of 100 series in {:.3} s ({:.0} samples/s)",
        took.as_secs_f64(),
        read as f64 / took.as_secs_f64()
    );
}

/// A Prometheus server started by the test, killed on drop.
struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts one on `port` (the config may need to name it) and waits until it is ready.
    fn start(binary: &PathBuf, port: u16, config: &str) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("prometheus.yml");
        std::fs::write(&cfg, config).unwrap();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        let p = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        p.wait_ready();
        p
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("log")).unwrap_or_default()
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = ureq::get(&format!("{}/-/ready", self.url)).call() {
                if r.status() == 200 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "prometheus at {} not ready in 60 s:\n{}",
            self.url,
            self.log()
        );
    }

    /// `data.result` of a PromQL API call, sorted by metric.
    fn api(&self, path: &str, params: &[(&str, &str)]) -> serde_json::Value {
        let mut req = ureq::get(&format!("{}{path}", self.url));
        for (k, v) in params {
            req = req.query(k, v);
        }
        let text = req.call().unwrap().into_string().unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["status"], "success", "{path} {params:?}: {v}");
        let mut result = v["data"]["result"].as_array().cloned().unwrap_or_default();
        result.sort_by_key(|r| r["metric"].to_string());
        serde_json::Value::Array(result)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The times (ms) hyperbyted holds for a one-series metric.
fn stored_times(s: &Server, metric: &str) -> Vec<i64> {
    let v = influxql(s, "prom", &format!("SELECT value FROM \"{metric}\""));
    v["results"][0]["series"][0]["values"]
        .as_array()
        .map(|rows| rows.iter().filter_map(|r| r[0].as_i64()).collect())
        .unwrap_or_default()
}

fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

#[test]
fn a_real_prometheus_remote_writes_and_reads_back_the_same_answers() {
    let binary = match std::env::var("E2E_CLIENT_PROMETHEUS") {
        Ok(v) if !v.is_empty() => PathBuf::from(v),
        _ => panic!(
            "E2E_CLIENT_PROMETHEUS is not set: Prometheus is installed and located by \
             `cargo xtask test` (xtask/src/clients.rs); run `cargo xtask test`, or export \
             what `cargo xtask clients` prints to run this test by hand"
        ),
    };
    let s = Server::start();
    create_db(&s, "prom");
    // The first Prometheus scrapes itself every second and remote-writes everything.
    let writer_port = free_port();
    let writer_config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:{writer_port}']\n\
         remote_write:\n  - url: {}/api/v1/prom/write?db=prom\n    queue_config:\n      batch_send_deadline: 1s\n      min_backoff: 100ms\n      max_backoff: 1s\n",
        s.url
    );
    let writer = Prometheus::start(&binary, writer_port, &writer_config);
    let started = Instant::now();
    // Wait until hyperbyted holds a stretch of scrapes.
    let deadline = Instant::now() + Duration::from_secs(90);
    let times = loop {
        let t = stored_times(&s, "scrape_duration_seconds");
        if t.len() >= 12
            && stored_times(&s, "up").len() >= 12
            && stored_times(&s, "scrape_samples_scraped").len() >= 12
        {
            break t;
        }
        assert!(
            Instant::now() < deadline,
            "no remote-written samples after 90 s ({} so far); prometheus log:\n{}",
            t.len(),
            writer.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let waited = started.elapsed();
    // Samples of one series arrive in order, so every sample up to the newest one stored
    // is in hyperbyted: the answers over [first + 5 s, last] must be equal (from 5 s on,
    // the 5 s window below never reaches before the first sample hyperbyted holds).
    let (first, last) = (times[0] + 5_000, *times.last().unwrap());
    // Each compared metric's samples are complete up to its own newest one.
    let end = ["up", "scrape_samples_scraped"]
        .iter()
        .filter_map(|m| stored_times(&s, m).last().copied())
        .fold(last, i64::min);
    let reader_config = format!(
        "global:\n  scrape_interval: 1h\n\
         remote_read:\n  - url: {}/api/v1/prom/read?db=prom\n    read_recent: true\n",
        s.url
    );
    let reader = Prometheus::start(&binary, free_port(), &reader_config);
    let range = [
        ("start", seconds(first)),
        ("end", seconds(end)),
        ("step", "1".to_string()),
    ];
    for promql in [
        "scrape_duration_seconds",
        "up",
        "sum_over_time(scrape_duration_seconds[5s])",
        "max by (job) (scrape_samples_scraped)",
    ] {
        let params: Vec<(&str, &str)> = std::iter::once(("query", promql))
            .chain(range.iter().map(|(k, v)| (*k, v.as_str())))
            .collect();
        let own = writer.api("/api/v1/query_range", &params);
        let remote = reader.api("/api/v1/query_range", &params);
        assert!(
            own.as_array().is_some_and(|a| !a.is_empty()),
            "{promql}: the writing Prometheus has no answer: {own}"
        );
        assert_eq!(
            remote,
            own,
            "{promql} over [{first}, {end}] ms: remote read differs from local storage; \
             reader log:\n{}",
            reader.log()
        );
    }
    let at = seconds(end);
    let own = writer.api("/api/v1/query", &[("query", "up"), ("time", &at)]);
    let remote = reader.api("/api/v1/query", &[("query", "up"), ("time", &at)]);
    assert_eq!(remote, own);
    println!(
        "real Prometheus: {} scrapes stored after {:.1} s, answers compared over {:.1} s",
        times.len(),
        waited.as_secs_f64(),
        (end - first) as f64 / 1000.0
    );
    // Stop the inflow before the server is killed.
    drop(reader);
    drop(writer);
}
