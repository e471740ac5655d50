//! Metadata statements: DDL, SHOW, DROP, DELETE and continuous-query definitions.
//!
//! Everything here is answered from [`MetadataPort`] (the series index serves SHOW SERIES,
//! TAG KEYS and TAG VALUES, so they never scan storage). With a million series per
//! database nothing here clones a measurement's whole series list: series are visited in
//! key order with early exit (LIMIT), tag conditions go through the index's per-value
//! series lists ([`index_candidates`]), and counts, tag keys and tag values come straight
//! from the index. Data removal goes through
//! [`StorageAdminPort`] after the WAL backlog is flushed, so deletes also cover points that
//! were acknowledged but not yet flushed.

use super::cond::{has_time, index_candidates, tags_match, Regexes, TagIndex};
use super::{QueryService, StatementError, StmtResult};
use hyperbyte_domain::query::{Series, StatementResult, Value};
use hyperbyte_domain::time::format_duration;
use hyperbyte_domain::{ContinuousQuery, MetaCommand, RetentionPolicy, User};
use hyperbyte_ports::{MetadataPort, SeriesEntry};
use hyperbyte_timeseriesql::ast::{
    CardinalityKind, DeleteStatement, Measurement, MeasurementName, Source, Statement, TagKeyFilter,
};
use std::collections::{BTreeMap, BTreeSet, HashSet};

const HOUR: i64 = 3_600_000_000_000;

fn series(name: Option<&str>, columns: &[&str], values: Vec<Vec<Value>>) -> Series {
    Series {
        name: name.map(str::to_string),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        values,
        ..Default::default()
    }
}

fn result(series: Vec<Series>) -> StatementResult {
    StatementResult {
        series,
        ..Default::default()
    }
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn page<T>(items: Vec<T>, limit: Option<u64>, offset: Option<u64>) -> Vec<T> {
    let off = offset.unwrap_or(0) as usize;
    let it = items.into_iter().skip(off);
    match limit {
        Some(l) if l > 0 => it.take(l as usize).collect(),
        _ => it.collect(),
    }
}

impl QueryService {
    fn require_db(
        &self,
        explicit: Option<&str>,
        default: Option<&str>,
    ) -> Result<String, StatementError> {
        let name = explicit
            .filter(|d| !d.is_empty())
            .or(default)
            .ok_or_else(|| StatementError::new("database name required"))?;
        if self.meta.database(name).is_none() {
            return Err(StatementError::new(format!("database not found: {name}")));
        }
        Ok(name.to_string())
    }

    /// Measurement names of `db` matching the sources (all when empty), sorted.
    fn measurements_matching(&self, db: &str, sources: &[Measurement]) -> Vec<String> {
        let all = self.visible_measurements(db);
        if sources.is_empty() {
            return all;
        }
        let mut re = Regexes::default();
        let mut out: BTreeSet<String> = BTreeSet::new();
        for src in sources {
            match &src.name {
                MeasurementName::Name(n) => {
                    if all.contains(n) {
                        out.insert(n.clone());
                    }
                }
                MeasurementName::Regex(r) => {
                    if let Some(rx) = re.get(&r.pattern) {
                        for m in &all {
                            if rx.is_match(m) {
                                out.insert(m.clone());
                            }
                        }
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    /// Measurements that still have series (InfluxDB hides a measurement whose series were
    /// all deleted).
    pub(crate) fn visible_measurements(&self, db: &str) -> Vec<String> {
        let mut ms: Vec<String> = self
            .meta
            .measurements(db)
            .into_iter()
            .filter(|m| self.meta.series_count_in(db, m) > 0)
            .collect();
        ms.sort();
        ms
    }

    /// The tag (key, value) pairs whose series are the candidates of measurement `m` for
    /// `cond` (they still have to pass `cond`), or `None` when the index does not narrow
    /// the search down and a scan is cheaper.
    fn index_plan(
        &self,
        db: &str,
        m: &str,
        cond: &hyperbyte_timeseriesql::ast::Expr,
        re: &mut Regexes,
    ) -> Option<Vec<(String, String)>> {
        let mut index = MeasurementIndex {
            meta: self.meta.as_ref(),
            db,
            m,
        };
        let cands = index_candidates(cond, &mut index, re)?;
        (cands.total < self.meta.series_count_in(db, m)).then_some(cands.pairs)
    }

    /// The series of all `pairs` of measurement `m`, sorted by key, without duplicates.
    fn series_with_tags(&self, db: &str, m: &str, pairs: &[(String, String)]) -> Vec<SeriesEntry> {
        let mut list = Vec::new();
        for (k, v) in pairs {
            list.extend(self.meta.series_with_tag(db, m, k, v));
        }
        if pairs.len() > 1 {
            list.sort_unstable_by(|a, b| a.key.cmp(&b.key));
            list.dedup_by(|a, b| a.key == b.key);
        }
        list
    }

    /// Visits the series of measurement `m` matching `cond`, in key order, until `f`
    /// returns false; returns whether it ran to the end.
    fn visit_measurement(
        &self,
        db: &str,
        m: &str,
        cond: Option<&hyperbyte_timeseriesql::ast::Expr>,
        re: &mut Regexes,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) -> bool {
        let plan = cond.and_then(|c| self.index_plan(db, m, c, re));
        let mut complete = true;
        let mut visit = |se: &SeriesEntry| {
            if tags_match(cond, &se.tags, re) && !f(se) {
                complete = false;
            }
            complete
        };
        match plan.as_deref() {
            None => self.meta.for_each_series(db, Some(m), &mut visit),
            Some([]) => {}
            Some([(k, v)]) => self.meta.for_each_series_with_tag(db, m, k, v, &mut visit),
            Some(pairs) => {
                for se in &self.series_with_tags(db, m, pairs) {
                    if !visit(se) {
                        break;
                    }
                }
            }
        }
        complete
    }

    /// Visits the series of the sources' measurements matching `cond`, in key order, until
    /// `f` returns false.
    fn visit_matching(
        &self,
        db: &str,
        sources: &[Measurement],
        cond: Option<&hyperbyte_timeseriesql::ast::Expr>,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        let mut re = Regexes::default();
        let ms = self.measurements_matching(db, sources);
        match ms.as_slice() {
            [] => {}
            [m] => {
                self.visit_measurement(db, m, cond, &mut re, f);
            }
            _ => {
                // Several measurements: when the index narrows every one of them down,
                // merge their candidates; otherwise one ordered pass over the database.
                if let Some(c) = cond {
                    let mut all = Vec::new();
                    let mut indexed = true;
                    for m in &ms {
                        match self.index_plan(db, m, c, &mut re) {
                            Some(pairs) => all.extend(self.series_with_tags(db, m, &pairs)),
                            None => {
                                indexed = false;
                                break;
                            }
                        }
                    }
                    if indexed {
                        all.sort_unstable_by(|a, b| a.key.cmp(&b.key));
                        for se in &all {
                            if tags_match(cond, &se.tags, &mut re) && !f(se) {
                                return;
                            }
                        }
                        return;
                    }
                }
                let wanted: Option<HashSet<&str>> = if sources.is_empty() {
                    None
                } else {
                    Some(ms.iter().map(String::as_str).collect())
                };
                self.meta.for_each_series(db, None, &mut |se| {
                    if wanted
                        .as_ref()
                        .is_some_and(|w| !w.contains(se.measurement.as_str()))
                        || !tags_match(cond, &se.tags, &mut re)
                    {
                        return true;
                    }
                    f(se)
                });
            }
        }
    }

    /// Every series of the sources matching `cond`, sorted by key.
    fn matching_series(
        &self,
        db: &str,
        sources: &[Measurement],
        cond: Option<&hyperbyte_timeseriesql::ast::Expr>,
    ) -> Vec<SeriesEntry> {
        let mut out = Vec::new();
        self.visit_matching(db, sources, cond, &mut |se| {
            out.push(se.clone());
            true
        });
        out
    }

    /// Number of series of measurement `m` matching `cond`.
    fn count_matching(
        &self,
        db: &str,
        m: &str,
        cond: Option<&hyperbyte_timeseriesql::ast::Expr>,
        re: &mut Regexes,
    ) -> usize {
        if cond.is_none() {
            return self.meta.series_count_in(db, m);
        }
        let mut n = 0;
        self.visit_measurement(db, m, cond, re, &mut |_| {
            n += 1;
            true
        });
        n
    }

    /// Tag keys of the series of measurement `m` matching `cond`, sorted.
    fn tag_keys_matching(
        &self,
        db: &str,
        m: &str,
        cond: Option<&hyperbyte_timeseriesql::ast::Expr>,
        re: &mut Regexes,
    ) -> Vec<String> {
        let all = self.meta.tag_keys(db, m);
        if cond.is_none() {
            return all;
        }
        let mut keys = BTreeSet::new();
        self.visit_measurement(db, m, cond, re, &mut |se| {
            for (k, _) in &se.tags {
                if !keys.contains(k) {
                    keys.insert(k.clone());
                }
            }
            // Every key seen: the rest cannot add any.
            keys.len() < all.len()
        });
        keys.into_iter().collect()
    }

    pub(crate) async fn meta_statement(&self, stmt: &Statement, db: Option<&str>) -> StmtResult {
        match stmt {
            Statement::CreateDatabase(c) => {
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
            Statement::DropDatabase { name } => {
                if self.meta.database(name).is_some() {
                    self.flush.ensure_visible().await?;
                    self.meta
                        .apply(MetaCommand::DropDatabase { name: name.clone() })
                        .await?;
                    self.flush.discard_dropped(name, None, None).await?;
                    self.admin.drop_database(name).await?;
                }
                Ok(StatementResult::default())
            }
            Statement::CreateRetentionPolicy(c) => {
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
            Statement::AlterRetentionPolicy(a) => {
                let Some(database) = self.meta.database(&a.database) else {
                    return Err(StatementError::new(format!(
                        "database not found: {}",
                        a.database
                    )));
                };
                if database.rp(&a.name).is_none() {
                    return Err(StatementError::new(format!(
                        "retention policy not found: {}",
                        a.name
                    )));
                }
                if let Some(d) = a.duration {
                    check_rp_duration(d)?;
                }
                self.meta
                    .apply(MetaCommand::AlterRetentionPolicy {
                        database: a.database.clone(),
                        name: a.name.clone(),
                        duration: a.duration,
                        shard_group_duration: a.shard_duration.filter(|d| *d > 0),
                        replication: a.replication,
                        make_default: a.default,
                    })
                    .await?;
                Ok(StatementResult::default())
            }
            Statement::DropRetentionPolicy { name, database } => {
                let Some(d) = self.meta.database(database) else {
                    return Err(StatementError::new(format!(
                        "database not found: {database}"
                    )));
                };
                if d.rp(name).is_some() {
                    self.flush.ensure_visible().await?;
                    self.meta
                        .apply(MetaCommand::DropRetentionPolicy {
                            database: database.clone(),
                            name: name.clone(),
                        })
                        .await?;
                    self.flush
                        .discard_dropped(database, Some(name), None)
                        .await?;
                    self.admin.drop_retention_policy(database, name).await?;
                }
                Ok(StatementResult::default())
            }
            Statement::ShowDatabases => {
                let values = self
                    .meta
                    .databases()
                    .iter()
                    .map(|d| vec![s(&d.name)])
                    .collect();
                Ok(result(vec![series(Some("databases"), &["name"], values)]))
            }
            Statement::ShowRetentionPolicies { database } => {
                let name = self.require_db(database.as_deref(), db)?;
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
            Statement::ShowMeasurements(sm) => {
                let name = match self.require_db(sm.database.as_deref(), db) {
                    Ok(n) => n,
                    // InfluxDB answers an empty result for a database that does not exist.
                    Err(e) if e.0.starts_with("database not found") => {
                        return Ok(StatementResult::default())
                    }
                    Err(e) => return Err(e),
                };
                let sources: Vec<Measurement> = sm.source.iter().cloned().collect();
                let mut ms = self.measurements_matching(&name, &sources);
                if sm.condition.is_some() {
                    let mut re = Regexes::default();
                    ms.retain(|m| {
                        // Stops at the first matching series: it did not run to the end.
                        !self.visit_measurement(
                            &name,
                            m,
                            sm.condition.as_ref(),
                            &mut re,
                            &mut |_| false,
                        )
                    });
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
            Statement::ShowSeries(ss) => {
                let name = self.require_db(ss.database.as_deref(), db)?;
                let mut skip = ss.offset.unwrap_or(0);
                let take = ss.limit.filter(|l| *l > 0).unwrap_or(u64::MAX);
                let mut values: Vec<Vec<Value>> = Vec::new();
                self.visit_matching(&name, &ss.sources, ss.condition.as_ref(), &mut |se| {
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
            Statement::ShowTagKeys(st) => {
                let name = self.require_db(st.database.as_deref(), db)?;
                let mut out = Vec::new();
                let mut re = Regexes::default();
                for m in self.measurements_matching(&name, &st.sources) {
                    let keys = self.tag_keys_matching(&name, &m, st.condition.as_ref(), &mut re);
                    let keys = page(keys, st.limit, st.offset);
                    if !keys.is_empty() {
                        let values = keys.iter().map(|k| vec![s(k)]).collect();
                        out.push(series(Some(&m), &["tagKey"], values));
                    }
                }
                let out = page(out, st.slimit, st.soffset);
                Ok(result(out))
            }
            Statement::ShowTagValues(tv) => {
                let name = self.require_db(tv.database.as_deref(), db)?;
                let mut out = Vec::new();
                for (m, pairs) in
                    self.tag_values(&name, &tv.sources, &tv.key, tv.condition.as_ref())
                {
                    let pairs = page(pairs, tv.limit, tv.offset);
                    if pairs.is_empty() {
                        continue;
                    }
                    let values = pairs.iter().map(|(k, v)| vec![s(k), s(v)]).collect();
                    out.push(series(Some(&m), &["key", "value"], values));
                }
                Ok(result(out))
            }
            Statement::ShowFieldKeys(sf) => {
                let name = self.require_db(sf.database.as_deref(), db)?;
                let mut out = Vec::new();
                for m in self.measurements_matching(&name, &sf.sources) {
                    let Some(schema) = self.meta.schema(&name, &m) else {
                        continue;
                    };
                    // A field written with other types into other shard groups is listed
                    // once per type, as InfluxDB does.
                    let fields: Vec<_> = schema
                        .fields
                        .keys()
                        .flat_map(|f| schema.field_types(f).into_iter().map(move |t| (f, t)))
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
            Statement::ShowCardinality(c) => {
                let name = self.require_db(c.database.as_deref(), db)?;
                self.cardinality(&name, c)
            }
            Statement::ShowContinuousQueries => {
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
            Statement::CreateContinuousQuery(cq) => {
                if self.meta.database(&cq.database).is_none() {
                    return Err(StatementError::new(format!(
                        "database not found: {}",
                        cq.database
                    )));
                }
                let text = self.canonical_cq(cq);
                self.meta
                    .apply(MetaCommand::CreateContinuousQuery(ContinuousQuery {
                        database: cq.database.clone(),
                        name: cq.name.clone(),
                        query: text,
                    }))
                    .await?;
                Ok(StatementResult::default())
            }
            Statement::DropContinuousQuery { name, database } => {
                let exists = self
                    .meta
                    .continuous_queries()
                    .iter()
                    .any(|c| &c.name == name && &c.database == database);
                if exists {
                    self.meta
                        .apply(MetaCommand::DropContinuousQuery {
                            database: database.clone(),
                            name: name.clone(),
                        })
                        .await?;
                }
                Ok(StatementResult::default())
            }
            Statement::DropMeasurement { name: m } => {
                let name = self.require_db(None, db)?;
                self.flush.ensure_visible().await?;
                let rps: Vec<String> = self
                    .meta
                    .database(&name)
                    .map(|d| {
                        d.retention_policies
                            .iter()
                            .map(|r| r.name.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                self.meta
                    .apply(MetaCommand::DropMeasurement {
                        database: name.clone(),
                        measurement: m.clone(),
                    })
                    .await?;
                self.flush.discard_dropped(&name, None, Some(m)).await?;
                self.admin.drop_measurement(&name, &rps, m).await?;
                Ok(StatementResult::default())
            }
            Statement::DropSeries(d) => {
                let name = self.require_db(None, db)?;
                if has_time(d.condition.as_ref()) {
                    return Err(StatementError::new(
                        "DROP SERIES doesn't support time in WHERE clause",
                    ));
                }
                self.delete(&name, d, true).await
            }
            Statement::Delete(d) => {
                let name = self.require_db(None, db)?;
                self.delete(&name, d, false).await
            }
            Statement::ShowUsers => {
                let values = self
                    .meta
                    .users()
                    .iter()
                    .map(|u| vec![s(&u.name), Value::Boolean(u.admin)])
                    .collect();
                Ok(result(vec![series(None, &["user", "admin"], values)]))
            }
            Statement::CreateUser {
                name,
                password,
                admin,
            } => {
                self.meta
                    .apply(MetaCommand::PutUser(User {
                        name: name.clone(),
                        password_hash: password_digest(password),
                        admin: *admin,
                    }))
                    .await?;
                Ok(StatementResult::default())
            }
            Statement::DropUser { name } => {
                self.meta
                    .apply(MetaCommand::DropUser { name: name.clone() })
                    .await?;
                Ok(StatementResult::default())
            }
            Statement::SetPassword { name, password } => {
                let Some(mut u) = self.meta.users().into_iter().find(|u| &u.name == name) else {
                    return Err(StatementError::new("user not found"));
                };
                u.password_hash = password_digest(password);
                self.meta.apply(MetaCommand::PutUser(u)).await?;
                Ok(StatementResult::default())
            }
            Statement::Grant { .. } | Statement::Revoke { .. } => Ok(StatementResult::default()),
            Statement::ShowGrants { .. } => Ok(result(vec![series(
                None,
                &["database", "privilege"],
                vec![],
            )])),
            Statement::ShowShards => {
                let mut out = Vec::new();
                for d in self.meta.databases() {
                    out.push(series(
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
                        vec![],
                    ));
                }
                Ok(result(out))
            }
            Statement::ShowShardGroups => Ok(result(vec![series(
                Some("shard groups"),
                &[
                    "id",
                    "database",
                    "retention_policy",
                    "start_time",
                    "end_time",
                    "expiry_time",
                ],
                vec![],
            )])),
            Statement::ShowStats { .. } => {
                let dbs = self.meta.databases();
                let series_total: usize = dbs.iter().map(|d| self.meta.series_count(&d.name)).sum();
                Ok(result(vec![series(
                    Some("database"),
                    &["numDatabases", "numSeries"],
                    vec![vec![
                        Value::Integer(dbs.len() as i64),
                        Value::Integer(series_total as i64),
                    ]],
                )]))
            }
            Statement::ShowDiagnostics { .. } => Ok(result(vec![series(
                Some("build"),
                &["Branch", "Commit", "Version"],
                vec![vec![s("main"), s(""), s(env!("CARGO_PKG_VERSION"))]],
            )])),
            Statement::ShowQueries => Ok(result(vec![series(
                None,
                &["qid", "query", "database", "duration", "status"],
                vec![],
            )])),
            Statement::KillQuery { .. } => Ok(StatementResult::default()),
            Statement::ShowSubscriptions => Ok(StatementResult::default()),
            Statement::CreateSubscription { .. } | Statement::DropSubscription { .. } => {
                Err(StatementError::new("subscriptions are not supported"))
            }
            Statement::DropShard { .. } => Ok(StatementResult::default()),
            Statement::Explain(_) => Err(StatementError::new("EXPLAIN is not supported")),
            Statement::Select(_) => Err(StatementError::new("unexpected SELECT")),
        }
    }

    fn tag_values(
        &self,
        db: &str,
        sources: &[Measurement],
        key: &TagKeyFilter,
        cond: Option<&hyperbyte_timeseriesql::ast::Expr>,
    ) -> Vec<(String, Vec<(String, String)>)> {
        let mut re = Regexes::default();
        let key_matches = |k: &str, re: &mut Regexes| match key {
            TagKeyFilter::Eq(x) => k == x,
            TagKeyFilter::NotEq(x) => k != x,
            TagKeyFilter::In(xs) => xs.iter().any(|x| x == k),
            TagKeyFilter::Regex(r) => re.get(&r.pattern).is_some_and(|x| x.is_match(k)),
            TagKeyFilter::NotRegex(r) => re.get(&r.pattern).is_some_and(|x| !x.is_match(k)),
        };
        let mut cond_re = Regexes::default();
        let mut out = Vec::new();
        for m in self.measurements_matching(db, sources) {
            if cond.is_none() {
                // Straight from the index: keys sorted, each key's values sorted.
                let keys = match key {
                    TagKeyFilter::Eq(k) => vec![k.clone()],
                    _ => self.meta.tag_keys(db, &m),
                };
                let mut pairs = Vec::new();
                for k in keys {
                    if !key_matches(&k, &mut re) {
                        continue;
                    }
                    for v in self.meta.tag_values(db, &m, &k) {
                        pairs.push((k.clone(), v));
                    }
                }
                if !pairs.is_empty() {
                    out.push((m, pairs));
                }
                continue;
            }
            // Tag key → values seen (allocating only for new ones); `None` for a key that
            // the filter rejects.
            let mut seen: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
            self.visit_measurement(db, &m, cond, &mut cond_re, &mut |se| {
                for (k, v) in &se.tags {
                    let values = match seen.get_mut(k.as_str()) {
                        Some(values) => values,
                        None => seen
                            .entry(k.clone())
                            .or_insert_with(|| key_matches(k, &mut re).then(BTreeSet::new)),
                    };
                    if let Some(values) = values {
                        if !values.contains(v.as_str()) {
                            values.insert(v.clone());
                        }
                    }
                }
                true
            });
            let pairs: Vec<(String, String)> = seen
                .into_iter()
                .filter_map(|(k, vs)| vs.map(|vs| (k, vs)))
                .flat_map(|(k, vs)| vs.into_iter().map(move |v| (k.clone(), v)))
                .collect();
            if !pairs.is_empty() {
                out.push((m, pairs));
            }
        }
        out
    }

    fn cardinality(
        &self,
        db: &str,
        c: &hyperbyte_timeseriesql::ast::ShowCardinalityStatement,
    ) -> StmtResult {
        let count_series = |name: Option<&str>, n: usize, col: &str| {
            series(name, &[col], vec![vec![Value::Integer(n as i64)]])
        };
        match &c.kind {
            CardinalityKind::Measurement => {
                let n = self.measurements_matching(db, &c.sources).len();
                let col = if c.exact {
                    "count"
                } else {
                    "cardinality estimation"
                };
                Ok(result(vec![count_series(None, n, col)]))
            }
            CardinalityKind::Series => {
                if !c.exact && c.sources.is_empty() && c.condition.is_none() {
                    let n = self.meta.series_count(db);
                    return Ok(result(vec![count_series(
                        None,
                        n,
                        "cardinality estimation",
                    )]));
                }
                let mut re = Regexes::default();
                let mut out = Vec::new();
                for m in self.measurements_matching(db, &c.sources) {
                    let n = self.count_matching(db, &m, c.condition.as_ref(), &mut re);
                    if n > 0 {
                        out.push(count_series(Some(&m), n, "count"));
                    }
                }
                Ok(result(out))
            }
            CardinalityKind::TagKey => {
                let mut out = Vec::new();
                let mut re = Regexes::default();
                for m in self.measurements_matching(db, &c.sources) {
                    let keys = self.tag_keys_matching(db, &m, c.condition.as_ref(), &mut re);
                    if !keys.is_empty() {
                        out.push(count_series(Some(&m), keys.len(), "count"));
                    }
                }
                Ok(result(out))
            }
            CardinalityKind::FieldKey => {
                let mut out = Vec::new();
                for m in self.measurements_matching(db, &c.sources) {
                    if let Some(schema) = self.meta.schema(db, &m) {
                        if !schema.fields.is_empty() {
                            out.push(count_series(Some(&m), schema.fields.len(), "count"));
                        }
                    }
                }
                Ok(result(out))
            }
            CardinalityKind::TagValues(key) => {
                let out = self
                    .tag_values(db, &c.sources, key, c.condition.as_ref())
                    .into_iter()
                    .map(|(m, pairs)| count_series(Some(&m), pairs.len(), "count"))
                    .collect();
                Ok(result(out))
            }
        }
    }

    /// The text `SHOW CONTINUOUS QUERIES` prints: sources and target fully qualified.
    fn canonical_cq(
        &self,
        cq: &hyperbyte_timeseriesql::ast::CreateContinuousQueryStatement,
    ) -> String {
        let sel = self.qualified_select(&cq.source, &cq.database);
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

    async fn delete(&self, db: &str, d: &DeleteStatement, drop_series: bool) -> StmtResult {
        // Make acknowledged-but-unflushed points visible to the delete (and refuse while
        // points of the database are set aside, where the delete could not reach them).
        self.flush.prepare_delete(db).await?;
        let now = self.clock.now_nanos();
        let range = match &d.condition {
            Some(c) => c
                .time_range(now)
                .map_err(|e| StatementError::new(e.to_string()))?,
            None => Default::default(),
        };
        let tag_cond = d.condition.as_ref().and_then(|c| c.without_time());
        let timed = range.min.is_some() || range.max.is_some();
        let (min, max) = (
            range.min.unwrap_or(hyperbyte_domain::time::MIN_NANOS),
            range.max.unwrap_or(hyperbyte_domain::time::MAX_NANOS),
        );
        let Some(database) = self.meta.database(db) else {
            return Err(StatementError::new(format!("database not found: {db}")));
        };
        let matched = self.matching_series(db, &d.sources, tag_cond.as_ref());
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
            let everything = tag_cond.is_none();
            for rp in &database.retention_policies {
                if everything {
                    self.admin
                        .delete_points(db, &rp.name, &m, &[], min, max)
                        .await?;
                    continue;
                }
                for se in &list {
                    let pred: Vec<(String, String)> = all_keys
                        .iter()
                        .map(|k| {
                            let v = se
                                .tags
                                .iter()
                                .find(|(tk, _)| tk == k)
                                .map(|(_, v)| v.clone())
                                .unwrap_or_default();
                            (k.clone(), v)
                        })
                        .collect();
                    self.admin
                        .delete_points(db, &rp.name, &m, &pred, min, max)
                        .await?;
                }
            }
            // Failure point `delete-storage-done`: storage deleted, the series index not yet.
            fail::fail_point!("delete-storage-done");
            if drop_series || !timed {
                self.meta
                    .apply(MetaCommand::DropSeries {
                        database: db.to_string(),
                        measurement: m.clone(),
                        keys: list.iter().map(|s| s.key.clone()).collect(),
                    })
                    .await?;
            }
        }
        Ok(StatementResult::default())
    }
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

/// A non-reversible digest of a password (authentication arrives with a later release).
fn password_digest(p: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in p.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a:{h:016x}")
}

/// The series index of one measurement, as [`index_candidates`] reads it.
#[derive(Debug)]
struct MeasurementIndex<'a> {
    meta: &'a dyn MetadataPort,
    db: &'a str,
    m: &'a str,
}

impl TagIndex for MeasurementIndex<'_> {
    fn values(&mut self, key: &str) -> Vec<String> {
        self.meta.tag_values(self.db, self.m, key)
    }

    fn count(&mut self, key: &str, value: &str) -> usize {
        self.meta
            .tag_value_series_count(self.db, self.m, key, value)
    }
}
