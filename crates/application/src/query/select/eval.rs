//! Row-level evaluation in Rust: expressions over one point (field and tag references,
//! `::type` casts, arithmetic, math functions) and `WHERE` conditions over points that do
//! not come from storage (subquery results, the recent-data tier). Arithmetic follows
//! InfluxDB, which the engine's operators do not all share.

use super::*;
use crate::functions::go_convert::{go_int, go_uint};
use std::collections::HashMap;

/// Converts a Value for a `::type` cast.
pub(super) fn cast(v: Value, t: Option<VarType>) -> Value {
    match (t, v) {
        (None | Some(VarType::Field) | Some(VarType::Tag), v) => v,
        (Some(VarType::Integer), Value::Float(f)) => Value::Integer(go_int(f)),
        (Some(VarType::Integer), v @ Value::Integer(_)) => v,
        (Some(VarType::Integer), Value::Unsigned(u)) => Value::Integer(u as i64),
        (Some(VarType::Float), Value::Integer(i)) => Value::Float(i as f64),
        (Some(VarType::Float), Value::Unsigned(u)) => Value::Float(u as f64),
        (Some(VarType::Float), v @ Value::Float(_)) => v,
        (Some(VarType::Unsigned), Value::Integer(i)) => Value::Unsigned(i as u64),
        (Some(VarType::Unsigned), Value::Float(f)) => Value::Unsigned(go_uint(f)),
        (Some(VarType::Unsigned), v @ Value::Unsigned(_)) => v,
        (Some(VarType::String), v @ Value::String(_)) => v,
        (Some(VarType::Boolean), v @ Value::Boolean(_)) => v,
        _ => Value::Null,
    }
}

/// Unsigned arithmetic as InfluxDB's: wrapping, division truncates, and a division or
/// remainder by zero is 0. An integer beside an unsigned takes its bits (`v::unsigned *
/// -1` negates modulo 2^64): in a column only a literal can be there (the compiler
/// refuses an integer field), in a condition anything.
fn unsigned_value(op: BinaryOp, x: u64, y: u64) -> Value {
    Value::Unsigned(match op {
        BinaryOp::Add => x.wrapping_add(y),
        BinaryOp::Sub => x.wrapping_sub(y),
        BinaryOp::Mul => x.wrapping_mul(y),
        BinaryOp::Div => x.checked_div(y).unwrap_or(0),
        BinaryOp::Mod => x.checked_rem(y).unwrap_or(0),
        BinaryOp::BitAnd => x & y,
        BinaryOp::BitOr => x | y,
        BinaryOp::BitXor => x ^ y,
        _ => return Value::Null,
    })
}

/// An unsigned against an integer, by value (a negative integer is below every unsigned).
fn cmp_unsigned(x: u64, y: i64) -> std::cmp::Ordering {
    u64::try_from(y).map_or(std::cmp::Ordering::Greater, |y| x.cmp(&y))
}

pub(super) fn binary_value(op: BinaryOp, a: &Value, b: &Value) -> Value {
    use Value::*;
    let bitwise = op.is_bitwise();
    match (a, b) {
        // InfluxDB: beside a boolean, a missing value combines bitwise as false.
        (Null, Boolean(_)) if bitwise => binary_value(op, &Boolean(false), b),
        (Boolean(_), Null) if bitwise => binary_value(op, a, &Boolean(false)),
        (Null, _) | (_, Null) => Null,
        (Integer(x), Integer(y)) => match op {
            BinaryOp::Add => Integer(x.wrapping_add(*y)),
            BinaryOp::Sub => Integer(x.wrapping_sub(*y)),
            BinaryOp::Mul => Integer(x.wrapping_mul(*y)),
            BinaryOp::Div => {
                if *y == 0 {
                    Float(0.0)
                } else {
                    Float(*x as f64 / *y as f64)
                }
            }
            BinaryOp::Mod => {
                if *y == 0 {
                    Integer(0)
                } else {
                    Integer(x.wrapping_rem(*y))
                }
            }
            BinaryOp::BitAnd => Integer(x & y),
            BinaryOp::BitOr => Integer(x | y),
            BinaryOp::BitXor => Integer(x ^ y),
            _ => Null,
        },
        (Unsigned(x), Unsigned(y)) => unsigned_value(op, *x, *y),
        (Unsigned(x), Integer(y)) => unsigned_value(op, *x, *y as u64),
        (Integer(x), Unsigned(y)) => unsigned_value(op, *x as u64, *y),
        (Boolean(x), Boolean(y)) => match op {
            BinaryOp::BitAnd => Boolean(*x && *y),
            BinaryOp::BitOr => Boolean(*x || *y),
            BinaryOp::BitXor => Boolean(x != y),
            _ => Null,
        },
        // InfluxDB: a boolean combined bitwise with anything else is false.
        (Boolean(_), _) if bitwise => Boolean(false),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) if !matches!(a, Time(_)) && !matches!(b, Time(_)) => match op {
                BinaryOp::Add => Float(x + y),
                BinaryOp::Sub => Float(x - y),
                BinaryOp::Mul => Float(x * y),
                BinaryOp::Div => Float(if y == 0.0 { 0.0 } else { x / y }),
                // InfluxDB: a float remainder by zero is no value.
                BinaryOp::Mod if y == 0.0 => Null,
                BinaryOp::Mod => Float(x % y),
                _ => Null,
            },
            _ => Null,
        },
    }
}

pub(super) fn literal_value(e: &Expr) -> Option<Value> {
    Some(match e {
        Expr::Integer(i) => Value::Integer(*i),
        Expr::Unsigned(u) => Value::Unsigned(*u),
        Expr::Float(f) => Value::Float(*f),
        Expr::String(s) => Value::String(s.clone()),
        Expr::Boolean(b) => Value::Boolean(*b),
        Expr::Duration(d) => Value::Integer(*d),
        _ => return None,
    })
}

pub(super) fn int_arg(args: &[Expr], i: usize) -> Option<i64> {
    match args.get(i)? {
        Expr::Integer(n) => Some(*n),
        Expr::Duration(d) => Some(*d),
        _ => None,
    }
}

pub(super) fn float_arg(args: &[Expr], i: usize) -> Option<f64> {
    match args.get(i)? {
        Expr::Integer(n) => Some(*n as f64),
        Expr::Float(f) => Some(*f),
        _ => None,
    }
}

/// Raw query: one output row per point. The caller passes only the points holding a field
/// one of the columns refers to ([`holds_any`]), before merging them.
///
/// A column that is a tag reference (`host::tag`, a wildcard's tags) has one value per
/// series: it is evaluated once per series (by the address of the series' shared tag
/// map) and cloned into each row, not looked up by name in every row.
pub(super) fn eval_raw(cols: &[OutCol], pts: &[Point]) -> Vec<Vec<Value>> {
    let is_tag: Vec<bool> = cols
        .iter()
        .map(|c| {
            matches!(
                c.expr,
                Expr::VarRef {
                    data_type: Some(VarType::Tag),
                    ..
                }
            )
        })
        .collect();
    let any_tag = is_tag.contains(&true);
    let mut per_series: HashMap<*const BTreeMap<String, String>, Vec<Value>> = HashMap::new();
    let mut out = Vec::with_capacity(pts.len());
    for p in pts {
        let tags = if any_tag {
            Some(per_series.entry(Arc::as_ptr(&p.tags)).or_insert_with(|| {
                cols.iter()
                    .zip(&is_tag)
                    .map(|(c, &t)| {
                        if t {
                            eval_point(&c.expr, p)
                        } else {
                            Value::Null
                        }
                    })
                    .collect()
            }))
        } else {
            None
        };
        let mut row = Vec::with_capacity(cols.len() + 1);
        row.push(Value::Time(p.time));
        for (j, c) in cols.iter().enumerate() {
            row.push(match &tags {
                Some(values) if is_tag[j] => values[j].clone(),
                _ => eval_point(&c.expr, p),
            });
        }
        out.push(row);
    }
    out
}

/// The names the columns refer to, each once (walked once per query, not per point),
/// those not referred to as tags first: [`holds_any`] stops at the first name a point
/// holds a field of, and `SELECT *` lists ten tags before its fields.
pub(super) fn referenced_names(cols: &[OutCol]) -> Vec<&str> {
    let mut names: Vec<(bool, &str)> = Vec::new();
    for c in cols {
        c.expr.walk(&mut |x| {
            if let Expr::VarRef { name, data_type } = x {
                let as_tag = *data_type == Some(VarType::Tag);
                match names.iter_mut().find(|(_, n)| *n == name.as_str()) {
                    Some(entry) => entry.0 &= as_tag,
                    None => names.push((as_tag, name)),
                }
            }
        });
    }
    // Stable: untyped and field references in column order, then tags.
    names.sort_by_key(|(as_tag, _)| *as_tag);
    names.into_iter().map(|(_, n)| n).collect()
}

/// Whether `p` holds a field of one of `names` (see [`referenced_names`]).
pub(super) fn holds_any(p: &Point, names: &[&str]) -> bool {
    names.iter().any(|n| p.fields.contains_key(*n))
}

pub(super) fn eval_point(e: &Expr, p: &Point) -> Value {
    match e {
        Expr::VarRef { name, data_type } => {
            let v = match data_type {
                Some(VarType::Tag) => p.tags.get(name).map(|s| Value::String(s.clone())),
                Some(VarType::Field) => p.fields.get(name.as_str()).cloned(),
                _ => p
                    .fields
                    .get(name.as_str())
                    .cloned()
                    .or_else(|| p.tags.get(name).map(|s| Value::String(s.clone()))),
            };
            cast(v.unwrap_or(Value::Null), *data_type)
        }
        Expr::Paren(inner) => eval_point(inner, p),
        Expr::Binary { op, lhs, rhs } => {
            binary_value(*op, &eval_point(lhs, p), &eval_point(rhs, p))
        }
        Expr::Call { name, args } => {
            if let Some(f) = math::UnaryMath::from_name(name) {
                let v = args
                    .first()
                    .map(|a| eval_point(a, p))
                    .unwrap_or(Value::Null);
                return math::unary(f, &v);
            }
            if let Some(f) = math::BinaryMath::from_name(name) {
                let a = args
                    .first()
                    .map(|a| eval_point(a, p))
                    .unwrap_or(Value::Null);
                let b = args.get(1).map(|a| eval_point(a, p)).unwrap_or(Value::Null);
                return math::binary(f, &a, &b);
            }
            Value::Null
        }
        other => literal_value(other).unwrap_or(Value::Null),
    }
}

/// [`eval_cond`] with storage's null semantics, for stored points: a comparison that
/// involves a field the point lacks is false (the SQL wraps each comparison in
/// `ifNull(..., 0)`), where `eval_cond` would compare the missing field as `''`.
pub(super) fn eval_stored_cond(e: &Expr, p: &Point, is_field: &dyn Fn(&str) -> bool) -> bool {
    match e {
        Expr::Paren(inner) => eval_stored_cond(inner, p, is_field),
        Expr::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
        } => eval_stored_cond(lhs, p, is_field) && eval_stored_cond(rhs, p, is_field),
        Expr::Binary {
            op: BinaryOp::Or,
            lhs,
            rhs,
        } => eval_stored_cond(lhs, p, is_field) || eval_stored_cond(rhs, p, is_field),
        Expr::Binary { op, lhs, rhs } => {
            if let Some(m) = names_compared(*op, lhs, rhs, p, is_field) {
                return m;
            }
            let mut absent = false;
            e.walk(&mut |x| {
                if let Expr::VarRef { name, .. } = x {
                    if is_field(name) && !p.fields.contains_key(name.as_str()) {
                        absent = true;
                    }
                }
            });
            !absent && eval_cond(e, p)
        }
        other => eval_cond(other, p),
    }
}

/// `=` and `!=` between two names where one at least is not a field, as InfluxDB
/// evaluates them (and storage's SQL, `timeseriesql::translate`): two tags are equal when
/// the first is present and both have one value (an absent tag equals nothing, itself
/// included), `!=` being the negation; a field compared with a tag matches neither way
/// when the series lacks the tag, and only a string field can equal a tag. `None` for
/// any other comparison.
fn names_compared(
    op: BinaryOp,
    lhs: &Expr,
    rhs: &Expr,
    p: &Point,
    is_field: &dyn Fn(&str) -> bool,
) -> Option<bool> {
    let negated = match op {
        BinaryOp::Eq => false,
        BinaryOp::NotEq => true,
        _ => return None,
    };
    let (Expr::VarRef { name: a, .. }, Expr::VarRef { name: b, .. }) =
        (lhs.unparen(), rhs.unparen())
    else {
        return None;
    };
    let tag = |n: &str| p.tags.get(n).map_or("", String::as_str);
    let (field, other) = match (is_field(a), is_field(b)) {
        (false, false) => {
            let equal = !tag(a).is_empty() && tag(a) == tag(b);
            return Some(equal != negated);
        }
        (true, true) => return None,
        (true, false) => (a, b),
        (false, true) => (b, a),
    };
    let other = tag(other);
    Some(match p.fields.get(field.as_str()) {
        Some(Value::String(s)) if !other.is_empty() => (s == other) != negated,
        _ => false,
    })
}

/// The value of a comparison of constants that InfluxDB folds before it reads anything
/// (its `Reduce`): two numbers (literals or arithmetic on them) under any comparison, two
/// strings or two booleans under `=` and `!=`. Other constant comparisons (`41.5 >=
/// 'a'`) are left in the condition: they match no point, but every series still counts
/// (an aggregate's type error still shows). `None` when `e` is not a folded comparison.
pub(crate) fn constant_comparison(e: &Expr) -> Option<bool> {
    #[derive(PartialEq)]
    enum Const {
        Number,
        String,
        Boolean,
    }
    fn kind(e: &Expr) -> Option<Const> {
        match e.unparen() {
            Expr::Integer(_) | Expr::Unsigned(_) | Expr::Float(_) | Expr::Duration(_) => {
                Some(Const::Number)
            }
            Expr::String(_) => Some(Const::String),
            Expr::Boolean(_) => Some(Const::Boolean),
            Expr::Binary { op, lhs, rhs } if op.is_arithmetic() => (kind(lhs)? == Const::Number
                && kind(rhs)? == Const::Number)
                .then_some(Const::Number),
            _ => None,
        }
    }
    static NO_POINT: std::sync::LazyLock<Point> = std::sync::LazyLock::new(|| Point {
        time: 0,
        key: Arc::from(""),
        tags: Arc::new(BTreeMap::new()),
        fields: crate::hot::FieldMap::new(),
    });
    let Expr::Binary { op, lhs, rhs } = e.unparen() else {
        return None;
    };
    let (a, b) = (kind(lhs)?, kind(rhs)?);
    let folds = op.is_comparison()
        && a == b
        && (a == Const::Number || matches!(op, BinaryOp::Eq | BinaryOp::NotEq));
    folds.then(|| eval_cond(e.unparen(), &NO_POINT))
}

/// Evaluates a `WHERE` condition (time terms ignored) against a point in memory.
pub(super) fn eval_cond(e: &Expr, p: &Point) -> bool {
    fn value_of(e: &Expr, p: &Point) -> Value {
        match e.unparen() {
            Expr::VarRef { name, data_type } => match p.fields.get(name.as_str()) {
                // A number read `::integer` or `::unsigned` converts as InfluxDB's
                // cursor casts it ([`cast`]; the translator's `toInt64`/`toUInt64`): a
                // float is truncated towards zero.
                Some(v @ (Value::Float(_) | Value::Integer(_) | Value::Unsigned(_)))
                    if matches!(data_type, Some(VarType::Integer | VarType::Unsigned)) =>
                {
                    cast(v.clone(), *data_type)
                }
                Some(v) => v.clone(),
                None => p
                    .tags
                    .get(name)
                    .map_or(Value::Null, |s| Value::String(s.clone())),
            },
            Expr::Binary { op, lhs, rhs } if !op.is_boolean() => {
                let (a, b) = (value_of(lhs, p), value_of(rhs, p));
                match (op, &a, &b) {
                    // In conditions InfluxDB divides integers as integers (in a
                    // projection, `i / 2` is a float).
                    (BinaryOp::Div, Value::Integer(x), Value::Integer(y)) => {
                        Value::Integer(if *y == 0 { 0 } else { x.wrapping_div(*y) })
                    }
                    _ => binary_value(*op, &a, &b),
                }
            }
            other => literal_value(other).unwrap_or(Value::Null),
        }
    }
    match e {
        Expr::Paren(inner) => eval_cond(inner, p),
        Expr::Boolean(b) => *b,
        Expr::Binary { op, lhs, rhs } => match op {
            BinaryOp::And => eval_cond(lhs, p) && eval_cond(rhs, p),
            BinaryOp::Or => eval_cond(lhs, p) || eval_cond(rhs, p),
            _ if lhs.is_time_ref() || rhs.is_time_ref() => true,
            BinaryOp::EqRegex | BinaryOp::NotEqRegex => {
                let (subject, pattern) = match (lhs.unparen(), rhs.unparen()) {
                    (x, Expr::Regex(r)) | (Expr::Regex(r), x) => {
                        (value_of(x, p), r.pattern.clone())
                    }
                    _ => return false,
                };
                let text = match subject {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    _ => return false,
                };
                let m = regex::Regex::new(&pattern).is_ok_and(|r| r.is_match(&text));
                if *op == BinaryOp::EqRegex {
                    m
                } else {
                    !m
                }
            }
            _ => {
                let mut a = value_of(lhs, p);
                let mut b = value_of(rhs, p);
                // A missing tag compares as the empty string (arithmetic without a
                // value stays null: it matches nothing).
                // Beside a boolean, arithmetic without a value reads as `false`.
                let stand_in = |x: &Value, x_expr: &Expr, other: &Value| {
                    let name = matches!(x_expr.unparen(), Expr::VarRef { .. });
                    match other {
                        _ if !x.is_null() => None,
                        Value::String(_) if name => Some(Value::String(String::new())),
                        Value::Boolean(_) if !name => Some(Value::Boolean(false)),
                        _ => None,
                    }
                };
                if let Some(v) = stand_in(&a, lhs, &b) {
                    a = v;
                }
                if let Some(v) = stand_in(&b, rhs, &a) {
                    b = v;
                }
                let ord = match (&a, &b) {
                    (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
                    (Value::Boolean(x), Value::Boolean(y)) => Some(x.cmp(y)),
                    (Value::String(_) | Value::Boolean(_), _)
                    | (_, Value::String(_) | Value::Boolean(_)) => None,
                    // Whole numbers compare exactly (as floats, 2^64 - 1 would equal
                    // 2^64 - 2).
                    (Value::Integer(x), Value::Integer(y)) => Some(x.cmp(y)),
                    (Value::Unsigned(x), Value::Unsigned(y)) => Some(x.cmp(y)),
                    (Value::Unsigned(x), Value::Integer(y)) => Some(cmp_unsigned(*x, *y)),
                    (Value::Integer(x), Value::Unsigned(y)) => Some(cmp_unsigned(*y, *x).reverse()),
                    _ => match (a.as_f64(), b.as_f64()) {
                        (Some(x), Some(y)) => x.partial_cmp(&y),
                        _ => None,
                    },
                };
                let Some(ord) = ord else { return false };
                // `<`, `<=`, `>`, `>=` compare numbers only (InfluxDB).
                let numbers = !matches!(a, Value::String(_) | Value::Boolean(_));
                if !numbers && !matches!(op, BinaryOp::Eq | BinaryOp::NotEq) {
                    return false;
                }
                match op {
                    BinaryOp::Eq => ord.is_eq(),
                    BinaryOp::NotEq => !ord.is_eq(),
                    BinaryOp::Lt => ord.is_lt(),
                    BinaryOp::LtEq => ord.is_le(),
                    BinaryOp::Gt => ord.is_gt(),
                    BinaryOp::GtEq => ord.is_ge(),
                    _ => false,
                }
            }
        },
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Whether `cond` holds on a point of measurement `m` with these fields and no tags.
    fn holds_on(cond: &str, fields: &[(&str, Value)]) -> bool {
        let c = hyperbyte_timeseriesql::parser::parse_expr(cond).expect("a condition");
        let mut map = crate::hot::FieldMap::new();
        for (name, value) in fields {
            map.insert(Arc::from(*name), value.clone());
        }
        let point = Point {
            time: 0,
            key: Arc::from("m"),
            tags: Arc::new(BTreeMap::new()),
            fields: map,
        };
        eval_cond(&c, &point)
    }

    /// InfluxDB's bitwise operators with a boolean on one side: a missing value on the
    /// other reads as false; a boolean on the left with a number or string is false.
    #[test]
    fn bitwise_operators_beside_booleans() {
        use BinaryOp::{BitAnd, BitOr, BitXor};
        use Value::{Boolean, Integer, Null, String};
        assert_eq!(binary_value(BitOr, &Null, &Boolean(true)), Boolean(true));
        assert_eq!(binary_value(BitAnd, &Null, &Boolean(true)), Boolean(false));
        assert_eq!(binary_value(BitXor, &Boolean(true), &Null), Boolean(true));
        assert_eq!(
            binary_value(BitOr, &Boolean(true), &Integer(1)),
            Boolean(false)
        );
        assert_eq!(
            binary_value(BitAnd, &Boolean(true), &String("x".into())),
            Boolean(false)
        );
        assert_eq!(binary_value(BitAnd, &Integer(6), &Integer(3)), Integer(2));
        assert_eq!(binary_value(BitAnd, &Integer(6), &Null), Null);
    }

    /// `::integer` on a float field in a condition truncates towards zero, as InfluxDB's
    /// cursor casts it: `v::integer > 3` leaves 3.25 out, `v::integer = -3` keeps -3.75.
    #[test]
    fn a_float_read_as_an_integer_is_truncated() {
        let holds = |cond: &str, v: f64| holds_on(cond, &[("v", Value::Float(v))]);
        assert!(!holds("v::integer > 3", 3.25));
        assert!(holds("v > 3", 3.25));
        assert!(holds("v::integer > 3", 4.0));
        assert!(holds("v::integer = -3", -3.75));
        assert!(holds("v::float > 3", 3.25));
    }

    /// Floats cast as InfluxDB 1.6.7 cast them (recorded in
    /// `query-semantics--float-casts-out-of-range`): out of range, an integer is the
    /// most negative one; an unsigned takes the bits of the integer below 2^63.
    #[test]
    fn floats_cast_as_influxdb_casts_them() {
        let int = |f: f64| cast(Value::Float(f), Some(VarType::Integer));
        let uint = |f: f64| cast(Value::Float(f), Some(VarType::Unsigned));
        assert_eq!(int(-2.7), Value::Integer(-2));
        assert_eq!(int(1e19), Value::Integer(i64::MIN));
        assert_eq!(int(-1e19), Value::Integer(i64::MIN));
        assert_eq!(int(9.3e18), Value::Integer(i64::MIN));
        assert_eq!(int(-9_223_372_036_854_775_808.0), Value::Integer(i64::MIN));
        assert_eq!(uint(-1.5), Value::Unsigned(u64::MAX));
        assert_eq!(uint(-0.5), Value::Unsigned(0));
        assert_eq!(uint(-2.7), Value::Unsigned(u64::MAX - 1));
        assert_eq!(uint(2.5), Value::Unsigned(2));
        assert_eq!(uint(1e19), Value::Unsigned(10_000_000_000_000_000_000));
        assert_eq!(uint(9.3e18), Value::Unsigned(9_300_000_000_000_000_000));
        assert_eq!(uint(1e20), Value::Unsigned(1 << 63));
        assert_eq!(uint(-1e19), Value::Unsigned(1 << 63));
        assert_eq!(uint(f64::NAN), Value::Unsigned(1 << 63));
    }

    /// Unsigned arithmetic as InfluxDB 1.6.7's (recorded in
    /// `query-semantics--unsigned-arithmetic`): it wraps, divides whole, and by zero is 0.
    #[test]
    fn unsigned_arithmetic_wraps_and_divides_whole() {
        use BinaryOp::{Add, BitAnd, Div, Mod, Mul, Sub};
        use Value::{Float, Integer, Unsigned};
        let max = Unsigned(u64::MAX);
        assert_eq!(binary_value(Add, &max, &Integer(1)), Unsigned(0));
        assert_eq!(
            binary_value(Add, &Integer(-1), &max),
            Unsigned(u64::MAX - 1)
        );
        assert_eq!(binary_value(Sub, &Unsigned(2), &Integer(3)), max);
        assert_eq!(binary_value(Sub, &Integer(5), &max), Unsigned(6));
        assert_eq!(
            binary_value(Mul, &Unsigned(2), &Integer(-1)),
            Unsigned(u64::MAX - 1)
        );
        assert_eq!(binary_value(Div, &max, &Integer(2)), Unsigned(u64::MAX / 2));
        assert_eq!(binary_value(Div, &max, &Integer(0)), Unsigned(0));
        assert_eq!(binary_value(Mod, &Unsigned(5), &Integer(0)), Unsigned(0));
        assert_eq!(binary_value(BitAnd, &max, &Integer(1)), Unsigned(1));
        assert_eq!(binary_value(Add, &max, &max), Unsigned(u64::MAX - 1));
        assert_eq!(binary_value(Add, &Unsigned(2), &Float(1.5)), Float(3.5));
    }

    /// Whole numbers compare by value, not as floats: 2^64 - 1 is above 2^64 - 2 and
    /// above -1.
    #[test]
    fn whole_numbers_compare_exactly() {
        let holds = |cond: &str, v: f64| {
            let i = Value::Integer(9_007_199_254_740_993);
            holds_on(cond, &[("v", Value::Float(v)), ("i", i)])
        };
        assert!(holds("v::unsigned = 18446744073709551615", -1.5));
        assert!(!holds("v::unsigned = 18446744073709551614", -1.5));
        assert!(holds("v::unsigned > -1", -1.5));
        assert!(holds("v::unsigned > 2.5", -1.5));
        assert!(!holds("v::unsigned > 2", 2.5));
        assert!(holds("v::unsigned + 1 = 0", -1.5));
        assert!(holds("i > 9007199254740992", 0.0));
        assert!(!holds("i = 9007199254740992", 0.0));
    }

    /// Two names compared, on the points InfluxDB 1.6 answered for (host on every
    /// series, region on some, zone on one, `s` a string field, `b` a boolean on two,
    /// `missing` neither): the rows each condition kept there.
    #[test]
    fn names_compare_as_influxdb_compares_them() {
        let point = |tags: &[(&str, &str)], s: Option<&str>| {
            let tags: BTreeMap<String, String> = tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let mut fields = crate::hot::FieldMap::new();
            if let Some(s) = s {
                fields.insert(Arc::from("s"), Value::String(s.into()));
            }
            Point {
                time: 0,
                key: Arc::from("m"),
                tags: Arc::new(tags),
                fields,
            }
        };
        let mut points = [
            point(&[("host", "a")], Some("x")),
            point(&[("host", "b"), ("region", "eu")], Some("y")),
            point(&[("host", "c")], None),
            point(&[("host", "d"), ("region", "eu")], Some("")),
            point(&[("host", "eu"), ("region", "eu")], Some("eu")),
            point(&[("host", "f"), ("region", "f"), ("zone", "f")], Some("f")),
        ];
        points[0]
            .fields
            .insert(Arc::from("b"), Value::Boolean(true));
        points[1]
            .fields
            .insert(Arc::from("b"), Value::Boolean(false));
        let is_field = |n: &str| n == "s" || n == "b";
        let kept = |cond: &str| -> Vec<usize> {
            let q = format!("SELECT s FROM m WHERE {cond}");
            let Ok(mut parsed) = hyperbyte_timeseriesql::parse(&q) else {
                panic!("{q}")
            };
            let hyperbyte_timeseriesql::ast::Statement::Select(sel) = parsed.statements.remove(0)
            else {
                panic!("{q}")
            };
            let c = sel.condition.expect("a condition");
            (0..points.len())
                .filter(|&i| eval_stored_cond(&c, &points[i], &is_field))
                .map(|i| i + 1)
                .collect()
        };
        for (cond, want) in [
            ("host = host", vec![1, 2, 3, 4, 5, 6]),
            ("host != host", vec![]),
            ("host = region", vec![5, 6]),
            ("host != region", vec![1, 2, 3, 4]),
            ("region = region", vec![2, 4, 5, 6]),
            ("region != region", vec![1, 3]),
            ("region = zone", vec![6]),
            ("region != zone", vec![1, 2, 3, 4, 5]),
            ("zone != missing", vec![1, 2, 3, 4, 5, 6]),
            ("missing = missing", vec![]),
            ("missing != missing", vec![1, 2, 3, 4, 5, 6]),
            ("s = region", vec![5, 6]),
            ("s != region", vec![2, 4]),
            ("zone = s", vec![6]),
            ("zone != s", vec![]),
            ("s != missing", vec![]),
            ("missing = s", vec![]),
            ("host != s", vec![1, 2, 4]),
            // Arithmetic without a value is no empty string.
            ("s != 'a' | 1", vec![]),
            ("region != true * 2", vec![]),
            ("missing = ''", vec![1, 2, 3, 4, 5, 6]),
            // Beside a boolean, arithmetic without a value is `false`.
            ("b != 'a' % 'a'", vec![1]),
            ("b = 'a' % 'a'", vec![2]),
        ] {
            assert_eq!(kept(cond), want, "{cond}");
        }
    }

    /// [`eval_raw`] without the per-series values: every cell evaluated in its row.
    fn by_rows(cols: &[OutCol], pts: &[Point]) -> Vec<Vec<Value>> {
        pts.iter()
            .map(|p| {
                std::iter::once(Value::Time(p.time))
                    .chain(cols.iter().map(|c| eval_point(&c.expr, p)))
                    .collect()
            })
            .collect()
    }

    fn col(name: &str, data_type: Option<VarType>) -> OutCol {
        OutCol {
            name: name.to_string(),
            expr: Expr::VarRef {
                name: name.to_string(),
                data_type,
            },
            aliased: false,
        }
    }

    proptest! {
        #[test]
        fn tag_columns_once_per_series_give_every_rows_values(
            series in prop::collection::vec((0u8..4, 0u8..3), 1..5),
            picks in prop::collection::vec((0usize..5, 0i64..5, any::<bool>()), 0..30),
        ) {
            let made = super::super::tests::coded_series(&series);
            let pts: Vec<Point> = picks
                .iter()
                .map(|(s, time, has_v)| {
                    let (key, tags) = &made[s % made.len()];
                    let mut fields = crate::hot::FieldMap::new();
                    if *has_v {
                        fields.insert(Arc::from("v"), Value::Float(*time as f64));
                    }
                    Point { time: *time, key: Arc::clone(key), tags: Arc::clone(tags), fields }
                })
                .collect();
            let cols = [
                col("host", Some(VarType::Tag)),
                col("v", Some(VarType::Field)),
                col("region", Some(VarType::Tag)),
                col("host", None),
                col("nope", Some(VarType::Tag)),
            ];
            // As the caller passes them.
            let names = referenced_names(&cols);
            let pts: Vec<Point> = pts.into_iter().filter(|p| holds_any(p, &names)).collect();
            prop_assert_eq!(eval_raw(&cols, &pts), by_rows(&cols, &pts));
        }
    }
}
