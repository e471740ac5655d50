//! Running a planned SELECT, source by source along the path [`SelectPlan::path_of`]
//! chose: aggregates computed where the data is, or points (from a subquery, the
//! recent-data tier or storage) grouped into series and evaluated in Rust. Every source
//! is charged against the query's limits as it is read.

use super::plan::{Fallback, SelectPlan, SourcePath};
use super::*;

/// Above this many of the tier's rows in range, a `top()`/`bottom()` reads storage's
/// candidates instead (a storage read costs a few milliseconds, the tier's points about
/// 1.5 µs each to evaluate).
const BEST_FROM_TIER_LIMIT: usize = 20_000;

/// The series a query has covered so far, for the series limit: those whose points were
/// read, and those the series index counts for sources aggregated without handing
/// points over.
#[derive(Debug, Default)]
struct SeriesSeen {
    read: BTreeSet<Arc<str>>,
    elsewhere: usize,
}

impl SeriesSeen {
    fn total(&self) -> usize {
        self.read.len().saturating_add(self.elsewhere)
    }

    fn add_points(&mut self, points: &[Point], budget: &Budget) -> Result<(), StatementError> {
        if budget.limits().max_select_series > 0 {
            for p in points {
                if !self.read.contains(&p.key) {
                    self.read.insert(p.key.clone());
                }
            }
            budget.check_series(self.total())?;
        }
        Ok(())
    }

    fn add_indexed(&mut self, count: usize, budget: &Budget) -> Result<(), StatementError> {
        self.elsewhere = self.elsewhere.saturating_add(count);
        budget.check_series(self.total())?;
        Ok(())
    }
}

/// A raw SELECT cut by `LIMIT`: each series of its answer (one per source, or one per
/// `GROUP BY` tag group) shows at most `top.rows` rows by time (`LIMIT` + `OFFSET`), so a
/// read of the first rows may stand in for the whole range.
pub(super) struct RawCut<'p> {
    pub(super) top: TopRows,
    /// Grouped by tags: the cut applies to each group, so every series' own first rows
    /// are read (`top.per_series`), never the first rows of the whole table.
    pub(super) grouped: bool,
    /// The merge's auxiliary references (how rows of one time are ordered).
    pub(super) aux: Vec<AuxRef>,
    /// The names the columns show: a row holding none of them is not in the answer.
    pub(super) shown_by: Vec<&'p str>,
}

impl<'p> RawCut<'p> {
    pub(super) fn of(plan: &'p SelectPlan, stmt: &SelectStatement) -> Option<Self> {
        let raw = !plan.shape.is_agg && !plan.shape.has_transform;
        if !raw {
            return None;
        }
        let limit = stmt.limit.filter(|&n| n > 0)?;
        let rows = limit.checked_add(stmt.offset.unwrap_or(0))?;
        let grouped = !plan.group_tags.is_empty();
        Some(RawCut {
            top: TopRows {
                descending: stmt.is_descending(),
                rows,
                per_series: grouped,
            },
            grouped,
            aux: aux_refs(plan),
            shown_by: referenced_names(&plan.cols),
        })
    }

    /// What the tier's end reads of each series: one row more than the cut, so that a
    /// series whose rows go on past the cut's last row shows it (see [`Self::stands_in`]).
    pub(super) fn one_past(&self) -> TopRows {
        TopRows {
            rows: self.top.rows.saturating_add(1),
            ..self.top
        }
    }

    /// Whether rows from the tier's end (at most [`Self::one_past`] of each series,
    /// every one shown) hold the answer's rows in the order the whole range gives them.
    /// Series with older rows only in storage are missing from the merge, so its heap's
    /// structure differs: rows of one time must be ordered without it ([`ties_decided`]),
    /// and every series that may have more rows must have given one strictly past the
    /// cut's last row (its rows left out are further still and never tie with one of
    /// the answer's).
    pub(super) fn stands_in(&self, points: &[Point]) -> bool {
        if !ties_decided(points, &self.aux) {
            return false;
        }
        let k = usize::try_from(self.top.rows).unwrap_or(usize::MAX);
        if points.len() <= k {
            return true;
        }
        let mut times: Vec<i64> = points.iter().map(|p| p.time).collect();
        times.sort_unstable();
        let descending = self.top.descending;
        let last = if descending {
            times[times.len() - k]
        } else {
            times[k - 1]
        };
        // Per series: rows given and its row furthest in the answer's direction.
        let mut per: BTreeMap<&str, (u64, i64)> = BTreeMap::new();
        for p in points {
            let e = per.entry(&*p.key).or_insert((0, p.time));
            e.0 += 1;
            e.1 = if descending {
                e.1.min(p.time)
            } else {
                e.1.max(p.time)
            };
        }
        let full = self.one_past().rows;
        per.values().all(|&(n, furthest)| {
            n < full
                || if descending {
                    furthest < last
                } else {
                    furthest > last
                }
        })
    }
}

impl QueryService {
    /// Runs a SELECT and returns its series (also used for subqueries).
    pub(crate) async fn select_series(
        &self,
        stmt: &SelectStatement,
        req: &QueryRequest,
        budget: &Budget,
    ) -> Result<Vec<Series>, StatementError> {
        Ok(self.select_series_and_tags(stmt, req, budget).await?.0)
    }

    /// [`Self::select_series`], with the names of the output columns that are tags (a
    /// subquery's tags stay tags in the outer query, as in InfluxDB).
    pub(super) async fn select_series_and_tags(
        &self,
        stmt: &SelectStatement,
        req: &QueryRequest,
        budget: &Budget,
    ) -> Result<(Vec<Series>, BTreeSet<String>), StatementError> {
        // Its storage reads make acknowledged writes visible once (`query/visible.rs`).
        crate::query::visible::in_statement(self.select_series_and_tags_in_scope(stmt, req, budget))
            .await
    }

    async fn select_series_and_tags_in_scope(
        &self,
        stmt: &SelectStatement,
        req: &QueryRequest,
        budget: &Budget,
    ) -> Result<(Vec<Series>, BTreeSet<String>), StatementError> {
        // Columns are checked and evaluated as InfluxDB compiles them: `max((v))` is
        // `max(v)`, `(*)` is `*`.
        let mut reduced = stmt.clone();
        for f in &mut reduced.fields {
            f.expr.reduce_parens();
        }
        let stmt = &reduced;
        let Some(plan) = self.plan_select(stmt, req, budget).await? else {
            return Ok((Vec::new(), BTreeSet::new()));
        };
        let mut output: Vec<Series> = Vec::new();
        let mut seen = SeriesSeen::default();
        // Per source, whether the first window a lone `percentile` reduces selects
        // nothing (`None`: no point, or no such percentile).
        let mut firsts: Vec<Option<bool>> = Vec::new();
        let cut = RawCut::of(&plan, stmt);
        for src in &plan.sources {
            let mut state = SourceState {
                kept: {
                    let cond = plan.cond_in(src);
                    let cut = (stmt, plan.group_tags.as_slice());
                    self.slimit_tag_sets(src, cond.as_deref(), plan.shape.range, cut)
                        .await?
                },
                first_selects_nothing: None,
            };
            let series = self
                .run_source(
                    &plan,
                    stmt,
                    src,
                    cut.as_ref(),
                    (&mut seen, &mut state),
                    budget,
                )
                .await?;
            firsts.push(state.first_selects_nothing);
            match &state.kept {
                Some(kept) => output.extend(
                    series
                        .into_iter()
                        .filter(|s| kept.contains(&group_key(&plan.group_tags, &s.tags))),
                ),
                None => output.extend(series_limits(stmt, series)),
            }
        }
        // InfluxDB reads the measurements in turn (backwards under `ORDER BY time DESC`).
        let mut decided = firsts.into_iter().flatten();
        let first = if stmt.is_descending() {
            decided.last()
        } else {
            decided.next()
        };
        if first == Some(true) {
            output.clear();
        }
        if stmt.is_descending() {
            output.reverse();
        }
        let tags = plan
            .cols
            .iter()
            .filter(|c| plan.is_tag_ref(&c.expr))
            .map(|c| c.name.clone())
            .collect();
        Ok((output, tags))
    }

    /// The series of one source; `cut`: the statement's raw `LIMIT` cut, for reads of
    /// stored or recent points (a subquery's rows are in memory already).
    async fn run_source(
        &self,
        plan: &SelectPlan,
        stmt: &SelectStatement,
        src: &Src,
        cut: Option<&RawCut<'_>>,
        (seen, state): (&mut SeriesSeen, &mut SourceState),
        budget: &Budget,
    ) -> Result<Vec<Series>, StatementError> {
        let read = plan.shape.read_range();
        let range = (read.min, read.max);
        let path = plan.path_of(src);
        // A limited `top(f, n)` sees the first points, not the best ones.
        let best = match plan.limited_top_feed(stmt) {
            Some(_) => None,
            None => plan.best_rows(src),
        };
        let cut = cut.filter(|_| !matches!(path, SourcePath::Subquery));
        let (hot, fallback) = match path {
            SourcePath::Subquery => (None, Fallback::StoragePoints),
            SourcePath::Pushdown => (None, Fallback::Pushdown),
            SourcePath::Tier {
                latest_only,
                fallback,
            } => {
                let cond = plan.cond_in(src);
                let (cond, cap) = (cond.as_deref(), budget.read_cap());
                let hot = match cut {
                    Some(cut) => self.read_hot_top(src, &plan.needed, cond, range, cut, cap),
                    None if best.is_some() && self.tier_rows_exceed(plan, src, range) => None,
                    None => self.read_hot(src, &plan.needed, cond, range, latest_only, (cap, None)),
                };
                (hot, fallback)
            }
        };
        let mut series_counted = false;
        if fallback != Fallback::Pushdown || hot.is_some() {
            // (A pushdown source counts where its aggregate is computed.)
            self.count_tier(hot.is_some());
        }
        let points = match hot {
            Some(points) => {
                budget.charge_points(points.len())?;
                points
            }
            None if fallback == Fallback::Pushdown => {
                series_counted = self.count_indexed_series(plan, src, seen, budget)?;
                match self.run_pushdown(plan, stmt, src, (budget, state)).await? {
                    Some(series) => return Ok(series),
                    // The points decide (a `mode` among equally frequent values).
                    None => self.read_plan_points(plan, src, budget).await?,
                }
            }
            None => match cut {
                Some(cut) => {
                    let cond = plan.cond_in(src);
                    self.read_points_top(src, &plan.needed, cond.as_deref(), range, cut, budget)
                        .await?
                }
                None => match &best {
                    Some(best) => {
                        // The candidates come from few series: like a pushdown, the read
                        // counts the series the index says it covers when only time
                        // restricts it (the candidates' own series otherwise).
                        series_counted = self.count_indexed_series(plan, src, seen, budget)?;
                        let cond = plan.cond_in(src);
                        self.read_best_points(
                            src,
                            &plan.needed,
                            cond.as_deref(),
                            range,
                            best,
                            budget,
                        )
                        .await?
                    }
                    None => self.read_plan_points(plan, src, budget).await?,
                },
            },
        };
        if points.is_empty() {
            return Ok(Vec::new());
        }
        if !series_counted {
            seen.add_points(&points, budget)?;
        }
        self.evaluate_points(plan, stmt, src, points, (budget, state))
    }

    /// Whether the recent-data tier holds more than [`BEST_FROM_TIER_LIMIT`] rows of the
    /// read in range, so that storage's candidates of a `top()`/`bottom()` answer
    /// ([`SelectPlan::best_rows`]) cost less than every point the tier would hand over.
    /// (Over 720k points the tier's points took 1.1-1.4 s to evaluate, storage's
    /// candidates 46 ms; storage holds every point the tier does.)
    fn tier_rows_exceed(
        &self,
        plan: &SelectPlan,
        src: &Src,
        (min, max): (Option<i64>, Option<i64>),
    ) -> bool {
        let Some(hot) = self.hot.as_ref() else {
            return false;
        };
        let schema = &src.schema;
        let is_field = |n: &str| schema.field_type(n).is_some();
        let fields: Vec<String> = plan
            .needed
            .iter()
            .filter(|n| is_field(n))
            .cloned()
            .collect();
        let cond = plan.cond_in(src);
        let mut filter = crate::query::ReadFilter::new(cond.as_deref(), &fields, min, max)
            .with_fields(&is_field);
        hot.rows_matching((&src.db, &src.rp, &src.measurement), &mut filter)
            .is_some_and(|rows| rows > BEST_FROM_TIER_LIMIT)
    }

    /// For a read that hands over few of the points it covers (an aggregate, a
    /// selector's candidates): the series the index says the source has, counted
    /// against the series limit when only time restricts the read. Whether it counted.
    fn count_indexed_series(
        &self,
        plan: &SelectPlan,
        src: &Src,
        seen: &mut SeriesSeen,
        budget: &Budget,
    ) -> Result<bool, StatementError> {
        if budget.limits().max_select_series == 0 || plan.cond.is_some() {
            return Ok(false);
        }
        seen.add_indexed(self.meta.series_count_in(&src.db, &src.measurement), budget)?;
        Ok(true)
    }

    /// Every point of `src` in the statement's time range that the plan's columns and
    /// condition need, from storage.
    async fn read_plan_points(
        &self,
        plan: &SelectPlan,
        src: &Src,
        budget: &Budget,
    ) -> Result<Vec<Point>, StatementError> {
        if src.is_subquery() {
            let raw = !plan.shape.is_agg && !plan.shape.has_transform;
            let every_row = raw && reads_subquery_columns(plan, src);
            let cond = plan.cond_in(src);
            return subquery_points(src, &plan.needed, cond.as_deref(), every_row, budget);
        }
        let range = plan.shape.read_range();
        let cond = plan.cond_in(src);
        self.read_points(
            src,
            &plan.needed,
            cond.as_deref(),
            range.min,
            range.max,
            budget,
        )
        .await
    }

    /// A source aggregated without handing points over (`None`: its points decide, see
    /// [`QueryService::pushdown_aggregate`]).
    async fn run_pushdown(
        &self,
        plan: &SelectPlan,
        stmt: &SelectStatement,
        src: &Src,
        (budget, state): (&Budget, &mut SourceState),
    ) -> Result<Option<Vec<Series>>, StatementError> {
        let lone = (state.kept.as_ref(), &mut state.first_selects_nothing);
        let Some(groups) = self
            .pushdown_aggregate(plan, src, stmt, (budget, lone))
            .await?
        else {
            return Ok(None);
        };
        let mut output = Vec::new();
        for (key, mut rows) in groups {
            let tags: BTreeMap<String, String> = plan.group_tags.iter().cloned().zip(key).collect();
            // Under `fill(none)` the columns may hold points in different windows, and
            // `LIMIT` counts each column's own (under other fills every window holds one).
            let cut = plan.shape.interval.is_some()
                && stmt.fill == Fill::None
                && cut_rows_per_column(&mut rows, stmt);
            let rows = super::pushdown::no_value_as_null(rows);
            output.extend(finish_series(
                stmt,
                &src.measurement,
                tags,
                &plan.cols,
                (rows, cut),
            ));
        }
        Ok(Some(output))
    }

    /// Groups a source's points into series (by `GROUP BY` tags) and evaluates every
    /// column in Rust.
    fn evaluate_points(
        &self,
        plan: &SelectPlan,
        stmt: &SelectStatement,
        src: &Src,
        points: Vec<Point>,
        (budget, state): (&Budget, &mut SourceState),
    ) -> Result<Vec<Series>, StatementError> {
        let shape = &plan.shape;
        let mut groups: BTreeMap<Vec<String>, Vec<Point>> = BTreeMap::new();
        for p in points {
            let key: Vec<String> = plan
                .group_tags
                .iter()
                .map(|t| p.tags.get(t).cloned().unwrap_or_default())
                .collect();
            groups.entry(key).or_default().push(p);
        }
        let raw = !shape.is_agg && !shape.has_transform;
        let aux = if raw { aux_refs(plan) } else { Vec::new() };
        // A percentile's bare columns are its iterator's auxiliary values: at equal times
        // InfluxDB's merge orders its points by them (which point a tie selects).
        // (`min`/`max`/`first`/`last` reduce each series first; their ties keep the
        // time merge's order.)
        let selector_aux = if plan.single_selector && !raw && has_call(&plan.cols, "percentile") {
            selector_aux_refs(plan)
        } else {
            Vec::new()
        };
        // The fields this source has (typed as in the whole statement): a function of
        // another source's field is a column InfluxDB has no iterator for here.
        let fields_here: BTreeMap<String, FieldType> = plan
            .all_fields
            .iter()
            .filter(|(f, _)| src.schema.fields.contains_key(*f))
            .map(|(f, t)| (f.clone(), *t))
            .collect();
        let names = referenced_names(&plan.cols);
        let shards = plan.shard_duration;
        let limited_top_feed = plan.limited_top_feed(stmt);
        if let (Some(_), Some(kept)) = (plan.lone_percentile, &state.kept) {
            // InfluxDB cuts the tag sets before a lone `percentile` runs over them.
            groups.retain(|key, _| kept.contains(key));
        }
        let lone = self.lone_percentile(plan, stmt, &groups, budget)?;
        state.first_selects_nothing = lone.as_ref().and_then(|l| l.first_selects_nothing);
        let mut output = Vec::new();
        for (index, (key, pts)) in groups.into_iter().enumerate() {
            if lone
                .as_ref()
                .is_some_and(|l| l.silent.get(index) == Some(&true))
            {
                continue;
            }
            let pts = if src.is_subquery() {
                // A subquery's rows come in the order it produced them (InfluxDB reads
                // its rows as they come, without a merge of its own; a raw outer query
                // reads every one).
                pts
            } else if raw {
                // InfluxDB's series iterators only emit the times where a selected field
                // has a value; only those take part in the merge.
                let pts = pts.into_iter().filter(|p| holds_any(p, &names)).collect();
                raw_merge(pts, &aux, stmt.is_descending(), shards)
            } else if !selector_aux.is_empty() {
                raw_merge(pts, &selector_aux, false, shards)
            } else {
                go_heap_merge(pts, shards)
            };
            let tags: BTreeMap<String, String> = plan.group_tags.iter().cloned().zip(key).collect();
            let (rows, cut) = if shape.is_agg {
                let pts = match &limited_top_feed {
                    // (A subquery's rows reach `top()` whole, as InfluxDB reads them.)
                    Some((field, n)) if !src.is_subquery() => {
                        first_holding(pts, field, *n, stmt.is_descending())
                    }
                    _ => pts,
                };
                // Under ORDER BY time DESC InfluxDB's reducers receive points newest
                // first, and `mode`/`percentile` break ties in that order.
                let fed = (stmt.is_descending() && breaks_ties_by_feed_order(&plan.cols))
                    .then(|| descending_feed_rank(&pts, &selector_aux, shards));
                let merged = (!src.is_subquery() && selector_aux.is_empty()).then_some(shards);
                self.eval_aggregate(
                    &plan.cols,
                    (
                        &pts,
                        (&fields_here, &plan.all_fields),
                        (fed.as_deref(), merged),
                    ),
                    stmt,
                    shape,
                    plan.single_selector,
                    budget,
                )?
            } else if shape.has_transform {
                (
                    eval_transform_raw(
                        &plan.cols,
                        (&pts, !src.is_subquery()),
                        stmt,
                        shards,
                        budget,
                    )?,
                    false,
                )
            } else {
                (eval_raw(&plan.cols, &pts), false)
            };
            output.extend(finish_series(
                stmt,
                &src.measurement,
                tags,
                &plan.cols,
                (rows, cut),
            ));
        }
        Ok(output)
    }

    /// The tag sets (values of `group_tags`, the `GROUP BY` tags) `SLIMIT`/`SOFFSET` keep
    /// of a stored source, as InfluxDB cuts them before it reads: from the series that have rows in
    /// the source's retention policy within the shard groups the time range touches and
    /// whose tags may satisfy the condition (its field terms narrow nothing), in its order
    /// of tag sets ([`kept_tag_sets`]). `None` without either, and for a subquery (the
    /// series of its rows are cut, [`series_limits`]).
    pub(super) async fn slimit_tag_sets(
        &self,
        src: &Src,
        cond: Option<&Expr>,
        range: hyperbyte_timeseriesql::ast::TimeRange,
        (stmt, group_tags): (&SelectStatement, &[String]),
    ) -> Result<Option<BTreeSet<Vec<String>>>, StatementError> {
        if !cuts_tag_sets(stmt) {
            return Ok(None);
        }
        if src.rows.is_some() || src.db.is_empty() {
            return Ok(None);
        }
        let mut sets: BTreeSet<Vec<String>> = BTreeSet::new();
        self.visit_series_in_range(src, cond, range, &mut |tags| {
            sets.insert(group_key(group_tags, tags));
        })
        .await?;
        let sets: Vec<Vec<String>> = sets.into_iter().collect();
        let maps: Vec<BTreeMap<String, String>> = sets
            .iter()
            .map(|key| {
                group_tags
                    .iter()
                    .cloned()
                    .zip(key.iter().cloned())
                    .collect()
            })
            .collect();
        let Some(kept) = kept_tag_sets(stmt, &maps.iter().collect::<Vec<_>>()) else {
            return Ok(None);
        };
        Ok(Some(
            kept.into_iter()
                .filter_map(|i| sets.get(i).cloned())
                .collect(),
        ))
    }

    /// What a lone `percentile` decides about a source's series (`groups`, in tag
    /// order; [`percentile_end`]); `None` without one.
    fn lone_percentile(
        &self,
        plan: &SelectPlan,
        stmt: &SelectStatement,
        groups: &BTreeMap<Vec<String>, Vec<Point>>,
        budget: &Budget,
    ) -> Result<Option<LonePercentile>, StatementError> {
        let Some(level) = plan.lone_percentile else {
            return Ok(None);
        };
        let field = plan
            .cols
            .iter()
            .flat_map(|c| top_level_aggs(&c.expr))
            .find_map(|e| match e {
                Expr::Call { args, .. } => match args.first() {
                    Some(Expr::VarRef { name, data_type }) => Some((name, *data_type)),
                    _ => None,
                },
                _ => None,
            });
        let Some((name, data_type)) = field else {
            return Ok(None);
        };
        let descending = stmt.is_descending();
        let mut series = Vec::with_capacity(groups.len());
        for pts in groups.values() {
            let range = plan.shape.range;
            let ctx = series_ctx(
                pts,
                ((&plan.all_fields, &plan.all_fields), (None, None)),
                &plan.shape,
                range,
                stmt,
                budget,
            )?;
            let rows = ctx.raw_timeline(name, data_type);
            series.push(windows_selecting(&ctx, &rows, level, descending));
        }
        Ok(Some(LonePercentile::of(&series, descending)))
    }
}

/// The first `n` points (the last `n` when `descending`) of a group in time order that
/// hold `field` ([`SelectPlan::limited_top_feed`]).
fn first_holding(mut pts: Vec<Point>, field: &str, n: usize, descending: bool) -> Vec<Point> {
    pts.retain(|p| p.fields.contains_key(field));
    if descending {
        let from = pts.len().saturating_sub(n);
        pts.drain(..from);
    } else {
        pts.truncate(n);
    }
    pts
}

/// Whether a column's answer depends on the order points reach its reducer (`mode`
/// and `percentile` pick among equal values by that order).
fn breaks_ties_by_feed_order(cols: &[OutCol]) -> bool {
    has_call(cols, "mode") || has_call(cols, "percentile")
}

/// Whether a column calls `function`.
fn has_call(cols: &[OutCol], function: &str) -> bool {
    cols.iter().any(|c| {
        c.expr
            .any(&mut |e| matches!(e, Expr::Call { name, .. } if name == function))
    })
}

/// A series' values of the `GROUP BY` tags (`""` for a tag it lacks), as its group's key.
fn group_key(group_tags: &[String], tags: &BTreeMap<String, String>) -> Vec<String> {
    group_tags
        .iter()
        .map(|t| tags.get(t).cloned().unwrap_or_default())
        .collect()
}

/// What one source's run shares with the statement around it.
#[derive(Debug, Default)]
struct SourceState {
    /// The tag sets `SLIMIT`/`SOFFSET` keep ([`QueryService::slimit_tag_sets`]).
    kept: Option<BTreeSet<Vec<String>>>,
    /// Whether the first window a lone `percentile` reduces selects nothing.
    first_selects_nothing: Option<bool>,
}

/// Whether some column reads a column of the subquery source `src` (`SELECT nosuch FROM
/// (…)` prints nothing; `SELECT nosuch, x` prints every row).
fn reads_subquery_columns(plan: &SelectPlan, src: &Src) -> bool {
    plan.cols.iter().any(|c| {
        c.expr.any(
            &mut |e| matches!(e, Expr::VarRef { name, .. } if src.schema.fields.contains_key(name)),
        )
    })
}
