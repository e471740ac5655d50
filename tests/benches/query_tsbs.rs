//! TSBS cpu-only query benchmark, side by side with the reference InfluxDB 1.6 on the same
//! data in the same run: loads 100 hosts × 24 h of 10-second TSBS cpu data into the
//! release `hyperbyted` and into `influxd`, then runs the nine TSBS cpu-only query types
//! with seeded random parameters (warm-up + measured runs per type and server) and prints
//! median / p90 latency per server and the speed-up. Every answer's shape (series, rows,
//! columns, and the sum of its numbers) is compared between the two servers, so the run
//! doubles as a correctness check; mismatches are printed as warnings, never asserted.
//!
//! Knobs (environment): `HB_BENCH_HOURS` (24), `HB_BENCH_WARMUP` (10 runs),
//! `HB_BENCH_RUNS` (30 runs), `HB_BENCH_THREADS` (4 loader threads),
//! `HB_BENCH_NO_REFERENCE=1` (hyperbyted alone), `HB_BENCH_ONLY` (comma-separated query
//! names to run). The reference is started with
//! `/work/shared/conformance/reference-influxd.sh` (override: `HB_BENCH_REFERENCE_SCRIPT`).
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod common;

use common::queries::{instances, Span, QUERIES};
use common::reference::start_reference;
use common::*;
use hyperbyte_e2e::Server;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const HB_PORT: u16 = 18134;
/// The reference also binds PORT+2 (18133) for its RPC service.
const REF_PORT: u16 = 18131;
const DB: &str = "benchmark";
const HOSTS: usize = 100;
const BATCH_ROUNDS: usize = 50; // 50 timestamps × 100 hosts = 5,000 lines per batch

/// One server under test.
#[derive(Debug)]
struct Target {
    name: &'static str,
    url: String,
    data_dir: PathBuf,
}

/// What an answer looks like, for comparing the two servers.
#[derive(Debug, Clone)]
enum Shape {
    Ok {
        series: usize,
        rows: usize,
        columns: usize,
        sum: f64,
    },
    Err(String),
}

impl Shape {
    fn of(status: u16, body: &[u8]) -> Shape {
        let v: serde_json::Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => {
                return Shape::Err(format!(
                    "HTTP {status}: {}",
                    String::from_utf8_lossy(body)
                        .chars()
                        .take(200)
                        .collect::<String>()
                ))
            }
        };
        let err = v["error"].as_str().or(v["results"][0]["error"].as_str());
        if let Some(e) = err {
            return Shape::Err(format!("HTTP {status}: {e}"));
        }
        if status != 200 {
            return Shape::Err(format!("HTTP {status}"));
        }
        let series = v["results"][0]["series"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut rows = 0;
        let mut sum = 0.0;
        for s in &series {
            for row in s["values"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                rows += 1;
                for cell in row.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                    sum += cell.as_f64().unwrap_or(0.0);
                }
            }
        }
        let columns = series
            .first()
            .and_then(|s| s["columns"].as_array())
            .map_or(0, Vec::len);
        Shape::Ok {
            series: series.len(),
            rows,
            columns,
            sum,
        }
    }

    fn matches(&self, other: &Shape) -> bool {
        match (self, other) {
            (
                Shape::Ok {
                    series: a,
                    rows: b,
                    columns: c,
                    sum: d,
                },
                Shape::Ok {
                    series: w,
                    rows: x,
                    columns: y,
                    sum: z,
                },
            ) => {
                a == w && b == x && c == y && (d - z).abs() <= 1e-6 * d.abs().max(z.abs()).max(1.0)
            }
            (Shape::Err(_), Shape::Err(_)) => true,
            _ => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            Shape::Ok {
                series,
                rows,
                columns,
                sum,
            } => format!("{series} series, {rows} rows, {columns} columns, value sum {sum:.6}"),
            Shape::Err(e) => format!("error: {e}"),
        }
    }
}

/// Results of one query type on one server.
#[derive(Debug, Default)]
struct Timings {
    ms: Vec<f64>,
    shapes: Vec<Shape>,
}

fn run_queries(target: &Target, queries: &[String], warmup: usize) -> Timings {
    let agent = agent();
    let mut t = Timings::default();
    for (i, q) in queries.iter().enumerate() {
        let start = Instant::now();
        let (status, body) = post_query(&agent, &target.url, DB, q);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        if i >= warmup {
            t.ms.push(ms);
        }
        t.shapes.push(Shape::of(status, &body));
    }
    t
}

fn create_db(url: &str) {
    let (status, v) = query_json(url, "", &format!("CREATE DATABASE {DB}"));
    assert_eq!(status, 200, "CREATE DATABASE on {url}: {v}");
}

fn load_and_report(target: &Target, bodies: &Arc<Vec<Body>>, rows: u64, threads: usize) {
    create_db(&target.url);
    let common::load::Loaded {
        elapsed,
        failed,
        retried,
        first_error: first,
    } = common::load::load(&target.url, DB, bodies, threads);
    if retried > 0 {
        println!(
            "query_tsbs: {}: {retried} batches answered 503 and were sent again",
            target.name
        );
    }
    let (waited, seen) = wait_for_count(&target.url, DB, rows, Duration::from_secs(900));
    println!(
        "query_tsbs: load {:<10} {rows} rows in {:.1} s = {:.0} rows/s acknowledged; all rows visible to count() {:.1} s later ({:.0} rows/s end to end)",
        target.name,
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64(),
        waited.as_secs_f64(),
        rows as f64 / (elapsed + waited).as_secs_f64(),
    );
    if failed > 0 {
        println!(
            "query_tsbs: WARNING {}: {failed} batches failed; first: {}",
            target.name,
            first.unwrap_or_default()
        );
    }
    if seen != Some(rows) {
        println!(
            "query_tsbs: WARNING {}: SELECT count(usage_user) FROM cpu = {seen:?}, expected {rows}",
            target.name
        );
    }
}

fn fmt_ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn main() {
    if !bench_mode("query_tsbs") {
        return;
    }
    require_binary();
    let hours = env_u64("HB_BENCH_HOURS", 24).max(1) as i64;
    let warmup = env_u64("HB_BENCH_WARMUP", 10) as usize;
    let runs = env_u64("HB_BENCH_RUNS", 30).max(1) as usize;
    let threads = env_u64("HB_BENCH_THREADS", 4).max(1) as usize;
    let only: Option<Vec<String>> = std::env::var("HB_BENCH_ONLY")
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());

    // Data: generated once, the same bytes go to both servers.
    let gen_start = Instant::now();
    let total_rounds = (hours * 3600 / STEP_S) as usize;
    let mut tsbs = Tsbs::new(HOSTS, 0x5EED_0002);
    let mut bodies = Vec::new();
    let mut left = total_rounds;
    while left > 0 {
        let n = left.min(BATCH_ROUNDS);
        bodies.push(tsbs.next_body(n));
        left -= n;
    }
    let rows: u64 = bodies.iter().map(|b| b.lines() as u64).sum();
    let bytes: usize = bodies.iter().map(|b| b.bytes.len()).sum();
    let bodies = Arc::new(bodies);
    println!(
        "query_tsbs: {HOSTS} hosts × {hours} h at {STEP_S} s = {rows} rows ({} of line protocol, {} batches of ≤{} lines) generated in {:.1} s",
        mb(bytes as u64),
        bodies.len(),
        BATCH_ROUNDS * HOSTS,
        gen_start.elapsed().as_secs_f64()
    );

    let server = Server::start_on_port(HB_PORT);
    let mut targets = vec![Target {
        name: "hyperbyted",
        url: server.url.clone(),
        data_dir: server.data_dir.clone(),
    }];
    let reference = match start_reference(REF_PORT, "query_tsbs") {
        Ok(r) => {
            targets.push(Target {
                name: "influxd",
                url: format!("http://127.0.0.1:{REF_PORT}"),
                data_dir: PathBuf::from(format!("/tmp/influxref-{REF_PORT}")),
            });
            Some(r)
        }
        Err(why) => {
            println!("query_tsbs: running hyperbyted ALONE, no reference: {why}");
            None
        }
    };

    for t in &targets {
        load_and_report(t, &bodies, rows, threads);
    }
    drop(bodies);
    std::thread::sleep(Duration::from_secs(5));
    for t in &targets {
        println!(
            "query_tsbs: disk {:<10} {}  [{}]",
            t.name,
            du_breakdown(&t.data_dir),
            t.data_dir.display()
        );
    }

    let span = Span {
        start_s: START_S,
        end_s: START_S + total_rounds as i64 * STEP_S,
        hosts: HOSTS,
    };
    println!(
        "query_tsbs: {warmup} warm-up + {runs} measured runs per query type and server, seeded parameters; latency = HTTP round trip incl. reading the body"
    );
    let mut table = Vec::new();
    let mut mismatched = 0;
    for (qi, (name, _)) in QUERIES.iter().enumerate() {
        if only.as_ref().is_some_and(|o| !o.iter().any(|x| x == name)) {
            continue;
        }
        let queries = instances(qi, span, warmup + runs);
        let results: Vec<Timings> = targets
            .iter()
            .map(|t| run_queries(t, &queries, warmup))
            .collect();
        // Errors and answer shapes.
        for (t, r) in targets.iter().zip(&results) {
            if let Some((i, Shape::Err(e))) = r
                .shapes
                .iter()
                .enumerate()
                .find(|(_, s)| matches!(s, Shape::Err(_)))
            {
                println!(
                    "query_tsbs: WARNING {name} on {}: {e}\n    query: {}",
                    t.name, queries[i]
                );
            }
        }
        let shape = results[0]
            .shapes
            .last()
            .map(Shape::describe)
            .unwrap_or_default();
        if results.len() == 2 {
            let diffs = (0..queries.len())
                .filter(|&i| !results[0].shapes[i].matches(&results[1].shapes[i]))
                .collect::<Vec<_>>();
            if let Some(&i) = diffs.first() {
                mismatched += 1;
                println!(
                    "query_tsbs: WARNING {name}: answers differ in {} of {} queries; first:\n    query:      {}\n    hyperbyted: {}\n    influxd:    {}",
                    diffs.len(),
                    queries.len(),
                    queries[i],
                    results[0].shapes[i].describe(),
                    results[1].shapes[i].describe()
                );
            }
        }
        let stats: Vec<(f64, f64)> = results
            .into_iter()
            .map(|r| {
                let s = sorted(r.ms);
                (median(&s), percentile(&s, 0.9))
            })
            .collect();
        println!(
            "query_tsbs: {name:<22} hyperbyted {} / {} ms{}   (last answer: {shape})",
            fmt_ms(stats[0].0),
            fmt_ms(stats[0].1),
            stats
                .get(1)
                .map(|s| format!(", influxd {} / {} ms", fmt_ms(s.0), fmt_ms(s.1)))
                .unwrap_or_default()
        );
        table.push((*name, stats));
    }

    println!();
    println!(
        "query_tsbs: {HOSTS} hosts × {hours} h ({rows} rows), median / p90 of {runs} runs in ms; speed-up = influxd median / hyperbyted median (>1: hyperbyted faster)"
    );
    println!(
        "{:<24}{:>22}{:>22}{:>10}",
        "query", "hyperbyted med / p90", "influxd med / p90", "speed-up"
    );
    for (name, stats) in &table {
        let hb = format!("{} / {}", fmt_ms(stats[0].0), fmt_ms(stats[0].1));
        let (rf, up) = match stats.get(1) {
            Some(r) => (
                format!("{} / {}", fmt_ms(r.0), fmt_ms(r.1)),
                format!("{:.2}x", r.0 / stats[0].0),
            ),
            None => ("-".to_string(), "-".to_string()),
        };
        println!("{name:<24}{hb:>22}{rf:>22}{up:>10}");
    }
    if targets.len() == 2 {
        if mismatched == 0 {
            println!("query_tsbs: every answer matched influxd (series, rows, columns, value sum)");
        } else {
            println!("query_tsbs: WARNING {mismatched} query types answered differently from influxd (see above)");
        }
    } else {
        println!("query_tsbs: (no reference run: hyperbyted alone)");
    }
    drop(reference);
    drop(server);
}
