//! A columnar store in memory: records every point written, can refuse measurements and
//! fail `sync`, and tells written points from durable ones.

use async_trait::async_trait;
use hyperbyte_domain::{MeasurementSchema, Point, PointRef, RetentionPolicy};
use hyperbyte_ports::{PointsSinkPort, SinkError};
use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// One point as the sink received it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPoint {
    /// Database.
    pub database: String,
    /// Retention policy.
    pub retention_policy: String,
    /// The point (measurement, tags, fields, time).
    pub point: Point,
}

/// A [`PointsSinkPort`] that keeps points in a list, in write order. Points written
/// since the last successful `sync` are not durable yet: [`MemorySink::durable`] does
/// not show them.
#[derive(Debug, Default)]
pub struct MemorySink {
    written: Mutex<Vec<StoredPoint>>,
    /// Number of points of `written` covered by a successful `sync`.
    durable: AtomicUsize,
    syncs: AtomicUsize,
    refuse: Mutex<BTreeSet<String>>,
    busy: Mutex<BTreeSet<String>>,
    fail_sync: AtomicBool,
}

impl MemorySink {
    /// Refuses (`true`) or accepts again (`false`) writes of `measurement`, answering as
    /// chDB answers a block with too many partitions.
    pub fn refuse(&self, measurement: &str, refuse: bool) {
        let mut r = self.refuse.lock();
        if refuse {
            r.insert(measurement.to_string());
        } else {
            r.remove(measurement);
        }
    }

    /// Answers writes of `measurement` with [`SinkError::Busy`] (`true`), as the engine
    /// does when it is out of memory, or accepts them again (`false`).
    pub fn busy(&self, measurement: &str, busy: bool) {
        let mut b = self.busy.lock();
        if busy {
            b.insert(measurement.to_string());
        } else {
            b.remove(measurement);
        }
    }

    /// Accepts writes of every measurement again.
    pub fn accept_all(&self) {
        self.refuse.lock().clear();
        self.busy.lock().clear();
    }

    /// Makes every later `sync` fail (`true`) or succeed again (`false`).
    pub fn fail_sync(&self, fail: bool) {
        self.fail_sync.store(fail, Ordering::SeqCst);
    }

    /// Every point written, durable or not, in write order.
    pub fn written(&self) -> Vec<StoredPoint> {
        self.written.lock().clone()
    }

    /// The points a successful `sync` made durable, in write order.
    pub fn durable(&self) -> Vec<StoredPoint> {
        let n = self.durable.load(Ordering::SeqCst);
        self.written.lock().iter().take(n).cloned().collect()
    }

    /// (time, first field as f64) of the points written to `measurement`, in order.
    pub fn series_of(&self, measurement: &str) -> Vec<(i64, f64)> {
        self.written
            .lock()
            .iter()
            .filter(|s| s.point.measurement == measurement)
            .map(|s| {
                let v = s.point.fields.first().map_or(f64::NAN, |(_, v)| match v {
                    hyperbyte_domain::FieldValue::Float(f) => *f,
                    hyperbyte_domain::FieldValue::Integer(i) => *i as f64,
                    _ => f64::NAN,
                });
                (s.point.timestamp, v)
            })
            .collect()
    }

    /// Number of successful `sync` calls.
    pub fn syncs(&self) -> usize {
        self.syncs.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl PointsSinkPort for MemorySink {
    async fn write_views(
        &self,
        database: &str,
        rp: &RetentionPolicy,
        measurement: &str,
        _schema: &MeasurementSchema,
        points: &[PointRef<'_>],
    ) -> Result<(), SinkError> {
        if self.refuse.lock().contains(measurement) {
            return Err(SinkError::Engine {
                code: 252,
                message: "Too many partitions for single INSERT block".into(),
            });
        }
        if self.busy.lock().contains(measurement) {
            return Err(SinkError::Busy("memory limit (total) exceeded".into()));
        }
        let mut written = self.written.lock();
        for p in points {
            written.push(StoredPoint {
                database: database.to_string(),
                retention_policy: rp.name.clone(),
                point: p.to_point(),
            });
        }
        Ok(())
    }

    async fn sync(&self) -> Result<(), SinkError> {
        if self.fail_sync.load(Ordering::SeqCst) {
            return Err(SinkError::Other("injected sync failure".into()));
        }
        let n = self.written.lock().len();
        self.durable.store(n, Ordering::SeqCst);
        self.syncs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
