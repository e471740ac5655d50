//! The catalog as a replicated state machine: the same commands give the same changes and
//! the same state on every replica, a refused command changes nothing, planning alone
//! changes nothing, and a catalog restored from the records its changes left reads the
//! same as the one that made them.
#![allow(clippy::unwrap_used)]

mod common;

use common::Records;
use hyperbyte_catalog::{Catalog, Change};
use hyperbyte_domain::{
    ContinuousQuery, Database, FieldShardType, FieldType, MeasurementSchema, MetaCommand,
    RetentionPolicy, SeriesKey, ShardGroup, Tombstone, User,
};
use hyperbyte_ports::SeriesEntry;

const H: i64 = 3_600_000_000_000;

fn tags(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn series(m: &str, list: &[&[(&str, &str)]]) -> Vec<(String, Vec<(String, String)>)> {
    list.iter()
        .map(|t| {
            let t = tags(t);
            (SeriesKey::new(m, &t).0, t)
        })
        .collect()
}

/// A workload touching every command, with refusals and no-ops mixed in.
fn commands() -> Vec<MetaCommand> {
    let mut out = Vec::new();
    for db in ["a", "b", "c"] {
        out.push(MetaCommand::CreateDatabase {
            name: db.into(),
            default_rp: None,
        });
    }
    out.push(MetaCommand::CreateRetentionPolicy {
        database: "a".into(),
        rp: RetentionPolicy {
            name: "short".into(),
            duration: 2 * H,
            shard_group_duration: 0,
            replication: 1,
        },
        make_default: true,
    });
    out.push(MetaCommand::CreateRetentionPolicy {
        database: "a".into(),
        rp: RetentionPolicy {
            name: "bad".into(),
            duration: 2 * H,
            shard_group_duration: 3 * H,
            replication: 1,
        },
        make_default: false,
    });
    for (db, m) in [("a", "cpu"), ("a", "mem"), ("b", "cpu"), ("a", "disk")] {
        out.push(MetaCommand::RegisterSchema {
            database: db.into(),
            measurement: m.into(),
            fields: vec![
                ("v".into(), FieldType::Float),
                ("n".into(), FieldType::Integer),
            ],
            tag_keys: vec!["host".into(), "dc".into()],
        });
        out.push(MetaCommand::RegisterSeries {
            database: db.into(),
            measurement: m.into(),
            series: series(
                m,
                &[
                    &[("dc", "e"), ("host", "h1")],
                    &[("dc", "w"), ("host", "h2")],
                    &[("dc", "e"), ("host", "h3")],
                    &[("dc", "e"), ("host", "h1")],
                ],
            ),
        });
        for (i, rp) in ["autogen", "short"].into_iter().enumerate() {
            out.push(MetaCommand::RegisterFieldShards {
                database: db.into(),
                measurement: m.into(),
                entries: vec![
                    FieldShardType {
                        field: "v".into(),
                        retention_policy: rp.into(),
                        shard_start: i as i64 * H,
                        field_type: FieldType::Float,
                    },
                    FieldShardType {
                        field: "n".into(),
                        retention_policy: rp.into(),
                        shard_start: 7 * H,
                        field_type: FieldType::String,
                    },
                ],
            });
        }
    }
    out.push(MetaCommand::RegisterSeries {
        database: "nodb".into(),
        measurement: "cpu".into(),
        series: series("cpu", &[&[("host", "x")]]),
    });
    out.push(MetaCommand::RegisterSeries {
        database: "a".into(),
        measurement: "odd".into(),
        series: vec![("odd#1".into(), tags(&[("k", "v")]))],
    });
    for (i, db) in ["a", "b", "a", "c"].into_iter().enumerate() {
        out.push(MetaCommand::AddTombstone(Tombstone {
            id: i as u64 + 1,
            database: db.into(),
            measurement: None,
            tag_predicate: vec![],
            min_time: 0,
            max_time: 5,
            wal_sequence: 3,
        }));
    }
    for (db, name) in [("a", "q2"), ("b", "q1"), ("a", "q1"), ("a", "q3")] {
        out.push(MetaCommand::CreateContinuousQuery(ContinuousQuery {
            database: db.into(),
            name: name.into(),
            query: format!("CREATE CONTINUOUS QUERY {name}"),
        }));
    }
    for name in ["u2", "u1", "u2"] {
        out.push(MetaCommand::PutUser(User {
            name: name.into(),
            password_hash: format!("h{}", out.len()),
            admin: false,
            ..Default::default()
        }));
    }
    let groups = |db: &str, rp: &str, times: &[i64]| MetaCommand::CreateShardGroups {
        database: db.into(),
        retention_policy: rp.into(),
        times: times.to_vec(),
    };
    out.push(groups("a", "autogen", &[10 * H, 0, 5, 200 * H]));
    out.push(groups("a", "short", &[H, 2 * H, H + 1]));
    out.push(groups("b", "autogen", &[0]));
    out.push(groups("nodb", "autogen", &[0]));
    out.push(groups("a", "nope", &[0]));
    out.push(groups("a", "autogen", &[3 * H]));
    out.push(MetaCommand::ExpireShardGroups {
        database: "a".into(),
        retention_policy: "short".into(),
        cutoff: 2 * H,
    });
    // Group 1 (a, autogen) and the field types of its span go; 3 expired already.
    for id in [1, 3, 99] {
        out.push(MetaCommand::DropShard {
            id,
            database: "a".into(),
            retention_policy: "autogen".into(),
            start: 0,
            end: 0,
        });
    }
    out.push(MetaCommand::DropSeries {
        database: "a".into(),
        measurement: "cpu".into(),
        keys: vec![
            "cpu,dc=w,host=h2".into(),
            "cpu,dc=e,host=h3".into(),
            "cpu,dc=w,host=h2".into(),
            "cpu,nope=1".into(),
        ],
    });
    out.push(MetaCommand::DropRetentionPolicy {
        database: "a".into(),
        name: "short".into(),
    });
    out.push(MetaCommand::DropMeasurement {
        database: "b".into(),
        measurement: "cpu".into(),
    });
    out.push(MetaCommand::DropDatabase { name: "a".into() });
    out.push(MetaCommand::CreateDatabase {
        name: "a".into(),
        default_rp: None,
    });
    out.push(groups("a", "autogen", &[0]));
    out.push(MetaCommand::RemoveTombstone { id: 2 });
    out.push(MetaCommand::DropUser { name: "u1".into() });
    out.push(MetaCommand::DropUser { name: "u1".into() });
    out
}

/// Everything a reader can see, as one comparable value.
#[derive(Debug, PartialEq)]
struct Dump {
    databases: Vec<Database>,
    measurements: Vec<(String, Vec<String>)>,
    schemas: Vec<Option<MeasurementSchema>>,
    series: Vec<Vec<SeriesEntry>>,
    tag_values: Vec<Vec<String>>,
    tag_keys: Vec<Vec<String>>,
    field_types: Vec<Option<FieldType>>,
    tombstones: Vec<Vec<Tombstone>>,
    cqs: Vec<ContinuousQuery>,
    users: Vec<User>,
    shard_groups: Vec<ShardGroup>,
    covered: Vec<Option<(i64, i64)>>,
}

fn dump(c: &Catalog) -> Dump {
    let dbs = ["a", "b", "c", "nodb"];
    let ms = ["cpu", "mem", "disk", "odd"];
    let mut d = Dump {
        databases: c.databases(),
        measurements: dbs
            .iter()
            .map(|db| (db.to_string(), c.measurements(db)))
            .collect(),
        schemas: Vec::new(),
        series: Vec::new(),
        tag_values: Vec::new(),
        tag_keys: Vec::new(),
        field_types: Vec::new(),
        tombstones: dbs.iter().map(|db| c.tombstones(db)).collect(),
        cqs: c.continuous_queries(),
        users: c.users(),
        shard_groups: c.shard_groups(),
        covered: Vec::new(),
    };
    for db in dbs {
        d.series.push(c.series(db, None));
        for m in ms {
            d.schemas.push(c.schema(db, m));
            d.series.push(c.series(db, Some(m)));
            d.series.push(c.series_with_tag(db, m, "dc", "e"));
            d.tag_values.push(c.tag_values(db, m, "host"));
            d.tag_keys.push(c.tag_keys(db, m));
            for rp in ["autogen", "short"] {
                if m == "cpu" {
                    for t in [0, H, 7 * H, 200 * H] {
                        d.covered.push(c.shard_group_span(db, rp, t));
                    }
                }
                for start in [0, H, 7 * H] {
                    for f in ["v", "n"] {
                        d.field_types.push(c.field_shard_type(db, m, f, rp, start));
                    }
                }
            }
        }
    }
    d
}

#[test]
fn replicas_replaying_the_same_commands_agree() {
    let (mut one, mut two) = (Catalog::new(), Catalog::new());
    for cmd in commands() {
        let a = one.apply(cmd.clone()).map_err(|e| e.to_string());
        let b = two.apply(cmd.clone()).map_err(|e| e.to_string());
        assert_eq!(a, b, "{cmd:?}");
        assert_eq!(dump(&one), dump(&two), "after {cmd:?}");
    }
    // The workload did something.
    assert_eq!(one.databases().len(), 3);
    assert_eq!(one.tombstones("c").len(), 1);
    assert_eq!(one.users().len(), 1);
    // Groups of "a" went with it; "b" keeps its one, "a" has a new one with the next id.
    let live: Vec<(u64, String)> = one
        .shard_groups()
        .into_iter()
        .map(|g| (g.id, g.database))
        .collect();
    assert_eq!(live, vec![(5, "b".to_string()), (6, "a".to_string())]);
}

#[test]
fn planning_and_refusals_change_nothing() {
    let mut c = Catalog::new();
    for cmd in commands() {
        let before = dump(&c);
        let planned = c.plan(cmd.clone());
        assert_eq!(dump(&c), before, "plan changed the state: {cmd:?}");
        let applied = c.apply(cmd.clone());
        match (planned, applied) {
            (Ok(p), Ok(a)) => {
                assert_eq!(p, a);
                if a.is_empty() {
                    assert_eq!(dump(&c), before, "empty plan changed state: {cmd:?}");
                }
            }
            (Err(p), Err(a)) => {
                assert_eq!(p.to_string(), a.to_string());
                assert_eq!(dump(&c), before, "refused command changed state: {cmd:?}");
            }
            (p, a) => panic!("plan {p:?} but apply {a:?}"),
        }
    }
}

#[test]
fn a_catalog_restored_from_its_records_reads_the_same() {
    let mut c = Catalog::new();
    let mut records = Records::default();
    for cmd in commands() {
        if let Ok(changes) = c.apply(cmd.clone()) {
            records.store(&changes);
        }
        let restored = records.restore();
        assert_eq!(dump(&restored), dump(&c), "after {cmd:?}");
    }
    // The creation counter is restored too: the next database comes last.
    let mut restored = records.restore();
    let next = MetaCommand::CreateDatabase {
        name: "z".into(),
        default_rp: None,
    };
    assert_eq!(
        restored.apply(next.clone()).unwrap(),
        c.apply(next).unwrap()
    );
}

#[test]
fn drop_database_lists_its_cascade() {
    let mut c = Catalog::new();
    for cmd in commands()
        .into_iter()
        .take_while(|c| !matches!(c, MetaCommand::DropDatabase { .. }))
    {
        let _ = c.apply(cmd);
    }
    let changes = c
        .apply(MetaCommand::DropDatabase { name: "a".into() })
        .unwrap();
    assert_eq!(
        changes,
        vec![
            Change::DeleteDatabase { name: "a".into() },
            Change::DeleteContinuousQuery {
                database: "a".into(),
                name: "q1".into()
            },
            Change::DeleteContinuousQuery {
                database: "a".into(),
                name: "q2".into()
            },
            Change::DeleteContinuousQuery {
                database: "a".into(),
                name: "q3".into()
            },
            Change::DeleteTombstone { id: 1 },
            Change::DeleteTombstone { id: 3 },
            Change::PutShardGroup(ShardGroup {
                id: 2,
                database: "a".into(),
                retention_policy: "autogen".into(),
                start: 96 * H,
                end: 264 * H,
                deleted: true,
            }),
        ]
    );
    assert!(c.database("a").is_none());
    assert!(c.series("a", None).is_empty());
    assert!(c.tombstones("a").is_empty());
    assert_eq!(c.tombstones("b").len(), 1);
    let cqs: Vec<String> = c.continuous_queries().into_iter().map(|q| q.name).collect();
    assert_eq!(cqs, vec!["q1"]);
}
