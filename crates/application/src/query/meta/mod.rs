//! Metadata statements: DDL, SHOW, DROP, DELETE and continuous-query definitions.
//!
//! Everything here is answered from [`hyperbyte_ports::MetadataPort`] (the series index serves SHOW SERIES,
//! TAG KEYS and TAG VALUES, so they never scan storage). With a million series per
//! database nothing here clones a measurement's whole series list: series are visited in
//! key order with early exit (LIMIT), tag conditions go through the index's per-value
//! series lists (`cond::index_candidates`), and counts, tag keys and tag values come straight
//! from the index. The exception is the exact cardinalities (`cardinality`): InfluxDB
//! counts only the data of the policy each source names (else the default one) there,
//! which the database-wide index cannot tell, so they read the tag sets those policies'
//! tables hold. Data removal goes through
//! [`hyperbyte_ports::StorageAdminPort`] after the WAL backlog is flushed, so deletes also cover points that
//! were acknowledged but not yet flushed.

use super::cond::refuse_time;
use super::{QueryService, StatementError, StmtResult};
use hyperbyte_domain::query::{Series, StatementResult, Value};
use hyperbyte_timeseriesql::ast::Statement;

pub(super) fn series(name: Option<&str>, columns: &[&str], values: Vec<Vec<Value>>) -> Series {
    Series {
        name: name.map(str::to_string),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        values,
        ..Default::default()
    }
}

pub(super) fn result(series: Vec<Series>) -> StatementResult {
    StatementResult {
        series,
        ..Default::default()
    }
}

pub(super) fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

pub(super) fn page<T>(items: Vec<T>, limit: Option<u64>, offset: Option<u64>) -> Vec<T> {
    let off = offset.unwrap_or(0) as usize;
    let it = items.into_iter().skip(off);
    match limit {
        Some(l) if l > 0 => it.take(l as usize).collect(),
        _ => it.collect(),
    }
}

mod cardinality;
mod ddl;
mod index;
mod index_cond;
mod monitor;
mod show;
mod users;

impl QueryService {
    /// Answers one metadata statement; each family lives in its own module.
    pub(crate) async fn meta_statement(&self, stmt: &Statement, db: Option<&str>) -> StmtResult {
        match stmt {
            Statement::CreateDatabase(c) => self.create_database(c).await,
            Statement::DropDatabase { name } => self.drop_database(name).await,
            Statement::CreateRetentionPolicy(c) => self.create_retention_policy(c).await,
            Statement::AlterRetentionPolicy(a) => self.alter_retention_policy(a).await,
            Statement::DropRetentionPolicy { name, database } => {
                self.drop_retention_policy(name, database).await
            }
            Statement::CreateContinuousQuery(cq) => self.create_continuous_query(cq, db).await,
            Statement::DropContinuousQuery { name, database } => {
                self.drop_continuous_query(name, database).await
            }
            Statement::DropMeasurement { name } => self.drop_measurement(name, db).await,
            Statement::DropSeries(d) => {
                let name = self.require_data_db(db)?;
                refuse_time(d.condition.as_ref(), "DROP SERIES")?;
                self.delete(&name, d, true).await
            }
            Statement::Delete(d) => {
                let name = self.require_data_db(db)?;
                self.delete(&name, d, false).await
            }
            Statement::ShowDatabases => self.show_databases(&crate::auth::Access::Open),
            Statement::ShowRetentionPolicies { database } => {
                self.show_retention_policies(database.as_deref(), db)
            }
            Statement::ShowMeasurements(sm) => self.show_measurements(sm, db),
            Statement::ShowSeries(ss) => self.show_series(ss, db).await,
            Statement::ShowTagKeys(st) => self.show_tag_keys(st, db),
            Statement::ShowTagValues(tv) => self.show_tag_values(tv, db),
            Statement::ShowFieldKeys(sf) => self.show_field_keys(sf, db),
            Statement::ShowCardinality(c) => {
                let name = self.require_db(c.database.as_deref(), db)?;
                self.cardinality(&name, c).await
            }
            Statement::ShowContinuousQueries => self.show_continuous_queries(),
            Statement::ShowUsers => self.show_users(),
            Statement::CreateUser {
                name,
                password,
                admin,
            } => self.create_user(name, password, *admin).await,
            Statement::DropUser { name } => self.drop_user(name).await,
            Statement::SetPassword { name, password } => self.set_password(name, password).await,
            Statement::Grant {
                privilege,
                database,
                user,
            } => {
                self.grant(*privilege, database.as_deref(), user, true)
                    .await
            }
            Statement::Revoke {
                privilege,
                database,
                user,
            } => {
                self.grant(*privilege, database.as_deref(), user, false)
                    .await
            }
            Statement::ShowGrants { user } => self.show_grants(user),
            Statement::ShowShards => self.show_shards(),
            Statement::ShowShardGroups => self.show_shard_groups(),
            Statement::ShowStats { module } => self.show_stats(module.as_deref()),
            Statement::ShowDiagnostics { module } => self.show_diagnostics(module.as_deref()),
            Statement::ShowQueries => self.show_queries(),
            Statement::KillQuery { query_id, .. } => self.kill_query(*query_id),
            Statement::ShowSubscriptions => Ok(StatementResult::default()),
            Statement::CreateSubscription { .. } | Statement::DropSubscription { .. } => {
                Err(StatementError::new("subscriptions are not supported"))
            }
            Statement::DropShard { id } => self.drop_shard(*id).await,
            Statement::Explain(_) => Err(StatementError::new("EXPLAIN is not supported")),
            Statement::Select(_) => Err(StatementError::new("unexpected SELECT")),
        }
    }
}
