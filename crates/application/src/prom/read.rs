//! Remote read: label matchers and a time range → InfluxQL SELECTs → Prometheus series.
//!
//! The `__name__` matchers choose measurements from the metadata (InfluxDB 1.8 maps
//! `__name__` to the measurement); a measurement that lacks a tag key some matcher
//! requires to be non-empty is skipped without reading it. Each remaining measurement is
//! read with one `SELECT "value" ... GROUP BY *` over the time range (milliseconds,
//! inclusive at both ends), with the equality matchers pushed down as tag conditions.
//! Every matcher is then checked on each series' labels with Prometheus' semantics: a
//! missing label is the empty string, and a regular expression must match the whole value
//! (`^(?:re)$`, as Prometheus and InfluxDB 1.8 anchor it).

use super::{PromError, PromSample, PromSeries, PromService, NAME_LABEL, VALUE_FIELD};
use crate::auth::{Access, AuthError};
use crate::query::{QueryRequest, QueryRequestError};
use hyperbyte_domain::query::{StatementResult, Value};
use hyperbyte_domain::time::{MAX_NANOS, MIN_NANOS};
use hyperbyte_domain::Privilege;
use hyperbyte_timeseriesql::ast::{quote_ident, quote_string};
use std::collections::BTreeMap;

/// How a matcher compares a label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~` (whole value)
    Regex,
    /// `!~` (whole value)
    NotRegex,
}

/// One label matcher of a remote read query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMatcher {
    /// The comparison.
    pub kind: MatchKind,
    /// Label name (`__name__` for the metric name).
    pub name: String,
    /// Value or regular expression.
    pub value: String,
}

/// One query of a remote read request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromQuery {
    /// Start, milliseconds (inclusive).
    pub start_ms: i64,
    /// End, milliseconds (inclusive).
    pub end_ms: i64,
    /// Every matcher must match.
    pub matchers: Vec<LabelMatcher>,
}

/// A matcher ready to test values.
#[derive(Debug)]
pub(crate) struct Matcher<'a> {
    m: &'a LabelMatcher,
    re: Option<regex::Regex>,
}

impl Matcher<'_> {
    /// Whether a label value (the empty string for a missing label) matches.
    pub(crate) fn matches(&self, value: &str) -> bool {
        match (self.m.kind, &self.re) {
            (MatchKind::Equal, _) => value == self.m.value,
            (MatchKind::NotEqual, _) => value != self.m.value,
            (MatchKind::Regex, Some(re)) => re.is_match(value),
            (MatchKind::NotRegex, Some(re)) => !re.is_match(value),
            (_, None) => false,
        }
    }

    fn is_name(&self) -> bool {
        self.m.name == NAME_LABEL
    }
}

/// Compiles the matchers of one query (400 on a bad regular expression).
pub(crate) fn compile(matchers: &[LabelMatcher]) -> Result<Vec<Matcher<'_>>, PromError> {
    if matchers.is_empty() {
        return Err(PromError::BadRequest("expected matcher".to_string()));
    }
    matchers
        .iter()
        .map(|m| {
            let re = match m.kind {
                MatchKind::Regex | MatchKind::NotRegex => {
                    let anchored = format!("^(?:{})$", m.value);
                    Some(regex::Regex::new(&anchored).map_err(|e| {
                        PromError::BadRequest(format!(
                            "invalid regular expression {:?} for label {:?}: {e}",
                            m.value, m.name
                        ))
                    })?)
                }
                MatchKind::Equal | MatchKind::NotEqual => None,
            };
            Ok(Matcher { m, re })
        })
        .collect()
}

/// The read check: InfluxDB's `READ` privilege on the database.
pub(crate) fn authorize(access: &Access, database: &str) -> Result<(), AuthError> {
    match access {
        Access::Open => Ok(()),
        Access::User(None) => Err(AuthError::Forbidden(format!(
            "user is required to read from database {database:?}"
        ))),
        Access::User(Some(p)) if p.can(Privilege::Read, database) => Ok(()),
        Access::User(Some(p)) => Err(AuthError::Forbidden(format!(
            "{:?} user is not authorized to read from database {database:?}",
            p.name
        ))),
    }
}

/// Milliseconds → nanoseconds, clamped to InfluxDB's time range (Prometheus asks for
/// "all time" with the extremes of int64).
fn ms_to_ns(ms: i64) -> i64 {
    ms.saturating_mul(1_000_000).clamp(MIN_NANOS, MAX_NANOS)
}

/// The SELECT reading one measurement (`None`: no series of it can match).
pub(crate) fn statement(
    measurement: &str,
    tag_keys: &[String],
    matchers: &[Matcher<'_>],
    start_ms: i64,
    end_ms: i64,
) -> Option<String> {
    let mut conds = vec![
        format!("time >= {}", ms_to_ns(start_ms)),
        format!("time <= {}", ms_to_ns(end_ms)),
    ];
    for m in matchers.iter().filter(|m| !m.is_name()) {
        let has_key = tag_keys.contains(&m.m.name);
        if !has_key && !m.matches("") {
            // Every series of the measurement lacks the label, which must not be empty.
            return None;
        }
        if has_key && m.m.kind == MatchKind::Equal && !m.m.value.is_empty() {
            conds.push(format!(
                "{}::tag = {}",
                quote_ident(&m.m.name),
                quote_string(&m.m.value)
            ));
        }
    }
    Some(format!(
        "SELECT {} FROM {} WHERE {} GROUP BY *",
        quote_ident(VALUE_FIELD),
        quote_ident(measurement),
        conds.join(" AND ")
    ))
}

/// The series of one statement's result that every matcher selects.
pub(crate) fn series_of(
    measurement: &str,
    result: StatementResult,
    matchers: &[Matcher<'_>],
) -> Result<Vec<PromSeries>, PromError> {
    if let Some(e) = result.error {
        return Err(PromError::Internal(e));
    }
    let mut out = Vec::with_capacity(result.series.len());
    for s in result.series {
        let mut labels: BTreeMap<String, String> =
            s.tags.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        labels.insert(NAME_LABEL.to_string(), measurement.to_string());
        let selected = matchers.iter().all(|m| {
            let value = labels.get(&m.m.name).map_or("", String::as_str);
            m.matches(value)
        });
        if !selected {
            continue;
        }
        let samples: Vec<PromSample> = s
            .values
            .iter()
            .filter_map(
                |row| match (row.first(), row.get(1).and_then(Value::as_f64)) {
                    (Some(Value::Time(ns)), Some(value)) => Some(PromSample {
                        timestamp_ms: ns.div_euclid(1_000_000),
                        value,
                    }),
                    _ => None,
                },
            )
            .collect();
        if samples.is_empty() {
            continue;
        }
        out.push(PromSeries {
            labels: labels.into_iter().collect(),
            samples,
        });
    }
    Ok(out)
}

impl PromService {
    /// One query of a remote read request.
    pub(super) async fn read_query(
        &self,
        database: &str,
        retention_policy: Option<&str>,
        access: &Access,
        q: &PromQuery,
    ) -> Result<Vec<PromSeries>, PromError> {
        let matchers = compile(&q.matchers)?;
        if q.end_ms < q.start_ms {
            return Ok(Vec::new());
        }
        let mut measurements = Vec::new();
        let mut statements = Vec::new();
        for m in self.meta.measurements(database) {
            if !matchers
                .iter()
                .filter(|c| c.is_name())
                .all(|c| c.matches(&m))
            {
                continue;
            }
            let keys = self.meta.tag_keys(database, &m);
            if let Some(stmt) = statement(&m, &keys, &matchers, q.start_ms, q.end_ms) {
                statements.push(stmt);
                measurements.push(m);
            }
        }
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        tracing::debug!(
            measurements = measurements.len(),
            "remote read: reading measurements"
        );
        let req = QueryRequest {
            query: statements.join(";\n"),
            database: Some(database.to_string()),
            retention_policy: retention_policy.map(str::to_string),
            read_only: true,
            access: access.clone(),
            ..QueryRequest::default()
        };
        let results = self.query.execute(req).await.map_err(|e| match e {
            QueryRequestError::Unauthorized(m) => PromError::Auth(AuthError::Forbidden(m)),
            QueryRequestError::Parse(m) => PromError::Internal(format!(
                "remote read built a statement that does not parse: {m}"
            )),
        })?;
        let mut out = Vec::new();
        for r in results {
            let Some(m) = measurements.get(r.statement_id) else {
                continue;
            };
            out.extend(series_of(m, r, &matchers)?);
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }
}
