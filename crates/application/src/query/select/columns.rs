//! Output columns: the names InfluxDB derives for them, and what they ask of the
//! evaluation (aggregates inside them, buckets before the query start, the field of a
//! lone selector). Pure functions of the AST, shared by planning and evaluation.

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

pub(super) fn dedupe_names(cols: &mut [OutCol]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let existing: BTreeSet<String> = cols.iter().map(|c| c.name.clone()).collect();
    for c in cols.iter_mut() {
        let n = seen.entry(c.name.clone()).or_insert(0);
        if *n > 0 {
            let mut k = *n;
            let mut candidate = format!("{}_{k}", c.name);
            while existing.contains(&candidate) {
                k += 1;
                candidate = format!("{}_{k}", c.name);
            }
            *n = k + 1;
            c.name = candidate;
        } else {
            *n = 1;
        }
    }
}

pub(super) fn contains_agg(e: &Expr) -> bool {
    e.any(&mut |x| matches!(x, Expr::Call { name, .. } if is_agg_name(name)))
}

/// Every function name InfluxQL knows in a field list.
pub(super) fn is_known_function(name: &str) -> bool {
    is_agg_name(name)
        || TRANSFORMS.contains(&name)
        || math::UnaryMath::from_name(name).is_some()
        || math::BinaryMath::from_name(name).is_some()
}

/// How many buckets before the query start the columns' transformations need.
pub(super) fn lookback(cols: &[OutCol]) -> u64 {
    cols.iter()
        .map(|c| lookback_buckets(&c.expr))
        .max()
        .unwrap_or(0)
}

/// How many buckets before the query start a column's transformations need
/// (`moving_average(mean(x), n)` asks for `n - 1`, whatever `n` the query typed).
pub(super) fn lookback_buckets(e: &Expr) -> u64 {
    let mut n = 0;
    e.walk(&mut |x| {
        if let Expr::Call { name, args } = x {
            if matches!(args.first(), Some(Expr::Call { name: inner, .. }) if is_agg_name(inner)) {
                let k = match name.as_str() {
                    "derivative"
                    | "non_negative_derivative"
                    | "difference"
                    | "non_negative_difference"
                    | "elapsed" => 1,
                    "moving_average" => {
                        u64::try_from(int_arg(args, 1).unwrap_or(1).saturating_sub(1)).unwrap_or(0)
                    }
                    _ => 0,
                };
                n = n.max(k);
            }
        }
    });
    n
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
    let numeric = matches!(
        t,
        FieldType::Float | FieldType::Integer | FieldType::Unsigned
    );
    match hint {
        None | Some(VarType::Field) => true,
        Some(VarType::Tag) => false,
        Some(VarType::Float) | Some(VarType::Integer) | Some(VarType::Unsigned) => numeric,
        Some(VarType::String) => t == FieldType::String,
        Some(VarType::Boolean) => t == FieldType::Boolean,
    }
}
