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
    let mut h = Harness::start(cfg);
    for cycle in 0..cfg.cycles {
        h.cycle(cycle);
    }
    println!(
        "crash harness: seed {}: {} kills ({} inside a failure point), {} acknowledged batches ({} points) intact",
        cfg.seed, h.report.kills, h.report.kills_inside, h.report.acked_batches, h.report.acked_points
    );
    h.report
}

/// What lasts across cycles: the server, the writers' logs, the deleted series.
struct Harness<'c> {
    cfg: &'c CrashConfig,
    replay: String,
    rng: Rng,
    server: Server,
    writers: Vec<WriterLog>,
    /// Batches with a new field each time (schema changes).
    schema_writer: WriterLog,
    /// Series removed by an acknowledged `DELETE`.
    deleted: BTreeSet<String>,
    report: CrashReport,
    /// Failure-point order: shuffled by the seed, then cycled.
    order: Vec<usize>,
    next_point: usize,
}

/// One cycle's plan: where to kill, and the series its `DELETE` removes.
struct Cycle {
    index: usize,
    point: Option<(&'static str, Trigger)>,
    label: &'static str,
    victim: String,
    delete_q: String,
    /// The `DELETE` itself is what the kill interrupts.
    delete_in_flight: bool,
}

/// The writer threads of one cycle.
struct Writers {
    stop: Arc<AtomicBool>,
    epoch: Instant,
    /// Per writer: when its request in flight started (ms since `epoch`, +1), or 0.
    in_flight: Arc<Vec<AtomicU64>>,
    handles: Vec<std::thread::JoinHandle<WriterLog>>,
}

/// What the kill interrupted.
#[derive(Default)]
struct KillSite {
    /// A request was seen stuck inside the failure point.
    inside: bool,
    /// Requests sent around the kill.
    extra: Vec<InFlight>,
    /// The schema writer's batch among them.
    schema_batch: Option<u64>,
}

impl<'c> Harness<'c> {
    fn start(cfg: &'c CrashConfig) -> Self {
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
        let server = Server::start_with_env(&server_env(None));
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
        let mut order: Vec<usize> = (0..POINTS.len()).collect();
        for i in (1..order.len()).rev() {
            let j = rng.range(0, i as u64) as usize;
            order.swap(i, j);
        }
        Harness {
            cfg,
            replay,
            rng,
            server,
            writers: (0..cfg.writers)
                .map(|k| WriterLog::new(&format!("w{k}")))
                .collect(),
            schema_writer: WriterLog::new("s"),
            deleted: BTreeSet::new(),
            report: CrashReport::default(),
            order,
            next_point: 0,
        }
    }

    fn fail(&self, c: &Cycle, msg: String) -> ! {
        failed(self.cfg.seed, c.index, c.label, &self.replay, &msg)
    }

    /// One cycle: plan, write, kill, restart, check.
    fn cycle(&mut self, index: usize) {
        let started = Instant::now();
        let c = self.plan(index);
        if let Some((name, _)) = c.point {
            let fp = format!("{name}=sleep({POINT_SLEEP_MS})");
            self.server.restart_with_env(&server_env(Some(&fp)));
            self.report.kills += 1;
        }
        self.delete_before_kill(&c);
        let writers = self.start_writers();
        // Let some data pile up first (and the flush run a round or two).
        std::thread::sleep(Duration::from_millis(self.rng.range(200, 1200)));
        let site = self.approach_kill(&c, &writers);
        if site.inside {
            // Somewhere within the sleep, not always at its start.
            std::thread::sleep(Duration::from_millis(self.rng.range(0, POINT_SLEEP_MS / 2)));
        }
        self.server.kill9();
        self.report.kills += 1;
        if site.inside {
            self.report.kills_inside += 1;
        }
        self.join_writers(&c, writers);
        self.settle(&c, &site);
        self.restart_and_check(&c, site.inside, started);
    }

    /// Every third cycle kills at random; the others inside the next failure point.
    fn plan(&mut self, index: usize) -> Cycle {
        let point = if index.is_multiple_of(3) {
            None
        } else {
            let p = POINTS[self.order[self.next_point % self.order.len()]];
            self.next_point += 1;
            Some(p)
        };
        let victim = format!("d{index}");
        Cycle {
            index,
            point,
            label: point.map_or("random moment", |p| p.0),
            delete_q: format!("DELETE FROM {DB} WHERE w = '{victim}'"),
            victim,
            delete_in_flight: point.is_some_and(|p| p.1 == Trigger::Delete),
        }
    }

    /// Writes the cycle's victim series and, unless the kill is to interrupt the
    /// `DELETE`, deletes it: an acknowledged `DELETE` before the kill must hold after it.
    fn delete_before_kill(&mut self, c: &Cycle) {
        let agent = new_agent();
        let url = self.server.url.clone();
        let mut victim_log = WriterLog::new(&c.victim);
        let (_, body) = victim_log.next_body(self.rng.range(1, 20), "");
        let (status, text) = post_write(&agent, &url, &body);
        if status != 204 {
            self.fail(c, format!("write of series {}: {status} {text}", c.victim));
        }
        if !c.delete_in_flight {
            let (status, text) = post_query(&agent, &url, &c.delete_q);
            if status != 200 || text.contains("\"error\"") {
                self.fail(c, format!("{}: {status} {text}", c.delete_q));
            }
            self.deleted.insert(c.victim.clone());
        }
    }

    /// Starts one thread per writer log, writing batches until stopped or the server
    /// is gone; each records the batches acknowledged.
    fn start_writers(&mut self) -> Writers {
        let w = Writers {
            stop: Arc::new(AtomicBool::new(false)),
            epoch: Instant::now(),
            in_flight: Arc::new((0..self.cfg.writers).map(|_| AtomicU64::new(0)).collect()),
            handles: Vec::new(),
        };
        let mut handles = Vec::new();
        for (k, mut log) in self.writers.drain(..).enumerate() {
            let url = self.server.url.clone();
            let (stop, in_flight, epoch) = (w.stop.clone(), w.in_flight.clone(), w.epoch);
            let mut wrng = Rng::new(self.rng.next_u64());
            handles.push(std::thread::spawn(move || {
                let agent = new_agent();
                while !stop.load(Ordering::SeqCst) {
                    let (batch, body) = log.next_body(wrng.range(1, 30), "");
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
        Writers { handles, ..w }
    }

    /// Brings the server to the moment of the kill: a random moment (sometimes with a
    /// query or a schema change in flight), or a request stuck in the failure point.
    fn approach_kill(&mut self, c: &Cycle, writers: &Writers) -> KillSite {
        let url = self.server.url.clone();
        let mut site = KillSite::default();
        match c.point.map(|p| p.1) {
            None => self.random_moment(&url, &mut site),
            Some(Trigger::Writes) => {
                let deadline = Instant::now() + Duration::from_secs(10);
                while Instant::now() < deadline && !site.inside {
                    let now = writers.epoch.elapsed().as_millis() as u64 + 1;
                    site.inside = writers.in_flight.iter().any(|t| {
                        let t = t.load(Ordering::SeqCst);
                        t != 0 && now.saturating_sub(t) >= INSIDE_AFTER.as_millis() as u64
                    });
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            Some(Trigger::Query) => {
                for _ in 0..5 {
                    let f = spawn_count_query(&url);
                    site.inside = f.stuck();
                    site.extra.push(f);
                    if site.inside {
                        break;
                    }
                }
            }
            Some(t @ (Trigger::NewField | Trigger::NewColumn)) => {
                self.schema_change(c, t, &url, &mut site)
            }
            Some(Trigger::Background) => {
                // Retention sleeps POINT_SLEEP_MS of every ~2.5 s; not observable.
                std::thread::sleep(Duration::from_millis(self.rng.range(500, 3000)));
            }
            Some(Trigger::Delete) => {
                let (u, q) = (url.clone(), c.delete_q.clone());
                let f = InFlight::spawn(move || post_query(&new_agent(), &u, &q));
                site.inside = f.stuck();
                site.extra.push(f);
            }
        }
        site
    }

    /// A random moment; sometimes a query or a schema change runs across the kill.
    fn random_moment(&mut self, url: &str, site: &mut KillSite) {
        match self.rng.range(0, 2) {
            0 => site.extra.push(spawn_count_query(url)),
            1 => {
                let (_, body) = self.schema_writer.next_body(self.rng.range(1, 30), "");
                let u = url.to_string();
                site.extra
                    .push(InFlight::spawn(move || post_write(&new_agent(), &u, &body)));
                site.schema_batch = Some(self.schema_writer.next_batch - 1);
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(self.rng.range(0, 1500)));
    }

    /// A write with a new field, stuck in the metadata change (`NewField`), or
    /// acknowledged and followed by a query while the flush adds the column (`NewColumn`).
    fn schema_change(&mut self, c: &Cycle, t: Trigger, url: &str, site: &mut KillSite) {
        let field = format!(",f{}=1i", c.index);
        let (batch, body) = self.schema_writer.next_body(self.rng.range(1, 30), &field);
        site.schema_batch = Some(batch);
        let u = url.to_string();
        let w = InFlight::spawn(move || post_write(&new_agent(), &u, &body));
        if t == Trigger::NewField {
            site.inside = w.stuck();
        } else {
            while !w.done() && w.started.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(5));
            }
            let f = spawn_count_query(url);
            site.inside = f.stuck();
            site.extra.push(f);
        }
        site.extra.push(w);
    }

    fn join_writers(&mut self, c: &Cycle, writers: Writers) {
        writers.stop.store(true, Ordering::SeqCst);
        for h in writers.handles {
            match h.join() {
                Ok(log) => self.writers.push(log),
                Err(_) => self.fail(c, "a writer thread panicked".into()),
            }
        }
    }

    /// Waits for the answers of the killed process's requests (a reset connection) and
    /// records what they acknowledged.
    fn settle(&mut self, c: &Cycle, site: &KillSite) {
        for f in &site.extra {
            while !f.done() {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        if let Some(batch) = site.schema_batch {
            let acked = site
                .extra
                .iter()
                .filter_map(InFlight::answer)
                .any(|(status, _)| status == 204);
            if acked {
                self.schema_writer.acked.insert(batch);
            }
        }
        if c.delete_in_flight {
            let acked = site
                .extra
                .last()
                .and_then(InFlight::answer)
                .is_some_and(|(s, t)| s == 200 && !t.contains("\"error\""));
            if acked {
                self.deleted.insert(c.victim.clone());
            }
        }
    }

    /// Restarts clean and checks everything written so far.
    fn restart_and_check(&mut self, c: &Cycle, inside: bool, started: Instant) {
        self.server.restart_with_env(&server_env(None));
        if c.delete_in_flight && !self.deleted.contains(&c.victim) {
            // Not acknowledged: whatever happened, delete again and hold it to that.
            let (status, v) = self.server.query(DB, &c.delete_q);
            if status != 200 || !v["results"][0]["error"].is_null() {
                self.fail(c, format!("{} after restart: {status} {v}", c.delete_q));
            }
            self.deleted.insert(c.victim.clone());
        }
        let mut all: Vec<&WriterLog> = self.writers.iter().collect();
        all.push(&self.schema_writer);
        let (batches, points) = match check(&self.server, &all, &self.deleted) {
            Ok(counts) => counts,
            Err(e) => self.fail(c, e),
        };
        self.report.acked_batches = batches;
        self.report.acked_points = points;
        self.report.deleted_series = self.deleted.len();
        let kind = match c.point {
            None => "timed",
            Some(_) if inside => "inside",
            Some((_, Trigger::Background)) => "timed",
            Some(_) => "MISSED",
        };
        println!(
            "cycle {:>3}: {:<24} {kind} kill; {batches} acknowledged batches ({points} points) intact, {} deleted series stay deleted ({:.1} s)",
            c.index,
            c.label,
            self.deleted.len(),
            started.elapsed().as_secs_f64()
        );
    }
}

fn spawn_count_query(url: &str) -> InFlight {
    let (u, q) = (url.to_string(), format!("SELECT count(seq) FROM {DB}"));
    InFlight::spawn(move || post_query(&new_agent(), &u, &q))
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
