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
use hyperbyte_domain::MetaCommand;
use hyperbyte_ports::{MetaError, MetadataPort};
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

    hyperbyte_catalog::metadata_reads_from_catalog!(catalog);
}
