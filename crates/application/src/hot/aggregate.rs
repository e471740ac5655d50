//! Aggregates computed in the tier exactly as the storage engine's pushdown SQL computes
//! them (types, empty windows, first/last ties), so an answer does not depend on which
//! of the two served it.

use super::table::{Column, Values};
use super::HotTier;
use crate::query::ReadFilter;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::window::Window;
use std::collections::BTreeMap;
use std::ops::Range;

/// One aggregate the tier computes like the storage engine's pushdown SQL does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Agg {
    Count,
    Sum,
    Mean,
    Min,
    Max,
    Spread,
    Median,
    First,
    Last,
}

impl Agg {
    /// The aggregate of an InfluxQL function name, when the tier computes it.
    pub(crate) fn of(name: &str) -> Option<Agg> {
        Some(match name {
            "count" => Agg::Count,
            "sum" => Agg::Sum,
            "mean" => Agg::Mean,
            "min" => Agg::Min,
            "max" => Agg::Max,
            "spread" => Agg::Spread,
            "median" => Agg::Median,
            "first" => Agg::First,
            "last" => Agg::Last,
            _ => return None,
        })
    }
}

/// A running aggregate over one column in one (group, window).
#[derive(Debug, Clone, Default)]
struct Acc {
    n: u64,
    sum_f: f64,
    sum_i: i128,
    min: Option<Value>,
    max: Option<Value>,
    /// The earliest time holding a value equal to `min` (InfluxDB's `min()` prints it).
    min_at: i64,
    /// The earliest time holding a value equal to `max`.
    max_at: i64,
    first: Option<(i64, Value)>,
    last: Option<(i64, Value)>,
    /// Every float value met (`median`).
    floats: Vec<f64>,
    /// Every integer value met (`median`).
    integers: Vec<i64>,
}

fn less(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::Integer(x), Value::Integer(y)) => x < y,
        (Value::Unsigned(x), Value::Unsigned(y)) => x < y,
        (Value::Boolean(x), Value::Boolean(y)) => x < y,
        (Value::String(x), Value::String(y)) => x < y,
        _ => false,
    }
}

impl Acc {
    /// Adds a value, keeping only what `agg` needs.
    fn add(&mut self, agg: Agg, time: i64, v: Value) {
        self.n += 1;
        match agg {
            Agg::Count => {}
            Agg::Sum | Agg::Mean => match &v {
                Value::Float(x) => self.sum_f += x,
                Value::Integer(x) => self.sum_i += i128::from(*x),
                Value::Unsigned(x) => self.sum_i += i128::from(*x),
                _ => {}
            },
            Agg::Min => self.add_min(time, v),
            Agg::Max => self.add_max(time, v),
            Agg::Spread => {
                self.add_min(time, v.clone());
                self.add_max(time, v);
            }
            Agg::Median => match v {
                Value::Float(x) => self.floats.push(x),
                Value::Integer(x) => self.integers.push(x),
                _ => {}
            },
            // InfluxDB's selectors: equal times → the larger value (`first` of booleans:
            // `false`).
            Agg::First => {
                if self.first.as_ref().is_none_or(|(t, old)| {
                    time < *t
                        || (time == *t && crate::functions::aggregate::first_wins_tie(&v, old))
                }) {
                    self.first = Some((time, v));
                }
            }
            Agg::Last => {
                if self
                    .last
                    .as_ref()
                    .is_none_or(|(t, old)| time > *t || (time == *t && less(old, &v)))
                {
                    self.last = Some((time, v));
                }
            }
        }
    }

    /// A smaller value replaces the minimum, and so does an equal one at an earlier time
    /// (InfluxDB's reducer: that point's value and time; `-0` and `0` are equal).
    fn add_min(&mut self, time: i64, v: Value) {
        let replaces = match &self.min {
            Some(m) => less(&v, m) || (v == *m && time < self.min_at),
            None => true,
        };
        if replaces {
            (self.min, self.min_at) = (Some(v), time);
        }
    }

    /// [`Acc::add_min`] for the maximum.
    fn add_max(&mut self, time: i64, v: Value) {
        let replaces = match &self.max {
            Some(m) => less(m, &v) || (v == *m && time < self.max_at),
            None => true,
        };
        if replaces {
            (self.max, self.max_at) = (Some(v), time);
        }
    }

    /// The time of the point a selector picked (`None`: not a selector, or no value):
    /// what InfluxDB prints for a lone selector without `GROUP BY time`.
    fn selected_time(&self, agg: Agg) -> Option<i64> {
        match agg {
            Agg::First => self.first.as_ref().map(|(t, _)| *t),
            Agg::Last => self.last.as_ref().map(|(t, _)| *t),
            Agg::Min => self.min.as_ref().map(|_| self.min_at),
            Agg::Max => self.max.as_ref().map(|_| self.max_at),
            _ => None,
        }
    }

    /// Adds rows `rows` of `col` (at `times[rows]`) exactly as [`Acc::add`] would one
    /// by one; `sample` takes the first value met when it holds none. A float column
    /// under an aggregate that needs no times is folded in a typed loop over the slice:
    /// a tier-answered aggregation of 230k values (TSBS cpu-max-all-8) spent two thirds
    /// of its CPU making a `Value` of each row and matching it (perf).
    fn add_rows(
        &mut self,
        agg: Agg,
        col: &Column,
        times: &[i64],
        rows: Range<usize>,
        sample: &mut Option<Value>,
    ) {
        let typed = matches!(
            agg,
            Agg::Count | Agg::Sum | Agg::Mean | Agg::Min | Agg::Max | Agg::Spread | Agg::Median
        );
        if let (true, Values::Float(xs)) = (typed, &col.values) {
            if let (Some(xs), Some(present), Some(times)) = (
                xs.get(rows.clone()),
                col.present.get(rows.clone()),
                times.get(rows.clone()),
            ) {
                self.add_floats(agg, (xs, times), present, sample);
                return;
            }
        }
        for i in rows {
            if let (Some(v), Some(&time)) = (col.get(i), times.get(i)) {
                if sample.is_none() {
                    *sample = Some(v.clone());
                }
                self.add(agg, time, v);
            }
        }
    }

    /// [`Acc::add_rows`] of float values at their times (`present[i]` says whether
    /// `xs[i]` is one) for the aggregates that need no order by time. Sums add in row
    /// order, and minimum and maximum keep the earliest of equal values (the first met
    /// among equal times) and never replace a value of another type (which [`less`] does
    /// not order), so the result is bit for bit the row-by-row one.
    fn add_floats(
        &mut self,
        agg: Agg,
        (xs, times): (&[f64], &[i64]),
        present: &[bool],
        sample: &mut Option<Value>,
    ) {
        let mut values = xs
            .iter()
            .zip(times)
            .zip(present)
            .filter(|(_, p)| **p)
            .map(|((x, t), _)| (*x, *t));
        let Some(first) = values.next() else { return };
        if sample.is_none() {
            *sample = Some(Value::Float(first.0));
        }
        let values = std::iter::once(first).chain(values);
        let keeps_min = matches!(agg, Agg::Min | Agg::Spread);
        let keeps_max = matches!(agg, Agg::Max | Agg::Spread);
        let float_or_none = |v: &Option<Value>| match v {
            None => Some(None),
            Some(Value::Float(x)) => Some(Some(*x)),
            Some(_) => None,
        };
        // `None`: that end holds a value of another type and stays as it is.
        let mut min = float_or_none(&self.min)
            .filter(|_| keeps_min)
            .map(|m| m.map(|m| (m, self.min_at)));
        let mut max = float_or_none(&self.max)
            .filter(|_| keeps_max)
            .map(|m| m.map(|m| (m, self.max_at)));
        let sums = matches!(agg, Agg::Sum | Agg::Mean);
        let keeps_all = agg == Agg::Median;
        for (x, t) in values {
            self.n += 1;
            if sums {
                self.sum_f += x;
            }
            if keeps_all {
                self.floats.push(x);
            }
            if let Some(m) = &mut min {
                if m.is_none_or(|(m, at)| x < m || (x == m && t < at)) {
                    *m = Some((x, t));
                }
            }
            if let Some(m) = &mut max {
                if m.is_none_or(|(m, at)| x > m || (x == m && t < at)) {
                    *m = Some((x, t));
                }
            }
        }
        if let Some(Some((m, at))) = min {
            (self.min, self.min_at) = (Some(Value::Float(m)), at);
        }
        if let Some(Some((m, at))) = max {
            (self.max, self.max_at) = (Some(Value::Float(m)), at);
        }
    }

    /// The result in the storage engine's result types (`count` unsigned, `mean` float,
    /// sums in the field's type, null without values).
    fn finish(&self, agg: Agg, sample: Option<&Value>) -> Value {
        if self.n == 0 {
            return match agg {
                Agg::Count => Value::Unsigned(0),
                _ => Value::Null,
            };
        }
        let int_sum = || match sample {
            Some(Value::Unsigned(_)) => Value::Unsigned(self.sum_i as u64),
            _ => Value::Integer(self.sum_i as i64),
        };
        match agg {
            Agg::Count => Value::Unsigned(self.n),
            Agg::Sum => match sample {
                Some(Value::Float(_)) => Value::Float(self.sum_f),
                _ => int_sum(),
            },
            Agg::Mean => match sample {
                Some(Value::Float(_)) => Value::Float(self.sum_f / self.n as f64),
                _ => Value::Float(self.sum_i as f64 / self.n as f64),
            },
            Agg::Min => self.min.clone().unwrap_or(Value::Null),
            Agg::Max => self.max.clone().unwrap_or(Value::Null),
            Agg::Spread => match (&self.min, &self.max) {
                (Some(Value::Float(a)), Some(Value::Float(b))) => Value::Float(b - a),
                (Some(Value::Integer(a)), Some(Value::Integer(b))) => Value::Integer(b - a),
                (Some(Value::Unsigned(a)), Some(Value::Unsigned(b))) => {
                    Value::Integer(b.wrapping_sub(*a) as i64)
                }
                _ => Value::Null,
            },
            Agg::Median => median(&self.floats, &self.integers),
            Agg::First => self.first.clone().map_or(Value::Null, |(_, v)| v),
            Agg::Last => self.last.clone().map_or(Value::Null, |(_, v)| v),
        }
    }
}

/// InfluxDB's median of one type's values, as the Rust evaluation computes it (a column
/// holds one type; `Null` when it holds values of both, which the tier's aggregates are
/// never asked for).
fn median(floats: &[f64], integers: &[i64]) -> Value {
    use crate::functions::aggregate::{median_of_floats, median_of_integers};
    let m = match (floats.is_empty(), integers.is_empty()) {
        (false, true) => median_of_floats(&mut floats.to_vec()),
        (true, false) => median_of_integers(&mut integers.to_vec()),
        _ => None,
    };
    m.map_or(Value::Null, Value::Float)
}

impl HotTier {
    /// Aggregates a covered table the way the pushdown SQL does: one row per (group, time
    /// window) holding a value of at least one spec's field: the group's tag values (in
    /// `group_tags` order, missing as empty), the window start (`0` without `interval`,
    /// where a lone selector gives its point's time instead), then each spec's result in
    /// the engine's types. `None` when the table is not
    /// covered, or past `limit` rows read. The filter's condition must be decided by tags
    /// alone ([`crate::query::decided_by_tags`]).
    pub(crate) fn aggregate(
        &self,
        (db, rp, measurement): (&str, &str, &str),
        filter: &mut ReadFilter<'_>,
        group_tags: &[String],
        interval: Option<&Window>,
        specs: &[(Agg, String)],
        limit: usize,
    ) -> Option<Vec<Vec<Value>>> {
        self.with_covered((db, rp, measurement), filter.min, |t| {
            let mut total = 0usize;
            // (group key, window) → one accumulator per spec, plus a sample value per spec.
            type Cell = (Vec<Acc>, Vec<Option<Value>>);
            let mut cells: BTreeMap<(Vec<String>, i64), Cell> = BTreeMap::new();
            for (s, range) in t.matching(filter) {
                total += range.len();
                if total > limit {
                    return None;
                }
                let key: Vec<String> = group_tags
                    .iter()
                    .map(|k| s.tags.get(k).cloned().unwrap_or_default())
                    .collect();
                let cols: Vec<Option<&Column>> =
                    specs.iter().map(|(_, f)| s.columns.get(f)).collect();
                if cols.iter().all(Option::is_none) {
                    continue;
                }
                let mut current: Option<(i64, &mut Cell)> = None;
                // Runs of rows in one window, each folded column by column.
                let window_of = |i: usize| interval.map_or(0, |w| w.start_of(s.times[i]));
                let mut start = range.start;
                while start < range.end {
                    let window = window_of(start);
                    let mut end = start + 1;
                    while end < range.end && window_of(end) == window {
                        end += 1;
                    }
                    let rows = start..end;
                    start = end;
                    let any_value = cols
                        .iter()
                        .flatten()
                        .any(|c| c.present[rows.clone()].contains(&true));
                    if !any_value {
                        continue;
                    }
                    let cell = match current.take() {
                        Some((w, cell)) if w == window => cell,
                        _ => cells.entry((key.clone(), window)).or_insert_with(|| {
                            (vec![Acc::default(); specs.len()], vec![None; specs.len()])
                        }),
                    };
                    for (j, c) in cols.iter().enumerate() {
                        if let Some(c) = c {
                            let (accs, samples) = (&mut cell.0, &mut cell.1);
                            accs[j].add_rows(
                                specs[j].0,
                                c,
                                &s.times,
                                rows.clone(),
                                &mut samples[j],
                            );
                        }
                    }
                    current = Some((window, cell));
                }
            }
            Some(
                cells
                    .into_iter()
                    .map(|((key, window), (accs, samples))| {
                        let mut row: Vec<Value> = key.into_iter().map(Value::String).collect();
                        // A lone selector without windows: its point's time, as in SQL.
                        let selected = match (interval, specs, accs.as_slice()) {
                            (None, [(agg, _)], [acc]) => acc.selected_time(*agg),
                            _ => None,
                        };
                        row.push(Value::Integer(selected.unwrap_or(window)));
                        for (j, (agg, _)) in specs.iter().enumerate() {
                            row.push(accs[j].finish(*agg, samples[j].as_ref()));
                        }
                        row
                    })
                    .collect(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AGGS: [Agg; 9] = [
        Agg::Count,
        Agg::Sum,
        Agg::Mean,
        Agg::Min,
        Agg::Max,
        Agg::Spread,
        Agg::Median,
        Agg::First,
        Agg::Last,
    ];

    /// An accumulator that has already seen `before` (integers among them model a
    /// series whose field had another type), then rows `rows` of a float column, folded
    /// by `add_rows` and row by row: the same state and the same sample.
    fn both_ways(before: &[Value], xs: Vec<f64>, present: Vec<bool>, rows: Range<usize>) {
        let times: Vec<i64> = (0..xs.len() as i64).map(|t| t * 10).collect();
        let col = Column {
            values: Values::Float(xs),
            present,
        };
        for agg in AGGS {
            let mut by_rows = Acc::default();
            for (i, v) in before.iter().enumerate() {
                by_rows.add(agg, -(i as i64) - 1, v.clone());
            }
            let mut folded = by_rows.clone();
            let (mut sample_rows, mut sample_folded) =
                (before.first().cloned(), before.first().cloned());
            for i in rows.clone() {
                if let Some(v) = col.get(i) {
                    if sample_rows.is_none() {
                        sample_rows = Some(v.clone());
                    }
                    by_rows.add(agg, times[i], v);
                }
            }
            folded.add_rows(agg, &col, &times, rows.clone(), &mut sample_folded);
            assert_eq!(format!("{folded:?}"), format!("{by_rows:?}"), "{agg:?}");
            assert_eq!(sample_folded, sample_rows, "{agg:?}");
        }
    }

    #[test]
    fn equal_values_keep_the_earliest() {
        // 0.0 and -0.0 compare equal and print apart.
        both_ways(&[], vec![0.0, -0.0, 1.0, -0.0], vec![true; 4], 0..4);
        both_ways(
            &[Value::Float(-0.0)],
            vec![0.0, 2.0, 0.0],
            vec![true; 3],
            0..3,
        );
        both_ways(
            &[Value::Integer(1)],
            vec![0.5, -0.5],
            vec![false, true],
            0..2,
        );
    }

    proptest! {
        #[test]
        fn folding_a_float_run_is_adding_its_rows_one_by_one(
            rows in proptest::collection::vec((-4i32..3, any::<bool>()), 0..40),
            before in proptest::collection::vec(prop_oneof![
                (-3i32..3).prop_map(|x| Value::Float(f64::from(x) / 2.0)),
                (-3i64..3).prop_map(Value::Integer),
            ], 0..3),
            cut in 0usize..40,
        ) {
            // Halves, and zeros of both signs (-4 stands for -0.0): ties, and -0.0 against 0.0,
            // which compare equal but print apart, are common.
            let xs: Vec<f64> = rows
                .iter()
                .map(|(x, _)| if *x == -4 { -0.0 } else { f64::from(*x) / 2.0 })
                .collect();
            let present: Vec<bool> = rows.iter().map(|(_, p)| *p).collect();
            let start = cut.min(xs.len());
            both_ways(&before, xs.clone(), present.clone(), start..xs.len());
            both_ways(&before, xs.clone(), present, 0..start);
        }
    }
}
