//! What a subquery takes from the query around it, as InfluxDB 1.6 hands the outer
//! query's iterator options to the inner statement: its `GROUP BY` tags (and its time
//! grouping, for an aggregate without one), its time range (intersected), its direction,
//! and no empty windows. Then how the outer query reads the subquery's rows: a raw
//! outer query prints every row, an aggregate without `GROUP BY time` stops at a row
//! before its range.
//!
//! Why a module of its own: each rule is an observable answer of InfluxDB's that no
//! general principle predicts (probed against it one by one), and they interact; kept
//! together they read as the one contract they are.

use super::*;
use hyperbyte_timeseriesql::ast::{Field, TimeRange};

/// InfluxDB's compile error for a subquery whose `ORDER BY` names the other direction
/// than the query around it (a subquery without `ORDER BY` takes the outer one's).
pub(super) fn check_subquery_order(stmt: &SelectStatement) -> Result<(), StatementError> {
    for s in &stmt.sources {
        if let Source::Subquery(sub) = s {
            if !sub.sort_fields.is_empty() && sub.is_descending() != stmt.is_descending() {
                return Err(err(
                    "subqueries must be ordered in the same direction as the query itself",
                ));
            }
        }
    }
    Ok(())
}

/// The subquery statement as InfluxDB runs it inside `outer`, whose time range is
/// `range` (the range it reads: one window more for `derivative(max(x))`) and whose
/// interval is `outer_interval`; `tag_keys` are the tags of the subquery's measurements.
pub(super) fn prepare_subquery(
    sub: &SelectStatement,
    outer: &SelectStatement,
    (range, outer_interval): (TimeRange, Option<(i64, i64)>),
    tag_keys: &BTreeSet<String>,
) -> SelectStatement {
    let mut sub = sub.clone();
    let pushed = push_down_tag_dimensions(&mut sub, outer);
    keep_wildcard_tags(&mut sub, &pushed, tag_keys);
    inherit_derivative_unit(&mut sub, outer_interval);
    // The outer range narrows the inner one (a window the outer start cuts keeps its
    // start time: `WHERE time > 10s` over 10-second windows prints the window at 10s,
    // over the points after 10s).
    intersect_time_range(&mut sub, range);
    // The direction is the outer query's (`LIMIT 2` inside `ORDER BY time DESC` keeps
    // the last two rows).
    if sub.sort_fields.is_empty() && outer.is_descending() {
        sub.sort_fields = outer.sort_fields.clone();
    }
    // Empty windows would only be dropped by the outer query: a subquery aggregating
    // into windows under `fill(null)` runs with `fill(none)` (`count()` gives no zero
    // windows). (Only there: `fill(none)` of raw rows, `abs(v)`, is an error.)
    let aggregates = sub.fields.iter().any(|f| contains_agg(&f.expr));
    let windowed = sub.group_by_time_call().is_some();
    if aggregates && windowed && sub.fill == Fill::Null {
        sub.fill = Fill::None;
    }
    sub
}

/// The outer query's `GROUP BY` tags added to the subquery's, as InfluxDB does:
/// `SELECT max(x) FROM (SELECT count(v) AS x ... GROUP BY time(1m)) GROUP BY host` counts
/// per host, and a raw subquery keeps each point's host. (An outer `*` or regex stands
/// for tags of the subquery's own `GROUP BY`, which it has already.)
/// Returns the tags pushed.
fn push_down_tag_dimensions(sub: &mut SelectStatement, outer: &SelectStatement) -> Vec<String> {
    let is_time = |d: &Expr| matches!(d, Expr::Call { name, .. } if name == "time");
    let sub_has_time = sub.dimensions.iter().any(is_time);
    let sub_aggregates = sub.fields.iter().any(|f| contains_agg(&f.expr));
    let mut pushed = Vec::new();
    for d in &outer.dimensions {
        // An aggregate subquery without its own time grouping takes the outer one's:
        // `SELECT max(x) FROM (SELECT last(v) AS x ... GROUP BY host) GROUP BY
        // time(30s)` takes each window's last value per host.
        let push = if is_time(d) {
            sub_aggregates && !sub_has_time
        } else {
            matches!(d, Expr::VarRef { .. }) && !sub.dimensions.contains(d)
        };
        if push {
            if let Expr::VarRef { name, .. } = d {
                pushed.push(name.clone());
            }
            sub.dimensions.push(d.clone());
        }
    }
    pushed
}

/// A tag only the outer `GROUP BY` gives the subquery stays a column of the subquery's
/// own wildcard: InfluxDB expands the inner `*`, `*::tag` or regex before the outer
/// dimensions reach it, so `SELECT max(v), host FROM (SELECT * FROM cpu) GROUP BY host`
/// prints each row's host (a subquery grouping by `host` itself lists no `host` column).
/// Such tags among `tag_keys` become explicit `tag::tag` columns.
fn keep_wildcard_tags(sub: &mut SelectStatement, pushed: &[String], tag_keys: &BTreeSet<String>) {
    let covers = |f: &Field, tag: &str| match &f.expr {
        Expr::Wildcard(None | Some(WildcardType::Tag)) => true,
        Expr::Regex(r) => regex::Regex::new(&r.pattern).is_ok_and(|rx| rx.is_match(tag)),
        _ => false,
    };
    for tag in pushed.iter().filter(|t| tag_keys.contains(*t)) {
        if sub.fields.iter().any(|f| covers(f, tag)) {
            sub.fields.push(Field {
                expr: Expr::VarRef {
                    name: tag.clone(),
                    data_type: Some(VarType::Tag),
                },
                alias: None,
            });
        }
    }
}

/// A subquery without its own `GROUP BY time` runs with the outer query's interval, as
/// InfluxDB hands it the outer iterator options: a `derivative()` or
/// `non_negative_derivative()` there without a unit takes that interval as its unit
/// (`mean(x) FROM (SELECT derivative(v) AS x …) GROUP BY time(10m)` is per 10 minutes).
fn inherit_derivative_unit(sub: &mut SelectStatement, outer: Option<(i64, i64)>) {
    let Some((every, _)) = outer else {
        return;
    };
    if sub.group_by_interval_at(None).is_some() {
        return;
    }
    fn give_unit(e: &mut Expr, every: i64) {
        match e {
            Expr::Call { name, args } => {
                let derivative = matches!(name.as_str(), "derivative" | "non_negative_derivative");
                if derivative && args.len() == 1 {
                    args.push(Expr::Duration(every));
                }
                args.iter_mut().for_each(|a| give_unit(a, every));
            }
            Expr::Paren(inner) => give_unit(inner, every),
            Expr::Binary { lhs, rhs, .. } => {
                give_unit(lhs, every);
                give_unit(rhs, every);
            }
            _ => {}
        }
    }
    for f in &mut sub.fields {
        give_unit(&mut f.expr, every);
    }
}

/// `sub AND time >= min AND time <= max` for the outer bounds that are set.
fn intersect_time_range(sub: &mut SelectStatement, range: TimeRange) {
    let mut extra: Vec<Expr> = Vec::new();
    if let Some(m) = range.min {
        extra.push(Expr::binary(
            BinaryOp::GtEq,
            Expr::var("time"),
            Expr::Integer(m),
        ));
    }
    if let Some(m) = range.max {
        extra.push(Expr::binary(
            BinaryOp::LtEq,
            Expr::var("time"),
            Expr::Integer(m),
        ));
    }
    for e in extra {
        sub.condition = Some(match sub.condition.take() {
            Some(c) => Expr::binary(BinaryOp::And, Expr::Paren(Box::new(c)), e),
            None => e,
        });
    }
}

/// The tags a subquery groups by itself (`None`: all of them, for `GROUP BY *` or a
/// regex), before the outer query adds its own.
pub(super) fn own_tag_dimensions(sub: &SelectStatement) -> Option<BTreeSet<String>> {
    let mut own = BTreeSet::new();
    for d in &sub.dimensions {
        match d {
            Expr::VarRef { name, .. } => {
                own.insert(name.clone());
            }
            Expr::Wildcard(_) | Expr::Regex(_) => return None,
            _ => {}
        }
    }
    Some(own)
}

/// A column naming a tag that only the outer `GROUP BY` gave a subquery reads a field
/// of that name instead, which the subquery lacks: InfluxDB maps a column to the
/// subquery's columns and its own `GROUP BY` tags only (`SELECT max(x), host FROM
/// (SELECT v AS x FROM cpu) GROUP BY host` prints `host` empty).
pub(super) fn hide_pushed_tags(
    cols: &mut [OutCol],
    sources: &[Src],
    fields: &BTreeMap<String, FieldType>,
) {
    let pushed: BTreeSet<&String> = sources
        .iter()
        .filter(|s| s.is_subquery())
        .flat_map(|s| &s.pushed_tags)
        .filter(|t| !fields.contains_key(*t))
        .collect();
    // A tag some source has of its own keeps its values.
    let own = |t: &String| {
        sources
            .iter()
            .any(|s| s.schema.tag_keys.contains(t) && !s.pushed_tags.contains(t))
    };
    for c in cols.iter_mut() {
        c.expr.walk_mut(&mut |e| {
            if let Expr::VarRef { name, data_type } = e {
                if data_type.is_none() && pushed.contains(name) && !own(name) {
                    *data_type = Some(VarType::Field);
                }
            }
        });
    }
}

/// An outer aggregate without `GROUP BY time` over subquery rows reduces one window, the
/// outer range; InfluxDB's reduction takes a row before that range (a window's start
/// the outer condition cuts: `WHERE time > 1s` over windows of 10s prints a row at 0s)
/// for the end of its input. Its groups run in order (measurement, then the outer
/// `GROUP BY` tags; backwards under `ORDER BY time DESC`, times too), so the first group
/// holding such a row and every later group print nothing, except that a backwards
/// group prints what it reduced before reaching that row.
pub(super) fn end_at_rows_before_range(
    sources: &mut [Src],
    (group_tags, needed, cond): (&[String], &BTreeSet<String>, Option<&Expr>),
    start: i64,
    descending: bool,
) {
    type GroupKey = (String, Vec<String>);
    let key_of = |measurement: &str, p: &Point| -> GroupKey {
        let tags = group_tags
            .iter()
            .map(|t| p.tags.get(t).cloned().unwrap_or_default())
            .collect();
        (measurement.to_string(), tags)
    };
    // The rows the reduction reads: those the outer condition keeps, with a value.
    let read = |p: &Point| {
        needed.iter().any(|n| p.fields.contains_key(n.as_str()))
            && cond.is_none_or(|c| eval_cond(c, p))
    };
    let mut groups: BTreeSet<GroupKey> = BTreeSet::new();
    let mut early: BTreeSet<GroupKey> = BTreeSet::new();
    for src in sources.iter() {
        for p in src.rows.iter().flat_map(|r| r.iter()).filter(|p| read(p)) {
            let key = key_of(&src.measurement, p);
            if p.time < start {
                early.insert(key.clone());
            }
            groups.insert(key);
        }
    }
    let ordered: Vec<&GroupKey> = if descending {
        groups.iter().rev().collect()
    } else {
        groups.iter().collect()
    };
    let Some(stop) = ordered.iter().position(|k| early.contains(*k)) else {
        return;
    };
    let partial = descending.then(|| ordered[stop].clone());
    let dropped: BTreeSet<GroupKey> = ordered[stop..].iter().map(|k| (*k).clone()).collect();
    for src in sources.iter_mut() {
        let measurement = src.measurement.clone();
        if !dropped.iter().any(|(m, _)| *m == measurement) {
            continue;
        }
        if let Some(rows) = src.rows.as_mut() {
            Arc::make_mut(rows).retain(|p| {
                let key = key_of(&measurement, p);
                if partial.as_ref() == Some(&key) {
                    return p.time >= start;
                }
                !dropped.contains(&key)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_select as select;
    use super::*;

    /// The outer `GROUP BY` tags reach every subquery; the outer time grouping only an
    /// aggregate one without its own.
    #[test]
    fn outer_dimensions_reach_the_subquery() {
        let outer = select("SELECT max(x) FROM m GROUP BY time(30s), host");
        let dims = |q: &str| {
            let mut sub = select(q);
            let _ = push_down_tag_dimensions(&mut sub, &outer);
            sub.dimensions
        };
        let host = Expr::var("host");
        let outer_time = outer.dimensions[0].clone();
        assert_eq!(dims("SELECT v AS x FROM m"), vec![host.clone()]);
        assert_eq!(
            dims("SELECT last(v) AS x FROM m GROUP BY host"),
            vec![host.clone(), outer_time]
        );
        let own = dims("SELECT count(v) AS x FROM m GROUP BY time(1m)");
        assert_eq!(own.len(), 2);
        assert!(own.contains(&host) && !own.contains(&outer.dimensions[0]));
    }

    /// The inner wildcard keeps a tag the outer `GROUP BY` pushes down as a column, when
    /// the subquery's measurements have it and a wildcard of its own covers tags.
    #[test]
    fn the_inner_wildcard_keeps_pushed_tags() {
        let outer = select("SELECT * FROM m GROUP BY host, dc, rack");
        let tags: BTreeSet<String> = ["host", "dc"].iter().map(|t| t.to_string()).collect();
        let fields = |inner: &str| {
            let sub = prepare_subquery(&select(inner), &outer, (TimeRange::default(), None), &tags);
            sub.fields
                .iter()
                .map(|f| f.expr.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(fields("SELECT * FROM m"), vec!["*", "host::tag", "dc::tag"]);
        assert_eq!(
            fields("SELECT *::tag, v FROM m"),
            vec!["*::tag", "v", "host::tag", "dc::tag"]
        );
        assert_eq!(fields("SELECT /o/ FROM m"), vec!["/o/", "host::tag"]);
        assert_eq!(fields("SELECT *::field FROM m"), vec!["*::field"]);
        assert_eq!(
            fields("SELECT * FROM m GROUP BY host"),
            vec!["*", "dc::tag"]
        );
        assert_eq!(fields("SELECT max(*) FROM m"), vec!["max(*)"]);
    }

    /// An aggregate subquery runs without empty windows unless it asks for a fill; the
    /// outer direction reaches a subquery without its own.
    #[test]
    fn the_subquery_runs_without_empty_windows_in_the_outer_direction() {
        let range = TimeRange::default();
        let prepared = |inner: &str, outer: &str| {
            prepare_subquery(
                &select(inner),
                &select(outer),
                (range, None),
                &BTreeSet::new(),
            )
        };
        let outer = "SELECT x FROM m ORDER BY time DESC";
        let sub = prepared("SELECT count(v) AS x FROM m GROUP BY time(1m)", outer);
        assert_eq!(sub.fill, Fill::None);
        assert!(sub.is_descending());
        let sub = prepared(
            "SELECT count(v) AS x FROM m GROUP BY time(1m) fill(0)",
            outer,
        );
        assert_ne!(sub.fill, Fill::None);
        let sub = prepared("SELECT v AS x FROM m", "SELECT x FROM m");
        assert_eq!(sub.fill, Fill::Null);
        // Raw math and an aggregate without windows keep fill(null) (fill(none) of raw
        // rows is an error).
        let sub = prepared("SELECT abs(v) AS x FROM m", "SELECT x FROM m");
        assert_eq!(sub.fill, Fill::Null);
        let sub = prepared("SELECT count(v) AS x FROM m", "SELECT x FROM m");
        assert_eq!(sub.fill, Fill::Null);
        assert!(!sub.is_descending());
        let opposite = select("SELECT x FROM (SELECT v AS x FROM m ORDER BY time DESC)");
        assert!(check_subquery_order(&opposite).is_err());
    }

    fn point(time: i64, host: &str) -> Point {
        let mut tags = BTreeMap::new();
        tags.insert("host".to_string(), host.to_string());
        let mut fields = BTreeMap::new();
        fields.insert(Arc::from("x"), Value::Float(1.0));
        Point {
            time,
            key: Arc::from(format!("m,host={host}").as_str()),
            tags: Arc::new(tags),
            fields,
        }
    }

    fn kept(descending: bool) -> Vec<(i64, String)> {
        let rows = vec![
            point(5, "a"),
            point(20, "a"),
            point(0, "b"),
            point(15, "b"),
            point(12, "c"),
        ];
        let mut sources = vec![Src {
            db: String::new(),
            rp: String::new(),
            measurement: "m".into(),
            schema: MeasurementSchema::default(),
            rows: Some(Arc::new(rows)),
            tag_fields: BTreeSet::new(),
            pushed_tags: BTreeSet::new(),
        }];
        let needed = BTreeSet::from(["x".to_string()]);
        let tags = ["host".to_string()];
        end_at_rows_before_range(&mut sources, (&tags, &needed, None), 10, descending);
        let rows = sources[0]
            .rows
            .as_ref()
            .map(|r| r.to_vec())
            .unwrap_or_default();
        rows.iter()
            .map(|p| (p.time, p.tags["host"].clone()))
            .collect()
    }

    /// Forwards, the first group with a row before the start and every later one are
    /// gone; backwards (c, b, a), c is whole, b keeps its rows from the start, a is gone.
    #[test]
    fn a_row_before_the_range_ends_the_reduction() {
        assert_eq!(kept(false), Vec::<(i64, String)>::new());
        assert_eq!(
            kept(true),
            vec![(15, "b".to_string()), (12, "c".to_string())]
        );
    }
}
