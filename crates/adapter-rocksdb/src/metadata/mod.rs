//! The metadata store on RocksDB: persistence for [`hyperbyte_catalog`].
//!
//! The rules (validation with InfluxDB's error texts, cascades, the series index) live in
//! the catalog; this store only makes its changes durable. `apply` plans a
//! [`MetaCommand`] against the in-memory [`Catalog`], writes the planned changes to
//! RocksDB in one synced write batch, and only then commits them to the catalog, all
//! under one apply lock, so the catalog readers see is always a durable state. Reads never
//! touch RocksDB: they are served by the catalog, loaded from the records at open. The
//! record layout is in [`records`].

mod records;

use async_trait::async_trait;
use hyperbyte_catalog::Catalog;
use hyperbyte_domain::{
    ContinuousQuery, Database, FieldType, MeasurementSchema, MetaCommand, Tombstone, User,
};
use hyperbyte_ports::{MetaError, MetadataPort, SeriesEntry};
use parking_lot::{Mutex, RwLock};
use records::{storage, ALL_CFS, CF_SERIES};
use rocksdb::{ColumnFamilyDescriptor, DBCompressionType, Options, WriteOptions, DB};
use std::path::Path;
use std::sync::Arc;

/// The RocksDB metadata store. Cheap to clone (shared handle).
#[derive(Clone)]
pub struct RocksDbMetadata {
    inner: Arc<Inner>,
}

struct Inner {
    db: DB,
    apply_lock: Mutex<()>,
    catalog: RwLock<Catalog>,
}

impl std::fmt::Debug for RocksDbMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksDbMetadata")
            .field("path", &self.inner.db.path())
            .field("databases", &self.inner.catalog.read().database_count())
            .finish()
    }
}

impl RocksDbMetadata {
    /// Opens (or creates) the store in directory `path` and loads it into memory.
    pub fn open(path: &Path) -> Result<Self, MetaError> {
        std::fs::create_dir_all(path)
            .map_err(|e| MetaError::Storage(format!("{}: {e}", path.display())))?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_background_jobs(2);
        let cfs = std::iter::once("default").chain(ALL_CFS).map(|name| {
            let mut o = Options::default();
            o.set_compression_type(DBCompressionType::Lz4);
            if name == CF_SERIES {
                o.set_write_buffer_size(64 << 20);
            }
            ColumnFamilyDescriptor::new(name, o)
        });
        let db = DB::open_cf_descriptors(&opts, path, cfs).map_err(storage)?;
        let catalog = records::load(&db)?;
        tracing::debug!(path = %path.display(), databases = catalog.database_count(), "metadata opened");
        Ok(RocksDbMetadata {
            inner: Arc::new(Inner {
                db,
                apply_lock: Mutex::new(()),
                catalog: RwLock::new(catalog),
            }),
        })
    }

    /// Applies a command synchronously (blocking); see [`MetadataPort::apply`].
    pub fn apply_blocking(&self, cmd: MetaCommand) -> Result<(), MetaError> {
        let _guard = self.inner.apply_lock.lock();
        // Failure point `meta-apply`: a metadata change (schema, series, DDL) about to apply.
        fail::fail_point!("meta-apply");
        self.inner.apply(cmd)
    }

    fn catalog(&self) -> parking_lot::RwLockReadGuard<'_, Catalog> {
        self.inner.catalog.read()
    }
}

impl Inner {
    /// Plans, persists (synced), then commits one command; the caller holds the apply
    /// lock, so the plan is still valid when it is committed.
    fn apply(&self, cmd: MetaCommand) -> Result<(), MetaError> {
        let changes = self.catalog.read().plan(cmd)?;
        if changes.is_empty() {
            return Ok(());
        }
        let batch = records::batch(&self.db, &changes)?;
        let mut w = WriteOptions::default();
        w.set_sync(true);
        self.db.write_opt(batch, &w).map_err(storage)?;
        self.catalog.write().commit(&changes);
        Ok(())
    }
}

#[async_trait]
impl MetadataPort for RocksDbMetadata {
    async fn apply(&self, cmd: MetaCommand) -> Result<(), MetaError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.apply_blocking(cmd))
            .await
            .map_err(|e| MetaError::Storage(format!("metadata task failed: {e}")))?
    }

    fn databases(&self) -> Vec<Database> {
        self.catalog().databases()
    }

    fn database(&self, name: &str) -> Option<Database> {
        self.catalog().database(name)
    }

    fn measurements(&self, database: &str) -> Vec<String> {
        self.catalog().measurements(database)
    }

    fn schema(&self, database: &str, measurement: &str) -> Option<MeasurementSchema> {
        self.catalog().schema(database, measurement)
    }

    fn field_shard_type(
        &self,
        database: &str,
        measurement: &str,
        field: &str,
        retention_policy: &str,
        shard_start: i64,
    ) -> Option<FieldType> {
        self.catalog()
            .field_shard_type(database, measurement, field, retention_policy, shard_start)
    }

    fn series(&self, database: &str, measurement: Option<&str>) -> Vec<SeriesEntry> {
        self.catalog().series(database, measurement)
    }

    fn has_series(&self, database: &str, key: &str) -> bool {
        self.catalog().has_series(database, key)
    }

    fn series_count(&self, database: &str) -> usize {
        self.catalog().series_count(database)
    }

    fn tag_values(&self, database: &str, measurement: &str, key: &str) -> Vec<String> {
        self.catalog().tag_values(database, measurement, key)
    }

    fn tag_value_count(&self, database: &str, measurement: &str, key: &str) -> usize {
        self.catalog().tag_value_count(database, measurement, key)
    }

    fn has_tag_value(&self, database: &str, measurement: &str, key: &str, value: &str) -> bool {
        self.catalog()
            .has_tag_value(database, measurement, key, value)
    }

    fn for_each_series(
        &self,
        database: &str,
        measurement: Option<&str>,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        self.catalog().for_each_series(database, measurement, f);
    }

    fn series_count_in(&self, database: &str, measurement: &str) -> usize {
        self.catalog().series_count_in(database, measurement)
    }

    fn series_with_tag(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
    ) -> Vec<SeriesEntry> {
        self.catalog()
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
        self.catalog()
            .for_each_series_with_tag(database, measurement, key, value, f);
    }

    fn tag_value_series_count(
        &self,
        database: &str,
        measurement: &str,
        key: &str,
        value: &str,
    ) -> usize {
        self.catalog()
            .tag_value_series_count(database, measurement, key, value)
    }

    fn tag_keys(&self, database: &str, measurement: &str) -> Vec<String> {
        self.catalog().tag_keys(database, measurement)
    }

    fn tombstones(&self, database: &str) -> Vec<Tombstone> {
        self.catalog().tombstones(database)
    }

    fn continuous_queries(&self) -> Vec<ContinuousQuery> {
        self.catalog().continuous_queries()
    }

    fn users(&self) -> Vec<User> {
        self.catalog().users()
    }
}
