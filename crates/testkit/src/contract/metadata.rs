//! The [`MetadataPort`] contract, checked against the reference rules.
//!
//! Why a reference: InfluxDB's metadata rules (what a command changes, which one is
//! refused and with which message) live in `hyperbyte-catalog`. A store that applies the
//! same commands must answer every read exactly as [`MemoryMetadata`] does, so the suite
//! applies one script to both and compares every read, before and after a reopen.

use super::{case_dir, ok, Durability};
use crate::MemoryMetadata;
use hyperbyte_domain::{FieldShardType, FieldType, MetaCommand, RetentionPolicy};
use hyperbyte_ports::{MetaError, MetadataPort};
use std::path::Path;

fn series(measurement: &str, hosts: &[(&str, &str)]) -> Vec<(String, Vec<(String, String)>)> {
    hosts
        .iter()
        .map(|(host, region)| {
            (
                format!("{measurement},host={host},region={region}"),
                vec![
                    ("host".to_string(), host.to_string()),
                    ("region".to_string(), region.to_string()),
                ],
            )
        })
        .collect()
}

/// The script: every command kind the write and query paths use on a single node.
fn script() -> Vec<MetaCommand> {
    let week = RetentionPolicy::autogen().shard_group_duration;
    vec![
        MetaCommand::CreateDatabase {
            name: "db".into(),
            default_rp: None,
        },
        MetaCommand::CreateDatabase {
            name: "db".into(),
            default_rp: None,
        },
        MetaCommand::CreateDatabase {
            name: "other".into(),
            default_rp: None,
        },
        MetaCommand::CreateRetentionPolicy {
            database: "db".into(),
            rp: RetentionPolicy {
                name: "week".into(),
                duration: week,
                shard_group_duration: week / 7,
                replication: 1,
            },
            make_default: true,
        },
        MetaCommand::RegisterSchema {
            database: "db".into(),
            measurement: "cpu".into(),
            fields: vec![
                ("usage".into(), FieldType::Float),
                ("ok".into(), FieldType::Boolean),
            ],
            tag_keys: vec!["host".into(), "region".into()],
        },
        MetaCommand::RegisterSchema {
            database: "db".into(),
            measurement: "mem".into(),
            fields: vec![("free".into(), FieldType::Integer)],
            tag_keys: vec!["host".into(), "region".into()],
        },
        MetaCommand::RegisterFieldShards {
            database: "db".into(),
            measurement: "cpu".into(),
            entries: vec![
                FieldShardType {
                    field: "usage".into(),
                    retention_policy: "week".into(),
                    shard_start: 0,
                    field_type: FieldType::Float,
                },
                // Another type in the next shard group.
                FieldShardType {
                    field: "usage".into(),
                    retention_policy: "week".into(),
                    shard_start: week / 7,
                    field_type: FieldType::Integer,
                },
            ],
        },
        // Groups of two policies and databases, one time already covered, then one of
        // them expired; `other`'s go with the database at the end.
        MetaCommand::CreateShardGroups {
            database: "db".into(),
            retention_policy: "week".into(),
            times: vec![week / 7 * 3, 0, 5, week / 7 * 3 + 1],
        },
        MetaCommand::CreateShardGroups {
            database: "other".into(),
            retention_policy: "autogen".into(),
            times: vec![week * 10],
        },
        MetaCommand::ExpireShardGroups {
            database: "db".into(),
            retention_policy: "week".into(),
            cutoff: week / 7,
        },
        MetaCommand::RegisterSeries {
            database: "db".into(),
            measurement: "cpu".into(),
            series: series("cpu", &[("a", "eu"), ("b", "eu"), ("c", "us")]),
        },
        MetaCommand::RegisterSeries {
            database: "db".into(),
            measurement: "mem".into(),
            series: series("mem", &[("a", "eu")]),
        },
        MetaCommand::DropSeries {
            database: "db".into(),
            measurement: "cpu".into(),
            keys: vec!["cpu,host=c,region=us".into()],
        },
        // Every series of `disk` dropped: it no longer shows up, its schema stays.
        MetaCommand::RegisterSchema {
            database: "db".into(),
            measurement: "disk".into(),
            fields: vec![("used".into(), FieldType::Integer)],
            tag_keys: vec!["host".into(), "region".into()],
        },
        MetaCommand::RegisterSeries {
            database: "db".into(),
            measurement: "disk".into(),
            series: series("disk", &[("a", "eu"), ("b", "us")]),
        },
        MetaCommand::DropSeries {
            database: "db".into(),
            measurement: "disk".into(),
            keys: vec![
                "disk,host=a,region=eu".into(),
                "disk,host=b,region=us".into(),
            ],
        },
        MetaCommand::DropMeasurement {
            database: "db".into(),
            measurement: "mem".into(),
        },
        MetaCommand::DropDatabase {
            name: "other".into(),
        },
    ]
}

/// Every read of the port, as text, for comparing two stores.
fn snapshot(m: &dyn MetadataPort) -> String {
    let mut out = format!(
        "databases {:?}\nusers {:?}\ncqs {:?}\nshard groups {:?}\n",
        m.databases(),
        m.users(),
        m.continuous_queries(),
        m.shard_groups()
    );
    for db in ["db", "other", "missing"] {
        out += &format!(
            "{db}: {:?} {:?} with schema {:?}\n",
            m.database(db),
            m.measurements(db),
            m.measurements_with_schema(db)
        );
        out += &format!(
            "  series {:?} count {}\n",
            m.series(db, None),
            m.series_count(db)
        );
        out += &format!("  tombstones {:?}\n", m.tombstones(db));
        let day = RetentionPolicy::autogen().shard_group_duration / 7;
        for (rp, t) in [("week", 0), ("week", 3 * day), ("autogen", 70 * day)] {
            out += &format!("  group at {rp} {t} {:?}\n", m.shard_group_span(db, rp, t));
        }
        for meas in ["cpu", "mem", "disk"] {
            out += &format!("  {meas} schema {:?}\n", m.schema(db, meas));
            out += &format!(
                "  {meas} series {:?} {}\n",
                m.series(db, Some(meas)),
                m.series_count_in(db, meas)
            );
            out += &format!("  {meas} tag keys {:?}\n", m.tag_keys(db, meas));
            let mut visited = Vec::new();
            m.for_each_series(db, Some(meas), &mut |se| {
                visited.push(se.key.clone());
                true
            });
            out += &format!("  {meas} visited {visited:?}\n");
            for key in ["host", "region"] {
                out += &format!(
                    "  {meas}.{key} values {:?} {} has-a {} with-a {:?} {}\n",
                    m.tag_values(db, meas, key),
                    m.tag_value_count(db, meas, key),
                    m.has_tag_value(db, meas, key, "a"),
                    m.series_with_tag(db, meas, key, "eu"),
                    m.tag_value_series_count(db, meas, key, "eu"),
                );
            }
            let mut first = Vec::new();
            m.for_each_series_with_tag(db, meas, "region", "eu", &mut |se| {
                first.push(se.key.clone());
                false
            });
            out += &format!("  {meas} first eu {first:?}\n");
            out += &format!(
                "  {meas} shard type {:?}\n",
                m.field_shard_type(db, meas, "usage", "week", 0)
            );
            let day = RetentionPolicy::autogen().shard_group_duration / 7;
            for starts in [(0, 0), (0, day), (1, day), (day + 1, i64::MAX), (1, 0)] {
                out += &format!(
                    "  {meas} types in {starts:?} {:?}\n",
                    m.field_types_in_shard_groups(db, meas, "usage", "week", starts)
                );
            }
        }
        for key in [
            "cpu,host=a,region=eu",
            "cpu,host=c,region=us",
            "mem,host=a,region=eu",
        ] {
            out += &format!("  has {key} {}\n", m.has_series(db, key));
        }
    }
    out
}

/// Runs the [`MetadataPort`] cases against the store `open` builds in sub-directories of
/// `root`: a script of commands (idempotent creates, policies, schemas, field shard types,
/// series, drops) is applied to it and to the reference [`MemoryMetadata`]; after every
/// command, every read must answer as the reference does. Invalid commands must fail with
/// [`MetaError::Invalid`] carrying the reference's message, and change nothing.
/// ([`Durability::Durable`]) the same holds after a reopen, and commands applied after
/// the reopen keep matching.
pub async fn metadata_contract<M, F>(root: &Path, open: F, durability: Durability)
where
    M: MetadataPort,
    F: Fn(&Path) -> M,
{
    let dir = case_dir(root, "meta-script");
    let reference = MemoryMetadata::new();
    let store = open(&dir);
    assert_eq!(
        snapshot(&store),
        snapshot(&reference),
        "contract: a new store is empty"
    );
    let cmds = script();
    let half = cmds.len() / 2;
    for cmd in &cmds[..half] {
        apply_both(&store, &reference, cmd).await;
    }
    invalid(&store, &reference).await;
    let store = if durability == Durability::Durable {
        drop(store);
        let store = open(&dir);
        assert_eq!(
            snapshot(&store),
            snapshot(&reference),
            "contract: metadata survives a reopen"
        );
        store
    } else {
        store
    };
    for cmd in &cmds[half..] {
        apply_both(&store, &reference, cmd).await;
    }
    if durability == Durability::Durable {
        drop(store);
        let store = open(&dir);
        assert_eq!(
            snapshot(&store),
            snapshot(&reference),
            "contract: drops survive a reopen"
        );
    }
}

async fn apply_both(store: &dyn MetadataPort, reference: &MemoryMetadata, cmd: &MetaCommand) {
    ok(
        reference.apply(cmd.clone()).await,
        "the reference applying the script",
    );
    ok(store.apply(cmd.clone()).await, &format!("apply {cmd:?}"));
    assert_eq!(
        snapshot(store),
        snapshot(reference),
        "contract: reads after {cmd:?}"
    );
}

async fn invalid(store: &dyn MetadataPort, reference: &MemoryMetadata) {
    let cmd = MetaCommand::CreateRetentionPolicy {
        database: "missing".into(),
        rp: RetentionPolicy::autogen(),
        make_default: false,
    };
    let want = match reference.apply(cmd.clone()).await {
        Err(MetaError::Invalid(m)) => m,
        other => panic!("contract: the reference should refuse {cmd:?}, got {other:?}"),
    };
    match store.apply(cmd.clone()).await {
        Err(MetaError::Invalid(m)) => assert_eq!(m, want, "contract: the refusal's message"),
        other => panic!("contract: {cmd:?} must fail with MetaError::Invalid, got {other:?}"),
    }
    assert_eq!(
        snapshot(store),
        snapshot(reference),
        "contract: a refused command changes nothing"
    );
}
