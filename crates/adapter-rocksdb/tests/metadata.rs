//! Metadata store tests on real RocksDB: persistence. The rules (InfluxDB 1.6 semantics
//! and error texts, cascades, the series index) are the catalog's and tested in
//! `hyperbyte-catalog`; here every kind of change must be durable and load back, so that
//! the store reads exactly as the in-memory catalog fed the same commands, across reopens.
#![allow(clippy::unwrap_used)]

use hyperbyte_adapter_rocksdb::RocksDbMetadata;
use hyperbyte_catalog::MemoryMetadata;
use hyperbyte_domain::{
    ContinuousQuery, FieldShardType, FieldType, MetaCommand, RetentionPolicy, SeriesKey, Tombstone,
    User,
};
use hyperbyte_ports::{MetaError, MetadataPort};

const H: i64 = 3_600_000_000_000;
const D: i64 = 24 * H;

fn tags(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn err_text(r: Result<(), MetaError>) -> String {
    match r {
        Err(MetaError::Invalid(s)) => s,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// A workload with every kind of change, refusals and no-ops mixed in.
fn workload() -> Vec<MetaCommand> {
    let schema = |db: &str, m: &str, f: &str, t: FieldType| MetaCommand::RegisterSchema {
        database: db.into(),
        measurement: m.into(),
        fields: vec![(f.into(), t)],
        tag_keys: vec!["host".into()],
    };
    let shards =
        |db: &str, m: &str, rp: &str, start: i64, t: FieldType| MetaCommand::RegisterFieldShards {
            database: db.into(),
            measurement: m.into(),
            entries: vec![shard_entry("v", rp, start, t)],
        };
    let tombstone = |id: u64, db: &str| {
        MetaCommand::AddTombstone(Tombstone {
            id,
            database: db.into(),
            measurement: Some("cpu".into()),
            tag_predicate: vec![("host".into(), "a".into())],
            min_time: 0,
            max_time: 10,
            wal_sequence: 7,
        })
    };
    let cq = |db: &str, name: &str| {
        MetaCommand::CreateContinuousQuery(ContinuousQuery {
            database: db.into(),
            name: name.into(),
            query: format!("CREATE CONTINUOUS QUERY {name} ON {db}"),
        })
    };
    let user = |name: &str, hash: &str| {
        MetaCommand::PutUser(User {
            name: name.into(),
            password_hash: hash.into(),
            admin: name == "root",
            ..Default::default()
        })
    };
    vec![
        MetaCommand::create_database("db"),
        MetaCommand::create_database("other"),
        MetaCommand::CreateDatabase {
            name: "custom".into(),
            default_rp: Some(RetentionPolicy::new("", 2 * D, 0)),
        },
        MetaCommand::create_retention_policy("db", RetentionPolicy::new("week", 7 * D, 0), true),
        MetaCommand::create_retention_policy(
            "db",
            RetentionPolicy::new("bad", 2 * H, 3 * H),
            false,
        ),
        MetaCommand::alter_retention_policy("db", "week", Some(14 * D), None, false),
        MetaCommand::alter_retention_policy("db", "nope", Some(14 * D), None, false),
        schema("db", "cpu", "v", FieldType::Float),
        schema("db", "cpu", "v", FieldType::Integer),
        schema("db", "mem", "v", FieldType::Integer),
        schema("other", "cpu", "v", FieldType::String),
        shards("db", "cpu", "autogen", 0, FieldType::Float),
        shards("db", "cpu", "week", -7 * D, FieldType::String),
        shards("db", "cpu", "week", 7 * D, FieldType::Boolean),
        shards("db", "mem", "week", 0, FieldType::Float),
        MetaCommand::register_series(
            "db",
            "cpu",
            &[&[("host", "a")], &[("host", "b")], &[("host", "c")]],
        ),
        MetaCommand::register_series("db", "mem", &[&[("host", "a")], &[]]),
        MetaCommand::register_series("db", "weird name", &[&[("k,1", "v=2 x")]]),
        MetaCommand::register_series("other", "cpu", &[&[("host", "a")]]),
        MetaCommand::register_series("nodb", "cpu", &[&[("host", "a")]]),
        // A key that is not the canonical key of its tags keeps them on disk.
        MetaCommand::RegisterSeries {
            database: "db".into(),
            measurement: "cpu".into(),
            series: vec![("cpu#odd".into(), tags(&[("host", "odd")]))],
        },
        tombstone(1, "db"),
        tombstone(2, "db"),
        tombstone(3, "other"),
        tombstone(4, "nodb"),
        MetaCommand::RemoveTombstone { id: 1 },
        cq("other", "c0"),
        cq("db", "c2"),
        cq("db", "c1"),
        user("bob", "h1"),
        user("root", "h2"),
        user("bob", "h3"),
        MetaCommand::DropUser {
            name: "nouser".into(),
        },
        MetaCommand::DropSeries {
            database: "db".into(),
            measurement: "cpu".into(),
            keys: vec!["cpu,host=c".into(), "cpu#odd".into(), "cpu,host=zz".into()],
        },
        MetaCommand::DropSeries {
            database: "db".into(),
            measurement: "mem".into(),
            keys: vec!["mem".into(), "mem,host=a".into()],
        },
        MetaCommand::drop_retention_policy("db", "week"),
        MetaCommand::DropMeasurement {
            database: "db".into(),
            measurement: "weird name".into(),
        },
        MetaCommand::DropContinuousQuery {
            database: "db".into(),
            name: "c2".into(),
        },
        MetaCommand::DropUser { name: "bob".into() },
        MetaCommand::DropDatabase {
            name: "other".into(),
        },
        MetaCommand::create_database("other"),
        MetaCommand::register_series("other", "cpu", &[&[("host", "new")]]),
    ]
}

/// Everything the port reads, as one comparable text.
fn dump(m: &dyn MetadataPort) -> String {
    let mut out = format!(
        "{:?}\n{:?}\n{:?}\n",
        m.databases(),
        m.users(),
        m.continuous_queries()
    );
    for db in ["db", "other", "custom", "nodb"] {
        out += &format!(
            "{db}: {:?} {} {:?} {:?}\n",
            m.measurements(db),
            m.series_count(db),
            m.series(db, None),
            m.tombstones(db)
        );
        for ms in ["cpu", "mem", "weird name"] {
            out += &format!(
                "  {ms}: {:?} {:?} {:?} {:?}\n",
                m.schema(db, ms),
                m.tag_values(db, ms, "host"),
                m.tag_keys(db, ms),
                m.series_with_tag(db, ms, "host", "odd"),
            );
            for rp in ["autogen", "week"] {
                for start in [-7 * D, 0, 7 * D] {
                    if let Some(t) = m.field_shard_type(db, ms, "v", rp, start) {
                        out += &format!("    {rp}@{start}: {t}\n");
                    }
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn every_change_survives_reopen_and_reads_as_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let model = MemoryMetadata::new();
    let mut meta = RocksDbMetadata::open(dir.path()).unwrap();
    for (i, cmd) in workload().into_iter().enumerate() {
        let want = model.apply(cmd.clone()).await.map_err(|e| e.to_string());
        let got = meta.apply(cmd.clone()).await.map_err(|e| e.to_string());
        assert_eq!(got, want, "{cmd:?}");
        assert_eq!(dump(&meta), dump(&model), "after {cmd:?}");
        if i % 4 == 3 {
            drop(meta);
            meta = RocksDbMetadata::open(dir.path()).unwrap();
            assert_eq!(dump(&meta), dump(&model), "reopened after {cmd:?}");
        }
    }
    drop(meta);
    let meta = RocksDbMetadata::open(dir.path()).unwrap();
    assert_eq!(dump(&meta), dump(&model));
    // The creation counter survives: a new database is listed last.
    meta.apply(MetaCommand::create_database("zzz"))
        .await
        .unwrap();
    model
        .apply(MetaCommand::create_database("zzz"))
        .await
        .unwrap();
    assert_eq!(dump(&meta), dump(&model));
    assert_eq!(meta.databases().last().unwrap().name, "zzz");
    // Rule errors are the catalog's texts, unchanged through the store.
    let r = meta
        .apply(MetaCommand::create_retention_policy(
            "nodb",
            RetentionPolicy::new("r", H, 0),
            false,
        ))
        .await;
    assert_eq!(err_text(r), "database not found: nodb");
}

#[tokio::test]
async fn bulk_series_registration_is_fast() {
    let dir = tempfile::tempdir().unwrap();
    let meta = RocksDbMetadata::open(dir.path()).unwrap();
    meta.apply(MetaCommand::create_database("db"))
        .await
        .unwrap();
    let n = 100_000;
    let start = std::time::Instant::now();
    for chunk in 0..10 {
        let series = (0..n / 10)
            .map(|i| {
                let t = tags(&[
                    ("hostname", &format!("host_{}", chunk * n / 10 + i)),
                    ("rack", &format!("{}", i % 100)),
                    ("region", &format!("r{}", i % 7)),
                ]);
                (SeriesKey::new("cpu", &t).0, t)
            })
            .collect();
        meta.apply(MetaCommand::RegisterSeries {
            database: "db".into(),
            measurement: "cpu".into(),
            series,
        })
        .await
        .unwrap();
    }
    let register = start.elapsed();
    assert_eq!(meta.series_count("db"), n);
    let start = std::time::Instant::now();
    for i in 0..n {
        assert!(meta.has_series(
            "db",
            &format!(
                "cpu,hostname=host_{i},rack={},region=r{}",
                (i % 10_000) % 100,
                (i % 10_000) % 7
            )
        ));
    }
    let lookups = start.elapsed();
    assert_eq!(meta.tag_values("db", "cpu", "region").len(), 7);
    drop(meta);
    let start = std::time::Instant::now();
    let meta = RocksDbMetadata::open(dir.path()).unwrap();
    let reopen = start.elapsed();
    assert_eq!(meta.series_count("db"), n);
    eprintln!("{n} series: register {register:?}, {n} has_series {lookups:?}, reopen {reopen:?}");
    assert!(register.as_secs() < 20 && reopen.as_secs() < 20);
}

fn shard_entry(field: &str, rp: &str, start: i64, t: FieldType) -> FieldShardType {
    FieldShardType {
        field: field.into(),
        retention_policy: rp.into(),
        shard_start: start,
        field_type: t,
    }
}

#[tokio::test]
async fn field_types_are_kept_per_shard_group_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let week = 7 * D;
    {
        let meta = RocksDbMetadata::open(dir.path()).unwrap();
        meta.apply(MetaCommand::create_database("db"))
            .await
            .unwrap();
        meta.apply(MetaCommand::RegisterSchema {
            database: "db".into(),
            measurement: "m".into(),
            fields: vec![("v".into(), FieldType::Float)],
            tag_keys: vec![],
        })
        .await
        .unwrap();
        meta.apply(MetaCommand::RegisterFieldShards {
            database: "db".into(),
            measurement: "m".into(),
            entries: vec![
                shard_entry("v", "autogen", 0, FieldType::Float),
                shard_entry("v", "autogen", -week, FieldType::String),
                shard_entry("v", "autogen", week, FieldType::Integer),
            ],
        })
        .await
        .unwrap();
        // The same type again is a no-op; another type in a known shard group conflicts.
        meta.apply(MetaCommand::RegisterFieldShards {
            database: "db".into(),
            measurement: "m".into(),
            entries: vec![shard_entry("v", "autogen", 0, FieldType::Float)],
        })
        .await
        .unwrap();
        let r = meta
            .apply(MetaCommand::RegisterFieldShards {
                database: "db".into(),
                measurement: "m".into(),
                entries: vec![shard_entry("v", "autogen", week, FieldType::Boolean)],
            })
            .await;
        assert_eq!(
            err_text(r),
            "field type conflict: input field \"v\" on measurement \"m\" is type boolean, already exists as type integer"
        );
    }
    let meta = RocksDbMetadata::open(dir.path()).unwrap();
    assert_eq!(
        meta.field_shard_type("db", "m", "v", "autogen", -week),
        Some(FieldType::String)
    );
    assert_eq!(
        meta.field_shard_type("db", "m", "v", "autogen", 0),
        Some(FieldType::Float)
    );
    assert_eq!(
        meta.field_shard_type("db", "m", "v", "autogen", 2 * week),
        None
    );
    assert_eq!(meta.field_shard_type("db", "m", "v", "other", 0), None);
    let schema = meta.schema("db", "m").unwrap();
    assert_eq!(
        schema.field_types("v"),
        vec![FieldType::Float, FieldType::Integer, FieldType::String]
    );
    // Dropping the policy forgets its shard groups; the primary type stays.
    meta.apply(MetaCommand::create_retention_policy(
        "db",
        RetentionPolicy::new("other", 0, week),
        false,
    ))
    .await
    .unwrap();
    meta.apply(MetaCommand::drop_retention_policy("db", "autogen"))
        .await
        .unwrap();
    assert_eq!(
        meta.field_shard_type("db", "m", "v", "autogen", -week),
        None
    );
    assert_eq!(
        meta.schema("db", "m").unwrap().field_types("v"),
        vec![FieldType::Float]
    );
    drop(meta);
    let meta = RocksDbMetadata::open(dir.path()).unwrap();
    assert_eq!(meta.field_shard_type("db", "m", "v", "autogen", 0), None);
    // Dropping the measurement forgets everything about it.
    meta.apply(MetaCommand::RegisterFieldShards {
        database: "db".into(),
        measurement: "m".into(),
        entries: vec![shard_entry("v", "other", 0, FieldType::Float)],
    })
    .await
    .unwrap();
    meta.apply(MetaCommand::DropMeasurement {
        database: "db".into(),
        measurement: "m".into(),
    })
    .await
    .unwrap();
    assert_eq!(meta.field_shard_type("db", "m", "v", "other", 0), None);
}
