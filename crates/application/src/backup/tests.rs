use super::*;
use async_trait::async_trait;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::{FieldType, FieldValue, Point, RetentionPolicy};
use hyperbyte_ports::RowSet;
use hyperbyte_testkit::{ManualClock, MemoryMetadata, MemorySink, MemoryWal};
use parking_lot::Mutex;
use proptest::prelude::*;

/// Storage with one table `db.autogen.cpu` (tag `host`, field `v`), answering the
/// backup's raw reads with its rows filtered by the time bounds and limit in the SQL.
#[derive(Debug, Default)]
struct FakeEngine {
    rows: Mutex<Vec<(i64, String, Value)>>,
    queries: Mutex<Vec<String>>,
}

fn bound(sql: &str, op: &str) -> Option<i64> {
    let (_, rest) = sql.split_once(&format!("time {op} fromUnixTimestamp64Nano(toInt64("))?;
    rest.split(')').next()?.parse().ok()
}

#[async_trait]
impl QueryPort for FakeEngine {
    async fn query(&self, sql: &str) -> Result<RowSet, QueryError> {
        self.queries.lock().push(sql.to_string());
        let min = bound(sql, ">=").unwrap_or(i64::MIN);
        let max = bound(sql, "<=").unwrap_or(i64::MAX);
        let limit = sql
            .rsplit_once(" LIMIT ")
            .and_then(|(_, n)| n.trim().parse::<usize>().ok())
            .unwrap_or(usize::MAX);
        let mut rows: Vec<_> = self
            .rows
            .lock()
            .iter()
            .filter(|(t, _, _)| (min..=max).contains(t))
            .cloned()
            .collect();
        rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        Ok(RowSet {
            columns: Vec::new(),
            rows: rows
                .into_iter()
                .take(limit)
                .map(|(t, h, v)| vec![Value::Time(t), Value::String(h), v])
                .collect(),
        })
    }

    async fn table_columns(&self, db: &str, rp: &str, m: &str) -> Result<Vec<String>, QueryError> {
        if (db, rp, m) == ("db", "autogen", "cpu") {
            Ok(vec![
                "time".into(),
                naming::tag_column("host"),
                naming::field_column("v"),
            ])
        } else {
            Err(QueryError::Engine {
                code: 60,
                message: "no table".into(),
            })
        }
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
}

async fn service(rows: Vec<(i64, &str, f64)>) -> (BackupService, Arc<MemoryMetadata>) {
    let meta = Arc::new(MemoryMetadata::new());
    meta.apply(MetaCommand::create_database("db"))
        .await
        .unwrap();
    meta.apply(MetaCommand::create_retention_policy(
        "db",
        RetentionPolicy::new("week", 7 * 86_400_000_000_000, 86_400_000_000_000),
        false,
    ))
    .await
    .unwrap();
    meta.apply(MetaCommand::RegisterSchema {
        database: "db".into(),
        measurement: "cpu".into(),
        fields: vec![("v".into(), FieldType::Float)],
        tag_keys: vec!["host".into()],
    })
    .await
    .unwrap();
    // (A measurement shows up once it has series.)
    meta.apply(MetaCommand::RegisterSeries {
        database: "db".into(),
        measurement: "cpu".into(),
        series: vec![("cpu,host=a".into(), vec![("host".into(), "a".into())])],
    })
    .await
    .unwrap();
    let engine = Arc::new(FakeEngine::default());
    *engine.rows.lock() = rows
        .into_iter()
        .map(|(t, h, v)| (t, h.to_string(), Value::Float(v)))
        .collect();
    let flush = Arc::new(FlushService::new(
        Arc::new(MemoryWal::default()),
        meta.clone(),
        Arc::new(MemorySink::default()),
        crate::FlushConfig::default(),
    ));
    let svc = BackupService::new(meta.clone(), engine, flush, Arc::new(ManualClock::at(42)));
    (svc, meta)
}

async fn read_all(svc: &BackupService, since: Option<i64>, until: Option<i64>) -> Vec<String> {
    let table = TableEntry {
        database: "db".into(),
        retention_policy: "autogen".into(),
        measurement: "cpu".into(),
    };
    let mut r = svc.table_reader(table, since, until).await.unwrap();
    let mut lines = Vec::new();
    while let Some(page) = r.next_page().await.unwrap() {
        lines.extend(page.lines().map(str::to_string));
    }
    assert_eq!(r.points() as usize, lines.len());
    lines
}

#[tokio::test]
async fn snapshot_lists_tables_and_metadata() {
    let (svc, _) = service(vec![(1, "a", 1.0)]).await;
    let snap = svc.snapshot(&SnapshotFilter::default()).await.unwrap();
    assert_eq!(snap.instant_ns, 42);
    assert_eq!(
        snap.tables,
        vec![TableEntry {
            database: "db".into(),
            retention_policy: "autogen".into(),
            measurement: "cpu".into(),
        }]
    );
    assert_eq!(snap.meta.databases.len(), 1);
    assert_eq!(snap.meta.databases[0].retention_policies.len(), 2);

    let only_week = svc
        .snapshot(&SnapshotFilter {
            database: Some("db".into()),
            retention_policy: Some("week".into()),
        })
        .await
        .unwrap();
    assert!(only_week.tables.is_empty());
    assert_eq!(only_week.meta.databases[0].retention_policies.len(), 1);

    let missing = svc
        .snapshot(&SnapshotFilter {
            database: Some("nope".into()),
            retention_policy: None,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.to_string(), "database not found: nope");
}

const WEEK: i64 = 7 * 86_400 * 1_000_000_000;

#[tokio::test]
async fn tables_are_read_window_by_window_and_bounded() {
    // Rows in three shard groups (autogen: one week), one of them twice at a timestamp.
    let mut rows = vec![(0, "a", 1.0), (0, "b", 2.0), (WEEK - 1, "a", 3.0)];
    rows.extend([
        (WEEK, "a", 4.0),
        (3 * WEEK + 5, "b", 5.0),
        (-WEEK, "a", -1.0),
    ]);
    let (svc, _) = service(rows.clone()).await;
    let lines = read_all(&svc, None, None).await;
    assert_eq!(
        lines,
        vec![
            format!("cpu,host=a v=-1 {}", -WEEK),
            "cpu,host=a v=1 0".to_string(),
            "cpu,host=b v=2 0".to_string(),
            format!("cpu,host=a v=3 {}", WEEK - 1),
            format!("cpu,host=a v=4 {WEEK}"),
            format!("cpu,host=b v=5 {}", 3 * WEEK + 5),
        ]
    );
    // [since, until): one week from 0.
    let bounded = read_all(&svc, Some(0), Some(WEEK)).await;
    assert_eq!(bounded.len(), 3);
    assert!(read_all(&svc, Some(WEEK + 1), Some(3 * WEEK))
        .await
        .is_empty());
    assert_eq!(read_all(&svc, Some(3 * WEEK + 5), None).await.len(), 1);
    assert_eq!(window_end(-1, WEEK), Some(0));
    assert_eq!(window_end(i64::MAX, WEEK), None);
}

#[tokio::test]
async fn restore_meta_recreates_policies_and_refuses_an_existing_database() {
    let (svc, meta) = service(vec![]).await;
    let snap = svc.snapshot(&SnapshotFilter::default()).await.unwrap();
    let mut renamed = snap.meta.clone();
    renamed.databases[0].name = "copy".into();
    svc.restore_meta(&renamed, false).await.unwrap();
    let copy = meta.database("copy").unwrap();
    assert_eq!(
        copy.retention_policies,
        snap.meta.databases[0].retention_policies
    );
    assert_eq!(copy.default_rp.as_deref(), Some("autogen"));
    let again = svc.restore_meta(&renamed, false).await.unwrap_err();
    assert_eq!(again.to_string(), "database already exists: copy");
    // Merging creates what is missing only, and refuses a policy that differs.
    meta.apply(MetaCommand::drop_retention_policy("copy", "week"))
        .await
        .unwrap();
    svc.restore_meta(&renamed, true).await.unwrap();
    assert!(meta.database("copy").unwrap().rp("week").is_some());
    renamed.databases[0].retention_policies[0].duration = 3_600_000_000_000;
    let differs = svc.restore_meta(&renamed, true).await.unwrap_err();
    assert_eq!(
        differs.to_string(),
        "retention policy autogen of database copy differs from the backup's"
    );
}

#[test]
fn encodes_each_type_and_skips_empty_rows() {
    let kinds = [
        ColumnKind::Time,
        ColumnKind::Tag("host"),
        ColumnKind::Field("f"),
        ColumnKind::Field("i"),
        ColumnKind::Field("s"),
        ColumnKind::Field("b"),
        ColumnKind::Field("u"),
    ];
    let mut out = String::new();
    assert!(encode_row(
        "m x",
        &kinds,
        &[
            Value::Time(5),
            Value::String("h 1".into()),
            Value::Float(1.5),
            Value::Integer(-3),
            Value::String("a \"q\" \\".into()),
            Value::Boolean(true),
            Value::Unsigned(7),
        ],
        &mut out
    ));
    assert_eq!(
        out,
        "m\\ x,host=h\\ 1 f=1.5,i=-3i,s=\"a \\\"q\\\" \\\\\",b=true,u=7u 5\n"
    );
    let mut empty = String::new();
    assert!(!encode_row(
        "m",
        &kinds[..3],
        &[Value::Time(5), Value::String(String::new()), Value::Null],
        &mut empty
    ));
    assert!(empty.is_empty());
}

fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(vec![',', ' ', '=', '"', '\\', 'é', '🚀', 'i', '0']),
            5 => prop::char::range('a', 'z'),
        ],
        1..8,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(FieldValue::Float),
        any::<i64>().prop_map(FieldValue::Integer),
        any::<u64>().prop_map(FieldValue::Unsigned),
        any::<bool>().prop_map(FieldValue::Boolean),
        any::<String>().prop_map(FieldValue::String),
    ]
}

fn to_value(v: &FieldValue) -> Value {
    match v {
        FieldValue::Float(f) => Value::Float(*f),
        FieldValue::Integer(i) => Value::Integer(*i),
        FieldValue::Unsigned(u) => Value::Unsigned(*u),
        FieldValue::Boolean(b) => Value::Boolean(*b),
        FieldValue::String(s) => Value::String(s.clone()),
    }
}

proptest! {
    /// A stored row encoded for a backup or an export parses back (with the line-protocol
    /// crate, as `/write` does) as the same point: names, tags, field types and values.
    #[test]
    fn encoded_rows_parse_back_as_the_same_point(
        measurement in name(),
        tags in prop::collection::btree_map(name(), name(), 0..4),
        fields in prop::collection::btree_map(name(), value(), 1..5),
        time in hyperbyte_domain::time::MIN_NANOS..=hyperbyte_domain::time::MAX_NANOS,
    ) {
        let point = Point {
            measurement: measurement.clone(),
            tags: tags.clone().into_iter().collect(),
            fields: fields.clone().into_iter().collect(),
            timestamp: time,
        };
        prop_assume!(hyperbyte_lineprotocol::is_representable(&point));
        let mut kinds = vec![ColumnKind::Time];
        let mut row = vec![Value::Time(time)];
        for (k, v) in &tags {
            kinds.push(ColumnKind::Tag(k));
            row.push(Value::String(v.clone()));
        }
        for (k, v) in &fields {
            kinds.push(ColumnKind::Field(k));
            row.push(to_value(v));
        }
        let mut out = String::new();
        prop_assert!(encode_row(&measurement, &kinds, &row, &mut out));
        let parsed = hyperbyte_lineprotocol::parse(out.as_bytes(), hyperbyte_domain::Precision::Nanoseconds, 0);
        prop_assert!(parsed.errors.is_empty(), "{:?} from {:?}", parsed.errors, out);
        prop_assert_eq!(parsed.points, vec![point]);
    }
}
