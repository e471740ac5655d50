//! Crash harness: concurrent writers of unique, checkable points, `SIGKILL` of the real
//! `hyperbyted` at random moments and inside chosen steps (failure points), restart, and a
//! check of everything written so far after every restart.
//!
//! What is checked after each restart:
//! - every acknowledged batch is readable, all of it, exactly once;
//! - no batch is half-visible (acknowledged or not: a batch is one WAL entry, all or
//!   nothing), no point appears twice (a replayed WAL entry must not double a point), and
//!   nothing appears that was never sent;
//! - series removed by an acknowledged `DELETE` stay removed.
//!
//! A cycle either kills at a random moment while writers, a query and a `DELETE` run, or
//! restarts the server with `FAILPOINTS=<point>=sleep(ms)` and kills while a request is
//! stuck inside that point ("inside" is judged by timing: the request that reaches the
//! point has been in flight for [`INSIDE_AFTER`] without an answer; `retention-drop` runs
//! in the background and is only timed). Everything random comes from one seed, printed
//! first and in every failure message; thread timing is not replayable, the choices are.

use crate::Server;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The database the harness writes.
const DB: &str = "crash";
/// Timestamps start here (2020-09-13) and step by 1 µs per sequence number.
const BASE_NS: u64 = 1_600_000_000_000_000_000;
/// A batch's points have sequence numbers `batch * SEQ_STRIDE + i`.
const SEQ_STRIDE: u64 = 1000;
/// How long a failure point sleeps (the window the kill aims at).
const POINT_SLEEP_MS: u64 = 1500;
/// A request in flight this long without an answer is taken to sit inside the point.
const INSIDE_AFTER: Duration = Duration::from_millis(300);

/// Failure points the harness aims at, with what makes the server reach them.
pub const POINTS: &[(&str, Trigger)] = &[
    ("wal-commit-before-sync", Trigger::Writes),
    ("wal-commit-after-sync", Trigger::Writes),
    ("flush-before-truncate", Trigger::Query),
    ("meta-apply", Trigger::NewField),
    ("chdb-alter", Trigger::NewColumn),
    ("retention-drop", Trigger::Background),
    ("delete-storage-done", Trigger::Delete),
];

/// What brings the server into a failure point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The writers' ordinary writes.
    Writes,
    /// A query (its read-your-writes flush runs a flush round).
    Query,
    /// A write bringing a new field (the ingestion registers it in the metadata).
    NewField,
    /// A write bringing a new field, then a query (the flush adds the column in storage).
    NewColumn,
    /// Nothing: the retention service runs every second by itself.
    Background,
    /// A `DELETE`.
    Delete,
}

/// How a run is set up.
#[derive(Debug, Clone)]
pub struct CrashConfig {
    /// Seed of every choice the harness makes.
    pub seed: u64,
    /// Kill/restart cycles.
    pub cycles: usize,
    /// Concurrent writer threads.
    pub writers: usize,
}

impl CrashConfig {
    /// `cycles` cycles with four writers; the seed from `HYPERBYTE_CRASH_SEED` or the clock.
    pub fn from_env(cycles: usize) -> CrashConfig {
        let cycles = std::env::var("HYPERBYTE_CRASH_CYCLES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cycles);
        let seed = std::env::var("HYPERBYTE_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        CrashConfig {
            seed,
            cycles,
            writers: 4,
        }
    }
}

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct CrashReport {
    /// Kills (one per cycle, plus the restarts into a failure point).
    pub kills: usize,
    /// Kills judged to have hit their failure point while inside it.
    pub kills_inside: usize,
    /// Acknowledged batches checked at the end.
    pub acked_batches: usize,
    /// Acknowledged points checked at the end.
    pub acked_points: usize,
    /// Series deleted and checked to stay deleted.
    pub deleted_series: usize,
}

/// SplitMix64: small, deterministic, good enough to pick moments and sizes.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// What one writer (series `w=<name>`) sent and got acknowledged, across cycles.
#[derive(Debug, Default)]
struct WriterLog {
    name: String,
    next_batch: u64,
    /// Batch → points sent.
    sent: BTreeMap<u64, u64>,
    acked: BTreeSet<u64>,
}

impl WriterLog {
    fn new(name: &str) -> WriterLog {
        WriterLog {
            name: name.to_string(),
            ..WriterLog::default()
        }
    }

    /// Line protocol of the next batch (`size` points, `extra` fields appended), recorded
    /// as sent.
    fn next_body(&mut self, size: u64, extra: &str) -> (u64, String) {
        let batch = self.next_batch;
        self.next_batch += 1;
        self.sent.insert(batch, size);
        let mut body = String::new();
        for i in 0..size {
            let seq = batch * SEQ_STRIDE + i;
            body.push_str(&format!(
                "{DB},w={} seq={seq}i{extra} {}\n",
                self.name,
                BASE_NS + seq * 1000
            ));
        }
        (batch, body)
    }
}

/// A request running on its own thread, watched by the killer.
struct InFlight {
    started: Instant,
    done: Arc<AtomicBool>,
    answer: Arc<Mutex<Option<(u16, String)>>>,
}

impl InFlight {
    fn spawn(f: impl FnOnce() -> (u16, String) + Send + 'static) -> InFlight {
        let done = Arc::new(AtomicBool::new(false));
        let answer = Arc::new(Mutex::new(None));
        let (d, a) = (done.clone(), answer.clone());
        std::thread::spawn(move || {
            let r = f();
            if let Ok(mut slot) = a.lock() {
                *slot = Some(r);
            }
            d.store(true, Ordering::SeqCst);
        });
        InFlight {
            started: Instant::now(),
            done,
            answer,
        }
    }

    fn done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }

    /// Waits until it answered or sat `INSIDE_AFTER` without an answer; true if stuck.
    fn stuck(&self) -> bool {
        while !self.done() {
            if self.started.elapsed() >= INSIDE_AFTER {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    fn answer(&self) -> Option<(u16, String)> {
        self.answer.lock().ok().and_then(|a| a.clone())
    }
}

fn new_agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build()
}

fn post_write(agent: &ureq::Agent, url: &str, body: &str) -> (u16, String) {
    crate::response(
        agent
            .post(&format!("{url}/write?db={DB}"))
            .send_string(body),
    )
}

fn post_query(agent: &ureq::Agent, url: &str, q: &str) -> (u16, String) {
    crate::response(
        agent
            .post(&format!("{url}/query"))
            .send_form(&[("db", DB), ("q", q)]),
    )
}

/// Runs the harness; panics with the seed on the first cycle whose check fails.
pub fn run(cfg: &CrashConfig) -> CrashReport {
    let seed = cfg.seed;
    let replay = format!(
        "replay: cargo xtask crash --seed {seed} --cycles {}",
        cfg.cycles
    );
    println!(
        "crash harness: seed {seed}, {} cycles, {} writers ({replay})",
        cfg.cycles, cfg.writers
    );
    let mut rng = Rng::new(seed);
    let mut server = Server::start_with_env(&server_env(None));
    let setup = [
        format!("CREATE DATABASE {DB}"),
        // A finite policy, so the retention service works on this database.
        format!("CREATE RETENTION POLICY short ON {DB} DURATION 1h REPLICATION 1"),
    ];
    for q in setup {
        let (status, v) = server.query("", &q);
        assert!(
            status == 200 && v["results"][0]["error"].is_null(),
            "{q}: {v}"
        );
    }

    let mut writers: Vec<WriterLog> = (0..cfg.writers)
        .map(|k| WriterLog::new(&format!("w{k}")))
        .collect();
    // Batches with a new field each time (schema changes), and the `DELETE` victims.
    let mut schema_writer = WriterLog::new("s");
    let mut deleted: BTreeSet<String> = BTreeSet::new();
    let mut report = CrashReport::default();

    // Point order: shuffled by the seed, then cycled; every third cycle kills at random.
    let mut order: Vec<usize> = (0..POINTS.len()).collect();
    for i in (1..order.len()).rev() {
        let j = rng.range(0, i as u64) as usize;
        order.swap(i, j);
    }
    let mut next_point = 0usize;

    for cycle in 0..cfg.cycles {
        let started = Instant::now();
        let point = if cycle % 3 == 0 {
            None
        } else {
            let p = POINTS[order[next_point % order.len()]];
            next_point += 1;
            Some(p)
        };
        let label = point.map_or("random moment", |p| p.0);
        let fail = |msg: String| failed(seed, cycle, label, &replay, &msg);
        if let Some((name, _)) = point {
            let fp = format!("{name}=sleep({POINT_SLEEP_MS})");
            server.restart_with_env(&server_env(Some(&fp)));
            report.kills += 1;
        }
        let url = server.url.clone();
        let agent = new_agent();

        // An acknowledged DELETE before the kill must hold after it.
        let victim = format!("d{cycle}");
        let mut victim_log = WriterLog::new(&victim);
        let (_, body) = victim_log.next_body(rng.range(1, 20), "");
        let (status, text) = post_write(&agent, &url, &body);
        if status != 204 {
            fail(format!("write of series {victim}: {status} {text}"));
        }
        let delete_q = format!("DELETE FROM {DB} WHERE w = '{victim}'");
        let delete_in_flight = point.is_some_and(|p| p.1 == Trigger::Delete);
        if !delete_in_flight {
            let (status, text) = post_query(&agent, &url, &delete_q);
            if status != 200 || text.contains("\"error\"") {
                fail(format!("{delete_q}: {status} {text}"));
            }
            deleted.insert(victim.clone());
        }

        // Writers.
        let stop = Arc::new(AtomicBool::new(false));
        let epoch = Instant::now();
        let in_flight: Arc<Vec<AtomicU64>> =
            Arc::new((0..cfg.writers).map(|_| AtomicU64::new(0)).collect());
        let mut handles = Vec::new();
        for (k, log) in writers.drain(..).enumerate() {
            let (url, stop, in_flight) = (url.clone(), stop.clone(), in_flight.clone());
            let mut wrng = Rng::new(rng.next_u64());
            handles.push(std::thread::spawn(move || {
                let mut log = log;
                let agent = new_agent();
                while !stop.load(Ordering::SeqCst) {
                    let size = wrng.range(1, 30);
                    let (batch, body) = log.next_body(size, "");
                    in_flight[k].store(epoch.elapsed().as_millis() as u64 + 1, Ordering::SeqCst);
                    let (status, _) = post_write(&agent, &url, &body);
                    in_flight[k].store(0, Ordering::SeqCst);
                    match status {
                        204 => {
                            log.acked.insert(batch);
                        }
                        0 => break, // the server is gone
                        _ => std::thread::sleep(Duration::from_millis(50)),
                    }
                    std::thread::sleep(Duration::from_millis(wrng.range(1, 12)));
                }
                log
            }));
        }
        // Let some data pile up first (and the flush run a round or two).
        std::thread::sleep(Duration::from_millis(rng.range(200, 1200)));

        // The kill.
        let mut inside = false;
        let mut extra: Vec<InFlight> = Vec::new();
        let mut schema_batch: Option<u64> = None;
        match point.map(|p| p.1) {
            None => {
                // Sometimes a query or a DELETE runs across the kill as well.
                match rng.range(0, 2) {
                    0 => {
                        let (u, q) = (url.clone(), format!("SELECT count(seq) FROM {DB}"));
                        extra.push(InFlight::spawn(move || post_query(&new_agent(), &u, &q)));
                    }
                    1 => {
                        let (_, body) = schema_writer.next_body(rng.range(1, 30), "");
                        let u = url.clone();
                        extra.push(InFlight::spawn(move || post_write(&new_agent(), &u, &body)));
                        schema_batch = Some(schema_writer.next_batch - 1);
                    }
                    _ => {}
                }
                std::thread::sleep(Duration::from_millis(rng.range(0, 1500)));
            }
            Some(Trigger::Writes) => {
                let deadline = Instant::now() + Duration::from_secs(10);
                while Instant::now() < deadline && !inside {
                    let now = epoch.elapsed().as_millis() as u64 + 1;
                    inside = in_flight.iter().any(|t| {
                        let t = t.load(Ordering::SeqCst);
                        t != 0 && now.saturating_sub(t) >= INSIDE_AFTER.as_millis() as u64
                    });
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            Some(Trigger::Query) => {
                for _ in 0..5 {
                    let (u, q) = (url.clone(), format!("SELECT count(seq) FROM {DB}"));
                    let f = InFlight::spawn(move || post_query(&new_agent(), &u, &q));
                    inside = f.stuck();
                    extra.push(f);
                    if inside {
                        break;
                    }
                }
            }
            Some(t @ (Trigger::NewField | Trigger::NewColumn)) => {
                let field = format!(",f{cycle}=1i");
                let (batch, body) = schema_writer.next_body(rng.range(1, 30), &field);
                schema_batch = Some(batch);
                let u = url.clone();
                let w = InFlight::spawn(move || post_write(&new_agent(), &u, &body));
                if t == Trigger::NewField {
                    inside = w.stuck();
                } else {
                    // The write is acknowledged, the flush adds the column.
                    while !w.done() && w.started.elapsed() < Duration::from_secs(10) {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    let (u, q) = (url.clone(), format!("SELECT count(seq) FROM {DB}"));
                    let f = InFlight::spawn(move || post_query(&new_agent(), &u, &q));
                    inside = f.stuck();
                    extra.push(f);
                }
                extra.push(w);
            }
            Some(Trigger::Background) => {
                // Retention sleeps POINT_SLEEP_MS of every ~2.5 s; not observable.
                std::thread::sleep(Duration::from_millis(rng.range(500, 3000)));
            }
            Some(Trigger::Delete) => {
                let (u, q) = (url.clone(), delete_q.clone());
                let f = InFlight::spawn(move || post_query(&new_agent(), &u, &q));
                inside = f.stuck();
                extra.push(f);
            }
        }
        if inside {
            // Somewhere within the sleep, not always at its start.
            std::thread::sleep(Duration::from_millis(rng.range(0, POINT_SLEEP_MS / 2)));
        }
        server.kill9();
        report.kills += 1;
        if inside {
            report.kills_inside += 1;
        }
        stop.store(true, Ordering::SeqCst);
        for h in handles {
            match h.join() {
                Ok(log) => writers.push(log),
                Err(_) => fail("a writer thread panicked".into()),
            }
        }
        // Requests of the killed process: wait for their answer (a reset connection).
        for f in &extra {
            while !f.done() {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        if let Some(batch) = schema_batch {
            let acked = extra
                .iter()
                .filter_map(InFlight::answer)
                .any(|(status, _)| status == 204);
            if acked {
                schema_writer.acked.insert(batch);
            }
        }
        if delete_in_flight {
            let acked = extra
                .last()
                .and_then(InFlight::answer)
                .is_some_and(|(s, t)| s == 200 && !t.contains("\"error\""));
            if acked {
                deleted.insert(victim.clone());
            }
        }

        // Restart clean and check everything written so far.
        server.restart_with_env(&server_env(None));
        if delete_in_flight && !deleted.contains(&victim) {
            // Not acknowledged: whatever happened, delete again and hold it to that.
            let (status, v) = server.query(DB, &delete_q);
            if status != 200 || !v["results"][0]["error"].is_null() {
                fail(format!("{delete_q} after restart: {status} {v}"));
            }
            deleted.insert(victim.clone());
        }
        let mut all: Vec<&WriterLog> = writers.iter().collect();
        all.push(&schema_writer);
        let (batches, points) = match check(&server, &all, &deleted) {
            Ok(counts) => counts,
            Err(e) => failed(seed, cycle, label, &replay, &e),
        };
        report.acked_batches = batches;
        report.acked_points = points;
        report.deleted_series = deleted.len();
        println!(
            "cycle {cycle:>3}: {:<24} {} kill; {batches} acknowledged batches ({points} points) intact, {} deleted series stay deleted ({:.1} s)",
            label,
            if point.is_none() {
                "timed"
            } else if inside {
                "inside"
            } else if point.is_some_and(|p| p.1 == Trigger::Background) {
                "timed"
            } else {
                "MISSED"
            },
            deleted.len(),
            started.elapsed().as_secs_f64()
        );
    }
    println!(
        "crash harness: seed {seed}: {} kills ({} inside a failure point), {} acknowledged batches ({} points) intact",
        report.kills, report.kills_inside, report.acked_batches, report.acked_points
    );
    report
}

/// Checks every writer's series and the deleted ones; returns (acknowledged batches,
/// acknowledged points) on success.
fn check(
    server: &Server,
    writers: &[&WriterLog],
    deleted: &BTreeSet<String>,
) -> Result<(usize, usize), String> {
    let (mut batches, mut points) = (0usize, 0usize);
    for log in writers {
        let q = format!("SELECT seq FROM {DB} WHERE w = '{}'", log.name);
        let (status, v) = server.query(DB, &q);
        let result = &v["results"][0];
        if status != 200 || !result["error"].is_null() {
            return Err(format!("{q}: {status} {v}"));
        }
        let mut seen: HashMap<u64, u64> = HashMap::new();
        for series in result["series"].as_array().into_iter().flatten() {
            for row in series["values"].as_array().into_iter().flatten() {
                let seq = row[1]
                    .as_u64()
                    .ok_or_else(|| format!("{q}: row without seq: {row}"))?;
                *seen.entry(seq).or_default() += 1;
            }
        }
        let mut per_batch: BTreeMap<u64, u64> = BTreeMap::new();
        for (&seq, &n) in &seen {
            if n != 1 {
                return Err(format!(
                    "writer {}: point seq={seq} (batch {}) read {n} times",
                    log.name,
                    seq / SEQ_STRIDE
                ));
            }
            *per_batch.entry(seq / SEQ_STRIDE).or_default() += 1;
        }
        for (&batch, &n) in &per_batch {
            let Some(&size) = log.sent.get(&batch) else {
                return Err(format!(
                    "writer {}: batch {batch} was never sent, {n} points of it read",
                    log.name
                ));
            };
            let whole = (0..size).all(|i| seen.contains_key(&(batch * SEQ_STRIDE + i)));
            if n != size || !whole {
                return Err(format!(
                    "writer {}: batch {batch} half-visible: {n} of {size} points ({})",
                    log.name,
                    if log.acked.contains(&batch) {
                        "acknowledged"
                    } else {
                        "not acknowledged"
                    }
                ));
            }
        }
        for &batch in &log.acked {
            if !per_batch.contains_key(&batch) {
                return Err(format!(
                    "writer {}: acknowledged batch {batch} ({} points) lost",
                    log.name,
                    log.sent.get(&batch).copied().unwrap_or(0)
                ));
            }
            batches += 1;
            points += log.sent.get(&batch).copied().unwrap_or(0) as usize;
        }
    }
    if !deleted.is_empty() {
        let q = format!("SELECT count(seq) FROM {DB} WHERE w =~ /^d/ GROUP BY w");
        let (status, v) = server.query(DB, &q);
        let result = &v["results"][0];
        if status != 200 || !result["error"].is_null() {
            return Err(format!("{q}: {status} {v}"));
        }
        for series in result["series"].as_array().into_iter().flatten() {
            let w = series["tags"]["w"].as_str().unwrap_or_default();
            let n = &series["values"][0][1];
            if deleted.contains(w) && n.as_u64().unwrap_or(0) > 0 {
                return Err(format!("series w={w} was deleted, {n} points read again"));
            }
        }
    }
    Ok((batches, points))
}

/// The server's environment: retention every second (so kills land in it too), and the
/// failure point of the cycle.
fn server_env(failpoint: Option<&str>) -> Vec<(&'static str, &str)> {
    let mut env = vec![("HYPERBYTE_RETENTION__CHECK_INTERVAL_SECS", "1")];
    if let Some(fp) = failpoint {
        env.push(("FAILPOINTS", fp));
    }
    env
}

fn failed(seed: u64, cycle: usize, label: &str, replay: &str, msg: &str) -> ! {
    panic!("crash harness seed {seed}, cycle {cycle} ({label}): {msg}\n{replay}")
}
