//! Metadata statements: DDL, SHOW, DROP, DELETE and continuous-query definitions.
//!
//! Everything here is answered from [`MetadataPort`] (the series index serves SHOW SERIES,
//! TAG KEYS and TAG VALUES, so they never scan storage); data removal goes through
//! [`StorageAdminPort`] after the WAL backlog is flushed, so deletes also cover points that
//! were acknowledged but not yet flushed.

use super::cond::{has_time, tags_match, Regexes};
use super::{QueryService, StatementError, StmtResult};
use hyperbyte_domain::query::{Series, StatementResult, Value};
use hyperbyte_domain::time::format_duration;
use hyperbyte_domain::{ContinuousQuery, MetaCommand, RetentionPolicy, User};
use hyperbyte_ports::SeriesEntry;
use hyperbyte_timeseriesql::ast::{
    CardinalityKind, DeleteStatement, Measurement, MeasurementName, Source, Statement, TagKeyFilter,
};
use std::collections::{BTreeMap, BTreeSet};

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
            .filter(|m| !self.meta.series(db, Some(m)).is_empty())
            .collect();
        ms.sort();
        ms
    }

    fn matching_series(
        &self,
        db: &str,
        sources: &[Measurement],
        cond: Option<&hyperbyte_timeseriesql::ast::Expr>,
    ) -> Vec<SeriesEntry> {
        let mut re = Regexes::default();
        let mut out = Vec::new();
        for m in self.measurements_matching(db, sources) {
            for se in self.meta.series(db, Some(&m)) {
                if tags_match(cond, &se.tags, &mut re) {
                    out.push(se);
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
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
                        self.meta
                            .series(&name, Some(m))
                            .iter()
                            .any(|se| tags_match(sm.condition.as_ref(), &se.tags, &mut re))
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
                let all = self.matching_series(&name, &ss.sources, ss.condition.as_ref());
                let keys = page(all, ss.limit, ss.offset);
                if keys.is_empty() {
                    return Ok(StatementResult::default());
                }
                let values = keys.iter().map(|k| vec![s(&k.key)]).collect();
                Ok(result(vec![series(None, &["key"], values)]))
            }
            Statement::ShowTagKeys(st) => {
                let name = self.require_db(st.database.as_deref(), db)?;
                let mut out = Vec::new();
                let mut re = Regexes::default();
                for m in self.measurements_matching(&name, &st.sources) {
                    let mut keys = BTreeSet::new();
                    for se in self.meta.series(&name, Some(&m)) {
                        if tags_match(st.condition.as_ref(), &se.tags, &mut re) {
                            keys.extend(se.tags.iter().map(|(k, _)| k.clone()));
                        }
                    }
                    let keys = page(keys.into_iter().collect(), st.limit, st.offset);
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
                    let fields: Vec<_> = schema.fields.iter().collect();
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
        let mut out = Vec::new();
        for m in self.measurements_matching(db, sources) {
            let mut pairs: BTreeSet<(String, String)> = BTreeSet::new();
            if cond.is_none() {
                if let TagKeyFilter::Eq(k) = key {
                    for v in self.meta.tag_values(db, &m, k) {
                        pairs.insert((k.clone(), v));
                    }
                    if !pairs.is_empty() {
                        out.push((m, pairs.into_iter().collect()));
                    }
                    continue;
                }
            }
            for se in self.meta.series(db, Some(&m)) {
                if !tags_match(cond, &se.tags, &mut re) {
                    continue;
                }
                for (k, v) in &se.tags {
                    if key_matches(k, &mut re) {
                        pairs.insert((k.clone(), v.clone()));
                    }
                }
            }
            if !pairs.is_empty() {
                out.push((m, pairs.into_iter().collect()));
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
                let mut per: BTreeMap<String, usize> = BTreeMap::new();
                for se in self.matching_series(db, &c.sources, c.condition.as_ref()) {
                    *per.entry(se.measurement).or_default() += 1;
                }
                Ok(result(
                    per.into_iter()
                        .map(|(m, n)| count_series(Some(&m), n, "count"))
                        .collect(),
                ))
            }
            CardinalityKind::TagKey => {
                let mut out = Vec::new();
                let mut re = Regexes::default();
                for m in self.measurements_matching(db, &c.sources) {
                    let mut keys = BTreeSet::new();
                    for se in self.meta.series(db, Some(&m)) {
                        if tags_match(c.condition.as_ref(), &se.tags, &mut re) {
                            keys.extend(se.tags.iter().map(|(k, _)| k.clone()));
                        }
                    }
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
        // Make acknowledged-but-unflushed points visible to the delete.
        self.flush.ensure_visible().await?;
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
