//! CREATE CONTINUOUS QUERY.
//!
//! Why it exists: a continuous query keeps its SELECT's source text (printed back by
//! `SHOW CONTINUOUS QUERIES`) and is checked as InfluxDB checks it: an aggregate needs
//! `GROUP BY time(...)`, and RESAMPLE FOR must cover the interval.

use super::{Builder, R};
use crate::ast::*;
use crate::parser::errors::unexpected;
use crate::parser::lexer;
use crate::parser::{ParseError, Rule};
use pest::iterators::Pair;

impl Builder<'_> {
    pub(super) fn create_cq(&self, p: Pair<'_, Rule>, text: &str) -> R<Statement> {
        let mut idents = Vec::new();
        let mut resample_every = None;
        let mut resample_for = None;
        let mut select_start = None;
        let mut source = None;
        let mut select_text = String::new();
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::ident => idents.push(self.ident(part)),
                Rule::resample => {
                    for r in part.into_inner() {
                        let rule = r.as_rule();
                        let Some(d) = r.into_inner().nth(1) else {
                            continue;
                        };
                        let v = self.duration_lit(&d, true)?;
                        if rule == Rule::resample_every {
                            resample_every = Some(v);
                        } else if rule == Rule::resample_for {
                            resample_for = Some(v);
                        }
                    }
                }
                Rule::kw_select => select_start = Some(self.pos(&part)),
                Rule::cq_select_body => {
                    let end = part.as_span().end();
                    if let Some(start) = select_start {
                        select_text = self.source_text(start, end).trim_end().to_string();
                    }
                    let s = self.select_body(part, true)?;
                    if s.has_calls() && s.group_by_interval().is_none() {
                        let tok = lexer::last_token_before(self.input, end)
                            .unwrap_or_else(|| lexer::scan(self.input, end));
                        return Err(unexpected(self.input, &tok, "GROUP BY time(...)"));
                    }
                    source = Some(s);
                }
                _ => {}
            }
        }
        let source = source.ok_or_else(|| ParseError::Message("missing SELECT".into()))?;
        if let Some(for_d) = resample_for {
            let mut interval = source.group_by_interval().map_or(0, |(i, _)| i);
            if let Some(every) = resample_every {
                interval = interval.max(every);
            }
            if interval > for_d {
                return Err(ParseError::Message(format!(
                    "FOR duration must be >= GROUP BY time duration: must be a minimum of {}, got {}",
                    format_duration(interval),
                    format_duration(for_d)
                )));
            }
        }
        let mut it = idents.into_iter();
        Ok(Statement::CreateContinuousQuery(Box::new(
            CreateContinuousQueryStatement {
                name: it.next().unwrap_or_default(),
                database: it.next().unwrap_or_default(),
                resample_every,
                resample_for,
                source,
                text: text.trim().to_string(),
                select_text,
            },
        )))
    }
}
