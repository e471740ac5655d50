//! Data-definition statements: databases, retention policies, continuous queries, and
//! the statements that remove data (DROP MEASUREMENT, DROP SERIES, DELETE). Removal drops
//! metadata first, then discards queued points and stored data, so a dropped name never
//! comes back from a later flush.

use super::super::{QueryService, StatementError, StmtResult};
use hyperbyte_domain::database::is_valid_name;
use hyperbyte_domain::query::StatementResult;
use hyperbyte_domain::{ContinuousQuery, MetaCommand, RetentionPolicy};
use hyperbyte_ports::{DeleteRows, SeriesEntry};
use hyperbyte_timeseriesql::ast::{
    AlterRetentionPolicyStatement, CreateContinuousQueryStatement, CreateDatabaseStatement,
    CreateRetentionPolicyStatement, DeleteStatement, Source, Statement,
};
use std::collections::BTreeMap;

const HOUR: i64 = 3_600_000_000_000;

impl QueryService {
    /// `CREATE DATABASE`, with its optional default retention policy.
    pub(super) async fn create_database(&self, c: &CreateDatabaseStatement) -> StmtResult {
        if !std::iter::once(&c.name)
            .chain(&c.rp_name)
            .all(|n| is_valid_name(n))
        {
            return Err(StatementError::new("invalid name"));
        }
        let rp = if c.retention_policy_create {
            let duration = c.duration.unwrap_or(0);
            check_rp_duration(duration)?;
            let sgd = match c.shard_duration {
                Some(d) if d > 0 => d,
                _ => RetentionPolicy::default_shard_duration(duration),
            };
            Some(RetentionPolicy {
                name: c.rp_name.clone().unwrap_or_else(|| "autogen".into()),
                duration,
                shard_group_duration: normalise_shard_duration(sgd, duration),
                replication: c.replication.unwrap_or(1),
            })
        } else {
            None
        };
        self.meta
            .apply(MetaCommand::CreateDatabase {
                name: c.name.clone(),
                default_rp: rp,
            })
            .await?;
        Ok(StatementResult::default())
    }

    /// `DROP DATABASE`: metadata first, then queued and stored points.
    pub(super) async fn drop_database(&self, name: &str) -> StmtResult {
        if self.meta.database(name).is_some() {
            self.flush.ensure_visible().await?;
            self.meta
                .apply(MetaCommand::DropDatabase {
                    name: name.to_string(),
                })
                .await?;
            self.flush.discard_dropped(name, None, None).await?;
            self.admin.drop_database(name).await?;
        }
        Ok(StatementResult::default())
    }

    /// `CREATE RETENTION POLICY`.
    pub(super) async fn create_retention_policy(
        &self,
        c: &CreateRetentionPolicyStatement,
    ) -> StmtResult {
        if !is_valid_name(&c.name) {
            return Err(StatementError::new("invalid name"));
        }
        if self.meta.database(&c.database).is_none() {
            return Err(StatementError::new(format!(
                "database not found: {}",
                c.database
            )));
        }
        check_rp_duration(c.duration)?;
        let sgd = match c.shard_duration {
            Some(d) if d > 0 => d,
            _ => RetentionPolicy::default_shard_duration(c.duration),
        };
        self.meta
            .apply(MetaCommand::CreateRetentionPolicy {
                database: c.database.clone(),
                rp: RetentionPolicy {
                    name: c.name.clone(),
                    duration: c.duration,
                    shard_group_duration: normalise_shard_duration(sgd, c.duration),
                    replication: c.replication,
                },
                make_default: c.default,
            })
            .await?;
        Ok(StatementResult::default())
    }

    /// `ALTER RETENTION POLICY`.
    pub(super) async fn alter_retention_policy(
        &self,
        a: &AlterRetentionPolicyStatement,
    ) -> StmtResult {
        let Some(database) = self.meta.database(&a.database) else {
            return Err(StatementError::new(format!(
                "database not found: {}",
                a.database
            )));
        };
        let Some(rp) = database.rp(&a.name) else {
            return Err(StatementError::new(format!(
                "retention policy not found: {}",
                a.name
            )));
        };
        if let Some(d) = a.duration {
            check_rp_duration(d)?;
        }
        // `SHARD DURATION 0s` asks for the default of the (new) duration, as in InfluxDB.
        let shard_group_duration = match a.shard_duration {
            Some(0) => Some(RetentionPolicy::default_shard_duration(
                a.duration.unwrap_or(rp.duration),
            )),
            other => other.filter(|d| *d > 0),
        };
        self.meta
            .apply(MetaCommand::AlterRetentionPolicy {
                database: a.database.clone(),
                name: a.name.clone(),
                duration: a.duration,
                shard_group_duration,
                replication: a.replication,
                make_default: a.default,
            })
            .await?;
        Ok(StatementResult::default())
    }

    /// `DROP RETENTION POLICY`: metadata first, then queued and stored points.
    pub(super) async fn drop_retention_policy(&self, name: &str, database: &str) -> StmtResult {
        // InfluxDB answers a drop in a missing database as done.
        let Some(d) = self.meta.database(database) else {
            return Ok(StatementResult::default());
        };
        if d.rp(name).is_some() {
            self.flush.ensure_visible().await?;
            self.meta
                .apply(MetaCommand::DropRetentionPolicy {
                    database: database.to_string(),
                    name: name.to_string(),
                })
                .await?;
            self.flush
                .discard_dropped(database, Some(name), None)
                .await?;
            self.admin.drop_retention_policy(database, name).await?;
        }
        Ok(StatementResult::default())
    }

    /// `CREATE CONTINUOUS QUERY`, stored in its canonical text.
    ///
    /// As InfluxDB, the statement's sources and target are qualified with the request's
    /// database when it names one (else the `ON` database), and a target in a database
    /// that does not exist is refused.
    pub(super) async fn create_continuous_query(
        &self,
        cq: &CreateContinuousQueryStatement,
        request_db: Option<&str>,
    ) -> StmtResult {
        if self.meta.database(&cq.database).is_none() {
            return Err(StatementError::new(format!(
                "database not found: {}",
                cq.database
            )));
        }
        let qualify_with = request_db.filter(|d| !d.is_empty()).unwrap_or(&cq.database);
        self.check_cq_policies(&self.qualified_select(&cq.source, qualify_with))?;
        let text = self.canonical_cq(cq, qualify_with);
        self.meta
            .apply(MetaCommand::CreateContinuousQuery(ContinuousQuery {
                database: cq.database.clone(),
                name: cq.name.clone(),
                query: text,
            }))
            .await?;
        Ok(StatementResult::default())
    }

    /// Every database and retention policy a continuous query names once qualified must
    /// exist, its target's first, then its sources', as InfluxDB 1.6 checks them:
    /// "database not found: db", "retention policy not found: db.rp" (a default policy
    /// that was dropped is named too).
    fn check_cq_policies(
        &self,
        sel: &hyperbyte_timeseriesql::ast::SelectStatement,
    ) -> Result<(), StatementError> {
        let target = sel
            .target
            .as_ref()
            .map(|t| (t.database.as_deref(), t.retention_policy.as_deref()));
        let sources = sel.sources.iter().filter_map(|s| match s {
            Source::Measurement(m) => Some((m.database.as_deref(), m.retention_policy.as_deref())),
            Source::Subquery(_) => None,
        });
        for (db, rp) in target.into_iter().chain(sources) {
            let (Some(db), Some(rp)) = (db, rp) else {
                continue;
            };
            let Some(info) = self.meta.database(db) else {
                return Err(StatementError::new(format!("database not found: {db}")));
            };
            if !info.retention_policies.iter().any(|p| p.name == rp) {
                return Err(StatementError::new(format!(
                    "retention policy not found: {db}.{rp}"
                )));
            }
        }
        Ok(())
    }

    /// `DROP CONTINUOUS QUERY` (no error when absent, as InfluxDB).
    pub(super) async fn drop_continuous_query(&self, name: &str, database: &str) -> StmtResult {
        let exists = self
            .meta
            .continuous_queries()
            .iter()
            .any(|c| c.name == name && c.database == database);
        if exists {
            self.meta
                .apply(MetaCommand::DropContinuousQuery {
                    database: database.to_string(),
                    name: name.to_string(),
                })
                .await?;
        }
        Ok(StatementResult::default())
    }

    /// `DROP MEASUREMENT` in every retention policy of the database.
    pub(super) async fn drop_measurement(&self, m: &str, db: Option<&str>) -> StmtResult {
        let name = self.require_data_db(db)?;
        self.flush.ensure_visible().await?;
        let rps = crate::cluster::retention_policy_names(self.meta.as_ref(), &name);
        self.meta
            .apply(MetaCommand::DropMeasurement {
                database: name.clone(),
                measurement: m.to_string(),
            })
            .await?;
        self.flush.discard_dropped(&name, None, Some(m)).await?;
        self.admin.drop_measurement(&name, &rps, m).await?;
        Ok(StatementResult::default())
    }

    pub(super) fn canonical_cq(
        &self,
        cq: &hyperbyte_timeseriesql::ast::CreateContinuousQueryStatement,
        qualify_with: &str,
    ) -> String {
        let sel = self.qualified_select(&cq.source, qualify_with);
        let mut out = format!(
            "CREATE CONTINUOUS QUERY {} ON {}",
            hyperbyte_timeseriesql::ast::quote_ident(&cq.name),
            hyperbyte_timeseriesql::ast::quote_ident(&cq.database)
        );
        if cq.resample_every.is_some() || cq.resample_for.is_some() {
            out.push_str(" RESAMPLE");
            if let Some(e) = cq.resample_every {
                out.push_str(&format!(
                    " EVERY {}",
                    hyperbyte_timeseriesql::ast::format_duration(e)
                ));
            }
            if let Some(f) = cq.resample_for {
                out.push_str(&format!(
                    " FOR {}",
                    hyperbyte_timeseriesql::ast::format_duration(f)
                ));
            }
        }
        out.push_str(&format!(" BEGIN {sel} END"));
        out
    }

    /// A SELECT with its sources and target qualified by database and retention policy,
    /// as InfluxDB prints stored and echoed statements.
    pub(crate) fn qualified_select(
        &self,
        source: &hyperbyte_timeseriesql::ast::SelectStatement,
        database: &str,
    ) -> hyperbyte_timeseriesql::ast::SelectStatement {
        let default_rp = self
            .meta
            .database(database)
            .and_then(|d| d.default_rp)
            .unwrap_or_else(|| "autogen".into());
        let mut sel = source.clone();
        for src in &mut sel.sources {
            if let Source::Measurement(m) = src {
                if m.database.is_none() {
                    m.database = Some(database.to_string());
                }
                if m.retention_policy.is_none() {
                    m.retention_policy = Some(default_rp.clone());
                }
            }
        }
        if let Some(t) = &mut sel.target {
            let target_db = t.database.clone().unwrap_or_else(|| database.to_string());
            if t.retention_policy.is_none() {
                let rp = self
                    .meta
                    .database(&target_db)
                    .and_then(|d| d.default_rp)
                    .unwrap_or_else(|| default_rp.clone());
                t.retention_policy = Some(rp);
            }
            t.database = Some(target_db);
        }
        sel
    }

    pub(super) async fn delete(
        &self,
        db: &str,
        d: &DeleteStatement,
        drop_series: bool,
    ) -> StmtResult {
        // Make acknowledged-but-unflushed points visible to the delete (and refuse while
        // points of the database are set aside, where the delete could not reach them).
        self.flush.prepare_delete(db).await?;
        let now = self.clock.now_nanos();
        // InfluxDB intersects every time comparison, those under `OR` too (a union had
        // made `time > 3s OR time < 2s` delete everything; it deletes nothing).
        let range = match &d.condition {
            Some(c) => c
                .time_bounds_in(now, None)
                .map_err(|e| StatementError::new(e.to_string()))?,
            None => Default::default(),
        };
        let tag_cond = d.condition.as_ref().and_then(|c| c.without_time());
        if self.meta.database(db).is_none() {
            return Err(StatementError::new(format!("database not found: {db}")));
        }
        if let Some(cond) = &tag_cond {
            self.refuse_fields_in_delete(db, &d.sources, cond)?;
        }
        if let (Some(min), Some(max)) = (range.min, range.max) {
            if min > max {
                return Ok(StatementResult::default()); // no time to delete from
            }
        }
        // Cluster mode: every member runs the same delete, in the consensus's order, with
        // the time bounds resolved here (`now()` is this node's). A single node's
        // metadata store ignores the command. Deleting twice is harmless, so this node
        // deletes again below even when its state machine already did.
        let sources = if d.sources.is_empty() && tag_cond.is_none() {
            "DELETE FROM /.*/".to_string()
        } else {
            Statement::Delete(DeleteStatement {
                sources: d.sources.clone(),
                condition: tag_cond.clone(),
            })
            .to_string()
        };
        self.meta
            .apply(MetaCommand::DeleteData {
                database: db.to_string(),
                statement: sources,
                min: range.min,
                max: range.max,
                drop_series,
            })
            .await?;
        self.delete_here(
            db,
            &d.sources,
            tag_cond.as_ref(),
            (range.min, range.max),
            drop_series,
        )
        .await
    }

    /// `DROP SHARD id`: the group's points go from storage, then its record (and the
    /// field types of its span); an id no live group has is no error, as in InfluxDB.
    pub(super) async fn drop_shard(&self, id: u64) -> StmtResult {
        let Some(g) = self.meta.shard_groups().into_iter().find(|g| g.id == id) else {
            return Ok(StatementResult::default());
        };
        self.drop_shard_points(&g.database, &g.retention_policy, (g.start, g.end))
            .await?;
        self.meta
            .apply(MetaCommand::DropShard {
                id,
                database: g.database,
                retention_policy: g.retention_policy,
                start: g.start,
                end: g.end,
            })
            .await?;
        Ok(StatementResult::default())
    }

    /// Removes from this node's storage the points of a dropped shard group: every
    /// measurement of its policy over its span `[start, end)`; series left without points
    /// in any policy leave the index, as after a `DELETE` with a time range.
    async fn drop_shard_points(&self, database: &str, rp: &str, span: (i64, i64)) -> StmtResult {
        self.flush.prepare_delete(database).await?;
        let Some(db) = self.meta.database(database) else {
            return Ok(StatementResult::default());
        };
        let last = span.1.saturating_sub(1);
        for m in self.meta.measurements_with_schema(database) {
            self.admin
                .delete_points(database, rp, &m, DeleteRows::All, span.0, last)
                .await?;
            let list = self.meta.series(database, Some(&m));
            let gone = self.series_without_points(database, &db, &m, &list).await;
            self.forget_series(database, &m, gone).await?;
        }
        Ok(StatementResult::default())
    }

    /// Removes series keys of a measurement from the index (nothing when `keys` is empty).
    async fn forget_series(
        &self,
        db: &str,
        measurement: &str,
        keys: Vec<String>,
    ) -> Result<(), hyperbyte_ports::MetaError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.meta
            .apply(MetaCommand::DropSeries {
                database: db.to_string(),
                measurement: measurement.to_string(),
                keys,
            })
            .await
    }

    /// Runs on this node a `DROP SHARD` another member ran (cluster mode: the consensus's
    /// `MetaCommand::DropShard`, with the group's span that member resolved).
    pub async fn apply_replicated_drop_shard(
        &self,
        database: &str,
        rp: &str,
        span: (i64, i64),
    ) -> Result<(), String> {
        self.drop_shard_points(database, rp, span)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// InfluxDB refuses a delete whose condition names a field (of any measurement of the
    /// database, as its shards check it) when the sources match a measurement: deleting
    /// the series of the condition's tags alone would remove points the user meant to keep.
    fn refuse_fields_in_delete(
        &self,
        db: &str,
        sources: &[hyperbyte_timeseriesql::ast::Measurement],
        cond: &hyperbyte_timeseriesql::ast::Expr,
    ) -> Result<(), StatementError> {
        let measurements = self.measurements_matching(db, sources);
        if measurements.is_empty() {
            return Ok(());
        }
        // (A name some matched measurement carries as a tag counts as that tag.)
        let tags: std::collections::BTreeSet<String> = measurements
            .iter()
            .flat_map(|m| self.meta.tag_keys(db, m))
            .collect();
        let fields: std::collections::BTreeSet<String> = self
            .meta
            .measurements(db)
            .iter()
            .filter_map(|m| self.meta.schema(db, m))
            .flat_map(|s| s.fields.into_keys())
            .filter(|f| !tags.contains(f))
            .collect();
        let names_field = cond.any(&mut |e| {
            matches!(e, hyperbyte_timeseriesql::ast::Expr::VarRef { name, .. } if fields.contains(name))
        });
        if names_field || cond.any(&mut index_cannot_decide) {
            // InfluxDB names the shard that refused (each of the database's shards checks
            // the condition; with one shard, that one): the lowest id here.
            let shard = self
                .meta
                .shard_groups()
                .iter()
                .find(|g| g.database == db)
                .map_or(1, |g| g.id);
            return Err(StatementError::new(format!(
                "shard {shard}: fields not supported in WHERE clause during deletion"
            )));
        }
        if cond.any(&mut orders_a_tag) {
            // Deviation: InfluxDB 1.6's index takes `<`, `<=`, `>` and `>=` on a tag for
            // `!=` (`host < 'b'` deletes every host but `b`); refusing, as its SHOW
            // statements do, deletes nothing the user did not mean.
            return Err(StatementError::new("invalid tag comparison operator"));
        }
        Ok(())
    }

    /// Runs on this node a delete another member ran (cluster mode: the consensus's
    /// `MetaCommand::DeleteData`), with the time bounds that member resolved.
    pub async fn apply_replicated_delete(
        &self,
        database: &str,
        statement: &str,
        bounds: (Option<i64>, Option<i64>),
        drop_series: bool,
    ) -> Result<(), String> {
        let parsed = hyperbyte_timeseriesql::parse(statement)
            .map_err(|e| format!("replicated delete: {e}"))?;
        let Some(Statement::Delete(d)) = parsed.statements.into_iter().next() else {
            return Err(format!(
                "replicated delete: not a DELETE statement: {statement}"
            ));
        };
        if self.meta.database(database).is_none() {
            return Ok(());
        }
        self.flush
            .prepare_delete(database)
            .await
            .map_err(|e| e.to_string())?;
        self.delete_here(
            database,
            &d.sources,
            d.condition.as_ref(),
            bounds,
            drop_series,
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    /// Deletes on this node the points of the series matching `sources` and `tag_cond`
    /// between the bounds (inclusive; unbounded ends are the whole range, and then the
    /// series leave the index, as they do for `DROP SERIES`).
    async fn delete_here(
        &self,
        db: &str,
        sources: &[hyperbyte_timeseriesql::ast::Measurement],
        tag_cond: Option<&hyperbyte_timeseriesql::ast::Expr>,
        bounds: (Option<i64>, Option<i64>),
        drop_series: bool,
    ) -> StmtResult {
        let timed = bounds.0.is_some() || bounds.1.is_some();
        let (min, max) = (
            bounds.0.unwrap_or(hyperbyte_domain::time::MIN_NANOS),
            bounds.1.unwrap_or(hyperbyte_domain::time::MAX_NANOS),
        );
        let Some(database) = self.meta.database(db) else {
            return Err(StatementError::new(format!("database not found: {db}")));
        };
        let matched = self.matching_series(db, sources, tag_cond);
        let mut by_measurement: BTreeMap<String, Vec<SeriesEntry>> = BTreeMap::new();
        for se in matched {
            by_measurement
                .entry(se.measurement.clone())
                .or_default()
                .push(se);
        }
        for (m, list) in by_measurement {
            let all_keys: Vec<String> = self
                .meta
                .schema(db, &m)
                .map(|s| s.tag_keys.into_iter().collect())
                .unwrap_or_default();
            // Every matched series in one call per policy: storage removes them in one
            // pass over the table, where a call per series cost a pass each.
            // Without a tag condition every row goes, and no tag set is needed.
            let tag_sets: Option<Vec<Vec<(String, String)>>> = tag_cond.map(|_| {
                list.iter()
                    .map(|se| complete_tag_set(&all_keys, &se.tags))
                    .collect()
            });
            let rows = tag_sets
                .as_deref()
                .map_or(DeleteRows::All, DeleteRows::Series);
            for rp in &database.retention_policies {
                self.admin
                    .delete_points(db, &rp.name, &m, rows, min, max)
                    .await?;
            }
            // Failure point `delete-storage-done`: storage deleted, the series index not yet.
            fail::fail_point!("delete-storage-done");
            let gone: Vec<String> = if drop_series || !timed {
                list.iter().map(|s| s.key.clone()).collect()
            } else {
                self.series_without_points(db, &database, &m, &list).await
            };
            self.forget_series(db, &m, gone).await?;
        }
        Ok(StatementResult::default())
    }

    /// After a delete with a time range, the keys of `list` no retention policy's table
    /// holds a point of any more: they leave the index, as InfluxDB drops a series once
    /// its shards hold none of its points (`SHOW SERIES`, tag values and `SELECT *`'s tag
    /// columns stop listing them; a measurement left without series no longer shows up).
    /// When listing what storage holds fails, every series stays.
    async fn series_without_points(
        &self,
        db: &str,
        database: &hyperbyte_domain::Database,
        m: &str,
        list: &[SeriesEntry],
    ) -> Vec<String> {
        let engine = self.engine.as_ref();
        let listed =
            crate::retention::tag_sets_in_every_policy(engine, self.meta.as_ref(), database, m)
                .await;
        let Ok(present) = listed else {
            tracing::warn!(
                database = db,
                measurement = m,
                "listing the series left after a delete failed; the index keeps them"
            );
            return Vec::new();
        };
        list.iter()
            .filter(|se| !present.contains(&crate::retention::normalized_tags(&se.tags)))
            .map(|se| se.key.clone())
            .collect()
    }
}

/// A series' tags as a delete matches them: a value for each of the measurement's
/// `keys`, `""` where the series lacks the key (so a delete of `host=a` leaves the rows
/// of `host=a,dc=x` alone).
fn complete_tag_set(keys: &[String], tags: &[(String, String)]) -> Vec<(String, String)> {
    keys.iter()
        .map(|k| {
            let v = tags
                .iter()
                .find(|(tk, _)| tk == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            (k.clone(), v)
        })
        .collect()
}

fn check_rp_duration(d: i64) -> Result<(), StatementError> {
    if d != 0 && d < HOUR {
        return Err(StatementError::new(
            "retention policy duration must be at least 1h0m0s",
        ));
    }
    Ok(())
}

/// InfluxDB caps a shard group duration at the retention duration? No: it keeps what was
/// asked; only a zero value takes the default. This hook keeps that rule in one place.
fn normalise_shard_duration(sgd: i64, _duration: i64) -> i64 {
    sgd
}

/// Whether `e` orders a name (not `time`): `host < 'b'`, `host >= region`.
fn orders_a_tag(e: &hyperbyte_timeseriesql::ast::Expr) -> bool {
    use hyperbyte_timeseriesql::ast::{BinaryOp, Expr};
    let Expr::Binary { op, lhs, rhs } = e else {
        return false;
    };
    let ordering = matches!(
        op,
        BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq
    );
    let name = |x: &Expr| matches!(x.unparen(), Expr::VarRef { .. }) && !x.is_time_ref();
    ordering && (name(lhs) || name(rhs))
}

/// Whether `e` is a comparison InfluxDB's series index cannot decide, which a delete
/// refuses as if it named a field: a name (other than `time`) compared with anything but
/// a string, a regular expression or another name (`host = 5`, `host = 'a' | 1`),
/// arithmetic on a name, or constants InfluxDB does not fold (`41.5 >= 'a'`). (Folded
/// constants decide themselves; deleting every series for a term the index leaves open
/// lost data.)
fn index_cannot_decide(e: &hyperbyte_timeseriesql::ast::Expr) -> bool {
    use hyperbyte_timeseriesql::ast::Expr;
    let Expr::Binary { op, lhs, rhs } = e else {
        return false;
    };
    if !op.is_comparison() || lhs.is_time_ref() || rhs.is_time_ref() {
        return false;
    }
    if super::super::select::constant_comparison(e).is_some() {
        return false;
    }
    let decided = |a: &Expr, b: &Expr| {
        matches!(a, Expr::VarRef { .. })
            && matches!(b, Expr::String(_) | Expr::Regex(_) | Expr::VarRef { .. })
    };
    let (l, r) = (lhs.unparen(), rhs.unparen());
    !(decided(l, r) || decided(r, l))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_timeseriesql::ast::{Expr, Statement};

    fn condition(text: &str) -> Expr {
        let parsed = hyperbyte_timeseriesql::parse(&format!("DELETE FROM m WHERE {text}"));
        match parsed.map(|mut p| p.statements.remove(0)) {
            Ok(Statement::Delete(d)) => d.condition.expect("a condition"),
            other => panic!("{text}: {other:?}"),
        }
    }

    /// What a delete refuses rather than deleting every series for (checked against
    /// InfluxDB 1.6, which refuses the first group as naming fields).
    #[test]
    fn a_delete_refuses_what_the_index_cannot_decide() {
        let refused = |text: &str| condition(text).any(&mut index_cannot_decide);
        for text in [
            "host = 5",
            "host = true",
            "host = 'a' | 1",
            "missing = 5",
            "host != 'a' OR host = 5",
            "host + 'x' = 'ax'",
            "host = 'a' OR 41.5 >= 'a'",
        ] {
            assert!(refused(text), "{text}");
        }
        for text in [
            "host = 'a'",
            "(host) = ('a')",
            "host =~ /a/",
            "region != zone",
            "1 = 2",
            "host = 'a' OR 1 + 1 = 3",
            "time > 5s AND host = 'a'",
        ] {
            assert!(!refused(text), "{text}");
        }
        let orders = |text: &str| condition(text).any(&mut orders_a_tag);
        assert!(orders("host < 'b'"));
        assert!(orders("region >= host"));
        assert!(!orders("time < 5s"));
        assert!(!orders("2 > 1"));
    }
}
