//! Snapshots of every ClickHouse statement shape the query engine and retention send
//! (`cargo insta review` after an intended change; CI refuses a changed statement).

#![allow(clippy::unwrap_used)]

use hyperbyte_domain::time::TimeZone;
use hyperbyte_domain::window::Window;
use hyperbyte_domain::FieldType;
use hyperbyte_timeseriesql::ast::{Expr, Statement};
use hyperbyte_timeseriesql::sql::{
    AggregateRead, BestRows, Condition, DigestRead, DumpRead, ModeOf, Pushdown, RawRead, RowFilter,
    RowKey, TableRef, TagSetsRead, TopRows,
};
use hyperbyte_timeseriesql::translate::ColumnRef;
use insta::assert_snapshot;
use std::collections::BTreeMap;

const MIN: i64 = 1_600_000_000_000_000_000;
const MAX: i64 = 1_600_000_360_000_000_000;
const HOUR: i64 = 3_600_000_000_000;

fn table() -> TableRef {
    TableRef::new("db", "autogen", "cpu")
}

/// The `WHERE` of an InfluxQL SELECT, resolved against a table with tag `host`, float
/// field `usage` and string field `msg`.
fn condition(q: &str) -> Condition {
    let expr = match hyperbyte_timeseriesql::parse(q)
        .unwrap()
        .statements
        .remove(0)
    {
        Statement::Select(s) => s.condition_without_time().unwrap(),
        _ => unreachable!(),
    };
    let mut columns = BTreeMap::new();
    columns.insert("host".into(), ColumnRef::Tag("t_host".into()));
    columns.insert(
        "usage".into(),
        ColumnRef::Field("f_usage".into(), FieldType::Float),
    );
    columns.insert(
        "msg".into(),
        ColumnRef::Field("f_msg".into(), FieldType::String),
    );
    Condition { expr, columns }
}

fn raw(fields: &[&str]) -> RawRead {
    RawRead {
        table: table(),
        merge: false,
        tags: vec!["host".into(), "region".into()],
        fields: fields.iter().map(|f| f.to_string()).collect(),
        filter: RowFilter {
            any_field: fields.iter().map(|f| f.to_string()).collect(),
            ..RowFilter::default()
        },
        limit: None,
        top: None,
        present: Vec::new(),
        at: Vec::new(),
        best: None,
        key: Vec::new(),
    }
}

fn aggregate(columns: Vec<Option<(Pushdown, String)>>) -> AggregateRead {
    let any_field = columns.iter().flatten().map(|(_, f)| f.clone()).collect();
    AggregateRead {
        table: table(),
        merge: false,
        group_tags: Vec::new(),
        bucket: None,
        in_key_order: false,
        columns,
        filter: RowFilter {
            min: Some(MIN),
            max: Some(MAX),
            any_field,
            ..RowFilter::default()
        },
    }
}

fn one(func: Pushdown) -> AggregateRead {
    aggregate(vec![Some((func, "usage".into()))])
}

#[test]
fn raw_select_unbounded() {
    assert_snapshot!(raw(&["usage"]).to_sql().unwrap());
}

#[test]
fn raw_select_with_time_condition_and_row_cap() {
    let mut r = raw(&["msg", "usage"]);
    r.filter.min = Some(MIN);
    r.filter.max = Some(MAX);
    r.filter.condition = Some(condition(
        "SELECT usage FROM cpu WHERE (host = 'a' OR host =~ /^b/) AND usage > 5 AND nosuch != 'x'",
    ));
    r.limit = Some(20_000_001);
    assert_snapshot!(r.to_sql().unwrap());
}

/// A raw answer cut by `LIMIT`: the engine picks the first (or last) rows by time with
/// their ties, the outer query orders them as every raw read is ordered.
#[test]
fn raw_select_first_rows_with_ties() {
    let mut r = raw(&["usage"]);
    r.filter.max = Some(MAX);
    r.limit = Some(20_000_001);
    r.top = Some(TopRows {
        descending: true,
        rows: 3,
        per_series: false,
    });
    assert_snapshot!(r.to_sql().unwrap());
    r.merge = true;
    r.top = Some(TopRows {
        descending: false,
        rows: 1,
        per_series: false,
    });
    assert_snapshot!("raw_select_first_rows_with_ties_final", r.to_sql().unwrap());
}

/// The outline of a cut's first rows: string fields' values, of the others only whether
/// a row holds them (`1` or `NULL`), named as the columns they stand for.
#[test]
fn raw_select_outline_of_first_rows() {
    let mut r = raw(&["msg"]);
    r.present = vec!["usage".into()];
    r.filter.any_field = vec!["msg".into(), "usage".into()];
    r.limit = Some(20_000_001);
    r.top = Some(TopRows {
        descending: false,
        rows: 5,
        per_series: false,
    });
    assert_snapshot!(r.to_sql().unwrap());
}

/// A read of every row (every row holds a field it reads): the filter has no term.
#[test]
fn raw_select_every_row() {
    let mut r = raw(&["usage"]);
    r.filter.any_field.clear();
    assert_snapshot!(r.to_sql().unwrap());
    r.top = Some(TopRows {
        descending: false,
        rows: 5,
        per_series: false,
    });
    assert_snapshot!("raw_select_every_row_first_rows", r.to_sql().unwrap());
}

/// Rows named by their keys: the key's tuple, and its time bounds for the engine's key
/// analysis; a tag value stays a literal.
#[test]
fn raw_select_rows_by_key() {
    let mut r = raw(&["usage"]);
    r.merge = true;
    r.filter.min = Some(MIN);
    r.at = vec![
        RowKey {
            time: MIN + 10,
            tags: vec!["a".into(), "".into()],
        },
        RowKey {
            time: MIN + 20,
            tags: vec!["b'); DROP TABLE x; --".into(), "eu".into()],
        },
    ];
    assert_snapshot!(r.to_sql().unwrap());
}

/// The candidates of `top()` / `bottom()`: the best values over the whole range, or per
/// (tag, time bucket) partition, ties kept.
#[test]
fn raw_select_best_rows_of_a_field() {
    let mut r = raw(&["usage", "msg"]);
    r.filter.min = Some(MIN);
    r.best = Some(BestRows {
        field: "usage".into(),
        rows: 3,
        largest: true,
        by: Vec::new(),
        bucket: None,
    });
    assert_snapshot!(r.to_sql().unwrap());
    r.merge = true;
    r.best = Some(BestRows {
        field: "usage".into(),
        rows: 2,
        largest: false,
        by: vec!["region".into()],
        bucket: Some(Window::new(600_000_000_000, 0)),
    });
    assert_snapshot!(
        "raw_select_best_rows_per_tag_and_bucket",
        r.to_sql().unwrap()
    );
    if let Some(best) = r.best.as_mut() {
        best.rows = 1;
    }
    assert_snapshot!(
        "raw_select_best_row_per_tag_and_bucket",
        r.to_sql().unwrap()
    );
}

/// Each series' first (or last) rows, for a merge that needs every series' heads.
#[test]
fn raw_select_first_rows_of_each_series() {
    let mut r = raw(&["msg", "usage"]);
    r.filter.min = Some(MIN);
    r.limit = Some(20_000_001);
    r.top = Some(TopRows {
        descending: false,
        rows: 2,
        per_series: true,
    });
    assert_snapshot!(r.to_sql().unwrap());
    r.tags.clear();
    r.top = Some(TopRows {
        descending: true,
        rows: 1,
        per_series: true,
    });
    assert_snapshot!("raw_select_last_rows_without_tags", r.to_sql().unwrap());
}

/// Each series' first (or last) rows read in the table's key order, when the tags that
/// lead its sort key are known: `LIMIT n BY` the tags over the key's order (the key's
/// leading tags, then time; all descending for the last rows), no aggregate.
#[test]
fn raw_select_first_rows_of_each_series_in_key_order() {
    let mut r = raw(&["msg", "usage"]);
    r.filter.min = Some(MIN);
    r.limit = Some(20_000_001);
    r.key = vec!["region".into()];
    r.top = Some(TopRows {
        descending: false,
        rows: 2,
        per_series: true,
    });
    assert_snapshot!(r.to_sql().unwrap());
    r.merge = true;
    r.top = Some(TopRows {
        descending: true,
        rows: 3,
        per_series: true,
    });
    assert_snapshot!(
        "raw_select_last_rows_of_each_series_in_key_order",
        r.to_sql().unwrap()
    );
    // Without tags there is no series to tell apart: the aggregate as before.
    r.tags.clear();
    assert_snapshot!(
        "raw_select_last_rows_in_key_order_without_tags",
        r.to_sql().unwrap()
    );
}

#[test]
fn raw_select_final() {
    let mut r = raw(&["usage"]);
    r.merge = true;
    r.filter.min = Some(MIN);
    assert_snapshot!(r.to_sql().unwrap());
}

#[test]
fn raw_select_without_tags() {
    let mut r = raw(&["usage"]);
    r.tags.clear();
    assert_snapshot!(r.to_sql().unwrap());
}

#[test]
fn each_pushdown_aggregate() {
    for (name, func) in [
        ("count", Pushdown::Count),
        ("sum", Pushdown::Sum),
        ("mean", Pushdown::Mean),
        ("min", Pushdown::Min),
        ("max", Pushdown::Max),
        ("spread", Pushdown::Spread),
        ("stddev", Pushdown::Stddev),
        ("median", Pushdown::Median),
        ("first", Pushdown::First),
        ("last", Pushdown::Last),
    ] {
        assert_eq!(Pushdown::of(name, FieldType::Float), Some(func));
        assert_snapshot!(format!("pushdown_{name}"), one(func).to_sql().unwrap());
    }
}

#[test]
fn pushdown_follows_field_types() {
    for t in [FieldType::String, FieldType::Boolean] {
        for name in ["sum", "mean", "min", "max", "spread", "stddev", "median"] {
            assert_eq!(Pushdown::of(name, t), None, "{name} over {t:?}");
        }
        assert_eq!(Pushdown::of("count", t), Some(Pushdown::Count));
        assert_eq!(Pushdown::of("last", t), Some(Pushdown::Last));
    }
    // At one time InfluxDB's boolean first() takes false, the engine's pick the larger.
    assert_eq!(
        Pushdown::of("first", FieldType::String),
        Some(Pushdown::First)
    );
    assert_eq!(Pushdown::of("first", FieldType::Boolean), None);
    assert_eq!(
        Pushdown::of("median", FieldType::Integer),
        Some(Pushdown::Median)
    );
    // Go's unsigned subtraction of the two middle values is not the engine's.
    assert_eq!(Pushdown::of("median", FieldType::Unsigned), None);
    for name in ["percentile", "distinct", "integral"] {
        assert_eq!(Pushdown::of(name, FieldType::Float), None, "{name}");
    }
}

/// `percentile`: the nearest rank's point among the values sorted with their times; a
/// lone one prints that point's time, under buckets its value beside the bucket.
#[test]
fn pushdown_percentile() {
    let p = Pushdown::percentile(95.0, FieldType::Float).unwrap();
    assert_snapshot!("pushdown_percentile_lone", one(p).to_sql().unwrap());
    let mut a = aggregate(vec![
        Some((p, "usage".into())),
        Some((
            Pushdown::percentile(33.3, FieldType::Integer).unwrap(),
            "usage".into(),
        )),
    ]);
    a.bucket = Some(Window::new(HOUR, 0));
    assert_snapshot!("pushdown_percentile_per_bucket", a.to_sql().unwrap());
    for t in [FieldType::String, FieldType::Boolean] {
        assert_eq!(Pushdown::percentile(50.0, t), None);
    }
    assert_eq!(Pushdown::percentile(f64::INFINITY, FieldType::Float), None);
    // A lone one prints its point's time: undecided when another point holds its value.
    assert_eq!(one(p).undecided_column(), Some(2));
    assert_eq!(a.undecided_column(), None);
    assert_eq!(
        Pushdown::percentile(50.0, FieldType::Unsigned),
        Some(Pushdown::Percentile(50f64.to_bits()))
    );
}

/// `count(distinct(x))`: floats count -0 and 0 as one value, other types as they are.
#[test]
fn pushdown_count_distinct() {
    let float = Pushdown::CountDistinct { float: true };
    assert_snapshot!(
        "pushdown_count_distinct_float",
        one(float).to_sql().unwrap()
    );
    let mut a = aggregate(vec![
        Some((Pushdown::CountDistinct { float: false }, "msg".into())),
        Some((float, "usage".into())),
    ]);
    a.bucket = Some(Window::new(HOUR, 0));
    assert_snapshot!("pushdown_count_distinct_per_bucket", a.to_sql().unwrap());
}

/// `mode`: the most frequent value from the sorted values; a row where several values are
/// equally most frequent says it is undecided (`hb_undecided`, after the value columns);
/// booleans count `true` against `false` and are never undecided.
#[test]
fn pushdown_mode() {
    let floats = Pushdown::of("mode", FieldType::Float).unwrap();
    assert_eq!(floats, Pushdown::Mode(ModeOf::Floats));
    let lone = one(floats);
    assert_eq!(lone.undecided_column(), Some(2));
    assert_snapshot!("pushdown_mode_lone", lone.to_sql().unwrap());
    for t in [FieldType::Integer, FieldType::Unsigned, FieldType::String] {
        assert_eq!(
            Pushdown::of("mode", t),
            Some(Pushdown::Mode(ModeOf::Values))
        );
    }
    let booleans = Pushdown::of("mode", FieldType::Boolean).unwrap();
    assert_eq!(booleans, Pushdown::Mode(ModeOf::Booleans));
    assert_eq!(one(booleans).undecided_column(), None);
    let mut a = aggregate(vec![
        Some((booleans, "up".into())),
        Some((Pushdown::Mode(ModeOf::Values), "msg".into())),
        None,
        Some((floats, "usage".into())),
        Some((Pushdown::Max, "usage".into())),
    ]);
    a.bucket = Some(Window::new(HOUR, 0));
    assert_eq!(a.undecided_column(), Some(6));
    assert_snapshot!("pushdown_mode_per_bucket", a.to_sql().unwrap());
}

#[test]
fn several_aggregates_with_a_missing_field() {
    let a = aggregate(vec![
        Some((Pushdown::Max, "usage".into())),
        None,
        Some((Pushdown::Count, "msg".into())),
    ]);
    assert_snapshot!(a.to_sql().unwrap());
}

#[test]
fn group_by_time_buckets_with_offset() {
    let mut a = one(Pushdown::Mean);
    a.bucket = Some(Window::new(HOUR, 15 * 60 * 1_000_000_000));
    assert_snapshot!(a.to_sql().unwrap());
}

/// Times before 1970 with an offset: the bucket arithmetic must stay signed (a `UInt64`
/// literal as divisor made ClickHouse compute `Int64 % UInt64` unsigned).
#[test]
fn group_by_time_buckets_before_1970() {
    let mut a = one(Pushdown::Count);
    a.filter.min = Some(-100 * 7 * 24 * HOUR);
    a.filter.max = Some(100 * 7 * 24 * HOUR);
    a.bucket = Some(Window::new(52 * 7 * 24 * HOUR, 6 * HOUR));
    let sql = a.to_sql().unwrap();
    assert!(
        sql.contains("positiveModulo(toUnixTimestamp64Nano(time) - toInt64(21600000000000), toInt64(31449600000000000))"),
        "{sql}"
    );
    assert_snapshot!(sql);
}

/// `tz()` over a daylight-saving change: one grid per piece of constant offset, the
/// times before a piece's first aligned start in the window in progress (a 23 h local
/// day in Chicago).
#[test]
fn group_by_time_buckets_in_a_zone_across_a_change() {
    let mut a = one(Pushdown::Count);
    let (from, to) = (1_583_474_400_000_000_000, 1_583_902_800_000_000_000);
    (a.filter.min, a.filter.max) = (Some(from), Some(to));
    let chicago = TimeZone::parse("America/Chicago").unwrap();
    a.bucket = Some(chicago.windows(24 * HOUR, 0, Some(from), Some(to)));
    let sql = a.to_sql().unwrap();
    assert!(
        sql.contains("multiIf(toUnixTimestamp64Nano(time) < toInt64(1583654400000000000)"),
        "{sql}"
    );
    assert_snapshot!(sql);
}

#[test]
fn group_by_tags_and_time() {
    let mut a = one(Pushdown::Sum);
    a.group_tags = vec![Some("host".into()), None, Some("region".into())];
    a.bucket = Some(Window::new(60_000_000_000, 0));
    a.filter.condition = Some(condition("SELECT sum(usage) FROM cpu WHERE host != 'c'"));
    assert_snapshot!(a.to_sql().unwrap());
}

#[test]
fn group_by_tags_without_time() {
    let mut a = one(Pushdown::Count);
    a.group_tags = vec![Some("host".into())];
    assert_snapshot!(a.to_sql().unwrap());
}

#[test]
fn aggregate_final() {
    let mut a = one(Pushdown::Max);
    a.merge = true;
    assert_snapshot!(a.to_sql().unwrap());
}

/// TSBS "lastpoint": `last()` of every field per series, read first over the most
/// recent rows only.
#[test]
fn lastpoint_over_recent_rows() {
    let mut a = aggregate(vec![
        Some((Pushdown::Last, "msg".into())),
        Some((Pushdown::Last, "usage".into())),
    ]);
    a.filter.min = None;
    a.filter.max = None;
    a.group_tags = vec![Some("host".into()), Some("region".into())];
    a.in_key_order = true;
    assert_snapshot!("lastpoint_all_rows", a.to_sql().unwrap());
    a.filter.since = Some(MAX - 60_000_000_000);
    assert_snapshot!("lastpoint_recent_rows", a.to_sql().unwrap());
}

#[test]
fn retention_probes() {
    let mut probe = TagSetsRead {
        table: TableRef::new("db1", "hour", "cpu"),
        tags: Vec::new(),
        between: None,
    };
    assert_snapshot!("retention_any_row", probe.to_sql());
    assert_snapshot!("count_of_no_tag_sets", probe.count_sql());
    probe.tags = vec!["host".into(), "region".into()];
    assert_snapshot!("retention_distinct_tag_sets", probe.to_sql());
    assert_snapshot!("count_of_tag_sets", probe.count_sql());
    probe.between = Some((-604_800_000_000_000, 0));
    assert_snapshot!("tag_sets_in_shard_groups", probe.to_sql());
}

/// Names and strings that could change a statement's structure stay identifiers and
/// literals.
#[test]
fn hostile_names_and_strings() {
    let mut r = RawRead {
        table: TableRef::new("d`b", "r p", "m\"; DROP TABLE x; --"),
        merge: true,
        tags: vec!["ho`st".into()],
        fields: vec!["va'lue".into()],
        filter: RowFilter {
            any_field: vec!["va'lue".into()],
            ..RowFilter::default()
        },
        limit: Some(1),
        top: None,
        present: Vec::new(),
        at: Vec::new(),
        best: None,
        key: Vec::new(),
    };
    let expr =
        match hyperbyte_timeseriesql::parse("SELECT x FROM m WHERE \"ho`st\" = 'x\\' OR 1=1 --'")
            .unwrap()
            .statements
            .remove(0)
        {
            Statement::Select(s) => s.condition.unwrap(),
            _ => unreachable!(),
        };
    let mut columns = BTreeMap::new();
    columns.insert(
        "ho`st".to_string(),
        ColumnRef::Tag(hyperbyte_domain::naming::tag_column("ho`st")),
    );
    r.filter.condition = Some(Condition { expr, columns });
    assert_snapshot!(r.to_sql().unwrap());
}

/// A condition InfluxDB rejects is an error of the rendering, with its text.
#[test]
fn unsupported_condition_is_an_error() {
    let mut r = raw(&["usage"]);
    r.filter.condition = Some(Condition {
        expr: Expr::Integer(1),
        columns: BTreeMap::new(),
    });
    assert_eq!(
        r.to_sql().unwrap_err().to_string(),
        "invalid condition expression: 1"
    );
}

#[test]
fn dump_page() {
    let page = DumpRead {
        table: table(),
        merge: true,
        tags: vec!["host".into()],
        fields: vec!["usage".into(), "usage\ninteger".into()],
        min: Some(MIN),
        max: Some(MAX),
        limit: Some(50_000),
    };
    assert_snapshot!(page.to_sql().unwrap());
}

#[test]
fn dump_window_is_unsorted() {
    let window = DumpRead {
        table: table(),
        merge: false,
        tags: vec!["host".into()],
        fields: vec!["usage".into()],
        min: Some(MIN),
        max: None,
        limit: None,
    };
    assert_snapshot!(window.to_sql().unwrap());
}

#[test]
fn digest_per_bucket() {
    let digest = DigestRead {
        table: table(),
        merge: true,
        tags: vec![("host".into(), true), ("region".into(), false)],
        fields: vec![("usage".into(), true), ("idle".into(), false)],
        bucket: 3_600_000_000_000,
    };
    assert_snapshot!(digest.to_sql().unwrap());
    let zero = DigestRead {
        bucket: 0,
        ..digest
    };
    assert!(zero.to_sql().is_err());
}

#[test]
fn time_histogram_newest_first() {
    let read = hyperbyte_timeseriesql::sql::TimeHistogramRead {
        table: TableRef::new("db", "autogen", "cpu"),
        bucket_ns: 3_600_000_000_000,
        limit: 10_000,
        from: None,
        before: None,
    };
    insta::assert_snapshot!(read.to_sql());
}

/// The finer histogram the warm-up asks for the hour it could take only part of.
#[test]
fn time_histogram_before_a_time() {
    let read = hyperbyte_timeseriesql::sql::TimeHistogramRead {
        table: TableRef::new("db", "autogen", "cpu"),
        bucket_ns: 60_000_000_000,
        limit: 60,
        from: Some(1_599_996_400_000_000_000),
        before: Some(1_600_000_000_000_000_000),
    };
    insta::assert_snapshot!(read.to_sql());
}

/// What the recent-data tier learns of the rows before its coverage: per series, each
/// field's latest time and value.
#[test]
fn latest_values_before_a_time() {
    let read = hyperbyte_timeseriesql::sql::LatestBeforeRead {
        table: TableRef::new("db", "autogen", "cpu"),
        merge: true,
        tags: vec!["host".into(), "region".into()],
        fields: vec!["usage".into(), "msg".into()],
        before: 1_600_000_000_000_000_000,
    };
    assert_snapshot!(read.to_sql().unwrap());
    let untagged = hyperbyte_timeseriesql::sql::LatestBeforeRead {
        tags: Vec::new(),
        merge: false,
        ..read.clone()
    };
    assert_snapshot!(
        "latest_values_before_a_time_untagged",
        untagged.to_sql().unwrap()
    );
    let fieldless = hyperbyte_timeseriesql::sql::LatestBeforeRead {
        fields: Vec::new(),
        ..read
    };
    assert_eq!(fieldless.to_sql(), None);
}
