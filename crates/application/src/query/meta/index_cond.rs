//! How InfluxDB 1.6 reads the `WHERE` of `SHOW SERIES`, `SHOW TAG KEYS` and `SHOW TAG
//! VALUES` (all checked against it), before its series index evaluates what is left.
//!
//! It first folds constants (its `Reduce`: `1 = 1` is `true`, `'a' + 'b'` is `'ab'`,
//! `x AND false` is `false`), then refuses an ordering operator on anything but time,
//! then hands the index each comparison. The index decides a name against a string, a
//! regex or another name; every other comparison (a name against a number, a boolean or
//! arithmetic, two literals, a field) it cannot decide and lets every series through.
//! This module does the folding and the refusals and writes the undecidable terms as
//! `true`; the fields and `_name` are left to [`crate::query::cond`], which knows the
//! measurement. The three statements differ in small ways, kept in [`IndexStatement`].

use super::StatementError;
use hyperbyte_timeseriesql::ast::{BinaryOp, Expr};

/// The statement whose condition is read; each reads a literal on the left differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IndexStatement {
    /// `SHOW SERIES`: `'a' = host` is `host = 'a'`; a condition folded to `false` lists
    /// nothing.
    Series,
    /// `SHOW TAG KEYS`: a literal on the left lets every series through; `false` is an
    /// error.
    TagKeys,
    /// `SHOW TAG VALUES`: a literal on the left is an error, as is `false`.
    TagValues,
}

/// The condition `statement` evaluates against the series index (`None`: every series),
/// or InfluxDB's error for it.
pub(super) fn index_condition(
    cond: &Expr,
    statement: IndexStatement,
) -> Result<Option<Expr>, StatementError> {
    let reduced = folded(cond);
    match reduced {
        Expr::Boolean(true) => return Ok(None),
        Expr::Boolean(false) if statement == IndexStatement::Series => {
            return Ok(Some(Expr::Boolean(false)))
        }
        Expr::Boolean(b) => return Err(literal_error(&Expr::Boolean(b))),
        _ => {}
    }
    check(&reduced, statement)?;
    Ok(match decidable(reduced, statement) {
        Expr::Boolean(true) => None,
        other => Some(other),
    })
}

/// InfluxDB's text for a lone name or literal where a condition belongs (Go's `%#v` of
/// its node; Rust's `{:?}` of a string escapes as Go's `%q` does but for rare control
/// and combining characters), as `SHOW MEASUREMENTS` and a condition folded to `false`
/// answer.
pub(super) fn literal_error(e: &Expr) -> StatementError {
    use hyperbyte_timeseriesql::ast::VarType;
    let text = match e {
        Expr::Boolean(b) => format!("&influxql.BooleanLiteral{{Val:{b}}}"),
        Expr::Integer(i) => format!("&influxql.IntegerLiteral{{Val:{i}}}"),
        Expr::Unsigned(u) => format!("&influxql.UnsignedLiteral{{Val:{u:#x}}}"),
        Expr::Float(f) => format!("&influxql.NumberLiteral{{Val:{f}}}"),
        Expr::Duration(d) => format!("&influxql.DurationLiteral{{Val:{d}}}"),
        Expr::String(s) => format!("&influxql.StringLiteral{{Val:{s:?}}}"),
        Expr::VarRef { name, data_type } => {
            // InfluxQL's `DataType` numbering.
            let code = match data_type {
                None => 0,
                Some(VarType::Float) => 1,
                Some(VarType::Integer) => 2,
                Some(VarType::String) => 3,
                Some(VarType::Boolean) => 4,
                Some(VarType::Tag) => 7,
                Some(VarType::Field) => 8,
                Some(VarType::Unsigned) => 9,
            };
            format!("&influxql.VarRef{{Val:{name:?}, Type:{code}}}")
        }
        Expr::Call { name, args } if args.is_empty() => {
            format!("&influxql.Call{{Name:{name:?}, Args:[]influxql.Expr(nil)}}")
        }
        other => format!("invalid condition expression: {other}"),
    };
    StatementError::new(text)
}

/// Constants folded as InfluxDB's `Reduce` does, `AND` and `OR` with a boolean side
/// folded away; parentheses around what is left are dropped.
pub(super) fn folded(e: &Expr) -> Expr {
    match e {
        Expr::Paren(inner) => folded(inner),
        Expr::Binary { op, lhs, rhs } if matches!(op, BinaryOp::And | BinaryOp::Or) => {
            join(*op, folded(lhs), folded(rhs))
        }
        Expr::Binary { op, lhs, rhs } if op.is_comparison() => {
            let folded = Expr::binary(*op, concatenated(lhs), concatenated(rhs));
            match crate::query::select::constant_comparison(&folded) {
                Some(b) => Expr::Boolean(b),
                None => folded,
            }
        }
        other => other.clone(),
    }
}

/// `'a' + 'b'` as `'ab'` (strings concatenate under `+`); anything else unchanged.
fn concatenated(e: &Expr) -> Expr {
    if let Expr::Binary {
        op: BinaryOp::Add,
        lhs,
        rhs,
    } = e.unparen()
    {
        if let (Expr::String(a), Expr::String(b)) = (concatenated(lhs), concatenated(rhs)) {
            return Expr::String(a + &b);
        }
    }
    e.clone()
}

/// `lhs op rhs` for `AND` or `OR`, a boolean side folded away.
fn join(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    let and = op == BinaryOp::And;
    match (lhs, rhs) {
        (Expr::Boolean(b), other) | (other, Expr::Boolean(b)) => {
            if b == and {
                other // `true AND x`, `false OR x`
            } else {
                Expr::Boolean(b) // `false AND x`, `true OR x`
            }
        }
        (l, r) => Expr::binary(op, l, r),
    }
}

/// The refusals, in InfluxDB's order: what is not a comparison, an ordering operator on
/// anything but time, and for `SHOW TAG VALUES` a comparison without a name on the left.
fn check(e: &Expr, statement: IndexStatement) -> Result<(), StatementError> {
    let Expr::Binary { op, lhs, rhs } = e else {
        return Err(StatementError::new(format!(
            "invalid condition expression: {e}"
        )));
    };
    if matches!(op, BinaryOp::And | BinaryOp::Or) {
        check(lhs, statement)?;
        return check(rhs, statement);
    }
    if !op.is_comparison() {
        return Err(StatementError::new(format!(
            "invalid condition expression: {e}"
        )));
    }
    if lhs.is_time_ref() || rhs.is_time_ref() {
        return Ok(());
    }
    if !matches!(
        op,
        BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::EqRegex | BinaryOp::NotEqRegex
    ) {
        return Err(StatementError::new("invalid tag comparison operator"));
    }
    let regex = matches!(op, BinaryOp::EqRegex | BinaryOp::NotEqRegex);
    if regex && !matches!(rhs.unparen(), Expr::Regex(_)) {
        return Err(StatementError::new(format!(
            "right side of '{}' must be a regular expression",
            op.as_str()
        )));
    }
    if statement == IndexStatement::TagValues && !matches!(lhs.unparen(), Expr::VarRef { .. }) {
        return Err(StatementError::new(format!(
            "left side of '{}' must be a tag key",
            op.as_str()
        )));
    }
    Ok(())
}

/// The checked condition with every comparison the index cannot decide written as
/// `true` (and folded away), and `'a' = host` turned round where the statement does.
fn decidable(e: Expr, statement: IndexStatement) -> Expr {
    let Expr::Binary { op, lhs, rhs } = e else {
        return e;
    };
    if matches!(op, BinaryOp::And | BinaryOp::Or) {
        return join(op, decidable(*lhs, statement), decidable(*rhs, statement));
    }
    if lhs.is_time_ref() || rhs.is_time_ref() {
        return Expr::Binary { op, lhs, rhs };
    }
    let (lhs, rhs) = match (lhs.unparen(), rhs.unparen()) {
        (Expr::VarRef { .. }, _) => (lhs, rhs),
        (_, Expr::VarRef { .. }) if statement == IndexStatement::Series => (rhs, lhs),
        _ => return Expr::Boolean(true),
    };
    match rhs.unparen() {
        Expr::String(_) | Expr::Regex(_) | Expr::VarRef { .. } => Expr::Binary { op, lhs, rhs },
        _ => Expr::Boolean(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(q: &str, statement: IndexStatement) -> Result<Option<String>, String> {
        let parsed =
            hyperbyte_timeseriesql::parse(&format!("SELECT v FROM m WHERE {q}")).expect("parses");
        let hyperbyte_timeseriesql::ast::Statement::Select(s) = &parsed.statements[0] else {
            panic!("a select")
        };
        index_condition(s.condition.as_ref().expect("a condition"), statement)
            .map(|c| c.map(|e| e.to_string()))
            .map_err(|e| e.0)
    }

    #[test]
    fn constants_fold_before_the_index_reads() {
        use IndexStatement::*;
        assert_eq!(cond("1 = 1", Series), Ok(None));
        assert_eq!(cond("1 = 2", Series), Ok(Some("false".into())));
        assert_eq!(
            cond("host = 'a' AND 1 = 2", Series),
            Ok(Some("false".into()))
        );
        assert_eq!(
            cond("host = 'a' OR 1 = 2", Series),
            Ok(Some("host = 'a'".into()))
        );
        assert_eq!(
            cond("host = 'a' + 'b'", Series),
            Ok(Some("host = 'ab'".into()))
        );
        assert_eq!(cond("'a' + 'b' = 'ab'", TagKeys), Ok(None));
        assert_eq!(
            cond("host =~ /a/ OR 2 > 1", Series),
            Ok(None),
            "an ordering of constants folds before it is refused"
        );
        for s in [TagKeys, TagValues] {
            assert_eq!(
                cond("host = 'a' AND 1 = 2", s),
                Err("&influxql.BooleanLiteral{Val:false}".into())
            );
        }
    }

    #[test]
    fn what_the_index_cannot_decide_lets_every_series_through() {
        use IndexStatement::*;
        for q in [
            "host = 5",
            "host != 5",
            "host = true",
            "host = 1 + 1",
            "'a' = 5",
        ] {
            assert_eq!(cond(q, Series), Ok(None), "{q}");
        }
        assert_eq!(
            cond("host = 5 AND region = 'eu'", Series),
            Ok(Some("region = 'eu'".into()))
        );
        assert_eq!(cond("host = 5 OR host = 'a'", TagValues), Ok(None));
        assert_eq!(cond("'b' = host", Series), Ok(Some("host = 'b'".into())));
        assert_eq!(cond("'b' = host", TagKeys), Ok(None));
    }

    #[test]
    fn a_lone_literal_is_named_as_go_prints_it() {
        let text = |e: Expr| literal_error(&e).0;
        assert_eq!(
            text(Expr::Boolean(true)),
            "&influxql.BooleanLiteral{Val:true}"
        );
        assert_eq!(text(Expr::Integer(-1)), "&influxql.IntegerLiteral{Val:-1}");
        assert_eq!(
            text(Expr::Unsigned(u64::MAX)),
            "&influxql.UnsignedLiteral{Val:0xffffffffffffffff}"
        );
        assert_eq!(text(Expr::Float(2.0)), "&influxql.NumberLiteral{Val:2}");
        assert_eq!(text(Expr::Float(1.5)), "&influxql.NumberLiteral{Val:1.5}");
        assert_eq!(
            text(Expr::Duration(5_000_000_000)),
            "&influxql.DurationLiteral{Val:5000000000}"
        );
        assert_eq!(
            text(Expr::String("a\"b\\c".into())),
            "&influxql.StringLiteral{Val:\"a\\\"b\\\\c\"}"
        );
        assert_eq!(
            text(Expr::VarRef {
                name: "a b".into(),
                data_type: Some(hyperbyte_timeseriesql::ast::VarType::Field)
            }),
            "&influxql.VarRef{Val:\"a b\", Type:8}"
        );
    }

    #[test]
    fn refusals_match_influxdb() {
        use IndexStatement::*;
        for s in [Series, TagKeys, TagValues] {
            for q in ["host > 'a'", "host > 5", "v > 1", "1 > 'a'", "now() > 0"] {
                assert_eq!(
                    cond(q, s),
                    Err("invalid tag comparison operator".into()),
                    "{q}"
                );
            }
            assert_eq!(
                cond("host", s),
                Err("invalid condition expression: host".into())
            );
        }
        assert_eq!(
            cond("'b' = host", TagValues),
            Err("left side of '=' must be a tag key".into())
        );
        assert_eq!(
            cond("'a' =~ /a/", TagValues),
            Err("left side of '=~' must be a tag key".into())
        );
        assert_eq!(cond("'a' =~ /a/", Series), Ok(None));
        assert_eq!(
            cond("time > 0 AND host = 'a'", Series).map(|c| c.is_some()),
            Ok(true)
        );
    }
}
