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
    let Some(c) = cond else {
        return Ok(hyperbyte_timeseriesql::ast::TimeRange::default());
    };
    let zone = zone.and_then(hyperbyte_domain::time::TimeZone::parse);
    c.time_bounds_in(now, zone.as_ref())
        .map_err(|e| err(e.to_string()))
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

/// How the columns' calls combine, as InfluxDB's compiler checks last
/// (`validateFields`), for any source, one that does not exist too: a column that reads a
/// field or tag outside any call (`v`, `abs(v)`, `max(v) * 10 + v`, a tag `top()`
/// prints) may sit only beside selector calls (`first`, `last`, `min`, `max`,
/// `percentile`, `sample`, `top`, `bottom`), and beside one only: "mixing aggregate and
/// non-aggregate queries is not supported", "mixing multiple selector functions with
/// tags or fields is not supported". A selector over a wildcard or regex (`max(*)`) and
/// any other aggregate or transformation make the columns an aggregate's; math
/// functions are not calls here, what they read is.
pub(super) fn check_column_kinds(stmt: &SelectStatement) -> Result<(), StatementError> {
    let mut kinds = ColumnKinds::default();
    for f in stmt
        .fields
        .iter()
        .filter(|f| !time_fields::names_time(&f.expr))
    {
        kinds.note(&f.expr, stmt.target.is_some());
    }
    if !kinds.reads_outside_calls {
        return Ok(());
    }
    if kinds.aggregates {
        return Err(err(
            "mixing aggregate and non-aggregate queries is not supported",
        ));
    }
    if kinds.calls > 1 {
        return Err(err(
            "mixing multiple selector functions with tags or fields is not supported",
        ));
    }
    Ok(())
}

/// What [`check_column_kinds`] notes while it walks the columns.
#[derive(Debug, Default)]
struct ColumnKinds {
    /// Aggregate, selector and transformation calls (math functions do not count).
    calls: usize,
    /// Whether a call is no plain selector.
    aggregates: bool,
    /// Whether a column reads a field or tag outside any call.
    reads_outside_calls: bool,
}

impl ColumnKinds {
    /// `into`: the statement writes its rows (`top(v, host, 2)` then prints no `host`).
    fn note(&mut self, e: &Expr, into: bool) {
        match e {
            Expr::VarRef { .. } | Expr::Wildcard(_) | Expr::Regex(_) => {
                self.reads_outside_calls = true;
            }
            Expr::Paren(inner) => self.note(inner, into),
            Expr::Binary { lhs, rhs, .. } => match (is_literal(lhs), is_literal(rhs)) {
                (true, _) => self.note(rhs, into),
                (_, true) => self.note(lhs, into),
                _ => {
                    self.note(lhs, into);
                    self.note(rhs, into);
                }
            },
            Expr::Call { name, args } if is_math_function(name) => {
                for a in args.iter().filter(|a| !is_literal(a)) {
                    self.note(a, into);
                }
            }
            Expr::Call { name, args } => self.note_call(name, args, into),
            _ => {}
        }
    }

    fn note_call(&mut self, name: &str, args: &[Expr], into: bool) {
        self.calls += 1;
        let first = args.first();
        let over_wildcard = matches!(first, Some(Expr::Wildcard(_) | Expr::Regex(_)));
        match name {
            "first" | "last" | "min" | "max" | "percentile" | "sample" => {
                self.aggregates |= over_wildcard;
            }
            // Each tag `top()` lists becomes a column of its own.
            "top" | "bottom" => self.reads_outside_calls |= args.len() > 2 && !into,
            _ => {
                self.aggregates = true;
                // A transformation's call is compiled as a column (a `distinct()` there
                // is not counted: InfluxDB compiles it as nested).
                if let Some(inner @ Expr::Call { name: n, .. }) = first {
                    if TRANSFORMS.contains(&name) && n != "distinct" {
                        self.note(inner, into);
                    }
                }
            }
        }
    }
}

/// Whether `e` is a literal as InfluxQL's compiler tells them (regexes are literals too).
fn is_literal(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Integer(_)
            | Expr::Unsigned(_)
            | Expr::Float(_)
            | Expr::String(_)
            | Expr::Boolean(_)
            | Expr::Duration(_)
            | Expr::Regex(_)
    )
}

/// A transformation under `GROUP BY time` over a math function (`derivative(abs(mean(v)))`)
/// compiles in InfluxDB 1.6, but building its iterators fails with "unsupported call:
/// abs", for any source.
pub(super) fn check_math_inside_transforms(
    stmt: &SelectStatement,
    windowed: bool,
) -> Result<(), StatementError> {
    if !windowed {
        return Ok(());
    }
    let mut found = None;
    for f in &stmt.fields {
        f.expr.walk(&mut |e| {
            if let Expr::Call { name, args } = e {
                if let Some(Expr::Call { name: inner, .. }) = args.first() {
                    if found.is_none()
                        && TRANSFORMS.contains(&name.as_str())
                        && is_math_function(inner)
                    {
                        found = Some(inner.clone());
                    }
                }
            }
        });
    }
    match found {
        Some(name) => Err(err(format!("unsupported call: {name}"))),
        None => Ok(()),
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
        "exponential_moving_average"
        | "double_exponential_moving_average"
        | "triple_exponential_moving_average"
        | "relative_strength_index"
        | "triple_exponential_derivative"
        | "chande_momentum_oscillator" => Arity::Between(2, 4),
        "kaufmans_efficiency_ratio" | "kaufmans_adaptive_moving_average" => Arity::Between(2, 3),
        _ => return None,
    })
}

/// Function arity and columns without a variable, checked as InfluxDB compiles the
/// columns: "invalid number of arguments for mean, expected 1, got 0" (`mean()`),
/// "field must contain at least one variable" (`SELECT 1`, `SELECT abs(-3)`).
pub(super) fn check_columns_compile(stmt: &SelectStatement) -> Result<(), StatementError> {
    let windowed = stmt.group_by_time_call().is_some();
    for f in &stmt.fields {
        if let Some(e) = first_call_error(&f.expr, false, windowed) {
            return Err(e);
        }
        if let Expr::Call { name, args } = &f.expr {
            if is_math_function(name) && matches!(args.first(), Some(Expr::Regex(_))) {
                return Err(err("field must contain at least one variable"));
            }
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

/// The first error compiling the calls of `e` finds, calls before their arguments and
/// left before right, as InfluxDB compiles a column. `in_operation`: `e` sits inside an
/// operation (`sum(*) * 2`), where a call may not read a wildcard or regex.
fn first_call_error(e: &Expr, in_operation: bool, windowed: bool) -> Option<StatementError> {
    match e {
        Expr::Call { name, args } => call_error(name, args, windowed)
            .or_else(|| {
                in_operation
                    .then(|| wildcard_operand_error(name, args.first().map(Expr::unparen)))
                    .flatten()
            })
            .or_else(|| {
                args.iter()
                    .find_map(|a| first_call_error(a, in_operation, windowed))
            }),
        // (Two literals that do not fold, `1 + true`; checked where they meet, so a
        // call on the left reports first.)
        Expr::Binary { lhs, rhs, .. }
            if matches!(folded_literal(lhs), Some(Some(_)))
                && matches!(folded_literal(rhs), Some(Some(_)))
                && folded_literal(e).is_none() =>
        {
            Some(err("cannot perform a binary expression on two literals"))
        }
        Expr::Binary { lhs, rhs, .. } => {
            first_call_error(lhs, true, windowed).or_else(|| first_call_error(rhs, true, windowed))
        }
        Expr::Paren(inner) => first_call_error(inner, in_operation, windowed),
        _ => None,
    }
}

/// The kind of literal a column of literals folds into, as InfluxDB reduces it before
/// compiling (`1 + 1.5`, `2s * 2`, `'a' + 'b'`, `true ^ false`); `None` when an operation
/// of two literals is left that it does not fold (`1 + true`, `1.5 & 1`, `1 * 2s`),
/// which the compiler then refuses. Anything else (a call, a variable) is `Some(None)`:
/// no opinion.
fn folded_literal(e: &Expr) -> Option<Option<LiteralKind>> {
    use LiteralKind::*;
    Some(Some(match e {
        Expr::Integer(_) => Int,
        Expr::Float(_) => Float,
        Expr::Boolean(_) => Bool,
        Expr::String(_) => Str,
        Expr::Duration(_) => Dur,
        Expr::Paren(inner) => return folded_literal(inner),
        Expr::Binary { op, lhs, rhs } => {
            let (Some(a), Some(b)) = (folded_literal(lhs)?, folded_literal(rhs)?) else {
                return Some(None);
            };
            let (arithmetic, bitwise) = (op.is_arithmetic(), op.is_bitwise());
            if !arithmetic && !bitwise {
                return Some(Some(Bool));
            }
            match (a, b) {
                (Int, Int) if *op == BinaryOp::Div => Float,
                (Int, Int) => Int,
                (Int | Float, Int | Float) if arithmetic => Float,
                (Bool, Bool) if bitwise => Bool,
                (Str, Str) if *op == BinaryOp::Add => Str,
                (Int, Dur) if matches!(op, BinaryOp::Add | BinaryOp::Sub) => Dur,
                (Dur, Int | Float) if matches!(op, BinaryOp::Mul | BinaryOp::Div) => Dur,
                (Dur, Dur) if matches!(op, BinaryOp::Add | BinaryOp::Sub) => Dur,
                _ => return None,
            }
        }
        _ => return Some(None),
    }))
}

/// The kinds of literal [`folded_literal`] tells apart.
#[derive(Clone, Copy)]
enum LiteralKind {
    Int,
    Float,
    Bool,
    Str,
    Dur,
}

/// What compiling one call finds: an unknown function, a wrong number of arguments, an
/// argument it does not take.
fn call_error(name: &str, args: &[Expr], windowed: bool) -> Option<StatementError> {
    if !is_known_function(name) {
        return Some(err(format!("undefined function {name}()")));
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
        return Some(err("expected field argument in distinct()"));
    }
    if wildcard && matches!(name, "top" | "bottom") {
        if let Some(a) = first {
            return Some(err(format!(
                "expected first argument to be a field in {name}(), found {a}"
            )));
        }
    }
    match arity_of(name) {
        Some(Arity::Exactly(n)) if got != n => Some(wrong(n.to_string())),
        Some(Arity::AtLeast(n)) if got < n => Some(wrong(format!("at least {n}"))),
        Some(Arity::Between(lo, hi)) if got < lo || got > hi => {
            Some(wrong(format!("at least {lo} but no more than {hi}")))
        }
        _ => None,
    }
    .or_else(|| call_argument_error(name, args, windowed))
}

/// InfluxDB's error for a call over `*` or a regex inside an operation.
fn wildcard_operand_error(name: &str, first: Option<&Expr>) -> Option<StatementError> {
    let math = is_math_function(name);
    match first? {
        Expr::Wildcard(_) if math => Some(err("unable to use wildcard in a binary expression")),
        Expr::Regex(_) if math => Some(err("cannot perform a binary expression on two literals")),
        Expr::Wildcard(_) => Some(err(format!(
            "unsupported expression with wildcard: {name}()"
        ))),
        Expr::Regex(_) => Some(err(format!(
            "unsupported expression with regex field: {name}()"
        ))),
        _ => None,
    }
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
/// - transformations read a field, a wildcard or a regex without `GROUP BY time`
///   (`windowed`), and any call with it: "derivative aggregate requires a GROUP BY
///   interval" for `derivative(abs(v))` without one, "aggregate function required
///   inside the call to derivative" for `derivative(mean(v) * 2)` with one. What the
///   call reads is checked as a column of its own would be (`derivative(difference(v))`
///   fails for `difference`), and how the calls combine later
///   ([`check_column_kinds`]);
/// - `holt_winters` reads a call, under `GROUP BY time` only.
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
        "holt_winters" | "holt_winters_with_fit" => match first {
            Expr::Call { .. } if windowed => None,
            Expr::Call { .. } => Some(err(format!(
                "{name} aggregate requires a GROUP BY interval"
            ))),
            _ => Some(err(format!("must use aggregate function with {name}"))),
        },
        _ if TRANSFORMS.contains(&name) => match first {
            Expr::Call { .. } if windowed => None,
            Expr::Call { .. } => Some(err(format!(
                "{name} aggregate requires a GROUP BY interval"
            ))),
            _ if windowed => Some(err(format!(
                "aggregate function required inside the call to {name}"
            ))),
            _ if !symbol => field_expected(),
            _ => None,
        },
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
        ("holt_winters" | "holt_winters_with_fit", [_, n, season]) => match (n, season) {
            (Expr::Integer(n), _) if *n <= 0 => Some(err(format!(
                "second arg to {name} must be greater than 0, got {n}"
            ))),
            (Expr::Integer(_), Expr::Integer(s)) if *s < 0 => Some(err(format!(
                "third arg to {name} cannot be negative, got {s}"
            ))),
            (Expr::Integer(_), Expr::Integer(_)) => None,
            (Expr::Integer(_), _) => Some(err(format!(
                "expected integer argument as third arg in {name}"
            ))),
            _ => Some(err(format!(
                "expected integer argument as second arg in {name}"
            ))),
        },
        (_, [_, period, rest @ ..]) if is_indicator(name) => {
            indicator_argument_error(name, period, rest)
        }
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

/// The technical-analysis indicators (`exponential_moving_average(v, period[, hold[,
/// warmup]])` and kin).
fn is_indicator(name: &str) -> bool {
    matches!(
        name,
        "exponential_moving_average"
            | "double_exponential_moving_average"
            | "triple_exponential_moving_average"
            | "relative_strength_index"
            | "triple_exponential_derivative"
            | "chande_momentum_oscillator"
            | "kaufmans_efficiency_ratio"
            | "kaufmans_adaptive_moving_average"
    )
}

/// An indicator's period, hold period and warm-up type, as InfluxDB 1.6 compiles them
/// (the period an integer of at least 1; the hold period an integer of at least 0, or
/// -1 for the indicator's own, at least 1 for `triple_exponential_derivative`; the
/// warm-up type `'exponential'` or `'simple'`, `chande_momentum_oscillator` also
/// `'none'`).
fn indicator_argument_error(name: &str, period: &Expr, rest: &[Expr]) -> Option<StatementError> {
    let fail = |what: &str| Some(err(format!("{name} {what}")));
    match period {
        Expr::Integer(p) if *p < 1 => return fail("period must be greater than or equal to 1"),
        Expr::Integer(_) => {}
        _ => return fail("period must be an integer"),
    }
    match rest.first() {
        Some(Expr::Integer(h)) if name == "triple_exponential_derivative" && *h < 1 && *h != -1 => {
            return fail("hold period must be greater than or equal to 1")
        }
        Some(Expr::Integer(h)) if *h < 0 && *h != -1 => {
            return fail("hold period must be greater than or equal to 0")
        }
        Some(Expr::Integer(_)) | None => {}
        Some(_) => return fail("hold period must be an integer"),
    }
    let cmo = name == "chande_momentum_oscillator";
    match rest.get(1) {
        Some(Expr::String(w)) if matches!(w.as_str(), "exponential" | "simple") => None,
        Some(Expr::String(w)) if cmo && w == "none" => None,
        Some(Expr::String(_)) if cmo => {
            fail("warmup type must be one of: 'none' 'exponential' 'simple'")
        }
        Some(Expr::String(_)) => fail("warmup type must be one of: 'exponential' 'simple'"),
        Some(_) => fail("warmup type must be a string"),
        None => None,
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
/// "type error: v::float + s::string: incompatible types: float and string"; an unsigned
/// beside an integer only when the integer is a constant ([`unsigned_beside_integer`]). Names of
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
            // InfluxDB's type mapper gives the type of the first argument to every call it
            // does not type itself (`sum(b)` of booleans is a boolean, so `sum(b) / 4` is
            // a type error before any iterator is built).
            let keeps_type = SELECTORS.contains(&name.as_str())
                || matches!(
                    name.as_str(),
                    "mode"
                        | "sum"
                        | "spread"
                        | "distinct"
                        | "difference"
                        | "non_negative_difference"
                        | "cumulative_sum"
                );
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
            if op.is_bitwise() && a == Some(FieldType::Boolean) {
                // InfluxDB takes a boolean on the left of `&`, `|`, `^` with anything on
                // the right (the value is false unless both are booleans).
                return Ok(Some(FieldType::Boolean));
            }
            let (Some(a), Some(b)) = (a, b) else {
                return Ok(None);
            };
            if let Some(t) = unsigned_beside_integer(e, (*op, lhs, rhs), (a, b), fields)? {
                return Ok(Some(t));
            }
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

/// An unsigned beside an integer in arithmetic or a bitwise operation: InfluxDB takes an
/// integer literal as unsigned there (`v::unsigned + 1`, `v::unsigned & 1`) and refuses
/// anything else ("type error: i::integer + v::unsigned: cannot use + between an integer
/// and unsigned, an explicit cast is required"). `None`: not that case.
fn unsigned_beside_integer(
    e: &Expr,
    (op, lhs, rhs): (BinaryOp, &Expr, &Expr),
    types: (FieldType, FieldType),
    fields: &BTreeMap<String, FieldType>,
) -> Result<Option<FieldType>, StatementError> {
    let integer = match types {
        (FieldType::Unsigned, FieldType::Integer) => rhs,
        (FieldType::Integer, FieldType::Unsigned) => lhs,
        _ => return Ok(None),
    };
    if !(op.is_bitwise()
        || matches!(
            op,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod
        ))
    {
        return Ok(None);
    }
    // InfluxDB folds constants first: `v::unsigned + (1 + 2)` adds a literal 3.
    if matches!(folded_literal(integer), Some(Some(LiteralKind::Int))) {
        return Ok(Some(FieldType::Unsigned));
    }
    let mut shown = e.clone();
    annotate_types(&mut shown, fields);
    Err(err(format!(
        "type error: {}: cannot use {op} between an integer and unsigned, an explicit cast is required",
        as_influxdb_prints(&shown)
    )))
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

#[cfg(test)]
mod compile_tests {
    use super::*;

    use super::parse_select as select;

    fn message(r: Result<(), StatementError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    const MIXING: &str = "mixing aggregate and non-aggregate queries is not supported";

    /// Recorded on InfluxDB 1.6 (case `selectors--expressions-beside`).
    #[test]
    fn columns_read_outside_calls_only_beside_one_selector() {
        let kinds = |q: &str| message(check_column_kinds(&select(q)));
        for ok in [
            "SELECT max(v), host FROM m",
            "SELECT max(v) * 10 + v FROM m",
            "SELECT abs(v), max(v) FROM m",
            "SELECT percentile(v, 50), host FROM m",
            "SELECT top(v, host, 2), v FROM m",
            "SELECT *, max(v) FROM m",
            "SELECT max(v), min(v) FROM m",
            "SELECT time, mean(v) FROM m",
            "SELECT v, abs(v) FROM m",
        ] {
            assert_eq!(kinds(ok), "", "{ok}");
        }
        for mixing in [
            "SELECT mean(v), v FROM m",
            "SELECT mean(v) + v FROM m",
            "SELECT max(*), host FROM m",
            "SELECT count(distinct(v)), host FROM m",
            "SELECT derivative(v), abs(v) FROM m",
            "SELECT derivative(abs(v)) FROM m GROUP BY time(1s)",
        ] {
            assert_eq!(kinds(mixing), MIXING, "{mixing}");
        }
        assert_eq!(
            kinds("SELECT max(v), min(v), v FROM m"),
            "mixing multiple selector functions with tags or fields is not supported"
        );
        assert_eq!(
            kinds("SELECT top(v, host, 2), max(v) FROM m"),
            "mixing multiple selector functions with tags or fields is not supported"
        );
    }

    /// Recorded on InfluxDB 1.6 (case `transformations--call-arguments`).
    #[test]
    fn a_transformation_reads_a_call_under_group_by_time_only() {
        let compile = |q: &str| message(check_columns_compile(&select(q)));
        assert_eq!(
            compile("SELECT derivative(abs(v)) FROM m"),
            "derivative aggregate requires a GROUP BY interval"
        );
        assert_eq!(
            compile("SELECT moving_average(difference(mean(v)), 2) FROM m"),
            "moving_average aggregate requires a GROUP BY interval"
        );
        assert_eq!(
            compile("SELECT derivative(mean(v) * 2) FROM m GROUP BY time(1s)"),
            "aggregate function required inside the call to derivative"
        );
        assert_eq!(
            compile("SELECT derivative(difference(v)) FROM m GROUP BY time(1s)"),
            "aggregate function required inside the call to difference"
        );
        assert_eq!(
            compile("SELECT derivative(mean(v) * 2) FROM m"),
            "expected field argument in derivative()"
        );
        assert_eq!(
            compile("SELECT derivative(abs(v)) FROM m GROUP BY time(1s)"),
            ""
        );
        assert_eq!(
            compile("SELECT holt_winters(abs(v), 2, 0) FROM m"),
            "holt_winters aggregate requires a GROUP BY interval"
        );
        assert_eq!(
            compile("SELECT holt_winters(mean(v), 0, 0) FROM m"),
            "second arg to holt_winters must be greater than 0, got 0"
        );
        assert_eq!(
            compile("SELECT chande_momentum_oscillator(v, 'x') FROM m"),
            "chande_momentum_oscillator period must be an integer"
        );
        assert_eq!(
            compile("SELECT triple_exponential_derivative(v, 2, 0) FROM m"),
            "triple_exponential_derivative hold period must be greater than or equal to 1"
        );
        let unsupported =
            |q: &str, windowed| message(check_math_inside_transforms(&select(q), windowed));
        assert_eq!(
            unsupported(
                "SELECT derivative(pow(mean(v), 2)) FROM m GROUP BY time(1s)",
                true
            ),
            "unsupported call: pow"
        );
        assert_eq!(
            unsupported(
                "SELECT abs(derivative(mean(v))) FROM m GROUP BY time(1s)",
                true
            ),
            ""
        );
    }
}
