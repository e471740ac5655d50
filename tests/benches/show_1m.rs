//! Metadata-query benchmark at one million series: starts the release `hyperbyted`, writes
//! 1,000,000 distinct series through `/write` (measurement `cpu`, tags host × region ×
//! rack, one point each, 5,000-line batches from several client threads), then times the
//! SHOW statements and cardinality counts that are served from the in-memory series index
//! (median / p90 of the measured runs after a warm-up, once the server has gone idle after
//! the load) and prints them as a table, with the time it took to write and register the
//! series and the server's resident memory.
//!
//! The point is to keep these statements interactive (well under 50 ms) at the series
//! count the default `max-series-per-database` limit allows; the answers' sizes are checked
//! too (a wrong row count is reported as a warning, never asserted). The last rows time
//! harder shapes outside that target: a wide index hit, and a condition the per-value
//! index cannot serve (`!=`), which visits every series.
//!
//! Knobs (environment): `HB_SHOW_SERIES` (1,000,000; rounded down to a multiple of 100),
//! `HB_SHOW_THREADS` (4 writer threads), `HB_SHOW_WARMUP` (3 runs), `HB_SHOW_RUNS` (20
//! runs), `HB_SHOW_PORT` (18141), `HYPERBYTED_BIN` (the binary). Run it with
//! `cargo bench -p hyperbyte-e2e --bench show_1m`.
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DB: &str = "show1m";
const REGIONS: usize = 10;
const RACKS: usize = 10;
const BATCH_LINES: usize = 5_000;
/// How many of the cases (the first ones) are held to the 50 ms target.
const TARGETS: usize = 9;

/// `true` under `cargo bench` (which passes `--bench`); `cargo test --benches` and clippy
/// build this target too, and must not spend minutes loading a million series.
fn bench_mode() -> bool {
    if std::env::args().any(|a| a == "--bench") {
        return true;
    }
    println!("show_1m: skipped (run it with `cargo bench -p hyperbyte-e2e --bench show_1m`)");
    false
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("warning: {name}={v:?} is not a number; using {default}");
            default
        }),
        Err(_) => default,
    }
}

/// The server process; killed when dropped (also on panic).
struct Hyperbyted {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Hyperbyted {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Hyperbyted {
    fn start(port: u16) -> Hyperbyted {
        let bin = hyperbyte_e2e::binary();
        if !bin.exists() {
            eprintln!(
                "error: {} not found: run `cargo build --release -p hyperbyte-server` first \
                 or set HYPERBYTED_BIN",
                bin.display()
            );
            std::process::exit(1);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let child = Command::new(&bin)
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env("HYPERBYTE_LIMITS__MAX_SERIES_PER_DATABASE", "2000000")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hyperbyted");
        let mut s = Hyperbyted {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if ureq::get(&format!("{}/ping", s.url))
                .call()
                .is_ok_and(|r| r.status() == 204)
            {
                return s;
            }
            if let Ok(Some(status)) = s.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = s.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("hyperbyted exited with {status}: {err}");
            }
            assert!(Instant::now() < deadline, "hyperbyted did not answer /ping");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// CPU time (user + system) the server has used so far, from `/proc/PID/stat`.
    fn cpu_time(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the parenthesised command name; utime and stime are 14th and 15th.
        let rest = stat.rsplit_once(')')?.1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
        // USER_HZ is 100 on Linux.
        Some(Duration::from_millis(ticks * 10))
    }

    /// Waits until the server is idle (under 10% of a core for four consecutive half
    /// seconds, after at least 5 s), so the background WAL flush of the loaded points does
    /// not share the CPU with the timed statements; returns how long that took.
    fn wait_idle(&self, limit: Duration) -> Duration {
        let start = Instant::now();
        let mut quiet = 0;
        let mut last = self.cpu_time();
        while start.elapsed() < limit && (quiet < 4 || start.elapsed() < Duration::from_secs(5)) {
            std::thread::sleep(Duration::from_millis(500));
            let now = self.cpu_time();
            match (last, now) {
                (Some(a), Some(b)) if b.saturating_sub(a) < Duration::from_millis(50) => quiet += 1,
                (Some(_), Some(_)) => quiet = 0,
                _ => return start.elapsed(),
            }
            last = now;
        }
        start.elapsed()
    }

    /// Resident set size in MiB, from `/proc/PID/status`.
    fn rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }
}

fn post_query(url: &str, q: &str) -> serde_json::Value {
    let r = ureq::post(&format!("{url}/query"))
        .send_form(&[("db", DB), ("q", q)])
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    let body = r.into_string().expect("response body");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{q}: {e}: {body}"))
}

/// Number of rows over all series of the first statement result; `Err` with the error
/// text when the statement failed.
fn rows(v: &serde_json::Value) -> Result<usize, String> {
    let r = &v["results"][0];
    if let Some(e) = r["error"].as_str() {
        return Err(e.to_string());
    }
    Ok(r["series"].as_array().map_or(0, |ss| {
        ss.iter()
            .map(|s| s["values"].as_array().map_or(0, Vec::len))
            .sum()
    }))
}

/// The first value of the first row (cardinality answers).
fn first_int(v: &serde_json::Value) -> Option<i64> {
    v["results"][0]["series"][0]["values"][0][0].as_i64()
}

/// Line protocol for series `first .. first + n`, one point each at `ts`.
fn batch_body(first: usize, n: usize, ts: i64) -> String {
    let mut body = String::with_capacity(n * 64);
    for i in first..first + n {
        let rack = i % RACKS;
        let region = (i / RACKS) % REGIONS;
        let host = i / (RACKS * REGIONS);
        body.push_str(&format!(
            "cpu,host=host_{host},rack=rack_{rack},region=region_{region} v={i}i {ts}\n"
        ));
    }
    body
}

fn load(url: &str, total: usize, threads: usize) -> Duration {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let next = Arc::clone(&next);
            let url = url.to_string();
            std::thread::spawn(move || loop {
                let first = next.fetch_add(BATCH_LINES, Ordering::Relaxed);
                if first >= total {
                    return;
                }
                let n = BATCH_LINES.min(total - first);
                let body = batch_body(first, n, 1_600_000_000_000_000_000);
                match ureq::post(&format!("{url}/write?db={DB}")).send_string(&body) {
                    Ok(r) if r.status() == 204 => {}
                    Ok(r) => panic!("write answered {}", r.status()),
                    Err(ureq::Error::Status(code, r)) => {
                        panic!(
                            "write answered {code}: {}",
                            r.into_string().unwrap_or_default()
                        )
                    }
                    Err(e) => panic!("write failed: {e}"),
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("writer thread");
    }
    start.elapsed()
}

/// Checks one answer.
type Check = Box<dyn Fn(&serde_json::Value) -> Result<(), String>>;

struct Case {
    query: String,
    /// Expected number of rows (or the count for cardinality statements).
    expect: Check,
}

fn expect_rows(n: usize) -> Check {
    Box::new(move |v| match rows(v)? {
        got if got == n => Ok(()),
        got => Err(format!("{got} rows, expected {n}")),
    })
}

fn expect_count(n: usize) -> Check {
    Box::new(move |v| {
        rows(v)?;
        match first_int(v) {
            Some(got) if got == n as i64 => Ok(()),
            got => Err(format!("count {got:?}, expected {n}")),
        }
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    if !bench_mode() {
        return;
    }
    let total =
        (env_usize("HB_SHOW_SERIES", 1_000_000) / (RACKS * REGIONS)).max(1) * (RACKS * REGIONS);
    let hosts = total / (RACKS * REGIONS);
    let threads = env_usize("HB_SHOW_THREADS", 4).max(1);
    let warmup = env_usize("HB_SHOW_WARMUP", 3);
    let runs = env_usize("HB_SHOW_RUNS", 20).max(1);
    let port = u16::try_from(env_usize("HB_SHOW_PORT", 18141)).expect("HB_SHOW_PORT");

    let server = Hyperbyted::start(port);
    let url = server.url.clone();
    let created = post_query(&url, &format!("CREATE DATABASE {DB}"));
    assert!(rows(&created).is_ok(), "CREATE DATABASE: {created}");
    let rss_before = server.rss_mib();

    println!("show_1m: writing {total} series ({hosts} hosts x {REGIONS} regions x {RACKS} racks, {BATCH_LINES}-line batches, {threads} threads)");
    let took = load(&url, total, threads);
    let card = post_query(&url, "SHOW SERIES CARDINALITY");
    let registered = first_int(&card).unwrap_or(-1);
    println!(
        "write + register: {:.1} s ({:.0} series/s), {registered} series indexed",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64()
    );
    if registered != total as i64 {
        eprintln!("warning: SHOW SERIES CARDINALITY says {registered}, expected {total}");
    }
    let rss_loaded = server.rss_mib();
    let settle = server.wait_idle(Duration::from_secs(180));
    println!(
        "server idle {:.1} s after the load (background flush); RSS then {}",
        settle.as_secs_f64(),
        server
            .rss_mib()
            .map_or("n/a".to_string(), |m| format!("{m:.0} MiB"))
    );

    let host = if hosts > 42 { "host_42" } else { "host_0" };
    let qs = |s: &str| s.replace("host_42", host);
    // The first `TARGETS` cases are the statements held to the 50 ms target.
    let cases = vec![
        Case {
            query: qs("SHOW SERIES LIMIT 100"),
            expect: expect_rows(100.min(total)),
        },
        Case {
            query: qs("SHOW SERIES WHERE host = 'host_42'"),
            expect: expect_rows(RACKS * REGIONS),
        },
        Case {
            query: qs("SHOW TAG VALUES WITH KEY = host LIMIT 100"),
            expect: expect_rows(100.min(hosts)),
        },
        Case {
            query: qs("SHOW TAG VALUES WITH KEY = region"),
            expect: expect_rows(REGIONS),
        },
        Case {
            query: qs("SHOW TAG VALUES WITH KEY = rack WHERE host = 'host_42'"),
            expect: expect_rows(RACKS),
        },
        Case {
            query: qs("SHOW MEASUREMENTS"),
            expect: expect_rows(1),
        },
        Case {
            query: qs("SHOW TAG KEYS"),
            expect: expect_rows(3),
        },
        Case {
            query: qs("SHOW SERIES CARDINALITY"),
            expect: expect_count(total),
        },
        Case {
            query: qs("SHOW SERIES EXACT CARDINALITY"),
            expect: expect_count(total),
        },
        // Harder shapes (not in the 50 ms target list): a non-selective index hit with
        // LIMIT, tag values under a wide condition, and a condition the index cannot
        // serve (a full scan of the series index).
        Case {
            query: qs("SHOW SERIES WHERE region = 'region_3' LIMIT 10"),
            expect: expect_rows(10.min(total / REGIONS)),
        },
        Case {
            query: qs("SHOW TAG VALUES WITH KEY = host WHERE region = 'region_3' LIMIT 10"),
            expect: expect_rows(10.min(hosts)),
        },
        Case {
            query: qs("SHOW MEASUREMENTS WHERE host = 'host_42'"),
            expect: expect_rows(1),
        },
        Case {
            query: qs("SHOW SERIES EXACT CARDINALITY WHERE host != 'host_42'"),
            expect: expect_count(total - RACKS * REGIONS),
        },
    ];

    println!();
    println!(
        "{:<66} {:>10} {:>10} {:>10} {:>4} {:>9}",
        "statement", "median ms", "p90 ms", "max ms", "ok", "RSS MiB"
    );
    let mut worst = Duration::ZERO;
    for (i, c) in cases.iter().enumerate() {
        for _ in 0..warmup {
            post_query(&url, &c.query);
        }
        let mut times = Vec::with_capacity(runs);
        let mut verdict = Ok(());
        for _ in 0..runs {
            let t = Instant::now();
            let v = post_query(&url, &c.query);
            times.push(t.elapsed());
            if verdict.is_ok() {
                verdict = (c.expect)(&v);
            }
        }
        times.sort();
        let median = percentile(&times, 0.5);
        if i < TARGETS {
            worst = worst.max(median);
        }
        if i == TARGETS {
            println!("-- beyond the target list:");
        }
        println!(
            "{:<66} {:>10.2} {:>10.2} {:>10.2} {:>4} {:>9.0}",
            c.query,
            ms(median),
            ms(percentile(&times, 0.9)),
            ms(percentile(&times, 1.0)),
            if verdict.is_ok() { "yes" } else { "NO" },
            server.rss_mib().unwrap_or(f64::NAN)
        );
        if let Err(e) = verdict {
            eprintln!("warning: {}: {e}", c.query);
        }
    }
    println!();
    let fmt_rss = |r: Option<f64>| r.map_or("n/a".to_string(), |m| format!("{m:.0} MiB"));
    println!(
        "server RSS: {} before writing, {} with {total} series loaded, {} after the queries",
        fmt_rss(rss_before),
        fmt_rss(rss_loaded),
        fmt_rss(server.rss_mib())
    );
    println!(
        "slowest median of the {TARGETS} target statements: {:.2} ms ({})",
        ms(worst),
        if worst < Duration::from_millis(50) {
            "all under 50 ms"
        } else {
            "over the 50 ms target"
        }
    );
}
