//! `SHOW ... CARDINALITY`.
//!
//! InfluxDB 1.6 answers the estimates (`SHOW SERIES CARDINALITY`, `SHOW MEASUREMENT
//! CARDINALITY` without `FROM` or `WHERE`) from its database-wide index, and everything
//! else (the `EXACT` forms, `SHOW TAG VALUES CARDINALITY`, tag and field key
//! cardinalities, and series counts with `FROM`/`WHERE`) as SELECTs over the sources:
//! each source reads the retention policy it names, else the default one, and data in
//! other policies is not counted. The series index here is database-wide, so the series
//! it matches are kept only where those policies' tables hold rows with their tag set
//! (one `SELECT DISTINCT` of the tag columns per measurement and policy), and fields only
//! where a table has their column. A series or measurement count without a condition
//! over one policy lets the engine count the distinct tag sets instead (`uniqExact`; every
//! stored series is indexed), which at a million series is 16 times faster.

use super::super::cond::Regexes;
use super::super::{QueryService, StatementError, StmtResult};
use super::{result, series};
use crate::retention::{normalized_tags, present_tag_set_count, present_tag_sets};
use hyperbyte_domain::naming;
use hyperbyte_domain::query::Value;
use hyperbyte_ports::SeriesEntry;
use hyperbyte_timeseriesql::ast::{
    CardinalityKind, Expr, Measurement, MeasurementName, ShowCardinalityStatement, TagKeyFilter,
};
use std::collections::{BTreeMap, BTreeSet};

fn count_series(name: Option<&str>, n: usize, col: &str) -> hyperbyte_domain::query::Series {
    series(name, &[col], vec![vec![Value::Integer(n as i64)]])
}

impl QueryService {
    /// `SHOW ... CARDINALITY` of `db`.
    pub(super) async fn cardinality(&self, db: &str, c: &ShowCardinalityStatement) -> StmtResult {
        // InfluxDB names the exact form, whichever was asked for.
        let statement = match c.kind {
            CardinalityKind::Series => Some("SHOW SERIES EXACT CARDINALITY"),
            CardinalityKind::Measurement => Some("SHOW MEASUREMENT EXACT CARDINALITY"),
            CardinalityKind::TagKey => Some("SHOW TAG KEY EXACT CARDINALITY"),
            // (Named without EXACT, either way.)
            CardinalityKind::FieldKey => Some("SHOW FIELD KEY CARDINALITY"),
            _ => None,
        };
        if let Some(statement) = statement {
            super::super::cond::refuse_time(c.condition.as_ref(), statement)?;
        }
        if let Some(cond) = &c.condition {
            super::show::every_time_term(cond, self.clock.now_nanos())?;
        }
        let estimate = !c.exact && c.sources.is_empty() && c.condition.is_none();
        match &c.kind {
            CardinalityKind::Measurement if estimate => {
                let n = self.measurements_matching(db, &c.sources).len();
                return Ok(result(vec![count_series(
                    None,
                    n,
                    "cardinality estimation",
                )]));
            }
            CardinalityKind::Series if estimate => {
                let n = self.meta.series_count(db);
                return Ok(result(vec![count_series(
                    None,
                    n,
                    "cardinality estimation",
                )]));
            }
            _ => {}
        }
        let Some(database) = self.meta.database(db) else {
            return Ok(result(Vec::new()));
        };
        // InfluxDB answers these with a SELECT over the sources: each reads its own
        // retention policy, else the default one.
        for src in &c.sources {
            if let Some(rp) = src.retention_policy.as_deref().filter(|r| !r.is_empty()) {
                if database.rp(rp).is_none() {
                    return Err(StatementError::new(format!(
                        "retention policy not found: {rp}"
                    )));
                }
            }
        }
        self.flush.ensure_visible().await?;
        let mut out = Vec::new();
        let mut measurements = 0;
        let mut re = Regexes::default();
        for m in self.measurements_matching(db, &c.sources) {
            let rps = policies_reading(&c.sources, &m, database.default_rp.as_deref(), &mut re);
            let Some(n) = self.count_in_policies(db, &rps, &m, c).await? else {
                continue;
            };
            measurements += 1;
            if n > 0 && !matches!(c.kind, CardinalityKind::Measurement) {
                out.push(count_series(Some(&m), n, "count"));
            }
        }
        if matches!(c.kind, CardinalityKind::Measurement) && measurements > 0 {
            out.push(count_series(None, measurements, "count"));
        }
        Ok(result(out))
    }

    /// What statement `c` counts of measurement `m` over the tables of policies `rps`;
    /// `None` when no series of `m` matching the condition has rows there.
    async fn count_in_policies(
        &self,
        db: &str,
        rps: &BTreeSet<String>,
        m: &str,
        c: &ShowCardinalityStatement,
    ) -> Result<Option<usize>, StatementError> {
        let counted = matches!(
            c.kind,
            CardinalityKind::Series | CardinalityKind::Measurement
        );
        let lone = rps.first().filter(|_| rps.len() == 1);
        if let (Some(rp), true, None) = (lone, counted, &c.condition) {
            // Every series with rows in storage is in the index (a series is indexed
            // before its first point is acknowledged, and deletes remove rows before
            // index entries), so without a condition the count of stored tag sets is
            // the count of the index's series present there.
            let keys = self.meta.tag_keys(db, m);
            let n = present_tag_set_count(self.engine.as_ref(), (db, rp, m), &keys).await?;
            return Ok((n > 0).then(|| usize::try_from(n).unwrap_or(usize::MAX)));
        }
        // The series of every policy, each once.
        let mut found: BTreeMap<String, SeriesEntry> = BTreeMap::new();
        for rp in rps {
            for se in self
                .policy_series(db, rp, m, c.condition.as_ref(), None)
                .await?
            {
                found.entry(se.key.clone()).or_insert(se);
            }
        }
        if found.is_empty() {
            return Ok(None);
        }
        let found: Vec<&SeriesEntry> = found.values().collect();
        Ok(Some(match &c.kind {
            CardinalityKind::Measurement => 0,
            CardinalityKind::Series => found.len(),
            CardinalityKind::TagKey => found
                .iter()
                .flat_map(|se| se.tags.iter().map(|(k, _)| k))
                .collect::<BTreeSet<_>>()
                .len(),
            CardinalityKind::TagValues(key) => {
                let mut re = Regexes::default();
                let mut pairs = BTreeSet::new();
                for se in &found {
                    for (k, v) in &se.tags {
                        if key_matches(key, k, &mut re) {
                            pairs.insert((k, v));
                        }
                    }
                }
                pairs.len()
            }
            CardinalityKind::FieldKey => {
                let mut fields = BTreeSet::new();
                for rp in rps {
                    fields.extend(self.policy_fields(db, rp, m).await?);
                }
                fields.len()
            }
        }))
    }

    /// The series of `m` matching `cond` that have rows in the table of policy `rp`
    /// (rows `between` two times, inclusive, when given), in key order.
    pub(super) async fn policy_series(
        &self,
        db: &str,
        rp: &str,
        m: &str,
        cond: Option<&Expr>,
        between: Option<(i64, i64)>,
    ) -> Result<Vec<SeriesEntry>, StatementError> {
        // InfluxDB reads these with a SELECT: a tag compared with a number matches nothing.
        let cond = cond.map(super::super::cond::as_read_of_points);
        let keys = self.meta.tag_keys(db, m);
        let present = present_tag_sets(self.engine.as_ref(), (db, rp, m), &keys, between).await?;
        if present.is_empty() {
            return Ok(Vec::new());
        }
        let mut re = Regexes::default();
        let mut out = Vec::new();
        let cond = (cond.as_ref(), super::index::Reading::Tags);
        self.visit_measurement(db, m, cond, &mut re, &mut |se| {
            if present.contains(&normalized_tags(&se.tags)) {
                out.push(se.clone());
            }
            true
        });
        Ok(out)
    }

    /// Which of `m`'s fields the table of policy `rp` has a column for.
    async fn policy_fields(
        &self,
        db: &str,
        rp: &str,
        m: &str,
    ) -> Result<Vec<String>, StatementError> {
        let Some(schema) = self.meta.schema(db, m) else {
            return Ok(Vec::new());
        };
        let columns: BTreeSet<String> = match self.engine.table_columns(db, rp, m).await {
            Ok(cols) => cols.into_iter().collect(),
            Err(e) if e.is_missing_table() => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        Ok(schema
            .fields
            .keys()
            .filter(|f| columns.contains(&naming::field_column(f)))
            .cloned()
            .collect())
    }
}

/// The retention policies the sources naming measurement `m` read (each its own, else
/// `default`); without sources, `default`.
fn policies_reading(
    sources: &[Measurement],
    m: &str,
    default: Option<&str>,
    re: &mut Regexes,
) -> BTreeSet<String> {
    let mut named = |src: &Measurement| match &src.name {
        MeasurementName::Name(n) => n == m,
        MeasurementName::Regex(r) => re.get(&r.pattern).is_some_and(|x| x.is_match(m)),
    };
    let mut rps = BTreeSet::new();
    if sources.is_empty() {
        rps.extend(default.map(str::to_string));
    }
    for src in sources {
        if named(src) {
            let own = src.retention_policy.as_deref().filter(|r| !r.is_empty());
            rps.extend(own.or(default).map(str::to_string));
        }
    }
    rps
}

fn key_matches(key: &TagKeyFilter, k: &str, re: &mut Regexes) -> bool {
    match key {
        TagKeyFilter::Eq(x) => k == x,
        TagKeyFilter::NotEq(x) => k != x,
        TagKeyFilter::In(xs) => xs.iter().any(|x| x == k),
        TagKeyFilter::Regex(r) => re.get(&r.pattern).is_some_and(|x| x.is_match(k)),
        TagKeyFilter::NotRegex(r) => re.get(&r.pattern).is_some_and(|x| !x.is_match(k)),
    }
}
