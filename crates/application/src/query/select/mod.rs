//! SELECT execution.
//!
//! 1. Plan ([`plan`]): check the statement, resolve sources (databases, retention
//!    policies, measurement regexes, subqueries), expand wildcards and regex field lists
//!    against the measurement schemas, and choose per source how it is read.
//! 2. Read ([`read`], [`pushdown`]): say what storage should return as a
//!    `timeseriesql::sql` plan (rendered to ClickHouse SQL there, never here): the time
//!    range, the `WHERE` condition, the columns needed, and `FINAL` (overwritten points
//!    merge field by field) only where storage says a point may have been written twice
//!    (`QueryPort::must_merge`). Aggregates ClickHouse computes exactly as InfluxDB does
//!    run there ([`pushdown`]); recent data may come from the in-memory tier instead.
//! 3. Evaluate in Rust: group the rows into series (one per measurement and `GROUP BY`
//!    tag set) and compute every output column as a timeline: raw values ([`eval`]),
//!    per-window aggregates and selectors ([`aggregates`]), fill, then math and
//!    transformations ([`transforms`]).
//! 4. Shape ([`shape`]): join the columns by time into rows, apply
//!    ORDER/LIMIT/OFFSET/SLIMIT/SOFFSET.
//!
//! [`checks`] holds the errors InfluxDB reports before reading anything, [`columns`]
//! the naming and analysis of output columns.

mod aggregates;
mod checks;
mod columns;
mod eval;
mod mixed;
mod percentile_end;
mod plan;
mod pushdown;
mod read;
mod run;
mod shape;
mod source_cond;
mod subquery;
#[cfg(test)]
mod tests;
mod time_fields;
mod transforms;

use aggregates::*;
use checks::*;
use columns::*;
pub(crate) use eval::constant_comparison;
use eval::*;
use percentile_end::*;
use pushdown::*;
use read::*;
use shape::*;
use subquery::*;
use time_fields::TimeFields;
use transforms::*;

use crate::functions::{self, aggregate, math, transform, Fill as FnFill, Row};
use crate::query::limits::Budget;
use crate::query::{QueryRequest, QueryService, StatementError, StmtResult};
use hyperbyte_domain::naming;
use hyperbyte_domain::query::{Series, StatementResult, Value};
use hyperbyte_domain::window::Window;
use hyperbyte_domain::{FieldType, MeasurementSchema};
use hyperbyte_ports::RowSet;
use hyperbyte_timeseriesql::ast::{
    BinaryOp, Expr, Fill, MeasurementName, SelectStatement, Source, VarType, WildcardType,
};
use hyperbyte_timeseriesql::sql::{
    AggregateRead, BestRows, Condition, Pushdown, RawRead, RowFilter, RowKey, TableRef, TopRows,
};
use hyperbyte_timeseriesql::translate::ColumnRef;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const AGGREGATES: &[&str] = &[
    "count", "sum", "mean", "median", "mode", "spread", "stddev", "integral", "distinct",
];

const SELECTORS: &[&str] = &[
    "first",
    "last",
    "min",
    "max",
    "percentile",
    "sample",
    "top",
    "bottom",
];

const TRANSFORMS: &[&str] = &[
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "moving_average",
    "cumulative_sum",
    "elapsed",
    "holt_winters",
    "holt_winters_with_fit",
    "exponential_moving_average",
    "double_exponential_moving_average",
    "triple_exponential_moving_average",
    "relative_strength_index",
    "triple_exponential_derivative",
    "chande_momentum_oscillator",
    "kaufmans_efficiency_ratio",
    "kaufmans_adaptive_moving_average",
];

/// The SELECT statement `q` (tests).
#[cfg(test)]
fn parse_select(q: &str) -> SelectStatement {
    match hyperbyte_timeseriesql::parse(q).map(|q| q.statements.into_iter().next()) {
        Ok(Some(hyperbyte_timeseriesql::ast::Statement::Select(s))) => *s,
        other => panic!("{q}: {other:?}"),
    }
}

fn is_agg_name(n: &str) -> bool {
    AGGREGATES.contains(&n) || SELECTORS.contains(&n)
}

fn err(msg: impl Into<String>) -> StatementError {
    StatementError::new(msg)
}

/// One resolved source table.
#[derive(Debug, Clone)]
struct Src {
    db: String,
    rp: String,
    measurement: String,
    schema: MeasurementSchema,
    /// Points of a subquery result standing in for a table.
    rows: Option<std::sync::Arc<Vec<Point>>>,
    /// Of a subquery's fields, the tags it selected (`SELECT v, host`): InfluxDB lists
    /// them for `*` but leaves them out of `count(*)` (a tag-typed field).
    tag_fields: BTreeSet<String>,
    /// Of a subquery's tags, those only the outer `GROUP BY` gave it: they group its rows,
    /// but a column naming one prints nothing, as in InfluxDB.
    pushed_tags: BTreeSet<String>,
}

impl Src {
    /// Whether the source is a subquery's rows (not a stored measurement, also not one
    /// read ahead because its field types differ).
    fn is_subquery(&self) -> bool {
        self.rows.is_some() && self.db.is_empty()
    }
}

/// One point read from storage.
#[derive(Debug, Clone)]
struct Point {
    time: i64,
    /// Canonical series key (orders series as InfluxDB's index does).
    key: Arc<str>,
    /// Shared by every point of a series.
    tags: Arc<BTreeMap<String, String>>,
    fields: crate::hot::FieldMap,
}

/// An output column.
#[derive(Debug, Clone)]
struct OutCol {
    name: String,
    expr: Expr,
    /// The name was given (`AS`, or the `<alias or function>_<field>` of an expanded
    /// `agg(*)`): InfluxDB keeps it even when another column has it too.
    aliased: bool,
}

/// The fields of a point whose names repeat, each name once with its last value, in the
/// order of first appearance.
fn last_of_each_name<V>(fields: Vec<(String, V)>) -> Vec<(String, V)> {
    let mut out: Vec<(String, V)> = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => out.push((name, value)),
        }
    }
    out
}

/// The value of one computed column for the rows of a series: a timeline.
type Timeline = Vec<Row>;

impl QueryService {
    pub(crate) async fn select(&self, stmt: &SelectStatement, req: &QueryRequest) -> StmtResult {
        let budget = Budget::new(self.limits).with_interrupt(req.interrupt.clone());
        if stmt.target.is_some() {
            return self.select_into(stmt, req, &budget).await;
        }
        let mut series = self.select_series(stmt, req, &budget).await?;
        if let Some(alias) = TimeFields::of(&stmt.fields).alias() {
            for s in &mut series {
                if let Some(first) = s.columns.first_mut() {
                    alias.clone_into(first);
                }
            }
        }
        Ok(StatementResult {
            series,
            time_zone: stmt.timezone.clone().filter(|z| !z.is_empty()),
            ..Default::default()
        })
    }

    async fn select_into(
        &self,
        stmt: &SelectStatement,
        req: &QueryRequest,
        budget: &Budget,
    ) -> StmtResult {
        let Some(target) = stmt.target.clone() else {
            return Err(err("SELECT INTO without a target"));
        };
        let Some(writer) = self.writer.clone() else {
            return Err(err("SELECT INTO is not available"));
        };
        let db = target
            .database
            .clone()
            .or_else(|| req.database.clone())
            .ok_or_else(|| err("database name required"))?;
        if self.meta.database(&db).is_none() {
            return Err(err(format!("database not found: {db}")));
        }
        let mut inner = stmt.clone();
        inner.target = None;
        // InfluxDB writes no row for an empty window unless the fill is asked for: a
        // `count()` writes no 0 under the default `fill(null)` (and no grid is built for
        // a range without an upper bound). Raw points have no windows to fill (and
        // `fill(none)` there is an error).
        let fills = inner
            .fields
            .iter()
            .any(|f| columns::contains_agg(&f.expr) || columns::contains_transform(&f.expr));
        if inner.fill == Fill::Null && fills {
            inner.fill = Fill::None;
        }
        let series = self.select_series(&inner, req, budget).await?;
        let tag_columns = selector_tag_arguments(stmt);
        let mut points = Vec::new();
        for s in series {
            let measurement = target
                .measurement
                .clone()
                .or_else(|| s.name.clone())
                .unwrap_or_default();
            // A series of a measurement lacking one of the grouped tag keys carries it
            // empty: InfluxDB writes no empty tag (`c4,host=a`, not `c4,dc=,host=a`).
            let tags: Vec<(String, String)> = s
                .tags
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            // Columns sharing a name (`max(v) AS m, min(v) AS m`) write one field, the
            // last one's value, as InfluxDB's point does.
            let mut names = BTreeSet::new();
            let shared_names = !s.columns.iter().all(|c| names.insert(c.as_str()));
            for row in s.values {
                let mut time = 0;
                let mut fields = Vec::new();
                let mut row_tags = tags.clone();
                for (c, v) in s.columns.iter().zip(row) {
                    if c == "time" {
                        if let Value::Time(t) = v {
                            time = t;
                        }
                        continue;
                    }
                    if tag_columns.contains(c) {
                        if let Value::String(tv) = &v {
                            if !tv.is_empty() && !row_tags.iter().any(|(k, _)| k == c) {
                                row_tags.push((c.clone(), tv.clone()));
                            }
                            continue;
                        }
                    }
                    let fv = match v {
                        Value::Float(f) => hyperbyte_domain::FieldValue::Float(f),
                        Value::Integer(i) => hyperbyte_domain::FieldValue::Integer(i),
                        Value::Unsigned(u) => hyperbyte_domain::FieldValue::Unsigned(u),
                        Value::Boolean(b) => hyperbyte_domain::FieldValue::Boolean(b),
                        Value::String(s) => hyperbyte_domain::FieldValue::String(s),
                        Value::Time(t) => hyperbyte_domain::FieldValue::Integer(t),
                        Value::Null => continue,
                    };
                    fields.push((c.clone(), fv));
                }
                if fields.is_empty() {
                    continue;
                }
                if shared_names {
                    fields = last_of_each_name(fields);
                }
                row_tags.sort();
                points.push(hyperbyte_domain::Point {
                    measurement: measurement.clone(),
                    tags: row_tags,
                    fields,
                    timestamp: time,
                });
            }
        }
        let n = points.len();
        if n > 0 {
            writer
                .write_points(&db, target.retention_policy.as_deref(), points, Vec::new())
                .await
                .map_err(|e| err(e.to_string()))?;
        }
        Ok(StatementResult {
            series: vec![Series {
                name: Some("result".into()),
                columns: vec!["time".into(), "written".into()],
                values: vec![vec![Value::Time(0), Value::Integer(n as i64)]],
                ..Default::default()
            }],
            ..Default::default()
        })
    }
}

/// The columns of `top()`/`bottom()`'s tag arguments (`top(v, host, 2)` prints a `host`
/// column): `SELECT … INTO` writes them as tags, as InfluxDB's selector gives its points
/// those tags; a tag selected as a plain column stays a field.
fn selector_tag_arguments(stmt: &SelectStatement) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in &stmt.fields {
        if let Expr::Call { name, args } = f.expr.unparen() {
            if matches!(name.as_str(), "top" | "bottom") && args.len() > 2 {
                for a in &args[1..args.len() - 1] {
                    if let Expr::VarRef { name, .. } = a {
                        out.insert(name.clone());
                    }
                }
            }
        }
    }
    out
}
