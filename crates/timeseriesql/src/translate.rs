//! Translation of InfluxQL pieces into ClickHouse SQL over HyperbyteDB's storage layout.
//!
//! Architecture invariant: this module produces SQL text and never executes it. Every
//! identifier comes from `hyperbyte_domain::naming` (quoted with backticks) and every
//! literal is escaped with `naming::quote_string`, so hostile names and strings cannot
//! change the statement's structure.
//!
//! The storage layout (see `docs/architecture.md`): one table per (database, retention
//! policy, measurement), `time DateTime64(9)`, tags as `t_<name>` strings (`''` when
//! absent), fields as nullable `f_<name>` columns.

use crate::ast::{BinaryOp, Expr, VarType};
use hyperbyte_domain::naming::{quote_ident, quote_string};
use hyperbyte_domain::FieldType;
use std::fmt::Write as _;

/// What a name in a condition refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRef {
    /// A tag, with its column name.
    Tag(String),
    /// A field, with its column name and type.
    Field(String, FieldType),
    /// Neither: InfluxDB treats it as a missing tag (the empty string) for string
    /// comparisons and as null otherwise.
    Missing,
}

/// A condition InfluxDB rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// An unsupported construct, with InfluxDB's wording where it has one.
    #[error("{0}")]
    Unsupported(String),
}

/// One side of a comparison after resolution.
enum Operand {
    /// SQL text, its kind, and whether it can be null (fields and arithmetic on them can;
    /// tags, which are `''` when absent, and literals cannot).
    Sql(String, Kind, Nullable),
    Null,
}

/// Whether an operand's SQL can evaluate to `NULL`.
///
/// A comparison of two operands that cannot is rendered bare (`t_host = 'a'`) rather than
/// under `ifNull(…, 0)`: the engine's primary-key analysis understands the bare form
/// only, so a tag condition on a sort-key column then selects granules instead of
/// reading every row of the time range (measured: one host over one hour, 864k-row
/// table, 6–7 ms → under 2 ms).
type Nullable = bool;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Integers (integer fields, integer and duration literals).
    Int,
    /// Unsigned integers (unsigned fields, anything read `::unsigned`, literals past
    /// the integers' range).
    Uint,
    /// Floats.
    Float,
    String,
    Bool,
    Regex,
}

impl Kind {
    fn is_number(self) -> bool {
        matches!(self, Kind::Int | Kind::Uint | Kind::Float)
    }

    /// Whether values of the two kinds compare (integers with floats do).
    fn compares_with(self, other: Kind) -> bool {
        self == other || (self.is_number() && other.is_number())
    }
}

fn kind_of(t: FieldType) -> Kind {
    match t {
        FieldType::Float => Kind::Float,
        FieldType::Integer => Kind::Int,
        FieldType::Unsigned => Kind::Uint,
        FieldType::String => Kind::String,
        FieldType::Boolean => Kind::Bool,
    }
}

/// Arithmetic in a condition with InfluxDB's semantics, which the engine's operators do
/// not all share: integer `/` divides as integers, `/ 0` and integer `% 0` give 0, float
/// `% 0` gives no value, and bitwise operators take integers only (anything else gives no
/// value, so the comparison matches nothing). None of these may raise an engine error.
/// An unsigned beside an integer computes in unsigned ([`unsigned_arithmetic`]).
fn arithmetic(
    op: BinaryOp,
    (a, ka, na): (&str, Kind, Nullable),
    (b, kb, nb): (&str, Kind, Nullable),
) -> Operand {
    let whole = |k: Kind| matches!(k, Kind::Int | Kind::Uint);
    if whole(ka) && whole(kb) && (ka == Kind::Uint || kb == Kind::Uint) {
        return unsigned_arithmetic(op, (a, ka, na), (b, kb, nb));
    }
    let ints = ka == Kind::Int && kb == Kind::Int;
    let kind = if ints { Kind::Int } else { Kind::Float };
    let sql = match op {
        BinaryOp::Add => format!("({a} + {b})"),
        BinaryOp::Sub => format!("({a} - {b})"),
        BinaryOp::Mul => format!("({a} * {b})"),
        BinaryOp::Div if ints => format!("intDivOrZero({a}, {b})"),
        BinaryOp::Div => format!("if(({b}) = 0, 0, {a} / {b})"),
        BinaryOp::Mod if ints => format!("moduloOrZero({a}, {b})"),
        BinaryOp::Mod => format!("if(({b}) = 0, NULL, {a} % {b})"),
        BinaryOp::BitAnd if ints => format!("bitAnd({a}, {b})"),
        BinaryOp::BitOr if ints => format!("bitOr({a}, {b})"),
        BinaryOp::BitXor if ints => format!("bitXor({a}, {b})"),
        _ => return Operand::Null,
    };
    let yields_null = op == BinaryOp::Mod && !ints;
    Operand::Sql(sql, kind, na || nb || yields_null)
}

/// Unsigned arithmetic as InfluxDB's: both sides as unsigned (an integer side takes its
/// bits, `toUInt64(-1)` is 2^64 - 1; an unsigned side already is one, and wrapping it
/// again would only deepen a chain's expression), the result modulo 2^64 (the engine's
/// unsigned `-` gives a signed type, which the outer `toUInt64` wraps back), whole
/// division, and 0 for a division or remainder by zero.
fn unsigned_arithmetic(
    op: BinaryOp,
    (a, ka, na): (&str, Kind, Nullable),
    (b, kb, nb): (&str, Kind, Nullable),
) -> Operand {
    let as_unsigned = |sql: &str, k: Kind| match k {
        Kind::Uint => sql.to_string(),
        _ => format!("toUInt64({sql})"),
    };
    let (a, b) = (as_unsigned(a, ka), as_unsigned(b, kb));
    let sql = match op {
        BinaryOp::Add => format!("toUInt64({a} + {b})"),
        BinaryOp::Sub => format!("toUInt64({a} - {b})"),
        BinaryOp::Mul => format!("toUInt64({a} * {b})"),
        BinaryOp::Div => format!("intDivOrZero({a}, {b})"),
        BinaryOp::Mod => format!("moduloOrZero({a}, {b})"),
        BinaryOp::BitAnd => format!("bitAnd({a}, {b})"),
        BinaryOp::BitOr => format!("bitOr({a}, {b})"),
        BinaryOp::BitXor => format!("bitXor({a}, {b})"),
        _ => return Operand::Null,
    };
    Operand::Sql(sql, Kind::Uint, na || nb)
}

fn float_sql(f: f64) -> String {
    if f.is_finite() {
        let s = format!("{f:?}");
        s
    } else {
        "nan".to_string()
    }
}

/// Translates a `WHERE` condition (with time terms already removed or to be ignored) into
/// a ClickHouse boolean expression. `resolve` maps a name to its column.
pub fn condition_sql(
    e: &Expr,
    resolve: &dyn Fn(&str) -> ColumnRef,
) -> Result<String, TranslateError> {
    match e {
        Expr::Paren(inner) => condition_sql(inner, resolve),
        Expr::Binary { op, lhs, rhs } => match op {
            BinaryOp::And | BinaryOp::Or => {
                let kw = if *op == BinaryOp::And {
                    " AND "
                } else {
                    " OR "
                };
                let mut out = String::from("(");
                for (i, term) in chain_terms(*op, lhs, rhs).into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(kw);
                    }
                    out.push_str(&condition_sql(term, resolve)?);
                }
                out.push(')');
                Ok(out)
            }
            op if op.is_comparison() => {
                if lhs.is_time_ref() || rhs.is_time_ref() {
                    return Ok("1".to_string());
                }
                comparison(*op, lhs, rhs, resolve)
            }
            _ => Err(TranslateError::Unsupported(format!(
                "invalid condition expression: {e}"
            ))),
        },
        Expr::Boolean(b) => Ok(if *b { "1" } else { "0" }.to_string()),
        Expr::VarRef { name, .. } => match resolve(name) {
            ColumnRef::Field(col, FieldType::Boolean) => {
                Ok(format!("ifNull({}, 0)", quote_ident(&col)))
            }
            _ => Ok("0".to_string()),
        },
        other => Err(TranslateError::Unsupported(format!(
            "invalid condition expression: {other}"
        ))),
    }
}

/// The terms of a chain of one boolean operator (`a OR b OR c`, parenthesised or not), in
/// order. The parser builds such a chain as a left-deep tree, one level per operator; the
/// engine's parser counts the nesting of the SQL it is given (`max_parser_depth`, 1000),
/// so a chain is rendered flat (`(a OR b OR c)`): a Grafana-style condition listing a
/// thousand hosts used to fail in the engine with "Maximum parse depth exceeded".
/// Walked with an explicit stack so the chain's length never deepens the call stack.
fn chain_terms<'e>(op: BinaryOp, lhs: &'e Expr, rhs: &'e Expr) -> Vec<&'e Expr> {
    let mut terms = Vec::new();
    let mut pending = vec![rhs, lhs];
    while let Some(e) = pending.pop() {
        match e.unparen() {
            Expr::Binary { op: o, lhs, rhs } if *o == op => {
                pending.push(rhs);
                pending.push(lhs);
            }
            _ => terms.push(e),
        }
    }
    terms
}

fn operand(e: &Expr, resolve: &dyn Fn(&str) -> ColumnRef) -> Result<Operand, TranslateError> {
    Ok(match e.unparen() {
        Expr::VarRef { name, data_type } => match resolve(name) {
            ColumnRef::Tag(c) => Operand::Sql(quote_ident(&c), Kind::String, false),
            // A float read `::integer` is truncated towards zero, as InfluxDB's cursor
            // casts it (`v::integer > 3` leaves 3.25 out); an unsigned takes its bits.
            ColumnRef::Field(c, FieldType::Float | FieldType::Unsigned)
                if *data_type == Some(VarType::Integer) =>
            {
                Operand::Sql(format!("toInt64({})", quote_ident(&c)), Kind::Int, true)
            }
            // Read `::unsigned`, a float or an integer converts as InfluxDB's (Go's)
            // conversion does: -1.5 and -1 are 18446744073709551615, 1e20 is 2^63. The
            // engine's `toUInt64` gives the same on x86-64 (and `toInt64` above the most
            // negative integer out of range, as InfluxDB does); the processor decides
            // both, so the recorded case `query-semantics--float-casts-out-of-range`,
            // replayed with the recent-data tier off, pins them.
            ColumnRef::Field(c, FieldType::Float | FieldType::Integer)
                if *data_type == Some(VarType::Unsigned) =>
            {
                Operand::Sql(format!("toUInt64({})", quote_ident(&c)), Kind::Uint, true)
            }
            ColumnRef::Field(c, t) => Operand::Sql(quote_ident(&c), kind_of(t), true),
            ColumnRef::Missing => Operand::Null,
        },
        Expr::Integer(i) => Operand::Sql(i.to_string(), Kind::Int, false),
        Expr::Unsigned(u) => Operand::Sql(u.to_string(), Kind::Uint, false),
        Expr::Float(f) => Operand::Sql(float_sql(*f), Kind::Float, false),
        Expr::Duration(d) => Operand::Sql(d.to_string(), Kind::Int, false),
        Expr::String(s) => Operand::Sql(quote_string(s), Kind::String, false),
        Expr::Boolean(b) => {
            Operand::Sql(if *b { "true" } else { "false" }.into(), Kind::Bool, false)
        }
        Expr::Regex(r) => Operand::Sql(quote_string(&r.pattern), Kind::Regex, false),
        Expr::Binary { op, lhs, rhs } if !op.is_boolean() => {
            let l = operand(lhs, resolve)?;
            let r = operand(rhs, resolve)?;
            match (l, r) {
                (Operand::Sql(a, ka, na), Operand::Sql(b, kb, nb))
                    if ka.is_number() && kb.is_number() =>
                {
                    arithmetic(*op, (&a, ka, na), (&b, kb, nb))
                }
                _ => Operand::Null,
            }
        }
        other => {
            return Err(TranslateError::Unsupported(format!(
                "invalid condition expression: {other}"
            )))
        }
    })
}

fn comparison(
    op: BinaryOp,
    lhs: &Expr,
    rhs: &Expr,
    resolve: &dyn Fn(&str) -> ColumnRef,
) -> Result<String, TranslateError> {
    if let Some(sql) = names_compared(op, lhs, rhs, resolve) {
        return Ok(sql);
    }
    let l = operand(lhs, resolve)?;
    let r = operand(rhs, resolve)?;
    // A missing name behaves as an empty tag in string comparisons, else as null. (No
    // value, from arithmetic that has none, stays null: it matches nothing.)
    let missing = |e: &Expr| matches!(name_of(e, resolve), Some(Name::TagLike(None)));
    let (l_missing, r_missing) = (missing(lhs), missing(rhs));
    // Beside a boolean, arithmetic without a value reads as `false` (InfluxDB casts its
    // nil so): `b != 'a' % 'a'` holds where `b` is true.
    let as_string_or_null = |o: Operand, is_missing: bool, other_kind: Option<Kind>| match o {
        Operand::Null
            if is_missing && matches!(other_kind, Some(Kind::String) | Some(Kind::Regex)) =>
        {
            Operand::Sql("''".to_string(), Kind::String, false)
        }
        Operand::Null if !is_missing && other_kind == Some(Kind::Bool) => {
            Operand::Sql("false".to_string(), Kind::Bool, false)
        }
        o => o,
    };
    let rk = match &r {
        Operand::Sql(_, k, _) => Some(*k),
        Operand::Null => None,
    };
    let lk = match &l {
        Operand::Sql(_, k, _) => Some(*k),
        Operand::Null => None,
    };
    let l = as_string_or_null(l, l_missing, rk);
    let r = as_string_or_null(r, r_missing, lk);
    let (Operand::Sql(a, ka, na), Operand::Sql(b, kb, nb)) = (l, r) else {
        return Ok("0".to_string());
    };
    let mut out = String::new();
    match op {
        BinaryOp::EqRegex | BinaryOp::NotEqRegex => {
            let ((subject, plain_string), pattern) = if kb == Kind::Regex {
                ((a, !na && ka == Kind::String), b)
            } else if ka == Kind::Regex {
                ((b, !nb && kb == Kind::String), a)
            } else {
                return Ok("0".into());
            };
            // A tag is a string already; `toString` around it would hide the sort-key
            // column from the engine's prefix analysis of the pattern.
            let subject_text = if plain_string {
                subject.clone()
            } else {
                format!("toString({subject})")
            };
            let not = if op == BinaryOp::NotEqRegex {
                "NOT "
            } else {
                ""
            };
            let _ = write!(out, "{not}match({subject_text}, {pattern})");
            if op == BinaryOp::NotEqRegex && !plain_string {
                // A null field never matches either way.
                return Ok(format!("({subject} IS NOT NULL AND {out})"));
            }
            Ok(out)
        }
        _ => {
            let ordering = !matches!(op, BinaryOp::Eq | BinaryOp::NotEq);
            if !ka.compares_with(kb) || (ordering && !(ka.is_number() && kb.is_number())) {
                // InfluxDB: comparing incompatible types matches nothing (`!=` neither),
                // and `<`, `<=`, `>`, `>=` compare numbers only (strings, tags and
                // booleans never match them).
                return Ok("0".into());
            }
            let sym = match op {
                BinaryOp::Eq => "=",
                BinaryOp::NotEq => "!=",
                BinaryOp::Lt => "<",
                BinaryOp::LtEq => "<=",
                BinaryOp::Gt => ">",
                BinaryOp::GtEq => ">=",
                _ => "=",
            };
            if na || nb {
                let _ = write!(out, "ifNull({a} {sym} {b}, 0)");
            } else {
                let _ = write!(out, "({a} {sym} {b})");
            }
            Ok(out)
        }
    }
}

/// What a bare name in a comparison is, for [`names_compared`].
enum Name {
    /// A tag's column, or `None` for a name that is neither tag nor field (a tag no
    /// series carries).
    TagLike(Option<String>),
    /// A string field's column.
    StringField(String),
}

fn name_of(e: &Expr, resolve: &dyn Fn(&str) -> ColumnRef) -> Option<Name> {
    let Expr::VarRef { name, .. } = e.unparen() else {
        return None;
    };
    match resolve(name) {
        ColumnRef::Tag(c) => Some(Name::TagLike(Some(c))),
        ColumnRef::Missing => Some(Name::TagLike(None)),
        ColumnRef::Field(c, FieldType::String) => Some(Name::StringField(c)),
        ColumnRef::Field(..) => None,
    }
}

/// `=` and `!=` between two names where at least one is a tag (or neither tag nor
/// field), with InfluxDB's semantics, which differ from comparing the values with an
/// absent tag as `''` (checked against InfluxDB 1.6):
/// - two tags: `a = b` holds when `a` is present and both are equal (an absent tag
///   equals nothing, not even itself); `a != b` is its negation, so it holds on series
///   without `a`;
/// - a string field and a tag: the point is compared with the tag's value, and matches
///   neither way when the series lacks the tag.
///
/// `None` for any other comparison.
fn names_compared(
    op: BinaryOp,
    lhs: &Expr,
    rhs: &Expr,
    resolve: &dyn Fn(&str) -> ColumnRef,
) -> Option<String> {
    let negated = match op {
        BinaryOp::Eq => false,
        BinaryOp::NotEq => true,
        _ => return None,
    };
    let sym = if negated { "!=" } else { "=" };
    let tag = |t: &Option<String>| t.as_deref().map(quote_ident);
    Some(match (name_of(lhs, resolve)?, name_of(rhs, resolve)?) {
        (Name::TagLike(a), Name::TagLike(b)) => match (tag(&a), tag(&b)) {
            (Some(a), Some(b)) if negated => format!("(({a} = '') OR ({a} != {b}))"),
            (Some(a), Some(b)) => format!("(({a} != '') AND ({a} = {b}))"),
            _ => (if negated { "1" } else { "0" }).to_string(),
        },
        (Name::StringField(f), Name::TagLike(t)) | (Name::TagLike(t), Name::StringField(f)) => {
            match tag(&t) {
                Some(t) => format!("(({t} != '') AND ifNull({} {sym} {t}, 0))", quote_ident(&f)),
                None => "0".to_string(),
            }
        }
        (Name::StringField(_), Name::StringField(_)) => return None,
    })
}

/// `fromUnixTimestamp64Nano(n)` literal for a time bound.
pub fn time_literal(nanos: i64) -> String {
    format!("fromUnixTimestamp64Nano(toInt64({nanos}))")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ast::Statement;

    fn where_of(q: &str) -> Expr {
        match crate::parse(q).unwrap().statements.remove(0) {
            Statement::Select(s) => s.condition.unwrap(),
            _ => unreachable!(),
        }
    }

    fn resolve(name: &str) -> ColumnRef {
        match name {
            "host" => ColumnRef::Tag("t_host".into()),
            "value" => ColumnRef::Field("f_value".into(), FieldType::Float),
            "msg" => ColumnRef::Field("f_msg".into(), FieldType::String),
            "ok" => ColumnRef::Field("f_ok".into(), FieldType::Boolean),
            _ => ColumnRef::Missing,
        }
    }

    #[test]
    fn snapshots() {
        let cases = [
            (
                "SELECT value FROM cpu WHERE host = 'a' AND value > 5",
                "((`t_host` = 'a') AND ifNull(`f_value` > 5, 0))",
            ),
            (
                "SELECT value FROM cpu WHERE host =~ /^a.*/ OR msg = 'x'",
                "(match(`t_host`, '^a.*') OR ifNull(`f_msg` = 'x', 0))",
            ),
            (
                "SELECT value FROM cpu WHERE nosuch = 'x'",
                "('' = 'x')",
            ),
            (
                "SELECT value FROM cpu WHERE host = 'it\\'s' AND time > now() - 1h",
                "((`t_host` = 'it\\'s') AND 1)",
            ),
            ("SELECT value FROM cpu WHERE value = 'x'", "0"),
            (
                "SELECT value FROM cpu WHERE value::integer > 3",
                "ifNull(toInt64(`f_value`) > 3, 0)",
            ),
            (
                "SELECT value FROM cpu WHERE value::float > 3",
                "ifNull(`f_value` > 3, 0)",
            ),
            (
                "SELECT value FROM cpu WHERE value::unsigned > 3",
                "ifNull(toUInt64(`f_value`) > 3, 0)",
            ),
            (
                "SELECT value FROM cpu WHERE value::unsigned - 3 > 5",
                "ifNull(toUInt64(toUInt64(`f_value`) - toUInt64(3)) > 5, 0)",
            ),
            (
                "SELECT value FROM cpu WHERE value::unsigned / 0 = 0",
                "ifNull(intDivOrZero(toUInt64(`f_value`), toUInt64(0)) = 0, 0)",
            ),
            (
                "SELECT value FROM cpu WHERE host = host",
                "((`t_host` != '') AND (`t_host` = `t_host`))",
            ),
            (
                "SELECT value FROM cpu WHERE host != host",
                "((`t_host` = '') OR (`t_host` != `t_host`))",
            ),
            ("SELECT value FROM cpu WHERE nosuch = host", "0"),
            ("SELECT value FROM cpu WHERE host != nosuch", "1"),
            (
                "SELECT value FROM cpu WHERE msg != host",
                "((`t_host` != '') AND ifNull(`f_msg` != `t_host`, 0))",
            ),
            ("SELECT value FROM cpu WHERE nosuch = msg", "0"),
            ("SELECT value FROM cpu WHERE msg = msg", "ifNull(`f_msg` = `f_msg`, 0)"),
            // Arithmetic without a value (a string in it) is no empty string.
            ("SELECT value FROM cpu WHERE msg != 'a' | 1", "0"),
            ("SELECT value FROM cpu WHERE host != true * 2", "0"),
            ("SELECT value FROM cpu WHERE nosuch !~ /x/", "NOT match('', 'x')"),
            ("SELECT value FROM cpu WHERE ok != 'a' % 'a'", "ifNull(`f_ok` != false, 0)"),
            ("SELECT value FROM cpu WHERE ok = nosuch", "0"),
            (
                "SELECT value FROM cpu WHERE host !~ /^a/ AND msg !~ /b/",
                "(NOT match(`t_host`, '^a') AND (`f_msg` IS NOT NULL AND NOT match(toString(`f_msg`), 'b')))",
            ),
            ("SELECT value FROM cpu WHERE 5 =~ /5/", "match(toString(5), '5')"),
            (
                "SELECT value FROM cpu WHERE host = 'a' OR (host = 'b' OR host = 'c') OR value > 1",
                "((`t_host` = 'a') OR (`t_host` = 'b') OR (`t_host` = 'c') OR ifNull(`f_value` > 1, 0))",
            ),
            (
                "SELECT value FROM cpu WHERE (host = 'a' OR host = 'b') AND value > 1 AND msg = 'x'",
                "(((`t_host` = 'a') OR (`t_host` = 'b')) AND ifNull(`f_value` > 1, 0) AND ifNull(`f_msg` = 'x', 0))",
            ),
        ];
        for (q, want) in cases {
            let e = where_of(q);
            assert_eq!(condition_sql(&e, &resolve).unwrap(), want, "{q}");
        }
    }

    /// InfluxDB's arithmetic in conditions (checked against InfluxDB 1.6): integer
    /// division truncates, `/ 0` and integer `% 0` are 0, float `% 0` and bitwise
    /// operators on floats are no value; none may raise an engine error (the query fuzz
    /// found `bitOr(Float64, …)` and `% 0` failing in the engine).
    #[test]
    fn arithmetic_follows_influxdb_and_never_raises() {
        let resolve = |name: &str| match name {
            "i" => ColumnRef::Field("f_i".into(), FieldType::Integer),
            other => resolve(other),
        };
        let cases = [
            ("i / 2 = 1", "ifNull(intDivOrZero(`f_i`, 2) = 1, 0)"),
            ("-5 % 0 = 0", "(moduloOrZero(-5, 0) = 0)"),
            (
                "value / 0 = 0",
                "ifNull(if((0) = 0, 0, `f_value` / 0) = 0, 0)",
            ),
            (
                "value % 0 = 0",
                "ifNull(if((0) = 0, NULL, `f_value` % 0) = 0, 0)",
            ),
            ("i | 1 = 3", "ifNull(bitOr(`f_i`, 1) = 3, 0)"),
            ("value | 1 = 3", "0"),
            ("host < 'b'", "0"),
            ("msg >= 'a'", "0"),
            ("host != 5", "0"),
            ("'a' != 0", "0"),
            ("16 ^ 12.5 > 0", "0"),
            ("i + 1.5 > value", "ifNull((`f_i` + 1.5) > `f_value`, 0)"),
        ];
        for (cond, want) in cases {
            let e = where_of(&format!("SELECT value FROM cpu WHERE {cond}"));
            assert_eq!(condition_sql(&e, &resolve).unwrap(), want, "{cond}");
        }
    }

    /// The engine refuses SQL nested deeper than 1,000 levels; a chain of one operator
    /// is rendered flat however long it is (the parser accepts up to 8,000 operators).
    #[test]
    fn long_chains_render_flat() {
        let terms: Vec<String> = (0..3_000).map(|i| format!("host = 'h{i}'")).collect();
        let e = where_of(&format!(
            "SELECT value FROM cpu WHERE {}",
            terms.join(" OR ")
        ));
        let sql = condition_sql(&e, &resolve).unwrap();
        assert_eq!(
            sql.matches('(').count(),
            3_001,
            "one level per term, one around"
        );
        assert!(sql.starts_with("((`t_host` = 'h0') OR (`t_host` = 'h1') OR "));
        assert!(sql.ends_with(" OR (`t_host` = 'h2999'))"));
    }

    #[test]
    fn hostile_strings_stay_literals() {
        let e = where_of("SELECT value FROM cpu WHERE host = 'x\\' OR 1=1 --'");
        let sql = condition_sql(&e, &resolve).unwrap();
        assert!(sql.starts_with("(`t_host` = '"), "{sql}");
        assert!(sql.ends_with("')"), "{sql}");
    }
}
