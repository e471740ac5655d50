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
//! included. Only a level below 50 or above 100 can select nothing from points; such
//! statements are evaluated here, in Rust, where the windows' points are at hand.

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

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_timeseriesql::ast::Statement;

    fn cols(q: &str) -> Vec<OutCol> {
        let Ok(Some(Statement::Select(s))) =
            hyperbyte_timeseriesql::parse(q).map(|q| q.statements.into_iter().next())
        else {
            panic!("{q}");
        };
        s.fields
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
