//! The recent-data tier: the newest flushed points of every table, in memory, so that
//! narrow queries over recent data (dashboards, TSBS's single-host and lastpoint queries)
//! skip the storage engine's per-query floor (measured: about 4–5 ms for any key-filtered
//! chDB read, where InfluxDB answers a one-host hour in under 2 ms).
//!
//! Layout: per (database, retention policy, measurement) table, per series (canonical
//! key, shared tag map), a time-sorted column of timestamps and one column per field.
//! The flush service feeds it through [`TierFeed`] (`feed.rs`), in WAL order: every
//! round goes in while storage writes it, and a query about to read the tier first feeds
//! what was acknowledged since the last round, so the tier holds every acknowledged point
//! of its range without waiting for storage; with InfluxDB's field-wise overwrite
//! semantics.
//!
//! Invariant (*coverage*): for each table the tier knows a time `covered_from` such that
//! every point stored in that table at or after `covered_from` is also here, with the
//! same values. So a read whose time range starts at or after `covered_from` may be
//! answered from the tier alone ([`HotTier::covers`]). How it is kept:
//! - the first time this process feeds a table, before that batch reaches
//!   storage, `covered_from` becomes one past the table's latest stored time (any
//!   earlier data predates the tier); a table that does not exist yet is covered fully;
//! - a point earlier than `covered_from` is left out (it is outside the claim);
//! - anything that removes stored data ([`HotAdmin`]: deletes, drops, retention) removes
//!   the table's rows here and moves `covered_from` past everything flushed so far;
//! - over the memory budget, the oldest rows of the biggest table go and `covered_from`
//!   moves forward past them;
//! - at start-up, a table no flush has reached yet may instead be read back from storage
//!   ([`warm_from_storage`]): its newest rows from some time `S` on, covered from `S`,
//!   installed only when nothing removed stored data meanwhile;
//! - after a clean stop, the start installs the tables the stop left
//!   ([`HotTier::snapshot`], [`HotTier::restore`]) with their coverage, before anything
//!   runs, and only when storage's stamp and the WAL's last sequence show that nothing
//!   was stored, removed or rewritten since.
//!
//! Beside the rows, a table may know the latest value of each series and field stored
//! before `covered_from` (`older.rs`), so that `last()` over all time is answered here too.

use crate::query::ReadFilter;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::PointRef;
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

mod aggregate;
mod decorators;
mod feed;
mod learn;
#[cfg(test)]
mod memory_tests;
mod older;
mod series_map;
mod slot;
mod snapshot;
mod table;
#[cfg(test)]
pub(crate) mod tests;
mod warm;

pub(crate) use aggregate::Agg;
pub use decorators::HotAdmin;
pub(crate) use feed::Late;
pub use feed::TierFeed;
pub use learn::{keep_learning_older_values, learn_older_values, LearnReport};
pub use slot::{keep_in_slot, restore_from_slot, KeepError, Restored};
pub use snapshot::{RestoreReport, SnapshotRefused, SnapshotStamp};
use table::{Column, Table, TableId};
pub use warm::{warm_from_storage, warm_until_stopped, WarmConfig, WarmReport};

/// A per-row condition for [`HotTier::read`], checked on a probe point that carries only
/// `fields` before the row is built with every field asked for.
pub(crate) struct RowCheck<'c> {
    /// The fields the condition reads.
    pub(crate) fields: &'c [String],
    /// Whether to keep the row (given the row with those fields only).
    pub(crate) keep: &'c mut dyn FnMut(HotPoint) -> bool,
}

impl std::fmt::Debug for RowCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowCheck")
            .field("fields", &self.fields)
            .finish()
    }
}

/// A point's field values by field name (names shared with the columns they come from:
/// a point costs no allocation per field name).
pub(crate) type FieldMap = BTreeMap<Arc<str>, Value>;

/// One point read from the tier.
#[derive(Debug, Clone)]
pub(crate) struct HotPoint {
    pub(crate) time: i64,
    pub(crate) key: Arc<str>,
    pub(crate) tags: Arc<BTreeMap<String, String>>,
    pub(crate) fields: FieldMap,
}

/// The recent-data tier (see the module docs).
#[derive(Debug)]
pub struct HotTier {
    max_bytes: usize,
    /// What the tier may hold now: `max_bytes`, less while memory is short
    /// ([`HotTier::yield_memory`], [`HotTier::regain_memory`]).
    budget: AtomicUsize,
    tables: RwLock<HashMap<TableId, Table>>,
    removals: parking_lot::Mutex<Removals>,
    /// Woken when a removal ends: the learning reads the values it made unknown.
    removal_ended: tokio::sync::Notify,
    /// The WAL sequence before which storage holds every entry ([`TierFeed`]).
    stored_to: std::sync::atomic::AtomicU64,
}

/// Removals of stored data seen by the tier ([`HotAdmin`]), for the start-up warm-up
/// ([`warm_from_storage`]): a table read from storage while anything was being removed may
/// hold rows storage no longer has, so it is installed only when no removal ran or began
/// since the read started.
#[derive(Debug, Default)]
struct Removals {
    /// Bumped when a removal begins and when it ends.
    generation: u64,
    /// Removals under way.
    in_flight: usize,
}

/// The state a backwards extension of a warmed table was read against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Extension {
    generation: u64,
    epoch: u64,
    covered_from: i64,
    skipped_below: u64,
}

/// A flush's write into a table under way (see [`HotTier::write_begins`]); ends when
/// dropped.
#[derive(Debug)]
pub(crate) struct WriteInFlight<'t> {
    tier: &'t HotTier,
    /// The table, when it was known (counted) at the start.
    id: Option<TableId>,
}

impl Drop for WriteInFlight<'_> {
    fn drop(&mut self) {
        let Some(id) = &self.id else { return };
        if let Some(t) = self.tier.tables.write().get_mut(id) {
            t.writes_in_flight = t.writes_in_flight.saturating_sub(1);
        }
    }
}

/// A removal of stored data under way (see [`HotTier::removing`]); ends when dropped.
#[derive(Debug)]
pub(crate) struct Removing<'t>(&'t HotTier);

impl Drop for Removing<'_> {
    fn drop(&mut self) {
        let mut r = self.0.removals.lock();
        r.in_flight = r.in_flight.saturating_sub(1);
        r.generation = r.generation.wrapping_add(1);
        drop(r);
        self.0.removal_ended.notify_one();
    }
}

impl HotTier {
    /// A tier holding at most about `max_bytes` of point data.
    pub fn new(max_bytes: usize) -> Self {
        HotTier {
            max_bytes,
            budget: AtomicUsize::new(max_bytes),
            tables: RwLock::new(HashMap::new()),
            removals: parking_lot::Mutex::new(Removals::default()),
            removal_ended: tokio::sync::Notify::new(),
            stored_to: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Whether a feed left points of `t` out of the tier that storage does not hold yet:
    /// a read of storage that extends the tier backwards would miss them, so it waits.
    fn awaits_storage(&self, t: &Table) -> bool {
        t.unstored_through
            .is_some_and(|s| s >= self.stored_to.load(Ordering::Acquire))
    }

    /// Completes when a removal of stored data ends (at once when one ended since the
    /// last call: a removal is never missed).
    async fn removal_ended(&self) {
        self.removal_ended.notified().await;
    }

    /// Marks a removal of stored data under way until the guard drops. Take it before
    /// invalidating the tier's rows and hold it until storage finished removing.
    pub(crate) fn removing(&self) -> Removing<'_> {
        let mut r = self.removals.lock();
        r.in_flight += 1;
        r.generation = r.generation.wrapping_add(1);
        Removing(self)
    }

    /// Counts a flush's write into a known table until the guard is dropped: a read of
    /// storage for [`HotTier::install_older`] must not begin while one is under way (its
    /// points earlier than the coverage may be counted here before storage shows them).
    pub(crate) fn write_begins(&self, id: &TableId) -> WriteInFlight<'_> {
        let counted = match self.tables.write().get_mut(id) {
            Some(t) => {
                t.writes_in_flight = t.writes_in_flight.saturating_add(1);
                true
            }
            None => false,
        };
        WriteInFlight {
            tier: self,
            id: counted.then(|| id.clone()),
        }
    }

    /// Tables whose latest values before the coverage are unknown and were not refused
    /// as too many ([`HotTier::install_older`]): those the learning reads.
    fn tables_without_older(&self) -> Vec<TableId> {
        self.tables
            .read()
            .iter()
            .filter(|(_, t)| t.older.is_none() && !t.older_too_big)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// What a read of the latest values stored before a table's coverage must find
    /// unchanged when it installs them ([`HotTier::install_older`]); `None` when the
    /// table is unknown, knows them already, a flush writes into it or a removal is
    /// under way.
    fn older_ticket(&self, id: &TableId) -> Option<Extension> {
        let tables = self.tables.read();
        let t = tables.get(id)?;
        if t.older.is_some() || t.older_too_big || t.writes_in_flight > 0 || self.awaits_storage(t)
        {
            return None;
        }
        Some(Extension {
            generation: self.quiet_generation()?,
            epoch: t.epoch,
            covered_from: t.covered_from,
            skipped_below: t.skipped_below,
        })
    }

    /// Installs the latest values stored before the table's coverage, read from storage
    /// after `ticket` was taken, unless anything changed since: a removal ran or began,
    /// the table was invalidated, evicted from or cleared (its coverage moved), or a flush
    /// left out a point earlier than the coverage (the read may have missed it). Values
    /// taking more than a quarter of the budget are refused too, and not read again until
    /// the table is cleared: installed, they would evict the table's rows, and then
    /// themselves, every time they were read.
    fn install_older(&self, id: &TableId, older: older::OlderLatest, ticket: Extension) -> bool {
        let mut tables = self.tables.write();
        if !self.no_removal_since(ticket.generation) {
            return false;
        }
        let Some(t) = tables.get_mut(id) else {
            return false;
        };
        if older.bytes() > self.max_bytes / 4 {
            t.older_too_big = true;
            return false;
        }
        if t.older.is_some()
            || t.epoch != ticket.epoch
            || t.covered_from != ticket.covered_from
            || t.skipped_below != ticket.skipped_below
        {
            return false;
        }
        t.bytes += older.bytes();
        t.older = Some(older);
        self.fit_budget(&mut tables);
        true
    }

    /// The removal generation to read a table for warming at, when the table is not
    /// known yet and no removal is under way (`None`: do not warm it).
    fn warm_ticket(&self, id: &TableId) -> Option<u64> {
        if self.knows(id) {
            return None;
        }
        self.quiet_generation()
    }

    /// The removal generation, when no removal is under way.
    pub(crate) fn quiet_generation(&self) -> Option<u64> {
        let r = self.removals.lock();
        (r.in_flight == 0).then_some(r.generation)
    }

    /// Whether no removal ran or began since `generation` was read.
    fn no_removal_since(&self, generation: u64) -> bool {
        self.quiet_generation() == Some(generation)
    }

    /// What a warm-up that extends an installed table backwards must find unchanged when
    /// it merges ([`HotTier::extend_warm`]); `None` when the table is not installed or a
    /// removal is under way.
    fn extension_ticket(&self, id: &TableId) -> Option<Extension> {
        let tables = self.tables.read();
        let t = tables.get(id)?;
        if self.awaits_storage(t) {
            return None;
        }
        Some(Extension {
            generation: self.quiet_generation()?,
            epoch: t.epoch,
            covered_from: t.covered_from,
            skipped_below: t.skipped_below,
        })
    }

    /// Merges `older` (rows read from storage, all earlier than the table's coverage)
    /// into the installed table and moves its coverage back to `covered_from`, unless
    /// anything changed since `ticket`: a removal ran or began, the table was invalidated,
    /// evicted from or cleared (its coverage moved), a flush left out a point earlier than
    /// the coverage (it may be missing from `older`), or the columns' types differ.
    fn extend_warm(
        &self,
        id: &TableId,
        older: Table,
        covered_from: i64,
        ticket: Extension,
    ) -> bool {
        let mut tables = self.tables.write();
        if !self.no_removal_since(ticket.generation) {
            return false;
        }
        let Some(t) = tables.get_mut(id) else {
            return false;
        };
        if t.epoch != ticket.epoch
            || t.covered_from != ticket.covered_from
            || t.skipped_below != ticket.skipped_below
            || !t.fits_before(&older)
        {
            return false;
        }
        t.prepend_older(older, covered_from);
        self.fit_budget(&mut tables);
        true
    }

    /// Installs a table read from storage at removal generation `ticket`, unless a flush
    /// established the table meanwhile or a removal ran or began since the ticket (either
    /// way the read may not match storage any more). Returns whether it was installed.
    fn install_warm(&self, id: TableId, table: Table, ticket: u64) -> bool {
        let mut tables = self.tables.write();
        if tables.contains_key(&id) {
            return false;
        }
        if !self.no_removal_since(ticket) {
            return false;
        }
        tables.insert(id, table);
        self.fit_budget(&mut tables);
        true
    }

    /// The configured budget, bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// What the tier may hold now, bytes: [`HotTier::max_bytes`], or less after
    /// [`HotTier::yield_memory`].
    pub fn budget(&self) -> usize {
        self.budget.load(Ordering::Relaxed)
    }

    /// Gives memory back while the server's resident memory is near its bound: the tier
    /// is a cache, and it must not keep writes refused (it used to hold its whole budget
    /// while writes got `503` for good). Halves what the tier may hold, down from what it
    /// holds now, by evicting the oldest rows (coverage moves past them, so reads of
    /// that time go to storage), and returns the room its vectors reserved beyond their
    /// rows. Returns the bytes of point data freed.
    pub fn yield_memory(&self) -> usize {
        let mut tables = self.tables.write();
        let before: usize = tables.values().map(|t| t.bytes).sum();
        let budget = before / 2;
        self.budget.store(budget, Ordering::Relaxed);
        Self::evict(&mut tables, before - budget);
        for t in tables.values_mut() {
            t.shrink_to_fit();
        }
        let after: usize = tables.values().map(|t| t.bytes).sum();
        before.saturating_sub(after)
    }

    /// Lets the tier grow again once memory is no longer short: an eighth of
    /// [`HotTier::max_bytes`] more, up to it. Returns the new budget.
    pub fn regain_memory(&self) -> usize {
        let step = (self.max_bytes / 8).max(1);
        let grown = self.budget().saturating_add(step).min(self.max_bytes);
        self.budget.store(grown, Ordering::Relaxed);
        grown
    }

    /// Bytes of point data held (approximate).
    pub fn bytes(&self) -> usize {
        self.tables.read().values().map(|t| t.bytes).sum()
    }

    /// Whether the table is known (its coverage established).
    fn knows(&self, id: &TableId) -> bool {
        self.tables.read().contains_key(id)
    }

    /// Establishes a table's coverage from its latest stored time (`None`: no data).
    fn start(&self, id: &TableId, latest_stored: Option<i64>) {
        let from = latest_stored.map_or(i64::MIN, |t| t.saturating_add(1));
        self.tables
            .write()
            .entry(id.clone())
            .or_insert_with(|| Table::empty_from(from));
    }

    /// The table's invalidation epoch (`None`: unknown table).
    fn epoch(&self, id: &TableId) -> Option<u64> {
        self.tables.read().get(id).map(|t| t.epoch)
    }

    /// [`HotTier::insert_views`] for owned points (tests).
    #[cfg(test)]
    fn insert(&self, id: &TableId, epoch: Option<u64>, points: &[hyperbyte_domain::Point]) {
        let views: Vec<PointRef<'_>> = points.iter().map(PointRef::from_point).collect();
        self.insert_views(id, epoch, &views);
    }

    /// Adds points of a write that began at `epoch`. When the table was invalidated
    /// since, storage may have removed them again: they only move the coverage past
    /// themselves. (Feeds go through [`HotTier::insert_fed`].)
    #[cfg(test)]
    fn insert_views(&self, id: &TableId, epoch: Option<u64>, points: &[PointRef<'_>]) {
        let mut tables = self.tables.write();
        let Some(table) = tables.get_mut(id) else {
            return;
        };
        Self::put_views(table, epoch, points);
        self.fit_budget(&mut tables);
    }

    /// [`HotTier::insert_views`] for a feed of WAL entries up to `through` that storage
    /// may not hold yet (see [`HotTier::awaits_storage`]); with `generation`, only when no
    /// removal ran or began since it was read (`false`: nothing was added).
    pub(crate) fn insert_fed(
        &self,
        id: &TableId,
        epoch: Option<u64>,
        points: &[PointRef<'_>],
        (through, generation): (u64, Option<u64>),
    ) -> bool {
        let mut tables = self.tables.write();
        if generation.is_some_and(|g| !self.no_removal_since(g)) {
            return false;
        }
        let Some(table) = tables.get_mut(id) else {
            return true;
        };
        let before = (table.skipped_below, table.covered_from);
        Self::put_views(table, epoch, points);
        if (table.skipped_below, table.covered_from) != before {
            table.unstored_through =
                Some(table.unstored_through.map_or(through, |t| t.max(through)));
        }
        self.fit_budget(&mut tables);
        true
    }

    /// Stops claiming a table up to `points` (see [`TierFeed::unclaim`]): its rows go,
    /// its coverage moves past them and everything fed before, and tickets taken before
    /// are not honoured (a storage read under them may lack the points).
    fn unclaim(&self, id: &TableId, points: &[PointRef<'_>], through: Option<u64>) {
        let mut tables = self.tables.write();
        let Some(table) = tables.get_mut(id) else {
            return;
        };
        for p in points {
            table.max_time = table.max_time.max(p.timestamp);
        }
        table.clear();
        table.skipped_below = table.skipped_below.wrapping_add(1);
        if let Some(through) = through {
            table.unstored_through =
                Some(table.unstored_through.map_or(through, |t| t.max(through)));
        }
    }

    /// Puts points in one table (see [`HotTier::insert_views`]).
    fn put_views(table: &mut Table, epoch: Option<u64>, points: &[PointRef<'_>]) {
        if Some(table.epoch) != epoch {
            for p in points {
                table.max_time = table.max_time.max(p.timestamp);
            }
            table.clear();
            return;
        }
        if !table.put_all(points) {
            // A field changed type (only possible across retention policies' shards in
            // InfluxDB): stop claiming anything rather than mix types.
            table.clear();
        }
    }

    /// Evicts what exceeds the budget (see [`HotTier::evict`]).
    fn fit_budget(&self, tables: &mut HashMap<TableId, Table>) {
        let total: usize = tables.values().map(|t| t.bytes).sum();
        let budget = self.budget();
        if total > budget {
            Self::evict(tables, total - budget);
        }
    }

    /// Frees at least `excess` bytes, oldest rows of the biggest tables first.
    fn evict(tables: &mut HashMap<TableId, Table>, excess: usize) {
        let mut freed = 0;
        while freed < excess {
            let Some(table) = tables.values_mut().max_by_key(|t| t.bytes) else {
                return;
            };
            let before = table.bytes;
            let past_all = table.max_time.saturating_add(1);
            match table.min_time() {
                Some(lo) if lo < table.max_time => {
                    // Drop the oldest quarter of the table's time span.
                    let cut = lo + ((table.max_time - lo) / 4).max(1);
                    table.evict_before(cut);
                }
                _ => table.evict_before(past_all),
            }
            if table.bytes >= before {
                // The latest values of the evicted rows cost more than the rows did
                // (series of one or two rows): every row goes.
                table.evict_before(past_all);
            }
            if table.bytes >= before {
                table.clear();
            }
            freed += before - table.bytes;
            if before == 0 {
                return;
            }
        }
    }

    /// Forgets the rows of tables matching `pred` (their stored data changed).
    fn invalidate(&self, pred: impl Fn(&TableId) -> bool) {
        for (id, t) in self.tables.write().iter_mut() {
            if pred(id) {
                t.epoch += 1;
                t.clear();
            }
        }
    }

    /// Drops the rows before `cutoff` of tables matching `pred` (retention removed
    /// stored data older than that); coverage starts at `cutoff` at the earliest.
    fn forget_before(&self, pred: impl Fn(&TableId) -> bool, cutoff: i64) {
        for (id, t) in self.tables.write().iter_mut() {
            if pred(id) {
                t.drop_before(cutoff);
            }
        }
    }

    /// Runs `f` over a table that covers `min` (`None`: unknown or not covered).
    fn with_covered<R>(
        &self,
        (db, rp, measurement): (&str, &str, &str),
        min: Option<i64>,
        f: impl FnOnce(&Table) -> Option<R>,
    ) -> Option<R> {
        let id = (db.to_string(), rp.to_string(), measurement.to_string());
        let tables = self.tables.read();
        let t = tables.get(&id)?;
        if !t.covers(min) {
            return None;
        }
        f(t)
    }

    /// How many rows of a covered table `filter` selects by time and tags (a field
    /// condition not counted; `None`: not covered). Cheap: ranges of each series, no row
    /// read.
    pub(crate) fn rows_matching(
        &self,
        (db, rp, measurement): (&str, &str, &str),
        filter: &mut ReadFilter<'_>,
    ) -> Option<usize> {
        self.with_covered((db, rp, measurement), filter.min, |t| {
            Some(t.matching(filter).iter().map(|(_, r)| r.len()).sum())
        })
    }

    /// The time from which the table holds every stored point (`None`: no such table).
    pub(crate) fn covered_from(&self, db: &str, rp: &str, measurement: &str) -> Option<i64> {
        let id = (db.to_string(), rp.to_string(), measurement.to_string());
        self.tables.read().get(&id).map(|t| t.covered_from)
    }

    /// The series `filter` may accept with a point stored at or after `filter.min` but
    /// before the table's coverage (see `older`); `None` when the table or those series
    /// are unknown.
    pub(crate) fn series_stored_before_coverage(
        &self,
        db: &str,
        rp: &str,
        measurement: &str,
        filter: &mut ReadFilter<'_>,
    ) -> Option<Vec<Arc<str>>> {
        let id = (db.to_string(), rp.to_string(), measurement.to_string());
        let tables = self.tables.read();
        let older = tables.get(&id)?.older.as_ref()?;
        Some(older.series_since(filter))
    }

    /// Whether every stored point of the table at or after `min` is in the tier.
    #[cfg(test)]
    pub(crate) fn covers(&self, db: &str, rp: &str, measurement: &str, min: Option<i64>) -> bool {
        self.with_covered((db, rp, measurement), min, |_| Some(()))
            .is_some()
    }

    /// Reads the points of a covered table within `[min, max]` of the series `filter`
    /// accepts that carry at least one of `filter.fields` (only those fields are
    /// returned) and pass `check`, at most `filter.cap` of them. `None` when the table is
    /// not covered from `min`.
    pub(crate) fn read(
        &self,
        db: &str,
        rp: &str,
        measurement: &str,
        filter: &mut ReadFilter<'_>,
        mut check: Option<RowCheck<'_>>,
    ) -> Option<Vec<HotPoint>> {
        self.with_covered((db, rp, measurement), filter.min, |t| {
            let selected = t.matching(filter);
            let cap = filter.cap.unwrap_or(usize::MAX);
            let per_series = filter.top.map_or(usize::MAX, |t| {
                usize::try_from(t.rows).unwrap_or(usize::MAX)
            });
            let total: usize = selected.iter().map(|(_, r)| r.len().min(per_series)).sum();
            let descending = filter.top.is_some_and(|t| t.descending);
            let mut out = Vec::with_capacity(total.min(cap));
            for (s, range) in selected {
                if out.len() >= cap {
                    break;
                }
                let cols: Vec<(&Arc<str>, &Column)> = filter
                    .fields
                    .iter()
                    .filter_map(|f| s.columns.get_key_value(f))
                    .collect();
                if cols.is_empty() {
                    continue;
                }
                let probe_cols: Vec<(&Arc<str>, &Column)> =
                    check.as_ref().map_or(Vec::new(), |c| {
                        c.fields
                            .iter()
                            .filter_map(|f| s.columns.get_key_value(f))
                            .collect()
                    });
                let indices: Box<dyn Iterator<Item = usize>> = if descending {
                    Box::new(range.rev())
                } else {
                    Box::new(range)
                };
                let mut kept = 0usize;
                for i in indices {
                    if kept >= per_series {
                        break;
                    }
                    if let Some(check) = check.as_mut() {
                        let mut fields = BTreeMap::new();
                        for (name, c) in &probe_cols {
                            if let Some(v) = c.get(i) {
                                fields.insert(Arc::clone(name), v);
                            }
                        }
                        let probe = s.point(i, fields);
                        if !(check.keep)(probe) {
                            continue;
                        }
                    }
                    let mut fields = BTreeMap::new();
                    for (name, c) in &cols {
                        if let Some(v) = c.get(i) {
                            fields.insert(Arc::clone(name), v);
                        }
                    }
                    if fields.is_empty() {
                        continue;
                    }
                    out.push(s.point(i, fields));
                    kept += 1;
                    if out.len() >= cap {
                        break;
                    }
                }
            }
            Some(out)
        })
    }

    /// For `last()`: per accepted series, the points that hold the latest value of each
    /// of `filter.fields` within `[min, max]` (each point carrying only the fields it is
    /// the latest for). From the rows when the table covers `min`, else with the latest
    /// values stored before the coverage when the table knows them (see `older`).
    /// `None`: read storage.
    pub(crate) fn read_latest(
        &self,
        db: &str,
        rp: &str,
        measurement: &str,
        filter: &mut ReadFilter<'_>,
    ) -> Option<Vec<HotPoint>> {
        let id = (db.to_string(), rp.to_string(), measurement.to_string());
        let tables = self.tables.read();
        let t = tables.get(&id)?;
        let nothing_before = older::OlderLatest::default();
        let before = match &t.older {
            Some(o) => o,
            None if t.covers(filter.min) => &nothing_before,
            None => return None,
        };
        before.latest_points(t.all_series(), filter)
    }
}
