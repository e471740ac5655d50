//! Metadata commands and records.
//!
//! Every change to metadata is a [`MetaCommand`]: a value that can be logged, ordered by
//! consensus in cluster mode, and applied deterministically by any metadata store.

use crate::{FieldType, RetentionPolicy};
use serde::{Deserialize, Serialize};

/// A user account: name, password hash (bcrypt, computed by the application layer), the
/// admin flag and per-database privileges (InfluxDB 1.x's model).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct User {
    /// User name.
    pub name: String,
    /// Password hash.
    pub password_hash: String,
    /// Whether the user has all privileges.
    pub admin: bool,
    /// Privilege per database (an entry may be [`Privilege::None`] after a `REVOKE`, as
    /// in InfluxDB, which lists it in `SHOW GRANTS`).
    pub privileges: std::collections::BTreeMap<String, Privilege>,
}

impl User {
    /// Whether the user may use `database` with `needed` (InfluxDB's `AuthorizeDatabase`:
    /// admin, nothing needed, the same privilege or `ALL`).
    pub fn can(&self, needed: Privilege, database: &str) -> bool {
        if self.admin || needed == Privilege::None {
            return true;
        }
        matches!(self.privileges.get(database), Some(p) if *p == needed || *p == Privilege::All)
    }
}

/// A privilege on a database (InfluxDB's `influxql.Privilege`, a two-bit set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Privilege {
    /// `NO PRIVILEGES`
    #[default]
    None,
    /// `READ`
    Read,
    /// `WRITE`
    Write,
    /// `ALL PRIVILEGES`
    All,
}

impl Privilege {
    fn bits(self) -> u8 {
        match self {
            Privilege::None => 0,
            Privilege::Read => 1,
            Privilege::Write => 2,
            Privilege::All => 3,
        }
    }

    fn from_bits(b: u8) -> Self {
        match b & 3 {
            1 => Privilege::Read,
            2 => Privilege::Write,
            3 => Privilege::All,
            _ => Privilege::None,
        }
    }

    /// `self` without `other` (InfluxDB's `REVOKE`: `have &^ revoked`).
    pub fn without(self, other: Privilege) -> Privilege {
        Privilege::from_bits(self.bits() & !other.bits())
    }

    /// InfluxDB's text (`SHOW GRANTS`, authorization errors).
    pub fn as_str(self) -> &'static str {
        match self {
            Privilege::None => "NO PRIVILEGES",
            Privilege::Read => "READ",
            Privilege::Write => "WRITE",
            Privilege::All => "ALL PRIVILEGES",
        }
    }
}

impl std::fmt::Display for Privilege {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A continuous query as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContinuousQuery {
    /// Database the CQ belongs to.
    pub database: String,
    /// CQ name.
    pub name: String,
    /// The full `CREATE CONTINUOUS QUERY ...` statement text.
    pub query: String,
}

/// A delete marker: points of `measurement` (all when `None`) matching the tag predicate
/// within `[min_time, max_time]` are invisible to queries and removed from storage in the
/// background.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tombstone {
    /// Monotonic id assigned by the metadata store.
    pub id: u64,
    /// Database.
    pub database: String,
    /// Measurement, or every measurement.
    pub measurement: Option<String>,
    /// Tag equality predicates (all must match); empty matches every series.
    pub tag_predicate: Vec<(String, String)>,
    /// Earliest time covered (inclusive).
    pub min_time: i64,
    /// Latest time covered (inclusive).
    pub max_time: i64,
    /// WAL sequence at creation: entries at or below it are covered, later writes are not.
    pub wal_sequence: u64,
}

/// A change to metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MetaCommand {
    /// Create a database (idempotent) with an optional custom default policy.
    CreateDatabase {
        /// Database name.
        name: String,
        /// Default policy to create instead of `autogen`.
        default_rp: Option<RetentionPolicy>,
    },
    /// Drop a database with all its data and metadata.
    DropDatabase {
        /// Database name.
        name: String,
    },
    /// Create a retention policy.
    CreateRetentionPolicy {
        /// Database name.
        database: String,
        /// The policy.
        rp: RetentionPolicy,
        /// Make it the database's default.
        make_default: bool,
    },
    /// Change a retention policy; `None` leaves a property unchanged.
    AlterRetentionPolicy {
        /// Database name.
        database: String,
        /// Policy name.
        name: String,
        /// New duration.
        duration: Option<i64>,
        /// New shard group duration.
        shard_group_duration: Option<i64>,
        /// New replication factor.
        replication: Option<u32>,
        /// Make it the default.
        make_default: bool,
    },
    /// Drop a retention policy.
    DropRetentionPolicy {
        /// Database name.
        database: String,
        /// Policy name.
        name: String,
    },
    /// Register new field types and tag keys for a measurement.
    RegisterSchema {
        /// Database name.
        database: String,
        /// Measurement name.
        measurement: String,
        /// New fields and their types.
        fields: Vec<(String, FieldType)>,
        /// New tag keys.
        tag_keys: Vec<String>,
    },
    /// Record the type a field took in shard groups where it was not written before
    /// (InfluxDB fixes field types per shard group).
    RegisterFieldShards {
        /// Database name.
        database: String,
        /// Measurement name.
        measurement: String,
        /// The records.
        entries: Vec<FieldShardType>,
    },
    /// Create the shard groups of a retention policy that hold `times` unless a live
    /// group already holds the time: what InfluxDB does for the points of a write before
    /// storing them. A new group starts at [`crate::RetentionPolicy::shard_group_start`]
    /// of its time; new groups take the next ids, in the order given.
    CreateShardGroups {
        /// Database name.
        database: String,
        /// Retention policy name.
        retention_policy: String,
        /// One time per group needed, in the order the write met them.
        times: Vec<i64>,
    },
    /// Delete the shard groups of a retention policy that end at or before `cutoff`
    /// (retention enforcement, after storage dropped their data).
    ExpireShardGroups {
        /// Database name.
        database: String,
        /// Retention policy name.
        retention_policy: String,
        /// Nanoseconds: a group ending at or before it goes.
        cutoff: i64,
    },
    /// Delete one shard group by its (single) shard's id (`DROP SHARD`), with the field
    /// types recorded for its span. The span is resolved where the statement ran, so that
    /// every member of a cluster deletes the group's points from its own storage.
    DropShard {
        /// Shard id (a group's id: one shard per group on every member).
        id: u64,
        /// Database of the group.
        database: String,
        /// Retention policy of the group.
        retention_policy: String,
        /// First nanosecond of the group.
        start: i64,
        /// End of the group, exclusive.
        end: i64,
    },
    /// Register new series (canonical keys with their tag sets).
    RegisterSeries {
        /// Database name.
        database: String,
        /// Measurement name.
        measurement: String,
        /// Series: canonical key and sorted tags.
        series: Vec<(String, Vec<(String, String)>)>,
    },
    /// Drop a measurement's schema, series and data.
    DropMeasurement {
        /// Database name.
        database: String,
        /// Measurement name.
        measurement: String,
    },
    /// Remove series from the index.
    DropSeries {
        /// Database name.
        database: String,
        /// Measurement name.
        measurement: String,
        /// Canonical series keys.
        keys: Vec<String>,
    },
    /// Delete points on every member of a cluster (`DELETE`, `DROP SERIES`): each member
    /// runs `statement` (a `DELETE FROM ... [WHERE <tag condition>]` without time, in
    /// InfluxQL) against its own series index and storage, between `min` and `max`
    /// (nanoseconds, inclusive; `None`: unbounded, and then the matching series go from
    /// the index too, as does every `DROP SERIES`). The metadata itself is unchanged; a
    /// single node, which runs the statement itself, ignores the command.
    DeleteData {
        /// Database name.
        database: String,
        /// The statement without its time bounds.
        statement: String,
        /// Lower time bound (resolved on the node that ran the statement).
        min: Option<i64>,
        /// Upper time bound.
        max: Option<i64>,
        /// `DROP SERIES`: the series go from the index even with time bounds.
        drop_series: bool,
    },
    /// Record a tombstone.
    AddTombstone(Tombstone),
    /// Forget a tombstone once storage has applied it.
    RemoveTombstone {
        /// Tombstone id.
        id: u64,
    },
    /// Store a continuous query.
    CreateContinuousQuery(ContinuousQuery),
    /// Remove a continuous query.
    DropContinuousQuery {
        /// Database name.
        database: String,
        /// CQ name.
        name: String,
    },
    /// Create or replace a user.
    PutUser(User),
    /// Create a user; fails with `user already exists` when the name is taken.
    CreateUser(User),
    /// Replace a user's password hash (`SET PASSWORD`).
    SetPassword {
        /// User name.
        name: String,
        /// New hash.
        password_hash: String,
    },
    /// Set a user's admin flag (`GRANT|REVOKE ALL PRIVILEGES TO|FROM u`).
    SetAdmin {
        /// User name.
        name: String,
        /// Admin or not.
        admin: bool,
    },
    /// `GRANT p ON db TO u`: the user's privilege on `database` becomes `privilege`.
    GrantPrivilege {
        /// User name.
        name: String,
        /// Database.
        database: String,
        /// Privilege.
        privilege: Privilege,
    },
    /// `REVOKE p ON db FROM u`: clears `privilege` from the user's privilege on `database`
    /// (revoking `ALL` leaves `NO PRIVILEGES`).
    RevokePrivilege {
        /// User name.
        name: String,
        /// Database.
        database: String,
        /// Privilege.
        privilege: Privilege,
    },
    /// Remove a user.
    DropUser {
        /// User name.
        name: String,
    },
}

/// Shorthand constructors for the commands tests and tools build most (the commands
/// themselves stay plain data).
impl MetaCommand {
    /// Whether the command belongs to the cluster-wide metadata that the consensus orders
    /// (databases, retention policies, schemas and field types, continuous queries, users)
    /// rather than to one node: the series index and tombstones are per node, each member
    /// registering the series of the writes it stores.
    pub fn is_cluster_wide(&self) -> bool {
        !matches!(
            self,
            MetaCommand::RegisterSeries { .. }
                | MetaCommand::DropSeries { .. }
                | MetaCommand::AddTombstone(_)
                | MetaCommand::RemoveTombstone { .. }
        )
    }

    /// `CREATE DATABASE name` with InfluxDB's default policy.
    pub fn create_database(name: &str) -> Self {
        MetaCommand::CreateDatabase {
            name: name.into(),
            default_rp: None,
        }
    }

    /// `CREATE RETENTION POLICY` of `rp` on `database`.
    pub fn create_retention_policy(
        database: &str,
        rp: RetentionPolicy,
        make_default: bool,
    ) -> Self {
        MetaCommand::CreateRetentionPolicy {
            database: database.into(),
            rp,
            make_default,
        }
    }

    /// `ALTER RETENTION POLICY name ON database` (replication unchanged).
    pub fn alter_retention_policy(
        database: &str,
        name: &str,
        duration: Option<i64>,
        shard_group_duration: Option<i64>,
        make_default: bool,
    ) -> Self {
        MetaCommand::AlterRetentionPolicy {
            database: database.into(),
            name: name.into(),
            duration,
            shard_group_duration,
            replication: None,
            make_default,
        }
    }

    /// `DROP RETENTION POLICY name ON database`.
    pub fn drop_retention_policy(database: &str, name: &str) -> Self {
        MetaCommand::DropRetentionPolicy {
            database: database.into(),
            name: name.into(),
        }
    }

    /// Registers the series of `measurement` with these tag sets (keys are computed).
    pub fn register_series(
        database: &str,
        measurement: &str,
        tag_sets: &[&[(&str, &str)]],
    ) -> Self {
        MetaCommand::RegisterSeries {
            database: database.into(),
            measurement: measurement.into(),
            series: tag_sets
                .iter()
                .map(|set| {
                    let tags: Vec<(String, String)> = set
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    (crate::SeriesKey::new(measurement, &tags).0, tags)
                })
                .collect(),
        }
    }
}

/// A shard group of a retention policy: the span of time one of InfluxDB's shards holds.
/// Ids count up from 1 across all databases and are never reused; a deleted group keeps
/// its record (`deleted`), so the next id stays above it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardGroup {
    /// Group id (and the id of its one shard).
    pub id: u64,
    /// Database name.
    pub database: String,
    /// Retention policy name.
    pub retention_policy: String,
    /// First nanosecond of the group.
    pub start: i64,
    /// End of the group, exclusive.
    pub end: i64,
    /// Deleted (expired, dropped, or its policy or database dropped).
    pub deleted: bool,
}

/// The type of one field in one shard group of one retention policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldShardType {
    /// Field name.
    pub field: String,
    /// Retention policy name.
    pub retention_policy: String,
    /// Start of the shard group ([`crate::RetentionPolicy::shard_group_start`]).
    pub shard_start: i64,
    /// The field's type in that shard group.
    pub field_type: FieldType,
}
