//! pest pairs → AST, plus the semantic checks InfluxDB performs while parsing.
//!
//! Why it exists: the grammar only describes shape; InfluxDB's parser also rejects
//! `fill(foo)`, unknown `tz()` zones, `ORDER BY host`, bad durations, out-of-range
//! integers, invalid regexes, aggregate CQs without `GROUP BY time(...)`, qualified
//! `DROP SERIES` sources, ... with specific messages. Each builder method corresponds to
//! the grammar rule of the same name.
//!
//! Layout, by statement family: this file holds the [`Builder`] itself, bound parameters
//! and the statement dispatch (with the two tiny statements EXPLAIN and KILL QUERY);
//! `select` (SELECT and its clauses), `show` (every SHOW), `clauses` (the clause
//! collector SHOW and DELETE share), `ddl` (CREATE/ALTER/DROP of databases, retention
//! policies and subscriptions; DELETE), `users` (CREATE USER, SET PASSWORD, GRANT,
//! REVOKE), `cq` (CREATE CONTINUOUS QUERY), `expr` (expressions), `literals`
//! (identifiers, strings, durations, integers) and `regex_lit` (regexes, checked as Go's
//! RE2).

mod clauses;
mod cq;
mod ddl;
mod expr;
mod literals;
mod regex_lit;
mod select;
mod show;
mod users;

use super::errors::at;
use super::MAX_EXPR_DEPTH;
use super::{Bindings, ParamValue, ParseError, Rule};
use crate::ast::*;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use regex_lit::canonical_bound_regex;
use std::borrow::Cow;
use std::cell::Cell;

type R<T> = Result<T, ParseError>;

/// Converts pest pairs into AST nodes for one input text.
pub(crate) struct Builder<'a> {
    input: &'a str,
    bindings: &'a Bindings,
    pratt: PrattParser<Rule>,
    /// Subqueries currently being built around the current position.
    subquery_depth: Cell<usize>,
}

/// An expression and the depth of its tree ([`Expr::depth`]), computed while building so
/// that a tree deeper than [`MAX_EXPR_DEPTH`] is refused before it exists (dropping such a
/// tree would itself recurse once per level).
type Deep = (Expr, usize);

impl<'a> Builder<'a> {
    /// A builder over `input`; `bindings` holds the bound parameters' placeholders.
    pub(crate) fn new(input: &'a str, bindings: &'a Bindings) -> Self {
        let pratt = PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_neq, Assoc::Left)
                | Op::infix(Rule::op_eqre, Assoc::Left)
                | Op::infix(Rule::op_nre, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_lte, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_gte, Assoc::Left))
            .op(Op::infix(Rule::op_add, Assoc::Left)
                | Op::infix(Rule::op_sub, Assoc::Left)
                | Op::infix(Rule::op_bitor, Assoc::Left)
                | Op::infix(Rule::op_bitxor, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::op_mod, Assoc::Left)
                | Op::infix(Rule::op_bitand, Assoc::Left));
        Builder {
            input,
            bindings,
            pratt,
            subquery_depth: Cell::new(0),
        }
    }

    fn pos(&self, p: &Pair<'_, Rule>) -> usize {
        p.as_span().start()
    }

    /// The bound value whose placeholder is exactly the token `p`; an error when a
    /// placeholder was glued to following text into a longer token (`$n.5`, `$dµ`).
    fn bound(&self, p: &Pair<'_, Rule>) -> R<Option<&'a ParamValue>> {
        let span = p.as_span();
        match self.bindings.at.get(&span.start()) {
            None => Ok(None),
            Some(b) if b.len == span.end() - span.start() => Ok(Some(&b.value)),
            Some(_) => Err(at(
                self.input,
                span.start(),
                "bound parameter followed by unexpected text",
            )),
        }
    }

    /// The text of a numeric token: the bound value's when it is a placeholder.
    fn number_text<'p>(&self, p: &Pair<'p, Rule>) -> R<Cow<'p, str>> {
        Ok(match self.bound(p)? {
            Some(ParamValue::Integer(i)) => Cow::Owned(i.to_string()),
            Some(ParamValue::Float(f)) => Cow::Owned(crate::ast::display::format_float(*f)),
            Some(_) => {
                return Err(at(
                    self.input,
                    self.pos(p),
                    "bound parameter of the wrong type",
                ))
            }
            None => Cow::Borrowed(p.as_str()),
        })
    }

    /// `input[start..end]` with every placeholder replaced by its value in InfluxQL
    /// syntax (the text of a statement as the client meant it).
    fn source_text(&self, start: usize, end: usize) -> String {
        let mut marks: Vec<(usize, &super::Binding)> = self
            .bindings
            .at
            .iter()
            .filter(|(&p, b)| p >= start && p + b.len <= end)
            .map(|(&p, b)| (p, b))
            .collect();
        if marks.is_empty() {
            return self.input[start..end].to_string();
        }
        marks.sort_by_key(|m| m.0);
        let mut out = String::new();
        let mut at = start;
        for (p, b) in marks {
            out.push_str(&self.input[at..p]);
            out.push_str(&match &b.value {
                ParamValue::String(s) => quote_string(s),
                ParamValue::Identifier(s) => quote_ident(s),
                ParamValue::Regex(r) => Regex {
                    pattern: canonical_bound_regex(r),
                }
                .to_string(),
                ParamValue::Duration(d) => d.clone(),
                ParamValue::Integer(i) => i.to_string(),
                ParamValue::Float(f) => crate::ast::display::format_float(*f),
                ParamValue::Boolean(v) => v.to_string(),
                ParamValue::Unsupported(_) | ParamValue::Refused(_) => String::new(),
            });
            at = p + b.len;
        }
        out.push_str(&self.input[at..end]);
        out
    }

    /// `depth` when it is within [`MAX_EXPR_DEPTH`], else InfluxDB-shaped error at `pos`.
    fn check_depth(&self, depth: usize, pos: usize) -> R<usize> {
        if depth > MAX_EXPR_DEPTH {
            return Err(at(
                self.input,
                pos,
                format!("expression too deep (more than {MAX_EXPR_DEPTH} levels)"),
            ));
        }
        Ok(depth)
    }

    /// `query` → [`Query`].
    pub(crate) fn query(&self, mut pairs: Pairs<'_, Rule>) -> R<Query> {
        let mut statements = Vec::new();
        if let Some(q) = pairs.next() {
            for p in q.into_inner() {
                if p.as_rule() == Rule::statement {
                    statements.push(self.statement(p)?);
                }
            }
        }
        Ok(Query { statements })
    }

    fn statement(&self, p: Pair<'_, Rule>) -> R<Statement> {
        let Some(s) = p.into_inner().next() else {
            return Err(ParseError::Message("empty statement".into()));
        };
        let span = self.source_text(s.as_span().start(), s.as_span().end());
        let span = span.as_str();
        let rule = s.as_rule();
        let mut it = s.into_inner();
        it.next(); // leading keyword
        let next = it.next();
        match (rule, next) {
            (Rule::select_stmt, Some(body)) => {
                Ok(Statement::Select(Box::new(self.select_body(body, false)?)))
            }
            (Rule::delete_stmt, Some(body)) => Ok(Statement::Delete(self.delete_body(body)?)),
            (Rule::explain_stmt, Some(first)) => self.explain(first, it),
            (Rule::kill_stmt, Some(_query_kw)) => self.kill(it),
            (Rule::set_stmt, Some(_password_kw)) => self.set_password(it),
            (Rule::grant_stmt, Some(body)) => self.grant_revoke(body, true),
            (Rule::revoke_stmt, Some(body)) => self.grant_revoke(body, false),
            (Rule::alter_stmt, Some(_retention)) => self.alter_rp(it),
            (Rule::create_stmt, Some(body)) => self.create(body, span),
            (Rule::drop_stmt, Some(body)) => self.drop(body),
            (Rule::show_stmt, Some(body)) => self.show(body),
            _ => Err(ParseError::Message("unsupported statement".into())),
        }
    }

    fn explain(&self, first: Pair<'_, Rule>, rest: Pairs<'_, Rule>) -> R<Statement> {
        let mut analyze = false;
        let mut statement = None;
        for part in std::iter::once(first).chain(rest) {
            match part.as_rule() {
                Rule::okw_analyze => analyze = true,
                Rule::select_body => statement = Some(self.select_body(part, false)?),
                _ => {}
            }
        }
        Ok(Statement::Explain(ExplainStatement {
            analyze,
            statement: Box::new(
                statement.ok_or_else(|| ParseError::Message("missing SELECT".into()))?,
            ),
        }))
    }

    fn kill(&self, rest: Pairs<'_, Rule>) -> R<Statement> {
        let mut query_id = 0;
        let mut host = None;
        for part in rest {
            match part.as_rule() {
                Rule::integer => query_id = self.uint(&part)?,
                Rule::ident => host = Some(self.ident(part)),
                _ => {}
            }
        }
        Ok(Statement::KillQuery { query_id, host })
    }
}
