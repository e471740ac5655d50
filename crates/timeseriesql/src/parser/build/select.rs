//! SELECT: fields, sources (measurements and subqueries), INTO targets, GROUP BY,
//! fill(), ORDER BY, LIMIT/OFFSET and tz().
//!
//! Why it exists: besides building the statement, InfluxDB checks its clauses while
//! parsing (`ORDER BY time` only, the forms of fill(), known tz() zones, subquery depth),
//! and those checks belong next to the clause they concern.

use super::{Builder, R};
use crate::ast::*;
use crate::parser::errors::{at, line_char};
use crate::parser::MAX_SUBQUERY_DEPTH;
use crate::parser::{ParseError, Rule};
use pest::iterators::Pair;

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl Builder<'_> {
    /// `select_body`, `cq_select_body` and `sub_select_body`.
    pub(super) fn select_body(&self, p: Pair<'_, Rule>, _cq: bool) -> R<SelectStatement> {
        let mut s = SelectStatement::default();
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::fields => {
                    for f in part.into_inner().filter(|f| f.as_rule() == Rule::field) {
                        s.fields.push(self.field(f)?);
                    }
                }
                Rule::into_clause | Rule::cq_into => {
                    if let Some(t) = part.into_inner().find(|t| t.as_rule() == Rule::target) {
                        s.target = Some(self.target(t)?);
                    }
                }
                Rule::sources => s.sources = self.sources(part)?,
                Rule::where_clause => s.condition = self.where_clause(part)?,
                Rule::group_by_clause => s.dimensions = self.dimensions(part)?,
                Rule::fill_clause => s.fill = self.fill(part)?,
                Rule::order_by_clause => s.sort_fields = self.sort_fields(part)?,
                Rule::limit_clause => s.limit = self.limit_value(part)?,
                Rule::offset_clause => s.offset = self.limit_value(part)?,
                Rule::slimit_clause => s.slimit = self.limit_value(part)?,
                Rule::soffset_clause => s.soffset = self.limit_value(part)?,
                Rule::tz_clause => s.timezone = Some(self.tz(part)?),
                _ => {}
            }
        }
        Ok(s)
    }

    fn field(&self, p: Pair<'_, Rule>) -> R<Field> {
        let mut expr = None;
        let mut alias = None;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::regex => expr = Some(Expr::Regex(self.regex(part)?)),
                Rule::expr => {
                    let start = self.pos(&part);
                    let e = self.expr(part)?;
                    let mut bad = None;
                    e.walk(&mut |n| {
                        if let Expr::Binary { op, .. } = n {
                            if bad.is_none() && op.is_boolean() {
                                bad = Some(*op);
                            }
                        }
                    });
                    if let Some(op) = bad {
                        let (line, char) = line_char(self.input, start);
                        return Err(ParseError::Message(format!(
                            "invalid operator {op} in SELECT clause at line {line}, char {char}; \
                             operator is intended for WHERE clause"
                        )));
                    }
                    expr = Some(e);
                }
                // `AS ""` names nothing: InfluxDB keeps the column's own name.
                Rule::alias => {
                    alias = part
                        .into_inner()
                        .nth(1)
                        .map(|i| self.ident(i))
                        .filter(|a| !a.is_empty())
                }
                _ => {}
            }
        }
        Ok(Field {
            expr: expr.ok_or_else(|| ParseError::Message("empty field".into()))?,
            alias,
        })
    }

    /// Splits `measurement`-like segments into (db, rp, name-or-regex).
    fn measurement(&self, p: Pair<'_, Rule>) -> R<Measurement> {
        let mut segs: Vec<String> = Vec::new();
        let mut regex = None;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::empty_seg => segs.push(String::new()),
                Rule::regex => regex = Some(self.regex(part)?),
                _ => segs.push(self.ident(part)),
            }
        }
        let total = segs.len() + usize::from(regex.is_some());
        if total > 3 {
            return Err(self.too_many_segments(&segs));
        }
        let mut segs = segs.into_iter();
        let (database, retention_policy, name) = match regex {
            Some(re) => {
                let (db, rp) = match (segs.next(), segs.next()) {
                    (Some(a), Some(b)) => (non_empty(a), non_empty(b)),
                    (Some(a), None) => (None, non_empty(a)),
                    _ => (None, None),
                };
                (db, rp, MeasurementName::Regex(re))
            }
            None => {
                let v: Vec<String> = segs.collect();
                match v.len() {
                    3 => (
                        non_empty(v[0].clone()),
                        non_empty(v[1].clone()),
                        MeasurementName::Name(v[2].clone()),
                    ),
                    2 => (
                        None,
                        non_empty(v[0].clone()),
                        MeasurementName::Name(v[1].clone()),
                    ),
                    _ => (
                        None,
                        None,
                        MeasurementName::Name(v.first().cloned().unwrap_or_default()),
                    ),
                }
            }
        };
        Ok(Measurement {
            database,
            retention_policy,
            name,
        })
    }

    pub(super) fn source_nosub(&self, p: Pair<'_, Rule>) -> R<Measurement> {
        match p.into_inner().next() {
            Some(r) if r.as_rule() == Rule::regex => Ok(Measurement {
                database: None,
                retention_policy: None,
                name: MeasurementName::Regex(self.regex(r)?),
            }),
            Some(m) => self.measurement(m),
            None => Err(ParseError::Message("empty source".into())),
        }
    }

    pub(super) fn sources_nosub(&self, p: Pair<'_, Rule>) -> R<Vec<Measurement>> {
        p.into_inner()
            .filter(|s| s.as_rule() == Rule::source_nosub)
            .map(|s| self.source_nosub(s))
            .collect()
    }

    fn sources(&self, p: Pair<'_, Rule>) -> R<Vec<Source>> {
        let mut out = Vec::new();
        for s in p.into_inner().filter(|s| s.as_rule() == Rule::source) {
            let Some(inner) = s.into_inner().next() else {
                continue;
            };
            out.push(match inner.as_rule() {
                Rule::regex => Source::Measurement(Measurement {
                    database: None,
                    retention_policy: None,
                    name: MeasurementName::Regex(self.regex(inner)?),
                }),
                Rule::subquery => {
                    let depth = self.subquery_depth.get() + 1;
                    if depth > MAX_SUBQUERY_DEPTH {
                        return Err(at(
                            self.input,
                            self.pos(&inner),
                            format!(
                                "subqueries nested too deep (more than {MAX_SUBQUERY_DEPTH} levels)"
                            ),
                        ));
                    }
                    let body = inner
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::sub_select_body)
                        .ok_or_else(|| ParseError::Message("empty subquery".into()))?;
                    self.subquery_depth.set(depth);
                    let built = self.select_body(body, false);
                    self.subquery_depth.set(depth - 1);
                    Source::Subquery(Box::new(built?))
                }
                _ => Source::Measurement(self.measurement(inner)?),
            });
        }
        Ok(out)
    }

    fn target(&self, p: Pair<'_, Rule>) -> R<Target> {
        let mut segs: Vec<String> = Vec::new();
        let mut backref = false;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::empty_seg => segs.push(String::new()),
                Rule::target_backref => backref = true,
                _ => segs.push(self.ident(part)),
            }
        }
        if segs.len() + usize::from(backref) > 3 {
            return Err(self.too_many_segments(&segs));
        }
        let measurement = if backref { None } else { segs.pop() };
        let (database, retention_policy) = match segs.len() {
            2 => (non_empty(segs[0].clone()), non_empty(segs[1].clone())),
            1 => (None, non_empty(segs[0].clone())),
            _ => (None, None),
        };
        Ok(Target {
            database,
            retention_policy,
            measurement,
        })
    }

    pub(super) fn dimensions(&self, p: Pair<'_, Rule>) -> R<Vec<Expr>> {
        let mut dims = Vec::new();
        for part in p.into_inner() {
            if part.as_rule() == Rule::dimensions {
                for d in part.into_inner().filter(|d| d.as_rule() == Rule::dimension) {
                    dims.push(self.regex_or_expr(d)?);
                }
            }
        }
        Ok(dims)
    }

    pub(super) fn sort_fields(&self, p: Pair<'_, Rule>) -> R<Vec<SortField>> {
        let order_err = || ParseError::Message("only ORDER BY time supported at this time".into());
        let mut out = Vec::new();
        let Some(list) = p.into_inner().find(|x| x.as_rule() == Rule::sort_fields) else {
            return Ok(out);
        };
        for (i, item) in list.into_inner().enumerate() {
            let field = match item.as_rule() {
                Rule::sort_first => match item.into_inner().next() {
                    Some(k) if k.as_rule() == Rule::okw_asc => SortField {
                        name: String::new(),
                        ascending: true,
                    },
                    Some(k) if k.as_rule() == Rule::okw_desc => SortField {
                        name: String::new(),
                        ascending: false,
                    },
                    Some(sf) => {
                        let f = self.sort_field(sf);
                        if f.name != "time" {
                            return Err(order_err());
                        }
                        f
                    }
                    None => continue,
                },
                Rule::sort_field => self.sort_field(item),
                _ => continue,
            };
            if i > 0 {
                return Err(order_err());
            }
            out.push(field);
        }
        Ok(out)
    }

    fn sort_field(&self, p: Pair<'_, Rule>) -> SortField {
        let mut name = String::new();
        let mut ascending = true;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::ident => name = self.ident(part),
                Rule::okw_desc => ascending = false,
                _ => {}
            }
        }
        SortField { name, ascending }
    }

    fn fill(&self, p: Pair<'_, Rule>) -> R<Fill> {
        let Some(e) = p.into_inner().next() else {
            return Ok(Fill::Null);
        };
        let Expr::Call { args, .. } = self.expr(e)? else {
            return Err(ParseError::Message("fill must be a function call".into()));
        };
        if args.len() != 1 {
            return Err(ParseError::Message(
                "fill requires an argument, e.g.: 0, null, none, previous, linear".into(),
            ));
        }
        Ok(match &args[0] {
            Expr::VarRef {
                name,
                data_type: None,
            } if name == "null" => Fill::Null,
            Expr::VarRef {
                name,
                data_type: None,
            } if name == "none" => Fill::None,
            Expr::VarRef {
                name,
                data_type: None,
            } if name == "previous" => Fill::Previous,
            Expr::VarRef {
                name,
                data_type: None,
            } if name == "linear" => Fill::Linear,
            Expr::Integer(i) => Fill::Integer(*i),
            Expr::Float(f) => Fill::Float(*f),
            _ => {
                return Err(ParseError::Message(
                    "expected number argument in fill()".into(),
                ))
            }
        })
    }

    fn tz(&self, p: Pair<'_, Rule>) -> R<String> {
        let Some(e) = p.into_inner().next() else {
            return Err(ParseError::Message("tz must be a function call".into()));
        };
        let Expr::Call { args, .. } = self.expr(e)? else {
            return Err(ParseError::Message("tz must be a function call".into()));
        };
        if args.len() != 1 {
            return Err(ParseError::Message(
                "tz requires exactly one argument".into(),
            ));
        }
        let Expr::String(name) = &args[0] else {
            return Err(ParseError::Message(
                "expected string argument in tz()".into(),
            ));
        };
        if !hyperbyte_domain::time::is_time_zone(name) {
            return Err(ParseError::Message(format!(
                "unable to find time zone {name}"
            )));
        }
        Ok(name.clone())
    }

    pub(super) fn where_clause(&self, p: Pair<'_, Rule>) -> R<Option<Expr>> {
        match p.into_inner().find(|x| x.as_rule() == Rule::expr) {
            Some(e) => Ok(Some(self.expr(e)?)),
            None => Ok(None),
        }
    }
}
