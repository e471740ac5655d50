//! Aggregates computed in the tier exactly as the storage engine's pushdown SQL computes
//! them (types, empty windows, first/last ties), so an answer does not depend on which
//! of the two served it.

use super::table::Column;
use super::HotTier;
use crate::query::ReadFilter;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::window::Window;
use std::collections::BTreeMap;

/// One aggregate the tier computes like the storage engine's pushdown SQL does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Agg {
    Count,
    Sum,
    Mean,
    Min,
    Max,
    Spread,
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
    first: Option<(i64, Value)>,
    last: Option<(i64, Value)>,
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
            Agg::Min => {
                if self.min.as_ref().is_none_or(|m| less(&v, m)) {
                    self.min = Some(v);
                }
            }
            Agg::Max => {
                if self.max.as_ref().is_none_or(|m| less(m, &v)) {
                    self.max = Some(v);
                }
            }
            Agg::Spread => {
                if self.min.as_ref().is_none_or(|m| less(&v, m)) {
                    self.min = Some(v.clone());
                }
                if self.max.as_ref().is_none_or(|m| less(m, &v)) {
                    self.max = Some(v);
                }
            }
            // InfluxDB's selectors: equal times → the larger value.
            Agg::First => {
                if self
                    .first
                    .as_ref()
                    .is_none_or(|(t, old)| time < *t || (time == *t && less(old, &v)))
                {
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
            Agg::First => self.first.clone().map_or(Value::Null, |(_, v)| v),
            Agg::Last => self.last.clone().map_or(Value::Null, |(_, v)| v),
        }
    }
}

impl HotTier {
    /// Aggregates a covered table the way the pushdown SQL does: one row per (group, time
    /// window) holding a value of at least one spec's field: the group's tag values (in
    /// `group_tags` order, missing as empty), the window start (`0` without `interval`),
    /// then each spec's result in the engine's types. `None` when the table is not
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
                for i in range {
                    let time = s.times[i];
                    if !cols.iter().flatten().any(|c| c.present[i]) {
                        continue;
                    }
                    let window = interval.map_or(0, |w| w.start_of(time));
                    let cell = match current.take() {
                        Some((w, cell)) if w == window => cell,
                        _ => cells.entry((key.clone(), window)).or_insert_with(|| {
                            (vec![Acc::default(); specs.len()], vec![None; specs.len()])
                        }),
                    };
                    for (j, c) in cols.iter().enumerate() {
                        if let Some(v) = c.and_then(|c| c.get(i)) {
                            if cell.1[j].is_none() {
                                cell.1[j] = Some(v.clone());
                            }
                            cell.0[j].add(specs[j].0, time, v);
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
                        row.push(Value::Integer(window));
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
