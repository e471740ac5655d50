//! Generated InfluxQL against the real binary: every query answers (200 with results or
//! an InfluxQL error, or 400 for a parse error) and the SQL the translator makes is SQL
//! the storage engine accepts: an engine error (`engine error (code N)`) is a
//! translator bug. Deterministic: the seed is printed, `HYPERBYTE_FUZZ_SEED` replays it,
//! and `HYPERBYTE_FUZZ_CASES` sets the count (`cargo xtask fuzz` runs more).
#![allow(clippy::unwrap_used)]

use hyperbyte_e2e::Server;

/// xorshift64*: small, deterministic, good enough to pick grammar branches.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const FIELDS: &[&str] = &["v", "i", "s", "b", "missing"];
const TAGS: &[&str] = &["host", "region", "nosuchtag"];

fn literal(r: &mut Rng) -> String {
    match r.below(7) {
        0 => format!("{}", r.below(100)),
        1 => format!("{}.5", r.below(100)),
        2 => format!("-{}", r.below(10)),
        3 => "'a'".into(),
        4 => "true".into(),
        5 => "'it''s'".into(),
        _ => "0".into(),
    }
}

fn operand(r: &mut Rng, depth: u32) -> String {
    if depth > 2 {
        return literal(r);
    }
    match r.below(6) {
        0 | 1 => r.pick(FIELDS).to_string(),
        2 => literal(r),
        3 => format!(
            "{} {} {}",
            operand(r, depth + 1),
            r.pick(&["+", "-", "*", "/", "%", "&", "|", "^"]),
            operand(r, depth + 1)
        ),
        4 => format!("({})", operand(r, depth + 1)),
        _ => r.pick(TAGS).to_string(),
    }
}

fn condition(r: &mut Rng, depth: u32) -> String {
    if depth > 2 || r.below(3) == 0 {
        return match r.below(8) {
            0 => format!(
                "{} {} '{}'",
                r.pick(TAGS),
                r.pick(&["=", "!=", "<>"]),
                r.pick(&["a", "b", "", "x y"])
            ),
            1 => format!(
                "{} {} /{}/",
                r.pick(TAGS),
                r.pick(&["=~", "!~"]),
                r.pick(&["a", "^b$", ".*", "a|b"])
            ),
            2 => format!(
                "time {} {}",
                r.pick(&[">", ">=", "<", "<=", "="]),
                r.pick(&[
                    "0",
                    "10s",
                    "'1970-01-01T00:00:05Z'",
                    "now() - 1h",
                    "-9223372036854775806"
                ])
            ),
            _ => format!(
                "{} {} {}",
                operand(r, depth + 1),
                r.pick(&["=", "!=", "<", "<=", ">", ">="]),
                operand(r, depth + 1)
            ),
        };
    }
    let join = r.pick(&["AND", "OR"]);
    let c = format!(
        "{} {join} {}",
        condition(r, depth + 1),
        condition(r, depth + 1)
    );
    if r.below(2) == 0 {
        format!("({c})")
    } else {
        c
    }
}

fn projection(r: &mut Rng) -> (String, bool) {
    let f = r.pick(&["v", "i", "s", "b", "*", "missing"]);
    if r.below(2) == 0 {
        let p = match r.below(3) {
            0 => "v, i".to_string(),
            1 => f.to_string(),
            _ => format!("{} AS x", operand(r, 1)),
        };
        return (p, false);
    }
    let agg = r.pick(&[
        "count", "sum", "mean", "min", "max", "first", "last", "spread", "median", "mode",
        "stddev", "distinct",
    ]);
    (format!("{agg}({f})"), true)
}

fn query(r: &mut Rng) -> String {
    let (proj, agg) = projection(r);
    let mut q = format!("SELECT {proj} FROM m");
    if r.below(4) != 0 {
        q.push_str(&format!(" WHERE {}", condition(r, 0)));
    }
    let mut groups = Vec::new();
    if agg && r.below(2) == 0 {
        groups.push(format!("time({})", r.pick(&["1s", "5s", "1m", "1h"])));
    }
    if r.below(3) == 0 {
        groups.push(r.pick(&["host", "*", "region"]).to_string());
    }
    if !groups.is_empty() {
        q.push_str(&format!(" GROUP BY {}", groups.join(", ")));
        if agg && r.below(2) == 0 {
            q.push_str(&format!(
                " fill({})",
                r.pick(&["none", "null", "0", "previous", "linear"])
            ));
        }
    }
    if r.below(3) == 0 {
        q.push_str(" ORDER BY time DESC");
    }
    if r.below(3) == 0 {
        q.push_str(&format!(" LIMIT {} OFFSET {}", r.below(5), r.below(3)));
    }
    q
}

#[test]
fn generated_queries_never_reach_the_engine_as_bad_sql() {
    let cases: usize = std::env::var("HYPERBYTE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let seed: u64 = std::env::var("HYPERBYTE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    println!("query fuzz: seed {seed} (HYPERBYTE_FUZZ_SEED={seed} replays), {cases} cases");
    // Fresh data is answered by the recent-data tier; without it, by the storage engine.
    for env in [&[][..], &[("HYPERBYTE_HOT_TIER__MAX_BYTES", "0")][..]] {
        fuzz_one_server(env, seed, cases);
    }
}

fn fuzz_one_server(env: &[(&str, &str)], seed: u64, cases: usize) {
    let s = Server::start_with_env(env);
    let (status, _) = s.query("", "CREATE DATABASE f");
    assert_eq!(status, 200);
    let body = "m,host=a,region=eu v=1.5,i=3i,s=\"x\",b=true 1000000000\n\
                m,host=b,region=us v=-2,i=-7i,s=\"it's\",b=false 2000000000\n\
                m,host=a v=10,i=0i 3000000000\n\
                m,host=c,region=eu s=\"only\" 4000000000\n";
    assert_eq!(s.write("f", body).0, 204);
    let mut rng = Rng(seed);
    let mut bad = Vec::new();
    for _ in 0..cases {
        let q = query(&mut rng);
        let (status, v) = s.query("f", &q);
        let text = v.to_string();
        let engine_error = text.contains("engine error (code") || text.contains("Code:");
        if !(status == 200 || status == 400) || engine_error {
            bad.push(format!("{q}\n  → {status} {text}"));
        }
    }
    let (status, _) = s.query("f", "SELECT count(v) FROM m");
    assert_eq!(status, 200, "the server stopped answering");
    assert!(
        bad.is_empty(),
        "seed {seed}, env {env:?}: {} of {cases} queries failed:\n{}",
        bad.len(),
        bad.iter().take(15).cloned().collect::<Vec<_>>().join("\n")
    );
}
