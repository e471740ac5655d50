//! The table of `cargo xtask bench --against-reference`: what was measured per dataset and
//! its rendering as markdown (printed at the end of the run and written to a file, so the
//! figures in `docs/benchmarks.md` are pasted, never retyped).
//!
//! Kept apart from the benchmark's driver so that the rendering (units, ratios, missing
//! values) is unit-tested without starting a server.

use std::fmt::Write as _;

/// The unit of a measure, for formatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Rows per second (`849,512`).
    RowsPerSec,
    /// Bytes (`645.2 MB`).
    Bytes,
    /// Seconds (`7.3 s`).
    Seconds,
}

/// One measure taken on both servers.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// What it is, including when it was taken (`disk, settled after load`).
    pub name: String,
    /// Its unit.
    pub unit: Unit,
    /// hyperbyted's value (`None`: not measured, e.g. a failed probe).
    pub hyperbyted: Option<f64>,
    /// The reference InfluxDB's value.
    pub reference: Option<f64>,
}

impl Measure {
    /// A measure with both values.
    pub fn new(name: &str, unit: Unit, hyperbyted: Option<f64>, reference: Option<f64>) -> Self {
        Measure {
            name: name.into(),
            unit,
            hyperbyted,
            reference,
        }
    }
}

/// Latencies of one query type on one server in one phase, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    /// The first run of this query type in the phase (after a restart: its cold run).
    pub first_ms: f64,
    /// Median of the measured runs.
    pub median_ms: f64,
    /// 95th percentile (nearest rank) of the measured runs.
    pub p95_ms: f64,
}

/// One TSBS query type's results.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// TSBS name (`single-groupby-1-1-1`).
    pub name: String,
    /// With the recent-data tier warm (after the load, warm-up runs excluded):
    /// hyperbyted, then InfluxDB.
    pub warm: [Option<Latency>; 2],
    /// After a restart of both servers (no warm-up: every run counts, the first is the
    /// cold one): hyperbyted, then InfluxDB.
    pub restart: [Option<Latency>; 2],
    /// Query instances whose answers were compared (both phases).
    pub compared: usize,
    /// Of those, how many differed.
    pub mismatched: usize,
}

/// Everything measured on one dataset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DatasetReport {
    /// Heading: the dataset and its exact size.
    pub title: String,
    /// Lines under the heading (method details of this run).
    pub notes: Vec<String>,
    /// Ingest, disk and memory measures.
    pub measures: Vec<Measure>,
    /// One entry per query type.
    pub queries: Vec<QueryResult>,
}

impl DatasetReport {
    /// Query instances whose answers differed, over every query type.
    pub fn mismatches(&self) -> usize {
        self.queries.iter().map(|q| q.mismatched).sum()
    }
}

/// Formats a value in its unit; `-` when missing or not finite.
pub fn format_value(unit: Unit, v: Option<f64>) -> String {
    let Some(v) = v.filter(|v| v.is_finite()) else {
        return "-".into();
    };
    match unit {
        Unit::RowsPerSec => thousands(v.round() as u64),
        Unit::Bytes => format!("{:.1} MB", v / 1e6),
        Unit::Seconds => format!("{v:.1} s"),
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds with three significant figures or so (`0.412`, `5.03`, `11.7`, `2722`).
pub fn format_ms(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// `a / b` as `4.83×`; `-` when either is missing, not finite or `b` is zero.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if a.is_finite() && b.is_finite() && b != 0.0 => {
            let r = a / b;
            if r >= 100.0 {
                format!("{r:.0}×")
            } else if r >= 10.0 {
                format!("{r:.1}×")
            } else if r >= 0.1 {
                format!("{r:.2}×")
            } else {
                format!("{r:.3}×")
            }
        }
        _ => "-".into(),
    }
}

fn latency_cell(l: Option<Latency>, with_first: bool) -> String {
    match l {
        None => "-".into(),
        Some(l) if with_first => format!(
            "{} / {} / {}",
            format_ms(l.first_ms),
            format_ms(l.median_ms),
            format_ms(l.p95_ms)
        ),
        Some(l) => format!("{} / {}", format_ms(l.median_ms), format_ms(l.p95_ms)),
    }
}

fn speed_up(phase: &[Option<Latency>; 2]) -> String {
    ratio(phase[1].map(|l| l.median_ms), phase[0].map(|l| l.median_ms))
}

/// The markdown of one dataset: heading, notes, the measures table, the queries table,
/// and a prominent line when any answer differed.
pub fn render_dataset(r: &DatasetReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {}\n", r.title);
    for n in &r.notes {
        let _ = writeln!(out, "- {n}");
    }
    if !r.notes.is_empty() {
        out.push('\n');
    }
    out.push_str("| measure | hyperbyted | InfluxDB 1.6.7 | hyperbyted / InfluxDB |\n");
    out.push_str("|---|---:|---:|---:|\n");
    for m in &r.measures {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            m.name,
            format_value(m.unit, m.hyperbyted),
            format_value(m.unit, m.reference),
            ratio(m.hyperbyted, m.reference)
        );
    }
    out.push_str(
        "\nQuery latency in ms (HTTP round trip, body read). Warm: median / p95, tier warm, \
         warm-up runs excluded. After restart: first (cold) / median / p95, every run \
         counted. Speed-up = InfluxDB median / hyperbyted median (> 1: hyperbyted faster).\n\n",
    );
    out.push_str(
        "| query | warm hyperbyted | warm InfluxDB | warm speed-up | after restart hyperbyted | after restart InfluxDB | after restart speed-up | answers |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---|\n");
    for q in &r.queries {
        let answers = if q.mismatched == 0 {
            format!("same ({})", q.compared)
        } else {
            format!("**{} of {} DIFFER**", q.mismatched, q.compared)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            q.name,
            latency_cell(q.warm[0], false),
            latency_cell(q.warm[1], false),
            speed_up(&q.warm),
            latency_cell(q.restart[0], true),
            latency_cell(q.restart[1], true),
            speed_up(&q.restart),
            answers
        );
    }
    let bad = r.mismatches();
    if bad > 0 {
        let _ = writeln!(
            out,
            "\n**ANSWER MISMATCH: {bad} query instances answered differently from InfluxDB.**"
        );
    }
    out
}

/// The whole report: a preamble, then every dataset.
pub fn render(preamble: &str, datasets: &[DatasetReport]) -> String {
    let mut out = String::new();
    if !preamble.is_empty() {
        out.push_str(preamble);
        out.push_str("\n\n");
    }
    for d in datasets {
        out.push_str(&render_dataset(d));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lat(first: f64, median: f64, p95: f64) -> Option<Latency> {
        Some(Latency {
            first_ms: first,
            median_ms: median,
            p95_ms: p95,
        })
    }

    fn sample() -> DatasetReport {
        DatasetReport {
            title: "small: 100 hosts × 24 h".into(),
            notes: vec!["4 writers × 5,000-line batches".into()],
            measures: vec![
                Measure::new(
                    "ingest until queryable (rows/s)",
                    Unit::RowsPerSec,
                    Some(350_000.4),
                    Some(175_000.0),
                ),
                Measure::new("disk, settled", Unit::Bytes, Some(645e6), None),
            ],
            queries: vec![QueryResult {
                name: "lastpoint".into(),
                warm: [lat(3.0, 2.0, 4.0), lat(9.0, 8.0, 12.0)],
                restart: [lat(2722.0, 2700.5, 2800.0), lat(5.0, 3.8, 4.4)],
                compared: 60,
                mismatched: 0,
            }],
        }
    }

    #[test]
    fn values_are_formatted_in_their_unit() {
        assert_eq!(
            format_value(Unit::RowsPerSec, Some(1_234_567.6)),
            "1,234,568"
        );
        assert_eq!(format_value(Unit::Bytes, Some(645_200_000.0)), "645.2 MB");
        assert_eq!(format_value(Unit::Seconds, Some(7.34)), "7.3 s");
        assert_eq!(format_value(Unit::Bytes, None), "-");
        assert_eq!(format_value(Unit::Bytes, Some(f64::NAN)), "-");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }

    #[test]
    fn ratios_and_milliseconds() {
        assert_eq!(ratio(Some(849.0), Some(176.0)), "4.82×");
        assert_eq!(ratio(Some(449.0), Some(6.9)), "65.1×");
        assert_eq!(ratio(Some(11008.0), Some(25.0)), "440×");
        assert_eq!(ratio(Some(1.0), Some(0.0)), "-");
        assert_eq!(ratio(None, Some(1.0)), "-");
        assert_eq!(format_ms(0.3312), "0.331");
        assert_eq!(format_ms(5.034), "5.03");
        assert_eq!(format_ms(11.66), "11.7");
        assert_eq!(format_ms(2722.4), "2722");
    }

    #[test]
    fn a_dataset_renders_both_tables() {
        let md = render_dataset(&sample());
        assert!(md.starts_with("### small: 100 hosts × 24 h\n\n- 4 writers"));
        assert!(md.contains("| ingest until queryable (rows/s) | 350,000 | 175,000 | 2.00× |"));
        assert!(md.contains("| disk, settled | 645.0 MB | - | - |"));
        // Speed-up is InfluxDB / hyperbyted: 8 / 2 warm, 3.8 / 2700.5 after the restart.
        assert!(md.contains(
            "| lastpoint | 2.00 / 4.00 | 8.00 / 12.0 | 4.00× | 2722 / 2700 / 2800 | 5.00 / 3.80 / 4.40 | 0.001× | same (60) |"
        ));
        assert!(!md.contains("MISMATCH"));
    }

    #[test]
    fn mismatches_are_shown_prominently() {
        let mut r = sample();
        r.queries[0].mismatched = 3;
        assert_eq!(r.mismatches(), 3);
        let md = render("# report", &[r]);
        assert!(md.starts_with("# report\n\n### small"));
        assert!(md.contains("**3 of 60 DIFFER**"));
        assert!(md.contains("**ANSWER MISMATCH: 3 query instances"));
    }
}
