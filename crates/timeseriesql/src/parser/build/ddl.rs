//! Schema statements: CREATE/ALTER/DROP of databases, retention policies and
//! subscriptions, DROP of measurements, series and shards, and DELETE.
//!
//! Why it exists: these statements carry options InfluxDB validates while parsing
//! (durations, replication factors, `INF` shard durations, duplicate ALTER options,
//! unqualified DELETE / DROP SERIES sources).

use super::{Builder, R};
use crate::ast::*;
use crate::parser::errors::at;
use crate::parser::{ParseError, Rule};
use pest::iterators::{Pair, Pairs};

impl Builder<'_> {
    /// `create_body`: dispatches on what is created.
    pub(super) fn create(&self, body: Pair<'_, Rule>, text: &str) -> R<Statement> {
        let Some(inner) = body.into_inner().next() else {
            return Err(ParseError::Message("empty CREATE".into()));
        };
        match inner.as_rule() {
            Rule::create_database => self.create_database(inner),
            Rule::create_rp => self.create_rp(inner),
            Rule::create_user => Ok(self.create_user(inner)),
            Rule::create_cq => self.create_cq(inner, text),
            Rule::create_subscription => Ok(self.create_subscription(inner)),
            _ => Err(ParseError::Message("unsupported CREATE".into())),
        }
    }

    /// `CREATE DATABASE name [WITH DURATION d REPLICATION n SHARD DURATION d NAME rp]`.
    fn create_database(&self, p: Pair<'_, Rule>) -> R<Statement> {
        let mut s = CreateDatabaseStatement::default();
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::ident => s.name = self.ident(part),
                Rule::db_with_opts => {
                    s.retention_policy_create = true;
                    for opt in part.into_inner() {
                        let rule = opt.as_rule();
                        let mut it = opt.into_inner();
                        match rule {
                            Rule::db_duration => {
                                if let Some(d) = it.nth(1) {
                                    s.duration = Some(self.duration_value(d)?);
                                }
                            }
                            Rule::db_replication => {
                                if let Some(n) = it.nth(1) {
                                    s.replication = Some(self.replication(n)?);
                                }
                            }
                            Rule::db_shard => {
                                if let Some(d) = it.nth(2) {
                                    let v = self.duration_value(d)?;
                                    s.shard_duration = (v > 0).then_some(v);
                                }
                            }
                            Rule::db_name => {
                                s.rp_name = it.nth(1).map(|i| self.ident(i));
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Statement::CreateDatabase(s))
    }

    /// `CREATE RETENTION POLICY name ON db DURATION d REPLICATION n [SHARD DURATION d]
    /// [DEFAULT]`.
    fn create_rp(&self, p: Pair<'_, Rule>) -> R<Statement> {
        let mut s = CreateRetentionPolicyStatement::default();
        let mut idents = 0;
        let mut after_shard = false;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::ident => {
                    if idents == 0 {
                        s.name = self.ident(part);
                    } else {
                        s.database = self.ident(part);
                    }
                    idents += 1;
                }
                Rule::okw_shard => after_shard = true,
                Rule::duration_value if after_shard => {
                    s.shard_duration = Some(self.shard_duration(part)?);
                }
                Rule::duration_value => s.duration = self.duration_value(part)?,
                Rule::integer => s.replication = self.replication(part)?,
                Rule::okw_default => s.default = true,
                _ => {}
            }
        }
        Ok(Statement::CreateRetentionPolicy(s))
    }

    /// `CREATE SUBSCRIPTION name ON db.rp DESTINATIONS ALL|ANY 'dest', ...`.
    fn create_subscription(&self, p: Pair<'_, Rule>) -> Statement {
        let mut idents = Vec::new();
        let mut mode = String::new();
        let mut destinations = Vec::new();
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::ident => idents.push(self.ident(part)),
                Rule::all_or_any => mode = part.as_str().to_ascii_uppercase(),
                Rule::string => destinations.push(self.string_lit(part)),
                _ => {}
            }
        }
        let mut it = idents.into_iter();
        Statement::CreateSubscription {
            name: it.next().unwrap_or_default(),
            database: it.next().unwrap_or_default(),
            retention_policy: it.next().unwrap_or_default(),
            mode,
            destinations,
        }
    }

    pub(super) fn alter_rp(&self, rest: Pairs<'_, Rule>) -> R<Statement> {
        let mut s = AlterRetentionPolicyStatement::default();
        let mut seen: Vec<&'static str> = Vec::new();
        for part in rest {
            match part.as_rule() {
                Rule::rp_name => {
                    s.name = match part.into_inner().next() {
                        Some(i) if i.as_rule() == Rule::ident => self.ident(i),
                        _ => "default".to_string(),
                    }
                }
                Rule::ident => s.database = self.ident(part),
                Rule::alter_opt | Rule::alter_more => {
                    let Some(opt) = part.into_inner().next() else {
                        continue;
                    };
                    let kw_pos = self.pos(&opt);
                    let (name, rule) = match opt.as_rule() {
                        Rule::alter_duration => ("DURATION", Rule::alter_duration),
                        Rule::alter_replication => ("REPLICATION", Rule::alter_replication),
                        Rule::alter_shard => ("SHARD", Rule::alter_shard),
                        _ => ("DEFAULT", Rule::alter_default),
                    };
                    if seen.contains(&name) {
                        return Err(at(
                            self.input,
                            kw_pos,
                            format!("found duplicate {name} option"),
                        ));
                    }
                    seen.push(name);
                    let mut inner = opt.into_inner();
                    match rule {
                        Rule::alter_duration => {
                            if let Some(d) = inner.nth(1) {
                                s.duration = Some(self.duration_value(d)?);
                            }
                        }
                        Rule::alter_replication => {
                            if let Some(n) = inner.nth(1) {
                                s.replication = Some(self.replication(n)?);
                            }
                        }
                        Rule::alter_shard => {
                            if let Some(d) = inner.nth(2) {
                                s.shard_duration = Some(self.shard_duration(d)?);
                            }
                        }
                        _ => s.default = true,
                    }
                }
                _ => {}
            }
        }
        Ok(Statement::AlterRetentionPolicy(s))
    }

    /// `SHARD DURATION` of a retention policy: `INF` is refused.
    fn shard_duration(&self, p: Pair<'_, Rule>) -> R<i64> {
        let pos = self.pos(&p);
        if p.as_str().eq_ignore_ascii_case("inf") {
            return Err(at(
                self.input,
                pos,
                "invalid duration INF for shard duration",
            ));
        }
        self.duration_value(p)
    }

    pub(super) fn drop(&self, body: Pair<'_, Rule>) -> R<Statement> {
        let Some(inner) = body.into_inner().next() else {
            return Err(ParseError::Message("empty DROP".into()));
        };
        let rule = inner.as_rule();
        if rule == Rule::drop_series {
            let b = inner
                .into_inner()
                .find(|x| x.as_rule() == Rule::delete_body)
                .ok_or_else(|| ParseError::Message("empty DROP SERIES".into()))?;
            return Ok(Statement::DropSeries(self.delete_body(b)?));
        }
        if rule == Rule::drop_shard {
            let n = inner
                .into_inner()
                .find(|x| x.as_rule() == Rule::integer)
                .ok_or_else(|| ParseError::Message("missing shard id".into()))?;
            return Ok(Statement::DropShard { id: self.uint(&n)? });
        }
        let idents: Vec<String> = inner
            .into_inner()
            .filter(|x| x.as_rule() == Rule::ident)
            .map(|i| self.ident(i))
            .collect();
        let mut it = idents.into_iter();
        let mut next = || it.next().unwrap_or_default();
        Ok(match rule {
            Rule::drop_cq => Statement::DropContinuousQuery {
                name: next(),
                database: next(),
            },
            Rule::drop_database => Statement::DropDatabase { name: next() },
            Rule::drop_measurement => Statement::DropMeasurement { name: next() },
            Rule::drop_rp => Statement::DropRetentionPolicy {
                name: next(),
                database: next(),
            },
            Rule::drop_subscription => Statement::DropSubscription {
                name: next(),
                database: next(),
                retention_policy: next(),
            },
            _ => Statement::DropUser { name: next() },
        })
    }

    pub(super) fn delete_body(&self, p: Pair<'_, Rule>) -> R<DeleteStatement> {
        let c = self.clauses(p.into_inner())?;
        let mut err = None;
        for m in &c.sources {
            if m.database.is_some() {
                err = Some("database not supported");
            }
            if m.retention_policy.is_some() {
                err = Some("retention policy not supported");
            }
        }
        if let Some(message) = err {
            return Err(ParseError::At {
                message: message.into(),
                line: 1,
                char: 1,
            });
        }
        Ok(DeleteStatement {
            sources: c.sources,
            condition: c.condition,
        })
    }
}
