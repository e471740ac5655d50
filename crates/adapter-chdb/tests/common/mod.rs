//! Shared fixture: chDB serves one storage path per process, so every test of a binary
//! shares one engine in one temporary directory (tests use distinct database names).

#![allow(dead_code)]

use hyperbyte_adapter_chdb::{ChdbEngine, ChdbStorage};
use hyperbyte_domain::{FieldType, FieldValue, MeasurementSchema, Point, RetentionPolicy};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

const PREFIX: &str = "hb-chdb-test-";

/// The engine of this test process.
///
/// Every call also (re-)registers an exit hook that shuts the engine down: a process
/// exiting while the engine's background merges run can crash (SIGSEGV) in exit-time
/// destructors the engine registered lazily, after any earlier hook. Exit hooks run in
/// reverse order, so a hook registered late in the test runs before them.
pub(crate) fn engine() -> Arc<ChdbEngine> {
    static ENGINE: OnceLock<(PathBuf, Arc<ChdbEngine>)> = OnceLock::new();
    extern "C" {
        fn atexit(cb: extern "C" fn()) -> std::os::raw::c_int;
    }
    extern "C" fn shut_down() {
        if let Some((dir, e)) = ENGINE.get() {
            if e.shutdown().is_ok() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
    // SAFETY: registers a plain function that does not unwind into C.
    unsafe {
        atexit(shut_down);
    }
    let (_, e) = ENGINE.get_or_init(|| {
        remove_stale_dirs();
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir()
            .expect("tempdir")
            .keep();
        let e = ChdbEngine::open(&dir, 2).expect("open engine");
        // A test can end within milliseconds: its process must not exit while the
        // start-up upgrade still runs a statement (see `finish_upgrade`).
        e.finish_upgrade();
        (dir, e)
    });
    Arc::clone(e)
}

/// Storage over the shared engine.
pub(crate) fn storage() -> ChdbStorage {
    ChdbStorage::new(engine())
}

/// Static destructors never run, so directories of earlier runs are removed here.
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if old && e.file_name().to_string_lossy().starts_with(PREFIX) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

pub(crate) fn point(
    m: &str,
    tags: &[(&str, &str)],
    fields: Vec<(&str, FieldValue)>,
    t: i64,
) -> Point {
    let mut tags: Vec<(String, String)> = tags
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tags.sort();
    Point {
        measurement: m.into(),
        tags,
        fields: fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        timestamp: t,
    }
}

/// The schema of a set of points.
pub(crate) fn schema_of(points: &[Point]) -> MeasurementSchema {
    let mut s = MeasurementSchema::default();
    for p in points {
        for (k, _) in &p.tags {
            s.tag_keys.insert(k.clone());
        }
        for (k, v) in &p.fields {
            s.fields.entry(k.clone()).or_insert_with(|| v.field_type());
        }
    }
    s
}

pub(crate) fn rp() -> RetentionPolicy {
    RetentionPolicy::autogen()
}

pub(crate) fn rp_hourly() -> RetentionPolicy {
    RetentionPolicy {
        name: "hourly".into(),
        duration: 2 * 3_600_000_000_000,
        shard_group_duration: 3_600_000_000_000,
        replication: 1,
    }
}

pub(crate) fn float_schema(fields: &[&str]) -> MeasurementSchema {
    let mut s = MeasurementSchema::default();
    for f in fields {
        s.fields.insert(f.to_string(), FieldType::Float);
    }
    s
}
