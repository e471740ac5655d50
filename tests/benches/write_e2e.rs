//! End-to-end `/write` throughput: starts the release `hyperbyted`, and 4 client threads
//! POST pre-generated 5,000-line TSBS cpu-only batches (100 hosts, 10 tags, 10 float
//! fields) over keep-alive HTTP/1.1 for a fixed time. Prints
//! `write_e2e: N rows/s (M field values/s), B batches/s, p50/p99 batch latency`.
//!
//! Knobs (environment): `HB_BENCH_SECS` (measured seconds, default 20),
//! `HB_BENCH_WARMUP_SECS` (3), `HB_BENCH_THREADS` (4), `HB_BENCH_BATCH` (lines per batch,
//! 5000), `HB_BENCH_POOL` (distinct pre-generated bodies, 64; when the run needs more,
//! bodies are reused with every timestamp shifted past the previous pass, so every point
//! written is new). A batch refused with 503 (write backlog full) is retried after 50 ms,
//! as clients do, so a run longer than the WAL can absorb measures the sustained rate.
//! Timings are printed, never asserted.
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod common;

use common::*;
use hyperbyte_e2e::Server;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PORT: u16 = 18130;
const DB: &str = "benchmark";
const HOSTS: usize = 100;

#[derive(Debug, Default)]
struct ThreadResult {
    /// Latency (ms) of batches started and finished inside the measured window.
    latencies_ms: Vec<f64>,
    /// Lines of batches that finished inside the measured window.
    window_lines: u64,
    window_batches: u64,
}

fn main() {
    if !bench_mode("write_e2e") {
        return;
    }
    require_binary();
    let secs = env_f64("HB_BENCH_SECS", 20.0);
    let warmup = env_f64("HB_BENCH_WARMUP_SECS", 3.0);
    let threads = env_u64("HB_BENCH_THREADS", 4).max(1) as usize;
    let batch_lines = env_u64("HB_BENCH_BATCH", 5000).max(HOSTS as u64) as usize;
    let pool_size = env_u64("HB_BENCH_POOL", 64).max(1) as usize;
    let rounds = batch_lines / HOSTS; // timestamps per batch
    let lines_per_batch = rounds * HOSTS;

    let gen_start = Instant::now();
    let mut tsbs = Tsbs::new(HOSTS, 0x5EED_0001);
    let pool: Arc<Vec<Body>> = Arc::new((0..pool_size).map(|_| tsbs.next_body(rounds)).collect());
    let pool_bytes: usize = pool.iter().map(|b| b.bytes.len()).sum();
    let pass_shift_s = (pool_size * rounds) as i64 * STEP_S;
    println!(
        "write_e2e: {pool_size} distinct bodies of {lines_per_batch} lines ({:.2} MB each, {} total) generated in {:.1} s",
        pool_bytes as f64 / pool_size as f64 / 1e6,
        mb(pool_bytes as u64),
        gen_start.elapsed().as_secs_f64()
    );

    let server = Server::start_on_port(PORT);
    let (status, v) = server.query("", &format!("CREATE DATABASE {DB}"));
    assert_eq!(status, 200, "CREATE DATABASE failed: {v}");

    let next = Arc::new(AtomicUsize::new(0));
    let total_lines = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let retries = Arc::new(AtomicU64::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let t0 = Instant::now();
    let window_start = t0 + Duration::from_secs_f64(warmup);
    let window_end = window_start + Duration::from_secs_f64(secs);
    let mut cpu_at_window: (Option<f64>, Option<f64>) = (None, None);

    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let pool = Arc::clone(&pool);
            let next = Arc::clone(&next);
            let total_lines = Arc::clone(&total_lines);
            let errors = Arc::clone(&errors);
            let retries = Arc::clone(&retries);
            let first_error = Arc::clone(&first_error);
            let url = server.url.clone();
            std::thread::spawn(move || {
                let agent = agent();
                let mut res = ThreadResult::default();
                let mut scratch = Vec::new();
                loop {
                    if Instant::now() >= window_end {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let body = &pool[i % pool.len()];
                    let pass = (i / pool.len()) as i64;
                    let bytes: &[u8] = if pass == 0 {
                        &body.bytes
                    } else {
                        body.restamp_into(pass * pass_shift_s, &mut scratch);
                        &scratch
                    };
                    let start = Instant::now();
                    // Like Telegraf and the client libraries, retry a batch the server
                    // refuses with 503 (write backlog full) after a pause.
                    let (status, resp) = loop {
                        let (status, resp) = post_write(&agent, &url, DB, bytes);
                        if status == 503 && Instant::now() < window_end + Duration::from_secs(60) {
                            retries.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(50));
                            continue;
                        }
                        break (status, resp);
                    };
                    let end = Instant::now();
                    if status != 204 {
                        errors.fetch_add(1, Ordering::Relaxed);
                        let mut fe = first_error.lock().unwrap();
                        if fe.is_none() {
                            *fe = Some(format!(
                                "HTTP {status}: {}",
                                String::from_utf8_lossy(&resp)
                                    .chars()
                                    .take(300)
                                    .collect::<String>()
                            ));
                        }
                        continue;
                    }
                    total_lines.fetch_add(body.lines() as u64, Ordering::Relaxed);
                    if end >= window_start && end <= window_end {
                        res.window_lines += body.lines() as u64;
                        res.window_batches += 1;
                        if start >= window_start {
                            res.latencies_ms.push((end - start).as_secs_f64() * 1e3);
                        }
                    }
                }
                res
            })
        })
        .collect();

    // Sample CPU times at the window edges (the main thread is otherwise idle).
    std::thread::sleep(window_start.saturating_duration_since(Instant::now()));
    cpu_at_window.0 = server.pid().and_then(cpu_seconds);
    let client_w0 = cpu_seconds(std::process::id());
    std::thread::sleep(window_end.saturating_duration_since(Instant::now()));
    cpu_at_window.1 = server.pid().and_then(cpu_seconds);
    let client_w1 = cpu_seconds(std::process::id());

    let results: Vec<ThreadResult> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let lines: u64 = results.iter().map(|r| r.window_lines).sum();
    let batches: u64 = results.iter().map(|r| r.window_batches).sum();
    let lat = sorted(results.into_iter().flat_map(|r| r.latencies_ms).collect());
    let rows_s = lines as f64 / secs;
    println!(
        "write_e2e: {rows_s:.0} rows/s ({:.0} field values/s), {:.1} batches/s, p50 {:.1} ms / p99 {:.1} ms batch latency",
        rows_s * FIELDS.len() as f64,
        batches as f64 / secs,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
    );
    let written = total_lines.load(Ordering::Relaxed);
    let issued = next.load(Ordering::Relaxed);
    println!(
        "write_e2e: {threads} client threads, {lines_per_batch}-line batches, {secs:.0} s measured after {warmup:.0} s warm-up; {written} rows acknowledged in all ({issued} batches, {} passes over the pool), {} failed batches, {} retries after 503 (write backlog full)",
        issued.div_ceil(pool_size),
        errors.load(Ordering::Relaxed),
        retries.load(Ordering::Relaxed)
    );
    if let Some(e) = first_error.lock().unwrap().as_ref() {
        println!("write_e2e: WARNING first failed batch: {e}");
    }
    if let ((Some(s0), Some(s1)), (Some(c0), Some(c1))) = (cpu_at_window, (client_w0, client_w1)) {
        println!(
            "write_e2e: CPU during the measured window: hyperbyted {:.2} cores, bench client {:.2} cores ({} cores online)",
            (s1 - s0) / secs,
            (c1 - c0) / secs,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
    }

    // How long until everything acknowledged is visible to queries (WAL → storage flush).
    let (waited, seen) = wait_for_count(&server.url, DB, written, Duration::from_secs(300));
    match seen {
        Some(n) if n == written => println!(
            "write_e2e: all {written} rows visible to SELECT count() {:.1} s after the last write",
            waited.as_secs_f64()
        ),
        other => println!(
            "write_e2e: WARNING after {:.0} s, SELECT count(usage_user) FROM cpu = {other:?}, expected {written}",
            waited.as_secs_f64()
        ),
    }
    std::thread::sleep(Duration::from_secs(3));
    println!(
        "write_e2e: data dir after the run: {}",
        du_breakdown(&server.data_dir)
    );
}
