//! Planning a SELECT: the checks InfluxDB makes up front, source resolution (databases,
//! retention policies, measurement regexes, subqueries), wildcard expansion into output
//! columns, `GROUP BY` tags, and per source which path answers it (pushdown aggregate,
//! recent-data tier, storage points, subquery points), then evaluation and series limits.

use super::*;

impl QueryService {
    /// Runs a SELECT and returns its series (also used for subqueries).
    pub(crate) async fn select_series(
        &self,
        stmt: &SelectStatement,
        req: &QueryRequest,
        budget: &Budget,
    ) -> Result<Vec<Series>, StatementError> {
        let now = self.clock.now_nanos();
        let time_dims = stmt
            .dimensions
            .iter()
            .filter(|d| matches!(d, Expr::Call { name, .. } if name == "time"))
            .count();
        if time_dims > 1 {
            return Err(err("multiple time dimensions not allowed"));
        }
        if stmt.fields.iter().all(|f| f.expr.is_time_ref()) {
            return Err(err("at least 1 non-time field must be queried"));
        }
        let is_agg = stmt.fields.iter().any(|f| contains_agg(&f.expr));
        let has_transform = stmt.fields.iter().any(|f| {
            f.expr
                .any(&mut |x| matches!(x, Expr::Call { name, .. } if TRANSFORMS.contains(&name.as_str())))
        });
        let interval = stmt.group_by_interval_at(Some(now));
        if time_dims == 1 && interval.is_none() {
            return Err(err("time dimension must have a positive duration"));
        }
        if interval.is_some() && !is_agg {
            return Err(err("GROUP BY requires at least one aggregate function"));
        }
        for f in &stmt.fields {
            check_types(&f.expr)?;
        }

        let range = time_bounds(stmt.condition.as_ref(), now)?;
        // Sources.
        let mut sources: Vec<Src> = Vec::new();
        let mut subqueries = Vec::new();
        for s in &stmt.sources {
            match s {
                Source::Measurement(m) => {
                    let db = m
                        .database
                        .clone()
                        .or_else(|| req.database.clone())
                        .ok_or_else(|| err("database name required"))?;
                    let Some(database) = self.meta.database(&db) else {
                        return Err(err(format!("database not found: {db}")));
                    };
                    let rp = match m
                        .retention_policy
                        .clone()
                        .filter(|r| !r.is_empty())
                        .or_else(|| req.retention_policy.clone())
                    {
                        Some(r) => r,
                        None => database.default_rp.clone().ok_or_else(|| {
                            err(format!("default retention policy not set for: {db}"))
                        })?,
                    };
                    if database.rp(&rp).is_none() {
                        return Err(err(format!("retention policy not found: {rp}")));
                    }
                    let names: Vec<String> = match &m.name {
                        MeasurementName::Name(n) => vec![n.clone()],
                        MeasurementName::Regex(r) => {
                            let rx =
                                regex::Regex::new(&r.pattern).map_err(|e| err(e.to_string()))?;
                            self.meta
                                .measurements(&db)
                                .into_iter()
                                .filter(|n| rx.is_match(n))
                                .collect()
                        }
                    };
                    for n in names {
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
                                });
                            }
                        }
                    }
                }
                Source::Subquery(sub) => subqueries.push(sub.as_ref().clone()),
            }
        }
        for sub in &subqueries {
            let mut sub = sub.clone();
            let inner_range = time_bounds(sub.condition.as_ref(), now)?;
            if inner_range.min.is_none() && inner_range.max.is_none() {
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
            let inner = Box::pin(self.select_series(&sub, req, budget)).await?;
            sources.extend(series_to_sources(inner));
        }
        sources.sort_by(|a, b| a.measurement.cmp(&b.measurement));
        if sources.is_empty() {
            return Ok(Vec::new());
        }
        check_aggregate_types(stmt, &sources)?;

        // A retention policy's table holds only the fields written into it: wildcards
        // expand to those (InfluxDB keeps field sets per shard).
        // Make acknowledged writes visible (read-your-writes) before looking at tables.
        self.flush.ensure_visible().await?;
        let has_wildcard = stmt.fields.iter().any(|f| {
            f.expr
                .any(&mut |x| matches!(x, Expr::Wildcard(_) | Expr::Regex(_)))
        });
        if has_wildcard {
            for src in sources.iter_mut().filter(|s| s.rows.is_none()) {
                if let Ok(cols) = self.table_columns(src).await {
                    if !cols.is_empty() {
                        src.schema
                            .fields
                            .retain(|f, _| cols.contains(&naming::field_column(f)));
                    }
                }
            }
        }

        // Union schema for wildcard expansion.
        let mut all_fields: BTreeMap<String, FieldType> = BTreeMap::new();
        let mut all_tags: BTreeSet<String> = BTreeSet::new();
        for s in &sources {
            for (f, t) in &s.schema.fields {
                all_fields.entry(f.clone()).or_insert(*t);
            }
            all_tags.extend(s.schema.tag_keys.iter().cloned());
        }

        for f in &stmt.fields {
            let mut bad = None;
            f.expr.walk(&mut |x| {
                if let Expr::Call { name, .. } = x {
                    if bad.is_none() && !is_known_function(name) {
                        bad = Some(name.clone());
                    }
                }
            });
            if let Some(name) = bad {
                return Err(err(format!("undefined function {name}()")));
            }
            check_tag_math(&f.expr, &all_fields, &all_tags)?;
            check_transform_args(&f.expr, interval.is_some())?;
        }

        // GROUP BY tags.
        let mut group_tags: Vec<String> = Vec::new();
        for d in &stmt.dimensions {
            match d {
                Expr::VarRef { name, .. } if !group_tags.contains(name) => {
                    group_tags.push(name.clone());
                }
                Expr::Wildcard(_) => {
                    for t in &all_tags {
                        if !group_tags.contains(t) {
                            group_tags.push(t.clone());
                        }
                    }
                }
                Expr::Regex(r) => {
                    let rx = regex::Regex::new(&r.pattern).map_err(|e| err(e.to_string()))?;
                    for t in &all_tags {
                        if rx.is_match(t) && !group_tags.contains(t) {
                            group_tags.push(t.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        group_tags.sort();

        // Output columns with wildcards expanded.
        let mut cols: Vec<OutCol> = Vec::new();
        for f in &stmt.fields {
            if f.expr.is_time_ref() {
                continue;
            }
            match &f.expr {
                Expr::Wildcard(kind) => {
                    // (name, is_tag): a field and a tag of the same name both appear,
                    // the field first.
                    let mut names: Vec<(String, bool)> = Vec::new();
                    if *kind != Some(WildcardType::Tag) {
                        names.extend(all_fields.keys().map(|n| (n.clone(), false)));
                    }
                    if *kind != Some(WildcardType::Field) && !is_agg {
                        names.extend(
                            all_tags
                                .iter()
                                .filter(|t| !group_tags.contains(t))
                                .map(|t| (t.clone(), true)),
                        );
                    }
                    names.sort();
                    for (n, is_tag) in names {
                        cols.push(OutCol {
                            name: n.clone(),
                            expr: Expr::VarRef {
                                name: n,
                                data_type: Some(if is_tag { VarType::Tag } else { VarType::Field }),
                            },
                        });
                    }
                }
                Expr::Regex(r) => {
                    let rx = regex::Regex::new(&r.pattern).map_err(|e| err(e.to_string()))?;
                    let mut names: Vec<String> = all_fields
                        .keys()
                        .filter(|n| rx.is_match(n))
                        .cloned()
                        .collect();
                    if !is_agg {
                        names.extend(
                            all_tags
                                .iter()
                                .filter(|t| rx.is_match(t) && !group_tags.contains(t))
                                .cloned(),
                        );
                    }
                    names.sort();
                    for n in names {
                        cols.push(OutCol {
                            name: n.clone(),
                            expr: Expr::var(&n),
                        });
                    }
                }
                Expr::Call { name, args }
                    if matches!(args.first(), Some(Expr::Wildcard(_)) | Some(Expr::Regex(_))) =>
                {
                    let rx = match args.first() {
                        Some(Expr::Regex(r)) => {
                            Some(regex::Regex::new(&r.pattern).map_err(|e| err(e.to_string()))?)
                        }
                        _ => None,
                    };
                    let numeric_only = !matches!(
                        name.as_str(),
                        "count" | "first" | "last" | "distinct" | "mode" | "sample" | "elapsed"
                    );
                    for (fname, ftype) in &all_fields {
                        if rx.as_ref().is_some_and(|r| !r.is_match(fname)) {
                            continue;
                        }
                        if numeric_only
                            && !matches!(
                                ftype,
                                FieldType::Float | FieldType::Integer | FieldType::Unsigned
                            )
                        {
                            continue;
                        }
                        if matches!(name.as_str(), "min" | "max") && *ftype == FieldType::String {
                            continue;
                        }
                        let mut new_args = args.clone();
                        new_args[0] = Expr::var(fname);
                        cols.push(OutCol {
                            name: format!(
                                "{}_{fname}",
                                f.alias.clone().unwrap_or_else(|| name.clone())
                            ),
                            expr: Expr::Call {
                                name: name.clone(),
                                args: new_args,
                            },
                        });
                    }
                }
                e => {
                    cols.push(OutCol {
                        name: f.alias.clone().unwrap_or_else(|| expr_name(e)),
                        expr: e.clone(),
                    });
                    // top(value, tag1, ..., n) also prints the tags it selected by.
                    if let Expr::Call { name, args } = e {
                        if (name == "top" || name == "bottom") && args.len() > 2 {
                            for a in &args[1..args.len() - 1] {
                                if let Expr::VarRef { name: t, .. } = a {
                                    cols.push(OutCol {
                                        name: t.clone(),
                                        expr: Expr::VarRef {
                                            name: t.clone(),
                                            data_type: Some(VarType::Tag),
                                        },
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        dedupe_names(&mut cols);
        if cols.is_empty() {
            return Ok(Vec::new());
        }

        // Aggregate queries: no bare field references outside calls, except with a single
        // selector.
        let agg_calls: Vec<&Expr> = cols.iter().flat_map(|c| top_level_aggs(&c.expr)).collect();
        let single_selector = agg_calls.len() == 1
            && matches!(agg_calls[0], Expr::Call { name, .. } if SELECTORS.contains(&name.as_str()));
        if is_agg {
            for c in &cols {
                if !contains_agg(&c.expr) && !matches!(c.expr, Expr::VarRef { .. }) {
                    return Err(err(
                        "mixing aggregate and non-aggregate queries is not supported",
                    ));
                }
                if !contains_agg(&c.expr) && !single_selector {
                    return Err(err(
                        "mixing aggregate and non-aggregate queries is not supported",
                    ));
                }
            }
        } else if has_transform {
            for c in &cols {
                if !c.expr.any(&mut |x| matches!(x, Expr::Call { .. })) {
                    return Err(err(
                        "mixing aggregate and non-aggregate queries is not supported",
                    ));
                }
            }
        }

        // The bucket limit, before anything is read (InfluxDB checks it when preparing the
        // statement, for a bounded start; an unbounded start is checked per series below,
        // once the first point is known).
        if let (Some((every, offset)), Some(min)) = (interval, range.min) {
            let w = transform::Window { every, offset };
            let (_, _, count) = w.grid(min, range.max.unwrap_or(now), lookback(&cols));
            budget.check_buckets(count)?;
        }

        // Data: read each source.
        // Fields to read: referenced ones whose type fits the reference's `::type`.
        let mut needed: BTreeSet<String> = BTreeSet::new();
        for c in &cols {
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
        let cond = stmt.condition_without_time();
        let mut output: Vec<Series> = Vec::new();
        // Series read so far, for the series limit.
        let mut series_read: BTreeSet<Arc<str>> = BTreeSet::new();
        let mut series_elsewhere = 0usize;
        let pushdown = is_agg
            && !has_transform
            && pushdown_columns(&cols, &all_fields, interval.is_some()).is_some();
        // `last()` of fields only, without GROUP BY time: the tier can hand over just the
        // points holding each series' latest values.
        let last_only = is_agg
            && interval.is_none()
            && cols.iter().all(|c| {
                matches!(&c.expr, Expr::Call { name, args } if name == "last"
                    && matches!(args.as_slice(), [Expr::VarRef { .. }]))
            });
        for src in &sources {
            // Pushdown aggregates run over the tier inside `pushdown_aggregate`; only
            // `last()` prefers the tier's latest points.
            let hot = if src.rows.is_some() || (pushdown && !last_only) {
                None
            } else {
                self.read_hot(
                    src,
                    &needed,
                    cond.as_ref(),
                    (range.min, range.max),
                    last_only,
                )
            };
            if pushdown && src.rows.is_none() && hot.is_none() {
                // Storage aggregates without handing points over: the series index says
                // how many series the read covers when only time restricts it.
                if budget.limits().max_select_series > 0 && cond.is_none() {
                    series_elsewhere = series_elsewhere
                        .saturating_add(self.meta.series_count_in(&src.db, &src.measurement));
                    budget.check_series(series_read.len().saturating_add(series_elsewhere))?;
                }
                let groups = self
                    .pushdown_aggregate(
                        src,
                        &cols,
                        &all_fields,
                        &group_tags,
                        cond.as_ref(),
                        interval,
                        (range.min, range.max),
                        now,
                        &stmt.fill,
                        budget,
                    )
                    .await?;
                for (key, rows) in groups {
                    let tags: BTreeMap<String, String> =
                        group_tags.iter().cloned().zip(key).collect();
                    output.extend(finish_series(stmt, &src.measurement, tags, &cols, rows));
                }
                continue;
            }
            let points = match hot {
                Some(points) => {
                    budget.charge_points(points.len())?;
                    points
                }
                None => {
                    self.read_points(src, &needed, cond.as_ref(), range.min, range.max, budget)
                        .await?
                }
            };
            if points.is_empty() {
                continue;
            }
            if budget.limits().max_select_series > 0 {
                for p in &points {
                    if !series_read.contains(&p.key) {
                        series_read.insert(p.key.clone());
                    }
                }
                budget.check_series(series_read.len().saturating_add(series_elsewhere))?;
            }
            // Group into series.
            let mut groups: BTreeMap<Vec<String>, Vec<Point>> = BTreeMap::new();
            for p in points {
                let key: Vec<String> = group_tags
                    .iter()
                    .map(|t| p.tags.get(t).cloned().unwrap_or_default())
                    .collect();
                groups.entry(key).or_default().push(p);
            }
            let selects_tag = cols.iter().any(|c| {
                c.expr.any(&mut |x| {
                    matches!(x, Expr::VarRef { name, data_type } if *data_type == Some(VarType::Tag)
                        || (all_tags.contains(name) && !all_fields.contains_key(name)))
                })
            });
            for (key, pts) in groups {
                let pts = if !is_agg && !has_transform && selects_tag {
                    let mut p = pts;
                    p.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.key.cmp(&b.key)));
                    p
                } else {
                    go_heap_merge(pts)
                };
                let tags: BTreeMap<String, String> = group_tags.iter().cloned().zip(key).collect();
                let rows = if is_agg {
                    self.eval_aggregate(
                        &cols,
                        &pts,
                        stmt,
                        interval,
                        range.min,
                        range.max,
                        now,
                        single_selector,
                        budget,
                    )?
                } else if has_transform {
                    eval_transform_raw(&cols, &pts, stmt, budget)?
                } else {
                    eval_raw(&cols, &pts)
                };
                output.extend(finish_series(stmt, &src.measurement, tags, &cols, rows));
            }
        }
        if stmt.is_descending() {
            output.reverse();
        }
        let soff = stmt.soffset.unwrap_or(0) as usize;
        let output: Vec<Series> = match stmt.slimit {
            Some(l) if l > 0 => output.into_iter().skip(soff).take(l as usize).collect(),
            _ => output.into_iter().skip(soff).collect(),
        };
        Ok(output)
    }
}
