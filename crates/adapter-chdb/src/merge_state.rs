//! Which partitions may hold two versions of one point, so that reads must merge them.
//!
//! Tables are `AggregatingMergeTree`s: rows with one series and time merge field by field,
//! but only when the engine merges their parts, or when a read says `FINAL`. `FINAL` is
//! expensive (measured on 864,000 TSBS rows in one unmerged part: a one-host hour took
//! 70 ms with it, 6 ms without) and almost never needed, because time-series writers
//! append: each point is later than the previous one of its series. So the sink tracks,
//! per table, the latest time written for each series, and marks a partition
//! *overwritten* when a point is not later than its series' latest (for a series not
//! written since start-up: not later than the partition's latest time at start-up).
//!
//! Invariant: a partition holding two rows of one series and time is marked, from
//! before the second row is inserted until an `OPTIMIZE ... FINAL` that began after that
//! insert completed has merged the partition. Reads use `FINAL` only when their time range
//! touches a marked partition ([`MergeState::must_merge`]); the storage's upkeep optimizes
//! a marked partition once writes to it settle, which clears the mark.
//!
//! Marks are persisted in a small file in the engine's directory, written and fsynced
//! before the insert that needs the mark, so a restart keeps them. Series' latest times
//! live only in memory, as 64-bit hashes of the series' tags (a collision only adds
//! needless marks). A file that cannot be read makes every read merge.

use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// (chDB database, table).
pub(crate) type TableKey = (String, String);

/// The partition (as ClickHouse numbers it: `intDiv(nanos, width)`, truncating toward
/// zero) a time falls into.
pub(crate) fn partition_of(nanos: i64, width: i64) -> i64 {
    nanos / width.max(1)
}

/// One overwritten partition.
#[derive(Debug, Clone, Copy)]
struct Mark {
    /// Bumped before and after every overwriting insert into the partition.
    generation: u64,
    /// When an insert last overwrote into it.
    touched: Instant,
}

#[derive(Debug, Default)]
struct TableState {
    /// Partition width of the table (nanoseconds).
    width: i64,
    /// Series hash → latest time written since start-up.
    latest: HashMap<u64, i64>,
    /// Partition → its latest time when first written since start-up (`None`: empty).
    startup_latest: HashMap<i64, Option<i64>>,
    /// Overwritten partitions.
    marks: BTreeMap<i64, Mark>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The marks file could not be read: every read merges.
    unknown: bool,
    /// There was no marks file when opened.
    missing_file: bool,
    tables: HashMap<TableKey, TableState>,
}

/// The overwrite tracker of one engine (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct MergeState {
    /// Where marks are persisted (`None`: in memory only).
    file: Option<PathBuf>,
    inner: Mutex<Inner>,
    /// Serialises saves, so an older snapshot never replaces a newer file.
    saving: Mutex<()>,
}

/// What [`MergeState::record`] found in a batch.
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    /// Overwritten partitions this batch writes into (their generations were bumped).
    pub overwritten: Vec<i64>,
    /// Whether the persisted marks changed: persist before inserting.
    pub marks_changed: bool,
}

impl MergeState {
    /// The tracker persisting into `dir` (created if missing), with the marks saved there.
    pub(crate) fn open(dir: &Path) -> Self {
        let file = dir.join("hyperbyte").join("merge_on_read.tsv");
        let mut inner = Inner::default();
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                for line in text.lines().filter(|l| !l.is_empty()) {
                    let f: Vec<&str> = line.split('\t').collect();
                    let parsed = match f.as_slice() {
                        [db, table, width, part] => width
                            .parse::<i64>()
                            .ok()
                            .zip(part.parse::<i64>().ok())
                            .map(|(w, p)| ((db.to_string(), table.to_string()), w, p)),
                        _ => None,
                    };
                    let Some((key, width, part)) = parsed else {
                        tracing::warn!(file = %file.display(), line, "unreadable overwrite mark; every read merges");
                        inner.unknown = true;
                        continue;
                    };
                    let t = inner.tables.entry(key).or_default();
                    t.width = width;
                    t.marks.insert(
                        part,
                        Mark {
                            generation: 0,
                            touched: Instant::now(),
                        },
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => inner.missing_file = true,
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "cannot read the overwrite marks; every read merges");
                inner.unknown = true;
            }
        }
        MergeState {
            file: Some(file),
            inner: Mutex::new(inner),
            saving: Mutex::new(()),
        }
    }

    /// Whether there was no marks file when opened: the directory is new, or its tables
    /// were written before overwrites were tracked.
    pub(crate) fn had_no_file(&self) -> bool {
        self.inner.lock().missing_file
    }

    /// Marks a partition as overwritten (for tables whose history is unknown).
    pub(crate) fn mark(&self, key: &TableKey, width: i64, part: i64) {
        let mut inner = self.inner.lock();
        let t = inner.tables.entry(key.clone()).or_default();
        t.width = width;
        t.marks.entry(part).or_insert(Mark {
            generation: 0,
            touched: Instant::now(),
        });
    }

    /// Partitions among `parts` whose start-up latest time is not known yet.
    pub(crate) fn unknown_partitions(&self, key: &TableKey, parts: &[i64]) -> Vec<i64> {
        let inner = self.inner.lock();
        let t = inner.tables.get(key);
        parts
            .iter()
            .copied()
            .filter(|p| t.is_none_or(|t| !t.startup_latest.contains_key(p)))
            .collect()
    }

    /// Records the latest time of partitions as they were before this process wrote into
    /// them (`None`: empty). Values already known are kept.
    pub(crate) fn set_startup_latest(
        &self,
        key: &TableKey,
        width: i64,
        latest: impl IntoIterator<Item = (i64, Option<i64>)>,
    ) {
        let mut inner = self.inner.lock();
        let t = inner.tables.entry(key.clone()).or_default();
        t.width = width;
        for (p, l) in latest {
            t.startup_latest.entry(p).or_insert(l);
        }
    }

    /// Records a batch of (series hash, time) about to be inserted into a table whose
    /// partitions are `width` wide; marks the partitions it overwrites into.
    pub(crate) fn record(&self, key: &TableKey, width: i64, series: &[(u64, i64)]) -> Recorded {
        let mut inner = self.inner.lock();
        let t = inner.tables.entry(key.clone()).or_default();
        t.width = width;
        let mut out = Recorded::default();
        for &(h, time) in series {
            let part = partition_of(time, width);
            // Not later than the series' latest since start-up, or than the partition's
            // latest from before start-up (an unknown partition may hold anything).
            let overwrite = t.latest.get(&h).is_some_and(|&l| time <= l)
                || t.startup_latest
                    .get(&part)
                    .is_none_or(|l| l.is_some_and(|l| time <= l));
            let slot = t.latest.entry(h).or_insert(time);
            *slot = (*slot).max(time);
            if overwrite && !out.overwritten.contains(&part) {
                out.overwritten.push(part);
            }
        }
        let now = Instant::now();
        for &p in &out.overwritten {
            let mark = t.marks.entry(p).or_insert_with(|| {
                out.marks_changed = true;
                Mark {
                    generation: 0,
                    touched: now,
                }
            });
            mark.generation += 1;
            mark.touched = now;
        }
        out
    }

    /// Called after an insert into `parts` (overwritten partitions) completed.
    pub(crate) fn inserted(&self, key: &TableKey, parts: &[i64]) {
        let mut inner = self.inner.lock();
        if let Some(t) = inner.tables.get_mut(key) {
            for p in parts {
                if let Some(m) = t.marks.get_mut(p) {
                    m.generation += 1;
                }
            }
        }
    }

    /// Whether a read of a table between `min` and `max` (nanoseconds, inclusive) must
    /// merge row versions (`FINAL`).
    pub(crate) fn must_merge(&self, key: &TableKey, min: Option<i64>, max: Option<i64>) -> bool {
        let inner = self.inner.lock();
        if inner.unknown {
            return true;
        }
        let Some(t) = inner.tables.get(key) else {
            return false;
        };
        if t.marks.is_empty() {
            return false;
        }
        let lo = min.map_or(i64::MIN, |m| partition_of(m, t.width));
        let hi = max.map_or(i64::MAX, |m| partition_of(m, t.width));
        lo <= hi && t.marks.range(lo..=hi).next().is_some()
    }

    /// A marked partition not overwritten for `settle`: (table, width, partition,
    /// generation) to optimize, then report with [`optimized`](Self::optimized).
    pub(crate) fn next_to_optimize(&self, settle: Duration) -> Option<(TableKey, i64, i64, u64)> {
        let inner = self.inner.lock();
        inner.tables.iter().find_map(|(k, t)| {
            t.marks
                .iter()
                .find(|(_, m)| m.touched.elapsed() >= settle)
                .map(|(p, m)| (k.clone(), t.width, *p, m.generation))
        })
    }

    /// Restarts the settle period of a mark (its merge failed; retry later).
    pub(crate) fn postpone(&self, key: &TableKey, part: i64) {
        if let Some(m) = self
            .inner
            .lock()
            .tables
            .get_mut(key)
            .and_then(|t| t.marks.get_mut(&part))
        {
            m.touched = Instant::now();
        }
    }

    /// An `OPTIMIZE ... FINAL` of the partition that began when its mark had
    /// `generation` succeeded: clears the mark unless an overwrite came since. Returns
    /// whether the marks changed (persist them).
    pub(crate) fn optimized(&self, key: &TableKey, part: i64, generation: u64) -> bool {
        let mut inner = self.inner.lock();
        let Some(t) = inner.tables.get_mut(key) else {
            return false;
        };
        if t.marks
            .get(&part)
            .is_some_and(|m| m.generation == generation)
        {
            t.marks.remove(&part);
            return true;
        }
        false
    }

    /// Forgets tables matching `pred` (dropped). Returns whether marks changed.
    pub(crate) fn forget(&self, pred: impl Fn(&TableKey) -> bool) -> bool {
        let mut inner = self.inner.lock();
        let before: usize = inner.tables.values().map(|t| t.marks.len()).sum();
        inner.tables.retain(|k, _| !pred(k));
        let after: usize = inner.tables.values().map(|t| t.marks.len()).sum();
        before != after
    }

    /// Writes the marks to the file (atomically: temporary file, fsync, rename, fsync of
    /// the directory).
    pub(crate) fn persist(&self) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        // Held from the snapshot to the rename: saves happen in the order of their
        // snapshots.
        let _saving = self.saving.lock();
        let text = {
            let inner = self.inner.lock();
            let mut lines: Vec<String> = Vec::new();
            for ((db, table), t) in &inner.tables {
                for p in t.marks.keys() {
                    lines.push(format!("{db}\t{table}\t{}\t{p}\n", t.width));
                }
            }
            lines.sort();
            lines.concat()
        };
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = file.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, file)?;
        std::fs::File::open(dir)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: i64 = 100;

    fn key() -> TableKey {
        ("hb_db".into(), "r_autogen_m_cpu".into())
    }

    fn fresh() -> MergeState {
        let s = MergeState::default();
        s.set_startup_latest(&key(), W, [(0, None), (1, None), (2, None)]);
        s
    }

    #[test]
    fn appends_never_mark() {
        let s = fresh();
        let r = s.record(&key(), W, &[(1, 10), (2, 10), (1, 20), (2, 150)]);
        assert!(r.overwritten.is_empty() && !r.marks_changed);
        let r = s.record(&key(), W, &[(1, 30), (2, 160)]);
        assert!(r.overwritten.is_empty());
        assert!(!s.must_merge(&key(), None, None));
    }

    #[test]
    fn rewriting_a_time_marks_its_partition_only() {
        let s = fresh();
        s.record(&key(), W, &[(1, 10), (1, 150)]);
        let r = s.record(&key(), W, &[(1, 150)]);
        assert_eq!(r.overwritten, vec![1]);
        assert!(r.marks_changed);
        assert!(s.must_merge(&key(), None, None));
        assert!(s.must_merge(&key(), Some(120), Some(130)));
        assert!(!s.must_merge(&key(), Some(0), Some(99)));
        assert!(!s.must_merge(&key(), Some(200), None));
        // A duplicate inside one batch marks too.
        let r = s.record(&key(), W, &[(7, 5), (7, 5)]);
        assert_eq!(r.overwritten, vec![0]);
    }

    #[test]
    fn startup_data_counts_for_series_not_seen_since() {
        let s = MergeState::default();
        s.set_startup_latest(&key(), W, [(0, Some(50)), (1, None)]);
        assert!(s.record(&key(), W, &[(1, 60)]).overwritten.is_empty());
        assert_eq!(s.record(&key(), W, &[(2, 50)]).overwritten, vec![0]);
        assert!(s.record(&key(), W, &[(3, 120)]).overwritten.is_empty());
        // A partition never looked at counts as possibly holding anything.
        assert_eq!(s.record(&key(), W, &[(4, 250)]).overwritten, vec![2]);
    }

    #[test]
    fn a_series_seen_since_start_up_still_meets_older_stored_data() {
        let s = MergeState::default();
        s.set_startup_latest(&key(), W, [(0, None), (1, Some(150))]);
        // The series writes into an empty partition first, then rewrites a stored time.
        assert!(s.record(&key(), W, &[(1, 10)]).overwritten.is_empty());
        assert_eq!(s.record(&key(), W, &[(1, 120)]).overwritten, vec![1]);
    }

    #[test]
    fn optimize_clears_only_without_later_overwrites() {
        let s = fresh();
        s.record(&key(), W, &[(1, 10)]);
        s.record(&key(), W, &[(1, 10)]);
        s.inserted(&key(), &[0]);
        let (k, w, p, g) = s.next_to_optimize(Duration::ZERO).unwrap();
        assert_eq!((k.clone(), w, p), (key(), W, 0));
        // An overwrite while the OPTIMIZE runs keeps the mark.
        s.record(&key(), W, &[(1, 10)]);
        assert!(!s.optimized(&k, p, g));
        assert!(s.must_merge(&key(), None, None));
        s.inserted(&key(), &[0]);
        let (_, _, _, g) = s.next_to_optimize(Duration::ZERO).unwrap();
        assert!(s.optimized(&k, p, g));
        assert!(!s.must_merge(&key(), None, None));
        assert!(s.next_to_optimize(Duration::ZERO).is_none());
    }

    #[test]
    fn marks_survive_a_restart_and_drops_forget_them() {
        let dir = tempfile::tempdir().unwrap();
        let s = MergeState::open(dir.path());
        s.set_startup_latest(&key(), W, [(-1, None), (3, None)]);
        s.record(&key(), W, &[(1, -150), (1, -150), (2, 310), (2, 305)]);
        s.persist().unwrap();
        let again = MergeState::open(dir.path());
        assert!(again.must_merge(&key(), Some(-150), Some(-150)));
        assert!(again.must_merge(&key(), Some(300), Some(399)));
        assert!(!again.must_merge(&key(), Some(0), Some(299)));
        assert!(again.forget(|k| k.1 == "r_autogen_m_cpu"));
        again.persist().unwrap();
        assert!(!MergeState::open(dir.path()).must_merge(&key(), None, None));
    }

    #[test]
    fn an_unreadable_file_makes_every_read_merge() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("hyperbyte")).unwrap();
        std::fs::write(dir.path().join("hyperbyte/merge_on_read.tsv"), "garbage\n").unwrap();
        assert!(MergeState::open(dir.path()).must_merge(&key(), Some(0), Some(1)));
    }
}
