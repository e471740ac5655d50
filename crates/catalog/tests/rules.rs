//! InfluxDB 1.6 semantics of every metadata command (error texts checked against a real
//! InfluxDB 1.6.7), cascades and the series index, through the in-memory port.
#![allow(clippy::unwrap_used)]

mod common;

use common::Meta;
use hyperbyte_catalog::Change;
use hyperbyte_domain::{
    ContinuousQuery, Database, FieldShardType, FieldType, MetaCommand, RetentionPolicy, SeriesKey,
    Tombstone, User,
};
use hyperbyte_ports::{MetaError, MetadataPort};

const H: i64 = 3_600_000_000_000;
const D: i64 = 24 * H;

fn tags(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn err_text(r: Result<Vec<Change>, MetaError>) -> String {
    match r {
        Err(MetaError::Invalid(s)) => s,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn rp_names(meta: &Meta, db: &str) -> (Vec<String>, Option<String>) {
    let d = meta.database(db).unwrap();
    (
        d.retention_policies
            .iter()
            .map(|r| r.name.clone())
            .collect(),
        d.default_rp,
    )
}

#[test]
fn databases_follow_influx() {
    let meta = Meta::new();
    meta.apply_blocking(MetaCommand::create_database("a"))
        .unwrap();
    meta.apply_blocking(MetaCommand::create_database("a"))
        .unwrap(); // idempotent
    assert_eq!(meta.database("a").unwrap(), Database::new("a"));
    // CREATE DATABASE a WITH DURATION 1d on an existing database.
    let r = meta.apply_blocking(MetaCommand::CreateDatabase {
        name: "a".into(),
        default_rp: Some(RetentionPolicy::new("autogen", D, 0)),
    });
    assert_eq!(
        err_text(r),
        "retention policy conflicts with an existing policy"
    );

    // CREATE DATABASE b WITH DURATION 1d NAME foo
    let with_foo = MetaCommand::CreateDatabase {
        name: "b".into(),
        default_rp: Some(RetentionPolicy::new("foo", D, 0)),
    };
    meta.apply_blocking(with_foo.clone()).unwrap();
    let b = meta.database("b").unwrap();
    assert_eq!(
        b.retention_policies,
        vec![RetentionPolicy::new("foo", D, H)]
    );
    assert_eq!(b.default_rp.as_deref(), Some("foo"));
    meta.apply_blocking(with_foo).unwrap(); // same spec: no error
    meta.apply_blocking(MetaCommand::create_database("b"))
        .unwrap(); // plain create: no-op
    assert_eq!(rp_names(&meta, "b").0, vec!["foo"]);
    for spec in [
        RetentionPolicy::new("foo", 2 * D, 0),
        RetentionPolicy::new("bar", D, 0),
    ] {
        let r = meta.apply_blocking(MetaCommand::CreateDatabase {
            name: "b".into(),
            default_rp: Some(spec),
        });
        assert_eq!(
            err_text(r),
            "retention policy conflicts with an existing policy"
        );
    }
    // A matching but non-default policy conflicts too.
    meta.apply_blocking(MetaCommand::create_retention_policy(
        "b",
        RetentionPolicy::new("r", 2 * H, 0),
        false,
    ))
    .unwrap();
    let r = meta.apply_blocking(MetaCommand::CreateDatabase {
        name: "b".into(),
        default_rp: Some(RetentionPolicy::new("r", 2 * H, 0)),
    });
    assert_eq!(
        err_text(r),
        "retention policy conflicts with an existing policy"
    );

    // Duration checks on a new database.
    let r = meta.apply_blocking(MetaCommand::CreateDatabase {
        name: "c".into(),
        default_rp: Some(RetentionPolicy::new("", 30 * 60 * 1_000_000_000, 0)),
    });
    assert_eq!(
        err_text(r),
        "retention policy duration must be at least 1h0m0s"
    );
    let r = meta.apply_blocking(MetaCommand::CreateDatabase {
        name: "c".into(),
        default_rp: Some(RetentionPolicy::new("", 2 * H, 3 * H)),
    });
    assert_eq!(
        err_text(r),
        "retention policy duration must be greater than the shard duration"
    );
    assert!(meta.database("c").is_none());
    // Empty name means autogen; a 10m shard duration is raised to 1h.
    meta.apply_blocking(MetaCommand::CreateDatabase {
        name: "c".into(),
        default_rp: Some(RetentionPolicy::new("", 2 * H, 10 * 60 * 1_000_000_000)),
    })
    .unwrap();
    assert_eq!(
        meta.database("c").unwrap().retention_policies,
        vec![RetentionPolicy::new("autogen", 2 * H, H)]
    );

    // A database whose policies were all dropped takes the new one as default.
    meta.apply_blocking(MetaCommand::create_database("e"))
        .unwrap();
    meta.apply_blocking(MetaCommand::drop_retention_policy("e", "autogen"))
        .unwrap();
    meta.apply_blocking(MetaCommand::CreateDatabase {
        name: "e".into(),
        default_rp: Some(RetentionPolicy::new("x", 2 * H, 0)),
    })
    .unwrap();
    assert_eq!(
        rp_names(&meta, "e"),
        (vec!["x".to_string()], Some("x".to_string()))
    );

    // DROP DATABASE of a missing database is fine; order is creation order.
    meta.apply_blocking(MetaCommand::DropDatabase {
        name: "nodb".into(),
    })
    .unwrap();
    let names: Vec<String> = meta.databases().into_iter().map(|d| d.name).collect();
    assert_eq!(names, vec!["a", "b", "c", "e"]);
    meta.apply_blocking(MetaCommand::DropDatabase { name: "b".into() })
        .unwrap();
    meta.apply_blocking(MetaCommand::create_database("b"))
        .unwrap();
    let names: Vec<String> = meta.databases().into_iter().map(|d| d.name).collect();
    assert_eq!(names, vec!["a", "c", "e", "b"]);
    assert_eq!(meta.database("b").unwrap(), Database::new("b"));
}

#[test]
fn retention_policies_follow_influx() {
    let meta = Meta::new();
    meta.apply_blocking(MetaCommand::create_database("a"))
        .unwrap();

    meta.apply_blocking(MetaCommand::create_retention_policy(
        "a",
        RetentionPolicy::new("r1", H, 0),
        false,
    ))
    .unwrap();
    meta.apply_blocking(MetaCommand::create_retention_policy(
        "a",
        RetentionPolicy::new("r1", H, 0),
        false,
    ))
    .unwrap(); // identical: ok
    let r = meta.apply_blocking(MetaCommand::create_retention_policy(
        "a",
        RetentionPolicy::new("r1", 2 * H, 0),
        false,
    ));
    assert_eq!(err_text(r), "retention policy already exists");
    let r = meta.apply_blocking(MetaCommand::create_retention_policy(
        "a",
        RetentionPolicy::new("r1", H, 0),
        true,
    ));
    assert_eq!(
        err_text(r),
        "retention policy conflicts with an existing policy"
    );
    let r = meta.apply_blocking(MetaCommand::create_retention_policy(
        "nodb",
        RetentionPolicy::new("r1", H, 0),
        false,
    ));
    assert_eq!(err_text(r), "database not found: nodb");
    let r = meta.apply_blocking(MetaCommand::create_retention_policy(
        "a",
        RetentionPolicy::new("r2", 30 * 60 * 1_000_000_000, 0),
        false,
    ));
    assert_eq!(
        err_text(r),
        "retention policy duration must be at least 1h0m0s"
    );
    let r = meta.apply_blocking(MetaCommand::create_retention_policy(
        "a",
        RetentionPolicy::new("r2", 2 * H, 3 * H),
        false,
    ));
    assert_eq!(
        err_text(r),
        "retention policy duration must be greater than the shard duration"
    );
    meta.apply_blocking(MetaCommand::create_retention_policy(
        "a",
        RetentionPolicy::new("r2", 2 * H, 10 * 60 * 1_000_000_000),
        false,
    ))
    .unwrap();
    assert_eq!(
        meta.database("a").unwrap().rp("r2").unwrap(),
        &RetentionPolicy::new("r2", 2 * H, H)
    );
    // Shard duration 0 takes the default for the duration (7d → 1d).
    meta.apply_blocking(MetaCommand::create_retention_policy(
        "a",
        RetentionPolicy::new("w", 7 * D, 0),
        true,
    ))
    .unwrap();
    assert_eq!(
        meta.database("a").unwrap().rp("w").unwrap(),
        &RetentionPolicy::new("w", 7 * D, D)
    );
    assert_eq!(rp_names(&meta, "a").1.as_deref(), Some("w"));
    // Re-creating the default with DEFAULT is fine.
    meta.apply_blocking(MetaCommand::create_retention_policy(
        "a",
        RetentionPolicy::new("w", 7 * D, D),
        true,
    ))
    .unwrap();

    // ALTER
    let r = meta.apply_blocking(MetaCommand::alter_retention_policy(
        "a",
        "x",
        Some(H),
        None,
        false,
    ));
    assert_eq!(err_text(r), "retention policy not found: x");
    let r = meta.apply_blocking(MetaCommand::alter_retention_policy(
        "nodb",
        "x",
        Some(H),
        None,
        false,
    ));
    assert_eq!(err_text(r), "database not found: nodb");
    let r = meta.apply_blocking(MetaCommand::alter_retention_policy(
        "a",
        "r2",
        Some(30 * 60 * 1_000_000_000),
        None,
        false,
    ));
    assert_eq!(
        err_text(r),
        "retention policy duration must be at least 1h0m0s"
    );
    let r = meta.apply_blocking(MetaCommand::alter_retention_policy(
        "a",
        "r2",
        None,
        Some(5 * H),
        false,
    ));
    assert_eq!(
        err_text(r),
        "retention policy duration must be greater than the shard duration"
    );
    let r = meta.apply_blocking(MetaCommand::alter_retention_policy(
        "a",
        "autogen",
        Some(H),
        None,
        false,
    )); // shard is 7d
    assert_eq!(
        err_text(r),
        "retention policy duration must be greater than the shard duration"
    );
    meta.apply_blocking(MetaCommand::alter_retention_policy(
        "a",
        "r2",
        Some(0),
        None,
        false,
    ))
    .unwrap();
    assert_eq!(
        meta.database("a").unwrap().rp("r2").unwrap(),
        &RetentionPolicy::new("r2", 0, H)
    );
    meta.apply_blocking(MetaCommand::alter_retention_policy(
        "a",
        "r2",
        None,
        Some(0),
        true,
    ))
    .unwrap();
    assert_eq!(
        meta.database("a").unwrap().rp("r2").unwrap(),
        &RetentionPolicy::new("r2", 0, 7 * D)
    );
    assert_eq!(rp_names(&meta, "a").1.as_deref(), Some("r2"));
    meta.apply_blocking(MetaCommand::AlterRetentionPolicy {
        database: "a".into(),
        name: "r2".into(),
        duration: None,
        shard_group_duration: None,
        replication: Some(3),
        make_default: false,
    })
    .unwrap();
    assert_eq!(meta.database("a").unwrap().rp("r2").unwrap().replication, 3);

    // DROP: missing policy or database is fine; dropping the default leaves it dangling.
    meta.apply_blocking(MetaCommand::drop_retention_policy("a", "nope"))
        .unwrap();
    meta.apply_blocking(MetaCommand::drop_retention_policy("nodb", "nope"))
        .unwrap();
    meta.apply_blocking(MetaCommand::drop_retention_policy("a", "r2"))
        .unwrap();
    let (names, default) = rp_names(&meta, "a");
    assert_eq!(names, vec!["autogen", "r1", "w"]);
    assert_eq!(default.as_deref(), Some("r2"));
    assert!(meta.database("a").unwrap().resolve_rp(None).is_none());
    // Re-creating a policy of that name makes it the default again.
    meta.apply_blocking(MetaCommand::create_retention_policy(
        "a",
        RetentionPolicy::new("r2", 2 * H, 0),
        false,
    ))
    .unwrap();
    assert_eq!(
        meta.database("a").unwrap().resolve_rp(None).unwrap().name,
        "r2"
    );

    // Everything survives a reopen.
    let before = meta.database("a").unwrap();
    let meta = meta.reopen();
    assert_eq!(meta.database("a").unwrap(), before);
}

#[test]
fn schemas_series_and_tag_values() {
    let meta = Meta::new();
    let r = meta.apply_blocking(MetaCommand::RegisterSchema {
        database: "x".into(),
        measurement: "cpu".into(),
        fields: vec![],
        tag_keys: vec![],
    });
    assert_eq!(err_text(r), "database not found: x");
    meta.apply_blocking(MetaCommand::create_database("db"))
        .unwrap();
    meta.apply_blocking(MetaCommand::RegisterSchema {
        database: "db".into(),
        measurement: "cpu".into(),
        fields: vec![
            ("v".into(), FieldType::Float),
            ("n".into(), FieldType::Integer),
        ],
        tag_keys: vec!["host".into(), "region".into()],
    })
    .unwrap();
    meta.apply_blocking(MetaCommand::RegisterSchema {
        database: "db".into(),
        measurement: "cpu".into(),
        fields: vec![
            ("v".into(), FieldType::Float),
            ("s".into(), FieldType::String),
        ],
        tag_keys: vec!["host".into()],
    })
    .unwrap();
    let r = meta.apply_blocking(MetaCommand::RegisterSchema {
        database: "db".into(),
        measurement: "cpu".into(),
        fields: vec![("v".into(), FieldType::Integer)],
        tag_keys: vec![],
    });
    assert_eq!(
        err_text(r),
        "field type conflict: input field \"v\" on measurement \"cpu\" is type integer, already exists as type float"
    );
    let schema = meta.schema("db", "cpu").unwrap();
    assert_eq!(
        schema
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        vec![
            ("n", FieldType::Integer),
            ("s", FieldType::String),
            ("v", FieldType::Float)
        ]
    );
    assert_eq!(
        schema.tag_keys.iter().cloned().collect::<Vec<_>>(),
        vec!["host", "region"]
    );

    meta.apply_blocking(MetaCommand::register_series(
        "db",
        "cpu",
        &[
            &[("host", "a"), ("region", "east")],
            &[("host", "b"), ("region", "east")],
            &[("host", "c"), ("region", "west")],
            &[("host", "a"), ("region", "east")], // duplicate inside the command
        ],
    ))
    .unwrap();
    meta.apply_blocking(MetaCommand::register_series(
        "db",
        "mem",
        &[&[("host", "a")], &[]],
    ))
    .unwrap();
    meta.apply_blocking(MetaCommand::register_series(
        "db",
        "weird name",
        &[&[("k,1", "v=2 x")]],
    ))
    .unwrap();
    // Registering known series again is a no-op.
    meta.apply_blocking(MetaCommand::register_series(
        "db",
        "cpu",
        &[&[("host", "b"), ("region", "east")]],
    ))
    .unwrap();

    assert_eq!(meta.series_count("db"), 6);
    assert_eq!(meta.measurements("db"), vec!["cpu", "mem", "weird name"]);
    assert!(meta.has_series("db", "cpu,host=a,region=east"));
    assert!(meta.has_series("db", "mem"));
    assert!(meta.has_series("db", "weird\\ name,k\\,1=v\\=2\\ x"));
    assert!(!meta.has_series("db", "cpu,host=z,region=east"));
    assert!(!meta.has_series("other", "mem"));
    let cpu = meta.series("db", Some("cpu"));
    assert_eq!(
        cpu.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(),
        vec![
            "cpu,host=a,region=east",
            "cpu,host=b,region=east",
            "cpu,host=c,region=west"
        ]
    );
    assert_eq!(cpu[2].tags, tags(&[("host", "c"), ("region", "west")]));
    assert_eq!(cpu[2].measurement, "cpu");
    let all = meta.series("db", None);
    let keys: Vec<&str> = all.iter().map(|s| s.key.as_str()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(keys.len(), 6);
    let weird = all.iter().find(|s| s.measurement == "weird name").unwrap();
    assert_eq!(weird.tags, tags(&[("k,1", "v=2 x")]));
    assert_eq!(meta.tag_values("db", "cpu", "host"), vec!["a", "b", "c"]);
    assert_eq!(meta.tag_values("db", "cpu", "region"), vec!["east", "west"]);
    assert!(meta.tag_values("db", "cpu", "nope").is_empty());

    // DROP SERIES: unused tag values disappear.
    meta.apply_blocking(MetaCommand::DropSeries {
        database: "db".into(),
        measurement: "cpu".into(),
        keys: vec!["cpu,host=c,region=west".into(), "cpu,host=zzz".into()],
    })
    .unwrap();
    assert_eq!(meta.tag_values("db", "cpu", "region"), vec!["east"]);
    assert_eq!(meta.tag_values("db", "cpu", "host"), vec!["a", "b"]);
    assert_eq!(meta.series_count("db"), 5);
    assert!(!meta.has_series("db", "cpu,host=c,region=west"));

    // Reopen restores schema, series and indexes.
    let meta = meta.reopen();
    assert_eq!(meta.schema("db", "cpu").unwrap(), schema);
    assert_eq!(meta.series_count("db"), 5);
    assert_eq!(meta.tag_values("db", "cpu", "host"), vec!["a", "b"]);
    assert_eq!(meta.series("db", None).len(), 5);
    assert!(meta.has_series("db", "weird\\ name,k\\,1=v\\=2\\ x"));

    // Dropping every series of a measurement removes it, fields included (InfluxDB).
    meta.apply_blocking(MetaCommand::DropSeries {
        database: "db".into(),
        measurement: "mem".into(),
        keys: vec!["mem".into(), "mem,host=a".into()],
    })
    .unwrap();
    assert_eq!(meta.measurements("db"), vec!["cpu", "weird name"]);

    // DROP MEASUREMENT removes schema and series; missing ones are fine.
    meta.apply_blocking(MetaCommand::DropMeasurement {
        database: "db".into(),
        measurement: "cpu".into(),
    })
    .unwrap();
    meta.apply_blocking(MetaCommand::DropMeasurement {
        database: "db".into(),
        measurement: "nosuch".into(),
    })
    .unwrap();
    assert!(meta.schema("db", "cpu").is_none());
    assert_eq!(meta.measurements("db"), vec!["weird name"]);
    assert_eq!(meta.series_count("db"), 1);
    assert!(meta.tag_values("db", "cpu", "host").is_empty());
    let meta = meta.reopen();
    assert_eq!(meta.measurements("db"), vec!["weird name"]);
    assert_eq!(meta.series_count("db"), 1);
}

#[test]
fn tombstones_cqs_users_and_drop_database() {
    let meta = Meta::new();
    meta.apply_blocking(MetaCommand::create_database("db"))
        .unwrap();
    meta.apply_blocking(MetaCommand::create_database("other"))
        .unwrap();
    let t = |id: u64, db: &str| Tombstone {
        id,
        database: db.into(),
        measurement: Some("cpu".into()),
        tag_predicate: vec![("host".into(), "a".into())],
        min_time: 0,
        max_time: 10,
        wal_sequence: 7,
    };
    meta.apply_blocking(MetaCommand::AddTombstone(t(1, "db")))
        .unwrap();
    meta.apply_blocking(MetaCommand::AddTombstone(t(2, "db")))
        .unwrap();
    meta.apply_blocking(MetaCommand::AddTombstone(t(3, "other")))
        .unwrap();
    let r = meta.apply_blocking(MetaCommand::AddTombstone(t(4, "nodb")));
    assert_eq!(err_text(r), "database not found: nodb");
    meta.apply_blocking(MetaCommand::RemoveTombstone { id: 1 })
        .unwrap();
    meta.apply_blocking(MetaCommand::RemoveTombstone { id: 99 })
        .unwrap();
    assert_eq!(meta.tombstones("db"), vec![t(2, "db")]);

    let cq = |db: &str, name: &str, q: &str| ContinuousQuery {
        database: db.into(),
        name: name.into(),
        query: q.into(),
    };
    meta.apply_blocking(MetaCommand::CreateContinuousQuery(cq("other", "c0", "Q0")))
        .unwrap();
    meta.apply_blocking(MetaCommand::CreateContinuousQuery(cq("db", "c2", "Q2")))
        .unwrap();
    meta.apply_blocking(MetaCommand::CreateContinuousQuery(cq("db", "c1", "Q1")))
        .unwrap();
    meta.apply_blocking(MetaCommand::CreateContinuousQuery(cq("db", "c1", "Q1")))
        .unwrap(); // same: ok
    let r = meta.apply_blocking(MetaCommand::CreateContinuousQuery(cq("db", "c1", "other")));
    assert_eq!(err_text(r), "continuous query already exists");
    let r = meta.apply_blocking(MetaCommand::CreateContinuousQuery(cq("nodb", "c1", "Q")));
    assert_eq!(err_text(r), "database not found: nodb");
    meta.apply_blocking(MetaCommand::DropContinuousQuery {
        database: "db".into(),
        name: "missing".into(),
    })
    .unwrap();
    // Listed by database creation order, then CQ creation order.
    let names: Vec<String> = meta
        .continuous_queries()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["c2", "c1", "c0"]);

    let user = |name: &str, hash: &str| User {
        name: name.into(),
        password_hash: hash.into(),
        admin: false,
        ..Default::default()
    };
    meta.apply_blocking(MetaCommand::PutUser(user("bob", "h1")))
        .unwrap();
    meta.apply_blocking(MetaCommand::PutUser(user("al", "h2")))
        .unwrap();
    meta.apply_blocking(MetaCommand::PutUser(user("bob", "h3")))
        .unwrap(); // replace
    let r = meta.apply_blocking(MetaCommand::DropUser {
        name: "nouser".into(),
    });
    assert_eq!(err_text(r), "user not found");
    assert_eq!(meta.users(), vec![user("bob", "h3"), user("al", "h2")]);

    meta.apply_blocking(MetaCommand::register_series(
        "db",
        "cpu",
        &[&[("host", "a")]],
    ))
    .unwrap();
    let meta = meta.reopen();
    assert_eq!(meta.tombstones("db"), vec![t(2, "db")]);
    assert_eq!(meta.continuous_queries().len(), 3);
    assert_eq!(meta.users(), vec![user("bob", "h3"), user("al", "h2")]);

    // DROP DATABASE removes everything of that database only.
    meta.apply_blocking(MetaCommand::DropDatabase { name: "db".into() })
        .unwrap();
    meta.apply_blocking(MetaCommand::create_database("db"))
        .unwrap();
    assert!(meta.tombstones("db").is_empty());
    assert_eq!(meta.tombstones("other"), vec![t(3, "other")]);
    assert_eq!(meta.series_count("db"), 0);
    assert!(meta.measurements("db").is_empty());
    let names: Vec<String> = meta
        .continuous_queries()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["c0"]);
    meta.apply_blocking(MetaCommand::DropUser { name: "bob".into() })
        .unwrap();
    let meta = meta.reopen();
    assert!(meta.tombstones("db").is_empty());
    assert_eq!(meta.series_count("db"), 0);
    assert_eq!(meta.continuous_queries().len(), 1);
    assert_eq!(meta.users(), vec![user("al", "h2")]);
    let names: Vec<String> = meta.databases().into_iter().map(|d| d.name).collect();
    assert_eq!(names, vec!["other", "db"]);
}

#[test]
fn bulk_series_registration_is_fast() {
    let meta = Meta::new();
    meta.apply_blocking(MetaCommand::create_database("db"))
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
        meta.apply_blocking(MetaCommand::RegisterSeries {
            database: "db".into(),
            measurement: "cpu".into(),
            series,
        })
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
    let start = std::time::Instant::now();
    let meta = meta.reopen();
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

#[test]
fn field_types_are_kept_per_shard_group_and_survive_reopen() {
    let week = 7 * D;
    let meta = Meta::new();
    {
        meta.apply_blocking(MetaCommand::create_database("db"))
            .unwrap();
        meta.apply_blocking(MetaCommand::RegisterSchema {
            database: "db".into(),
            measurement: "m".into(),
            fields: vec![("v".into(), FieldType::Float)],
            tag_keys: vec![],
        })
        .unwrap();
        meta.apply_blocking(MetaCommand::RegisterFieldShards {
            database: "db".into(),
            measurement: "m".into(),
            entries: vec![
                shard_entry("v", "autogen", 0, FieldType::Float),
                shard_entry("v", "autogen", -week, FieldType::String),
                shard_entry("v", "autogen", week, FieldType::Integer),
            ],
        })
        .unwrap();
        // The same type again is a no-op; another type in a known shard group conflicts.
        meta.apply_blocking(MetaCommand::RegisterFieldShards {
            database: "db".into(),
            measurement: "m".into(),
            entries: vec![shard_entry("v", "autogen", 0, FieldType::Float)],
        })
        .unwrap();
        let r = meta.apply_blocking(MetaCommand::RegisterFieldShards {
            database: "db".into(),
            measurement: "m".into(),
            entries: vec![shard_entry("v", "autogen", week, FieldType::Boolean)],
        });
        assert_eq!(
            err_text(r),
            "field type conflict: input field \"v\" on measurement \"m\" is type boolean, already exists as type integer"
        );
    }
    let meta = meta.reopen();
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
    meta.apply_blocking(MetaCommand::create_retention_policy(
        "db",
        RetentionPolicy::new("other", 0, week),
        false,
    ))
    .unwrap();
    meta.apply_blocking(MetaCommand::drop_retention_policy("db", "autogen"))
        .unwrap();
    assert_eq!(
        meta.field_shard_type("db", "m", "v", "autogen", -week),
        None
    );
    assert_eq!(
        meta.schema("db", "m").unwrap().field_types("v"),
        vec![FieldType::Float]
    );
    let meta = meta.reopen();
    assert_eq!(meta.field_shard_type("db", "m", "v", "autogen", 0), None);
    // Dropping the measurement forgets everything about it.
    meta.apply_blocking(MetaCommand::RegisterFieldShards {
        database: "db".into(),
        measurement: "m".into(),
        entries: vec![shard_entry("v", "other", 0, FieldType::Float)],
    })
    .unwrap();
    meta.apply_blocking(MetaCommand::DropMeasurement {
        database: "db".into(),
        measurement: "m".into(),
    })
    .unwrap();
    assert_eq!(meta.field_shard_type("db", "m", "v", "other", 0), None);
}
