//! The statement errors InfluxDB reports before reading anything (type errors, argument
//! rules of transformations, aggregates over types they have no iterator for), with its
//! texts, and the time window of a condition.

use super::*;

/// The time window of a condition. InfluxDB pulls every `time` comparison out of the
/// condition and intersects them, whatever `OR`s surround them; a comparison it cannot
/// use (`time != x`, `time =~ /x/`, `time > v`, a malformed time string) fails the
/// statement. Zone-less time strings are read in the statement's `tz()`.
pub(super) fn time_bounds(
    cond: Option<&Expr>,
    zone: Option<&str>,
    now: i64,
) -> Result<hyperbyte_timeseriesql::ast::TimeRange, StatementError> {
    let mut range = hyperbyte_timeseriesql::ast::TimeRange::default();
    let Some(c) = cond else { return Ok(range) };
    let zone = zone.and_then(hyperbyte_domain::time::TimeZone::parse);
    for t in c.time_comparisons() {
        let r = t
            .time_range_in(now, zone.as_ref())
            .map_err(|e| err(e.to_string()))?;
        if let Some(m) = r.min {
            range.min = Some(range.min.map_or(m, |x: i64| x.max(m)));
        }
        if let Some(m) = r.max {
            range.max = Some(range.max.map_or(m, |x: i64| x.min(m)));
        }
    }
    Ok(range)
}

/// The functions InfluxDB refuses to combine, checked when it compiles the fields (so
/// also for a measurement that does not exist), in its order: `top()` and `bottom()`
/// select whole points, so no other aggregate, selector or transformation may appear
/// anywhere in the statement (bare fields, tags and math functions may); then
/// `distinct()` outside another call (alone or under math) must be the only field and
/// appear once. `count(distinct(v))` is an ordinary aggregate.
pub(super) fn check_function_combinations(stmt: &SelectStatement) -> Result<(), StatementError> {
    let mut functions: Vec<&str> = Vec::new();
    let mut outer_distinct = 0usize;
    for f in &stmt.fields {
        collect_functions(&f.expr, false, &mut functions, &mut outer_distinct);
    }
    if functions.len() > 1 {
        if let Some(name) = functions.iter().find(|n| matches!(**n, "top" | "bottom")) {
            return Err(err(format!(
                "selector function {name}() cannot be combined with other functions"
            )));
        }
    }
    if outer_distinct > 1 || (outer_distinct == 1 && stmt.fields.len() > 1) {
        return Err(err(
            "aggregate function distinct() cannot be combined with other functions or fields",
        ));
    }
    check_selector_limit(stmt)
}

/// `top(x, n)` / `bottom(x, n)` may not select more points than the statement's `LIMIT`
/// lets through (InfluxDB refuses `SELECT top(v, 5) FROM m LIMIT 2`; its `OFFSET` does
/// not count).
fn check_selector_limit(stmt: &SelectStatement) -> Result<(), StatementError> {
    let Some(limit) = stmt.limit.filter(|&l| l > 0) else {
        return Ok(());
    };
    for f in &stmt.fields {
        if let Expr::Call { name, args } = &f.expr {
            if let (true, Some(Expr::Integer(n))) =
                (matches!(name.as_str(), "top" | "bottom"), args.last())
            {
                if u64::try_from(*n).is_ok_and(|n| n > limit) {
                    return Err(err(format!(
                        "limit ({n}) in {name} function can not be larger than the LIMIT \
                         ({limit}) in the select statement"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The aggregate, selector and transformation calls of `e` in order (`functions`), and
/// how many `distinct()` calls sit outside any other call (`outer_distinct`).
fn collect_functions<'a>(
    e: &'a Expr,
    in_call: bool,
    functions: &mut Vec<&'a str>,
    outer_distinct: &mut usize,
) {
    match e {
        Expr::Call { name, args } => {
            let counted = is_agg_name(name) || TRANSFORMS.contains(&name.as_str());
            if counted {
                functions.push(name);
            }
            if name == "distinct" && !in_call {
                *outer_distinct += 1;
            }
            for a in args {
                collect_functions(a, in_call || counted, functions, outer_distinct);
            }
        }
        Expr::Binary { lhs, rhs, .. } => {
            collect_functions(lhs, in_call, functions, outer_distinct);
            collect_functions(rhs, in_call, functions, outer_distinct);
        }
        Expr::Paren(inner) => collect_functions(inner, in_call, functions, outer_distinct),
        _ => {}
    }
}

/// `host + 1` where `host` is only a tag: InfluxDB's type error.
pub(super) fn check_tag_math(
    e: &Expr,
    fields: &BTreeMap<String, FieldType>,
    tags: &BTreeSet<String>,
) -> Result<(), StatementError> {
    let mut res = Ok(());
    e.walk(&mut |x| {
        if res.is_err() {
            return;
        }
        if let Expr::Binary { op, lhs, rhs } = x {
            if op.is_boolean() {
                return;
            }
            for (side, other) in [(lhs, rhs), (rhs, lhs)] {
                if let Expr::VarRef {
                    name,
                    data_type: None,
                } = side.unparen()
                {
                    if tags.contains(name) && !fields.contains_key(name) {
                        let other_kind = match other.unparen() {
                            Expr::Integer(_) => "integer",
                            Expr::Float(_) => "float",
                            Expr::String(_) => "string",
                            Expr::Boolean(_) => "boolean",
                            _ => "tag",
                        };
                        let (l, r) = if std::ptr::eq(side.as_ref(), lhs.as_ref()) {
                            (format!("{name}::tag"), other.to_string())
                        } else {
                            (other.to_string(), format!("{name}::tag"))
                        };
                        res = Err(err(format!(
                            "type error: {l} {} {r}: incompatible types: tag and {other_kind}",
                            op.as_str()
                        )));
                        return;
                    }
                }
            }
        }
    });
    res
}

/// Argument rules of the transformations that InfluxDB checks before running anything
/// and that need the query's shape (`holt_winters`, an aggregate inside a transformation).
/// Their duration and window arguments were checked with the columns
/// ([`check_columns_compile`]).
pub(super) fn check_transform_args(e: &Expr, has_interval: bool) -> Result<(), StatementError> {
    let mut res = Ok(());
    e.walk(&mut |x| {
        if res.is_err() {
            return;
        }
        if let Expr::Call { name, args } = x {
            if !TRANSFORMS.contains(&name.as_str()) {
                return;
            }
            if name.starts_with("holt_winters") {
                if let Err(e) = check_holt_winters_args(name, args, has_interval) {
                    res = Err(e);
                    return;
                }
            }
            if let Some(Expr::Call { name: inner, .. }) = args.first() {
                if is_agg_name(inner) && !has_interval {
                    res = Err(err(format!(
                        "{name} aggregate requires a GROUP BY interval"
                    )));
                }
            }
        }
    });
    res
}

/// InfluxDB's argument rules for `holt_winters(agg(x), n, season)`: over an aggregate
/// with `GROUP BY time` only (over raw points the forecast grid would be one nanosecond
/// wide, as long as the points' time span), `n > 0`, `season >= 0`.
pub(super) fn check_holt_winters_args(
    name: &str,
    args: &[Expr],
    has_interval: bool,
) -> Result<(), StatementError> {
    if args.len() != 3 {
        return Err(err(format!(
            "invalid number of arguments for {name}, expected 3, got {}",
            args.len()
        )));
    }
    match &args[0] {
        Expr::Call { .. } if !has_interval => {
            return Err(err(format!(
                "{name} aggregate requires a GROUP BY interval"
            )))
        }
        Expr::Call { .. } => {}
        _ => return Err(err(format!("must use aggregate function with {name}"))),
    }
    match &args[1] {
        Expr::Integer(n) if *n <= 0 => {
            return Err(err(format!(
                "second arg to {name} must be greater than 0, got {n}"
            )))
        }
        Expr::Integer(_) => {}
        _ => {
            return Err(err(format!(
                "expected integer argument as second arg in {name}"
            )))
        }
    }
    match &args[2] {
        Expr::Integer(s) if *s < 0 => Err(err(format!(
            "third arg to {name} cannot be negative, got {s}"
        ))),
        Expr::Integer(_) => Ok(()),
        _ => Err(err(format!(
            "expected integer argument as third arg in {name}"
        ))),
    }
}

pub(super) fn check_types(e: &Expr) -> Result<(), StatementError> {
    let mut res = Ok(());
    e.walk(&mut |x| {
        if let Expr::Binary { op, lhs, rhs } = x {
            if op.is_boolean() {
                return;
            }
            for (side, other) in [(lhs, rhs), (rhs, lhs)] {
                if let Expr::VarRef {
                    name,
                    data_type: Some(VarType::Tag),
                } = side.unparen()
                {
                    let other_kind = match other.unparen() {
                        Expr::Integer(_) => "integer",
                        Expr::Float(_) => "float",
                        Expr::String(_) => "string",
                        _ => "tag",
                    };
                    if res.is_ok() {
                        res = Err(err(format!(
                            "type error: {name}::tag {} {}: incompatible types: tag and {other_kind}",
                            op.as_str(),
                            other.unparen()
                        )));
                    }
                }
            }
        }
    });
    res
}

/// InfluxDB picks an aggregate's iterator by the field's type in the schema, before any
/// data is read: a numeric-only function over a field that is a string or boolean in
/// every source is an error even when no point matches (`min`/`max` take booleans).
pub(super) fn check_aggregate_types(
    stmt: &SelectStatement,
    sources: &[Src],
) -> Result<(), StatementError> {
    let mut found = None;
    for f in &stmt.fields {
        f.expr.walk(&mut |e| {
            let Expr::Call { name, args } = e else {
                return;
            };
            let Some(Expr::VarRef { name: field, .. }) = args.first().map(Expr::unparen) else {
                return;
            };
            if found.is_some() {
                return;
            }
            let kinds: Vec<&str> = sources
                .iter()
                .filter(|s| s.rows.is_none())
                .filter_map(|s| s.schema.field_type(field))
                .map(|t| t.influx_name())
                .collect();
            if let Some(kind) = kinds
                .first()
                .filter(|_| kinds.iter().all(|k| aggregate_refuses(name, k)))
            {
                found = Some(unsupported_iterator(name, kind));
            }
        });
    }
    found.map_or(Ok(()), Err)
}

/// Whether InfluxDB has no iterator of aggregate `name` over values of `kind` (its type
/// name): the numeric aggregates take neither strings nor booleans, `min`/`max` take
/// booleans.
pub(super) fn aggregate_refuses(name: &str, kind: &str) -> bool {
    let numeric_only = matches!(
        name,
        "mean" | "sum" | "median" | "spread" | "stddev" | "integral" | "percentile"
    );
    match kind {
        "string" => numeric_only || matches!(name, "min" | "max"),
        "boolean" => numeric_only,
        _ => false,
    }
}

/// InfluxDB's error for an aggregate over values it has no iterator for.
pub(super) fn unsupported_iterator(name: &str, kind: &str) -> StatementError {
    err(format!(
        "unsupported {name} iterator type: *query.{kind}InterruptIterator"
    ))
}

/// The arguments a function takes, as InfluxDB 1.6's compiler counts them.
enum Arity {
    Exactly(usize),
    AtLeast(usize),
    Between(usize, usize),
}

fn arity_of(name: &str) -> Option<Arity> {
    Some(match name {
        "count"
        | "sum"
        | "mean"
        | "median"
        | "mode"
        | "spread"
        | "stddev"
        | "first"
        | "last"
        | "min"
        | "max"
        | "distinct"
        | "difference"
        | "non_negative_difference"
        | "cumulative_sum"
        | "abs"
        | "sin"
        | "cos"
        | "tan"
        | "asin"
        | "acos"
        | "atan"
        | "exp"
        | "ln"
        | "log2"
        | "log10"
        | "sqrt"
        | "ceil"
        | "floor"
        | "round" => Arity::Exactly(1),
        "percentile" | "sample" | "moving_average" | "pow" | "log" | "atan2" => Arity::Exactly(2),
        "holt_winters" | "holt_winters_with_fit" => Arity::Exactly(3),
        "top" | "bottom" => Arity::AtLeast(2),
        "derivative" | "non_negative_derivative" | "elapsed" | "integral" => Arity::Between(1, 2),
        _ => return None,
    })
}

/// Function arity and columns without a variable, checked as InfluxDB compiles the
/// columns: "invalid number of arguments for mean, expected 1, got 0" (`mean()`),
/// "field must contain at least one variable" (`SELECT 1`, `SELECT abs(-3)`).
pub(super) fn check_columns_compile(stmt: &SelectStatement) -> Result<(), StatementError> {
    let windowed = stmt.group_by_time_call().is_some();
    for f in &stmt.fields {
        let mut found: Option<StatementError> = None;
        f.expr.walk(&mut |e| {
            let Expr::Call { name, args } = e else {
                return;
            };
            if found.is_some() {
                return;
            }
            let got = args.len();
            let wrong = |expected: String| {
                err(format!(
                    "invalid number of arguments for {name}, expected {expected}, got {got}"
                ))
            };
            let first = args.first().map(Expr::unparen);
            let wildcard = matches!(first, Some(Expr::Wildcard(_) | Expr::Regex(_)));
            if wildcard && name == "distinct" {
                found = Some(err("expected field argument in distinct()"));
                return;
            }
            if wildcard && matches!(name.as_str(), "top" | "bottom") {
                if let Some(a) = first {
                    found = Some(err(format!(
                        "expected first argument to be a field in {name}(), found {a}"
                    )));
                    return;
                }
            }
            found = match arity_of(name) {
                Some(Arity::Exactly(n)) if got != n => Some(wrong(n.to_string())),
                Some(Arity::AtLeast(n)) if got < n => Some(wrong(format!("at least {n}"))),
                Some(Arity::Between(lo, hi)) if got < lo || got > hi => {
                    Some(wrong(format!("at least {lo} but no more than {hi}")))
                }
                _ => None,
            }
            .or_else(|| call_argument_error(name, args, windowed));
        });
        if let Some(e) = found {
            return Err(e);
        }
        let mut variable = false;
        f.expr.walk(&mut |e| {
            variable |= matches!(e, Expr::VarRef { .. } | Expr::Wildcard(_) | Expr::Regex(_));
        });
        if !variable {
            return Err(err("field must contain at least one variable"));
        }
    }
    Ok(())
}

/// The arguments of `name` as InfluxDB's compiler checks them once parentheses are
/// reduced ([`Expr::reduce_parens`]), in its order: a function's trailing option first
/// (`top`'s count, `sample`'s size, a transformation's duration or window,
/// `percentile`'s rank), then what it reads:
/// - aggregates and selectors read a field, a wildcard or a regex ("expected field
///   argument in max()" for a literal, an operation or a call; `count` also reads
///   `distinct(…)`);
/// - `top` and `bottom` read a field, then tags ("expected first argument to be a field
///   in top(), found v + 1", "only fields or tags are allowed in top(), found 'x'");
/// - transformations also read a call; under `GROUP BY time` they need one, which a
///   later check says (`windowed`).
fn call_argument_error(name: &str, args: &[Expr], windowed: bool) -> Option<StatementError> {
    let first = args.first()?;
    if let Some(e) = option_argument_error(name, args) {
        return Some(e);
    }
    let symbol = matches!(
        first,
        Expr::VarRef { .. } | Expr::Wildcard(_) | Expr::Regex(_)
    );
    let field_expected = || Some(err(format!("expected field argument in {name}()")));
    match name {
        "count" if matches!(first, Expr::Call { name, .. } if name == "distinct") => None,
        "count" | "sum" | "mean" | "median" | "mode" | "spread" | "stddev" | "min" | "max"
        | "first" | "last" | "percentile" | "integral" | "sample"
            if !symbol =>
        {
            field_expected()
        }
        "top" | "bottom" => {
            if !matches!(first, Expr::VarRef { .. }) {
                return Some(err(format!(
                    "expected first argument to be a field in {name}(), found {}",
                    influxql_text(first)
                )));
            }
            let tags = args
                .get(1..args.len().saturating_sub(1))
                .unwrap_or_default();
            tags.iter()
                .find(|t| !matches!(t, Expr::VarRef { .. }))
                .map(|t| {
                    err(format!(
                        "only fields or tags are allowed in {name}(), found {}",
                        influxql_text(t)
                    ))
                })
        }
        "derivative"
        | "non_negative_derivative"
        | "difference"
        | "non_negative_difference"
        | "moving_average"
        | "cumulative_sum"
        | "elapsed"
            if !windowed && !symbol && !matches!(first, Expr::Call { .. }) =>
        {
            field_expected()
        }
        _ => None,
    }
}

/// The option argument InfluxDB checks before the argument a function reads.
fn option_argument_error(name: &str, args: &[Expr]) -> Option<StatementError> {
    let positive_duration = |d: &Expr| match d {
        Expr::Duration(ns) if *ns <= 0 => Some(err(format!(
            "duration argument must be positive, got {}",
            hyperbyte_timeseriesql::ast::format_duration(*ns)
        ))),
        _ => None,
    };
    match (name, args) {
        ("top" | "bottom", [.., last]) => match last {
            Expr::Integer(n) if *n <= 0 => Some(err(format!(
                "limit ({n}) in {name} function must be at least 1"
            ))),
            Expr::Integer(_) => None,
            other => Some(err(format!(
                "expected integer as last argument in {name}(), found {}",
                influxql_text(other)
            ))),
        },
        ("sample", [_, size]) => match size {
            Expr::Integer(n) if *n <= 0 => Some(err(format!(
                "sample window must be greater than 1, got {n}"
            ))),
            Expr::Integer(_) => None,
            _ => Some(err("expected integer argument in sample()")),
        },
        ("percentile", [_, rank]) => (!matches!(rank, Expr::Integer(_) | Expr::Float(_)))
            .then(|| err("expected float argument in percentile()")),
        ("moving_average", [_, window]) => match window {
            Expr::Integer(n) if *n <= 1 => Some(err(format!(
                "moving_average window must be greater than 1, got {n}"
            ))),
            Expr::Integer(_) => None,
            other => Some(err(format!(
                "second argument for moving_average must be an integer, got *influxql.{}",
                other.influxql_node_name()
            ))),
        },
        ("integral", [_, unit]) => match unit {
            Expr::Duration(_) => positive_duration(unit),
            _ => Some(err("second argument must be a duration")),
        },
        ("derivative" | "non_negative_derivative" | "elapsed", [_, unit]) => match unit {
            Expr::Duration(_) => positive_duration(unit),
            other => Some(err(format!(
                "second argument to {name} must be a duration, got *influxql.{}",
                other.influxql_node_name()
            ))),
        },
        _ => None,
    }
}

/// An argument as InfluxQL prints it in an error (a float with three decimals).
fn influxql_text(e: &Expr) -> String {
    match e {
        Expr::Float(f) => format!("{f:.3}"),
        other => other.to_string(),
    }
}

/// The `GROUP BY time(…)` dimension, as InfluxDB 1.6 checks it: "time dimension expected
/// 1 or 2 arguments"; without a window (`windowed` false), "time dimension must have
/// duration argument", while a duration of zero groups nothing and a negative one groups
/// nothing yet still asks for an aggregate.
pub(super) fn check_time_dimension(
    stmt: &SelectStatement,
    is_agg: bool,
    windowed: bool,
) -> Result<(), StatementError> {
    let args = stmt.dimensions.iter().find_map(|d| match d {
        Expr::Call { name, args } if name == "time" => Some(args),
        _ => None,
    });
    let Some(args) = args else {
        return Ok(());
    };
    if args.is_empty() || args.len() > 2 {
        return Err(err("time dimension expected 1 or 2 arguments"));
    }
    if windowed {
        return Ok(());
    }
    match args.first() {
        Some(Expr::Duration(d)) if *d < 0 && !is_agg => {
            Err(err("GROUP BY requires at least one aggregate function"))
        }
        Some(Expr::Duration(_)) => Ok(()),
        _ => Err(err("time dimension must have duration argument")),
    }
}

/// `GROUP BY` of anything but `time(…)`, tags, regexes and `*`: "only time and tag
/// dimensions allowed".
pub(super) fn check_dimensions(stmt: &SelectStatement) -> Result<(), StatementError> {
    let allowed = |d: &Expr| match d.unparen() {
        Expr::Call { name, .. } => name == "time",
        Expr::VarRef { .. } | Expr::Regex(_) | Expr::Wildcard(_) => true,
        _ => false,
    };
    if stmt.dimensions.iter().all(allowed) {
        Ok(())
    } else {
        Err(err("only time and tag dimensions allowed"))
    }
}

/// A `WHERE` whose terms (through parentheses, `AND` and `OR`) include a bare name or a
/// number or string literal: "invalid condition expression: b", as InfluxDB refuses it
/// (a boolean literal is a term of its own).
pub(super) fn check_condition_terms(stmt: &SelectStatement) -> Result<(), StatementError> {
    fn bad_term(e: &Expr) -> Option<&Expr> {
        match e {
            Expr::Paren(inner) => bad_term(inner),
            Expr::Binary {
                op: BinaryOp::And | BinaryOp::Or,
                lhs,
                rhs,
            } => bad_term(lhs).or_else(|| bad_term(rhs)),
            Expr::VarRef { .. }
            | Expr::Integer(_)
            | Expr::Float(_)
            | Expr::String(_)
            | Expr::Regex(_) => Some(e),
            _ => None,
        }
    }
    match stmt.condition.as_ref().and_then(bad_term) {
        Some(term) => Err(err(format!(
            "invalid condition expression: {}",
            as_influxdb_prints(term)
        ))),
        None => Ok(()),
    }
}

/// Arithmetic between types InfluxDB refuses, as its compiler types a column: numbers
/// only for `+ - * / %`, integers (or booleans) only for `& | ^`, refused as
/// "type error: v::float + s::string: incompatible types: float and string". Names of
/// unknown type (a field no source has, a tag) and most aggregates are left to the
/// evaluation.
pub(super) fn check_arithmetic_types(
    stmt: &SelectStatement,
    fields: &BTreeMap<String, FieldType>,
) -> Result<(), StatementError> {
    for f in &stmt.fields {
        type_of(&f.expr, fields)?;
    }
    Ok(())
}

/// The type of a column expression where InfluxDB's compiler knows it.
fn type_of(
    e: &Expr,
    fields: &BTreeMap<String, FieldType>,
) -> Result<Option<FieldType>, StatementError> {
    Ok(match e {
        Expr::Paren(inner) => type_of(inner, fields)?,
        Expr::Integer(_) => Some(FieldType::Integer),
        Expr::Float(_) => Some(FieldType::Float),
        Expr::String(_) => Some(FieldType::String),
        Expr::Boolean(_) => Some(FieldType::Boolean),
        Expr::VarRef { name, data_type } => match data_type {
            Some(VarType::Float) => Some(FieldType::Float),
            Some(VarType::Integer) => Some(FieldType::Integer),
            Some(VarType::Unsigned) => Some(FieldType::Unsigned),
            Some(VarType::String) => Some(FieldType::String),
            Some(VarType::Boolean) => Some(FieldType::Boolean),
            Some(VarType::Tag) => None,
            Some(VarType::Field) | None => fields.get(name).copied(),
        },
        Expr::Call { name, args } => {
            let mut first = None;
            for (i, a) in args.iter().enumerate() {
                let t = type_of(a, fields)?;
                if i == 0 {
                    first = t;
                }
            }
            let math = is_math_function(name);
            let keeps_type = SELECTORS.contains(&name.as_str()) || name == "mode";
            if math || keeps_type {
                first
            } else if name == "count" {
                Some(FieldType::Integer)
            } else {
                None
            }
        }
        Expr::Binary { op, lhs, rhs } => {
            let (a, b) = (type_of(lhs, fields)?, type_of(rhs, fields)?);
            let (Some(a), Some(b)) = (a, b) else {
                return Ok(None);
            };
            let fits = match op {
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                    a.is_numeric() && b.is_numeric()
                }
                BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor => {
                    a == b
                        && matches!(
                            a,
                            FieldType::Integer | FieldType::Unsigned | FieldType::Boolean
                        )
                }
                _ => return Ok(None),
            };
            if !fits {
                let mut shown = e.clone();
                annotate_types(&mut shown, fields);
                return Err(err(format!(
                    "type error: {}: incompatible types: {} and {}",
                    as_influxdb_prints(&shown),
                    a.influx_name(),
                    b.influx_name()
                )));
            }
            if a == FieldType::Float || b == FieldType::Float {
                Some(FieldType::Float)
            } else {
                Some(a)
            }
        }
        _ => None,
    })
}

/// `e` with each field reference's known type written (`v::float`), as InfluxDB prints
/// a refused expression.
fn annotate_types(e: &mut Expr, fields: &BTreeMap<String, FieldType>) {
    match e {
        Expr::VarRef { name, data_type } if data_type.is_none() => {
            *data_type = fields.get(name.as_str()).copied().map(var_type);
        }
        Expr::Paren(inner) => annotate_types(inner, fields),
        Expr::Binary { lhs, rhs, .. } => {
            annotate_types(lhs, fields);
            annotate_types(rhs, fields);
        }
        Expr::Call { args, .. } => args.iter_mut().for_each(|a| annotate_types(a, fields)),
        _ => {}
    }
}

/// The `::type` naming a field type.
fn var_type(t: FieldType) -> VarType {
    match t {
        FieldType::Float => VarType::Float,
        FieldType::Integer => VarType::Integer,
        FieldType::Unsigned => VarType::Unsigned,
        FieldType::String => VarType::String,
        FieldType::Boolean => VarType::Boolean,
    }
}

/// `e` with every field reference typed as InfluxDB types it before it compares calls:
/// an untyped or `::field` reference takes its field's type, so `max(v)` and
/// `max(v::float)` of a float field are the same call and `max(v::integer)` is another.
pub(super) fn with_field_types(e: &Expr, fields: &BTreeMap<String, FieldType>) -> Expr {
    let mut e = e.clone();
    e.walk_mut(&mut |x| {
        if let Expr::VarRef { name, data_type } = x {
            if matches!(data_type, None | Some(VarType::Field)) {
                if let Some(t) = fields.get(name.as_str()) {
                    *data_type = Some(var_type(*t));
                }
            }
        }
    });
    e
}

/// `e` as InfluxDB prints an expression in an error: number literals with three
/// decimals, everything else as the statement's own text.
fn as_influxdb_prints(e: &Expr) -> String {
    match e {
        Expr::Float(f) => format!("{f:.3}"),
        Expr::Paren(inner) => format!("({})", as_influxdb_prints(inner)),
        Expr::Binary { op, lhs, rhs } => format!(
            "{} {} {}",
            as_influxdb_prints(lhs),
            op.as_str(),
            as_influxdb_prints(rhs)
        ),
        Expr::Call { name, args } => {
            let args: Vec<String> = args.iter().map(as_influxdb_prints).collect();
            format!("{name}({})", args.join(", "))
        }
        other => other.to_string(),
    }
}
