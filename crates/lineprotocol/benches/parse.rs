//! Single-thread parser throughput on TSBS cpu-only lines (100 hosts × 10 tags × 10 float
//! fields): warm-up, several timed iterations, median reported as
//! `parser: N lines/s, M MB/s`. Plain `std::time`, no benchmark framework.
#![allow(clippy::unwrap_used, missing_docs)]

use hyperbyte_domain::Precision;
use std::hint::black_box;
use std::time::{Duration, Instant};

const HOSTS: usize = 100;
const ROUNDS: usize = 200; // points per host → 20 000 lines per body

/// Deterministic xorshift so every run parses the same bytes.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A value like TSBS's: up to 13 decimals, 0..100.
    fn value(&mut self) -> String {
        let int = self.below(100);
        match self.below(3) {
            0 => format!("{int}.{}", self.below(10)),
            1 => format!("{int}.{:013}", self.below(10_000_000_000_000)),
            _ => format!("{int}.{:012}", self.below(1_000_000_000_000)),
        }
    }
}

fn tsbs_body() -> Vec<u8> {
    const REGIONS: [(&str, &[&str]); 3] = [
        ("us-east-1", &["us-east-1a", "us-east-1b", "us-east-1c"]),
        ("eu-west-1", &["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
        ("ap-northeast-1", &["ap-northeast-1a", "ap-northeast-1c"]),
    ];
    const OS: [&str; 3] = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"];
    const ARCH: [&str; 2] = ["x64", "x86"];
    const TEAM: [&str; 4] = ["SF", "NYC", "LON", "CHI"];
    const ENV: [&str; 3] = ["production", "staging", "test"];
    const FIELDS: [&str; 10] = [
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
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let hosts: Vec<String> = (0..HOSTS)
        .map(|h| {
            let (region, dcs) = REGIONS[rng.below(3) as usize];
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
    let mut body = String::new();
    let mut ts: i64 = 1_451_606_400_000_000_000;
    for _ in 0..ROUNDS {
        for key in &hosts {
            body.push_str(key);
            for (i, f) in FIELDS.iter().enumerate() {
                body.push(if i == 0 { ' ' } else { ',' });
                body.push_str(f);
                body.push('=');
                body.push_str(&rng.value());
            }
            body.push_str(&format!(" {ts}\n"));
        }
        ts += 10_000_000_000;
    }
    body.into_bytes()
}

/// CPU time of this thread in nanoseconds (Linux `schedstat`), to tell parser cost from
/// time spent descheduled on a shared machine.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// One timed run: (wall time, thread CPU time if known).
fn timed(f: impl FnOnce()) -> (Duration, Option<Duration>) {
    let cpu0 = thread_cpu_ns();
    let start = Instant::now();
    f();
    let wall = start.elapsed();
    let cpu = thread_cpu_ns()
        .zip(cpu0)
        .map(|(b, a)| Duration::from_nanos(b.saturating_sub(a)));
    (wall, cpu)
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64()
}

/// Warm-up for half a second, then `ITERS` timed runs: the median wall time, and the mean
/// CPU time (the thread CPU clock ticks coarsely on some VMs, a few ms, so one run's CPU
/// time is quantised; the sum over all runs is not).
fn measure(mut run: impl FnMut() -> (Duration, Option<Duration>)) -> (f64, Option<f64>) {
    const ITERS: usize = 25;
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(500) {
        run();
    }
    let (wall, cpu): (Vec<_>, Vec<_>) = (0..ITERS).map(|_| run()).unzip();
    let cpu: Option<Vec<Duration>> = cpu.into_iter().collect();
    let mean = |v: Vec<Duration>| v.iter().sum::<Duration>().as_secs_f64() / v.len() as f64;
    (median(wall), cpu.map(mean))
}

fn report(name: &str, lines: usize, mb: f64, (wall, cpu): (f64, Option<f64>)) {
    print!(
        "{name}: {:.0} lines/s, {:.1} MB/s",
        lines as f64 / wall,
        mb / wall
    );
    if let Some(cpu) = cpu {
        print!(
            "  (per CPU-second of this thread: {:.0} lines/s, {:.1} MB/s)",
            lines as f64 / cpu,
            mb / cpu
        );
    }
    println!();
}

fn each_run(body: &[u8], lines: usize) {
    let mut n = 0usize;
    hyperbyte_lineprotocol::parse_each(black_box(body), Precision::Nanoseconds, 0, |p| {
        if let Ok(p) = p {
            n += p.fields.len();
            black_box(p);
        }
    });
    assert_eq!(n, lines * 10);
}

fn main() {
    let body = tsbs_body();
    let lines = HOSTS * ROUNDS;
    let mb = body.len() as f64 / 1e6;
    let check = hyperbyte_lineprotocol::parse(&body, Precision::Nanoseconds, 0);
    assert_eq!(check.points.len(), lines);
    assert!(check.errors.is_empty());
    drop(check);

    if std::env::var_os("PARSE_EACH_ONLY").is_some() {
        // For profiling the zero-copy path alone.
        let each = measure(|| timed(|| each_run(&body, lines)));
        report("parser (parse_each, zero-copy)", lines, mb, each);
        return;
    }
    // `parse`: owned points (about 33 heap allocations per line); dropping them is not timed.
    let owned = measure(|| {
        let mut parsed = None;
        let t = timed(|| {
            parsed = Some(hyperbyte_lineprotocol::parse(
                black_box(&body),
                Precision::Nanoseconds,
                0,
            ))
        });
        drop(black_box(parsed));
        t
    });
    // `parse_each`: borrowed points, no allocation per line.
    let borrowed = measure(|| timed(|| each_run(&body, lines)));
    // Machine reference: a naive byte loop over the same body.
    let reference = measure(|| {
        timed(|| {
            let b = black_box(&body);
            let mut n = 0usize;
            for &c in b.iter() {
                n += usize::from(black_box(c) == b'\n');
            }
            assert_eq!(n, lines);
        })
    });
    report("parser", lines, mb, owned);
    report("parser (parse_each, zero-copy)", lines, mb, borrowed);
    report("reference: naive newline count", lines, mb, reference);
    println!("({lines} TSBS cpu lines, {mb:.1} MB per body, median of 25 runs, one thread)");
}
