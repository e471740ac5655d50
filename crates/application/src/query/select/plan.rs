//! Planning a SELECT: the checks InfluxDB makes up front, source resolution (databases,
//! retention policies, measurement regexes, subqueries), wildcard expansion into output
//! columns, `GROUP BY` tags, and per source which path answers it ([`SourcePath`]:
//! pushdown aggregate, recent-data tier, storage points, subquery points).
//!
//! Why separate from running: the choice of path decides performance (an aggregate the
//! engine computes never hands points over) and must never change an answer; keeping it a
//! plain value ([`SelectPlan`], [`SelectPlan::path_of`]) lets tests pin which path each
//! statement shape takes. The steps run in the order InfluxDB reports errors in.

use super::*;
use hyperbyte_timeseriesql::ast::TimeRange;

/// What a statement asks for, known before any source is resolved.
#[derive(Debug, Clone)]
pub(super) struct Shape {
    /// The statement's `now()`.
    pub(super) now: i64,
    /// `GROUP BY time(every, offset)`, in the statement's `tz()`.
    pub(super) interval: Option<Window>,
    /// Some column calls an aggregate or selector.
    pub(super) is_agg: bool,
    /// Some column calls a transformation.
    pub(super) has_transform: bool,
    /// The time window of the condition.
    pub(super) range: TimeRange,
    /// The range of the columns that read one window more ([`reads_one_more_window`]):
    /// `range` with a window before it, or after it under `ORDER BY time DESC`. As in
    /// InfluxDB, the start of a range without one wraps past the smallest time (Go's
    /// `int64`), which leaves it empty and those columns without rows.
    pub(super) transform_range: Option<TimeRange>,
}

impl Shape {
    /// The range to read: the condition's, or the transformations' when it is wider.
    pub(super) fn read_range(&self) -> TimeRange {
        match self.transform_range {
            Some(t) if self.holds_times(&t) => t,
            _ => self.range,
        }
    }

    /// Whether `r` holds any time (an unbounded end is InfluxDB's smallest time, or
    /// `now()`).
    pub(super) fn holds_times(&self, r: &TimeRange) -> bool {
        r.min.unwrap_or(hyperbyte_domain::time::MIN_NANOS) <= r.max.unwrap_or(self.now)
    }
}

/// [`Shape::transform_range`] of a statement whose range is `range`.
fn transform_range(
    stmt: &SelectStatement,
    range: TimeRange,
    interval: Option<&Window>,
    now: i64,
) -> Option<TimeRange> {
    let every = interval?.every;
    if !stmt.fields.iter().any(|f| reads_one_more_window(&f.expr)) {
        return None;
    }
    Some(if stmt.is_descending() {
        TimeRange {
            max: Some(range.max.unwrap_or(now).saturating_add(every)),
            ..range
        }
    } else {
        let start = range.min.unwrap_or(hyperbyte_domain::time::MIN_NANOS);
        TimeRange {
            min: Some(start.wrapping_sub(every)),
            ..range
        }
    })
}

/// A SELECT ready to run: its sources and everything the evaluation of each needs.
#[derive(Debug)]
pub(super) struct SelectPlan {
    pub(super) shape: Shape,
    /// Sources in measurement order.
    pub(super) sources: Vec<Src>,
    /// Union of the sources' fields (first type seen wins) and tags.
    pub(super) all_fields: BTreeMap<String, FieldType>,
    pub(super) all_tags: BTreeSet<String>,
    /// `GROUP BY` tags, sorted.
    pub(super) group_tags: Vec<String>,
    /// Output columns (wildcards expanded, names deduplicated).
    pub(super) cols: Vec<OutCol>,
    /// The only aggregate is one selector (its point's time and fields are printed).
    pub(super) single_selector: bool,
    /// Fields to read.
    pub(super) needed: BTreeSet<String>,
    /// The condition without its time terms.
    pub(super) cond: Option<Expr>,
    /// Every column is an aggregate the engine computes exactly ([`pushdown_columns`]).
    pub(super) pushdown: bool,
    /// The fields those aggregates read: a source without one of them is evaluated on
    /// the points path, where its column has no values (as InfluxDB has no iterator).
    pub(super) pushed_fields: BTreeSet<String>,
    /// The level of a lone `percentile()` whose windows may select nothing
    /// ([`lone_percentile_level`], [`percentile_end`]).
    pub(super) lone_percentile: Option<f64>,
    /// `last()` of fields only, without `GROUP BY time`: the tier can hand over just the
    /// points holding each series' latest values.
    pub(super) last_only: bool,
    /// The shard group duration of every source's retention policy, when they share
    /// one and none is a subquery ([`feed_order`]: a heap per shard group).
    pub(super) shard_duration: Option<i64>,
}

/// How one source of a SELECT is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SourcePath {
    /// The points of a subquery's result, evaluated in Rust.
    Subquery,
    /// Aggregated where the data is: over the recent-data tier's columns when it covers
    /// the read, else by the engine (`pushdown_aggregate`).
    Pushdown,
    /// The recent-data tier's points when it covers the read (`latest_only`: only those
    /// holding each series' latest values), else `fallback`.
    Tier {
        latest_only: bool,
        fallback: Fallback,
    },
}

/// What answers a source the recent-data tier does not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fallback {
    /// The engine aggregates.
    Pushdown,
    /// Points read from storage, evaluated in Rust.
    StoragePoints,
}

impl SelectPlan {
    /// The condition as `src` reads it ([`source_cond`]: names typed over every source).
    pub(super) fn cond_in(&self, src: &Src) -> Option<std::borrow::Cow<'_, Expr>> {
        let names = (&self.all_fields, &self.all_tags);
        self.cond
            .as_ref()
            .map(|c| super::source_cond::cond_in_source(c, src, names))
    }

    /// Whether `e` names a tag: a `::tag` reference, or a name only tags of the sources
    /// carry.
    pub(super) fn is_tag_ref(&self, e: &Expr) -> bool {
        matches!(e, Expr::VarRef { name, data_type } if *data_type == Some(VarType::Tag)
            || (self.all_tags.contains(name) && !self.all_fields.contains_key(name)))
    }

    /// The path that answers `src`. Pushdown aggregates run over the tier inside
    /// `pushdown_aggregate`; only `last()` prefers the tier's latest points.
    pub(super) fn path_of(&self, src: &Src) -> SourcePath {
        let pushdown = self.pushdown
            && self
                .pushed_fields
                .iter()
                .all(|f| src.schema.fields.contains_key(f));
        if src.rows.is_some() {
            SourcePath::Subquery
        } else if pushdown && !self.last_only {
            SourcePath::Pushdown
        } else {
            SourcePath::Tier {
                latest_only: self.last_only,
                fallback: if pushdown {
                    Fallback::Pushdown
                } else {
                    Fallback::StoragePoints
                },
            }
        }
    }
}

impl SelectPlan {
    /// How many points of each series group InfluxDB 1.6 feeds a lone `top(field, n)` or
    /// `bottom(field, n)` (no tag arguments, beside plain columns) under a `LIMIT`: the
    /// first `LIMIT + OFFSET + 1` points holding the field, in the statement's time order,
    /// over its whole range, whatever `n` (recorded over 1, 4, 2, 5.25, …:
    /// `SELECT top(v, 1) FROM m LIMIT 1` answers 4, `top(v, 2) … LIMIT 3` 4 and 5.25,
    /// and `GROUP BY time(10s) LIMIT 1 OFFSET 1` the second window's top of the first
    /// three points).
    /// Tag arguments or no `LIMIT`: every point (`None`).
    pub(super) fn limited_top_feed(&self, stmt: &SelectStatement) -> Option<(String, usize)> {
        let limit = stmt.limit.filter(|&l| l > 0)?;
        let (_, args) = self.lone_top_or_bottom()?;
        let [Expr::VarRef { name: field, .. }, Expr::Integer(_)] = args else {
            return None;
        };
        let fed = limit
            .saturating_add(stmt.offset.unwrap_or(0))
            .saturating_add(1);
        Some((field.clone(), usize::try_from(fed).unwrap_or(usize::MAX)))
    }

    /// The statement's one `top(…)` or `bottom(…)` call (its name and arguments) when
    /// every other column is a plain field or tag.
    fn lone_top_or_bottom(&self) -> Option<(&str, &[Expr])> {
        let mut found = None;
        for c in &self.cols {
            match &c.expr {
                Expr::VarRef { .. } => {}
                Expr::Call { name, args }
                    if found.is_none() && matches!(name.as_str(), "top" | "bottom") =>
                {
                    found = Some((name.as_str(), args.as_slice()));
                }
                _ => return None,
            }
        }
        found
    }

    /// The rows of `src` that may hold the answer when the statement's one aggregate is
    /// `top(field, [tags,] n)` or `bottom(…)` of a numeric field, beside plain field and
    /// tag columns: storage hands over the best `n` values of each group (by the
    /// `GROUP BY` tags and the selector's tags) per time bucket (ties included,
    /// [`BestRows`]) instead of every point in range, and the selector
    /// is evaluated over them as over the whole range. `None`: read every point (another
    /// shape, a field of another type in this source or stored beside it).
    pub(super) fn best_rows(&self, src: &Src) -> Option<BestRows> {
        if !self.shape.is_agg || self.shape.has_transform || src.rows.is_some() {
            return None;
        }
        let (name, args) = self.lone_top_or_bottom()?;
        let largest = name == "top";
        let (
            Some(Expr::VarRef {
                name: field,
                data_type: None | Some(VarType::Field),
            }),
            Some(Expr::Integer(n)),
        ) = (args.first(), args.last())
        else {
            return None;
        };
        let mut by = self.group_tags.clone();
        for a in args
            .get(1..args.len().saturating_sub(1))
            .unwrap_or_default()
        {
            match a {
                Expr::VarRef { name, .. } => by.push(name.clone()),
                _ => return None,
            }
        }
        // With tag arguments only each tag value's best point can be selected: one per
        // partition (ties kept).
        let per_partition = if args.len() > 2 { 1 } else { *n };
        by.sort();
        by.dedup();
        let tags_between = args.len() >= 2;
        let numeric = src
            .schema
            .field_type(field)
            .is_some_and(FieldType::is_numeric);
        let one_type = src
            .schema
            .other_types
            .get(field)
            .is_none_or(BTreeSet::is_empty);
        (tags_between && numeric && one_type && *n >= 1).then(|| BestRows {
            field: field.clone(),
            rows: u64::try_from(per_partition).unwrap_or(1),
            largest,
            by,
            bucket: self.shape.interval.clone(),
        })
    }
}

/// Whether every source holding a pushed-down field holds it with the type the pushdown
/// computes (`all_fields` keeps the first source's type of each name): another
/// source's values of the field would read as absent there (`SELECT max(v) FROM a, b`
/// with `v` a float in `a` and an integer in `b` answered `a` alone), so such a query
/// is evaluated in Rust, per source. (A source without the field takes the points path
/// alone, `SelectPlan::path_of`.)
fn one_type_everywhere(specs: &[Spec], sources: &[Src]) -> bool {
    sources.iter().all(|src| {
        specs.iter().all(|spec| {
            src.schema
                .field_type(&spec.field)
                .is_none_or(|own| own == spec.ty)
        })
    })
}

/// `GROUP BY time(every, offset)` with `tz(zone)`: windows follow the local clock,
/// across daylight-saving changes too (`hyperbyte_domain::window`). The zone's changes
/// are looked up over the query's range once; an open end is the statement's `now()`
/// (the bucket grid ends there) or the lowest time. An unknown zone was refused by the
/// parser; it reads as UTC here.
fn in_time_zone(
    (every, offset): (i64, i64),
    zone: Option<&str>,
    range: &TimeRange,
    now: i64,
) -> Window {
    match zone.and_then(hyperbyte_domain::time::TimeZone::parse) {
        Some(z) => z.windows(every, offset, range.min, Some(range.max.unwrap_or(now))),
        None => Window::new(every, offset),
    }
}

/// InfluxDB's refusal of `fill(none)` and `fill(linear)` in a statement without a
/// function that fills anything.
fn fill_without_function(fill: &Fill) -> Option<StatementError> {
    let name = match fill {
        Fill::None => "none",
        Fill::Linear => "linear",
        _ => return None,
    };
    Some(err(format!("fill({name}) must be used with a function")))
}

/// The checks on the statement alone, and what it asks for.
pub(super) fn statement_shape(stmt: &SelectStatement, now: i64) -> Result<Shape, StatementError> {
    let time_dims = stmt
        .dimensions
        .iter()
        .filter(|d| matches!(d, Expr::Call { name, .. } if name == "time"))
        .count();
    if time_dims > 1 {
        return Err(err("multiple time dimensions not allowed"));
    }
    check_columns_compile(stmt)?;
    check_dimensions(stmt)?;
    check_condition_terms(stmt)?;
    if stmt.fields.iter().all(|f| time_fields::names_time(&f.expr)) {
        return Err(err("at least 1 non-time field must be queried"));
    }
    let is_agg = stmt.fields.iter().any(|f| contains_agg(&f.expr));
    let has_transform = stmt.fields.iter().any(|f| contains_transform(&f.expr));
    let interval = stmt.group_by_interval_at(Some(now));
    if time_dims == 1 {
        check_time_dimension(stmt, is_agg, interval.is_some())?;
    }
    // (A transformation is a call too: over a math function of raw points,
    // `derivative(abs(v))`, the columns mix, which a later check says.)
    if interval.is_some() && !is_agg && !has_transform {
        if let Some(e) = fill_without_function(&stmt.fill) {
            return Err(e);
        }
        return Err(err("GROUP BY requires at least one aggregate function"));
    }
    // Without an aggregate, selector or transformation (math functions do not count),
    // `fill(none)` and `fill(linear)` are refused, with or without `GROUP BY time`;
    // `fill(null)`, a number and `fill(previous)` are not (recorded on InfluxDB 1.6).
    if !is_agg && !has_transform {
        if let Some(e) = fill_without_function(&stmt.fill) {
            return Err(e);
        }
    }
    for f in &stmt.fields {
        check_types(&f.expr)?;
    }
    let mut range = time_bounds(stmt.condition.as_ref(), stmt.timezone.as_deref(), now)?;
    // Under `GROUP BY time` an open end is `now()`, whatever the fill: points written
    // ahead of now are not read (`fill(none)` builds no grid that would stop there),
    // and a range starting after now holds nothing.
    if interval.is_some() && range.max.is_none() {
        range.max = Some(now);
    }
    let interval = interval.map(|w| in_time_zone(w, stmt.timezone.as_deref(), &range, now));
    let transform_range = transform_range(stmt, range, interval.as_ref(), now);
    Ok(Shape {
        now,
        interval,
        is_agg,
        has_transform,
        range,
        transform_range,
    })
}

impl QueryService {
    /// Plans a SELECT (`None`: it has no sources or no columns, the answer is empty).
    /// Runs its subqueries.
    pub(super) async fn plan_select(
        &self,
        stmt: &SelectStatement,
        req: &QueryRequest,
        budget: &Budget,
    ) -> Result<Option<SelectPlan>, StatementError> {
        // InfluxDB's order: the databases the statement names, then what compiling it
        // finds, then its retention policies, then what building its iterators finds.
        self.check_databases(stmt, req)?;
        let shape = statement_shape(stmt, self.clock.now_nanos())?;
        check_subquery_order(stmt)?;
        check_function_combinations(stmt)?;
        check_column_kinds(stmt)?;
        let mut sources = self.measurement_sources(stmt, req)?;
        check_math_inside_transforms(stmt, shape.interval.is_some())?;
        sources.extend(self.subquery_sources(stmt, req, &shape, budget).await?);
        sources.sort_by(|a, b| a.measurement.cmp(&b.measurement));
        if sources.is_empty() {
            return Ok(None);
        }
        self.type_fields_by_range(&mut sources, shape.read_range());
        mixed::one_type_per_field(&mut sources, stmt);
        // (Type errors come before an aggregate's unsupported type, as in InfluxDB.)
        check_arithmetic_types(stmt, &union_schema(&sources).0)?;
        let type_error = check_aggregate_types(stmt, &sources).err();
        // Read-your-writes: the tier takes every acknowledged point now; storage reads
        // flush first (`query/visible.rs`).
        self.ready_tier().await;
        if let Some(e) = type_error {
            // InfluxDB finds an aggregate's unsupported type when it builds the
            // aggregate's iterator, which it does for series of the shard groups in range
            // whose tags may match (`mean(s) ... WHERE host = 'none'` answers nothing).
            // (Nor for series `SLIMIT`/`SOFFSET` cut: `sum(s) ... SOFFSET 1` answers
            // nothing.)
            let cond = stmt.condition_without_time();
            let grouped = group_tags(stmt, &union_schema(&sources).1)?;
            return match self
                .any_series_in_range(&sources, cond.as_ref(), shape.range, (stmt, &grouped))
                .await?
            {
                true => Err(e),
                false => Ok(None),
            };
        }
        if has_wildcard(stmt) {
            self.restrict_to_table_fields(&mut sources, shape.read_range())
                .await;
        }
        let (all_fields, all_tags) = union_schema(&sources);
        check_field_functions(stmt, &all_fields, &all_tags)?;
        let listed_tags = self.indexed_tags(&sources, &all_tags);
        let group_tags = group_tags(stmt, &listed_tags)?;
        let tag_fields: BTreeSet<String> = sources
            .iter()
            .flat_map(|s| s.tag_fields.iter().cloned())
            .collect();
        let schema = ColumnSchema {
            fields: &all_fields,
            tag_fields: &tag_fields,
            tags: &listed_tags,
        };
        let mut cols = output_columns(
            stmt,
            &schema,
            &unlisted_tags(stmt, &group_tags, &listed_tags),
        )?;
        hide_pushed_tags(&mut cols, &sources, &all_fields);
        dedupe_names(&mut cols);
        if cols.is_empty() {
            return Ok(None);
        }
        let single_selector = check_mixing(&cols, shape.is_agg, shape.has_transform, &all_fields)?;
        if stmt.fill != Fill::None {
            check_bucket_limit(&shape, budget)?;
        }
        let needed = needed_fields(&cols, &all_fields);
        let cond = stmt.condition_without_time();
        if let Some(start) = shape
            .range
            .min
            .filter(|_| reduces_one_window(&shape, &sources))
        {
            let reads = (group_tags.as_slice(), &needed, cond.as_ref());
            end_at_rows_before_range(&mut sources, reads, start, stmt.is_descending());
        }
        let read = shape.read_range();
        let names = (&all_fields, &all_tags);
        self.read_mixed_sources(&mut sources, (&needed, names), cond.as_ref(), read, budget)
            .await?;
        let lone_percentile = lone_percentile_level(&cols).filter(|_| single_selector);
        let specs = (shape.is_agg && !shape.has_transform)
            .then(|| {
                pushdown_columns(
                    &cols,
                    &all_fields,
                    shape.interval.is_some(),
                    single_selector,
                )
            })
            .flatten()
            .filter(|specs| one_type_everywhere(specs, &sources));
        let pushdown = specs.is_some();
        let pushed_fields = specs.iter().flatten().map(|s| s.field.clone()).collect();
        let last_only = shape.is_agg
            && shape.interval.is_none()
            && cols.iter().all(|c| {
                matches!(&c.expr, Expr::Call { name, args } if name == "last"
                    && matches!(args.as_slice(), [Expr::VarRef { .. }]))
            });
        let shard_duration = self.shared_shard_duration(&sources);
        Ok(Some(SelectPlan {
            shape,
            sources,
            all_fields,
            all_tags,
            group_tags,
            cols,
            single_selector,
            needed,
            cond,
            pushdown,
            pushed_fields,
            lone_percentile,
            last_only,
            shard_duration,
        }))
    }

    /// The tags of `all_tags` that wildcards and `GROUP BY *` list: those some series
    /// of a stored source carries (the index's tag keys; a key whose series were all
    /// deleted or dropped is no longer listed, as in InfluxDB), and every tag of a
    /// subquery's rows. (Reads still name every column the schema has.)
    fn indexed_tags(&self, sources: &[Src], all_tags: &BTreeSet<String>) -> BTreeSet<String> {
        let mut listed = BTreeSet::new();
        for src in sources {
            if src.db.is_empty() {
                listed.extend(src.schema.tag_keys.iter().cloned());
            } else {
                listed.extend(self.meta.tag_keys(&src.db, &src.measurement));
            }
        }
        all_tags.intersection(&listed).cloned().collect()
    }

    /// The shard group duration the retention policies of `sources` share (`None`: a
    /// subquery among them, or policies of different durations).
    fn shared_shard_duration(&self, sources: &[Src]) -> Option<i64> {
        let mut durations = sources.iter().map(|src| {
            let database = self.meta.database(&src.db)?;
            Some(database.rp(&src.rp)?.shard_group_duration)
        });
        let first = durations.next()??;
        durations.all(|d| d == Some(first)).then_some(first)
    }

    /// The databases the statement's sources name (its subqueries' too), and that each
    /// has a retention policy to read, as InfluxDB checks them before it compiles the
    /// statement: "database name required", "database not found: db", "default
    /// retention policy not set for: db". Whether a named retention policy exists is
    /// checked later ([`QueryService::measurement_sources`]).
    fn check_databases(
        &self,
        stmt: &SelectStatement,
        req: &QueryRequest,
    ) -> Result<(), StatementError> {
        for s in &stmt.sources {
            let m = match s {
                Source::Subquery(sub) => {
                    self.check_databases(sub, req)?;
                    continue;
                }
                Source::Measurement(m) => m,
            };
            let (db, database) = self.source_database(m, req)?;
            let named = m.retention_policy.as_ref().is_some_and(|r| !r.is_empty())
                || req.retention_policy.is_some();
            if !named && database.default_rp.is_none() {
                return Err(err(format!("default retention policy not set for: {db}")));
            }
        }
        Ok(())
    }

    /// Visits the tag sets of the series of stored source `src` that have rows in its
    /// retention policy within the shard groups `range` touches and whose tags may
    /// satisfy `cond` (its field terms narrow nothing).
    pub(super) async fn visit_series_in_range(
        &self,
        src: &Src,
        cond: Option<&Expr>,
        range: TimeRange,
        visit: &mut (dyn FnMut(&BTreeMap<String, String>) + Send),
    ) -> Result<(), StatementError> {
        let span = self.shard_span(src, range);
        let keys = self.meta.tag_keys(&src.db, &src.measurement);
        let table = (src.db.as_str(), src.rp.as_str(), src.measurement.as_str());
        let present =
            crate::retention::present_tag_sets(self.engine.as_ref(), table, &keys, span).await?;
        if present.is_empty() {
            return Ok(());
        }
        let is_field = |n: &str| src.schema.field_type(n).is_some();
        let mut filter =
            crate::query::ReadFilter::new(cond, &[], None, None).with_fields(&is_field);
        self.meta
            .for_each_series(&src.db, Some(&src.measurement), &mut |se| {
                let stored = crate::retention::normalized_tags(&se.tags);
                let tags: BTreeMap<String, String> = se.tags.iter().cloned().collect();
                if present.contains(&stored) && filter.series_may_match(&tags) {
                    visit(&tags);
                }
                true
            });
        Ok(())
    }

    /// Whether a stored source has a series [`Self::visit_series_in_range`] visits whose
    /// tag set (of `group_tags`) the statement's `SLIMIT`/`SOFFSET` keep
    /// ([`Self::slimit_tag_sets`]).
    async fn any_series_in_range(
        &self,
        sources: &[Src],
        cond: Option<&Expr>,
        range: TimeRange,
        cut: (&SelectStatement, &[String]),
    ) -> Result<bool, StatementError> {
        for src in sources
            .iter()
            .filter(|s| s.rows.is_none() && !s.db.is_empty())
        {
            let any = match self.slimit_tag_sets(src, cond, range, cut).await? {
                Some(kept) => !kept.is_empty(),
                None => {
                    let mut any = false;
                    self.visit_series_in_range(src, cond, range, &mut |_| any = true)
                        .await?;
                    any
                }
            };
            if any {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The database a measurement source names (or the request's), which must exist.
    fn source_database(
        &self,
        m: &hyperbyte_timeseriesql::ast::Measurement,
        req: &QueryRequest,
    ) -> Result<(String, hyperbyte_domain::Database), StatementError> {
        let db = m
            .database
            .clone()
            .or_else(|| req.database.clone())
            .ok_or_else(|| err("database name required"))?;
        match self.meta.database(&db) {
            Some(database) => Ok((db, database)),
            None => Err(err(format!("database not found: {db}"))),
        }
    }

    /// The measurement sources of `FROM` (no duplicates), checked against the metadata.
    fn measurement_sources(
        &self,
        stmt: &SelectStatement,
        req: &QueryRequest,
    ) -> Result<Vec<Src>, StatementError> {
        let mut sources: Vec<Src> = Vec::new();
        for s in &stmt.sources {
            let Source::Measurement(m) = s else {
                continue;
            };
            let (db, database) = self.source_database(m, req)?;
            let rp = match m
                .retention_policy
                .clone()
                .filter(|r| !r.is_empty())
                .or_else(|| req.retention_policy.clone())
            {
                Some(r) => r,
                None => database
                    .default_rp
                    .clone()
                    .ok_or_else(|| err(format!("default retention policy not set for: {db}")))?,
            };
            if database.rp(&rp).is_none() {
                return Err(err(format!("retention policy not found: {rp}")));
            }
            for n in self.source_names(&db, m)? {
                if let Some(schema) = self.meta.schema(&db, &n) {
                    if !sources
                        .iter()
                        .any(|s| s.db == db && s.rp == rp && s.measurement == n)
                    {
                        sources.push(Src {
                            db: db.clone(),
                            rp: rp.clone(),
                            measurement: n,
                            schema,
                            rows: None,
                            tag_fields: BTreeSet::new(),
                            pushed_tags: BTreeSet::new(),
                        });
                    }
                }
            }
        }
        Ok(sources)
    }

    /// Runs the subqueries of `FROM` (after every measurement source was checked) as
    /// InfluxDB runs them inside this statement ([`prepare_subquery`]).
    async fn subquery_sources(
        &self,
        stmt: &SelectStatement,
        req: &QueryRequest,
        shape: &Shape,
        budget: &Budget,
    ) -> Result<Vec<Src>, StatementError> {
        let mut sources = Vec::new();
        let outer_interval = stmt.group_by_interval_at(Some(shape.now));
        for s in &stmt.sources {
            let Source::Subquery(sub) = s else {
                continue;
            };
            let own_tags = own_tag_dimensions(sub);
            let tag_keys = self.measurement_tag_keys(sub, req);
            let sub = prepare_subquery(sub, stmt, (shape.read_range(), outer_interval), &tag_keys);
            let (inner, tags) = Box::pin(self.select_series_and_tags(&sub, req, budget)).await?;
            let mut made = series_to_sources(inner, &tags, sub.is_descending());
            if let Some(own) = own_tags {
                for src in &mut made {
                    src.pushed_tags = src.schema.tag_keys.difference(&own).cloned().collect();
                }
            }
            sources.extend(made);
        }
        Ok(sources)
    }

    /// The tag keys of the measurements a statement reads directly (a nested
    /// subquery's are its own business; a source that does not resolve has none).
    fn measurement_tag_keys(&self, stmt: &SelectStatement, req: &QueryRequest) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        for s in &stmt.sources {
            let Source::Measurement(m) = s else {
                continue;
            };
            let Ok((db, _)) = self.source_database(m, req) else {
                continue;
            };
            for n in self.source_names(&db, m).unwrap_or_default() {
                if let Some(schema) = self.meta.schema(&db, &n) {
                    keys.extend(schema.tag_keys);
                }
            }
        }
        keys
    }

    /// The measurement names of `db` a `FROM` source names: its name, or those its regex
    /// matches.
    fn source_names(
        &self,
        db: &str,
        m: &hyperbyte_timeseriesql::ast::Measurement,
    ) -> Result<Vec<String>, StatementError> {
        Ok(match &m.name {
            MeasurementName::Name(n) => vec![n.clone()],
            MeasurementName::Regex(r) => {
                let rx = regex::Regex::new(&r.pattern).map_err(|e| err(e.to_string()))?;
                self.meta
                    .measurements(db)
                    .into_iter()
                    .filter(|n| rx.is_match(n))
                    .collect()
            }
        })
    }

    /// A retention policy's table holds only the fields written into it: wildcards
    /// expand to those, and to the fields its shard groups know without a stored value
    /// (InfluxDB keeps field sets per shard; a point dropped for a type conflict creates
    /// the fields before the conflict). Of the fields the shard groups know, only those
    /// of the groups `range` touches: `SELECT * … WHERE time > '2029-01-01'` lists the
    /// fields written since, as InfluxDB's shards in range list theirs.
    ///
    /// Storage's columns are asked for only when the metadata does not know a field in
    /// the policy (a table restored from a backup, say): asking makes the statement
    /// wait for the flush of every acknowledged write first (read-your-writes for
    /// storage), so a wildcard read the recent-data tier answers would wait for the
    /// storage engine under ingest (measured: `SELECT *` of one host during a TSBS load,
    /// 2.3–4.6 s).
    async fn restrict_to_table_fields(&self, sources: &mut [Src], range: TimeRange) {
        for src in sources.iter_mut().filter(|s| s.rows.is_none()) {
            let (db, m, rp) = (&src.db, &src.measurement, &src.rp);
            let known: BTreeSet<String> = src
                .schema
                .fields
                .keys()
                .filter(|f| self.meta.field_in_retention_policy(db, m, f, rp))
                .cloned()
                .collect();
            let stored = if known.len() == src.schema.fields.len() {
                None
            } else {
                match self.table_columns(src).await {
                    // No table (or no answer): nothing to restrict by.
                    Ok(cols) if !cols.is_empty() => Some(cols),
                    _ => continue,
                }
            };
            let span = self.shard_span(src, range);
            let fields: Vec<String> = src.schema.fields.keys().cloned().collect();
            for f in fields {
                let listed = if known.contains(&f) {
                    !self.types_met(src, &f, span).is_empty()
                } else {
                    stored
                        .as_ref()
                        .is_some_and(|cols| cols.contains(&naming::field_column(&f)))
                };
                if !listed {
                    src.schema.fields.remove(&f);
                }
            }
        }
    }
}

/// Whether the statement reduces subquery rows to one window per group: aggregates
/// without `GROUP BY time` over subqueries only ([`end_at_rows_before_range`]).
fn reduces_one_window(shape: &Shape, sources: &[Src]) -> bool {
    shape.is_agg
        && !shape.has_transform
        && shape.interval.is_none()
        && sources.iter().all(Src::is_subquery)
}

fn has_wildcard(stmt: &SelectStatement) -> bool {
    stmt.fields.iter().any(|f| {
        f.expr
            .any(&mut |x| matches!(x, Expr::Wildcard(_) | Expr::Regex(_)))
    })
}

/// The union schema of the sources, for wildcard expansion: each field with the
/// highest-ranked of its types.
fn union_schema(sources: &[Src]) -> (BTreeMap<String, FieldType>, BTreeSet<String>) {
    let mut all_fields: BTreeMap<String, FieldType> = BTreeMap::new();
    let mut all_tags: BTreeSet<String> = BTreeSet::new();
    for s in sources {
        for (f, &t) in &s.schema.fields {
            // (Stored sources agree by now, `mixed::one_type_per_field`; a subquery's
            // rows may differ: the highest-ranked type, as there.)
            let kept = all_fields.entry(f.clone()).or_insert(t);
            if mixed::rank(t) > mixed::rank(*kept) {
                *kept = t;
            }
        }
        all_tags.extend(s.schema.tag_keys.iter().cloned());
    }
    (all_fields, all_tags)
}

/// Math on tags.
fn check_field_functions(
    stmt: &SelectStatement,
    all_fields: &BTreeMap<String, FieldType>,
    all_tags: &BTreeSet<String>,
) -> Result<(), StatementError> {
    // (Unknown functions were refused as the columns compiled: `check_columns_compile`.)
    for f in &stmt.fields {
        check_tag_math(&f.expr, all_fields, all_tags)?;
    }
    Ok(())
}

/// The `GROUP BY` tags (names, `*`, regexes), sorted.
fn group_tags(
    stmt: &SelectStatement,
    all_tags: &BTreeSet<String>,
) -> Result<Vec<String>, StatementError> {
    let mut group_tags: Vec<String> = Vec::new();
    for d in &stmt.dimensions {
        match d {
            Expr::VarRef { name, .. } if !group_tags.contains(name) => {
                group_tags.push(name.clone());
            }
            Expr::Wildcard(_) => {
                for t in all_tags {
                    if !group_tags.contains(t) {
                        group_tags.push(t.clone());
                    }
                }
            }
            Expr::Regex(r) => {
                let rx = regex::Regex::new(&r.pattern).map_err(|e| err(e.to_string()))?;
                for t in all_tags {
                    if rx.is_match(t) && !group_tags.contains(t) {
                        group_tags.push(t.clone());
                    }
                }
            }
            _ => {}
        }
    }
    group_tags.sort();
    Ok(group_tags)
}

/// The tags a wildcard or regex in the field list leaves out: the `GROUP BY` tags, or
/// every tag once a dimension is a wildcard or a regex (matching a tag or not). InfluxDB
/// 1.6 expands the field list with tags only when no dimension is one: `SELECT * FROM
/// cpu GROUP BY /xyz/` prints the fields alone.
fn unlisted_tags(
    stmt: &SelectStatement,
    group_tags: &[String],
    listed_tags: &BTreeSet<String>,
) -> Vec<String> {
    let dimension_wildcard = stmt
        .dimensions
        .iter()
        .any(|d| matches!(d, Expr::Wildcard(_) | Expr::Regex(_)));
    if dimension_wildcard {
        listed_tags.iter().cloned().collect()
    } else {
        group_tags.to_vec()
    }
}

/// Aggregate queries: no bare field references outside calls, except beside a single
/// selector call; transformations over raw points: every column is a call. Returns
/// whether the aggregates are one selector call ([`one_selector_call`]).
fn check_mixing(
    cols: &[OutCol],
    is_agg: bool,
    has_transform: bool,
    fields: &BTreeMap<String, FieldType>,
) -> Result<bool, StatementError> {
    let calls: Vec<&Expr> = cols.iter().flat_map(|c| top_level_aggs(&c.expr)).collect();
    let mixing = || err("mixing aggregate and non-aggregate queries is not supported");
    // A `time` left in the field list reads nothing and mixes with anything.
    let judged = || cols.iter().filter(|c| !time_fields::is_left_time(&c.expr));
    if is_agg {
        // Every call counts here, the same one written twice too (InfluxDB refuses
        // `max(v), max(v), w`).
        let one_selector = calls.len() == 1 && is_selector(calls[0]);
        for c in judged() {
            // A transformation's column beside an aggregate.
            if !contains_agg(&c.expr) && contains_transform(&c.expr) {
                return Err(mixing());
            }
            if !contains_agg(&c.expr) && !one_selector {
                if calls.len() > 1 && calls.iter().all(|c| is_selector(c)) {
                    return Err(err(
                        "mixing multiple selector functions with tags or fields is not supported",
                    ));
                }
                return Err(mixing());
            }
        }
    } else if has_transform {
        for c in judged() {
            if !c.expr.any(&mut |x| matches!(x, Expr::Call { .. })) || bare_var_beside(&c.expr) {
                return Err(mixing());
            }
        }
    }
    Ok(one_selector_call(&calls, fields))
}

fn is_selector(e: &Expr) -> bool {
    matches!(e, Expr::Call { name, .. } if SELECTORS.contains(&name.as_str()))
}

/// Whether the aggregate calls are one selector call, written once or several times
/// (`max(v), max(v::float) AS m`): InfluxDB computes each distinct call once, its field
/// references typed ([`checks::with_field_types`]), and a lone selector prints the
/// selected point's time in every column.
fn one_selector_call(calls: &[&Expr], fields: &BTreeMap<String, FieldType>) -> bool {
    let Some((first, rest)) = calls.split_first() else {
        return false;
    };
    let typed = with_field_types(first, fields);
    is_selector(first) && rest.iter().all(|c| with_field_types(c, fields) == typed)
}

/// Whether a column's expression reads a variable outside any call (`cumulative_sum(v)
/// - v`): a raw value beside a transformation's.
fn bare_var_beside(e: &Expr) -> bool {
    match e {
        Expr::VarRef { .. } => true,
        Expr::Paren(inner) => bare_var_beside(inner),
        Expr::Binary { lhs, rhs, .. } => bare_var_beside(lhs) || bare_var_beside(rhs),
        _ => false,
    }
}

/// The bucket limit, before anything is read (InfluxDB checks it when preparing the
/// statement, for a bounded start; an unbounded start is checked per series once the
/// first point is known).
fn check_bucket_limit(shape: &Shape, budget: &Budget) -> Result<(), StatementError> {
    if let (Some(w), Some(min)) = (&shape.interval, shape.range.min) {
        let one_more = u64::from(shape.transform_range.is_some());
        let (_, _, count) = w.grid(min, shape.range.max.unwrap_or(shape.now), one_more);
        budget.check_buckets(count)?;
    }
    Ok(())
}

/// Fields to read: referenced ones whose type fits the reference's `::type`.
fn needed_fields(cols: &[OutCol], all_fields: &BTreeMap<String, FieldType>) -> BTreeSet<String> {
    let mut needed: BTreeSet<String> = BTreeSet::new();
    for c in cols {
        c.expr.walk(&mut |x| {
            if let Expr::VarRef { name, data_type } = x {
                if let Some(t) = all_fields.get(name) {
                    if cast_compatible(*t, *data_type) {
                        needed.insert(name.clone());
                    }
                }
            }
        });
    }
    needed
}
