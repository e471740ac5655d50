//! Warming the tier from storage at start-up.
//!
//! Why: the tier is otherwise filled by the flush only, so after a restart every query
//! reads the storage engine until new writes arrive, and a dashboard that answered in a
//! millisecond before the restart takes several (measured on TSBS data: one host over
//! one hour 0.5 ms warm, 7 ms after a restart). [`warm_from_storage`] reads the newest
//! rows of every table back into the tier, as many as its budget allows, before or while
//! the server takes traffic.
//!
//! How it keeps the coverage invariant (see the module docs of [`super`]): per table, a
//! histogram of row counts per hour (newest first) chooses a start time `S` such that the
//! rows at or after `S` fit the table's share of the budget; where the next hour does not
//! fit whole, a histogram per minute of the rows older than the hours taken moves `S` back
//! by the newest minutes that still fit (every row from `S` on is in a bucket taken). The
//! newest buckets (about [`WarmConfig::first_rows`] rows, at least the newest bucket taken,
//! from `S1`) are read first,
//! in time-ordered slices, into a private table whose coverage starts at `S1`, installed
//! only when no flush established the table meanwhile and no removal of stored data ran or began since the read started
//! ([`HotTier::install_warm`]): recent data is answered from memory a fraction of a second
//! after the start. A flush that starts after the installation adds its batches on top
//! (field-wise overwrites), as it does for any known table; one that started before it
//! finds the table established and the warm-up gives that table up. Then the rows in
//! `[S, S1)` are read into another private table and merged in front of the installed
//! one, moving its coverage back to `S` ([`HotTier::extend_warm`]), only when nothing
//! changed meanwhile: no removal, no invalidation or eviction (the coverage still `S1`),
//! and no flushed point left out for being earlier than `S1` (the read may have missed
//! it).
//!
//! Nobody waits on it, so it stays out of the way of queries: it reads through
//! [`QueryPort::query_chunks_in_background`] (the engine's threads for it yield the CPU to
//! every other thread) and yields to the runtime every [`YIELD_EVERY_ROWS`] converted
//! rows. Measured on 864k TSBS rows, one host over one hour read from storage during the
//! warm-up: 24–48 ms a query before, 7–11 ms since (5–7 ms with no warm-up at all).

use super::table::{column_bytes, Table, TableId, SERIES_OVERHEAD};
use super::HotTier;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::{FieldRef, FieldType, MeasurementSchema, PointRef};
use hyperbyte_ports::{MetadataPort, QueryError, QueryPort};
use hyperbyte_timeseriesql::sql::{RawRead, RowFilter, TableRef, TimeHistogramRead};
use std::borrow::Cow;
use tracing::Instrument as _;

/// Histogram bucket: one hour.
const BUCKET_NS: i64 = 3_600_000_000_000;
/// Newest buckets looked at per table (about 14 months of hours).
const MAX_BUCKETS: u64 = 10_000;
/// Finer buckets (one minute) for the part of the budget whole hours leave: the minutes
/// of the next hour, the newest first.
const FINE_BUCKET_NS: i64 = 60_000_000_000;
const FINE_BUCKETS: u64 = 60;
/// Rows per read slice. The engine sorts a slice by time and hands it out in chunks. A
/// slice reads every part its time range overlaps, and a merged part sorted by series
/// spans every hour, so narrow slices read the same parts over and over (864k TSBS rows
/// in one merged part: 200,000-row slices 5.2 s and 670 MB peak resident memory, one
/// slice 4.0–4.4 s and 620–640 MB).
const SLICE_ROWS: u64 = 1_000_000;
/// Rows converted between two yields to the runtime (about a millisecond of work).
const YIELD_EVERY_ROWS: u64 = 1_024;
/// How the warm-up reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmConfig {
    /// Rows of the newest hours read and installed first, alone, before the older ones
    /// (at least the newest hour's, whatever its size, or the newest minutes' when not
    /// even that hour fits the table's share).
    pub first_rows: usize,
}

impl Default for WarmConfig {
    fn default() -> Self {
        WarmConfig { first_rows: 50_000 }
    }
}
/// Share of the tier's budget the warm-up fills, leaving room for new writes.
const FILL_PERCENT: usize = 75;

/// What [`warm_from_storage`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WarmReport {
    /// Tables installed in the tier.
    pub tables: usize,
    /// Rows read into them.
    pub rows: u64,
    /// Tables left to the flush (established meanwhile, a removal ran, a type conflict,
    /// fields stored under several types, or a read error).
    pub skipped: usize,
}

/// One table to warm, with what its rows look like.
struct Candidate {
    id: TableId,
    schema: MeasurementSchema,
    latest: i64,
    /// Series the metadata knows in the measurement (every retention policy, live or not).
    series: usize,
}

/// Reads the newest stored rows of every table into `tier`, newest tables first, each
/// table getting an equal share of the budget. Errors reading a table skip that table;
/// the tier then fills from the flush as without a warm-up.
pub async fn warm_from_storage(
    tier: &HotTier,
    cfg: WarmConfig,
    meta: &dyn MetadataPort,
    query: &dyn QueryPort,
) -> WarmReport {
    let mut report = WarmReport::default();
    let mut candidates = Vec::new();
    for t in crate::tables::known_tables(meta) {
        let Some(schema) = meta.schema(&t.database, &t.measurement) else {
            continue;
        };
        if let Ok(Some(latest)) = query
            .latest_time(&t.database, &t.retention_policy, &t.measurement, None)
            .await
        {
            let series = meta.series_count_in(&t.database, &t.measurement);
            candidates.push(Candidate {
                id: (t.database, t.retention_policy, t.measurement),
                schema,
                latest,
                series,
            });
        }
    }
    if candidates.is_empty() {
        return report;
    }
    candidates.sort_by_key(|c| std::cmp::Reverse(c.latest));
    let share = tier.max_bytes() / 100 * FILL_PERCENT / candidates.len();
    for c in candidates {
        let span =
            tracing::debug_span!("warm table", db = %c.id.0, rp = %c.id.1, measurement = %c.id.2);
        match warm_table(tier, query, &c, share, cfg)
            .instrument(span)
            .await
        {
            Ok(Some(rows)) => {
                report.tables += 1;
                report.rows += rows;
            }
            Ok(None) => report.skipped += 1,
            Err(e) => {
                tracing::warn!(error = %e, db = %c.id.0, measurement = %c.id.2, "warming the recent-data tier: table skipped");
                report.skipped += 1;
            }
        }
    }
    report
}

/// [`warm_from_storage`], given up as soon as `stop` turns true (or its sender is gone):
/// a shutdown must not wait for a warm-up nobody needs any more. Measured with about
/// 30,000 partitions: the warm-up read 10,000 rows in 11.7 s, and a SIGTERM meanwhile took
/// 12.3 s to stop the server. Giving up drops the read under way: the engine cancels a
/// slice read at its next chunk; a table's histogram or latest time, short reads, finish
/// first. Tables not installed yet simply stay unwarmed. `None` when stopped.
pub async fn warm_until_stopped(
    tier: &HotTier,
    cfg: WarmConfig,
    meta: &dyn MetadataPort,
    query: &dyn QueryPort,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Option<WarmReport> {
    tokio::select! {
        report = warm_from_storage(tier, cfg, meta, query) => Some(report),
        _ = stop.wait_for(|stopped| *stopped) => None,
    }
}

/// Warms one table within `share` bytes; `Some(rows)` when installed.
async fn warm_table(
    tier: &HotTier,
    query: &dyn QueryPort,
    c: &Candidate,
    share: usize,
    cfg: WarmConfig,
) -> Result<Option<u64>, QueryError> {
    if !c.schema.other_types.is_empty() {
        // Values of one field under several types live in side columns the tier does not
        // hold: leave such a table to storage.
        return Ok(None);
    }
    let Some(ticket) = tier.warm_ticket(&c.id) else {
        return Ok(None);
    };
    let table = TableRef::new(&c.id.0, &c.id.1, &c.id.2);
    let histogram = query
        .query(
            &TimeHistogramRead {
                table: table.clone(),
                bucket_ns: BUCKET_NS,
                limit: MAX_BUCKETS,
                from: None,
                before: None,
            }
            .to_sql(),
        )
        .await?;
    let hours = buckets_of(&histogram.rows);
    let max_rows = rows_in_share(share, c.series, &c.schema);
    let taken = newest_fitting(&hours, max_rows);
    // Every bucket taken and none left out by the histogram's limit: every stored point
    // is read, so the tier may claim the whole table (unbounded reads, `last()` over all
    // time).
    let whole_table = (hours.len() as u64) < MAX_BUCKETS && taken == hours.len();
    // The buckets read, newest first.
    let buckets = match hours.get(taken) {
        // The next hour does not fit whole: take its newest minutes that still fit (one
        // hour of 1,000 TSBS hosts is 36 MB).
        Some(next) => {
            let minutes = TimeHistogramRead {
                table: table.clone(),
                bucket_ns: FINE_BUCKET_NS,
                limit: FINE_BUCKETS,
                from: Some(next.2),
                before: taken.checked_sub(1).map(|oldest| hours[oldest].2),
            };
            match query.query(&minutes.to_sql()).await {
                Ok(minutes) => {
                    with_newest_minutes(&hours[..taken], &buckets_of(&minutes.rows), max_rows)
                }
                Err(e) => {
                    tracing::warn!(error = %e, db = %c.id.0, measurement = %c.id.2, "recent-data tier: minutes of the next hour not read, whole hours warmed");
                    hours[..taken].to_vec()
                }
            }
        }
        // Every hour taken.
        None => hours,
    };
    let taken = buckets.len();
    if taken == 0 {
        return Ok(None);
    }
    let reader = SliceReader::new(query, &c.id, &c.schema);
    // First the newest rows alone, so that queries over recent data (what dashboards
    // ask) are answered from memory within a fraction of a second of the start; then the
    // older ones, merged in front of them.
    let quick = newest_fitting(&buckets, cfg.first_rows).max(1);
    let start_of = |n: usize| buckets[n - 1].2;
    let from = if quick == taken && whole_table {
        i64::MIN
    } else {
        start_of(quick)
    };
    let mut newest = Table::empty_from(from);
    let Some(mut rows) = reader
        .read(&slices_of(&buckets[..quick], None), &mut newest)
        .await?
    else {
        return Ok(None);
    };
    if !tier.install_warm(c.id.clone(), newest, ticket) {
        return Ok(None);
    }
    tracing::info!(db = %c.id.0, measurement = %c.id.2, rows, covered_from = from, "recent-data tier: newest rows warmed");
    if quick == taken {
        return Ok(Some(rows));
    }
    let Some(extension) = tier.extension_ticket(&c.id) else {
        return Ok(Some(rows));
    };
    let older_from = if whole_table {
        i64::MIN
    } else {
        start_of(taken)
    };
    let mut older = Table::empty_from(older_from);
    let end = start_of(quick).saturating_sub(1);
    let Some(older_rows) = reader
        .read(&slices_of(&buckets[quick..], Some(end)), &mut older)
        .await?
    else {
        return Ok(Some(rows));
    };
    if tier.extend_warm(&c.id, older, older_from, extension) {
        rows += older_rows;
    }
    Ok(Some(rows))
}

/// Reads time slices of one table into a private [`Table`].
struct SliceReader<'q> {
    query: &'q dyn QueryPort,
    id: &'q TableId,
    tags: Vec<String>,
    fields: Vec<(String, FieldType)>,
    field_names: Vec<String>,
}

impl<'q> SliceReader<'q> {
    fn new(query: &'q dyn QueryPort, id: &'q TableId, schema: &MeasurementSchema) -> Self {
        let fields: Vec<(String, FieldType)> =
            schema.fields.iter().map(|(f, t)| (f.clone(), *t)).collect();
        SliceReader {
            query,
            id,
            tags: schema.tag_keys.iter().cloned().collect(),
            field_names: fields.iter().map(|(f, _)| f.clone()).collect(),
            fields,
        }
    }

    /// The statement reading one slice `[min, max]`, time-ordered.
    fn statement(&self, (min, max): (i64, Option<i64>)) -> Result<String, QueryError> {
        let (db, rp, m) = self.id;
        RawRead {
            table: TableRef::new(db, rp, m),
            merge: self.query.must_merge(db, rp, m, Some(min), max),
            tags: self.tags.clone(),
            fields: self.field_names.clone(),
            filter: RowFilter {
                min: Some(min),
                max,
                condition: None,
                any_field: self.field_names.clone(),
                since: None,
            },
            limit: None,
            top: None,
            present: Vec::new(),
            at: Vec::new(),
            best: None,
            key: Vec::new(),
        }
        .to_sql()
        .map_err(|e| QueryError::Decode(e.to_string()))
    }

    /// Reads `slices` into `into`; the rows read, `None` when a value's type did not fit
    /// its column.
    async fn read(
        &self,
        slices: &[(i64, Option<i64>)],
        into: &mut Table,
    ) -> Result<Option<u64>, QueryError> {
        let statements = slices
            .iter()
            .map(|&slice| self.statement(slice))
            .collect::<Result<Vec<_>, _>>()?;
        let mut rows = 0u64;
        // Chunk by chunk as the engine sorts them out (bounded memory here whatever the
        // slice's size), the next slice already started so that the engine reads and
        // sorts it while this one is converted.
        let mut next = match statements.first() {
            Some(sql) => Some(self.query.query_chunks_in_background(sql).await?),
            None => None,
        };
        for i in 0..statements.len() {
            let Some(mut chunks) = next.take() else { break };
            if let Some(sql) = statements.get(i + 1) {
                next = Some(self.query.query_chunks_in_background(sql).await?);
            }
            while let Some(chunk) = chunks.next_chunk().await {
                // One point at a time: a chunk's rows as points at once would cost about
                // a kilobyte each (TSBS rows), tens of megabytes a chunk.
                let chunk = chunk?;
                for row in &chunk.rows {
                    let Some(point) = point_of(&self.id.2, &self.tags, &self.fields, row) else {
                        continue;
                    };
                    rows += 1;
                    if !into.put_all(std::slice::from_ref(&point)) {
                        return Ok(None);
                    }
                    if rows.is_multiple_of(YIELD_EVERY_ROWS) {
                        // Let queries on this runtime thread in: a chunk takes tens of
                        // milliseconds to convert.
                        tokio::task::yield_now().await;
                    }
                }
            }
        }
        Ok(Some(rows))
    }
}

/// (bucket number, rows, earliest time) of a histogram answer, newest first.
fn buckets_of(rows: &[Vec<Value>]) -> Vec<(i64, u64, i64)> {
    let int = |v: &Value| match v {
        Value::Integer(i) | Value::Time(i) => Some(*i),
        Value::Unsigned(u) => i64::try_from(*u).ok(),
        _ => None,
    };
    rows.iter()
        .filter_map(|r| {
            let count = match r.get(1)? {
                Value::Unsigned(u) => *u,
                other => u64::try_from(int(other)?).ok()?,
            };
            Some((int(r.first()?)?, count, int(r.get(2)?)?))
        })
        .collect()
}

/// The `hours` taken (newest first) followed by as many of the newest `minutes` older
/// than them as fit beside them in `max_rows` rows. The minutes must all be earlier than
/// the hours' earliest row (a histogram read before it).
fn with_newest_minutes(
    hours: &[(i64, u64, i64)],
    minutes: &[(i64, u64, i64)],
    max_rows: usize,
) -> Vec<(i64, u64, i64)> {
    let used: u64 = hours.iter().map(|b| b.1).fold(0, u64::saturating_add);
    let left = u64::try_from(max_rows)
        .unwrap_or(u64::MAX)
        .saturating_sub(used);
    let fitting = newest_fitting(minutes, usize::try_from(left).unwrap_or(usize::MAX));
    let mut chosen = hours.to_vec();
    chosen.extend_from_slice(&minutes[..fitting]);
    chosen
}

/// How many of the newest `buckets` (newest first) add up to at most `max_rows` rows.
fn newest_fitting(buckets: &[(i64, u64, i64)], max_rows: usize) -> usize {
    let max_rows = u64::try_from(max_rows).unwrap_or(u64::MAX);
    let mut total = 0u64;
    buckets
        .iter()
        .take_while(|&&(_, count, _)| {
            total = total.saturating_add(count);
            total <= max_rows
        })
        .count()
}

/// The time slices `[min, max]` that read `chosen` (buckets, newest first), oldest slice
/// first, each about [`SLICE_ROWS`] rows; the last one ends at `end` (`None`: open-ended).
fn slices_of(chosen: &[(i64, u64, i64)], end: Option<i64>) -> Vec<(i64, Option<i64>)> {
    // Oldest first: slice boundaries at bucket starts (their earliest rows).
    let oldest_first: Vec<&(i64, u64, i64)> = chosen.iter().rev().collect();
    let Some(first) = oldest_first.first() else {
        return Vec::new();
    };
    let mut slices = Vec::new();
    let mut start = first.2;
    let mut rows = 0u64;
    for pair in oldest_first.windows(2) {
        rows = rows.saturating_add(pair[0].1);
        if rows >= SLICE_ROWS {
            let next_start = pair[1].2;
            slices.push((start, Some(next_start.saturating_sub(1))));
            start = next_start;
            rows = 0;
        }
    }
    slices.push((start, end));
    slices
}

/// The rows of a table of `series` series that fit `share` bytes: the series themselves
/// take part of it (for many short series, most of it; every series the metadata knows is
/// counted, so a table of many dead series warms fewer rows, never more than fit).
fn rows_in_share(share: usize, series: usize, schema: &MeasurementSchema) -> usize {
    let series_bytes = series.saturating_mul(estimated_series_bytes(schema));
    share.saturating_sub(series_bytes) / estimated_row_bytes(schema).max(1)
}

/// About what a series costs in the tier besides its rows: its structure, its key and
/// tags (values guessed at 8 bytes), a column per field of the schema.
fn estimated_series_bytes(schema: &MeasurementSchema) -> usize {
    let tags: usize = schema.tag_keys.iter().map(|k| 2 * k.len() + 64 + 8).sum();
    let columns: usize = schema.fields.keys().map(|f| column_bytes(f)).sum();
    SERIES_OVERHEAD + tags + columns
}

/// About what a row costs in the tier (time, each field's value and presence).
fn estimated_row_bytes(schema: &MeasurementSchema) -> usize {
    8 + schema
        .fields
        .values()
        .map(|t| match t {
            FieldType::Boolean => 2,
            FieldType::String => 33,
            _ => 9,
        })
        .sum::<usize>()
}

/// A stored row (`time`, tag columns, field columns) as a point; empty tag values are
/// absent tags, as in InfluxDB.
fn point_of<'r>(
    measurement: &'r str,
    tags: &'r [String],
    fields: &'r [(String, FieldType)],
    row: &'r [Value],
) -> Option<PointRef<'r>> {
    let timestamp = match row.first()? {
        Value::Time(t) | Value::Integer(t) => *t,
        _ => return None,
    };
    let mut point_tags = Vec::with_capacity(tags.len());
    for (k, v) in tags.iter().zip(row.iter().skip(1)) {
        if let Value::String(s) = v {
            if !s.is_empty() {
                point_tags.push((Cow::Borrowed(k.as_str()), Cow::Borrowed(s.as_str())));
            }
        }
    }
    let mut point_fields = Vec::with_capacity(fields.len());
    for ((name, _), v) in fields.iter().zip(row.iter().skip(1 + tags.len())) {
        let value = match v {
            Value::Float(f) => FieldRef::Float(*f),
            Value::Integer(i) => FieldRef::Integer(*i),
            Value::Unsigned(u) => FieldRef::Unsigned(*u),
            Value::Boolean(b) => FieldRef::Boolean(*b),
            Value::String(s) => FieldRef::String(Cow::Borrowed(s.as_str())),
            Value::Null | Value::Time(_) => continue,
        };
        point_fields.push((Cow::Borrowed(name.as_str()), value));
    }
    if point_fields.is_empty() {
        return None;
    }
    Some(PointRef {
        measurement: Cow::Borrowed(measurement),
        tags: point_tags.into(),
        fields: point_fields.into(),
        timestamp,
        repeated_field: None,
        series_hash: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_take_the_newest_buckets_that_fit() {
        // Newest first: (bucket, rows, earliest time).
        let buckets = [
            (5, 600_000, 500),
            (4, 600_000, 400),
            (3, 600_000, 300),
            (2, 600_000, 200),
        ];
        assert_eq!(newest_fitting(&buckets, 10), 0);
        assert_eq!(newest_fitting(&buckets, 600_000), 1);
        assert_eq!(newest_fitting(&buckets, 2_000_000), 3);
        assert_eq!(newest_fitting(&buckets, usize::MAX), 4);
        assert_eq!(slices_of(&buckets[..1], None), vec![(500, None)]);
        assert_eq!(
            slices_of(&buckets[..3], None),
            vec![(300, Some(499)), (500, None)]
        );
        assert_eq!(
            slices_of(&buckets, None),
            vec![(200, Some(399)), (400, None)]
        );
        // The older part of a two-phase warm-up ends where the newest part starts.
        assert_eq!(
            slices_of(&buckets[1..], Some(499)),
            vec![(200, Some(399)), (400, Some(499))]
        );
        assert_eq!(slices_of(&[], None), vec![]);
    }

    #[test]
    fn the_series_take_their_part_of_a_share_before_rows() {
        let mut schema = MeasurementSchema::default();
        schema.fields.insert("v".into(), FieldType::Float);
        schema.tag_keys.insert("host".into());
        let row = estimated_row_bytes(&schema);
        let one = estimated_series_bytes(&schema);
        assert_eq!(row, 17);
        assert!(one > SERIES_OVERHEAD + column_bytes("v"));
        assert_eq!(rows_in_share(17_000, 0, &schema), 1_000);
        assert_eq!(rows_in_share(17_000, 10, &schema), (17_000 - 10 * one) / 17);
        // More series than the share holds: no rows, and no overflow.
        assert_eq!(rows_in_share(17_000, 1_000, &schema), 0);
        assert_eq!(rows_in_share(usize::MAX, usize::MAX, &schema), 0);
    }

    #[test]
    fn minutes_fill_what_whole_hours_leave() {
        // Newest first: (bucket, rows, earliest time).
        let hours = [(9, 300, 32_400), (8, 300, 28_800)];
        let minutes = [(479, 50, 28_740), (478, 50, 28_680), (477, 50, 28_620)];
        let chosen = with_newest_minutes(&hours, &minutes, 700);
        assert_eq!(chosen.len(), 4);
        assert_eq!(chosen, vec![hours[0], hours[1], minutes[0], minutes[1]]);
        // The slices read from the oldest minute taken on.
        assert_eq!(slices_of(&chosen, None), vec![(28_680, None)]);
        // Nothing left beside the hours: the hours alone.
        assert_eq!(with_newest_minutes(&hours, &minutes, 600).len(), 2);
        // No hour fits: the newest minutes alone.
        let chosen = with_newest_minutes(&[], &minutes, 120);
        assert_eq!((chosen.as_slice(), chosen.len()), (&minutes[..2], 2));
    }

    fn point(host: &str, t: i64, field: &str, v: FieldRef<'static>) -> PointRef<'static> {
        PointRef {
            measurement: Cow::Borrowed("cpu"),
            tags: vec![(Cow::Borrowed("host"), Cow::Owned(host.to_string()))].into(),
            fields: vec![(Cow::Owned(field.to_string()), v)].into(),
            timestamp: t,
            repeated_field: None,
            series_hash: None,
        }
    }

    fn warmed_newest(tier: &HotTier) {
        let mut newest = Table::empty_from(100);
        assert!(newest.put_all(&[
            point("a", 100, "v", FieldRef::Float(1.0)),
            point("a", 110, "w", FieldRef::Integer(2)),
        ]));
        let ticket = tier.warm_ticket(&id()).expect("a ticket");
        assert!(tier.install_warm(id(), newest, ticket));
    }

    #[test]
    fn older_rows_extend_a_warmed_table_backwards() {
        let tier = HotTier::new(1 << 20);
        warmed_newest(&tier);
        assert!(!tier.covers("db", "autogen", "cpu", Some(50)));
        let ext = tier.extension_ticket(&id()).expect("an extension ticket");
        let mut older = Table::empty_from(50);
        assert!(older.put_all(&[
            point("a", 50, "v", FieldRef::Float(0.5)),
            point("a", 60, "s", FieldRef::String(Cow::Borrowed("x"))),
            point("b", 70, "v", FieldRef::Float(7.0)),
        ]));
        assert!(tier.extend_warm(&id(), older, 50, ext));
        assert!(tier.covers("db", "autogen", "cpu", Some(50)));
        let fields = ["v".to_string(), "w".to_string(), "s".to_string()];
        let mut filter = crate::query::ReadFilter::new(None, &fields, Some(50), None);
        let mut got: Vec<(String, i64, Vec<String>)> = tier
            .read("db", "autogen", "cpu", &mut filter, None)
            .expect("covered")
            .into_iter()
            .map(|p| {
                let host = p.tags.get("host").cloned().unwrap_or_default();
                (
                    host,
                    p.time,
                    p.fields.keys().map(|k| k.to_string()).collect(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("a".into(), 50, vec!["v".into()]),
                ("a".into(), 60, vec!["s".into()]),
                ("a".into(), 100, vec!["v".into()]),
                ("a".into(), 110, vec!["w".into()]),
                ("b".into(), 70, vec!["v".into()]),
            ]
        );
    }

    #[test]
    fn an_extension_is_refused_when_anything_changed_meanwhile() {
        let older = || {
            let mut t = Table::empty_from(50);
            assert!(t.put_all(&[point("a", 50, "v", FieldRef::Float(0.5))]));
            t
        };
        // A flush left out a point earlier than the coverage: it may be missing.
        let tier = HotTier::new(1 << 20);
        warmed_newest(&tier);
        let ext = tier.extension_ticket(&id()).expect("a ticket");
        tier.insert_views(&id(), Some(0), &[point("a", 80, "v", FieldRef::Float(8.0))]);
        assert!(!tier.extend_warm(&id(), older(), 50, ext));
        assert!(!tier.covers("db", "autogen", "cpu", Some(50)));
        // A removal ran.
        let tier = HotTier::new(1 << 20);
        warmed_newest(&tier);
        let ext = tier.extension_ticket(&id()).expect("a ticket");
        drop(tier.removing());
        assert!(!tier.extend_warm(&id(), older(), 50, ext));
        // A column of another type.
        let tier = HotTier::new(1 << 20);
        warmed_newest(&tier);
        let ext = tier.extension_ticket(&id()).expect("a ticket");
        let mut clash = Table::empty_from(50);
        assert!(clash.put_all(&[point("a", 50, "v", FieldRef::Integer(1))]));
        assert!(!tier.extend_warm(&id(), clash, 50, ext));
        // Nothing changed: merged.
        let ext = tier.extension_ticket(&id()).expect("a ticket");
        assert!(tier.extend_warm(&id(), older(), 50, ext));
    }

    fn id() -> TableId {
        ("db".into(), "autogen".into(), "cpu".into())
    }

    #[test]
    fn a_table_read_while_data_was_removed_is_not_installed() {
        let tier = HotTier::new(1 << 20);
        // A removal under way when the read starts: no ticket.
        let removing = tier.removing();
        assert_eq!(tier.warm_ticket(&id()), None);
        drop(removing);
        // A removal that ran (or began) between the ticket and the installation.
        let ticket = tier.warm_ticket(&id()).expect("a ticket");
        drop(tier.removing());
        assert!(!tier.install_warm(id(), Table::empty_from(0), ticket));
        let ticket = tier.warm_ticket(&id()).expect("a ticket");
        let removing = tier.removing();
        assert!(!tier.install_warm(id(), Table::empty_from(0), ticket));
        drop(removing);
        // Nothing removed meanwhile: installed, and a second warm-up finds it known.
        let ticket = tier.warm_ticket(&id()).expect("a ticket");
        assert!(tier.install_warm(id(), Table::empty_from(0), ticket));
        assert_eq!(tier.warm_ticket(&id()), None);
    }

    #[test]
    fn a_table_the_flush_established_first_is_left_alone() {
        let tier = HotTier::new(1 << 20);
        let ticket = tier.warm_ticket(&id()).expect("a ticket");
        tier.start(&id(), Some(41));
        assert!(!tier.install_warm(id(), Table::empty_from(0), ticket));
        assert!(!tier.covers("db", "autogen", "cpu", Some(0)));
        assert!(tier.covers("db", "autogen", "cpu", Some(42)));
    }

    #[test]
    fn rows_become_points_without_empty_tags_or_null_fields() {
        let tags = vec!["host".to_string(), "region".to_string()];
        let fields = vec![
            ("a".to_string(), FieldType::Float),
            ("b".to_string(), FieldType::Integer),
        ];
        let row = vec![
            Value::Time(7),
            Value::String("h1".into()),
            Value::String(String::new()),
            Value::Null,
            Value::Integer(3),
        ];
        let p = point_of("cpu", &tags, &fields, &row).expect("a point");
        assert_eq!(p.timestamp, 7);
        assert_eq!(p.tags, vec![(Cow::Borrowed("host"), Cow::Borrowed("h1"))]);
        assert_eq!(p.fields, vec![(Cow::Borrowed("b"), FieldRef::Integer(3))]);
        let empty = vec![
            Value::Time(7),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ];
        assert!(point_of("cpu", &tags, &fields, &empty).is_none());
    }

    /// A storage engine whose every read waits forever (a warm-up over tens of thousands
    /// of partitions, as slow as it gets).
    #[derive(Debug)]
    struct NeverAnswers;

    #[async_trait::async_trait]
    impl QueryPort for NeverAnswers {
        async fn query(&self, _: &str) -> Result<hyperbyte_ports::RowSet, QueryError> {
            std::future::pending().await
        }
        async fn table_columns(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<Vec<String>, QueryError> {
            Ok(Vec::new())
        }
        async fn latest_time(
            &self,
            _: &str,
            _: &str,
            _: &str,
            _: Option<i64>,
        ) -> Result<Option<i64>, QueryError> {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn a_shutdown_does_not_wait_for_the_warm_up() {
        use hyperbyte_domain::MetaCommand;
        let meta = hyperbyte_testkit::MemoryMetadata::new();
        meta.apply_blocking(MetaCommand::CreateDatabase {
            name: "db".into(),
            default_rp: None,
        })
        .unwrap();
        meta.apply_blocking(MetaCommand::RegisterSchema {
            database: "db".into(),
            measurement: "cpu".into(),
            fields: vec![("f".into(), FieldType::Float)],
            tag_keys: vec!["host".into()],
        })
        .unwrap();
        meta.apply_blocking(MetaCommand::RegisterSeries {
            database: "db".into(),
            measurement: "cpu".into(),
            series: vec![("cpu,host=a".into(), vec![("host".into(), "a".into())])],
        })
        .unwrap();
        let tier = HotTier::new(1 << 20);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let warm = warm_until_stopped(&tier, WarmConfig::default(), &meta, &NeverAnswers, stop_rx);
        tokio::pin!(warm);
        // Under way, and it would stay so: the engine never answers.
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), &mut warm)
                .await
                .is_err()
        );
        stop_tx.send(true).unwrap();
        let stopped = tokio::time::timeout(std::time::Duration::from_secs(10), warm)
            .await
            .expect("the warm-up ends on the stop signal");
        assert_eq!(stopped, None);
        assert_eq!(tier.bytes(), 0);
    }
}
