//! The storage layout: how an InfluxDB (database, retention policy, measurement) maps to a
//! chDB table, and the DDL that creates and evolves it.
//!
//! One chDB database per InfluxDB database, one table per (rp, measurement):
//! `time DateTime64(9)`, one `LowCardinality(String)` column per tag (a missing tag is the
//! empty string, as in InfluxDB), one `SimpleAggregateFunction(anyLast, Nullable(T))`
//! column per field, `AggregatingMergeTree` ordered by (tags in first-seen order, time,
//! later tags). Rows with the same series and time merge field by field, the last
//! written non-null value winning: InfluxDB's overwrite semantics when read with `FINAL`.
//! Tables are partitioned by the policy's shard group duration, so retention drops whole
//! partitions. Every identifier comes from `hyperbyte_domain::naming`.

use hyperbyte_domain::naming::{quote_ident, TIME_COLUMN};
use hyperbyte_domain::FieldType;

/// Codec of the time column: 0.012 B/row against 7 B/row with the default (measured).
pub const TIME_CODEC: &str = "CODEC(DoubleDelta, ZSTD(1))";

/// Table settings:
/// - every insert is fsynced (part files and directory) before it returns, so the caller
///   may truncate its WAL once `write_points` succeeded;
/// - every merged part is fsynced too ([`MERGE_FSYNC_SETTING`]): the engine deletes the
///   parts a merge replaced soon after it (chDB's `old_parts_lifetime` is 0; measured on
///   864k TSBS rows: 10–40 s after the merge), and a merged part still in the page cache
///   at a power loss would take acknowledged points with it;
/// - the parts a merge replaced are removed within about half a minute
///   ([`CLEANUP_SETTING`]);
/// - narrow reads decompress less ([`READ_GRANULE_SETTINGS`]);
/// - the primary index is in memory from the start ([`EAGER_PRIMARY_KEY_SETTING`]);
/// - inserts and merges hold small write buffers ([`WRITE_BUFFER_SETTING`]).
pub const TABLE_SETTINGS: &str = "fsync_after_insert = 1, fsync_part_directory = 1, \
     min_compressed_bytes_to_fsync_after_merge = 1, \
     cleanup_delay_period = 5, max_cleanup_delay_period = 30, \
     index_granularity = 2048, min_compress_block_size = 16384, \
     primary_key_lazy_load = 0, max_compress_block_size = 65536";

/// Compression blocks of at most 64 KiB instead of the engine's 1 MiB. The engine gives
/// every stream a part writes (a column, and the null map of each nullable one: 41 for a
/// TSBS table) a buffer of that size and a file buffer beside it, in every insert and in
/// every merge; a merge also reads each stream of each source part through buffers of
/// its own. The blocks themselves stay as [`READ_GRANULE_SETTINGS`] cuts them (a granule
/// of a `Float64` column is 16 KiB, one block); only a granule larger than 64 KiB (long
/// strings) is now split.
///
/// Measured on 1,000 TSBS hosts × 12 h loaded by 4 writers (the engine's own
/// `MemoryTracking` and `system.processes`/`system.merges`, sampled every 100 ms): an
/// insert of a 250,000-point flush round peaked at 100–110 MB and a merge of six parts
/// at 107 MB with 1 MiB blocks, against 18–27 MB and 27–45 MB with these; the engine's
/// peak during the load went from 604 to 317 MB.
pub const WRITE_BUFFER_SETTING: &str = "max_compress_block_size = 65536";

/// The engine loads a part's primary index when the table is attached at start-up,
/// not at the first read of the part (its default): the first narrow read of a table
/// after a restart otherwise waits for every part's index. Measured on the engine alone
/// (one merged part of 1,000 TSBS hosts × 12 h, a process started per run, three runs):
/// the first one-host, one-hour read 9.6–11.2 ms instead of 12.6–13.6 ms (later reads 5 ms
/// either way); with the marks prewarmed too (`prewarm_mark_cache`) 7.8–8.5 ms, not taken:
/// the marks of every column of every part would stay in memory. The index costs what
/// the first read of each part costs anyway (about 160 bytes a granule of 2,048 rows for
/// TSBS's ten tags), now for every part at start-up; the start did not get slower (about
/// 105 ms for that table either way).
pub const EAGER_PRIMARY_KEY_SETTING: &str = "primary_key_lazy_load = 0";

/// Granules of 2,048 rows, compressed in blocks of at least 16 KiB (one granule of a
/// `Float64` column), instead of the engine's 8,192 rows and 64 KiB. A read of a few
/// series over an hour needs a few hundred rows of each, but the engine decompresses
/// every block its granules touch: with the defaults that is 8,192 rows of every column
/// read for each series.
///
/// Measured on 1,000 TSBS hosts × 12 h (4.32 M rows, values to two decimals), the same
/// random instances sent alternately to two servers loaded alike, recent-data tier off,
/// 150 of each (medians; both servers also differ in the reader settings of
/// `engine.rs`, worth about 0.7 ms a read):
///
/// | query | defaults | these |
/// |---|---:|---:|
/// | one host, `max` of one field per minute over 1 h | 11.2 ms | 9.6 ms |
/// | five hosts, `max` of 8 fields per minute over 1 h | 26.9 ms | 19.8 ms |
/// | one host, every column over 1 h, `usage_user > 90` | 11.4 ms | 9.0 ms |
/// | one host, every column over 1 h | 16.1 ms | 12.2 ms |
/// | every host, `mean` of 10 fields per hour and host over 12 h | 629 ms | 645 ms |
/// | stored size | 116 MB | 118 MB |
///
/// Through the engine alone, on one merged part: granules of 1,024 rows gained nothing
/// more and cost wide reads 13%; smaller granules with 64 KiB blocks gained nothing (the
/// blocks still span the same rows). A table's granularity is fixed when it is created,
/// so tables created before keep theirs.
pub const READ_GRANULE_SETTINGS: &str = "index_granularity = 2048, min_compress_block_size = 16384";

/// The setting that makes merges fsync their part, in the form `SHOW CREATE` and
/// `system.tables.engine_full` print it.
pub const MERGE_FSYNC_SETTING: &str = "min_compressed_bytes_to_fsync_after_merge = 1";

/// How often the engine removes the parts merges replaced: every 5 s while it finds
/// some, backing off to 30 s when idle. The engine's default backs off to 300 s: after a
/// load of 2.16 M rows (1,000 hosts × 6 h) the replaced parts stayed 3.3 minutes, the
/// data directory at 230 MB instead of 157 MB (three times the merged size at 8.64 M
/// rows); with these values a table's replaced parts went 6 s after its merges, against
/// 31 s with the defaults after a short load.
pub const CLEANUP_SETTING: &str = "cleanup_delay_period = 5, max_cleanup_delay_period = 30";

/// The settings of [`TABLE_SETTINGS`] that tables created before them are given in the
/// background at start-up (as `engine_full` prints them), each with what it changes.
pub const UPGRADED_SETTINGS: &[(&str, &str)] = &[
    (
        MERGE_FSYNC_SETTING,
        "merges of the table are fsynced from now on",
    ),
    (
        CLEANUP_SETTING,
        "parts merges replaced are removed within half a minute from now on",
    ),
    (
        EAGER_PRIMARY_KEY_SETTING,
        "the table's primary index is loaded at the next start, before its first read",
    ),
    (
        WRITE_BUFFER_SETTING,
        "inserts and merges of the table hold 64 KiB write buffers from now on",
    ),
];

/// The name of every table's index of its granules' time ranges ([`TIME_INDEX`]).
pub const TIME_INDEX_NAME: &str = "hb_time_range";

/// Every table's index of the least and greatest time of each granule. The sort key
/// leads with the tags, so the primary index narrows a range of time only within one
/// series; the rows of the first times over every series (`SELECT * FROM cpu LIMIT 5`,
/// a user's first look at a measurement) were found by reading the whole `time` column.
/// With this index the engine reads the granules that may hold them: on 1,000 TSBS hosts
/// × 24 h, the least five times in 3.5 ms instead of 35 ms. Reads ask for it by statement
/// (the readers' sessions leave it out, see `engine.rs`); it costs 16 bytes a granule.
/// Tables created before it get it at start-up, for the parts written from then on
/// (inserts and merges); older parts are read as before until a merge rewrites them.
pub const TIME_INDEX: &str = "INDEX hb_time_range time TYPE minmax GRANULARITY 1";

/// The column type of a field of type `ty`.
pub fn field_column_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Float => "SimpleAggregateFunction(anyLast, Nullable(Float64))",
        FieldType::Integer => "SimpleAggregateFunction(anyLast, Nullable(Int64))",
        FieldType::Unsigned => "SimpleAggregateFunction(anyLast, Nullable(UInt64))",
        FieldType::Boolean => "SimpleAggregateFunction(anyLast, Nullable(Bool))",
        FieldType::String => "SimpleAggregateFunction(anyLast, Nullable(String))",
    }
}

/// The codec of a field column of type `ty`.
///
/// Floats: ZSTD(1) stores TSBS-like data in 7.45 B/value (LZ4: 7.96; 2-decimal data 2.83
/// against 4.03) at the price of slower wide scans. Integers: `T64, ZSTD(1)`.
///
/// The float codecs made for doubles lose where real data lives (measured on the
/// 864,000 values of one TSBS field, merged, B/value ZSTD(1) / `FPC, ZSTD(1)` /
/// `Gorilla, ZSTD(1)`): full-precision random walk 7.44 / 6.77 / 7.15, the same rounded to
/// 4 decimals 4.88 / 6.77 / -, to 2 decimals 2.69 / 4.56 / 5.12, whole numbers 0.63 /
/// 0.86 / 0.50. FPC also made a scan of all ten fields of 8.64 M rows 20% slower and
/// inserts 5-10% slower; it wins only on values with no fixed precision, where nothing
/// gets far below their ~6 B/value of entropy. Those columns are moved to LZ4 once their
/// data shows it ([`crate::codecs`]).
pub fn field_codec(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Float => "CODEC(ZSTD(1))",
        FieldType::Integer | FieldType::Unsigned => "CODEC(T64, ZSTD(1))",
        FieldType::Boolean | FieldType::String => "CODEC(ZSTD(1))",
    }
}

/// Parses a field column's type back (from `system.columns`).
pub fn parse_field_column_type(ty: &str) -> Option<FieldType> {
    let inner = ty
        .strip_prefix("SimpleAggregateFunction(anyLast, Nullable(")?
        .strip_suffix("))")?;
    Some(match inner {
        "Float64" => FieldType::Float,
        "Int64" => FieldType::Integer,
        "UInt64" => FieldType::Unsigned,
        "Bool" => FieldType::Boolean,
        "String" => FieldType::String,
        _ => return None,
    })
}

/// `CREATE DATABASE IF NOT EXISTS` for a (named) chDB database.
pub fn create_database_sql(db: &str) -> String {
    format!(
        "CREATE DATABASE IF NOT EXISTS {} ENGINE = Atomic",
        quote_ident(db)
    )
}

/// `CREATE TABLE IF NOT EXISTS` for `table` with tag columns (sort key order) and
/// field columns, partitioned by `partition_ns`.
pub fn create_table_sql(
    qualified: &str,
    tag_columns: &[String],
    field_columns: &[(String, FieldType)],
    partition_ns: i64,
) -> String {
    let mut cols = vec![format!(
        "{} DateTime64(9) {TIME_CODEC}",
        quote_ident(TIME_COLUMN)
    )];
    for t in tag_columns {
        cols.push(format!(
            "{} LowCardinality(String) DEFAULT ''",
            quote_ident(t)
        ));
    }
    for (f, ty) in field_columns {
        cols.push(format!(
            "{} {} {}",
            quote_ident(f),
            field_column_type(*ty),
            field_codec(*ty)
        ));
    }
    cols.push(TIME_INDEX.to_string());
    let mut key: Vec<String> = tag_columns.iter().map(|t| quote_ident(t)).collect();
    key.push(quote_ident(TIME_COLUMN));
    format!(
        "CREATE TABLE IF NOT EXISTS {qualified} ({}) ENGINE = AggregatingMergeTree \
         PARTITION BY intDiv(toUnixTimestamp64Nano({}), {}) ORDER BY ({}) SETTINGS {TABLE_SETTINGS}",
        cols.join(", "),
        quote_ident(TIME_COLUMN),
        partition_ns.max(1),
        key.join(", ")
    )
}

/// Most columns one DDL statement adds. A line may bring thousands of new fields, and one
/// statement naming them all would exceed the engine's statement size and AST limits; a
/// few hundred columns keep each statement far below them.
pub const MAX_DDL_COLUMNS: usize = 200;

/// The `ALTER TABLE` statements that add tag columns (extending the sort key, after its
/// current last column) and field columns, at most [`MAX_DDL_COLUMNS`] columns each,
/// tags first. `sort_key` is the current key (column names). Empty when nothing is new.
///
/// A new key column must not carry a `DEFAULT` expression; the implicit default of
/// `LowCardinality(String)` is the empty string anyway.
pub fn alter_table_sql(
    qualified: &str,
    sort_key: &[String],
    new_tags: &[String],
    new_fields: &[(String, FieldType)],
) -> Vec<String> {
    let mut statements = Vec::new();
    let mut key: Vec<String> = sort_key.iter().map(|c| quote_ident(c)).collect();
    for tags in new_tags.chunks(MAX_DDL_COLUMNS) {
        let mut parts: Vec<String> = tags
            .iter()
            .map(|t| {
                format!(
                    "ADD COLUMN IF NOT EXISTS {} LowCardinality(String)",
                    quote_ident(t)
                )
            })
            .collect();
        key.extend(tags.iter().map(|t| quote_ident(t)));
        parts.push(format!("MODIFY ORDER BY ({})", key.join(", ")));
        statements.push(format!("ALTER TABLE {qualified} {}", parts.join(", ")));
    }
    for fields in new_fields.chunks(MAX_DDL_COLUMNS) {
        let parts: Vec<String> = fields
            .iter()
            .map(|(f, ty)| {
                format!(
                    "ADD COLUMN IF NOT EXISTS {} {} {}",
                    quote_ident(f),
                    field_column_type(*ty),
                    field_codec(*ty)
                )
            })
            .collect();
        statements.push(format!("ALTER TABLE {qualified} {}", parts.join(", ")));
    }
    statements
}

/// Parses the partition width out of a table's `partition_key` (as `system.tables`
/// prints it: `intDiv(toUnixTimestamp64Nano(time), 604800000000000)`).
pub fn parse_partition_ns(partition_key: &str) -> Option<i64> {
    let rest = partition_key.trim().strip_suffix(')')?;
    let n = rest.rsplit(',').next()?.trim();
    n.parse().ok().filter(|n: &i64| *n > 0)
}

/// The nanosecond at which the partition numbered `k` (`intDiv(nanos, width)`) ends,
/// exclusive: every row in it is earlier. `intDiv` truncates toward zero, so partition
/// 0 spans `(-width, width)` and a negative `k` spans `(k-1)·width, k·width]`.
pub fn partition_end(k: i64, width: i64) -> i64 {
    if k >= 0 {
        k.saturating_add(1).saturating_mul(width)
    } else {
        k.saturating_mul(width).saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_types_round_trip() {
        for ty in [
            FieldType::Float,
            FieldType::Integer,
            FieldType::Unsigned,
            FieldType::Boolean,
            FieldType::String,
        ] {
            assert_eq!(parse_field_column_type(field_column_type(ty)), Some(ty));
        }
        assert_eq!(parse_field_column_type("Float64"), None);
    }

    #[test]
    fn partition_helpers() {
        assert_eq!(
            parse_partition_ns("intDiv(toUnixTimestamp64Nano(time), 604800000000000)"),
            Some(604_800_000_000_000)
        );
        assert_eq!(parse_partition_ns("toDate(time)"), None);
        assert_eq!(partition_end(0, 10), 10);
        assert_eq!(partition_end(3, 10), 40);
        assert_eq!(partition_end(-1, 10), -9);
    }

    #[test]
    fn alter_without_changes_is_empty() {
        assert!(alter_table_sql("`d`.`t`", &[], &[], &[]).is_empty());
        let sql = alter_table_sql(
            "`d`.`t`",
            &["t_a".into(), "time".into()],
            &["t_b".into()],
            &[],
        );
        assert_eq!(sql.len(), 1);
        assert!(
            sql[0].ends_with("MODIFY ORDER BY (`t_a`, `time`, `t_b`)"),
            "{sql:?}"
        );
    }

    #[test]
    fn wide_alters_are_split_and_extend_the_key_step_by_step() {
        let tags: Vec<String> = (0..250).map(|i| format!("t_{i}")).collect();
        let fields: Vec<(String, FieldType)> = (0..450)
            .map(|i| (format!("f_{i}"), FieldType::Float))
            .collect();
        let sql = alter_table_sql("`d`.`t`", &["time".into()], &tags, &fields);
        // 2 tag statements (200 + 50), 3 field statements (200 + 200 + 50).
        assert_eq!(sql.len(), 5);
        assert!(
            sql[0].ends_with("`t_199`)"),
            "{}",
            &sql[0][sql[0].len() - 40..]
        );
        assert!(sql[1].contains("MODIFY ORDER BY (`time`, `t_0`"));
        assert!(sql[1].ends_with("`t_249`)"));
        for s in &sql {
            assert!(s.matches("ADD COLUMN").count() <= MAX_DDL_COLUMNS);
            assert!(s.len() < 64 * 1024, "{} bytes", s.len());
        }
        assert!(sql[4].contains("`f_449`"));
    }
}
