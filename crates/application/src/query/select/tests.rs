//! Which plan each statement shape gets (pushdown aggregate or Rust evaluation,
//! recent-data tier or storage, `FINAL` or not), and the reads each plan sends, against
//! the query service's port fakes (`query::tests`). The expected statements are plans
//! rendered by `timeseriesql::sql`, never SQL text written here.

use super::plan::{Fallback, SelectPlan, SourcePath};
use super::*;
use crate::hot::{HotTier, TierFeed};
use crate::query::tests::{harness, Harness, S};
use crate::query::QueryLimits;
use hyperbyte_domain::FieldValue;
use hyperbyte_timeseriesql::ast::Statement;

const STORAGE_POINTS: SourcePath = SourcePath::Tier {
    latest_only: false,
    fallback: Fallback::StoragePoints,
};

fn statement(q: &str) -> SelectStatement {
    match hyperbyte_timeseriesql::parse(q)
        .unwrap()
        .statements
        .remove(0)
    {
        Statement::Select(s) => *s,
        other => panic!("not a SELECT: {other}"),
    }
}

fn points() -> Vec<(i64, &'static str, f64)> {
    vec![(0, "a", 1.0), (10 * S, "a", 2.0), (20 * S, "a", 4.0)]
}

fn unlimited(points: &[(i64, &'static str, f64)]) -> Harness {
    harness(points, QueryLimits::unlimited())
}

async fn plan_of(h: &Harness, q: &str) -> SelectPlan {
    let req = QueryRequest {
        query: q.into(),
        database: Some("db".into()),
        ..Default::default()
    };
    h.service
        .plan_select(&statement(q), &req, &Budget::new(QueryLimits::unlimited()))
        .await
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .unwrap_or_else(|| panic!("{q}: no plan"))
}

/// The path of the statement's only source.
async fn path_of(h: &Harness, q: &str) -> (SourcePath, SelectPlan) {
    let plan = plan_of(h, q).await;
    assert_eq!(plan.sources.len(), 1, "{q}");
    (plan.path_of(&plan.sources[0]), plan)
}

fn table() -> TableRef {
    TableRef::new("db", "autogen", "m")
}

/// A read of `v`, `m`'s only field (so every row holds it and no term says so).
fn raw_read(min: Option<i64>, max: Option<i64>, merge: bool) -> RawRead {
    RawRead {
        table: table(),
        merge,
        tags: vec!["host".into()],
        fields: vec!["v".into()],
        filter: RowFilter {
            min,
            max,
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

fn aggregate_read(columns: Vec<(Pushdown, &str)>) -> AggregateRead {
    AggregateRead {
        table: table(),
        merge: false,
        group_tags: Vec::new(),
        bucket: None,
        in_key_order: false,
        filter: RowFilter {
            any_field: columns.iter().map(|(_, f)| f.to_string()).collect(),
            ..RowFilter::default()
        },
        columns: columns
            .into_iter()
            .map(|(p, f)| Some((p, f.to_string())))
            .collect(),
    }
}

fn sent(h: &Harness) -> Vec<String> {
    h.engine.queries.lock().clone()
}

#[tokio::test]
async fn aggregates_the_engine_computes_exactly_are_pushed_down() {
    let h = unlimited(&points());
    for q in [
        "SELECT count(v) FROM m",
        "SELECT sum(v), mean(v) FROM m",
        "SELECT spread(v) FROM m WHERE host = 'a'",
        "SELECT min(v), max(v) FROM m",
        "SELECT median(v) FROM m WHERE time >= 0 AND time < 1m GROUP BY time(10s), host",
        "SELECT first(v), last(v) FROM m GROUP BY host",
        // With GROUP BY time a lone min/max prints its window's start.
        "SELECT max(v) FROM m WHERE time >= 0 AND time < 1m GROUP BY time(10s)",
        "SELECT count(*) FROM m",
        "SELECT stddev(v) FROM m WHERE time >= 0 AND time < 1m GROUP BY time(10s), host",
        // percentile: a lone one prints its point's time, which the engine gives.
        "SELECT percentile(v, 95) FROM m",
        "SELECT percentile(v, 50), percentile(v, 99.9) FROM m GROUP BY host",
        "SELECT percentile(v, 90) FROM m WHERE time >= 0 AND time < 1m GROUP BY time(10s)",
        "SELECT count(distinct(v)) FROM m",
        "SELECT count(distinct(v)), count(v) FROM m WHERE time >= 0 AND time < 1m GROUP BY time(10s) fill(none)",
        // mode: the engine, or the points when it says the order decides.
        "SELECT mode(v) FROM m",
        "SELECT mode(v), max(v) FROM m WHERE time >= 0 AND time < 1m GROUP BY time(10s), host",
    ] {
        let (path, plan) = path_of(&h, q).await;
        assert!(plan.pushdown, "{q}");
        assert_eq!(path, SourcePath::Pushdown, "{q}");
    }
}

#[tokio::test]
async fn other_shapes_are_evaluated_in_rust_over_points() {
    let h = unlimited(&points());
    for q in [
        "SELECT v FROM m",
        "SELECT v, host FROM m WHERE v > 1",
        "SELECT * FROM m",
        "SELECT percentile(v, 50), host FROM m",
        // A lone selector with other columns prints its point's fields too.
        "SELECT max(v), host FROM m",
        "SELECT first(v), v FROM m GROUP BY host",
        "SELECT mean(v) * 2 FROM m",
        "SELECT top(v, 2) FROM m",
        "SELECT derivative(mean(v)) FROM m WHERE time >= 0 AND time < 1m GROUP BY time(10s)",
        "SELECT derivative(v) FROM m",
        "SELECT distinct(v) FROM m",
        "SELECT count(distinct(host)) FROM m",
        "SELECT mode(host) FROM m",
    ] {
        let (path, plan) = path_of(&h, q).await;
        assert!(!plan.pushdown, "{q}");
        assert_eq!(path, STORAGE_POINTS, "{q}");
    }
}

#[tokio::test]
async fn last_of_every_column_prefers_the_tiers_latest_points() {
    let h = unlimited(&points());
    // A lone last(): the engine gives the selected point's time too.
    let (path, plan) = path_of(&h, "SELECT last(v) FROM m").await;
    assert!(plan.last_only && plan.pushdown);
    assert_eq!(
        path,
        SourcePath::Tier {
            latest_only: true,
            fallback: Fallback::Pushdown
        }
    );
    let (path, plan) = path_of(&h, "SELECT last(v), last(v) AS w FROM m GROUP BY *").await;
    assert!(plan.last_only && plan.pushdown);
    assert_eq!(
        path,
        SourcePath::Tier {
            latest_only: true,
            fallback: Fallback::Pushdown
        }
    );
    // The same call twice is one call (InfluxDB compiles it once): under GROUP BY time
    // it goes where a lone last() goes, and last() beside another call is an ordinary
    // pushdown aggregate.
    let lone = "SELECT last(v) FROM m WHERE time >= 0 AND time < 1m GROUP BY time(10s)";
    let twice =
        "SELECT last(v), last(v) AS w FROM m WHERE time >= 0 AND time < 1m GROUP BY time(10s)";
    assert_eq!(path_of(&h, twice).await.0, path_of(&h, lone).await.0);
    let (path, _) = path_of(
        &h,
        "SELECT last(v), first(v) FROM m WHERE time >= 0 AND time < 1m GROUP BY time(10s)",
    )
    .await;
    assert_eq!(path, SourcePath::Pushdown);
}

#[tokio::test]
async fn a_lone_selector_is_pushed_down_with_its_points_time() {
    let h = unlimited(&points());
    for q in [
        "SELECT max(v) FROM m",
        "SELECT min(v) FROM m WHERE host = 'a'",
        "SELECT first(v) FROM m GROUP BY host",
        "SELECT max(v) FROM m WHERE v > 1",
    ] {
        let (path, plan) = path_of(&h, q).await;
        assert!(plan.pushdown, "{q}");
        assert_eq!(path, SourcePath::Pushdown, "{q}");
    }
}

/// A field pushed down must have one type in every source: the pushdown computes the
/// first source's type, and another's values of another type would read as absent.
#[tokio::test]
async fn a_field_of_two_types_across_measurements_is_evaluated_in_rust() {
    let h = unlimited(&points());
    h.meta.add_series("db", "n", &[("host", "a")]);
    let q = "SELECT max(v) FROM m, n";
    let schema_of_n = |t: FieldType| {
        h.meta
            .schemas
            .lock()
            .entry(("db".to_string(), "n".to_string()))
            .or_default()
            .fields
            .insert("v".into(), t);
    };
    schema_of_n(FieldType::Float);
    assert!(plan_of(&h, q).await.pushdown);
    schema_of_n(FieldType::Integer);
    for q in [q, "SELECT median(v) FROM m, n", "SELECT count(v) FROM n, m"] {
        let plan = plan_of(&h, q).await;
        assert!(!plan.pushdown, "{q}");
        assert!(plan
            .sources
            .iter()
            .all(|src| plan.path_of(src) == STORAGE_POINTS));
    }
}

/// Beyond the tier, the engine selects a lone selector's point: one aggregate read whose
/// `hb_bucket` is that point's time (`AggregateRead`), printed as the row's time.
#[tokio::test]
async fn a_lone_selector_from_storage_prints_the_time_of_the_point_the_engine_selects() {
    for (q, agg) in [
        ("SELECT max(v) FROM m WHERE time >= 0", Pushdown::Max),
        ("SELECT min(v) FROM m WHERE time >= 0", Pushdown::Min),
        ("SELECT first(v) FROM m WHERE time >= 0", Pushdown::First),
    ] {
        let h = unlimited(&points());
        *h.engine.agg_rows.lock() = vec![vec![Value::Integer(10 * S), Value::Float(2.0)]];
        let rows = h.rows(q).await;
        assert_eq!(
            rows,
            vec![vec![Value::Time(10 * S), Value::Float(2.0)]],
            "{q}"
        );
        let mut want = aggregate_read(vec![(agg, "v")]);
        want.filter.min = Some(0);
        assert_eq!(sent(&h), vec![want.to_sql().unwrap()], "{q}");
    }
}

/// Over several measurements, one without a pushed-down field is read as points (its
/// column has no values there, as InfluxDB builds no iterator for it); the others keep
/// the engine's aggregate.
#[tokio::test]
async fn a_source_without_the_pushed_field_reads_points() {
    let h = unlimited(&points());
    let (path, plan) = path_of(&h, "SELECT count(v) FROM m").await;
    assert_eq!(path, SourcePath::Pushdown);
    let mut other = plan.sources[0].clone();
    other.schema.fields.remove("v");
    assert_eq!(plan.path_of(&other), STORAGE_POINTS);
}

#[tokio::test]
async fn a_subquerys_points_are_evaluated_in_rust() {
    let h = unlimited(&points());
    let (path, plan) = path_of(&h, "SELECT mean(v) FROM (SELECT v FROM m)").await;
    assert!(plan.sources[0].rows.is_some());
    assert_eq!(path, SourcePath::Subquery);
}

#[tokio::test]
async fn a_raw_select_reads_time_ordered_points() {
    let h = unlimited(&points());
    let rows = h
        .rows("SELECT v FROM m WHERE time >= 0 AND time <= 30s")
        .await;
    assert_eq!(rows.len(), 3);
    assert_eq!(
        sent(&h),
        vec![raw_read(Some(0), Some(30 * S), false).to_sql().unwrap()]
    );
}

#[tokio::test]
async fn top_and_bottom_read_only_their_candidates_from_storage() {
    let h = unlimited(&points());
    h.rows("SELECT top(v, 2), host FROM m WHERE time >= 0 AND time < 30s GROUP BY time(10s)")
        .await;
    h.rows("SELECT bottom(v, host, 1) FROM m GROUP BY host")
        .await;
    let mut top = raw_read(Some(0), Some(30 * S - 1), false);
    top.best = Some(BestRows {
        field: "v".into(),
        rows: 2,
        largest: true,
        by: Vec::new(),
        bucket: Some(Window::new(10 * S, 0)),
    });
    let mut bottom = raw_read(None, None, false);
    bottom.best = Some(BestRows {
        field: "v".into(),
        rows: 1,
        largest: false,
        by: vec!["host".into()],
        bucket: None,
    });
    assert_eq!(
        sent(&h),
        vec![top.to_sql().unwrap(), bottom.to_sql().unwrap()]
    );
}

#[tokio::test]
async fn other_selectors_and_subqueries_read_every_point() {
    let h = unlimited(&points());
    for q in [
        "SELECT max(v), host FROM m",
        "SELECT sample(v, 2) FROM m",
        "SELECT top(v, 2) FROM (SELECT v FROM m)",
    ] {
        let plan = plan_of(&h, q).await;
        assert!(plan.best_rows(&plan.sources[0]).is_none(), "{q}");
    }
}

#[tokio::test]
async fn a_limited_top_is_fed_the_first_points() {
    let h = unlimited(&points());
    for (q, want) in [
        ("SELECT top(v, 1) FROM m LIMIT 1", Some(2)),
        ("SELECT bottom(v, 1), host FROM m LIMIT 2 OFFSET 3", Some(6)),
        ("SELECT top(v, 1) FROM m", None),
        ("SELECT top(v, 2) FROM m LIMIT 3", Some(4)),
        ("SELECT top(v, host, 1) FROM m LIMIT 1", None),
        ("SELECT max(v) FROM m LIMIT 1", None),
    ] {
        let plan = plan_of(&h, q).await;
        let stmt = statement(q);
        let fed = plan.limited_top_feed(&stmt).map(|(f, n)| {
            assert_eq!(f, "v", "{q}");
            n
        });
        assert_eq!(fed, want, "{q}");
    }
}

#[tokio::test]
async fn top_prints_the_tags_of_each_point_it_selects() {
    // Three series share a time and a value: each row is its own point (every row
    // printed the first series' tags, and `top(v, host, n)` saw one host).
    let h = unlimited(&[
        (0, "a", 5.0),
        (0, "b", 5.0),
        (0, "c", 5.0),
        (10 * S, "a", 1.0),
    ]);
    let host = |h: &str| Value::String(h.into());
    let row = |h: &str| vec![Value::Time(0), Value::Float(5.0), host(h)];
    assert_eq!(
        h.rows("SELECT top(v, 3), host FROM m").await,
        vec![row("a"), row("b"), row("c")]
    );
    assert_eq!(
        h.rows("SELECT top(v, host, 2) FROM m").await,
        vec![row("a"), row("b")]
    );
    assert_eq!(
        h.rows("SELECT bottom(v, host, 2) FROM m").await,
        vec![
            row("b"),
            vec![Value::Time(10 * S), Value::Float(1.0), host("a")]
        ]
    );
}

#[tokio::test]
async fn reads_merge_overwritten_points_only_where_storage_says_so() {
    let h = unlimited(&points());
    *h.engine.merge.lock() = true;
    h.rows("SELECT v FROM m").await;
    h.rows("SELECT count(v) FROM m").await;
    let mut count = aggregate_read(vec![(Pushdown::Count, "v")]);
    count.merge = true;
    assert_eq!(
        sent(&h),
        vec![
            raw_read(None, None, true).to_sql().unwrap(),
            count.to_sql().unwrap()
        ]
    );
}

#[tokio::test]
async fn a_pushdown_groups_by_tags_and_offset_buckets_in_the_engine() {
    let h = unlimited(&points());
    h.rows("SELECT mean(v) FROM m WHERE time >= 0 AND time < 60s GROUP BY time(10s, 5s), host")
        .await;
    let mut want = aggregate_read(vec![(Pushdown::Mean, "v")]);
    want.group_tags = vec![Some("host".into())];
    want.bucket = Some(Window::new(10 * S, 5 * S));
    want.filter.min = Some(0);
    want.filter.max = Some(60 * S - 1);
    assert_eq!(sent(&h), vec![want.to_sql().unwrap()]);
}

#[tokio::test]
async fn a_condition_reaches_storage_resolved_against_the_table() {
    let h = unlimited(&points());
    h.rows("SELECT v FROM m WHERE host = 'a' AND v > 1 AND nosuch = 'x'")
        .await;
    let mut want = raw_read(None, None, false);
    let expr = statement("SELECT v FROM m WHERE host = 'a' AND v > 1 AND nosuch = 'x'")
        .condition_without_time()
        .unwrap();
    let mut columns = BTreeMap::new();
    columns.insert(
        "host".to_string(),
        ColumnRef::Tag(naming::tag_column("host")),
    );
    columns.insert(
        "v".to_string(),
        ColumnRef::Field(naming::field_column("v"), FieldType::Float),
    );
    columns.insert("nosuch".to_string(), ColumnRef::Missing);
    want.filter.condition = Some(Condition { expr, columns });
    assert_eq!(sent(&h), vec![want.to_sql().unwrap()]);
}

/// Rows must hold a selected field only where some row may hold none: a field is left
/// out, or values of another type live in side columns.
#[tokio::test]
async fn rows_holding_no_selected_field_are_ruled_out_only_where_they_may_exist() {
    let q = "SELECT v FROM m";
    let h = unlimited(&points());
    h.rows(q).await;
    assert_eq!(
        sent(&h),
        vec![raw_read(None, None, false).to_sql().unwrap()]
    );
    let mut want = raw_read(None, None, false);
    want.filter.any_field = vec!["v".into()];

    let h = unlimited(&points());
    let key = ("db".to_string(), "m".to_string());
    h.meta
        .schemas
        .lock()
        .entry(key.clone())
        .or_default()
        .fields
        .insert("u".into(), FieldType::Integer);
    h.rows(q).await;
    assert_eq!(sent(&h), vec![want.to_sql().unwrap()]);

    let h = unlimited(&points());
    h.meta
        .schemas
        .lock()
        .entry(key)
        .or_default()
        .other_types
        .insert("v".into(), [FieldType::Integer].into());
    h.rows(q).await;
    // (A store that keeps no types per shard group may hold integers anywhere: the side
    // column is read beside the field's own, and merged into it.)
    let side = hyperbyte_domain::side_field_name("v", FieldType::Integer);
    want.fields = vec!["v".into(), side.clone()];
    want.filter.any_field = vec!["v".into(), side];
    assert_eq!(sent(&h), vec![want.to_sql().unwrap()]);
}

/// TSBS "lastpoint": `last()` of every field per series reads the most recent minute
/// first, and stops there when every series has its values.
#[tokio::test]
async fn lastpoint_reads_the_most_recent_rows_first() {
    let h = unlimited(&points());
    *h.engine.latest.lock() = Some(20 * S);
    *h.engine.agg_rows.lock() = vec![vec![
        Value::String("a".into()),
        Value::Integer(20 * S),
        Value::Float(4.0),
    ]];
    // The same call twice is computed once, and prints the point's time as a lone
    // selector does.
    let rows = h
        .rows("SELECT last(v), last(v) AS w FROM m GROUP BY *")
        .await;
    assert_eq!(
        rows,
        vec![vec![
            Value::Time(20 * S),
            Value::Float(4.0),
            Value::Float(4.0)
        ]]
    );
    let mut want = aggregate_read(vec![(Pushdown::Last, "v")]);
    want.filter.any_field = vec!["v".into()];
    want.group_tags = vec![Some("host".into())];
    // Grouped by every tag of the table: aggregated in the table's order.
    want.in_key_order = true;
    want.filter.since = Some(20 * S - 60 * S);
    assert_eq!(sent(&h), vec![want.to_sql().unwrap()]);
}

/// Grouped by tags alone, the engine aggregates in the table's order only when the tags
/// are every tag column of the table (so a prefix of its sort key, whatever the order).
#[tokio::test]
async fn tags_grouped_in_the_tables_order_only_when_they_are_all_its_tags() {
    let q = "SELECT last(v) FROM m WHERE time >= 0 GROUP BY host";
    let h = unlimited(&points());
    h.run(q).await;
    assert!(sent(&h)
        .iter()
        .any(|s| s.contains("optimize_aggregation_in_order")));

    let h = unlimited(&points());
    add_region_tag(&h);
    h.run(q).await;
    let sent = sent(&h);
    assert!(sent.iter().any(|s| s.contains("hb_bucket")), "{sent:?}");
    assert!(!sent
        .iter()
        .any(|s| s.contains("optimize_aggregation_in_order")));
}

/// Gives `m` a second tag, `region`, in the schema and the table (no point holds it).
fn add_region_tag(h: &Harness) {
    h.meta
        .schemas
        .lock()
        .entry(("db".to_string(), "m".to_string()))
        .or_default()
        .tag_keys
        .insert("region".into());
    h.engine.more_tags.lock().push("region".into());
}

/// Grouped by the tags that lead the table's sort key (in any order), the engine
/// aggregates in the table's order too; by others, or with time buckets, it hashes.
#[tokio::test]
async fn tags_leading_the_sort_key_are_grouped_in_the_tables_order() {
    let in_order = |sent: Vec<String>| {
        let agg: Vec<&String> = sent.iter().filter(|s| s.contains("hb_bucket")).collect();
        assert_eq!(agg.len(), 1, "{sent:?}");
        agg[0].contains("optimize_aggregation_in_order")
    };
    for (leading, q, want) in [
        (
            vec!["host", "region"],
            "SELECT max(v) FROM m GROUP BY host",
            true,
        ),
        (
            vec!["region", "host"],
            "SELECT max(v) FROM m GROUP BY host",
            false,
        ),
        (
            vec!["region", "host"],
            "SELECT mean(v) FROM m GROUP BY host, region",
            true,
        ),
        (
            vec!["host"],
            "SELECT median(v) FROM m GROUP BY region",
            false,
        ),
        (vec![], "SELECT max(v) FROM m GROUP BY host", false),
        (
            vec!["host", "region"],
            "SELECT max(v) FROM m WHERE time >= 0 AND time < 1m GROUP BY time(10s), host",
            false,
        ),
    ] {
        let h = unlimited(&points());
        add_region_tag(&h);
        *h.engine.leading.lock() = leading.iter().map(|t| naming::tag_column(t)).collect();
        h.run(q).await;
        assert_eq!(
            in_order(sent(&h)),
            want,
            "{q} with the key led by {leading:?}"
        );
    }
}

/// A harness whose recent-data tier holds `points` (storage holds nothing).
async fn with_tier(points: &[(i64, &'static str, f64)]) -> Harness {
    with_tier_and_limits(points, QueryLimits::unlimited()).await
}

async fn with_tier_and_limits(points: &[(i64, &'static str, f64)], limits: QueryLimits) -> Harness {
    let h = harness(&[], limits);
    let tier = tier_holding(points, 1 << 20, &h).await;
    Harness {
        service: h.service.with_hot_tier(tier),
        engine: h.engine,
        meta: h.meta,
    }
}

/// A harness whose tier was given `points` one byte over its budget, so it evicted the
/// oldest quarter of their span (keeping the latest values of what it evicted); storage
/// holds nothing.
async fn with_evicted_tier(points: &[(i64, &'static str, f64)]) -> Harness {
    let all = tier_holding(points, 1 << 20, &harness(&[], QueryLimits::unlimited())).await;
    let h = harness(&[], QueryLimits::unlimited());
    let tier = tier_holding(points, all.bytes() - 1, &h).await;
    Harness {
        service: h.service.with_hot_tier(tier),
        engine: h.engine,
        meta: h.meta,
    }
}

/// A tier of `max_bytes` fed `points` (of `m`, tagged `host`) in one flush.
async fn tier_holding(
    points: &[(i64, &'static str, f64)],
    max_bytes: usize,
    h: &Harness,
) -> Arc<HotTier> {
    let tier = Arc::new(HotTier::new(max_bytes));
    let feed = TierFeed::new(tier.clone(), h.engine.clone());
    let pts: Vec<hyperbyte_domain::Point> = points
        .iter()
        .map(|&(time, host, v)| hyperbyte_domain::Point {
            measurement: "m".into(),
            tags: vec![("host".into(), host.into())],
            fields: vec![("v".into(), FieldValue::Float(v))],
            timestamp: time,
        })
        .collect();
    let id = ("db".to_string(), "autogen".to_string(), "m".to_string());
    feed.feed_points(&id, &pts).await;
    tier
}

/// Hosts writing every second from 0 to 399 s (`d`, when asked, only up to 50 s).
fn every_second(with_d: bool) -> Vec<(i64, &'static str, f64)> {
    let mut out = Vec::new();
    for i in 0..400 {
        for host in ["a", "b", "c", "d"] {
            if host == "d" && (!with_d || i > 50) {
                continue;
            }
            out.push((i * S, host, i as f64));
        }
    }
    out
}

/// Over a range the tier holds only the end of, each series' latest rows come from the
/// tier when every series stored before its coverage (in range) has enough rows there.
#[tokio::test]
async fn grouped_latest_rows_come_from_the_tiers_end_when_no_stored_series_lacks_them() {
    // The tier holds 100..=399 s (300 rows a host); 0..=99 s were evicted.
    let h = with_evicted_tier(&every_second(false)).await;
    let latest = "SELECT v FROM m GROUP BY host ORDER BY time DESC";
    let rows = h.rows(&format!("{latest} LIMIT 2")).await;
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert_eq!(rows[0], vec![Value::Time(399 * S), Value::Float(399.0)]);
    assert_eq!(rows[1], vec![Value::Time(398 * S), Value::Float(398.0)]);
    h.rows(&format!("{latest} LIMIT 10 OFFSET 290")).await;
    assert!(sent(&h).is_empty(), "storage was read: {:?}", sent(&h));
    // More rows than the tier holds of a series, or the first rows: storage.
    h.rows(&format!("{latest} LIMIT 301")).await;
    assert_eq!(sent(&h).len(), 1);
    h.rows("SELECT v FROM m GROUP BY host LIMIT 2").await;
    assert_eq!(sent(&h).len(), 2);

    // `d` stopped at 50 s: its rows are in storage alone.
    let h = with_evicted_tier(&every_second(true)).await;
    h.rows(&format!("{latest} LIMIT 1")).await;
    assert_eq!(sent(&h).len(), 1, "d's latest row is read from storage");
    // From 60 s on, storage holds nothing of `d`; a condition on tags can leave it out.
    h.rows("SELECT v FROM m WHERE time >= 60s GROUP BY host ORDER BY time DESC LIMIT 1")
        .await;
    h.rows("SELECT v FROM m WHERE host != 'd' GROUP BY host ORDER BY time DESC LIMIT 1")
        .await;
    h.rows("SELECT v FROM m WHERE host = 'a' GROUP BY host ORDER BY time DESC LIMIT 3")
        .await;
    assert_eq!(sent(&h).len(), 1, "storage was read: {:?}", sent(&h));
    // A condition on fields may leave out the tier's rows of a series stored before.
    h.rows(
        "SELECT v FROM m WHERE v < 100 AND host != 'd' GROUP BY host ORDER BY time DESC LIMIT 1",
    )
    .await;
    assert_eq!(sent(&h).len(), 2, "storage was read: {:?}", sent(&h));
}

#[tokio::test]
async fn the_recent_data_tier_answers_what_it_covers() {
    let h = with_tier(&points()).await;
    assert_eq!(h.rows("SELECT v FROM m").await.len(), 3);
    assert_eq!(
        h.rows("SELECT mean(v) FROM m").await,
        vec![vec![Value::Time(0), Value::Float(7.0 / 3.0)]]
    );
    assert_eq!(
        h.rows("SELECT last(v) FROM m").await,
        vec![vec![Value::Time(20 * S), Value::Float(4.0)]]
    );
    assert!(sent(&h).is_empty(), "storage was read: {:?}", sent(&h));
    let tier = h.service.stats().tier.unwrap();
    assert_eq!((tier.hits, tier.misses), (3, 0));
}

/// `top()` over more of the tier's rows than its points are worth evaluating reads
/// storage's candidates instead; over few, the tier answers.
#[tokio::test]
async fn top_over_many_of_the_tiers_rows_reads_storages_candidates() {
    let few = with_tier(&points()).await;
    few.rows("SELECT top(v, 2) FROM m").await;
    assert!(sent(&few).is_empty(), "storage was read: {:?}", sent(&few));
    let many: Vec<(i64, &'static str, f64)> = (0..=20_000i64)
        .map(|i| (i * S, "a", f64::from(u8::try_from(i % 7).unwrap())))
        .collect();
    let h = with_tier(&many).await;
    h.rows("SELECT top(v, 2) FROM m").await;
    let mut want = raw_read(None, None, false);
    want.tags.clear(); // (this harness' storage is empty: its table has no tag column)
    want.best = Some(BestRows {
        field: "v".into(),
        rows: 2,
        largest: true,
        by: Vec::new(),
        bucket: None,
    });
    assert_eq!(sent(&h), vec![want.to_sql().unwrap()]);
}

/// A lone selector from the tier prints the time of the point it selects as InfluxDB
/// does: the extreme value's earliest time across series, the first time's larger value;
/// the tier computes `median` too.
#[tokio::test]
async fn a_lone_selector_from_the_tier_prints_its_points_time_and_medians_are_computed() {
    let data = [
        (0, "a", 1.0),
        (0, "b", 3.0),
        (10 * S, "b", 4.0),
        (20 * S, "a", 4.0),
        (30 * S, "a", 1.0),
        (40 * S, "b", 2.0),
    ];
    let h = with_tier(&data).await;
    for (q, time, value) in [
        ("SELECT max(v) FROM m", 10 * S, 4.0),
        ("SELECT min(v) FROM m", 0, 1.0),
        ("SELECT first(v) FROM m", 0, 3.0),
        ("SELECT last(v) FROM m", 40 * S, 2.0),
        ("SELECT max(v) FROM m WHERE time >= 15s", 20 * S, 4.0),
        ("SELECT min(v) FROM m WHERE host = 'b'", 40 * S, 2.0),
    ] {
        let rows = h.rows(q).await;
        assert_eq!(
            rows,
            vec![vec![Value::Time(time), Value::Float(value)]],
            "{q}"
        );
    }
    // median (no point time): the middle value, or halfway between the two middle ones.
    for (q, value) in [
        ("SELECT median(v) FROM m", 2.5),
        ("SELECT median(v) FROM m WHERE host = 'a'", 1.0),
        ("SELECT median(v) FROM m WHERE host = 'b'", 3.0),
    ] {
        let rows = h.rows(q).await;
        assert_eq!(rows, vec![vec![Value::Time(0), Value::Float(value)]], "{q}");
    }
    let mut by_host = h.run("SELECT max(v) FROM m GROUP BY host").await.series;
    let times: Vec<Value> = by_host.iter_mut().map(|s| s.values[0][0].clone()).collect();
    assert_eq!(times, vec![Value::Time(20 * S), Value::Time(10 * S)]);
    assert!(sent(&h).is_empty(), "storage was read: {:?}", sent(&h));
}

/// A read the limits refuse stops one row past them in the tier as in storage: four
/// queries over a tier of a million points each once materialised every point before
/// the refusal, gigabytes past the memory bound.
#[tokio::test]
async fn a_tier_read_stops_one_row_past_the_limits() {
    let points: Vec<(i64, &'static str, f64)> = (0..50).map(|i| (i * S, "a", 1.0)).collect();
    for (limits, error) in [
        (
            QueryLimits {
                max_select_point: 2,
                ..QueryLimits::unlimited()
            },
            "max-select-point limit exceeed: (3/2)",
        ),
        (
            QueryLimits {
                max_select_rows: 5,
                ..QueryLimits::unlimited()
            },
            "max-select-rows limit exceeded: (6/5)",
        ),
    ] {
        let h = with_tier_and_limits(&points, limits).await;
        assert_eq!(h.error("SELECT v FROM m").await, error);
        assert!(sent(&h).is_empty(), "storage was read: {:?}", sent(&h));
    }
}

#[tokio::test]
async fn an_aggregate_with_a_field_condition_goes_to_the_engine() {
    let h = with_tier(&points()).await;
    h.rows("SELECT mean(v) FROM m WHERE v > 1").await;
    let tier = h.service.stats().tier.unwrap();
    assert_eq!((tier.hits, tier.misses), (0, 1));
    let mut want = aggregate_read(vec![(Pushdown::Mean, "v")]);
    let expr = statement("SELECT v FROM m WHERE v > 1")
        .condition_without_time()
        .unwrap();
    let mut columns = BTreeMap::new();
    columns.insert(
        "v".to_string(),
        ColumnRef::Field(naming::field_column("v"), FieldType::Float),
    );
    want.filter.condition = Some(Condition { expr, columns });
    assert_eq!(sent(&h), vec![want.to_sql().unwrap()]);
}

/// `tz()` over a daylight-saving change: the windows follow the local day (a 23 h day in
/// Chicago on 2020-03-08), alike in the tier's aggregates, the Rust evaluation and the
/// SQL the engine gets (one grid per piece of constant offset).
#[tokio::test]
async fn zone_windows_follow_the_local_day_on_every_path() {
    const H: i64 = 3600 * S;
    let start = 1_583_474_400 * S; // 2020-03-06T06:00:00Z, local midnight
    let points: Vec<(i64, &'static str, f64)> =
        (0..120).map(|i| (start + i * H, "a", 1.0)).collect();
    let h = with_tier(&points).await;
    let range = "time >= '2020-03-06T06:00:00Z' AND time < '2020-03-11T05:00:00Z'";
    let want: Vec<Vec<Value>> = [(0, 24), (24, 24), (48, 23), (71, 24), (95, 24)]
        .into_iter()
        .map(|(at, n)| vec![Value::Time(start + at * H), Value::Integer(n)])
        .collect();
    let tier =
        format!("SELECT count(v) FROM m WHERE {range} GROUP BY time(1d) tz('America/Chicago')");
    assert_eq!(h.rows(&tier).await, want);
    let rust = format!(
        "SELECT median(v), count(v) FROM m WHERE {range} GROUP BY time(1d) tz('America/Chicago')"
    );
    let got: Vec<Vec<Value>> = h
        .rows(&rust)
        .await
        .into_iter()
        .map(|r| vec![r[0].clone(), r[2].clone()])
        .collect();
    assert_eq!(got, want);
    assert!(sent(&h).is_empty(), "storage was read: {:?}", sent(&h));
    let engine = unlimited(&points);
    engine.rows(&tier).await;
    assert!(sent(&engine)[0].contains("multiIf("), "{:?}", sent(&engine));
}

/// The combinations InfluxDB 1.6 refuses when it compiles the fields (answers of the
/// reference server): `top()`/`bottom()` beside any other aggregate, selector or
/// transformation, then `distinct()` beside anything or twice; a missing measurement
/// answers the same.
#[tokio::test]
async fn distinct_top_and_bottom_refuse_company_as_influxdb_does() {
    let h = unlimited(&points());
    let distinct =
        "aggregate function distinct() cannot be combined with other functions or fields";
    let top = "selector function top() cannot be combined with other functions";
    for (q, want) in [
        ("SELECT count(v), distinct(host) FROM m", distinct),
        ("SELECT distinct(v), count(v) FROM m", distinct),
        ("SELECT distinct(v), distinct(v) FROM m", distinct),
        ("SELECT distinct(v) + distinct(v) FROM m", distinct),
        ("SELECT count(v), distinct(v) * 2 FROM m", distinct),
        ("SELECT distinct(v), abs(v) FROM m", distinct),
        ("SELECT distinct(v), v + 1 FROM nope", distinct),
        ("SELECT distinct(v), top(v, 1) FROM m", top),
        ("SELECT top(v, 1), max(v) FROM nope", top),
        ("SELECT top(v, 1) + max(v) FROM m", top),
        ("SELECT top(v, 1), derivative(v) FROM m", top),
        (
            "SELECT max(v), bottom(v, 1) FROM m",
            "selector function bottom() cannot be combined with other functions",
        ),
    ] {
        assert_eq!(h.error(q).await, want, "{q}");
    }
    for q in [
        "SELECT top(v, 1), host FROM m",
        "SELECT count(distinct(v)), max(v) FROM m",
        "SELECT distinct(v) FROM m",
    ] {
        let r = h.run(q).await;
        assert!(r.error.is_none(), "{q}: {:?}", r.error);
    }
}

/// A test series: its key and its tags.
pub(super) type TestSeries = (Arc<str>, Arc<BTreeMap<String, String>>);

/// Series of measurement `m` from (host, region) codes: host 0 absent, 1 empty, else
/// `h<n>`; region 0 absent, else `r<n>` (so distinct series may compare equal by tags).
pub(super) fn coded_series(codes: &[(u8, u8)]) -> Vec<TestSeries> {
    codes
        .iter()
        .enumerate()
        .map(|(i, (h, r))| {
            let mut tags = BTreeMap::new();
            match h {
                0 => {}
                1 => {
                    tags.insert("host".to_string(), String::new());
                }
                x => {
                    tags.insert("host".to_string(), format!("h{x}"));
                }
            }
            if *r > 0 {
                tags.insert("region".to_string(), format!("r{r}"));
            }
            (Arc::from(format!("m,{i}").as_str()), Arc::new(tags))
        })
        .collect()
}

/// The rows [`BestRows`] keeps (what its SQL selects), for points of the harness' one
/// tag: per (host if `by_host`, bucket of `every`) partition, the values at least as good
/// as the `n`-th best, ties included.
fn best_candidates(
    points: &[(i64, &'static str, f64)],
    (n, largest): (usize, bool),
    by_host: bool,
    every: Option<i64>,
) -> Vec<(i64, &'static str, f64)> {
    let key = |p: &(i64, &'static str, f64)| {
        let host = if by_host { p.1 } else { "" };
        (host, every.map_or(0, |e| p.0.div_euclid(e)))
    };
    let kept = |p: &(i64, &'static str, f64)| {
        let mut values: Vec<f64> = points
            .iter()
            .filter(|q| key(q) == key(p))
            .map(|q| q.2)
            .collect();
        values.sort_by(|a, b| {
            if largest {
                b.total_cmp(a)
            } else {
                a.total_cmp(b)
            }
        });
        let bound = values[n.min(values.len()) - 1];
        if largest {
            p.2 >= bound
        } else {
            p.2 <= bound
        }
    };
    points.iter().filter(|p| kept(p)).copied().collect()
}

proptest::proptest! {
    /// `top()` and `bottom()` evaluated over the candidates storage hands over answer as
    /// over every point: values tie within and across series, at one time and apart.
    #[test]
    fn top_and_bottom_over_their_candidates_answer_as_over_every_point(
        picks in proptest::collection::vec((0i64..8, 0usize..4, 1u8..4), 1..30),
        n in 1usize..4,
        shape in 0usize..5,
    ) {
        let hosts = ["a", "b", "c", "d"];
        let mut points: Vec<(i64, &'static str, f64)> = Vec::new();
        for (slot, h, v) in picks {
            let (time, host) = (slot * 5 * S, hosts[h]);
            if !points.iter().any(|p| p.0 == time && p.1 == host) {
                points.push((time, host, f64::from(v)));
            }
        }
        points.sort_by_key(|p| p.0);
        let span = "WHERE time >= 0 AND time < 40s";
        let (q, largest, by_host, every) = [
            (format!("SELECT top(v, {n}), host FROM m"), true, false, None),
            (format!("SELECT bottom(v, {n}), host FROM m GROUP BY host"), false, true, None),
            (format!("SELECT top(v, host, {n}) FROM m"), true, true, None),
            (format!("SELECT top(v, {n}), host FROM m {span} GROUP BY time(10s)"), true, false, Some(10 * S)),
            (format!("SELECT bottom(v, host, {n}) FROM m {span} GROUP BY time(20s)"), false, true, Some(20 * S)),
        ][shape].clone();
        // With a tag argument, only each host's best is a candidate (`BestRows::rows` 1).
        let per = if q.contains(", host, ") { 1 } else { n };
        let candidates = best_candidates(&points, (per, largest), by_host, every);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (all, kept) = rt.block_on(async {
            (unlimited(&points).rows(&q).await, unlimited(&candidates).rows(&q).await)
        });
        proptest::prop_assert_eq!(all, kept, "{}", q);
    }
}

/// Under `fill(none)` each column's `LIMIT` counts the windows its points reach; a window
/// whose points give no value (`stddev` of one value: NaN until after the cut) is one of
/// them, and prints as null.
#[test]
fn limit_per_column_counts_windows_without_a_value() {
    use super::aggregates::cut_rows_per_column;
    use hyperbyte_domain::query::Value;
    let nan = || Value::Float(f64::NAN);
    let rows = || {
        vec![
            vec![Value::Time(1), nan(), Value::Float(1.5)],
            vec![Value::Time(2), nan(), Value::Null],
            vec![Value::Time(3), Value::Float(2.8), Value::Float(3.0)],
        ]
    };
    let cut = |q: &str| {
        let mut r = rows();
        assert!(cut_rows_per_column(&mut r, &statement(q)));
        super::pushdown::no_value_as_null(r)
    };
    let first = cut("SELECT stddev(i), mean(f) FROM m GROUP BY time(1s) fill(none) LIMIT 1");
    assert_eq!(
        first,
        vec![vec![Value::Time(1), Value::Null, Value::Float(1.5)]],
        "the null stddev at 1 s is the column's first point"
    );
    let last = cut(
        "SELECT stddev(i), mean(f) FROM m GROUP BY time(1s) fill(none) ORDER BY time DESC LIMIT 1",
    );
    assert_eq!(
        last,
        vec![vec![Value::Time(3), Value::Float(2.8), Value::Float(3.0)]]
    );
    let two = cut("SELECT stddev(i), mean(f) FROM m GROUP BY time(1s) fill(none) LIMIT 2");
    assert_eq!(two.len(), 3, "mean's second point is at 3 s: {two:?}");
    assert_eq!(two[2], vec![Value::Time(3), Value::Null, Value::Float(3.0)]);
}

/// An outline reads no null map when every field it reads is one the answer shows (each
/// row read holds one of them, so each row is shown) and marks its rows as holding the
/// first numeric one; a field read only for the condition keeps every flag, which tell
/// the rows the answer shows from the others.
#[test]
fn an_outline_reads_presence_only_where_it_tells_rows_apart() {
    let mut schema = hyperbyte_domain::MeasurementSchema::default();
    schema.fields.insert("a".into(), FieldType::Float);
    schema.fields.insert("b".into(), FieldType::Integer);
    schema.fields.insert("s".into(), FieldType::String);
    let cols = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let every = cols(&["a", "b", "s"]);
    let (values, present, held) = super::read::outline_fields(&schema, &every, &["a", "b", "s"]);
    assert_eq!((values, present), (cols(&["s"]), Vec::new()));
    assert_eq!(held.as_deref(), Some("a"));
    let (values, present, held) = super::read::outline_fields(&schema, &cols(&["a", "b"]), &["a"]);
    assert_eq!(
        (values, present, held),
        (Vec::new(), cols(&["a", "b"]), None)
    );
    let strings = cols(&["s"]);
    let (values, present, held) = super::read::outline_fields(&schema, &strings, &["s"]);
    assert_eq!((values, present, held), (strings, Vec::new(), None));
}

/// A cut per group reads each series' first rows in the table's key order when the
/// engine names the tags that lead it (`LIMIT n BY` the series' tags, no aggregate), and
/// aggregates them by series when it cannot tell. (The fake engine answers only the
/// first: the rows of its host, of which the answer shows the first.)
#[tokio::test]
async fn each_series_first_rows_are_read_in_the_key_order_when_it_is_known() {
    let q = "SELECT v FROM m GROUP BY host LIMIT 1";
    let mut answers = Vec::new();
    for (leading, in_key_order) in [(vec!["host"], true), (vec![], false)] {
        let h = unlimited(&points());
        *h.engine.leading.lock() = leading.iter().map(|t| naming::tag_column(t)).collect();
        answers.push(format!("{:?}", h.run(q).await));
        let sent = sent(&h);
        let per_series: Vec<&String> = sent
            .iter()
            .filter(|s| s.contains(" BY `t_host`)") || s.contains("groupArraySorted"))
            .collect();
        assert_eq!(per_series.len(), 1, "{sent:?}");
        let s = per_series[0];
        assert_eq!(
            s.contains("ORDER BY `t_host`, time LIMIT 1 BY `t_host`"),
            in_key_order,
            "{s}"
        );
        assert_eq!(s.contains("groupArraySorted"), !in_key_order, "{s}");
    }
    assert!(
        answers[0].contains("values: [[Time(0), Float(1.0)]]"),
        "{}",
        answers[0]
    );
}
