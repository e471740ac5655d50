//! Expressions: operators by precedence, operands, calls and variable references.
//!
//! Why it exists: expressions appear in fields, conditions and dimensions alike; their
//! depth and length are bounded here (a deep tree would overflow the stack later), and
//! integer literals, bound parameters and `db.rp.measurement`-style references follow
//! InfluxDB's rules and error texts.

use super::Deep;
use super::{Builder, R};
use crate::ast::*;
use crate::parser::errors::at;
use crate::parser::{ParseError, Rule};
use pest::iterators::Pair;

fn binary_op(r: Rule) -> BinaryOp {
    match r {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_neq => BinaryOp::NotEq,
        Rule::op_eqre => BinaryOp::EqRegex,
        Rule::op_nre => BinaryOp::NotEqRegex,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_lte => BinaryOp::LtEq,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_gte => BinaryOp::GtEq,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_bitor => BinaryOp::BitOr,
        Rule::op_bitxor => BinaryOp::BitXor,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        Rule::op_mod => BinaryOp::Mod,
        _ => BinaryOp::BitAnd,
    }
}

/// Go-style `QuoteIdent(segments...)` used in "too many segments" errors.
fn quote_segments(segs: &[String]) -> String {
    let n = segs.len();
    segs.iter()
        .enumerate()
        .map(|(i, s)| {
            let need = crate::ast::display::ident_needs_quotes(s) && !s.is_empty()
                || (i < n - 1 && !s.is_empty())
                || ((i == 0 || i == n - 1) && s.is_empty());
            if need {
                let mut q = String::from("\"");
                for c in s.chars() {
                    match c {
                        '\n' => q.push_str("\\n"),
                        '\\' => q.push_str("\\\\"),
                        '"' => q.push_str("\\\""),
                        c => q.push(c),
                    }
                }
                q.push('"');
                q
            } else {
                s.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

impl Builder<'_> {
    pub(super) fn expr(&self, p: Pair<'_, Rule>) -> R<Expr> {
        self.expr_deep(p).map(|(e, _)| e)
    }

    /// An expression and its depth. The chain is folded by the Pratt parser without
    /// recursion; each new node's depth is checked against [`MAX_EXPR_DEPTH`].
    fn expr_deep(&self, p: Pair<'_, Rule>) -> R<Deep> {
        let ops = p
            .clone()
            .into_inner()
            .filter(|x| !matches!(x.as_rule(), Rule::operand | Rule::regex_rhs))
            .count();
        if ops > crate::parser::MAX_OPERATORS {
            return Err(at(
                self.input,
                self.pos(&p),
                format!(
                    "expression too long (more than {} operators)",
                    crate::parser::MAX_OPERATORS
                ),
            ));
        }
        self.pratt
            .map_primary(|prim| match prim.as_rule() {
                Rule::operand => self.operand(prim),
                Rule::regex_rhs => match prim.into_inner().next() {
                    Some(r) if r.as_rule() == Rule::regex => Ok((Expr::Regex(self.regex(r)?), 1)),
                    Some(b) => self.bound_param(&b),
                    None => Err(ParseError::Message("empty regex".into())),
                },
                _ => Err(ParseError::Message("unexpected expression".into())),
            })
            .map_infix(|lhs, op, rhs| {
                let ((l, dl), (r, dr)) = (lhs?, rhs?);
                let depth = self.check_depth(1 + dl.max(dr), self.pos(&op))?;
                Ok((Expr::binary(binary_op(op.as_rule()), l, r), depth))
            })
            .parse(p.into_inner())
    }

    fn bound_param(&self, p: &Pair<'_, Rule>) -> R<Deep> {
        let token = crate::parser::lexer::scan(self.input, self.pos(p));
        Err(crate::parser::unbound_param(
            self.input,
            &token,
            self.bindings,
        ))
    }

    fn integer(&self, p: &Pair<'_, Rule>, negate: bool) -> R<Expr> {
        let s = self.number_text(p)?;
        if let Ok(v) = s.parse::<i64>() {
            if !negate {
                return Ok(Expr::Integer(v));
            }
            // Only a bound parameter can already be negative (`-$n` with `n = i64::MIN`).
            return v
                .checked_neg()
                .map(Expr::Integer)
                .ok_or_else(|| ParseError::Message(format!("constant -({v}) overflows int64")));
        }
        match s.parse::<u64>() {
            Ok(u) if negate && u == 1u64 << 63 => Ok(Expr::Integer(i64::MIN)),
            Ok(u) if negate => Err(ParseError::Message(format!(
                "constant -{u} underflows int64"
            ))),
            Ok(u) => Ok(Expr::Unsigned(u)),
            Err(_) => Err(at(self.input, self.pos(p), "unable to parse integer")),
        }
    }

    /// A float literal; one beyond `f64`'s range is refused as Go's `ParseFloat` refuses
    /// it (it would read as infinity).
    fn float(&self, p: &Pair<'_, Rule>) -> R<f64> {
        self.number_text(p)?
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| at(self.input, self.pos(p), "unable to parse number"))
    }

    fn operand(&self, p: Pair<'_, Rule>) -> R<Deep> {
        let Some(inner) = p.into_inner().next() else {
            return Err(ParseError::Message("empty operand".into()));
        };
        self.operand_inner(inner)
    }

    fn operand_inner(&self, inner: Pair<'_, Rule>) -> R<Deep> {
        let leaf = |e: Expr| Ok((e, 1));
        match inner.as_rule() {
            Rule::paren_expr => {
                let pos = self.pos(&inner);
                let e = inner
                    .into_inner()
                    .next()
                    .ok_or_else(|| ParseError::Message("empty parentheses".into()))?;
                let (e, d) = self.expr_deep(e)?;
                Ok((Expr::Paren(Box::new(e)), self.check_depth(d + 1, pos)?))
            }
            Rule::call => self.call(inner),
            Rule::signed => {
                let pos = self.pos(&inner);
                let mut it = inner.into_inner();
                let negate = it.next().is_some_and(|s| s.as_rule() == Rule::op_sub);
                let target = it
                    .next()
                    .and_then(|so| so.into_inner().next())
                    .ok_or_else(|| ParseError::Message("empty operand".into()))?;
                match target.as_rule() {
                    Rule::integer => leaf(self.integer(&target, negate)?),
                    Rule::float => {
                        let v = self.float(&target)?;
                        leaf(Expr::Float(if negate { -v } else { v }))
                    }
                    Rule::duration => {
                        let d = self.duration_lit(&target, false)?;
                        leaf(Expr::Duration(if negate { -d } else { d }))
                    }
                    _ => {
                        let (e, d) = self.operand_inner(target)?;
                        Ok((
                            Expr::binary(
                                BinaryOp::Mul,
                                Expr::Integer(if negate { -1 } else { 1 }),
                                e,
                            ),
                            self.check_depth(d + 1, pos)?,
                        ))
                    }
                }
            }
            Rule::distinct_expr => {
                let name = inner.into_inner().next().map(|i| self.ident(i));
                Ok((
                    Expr::call("distinct", vec![Expr::var(&name.unwrap_or_default())]),
                    2,
                ))
            }
            Rule::wildcard => {
                let t = inner.into_inner().next().map(|t| {
                    if t.as_str().eq_ignore_ascii_case("tag") {
                        WildcardType::Tag
                    } else {
                        WildcardType::Field
                    }
                });
                leaf(Expr::Wildcard(t))
            }
            Rule::string => leaf(Expr::String(self.string_lit(inner))),
            Rule::duration => leaf(Expr::Duration(self.duration_lit(&inner, false)?)),
            Rule::float => leaf(Expr::Float(self.float(&inner)?)),
            Rule::integer => leaf(self.integer(&inner, false)?),
            Rule::boolean => leaf(Expr::Boolean(inner.as_str().eq_ignore_ascii_case("true"))),
            Rule::bound_param => self.bound_param(&inner),
            Rule::var_ref => leaf(self.var_ref(inner)?),
            _ => Err(ParseError::Message("unexpected operand".into())),
        }
    }

    fn call(&self, p: Pair<'_, Rule>) -> R<Deep> {
        let pos = self.pos(&p);
        let mut it = p.into_inner();
        let name = match it.next().and_then(|n| n.into_inner().next()) {
            Some(n) if n.as_rule() == Rule::distinct_name => "distinct".to_string(),
            Some(n) => self.ident(n),
            None => String::new(),
        };
        let mut args = Vec::new();
        let mut deepest = 0;
        if let Some(a) = it.next() {
            for arg in a.into_inner() {
                if arg.as_rule() == Rule::call_arg {
                    let (e, d) = self.regex_or_expr_deep(arg)?;
                    deepest = deepest.max(d);
                    args.push(e);
                }
            }
        }
        let depth = self.check_depth(deepest + 1, pos)?;
        Ok((
            Expr::Call {
                name: name.to_ascii_lowercase(),
                args,
            },
            depth,
        ))
    }

    /// `call_arg`, `dimension`: a regex or an expression.
    pub(super) fn regex_or_expr(&self, p: Pair<'_, Rule>) -> R<Expr> {
        self.regex_or_expr_deep(p).map(|(e, _)| e)
    }

    fn regex_or_expr_deep(&self, p: Pair<'_, Rule>) -> R<Deep> {
        match p.into_inner().next() {
            Some(r) if r.as_rule() == Rule::regex => Ok((Expr::Regex(self.regex(r)?), 1)),
            Some(e) => self.expr_deep(e),
            None => Err(ParseError::Message("empty expression".into())),
        }
    }

    fn var_ref(&self, p: Pair<'_, Rule>) -> R<Expr> {
        let mut name = String::new();
        let mut data_type = None;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::segments => {
                    let segs: Vec<String> = part
                        .into_inner()
                        .map(|s| {
                            if s.as_rule() == Rule::empty_seg {
                                String::new()
                            } else {
                                self.ident(s)
                            }
                        })
                        .collect();
                    if segs.len() > 3 {
                        return Err(self.too_many_segments(&segs));
                    }
                    name = segs.join(".");
                }
                Rule::cast_type => {
                    data_type = Some(match part.as_str().to_ascii_lowercase().as_str() {
                        "float" => VarType::Float,
                        "integer" => VarType::Integer,
                        "unsigned" => VarType::Unsigned,
                        "string" => VarType::String,
                        "boolean" => VarType::Boolean,
                        "tag" => VarType::Tag,
                        _ => VarType::Field,
                    })
                }
                _ => {}
            }
        }
        Ok(Expr::VarRef { name, data_type })
    }

    pub(super) fn too_many_segments(&self, segs: &[String]) -> ParseError {
        ParseError::At {
            message: format!("too many segments in {}", quote_segments(segs)),
            line: 1,
            char: 1,
        }
    }
}
