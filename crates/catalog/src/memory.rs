//! [`MemoryMetadata`]: the metadata port on a catalog alone, nothing persisted. The fake
//! for application tests, and the model a durable store must be indistinguishable from
//! (through the port) until it restarts.

use crate::Catalog;
use async_trait::async_trait;
use hyperbyte_domain::MetaCommand;
use hyperbyte_ports::{MetaError, MetadataPort};
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

    fn read_catalog(&self) -> parking_lot::RwLockReadGuard<'_, Catalog> {
        self.catalog.read()
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

    crate::metadata_reads_from_catalog!(read_catalog);
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_domain::SeriesKey;
    use hyperbyte_ports::SeriesEntry;

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
