//! When InfluxDB 1.6 answers nothing for a lone `percentile()`.
//!
//! Its reduce iterator reports the end of its input when a window's points select
//! nothing (`percentile(v, 40)` of one point: the nearest rank is 0). Its consumers take
//! that for the end only before they have seen a point: when the first window it reduces
//! selects nothing, the statement answers no series at all; a later such window prints
//! as a window without points (filled, or left out under `fill(none)`), as elsewhere,
//! except that a series none of whose windows selects anything prints nothing (the fill
//! iterator starts a series at its first point).
//! It reduces measurement by measurement, each series by series, each window by window
//! (all backwards under `ORDER BY time DESC`). Recorded: `GROUP BY region` answers
//! nothing when the first region's only window holds one point; with the empty window in
//! the second of three series, the first and third print.
//!
//! With another call beside it each call has its own iterator and nothing of this
//! happens (recorded), so only a lone `percentile` does it, bare columns beside it
//! included. Only a level below 50 or above 100 can select nothing from points. The
//! windows are judged where they are aggregated: from the points in Rust
//! ([`windows_selecting`]), or from the engine's or the tier's window rows, where a null
//! value selects nothing ([`decide_on_windows`]).

use super::*;

/// The level of the statement's only call when it is a `percentile` that can select
/// nothing from a window with points (a level below 50 or above 100).
pub(super) fn lone_percentile_level(cols: &[OutCol]) -> Option<f64> {
    let calls: Vec<&Expr> = cols.iter().flat_map(|c| top_level_aggs(&c.expr)).collect();
    let [Expr::Call { name, args }] = calls.as_slice() else {
        return None;
    };
    if name != "percentile" || cols.iter().any(|c| contains_transform(&c.expr)) {
        return None;
    }
    float_arg(args, 1).filter(|p| !(50.0..=100.0).contains(p))
}

/// For each window of one series that holds points, in output order (newest first when
/// `descending`), whether it selects a point of a lone `percentile(field, level)`
/// (`rows`: the field's values, parallel to the points). Without `GROUP BY time` the
/// series is one window.
pub(super) fn windows_selecting(
    ctx: &SeriesCtx<'_>,
    rows: &[Row],
    level: f64,
    descending: bool,
) -> Vec<bool> {
    let mut buckets = ctx.bucket_rows(rows);
    if descending {
        buckets.reverse();
    }
    buckets
        .into_iter()
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(_, rows)| aggregate::percentile_index(rows.len(), level).is_some())
        .collect()
}

/// What a lone `percentile` decides about a source's series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct LonePercentile {
    /// Whether the first window it reduces (the first series' first window holding
    /// points, in output order) selects nothing; `None` when no window holds points.
    pub(super) first_selects_nothing: Option<bool>,
    /// Per series (in tag order), whether no window selects anything: such a series
    /// prints nothing, its windows are never filled.
    pub(super) silent: Vec<bool>,
}

impl LonePercentile {
    /// From each series' [`windows_selecting`], in tag order.
    pub(super) fn of(series: &[Vec<bool>], descending: bool) -> LonePercentile {
        let mut in_output_order: Vec<&Vec<bool>> = series.iter().collect();
        if descending {
            in_output_order.reverse();
        }
        LonePercentile {
            first_selects_nothing: in_output_order
                .into_iter()
                .find_map(|w| w.first())
                .map(|selects| !selects),
            silent: series.iter().map(|w| !w.contains(&true)).collect(),
        }
    }
}

/// The tag sets `SLIMIT`/`SOFFSET` keep (`None`: all), and where a source tells whether
/// the first window its lone `percentile` reduces selects nothing.
pub(super) type LoneCut<'a> = (Option<&'a BTreeSet<Vec<String>>>, &'a mut Option<bool>);

/// [`LonePercentile`] over the windows the engine (or the tier) aggregated, per series:
/// a window's row exists when it holds points, a null value selects nothing. Cuts
/// `groups` to the `kept` tag sets first and drops the silent series; returns whether the
/// first window selects nothing.
pub(super) fn decide_on_windows(
    groups: &mut BTreeMap<Vec<String>, BTreeMap<i64, Vec<Value>>>,
    kept: Option<&BTreeSet<Vec<String>>>,
    descending: bool,
) -> Option<bool> {
    if let Some(kept) = kept {
        groups.retain(|key, _| kept.contains(key));
    }
    let windows: Vec<Vec<bool>> = groups
        .values()
        .map(|buckets| {
            let mut selecting: Vec<bool> = buckets
                .values()
                .map(|vals| vals.first().is_some_and(|v| !v.is_null()))
                .collect();
            if descending {
                selecting.reverse();
            }
            selecting
        })
        .collect();
    let lone = LonePercentile::of(&windows, descending);
    let mut silent = lone.silent.iter();
    groups.retain(|_, _| silent.next() != Some(&true));
    lone.first_selects_nothing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(q: &str) -> Vec<OutCol> {
        parse_select(q)
            .fields
            .iter()
            .map(|f| OutCol {
                name: String::new(),
                expr: f.expr.clone(),
                aliased: false,
            })
            .collect()
    }

    #[test]
    fn the_first_window_reduced_decides_and_silent_series_print_nothing() {
        let of = LonePercentile::of;
        let series = vec![vec![], vec![false, true], vec![true]];
        assert_eq!(
            of(&series, false),
            LonePercentile {
                first_selects_nothing: Some(true),
                silent: vec![true, false, false],
            }
        );
        assert_eq!(of(&series, true).first_selects_nothing, Some(false));
        assert_eq!(of(&[vec![], vec![]], false).first_selects_nothing, None);
    }

    #[test]
    fn aggregated_windows_decide_alike() {
        let window = |v: Option<f64>| vec![v.map_or(Value::Null, Value::Float)];
        let series = |ws: &[(i64, Option<f64>)]| -> BTreeMap<i64, Vec<Value>> {
            ws.iter().map(|(t, v)| (*t, window(*v))).collect()
        };
        let mut groups: BTreeMap<Vec<String>, BTreeMap<i64, Vec<Value>>> = BTreeMap::new();
        groups.insert(vec!["a".into()], series(&[(0, Some(1.0)), (10, None)]));
        groups.insert(vec!["b".into()], series(&[(10, None)]));
        groups.insert(vec!["c".into()], series(&[(0, None), (10, Some(2.0))]));
        let mut asc = groups.clone();
        assert_eq!(decide_on_windows(&mut asc, None, false), Some(false));
        assert_eq!(asc.len(), 2, "the silent series b is dropped");
        let mut desc = groups.clone();
        assert_eq!(decide_on_windows(&mut desc, None, true), Some(false));
        let kept: BTreeSet<Vec<String>> = [vec!["b".to_string()]].into();
        let mut cut = groups;
        assert_eq!(decide_on_windows(&mut cut, Some(&kept), false), Some(true));
        assert!(cut.is_empty());
    }

    #[test]
    fn only_a_lone_percentile_that_can_select_nothing_ends_an_answer() {
        let level = |q: &str| lone_percentile_level(&cols(q));
        assert_eq!(level("SELECT percentile(v, 40) FROM m"), Some(40.0));
        assert_eq!(level("SELECT percentile(v, 40), host FROM m"), Some(40.0));
        assert_eq!(level("SELECT percentile(v, 101) FROM m"), Some(101.0));
        assert_eq!(level("SELECT percentile(v, 50) FROM m"), None);
        assert_eq!(level("SELECT percentile(v, 100) FROM m"), None);
        assert_eq!(level("SELECT percentile(v, 40), max(v) FROM m"), None);
        assert_eq!(level("SELECT max(v) FROM m"), None);
    }
}
