//! Running a planned SELECT, source by source along the path [`SelectPlan::path_of`]
//! chose: aggregates computed where the data is, or points (from a subquery, the
//! recent-data tier or storage) grouped into series and evaluated in Rust. Every source
//! is charged against the query's limits as it is read.

use super::plan::{Fallback, SelectPlan, SourcePath};
use super::*;

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
        let Some(plan) = self.plan_select(stmt, req, budget).await? else {
            return Ok((Vec::new(), BTreeSet::new()));
        };
        let mut output: Vec<Series> = Vec::new();
        let mut seen = SeriesSeen::default();
        for src in &plan.sources {
            let series = self.run_source(&plan, stmt, src, &mut seen, budget).await?;
            output.extend(series);
        }
        let tags = plan
            .cols
            .iter()
            .filter(|c| plan.is_tag_ref(&c.expr))
            .map(|c| c.name.clone())
            .collect();
        Ok((series_limits(stmt, output), tags))
    }

    /// The series of one source.
    async fn run_source(
        &self,
        plan: &SelectPlan,
        stmt: &SelectStatement,
        src: &Src,
        seen: &mut SeriesSeen,
        budget: &Budget,
    ) -> Result<Vec<Series>, StatementError> {
        let range = (plan.shape.range.min, plan.shape.range.max);
        let (hot, fallback) = match plan.path_of(src) {
            SourcePath::Subquery => (None, Fallback::StoragePoints),
            SourcePath::Pushdown => (None, Fallback::Pushdown),
            SourcePath::Tier {
                latest_only,
                fallback,
            } => (
                self.read_hot(
                    src,
                    &plan.needed,
                    plan.cond.as_ref(),
                    range,
                    latest_only,
                    budget.read_cap(),
                ),
                fallback,
            ),
        };
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
                return self.run_pushdown(plan, stmt, src, seen, budget).await;
            }
            None => {
                self.read_points(
                    src,
                    &plan.needed,
                    plan.cond.as_ref(),
                    range.0,
                    range.1,
                    budget,
                )
                .await?
            }
        };
        if points.is_empty() {
            return Ok(Vec::new());
        }
        seen.add_points(&points, budget)?;
        self.evaluate_points(plan, stmt, src, points, budget)
    }

    /// A source aggregated without handing points over.
    async fn run_pushdown(
        &self,
        plan: &SelectPlan,
        stmt: &SelectStatement,
        src: &Src,
        seen: &mut SeriesSeen,
        budget: &Budget,
    ) -> Result<Vec<Series>, StatementError> {
        // The series index says how many series the read covers when only time
        // restricts it.
        if budget.limits().max_select_series > 0 && plan.cond.is_none() {
            seen.add_indexed(self.meta.series_count_in(&src.db, &src.measurement), budget)?;
        }
        let groups = self.pushdown_aggregate(plan, src, stmt, budget).await?;
        let mut output = Vec::new();
        for (key, rows) in groups {
            let tags: BTreeMap<String, String> = plan.group_tags.iter().cloned().zip(key).collect();
            output.extend(finish_series(
                stmt,
                &src.measurement,
                tags,
                &plan.cols,
                rows,
            ));
        }
        Ok(output)
    }

    /// Groups a source's points into series (by `GROUP BY` tags) and evaluates every
    /// column in Rust.
    fn evaluate_points(
        &self,
        plan: &SelectPlan,
        stmt: &SelectStatement,
        src: &Src,
        points: Vec<Point>,
        budget: &Budget,
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
        let names = referenced_names(&plan.cols);
        let mut output = Vec::new();
        for (key, pts) in groups {
            let pts = if raw {
                // InfluxDB's series iterators only emit the times where a selected field
                // has a value; only those take part in the merge.
                let pts = pts.into_iter().filter(|p| holds_any(p, &names)).collect();
                raw_merge(pts, &aux, stmt.is_descending())
            } else {
                go_heap_merge(pts)
            };
            let tags: BTreeMap<String, String> = plan.group_tags.iter().cloned().zip(key).collect();
            let rows = if shape.is_agg {
                self.eval_aggregate(
                    &plan.cols,
                    &pts,
                    stmt,
                    shape.interval.as_ref(),
                    shape.range.min,
                    shape.range.max,
                    shape.now,
                    plan.single_selector,
                    budget,
                )?
            } else if shape.has_transform {
                eval_transform_raw(&plan.cols, &pts, stmt, budget)?
            } else {
                eval_raw(&plan.cols, &pts)
            };
            output.extend(finish_series(
                stmt,
                &src.measurement,
                tags,
                &plan.cols,
                rows,
            ));
        }
        Ok(output)
    }
}
