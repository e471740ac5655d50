//! Pure domain types of HyperbyteDB.
//!
//! This crate is an **API boundary**: adapter authors and every other crate build on it.
//!
//! Architecture invariant: it depends on no other crate of the workspace and performs no
//! I/O. Everything here is plain data plus the pure functions that define it (naming rules,
//! duration arithmetic, time-precision conversion).

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod cluster;
pub mod columns;
pub mod database;
pub mod error;
pub mod meta;
pub mod naming;
pub mod point;
pub mod point_ref;
pub mod precision;
pub mod query;
pub mod schema;
pub mod time;
pub mod wal;
pub mod window;

pub use cluster::{ClusterStatus, Consistency, MemberStatus};
pub use columns::{ColumnBatch, ColumnBatchBuilder, ColumnBatchError};
pub use database::{Database, RetentionPolicy};
pub use error::DomainError;
pub use meta::{
    ContinuousQuery, FieldShardType, MetaCommand, Privilege, ShardGroup, Tombstone, User,
};
pub use point::hashing::FastMap;
pub use point::{bytes_hash, series_hash, FieldType, FieldValue, Point, SeriesKey};
pub use point_ref::{FieldPairRef, FieldRef, ListRef, PointRef, RepeatedField, TagRef};
pub use precision::Precision;
pub use schema::{is_side_field_name, side_field_name, MeasurementSchema};
pub use wal::codec::{CompactEntry, CompactRow};
pub use wal::{EncodedWalEntry, WalEntry};
pub use window::{Window, ZoneOffsets};
