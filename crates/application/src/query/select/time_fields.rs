//! Which `time` entries of a field list name the time column, as InfluxDB 1.6 decides.
//!
//! InfluxDB prints the time column first whatever the field list says, and takes `time`
//! out of the list in one pass that, after each removal, steps past the entry that moved
//! into the removed one's place. So `SELECT time, i, time` prints `time, i`, but
//! `SELECT i, time, time` prints `time, i, time`: the second `time` was skipped and
//! stays a column of its own, with no value on any row (like a field no point has). The
//! time column takes the alias of the last entry removed (`SELECT i, time AS a, i, time
//! AS b, time AS c` prints `b, i, i_1, c`), also when that entry has none. Checked
//! against InfluxDB 1.6.7 (recorded in `fields--time-listed-twice`).
//!
//! In a field list only `time` itself is the time column: `TIME` or `Time` read a field of
//! that name (in a condition any case compares times).

use hyperbyte_timeseriesql::ast::{Expr, Field};

/// What a `time` left in the field list reads: the empty name, which no field or tag can
/// have (line protocol refuses an empty key, the ingest service refuses an empty field
/// name from any source, and `AS ""` is no alias), so every read path finds no value.
pub(super) fn left_time_expr() -> Expr {
    Expr::var("")
}

/// Whether a column is a `time` left in the field list ([`left_time_expr`]): it reads
/// nothing, so the checks on what columns mix pass it by, as InfluxDB does
/// (`SELECT mean(i), time, time` is no mix).
pub(super) fn is_left_time(e: &Expr) -> bool {
    matches!(e, Expr::VarRef { name, .. } if name.is_empty())
}

/// Whether a field list's entry is `time`, which InfluxDB takes as the time column.
pub(super) fn names_time(e: &Expr) -> bool {
    matches!(e.unparen(), Expr::VarRef { name, .. } if name == "time")
}

/// The `time` entries of a field list: which ones are the time column, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TimeFields {
    /// Per entry of the field list: whether InfluxDB takes it out as the time column.
    removed: Vec<bool>,
    /// The time column's alias, when some entry was taken out and the last one had one.
    alias: Option<String>,
}

impl TimeFields {
    pub(super) fn of(fields: &[Field]) -> Self {
        let mut removed = vec![false; fields.len()];
        let mut alias = None;
        // InfluxDB's pass removes an entry and moves on by one, past the entry that
        // took the removed one's place: that entry is never looked at.
        let mut skip_next = false;
        for (at, f) in fields.iter().enumerate() {
            if std::mem::take(&mut skip_next) {
                continue;
            }
            if names_time(&f.expr) {
                removed[at] = true;
                alias = f.alias.clone();
                skip_next = true;
            }
        }
        TimeFields { removed, alias }
    }

    /// Whether entry `at` of the field list is the time column (not a column of its own).
    pub(super) fn is_removed(&self, at: usize) -> bool {
        self.removed.get(at).copied().unwrap_or(false)
    }

    /// The time column's alias (`SELECT time AS t, v` prints `t`).
    pub(super) fn alias(&self) -> Option<&str> {
        self.alias.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time_fields(q: &str) -> TimeFields {
        TimeFields::of(&super::super::parse_select(q).fields)
    }

    fn removed(q: &str) -> Vec<bool> {
        time_fields(q).removed
    }

    #[test]
    fn a_time_after_a_removed_one_stays_a_column() {
        assert_eq!(removed("SELECT time, i, time FROM m"), [true, false, true]);
        assert_eq!(removed("SELECT i, time, time FROM m"), [false, true, false]);
        assert_eq!(removed("SELECT time, time, i FROM m"), [true, false, false]);
        assert_eq!(
            removed("SELECT time, time, time, i FROM m"),
            [true, false, true, false]
        );
        assert_eq!(removed("SELECT i, v FROM m"), [false, false]);
    }

    #[test]
    fn the_last_removed_entry_names_the_time_column() {
        let t = time_fields("SELECT i, time AS a, i, time AS b, time AS c FROM m");
        assert_eq!(t.removed, [false, true, false, true, false]);
        assert_eq!(t.alias(), Some("b"));
        assert_eq!(
            time_fields("SELECT time AS a, i, time FROM m").alias(),
            None
        );
        assert_eq!(time_fields("SELECT time AS a, i FROM m").alias(), Some("a"));
        assert_eq!(time_fields("SELECT i FROM m").alias(), None);
    }

    #[test]
    fn only_lower_case_time_is_the_time_column() {
        assert_eq!(
            removed("SELECT i, TIME, Time FROM m"),
            [false, false, false]
        );
        assert_eq!(removed("SELECT (time), i FROM m"), [true, false]);
    }

    #[test]
    fn entries_past_the_list_are_not_removed() {
        let t = time_fields("SELECT time, i FROM m");
        assert!(t.is_removed(0));
        assert!(!t.is_removed(1));
        assert!(!t.is_removed(7));
    }
}
