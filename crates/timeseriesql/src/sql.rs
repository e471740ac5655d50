//! Read statements over HyperbyteDB's storage layout, described as data and rendered as
//! ClickHouse SQL.
//!
//! Why it exists: the application decides *what* to read (which table, which columns,
//! which aggregates ClickHouse computes, the time bounds and buckets, whether the rows
//! must be merged with `FINAL`); this module alone says it in SQL. Keeping every
//! statement text of the read path here means one place escapes identifiers and literals,
//! one place can be snapshot-tested (`tests/snapshots`), and the services can be tested
//! on the plans they build rather than on strings.
//!
//! Architecture invariant (as in [`crate::translate`]): nothing here executes anything.
//! Identifiers come from `hyperbyte_domain::naming`, literals are numbers or escaped with
//! `naming::quote_string`.
//!
//! The shapes:
//! - [`RawRead`]: points of one table, time-ordered (raw SELECTs, Rust-evaluated
//!   aggregates and transformations);
//! - [`AggregateRead`]: aggregates ClickHouse computes exactly as InfluxDB does
//!   ([`Pushdown`]), grouped by tags and time buckets;
//! - [`TagSetsRead`]: which tag sets have rows in a table (retention's series cleanup);
//! - [`DumpRead`]: a page of a table's points for a backup or an export.

use crate::ast::Expr;
use crate::translate::{condition_sql, time_literal, ColumnRef, TranslateError};
use hyperbyte_domain::naming;
use hyperbyte_domain::window::Window;
use hyperbyte_domain::FieldType;
use std::collections::BTreeMap;

/// One (database, retention policy, measurement) table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    /// Database name.
    pub database: String,
    /// Retention policy name.
    pub rp: String,
    /// Measurement name.
    pub measurement: String,
}

impl TableRef {
    /// The table of `measurement` in `database`.`rp`.
    pub fn new(database: &str, rp: &str, measurement: &str) -> Self {
        TableRef {
            database: database.to_string(),
            rp: rp.to_string(),
            measurement: measurement.to_string(),
        }
    }

    fn sql(&self) -> String {
        naming::qualified_table(&self.database, &self.rp, &self.measurement)
    }

    /// The table in a `FROM` clause, with `FINAL` when overwritten points must merge.
    fn from(&self, merge: bool) -> String {
        let table = self.sql();
        if merge {
            format!("{table} FINAL")
        } else {
            table
        }
    }
}

/// A `WHERE` condition with its names already resolved against the table: a name missing
/// from `columns` is [`ColumnRef::Missing`].
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The condition (time terms are ignored).
    pub expr: Expr,
    /// What each name refers to in this table.
    pub columns: BTreeMap<String, ColumnRef>,
}

impl Condition {
    fn sql(&self) -> Result<String, TranslateError> {
        let resolve = |name: &str| {
            self.columns
                .get(name)
                .cloned()
                .unwrap_or(ColumnRef::Missing)
        };
        condition_sql(&self.expr, &resolve)
    }
}

/// A row's time in nanoseconds (`Int64`). Aggregates of time take it rather than the
/// `DateTime64` column: the engine's `min(time)` grouped by a tag answered the epoch for
/// a group holding InfluxDB's earliest time (-9223372036854775806) and later ones,
/// some runs of the same statement on the same parts and not others (chDB 26.7).
const TIME_NS: &str = "toUnixTimestamp64Nano(time)";

/// Aggregates grouped by a prefix of a table's sort key (every tag of the table, or the
/// tags that lead the key) in the table's order: it is sorted by its tags first, so the
/// aggregate streams instead of hashing every row.
const IN_KEY_ORDER: &str = " SETTINGS optimize_aggregation_in_order = 1";

/// Reads of the first rows by time over every series use the tables' index of their
/// granules' time ranges (readers leave skip indexes out unless asked): the engine then
/// finds the least times of a table in the granules that may hold them, and keeps the
/// rows up to them from those granules alone.
const BY_TIME_INDEX: &str = " SETTINGS use_skip_indexes = 1";

/// Which rows of a table a read covers. The terms render in this order:
/// `time >= min`, `time <= max`, the condition, at least one of `any_field`, `time >= since`
/// (`1` when there is none).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowFilter {
    /// Earliest time (nanoseconds, inclusive).
    pub min: Option<i64>,
    /// Latest time (nanoseconds, inclusive).
    pub max: Option<i64>,
    /// The translated `WHERE` condition.
    pub condition: Option<Condition>,
    /// Field names of which a row must hold at least one (empty: no such term).
    pub any_field: Vec<String>,
    /// A further lower bound on time (reads of the most recent rows only).
    pub since: Option<i64>,
}

impl RowFilter {
    fn sql(&self) -> Result<String, TranslateError> {
        let mut terms = Vec::new();
        if let Some(m) = self.min {
            terms.push(format!("time >= {}", time_literal(m)));
        }
        if let Some(m) = self.max {
            terms.push(format!("time <= {}", time_literal(m)));
        }
        if let Some(c) = &self.condition {
            terms.push(c.sql()?);
        }
        if !self.any_field.is_empty() {
            let any: Vec<String> = self
                .any_field
                .iter()
                .map(|f| format!("{} IS NOT NULL", field(f)))
                .collect();
            terms.push(format!("({})", any.join(" OR ")));
        }
        if let Some(t) = self.since {
            terms.push(format!("time >= {}", time_literal(t)));
        }
        if terms.is_empty() {
            // Every row: a `WHERE` clause needs a term.
            return Ok("1".to_string());
        }
        Ok(terms.join(" AND "))
    }
}

fn field(name: &str) -> String {
    naming::quote_ident(&naming::field_column(name))
}

fn tag(name: &str) -> String {
    naming::quote_ident(&naming::tag_column(name))
}

/// The points of one table: `time`, tag columns, field columns, ordered by time then tag
/// values.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRead {
    /// The table.
    pub table: TableRef,
    /// Read with `FINAL` (a point there may have been written more than once).
    pub merge: bool,
    /// Tag keys to read (and order by, after time, unless [`RawRead::is_plain`]).
    pub tags: Vec<String>,
    /// Field names to read.
    pub fields: Vec<String>,
    /// Which rows.
    pub filter: RowFilter,
    /// At most this many rows.
    pub limit: Option<u64>,
    /// Only the earliest (or latest) rows by time, for an answer that shows no more.
    pub top: Option<TopRows>,
    /// Fields read only as whether a row holds them (`1` or `NULL`, named `hb_has_<i>`),
    /// after `fields`: the engine reads their null maps, not their values. Plain and
    /// whole-table cut reads only (a read of each series' first rows ignores them).
    pub present: Vec<String>,
    /// Only the rows with these keys (empty: no such term).
    pub at: Vec<RowKey>,
    /// Only the rows among the best values of one field (the candidates of `top()` or
    /// `bottom()`).
    pub best: Option<BestRows>,
    /// The tags that lead the table's sort key, in its order (empty: unknown). A read of
    /// each series' first rows then goes through the table in that order instead of
    /// aggregating every row (see [`RawRead::first_rows_in_key_order`]).
    pub key: Vec<String>,
}

/// The rows that may hold a `top(field, …)` or `bottom(field, …)` answer: in each
/// partition by [`BestRows::by`] and time bucket, the `rows` largest (smallest) values of `field`, with every row tied
/// with the last of them. The answer's rows of a group are among its series' best, and
/// whatever order picks among ties sees them all, so evaluating the selector over these
/// rows gives what it gives over the whole range (`top(usage_user, 3)` over 720k rows:
/// 4,980 handed over). A partition finer than the query's groups only keeps more rows;
/// a coarser one would lose some.
#[derive(Debug, Clone, PartialEq)]
pub struct BestRows {
    /// The field ranked (rows without it are left out).
    pub field: String,
    /// How many per partition (ties with the last one kept as well).
    pub rows: u64,
    /// The largest values (`top`) instead of the smallest (`bottom`).
    pub largest: bool,
    /// Tag keys ranked apart (the query's `GROUP BY` tags and the selector's tag
    /// arguments; each must be one of [`RawRead::tags`]). Ranking by groups coarser than
    /// series hands over fewer rows and costs the engine less than partitioning by every
    /// tag (720k rows by ten tags: 0.50 s against 0.11 s unpartitioned).
    pub by: Vec<String>,
    /// The query's time buckets, if grouped by time.
    pub bucket: Option<Window>,
}

/// One row of a table by its key: its time and the values of [`RawRead::tags`], in that
/// order (a missing tag as empty, as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    /// Nanoseconds.
    pub time: i64,
    /// Tag values.
    pub tags: Vec<String>,
}

/// The first `rows` rows by time in one direction: of the whole table with every row
/// whose time equals the last one's (every row up to the `rows`-th row's time: the
/// caller orders rows of one time by their tags, so the rows it keeps are among these
/// whatever their tags), or,
/// `per_series`, of each series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopRows {
    /// The latest rows instead of the earliest.
    pub descending: bool,
    /// How many (at least 1).
    pub rows: u64,
    /// Each series' first rows (every series with a row in range gives its own).
    pub per_series: bool,
}

impl RawRead {
    /// A read whose rows come ordered by time alone: every row in range, or a selector's
    /// candidates (no time cut, no keys, no presence flags). The caller regroups them by
    /// series, and ordering the ties by their tag columns too tripled the engine's time
    /// (1.44 M rows of ten tags: 4.9 s against 1.8 s, nearly all of it sorting strings).
    pub fn is_plain(&self) -> bool {
        self.top.is_none() && self.at.is_empty() && self.present.is_empty()
    }

    /// Whether each series' first rows are read in the table's key order (the key's
    /// leading tags are known, and the rows have tags to tell series apart).
    fn reads_in_key_order(&self) -> bool {
        !self.key.is_empty() && !self.tags.is_empty()
    }

    /// The statement.
    pub fn to_sql(&self) -> Result<String, TranslateError> {
        // The names of the columns read, and the expressions giving them. A flag is
        // named apart from its column: an alias equal to the column's name would stand
        // for the column in `WHERE` (a condition on the field would read the flag).
        let mut names = vec!["time".to_string()];
        names.extend(self.tags.iter().map(|t| tag(t)));
        names.extend(self.fields.iter().map(|f| field(f)));
        let mut select = names.clone();
        for (i, f) in self.present.iter().enumerate() {
            select.push(format!("if({} IS NULL, NULL, 1) AS hb_has_{i}", field(f)));
            names.push(format!("hb_has_{i}"));
        }
        let mut order = vec!["time".to_string()];
        if !self.is_plain() {
            order.extend(self.tags.iter().map(|t| tag(t)));
        }
        let (from, mut filter) = (self.table.from(self.merge), self.filter.sql()?);
        if !self.at.is_empty() {
            filter = format!("{filter} AND {}", self.at_sql());
        }
        let mut source = format!("{from} WHERE {filter}");
        let mut outer = select.clone();
        // The statement's own settings, by the way the source reads.
        let mut settings = "";
        match self.top {
            Some(top) if top.per_series && self.reads_in_key_order() => {
                source = self.first_rows_in_key_order(top, &select, &source);
                outer = names;
            }
            Some(top) if top.per_series => {
                (source, outer) = self.first_rows_of_each_series(top, &source);
                // Grouped by every tag (each series' first row of 8.64 M rows, 1,000
                // series: 1.10 s -> 0.51 s in the engine).
                settings = IN_KEY_ORDER;
            }
            Some(top) => {
                // Every row up to the `rows`-th row's time, ties included: the engine finds
                // that time by a partial sort of `time` alone, then filters the range by
                // it; the outer query gives the rows the usual order. (`LIMIT n WITH
                // TIES` over the columns sorted the whole range in memory: 1.15 GB and
                // 1.07 s for `SELECT * FROM cpu LIMIT 5` over 8.64 M rows, against
                // 30 MB and 0.50 s this way.) Over no rows the bound is the epoch, and
                // nothing passes the filter either.
                let (bound, op, order) = if top.descending {
                    ("min", ">=", " DESC")
                } else {
                    ("max", "<=", "")
                };
                source = format!(
                    "(SELECT {} FROM {from} WHERE ({filter}) AND time {op} (SELECT {bound}(time) \
                     FROM (SELECT time FROM {from} WHERE {filter} ORDER BY time{order} LIMIT {})))",
                    select.join(", "),
                    top.rows.max(1)
                );
                // Over a subquery, the outer list names its columns.
                outer = names;
                settings = BY_TIME_INDEX;
            }
            None => {
                if let Some(best) = &self.best {
                    source = self.best_rows_of(best, &select, &from, &filter);
                    outer = names;
                }
            }
        }
        let mut sql = format!(
            "SELECT {} FROM {source} ORDER BY {}",
            outer.join(", "),
            order.join(", ")
        );
        if let Some(n) = self.limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        sql.push_str(settings);
        Ok(sql)
    }
}

impl RawRead {
    /// `(time, tags…) IN (…)` over [`Self::at`], with the key's bounds spelt out so the
    /// engine's key analysis keeps only the granules of the named series and times.
    fn at_sql(&self) -> String {
        let key_of = |k: &RowKey| {
            let mut parts = vec![time_literal(k.time)];
            parts.extend(k.tags.iter().map(|v| naming::quote_string(v)));
            format!("({})", parts.join(", "))
        };
        let mut cols = vec!["time".to_string()];
        cols.extend(self.tags.iter().map(|t| tag(t)));
        let keys: Vec<String> = self.at.iter().map(key_of).collect();
        let times = self.at.iter().map(|k| k.time);
        let (lo, hi) = (times.clone().min(), times.max());
        let mut sql = format!("({}) IN ({})", cols.join(", "), keys.join(", "));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            sql = format!(
                "time >= {} AND time <= {} AND {sql}",
                time_literal(lo),
                time_literal(hi)
            );
        }
        sql
    }

    /// The source of the rows [`BestRows`] keeps of `from` under `filter`: those whose
    /// value is at least the `rows`-th best (over one partition, a partial sort of the
    /// field finds it), or whose (partition, value) is among those the window function
    /// `rank()` ranks within `rows` (ties share a rank). Only the keys and the field go
    /// through the ranking, the other columns are read for the rows kept (720k rows,
    /// ten tags: 0.10 s unpartitioned, 0.18-0.26 s by host or bucket, against 0.38-0.66 s
    /// ranking whole rows). Values rank as `value + 0`, so `-0` ties with `0` and rows of
    /// both stay: the evaluation orders them itself.
    fn best_rows_of(&self, best: &BestRows, select: &[String], from: &str, filter: &str) -> String {
        let mut partition: Vec<String> = best.by.iter().map(|t| tag(t)).collect();
        if let Some(w) = &best.bucket {
            partition.push(bucket_sql(w));
        }
        let ranked = field(&best.field);
        let direction = if best.largest { " DESC" } else { "" };
        let rows = best.rows.max(1);
        let candidates = format!("{from} WHERE ({filter}) AND {ranked} IS NOT NULL");
        let kept = if partition.is_empty() {
            let (bound, op) = if best.largest {
                ("min", ">=")
            } else {
                ("max", "<=")
            };
            format!(
                "{ranked} {op} (SELECT {bound}(hb_v) FROM (SELECT {ranked} AS hb_v \
                 FROM {candidates} ORDER BY {ranked}{direction} LIMIT {rows}))"
            )
        } else if rows == 1 {
            // The best value per partition: an aggregate, no sort (each host's best over
            // 720k rows: 0.18 s ranked).
            let keys = partition.join(", ");
            let best_of = if best.largest { "max" } else { "min" };
            // Compared as `value + 0`: `-0` and `0` are one best value (the set matches
            // bits, and the aggregate may name either), so both kinds of rows stay.
            format!(
                "({keys}, {ranked} + 0) IN (SELECT {keys}, {best_of}({ranked}) + 0 \
                 FROM {candidates} GROUP BY {keys})"
            )
        } else {
            let keys = partition.join(", ");
            let named: Vec<String> = partition
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{p} AS hb_p{i}"))
                .collect();
            let names: Vec<String> = (0..partition.len()).map(|i| format!("hb_p{i}")).collect();
            format!(
                "({keys}, {ranked}) IN (SELECT {names}, hb_v FROM (SELECT {named}, \
                 {ranked} AS hb_v, rank() OVER (PARTITION BY {names} ORDER BY hb_v + 0{direction}) \
                 AS hb_rank FROM {candidates}) WHERE hb_rank <= {rows})",
                names = names.join(", "),
                named = named.join(", "),
            )
        };
        format!(
            "(SELECT {} FROM {candidates} AND {kept})",
            select.join(", ")
        )
    }

    /// The source of `top.rows` rows of each series of `filtered` (`table WHERE …`),
    /// columns `select`, read in the table's sort key order: the tags that lead the key
    /// ([`RawRead::key`]), then time (newest first when descending), which the engine
    /// reads without sorting. A series' rows pass in time order, since its leading tags
    /// are fixed, so `LIMIT n BY` its tags keeps its first rows; nothing is aggregated.
    /// Each host's first 10 rows of 8.64 M rows (1,000 hosts, one part, engine alone):
    /// 0.45–1.20 s aggregated, 0.12–0.15 s this way; its latest 10 before a time 1.64 s
    /// against 0.28 s.
    fn first_rows_in_key_order(&self, top: TopRows, select: &[String], filtered: &str) -> String {
        let direction = if top.descending { " DESC" } else { "" };
        let mut order: Vec<String> = self
            .key
            .iter()
            .map(|t| format!("{}{direction}", tag(t)))
            .collect();
        order.push(format!("time{direction}"));
        let tags: Vec<String> = self.tags.iter().map(|t| tag(t)).collect();
        format!(
            "(SELECT {} FROM {filtered} ORDER BY {} LIMIT {} BY {})",
            select.join(", "),
            order.join(", "),
            top.rows.max(1),
            tags.join(", ")
        )
    }

    /// The source of `top.rows` rows of each series of `filtered` (`table WHERE …`) and
    /// the outer select list naming its columns as a plain read does. Each series' first
    /// rows come without sorting the range: an aggregate keeps the least `rows` (time
    /// key first) per series, unnested again.
    fn first_rows_of_each_series(&self, top: TopRows, filtered: &str) -> (String, Vec<String>) {
        let key = if top.descending {
            "-toInt128(toUnixTimestamp64Nano(time))"
        } else {
            "toUnixTimestamp64Nano(time)"
        };
        let mut row = vec![key.to_string(), "time".to_string()];
        row.extend(self.fields.iter().map(|f| field(f)));
        let tags: Vec<String> = self.tags.iter().map(|t| tag(t)).collect();
        let mut inner = tags.clone();
        inner.push(format!(
            "groupArraySorted({})(({})) AS hb_rows",
            top.rows.max(1),
            row.join(", ")
        ));
        let group = if tags.is_empty() {
            String::new()
        } else {
            format!(" GROUP BY {}", tags.join(", "))
        };
        let source = format!(
            "(SELECT {} FROM {filtered}{group}) ARRAY JOIN hb_rows AS hb_r",
            inner.join(", ")
        );
        let mut outer = vec!["tupleElement(hb_r, 2) AS time".to_string()];
        outer.extend(tags);
        outer.extend(
            self.fields
                .iter()
                .enumerate()
                .map(|(i, f)| format!("tupleElement(hb_r, {}) AS {}", i + 3, field(f))),
        );
        (source, outer)
    }
}

/// One table's points for a backup or an export: `time`, tag and field columns, in
/// `[min, max]`, rows holding at least one of the fields. Without a limit the rows come
/// in storage order, unsorted (a dump reads a partition in one pass; sorting it cost the
/// engine more than the read, measured on TSBS rows); with one, the earliest rows by time
/// (with no tag or field, `LIMIT 1` finds the earliest time at or after `min`).
#[derive(Debug, Clone, PartialEq)]
pub struct DumpRead {
    /// The table.
    pub table: TableRef,
    /// Read with `FINAL` (a point there may have been written more than once).
    pub merge: bool,
    /// Tag keys to read.
    pub tags: Vec<String>,
    /// Field names (storage names, side columns included) to read.
    pub fields: Vec<String>,
    /// Earliest time (nanoseconds, inclusive).
    pub min: Option<i64>,
    /// Latest time (nanoseconds, inclusive).
    pub max: Option<i64>,
    /// At most this many rows.
    pub limit: Option<u64>,
}

impl DumpRead {
    /// The statement.
    pub fn to_sql(&self) -> Result<String, TranslateError> {
        let mut select = vec!["time".to_string()];
        select.extend(self.tags.iter().map(|t| tag(t)));
        select.extend(self.fields.iter().map(|f| field(f)));
        let filter = RowFilter {
            min: self.min,
            max: self.max,
            condition: None,
            any_field: self.fields.clone(),
            since: None,
        };
        let condition = filter.sql()?;
        let mut sql = format!(
            "SELECT {} FROM {} WHERE {}",
            select.join(", "),
            self.table.from(self.merge),
            condition
        );
        if let Some(n) = self.limit {
            sql.push_str(&format!(" ORDER BY time LIMIT {n}"));
        }
        Ok(sql)
    }
}

/// Digests of a table per time bucket, for anti-entropy between cluster members: per
/// bucket (`intDiv` of the time in nanoseconds by `bucket`), the number of rows and an
/// order-independent hash of every row (time, then each tag and each field in the order
/// given). Members compare them to find the ranges where their copies differ.
///
/// Columns are named by the cluster-wide schema, not by what the table holds: a tag or
/// field `absent` from this member's table hashes as an empty tag or a null field, so two
/// members holding the same points compute the same digest even when one of them once
/// stored a column the other never created.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestRead {
    /// The table.
    pub table: TableRef,
    /// Read with `FINAL` (a point there may have been written more than once).
    pub merge: bool,
    /// Tag keys, each with whether the table has its column.
    pub tags: Vec<(String, bool)>,
    /// Field names (storage names), each with whether the table has its column.
    pub fields: Vec<(String, bool)>,
    /// Bucket width in nanoseconds (at least 1).
    pub bucket: i64,
}

impl DigestRead {
    /// The statement; rows are `(bucket, rows, hash)`, all `Int64`, by bucket (the
    /// bucket rounds down, also before 1970: bucket `b` holds `[b·width, (b+1)·width)`).
    pub fn to_sql(&self) -> Result<String, TranslateError> {
        if self.bucket < 1 {
            return Err(TranslateError::Unsupported(format!(
                "digest bucket of {} ns",
                self.bucket
            )));
        }
        let mut parts = vec!["toUnixTimestamp64Nano(time)".to_string()];
        for (name, present) in &self.tags {
            parts.push(if *present { tag(name) } else { "''".into() });
        }
        for (name, present) in &self.fields {
            if *present {
                let f = field(name);
                parts.push(format!("isNull({f})"));
                parts.push(format!("ifNull(toString({f}), '')"));
            } else {
                parts.push("1".into());
                parts.push("''".into());
            }
        }
        Ok(format!(
            "SELECT intDiv(toUnixTimestamp64Nano(time), {b}) - if(toUnixTimestamp64Nano(time) % {b} < 0, 1, 0) AS digest_bucket, toInt64(count()) AS digest_rows, \
             toInt64(sum(cityHash64({cols})) % 9223372036854775783) AS digest_hash FROM {from} \
             GROUP BY digest_bucket ORDER BY digest_bucket",
            b = self.bucket,
            cols = parts.join(", "),
            from = self.table.from(self.merge),
        ))
    }
}

/// Whether values of type `t` are numbers (the aggregates over numbers accept them).
fn is_numeric(t: FieldType) -> bool {
    matches!(
        t,
        FieldType::Float | FieldType::Integer | FieldType::Unsigned
    )
}

/// An aggregate ClickHouse computes exactly as InfluxDB does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushdown {
    /// `count`.
    Count,
    /// `sum` (numbers).
    Sum,
    /// `mean` (numbers).
    Mean,
    /// `min` (numbers).
    Min,
    /// `max` (numbers).
    Max,
    /// `spread` (numbers).
    Spread,
    /// `median` (floats and integers): the middle value, or between the two middle
    /// values as InfluxDB computes it (`lo + (hi - lo) / 2`, in floats).
    Median,
    /// `first`: the earliest value, ties towards the larger value.
    First,
    /// `last`: the latest value, ties towards the larger value.
    Last,
    /// `stddev` (numbers): the sample standard deviation (numerically stable); NaN for a
    /// group of one value (InfluxDB prints it as null but the group exists), NULL for
    /// none.
    Stddev,
    /// `percentile(x, level)` (numbers), `level` as `f64` bits
    /// ([`Pushdown::percentile`]): the value of nearest rank `floor(n * level / 100 +
    /// 0.5)` among the values sorted with their times, none when that rank is not in
    /// `1..=n` (InfluxDB's selector). A lone one prints its point's time, which is
    /// InfluxDB's unless another point holds the value (then the row is undecided: the
    /// order of equal values is that of InfluxDB's unstable sort).
    Percentile(u64),
    /// `count(distinct(x))`: how many different values; over floats (`float`) `-0` and
    /// `0` are one value (InfluxDB keys them in a Go map). 0 for none, as `count`.
    CountDistinct {
        /// The field is a float.
        float: bool,
    },
    /// `mode`: the most frequent value (`-0` and `0` are one value, printed `0`), the
    /// smallest when every value is seen once; booleans `true` unless more are `false`.
    /// Among several equally frequent values InfluxDB's pick depends on the order its
    /// unstable sort leaves the points in, so such a row is marked undecided
    /// ([`AggregateRead`]'s `hb_undecided`) and the caller evaluates the points.
    Mode(ModeOf),
}

/// What a `mode` pushdown counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeOf {
    /// Floats: `-0` and `0` are one value.
    Floats,
    /// Booleans: `true` unless more values are `false`.
    Booleans,
    /// Integers, unsigned integers and strings, by their order.
    Values,
}

impl Pushdown {
    /// The pushdown form of InfluxQL aggregate `name` over a field of type `t`, if
    /// ClickHouse computes it as InfluxDB does.
    pub fn of(name: &str, t: FieldType) -> Option<Pushdown> {
        let numeric = is_numeric(t);
        Some(match name {
            "count" => Pushdown::Count,
            "sum" if numeric => Pushdown::Sum,
            "mean" if numeric => Pushdown::Mean,
            "min" if numeric => Pushdown::Min,
            "max" if numeric => Pushdown::Max,
            "spread" if numeric => Pushdown::Spread,
            "stddev" if numeric => Pushdown::Stddev,
            "median" if matches!(t, FieldType::Float | FieldType::Integer) => Pushdown::Median,
            // At one time InfluxDB's boolean `first` takes `false`, its others the
            // larger value: booleans stay in Rust.
            "first" if t != FieldType::Boolean => Pushdown::First,
            "last" => Pushdown::Last,
            "mode" => Pushdown::Mode(match t {
                FieldType::Float => ModeOf::Floats,
                FieldType::Boolean => ModeOf::Booleans,
                _ => ModeOf::Values,
            }),
            _ => return None,
        })
    }

    /// `percentile(x, level)` over a field of type `t`, if numeric and `level` finite.
    pub fn percentile(level: f64, t: FieldType) -> Option<Pushdown> {
        (is_numeric(t) && level.is_finite()).then_some(Pushdown::Percentile(level.to_bits()))
    }

    /// The nearest rank a `percentile` selects (1-based, as a float; out of `1..=count`
    /// when it selects nothing) and the group's points as tuples (value + 0, time in
    /// nanoseconds, value) sorted: equal values by time (`-0` and `0` compare equal
    /// through `+ 0`; the tuple keeps the value's sign).
    fn percentile_parts(col: &str, bits: u64) -> (String, String) {
        let level = f64::from_bits(bits);
        let rank = format!("floor(toFloat64(count({col})) * {level:?} / 100. + 0.5)");
        let sorted = format!(
            "arraySort(groupArrayIf((assumeNotNull({col}) + 0, {TIME_NS}, assumeNotNull({col})), \
             {col} IS NOT NULL))"
        );
        (rank, sorted)
    }

    /// The sorted point at 1-based position `at` (a float expression), clamped into the
    /// array whatever the caller's condition evaluates.
    fn percentile_point(col: &str, sorted: &str, at: &str) -> String {
        format!(
            "arrayElement({sorted}, toUInt64(greatest(least({at}, toFloat64(count({col}))), 1.)))"
        )
    }

    /// Element `part` of the point a `percentile` selects ([`Pushdown::percentile_parts`]),
    /// or NULL when its rank is out of range. Its value is InfluxDB's whatever the order
    /// of equal values; its time is when no other point holds that value
    /// ([`Pushdown::undecided_sql`]).
    fn percentile_pick(col: &str, bits: u64, part: u8) -> String {
        let (rank, sorted) = Self::percentile_parts(col, bits);
        let point = Self::percentile_point(col, &sorted, &rank);
        format!("if({rank} >= 1 AND {rank} <= count({col}), tupleElement({point}, {part}), NULL)")
    }

    /// Whether another point holds the value a `percentile` selects: InfluxDB's point
    /// (the time a lone one prints) is then the one its unstable sort leaves at the rank.
    fn percentile_tied(col: &str, bits: u64) -> String {
        let (rank, sorted) = Self::percentile_parts(col, bits);
        let value_at = |at: &str| {
            format!(
                "tupleElement({}, 1)",
                Self::percentile_point(col, &sorted, at)
            )
        };
        let (before, at, after) = (
            value_at(&format!("{rank} - 1")),
            value_at(&rank),
            value_at(&format!("{rank} + 1")),
        );
        format!(
            "({rank} >= 1 AND {rank} <= count({col}) AND (({rank} > 1 AND {before} = {at}) \
             OR ({rank} < count({col}) AND {after} = {at})))"
        )
    }

    /// A group's values sorted (floats as `value + 0`, so `-0` and `0` are one value),
    /// and each one's occurrence number among its equals: the last occurrence number of a
    /// value is its frequency.
    fn mode_arrays(col: &str, of: ModeOf) -> (String, String) {
        let value = match of {
            ModeOf::Floats => format!("assumeNotNull({col}) + 0"),
            _ => format!("assumeNotNull({col})"),
        };
        let sorted = format!("arraySort(groupArrayIf({value}, {col} IS NOT NULL))");
        let occurrence = format!("arrayEnumerateUniq({sorted})");
        (sorted, occurrence)
    }

    /// Whether a row's answer depends on the order of its points, which the engine does
    /// not reproduce: a `mode` whose two or more values are equally most frequent (each
    /// seen at least twice); a `percentile` whose point's time is printed (`point_time`)
    /// and whose value another point holds. `None`: never.
    fn undecided_sql(self, col: &str, point_time: bool) -> Option<String> {
        match self {
            Pushdown::Mode(ModeOf::Booleans) => None,
            Pushdown::Mode(of) => {
                let (_, occurrence) = Self::mode_arrays(col, of);
                let top = format!("arrayMax({occurrence})");
                Some(format!(
                    "({top} >= 2 AND countEqual({occurrence}, {top}) >= 2)"
                ))
            }
            Pushdown::Percentile(bits) if point_time => Some(Self::percentile_tied(col, bits)),
            _ => None,
        }
    }

    fn sql(self, col: &str) -> String {
        match self {
            Pushdown::Mode(ModeOf::Booleans) => {
                format!("if(count({col}) = 0, NULL, toBool(countIf({col}) >= countIf(NOT {col})))")
            }
            // In the sorted values the first value reaching the highest occurrence number
            // is the smallest of the most frequent ones.
            Pushdown::Mode(of) => {
                let (sorted, occurrence) = Self::mode_arrays(col, of);
                format!(
                    "if(count({col}) = 0, NULL, arrayElement({sorted}, \
                     indexOf({occurrence}, arrayMax({occurrence}))))"
                )
            }
            Pushdown::Percentile(bits) => Self::percentile_pick(col, bits, 3),
            Pushdown::Count => format!("count({col})"),
            // `+ 0` makes -0 the same number as 0.
            Pushdown::CountDistinct { float: true } => {
                format!("uniqExactIf(assumeNotNull({col}) + 0, {col} IS NOT NULL)")
            }
            Pushdown::CountDistinct { float: false } => {
                format!("uniqExactIf({col}, {col} IS NOT NULL)")
            }
            Pushdown::Sum => format!("sum({col})"),
            Pushdown::Mean => format!("avg({col})"),
            Pushdown::Min => format!("min({col})"),
            Pushdown::Max => format!("max({col})"),
            Pushdown::Spread => format!("max({col}) - min({col})"),
            Pushdown::Stddev => format!(
                "multiIf(count({col}) = 0, NULL, count({col}) = 1, nan, stddevSampStable({col}))"
            ),
            // An odd count gives the middle value itself (its sign too: -0 + 0 is 0);
            // integers subtract before converting, wrapping as InfluxDB's Go does.
            Pushdown::Median => {
                let lo = format!("quantileExactLow(0.5)({col})");
                let hi = format!("quantileExactHigh(0.5)({col})");
                format!(
                    "if(count({col}) % 2 = 1, toFloat64({lo}), \
                     toFloat64({lo}) + toFloat64({hi} - {lo}) / 2)"
                )
            }
            // InfluxDB's selectors break ties at equal times towards the larger value; a
            // NULL value skips its row.
            Pushdown::First => {
                format!("argMax({col}, (-{TIME_NS}, assumeNotNull({col})))")
            }
            Pushdown::Last => format!("argMax({col}, ({TIME_NS}, assumeNotNull({col})))"),
        }
    }

    /// How a lone `min`/`max` picks its point: the engine function and the key it
    /// extremises, (value, time) with the earliest time winning among equal extremes
    /// (InfluxDB's reducers; `-0` and `0` are equal). `None`: not `min`/`max`.
    fn extreme_pick(self, col: &str) -> Option<(&'static str, String)> {
        match self {
            Pushdown::Min => Some(("argMin", format!("(assumeNotNull({col}), {TIME_NS})"))),
            Pushdown::Max => Some(("argMax", format!("(assumeNotNull({col}), -{TIME_NS})"))),
            _ => None,
        }
    }

    /// The value of the point a lone `min`/`max` picks (its time is
    /// [`Pushdown::point_time_sql`]'s), so a value and its time come from one point
    /// (`None`: the aggregate's own value is that point's).
    fn point_value_sql(self, col: &str) -> Option<String> {
        let (pick, key) = self.extreme_pick(col)?;
        Some(format!("{pick}({col}, {key})"))
    }

    /// The time of the point a lone selector picks, in nanoseconds, over rows that all
    /// hold `col` (`None`: not a selector). InfluxDB's reducers: `first`/`last` the
    /// earliest/latest time; `min`/`max` the earliest time among the points holding the
    /// extreme value, so ties between series and times change neither value nor time.
    /// Aggregated as nanoseconds ([`TIME_NS`]), not as `DateTime64`.
    fn point_time_sql(self, col: &str) -> Option<String> {
        Some(match self {
            Pushdown::First => format!("min({TIME_NS})"),
            Pushdown::Last => format!("max({TIME_NS})"),
            Pushdown::Percentile(bits) => Self::percentile_pick(col, bits, 2),
            _ => {
                let (pick, key) = self.extreme_pick(col)?;
                format!("{pick}({TIME_NS}, {key})")
            }
        })
    }
}

/// Aggregates per group of tags and time bucket, computed in ClickHouse. Each result row
/// is: one string per `group_tags` entry, the bucket start `hb_bucket` (0 without
/// buckets), then one value per `columns` entry, then, when a column's answer can depend
/// on the order of the points (a `mode`, a lone `percentile`), whether the row's does
/// (`hb_undecided`): the caller then evaluates the points.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateRead {
    /// The table.
    pub table: TableRef,
    /// Read with `FINAL`.
    pub merge: bool,
    /// `GROUP BY` tags: `Some(key)` groups by the tag's column, `None` (the table lacks
    /// the column) reads as `''` and does not group.
    pub group_tags: Vec<Option<String>>,
    /// Time buckets, if grouped by time (in a zone: its pieces of constant offset).
    pub bucket: Option<Window>,
    /// `group_tags` are every tag column of the table, or the columns that lead its sort
    /// key, so they are a prefix of that key (tags first, whatever their order): without
    /// buckets the aggregate runs in the table's order.
    pub in_key_order: bool,
    /// One aggregate of a field per output column; `None` reads as NULL (the table lacks
    /// the field, or has it with another type).
    pub columns: Vec<Option<(Pushdown, String)>>,
    /// Which rows.
    pub filter: RowFilter,
}

impl AggregateRead {
    /// Where a result row says whether its answer is undecided (`hb_undecided`), if the
    /// statement has that column.
    pub fn undecided_column(&self) -> Option<usize> {
        (!self.undecided_terms().is_empty())
            .then_some(self.group_tags.len() + 1 + self.columns.len())
    }

    /// One lone column without time buckets: it prints its selected point's time.
    fn lone(&self) -> bool {
        self.bucket.is_none() && self.columns.len() == 1
    }

    /// The conditions under which a row's answer depends on the order of its points
    /// ([`Pushdown::undecided_sql`]).
    fn undecided_terms(&self) -> Vec<String> {
        self.columns
            .iter()
            .flatten()
            .filter_map(|(agg, f)| agg.undecided_sql(&field(f), self.lone()))
            .collect()
    }

    /// The statement.
    pub fn to_sql(&self) -> Result<String, TranslateError> {
        let mut select: Vec<String> = Vec::new();
        let mut group: Vec<String> = Vec::new();
        for t in &self.group_tags {
            match t {
                Some(t) => {
                    select.push(tag(t));
                    group.push(tag(t));
                }
                None => select.push("''".to_string()),
            }
        }
        let bucket = match &self.bucket {
            Some(w) => bucket_sql(w),
            // A lone selector prints its point's time (InfluxDB's lone selector); rows
            // without the field are filtered out (`any_field` is that field).
            None => match self.columns.as_slice() {
                [Some((agg, f))] => agg.point_time_sql(&field(f)),
                _ => None,
            }
            .unwrap_or_else(|| "0".to_string()),
        };
        select.push(format!("{bucket} AS hb_bucket"));
        if self.bucket.is_some() {
            group.push("hb_bucket".to_string());
        }
        let lone = self.lone();
        for c in &self.columns {
            select.push(match c {
                Some((agg, f)) => lone
                    .then(|| agg.point_value_sql(&field(f)))
                    .flatten()
                    .unwrap_or_else(|| agg.sql(&field(f))),
                None => "NULL".to_string(),
            });
        }
        let undecided = self.undecided_terms();
        if !undecided.is_empty() {
            select.push(format!("{} AS hb_undecided", undecided.join(" OR ")));
        }
        let mut sql = format!(
            "SELECT {} FROM {} WHERE {}",
            select.join(", "),
            self.table.from(self.merge),
            self.filter.sql()?
        );
        if !group.is_empty() {
            sql.push_str(&format!(" GROUP BY {}", group.join(", ")));
        }
        if self.in_key_order && self.bucket.is_none() && !group.is_empty() {
            // The aggregate streams in the table's order instead of hashing every row
            // (lastpoint from storage over 1,000 series: 42 -> 29 ms). Not with time
            // buckets (double-groupby-1: 132 -> 160 ms in the engine) nor by tags that
            // are no prefix of the key (`GROUP BY region`: 26 -> 33 ms).
            sql.push_str(IN_KEY_ORDER);
        }
        Ok(sql)
    }
}

/// The window start of each row (`hyperbyte_domain::window`'s rule). One offset: the
/// fixed grid `t - ((t - shift) mod every)`. A zone with changes in the range: that grid
/// per piece of constant offset (`multiIf` over the piece starts), where a time before
/// its piece's first aligned start takes the piece's `before` window.
fn bucket_sql(w: &Window) -> String {
    // Every operand is an `Int64`: ClickHouse reads a positive literal as `UInt64`, and
    // `Int64 % UInt64` computes in unsigned arithmetic, which put every time before 1970
    // into a wrong bucket. `positiveModulo` (a `UInt64` below `every`, so the cast back
    // is exact) never adds `every` to a remainder: `(x % every) + every` overflowed for
    // windows near `i64::MAX` nanoseconds.
    let t = "toUnixTimestamp64Nano(time)";
    let aligned = |shift: i64| {
        let every = format!("toInt64({})", w.every);
        let x = format!("{t} - toInt64({shift})");
        format!("{t} - toInt64(positiveModulo({x}, {every}))")
    };
    if let Some((_, shift)) = w.fixed() {
        return aligned(shift);
    }
    let mut arms = Vec::new();
    let pieces = w.pieces();
    for (i, p) in pieces.iter().enumerate() {
        let c = aligned(p.shift);
        let value = if i == 0 {
            c
        } else {
            format!(
                "if(({c}) >= toInt64({first}), {c}, toInt64({before}))",
                first = p.first,
                before = p.before
            )
        };
        match pieces.get(i + 1) {
            Some(next) => arms.push(format!("{t} < toInt64({}), {value}", next.from)),
            None => arms.push(value),
        }
    }
    format!("multiIf({})", arms.join(", "))
}

/// The distinct tag sets with rows in a table; without tags, whether it has any row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSetsRead {
    /// The table.
    pub table: TableRef,
    /// Tag keys whose columns the table has.
    pub tags: Vec<String>,
    /// Only rows between these times (nanoseconds, inclusive); `None`: every row.
    pub between: Option<(i64, i64)>,
}

impl TagSetsRead {
    /// The statement.
    pub fn to_sql(&self) -> String {
        let filter = self.filter();
        if self.tags.is_empty() {
            format!("SELECT 1 FROM {}{filter} LIMIT 1", self.table.sql())
        } else {
            let cols: Vec<String> = self.tags.iter().map(|t| tag(t)).collect();
            format!(
                "SELECT DISTINCT {} FROM {}{filter}",
                cols.join(", "),
                self.table.sql()
            )
        }
    }

    /// How many distinct tag sets [`Self::to_sql`] would list, as one `UInt64` (without
    /// tags, 1 when the table has a row, else 0): the engine counts them, and no tag set
    /// crosses to the caller.
    pub fn count_sql(&self) -> String {
        let filter = self.filter();
        if self.tags.is_empty() {
            return format!(
                "SELECT count() FROM (SELECT 1 FROM {}{filter} LIMIT 1)",
                self.table.sql()
            );
        }
        let cols: Vec<String> = self.tags.iter().map(|t| tag(t)).collect();
        format!(
            "SELECT uniqExact({}) FROM {}{filter}",
            cols.join(", "),
            self.table.sql()
        )
    }

    fn filter(&self) -> String {
        match self.between {
            Some((min, max)) => format!(
                " WHERE time >= {} AND time <= {}",
                time_literal(min),
                time_literal(max)
            ),
            None => String::new(),
        }
    }
}

/// How a table's rows spread over time, newest first: per bucket of `bucket_ns`
/// nanoseconds, the bucket number, its row count and its earliest time (`min_time`
/// columns: every row at or after a bucket's earliest time lies in that bucket or a newer
/// one, whatever the sign of the times). Stored versions of overwritten points count
/// once each, so a count is an upper bound of the merged rows. The recent-data tier
/// reads it at start-up to choose how much of each table it can hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeHistogramRead {
    /// The table.
    pub table: TableRef,
    /// Bucket width, nanoseconds (at least 1).
    pub bucket_ns: i64,
    /// At most this many buckets (the newest).
    pub limit: u64,
    /// Only rows at or after this (nanoseconds; `None`: no lower bound).
    pub from: Option<i64>,
    /// Only rows strictly earlier than this (nanoseconds; `None`: no upper bound).
    pub before: Option<i64>,
}

impl TimeHistogramRead {
    /// The statement; columns: bucket, rows, earliest time.
    pub fn to_sql(&self) -> String {
        let bounds: Vec<String> = [
            self.from.map(|f| format!("time >= {}", time_literal(f))),
            self.before.map(|b| format!("time < {}", time_literal(b))),
        ]
        .into_iter()
        .flatten()
        .collect();
        let filter = if bounds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", bounds.join(" AND "))
        };
        format!(
            "SELECT intDiv(toUnixTimestamp64Nano(time), {}) AS hb_bucket, count(), \
             min({TIME_NS}) FROM {}{filter} GROUP BY hb_bucket \
             ORDER BY hb_bucket DESC LIMIT {}",
            self.bucket_ns.max(1),
            self.table.sql(),
            self.limit
        )
    }
}

/// Per series (tag set), the latest value of each field stored before `before`, with its
/// time: the recent-data tier learns what lies before its coverage from it, so that
/// `last()` over all time is answered from memory. Columns: the tags, then per field its
/// latest time (nanoseconds; meaningless where the value is `NULL`) and its latest value
/// (`NULL`: no value of that field before `before`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestBeforeRead {
    /// The table.
    pub table: TableRef,
    /// Read with `FINAL` (a point there may have been written more than once).
    pub merge: bool,
    /// Tag keys (one group per combination of their values).
    pub tags: Vec<String>,
    /// Field names.
    pub fields: Vec<String>,
    /// Rows strictly earlier than this (nanoseconds).
    pub before: i64,
}

impl LatestBeforeRead {
    /// The statement (`None` without fields).
    pub fn to_sql(&self) -> Option<String> {
        if self.fields.is_empty() {
            return None;
        }
        let tags: Vec<String> = self.tags.iter().map(|t| tag(t)).collect();
        let mut select = tags.clone();
        for f in &self.fields {
            let f = field(f);
            select.push(format!("maxIf({TIME_NS}, {f} IS NOT NULL)"));
            select.push(format!("argMax({f}, ({TIME_NS}, assumeNotNull({f})))"));
        }
        let mut sql = format!(
            "SELECT {} FROM {} WHERE time < {}",
            select.join(", "),
            self.table.from(self.merge),
            time_literal(self.before)
        );
        if !tags.is_empty() {
            sql.push_str(&format!(" GROUP BY {}", tags.join(", ")));
        }
        Some(sql)
    }
}
