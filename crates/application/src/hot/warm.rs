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
//! rows at or after `S` fit the table's share of the budget; the rows from `S` on are read
//! in time-ordered slices into a private table whose coverage starts at `S`, which is
//! installed only when no flush established the table meanwhile and no removal of stored
//! data ran or began since the read started ([`HotTier::install_warm`]). A flush that
//! starts after the installation adds its batches on top (field-wise overwrites), as it
//! does for any known table; one that started before it finds the table established and
//! the warm-up gives that table up.

use super::table::{Table, TableId};
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
/// Rows per read slice. The engine sorts a slice by time and hands it out in chunks. A
/// slice reads every part its time range overlaps, and a merged part sorted by series
/// spans every hour, so narrow slices read the same parts over and over (864k TSBS rows
/// in one merged part: 200,000-row slices 5.2 s and 670 MB peak resident memory, one
/// slice 4.0–4.4 s and 620–640 MB).
const SLICE_ROWS: u64 = 1_000_000;
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
}

/// Reads the newest stored rows of every table into `tier`, newest tables first, each
/// table getting an equal share of the budget. Errors reading a table skip that table;
/// the tier then fills from the flush as without a warm-up.
pub async fn warm_from_storage(
    tier: &HotTier,
    meta: &dyn MetadataPort,
    query: &dyn QueryPort,
) -> WarmReport {
    let mut report = WarmReport::default();
    let mut candidates = Vec::new();
    for db in meta.databases() {
        for m in meta.measurements(&db.name) {
            let Some(schema) = meta.schema(&db.name, &m) else {
                continue;
            };
            for rp in &db.retention_policies {
                if let Ok(Some(latest)) = query.latest_time(&db.name, &rp.name, &m, None).await {
                    candidates.push(Candidate {
                        id: (db.name.clone(), rp.name.clone(), m.clone()),
                        schema: schema.clone(),
                        latest,
                    });
                }
            }
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
        match warm_table(tier, query, &c, share).instrument(span).await {
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

/// Warms one table within `share` bytes; `Some(rows)` when installed.
async fn warm_table(
    tier: &HotTier,
    query: &dyn QueryPort,
    c: &Candidate,
    share: usize,
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
            }
            .to_sql(),
        )
        .await?;
    let buckets = buckets_of(&histogram.rows);
    let row_bytes = estimated_row_bytes(&c.schema);
    let Some(slices) = plan_slices(&buckets, share / row_bytes.max(1)) else {
        return Ok(None);
    };
    // Every bucket taken and none left out by the histogram's limit: every stored point
    // is read, so the tier may claim the whole table (unbounded reads, `last()` over all
    // time).
    let whole_table = (buckets.len() as u64) < MAX_BUCKETS
        && slices.first().map(|s| s.0) == buckets.last().map(|b| b.2);
    let tags: Vec<String> = c.schema.tag_keys.iter().cloned().collect();
    let fields: Vec<(String, FieldType)> = c
        .schema
        .fields
        .iter()
        .map(|(f, t)| (f.clone(), *t))
        .collect();
    let field_names: Vec<String> = fields.iter().map(|(f, _)| f.clone()).collect();
    let from = if whole_table {
        i64::MIN
    } else {
        slices.first().map_or(i64::MAX, |s| s.0)
    };
    let mut warm = Table::empty_from(from);
    let mut rows = 0u64;
    let statements = slices
        .iter()
        .map(|&(min, max)| {
            RawRead {
                table: table.clone(),
                merge: query.must_merge(&c.id.0, &c.id.1, &c.id.2, Some(min), max),
                tags: tags.clone(),
                fields: field_names.clone(),
                filter: RowFilter {
                    min: Some(min),
                    max,
                    condition: None,
                    any_field: field_names.clone(),
                    since: None,
                },
                limit: None,
            }
            .to_sql()
            .map_err(|e| QueryError::Decode(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Chunk by chunk as the engine sorts them out (bounded memory here whatever the
    // slice's size), the next slice already started so that the engine reads and sorts it
    // while this one is converted.
    let mut next = match statements.first() {
        Some(sql) => Some(query.query_chunks(sql).await?),
        None => None,
    };
    for i in 0..statements.len() {
        let Some(mut chunks) = next.take() else { break };
        if let Some(sql) = statements.get(i + 1) {
            next = Some(query.query_chunks(sql).await?);
        }
        while let Some(chunk) = chunks.next_chunk().await {
            // One point at a time: a chunk's rows as points at once would cost about a
            // kilobyte each (TSBS rows), tens of megabytes a chunk.
            for row in &chunk?.rows {
                let Some(point) = point_of(&c.id.2, &tags, &fields, row) else {
                    continue;
                };
                rows += 1;
                if !warm.put_all(std::slice::from_ref(&point)) {
                    return Ok(None);
                }
            }
        }
    }
    Ok(tier
        .install_warm(c.id.clone(), warm, ticket)
        .then_some(rows))
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

/// The time slices `[min, max]` (the last one open-ended) to read so that the newest
/// buckets whose rows add up to at most `max_rows` are read, oldest slice first, each
/// slice about [`SLICE_ROWS`] rows. `None` when not even the newest bucket fits.
fn plan_slices(buckets: &[(i64, u64, i64)], max_rows: usize) -> Option<Vec<(i64, Option<i64>)>> {
    let max_rows = u64::try_from(max_rows).unwrap_or(u64::MAX);
    let mut taken = 0usize;
    let mut total = 0u64;
    for &(_, count, _) in buckets {
        let next = total.saturating_add(count);
        if next > max_rows {
            break;
        }
        total = next;
        taken += 1;
    }
    if taken == 0 {
        return None;
    }
    // Oldest first: slice boundaries at bucket starts (their earliest rows).
    let chosen: Vec<&(i64, u64, i64)> = buckets[..taken].iter().rev().collect();
    let mut slices = Vec::new();
    let mut start = chosen[0].2;
    let mut rows = 0u64;
    for pair in chosen.windows(2) {
        rows = rows.saturating_add(pair[0].1);
        if rows >= SLICE_ROWS {
            let next_start = pair[1].2;
            slices.push((start, Some(next_start.saturating_sub(1))));
            start = next_start;
            rows = 0;
        }
    }
    slices.push((start, None));
    Some(slices)
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
        tags: point_tags,
        fields: point_fields,
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
        assert_eq!(plan_slices(&buckets, 10), None);
        assert_eq!(plan_slices(&buckets, 600_000), Some(vec![(500, None)]));
        assert_eq!(
            plan_slices(&buckets, 2_000_000),
            Some(vec![(300, Some(499)), (500, None)])
        );
        assert_eq!(
            plan_slices(&buckets, usize::MAX),
            Some(vec![(200, Some(399)), (400, None)])
        );
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
}
