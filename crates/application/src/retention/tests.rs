//! Fakes shared with the continuous-query tests, and the retention tests.

use super::*;
use async_trait::async_trait;
use hyperbyte_domain::{ContinuousQuery, MeasurementSchema, RetentionPolicy, Tombstone, User};
use hyperbyte_ports::RowSet;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};

pub(crate) const HOUR: i64 = 3_600_000_000_000;
pub(crate) const DAY: i64 = 24 * HOUR;

/// A clock tests move by hand.
#[derive(Debug)]
pub(crate) struct ManualClock(AtomicI64);

impl ManualClock {
    pub(crate) fn new(t: i64) -> Arc<Self> {
        Arc::new(ManualClock(AtomicI64::new(t)))
    }
    pub(crate) fn set(&self, t: i64) {
        self.0.store(t, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// In-memory metadata.
#[derive(Debug, Default)]
pub(crate) struct MemMeta {
    pub(crate) dbs: Mutex<Vec<Database>>,
    pub(crate) schemas: Mutex<BTreeMap<(String, String), MeasurementSchema>>,
    pub(crate) series: Mutex<Vec<(String, SeriesEntry)>>,
    pub(crate) cqs: Mutex<Vec<ContinuousQuery>>,
    pub(crate) applied: Mutex<Vec<MetaCommand>>,
    /// `ExpireShardGroups` commands, apart from `applied` (never failed).
    pub(crate) expired: Mutex<Vec<MetaCommand>>,
    pub(crate) groups: Mutex<Vec<ShardGroup>>,
    pub(crate) fail_apply: Mutex<bool>,
    /// (database, measurement, field, retention policy) the metadata knows a write of.
    pub(crate) fields_in_rp: Mutex<Vec<(String, String, String, String)>>,
}

impl MemMeta {
    pub(crate) fn add_db(&self, name: &str, rps: &[(&str, i64, i64)]) {
        let mut db = Database::new(name);
        for (rp, duration, sgd) in rps {
            db.retention_policies.push(RetentionPolicy {
                name: rp.to_string(),
                duration: *duration,
                shard_group_duration: *sgd,
                replication: 1,
            });
        }
        self.dbs.lock().push(db);
    }

    pub(crate) fn add_series(&self, db: &str, measurement: &str, tags: &[(&str, &str)]) {
        let mut key = measurement.to_string();
        let mut t: Vec<(String, String)> = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.sort();
        for (k, v) in &t {
            key.push_str(&format!(",{k}={v}"));
        }
        let mut schemas = self.schemas.lock();
        let schema = schemas
            .entry((db.to_string(), measurement.to_string()))
            .or_default();
        for (k, _) in &t {
            schema.tag_keys.insert(k.clone());
        }
        self.series.lock().push((
            db.to_string(),
            SeriesEntry {
                measurement: measurement.to_string(),
                key,
                tags: t,
            },
        ));
    }

    pub(crate) fn series_keys(&self, db: &str) -> Vec<String> {
        self.series(db, None).into_iter().map(|s| s.key).collect()
    }

    pub(crate) fn add_cq(&self, db: &str, name: &str, query: &str) {
        self.cqs.lock().push(ContinuousQuery {
            database: db.into(),
            name: name.into(),
            query: query.into(),
        });
    }
}

#[async_trait]
impl MetadataPort for MemMeta {
    fn field_in_retention_policy(&self, db: &str, m: &str, field: &str, rp: &str) -> bool {
        self.fields_in_rp
            .lock()
            .iter()
            .any(|k| k.0 == db && k.1 == m && k.2 == field && k.3 == rp)
    }

    async fn apply(&self, cmd: MetaCommand) -> Result<(), MetaError> {
        if matches!(cmd, MetaCommand::ExpireShardGroups { .. }) {
            self.expired.lock().push(cmd);
            return Ok(());
        }
        if *self.fail_apply.lock() {
            return Err(MetaError::Storage("injected".into()));
        }
        if let MetaCommand::DropSeries {
            database,
            measurement,
            keys,
        } = &cmd
        {
            self.series.lock().retain(|(d, s)| {
                !(d == database && s.measurement == *measurement && keys.contains(&s.key))
            });
        }
        self.applied.lock().push(cmd);
        Ok(())
    }
    fn shard_groups(&self) -> Vec<ShardGroup> {
        self.groups.lock().clone()
    }
    fn databases(&self) -> Vec<Database> {
        self.dbs.lock().clone()
    }
    fn database(&self, name: &str) -> Option<Database> {
        self.dbs.lock().iter().find(|d| d.name == name).cloned()
    }
    fn measurements(&self, database: &str) -> Vec<String> {
        self.schemas
            .lock()
            .keys()
            .filter(|(d, _)| d == database)
            .map(|(_, m)| m.clone())
            .collect()
    }
    fn schema(&self, database: &str, measurement: &str) -> Option<MeasurementSchema> {
        self.schemas
            .lock()
            .get(&(database.to_string(), measurement.to_string()))
            .cloned()
    }
    fn field_shard_type(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: &str,
        _: i64,
    ) -> Option<hyperbyte_domain::FieldType> {
        None
    }
    fn series(&self, database: &str, measurement: Option<&str>) -> Vec<SeriesEntry> {
        let mut v: Vec<SeriesEntry> = self
            .series
            .lock()
            .iter()
            .filter(|(d, s)| d == database && measurement.is_none_or(|m| s.measurement == m))
            .map(|(_, s)| s.clone())
            .collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }
    fn has_series(&self, database: &str, key: &str) -> bool {
        self.series(database, None).iter().any(|s| s.key == key)
    }
    fn series_count(&self, database: &str) -> usize {
        self.series(database, None).len()
    }
    fn tag_values(&self, _: &str, _: &str, _: &str) -> Vec<String> {
        Vec::new()
    }
    fn tombstones(&self, _: &str) -> Vec<Tombstone> {
        Vec::new()
    }
    fn continuous_queries(&self) -> Vec<ContinuousQuery> {
        self.cqs.lock().clone()
    }
    fn users(&self) -> Vec<User> {
        Vec::new()
    }
}

/// One recorded `drop_partitions_before` call.
#[derive(Debug, Clone, PartialEq)]
struct DropCall {
    db: String,
    rp: RetentionPolicy,
    measurements: Vec<String>,
    cutoff: i64,
}

/// Records partition drops; can fail for one policy.
#[derive(Debug, Default)]
struct RecordingAdmin {
    calls: Mutex<Vec<DropCall>>,
    fail_rp: Option<String>,
}

#[async_trait]
impl StorageAdminPort for RecordingAdmin {
    async fn drop_database(&self, _: &str) -> Result<(), SinkError> {
        Ok(())
    }
    async fn drop_retention_policy(&self, _: &str, _: &str) -> Result<(), SinkError> {
        Ok(())
    }
    async fn drop_measurement(&self, _: &str, _: &[String], _: &str) -> Result<(), SinkError> {
        Ok(())
    }
    async fn delete_points(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: hyperbyte_ports::DeleteRows<'_>,
        _: i64,
        _: i64,
    ) -> Result<(), SinkError> {
        Ok(())
    }
    async fn drop_partitions_before(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        measurements: &[String],
        cutoff: i64,
    ) -> Result<(), SinkError> {
        self.calls.lock().push(DropCall {
            db: database.into(),
            rp: rp.clone(),
            measurements: measurements.to_vec(),
            cutoff,
        });
        if self.fail_rp.as_deref() == Some(rp.name.as_str()) {
            return Err(SinkError::Other("injected".into()));
        }
        Ok(())
    }
}

/// A table of the fake storage: its columns and rows (column → value).
#[derive(Debug, Default, Clone)]
struct FakeTable {
    columns: Vec<String>,
    rows: Vec<BTreeMap<String, String>>,
}

/// Storage answering the two queries the cleanup issues.
#[derive(Debug, Default)]
struct FakeStorage {
    tables: Mutex<BTreeMap<(String, String, String), FakeTable>>,
    fail: Mutex<bool>,
    queries: Mutex<Vec<String>>,
}

impl FakeStorage {
    /// Adds rows (tag → value) to a table, creating it with `tags` as tag columns.
    fn put(&self, db: &str, rp: &str, m: &str, tags: &[&str], rows: &[&[(&str, &str)]]) {
        let mut tables = self.tables.lock();
        let t = tables
            .entry((db.into(), rp.into(), m.into()))
            .or_insert_with(|| FakeTable {
                columns: std::iter::once("time".to_string())
                    .chain(tags.iter().map(|t| naming::tag_column(t)))
                    .chain(std::iter::once("f_value".to_string()))
                    .collect(),
                rows: Vec::new(),
            });
        for r in rows {
            t.rows.push(
                r.iter()
                    .map(|(k, v)| (naming::tag_column(k), v.to_string()))
                    .collect(),
            );
        }
    }

    fn clear_rows(&self, db: &str, rp: &str, m: &str) {
        if let Some(t) = self
            .tables
            .lock()
            .get_mut(&(db.into(), rp.into(), m.into()))
        {
            t.rows.clear();
        }
    }
}

#[async_trait]
impl QueryPort for FakeStorage {
    async fn table_columns(
        &self,
        database: &str,
        rp: &str,
        measurement: &str,
    ) -> Result<Vec<String>, QueryError> {
        if *self.fail.lock() {
            return Err(QueryError::Engine {
                code: 241,
                message: "memory limit".into(),
            });
        }
        Ok(self
            .tables
            .lock()
            .get(&(database.into(), rp.into(), measurement.into()))
            .map(|t| t.columns.clone())
            .unwrap_or_default())
    }

    async fn latest_time(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: Option<i64>,
    ) -> Result<Option<i64>, QueryError> {
        Ok(None)
    }

    async fn query(&self, sql: &str) -> Result<RowSet, QueryError> {
        self.queries.lock().push(sql.to_string());
        if *self.fail.lock() {
            return Err(QueryError::Engine {
                code: 241,
                message: "memory limit".into(),
            });
        }
        let tables = self.tables.lock();
        let Some((_, t)) = tables
            .iter()
            .find(|((d, r, m), _)| sql.contains(&naming::qualified_table(d, r, m)))
        else {
            return Err(QueryError::Engine {
                code: 60,
                message: "no table".into(),
            });
        };
        if sql.starts_with("SELECT 1 FROM") {
            let rows = if t.rows.is_empty() {
                Vec::new()
            } else {
                vec![vec![Value::Integer(1)]]
            };
            return Ok(RowSet {
                columns: Vec::new(),
                rows,
            });
        }
        let cols_text = sql
            .strip_prefix("SELECT DISTINCT ")
            .and_then(|s| s.split(" FROM ").next())
            .expect("distinct query");
        let cols: Vec<String> = cols_text
            .split(", ")
            .map(|c| c.trim_matches('`').to_string())
            .collect();
        let mut seen = HashSet::new();
        let mut rows = Vec::new();
        for r in &t.rows {
            let proj: Vec<String> = cols
                .iter()
                .map(|c| r.get(c).cloned().unwrap_or_default())
                .collect();
            if seen.insert(proj.clone()) {
                rows.push(proj.into_iter().map(Value::String).collect());
            }
        }
        Ok(RowSet {
            columns: Vec::new(),
            rows,
        })
    }
}

const NOW: i64 = 1_600_000_000_000_000_000;

fn service(
    meta: &Arc<MemMeta>,
    admin: &Arc<RecordingAdmin>,
    storage: Option<&Arc<FakeStorage>>,
) -> RetentionService {
    let s = RetentionService::new(
        meta.clone(),
        admin.clone(),
        ManualClock::new(NOW),
        Duration::from_secs(1800),
    );
    match storage {
        Some(q) => s.with_series_cleanup(q.clone()),
        None => s,
    }
}

#[tokio::test]
async fn cutoffs_per_policy_and_inf_untouched() {
    let meta = Arc::new(MemMeta::default());
    meta.add_db("db1", &[("week", 7 * DAY, DAY), ("hour", HOUR, HOUR)]);
    meta.add_db("db2", &[]); // autogen only (INF)
    meta.add_db("empty", &[("short", 2 * HOUR, HOUR)]); // no measurements
    meta.add_series("db1", "mem", &[]);
    meta.add_series("db1", "cpu", &[("host", "a")]);
    meta.add_series("db2", "cpu", &[("host", "a")]);
    let group = |id: u64, db: &str, rp: &str, start: i64, end: i64| ShardGroup {
        id,
        database: db.into(),
        retention_policy: rp.into(),
        start,
        end,
        deleted: false,
    };
    let week_cutoff = NOW - 7 * DAY;
    let week_grid = week_cutoff / DAY * DAY;
    *meta.groups.lock() = vec![
        group(1, "db1", "week", week_grid - 3 * DAY, week_grid - 2 * DAY),
        // A wider group from before the shard duration changed, not due yet: the
        // partitions it touches stay.
        group(2, "db1", "week", week_grid - 2 * DAY, week_cutoff + HOUR),
        group(3, "empty", "short", NOW - 4 * HOUR, NOW - 3 * HOUR),
        group(4, "db2", "autogen", 0, 7 * DAY),
    ];
    let admin = Arc::new(RecordingAdmin::default());
    let stats = service(&meta, &admin, None).check_once().await.unwrap();
    assert_eq!(stats.policies_enforced, 3);
    let calls = admin.calls.lock().clone();
    let summary: Vec<(&str, &str, i64, i64)> = calls
        .iter()
        .map(|c| {
            (
                c.db.as_str(),
                c.rp.name.as_str(),
                c.rp.shard_group_duration,
                c.cutoff,
            )
        })
        .collect();
    // Partitions go up to the end of the last expired shard group (the cutoff on
    // the policy's group grid).
    assert_eq!(
        summary,
        vec![
            ("db1", "week", DAY, week_grid - 2 * DAY),
            ("db1", "hour", HOUR, (NOW - HOUR) / HOUR * HOUR),
        ]
    );
    for c in &calls {
        assert_eq!(c.measurements, vec!["cpu".to_string(), "mem".to_string()]);
    }
    // Without a query port nothing touches the series index.
    assert!(meta.applied.lock().is_empty());
    // The groups' records expire at the cutoff itself, also without measurements,
    // where a live group is due.
    let expire = |db: &str, rp: &str, cutoff: i64| MetaCommand::ExpireShardGroups {
        database: db.into(),
        retention_policy: rp.into(),
        cutoff,
    };
    assert_eq!(
        *meta.expired.lock(),
        vec![
            expire("db1", "week", NOW - 7 * DAY),
            expire("empty", "short", NOW - 2 * HOUR),
        ]
    );
}

#[tokio::test]
async fn a_failing_policy_does_not_stop_the_others() {
    let meta = Arc::new(MemMeta::default());
    meta.add_db("db1", &[("week", 7 * DAY, DAY), ("hour", HOUR, HOUR)]);
    meta.add_db("db2", &[("day", DAY, HOUR)]);
    meta.add_series("db1", "cpu", &[]);
    meta.add_series("db2", "cpu", &[]);
    let admin = Arc::new(RecordingAdmin {
        fail_rp: Some("week".into()),
        ..Default::default()
    });
    let err = service(&meta, &admin, None).check_once().await.unwrap_err();
    assert!(
        matches!(&err, RetentionError::Storage { database, rp, .. } if database == "db1" && rp == "week"),
        "{err}"
    );
    let rps: Vec<String> = admin
        .calls
        .lock()
        .iter()
        .map(|c| c.rp.name.clone())
        .collect();
    assert_eq!(rps, vec!["week", "hour", "day"]);
}

/// db1: INF autogen + 1h "hour"; cpu (tag host) and mem (no tags).
fn cleanup_fixture() -> (Arc<MemMeta>, Arc<RecordingAdmin>, Arc<FakeStorage>) {
    let meta = Arc::new(MemMeta::default());
    meta.add_db("db1", &[("hour", HOUR, HOUR)]);
    meta.add_db("inf", &[]);
    meta.add_series("db1", "cpu", &[("host", "a")]);
    meta.add_series("db1", "cpu", &[("host", "b")]);
    meta.add_series("db1", "cpu", &[("host", "c"), ("region", "x")]);
    meta.add_series("db1", "cpu", &[("host", "d"), ("region", "x")]);
    meta.add_series("db1", "mem", &[]);
    meta.add_series("db1", "disk", &[]);
    // A database with only INF policies is never cleaned, data or not.
    meta.add_series("inf", "cpu", &[("host", "z")]);
    let storage = Arc::new(FakeStorage::default());
    // host=a lives in "hour", host=c,region=x in autogen; the "hour" table of cpu has
    // no region column, so its host=d rows are not the series host=d,region=x.
    storage.put(
        "db1",
        "hour",
        "cpu",
        &["host"],
        &[&[("host", "a")], &[("host", "d")]],
    );
    storage.put(
        "db1",
        "autogen",
        "cpu",
        &["host", "region"],
        &[&[("host", "c"), ("region", "x")]],
    );
    // mem's table exists but is empty after the drop; disk keeps data in autogen.
    storage.put("db1", "hour", "mem", &[], &[]);
    storage.put("db1", "autogen", "disk", &[], &[&[]]);
    (meta, Arc::new(RecordingAdmin::default()), storage)
}

#[tokio::test]
async fn series_without_data_are_dropped_after_two_checks() {
    let (meta, admin, storage) = cleanup_fixture();
    let svc = service(&meta, &admin, Some(&storage));
    let s1 = svc.check_once().await.unwrap();
    assert_eq!(s1.series_dropped, 0);
    assert_eq!(s1.series_pending, 3);
    assert!(meta.applied.lock().is_empty());
    let s2 = svc.check_once().await.unwrap();
    assert_eq!(s2.series_dropped, 3, "{s2:?}");
    assert_eq!(
        meta.series_keys("db1"),
        vec!["cpu,host=a", "cpu,host=c,region=x", "disk"]
    );
    assert_eq!(meta.series_keys("inf"), vec!["cpu,host=z"]);
    let applied = meta.applied.lock().clone();
    assert_eq!(
        applied,
        vec![
            MetaCommand::DropSeries {
                database: "db1".into(),
                measurement: "cpu".into(),
                keys: vec!["cpu,host=b".into(), "cpu,host=d,region=x".into()],
            },
            MetaCommand::DropSeries {
                database: "db1".into(),
                measurement: "mem".into(),
                keys: vec!["mem".into()],
            },
        ]
    );
    // Nothing left to do.
    let s3 = svc.check_once().await.unwrap();
    assert_eq!((s3.series_dropped, s3.series_pending), (0, 0));
    // Only tag columns that exist are read.
    let probe = TagSetsRead {
        table: TableRef::new("db1", "hour", "cpu"),
        tags: vec!["host".into()],
        between: None,
    };
    assert!(storage.queries.lock().iter().any(|q| *q == probe.to_sql()));
}

#[tokio::test]
async fn series_that_regain_data_are_kept() {
    let (meta, admin, storage) = cleanup_fixture();
    let svc = service(&meta, &admin, Some(&storage));
    svc.check_once().await.unwrap();
    // host=b and mem are written again before the next check.
    storage.put("db1", "hour", "cpu", &["host"], &[&[("host", "b")]]);
    storage.put("db1", "hour", "mem", &[], &[&[]]);
    let s = svc.check_once().await.unwrap();
    assert_eq!(s.series_dropped, 1);
    assert_eq!(
        meta.series_keys("db1"),
        vec![
            "cpu,host=a",
            "cpu,host=b",
            "cpu,host=c,region=x",
            "disk",
            "mem"
        ]
    );
    // Losing data again restarts the two-check rule.
    storage.clear_rows("db1", "hour", "mem");
    assert_eq!(svc.check_once().await.unwrap().series_dropped, 0);
    assert_eq!(svc.check_once().await.unwrap().series_dropped, 1);
    assert!(!meta.has_series("db1", "mem"));
}

#[tokio::test]
async fn query_failures_keep_every_series() {
    let (meta, admin, storage) = cleanup_fixture();
    let svc = service(&meta, &admin, Some(&storage));
    svc.check_once().await.unwrap();
    *storage.fail.lock() = true;
    let err = svc.check_once().await.unwrap_err();
    assert!(matches!(err, RetentionError::Query { .. }), "{err}");
    assert!(meta.applied.lock().is_empty());
    assert_eq!(meta.series_count("db1"), 6);
    // The failed check observed nothing, so the rule starts over.
    *storage.fail.lock() = false;
    assert_eq!(svc.check_once().await.unwrap().series_dropped, 0);
    assert_eq!(svc.check_once().await.unwrap().series_dropped, 3);
}

#[tokio::test]
async fn index_failures_are_retried() {
    let (meta, admin, storage) = cleanup_fixture();
    let svc = service(&meta, &admin, Some(&storage));
    svc.check_once().await.unwrap();
    *meta.fail_apply.lock() = true;
    assert!(matches!(
        svc.check_once().await,
        Err(RetentionError::Meta { .. })
    ));
    *meta.fail_apply.lock() = false;
    assert_eq!(svc.check_once().await.unwrap().series_dropped, 3);
}

#[tokio::test]
async fn run_checks_periodically_and_stops() {
    let meta = Arc::new(MemMeta::default());
    meta.add_db("db1", &[("hour", HOUR, HOUR)]);
    meta.add_series("db1", "cpu", &[]);
    let admin = Arc::new(RecordingAdmin::default());
    let clock = ManualClock::new(NOW + HOUR);
    let svc = Arc::new(RetentionService::new(
        meta.clone(),
        admin.clone(),
        clock.clone(),
        Duration::from_millis(20),
    ));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(svc.run(rx));
    for _ in 0..200 {
        if admin.calls.lock().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("loop stops on shutdown")
        .unwrap();
    let calls = admin.calls.lock().clone();
    assert!(calls.len() >= 2);
    assert!(calls.iter().all(|c| c.cutoff == NOW / HOUR * HOUR));
}

#[test]
fn normalized_tags_ignore_empty_values() {
    let t = normalized_tags(&[("b".into(), "1".into()), ("a".into(), String::new())]);
    assert_eq!(t, vec![("b".to_string(), "1".to_string())]);
}
