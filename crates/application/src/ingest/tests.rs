//! Unit tests of the ingestion rules against port fakes: the metadata catalog in memory
//! (InfluxDB's rules exactly as the server applies them), a WAL in memory, a fixed clock.
//! Each test names the InfluxDB behaviour it pins; texts are InfluxDB 1.6's.

use super::*;
use hyperbyte_domain::{FieldType, MetaCommand, RetentionPolicy};
use hyperbyte_ports::MetadataPort;
use hyperbyte_testkit::{ManualClock, MemoryMetadata, MemoryWal};

const NOW: i64 = 1_700_000_000_000_000_000;
const HOUR: i64 = 3_600_000_000_000;

struct Fixture {
    meta: Arc<MemoryMetadata>,
    wal: Arc<MemoryWal>,
    ingest: IngestionService,
}

fn fixture_with(limits: Limits) -> Fixture {
    let meta = Arc::new(MemoryMetadata::new());
    meta.apply_blocking(MetaCommand::CreateDatabase {
        name: "db".into(),
        default_rp: None,
    })
    .unwrap();
    meta.apply_blocking(MetaCommand::CreateRetentionPolicy {
        database: "db".into(),
        rp: RetentionPolicy {
            name: "day".into(),
            duration: 24 * HOUR,
            shard_group_duration: HOUR,
            replication: 1,
        },
        make_default: false,
    })
    .unwrap();
    let wal = Arc::new(MemoryWal::default());
    let ingest = IngestionService::new(
        meta.clone(),
        wal.clone(),
        Arc::new(ManualClock::at(NOW)),
        limits,
    );
    Fixture { meta, wal, ingest }
}

fn fixture() -> Fixture {
    fixture_with(Limits::default())
}

async fn write(f: &Fixture, rp: Option<&str>, body: &str) -> Result<WriteOutcome, WriteError> {
    f.ingest
        .write(WriteRequest {
            database: "db",
            retention_policy: rp,
            precision: Precision::Nanoseconds,
            body: body.as_bytes(),
            consistency: Default::default(),
        })
        .await
}

/// Points of every WAL entry, as (measurement, time).
fn logged(f: &Fixture) -> Vec<(String, i64)> {
    f.wal
        .entries()
        .into_iter()
        .flat_map(|(_, e)| e.points)
        .map(|p| (p.measurement, p.timestamp))
        .collect()
}

fn partial(r: Result<WriteOutcome, WriteError>) -> (String, usize) {
    match r {
        Err(WriteError::Partial { message, dropped }) => (message, dropped),
        other => panic!("expected a partial write, got {other:?}"),
    }
}

#[tokio::test]
async fn unknown_database_is_404_and_unknown_policy_500() {
    let f = fixture();
    let r = f
        .ingest
        .write(WriteRequest {
            database: "nope",
            retention_policy: None,
            precision: Precision::Nanoseconds,
            body: b"m v=1 1",
            consistency: Default::default(),
        })
        .await
        .unwrap_err();
    assert_eq!(r.status(), 404);
    assert_eq!(r.to_string(), "database not found: \"nope\"");
    let r = write(&f, Some("nope"), "m v=1 1").await.unwrap_err();
    assert_eq!(r.status(), 500);
    assert_eq!(r.to_string(), "retention policy not found: nope");
    assert!(f.wal.is_empty());
}

/// A write naming no policy after the default one was dropped names the dropped policy,
/// as InfluxDB does (it keeps the name as the default).
#[tokio::test]
async fn a_dropped_default_policy_is_named() {
    let f = fixture();
    f.meta
        .apply_blocking(MetaCommand::DropRetentionPolicy {
            database: "db".into(),
            name: "autogen".into(),
        })
        .unwrap();
    let r = write(&f, None, "m v=1 1").await.unwrap_err();
    assert_eq!(r.status(), 500);
    assert_eq!(r.to_string(), "retention policy not found: autogen");
    assert!(f.wal.is_empty());
}

#[tokio::test]
async fn a_kept_point_is_registered_before_it_is_logged() {
    let f = fixture();
    let out = write(
        &f,
        None,
        "cpu,host=a v=1.5,n=2i 10\ncpu,host=b v=2.5,n=3i 20",
    )
    .await
    .unwrap();
    assert_eq!(out.points, 2);
    assert_eq!(out.sequence, Some(1));
    let schema = f.meta.schema("db", "cpu").unwrap();
    assert_eq!(schema.field_type("v"), Some(FieldType::Float));
    assert_eq!(schema.field_type("n"), Some(FieldType::Integer));
    assert!(schema.tag_keys.contains("host"));
    assert!(f.meta.has_series("db", "cpu,host=a"));
    assert!(f.meta.has_series("db", "cpu,host=b"));
    assert_eq!(logged(&f), vec![("cpu".into(), 10), ("cpu".into(), 20)]);
}

#[tokio::test]
async fn points_beyond_the_retention_window_are_dropped() {
    let f = fixture();
    let old = NOW - 25 * HOUR;
    let body = format!("m v=1 {old}\nm v=2 {NOW}");
    let (message, dropped) = partial(write(&f, Some("day"), &body).await);
    assert_eq!(message, "points beyond retention policy");
    assert_eq!(dropped, 1);
    assert_eq!(logged(&f), vec![("m".into(), NOW)]);
}

#[tokio::test]
async fn a_type_conflict_with_a_stored_field_drops_only_those_points() {
    let f = fixture();
    write(&f, None, "m v=1 1").await.unwrap();
    let (message, dropped) = partial(write(&f, None, "m v=\"x\" 2\nm v=3 3\nother v=true 4").await);
    assert_eq!(
        message,
        "field type conflict: input field \"v\" on measurement \"m\" is type string, already exists as type float"
    );
    assert_eq!(dropped, 1);
    assert_eq!(
        logged(&f),
        vec![("m".into(), 1), ("m".into(), 3), ("other".into(), 4)]
    );
}

/// The fields of `m` and their types.
fn field_types(f: &Fixture, m: &str) -> Vec<(String, FieldType)> {
    let s = f.meta.schema("db", m).unwrap_or_default();
    s.fields.into_iter().collect()
}

fn series_keys(f: &Fixture) -> Vec<String> {
    f.meta
        .series("db", None)
        .into_iter()
        .map(|s| s.key)
        .collect()
}

/// A request that creates the shard group and gives a new field two types is refused
/// whole, but InfluxDB 1.6 has created the series of every point (after the conflict
/// too) and the fields it met before the conflict (answers of the reference server).
#[tokio::test]
async fn two_types_for_a_new_field_in_a_new_shard_group_refuse_the_request_after_indexing() {
    let f = fixture();
    let body =
        "m,host=a x=1,v=1 1\nm,host=b y=2,v=\"s\",z=1 2\nm,host=c u=1 3\no,host=d p=1 3\nbad line";
    let r = write(&f, None, body).await.unwrap_err();
    assert_eq!(
        (r.status(), r.to_string()),
        (400, "field type conflict".into())
    );
    assert!(f.wal.is_empty());
    assert_eq!(
        field_types(&f, "m"),
        [
            ("v".into(), FieldType::Float),
            ("x".into(), FieldType::Float),
            ("y".into(), FieldType::Float)
        ]
    );
    assert!(field_types(&f, "o").is_empty());
    assert_eq!(
        series_keys(&f),
        ["m,host=a", "m,host=b", "m,host=c", "o,host=d"]
    );
    // The group exists now: the next conflict drops just its point.
    let (message, _) = partial(write(&f, None, "n v=1,v=2i 1\nn w=3 2").await);
    assert_eq!(
        message,
        "field type conflict: input field \"v\" on measurement \"n\" is type integer, already exists as type float"
    );
    assert_eq!(logged(&f), vec![("n".into(), 2)]);
    assert_eq!(
        field_types(&f, "n"),
        [
            ("v".into(), FieldType::Float),
            ("w".into(), FieldType::Float)
        ]
    );
}

/// One line repeating a field with another type: refused whole in a new shard group
/// (the field created with its first type), a partial write once the group exists.
#[tokio::test]
async fn a_line_repeating_a_field_with_another_type_is_checked_value_by_value() {
    let f = fixture();
    let r = write(&f, None, "n v=1,v=2i 1\nn w=3 2").await.unwrap_err();
    assert_eq!(r.to_string(), "field type conflict");
    assert_eq!(field_types(&f, "n"), [("v".into(), FieldType::Float)]);
    assert_eq!(series_keys(&f), ["n"]);
    // The stored type meets the first value: the message names that value's type.
    let (message, dropped) = partial(write(&f, None, "n v=1i,v=2 3\nq a=1,a=2 4").await);
    assert_eq!(
        message,
        "field type conflict: input field \"v\" on measurement \"n\" is type integer, already exists as type float"
    );
    assert_eq!(dropped, 1);
    assert_eq!(logged(&f), vec![("q".into(), 4)]);
}

/// A value meeting a stored type drops its point before anything is created; a value
/// meeting a type the same request gave drops its point after the fields before it
/// were created (InfluxDB's validation, then creation, passes).
#[tokio::test]
async fn a_dropped_point_creates_fields_only_for_a_conflict_inside_the_request() {
    let f = fixture();
    write(&f, None, "k a=1 1").await.unwrap();
    let (message, _) = partial(write(&f, None, "k c=1,a=\"x\",d=1 2").await);
    assert_eq!(
        message,
        "field type conflict: input field \"a\" on measurement \"k\" is type string, already exists as type float"
    );
    assert_eq!(field_types(&f, "k"), [("a".into(), FieldType::Float)]);
    partial(write(&f, None, "k2 a=1 1\nk2 c=1,a=\"x\",d=1 2\nk2 g=2 3").await);
    let names: Vec<String> = field_types(&f, "k2").into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["a", "c", "g"]);
    partial(write(&f, None, "r a=1i,b=2,a=2,e=1 3").await);
    assert_eq!(
        field_types(&f, "r"),
        [
            ("a".into(), FieldType::Integer),
            ("b".into(), FieldType::Float)
        ]
    );
    assert_eq!(
        logged(&f),
        vec![("k".into(), 1), ("k2".into(), 1), ("k2".into(), 3)]
    );
}

/// Once a write reached the shard group, InfluxDB 1.6 drops only the point that gives a
/// new field its second type (recorded against the reference; the whole request is
/// refused only while the request would create the shard group).
#[tokio::test]
async fn two_types_for_a_new_field_in_an_existing_shard_group_drop_the_later_point() {
    let f = fixture();
    write(&f, None, "z q=1 1").await.unwrap();
    let (message, dropped) = partial(write(&f, None, "k a=1 2\nk a=\"x\" 3\nk b=true 4").await);
    assert_eq!(
        message,
        "field type conflict: input field \"a\" on measurement \"k\" is type string, already exists as type float"
    );
    assert_eq!(dropped, 1);
    assert_eq!(
        logged(&f),
        vec![("z".into(), 1), ("k".into(), 2), ("k".into(), 4)]
    );
}

#[tokio::test]
async fn a_field_named_time_is_dropped_and_a_point_left_empty_refused() {
    let f = fixture();
    let (message, dropped) = partial(write(&f, None, "m time=1,v=2 1\nm time=3 2").await);
    assert_eq!(
        message,
        "invalid field name: input field \"time\" on measurement \"m\" is invalid"
    );
    assert_eq!(dropped, 1);
    let entries = f.wal.entries();
    let p = &entries[0].1.points[0];
    assert_eq!(p.fields.len(), 1);
    assert_eq!(p.fields[0].0, "v");
}

#[tokio::test]
async fn a_tag_named_time_is_refused() {
    let f = fixture();
    let (message, dropped) = partial(write(&f, None, "m,time=x v=1 1\nm v=2 2").await);
    assert_eq!(
        message,
        "invalid tag key: input tag \"time\" on measurement \"m\" is invalid"
    );
    assert_eq!(dropped, 1);
    assert_eq!(logged(&f), vec![("m".into(), 2)]);
}

#[tokio::test]
async fn the_series_limit_refuses_new_series_only() {
    let f = fixture_with(Limits {
        max_series_per_database: 2,
        max_values_per_tag: 0,
    });
    write(&f, None, "m,h=a v=1 1\nm,h=b v=1 1").await.unwrap();
    let (message, dropped) = partial(write(&f, None, "m,h=c v=1 2\nm,h=a v=2 2").await);
    assert_eq!(
        message,
        "max-series-per-database limit exceeded: db=db (2/2)"
    );
    assert_eq!(dropped, 1);
    assert!(!f.meta.has_series("db", "m,h=c"));
}

#[tokio::test]
async fn the_values_per_tag_limit_counts_values_new_in_the_request() {
    let f = fixture_with(Limits {
        max_series_per_database: 0,
        max_values_per_tag: 2,
    });
    let (message, dropped) =
        partial(write(&f, None, "m,h=a v=1 1\nm,h=b v=1 1\nm,h=c v=1 1").await);
    assert_eq!(
        message,
        "max-values-per-tag limit exceeded (3/2): measurement=\"m\" tag=\"h\" value=\"c\""
    );
    assert_eq!(dropped, 1);
    assert_eq!(f.meta.tag_values("db", "m", "h"), vec!["a", "b"]);
}

#[tokio::test]
async fn bad_lines_are_reported_and_good_lines_kept() {
    let f = fixture();
    let (message, dropped) = partial(write(&f, None, "m v=1 1\nbroken\nm v=2 2").await);
    assert!(message.starts_with("unable to parse 'broken'"), "{message}");
    // Parse failures are not counted as dropped, as in InfluxDB.
    assert_eq!(dropped, 0);
    assert_eq!(logged(&f).len(), 2);
    // Only bad lines: a 400 with the parse error, nothing logged.
    let r = write(&f, None, "broken").await.unwrap_err();
    assert_eq!(r.status(), 400);
    assert_eq!(f.wal.len(), 1);
}

#[tokio::test]
async fn wal_failures_are_server_side() {
    let f = fixture();
    f.wal.fail_appends(true);
    let r = write(&f, None, "m v=1 1").await.unwrap_err();
    assert_eq!(r.status(), 500);
    assert!(r.to_string().contains("injected append failure"), "{r}");
    // A full disk is a 507 naming the cause: clients retry, and nothing was logged.
    f.wal.fail_appends(false);
    f.wal.disk_full(true);
    let r = write(&f, None, "m v=1 1").await.unwrap_err();
    assert_eq!(r.status(), 507);
    assert!(
        r.to_string()
            .starts_with("the disk holding the write-ahead log is full"),
        "{r}"
    );
    assert!(f.wal.is_empty());
}

#[tokio::test]
async fn a_full_backlog_answers_503_before_parsing() {
    let f = fixture();
    let backlog = Arc::new(WriteBacklog::new(1));
    let ingest = IngestionService::new(
        f.meta.clone(),
        f.wal.clone(),
        Arc::new(ManualClock::at(NOW)),
        Limits::default(),
    )
    .with_backlog(backlog.clone());
    let req = |body: &'static str| WriteRequest {
        database: "db",
        retention_policy: None,
        precision: Precision::Nanoseconds,
        body: body.as_bytes(),
        consistency: Default::default(),
    };
    ingest.write(req("m v=1 1")).await.unwrap();
    assert!(backlog.is_full());
    let r = ingest.write(req("m v=2 2")).await.unwrap_err();
    assert_eq!(r.status(), 503);
    assert_eq!(f.wal.len(), 1);
}

/// The listeners' rule (InfluxDB's services): a missing database is created with the
/// default policy, an existing one is left as it is.
#[tokio::test]
async fn ensure_database_creates_only_what_is_missing() {
    let f = fixture();
    f.ingest.ensure_database("listener").await.unwrap();
    let db = f.meta.database("listener").unwrap();
    assert_eq!(db.default_rp.as_deref(), Some("autogen"));
    f.ingest.ensure_database("db").await.unwrap();
    assert!(f
        .meta
        .database("db")
        .unwrap()
        .resolve_rp(Some("day"))
        .is_some());
    let p = hyperbyte_domain::Point {
        measurement: "m".into(),
        tags: vec![],
        fields: vec![("value".into(), hyperbyte_domain::FieldValue::Float(1.0))],
        timestamp: NOW,
    };
    let o = f
        .ingest
        .write_points("listener", None, vec![p], Vec::new())
        .await
        .unwrap();
    assert_eq!(o.points, 1);
}
