//! Output columns: the names InfluxDB derives for them, and what they ask of the
//! evaluation (aggregates inside them, the window a transformation reads beyond the
//! range, the field of a lone selector). Pure functions of the AST, shared by planning and
//! evaluation.

use super::*;

/// The column name InfluxDB derives for an expression.
pub(super) fn expr_name(e: &Expr) -> String {
    match e {
        Expr::VarRef { name, .. } => name.clone(),
        Expr::Call { name, .. } => name.clone(),
        Expr::Paren(inner) => expr_name(inner),
        Expr::Binary { lhs, rhs, .. } => {
            let l = expr_name(lhs);
            let r = expr_name(rhs);
            match (l.is_empty(), r.is_empty()) {
                (true, _) => r,
                (_, true) => l,
                _ => format!("{l}_{r}"),
            }
        }
        Expr::Wildcard(_) => "*".into(),
        _ => String::new(),
    }
}

/// InfluxDB's column names (`SelectStatement.ColumnNames`): given names are kept as they
/// are, duplicates included, and taken first; a derived name that is taken gets the
/// first free `_N` suffix, counting on from the last one given to that name (`v, v, v_1`
/// prints `v, v_1, v_1_1`; `max(v), max(v) AS max` prints `max_1, max`).
pub(super) fn dedupe_names(cols: &mut [OutCol]) {
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    for c in cols.iter().filter(|c| c.aliased) {
        taken.insert(c.name.clone(), 1);
    }
    for c in cols.iter_mut().filter(|c| !c.aliased) {
        let base = c.name.clone();
        if let Some(&count) = taken.get(&base) {
            let mut k = count;
            let mut candidate = format!("{base}_{k}");
            while taken.contains_key(&candidate) {
                k += 1;
                candidate = format!("{base}_{k}");
            }
            taken.insert(base, k + 1);
            c.name = candidate;
        }
        *taken.entry(c.name.clone()).or_insert(0) += 1;
    }
}

pub(super) fn contains_agg(e: &Expr) -> bool {
    e.any(&mut |x| matches!(x, Expr::Call { name, .. } if is_agg_name(name)))
}

/// Whether `e` calls a transformation (`derivative`, `moving_average`, ...).
pub(super) fn contains_transform(e: &Expr) -> bool {
    e.any(&mut |x| matches!(x, Expr::Call { name, .. } if TRANSFORMS.contains(&name.as_str())))
}

/// Every function name InfluxQL knows in a field list.
pub(super) fn is_known_function(name: &str) -> bool {
    is_agg_name(name)
        || TRANSFORMS.contains(&name)
        || math::UnaryMath::from_name(name).is_some()
        || math::BinaryMath::from_name(name).is_some()
}

/// The transformations InfluxDB 1.6 gives one window more when they read an aggregate
/// under `GROUP BY time`, so that the range's first window has a previous one
/// (`buildCallIterator` moves the start back one interval, or the end forward under
/// `ORDER BY time DESC`). `cumulative_sum` and `holt_winters` are not among them.
const READ_ONE_MORE_WINDOW: &[&str] = &[
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "moving_average",
    "elapsed",
    "exponential_moving_average",
    "double_exponential_moving_average",
    "triple_exponential_moving_average",
    "relative_strength_index",
    "triple_exponential_derivative",
    "kaufmans_efficiency_ratio",
    "kaufmans_adaptive_moving_average",
    "chande_momentum_oscillator",
];

/// Whether a column reads one window beyond the statement's range
/// ([`READ_ONE_MORE_WINDOW`] of an aggregate).
pub(super) fn reads_one_more_window(e: &Expr) -> bool {
    e.any(&mut |x| {
        matches!(x, Expr::Call { name, args }
            if READ_ONE_MORE_WINDOW.contains(&name.as_str())
                && matches!(args.first(), Some(Expr::Call { name: inner, .. }) if is_agg_name(inner)))
    })
}

/// The field a query's (single) selector reads.
pub(super) fn agg_field_name(cols: &[OutCol]) -> Option<String> {
    cols.iter().find_map(|c| {
        top_level_aggs(&c.expr).into_iter().find_map(|a| match a {
            Expr::Call { args, .. } => match args.first() {
                Some(Expr::VarRef { name, .. }) => Some(name.clone()),
                _ => None,
            },
            _ => None,
        })
    })
}

/// The aggregate/selector calls of an expression that are not nested inside another
/// aggregate (what one bucket computes).
pub(super) fn top_level_aggs(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    fn go<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
        match e {
            Expr::Call { name, args } => {
                if is_agg_name(name) {
                    out.push(e);
                } else {
                    for a in args {
                        go(a, out);
                    }
                }
            }
            Expr::Binary { lhs, rhs, .. } => {
                go(lhs, out);
                go(rhs, out);
            }
            Expr::Paren(inner) => go(inner, out),
            _ => {}
        }
    }
    go(e, &mut out);
    out
}

/// Whether a field of type `t` is read for a reference with the `::type` hint `hint`.
pub(super) fn cast_compatible(t: FieldType, hint: Option<VarType>) -> bool {
    let numeric = t.is_numeric();
    match hint {
        None | Some(VarType::Field) => true,
        Some(VarType::Tag) => false,
        Some(VarType::Float) | Some(VarType::Integer) | Some(VarType::Unsigned) => numeric,
        Some(VarType::String) => t == FieldType::String,
        Some(VarType::Boolean) => t == FieldType::Boolean,
    }
}

/// What wildcards expand to: the sources' fields and listed tags.
pub(super) struct ColumnSchema<'a> {
    pub(super) fields: &'a BTreeMap<String, FieldType>,
    /// Fields that are a subquery's selected tags: `*` lists them, `count(*)` does not.
    pub(super) tag_fields: &'a BTreeSet<String>,
    pub(super) tags: &'a BTreeSet<String>,
}

/// The output columns of the field list, with wildcards, regexes and `agg(*)` expanded
/// against the union schema (tags InfluxDB would not print are left out). Beside a
/// selector (`max(v), *`), a wildcard or regex takes the tags too, as InfluxDB 1.6 prints
/// them (the point's tags; `GROUP BY` tags excepted); beside other aggregates it is an
/// error anyway (`check_mixing`).
pub(super) fn output_columns(
    stmt: &SelectStatement,
    schema: &ColumnSchema<'_>,
    group_tags: &[String],
) -> Result<Vec<OutCol>, StatementError> {
    let (all_fields, all_tags) = (schema.fields, schema.tags);
    let mut cols: Vec<OutCol> = Vec::new();
    let time = TimeFields::of(&stmt.fields);
    for (at, f) in stmt.fields.iter().enumerate() {
        if time.is_removed(at) {
            continue;
        }
        if time_fields::names_time(&f.expr) {
            // A `time` InfluxDB's pass left in the list: a column of its own that no
            // point has a value for.
            cols.push(OutCol {
                name: f.alias.clone().unwrap_or_else(|| "time".to_string()),
                expr: time_fields::left_time_expr(),
                aliased: f.alias.is_some(),
            });
            continue;
        }
        match &f.expr {
            Expr::Wildcard(kind) => {
                cols.extend(wildcard_columns(*kind, all_fields, all_tags, group_tags));
            }
            Expr::Regex(r) => {
                let rx = regex::Regex::new(&r.pattern).map_err(|e| err(e.to_string()))?;
                let mut names: Vec<String> = all_fields
                    .keys()
                    .filter(|n| rx.is_match(n))
                    .cloned()
                    .collect();
                names.extend(
                    all_tags
                        .iter()
                        .filter(|t| rx.is_match(t) && !group_tags.contains(t))
                        .cloned(),
                );
                names.sort();
                for n in names {
                    cols.push(OutCol {
                        name: n.clone(),
                        expr: Expr::var(&n),
                        aliased: false,
                    });
                }
            }
            Expr::Call { name, args }
                if matches!(args.first(), Some(Expr::Wildcard(_)) | Some(Expr::Regex(_))) =>
            {
                let alias = f.alias.as_deref();
                let fields = all_fields
                    .iter()
                    .filter(|(f, _)| !schema.tag_fields.contains(*f))
                    .map(|(f, t)| (f.clone(), *t))
                    .collect();
                cols.extend(expanded_call_columns(name, args, alias, &fields)?);
            }
            e => {
                cols.push(OutCol {
                    name: f.alias.clone().unwrap_or_else(|| expr_name(e)),
                    expr: fields_win(e.clone(), all_fields, all_tags),
                    aliased: f.alias.is_some(),
                });
                cols.extend(selected_tag_columns(e));
            }
        }
    }
    Ok(cols)
}

/// `e` with every untyped reference to a name that is both a field and a tag typed as the
/// field: InfluxDB resolves such a name to the field, and a point without that field has
/// no value there (not its tag's).
fn fields_win(
    mut e: Expr,
    all_fields: &BTreeMap<String, FieldType>,
    all_tags: &BTreeSet<String>,
) -> Expr {
    e.walk_mut(&mut |x| {
        if let Expr::VarRef { name, data_type } = x {
            if data_type.is_none() && all_fields.contains_key(name) && all_tags.contains(name) {
                *data_type = Some(VarType::Field);
            }
        }
    });
    e
}

/// `*`, `*::field`, `*::tag`: a field and a tag of the same name both appear, the field
/// first; `GROUP BY` tags print no tag columns.
fn wildcard_columns(
    kind: Option<WildcardType>,
    all_fields: &BTreeMap<String, FieldType>,
    all_tags: &BTreeSet<String>,
    group_tags: &[String],
) -> Vec<OutCol> {
    // (name, is_tag)
    let mut names: Vec<(String, bool)> = Vec::new();
    if kind != Some(WildcardType::Tag) {
        names.extend(all_fields.keys().map(|n| (n.clone(), false)));
    }
    if kind != Some(WildcardType::Field) {
        names.extend(
            all_tags
                .iter()
                .filter(|t| !group_tags.contains(t))
                .map(|t| (t.clone(), true)),
        );
    }
    names.sort();
    names
        .into_iter()
        .map(|(n, is_tag)| OutCol {
            name: n.clone(),
            expr: Expr::VarRef {
                name: n,
                data_type: Some(if is_tag { VarType::Tag } else { VarType::Field }),
            },
            aliased: false,
        })
        .collect()
}

/// `agg(*)` and `agg(/regex/)`: one column per field the function takes, named
/// `<alias or function>_<field>`.
fn expanded_call_columns(
    name: &str,
    args: &[Expr],
    alias: Option<&str>,
    all_fields: &BTreeMap<String, FieldType>,
) -> Result<Vec<OutCol>, StatementError> {
    let rx = match args.first() {
        Some(Expr::Regex(r)) => {
            Some(regex::Regex::new(&r.pattern).map_err(|e| err(e.to_string()))?)
        }
        _ => None,
    };
    // min/max take booleans too (`max(*)` prints `max_b`), not strings (below).
    let numeric_only = !matches!(
        name,
        "count" | "first" | "last" | "distinct" | "mode" | "sample" | "elapsed" | "min" | "max"
    );
    let mut cols = Vec::new();
    for (fname, ftype) in all_fields {
        if rx.as_ref().is_some_and(|r| !r.is_match(fname)) {
            continue;
        }
        if numeric_only && !ftype.is_numeric() {
            continue;
        }
        if matches!(name, "min" | "max") && *ftype == FieldType::String {
            continue;
        }
        let mut new_args = args.to_vec();
        new_args[0] = Expr::var(fname);
        cols.push(OutCol {
            name: format!("{}_{fname}", alias.unwrap_or(name)),
            expr: Expr::Call {
                name: name.to_string(),
                args: new_args,
            },
            aliased: true,
        });
    }
    Ok(cols)
}

/// `top(value, tag1, ..., n)` also prints the tags it selected by.
fn selected_tag_columns(e: &Expr) -> Vec<OutCol> {
    let mut cols = Vec::new();
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
                        aliased: false,
                    });
                }
            }
        }
    }
    cols
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names as InfluxDB 1.6 prints them for the same field lists (checked against it;
    /// the recorded case `select-raw--column-names` covers them end to end).
    #[test]
    fn column_names_follow_influxdbs_rule() {
        let names = |given: &[(&str, bool)]| -> Vec<String> {
            let mut cols: Vec<OutCol> = given
                .iter()
                .map(|(name, aliased)| OutCol {
                    name: name.to_string(),
                    expr: Expr::var(name),
                    aliased: *aliased,
                })
                .collect();
            dedupe_names(&mut cols);
            cols.into_iter().map(|c| c.name).collect()
        };
        // `max(v) AS m, min(v) AS m`: given names are kept, duplicates too.
        assert_eq!(names(&[("m", true), ("m", true)]), ["m", "m"]);
        // `max(v), max(v) AS max`: a given name is taken before derived ones.
        assert_eq!(names(&[("max", false), ("max", true)]), ["max_1", "max"]);
        // `v, v, v_1`: the suffix counts on from the last one given.
        assert_eq!(
            names(&[("v", false), ("v", false), ("v_1", false)]),
            ["v", "v_1", "v_1_1"]
        );
        // `v AS v_1, v, v`: a suffix skips the names taken.
        assert_eq!(
            names(&[("v_1", true), ("v", false), ("v", false)]),
            ["v_1", "v", "v_2"]
        );
        // `top(v, h, 1) AS h, h`: the tag column `top` adds and the field list's `h`.
        assert_eq!(
            names(&[("h", true), ("h", false), ("h", false)]),
            ["h", "h_1", "h_2"]
        );
    }
}
