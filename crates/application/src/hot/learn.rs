//! Learning from storage the latest values stored before a table's coverage.
//!
//! Why: the tier knows them by itself only for tables it has covered from their first
//! point (`older.rs`). After a crash, for a table warmed from storage or established over
//! data stored before this process, and after a removal, they are unknown, and `last()`
//! over all time reads storage: 0.5–0.6 s for TSBS's lastpoint on 1,000 hosts × 24 h,
//! against 18–20 ms from the tier. [`keep_learning_older_values`] reads them for every
//! such table in the background, one aggregate per table
//! (`timeseriesql::sql::LatestBeforeRead`), and again a minute later for the tables it
//! could not settle, or a few seconds after removals of stored data ended (a `DELETE`,
//! `DROP` or retention pass makes the values of the tables it touched unknown; without
//! the early round, `last()` over them would read storage for up to a minute).
//!
//! Why it keeps the completeness invariant: the read starts after a ticket taken while
//! no flush writes into the table and no removal is under way, so every point stored
//! before the coverage by then is visible to it; it is installed only when nothing
//! changed since the ticket ([`HotTier::install_older`]): no removal ran or began, the
//! coverage did not move (eviction, invalidation), and no flush left out a point earlier
//! than the coverage (the read may not have seen it).

use super::older::OlderLatest;
use super::table::TableId;
use super::HotTier;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::{naming, MeasurementSchema, SeriesKey};
use hyperbyte_ports::{MetadataPort, QueryError, QueryPort};
use hyperbyte_timeseriesql::sql::{LatestBeforeRead, TableRef};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument as _;

/// How long the learning waits for a moment without a flush writing into a table.
const QUIET_TRIES: u32 = 50;
const QUIET_WAIT: Duration = Duration::from_millis(20);
/// When the rounds of [`keep_learning_older_values`] run.
#[derive(Debug, Clone, Copy)]
struct Pace {
    /// Pause between two rounds over the tables that still lack their values.
    every: Duration,
    /// Quiet time after a removal of stored data ended before the next round: removals
    /// often come in bursts (a `DELETE` per series), and each round reads whole tables.
    after_removal: Duration,
}

const PACE: Pace = Pace {
    every: Duration::from_secs(60),
    after_removal: Duration::from_secs(3),
};
/// Rows converted between two yields to the runtime.
const YIELD_EVERY_ROWS: usize = 1_024;

/// What one round of [`learn_older_values`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LearnReport {
    /// Tables whose values were installed.
    pub learned: usize,
    /// Tables left for a later round (never quiet, changed meanwhile, a read error).
    pub deferred: usize,
}

/// One round: reads and installs the latest values before the coverage of every table
/// of the tier that lacks them. Tables whose fields are stored under several types are
/// left alone (their side columns are not in the tier either), and so are tables whose
/// values were too many for the tier ([`HotTier::install_older`]) until their data
/// changes.
pub async fn learn_older_values(
    tier: &HotTier,
    meta: &dyn MetadataPort,
    query: &dyn QueryPort,
) -> LearnReport {
    let mut report = LearnReport::default();
    for id in tier.tables_without_older() {
        let span =
            tracing::debug_span!("learn older values", db = %id.0, rp = %id.1, measurement = %id.2);
        let schema_now = || meta.schema(&id.0, &id.2);
        match learn_table(tier, query, &id, &schema_now)
            .instrument(span)
            .await
        {
            Ok(Learned::Installed) => report.learned += 1,
            Ok(Learned::NotHeld) => {}
            Ok(Learned::Deferred) => report.deferred += 1,
            Err(e) => {
                tracing::warn!(error = %e, db = %id.0, measurement = %id.2, "learning the latest values before the tier's coverage: retried later");
                report.deferred += 1;
            }
        }
    }
    report
}

/// Rounds of [`learn_older_values`], one a minute and one shortly after each removal of
/// stored data, until `stop` turns true (or its sender is gone).
pub async fn keep_learning_older_values(
    tier: Arc<HotTier>,
    meta: Arc<dyn MetadataPort>,
    query: Arc<dyn QueryPort>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let round = || learn_older_values(&tier, meta.as_ref(), query.as_ref());
    run_rounds(&tier, PACE, stop, round).await;
}

/// Runs `round` now, then again `pace.every` after the last one or once `pace.after_removal`
/// passed without a removal ending after one did (at most `pace.every` after the first),
/// whichever comes first, until `stop` turns true.
async fn run_rounds<R, F>(
    tier: &HotTier,
    pace: Pace,
    mut stop: tokio::sync::watch::Receiver<bool>,
    mut round: R,
) where
    R: FnMut() -> F,
    F: std::future::Future<Output = LearnReport>,
{
    loop {
        let report = tokio::select! {
            report = round() => report,
            _ = stop.wait_for(|stopped| *stopped) => return,
        };
        if report.learned > 0 || report.deferred > 0 {
            tracing::info!(
                learned = report.learned,
                deferred = report.deferred,
                "recent-data tier: latest values before the coverage read from storage"
            );
        }
        let removal = tokio::select! {
            _ = tokio::time::sleep(pace.every) => false,
            _ = tier.removal_ended() => true,
            _ = stop.wait_for(|stopped| *stopped) => return,
        };
        if removal {
            let latest = tokio::time::Instant::now() + pace.every;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(pace.after_removal) => break,
                    _ = tokio::time::sleep_until(latest) => break,
                    _ = tier.removal_ended() => {}
                    _ = stop.wait_for(|stopped| *stopped) => return,
                }
            }
        }
    }
}

/// What became of one table's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Learned {
    Installed,
    /// Never quiet, or changed meanwhile: the next round tries again.
    Deferred,
    /// Not for the tier: no schema, or fields stored under several types (their side
    /// columns are not in the tier either).
    NotHeld,
}

/// Learns one table's values. The schema (`schema_now`) is read once the ticket is
/// taken: a tag or field a point flushed before the ticket brought is in it, so the read
/// groups by every tag the stored series have.
async fn learn_table(
    tier: &HotTier,
    query: &dyn QueryPort,
    id: &TableId,
    schema_now: &(dyn Fn() -> Option<MeasurementSchema> + Sync),
) -> Result<Learned, QueryError> {
    let mut ticket = None;
    for _ in 0..QUIET_TRIES {
        ticket = tier.older_ticket(id);
        if ticket.is_some() {
            break;
        }
        tokio::time::sleep(QUIET_WAIT).await;
    }
    let Some(ticket) = ticket else {
        return Ok(Learned::Deferred);
    };
    let Some(schema) = schema_now().filter(|s| s.other_types.is_empty()) else {
        return Ok(Learned::NotHeld);
    };
    let older = read_older(query, id, &schema, ticket.covered_from).await?;
    Ok(if tier.install_older(id, older, ticket) {
        Learned::Installed
    } else {
        Learned::Deferred
    })
}

/// The latest value of every series and field stored before `before`.
async fn read_older(
    query: &dyn QueryPort,
    (db, rp, measurement): &TableId,
    schema: &MeasurementSchema,
    before: i64,
) -> Result<OlderLatest, QueryError> {
    // The schema is the database's; this retention policy's table may lack some of its
    // columns (written through another policy only), and may not exist at all.
    let columns: BTreeSet<String> = match query.table_columns(db, rp, measurement).await {
        Ok(columns) => columns.into_iter().collect(),
        Err(e) if e.is_missing_table() => return Ok(OlderLatest::default()),
        Err(e) => return Err(e),
    };
    let tags: Vec<String> = schema
        .tag_keys
        .iter()
        .filter(|t| columns.contains(&naming::tag_column(t)))
        .cloned()
        .collect();
    let fields: Vec<String> = schema
        .fields
        .keys()
        .filter(|f| columns.contains(&naming::field_column(f)))
        .cloned()
        .collect();
    let read = LatestBeforeRead {
        table: TableRef::new(db, rp, measurement),
        merge: query.must_merge(db, rp, measurement, None, Some(before.saturating_sub(1))),
        tags: tags.clone(),
        fields: fields.clone(),
        before,
    };
    let mut older = OlderLatest::default();
    let Some(sql) = read.to_sql() else {
        return Ok(older);
    };
    let mut chunks = query.query_chunks_in_background(&sql).await?;
    let mut rows = 0usize;
    while let Some(chunk) = chunks.next_chunk().await {
        for row in &chunk?.rows {
            if let Some((series_tags, values)) = series_of(&tags, &fields, row) {
                let pairs: Vec<(&str, &str)> = series_tags
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let key: Arc<str> = Arc::from(SeriesKey::new(measurement, &pairs).0.as_str());
                older.install(key, Arc::new(series_tags), values);
            }
            rows += 1;
            if rows.is_multiple_of(YIELD_EVERY_ROWS) {
                tokio::task::yield_now().await;
            }
        }
    }
    Ok(older)
}

/// A row of [`LatestBeforeRead`] as the series' tags (empty values are absent tags, as
/// in InfluxDB) and its fields' (time, value); `None` when no field has a value.
#[allow(clippy::type_complexity)]
fn series_of(
    tags: &[String],
    fields: &[String],
    row: &[Value],
) -> Option<(BTreeMap<String, String>, BTreeMap<String, (i64, Value)>)> {
    let mut series_tags = BTreeMap::new();
    for (k, v) in tags.iter().zip(row) {
        if let Value::String(s) = v {
            if !s.is_empty() {
                series_tags.insert(k.clone(), s.clone());
            }
        }
    }
    let mut values = BTreeMap::new();
    for (f, pair) in fields.iter().zip(row.get(tags.len()..)?.chunks(2)) {
        let [time, value] = pair else { continue };
        let time = match time {
            Value::Integer(t) | Value::Time(t) => *t,
            _ => continue,
        };
        if matches!(value, Value::Null | Value::Time(_)) {
            continue;
        }
        values.insert(f.clone(), (time, value.clone()));
    }
    (!values.is_empty()).then_some((series_tags, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::ReadFilter;
    use hyperbyte_domain::{FieldType, FieldValue, Point};
    use hyperbyte_ports::RowSet;

    /// Storage whose every read answers `rows`; `during` runs inside the read (a flush
    /// landing meanwhile).
    struct Stored {
        rows: Vec<Vec<Value>>,
        during: Box<dyn Fn() + Send + Sync>,
    }

    impl std::fmt::Debug for Stored {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Stored").field("rows", &self.rows).finish()
        }
    }

    #[async_trait::async_trait]
    impl QueryPort for Stored {
        async fn query(&self, _: &str) -> Result<RowSet, QueryError> {
            (self.during)();
            Ok(RowSet {
                columns: Vec::new(),
                rows: self.rows.clone(),
            })
        }
        async fn table_columns(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<Vec<String>, QueryError> {
            Ok(vec![
                "time".into(),
                naming::tag_column("host"),
                naming::field_column("x"),
            ])
        }
        async fn latest_time(
            &self,
            _: &str,
            _: &str,
            _: &str,
            _: Option<i64>,
        ) -> Result<Option<i64>, QueryError> {
            Ok(None)
        }
        async fn storage_stamp(&self) -> Result<Option<String>, QueryError> {
            Ok(None)
        }
    }

    fn id() -> TableId {
        ("db".into(), "autogen".into(), "m".into())
    }

    fn schema() -> MeasurementSchema {
        let mut schema = MeasurementSchema::default();
        schema.tag_keys.insert("host".into());
        schema.fields.insert("x".into(), FieldType::Float);
        schema
    }

    fn point(host: &str, t: i64, x: f64) -> Point {
        Point {
            measurement: "m".into(),
            tags: vec![("host".into(), host.into())],
            fields: vec![("x".into(), FieldValue::Float(x))],
            timestamp: t,
        }
    }

    /// A tier over a table stored up to 99 (coverage from 100) holding host a at 150.
    fn tier_over_stored_data() -> Arc<HotTier> {
        let tier = Arc::new(HotTier::new(1 << 20));
        tier.start(&id(), Some(99));
        tier.insert(&id(), Some(0), &[point("a", 150, 15.0)]);
        tier
    }

    fn stored_row(host: &str, t: i64, x: f64) -> Vec<Value> {
        vec![
            Value::String(host.into()),
            Value::Integer(t),
            Value::Float(x),
        ]
    }

    /// (host, time, x) of each point `last(x)` over all time reads from the tier.
    fn last_x(tier: &HotTier) -> Option<Vec<(String, i64, Value)>> {
        let fields = vec!["x".to_string()];
        let mut filter = ReadFilter::new(None, &fields, None, None);
        let mut got: Vec<(String, i64, Value)> = tier
            .read_latest("db", "autogen", "m", &mut filter)?
            .into_iter()
            .map(|p| (p.tags["host"].clone(), p.time, p.fields["x"].clone()))
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        Some(got)
    }

    #[tokio::test]
    async fn learned_values_answer_last_over_all_time() {
        let tier = tier_over_stored_data();
        assert_eq!(last_x(&tier), None, "unknown before anything is learned");
        let stored = Stored {
            rows: vec![
                stored_row("a", 50, 5.0),
                stored_row("b", 20, 2.0),
                // A series with no value of any field before the coverage.
                vec![Value::String("c".into()), Value::Integer(0), Value::Null],
            ],
            during: Box::new(|| {}),
        };
        assert_eq!(
            learn_table(&tier, &stored, &id(), &|| Some(schema()))
                .await
                .unwrap(),
            Learned::Installed
        );
        assert_eq!(
            last_x(&tier),
            Some(vec![
                ("a".into(), 150, Value::Float(15.0)),
                ("b".into(), 20, Value::Float(2.0)),
            ])
        );
        // Known now: the next round leaves the table alone.
        assert!(tier.tables_without_older().is_empty());
    }

    #[tokio::test]
    async fn a_point_left_out_during_the_read_keeps_the_values_unknown() {
        let tier = tier_over_stored_data();
        let flushing = Arc::clone(&tier);
        let stored = Stored {
            rows: vec![stored_row("a", 50, 5.0)],
            // A late point (earlier than the coverage) flushed while storage is read:
            // the read may not have seen it.
            during: Box::new(move || flushing.insert(&id(), Some(0), &[point("a", 60, 6.0)])),
        };
        assert_eq!(
            learn_table(&tier, &stored, &id(), &|| Some(schema()))
                .await
                .unwrap(),
            Learned::Deferred
        );
        assert_eq!(last_x(&tier), None);
    }

    /// The schema is read once the ticket is taken: a tag a point flushed while the
    /// learning waited brought is grouped by (else two series would read as one).
    #[tokio::test]
    async fn the_schema_is_read_after_the_flush_that_changed_it() {
        let tier = tier_over_stored_data();
        let schema = parking_lot::Mutex::new(schema());
        let sql = Arc::new(parking_lot::Mutex::new(String::new()));
        let seen = Arc::clone(&sql);
        let stored = Stored {
            rows: Vec::new(),
            during: Box::new(|| {}),
        };
        let recording = Recording {
            inner: stored,
            sql: seen,
        };
        let writing = tier.write_begins(&id());
        let flush = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            schema.lock().tag_keys.insert("dc".into());
            drop(writing);
        };
        let schema_now = || Some(schema.lock().clone());
        let table = id();
        let (learned, ()) =
            tokio::join!(learn_table(&tier, &recording, &table, &schema_now), flush);
        assert_eq!(learned.unwrap(), Learned::Installed);
        assert!(
            sql.lock().contains("GROUP BY `t_dc`, `t_host`"),
            "{}",
            sql.lock()
        );
    }

    /// [`Stored`], recording the statement it was asked.
    #[derive(Debug)]
    struct Recording {
        inner: Stored,
        sql: Arc<parking_lot::Mutex<String>>,
    }

    #[async_trait::async_trait]
    impl QueryPort for Recording {
        async fn query(&self, sql: &str) -> Result<RowSet, QueryError> {
            *self.sql.lock() = sql.to_string();
            self.inner.query(sql).await
        }
        async fn table_columns(
            &self,
            db: &str,
            rp: &str,
            m: &str,
        ) -> Result<Vec<String>, QueryError> {
            let mut columns = self.inner.table_columns(db, rp, m).await?;
            columns.push(naming::tag_column("dc"));
            Ok(columns)
        }
        async fn latest_time(
            &self,
            db: &str,
            rp: &str,
            m: &str,
            before: Option<i64>,
        ) -> Result<Option<i64>, QueryError> {
            self.inner.latest_time(db, rp, m, before).await
        }
        async fn storage_stamp(&self) -> Result<Option<String>, QueryError> {
            self.inner.storage_stamp().await
        }
    }

    /// Values that would take over a quarter of the budget are refused, and the table is
    /// not read again (each round would wait for it in vain) until it is cleared.
    #[tokio::test]
    async fn values_too_many_for_the_budget_are_not_read_again() {
        let tier = Arc::new(HotTier::new(4_000));
        tier.start(&id(), Some(99));
        let stored = Stored {
            rows: (0..20)
                .map(|h| stored_row(&format!("host{h}"), 50, 1.0))
                .collect(),
            during: Box::new(|| {}),
        };
        assert_eq!(
            learn_table(&tier, &stored, &id(), &|| Some(schema()))
                .await
                .unwrap(),
            Learned::Deferred
        );
        assert_eq!(last_x(&tier), None);
        assert!(tier.tables_without_older().is_empty());
        tier.invalidate(|_| true);
        assert_eq!(tier.tables_without_older(), vec![id()]);
    }

    #[test]
    fn no_ticket_while_a_flush_writes_into_the_table() {
        let tier = tier_over_stored_data();
        let writing = tier.write_begins(&id());
        assert!(tier.older_ticket(&id()).is_none());
        drop(writing);
        assert!(tier.older_ticket(&id()).is_some());
    }

    /// A removal of stored data makes the values of the tables it touched unknown; the
    /// next round comes shortly after a burst of them ends, not a minute later, and once.
    #[tokio::test]
    async fn a_round_follows_a_burst_of_removals() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let tier = tier_over_stored_data();
        let rounds = AtomicUsize::new(0);
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let pace = Pace {
            every: Duration::from_secs(3_600),
            after_removal: Duration::from_millis(500),
        };
        let round = || {
            rounds.fetch_add(1, Ordering::SeqCst);
            std::future::ready(LearnReport::default())
        };
        let count = || rounds.load(Ordering::SeqCst);
        let wait_for = |n: usize| async move {
            for _ in 0..1_000 {
                if count() >= n {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        let removals = async {
            wait_for(1).await;
            // A burst: removals ending 20 ms apart, longer than the quiet time in all.
            for _ in 0..40 {
                drop(tier.removing());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(count(), 1, "no round during the burst");
            wait_for(2).await;
            assert_eq!(count(), 2, "one round after the burst");
            tokio::time::sleep(Duration::from_millis(700)).await;
            assert_eq!(count(), 2, "and only one");
            let _ = stop_tx.send(true);
        };
        tokio::join!(run_rounds(&tier, pace, stop, round), removals);
    }
}
