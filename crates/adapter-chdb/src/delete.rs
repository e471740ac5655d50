//! The `WHERE` conditions of a delete: which rows of one table a
//! [`hyperbyte_ports::StorageAdminPort::delete_points`] call removes.
//!
//! Why a module of its own: the engine carries out a `DELETE` as a mutation of every
//! part of the table, so its cost grows with the table's parts, not with the rows it
//! removes. The series a statement matched therefore go into as few statements as
//! possible: one `(t_a, t_b) IN (…)` list per set of tag columns, split only when a list
//! grows past [`MAX_SERIES_PER_STATEMENT`].

use hyperbyte_domain::naming::{self, quote_ident, quote_string, TIME_COLUMN};
use hyperbyte_ports::DeleteRows;
use std::collections::{BTreeMap, HashSet};

/// Series in one statement's `IN` list: a bound on a statement's size (about 100 bytes
/// a series with a few tags), far above what one `DELETE` statement usually matches.
pub(crate) const MAX_SERIES_PER_STATEMENT: usize = 10_000;

/// The conditions of the `DELETE` statements that remove `rows` within `[min_time,
/// max_time]` from a table whose tag columns are `tag_columns`: one statement per
/// condition, none when no row can match.
pub(crate) fn delete_conditions(
    tag_columns: &HashSet<String>,
    rows: DeleteRows<'_>,
    min_time: i64,
    max_time: i64,
) -> Vec<String> {
    if min_time > max_time {
        return Vec::new();
    }
    let time = time_condition(min_time, max_time);
    let selections = match rows {
        DeleteRows::All => vec![None],
        DeleteRows::Series(series) => match series_conditions(tag_columns, series) {
            SeriesRows::Every => vec![None],
            SeriesRows::Lists(lists) => lists.into_iter().map(Some).collect(),
        },
    };
    selections
        .into_iter()
        .map(|series| {
            let terms: Vec<&str> = series
                .as_deref()
                .into_iter()
                .chain(time.as_deref())
                .collect();
            if terms.is_empty() {
                "1".to_string()
            } else {
                terms.join(" AND ")
            }
        })
        .collect()
}

/// The rows of a list of series, as conditions on the tag columns.
#[derive(Debug, PartialEq, Eq)]
enum SeriesRows {
    /// A series whose every tag the table lacks (and whose values are all `""`) matches
    /// every row.
    Every,
    /// One condition per statement; empty when no series can match.
    Lists(Vec<String>),
}

fn series_conditions(
    tag_columns: &HashSet<String>,
    series: &[Vec<(String, String)>],
) -> SeriesRows {
    // Series with the same tag columns share one `IN` list.
    let mut by_columns: BTreeMap<Vec<String>, Vec<Vec<&str>>> = BTreeMap::new();
    for tags in series {
        let Some((columns, values)) = stored_tags(tag_columns, tags) else {
            continue;
        };
        if columns.is_empty() {
            return SeriesRows::Every;
        }
        by_columns.entry(columns).or_default().push(values);
    }
    let mut lists = Vec::new();
    for (columns, tuples) in &by_columns {
        for chunk in tuples.chunks(MAX_SERIES_PER_STATEMENT) {
            lists.push(in_list(columns, chunk));
        }
    }
    SeriesRows::Lists(lists)
}

/// A series' tags as the table stores them: the columns it has, with their values.
/// `None` when the series has a value for a tag the table has no column for (no row can
/// match; a missing column reads as `""`).
fn stored_tags<'a>(
    tag_columns: &HashSet<String>,
    tags: &'a [(String, String)],
) -> Option<(Vec<String>, Vec<&'a str>)> {
    let mut columns = Vec::with_capacity(tags.len());
    let mut values = Vec::with_capacity(tags.len());
    for (key, value) in tags {
        let column = naming::tag_column(key);
        if tag_columns.contains(&column) {
            columns.push(column);
            values.push(value.as_str());
        } else if !value.is_empty() {
            return None;
        }
    }
    Some((columns, values))
}

/// `t_a IN ('x', 'y')`, or `(t_a, t_b) IN (('x', 'p'), ('y', 'q'))` for several columns.
fn in_list(columns: &[String], tuples: &[Vec<&str>]) -> String {
    let quoted = |values: &[&str]| -> String {
        let inner: Vec<String> = values.iter().map(|v| quote_string(v)).collect();
        inner.join(", ")
    };
    if let [column] = columns {
        let values: Vec<&str> = tuples.iter().filter_map(|t| t.first().copied()).collect();
        return format!("{} IN ({})", quote_ident(column), quoted(&values));
    }
    let columns: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let tuples: Vec<String> = tuples.iter().map(|t| format!("({})", quoted(t))).collect();
    format!("({}) IN ({})", columns.join(", "), tuples.join(", "))
}

/// The time bounds as a condition; `None` for the whole range.
fn time_condition(min_time: i64, max_time: i64) -> Option<String> {
    let mut terms = Vec::new();
    if min_time != i64::MIN {
        terms.push(format!(
            "{} >= {}",
            quote_ident(TIME_COLUMN),
            time_literal(min_time)
        ));
    }
    if max_time != i64::MAX {
        terms.push(format!(
            "{} <= {}",
            quote_ident(TIME_COLUMN),
            time_literal(max_time)
        ));
    }
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// The SQL literal of a nanosecond time.
fn time_literal(nanos: i64) -> String {
    format!("fromUnixTimestamp64Nano(toInt64({nanos}))")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> HashSet<String> {
        names.iter().map(|n| naming::tag_column(n)).collect()
    }

    fn series(sets: &[&[(&str, &str)]]) -> Vec<Vec<(String, String)>> {
        sets.iter()
            .map(|s| {
                s.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_row_of_a_range() {
        let all = delete_conditions(&columns(&["host"]), DeleteRows::All, 1, 2);
        insta::assert_snapshot!("delete_all_in_range", all.join("\n"));
        assert_eq!(
            delete_conditions(&columns(&[]), DeleteRows::All, i64::MIN, i64::MAX),
            vec!["1"]
        );
        assert!(delete_conditions(&columns(&[]), DeleteRows::All, 2, 1).is_empty());
    }

    #[test]
    fn matched_series_share_one_statement() {
        let s = series(&[
            &[("dc", "x"), ("host", "a")],
            &[("dc", ""), ("host", "b'1")],
            &[("dc", "y"), ("host", "c")],
        ]);
        let one = delete_conditions(
            &columns(&["host", "dc"]),
            DeleteRows::Series(&s),
            i64::MIN,
            100,
        );
        insta::assert_snapshot!("delete_series_two_columns", one.join("\n"));
        // One tag column: a plain list.
        let s = series(&[&[("host", "a")], &[("host", "b")]]);
        let plain = delete_conditions(&columns(&["host"]), DeleteRows::Series(&s), 0, i64::MAX);
        insta::assert_snapshot!("delete_series_one_column", plain.join("\n"));
    }

    #[test]
    fn tags_the_table_lacks() {
        // A value for a tag the table never stored matches nothing ...
        let s = series(&[&[("nope", "x")]]);
        assert!(delete_conditions(&columns(&["host"]), DeleteRows::Series(&s), 0, 1).is_empty());
        // ... and "" for it matches every row, whatever else is listed.
        let s = series(&[&[("host", "a")], &[("nope", "")]]);
        assert_eq!(
            delete_conditions(
                &columns(&["host"]),
                DeleteRows::Series(&s),
                i64::MIN,
                i64::MAX
            ),
            vec!["1"]
        );
        // An empty list removes nothing.
        assert!(delete_conditions(&columns(&["host"]), DeleteRows::Series(&[]), 0, 1).is_empty());
    }

    #[test]
    fn long_lists_are_split() {
        let s: Vec<Vec<(String, String)>> = (0..MAX_SERIES_PER_STATEMENT + 1)
            .map(|i| vec![("host".to_string(), format!("h{i}"))])
            .collect();
        let out = delete_conditions(
            &columns(&["host"]),
            DeleteRows::Series(&s),
            i64::MIN,
            i64::MAX,
        );
        assert_eq!(out.len(), 2);
        assert!(out[1].ends_with(&format!("IN ('h{MAX_SERIES_PER_STATEMENT}')")));
    }
}
