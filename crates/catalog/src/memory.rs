//! [`MemoryMetadata`]: the metadata port on a catalog alone, nothing persisted. The fake
//! for application tests, and the model a durable store must be indistinguishable from
//! (through the port) until it restarts.

use crate::Catalog;
use async_trait::async_trait;
use hyperbyte_domain::{
    ContinuousQuery, Database, FieldType, MeasurementSchema, MetaCommand, Tombstone, User,
};
use hyperbyte_ports::{MetaError, MetadataPort, SeriesEntry};
use parking_lot::RwLock;

/// An in-memory [`MetadataPort`]: a [`Catalog`] behind a lock.
#[derive(Debug, Default)]
pub struct MemoryMetadata {
    catalog: RwLock<Catalog>,
}

impl MemoryMetadata {
    /// An empty store.
    pub fn new() -> Self {
        MemoryMetadata::default()
    }

    /// A store serving `catalog`.
    pub fn from_catalog(catalog: Catalog) -> Self {
        MemoryMetadata {
            catalog: RwLock::new(catalog),
        }
    }

    /// Applies a command synchronously; returns the changes it made.
    pub fn apply_blocking(&self, cmd: MetaCommand) -> Result<Vec<crate::Change>, MetaError> {
        self.catalog.write().apply(cmd)
    }

    /// Runs `f` on the catalog (under the read lock).
    pub fn with_catalog<T>(&self, f: impl FnOnce(&Catalog) -> T) -> T {
        f(&self.catalog.read())
    }
}

#[async_trait]
impl MetadataPort for MemoryMetadata {
    async fn apply(&self, cmd: MetaCommand) -> Result<(), MetaError> {
        self.apply_blocking(cmd).map(drop)
    }

    fn databases(&self) -> Vec<Database> {
        self.catalog.read().databases()
    }

    fn database(&self, name: &str) -> Option<Database> {
        self.catalog.read().database(name)
    }

    fn measurements(&self, database: &str) -> Vec<String> {
        self.catalog.read().measurements(database)
    }

    fn schema(&self, database: &str, measurement: &str) -> Option<MeasurementSchema> {
        self.catalog.read().schema(database, measurement)
    }

    fn field_shard_type(
        &self,
        database: &str,
        measurement: &str,
        field: &str,
        retention_policy: &str,
        shard_start: i64,
    ) -> Option<FieldType> {
        self.catalog.read().field_shard_type(
            database,
            measurement,
            field,
            retention_policy,
            shard_start,
        )
    }

    fn series(&self, database: &str, measurement: Option<&str>) -> Vec<SeriesEntry> {
        self.catalog.read().series(database, measurement)
    }

    fn has_series(&self, database: &str, key: &str) -> bool {
        self.catalog.read().has_series(database, key)
    }

    fn series_count(&self, database: &str) -> usize {
        self.catalog.read().series_count(database)
    }

    fn tag_values(&self, database: &str, measurement: &str, key: &str) -> Vec<String> {
        self.catalog.read().tag_values(database, measurement, key)
    }

    fn tag_value_count(&self, database: &str, measurement: &str, key: &str) -> usize {
        self.catalog
            .read()
            .tag_value_count(database, measurement, key)
    }

    fn has_tag_value(&self, database: &str, measurement: &str, key: &str, value: &str) -> bool {
        self.catalog
            .read()
            .has_tag_value(database, measurement, key, value)
    }

    fn for_each_series(
        &self,
        database: &str,
        measurement: Option<&str>,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        self.catalog
            .read()
            .for_each_series(database, measurement, f);
    }

    fn series_count_in(&self, database: &str, measurement: &str) -> usize {
        self.catalog.read().series_count_in(database, measurement)
    }

    fn series_with_tag(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
    ) -> Vec<SeriesEntry> {
        self.catalog
            .read()
            .series_with_tag(database, measurement, key, value)
    }

    fn for_each_series_with_tag(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        self.catalog
            .read()
            .for_each_series_with_tag(database, measurement, key, value, f);
    }

    fn tag_value_series_count(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
    ) -> usize {
        self.catalog
            .read()
            .tag_value_series_count(database, measurement, key, value)
    }

    fn tag_keys(&self, database: &str, measurement: &str) -> Vec<String> {
        self.catalog.read().tag_keys(database, measurement)
    }

    fn tombstones(&self, database: &str) -> Vec<Tombstone> {
        self.catalog.read().tombstones(database)
    }

    fn continuous_queries(&self) -> Vec<ContinuousQuery> {
        self.catalog.read().continuous_queries()
    }

    fn users(&self) -> Vec<User> {
        self.catalog.read().users()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_domain::SeriesKey;

    /// The port's fast reads agree with the defaults the trait derives from `series`.
    #[test]
    fn fast_reads_agree_with_the_port_defaults() {
        let meta = MemoryMetadata::new();
        meta.apply_blocking(MetaCommand::CreateDatabase {
            name: "db".into(),
            default_rp: None,
        })
        .unwrap();
        let tags =
            |h: &str, r: &str| vec![("host".to_string(), h.to_string()), ("r".into(), r.into())];
        let series = [("a", "x"), ("b", "x"), ("c", "y")]
            .into_iter()
            .map(|(h, r)| (SeriesKey::new("cpu", &tags(h, r)).0, tags(h, r)))
            .chain([("cpu#odd".to_string(), tags("a", "z"))])
            .collect();
        meta.apply_blocking(MetaCommand::RegisterSeries {
            database: "db".into(),
            measurement: "cpu".into(),
            series,
        })
        .unwrap();
        let all = meta.series("db", Some("cpu"));
        assert_eq!(all.len(), 4);
        let mut visited = Vec::new();
        meta.for_each_series("db", Some("cpu"), &mut |se| {
            visited.push(se.clone());
            true
        });
        assert_eq!(visited, all);
        assert_eq!(meta.series("db", None), all);
        for (k, v) in [("host", "a"), ("r", "x"), ("r", "z"), ("host", "none")] {
            let want: Vec<SeriesEntry> = all
                .iter()
                .filter(|se| se.tags.iter().any(|(tk, tv)| tk == k && tv == v))
                .cloned()
                .collect();
            assert_eq!(meta.series_with_tag("db", "cpu", k, v), want, "{k}={v}");
            assert_eq!(meta.tag_value_series_count("db", "cpu", k, v), want.len());
            assert_eq!(meta.has_tag_value("db", "cpu", k, v), !want.is_empty());
            let mut seen = Vec::new();
            meta.for_each_series_with_tag("db", "cpu", k, v, &mut |se| {
                seen.push(se.clone());
                true
            });
            assert_eq!(seen, want);
        }
        assert_eq!(meta.tag_keys("db", "cpu"), vec!["host", "r"]);
        assert_eq!(meta.tag_values("db", "cpu", "r"), vec!["x", "y", "z"]);
        assert_eq!(meta.tag_value_count("db", "cpu", "host"), 3);
        assert_eq!(meta.series_count_in("db", "cpu"), 4);
        assert_eq!(meta.series_count("db"), 4);
        assert!(meta.has_series("db", "cpu,host=a,r=x"));
        // Errors are InfluxDB's texts.
        let err = meta
            .apply_blocking(MetaCommand::DropUser { name: "x".into() })
            .unwrap_err();
        assert_eq!(err.to_string(), "user not found");
    }
}
