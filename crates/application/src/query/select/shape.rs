//! Result shaping: joining column timelines into rows, the order InfluxDB's merge
//! iterator emits points of several series in, and per-series ORDER/LIMIT/OFFSET.

use super::*;

/// One output series from its rows in time order: `ORDER BY time DESC`, then
/// `OFFSET`/`LIMIT` (a series left without rows is dropped).
pub(super) fn finish_series(
    stmt: &SelectStatement,
    measurement: &str,
    tags: BTreeMap<String, String>,
    cols: &[OutCol],
    mut rows: Vec<Vec<Value>>,
) -> Option<Series> {
    if stmt.is_descending() {
        rows.reverse();
    }
    let off = stmt.offset.unwrap_or(0) as usize;
    let rows: Vec<Vec<Value>> = match stmt.limit {
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
pub(super) fn go_heap_merge(points: Vec<Point>) -> Vec<Point> {
    let mut per: BTreeMap<Arc<str>, Vec<Point>> = BTreeMap::new();
    for p in points {
        per.entry(p.key.clone()).or_default().push(p);
    }
    if per.len() <= 1 {
        return per.into_values().next().unwrap_or_default();
    }
    // Each heap item: (series index, position of its current point).
    let series: Vec<Vec<Point>> = per.into_values().collect();
    let total: usize = series.iter().map(Vec::len).sum();
    let mut heap: Vec<(usize, usize)> = (0..series.len()).map(|i| (i, 0)).collect();
    let time = |item: &(usize, usize)| series[item.0][item.1].time;
    fn down(h: &mut [(usize, usize)], i0: usize, n: usize, t: &dyn Fn(&(usize, usize)) -> i64) {
        let mut i = i0;
        loop {
            let j1 = 2 * i + 1;
            if j1 >= n {
                break;
            }
            let mut j = j1;
            let j2 = j1 + 1;
            if j2 < n && t(&h[j2]) < t(&h[j1]) {
                j = j2;
            }
            if t(&h[j]) >= t(&h[i]) {
                break;
            }
            h.swap(i, j);
            i = j;
        }
    }
    fn up(h: &mut [(usize, usize)], mut j: usize, t: &dyn Fn(&(usize, usize)) -> i64) {
        while j > 0 {
            let i = (j - 1) / 2;
            if t(&h[j]) >= t(&h[i]) {
                break;
            }
            h.swap(i, j);
            j = i;
        }
    }
    let n = heap.len();
    for i in (0..n / 2).rev() {
        down(&mut heap, i, n, &time);
    }
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(total);
    while !heap.is_empty() {
        let last = heap.len() - 1;
        heap.swap(0, last);
        down(&mut heap, 0, last, &time);
        let Some((si, pos)) = heap.pop() else { break };
        order.push((si, pos));
        if pos + 1 < series[si].len() {
            heap.push((si, pos + 1));
            let j = heap.len() - 1;
            up(&mut heap, j, &time);
        }
    }
    let mut slots: Vec<Vec<Option<Point>>> = series
        .into_iter()
        .map(|v| v.into_iter().map(Some).collect())
        .collect();
    order
        .into_iter()
        .filter_map(|(si, pos)| slots[si][pos].take())
        .collect()
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

/// The series of a query in output order (`ORDER BY time DESC` reverses them too), then
/// `SOFFSET`/`SLIMIT`.
pub(super) fn series_limits(stmt: &SelectStatement, mut output: Vec<Series>) -> Vec<Series> {
    if stmt.is_descending() {
        output.reverse();
    }
    let soff = stmt.soffset.unwrap_or(0) as usize;
    match stmt.slimit {
        Some(l) if l > 0 => output.into_iter().skip(soff).take(l as usize).collect(),
        _ => output.into_iter().skip(soff).collect(),
    }
}
