//! Result shaping: joining column timelines into rows, the order InfluxDB's merge
//! iterator emits points of several series in, and per-series ORDER/LIMIT/OFFSET.

use super::*;

/// One output series from its rows in time order: `ORDER BY time DESC`, then
/// `OFFSET`/`LIMIT` unless `cut` says they were applied per column (a series left
/// without rows is dropped).
pub(super) fn finish_series(
    stmt: &SelectStatement,
    measurement: &str,
    tags: BTreeMap<String, String>,
    cols: &[OutCol],
    (mut rows, cut): (Vec<Vec<Value>>, bool),
) -> Option<Series> {
    if stmt.is_descending() {
        rows.reverse();
    }
    let off = stmt.offset.unwrap_or(0) as usize;
    let rows: Vec<Vec<Value>> = match stmt.limit {
        _ if cut => rows,
        Some(l) if l > 0 => rows.into_iter().skip(off).take(l as usize).collect(),
        // InfluxDB 1.x: a raw query with an OFFSET and no LIMIT answers one row per series
        // (its limit iterator stops after the first point past the offset).
        _ if off > 0 && stmt.is_raw() => rows.into_iter().skip(off).take(1).collect(),
        _ => rows.into_iter().skip(off).collect(),
    };
    if rows.is_empty() {
        return None;
    }
    let mut columns = vec!["time".to_string()];
    columns.extend(cols.iter().map(|c| c.name.clone()));
    Some(Series {
        name: Some(measurement.to_string()),
        tags,
        columns,
        values: rows,
        partial: false,
    })
}

/// Orders the points of one output series the way InfluxDB's sorted-merge iterator emits
/// them: one input per series (in series-key order) merged through Go's binary heap by
/// time. Points of different series with equal times come out in the heap's order, which
/// is deterministic but not sorted; clients and the conformance corpus see that order.
pub(super) fn go_heap_merge(points: Vec<Point>, shards: Option<i64>) -> Vec<Point> {
    let order = feed_order(&points, &[], false, shards);
    permute(points, &order)
}

/// One auxiliary reference of a raw SELECT, as InfluxDB's `IteratorOptions.Aux` holds
/// it: every variable the columns read, sorted by name then by InfluxQL type number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct AuxRef {
    name: String,
    /// influxql's `DataType` number (Float 1, Integer 2, String 3, Boolean 4, Tag 7,
    /// Unsigned 9; 0 for a field of no known type): the order of two references of one
    /// name.
    rank: u8,
    tag: bool,
}

impl AuxRef {
    /// The string this reference gives point `p` in InfluxDB's iterator, if any: a tag's
    /// non-empty value, a string field's value; anything else (numbers, booleans, a
    /// missing value) is not a string.
    fn string_of<'a>(&self, p: &'a Point) -> Option<&'a str> {
        if self.tag {
            p.tags
                .get(&self.name)
                .map(String::as_str)
                .filter(|s| !s.is_empty())
        } else {
            match p.fields.get(self.name.as_str()) {
                Some(Value::String(s)) => Some(s.as_str()),
                _ => None,
            }
        }
    }
}

/// The auxiliary references of a raw SELECT's columns (InfluxDB 1.6 `buildCursor`: the
/// value mapper's refs, sorted with `influxql.VarRefs`). A reference's type is resolved
/// as InfluxDB's field mapper does: a `::tag` hint, a name only tags carry, or a field.
pub(super) fn aux_refs(plan: &super::plan::SelectPlan) -> Vec<AuxRef> {
    let mut refs: BTreeSet<AuxRef> = BTreeSet::new();
    for c in &plan.cols {
        c.expr.walk(&mut |e| {
            if let Some(r) = aux_ref(plan, e) {
                refs.insert(r);
            }
        });
    }
    refs.into_iter().collect()
}

/// The auxiliary references of a selector's query: its bare field and tag columns (the
/// selector's own argument is the iterator's expression, not an auxiliary value).
pub(super) fn selector_aux_refs(plan: &super::plan::SelectPlan) -> Vec<AuxRef> {
    let refs: BTreeSet<AuxRef> = plan
        .cols
        .iter()
        .filter_map(|c| aux_ref(plan, &c.expr))
        .collect();
    refs.into_iter().collect()
}

/// `e` as an auxiliary reference, if it is a variable.
fn aux_ref(plan: &super::plan::SelectPlan, e: &Expr) -> Option<AuxRef> {
    let Expr::VarRef { name, data_type } = e else {
        return None;
    };
    let field_rank = |t: Option<FieldType>| match t {
        Some(FieldType::Float) => 1,
        Some(FieldType::Integer) => 2,
        Some(FieldType::String) => 3,
        Some(FieldType::Boolean) => 4,
        Some(FieldType::Unsigned) => 9,
        None => 0,
    };
    let (tag, rank) = match data_type {
        Some(VarType::Tag) => (true, 7),
        Some(VarType::Float) => (false, 1),
        Some(VarType::Integer) => (false, 2),
        Some(VarType::String) => (false, 3),
        Some(VarType::Boolean) => (false, 4),
        Some(VarType::Unsigned) => (false, 9),
        Some(VarType::Field) => (false, field_rank(plan.all_fields.get(name).copied())),
        None if plan.is_tag_ref(e) => (true, 7),
        None => (false, field_rank(plan.all_fields.get(name).copied())),
    };
    Some(AuxRef {
        name: name.clone(),
        rank,
        tag,
    })
}

/// Orders the points of one output series of a raw SELECT as InfluxDB 1.6's sorted-merge
/// iterator does (`SortedMergeHeap.Less`): by time, then at equal times by the auxiliary
/// values in `aux` order as long as both points give strings there (a tag, a string
/// field); the first reference where either does not (a number, a missing value) leaves
/// the two unordered and the heap's structure decides. So `SELECT value, host` comes
/// sorted by host, while `SELECT *` over measurements with a numeric field sorting before
/// the tags comes in heap order.
///
/// `descending`: the series inputs run in reverse key order and every comparison is
/// reversed, as in InfluxDB; the result is then returned oldest first (the caller's
/// `ORDER BY time DESC` reverses it back).
pub(super) fn raw_merge(
    points: Vec<Point>,
    aux: &[AuxRef],
    descending: bool,
    shards: Option<i64>,
) -> Vec<Point> {
    let order = feed_order(&points, aux, descending, shards);
    let mut out = permute(points, &order);
    if descending {
        out.reverse();
    }
    out
}

/// The order InfluxDB 1.6's sorted-merge iterator hands `points` over in (indices into
/// `points`; see [`raw_merge`]): with `descending` newest first, as a reducer under
/// `ORDER BY time DESC` receives them.
///
/// `shards`: the shard group duration. InfluxDB merges the series of each shard through
/// a heap of its own, and the shards one after the other (their times never meet), so
/// rows of one time come in the order a heap fresh at their group's start gives, not the
/// order of a heap carried over from the group before. `None`: one heap (a subquery's
/// rows, or sources of different shard durations).
pub(super) fn feed_order(
    points: &[Point],
    aux: &[AuxRef],
    descending: bool,
    shards: Option<i64>,
) -> Vec<usize> {
    merge_order(points, (0..points.len()).collect(), aux, descending, shards)
}

/// [`feed_order`] of the points at `indices` only (those holding the one field an
/// aggregate reads: a merge of those alone, whose equal times may come in another order).
pub(super) fn feed_order_of(
    points: &[Point],
    indices: Vec<usize>,
    shards: Option<i64>,
) -> Vec<usize> {
    merge_order(points, indices, &[], false, shards)
}

/// [`feed_order`] of the points at `indices`.
fn merge_order(
    points: &[Point],
    indices: Vec<usize>,
    aux: &[AuxRef],
    descending: bool,
    shards: Option<i64>,
) -> Vec<usize> {
    let Some(d) = shards.filter(|d| *d > 0) else {
        return heap_order(points, indices, aux, descending);
    };
    let group = |t: i64| t.div_euclid(d);
    let (earliest, latest) = indices.iter().fold((i64::MAX, i64::MIN), |(lo, hi), &i| {
        (lo.min(points[i].time), hi.max(points[i].time))
    });
    if earliest > latest || group(earliest) == group(latest) {
        return heap_order(points, indices, aux, descending);
    }
    let mut groups: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for i in indices {
        groups.entry(group(points[i].time)).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    if descending {
        groups.reverse();
    }
    groups
        .into_iter()
        .flat_map(|g| heap_order(points, g, aux, descending))
        .collect()
}

/// [`feed_order`] of the points at `indices` through one heap.
fn heap_order(
    points: &[Point],
    indices: Vec<usize>,
    aux: &[AuxRef],
    descending: bool,
) -> Vec<usize> {
    let series = by_series(indices, |&i| points[i].key.clone(), descending);
    // A tag's string is the same for every point of a series: looked up once per series,
    // not at every comparison (`SELECT *` compares up to ten tags at each equal time).
    let tag_strings: Vec<Vec<Option<String>>> = series
        .iter()
        .map(|s| {
            aux.iter()
                .map(|r| match s.first() {
                    Some(&i) if r.tag => r.string_of(&points[i]).map(str::to_string),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let less = |(sa, &a): (usize, &usize), (sb, &b): (usize, &usize)| {
        let (x, y) = (&points[a], &points[b]);
        if x.time != y.time {
            return (x.time < y.time) != descending;
        }
        for (j, r) in aux.iter().enumerate() {
            let (a, b) = if r.tag {
                (tag_strings[sa][j].as_deref(), tag_strings[sb][j].as_deref())
            } else {
                (r.string_of(x), r.string_of(y))
            };
            match (a, b) {
                (Some(a), Some(b)) if a == b => continue,
                (Some(a), Some(b)) => return (a < b) != descending,
                _ => return false,
            }
        }
        false
    };
    heap_merge(series, less)
}

/// Each point's position in the order InfluxDB hands `points` to a reducer under `ORDER
/// BY time DESC` ([`feed_order`], newest first).
pub(super) fn descending_feed_rank(
    points: &[Point],
    aux: &[AuxRef],
    shards: Option<i64>,
) -> Vec<usize> {
    let mut rank = vec![0; points.len()];
    for (position, i) in feed_order(points, aux, true, shards)
        .into_iter()
        .enumerate()
    {
        if let Some(r) = rank.get_mut(i) {
            *r = position;
        }
    }
    rank
}

/// `points` in `order` (a permutation of their indices).
fn permute(points: Vec<Point>, order: &[usize]) -> Vec<Point> {
    let mut slots: Vec<Option<Point>> = points.into_iter().map(Some).collect();
    order
        .iter()
        .filter_map(|&i| slots.get_mut(i).and_then(Option::take))
        .collect()
}

/// Whether [`raw_merge`] orders every two of `points` that share a time by their
/// auxiliary values (the first reference where they differ gives both a string). Then
/// each step of the merge has one least point and the heap's structure never decides, so
/// the merge of any subset of a series' points that holds the first rows gives those rows
/// in the same order as the merge of all of them: a read cut to the rows an answer shows
/// may stand in for the whole read.
pub(super) fn ties_decided<'p>(
    points: impl IntoIterator<Item = &'p Point>,
    aux: &[AuxRef],
) -> bool {
    let mut keyed: Vec<(i64, Vec<Option<&str>>)> =
        points.into_iter().map(|p| tie_key(p, aux)).collect();
    keyed.sort_unstable();
    // Sorted with a missing string first: an undecided pair has an undecided neighbour.
    keyed
        .windows(2)
        .all(|w| w[0].0 != w[1].0 || strings_decide(&w[0].1, &w[1].1))
}

/// A point's time and auxiliary strings. Among points whose ties are decided
/// ([`ties_decided`]), ascending keys are [`raw_merge`]'s order (descending: its reverse).
pub(super) fn tie_key<'p>(p: &'p Point, aux: &[AuxRef]) -> (i64, Vec<Option<&'p str>>) {
    (p.time, aux.iter().map(|r| r.string_of(p)).collect())
}

/// Whether two points' auxiliary strings order them, as [`raw_merge`]'s `less` does.
fn strings_decide(a: &[Option<&str>], b: &[Option<&str>]) -> bool {
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(_), Some(_)) => return true,
            _ => return false,
        }
    }
    false
}

/// `less` over heap items (series index, position in the series).
type HeapLess<'a> = dyn Fn(&(usize, usize), &(usize, usize)) -> bool + 'a;

/// The heap merge's inputs: the items of each series by `key` (series-key order,
/// reversed with `descending`), each in time order (newest first with `descending`).
fn by_series<T>(items: Vec<T>, key: impl Fn(&T) -> Arc<str>, descending: bool) -> Vec<Vec<T>> {
    let mut per: BTreeMap<Arc<str>, Vec<T>> = BTreeMap::new();
    for item in items {
        per.entry(key(&item)).or_default().push(item);
    }
    let mut series: Vec<Vec<T>> = per.into_values().collect();
    if descending {
        series.reverse();
        series.iter_mut().for_each(|s| s.reverse());
    }
    series
}

/// Go's `container/heap` merge of per-series inputs ([`by_series`]) under `less`, which
/// sees each point with the index of its series.
fn heap_merge<T>(
    mut series: Vec<Vec<T>>,
    less: impl Fn((usize, &T), (usize, &T)) -> bool,
) -> Vec<T> {
    if series.len() <= 1 {
        return series.pop().unwrap_or_default();
    }
    // Each heap item: (series index, position of its current point).
    let total: usize = series.iter().map(Vec::len).sum();
    let mut heap: Vec<(usize, usize)> = (0..series.len()).map(|i| (i, 0)).collect();
    let lt = |a: &(usize, usize), b: &(usize, usize)| {
        less((a.0, &series[a.0][a.1]), (b.0, &series[b.0][b.1]))
    };
    fn down(h: &mut [(usize, usize)], i0: usize, n: usize, lt: &HeapLess<'_>) {
        let mut i = i0;
        loop {
            let j1 = 2 * i + 1;
            if j1 >= n {
                break;
            }
            let mut j = j1;
            let j2 = j1 + 1;
            if j2 < n && lt(&h[j2], &h[j1]) {
                j = j2;
            }
            if !lt(&h[j], &h[i]) {
                break;
            }
            h.swap(i, j);
            i = j;
        }
    }
    fn up(h: &mut [(usize, usize)], mut j: usize, lt: &HeapLess<'_>) {
        while j > 0 {
            let i = (j - 1) / 2;
            if !lt(&h[j], &h[i]) {
                break;
            }
            h.swap(i, j);
            j = i;
        }
    }
    let n = heap.len();
    for i in (0..n / 2).rev() {
        down(&mut heap, i, n, &lt);
    }
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(total);
    while !heap.is_empty() {
        let last = heap.len() - 1;
        heap.swap(0, last);
        down(&mut heap, 0, last, &lt);
        let Some((si, pos)) = heap.pop() else { break };
        order.push((si, pos));
        if pos + 1 < series[si].len() {
            heap.push((si, pos + 1));
            let j = heap.len() - 1;
            up(&mut heap, j, &lt);
        }
    }
    let mut slots: Vec<Vec<Option<T>>> = series
        .into_iter()
        .map(|v| v.into_iter().map(Some).collect())
        .collect();
    order
        .into_iter()
        .filter_map(|(si, pos)| slots[si][pos].take())
        .collect()
}

/// Without `GROUP BY time`, InfluxDB 1.6 stamps `integral()` at time 0 whatever the
/// range, and the other aggregates at the range's start: they share a row when the two
/// times agree (a range without a start), else come as two rows in time order (recorded in
/// `aggregates--integral-beside-others`). `integral[i]`: column `i` computes one.
pub(super) fn join_integral_apart(timelines: &[Timeline], integral: &[bool]) -> Vec<Vec<Value>> {
    let part = |want: bool| -> Vec<Timeline> {
        timelines
            .iter()
            .zip(integral)
            .map(|(tl, &is)| match (is == want, want) {
                (false, _) => Vec::new(),
                (true, true) => tl.iter().map(|(_, v)| (0, v.clone())).collect(),
                (true, false) => tl.clone(),
            })
            .collect()
    };
    let mut rows = join_timelines(&part(false), true);
    for r in join_timelines(&part(true), true) {
        match rows.first_mut() {
            Some(o) if o.first() == r.first() => {
                for (cell, v) in o.iter_mut().zip(r).skip(1) {
                    if !v.is_null() {
                        *cell = v;
                    }
                }
            }
            _ => rows.push(r),
        }
    }
    rows.sort_by_key(|r| match r.first() {
        Some(Value::Time(t)) => *t,
        _ => 0,
    });
    rows
}

/// Joins column timelines into rows by time (union of times, ascending).
pub(super) fn join_timelines(timelines: &[Timeline], single_bucket: bool) -> Vec<Vec<Value>> {
    if single_bucket {
        // Aggregates without GROUP BY time: one row at the shared time when any column
        // produced a value.
        let t = timelines.iter().find_map(|tl| tl.first().map(|(t, _)| *t));
        let Some(t) = t else { return Vec::new() };
        if timelines.iter().all(|tl| tl.is_empty()) {
            return Vec::new();
        }
        let mut row = vec![Value::Time(t)];
        for tl in timelines {
            row.push(tl.first().map(|(_, v)| v.clone()).unwrap_or(Value::Null));
        }
        return vec![row];
    }
    if timelines.iter().all(|tl| strictly_ascending(tl)) {
        return merge_ascending(timelines);
    }
    join_by_maps(timelines)
}

/// Whether a timeline's times strictly increase (each time once): true of the
/// timelines of aggregates and of most transformations.
fn strictly_ascending(tl: &[Row]) -> bool {
    tl.windows(2).all(|w| w[0].0 < w[1].0)
}

/// [`join_timelines`] of timelines whose times strictly increase: one pass over their
/// cursors. The general [`join_by_maps`] builds a set of the times and a map per
/// timeline; on a 720-bucket, five-column query answered from the recent-data tier that
/// was a tenth of the query's CPU (perf).
fn merge_ascending(timelines: &[Timeline]) -> Vec<Vec<Value>> {
    let mut at = vec![0usize; timelines.len()];
    let longest = timelines.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::with_capacity(longest);
    loop {
        let next = timelines
            .iter()
            .zip(&at)
            .filter_map(|(tl, &i)| tl.get(i).map(|(t, _)| *t))
            .min();
        let Some(t) = next else { break };
        let mut row = Vec::with_capacity(timelines.len() + 1);
        row.push(Value::Time(t));
        for (tl, i) in timelines.iter().zip(at.iter_mut()) {
            match tl.get(*i) {
                Some((ti, v)) if *ti == t => {
                    row.push(v.clone());
                    *i += 1;
                }
                _ => row.push(Value::Null),
            }
        }
        out.push(row);
    }
    out
}

/// [`join_timelines`] of any timelines: the union of their times ascending, a time
/// repeated within one timeline taking its last value there.
fn join_by_maps(timelines: &[Timeline]) -> Vec<Vec<Value>> {
    let mut times: BTreeSet<i64> = BTreeSet::new();
    for tl in timelines {
        times.extend(tl.iter().map(|(t, _)| *t));
    }
    let maps: Vec<BTreeMap<i64, Value>> = timelines
        .iter()
        .map(|tl| tl.iter().cloned().collect())
        .collect();
    let mut out = Vec::with_capacity(times.len());
    for t in times {
        let mut row = vec![Value::Time(t)];
        for m in &maps {
            row.push(m.get(&t).cloned().unwrap_or(Value::Null));
        }
        out.push(row);
    }
    out
}

/// `SOFFSET`/`SLIMIT` over the series of one source (measurement), in ascending order
/// whatever the output order: InfluxDB 1.6 limits each measurement's tag sets (`FROM m,
/// n SLIMIT 1` shows a series of each), and `ORDER BY time DESC` reverses the series
/// kept (`GROUP BY host ORDER BY time DESC SLIMIT 3 SOFFSET 1` over hosts a to h shows
/// d, c, b). `SOFFSET` without `SLIMIT` keeps nothing, as in InfluxDB 1.6 (it cuts the
/// tag sets to `SLIMIT` + `SOFFSET` before skipping `SOFFSET`). Which tag sets are kept
/// follows InfluxDB's order of them ([`tag_set_key`]); those kept keep their places.
pub(super) fn series_limits(stmt: &SelectStatement, series: Vec<Series>) -> Vec<Series> {
    let tags: Vec<&BTreeMap<String, String>> = series.iter().map(|s| &s.tags).collect();
    let Some(kept) = kept_tag_sets(stmt, &tags) else {
        return series;
    };
    series
        .into_iter()
        .enumerate()
        .filter(|(i, _)| kept.contains(i))
        .map(|(_, s)| s)
        .collect()
}

/// Whether the statement has an `SLIMIT` or `SOFFSET` (0 is none).
pub(super) fn cuts_tag_sets(stmt: &SelectStatement) -> bool {
    stmt.slimit.unwrap_or(0) != 0 || stmt.soffset.unwrap_or(0) != 0
}

/// The positions of the tag sets (`tags`) that `SLIMIT`/`SOFFSET` keep, in InfluxDB's
/// order of tag sets ([`tag_set_key`]); `None` without either.
pub(super) fn kept_tag_sets(
    stmt: &SelectStatement,
    tags: &[&BTreeMap<String, String>],
) -> Option<BTreeSet<usize>> {
    if !cuts_tag_sets(stmt) {
        return None;
    }
    let (limit, offset) = (stmt.slimit.unwrap_or(0), stmt.soffset.unwrap_or(0));
    let mut order: Vec<(Vec<u8>, usize)> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| (tag_set_key(t), i))
        .collect();
    order.sort();
    Some(
        order
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(_, i)| i)
            .collect(),
    )
}

/// The key InfluxDB 1.6 sorts a measurement's tag sets by before `SLIMIT`/`SOFFSET` cut
/// them: the names of the tags the series has (a `GROUP BY` tag it lacks, empty here, is
/// left out), then their values, all joined by `|` (`host|region|a|us`, `host|c`). So a
/// series without one of the tags sorts by its shorter key: `GROUP BY * SLIMIT 1` over
/// `host=a,region=us`, `host=b,region=eu` and `host=c` keeps `host=c`.
fn tag_set_key(tags: &BTreeMap<String, String>) -> Vec<u8> {
    let present: Vec<(&String, &String)> = tags.iter().filter(|(_, v)| !v.is_empty()).collect();
    let keys = present.iter().map(|(k, _)| k.as_str());
    let values = present.iter().map(|(_, v)| v.as_str());
    keys.chain(values)
        .collect::<Vec<_>>()
        .join("|")
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Timelines of up to four columns over times drawn from a small range (so that
    /// they overlap), each strictly ascending or, for the fallback, in any order.
    fn timelines(ascending: bool) -> impl proptest::strategy::Strategy<Value = Vec<Timeline>> {
        use proptest::prelude::*;
        let one = proptest::collection::vec((0i64..40, proptest::option::of(-5i64..5)), 0..30)
            .prop_map(move |mut rows| {
                if ascending {
                    rows.sort_by_key(|(t, _)| *t);
                    rows.dedup_by_key(|(t, _)| *t);
                }
                rows.into_iter()
                    .map(|(t, v)| (t, v.map_or(Value::Null, |x| Value::Float(x as f64))))
                    .collect::<Timeline>()
            });
        proptest::collection::vec(one, 0..5)
    }

    #[test]
    fn series_limits_keep_influxdbs_tag_sets_in_their_places() {
        let series = |tags: &[(&str, &str)]| Series {
            name: Some("cpu".into()),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Series::default()
        };
        let all = vec![
            series(&[("host", "a"), ("region", "us")]),
            series(&[("host", "b"), ("region", "eu")]),
            series(&[("host", "c"), ("region", "")]),
        ];
        let kept = |slimit: u64, soffset: u64| {
            let text = format!("SELECT v FROM cpu GROUP BY * SLIMIT {slimit} SOFFSET {soffset}");
            let Ok(hyperbyte_timeseriesql::ast::Statement::Select(stmt)) =
                hyperbyte_timeseriesql::parser::parse_statement(&text)
            else {
                panic!("{text}")
            };
            series_limits(&stmt, all.clone())
                .iter()
                .map(|s| s.tags["host"].clone())
                .collect::<Vec<_>>()
        };
        // Recorded on InfluxDB 1.6: host=c's key is "host|c", before "host|region|...".
        assert_eq!(kept(1, 0), ["c"]);
        assert_eq!(kept(2, 0), ["a", "c"]);
        assert_eq!(kept(2, 1), ["a", "b"]);
        assert_eq!(kept(3, 0), ["a", "b", "c"]);
        assert_eq!(tag_set_key(&BTreeMap::new()), b"");
    }

    proptest::proptest! {
        #[test]
        fn merging_ascending_timelines_is_joining_them_by_maps(tls in timelines(true)) {
            proptest::prop_assert_eq!(join_timelines(&tls, false), join_by_maps(&tls));
        }

        #[test]
        fn timelines_in_any_order_are_joined_by_maps(tls in timelines(false)) {
            proptest::prop_assert_eq!(join_timelines(&tls, false), join_by_maps(&tls));
        }
    }

    #[test]
    fn ascending_timelines_with_gaps_join_on_the_union_of_their_times() {
        let f = |x: f64| Value::Float(x);
        let tls: Vec<Timeline> = vec![
            vec![(10, f(1.0)), (30, f(3.0))],
            vec![(20, f(2.0)), (30, Value::Null)],
        ];
        assert_eq!(
            join_timelines(&tls, false),
            vec![
                vec![Value::Time(10), f(1.0), Value::Null],
                vec![Value::Time(20), Value::Null, f(2.0)],
                vec![Value::Time(30), f(3.0), Value::Null],
            ]
        );
        // A time repeated within a timeline: the last value there, as before.
        let dup: Vec<Timeline> = vec![vec![(10, f(1.0)), (10, f(2.0))]];
        assert_eq!(
            join_timelines(&dup, false),
            vec![vec![Value::Time(10), f(2.0)]]
        );
    }

    /// Three series of one measurement, a point each every 10 s (the corpus's
    /// `select-raw--two-measurements`).
    fn three_hosts(times: i64) -> Vec<Point> {
        let mut out = Vec::new();
        for host in ["serverA", "serverB", "serverC"] {
            let tags = Arc::new(BTreeMap::from([("host".to_string(), host.to_string())]));
            let key: Arc<str> = Arc::from(format!("cpu,host={host}"));
            for t in 0..times {
                out.push(Point {
                    time: t * 10,
                    key: key.clone(),
                    tags: tags.clone(),
                    fields: BTreeMap::from([(Arc::from("value"), Value::Float(t as f64))]),
                });
            }
        }
        out
    }

    /// Each shard group's points go through a heap of their own, the groups in time
    /// order (newest first when descending): a heap carried across the groups orders
    /// the ties of the second group otherwise.
    #[test]
    fn each_shard_group_has_a_heap_of_its_own() {
        let mut points: Vec<Point> = Vec::new();
        for (host, times) in [("a", &[0, 1, 2, 10, 11][..]), ("b", &[10]), ("c", &[2, 10])] {
            points.extend(times.iter().map(|&t| tied(host, t, None)));
        }
        let keys = |order: Vec<usize>| -> Vec<String> {
            order
                .into_iter()
                .map(|i| format!("{}{}", points[i].tags["host"], points[i].time))
                .collect()
        };
        let group = |lo: i64, hi: i64| -> Vec<Point> {
            points
                .iter()
                .filter(|p| p.time >= lo && p.time < hi)
                .cloned()
                .collect()
        };
        for descending in [false, true] {
            let by_group = keys(feed_order(&points, &[], descending, Some(10)));
            let (first, second) = (group(0, 10), group(10, 20));
            let alone = |pts: &[Point]| -> Vec<String> {
                feed_order(pts, &[], descending, None)
                    .into_iter()
                    .map(|i| format!("{}{}", pts[i].tags["host"], pts[i].time))
                    .collect()
            };
            let mut want = alone(&first);
            want.extend(alone(&second));
            if descending {
                want = alone(&second);
                want.extend(alone(&first));
            }
            assert_eq!(by_group, want, "descending {descending}");
            // (Data where the two differ.)
            assert_ne!(by_group, keys(feed_order(&points, &[], descending, None)));
            // One group: one heap, as without shard groups.
            let one = keys(feed_order(&points, &[], descending, Some(100)));
            assert_eq!(one, keys(feed_order(&points, &[], descending, None)));
        }
    }

    /// A point of series `host` at `time` with field `v` (a string when `text`).
    fn tied(host: &str, time: i64, text: Option<&str>) -> Point {
        let v = text.map_or(Value::Float(1.0), |t| Value::String(t.to_string()));
        Point {
            time,
            key: Arc::from(format!("m,host={host}").as_str()),
            tags: BTreeMap::from([("host".to_string(), host.to_string())]).into(),
            fields: BTreeMap::from([(Arc::from("v"), v)]),
        }
    }

    #[test]
    fn ties_are_decided_only_by_strings_that_differ() {
        let by_host = aux(&[("host", 7, true)]);
        let by_v = aux(&[("v", 1, false)]);
        let v_then_host = aux(&[("v", 3, false), ("host", 7, true)]);
        let points = [tied("a", 1, None), tied("b", 1, None), tied("a", 2, None)];
        assert!(ties_decided(&points, &by_host), "hosts differ at time 1");
        assert!(!ties_decided(&points, &by_v), "a float orders nothing");
        assert!(
            !ties_decided(&points, &v_then_host),
            "the float comes first"
        );
        let strings = [tied("a", 1, Some("x")), tied("b", 1, Some("y"))];
        assert!(ties_decided(&strings, &by_v));
        assert!(ties_decided(&strings, &v_then_host));
        let same = [tied("a", 1, Some("x")), tied("b", 1, Some("x"))];
        assert!(
            !ties_decided(&same, &by_v),
            "equal strings leave it to the heap"
        );
        assert!(ties_decided(&same, &v_then_host), "the host decides then");
        // Without a tie there is nothing to decide.
        assert!(ties_decided(
            &[tied("a", 1, None), tied("b", 2, None)],
            &by_v
        ));
        // A missing string anywhere in a group of three is found.
        let three = [
            tied("a", 5, Some("x")),
            tied("b", 5, None),
            tied("c", 5, Some("z")),
        ];
        assert!(!ties_decided(&three, &by_v));
    }

    fn aux(refs: &[(&str, u8, bool)]) -> Vec<AuxRef> {
        refs.iter()
            .map(|&(name, rank, tag)| AuxRef {
                name: name.into(),
                rank,
                tag,
            })
            .collect()
    }

    fn hosts(points: &[Point]) -> Vec<String> {
        points
            .iter()
            .map(|p| format!("{}{}", p.time, &p.tags["host"][6..]))
            .collect()
    }

    /// [`raw_merge`] as it was before tags were looked up once per series: every
    /// comparison reads both points' strings.
    fn raw_merge_by_lookups(points: Vec<Point>, aux: &[AuxRef], descending: bool) -> Vec<Point> {
        let less = |(_, x): (usize, &Point), (_, y): (usize, &Point)| {
            if x.time != y.time {
                return (x.time < y.time) != descending;
            }
            for r in aux {
                match (r.string_of(x), r.string_of(y)) {
                    (Some(a), Some(b)) if a == b => continue,
                    (Some(a), Some(b)) => return (a < b) != descending,
                    _ => return false,
                }
            }
            false
        };
        let mut out = heap_merge(by_series(points, |p| p.key.clone(), descending), less);
        if descending {
            out.reverse();
        }
        out
    }

    /// Points of the property tests: `(series, time, msg)` picks over `made`, each (series,
    /// time) once as a series holds one point per time, numbered by an `id` field; `msg`
    /// 0 leaves the field out, 1 makes it a float, more a string. `sorted`: in time order,
    /// as reads hand them over.
    fn picked_points(
        made: &[super::super::tests::TestSeries],
        picks: &[(usize, i64, u8)],
        sorted: bool,
    ) -> Vec<Point> {
        let mut seen = BTreeSet::new();
        let mut picks: Vec<&(usize, i64, u8)> = picks
            .iter()
            .filter(|(s, t, _)| seen.insert((s % made.len(), *t)))
            .collect();
        if sorted {
            picks.sort_by_key(|(_, t, _)| *t);
        }
        picks
            .into_iter()
            .enumerate()
            .map(|(id, (s, time, msg))| {
                let (key, tags) = &made[s % made.len()];
                let mut fields = BTreeMap::from([(Arc::from("id"), Value::Integer(id as i64))]);
                match msg {
                    0 => {}
                    1 => {
                        fields.insert(Arc::from("msg"), Value::Float(1.0));
                    }
                    m => {
                        fields.insert(Arc::from("msg"), Value::String(format!("s{m}")));
                    }
                }
                Point {
                    time: *time,
                    key: Arc::clone(key),
                    tags: Arc::clone(tags),
                    fields,
                }
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn tags_read_once_per_series_merge_as_lookups_do(
            // Per series: host (absent, empty or one of three) and region (absent or one
            // of two).
            series in proptest::collection::vec((0u8..5, 0u8..3), 1..6),
            // Points: (series, time, msg: a string, a float or nothing).
            picks in proptest::collection::vec((0usize..6, 0i64..4, 0u8..4), 0..40),
            order in proptest::collection::vec(0usize..3, 0..4),
            descending in proptest::prelude::any::<bool>(),
        ) {
            let made = super::super::tests::coded_series(&series);
            let points = picked_points(&made, &picks, false);
            let all = [("host", 7, true), ("msg", 3, false), ("region", 7, true)];
            let refs = aux(&order.iter().map(|&i| all[i]).collect::<Vec<_>>());
            let ids = |ps: &[Point]| -> Vec<Option<Value>> {
                ps.iter().map(|p| p.fields.get("id").cloned()).collect()
            };
            proptest::prop_assert_eq!(
                ids(&raw_merge(points.clone(), &refs, descending, None)),
                ids(&raw_merge_by_lookups(points, &refs, descending))
            );
        }
    }

    /// The first `k` rows of a raw answer (newest first when `descending`), by id.
    fn first_ids(points: Vec<Point>, refs: &[AuxRef], descending: bool, k: usize) -> Vec<Value> {
        let mut out = raw_merge(points, refs, descending, None);
        if descending {
            out.reverse();
        }
        out.iter()
            .take(k)
            .filter_map(|p| p.fields.get("id").cloned())
            .collect()
    }

    proptest::proptest! {
        /// The two cut reads of a raw `LIMIT` (`RawCut`): every series' first `k` rows
        /// give the merge's first `k` rows, ties ordered by the heap or not; the rows up
        /// to the `k`-th row's time (what the whole table's cut reads) give them when the
        /// strings decide every tie among them.
        #[test]
        fn cut_reads_give_the_first_rows_of_the_whole_merge(
            series in proptest::collection::vec((0u8..5, 0u8..3), 1..7),
            picks in proptest::collection::vec((0usize..7, 0i64..6, 0u8..4), 0..60),
            order in proptest::collection::vec(0usize..3, 0..4),
            descending in proptest::prelude::any::<bool>(),
            k in 1usize..9,
        ) {
            let made = super::super::tests::coded_series(&series);
            // Reads hand points over in time order.
            let points = picked_points(&made, &picks, true);
            let all = [("host", 7, true), ("msg", 3, false), ("region", 7, true)];
            let refs = aux(&order.iter().map(|&i| all[i]).collect::<Vec<_>>());
            let whole = first_ids(points.clone(), &refs, descending, k);

            // Each series' first k rows in the answer's direction.
            let mut per: BTreeMap<Arc<str>, Vec<Point>> = BTreeMap::new();
            for p in &points {
                per.entry(Arc::clone(&p.key)).or_default().push(p.clone());
            }
            let mut each: Vec<Point> = per
                .into_values()
                .flat_map(|mut ps| {
                    if descending {
                        let skip = ps.len().saturating_sub(k);
                        ps.drain(..skip);
                    } else {
                        ps.truncate(k);
                    }
                    ps
                })
                .collect();
            each.sort_by_key(|p| p.time);
            proptest::prop_assert_eq!(first_ids(each, &refs, descending, k), whole.clone());

            // Every row up to the k-th row's time.
            let mut times: Vec<i64> = points.iter().map(|p| p.time).collect();
            times.sort_unstable();
            if descending {
                times.reverse();
            }
            if let Some(&last) = times.get(k - 1) {
                let upto: Vec<Point> = points
                    .iter()
                    .filter(|p| if descending { p.time >= last } else { p.time <= last })
                    .cloned()
                    .collect();
                if ties_decided(&upto, &refs) {
                    proptest::prop_assert_eq!(first_ids(upto, &refs, descending, k), whole);
                }
            }
        }
    }

    #[test]
    fn a_numeric_reference_sorting_first_leaves_ties_in_heap_order() {
        // `SELECT * FROM cpu, mem`: `free` (a float only mem has) sorts before `host`.
        let refs = aux(&[("free", 1, false), ("host", 7, true), ("value", 1, false)]);
        let got = hosts(&raw_merge(three_hosts(3), &refs, false, None));
        assert_eq!(
            got,
            ["0A", "0C", "0B", "10C", "10B", "10A", "20B", "20A", "20C"]
        );
    }

    #[test]
    fn string_references_order_ties() {
        // `SELECT value, host FROM cpu`: `host` sorts first and orders the ties.
        let refs = aux(&[("host", 7, true), ("value", 1, false)]);
        let got = hosts(&raw_merge(three_hosts(3), &refs, false, None));
        assert_eq!(
            got,
            ["0A", "0B", "0C", "10A", "10B", "10C", "20A", "20B", "20C"]
        );
        // Descending: the comparison turns around (returned oldest first, the caller
        // reverses).
        let got = hosts(&raw_merge(three_hosts(3), &refs, true, None));
        assert_eq!(
            got,
            ["0A", "0B", "0C", "10A", "10B", "10C", "20A", "20B", "20C"]
        );
    }

    #[test]
    fn a_missing_string_stops_the_comparison() {
        // A string field only some points carry: where either lacks it the heap decides.
        let mut pts = three_hosts(2);
        for p in pts.iter_mut().filter(|p| !p.key.ends_with('B')) {
            p.fields.insert("msg".into(), Value::String("m".into()));
        }
        let refs = aux(&[("host", 7, true)]);
        let sorted = hosts(&raw_merge(pts.clone(), &refs, false, None));
        assert_eq!(sorted, ["0A", "0B", "0C", "10A", "10B", "10C"]);
        let refs = aux(&[("msg", 3, false), ("host", 7, true)]);
        // A and C compare (equal strings, then by host), B with either does not.
        let got = hosts(&raw_merge(pts, &refs, false, None));
        assert_eq!(got, ["0A", "0C", "0B", "10A", "10B", "10C"]);
    }

    #[test]
    fn integral_is_stamped_at_zero_beside_other_aggregates() {
        let timelines = vec![
            vec![(500, Value::Float(95.0))],
            vec![(500, Value::Integer(3))],
        ];
        // A range starting at 500: two rows, the integral's at time 0.
        assert_eq!(
            join_integral_apart(&timelines, &[true, false]),
            vec![
                vec![Value::Time(0), Value::Float(95.0), Value::Null],
                vec![Value::Time(500), Value::Null, Value::Integer(3)],
            ]
        );
        // A range without a start: both at 0, one row.
        let timelines = vec![vec![(0, Value::Integer(3))], vec![(0, Value::Float(95.0))]];
        assert_eq!(
            join_integral_apart(&timelines, &[false, true]),
            vec![vec![Value::Time(0), Value::Integer(3), Value::Float(95.0)]]
        );
    }
}
