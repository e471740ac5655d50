//! Float columns whose values do not compress are switched from ZSTD to LZ4.
//!
//! Why: a float column is created with `ZSTD(1)` ([`layout::field_codec`]), which stores
//! values of a fixed precision (readings to two decimals, whole numbers) in a third of
//! their size or less. Values that use their whole mantissa (averages, random walks, most
//! computed metrics) are noise to any compressor: ZSTD keeps about 93% of them, and every
//! insert, merge and read pays its slower coding for those 7%. Measured on 4.32 M TSBS
//! rows written in full precision (the engine alone, one merged part, the same statements
//! alternated 60 times; ZSTD(1) → LZ4):
//!
//! | read | ZSTD(1) | LZ4 |
//! |---|---:|---:|
//! | `avg` of 10 fields per host and hour, every host, 12 h | 535 ms | 267 ms |
//! | 4 fields of 8 hosts over 8 h | 10.7 ms | 8.3 ms |
//! | every column of one host over 1 h | 8.4 ms | 8.2 ms |
//! | `max` of one field of one host per minute over 1 h | 5.9 ms | 5.8 ms |
//! | stored size of the table | 321 MB | 347 MB |
//!
//! and an `OPTIMIZE … FINAL` of the 4.25 M rows in 7 parts took 7.3 CPU-seconds with
//! ZSTD, 5.4 with LZ4.
//!
//! So the storage judges each float column once it holds enough data
//! ([`CodecTuning::min_bytes`] uncompressed in active parts): when ZSTD keeps more than
//! three quarters of it, the column becomes `CODEC(LZ4)` (`ALTER TABLE … MODIFY COLUMN`,
//! which only changes metadata: parts written from then on, merges included, use LZ4).
//! The switch is one-way, since an LZ4 column's ZSTD ratio is no longer known. Tables are
//! checked after they were written, first [`CodecTuning::first_check`] after their first
//! write, then at doubling intervals up to an hour, one table per flush round.

use crate::layout;
use crate::merge_state::TableKey;
use hyperbyte_domain::naming::{quote_ident, quote_string};
use hyperbyte_domain::FieldType;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The codec a noisy float column gets.
pub const NOISY_FLOAT_CODEC: &str = "CODEC(LZ4)";

/// The longest interval between two checks of one table.
const MAX_CHECK_INTERVAL: Duration = Duration::from_secs(3600);

/// When and on how much data float columns are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecTuning {
    /// Uncompressed bytes (values and null map) a column must hold in active wide parts
    /// before it is judged: 1 MiB, about 116,000 values, by default (a sample far larger
    /// than a ratio needs; the engine keeps no per-column sizes for compact parts, the
    /// form of parts below 10 MB, so a table is judged once it has a wide one).
    pub min_bytes: u64,
    /// Delay between a table's first write and its first check (5 s by default).
    pub first_check: Duration,
}

impl Default for CodecTuning {
    fn default() -> Self {
        CodecTuning {
            min_bytes: 1 << 20,
            first_check: Duration::from_secs(5),
        }
    }
}

/// When a table is checked next.
#[derive(Debug, Clone, Copy)]
struct Due {
    at: Instant,
    every: Duration,
}

/// The check schedule of the tables this storage wrote.
#[derive(Debug)]
pub(crate) struct CodecTuner {
    tuning: CodecTuning,
    due: Mutex<HashMap<TableKey, Due>>,
}

impl CodecTuner {
    pub(crate) fn new(tuning: CodecTuning) -> Self {
        CodecTuner {
            tuning,
            due: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn tuning(&self) -> CodecTuning {
        self.tuning
    }

    /// Notes that `key` was written: a table seen for the first time is checked
    /// [`CodecTuning::first_check`] from now.
    pub(crate) fn written(&self, key: &TableKey) {
        let mut due = self.due.lock();
        if !due.contains_key(key) {
            let every = self.tuning.first_check;
            let at = Instant::now() + every;
            due.insert(key.clone(), Due { at, every });
        }
    }

    /// A table whose check is due at `now`, rescheduled at twice its interval (at least
    /// a second, at most [`MAX_CHECK_INTERVAL`]).
    pub(crate) fn next_due(&self, now: Instant) -> Option<TableKey> {
        let mut due = self.due.lock();
        let (key, d) = due
            .iter_mut()
            .filter(|(_, d)| d.at <= now)
            .min_by_key(|(_, d)| d.at)?;
        d.every = d
            .every
            .saturating_mul(2)
            .clamp(Duration::from_secs(1), MAX_CHECK_INTERVAL);
        d.at = now + d.every;
        Some(key.clone())
    }

    /// Forgets the tables matching `pred` (dropped).
    pub(crate) fn forget(&self, pred: impl Fn(&TableKey) -> bool) {
        self.due.lock().retain(|k, _| !pred(k));
    }
}

/// The float columns of a table that hold at least `min_bytes` uncompressed and that
/// ZSTD keeps more than three quarters of.
pub(crate) fn noisy_float_columns_sql(key: &TableKey, min_bytes: u64) -> String {
    format!(
        "SELECT name FROM system.columns WHERE database = {} AND table = {} \
         AND type = {} AND compression_codec = {} AND data_uncompressed_bytes >= {min_bytes} \
         AND data_compressed_bytes * 4 > data_uncompressed_bytes * 3 ORDER BY name",
        quote_string(&key.0),
        quote_string(&key.1),
        quote_string(layout::field_column_type(FieldType::Float)),
        quote_string(layout::field_codec(FieldType::Float)),
    )
}

/// `ALTER TABLE` statements that give `columns` the [`NOISY_FLOAT_CODEC`], at most
/// [`layout::MAX_DDL_COLUMNS`] columns each.
pub(crate) fn to_lz4_sql(qualified: &str, columns: &[String]) -> Vec<String> {
    columns
        .chunks(layout::MAX_DDL_COLUMNS)
        .map(|chunk| {
            let clauses: Vec<String> = chunk
                .iter()
                .map(|c| format!("MODIFY COLUMN {} {NOISY_FLOAT_CODEC}", quote_ident(c)))
                .collect();
            format!("ALTER TABLE {qualified} {}", clauses.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(t: &str) -> TableKey {
        ("hb_db".to_string(), t.to_string())
    }

    #[test]
    fn a_table_is_due_after_its_first_check_delay_then_at_doubling_intervals() {
        let tuner = CodecTuner::new(CodecTuning {
            min_bytes: 1,
            first_check: Duration::from_secs(10),
        });
        let t0 = Instant::now();
        tuner.written(&key("a"));
        assert_eq!(tuner.next_due(t0), None);
        let t1 = t0 + Duration::from_secs(11);
        assert_eq!(tuner.next_due(t1), Some(key("a")));
        // Rescheduled 20 s later; writing again does not move it.
        tuner.written(&key("a"));
        assert_eq!(tuner.next_due(t1 + Duration::from_secs(19)), None);
        assert_eq!(tuner.next_due(t1 + Duration::from_secs(20)), Some(key("a")));
        tuner.forget(|k| k.1 == "a");
        assert_eq!(tuner.next_due(t1 + Duration::from_secs(3 * 3600)), None);
    }

    #[test]
    fn intervals_stop_growing_at_an_hour_and_one_table_is_handed_out_at_a_time() {
        let tuner = CodecTuner::new(CodecTuning {
            min_bytes: 1,
            first_check: Duration::ZERO,
        });
        tuner.written(&key("a"));
        tuner.written(&key("b"));
        let mut now = Instant::now();
        let first = tuner.next_due(now).unwrap();
        let second = tuner.next_due(now).unwrap();
        assert_ne!(first, second);
        assert_eq!(tuner.next_due(now), None);
        for _ in 0..20 {
            now += MAX_CHECK_INTERVAL;
            assert!(tuner.next_due(now).is_some());
            assert!(tuner.next_due(now).is_some());
            assert_eq!(tuner.next_due(now), None);
        }
    }

    #[test]
    fn statements() {
        let sql = noisy_float_columns_sql(&key("r_autogen_m_cpu"), 8 << 20);
        assert_eq!(
            sql,
            "SELECT name FROM system.columns WHERE database = 'hb_db' AND table = 'r_autogen_m_cpu' \
             AND type = 'SimpleAggregateFunction(anyLast, Nullable(Float64))' \
             AND compression_codec = 'CODEC(ZSTD(1))' AND data_uncompressed_bytes >= 8388608 \
             AND data_compressed_bytes * 4 > data_uncompressed_bytes * 3 ORDER BY name"
        );
        let cols: Vec<String> = (0..201).map(|i| format!("f_{i}")).collect();
        let alters = to_lz4_sql("`d`.`t`", &cols);
        assert_eq!(alters.len(), 2);
        assert!(alters[0].starts_with(
            "ALTER TABLE `d`.`t` MODIFY COLUMN `f_0` CODEC(LZ4), MODIFY COLUMN `f_1` CODEC(LZ4)"
        ));
        assert_eq!(
            alters[1],
            "ALTER TABLE `d`.`t` MODIFY COLUMN `f_200` CODEC(LZ4)"
        );
    }
}
