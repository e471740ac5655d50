//! The nine TSBS cpu-only query types as TSBS phrases them for InfluxDB, and two raw
//! reads cut by `LIMIT`, with seeded random parameters (hosts, windows), shared by the
//! query benchmarks so that `query_tsbs` and `against_reference` measure the same
//! statements.

use super::Rng;

/// Seconds since the epoch as RFC 3339 UTC (`2016-01-01T12:34:56Z`).
pub(crate) fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// What the query generators know about the data: its time range and host count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub(crate) start_s: i64,
    pub(crate) end_s: i64,
    pub(crate) hosts: usize,
}

impl Span {
    /// A random `[from, to)` window of `hours` inside the data (clamped to its length).
    pub(crate) fn window(&self, rng: &mut Rng, hours: i64) -> (String, String) {
        let len = (hours * 3600).min(self.end_s - self.start_s);
        let slack = (self.end_s - self.start_s - len).max(0) as u64;
        let from = self.start_s + rng.below(slack + 1) as i64;
        (rfc3339(from), rfc3339(from + len))
    }

    fn hosts_clause(&self, rng: &mut Rng, n: usize) -> String {
        let hosts: Vec<String> = rng
            .distinct(n, self.hosts)
            .into_iter()
            .map(|h| format!("hostname = 'host_{h}'"))
            .collect();
        format!("({})", hosts.join(" OR "))
    }
}

fn aggs(func: &str, n: usize) -> String {
    super::FIELDS[..n]
        .iter()
        .map(|f| format!("{func}({f})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn single_groupby(rng: &mut Rng, span: Span, metrics: usize, hosts: usize, hours: i64) -> String {
    let h = span.hosts_clause(rng, hosts);
    let (from, to) = span.window(rng, hours);
    format!(
        "SELECT {} FROM cpu WHERE {h} AND time >= '{from}' AND time < '{to}' GROUP BY time(1m)",
        aggs("max", metrics)
    )
}

fn double_groupby(rng: &mut Rng, span: Span, metrics: usize) -> String {
    let (from, to) = span.window(rng, 12);
    format!(
        "SELECT {} FROM cpu WHERE time >= '{from}' AND time < '{to}' GROUP BY time(1h), hostname",
        aggs("mean", metrics)
    )
}

/// Makes one query instance from the seeded generator and the data's span.
pub(crate) type Generator = fn(&mut Rng, Span) -> String;

/// The TSBS cpu-only query types, as TSBS phrases them for InfluxDB, then two raw reads
/// a dashboard or a CLI user issues (one host's latest rows; a first look at the data).
pub(crate) const QUERIES: [(&str, Generator); 12] = [
    ("single-groupby-1-1-1", |r, s| single_groupby(r, s, 1, 1, 1)),
    ("single-groupby-5-1-12", |r, s| {
        single_groupby(r, s, 5, 1, 12)
    }),
    ("single-groupby-5-8-1", |r, s| single_groupby(r, s, 5, 8, 1)),
    ("cpu-max-all-8", |r, s| {
        let h = s.hosts_clause(r, 8);
        let (from, to) = s.window(r, 8);
        format!(
            "SELECT {} FROM cpu WHERE {h} AND time >= '{from}' AND time < '{to}' GROUP BY time(1h)",
            aggs("max", 10)
        )
    }),
    ("double-groupby-1", |r, s| double_groupby(r, s, 1)),
    ("double-groupby-all", |r, s| double_groupby(r, s, 10)),
    ("high-cpu-1", |r, s| {
        let h = s.hosts_clause(r, 1);
        let (from, to) = s.window(r, 12);
        format!("SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= '{from}' AND time < '{to}' AND {h}")
    }),
    ("lastpoint", |_, _| {
        "SELECT last(*) FROM cpu GROUP BY *".into()
    }),
    ("groupby-orderby-limit", |r, s| {
        let t = s.start_s + r.below((s.end_s - s.start_s) as u64 + 1) as i64;
        format!(
            "SELECT max(usage_user) FROM cpu WHERE time < '{}' GROUP BY time(1m) ORDER BY time DESC LIMIT 5",
            rfc3339(t)
        )
    }),
    ("raw-latest-10", |r, s| {
        let h = s.hosts_clause(r, 1);
        format!("SELECT * FROM cpu WHERE {h} ORDER BY time DESC LIMIT 10")
    }),
    ("raw-first-5", |_, _| "SELECT * FROM cpu LIMIT 5".into()),
    ("raw-latest-per-host", |_, _| {
        "SELECT usage_user FROM cpu GROUP BY hostname ORDER BY time DESC LIMIT 1".into()
    }),
];

/// `count` seeded instances of query type `index` (the same list on every server and run).
pub(crate) fn instances(index: usize, span: Span, count: usize) -> Vec<String> {
    let gen = QUERIES[index].1;
    let mut rng = Rng::new(0xC0FFEE ^ ((index as u64 + 1) << 32));
    (0..count).map(|_| gen(&mut rng, span)).collect()
}
