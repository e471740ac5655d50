//! Shared pieces of the end-to-end benchmarks: the TSBS cpu-only data generator, a small
//! HTTP client layer, statistics, and process/disk probes. Kept in one place so that the
//! write and query benchmarks load exactly the same kind of data.
#![allow(dead_code)]

pub(crate) mod load;
pub(crate) mod probes;
pub(crate) mod queries;
pub(crate) mod reference;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The ten TSBS cpu fields, in TSBS order.
pub(crate) const FIELDS: [&str; 10] = [
    "usage_user",
    "usage_system",
    "usage_idle",
    "usage_nice",
    "usage_iowait",
    "usage_irq",
    "usage_softirq",
    "usage_steal",
    "usage_guest",
    "usage_guest_nice",
];

/// First timestamp of the data set, in seconds: 2016-01-01T00:00:00Z (as TSBS uses).
pub(crate) const START_S: i64 = 1_451_606_400;
/// Interval between two points of one host, in seconds.
pub(crate) const STEP_S: i64 = 10;
/// Number of digits of every timestamp written (seconds precision, until 2286).
pub(crate) const TS_DIGITS: usize = 10;

/// `true` when run by `cargo bench` (which passes `--bench`). `cargo test --benches` and
/// `cargo clippy --all-targets` build these targets too; under `cargo test` they must not
/// start servers for minutes, so `main` returns early.
pub(crate) fn bench_mode(name: &str) -> bool {
    if std::env::args().any(|a| a == "--bench") {
        return true;
    }
    println!("{name}: skipped (run it with `cargo bench -p hyperbyte-e2e --bench {name}`)");
    false
}

/// Exits with a clear message when the release binary is missing.
pub(crate) fn require_binary() {
    let bin = hyperbyte_e2e::binary();
    if !bin.exists() {
        eprintln!(
            "error: {} not found. These benchmarks start the release server binary: run \
             `cargo xtask build` (or `cargo build --release -p hyperbyte-server`) first, or \
             set HYPERBYTED_BIN.",
            bin.display()
        );
        std::process::exit(1);
    }
}

/// An unsigned integer from the environment, or `default`.
pub(crate) fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("warning: {name}={v:?} is not a number; using {default}");
            default
        }),
        Err(_) => default,
    }
}

/// A float from the environment, or `default`.
pub(crate) fn env_f64(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("warning: {name}={v:?} is not a number; using {default}");
            default
        }),
        Err(_) => default,
    }
}

/// Deterministic splitmix64: every run generates the same bytes and the same queries.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// `k` distinct values of `0..n`, in random order.
    pub(crate) fn distinct(&mut self, k: usize, n: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k.min(n) {
            let j = i + self.below((n - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(k.min(n));
        all
    }
}

/// One pre-generated `/write` body (`precision=s`).
#[derive(Debug, Clone)]
pub(crate) struct Body {
    /// Line protocol.
    pub(crate) bytes: Vec<u8>,
    /// Byte offset of each line's 10-digit timestamp, so the body can be re-stamped in place.
    pub(crate) ts_at: Vec<u32>,
}

impl Body {
    /// Number of lines.
    pub(crate) fn lines(&self) -> usize {
        self.ts_at.len()
    }

    /// Adds `shift_s` seconds to every timestamp, writing the result into `out`
    /// (a copy of `self.bytes`). Cheap: no formatting of anything but the digits.
    pub(crate) fn restamp_into(&self, shift_s: i64, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.bytes);
        for &at in &self.ts_at {
            let at = at as usize;
            let digits = &mut out[at..at + TS_DIGITS];
            let mut ts: i64 = 0;
            for &d in digits.iter() {
                ts = ts * 10 + i64::from(d - b'0');
            }
            let mut ts = ts + shift_s;
            for d in digits.iter_mut().rev() {
                *d = b'0' + (ts % 10) as u8;
                ts /= 10;
            }
        }
    }
}

/// TSBS cpu-only generator: `hosts` hosts with the ten TSBS tags, ten float fields that
/// random-walk within 0..100, one point per host every 10 s starting at 2016-01-01.
/// Values are written in full (shortest round-trip form, as TSBS does) unless
/// [`with_decimals`](Self::with_decimals) rounds them, like a sensor or an agent that
/// reports a fixed precision.
#[derive(Debug)]
pub(crate) struct Tsbs {
    keys: Vec<String>,
    walk: Vec<[f64; 10]>,
    rng: Rng,
    round: i64,
    decimals: Option<usize>,
}

impl Tsbs {
    pub(crate) fn new(hosts: usize, seed: u64) -> Tsbs {
        const REGIONS: [(&str, &[&str]); 9] = [
            (
                "us-east-1",
                &["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"],
            ),
            ("us-west-1", &["us-west-1a", "us-west-1b"]),
            ("us-west-2", &["us-west-2a", "us-west-2b", "us-west-2c"]),
            ("eu-west-1", &["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
            ("eu-central-1", &["eu-central-1a", "eu-central-1b"]),
            ("ap-southeast-1", &["ap-southeast-1a", "ap-southeast-1b"]),
            ("ap-southeast-2", &["ap-southeast-2a", "ap-southeast-2b"]),
            ("ap-northeast-1", &["ap-northeast-1a", "ap-northeast-1c"]),
            ("sa-east-1", &["sa-east-1a", "sa-east-1b", "sa-east-1c"]),
        ];
        const OS: [&str; 3] = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"];
        const ARCH: [&str; 2] = ["x64", "x86"];
        const TEAM: [&str; 4] = ["SF", "NYC", "LON", "CHI"];
        const ENV: [&str; 3] = ["production", "staging", "test"];
        let mut rng = Rng::new(seed);
        let keys = (0..hosts)
            .map(|h| {
                let (region, dcs) = REGIONS[rng.below(REGIONS.len() as u64) as usize];
                let dc = dcs[rng.below(dcs.len() as u64) as usize];
                format!(
                    "cpu,hostname=host_{h},region={region},datacenter={dc},rack={},os={},arch={},team={},service={},service_version={},service_environment={}",
                    rng.below(100),
                    OS[rng.below(3) as usize],
                    ARCH[rng.below(2) as usize],
                    TEAM[rng.below(4) as usize],
                    rng.below(20),
                    rng.below(2),
                    ENV[rng.below(3) as usize],
                )
            })
            .collect();
        let walk = (0..hosts)
            .map(|_| {
                let mut w = [0.0; 10];
                for v in &mut w {
                    *v = rng.unit() * 100.0;
                }
                w
            })
            .collect();
        Tsbs {
            keys,
            walk,
            rng,
            round: 0,
            decimals: None,
        }
    }

    /// Writes every value with `decimals` digits after the point (`None`: in full).
    pub(crate) fn with_decimals(mut self, decimals: Option<usize>) -> Tsbs {
        self.decimals = decimals;
        self
    }

    /// Number of hosts.
    pub(crate) fn hosts(&self) -> usize {
        self.keys.len()
    }

    /// The next `rounds` timestamps × all hosts, time-major like TSBS emits them.
    pub(crate) fn next_body(&mut self, rounds: usize) -> Body {
        let mut bytes = Vec::with_capacity(rounds * self.keys.len() * 330);
        let mut ts_at = Vec::with_capacity(rounds * self.keys.len());
        for _ in 0..rounds {
            let ts = START_S + self.round * STEP_S;
            self.round += 1;
            for (key, walk) in self.keys.iter().zip(self.walk.iter_mut()) {
                bytes.extend_from_slice(key.as_bytes());
                for (i, (f, v)) in FIELDS.iter().zip(walk.iter_mut()).enumerate() {
                    // Triangular step in (-1, 1), clamped to 0..100 (TSBS: normal step, clamped).
                    let step = self.rng.unit() - self.rng.unit();
                    *v = (*v + step).clamp(0.0, 100.0);
                    bytes.push(if i == 0 { b' ' } else { b',' });
                    bytes.extend_from_slice(f.as_bytes());
                    bytes.push(b'=');
                    let _ = match self.decimals {
                        // `{}` on f64: shortest round-trip form, like Go's 'f', -1 that TSBS uses.
                        None => write!(bytes, "{v}"),
                        Some(d) => write!(bytes, "{v:.d$}"),
                    };
                }
                bytes.push(b' ');
                ts_at.push(bytes.len() as u32);
                let _ = write!(bytes, "{ts:010}");
                bytes.push(b'\n');
            }
        }
        Body { bytes, ts_at }
    }
}

/// A keep-alive HTTP/1.1 agent (one per client thread).
pub(crate) fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(600))
        .max_idle_connections_per_host(2)
        .build()
}

/// Reads a whole response; (status, body). Transport errors give status 0.
pub(crate) fn read_response(r: Result<ureq::Response, ureq::Error>) -> (u16, Vec<u8>) {
    let (status, resp) = match r {
        Ok(resp) => (resp.status(), resp),
        Err(ureq::Error::Status(code, resp)) => (code, resp),
        Err(e) => return (0, e.to_string().into_bytes()),
    };
    let mut body = Vec::new();
    let _ = resp.into_reader().read_to_end(&mut body);
    (status, body)
}

/// POSTs one line-protocol body to `/write?db=..&precision=s`.
pub(crate) fn post_write(agent: &ureq::Agent, url: &str, db: &str, body: &[u8]) -> (u16, Vec<u8>) {
    read_response(
        agent
            .post(&format!("{url}/write?db={db}&precision=s"))
            .set("Content-Type", "text/plain; charset=utf-8")
            .send_bytes(body),
    )
}

/// Runs one InfluxQL statement (POST form); (status, raw body).
pub(crate) fn post_query(agent: &ureq::Agent, url: &str, db: &str, q: &str) -> (u16, Vec<u8>) {
    read_response(
        agent
            .post(&format!("{url}/query"))
            .send_form(&[("db", db), ("q", q)]),
    )
}

/// Runs a statement and parses the JSON answer.
pub(crate) fn query_json(url: &str, db: &str, q: &str) -> (u16, serde_json::Value) {
    let (status, body) = post_query(&agent(), url, db, q);
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into()));
    (status, v)
}

/// `SELECT count(usage_user) FROM cpu` as a number (None on error or no data).
pub(crate) fn count_rows(url: &str, db: &str) -> Option<u64> {
    let (_, v) = query_json(url, db, "SELECT count(usage_user) FROM cpu");
    v["results"][0]["series"][0]["values"][0][1].as_u64()
}

/// Polls (every 50 ms) until `count_rows` reaches `expected` (or `timeout`); the time it
/// took, and the last count seen.
pub(crate) fn wait_for_count(
    url: &str,
    db: &str,
    expected: u64,
    timeout: Duration,
) -> (Duration, Option<u64>) {
    let start = std::time::Instant::now();
    let mut last = None;
    while start.elapsed() < timeout {
        last = count_rows(url, db);
        if last == Some(expected) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (start.elapsed(), last)
}

/// Nearest-rank percentile of already sorted values (`p` in 0..=1).
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Median of already sorted values (mean of the middle two for an even count).
pub(crate) fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Sorts floats (no NaNs expected).
pub(crate) fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// Disk usage of `path` in bytes (`du -sk`), None when `du` fails.
pub(crate) fn du_bytes(path: &Path) -> Option<u64> {
    let out = Command::new("du").arg("-sk").arg(path).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let kb: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(kb * 1024)
}

/// "total (sub1 X, sub2 Y)" for a directory and its immediate sub-directories.
pub(crate) fn du_breakdown(path: &Path) -> String {
    let total = du_bytes(path).map_or_else(|| "?".to_string(), mb);
    let mut parts: Vec<(String, u64)> = std::fs::read_dir(path)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .filter_map(|e| {
                    let size = du_bytes(&e.path())?;
                    Some((e.file_name().to_string_lossy().into_owned(), size))
                })
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    if parts.is_empty() {
        return total;
    }
    let inner: Vec<String> = parts
        .iter()
        .map(|(n, s)| format!("{n} {}", mb(*s)))
        .collect();
    format!("{total} ({})", inner.join(", "))
}

/// Bytes as "12.3 MB".
pub(crate) fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system CPU seconds used so far by process `pid` (all its threads).
pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: field 3 (state) is f[0], so utime (14) is f[11], stime f[12].
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks())
}
