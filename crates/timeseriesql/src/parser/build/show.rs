//! SHOW statements.
//!
//! Why it exists: SHOW comes in many forms (and a CARDINALITY variant of most of them),
//! each keeping a different subset of the shared clauses.

use super::clauses::Clauses;
use super::{Builder, R};
use crate::ast::*;
use crate::parser::{ParseError, Rule};
use pest::iterators::Pair;

/// `SHOW ... CARDINALITY` of `kind`, from its clauses.
fn cardinality(kind: CardinalityKind, c: Clauses) -> Statement {
    Statement::ShowCardinality(ShowCardinalityStatement {
        kind,
        exact: c.exact,
        database: c.database,
        sources: c.sources,
        condition: c.condition,
        dimensions: c.dimensions,
        limit: c.limit,
        offset: c.offset,
    })
}

impl Builder<'_> {
    /// `show_body`: dispatches on the kind of SHOW.
    pub(super) fn show(&self, body: Pair<'_, Rule>) -> R<Statement> {
        let Some(inner) = body.into_inner().next() else {
            return Err(ParseError::Message("empty SHOW".into()));
        };
        Ok(match inner.as_rule() {
            Rule::show_continuous => Statement::ShowContinuousQueries,
            Rule::show_databases => Statement::ShowDatabases,
            Rule::show_diagnostics => Statement::ShowDiagnostics {
                module: self.show_module(inner),
            },
            Rule::show_stats => Statement::ShowStats {
                module: self.show_module(inner),
            },
            Rule::show_grants => Statement::ShowGrants {
                user: self.first_ident(inner).unwrap_or_default(),
            },
            Rule::show_queries => Statement::ShowQueries,
            Rule::show_retention => Statement::ShowRetentionPolicies {
                database: self.first_ident(inner),
            },
            Rule::show_shard_groups => Statement::ShowShardGroups,
            Rule::show_shards => Statement::ShowShards,
            Rule::show_subscriptions => Statement::ShowSubscriptions,
            Rule::show_users => Statement::ShowUsers,
            Rule::show_measurement_card => cardinality(
                CardinalityKind::Measurement,
                self.clauses(inner.into_inner())?,
            ),
            Rule::show_measurements => self.show_measurements(inner)?,
            Rule::show_series => self.show_series(inner)?,
            Rule::show_field => self.show_field_keys(inner)?,
            Rule::show_tag => self.show_tag(inner)?,
            _ => return Err(ParseError::Message("unsupported SHOW".into())),
        })
    }

    /// The module string of `SHOW DIAGNOSTICS` / `SHOW STATS` (`FOR 'module'`).
    fn show_module(&self, p: Pair<'_, Rule>) -> Option<String> {
        p.into_inner()
            .find(|x| x.as_rule() == Rule::string)
            .map(|s| self.string_lit(s))
    }

    /// The first identifier inside `p` (the user of SHOW GRANTS, the database of SHOW
    /// RETENTION POLICIES).
    fn first_ident(&self, p: Pair<'_, Rule>) -> Option<String> {
        p.into_inner()
            .find(|x| x.as_rule() == Rule::ident)
            .map(|i| self.ident(i))
    }

    /// `SHOW MEASUREMENTS`.
    fn show_measurements(&self, p: Pair<'_, Rule>) -> R<Statement> {
        let c = self.clauses(p.into_inner())?;
        Ok(Statement::ShowMeasurements(ShowMeasurementsStatement {
            database: c.database,
            source: c.with_measurement,
            condition: c.condition,
            sort_fields: c.sort_fields,
            limit: c.limit,
            offset: c.offset,
        }))
    }

    /// `SHOW SERIES` and `SHOW SERIES CARDINALITY`.
    fn show_series(&self, p: Pair<'_, Rule>) -> R<Statement> {
        let Some(sub) = p.into_inner().nth(1) else {
            return Err(ParseError::Message("empty SHOW SERIES".into()));
        };
        let is_card = sub.as_rule() == Rule::series_card;
        let c = self.clauses(sub.into_inner())?;
        if is_card {
            return Ok(cardinality(CardinalityKind::Series, c));
        }
        Ok(Statement::ShowSeries(ShowSeriesStatement {
            database: c.database,
            sources: c.sources,
            condition: c.condition,
            sort_fields: c.sort_fields,
            limit: c.limit,
            offset: c.offset,
        }))
    }

    /// `SHOW FIELD KEYS` and `SHOW FIELD KEY CARDINALITY`.
    fn show_field_keys(&self, p: Pair<'_, Rule>) -> R<Statement> {
        let Some(sub) = p.into_inner().nth(1) else {
            return Err(ParseError::Message("empty SHOW FIELD".into()));
        };
        let is_card = sub.as_rule() == Rule::field_key_card;
        let c = self.clauses(sub.into_inner())?;
        if is_card {
            return Ok(cardinality(CardinalityKind::FieldKey, c));
        }
        Ok(Statement::ShowFieldKeys(ShowFieldKeysStatement {
            database: c.database,
            sources: c.sources,
            sort_fields: c.sort_fields,
            limit: c.limit,
            offset: c.offset,
        }))
    }

    /// `SHOW TAG KEYS`, `SHOW TAG KEY CARDINALITY` and the TAG VALUES forms.
    fn show_tag(&self, p: Pair<'_, Rule>) -> R<Statement> {
        let Some(sub) = p.into_inner().nth(1) else {
            return Err(ParseError::Message("empty SHOW TAG".into()));
        };
        Ok(match sub.as_rule() {
            Rule::tag_key_card => {
                cardinality(CardinalityKind::TagKey, self.clauses(sub.into_inner())?)
            }
            Rule::tag_keys => {
                let c = self.clauses(sub.into_inner())?;
                Statement::ShowTagKeys(ShowTagKeysStatement {
                    database: c.database,
                    sources: c.sources,
                    condition: c.condition,
                    sort_fields: c.sort_fields,
                    limit: c.limit,
                    offset: c.offset,
                    slimit: c.slimit,
                    soffset: c.soffset,
                })
            }
            _ => self.show_tag_values(sub)?,
        })
    }

    /// `SHOW TAG VALUES` and `SHOW TAG VALUES CARDINALITY` (both need `WITH KEY`).
    fn show_tag_values(&self, p: Pair<'_, Rule>) -> R<Statement> {
        let Some(tv) = p.into_inner().nth(1) else {
            return Err(ParseError::Message("empty SHOW TAG VALUES".into()));
        };
        let is_card = tv.as_rule() == Rule::tag_values_card;
        let c = self.clauses(tv.into_inner())?;
        let key = c
            .key
            .clone()
            .ok_or_else(|| ParseError::Message("missing WITH KEY".into()))?;
        if is_card {
            return Ok(cardinality(CardinalityKind::TagValues(key), c));
        }
        Ok(Statement::ShowTagValues(ShowTagValuesStatement {
            database: c.database,
            sources: c.sources,
            key,
            condition: c.condition,
            sort_fields: c.sort_fields,
            limit: c.limit,
            offset: c.offset,
        }))
    }
}
