//! SHOW statements answered from metadata: databases, retention policies, measurements,
//! series, tag keys and values, field keys, cardinality, continuous queries, and the
//! server-information statements whose columns InfluxDB clients expect.

use super::super::cond::Regexes;
use super::super::{QueryService, StatementError, StmtResult};
use super::index_cond::{index_condition, literal_error, IndexStatement};
use super::{page, result, s, series};
use hyperbyte_domain::query::{StatementResult, Value};
use hyperbyte_domain::time::format_duration;
use hyperbyte_timeseriesql::ast::{
    BinaryOp, Expr, Measurement, ShowFieldKeysStatement, ShowMeasurementsStatement,
    ShowSeriesStatement, ShowTagKeysStatement, ShowTagValuesStatement, TimeRange,
};

impl QueryService {
    /// `SHOW DATABASES`, in creation order; with authentication, only databases the user
    /// may read or write.
    pub(in crate::query) fn show_databases(&self, access: &crate::auth::Access) -> StmtResult {
        let values = self
            .meta
            .databases()
            .iter()
            .filter(|d| crate::auth::visible_database(access, &d.name))
            .map(|d| vec![s(&d.name)])
            .collect();
        Ok(result(vec![series(Some("databases"), &["name"], values)]))
    }

    /// `SHOW RETENTION POLICIES`.
    pub(super) fn show_retention_policies(
        &self,
        database: Option<&str>,
        db: Option<&str>,
    ) -> StmtResult {
        let name = self.require_db(database, db)?;
        let d = self
            .meta
            .database(&name)
            .ok_or_else(|| StatementError::new(format!("database not found: {name}")))?;
        let values = d
            .retention_policies
            .iter()
            .map(|rp| {
                vec![
                    s(&rp.name),
                    s(&format_duration(rp.duration)),
                    s(&format_duration(rp.shard_group_duration)),
                    Value::Integer(i64::from(rp.replication)),
                    Value::Boolean(d.default_rp.as_deref() == Some(rp.name.as_str())),
                ]
            })
            .collect();
        Ok(result(vec![series(
            None,
            &[
                "name",
                "duration",
                "shardGroupDuration",
                "replicaN",
                "default",
            ],
            values,
        )]))
    }

    /// `SHOW MEASUREMENTS`: only measurements that still have series.
    pub(super) fn show_measurements(
        &self,
        sm: &ShowMeasurementsStatement,
        db: Option<&str>,
    ) -> StmtResult {
        let name = match self.require_db(sm.database.as_deref(), db) {
            Ok(n) => n,
            // InfluxDB answers an empty result for a database that does not exist.
            Err(e) if e.0.starts_with("database not found") => {
                return Ok(StatementResult::default())
            }
            Err(e) => return Err(e),
        };
        if let Some(cond) = &sm.condition {
            super::super::cond::refuse_time(Some(cond), "SHOW MEASUREMENTS")?;
            check_tag_condition(cond)?;
        }
        let sources: Vec<Measurement> = sm.source.iter().cloned().collect();
        let mut ms = self.measurements_matching(&name, &sources);
        if let Some(cond) = &sm.condition {
            let mut re = Regexes::default();
            ms.retain(|m| self.measurement_matches(&name, m, cond, &mut re));
        }
        let ms = page(ms, sm.limit, sm.offset);
        if ms.is_empty() {
            return Ok(StatementResult::default());
        }
        let values = ms.iter().map(|m| vec![s(m)]).collect();
        Ok(result(vec![series(
            Some("measurements"),
            &["name"],
            values,
        )]))
    }

    /// `SHOW SERIES` with time in `WHERE`: as InfluxDB, the series with points in the
    /// shard groups of the policy (the `FROM`'s, else the default) that the range
    /// touches, whole groups (`time > '2000-01-01T00:00:01Z'` lists a series whose only
    /// point is at midnight that day); the range takes every time term
    /// ([`every_time_term`]), the tags what remains.
    async fn show_series_in_range(
        &self,
        db: &str,
        ss: &ShowSeriesStatement,
        cond: &Expr,
    ) -> StmtResult {
        let range = every_time_term(cond, self.clock.now_nanos())?;
        let Some(database) = self.meta.database(db) else {
            return Err(StatementError::new(format!("database not found: {db}")));
        };
        let named = ss
            .sources
            .iter()
            .find_map(|s| s.retention_policy.clone().filter(|r| !r.is_empty()));
        let Some(rp) = named
            .or(database.default_rp.clone())
            .and_then(|n| database.rp(&n).cloned())
        else {
            return Ok(StatementResult::default());
        };
        let span = rp.shard_group_span(range.min, range.max);
        let tag_cond = cond.without_time();
        self.flush.ensure_visible().await?;
        let mut keys = Vec::new();
        for m in self.measurements_matching(db, &ss.sources) {
            let found = self
                .policy_series(db, &rp.name, &m, tag_cond.as_ref(), Some(span))
                .await?;
            keys.extend(found.into_iter().map(|se| se.key));
        }
        keys.sort();
        let keys = page(keys, ss.limit, ss.offset);
        if keys.is_empty() {
            return Ok(StatementResult::default());
        }
        let values = keys.iter().map(|k| vec![s(k)]).collect();
        Ok(result(vec![series(None, &["key"], values)]))
    }

    /// Whether measurement `m` satisfies a `SHOW MEASUREMENTS` condition as InfluxDB's
    /// index decides it, by tag values rather than series: a comparison holds only for a
    /// measurement having the tag key, `=` and `=~` when one of its values matches, `!=`
    /// and `!~` when none does (so `host != 'x'` leaves out a measurement with hosts `x`
    /// and `y`, `!= ''` lists the measurements with the key and `= ''` none); `AND` and
    /// `OR` intersect and unite. (The condition was checked before.)
    fn measurement_matches(&self, db: &str, m: &str, cond: &Expr, re: &mut Regexes) -> bool {
        match cond {
            Expr::Paren(inner) => self.measurement_matches(db, m, inner, re),
            Expr::Binary {
                op: BinaryOp::And,
                lhs,
                rhs,
            } => {
                self.measurement_matches(db, m, lhs, re) && self.measurement_matches(db, m, rhs, re)
            }
            Expr::Binary {
                op: BinaryOp::Or,
                lhs,
                rhs,
            } => {
                self.measurement_matches(db, m, lhs, re) || self.measurement_matches(db, m, rhs, re)
            }
            Expr::Binary { op, lhs, rhs } => {
                let Expr::VarRef { name: key, .. } = lhs.as_ref() else {
                    return false;
                };
                if self.meta.tag_value_count(db, m, key) == 0 {
                    return false;
                }
                let matched = match rhs.as_ref() {
                    Expr::String(v) => self.meta.has_tag_value(db, m, key, v),
                    Expr::Regex(r) => re.get(&r.pattern).is_some_and(|rx| {
                        self.meta
                            .tag_values(db, m, key)
                            .iter()
                            .any(|v| rx.is_match(v))
                    }),
                    _ => return false,
                };
                matched == matches!(op, BinaryOp::Eq | BinaryOp::EqRegex)
            }
            _ => false,
        }
    }

    /// `SHOW SERIES`, visited in key order with early exit; with time in `WHERE`, see
    /// [`Self::show_series_in_range`].
    pub(super) async fn show_series(
        &self,
        ss: &ShowSeriesStatement,
        db: Option<&str>,
    ) -> StmtResult {
        let name = self.require_db(ss.database.as_deref(), db)?;
        let mut cond = None;
        if let Some(c) = &ss.condition {
            cond = index_condition(c, IndexStatement::Series)?;
            // With time InfluxDB reads points instead, where a term the index lets
            // through (`host = 5`) matches nothing.
            let folded = super::index_cond::folded(c);
            if folded.any(&mut |e| e.is_time_ref()) {
                return self.show_series_in_range(&name, ss, &folded).await;
            }
        }
        let mut skip = ss.offset.unwrap_or(0);
        let take = ss.limit.filter(|l| *l > 0).unwrap_or(u64::MAX);
        let mut values: Vec<Vec<Value>> = Vec::new();
        let cond = (cond.as_ref(), super::index::Reading::Index);
        self.visit_matching(&name, &ss.sources, cond, &mut |se| {
            if skip > 0 {
                skip -= 1;
                return true;
            }
            values.push(vec![s(&se.key)]);
            (values.len() as u64) < take
        });
        if values.is_empty() {
            return Ok(StatementResult::default());
        }
        Ok(result(vec![series(None, &["key"], values)]))
    }

    /// `SHOW TAG KEYS`.
    pub(super) fn show_tag_keys(&self, st: &ShowTagKeysStatement, db: Option<&str>) -> StmtResult {
        let name = self.require_db(st.database.as_deref(), db)?;
        let mut cond = None;
        if let Some(c) = &st.condition {
            cond = index_condition(c, IndexStatement::TagKeys)?;
            every_time_term(c, self.clock.now_nanos())?;
        }
        // Time terms are dropped (under `OR` too), as InfluxDB ignores them here once
        // they are valid.
        let cond = cond.as_ref().and_then(Expr::without_time);
        let mut out = Vec::new();
        let mut re = Regexes::default();
        for m in self.measurements_matching(&name, &st.sources) {
            let keys = self.tag_keys_matching(&name, &m, cond.as_ref(), &mut re);
            let keys = page(keys, st.limit, st.offset);
            if !keys.is_empty() {
                let values = keys.iter().map(|k| vec![s(k)]).collect();
                out.push(series(Some(&m), &["tagKey"], values));
            }
        }
        // InfluxDB 1.6 ignores SLIMIT and SOFFSET here (it applies them to TAG VALUES and
        // FIELD KEYS).
        Ok(result(out))
    }

    /// `SHOW TAG VALUES`.
    pub(super) fn show_tag_values(
        &self,
        tv: &ShowTagValuesStatement,
        db: Option<&str>,
    ) -> StmtResult {
        let name = self.require_db(tv.database.as_deref(), db)?;
        let mut cond = None;
        if let Some(c) = &tv.condition {
            cond = index_condition(c, IndexStatement::TagValues)?;
            every_time_term(c, self.clock.now_nanos())?;
        }
        // Time terms are dropped (under `OR` too), as InfluxDB ignores them here once
        // they are valid.
        let cond = cond.as_ref().and_then(Expr::without_time);
        let mut out = Vec::new();
        for (m, pairs) in self.tag_values(&name, &tv.sources, &tv.key, cond.as_ref()) {
            let pairs = page(pairs, tv.limit, tv.offset);
            if pairs.is_empty() {
                continue;
            }
            let values = pairs.iter().map(|(k, v)| vec![s(k), s(v)]).collect();
            out.push(series(Some(&m), &["key", "value"], values));
        }
        Ok(result(out))
    }

    /// `SHOW FIELD KEYS`.
    pub(super) fn show_field_keys(
        &self,
        sf: &ShowFieldKeysStatement,
        db: Option<&str>,
    ) -> StmtResult {
        let name = self.require_db(sf.database.as_deref(), db)?;
        let mut out = Vec::new();
        for m in self.measurements_matching(&name, &sf.sources) {
            let Some(schema) = self.meta.schema(&name, &m) else {
                continue;
            };
            // A field written with other types into other shard groups is listed
            // once per type, by type name, as InfluxDB does.
            let fields: Vec<_> = schema
                .fields
                .keys()
                .flat_map(|f| {
                    let mut types = schema.field_types(f);
                    types.sort_by_key(|t| t.influx_name());
                    types.into_iter().map(move |t| (f, t))
                })
                .collect();
            let fields = page(fields, sf.limit, sf.offset);
            if fields.is_empty() {
                continue;
            }
            let values = fields
                .iter()
                .map(|(f, t)| vec![s(f), s(t.influx_name())])
                .collect();
            out.push(series(Some(&m), &["fieldKey", "fieldType"], values));
        }
        Ok(result(out))
    }

    /// `SHOW CONTINUOUS QUERIES`, one series per database.
    pub(super) fn show_continuous_queries(&self) -> StmtResult {
        let cqs = self.meta.continuous_queries();
        let mut out = Vec::new();
        for d in self.meta.databases() {
            let values: Vec<Vec<Value>> = cqs
                .iter()
                .filter(|cq| cq.database == d.name)
                .map(|cq| vec![s(&cq.name), s(&cq.query)])
                .collect();
            out.push(series(Some(&d.name), &["name", "query"], values));
        }
        Ok(result(out))
    }

    /// `SHOW SHARDS`: a series per database (in creation order, also without shards),
    /// each policy's live groups in policy order and by end time, one shard per group.
    pub(super) fn show_shards(&self) -> StmtResult {
        let groups = self.meta.shard_groups();
        let out = self
            .meta
            .databases()
            .iter()
            .map(|d| {
                let rows = shard_group_rows(d, &groups)
                    .map(|(g, expiry)| group_row(g, expiry, true))
                    .collect();
                series(
                    Some(&d.name),
                    &[
                        "id",
                        "database",
                        "retention_policy",
                        "shard_group",
                        "start_time",
                        "end_time",
                        "expiry_time",
                        "owners",
                    ],
                    rows,
                )
            })
            .collect();
        Ok(result(out))
    }

    /// `SHOW SHARD GROUPS`: one series of every live group, ordered as `SHOW SHARDS`.
    pub(super) fn show_shard_groups(&self) -> StmtResult {
        let groups = self.meta.shard_groups();
        let rows = self
            .meta
            .databases()
            .iter()
            .flat_map(|d| {
                shard_group_rows(d, &groups)
                    .map(|(g, expiry)| group_row(g, expiry, false))
                    .collect::<Vec<_>>()
            })
            .collect();
        Ok(result(vec![series(
            Some("shard groups"),
            &[
                "id",
                "database",
                "retention_policy",
                "start_time",
                "end_time",
                "expiry_time",
            ],
            rows,
        )]))
    }
}

/// A database's live groups with their expiry (end plus the policy's duration), policy
/// by policy in creation order, each policy's groups by end time, as
/// InfluxDB keeps them sorted (ties by id).
fn shard_group_rows<'a>(
    d: &'a hyperbyte_domain::Database,
    groups: &'a [hyperbyte_domain::ShardGroup],
) -> impl Iterator<Item = (&'a hyperbyte_domain::ShardGroup, i64)> + 'a {
    d.retention_policies.iter().flat_map(move |rp| {
        let mut of_rp: Vec<&hyperbyte_domain::ShardGroup> = groups
            .iter()
            .filter(|g| g.database == d.name && g.retention_policy == rp.name)
            .collect();
        of_rp.sort_by_key(|g| (g.end, g.id));
        of_rp
            .into_iter()
            .map(move |g| (g, g.end.saturating_add(rp.duration)))
    })
}

/// A group's row: `SHOW SHARDS` adds its shard's columns (the shard's id, which is the
/// group's, and its owners, none on a single node) to `SHOW SHARD GROUPS`' columns.
fn group_row(g: &hyperbyte_domain::ShardGroup, expiry: i64, shard: bool) -> Vec<Value> {
    let mut row = vec![shard_id(g.id), s(&g.database), s(&g.retention_policy)];
    if shard {
        row.push(shard_id(g.id));
    }
    row.extend([shard_time(g.start), shard_time(g.end), shard_time(expiry)]);
    if shard {
        row.push(s(""));
    }
    row
}

fn shard_id(id: u64) -> Value {
    Value::Integer(i64::try_from(id).unwrap_or(i64::MAX))
}

/// Go's `time.RFC3339`: whole seconds, the fraction cut off.
fn shard_time(nanos: i64) -> Value {
    const SECOND: i64 = 1_000_000_000;
    let whole = nanos.saturating_sub(nanos.rem_euclid(SECOND));
    Value::String(hyperbyte_domain::time::format_rfc3339(whole))
}

/// InfluxDB's checks of a `SHOW MEASUREMENTS` condition (its time terms aside), which it
/// takes as written, constants unfolded: `AND` and `OR` of `tag = 'value'`, `!=`, `=~
/// /re/` and `!~`. (`SHOW SERIES`, `TAG KEYS` and `TAG VALUES` read theirs as
/// [`index_condition`] says.)
pub(super) fn check_tag_condition(
    cond: &hyperbyte_timeseriesql::ast::Expr,
) -> Result<(), StatementError> {
    use hyperbyte_timeseriesql::ast::{BinaryOp, Expr};
    match cond {
        Expr::Paren(inner) => check_tag_condition(inner),
        Expr::Binary { op, lhs, rhs } => {
            if matches!(op, BinaryOp::And | BinaryOp::Or) {
                check_tag_condition(lhs)?;
                return check_tag_condition(rhs);
            }
            if lhs.is_time_ref() || rhs.is_time_ref() {
                return Ok(());
            }
            let regex = matches!(op, BinaryOp::EqRegex | BinaryOp::NotEqRegex);
            if !regex && !matches!(op, BinaryOp::Eq | BinaryOp::NotEq) {
                return Err(StatementError::new("invalid tag comparison operator"));
            }
            let op = op.as_str();
            if !matches!(lhs.as_ref(), Expr::VarRef { .. }) {
                return Err(StatementError::new(format!(
                    "left side of '{op}' must be a tag key"
                )));
            }
            match (rhs.as_ref(), regex) {
                (Expr::Regex(_), true) | (Expr::String(_), false) => Ok(()),
                (_, true) => Err(StatementError::new(format!(
                    "right side of '{op}' must be a regular expression"
                ))),
                (_, false) => Err(StatementError::new(format!(
                    "right side of '{op}' must be a tag value string"
                ))),
            }
        }
        other => Err(literal_error(other)),
    }
}

/// The range of a metadata statement's time terms, as InfluxDB takes it there: every
/// time comparison counts, under `OR` too (`time > X OR host = 'a'` lists the series
/// with host `a` among those of the shard groups after X).
/// An invalid term (`time != x`, a malformed time string, a value that is no time) fails
/// the statement with InfluxDB's text, also where the range is not used.
pub(super) fn every_time_term(cond: &Expr, now: i64) -> Result<TimeRange, StatementError> {
    match cond
        .time_comparisons()
        .into_iter()
        .cloned()
        .reduce(|a, b| Expr::binary(BinaryOp::And, a, b))
    {
        Some(all) => all
            .time_range(now)
            .map_err(|e| StatementError::new(e.to_string())),
        None => Ok(TimeRange::default()),
    }
}
