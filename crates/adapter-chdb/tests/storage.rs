//! Storage and query tests on the real engine.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use hyperbyte_adapter_chdb::{ChdbEngine, ChdbError, Role};
use hyperbyte_domain::naming::{self, qualified_table, quote_ident};
use hyperbyte_domain::query::Value;
use hyperbyte_domain::{FieldType, FieldValue, Point, PointRef};
use hyperbyte_ports::{
    ColumnType, DeleteRows, PointsSinkPort, QueryError, QueryPort, RowSet, SinkError,
    StorageAdminPort,
};
use std::time::Instant;

const SEC: i64 = 1_000_000_000;
const HOUR: i64 = 3600 * SEC;

async fn q(sql: &str) -> RowSet {
    engine()
        .query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn col(rs: &RowSet, name: &str) -> usize {
    rs.columns
        .iter()
        .position(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", rs.columns))
}

async fn write(db: &str, points: &[Point]) {
    let s = storage();
    s.write_points(
        db,
        &rp(),
        &points[0].measurement,
        &schema_of(points),
        points,
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_of_all_field_types() {
    let db = "rt_types";
    let pts = vec![
        point(
            "m",
            &[("host", "a")],
            vec![
                ("f", FieldValue::Float(1.5)),
                ("i", FieldValue::Integer(-7)),
                ("u", FieldValue::Unsigned(u64::MAX)),
                ("b", FieldValue::Boolean(true)),
                ("s", FieldValue::String("hé \"x\"\n'y'".into())),
            ],
            1_000_000_123,
        ),
        point(
            "m",
            &[("host", "b")],
            vec![("f", FieldValue::Float(-0.25))],
            -5,
        ),
    ];
    write(db, &pts).await;
    let t = qualified_table(db, "autogen", "m");
    let rs = q(&format!(
        "SELECT time, t_host, f_f, f_i, f_u, f_b, f_s FROM {t} FINAL ORDER BY time"
    ))
    .await;
    assert_eq!(
        rs.columns.iter().map(|c| c.1).collect::<Vec<_>>(),
        vec![
            ColumnType::Time,
            ColumnType::String,
            ColumnType::Float,
            ColumnType::Integer,
            ColumnType::Unsigned,
            ColumnType::Boolean,
            ColumnType::String
        ]
    );
    assert_eq!(
        rs.rows,
        vec![
            vec![
                Value::Time(-5),
                Value::String("b".into()),
                Value::Float(-0.25),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ],
            vec![
                Value::Time(1_000_000_123),
                Value::String("a".into()),
                Value::Float(1.5),
                Value::Integer(-7),
                Value::Unsigned(u64::MAX),
                Value::Boolean(true),
                Value::String("hé \"x\"\n'y'".into())
            ],
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fieldwise_overwrite_across_inserts_and_within_a_batch() {
    let db = "overwrite";
    let tags = [("host", "a")];
    for p in [
        point("m", &tags, vec![("a", FieldValue::Float(1.0))], 10),
        point("m", &tags, vec![("b", FieldValue::Float(2.0))], 10),
        point("m", &tags, vec![("a", FieldValue::Float(3.0))], 10),
    ] {
        storage()
            .write_points(db, &rp(), "m", &float_schema(&["a", "b"]), &[p])
            .await
            .unwrap();
    }
    let batch = vec![
        point("n", &tags, vec![("a", FieldValue::Float(1.0))], 10),
        point("n", &tags, vec![("b", FieldValue::Float(2.0))], 10),
        point("n", &tags, vec![("a", FieldValue::Float(3.0))], 10),
    ];
    storage()
        .write_points(db, &rp(), "n", &float_schema(&["a", "b"]), &batch)
        .await
        .unwrap();
    for m in ["m", "n"] {
        let t = qualified_table(db, "autogen", m);
        let sql = format!("SELECT f_a, f_b FROM {t} FINAL");
        assert_eq!(
            q(&sql).await.rows,
            vec![vec![Value::Float(3.0), Value::Float(2.0)]],
            "{m}"
        );
        engine()
            .execute(&format!("OPTIMIZE TABLE {t} FINAL"))
            .await
            .unwrap();
        assert_eq!(
            q(&sql).await.rows,
            vec![vec![Value::Float(3.0), Value::Float(2.0)]],
            "{m} merged"
        );
    }
    // Writing the same point again reads back as once.
    storage()
        .write_points(db, &rp(), "n", &float_schema(&["a", "b"]), &batch)
        .await
        .unwrap();
    let t = qualified_table(db, "autogen", "n");
    assert_eq!(
        q(&format!("SELECT count() FROM {t} FINAL")).await.rows,
        vec![vec![Value::Unsigned(1)]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_evolves_with_new_fields_and_tags() {
    let db = "evolve";
    write(
        db,
        &[point(
            "cpu",
            &[("host", "a")],
            vec![("v", FieldValue::Float(1.0))],
            1,
        )],
    )
    .await;
    // New field.
    write(
        db,
        &[point(
            "cpu",
            &[("host", "a")],
            vec![("w", FieldValue::Integer(5))],
            2,
        )],
    )
    .await;
    // New tag after data exists: joins the sort key after time.
    write(
        db,
        &[point(
            "cpu",
            &[("host", "a"), ("region", "eu")],
            vec![("v", FieldValue::Float(2.0))],
            1,
        )],
    )
    .await;
    // A second new tag and a field in one batch, and a point without any tag.
    write(
        db,
        &[
            point(
                "cpu",
                &[("zone", "z1"), ("host", "b")],
                vec![("x", FieldValue::Boolean(false))],
                3,
            ),
            point("cpu", &[], vec![("v", FieldValue::Float(9.0))], 4),
        ],
    )
    .await;
    let t = qualified_table(db, "autogen", "cpu");
    let key = q(&format!(
        "SELECT sorting_key FROM system.tables WHERE database = '{}' AND name = '{}'",
        naming::database_name(db),
        naming::table_name("autogen", "cpu")
    ))
    .await;
    assert_eq!(
        key.rows[0][0],
        Value::String("t_host, time, t_region, t_zone".into())
    );
    let rs = q(&format!(
        "SELECT t_host, t_region, t_zone, time, f_v, f_w, f_x FROM {t} FINAL ORDER BY time, t_host, t_region"
    ))
    .await;
    let s = |x: &str| Value::String(x.into());
    assert_eq!(
        rs.rows,
        vec![
            vec![
                s("a"),
                s(""),
                s(""),
                Value::Time(1),
                Value::Float(1.0),
                Value::Null,
                Value::Null
            ],
            vec![
                s("a"),
                s("eu"),
                s(""),
                Value::Time(1),
                Value::Float(2.0),
                Value::Null,
                Value::Null
            ],
            vec![
                s("a"),
                s(""),
                s(""),
                Value::Time(2),
                Value::Null,
                Value::Integer(5),
                Value::Null
            ],
            vec![
                s("b"),
                s(""),
                s("z1"),
                Value::Time(3),
                Value::Null,
                Value::Null,
                Value::Boolean(false)
            ],
            vec![
                s(""),
                s(""),
                s(""),
                Value::Time(4),
                Value::Float(9.0),
                Value::Null,
                Value::Null
            ],
        ]
    );
    // The overwrite semantics hold for series with the new tag.
    write(
        db,
        &[point(
            "cpu",
            &[("host", "a"), ("region", "eu")],
            vec![("w", FieldValue::Integer(8))],
            1,
        )],
    )
    .await;
    let rs = q(&format!(
        "SELECT f_v, f_w FROM {t} FINAL WHERE t_region = 'eu'"
    ))
    .await;
    assert_eq!(rs.rows, vec![vec![Value::Float(2.0), Value::Integer(8)]]);

    // A fresh storage (empty cache) reloads the table from the engine.
    let fresh = hyperbyte_adapter_chdb::ChdbStorage::new(engine());
    let p = [point(
        "cpu",
        &[("host", "c"), ("zone", "z2")],
        vec![("w", FieldValue::Integer(1))],
        5,
    )];
    fresh
        .write_points(db, &rp(), "cpu", &schema_of(&p), &p)
        .await
        .unwrap();
    assert_eq!(
        q(&format!("SELECT count() FROM {t} FINAL")).await.rows,
        vec![vec![Value::Unsigned(6)]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn type_conflicts_are_invalid() {
    let db = "conflict";
    write(
        db,
        &[point("m", &[], vec![("v", FieldValue::Float(1.0))], 1)],
    )
    .await;
    let p = [point("m", &[], vec![("v", FieldValue::Integer(1))], 2)];
    // The schema says integer: the column is float.
    let err = storage()
        .write_points(db, &rp(), "m", &schema_of(&p), &p)
        .await
        .unwrap_err();
    assert!(matches!(err, SinkError::Invalid(_)), "{err}");
    // The schema says float but the value is an integer.
    let err = storage()
        .write_points(db, &rp(), "m", &float_schema(&["v"]), &p)
        .await
        .unwrap_err();
    assert!(matches!(err, SinkError::Invalid(_)), "{err}");
    assert!(
        err.to_string().contains(
            "field type conflict: input field \"v\" is type integer, already exists as type float"
        ),
        "{err}"
    );
    let fresh = hyperbyte_adapter_chdb::ChdbStorage::new(engine());
    let err = fresh
        .write_points(db, &rp(), "m", &schema_of(&p), &p)
        .await
        .unwrap_err();
    assert!(matches!(err, SinkError::Invalid(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names() {
    let dbs = ["db.x`y'z\"", "DB.X`Y'Z\"", "ünï cødé 🚀"];
    let measurement = "cpu load,`m`.'x'";
    for (i, db) in dbs.iter().enumerate() {
        let pts = vec![point(
            measurement,
            &[
                ("host", "h'1`"),
                ("Host", "H"),
                ("a.b", "\\"),
                ("ключ", "значение"),
            ],
            vec![
                ("host", FieldValue::String("field named like a tag".into())),
                ("HOST", FieldValue::Integer(i as i64)),
                ("`x`", FieldValue::Float(1.0)),
                ("'; DROP TABLE x; --", FieldValue::Boolean(true)),
            ],
            42,
        )];
        storage()
            .write_points(db, &rp(), measurement, &schema_of(&pts), &pts)
            .await
            .unwrap();
    }
    for (i, db) in dbs.iter().enumerate() {
        let t = qualified_table(db, "autogen", measurement);
        let c = |tag: bool, n: &str| {
            quote_ident(&if tag {
                naming::tag_column(n)
            } else {
                naming::field_column(n)
            })
        };
        let sql = format!(
            "SELECT {}, {}, {}, {}, {}, {}, {}, {} FROM {t} FINAL",
            c(true, "host"),
            c(true, "Host"),
            c(true, "a.b"),
            c(true, "ключ"),
            c(false, "host"),
            c(false, "HOST"),
            c(false, "`x`"),
            c(false, "'; DROP TABLE x; --")
        );
        let s = |x: &str| Value::String(x.into());
        assert_eq!(
            q(&sql).await.rows,
            vec![vec![
                s("h'1`"),
                s("H"),
                s("\\"),
                s("значение"),
                s("field named like a tag"),
                Value::Integer(i as i64),
                Value::Float(1.0),
                Value::Boolean(true)
            ]]
        );
    }
    // Delete on a hostile tag value.
    let db = dbs[0];
    storage()
        .delete_points(
            db,
            "autogen",
            measurement,
            DeleteRows::Series(&[vec![("host".into(), "h'1`".into())]]),
            0,
            100,
        )
        .await
        .unwrap();
    let t = qualified_table(db, "autogen", measurement);
    assert_eq!(
        q(&format!("SELECT count() FROM {t} FINAL")).await.rows,
        vec![vec![Value::Unsigned(0)]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_and_drop() {
    let db = "admin";
    let s = storage();
    let mut pts = Vec::new();
    for h in ["a", "b"] {
        for t in 0..4 {
            pts.push(point(
                "m",
                &[("host", h)],
                vec![("v", FieldValue::Float(t as f64))],
                t * HOUR,
            ));
        }
    }
    s.write_points(db, &rp(), "m", &schema_of(&pts), &pts)
        .await
        .unwrap();
    s.write_points(db, &rp_hourly(), "m", &schema_of(&pts), &pts)
        .await
        .unwrap();
    s.write_points(db, &rp(), "other", &schema_of(&pts), &pts)
        .await
        .unwrap();
    let t = qualified_table(db, "autogen", "m");
    let count = |t: String| async move {
        match q(&format!("SELECT count() FROM {t} FINAL")).await.rows[0][0] {
            Value::Unsigned(n) => n,
            ref v => panic!("{v:?}"),
        }
    };

    // Tag equality and time range.
    s.delete_points(
        db,
        "autogen",
        "m",
        DeleteRows::Series(&[vec![("host".into(), "a".into())]]),
        HOUR,
        2 * HOUR,
    )
    .await
    .unwrap();
    assert_eq!(count(t.clone()).await, 6);
    // An unknown tag with a value matches nothing; with '' it matches everything.
    s.delete_points(
        db,
        "autogen",
        "m",
        DeleteRows::Series(&[vec![("nope".into(), "x".into())]]),
        i64::MIN,
        i64::MAX,
    )
    .await
    .unwrap();
    assert_eq!(count(t.clone()).await, 6);
    s.delete_points(
        db,
        "autogen",
        "m",
        DeleteRows::Series(&[vec![("nope".into(), "".into())]]),
        3 * HOUR,
        i64::MAX,
    )
    .await
    .unwrap();
    assert_eq!(count(t.clone()).await, 4);
    // Missing table or database: nothing to do.
    s.delete_points(
        db,
        "autogen",
        "missing",
        DeleteRows::All,
        i64::MIN,
        i64::MAX,
    )
    .await
    .unwrap();
    s.delete_points(
        "no_such_db",
        "autogen",
        "m",
        DeleteRows::All,
        i64::MIN,
        i64::MAX,
    )
    .await
    .unwrap();

    // Retention: the hourly policy partitions by hour; drop the hours ending by 2h.
    let th = qualified_table(db, "hourly", "m");
    assert_eq!(count(th.clone()).await, 8);
    s.drop_partitions_before(db, &rp_hourly(), &["m".into(), "missing".into()], 2 * HOUR)
        .await
        .unwrap();
    assert_eq!(count(th.clone()).await, 4);
    let min = q(&format!("SELECT min(time) FROM {th}")).await;
    assert_eq!(min.rows[0][0], Value::Time(2 * HOUR));
    // The weekly partition of autogen does not end before the cutoff.
    s.drop_partitions_before(db, &rp(), &["m".into()], 3 * HOUR)
        .await
        .unwrap();
    assert_eq!(count(t.clone()).await, 4);

    s.drop_measurement(db, &["autogen".into(), "hourly".into()], "m")
        .await
        .unwrap();
    let err = engine()
        .query(&format!("SELECT count() FROM {t}"))
        .await
        .unwrap_err();
    assert!(err.is_missing_table(), "{err}");
    assert!(engine()
        .query(&format!("SELECT count() FROM {th}"))
        .await
        .unwrap_err()
        .is_missing_table());
    assert_eq!(count(qualified_table(db, "autogen", "other")).await, 8);

    // The measurement can be written again, with another type.
    let p = [point(
        "m",
        &[],
        vec![("v", FieldValue::String("x".into()))],
        1,
    )];
    s.write_points(db, &rp(), "m", &schema_of(&p), &p)
        .await
        .unwrap();
    assert_eq!(count(t.clone()).await, 1);

    s.drop_retention_policy(db, "autogen").await.unwrap();
    assert!(engine()
        .query(&format!("SELECT 1 FROM {t}"))
        .await
        .unwrap_err()
        .is_missing_table());
    assert!(engine()
        .query(&format!(
            "SELECT 1 FROM {}",
            qualified_table(db, "autogen", "other")
        ))
        .await
        .unwrap_err()
        .is_missing_table());

    s.write_points(db, &rp(), "m", &schema_of(&p), &p)
        .await
        .unwrap();
    s.drop_database(db).await.unwrap();
    let err = engine()
        .query(&format!("SELECT 1 FROM {t}"))
        .await
        .unwrap_err();
    assert!(err.is_missing_table(), "{err}");
    s.drop_database(db).await.unwrap();
    // Writing after a drop recreates the database and table.
    s.write_points(db, &rp(), "m", &schema_of(&p), &p)
        .await
        .unwrap();
    assert_eq!(count(t).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_errors_carry_codes() {
    let e = engine();
    match e
        .query("SELECT * FROM no_such_db.no_such_table")
        .await
        .unwrap_err()
    {
        err @ QueryError::Engine { code, .. } => {
            assert!(code == 60 || code == 81, "{err}");
            assert!(err.is_missing_table());
        }
        other => panic!("{other:?}"),
    }
    match e.query("SELEKT 1").await.unwrap_err() {
        QueryError::Engine { code, message } => {
            assert_eq!(code, 62);
            assert!(message.starts_with("Syntax error"), "{message}");
            assert!(!message.contains("DB::Exception"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let err = e.execute("DROP TABLE no_such_db.x").await.unwrap_err();
    assert!(
        matches!(err, ChdbError::Engine { code: 81 | 60, .. }),
        "{err}"
    );
    assert!(err.is_missing_table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_storage_path_per_process() {
    let e = engine();
    let again = ChdbEngine::open(e.path(), 4).unwrap();
    assert!(std::sync::Arc::ptr_eq(&e, &again));
    let other = tempfile::tempdir().unwrap();
    let err = ChdbEngine::open(other.path(), 1).unwrap_err();
    assert!(matches!(err, ChdbError::PathInUse { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_decodes_engine_types() {
    let rs = q("SELECT toInt8(-3) AS i8, toInt16(-300) AS i16, toInt32(-70000) AS i32, toUInt8(200) AS u8, \
                toUInt16(60000) AS u16, toUInt32(4000000000) AS u32, toFloat32(0.5) AS f32, true AS b, \
                toFixedString('ab', 4) AS fs, toLowCardinality('lc') AS lc, NULL AS n, \
                CAST(NULL AS Nullable(Int64)) AS ni, toDateTime64(1.5, 9, 'UTC') AS t, \
                toDateTime64(2, 3, 'UTC') AS t3, toDateTime(3, 'UTC') AS dt, toDecimal64(1.25, 2) AS d, \
                CAST(7 AS SimpleAggregateFunction(anyLast, Nullable(Int64))) AS saf")
        .await;
    assert_eq!(
        rs.rows[0],
        vec![
            Value::Integer(-3),
            Value::Integer(-300),
            Value::Integer(-70000),
            Value::Unsigned(200),
            Value::Unsigned(60000),
            Value::Unsigned(4_000_000_000),
            Value::Float(0.5),
            Value::Boolean(true),
            Value::String("ab".into()),
            Value::String("lc".into()),
            Value::Null,
            Value::Null,
            Value::Time(1_500_000_000),
            Value::Time(2_000_000_000),
            Value::Time(3_000_000_000),
            Value::Float(1.25),
            Value::Integer(7),
        ]
    );
    assert_eq!(rs.columns[col(&rs, "ni")].1, ColumnType::Integer);
    // Statements without a result.
    assert_eq!(q("SET max_threads = 2").await, RowSet::default());
    // Unsupported types are a clear decode error.
    match engine().query("SELECT [1, 2] AS a").await.unwrap_err() {
        QueryError::Decode(m) => assert!(m.contains("Array"), "{m}"),
        other => panic!("{other:?}"),
    }
    // An empty result keeps its columns.
    let rs = q("SELECT number FROM system.numbers LIMIT 0").await;
    assert_eq!(
        rs.columns,
        vec![("number".to_string(), ColumnType::Unsigned)]
    );
    assert!(rs.rows.is_empty());
}

/// `QueryPort::query_chunks` hands out the same rows as `query`, in several chunks, and
/// a consumer that stops early releases the reader (the next statements still run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_query_matches_materialised_and_can_stop_early() {
    let sql = "SELECT number, toString(number) AS s FROM numbers(300000)";
    let e = engine();
    let whole = e.query(sql).await.unwrap();
    let mut chunks = e.query_chunks(sql).await.unwrap();
    let (mut rows, mut n) = (Vec::new(), 0);
    while let Some(chunk) = chunks.next_chunk().await {
        rows.extend(chunk.unwrap().rows);
        n += 1;
    }
    assert!(n > 1, "one chunk only");
    assert!(rows == whole.rows, "rows differ");
    for _ in 0..8 {
        let mut early = e.query_chunks(sql).await.unwrap();
        assert!(early.next_chunk().await.unwrap().is_ok());
        drop(early);
    }
    assert_eq!(e.query("SELECT 1 AS x").await.unwrap().rows.len(), 1);
    let mut bad = e.query_chunks("SELECT * FROM no_such_table").await.unwrap();
    assert!(bad
        .next_chunk()
        .await
        .unwrap()
        .unwrap_err()
        .is_missing_table());
}

/// A read in the background hands out the same rows as a normal one, and leaves every
/// reader connection at normal priority afterwards (also after a failed read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_read_matches_and_leaves_readers_at_normal_priority() {
    let sql = "SELECT number, toString(number) AS s FROM numbers(300000)";
    let e = engine();
    let whole = e.query(sql).await.unwrap();
    let mut rows = Vec::new();
    let mut chunks = e.query_chunks_in_background(sql).await.unwrap();
    while let Some(chunk) = chunks.next_chunk().await {
        rows.extend(chunk.unwrap().rows);
    }
    assert!(rows == whole.rows, "rows differ");
    let mut bad = e
        .query_chunks_in_background("SELECT * FROM no_such_table")
        .await
        .unwrap();
    assert!(bad.next_chunk().await.unwrap().is_err());
    // Readers are handed out in turn: a few rounds visit every connection.
    for _ in 0..16 {
        let rs = e
            .query("SELECT getSetting('os_thread_priority') AS n")
            .await
            .unwrap();
        assert_eq!(
            rs.rows,
            vec![vec![Value::Integer(0)]],
            "a reader left at background priority"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_query_matches_materialised() {
    let sql = "SELECT number, toString(number) AS s, if(number % 3 = 0, NULL, number * 0.5) AS f FROM numbers(1000000)";
    let e = engine();
    let t0 = Instant::now();
    let a = e.query_rows(sql).await.unwrap();
    let t1 = Instant::now();
    let b = e.query_streaming(sql).await.unwrap();
    let t2 = Instant::now();
    eprintln!(
        "1M rows: materialised {:?}, streamed {:?}",
        t1 - t0,
        t2 - t1
    );
    assert_eq!(a.rows.len(), 1_000_000);
    assert_eq!(a.columns, b.columns);
    assert_eq!(a.rows.len(), b.rows.len());
    assert!(a.rows == b.rows, "rows differ");
    let t0 = Instant::now();
    for _ in 0..100 {
        e.query_rows("SELECT 1 AS x").await.unwrap();
    }
    let t1 = Instant::now();
    for _ in 0..100 {
        e.query_streaming("SELECT 1 AS x").await.unwrap();
    }
    let t2 = Instant::now();
    eprintln!(
        "SELECT 1: materialised {:?}, streamed {:?}",
        (t1 - t0) / 100,
        (t2 - t1) / 100
    );
    let empty = e.query_streaming("SELECT 1 AS x WHERE 0").await.unwrap();
    assert!(empty.rows.is_empty());
    assert_eq!(empty.columns, vec![("x".to_string(), ColumnType::Unsigned)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn million_point_batch() {
    let db = "million";
    let n = 1_000_000usize;
    let hosts: Vec<String> = (0..100).map(|i| format!("host_{i}")).collect();
    let pts: Vec<Point> = (0..n)
        .map(|i| Point {
            measurement: "cpu".into(),
            tags: vec![
                ("host".into(), hosts[i % 100].clone()),
                ("region".into(), format!("r{}", i % 7)),
            ],
            fields: vec![
                ("usage".into(), FieldValue::Float(i as f64 * 0.01)),
                ("count".into(), FieldValue::Integer(i as i64)),
            ],
            timestamp: (i / 100) as i64 * 10 * SEC,
        })
        .collect();
    let mut schema = schema_of(&pts[..1]);
    schema.fields.insert("count".into(), FieldType::Integer);
    let s = storage();
    // Create the table first so that the measurement is the insert alone.
    s.write_points(db, &rp(), "cpu", &schema, &pts[..1])
        .await
        .unwrap();
    let t0 = Instant::now();
    s.write_points(db, &rp(), "cpu", &schema, &pts)
        .await
        .unwrap();
    let dt = t0.elapsed();
    eprintln!(
        "1M-point batch: {:?}, {:.0} rows/s",
        dt,
        n as f64 / dt.as_secs_f64()
    );
    let t = qualified_table(db, "autogen", "cpu");
    let rs = q(&format!("SELECT count(), sum(f_count) FROM {t} FINAL")).await;
    let expect_sum: i64 = (0..n as i64).sum();
    assert_eq!(
        rs.rows,
        vec![vec![Value::Unsigned(n as u64), Value::Integer(expect_sum)]]
    );

    // Cost of the fsync settings on a small insert, against a table without them.
    let small: Vec<Point> = pts[..1000].to_vec();
    let e = engine();
    let nofsync = format!(
        "{}.{}",
        quote_ident(&naming::database_name(db)),
        quote_ident("nofsync")
    );
    e.execute(&format!("CREATE TABLE {nofsync} AS {t}"))
        .await
        .unwrap();
    e.execute(&format!(
        "ALTER TABLE {nofsync} MODIFY SETTING fsync_after_insert = 0, fsync_part_directory = 0"
    ))
    .await
    .unwrap();
    let time_inserts = |table: String| {
        let e = e.clone();
        let small = small.clone();
        async move {
            let block: String = small
                .iter()
                .map(|p| {
                    format!(
                        "({},'{}',{})",
                        p.timestamp,
                        p.tags[0].1,
                        match p.fields[0].1 {
                            FieldValue::Float(f) => f,
                            _ => 0.0,
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(",");
            let sql = format!("INSERT INTO {table} (time, t_host, f_usage) VALUES {block}");
            let t0 = Instant::now();
            for _ in 0..20 {
                e.execute(&sql).await.unwrap();
            }
            t0.elapsed() / 20
        }
    };
    let with = time_inserts(t.clone()).await;
    let without = time_inserts(nofsync.clone()).await;
    eprintln!("1000-row insert: {with:?} with fsync, {without:?} without");
    let _ = Role::Read;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_cache_is_repaired() {
    let db = "stale";
    let p = [point(
        "m",
        &[("h", "a")],
        vec![("v", FieldValue::Float(1.0)), ("w", FieldValue::Float(2.0))],
        1,
    )];
    write(db, &p).await;
    let t = qualified_table(db, "autogen", "m");
    // A column dropped behind the cache.
    engine()
        .execute(&format!("ALTER TABLE {t} DROP COLUMN f_w"))
        .await
        .unwrap();
    write(db, &p).await;
    assert_eq!(
        q(&format!("SELECT f_v, f_w FROM {t} FINAL")).await.rows,
        vec![vec![Value::Float(1.0), Value::Float(2.0)]]
    );
    // The table dropped behind the cache.
    engine()
        .execute(&format!("DROP TABLE {t} SYNC"))
        .await
        .unwrap();
    write(db, &p).await;
    assert_eq!(
        q(&format!("SELECT count() FROM {t} FINAL")).await.rows,
        vec![vec![Value::Unsigned(1)]]
    );
    // The database dropped behind the cache.
    engine()
        .execute(&format!(
            "DROP DATABASE {} SYNC",
            quote_ident(&naming::database_name(db))
        ))
        .await
        .unwrap();
    write(db, &p).await;
    assert_eq!(
        q(&format!("SELECT count() FROM {t} FINAL")).await.rows,
        vec![vec![Value::Unsigned(1)]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_write_wins_within_a_large_batch() {
    let db = "lastwins";
    // 500 series x 10 times, each (series, time) written 10 times in one batch; field `a`
    // only on even rounds, so its last value comes from round 8. The batch is large enough
    // to be encoded as two blocks on two threads: rounds 0–4 in the first, 5–9 in the
    // second, and the second's values must still win.
    let n = 50_000usize;
    let pts: Vec<Point> = (0..n)
        .map(|i| {
            let round = i / 5000;
            let mut fields = vec![("v".to_string(), FieldValue::Float(i as f64))];
            if round % 2 == 0 {
                fields.push(("a".to_string(), FieldValue::Float(i as f64)));
            }
            Point {
                measurement: "m".into(),
                tags: vec![("s".into(), format!("s{}", i % 500))],
                fields,
                timestamp: ((i / 500) % 10) as i64,
            }
        })
        .collect();
    storage()
        .write_points(db, &rp(), "m", &float_schema(&["v", "a"]), &pts)
        .await
        .unwrap();
    let expect_v: f64 = (45_000..50_000).map(|i| i as f64).sum();
    let expect_a: f64 = (40_000..45_000).map(|i| i as f64).sum();
    let t = qualified_table(db, "autogen", "m");
    let sql = format!("SELECT count(), sum(f_v), sum(f_a) FROM {t} FINAL");
    let want = vec![vec![
        Value::Unsigned(5000),
        Value::Float(expect_v),
        Value::Float(expect_a),
    ]];
    assert_eq!(q(&sql).await.rows, want);
    engine()
        .execute(&format!("OPTIMIZE TABLE {t} FINAL"))
        .await
        .unwrap();
    assert_eq!(q(&sql).await.rows, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_merge_only_where_points_were_overwritten() {
    let db = "mergeflag";
    let week = 7 * 24 * HOUR;
    let must_merge =
        |min: Option<i64>, max: Option<i64>| engine().must_merge(db, "autogen", "m", min, max);
    let schema = float_schema(&["a", "b"]);
    let s = storage().with_overwrite_settle(std::time::Duration::ZERO);
    // Appends, in order per series (series interleaved), never need a merge.
    let mut batch = Vec::new();
    for i in 0..10 {
        for h in ["x", "y"] {
            batch.push(point(
                "m",
                &[("h", h)],
                vec![("a", FieldValue::Float(i as f64))],
                i * SEC,
            ));
        }
    }
    s.write_points(db, &rp(), "m", &schema, &batch)
        .await
        .unwrap();
    let later = point(
        "m",
        &[("h", "x")],
        vec![("a", FieldValue::Float(10.0))],
        week + SEC,
    );
    s.write_points(db, &rp(), "m", &schema, &[later])
        .await
        .unwrap();
    // (Upkeep's queue is the process's: other tests of this binary mark their own tables,
    // so only this table's marks are asserted.)
    assert!(!must_merge(None, None));
    // Overwriting one point marks its partition only.
    let over = point(
        "m",
        &[("h", "y")],
        vec![("b", FieldValue::Float(-1.0))],
        3 * SEC,
    );
    s.write_points(db, &rp(), "m", &schema, &[over])
        .await
        .unwrap();
    assert!(must_merge(None, None));
    assert!(must_merge(Some(0), Some(SEC)));
    assert!(!must_merge(Some(week), None));
    let t = qualified_table(db, "autogen", "m");
    let row = format!("SELECT f_a, f_b FROM {t} {{}} WHERE t_h = 'y' AND time = fromUnixTimestamp64Nano(toInt64({}))", 3 * SEC);
    let merged = vec![vec![Value::Float(3.0), Value::Float(-1.0)]];
    assert_eq!(q(&row.replace("{}", "FINAL")).await.rows, merged);
    // Upkeep merges the partition (after whatever other tests queued before it); plain
    // reads then see one merged row.
    for _ in 0..100 {
        if !must_merge(None, None) {
            break;
        }
        assert!(s.optimize_one_overwritten().await.unwrap());
    }
    assert!(!must_merge(None, None));
    assert_eq!(q(&row.replace("{}", "")).await.rows, merged);
    assert_eq!(
        q(&format!("SELECT count() FROM {t}")).await.rows,
        vec![vec![Value::Unsigned(21)]]
    );
    // Dropping the measurement forgets its marks.
    let again = point(
        "m",
        &[("h", "y")],
        vec![("b", FieldValue::Float(-2.0))],
        3 * SEC,
    );
    s.write_points(db, &rp(), "m", &schema, &[again])
        .await
        .unwrap();
    assert!(must_merge(None, None));
    s.drop_measurement(db, &["autogen".to_string()], "m")
        .await
        .unwrap();
    assert!(!must_merge(None, None));
}

/// chDB hands a failed statement's partial output out with the next statement's result
/// on the same connection; the engine drains it, so no answer carries another's rows.
#[test]
fn a_failed_statements_output_never_reaches_the_next_answer() {
    let e = engine();
    let failing = [
        "SELECT number FROM numbers(10000000) SETTINGS max_result_rows = 100000, result_overflow_mode = 'throw'",
        "SELECT number, toString(number) FROM numbers(100000000) SETTINGS max_memory_usage = 20000000",
        "SELECT throwIf(number = 50000), number FROM numbers(100000) SETTINGS max_block_size = 1000",
    ];
    for bad in failing {
        // Every connection of the pool fails once and answers twice after it.
        for _ in 0..4 {
            assert!(e.query_blocking(Role::Read, bad).is_err(), "{bad}");
            for _ in 0..2 {
                let rs = e
                    .query_blocking(
                        Role::Read,
                        "SELECT 0 AS hb_bucket, count() FROM numbers(10)",
                    )
                    .unwrap_or_else(|err| panic!("after {bad}: {err}"));
                assert_eq!(rs.rows, vec![vec![Value::Unsigned(0), Value::Unsigned(10)]]);
            }
        }
    }
}

/// A table created before merges were fsynced, replaced parts removed promptly and the
/// primary index loaded at start-up is given every such setting and the index of its
/// granules' times (the upgrade step `ChdbEngine::open` starts in the background), and
/// the step leaves up-to-date tables alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_from_before_merge_fsync_are_upgraded() {
    let e = engine();
    e.execute("CREATE DATABASE IF NOT EXISTS hb_upgrade")
        .await
        .unwrap();
    e.execute(
        "CREATE TABLE IF NOT EXISTS hb_upgrade.legacy (time DateTime64(9), v Int64) \
         ENGINE = AggregatingMergeTree ORDER BY time \
         SETTINGS fsync_after_insert = 1, fsync_part_directory = 1",
    )
    .await
    .unwrap();
    let engine_full = || async {
        let rs = e
            .query("SELECT engine_full FROM system.tables WHERE database = 'hb_upgrade' AND name = 'legacy'")
            .await
            .unwrap();
        match rs.rows.first().and_then(|r| r.first()) {
            Some(Value::String(s)) => s.clone(),
            other => panic!("no engine_full: {other:?}"),
        }
    };
    e.upgrade_older_tables().unwrap();
    let upgraded = engine_full().await;
    for (setting, _) in hyperbyte_adapter_chdb::layout::UPGRADED_SETTINGS {
        assert!(upgraded.contains(setting), "{setting} in {upgraded}");
    }
    e.upgrade_older_tables().unwrap();
    assert_eq!(engine_full().await, upgraded);
    // A table created now has every upgraded setting as `engine_full` prints it (or the
    // upgrade would alter it again at every start).
    write(
        "upgrade_new",
        &[point("m", &[], vec![("v", FieldValue::Integer(1))], SEC)],
    )
    .await;
    let rs = q(&format!(
        "SELECT engine_full FROM system.tables WHERE database = '{}' AND name = '{}'",
        naming::database_name("upgrade_new"),
        naming::table_name("autogen", "m")
    ))
    .await;
    let Some(Value::String(fresh)) = rs.rows.first().and_then(|r| r.first()) else {
        panic!("no engine_full: {rs:?}");
    };
    for (setting, _) in hyperbyte_adapter_chdb::layout::UPGRADED_SETTINGS {
        assert!(fresh.contains(setting), "{setting} in {fresh}");
    }
    let granules = hyperbyte_adapter_chdb::layout::READ_GRANULE_SETTINGS;
    assert!(fresh.contains(granules), "{granules} in {fresh}");
    // Both carry the index of their granules' times, the older one since the upgrade.
    let indexed = q(&format!(
        "SELECT database, table, expr FROM system.data_skipping_indices WHERE name = \
         'hb_time_range' AND database IN ('hb_upgrade', '{}')",
        naming::database_name("upgrade_new")
    ))
    .await;
    let time = Value::String("time".into());
    assert_eq!(indexed.rows.len(), 2, "{indexed:?}");
    assert!(
        indexed.rows.iter().all(|r| r.get(2) == Some(&time)),
        "{indexed:?}"
    );
}

/// Tags go to the engine as `LowCardinality(String)` with indexes of the width their
/// dictionary needs (UInt8 up to 256 keys, UInt16, UInt32 past 65,536), and points of a
/// series already in the block copy its row's indexes (the flush's views carry series
/// hashes): every row must read back with its own tags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_dictionaries_of_every_width_read_back() {
    let db = "tag_widths";
    let n = 70_000usize;
    let tag = |i: usize| -> Vec<(String, String)> {
        let mut t = vec![("mid".to_string(), format!("m{}", i % 300))];
        if !i.is_multiple_of(5) {
            t.push(("narrow".into(), format!("n{}", i % 3)));
        }
        t.push(("wide".into(), format!("w{i}")));
        t
    };
    // Every series twice in a row (the second time from the cache; the batch is encoded
    // as two blocks split in the middle, each holding both points of its series).
    let pts: Vec<Point> = (0..2 * n)
        .map(|j| Point {
            measurement: "m".into(),
            tags: tag(j / 2),
            fields: vec![("v".into(), FieldValue::Integer((j / 2) as i64))],
            timestamp: (j % 2) as i64 * SEC,
        })
        .collect();
    let mut views: Vec<_> = pts.iter().map(PointRef::from_point).collect();
    for v in &mut views {
        v.series_hash = Some(v.series());
    }
    storage()
        .write_views(db, &rp(), "m", &schema_of(&pts), &views)
        .await
        .unwrap();
    let t = qualified_table(db, "autogen", "m");
    let wrong = q(&format!(
        "SELECT count() FROM {t} WHERE t_wide != concat('w', toString(f_v)) \
         OR t_mid != concat('m', toString(f_v % 300)) \
         OR t_narrow != if(f_v % 5 = 0, '', concat('n', toString(f_v % 3)))"
    ))
    .await;
    assert_eq!(wrong.rows, vec![vec![Value::Unsigned(0)]]);
    let all = q(&format!("SELECT count(), uniqExact(t_wide) FROM {t}")).await;
    assert_eq!(
        all.rows,
        vec![vec![
            Value::Unsigned(2 * n as u64),
            Value::Unsigned(n as u64)
        ]]
    );
}
