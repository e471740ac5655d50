//! `cargo xtask bench --against-reference`: hyperbyted side by side with the reference
//! InfluxDB 1.6.7 on the same TSBS cpu-only data, in one run, with one table at the end.
//!
//! Per dataset: both servers start empty; each is loaded in turn by 4 writers × 5,000-line
//! batches (ingest rows/s until acknowledged, i.e. the last `204`, and until queryable, i.e.
//! `SELECT count(usage_user) FROM cpu` equals the rows sent, both counted from the first
//! write); disk is measured once hyperbyted's WAL backlog is flushed (`/metrics`), split
//! into WAL, storage and metadata; the nine TSBS query types run on both with the
//! recent-data tier warm (warm-up runs, then measured runs); both servers are restarted on
//! the same data (SIGTERM, start, `/ping`) and the same measured instances run again, every
//! run counted, the first of each type reported as its cold latency. Peak RSS is sampled
//! from `/proc` every 50 ms during ingest and during each query phase.
//!
//! Every query instance's answer is compared in full between the two servers (numbers to
//! 1e-9 relative, see `hyperbyte_e2e::answers`); a mismatch is printed prominently and the
//! process exits with status 1 after writing the table.
//!
//! Knobs (environment; `cargo xtask bench --against-reference` sets the first two):
//! `HB_BENCH_DATASET` (`small`: 100 hosts × 24 h, the default; `large`: 1,000 hosts ×
//! 72 h; `all`: both), `HB_BENCH_RUNS` (measured runs per query type and phase, 20),
//! `HB_BENCH_WARMUP` (warm-up runs before the warm phase, runs / 4 clamped to 1..=5),
//! `HB_BENCH_HOSTS` / `HB_BENCH_HOURS` (override the dataset's size), `HB_BENCH_THREADS`
//! (4 writers), `HB_BENCH_ONLY` (comma-separated query names), `HB_BENCH_MAX_BODY_GB`
//! (refuse to pre-generate more line protocol than this, 6), `HB_BENCH_DECIMALS` (write
//! every value with this many digits after the point, as a sensor reporting a fixed
//! precision does; unset: in full, as TSBS does), `HB_BENCH_REPORT` (markdown output,
//! default `$CARGO_TARGET_DIR/bench-against-reference.md`).
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod common;

use common::load::load;
use common::probes::{wait_wal_flushed, RssSampler};
use common::queries::{instances, Span, QUERIES};
use common::reference::{start_reference, Reference};
use common::*;
use hyperbyte_e2e::answers::{first_difference, parse_answer, summary};
use hyperbyte_e2e::report::{self, DatasetReport, Latency, Measure, QueryResult, Unit};
use hyperbyte_e2e::Server;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TAG: &str = "against_reference";
const HB_PORT: u16 = 18137;
/// The reference also binds PORT+2 (18133) for its RPC service.
const REF_PORT: u16 = 18131;
const DB: &str = "benchmark";
const BATCH_LINES: usize = 5000;
const NAMES: [&str; 2] = ["hyperbyted", "influxd"];

/// One dataset to run.
#[derive(Debug, Clone)]
struct Dataset {
    name: &'static str,
    hosts: usize,
    hours: i64,
    /// Whether the size differs from the dataset's definition (env override).
    overridden: bool,
}

#[derive(Debug)]
struct Settings {
    datasets: Vec<Dataset>,
    runs: usize,
    warmup: usize,
    threads: usize,
    only: Option<Vec<String>>,
    max_body_bytes: f64,
    /// Digits after the point of every value (`None`: in full).
    decimals: Option<usize>,
    report: PathBuf,
}

fn dataset(name: &'static str, hosts: usize, hours: i64) -> Dataset {
    let h = env_u64("HB_BENCH_HOSTS", hosts as u64).max(1) as usize;
    let t = env_u64("HB_BENCH_HOURS", hours as u64).max(1) as i64;
    Dataset {
        name,
        hosts: h,
        hours: t,
        overridden: h != hosts || t != hours,
    }
}

fn settings() -> Settings {
    let which = std::env::var("HB_BENCH_DATASET").unwrap_or_else(|_| "small".into());
    let datasets = match which.as_str() {
        "small" => vec![dataset("small", 100, 24)],
        "large" => vec![dataset("large", 1000, 72)],
        "all" => vec![dataset("small", 100, 24), dataset("large", 1000, 72)],
        other => {
            eprintln!("{TAG}: HB_BENCH_DATASET must be small, large or all, not {other:?}");
            std::process::exit(2);
        }
    };
    let runs = env_u64("HB_BENCH_RUNS", 20).max(1) as usize;
    let warmup = env_u64("HB_BENCH_WARMUP", (runs / 4).clamp(1, 5) as u64) as usize;
    let report = std::env::var_os("HB_BENCH_REPORT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("target"))
                .join("bench-against-reference.md")
        });
    Settings {
        datasets,
        runs,
        warmup,
        threads: env_u64("HB_BENCH_THREADS", 4).max(1) as usize,
        only: std::env::var("HB_BENCH_ONLY")
            .ok()
            .map(|s| s.split(',').map(|x| x.trim().to_string()).collect()),
        max_body_bytes: env_f64("HB_BENCH_MAX_BODY_GB", 6.0) * 1e9,
        decimals: std::env::var("HB_BENCH_DECIMALS")
            .ok()
            .map(|_| env_u64("HB_BENCH_DECIMALS", 2).min(17) as usize),
        report,
    }
}

/// The dataset's line protocol, generated before any server starts so that generation
/// never competes with a server for the CPU; the same bytes go to both servers.
fn generate(
    ds: &Dataset,
    max_bytes: f64,
    decimals: Option<usize>,
) -> (Arc<Vec<Body>>, u64, u64, Span) {
    let rounds_total = (ds.hours * 3600 / STEP_S) as usize;
    let estimate = (rounds_total * ds.hosts) as f64 * 480.0;
    if estimate > max_bytes {
        eprintln!(
            "{TAG}: {} hosts × {} h is about {:.1} GB of line protocol, over HB_BENCH_MAX_BODY_GB={:.1}: \
             raise it on a machine with the memory, or reduce HB_BENCH_HOURS / HB_BENCH_HOSTS",
            ds.hosts,
            ds.hours,
            estimate / 1e9,
            max_bytes / 1e9
        );
        std::process::exit(2);
    }
    let per_batch = (BATCH_LINES / ds.hosts).max(1);
    let mut tsbs = Tsbs::new(ds.hosts, 0x5EED_0003).with_decimals(decimals);
    let mut bodies = Vec::new();
    let mut left = rounds_total;
    while left > 0 {
        let n = left.min(per_batch);
        bodies.push(tsbs.next_body(n));
        left -= n;
    }
    let rows: u64 = bodies.iter().map(|b| b.lines() as u64).sum();
    let bytes: u64 = bodies.iter().map(|b| b.bytes.len() as u64).sum();
    let span = Span {
        start_s: START_S,
        end_s: START_S + rounds_total as i64 * STEP_S,
        hosts: ds.hosts,
    };
    (Arc::new(bodies), rows, bytes, span)
}

/// The two servers under test.
struct Servers {
    hb: Server,
    reference: Reference,
}

impl Servers {
    fn urls(&self) -> [String; 2] {
        [self.hb.url.clone(), self.reference.url.clone()]
    }
    fn pids(&self) -> [Option<u32>; 2] {
        [self.hb.pid(), self.reference.pid()]
    }
    fn dirs(&self) -> [PathBuf; 2] {
        [self.hb.data_dir.clone(), self.reference.dir()]
    }
}

/// One server's ingest.
#[derive(Debug, Default, Clone, Copy)]
struct Ingest {
    acknowledged_s: f64,
    queryable_s: f64,
    /// `503` answers retried by the loader.
    retried: u64,
    peak_rss: Option<f64>,
    /// CPU seconds (user + system) the server used from the first write until queryable.
    cpu_s: Option<f64>,
}

fn ingest(
    url: &str,
    pid: Option<u32>,
    name: &str,
    bodies: &Arc<Vec<Body>>,
    rows: u64,
    threads: usize,
) -> Ingest {
    let (status, v) = query_json(url, "", &format!("CREATE DATABASE {DB}"));
    assert_eq!(status, 200, "CREATE DATABASE on {url}: {v}");
    let sampler = RssSampler::start(pid);
    let cpu_before = pid.and_then(cpu_seconds);
    let start = Instant::now();
    let loaded = load(url, DB, bodies, threads);
    // With failed batches the count can never match: a short wait, then the warning.
    let timeout = Duration::from_secs(if loaded.failed > 0 { 10 } else { 1800 });
    let (_, seen) = wait_for_count(url, DB, rows, timeout);
    let queryable = start.elapsed();
    let peak_rss = sampler.finish();
    let cpu_s = match (cpu_before, pid.and_then(cpu_seconds)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    if loaded.failed > 0 {
        println!(
            "{TAG}: WARNING {name}: {} batches failed; first: {}",
            loaded.failed,
            loaded.first_error.unwrap_or_default()
        );
    }
    if seen != Some(rows) {
        println!("{TAG}: WARNING {name}: count(usage_user) = {seen:?}, expected {rows}");
    }
    let r = Ingest {
        acknowledged_s: loaded.elapsed.as_secs_f64(),
        queryable_s: queryable.as_secs_f64(),
        peak_rss,
        cpu_s,
        retried: loaded.retried,
    };
    println!(
        "{TAG}: load {name:<10} {rows} rows: last 204 after {:.2} s ({:.0} rows/s), all counted after {:.2} s ({:.0} rows/s), peak RSS {}, {} batches retried after a 503",
        r.acknowledged_s,
        rows as f64 / r.acknowledged_s,
        r.queryable_s,
        rows as f64 / r.queryable_s,
        peak_rss.map_or("?".into(), |b| mb(b as u64)),
        r.retried
    );
    r
}

/// Disk use of each server's data directory: total, WAL, storage, metadata.
fn disk(dirs: &[PathBuf; 2]) -> [[Option<f64>; 4]; 2] {
    let size = |p: &Path| du_bytes(p).map(|b| b as f64);
    let hb = &dirs[0];
    let rf = &dirs[1];
    [
        [
            size(hb),
            size(&hb.join("wal")),
            size(&hb.join("chdb")),
            size(&hb.join("meta")),
        ],
        [
            size(rf),
            size(&rf.join("wal")),
            size(&rf.join("data")),
            size(&rf.join("meta")),
        ],
    ]
}

/// Consecutive one-second samples with the same sizes that make the disk settled: longer
/// than chDB waits between a merge and the removal of the parts it replaced (10–40 s,
/// its background jobs back off while idle).
const SETTLE_SAMPLES: usize = 45;
/// Longest wait for the disk to settle (merges, compactions and the removal of what they
/// replaced run in the background on both servers).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(180);

/// The disk use of both servers once neither has changed for [`SETTLE_SAMPLES`] seconds
/// (or at the timeout), and how long that took.
fn settled_disk(dirs: &[PathBuf; 2], timeout: Duration) -> ([[Option<f64>; 4]; 2], Duration) {
    let start = Instant::now();
    let mut last = disk(dirs);
    let mut same = 0;
    while same < SETTLE_SAMPLES && start.elapsed() < timeout {
        std::thread::sleep(Duration::from_secs(1));
        let now = disk(dirs);
        same = if now == last { same + 1 } else { 0 };
        last = now;
    }
    (last, start.elapsed())
}

fn disk_measures(when: &str, d: &[[Option<f64>; 4]; 2]) -> Vec<Measure> {
    let parts = [
        "total",
        "WAL (`wal/` both)",
        "storage (`chdb/` vs `data/`)",
        "metadata (`meta/` both)",
    ];
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| Measure::new(&format!("disk {when}: {p}"), Unit::Bytes, d[0][i], d[1][i]))
        .collect()
}

/// One query type's runs on both servers in one phase.
struct PhaseRuns {
    ms: [Vec<f64>; 2],
    answers: [Vec<Value>; 2],
}

fn run_list(url: &str, queries: &[String]) -> (Vec<f64>, Vec<Value>) {
    let agent = agent();
    let mut ms = Vec::with_capacity(queries.len());
    let mut answers = Vec::with_capacity(queries.len());
    for q in queries {
        let start = Instant::now();
        let (status, body) = post_query(&agent, url, DB, q);
        ms.push(start.elapsed().as_secs_f64() * 1e3);
        answers.push(parse_answer(status, &body));
    }
    (ms, answers)
}

/// Runs every selected query type on both servers (hyperbyted first); returns the runs
/// per type and each server's peak RSS over the phase.
fn run_phase(
    servers: &Servers,
    lists: &[(usize, Vec<String>)],
) -> (Vec<PhaseRuns>, [Option<f64>; 2]) {
    let urls = servers.urls();
    let samplers = servers.pids().map(RssSampler::start);
    let mut out = Vec::new();
    for (qi, list) in lists {
        let [(m0, a0), (m1, a1)] = [run_list(&urls[0], list), run_list(&urls[1], list)];
        println!(
            "{TAG}:   {:<22} hyperbyted median {} ms, influxd median {} ms ({})",
            QUERIES[*qi].0,
            report::format_ms(median(&sorted(m0.clone()))),
            report::format_ms(median(&sorted(m1.clone()))),
            a0.last().map(summary).unwrap_or_default()
        );
        out.push(PhaseRuns {
            ms: [m0, m1],
            answers: [a0, a1],
        });
    }
    let [s0, s1] = samplers;
    (out, [s0.finish(), s1.finish()])
}

fn latency(ms: &[f64], skip: usize) -> Option<Latency> {
    let first_ms = *ms.first()?;
    let measured = sorted(ms.get(skip..)?.to_vec());
    Some(Latency {
        first_ms,
        median_ms: median(&measured),
        p95_ms: percentile(&measured, 0.95),
    })
}

/// Compares both servers' answers instance by instance; prints every mismatch's first
/// difference prominently; (compared, mismatched).
fn compare(name: &str, phase: &str, queries: &[String], runs: &PhaseRuns) -> (usize, usize) {
    let mut bad = 0;
    for (i, (a, b)) in runs.answers[0].iter().zip(&runs.answers[1]).enumerate() {
        if let Some(d) = first_difference(a, b) {
            bad += 1;
            println!(
                "{TAG}: !!!!! ANSWER MISMATCH {name} ({phase}, instance {i}) {d}\n    query:      {}\n    hyperbyted: {}\n    influxd:    {}",
                queries[i],
                summary(a),
                summary(b)
            );
        }
    }
    (runs.answers[0].len().min(runs.answers[1].len()), bad)
}

fn measure_queries(
    servers: &mut Servers,
    settings: &Settings,
    span: Span,
    measures: &mut Vec<Measure>,
) -> Vec<QueryResult> {
    let selected: Vec<usize> = (0..QUERIES.len())
        .filter(|&i| {
            let name = QUERIES[i].0;
            settings
                .only
                .as_ref()
                .is_none_or(|o| o.iter().any(|x| x == name))
        })
        .collect();
    let warm_lists: Vec<(usize, Vec<String>)> = selected
        .iter()
        .map(|&qi| (qi, instances(qi, span, settings.warmup + settings.runs)))
        .collect();
    let restart_lists: Vec<(usize, Vec<String>)> = warm_lists
        .iter()
        .map(|(qi, l)| (*qi, l[settings.warmup..].to_vec()))
        .collect();
    println!(
        "{TAG}: queries with the tier warm ({} warm-up + {} measured runs per type)",
        settings.warmup, settings.runs
    );
    let (warm, warm_rss) = run_phase(servers, &warm_lists);

    println!("{TAG}: restarting both servers on the same data");
    let t = Instant::now();
    let clean = servers.hb.restart_graceful();
    let hb_restart = t.elapsed().as_secs_f64();
    let t = Instant::now();
    if let Err(e) = servers.reference.restart() {
        // A panic (not `exit`) so that both servers are stopped by their guards.
        panic!("{TAG}: restarting influxd failed: {e}");
    }
    let ref_restart = t.elapsed().as_secs_f64();
    if !clean {
        println!("{TAG}: WARNING hyperbyted did not stop cleanly on SIGTERM");
    }
    measures.push(Measure::new(
        "restart: stop + start until `/ping` answers",
        Unit::Seconds,
        Some(hb_restart),
        Some(ref_restart),
    ));
    measures.extend(disk_measures("after restart", &disk(&servers.dirs())));
    println!(
        "{TAG}: queries after the restart ({} runs per type, all counted)",
        settings.runs
    );
    let (cold, cold_rss) = run_phase(servers, &restart_lists);
    measures.push(Measure::new(
        "peak RSS, queries with the tier warm",
        Unit::Bytes,
        warm_rss[0],
        warm_rss[1],
    ));
    measures.push(Measure::new(
        "peak RSS, queries after restart",
        Unit::Bytes,
        cold_rss[0],
        cold_rss[1],
    ));

    let mut results = Vec::new();
    for (k, (qi, list)) in warm_lists.iter().enumerate() {
        let name = QUERIES[*qi].0;
        let (c1, b1) = compare(name, "warm", list, &warm[k]);
        let (c2, b2) = compare(name, "after restart", &restart_lists[k].1, &cold[k]);
        results.push(QueryResult {
            name: name.into(),
            warm: [0, 1].map(|s| latency(&warm[k].ms[s], settings.warmup)),
            restart: [0, 1].map(|s| latency(&cold[k].ms[s], 0)),
            compared: c1 + c2,
            mismatched: b1 + b2,
        });
    }
    results
}

fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{cores} cores, {:.1} GiB; load average at start {}",
        mem_kb as f64 / 1048576.0,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn run_dataset(ds: &Dataset, settings: &Settings) -> DatasetReport {
    let started = Instant::now();
    let gen = Instant::now();
    let (bodies, rows, bytes, span) = generate(ds, settings.max_body_bytes, settings.decimals);
    println!(
        "{TAG}: dataset {}: {} hosts × {} h at {STEP_S} s = {rows} rows, {} of line protocol in {} batches, generated in {:.1} s",
        ds.name, ds.hosts, ds.hours, mb(bytes), bodies.len(), gen.elapsed().as_secs_f64()
    );
    let machine = machine();
    // The reference first: without it there is nothing to compare, and no hyperbyted to stop.
    let reference = start_reference(REF_PORT, TAG).unwrap_or_else(|e| {
        eprintln!("{TAG}: the reference InfluxDB is required: {e}");
        std::process::exit(2);
    });
    let hb = Server::start_on_port(HB_PORT);
    let mut servers = Servers { hb, reference };
    let urls = servers.urls();
    let pids = servers.pids();
    let ing: Vec<Ingest> = (0..2)
        .map(|i| ingest(&urls[i], pids[i], NAMES[i], &bodies, rows, settings.threads))
        .collect();
    drop(bodies);
    let rate = |s: f64| Some(rows as f64 / s);
    let mut measures = vec![
        Measure::new(
            "ingest until acknowledged, rows/s (first write → last `204`)",
            Unit::RowsPerSec,
            rate(ing[0].acknowledged_s),
            rate(ing[1].acknowledged_s),
        ),
        Measure::new(
            "ingest until queryable, rows/s (first write → `count()` = rows sent)",
            Unit::RowsPerSec,
            rate(ing[0].queryable_s),
            rate(ing[1].queryable_s),
        ),
        Measure::new(
            "server CPU time, first write → queryable (cost independent of contention)",
            Unit::Seconds,
            ing[0].cpu_s,
            ing[1].cpu_s,
        ),
        Measure::new(
            "peak RSS, ingest",
            Unit::Bytes,
            ing[0].peak_rss,
            ing[1].peak_rss,
        ),
    ];
    let flushed = wait_wal_flushed(&urls[0], Duration::from_secs(900));
    println!("{TAG}: hyperbyted WAL backlog flushed: {flushed:?} after the count matched");
    let (settled, waited) = settled_disk(&servers.dirs(), SETTLE_TIMEOUT);
    println!(
        "{TAG}: disk settled (unchanged for {SETTLE_SAMPLES} s on both servers) after {waited:.1?}"
    );
    measures.extend(disk_measures("settled after load", &settled));
    let queries = measure_queries(&mut servers, settings, span, &mut measures);
    drop(servers);
    let size = if ds.overridden {
        " (size overridden by HB_BENCH_HOSTS/HB_BENCH_HOURS)"
    } else {
        ""
    };
    let values = match settings.decimals {
        Some(d) => format!(", values to {d} decimals (HB_BENCH_DECIMALS)"),
        None => String::new(),
    };
    DatasetReport {
        title: format!(
            "{}{size}: {} hosts × {} h at {STEP_S} s = {} rows{values}",
            ds.name,
            ds.hosts,
            ds.hours,
            report::thousands(rows)
        ),
        notes: vec![
            format!("{} of line protocol, {} writers × {}-line batches (`precision=s`), hyperbyted loaded first, then InfluxDB", mb(bytes), settings.threads, report::thousands(BATCH_LINES as u64)),
            format!(
                "`503` answers during the load, each batch sent again after 50 ms: hyperbyted {}, InfluxDB {}",
                ing[0].retried, ing[1].retried
            ),
            format!("queries: {} warm-up + {} measured runs per type with the tier warm; {} runs per type after the restart (first = cold)", settings.warmup, settings.runs, settings.runs),
            format!("machine: {machine}; hyperbyted: `{}`", hyperbyte_e2e::binary().display()),
            format!(
                "load average at end {}; wall time of this dataset: {:.0} s",
                load_average(),
                started.elapsed().as_secs_f64()
            ),
        ],
        measures,
        queries,
    }
}

fn main() {
    if !bench_mode(TAG) {
        return;
    }
    require_binary();
    let settings = settings();
    let mut reports = Vec::new();
    for ds in &settings.datasets {
        reports.push(run_dataset(ds, &settings));
    }
    let md = report::render(
        "## hyperbyted vs InfluxDB 1.6.7 (`cargo xtask bench --against-reference`)",
        &reports,
    );
    println!("\n{md}");
    if let Some(dir) = settings.report.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&settings.report, &md) {
        Ok(()) => println!("{TAG}: table written to {}", settings.report.display()),
        Err(e) => eprintln!("{TAG}: cannot write {}: {e}", settings.report.display()),
    }
    let bad: usize = reports.iter().map(DatasetReport::mismatches).sum();
    if bad > 0 {
        eprintln!("{TAG}: !!!!! {bad} query instances answered differently from InfluxDB (see ANSWER MISMATCH above)");
        std::process::exit(1);
    }
}
