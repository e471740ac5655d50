//! Reads, one per read of [`MetadataPort`](hyperbyte_ports::MetadataPort) with the same
//! contract, so a store holding a catalog serves the port by delegating.

use crate::index::Measurement;
use crate::Catalog;
use hyperbyte_domain::{ContinuousQuery, Database, FieldType, MeasurementSchema, Tombstone, User};
use hyperbyte_ports::SeriesEntry;
use std::collections::BTreeSet;

fn empty_entry() -> SeriesEntry {
    SeriesEntry {
        measurement: String::new(),
        key: String::new(),
        tags: Vec::new(),
    }
}

impl Catalog {
    fn measurement(&self, database: &str, measurement: &str) -> Option<&Measurement> {
        self.dbs.get(database)?.measurements.get(measurement)
    }

    /// All databases, sorted by creation.
    pub fn databases(&self) -> Vec<Database> {
        let mut dbs: Vec<(u64, &Database)> = self.dbs.values().map(|d| (d.order, &d.db)).collect();
        dbs.sort_by_key(|(o, _)| *o);
        dbs.into_iter().map(|(_, d)| d.clone()).collect()
    }

    /// One database.
    pub fn database(&self, name: &str) -> Option<Database> {
        self.dbs.get(name).map(|d| d.db.clone())
    }

    /// Measurement names of a database (those with a schema or series), sorted.
    pub fn measurements(&self, database: &str) -> Vec<String> {
        self.dbs
            .get(database)
            .map(|d| {
                d.measurements
                    .iter()
                    .filter(|(_, m)| m.is_visible())
                    .map(|(n, _)| n.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every measurement of a database with a schema, shown or not, sorted.
    pub fn measurements_with_schema(&self, database: &str) -> Vec<String> {
        self.dbs
            .get(database)
            .map(|d| {
                d.measurements
                    .iter()
                    .filter(|(_, m)| m.schema.is_some() || m.series_len() > 0)
                    .map(|(n, _)| n.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A measurement's schema.
    pub fn schema(&self, database: &str, measurement: &str) -> Option<MeasurementSchema> {
        self.measurement(database, measurement)?.schema.clone()
    }

    /// The type `field` took in one shard group of a retention policy.
    pub fn field_shard_type(
        &self,
        database: &str,
        measurement: &str,
        field: &str,
        retention_policy: &str,
        shard_start: i64,
    ) -> Option<FieldType> {
        self.measurement(database, measurement)?.field_shard_type(
            field,
            retention_policy,
            shard_start,
        )
    }

    /// The types `field` took in the shard groups of a retention policy starting within
    /// `[first_start, last_start]` (always known: the catalog keeps them).
    pub fn field_types_in_shard_groups(
        &self,
        database: &str,
        measurement: &str,
        field: &str,
        retention_policy: &str,
        starts: (i64, i64),
    ) -> Option<BTreeSet<FieldType>> {
        Some(
            self.measurement(database, measurement)
                .map(|m| m.field_types_between(field, retention_policy, starts))
                .unwrap_or_default(),
        )
    }

    /// Whether `field` has a type recorded in some shard group of a retention policy.
    pub fn field_in_retention_policy(
        &self,
        database: &str,
        measurement: &str,
        field: &str,
        retention_policy: &str,
    ) -> bool {
        self.measurement(database, measurement)
            .is_some_and(|m| m.has_field_in(field, retention_policy))
    }

    /// Whether a write reached shard group `shard_start` of a retention policy: some field
    /// of the database has a type recorded there.
    pub fn shard_group_written(
        &self,
        database: &str,
        retention_policy: &str,
        shard_start: i64,
    ) -> bool {
        self.dbs.get(database).is_some_and(|d| {
            d.measurements
                .values()
                .any(|m| m.has_field_shard(retention_policy, shard_start))
        })
    }

    /// Series of a database, optionally of one measurement, sorted by key.
    pub fn series(&self, database: &str, measurement: Option<&str>) -> Vec<SeriesEntry> {
        let Some(d) = self.dbs.get(database) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match measurement {
            Some(m) => {
                if let Some(ms) = d.measurements.get(m) {
                    ms.entries(m, &mut out);
                }
            }
            None => {
                out.reserve(d.series_count());
                d.visit_all(&mut |se| {
                    out.push(se.clone());
                    true
                });
            }
        }
        out
    }

    /// Whether a series key is indexed.
    pub fn has_series(&self, database: &str, key: &str) -> bool {
        self.dbs
            .get(database)
            .is_some_and(|d| d.find_series(key).is_some())
    }

    /// Number of series in a database.
    pub fn series_count(&self, database: &str) -> usize {
        self.dbs.get(database).map_or(0, |d| d.series_count())
    }

    /// Distinct values of a tag key in a measurement, sorted.
    pub fn tag_values(&self, database: &str, measurement: &str, key: &str) -> Vec<String> {
        self.measurement(database, measurement)
            .map(|m| m.tag_values(key))
            .unwrap_or_default()
    }

    /// Number of distinct values of a tag key.
    pub fn tag_value_count(&self, database: &str, measurement: &str, key: &str) -> usize {
        self.measurement(database, measurement)
            .map_or(0, |m| m.tag_value_count(key))
    }

    /// Whether a tag value is indexed.
    pub fn has_tag_value(&self, database: &str, measurement: &str, key: &str, value: &str) -> bool {
        self.measurement(database, measurement)
            .is_some_and(|m| m.has_tag_value(key, value))
    }

    /// Visits series in key order until `f` returns false (see
    /// [`MetadataPort::for_each_series`](hyperbyte_ports::MetadataPort::for_each_series)).
    pub fn for_each_series(
        &self,
        database: &str,
        measurement: Option<&str>,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        let Some(d) = self.dbs.get(database) else {
            return;
        };
        match measurement {
            Some(name) => {
                if let Some(m) = d.measurements.get(name) {
                    m.visit(name, &mut empty_entry(), f);
                }
            }
            None => d.visit_all(f),
        }
    }

    /// Number of series of one measurement.
    pub fn series_count_in(&self, database: &str, measurement: &str) -> usize {
        self.measurement(database, measurement)
            .map_or(0, Measurement::series_len)
    }

    /// Series of a measurement carrying tag `key` = `value`, sorted by key.
    pub fn series_with_tag(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
    ) -> Vec<SeriesEntry> {
        self.measurement(database, measurement)
            .map(|m| m.series_with_tag(measurement, key, value))
            .unwrap_or_default()
    }

    /// Visits, in key order, the series of a measurement carrying tag `key` = `value`
    /// until `f` returns false.
    pub fn for_each_series_with_tag(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        if let Some(m) = self.measurement(database, measurement) {
            m.visit_with_tag(measurement, key, value, f);
        }
    }

    /// Number of series of a measurement carrying tag `key` = `value`.
    pub fn tag_value_series_count(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
    ) -> usize {
        self.measurement(database, measurement)
            .map_or(0, |m| m.tag_value_series_count(key, value))
    }

    /// Tag keys carried by at least one series of a measurement, sorted.
    pub fn tag_keys(&self, database: &str, measurement: &str) -> Vec<String> {
        self.measurement(database, measurement)
            .map(Measurement::tag_keys)
            .unwrap_or_default()
    }

    /// Tombstones of a database, by id.
    pub fn tombstones(&self, database: &str) -> Vec<Tombstone> {
        self.tombstones
            .values()
            .filter(|t| t.database == database)
            .cloned()
            .collect()
    }

    /// Every continuous query, by database creation order then CQ creation order.
    pub fn continuous_queries(&self) -> Vec<ContinuousQuery> {
        let mut cqs: Vec<(u64, u64, &ContinuousQuery)> = self
            .cqs
            .values()
            .map(|(o, cq)| {
                let db_order = self.dbs.get(&cq.database).map_or(u64::MAX, |d| d.order);
                (db_order, *o, cq)
            })
            .collect();
        cqs.sort_by_key(|(d, o, _)| (*d, *o));
        cqs.into_iter().map(|(_, _, cq)| cq.clone()).collect()
    }

    /// Every user, by creation order.
    pub fn users(&self) -> Vec<User> {
        let mut users: Vec<(u64, &User)> = self.users.values().map(|(o, u)| (*o, u)).collect();
        users.sort_by_key(|(o, _)| *o);
        users.into_iter().map(|(_, u)| u.clone()).collect()
    }
}
