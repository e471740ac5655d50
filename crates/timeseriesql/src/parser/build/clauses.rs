//! The clauses SHOW and DELETE statements share (ON, FROM, WHERE, GROUP BY, ORDER BY,
//! LIMIT/OFFSET, WITH KEY, WITH MEASUREMENT, EXACT), collected generically.
//!
//! Why it exists: a dozen statements accept overlapping subsets of the same clauses;
//! one collector reads them all and each statement then takes the ones it has.

use super::{Builder, R};
use crate::ast::*;
use crate::parser::{ParseError, Rule};
use pest::iterators::{Pair, Pairs};

/// Clauses shared by the SHOW statements (and collected generically).
#[derive(Default)]
pub(super) struct Clauses {
    pub(super) database: Option<String>,
    pub(super) sources: Vec<Measurement>,
    pub(super) condition: Option<Expr>,
    pub(super) dimensions: Vec<Expr>,
    pub(super) sort_fields: Vec<SortField>,
    pub(super) limit: Option<u64>,
    pub(super) offset: Option<u64>,
    pub(super) slimit: Option<u64>,
    pub(super) soffset: Option<u64>,
    pub(super) exact: bool,
    pub(super) key: Option<TagKeyFilter>,
    pub(super) with_measurement: Option<Measurement>,
}

impl Builder<'_> {
    /// Generic clause collector for SHOW / DELETE bodies.
    pub(super) fn clauses(&self, pairs: Pairs<'_, Rule>) -> R<Clauses> {
        let mut c = Clauses::default();
        for part in pairs {
            match part.as_rule() {
                Rule::on_db | Rule::show_meas_on => {
                    c.database = part
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::ident)
                        .map(|i| self.ident(i));
                }
                Rule::from_sources => {
                    if let Some(s) = part
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::sources_nosub)
                    {
                        c.sources = self.sources_nosub(s)?;
                    }
                }
                Rule::sources_nosub => c.sources = self.sources_nosub(part)?,
                Rule::where_clause => c.condition = self.where_clause(part)?,
                Rule::group_by_clause => c.dimensions = self.dimensions(part)?,
                Rule::order_by_clause => c.sort_fields = self.sort_fields(part)?,
                Rule::limit_clause => c.limit = self.limit_value(part)?,
                Rule::offset_clause => c.offset = self.limit_value(part)?,
                Rule::slimit_clause => c.slimit = self.limit_value(part)?,
                Rule::soffset_clause => c.soffset = self.limit_value(part)?,
                Rule::exact_card | Rule::okw_exact => c.exact = true,
                Rule::card_choice => {
                    c.exact = part.into_inner().any(|x| x.as_rule() == Rule::exact_card);
                }
                Rule::with_key => {
                    if let Some(k) = part
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::tag_key_expr)
                    {
                        c.key = Some(self.tag_key_expr(k)?);
                    }
                }
                Rule::with_measurement => {
                    if let Some(s) = part
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::source_nosub)
                    {
                        c.with_measurement = Some(self.source_nosub(s)?);
                    }
                }
                _ => {}
            }
        }
        Ok(c)
    }

    fn tag_key_expr(&self, p: Pair<'_, Rule>) -> R<TagKeyFilter> {
        let Some(k) = p.into_inner().next() else {
            return Err(ParseError::Message("empty WITH KEY".into()));
        };
        let rule = k.as_rule();
        let idents: Vec<String> = k
            .clone()
            .into_inner()
            .filter(|x| x.as_rule() == Rule::ident)
            .map(|i| self.ident(i))
            .collect();
        let re = k
            .into_inner()
            .find(|x| x.as_rule() == Rule::key_regex)
            .and_then(|kr| kr.into_inner().next());
        let first = idents.first().cloned().unwrap_or_default();
        Ok(match rule {
            Rule::key_in => TagKeyFilter::In(idents),
            Rule::key_eq => TagKeyFilter::Eq(first),
            Rule::key_neq => TagKeyFilter::NotEq(first),
            Rule::key_eqre | Rule::key_nre => {
                let r = match re {
                    Some(r) => self.regex(r)?,
                    None => Regex {
                        pattern: String::new(),
                    },
                };
                if rule == Rule::key_eqre {
                    TagKeyFilter::Regex(r)
                } else {
                    TagKeyFilter::NotRegex(r)
                }
            }
            _ => return Err(ParseError::Message("bad WITH KEY".into())),
        })
    }
}
