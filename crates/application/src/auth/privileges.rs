//! Which privileges each InfluxQL statement needs (InfluxQL 1.x's `RequiredPrivileges`)
//! and InfluxDB's `QueryAuthorizer.AuthorizeQuery` over them, with its error texts
//! (checked against a real InfluxDB 1.6.7 with authentication on).

use super::{Access, AuthError, Principal};
use hyperbyte_domain::Privilege;
use hyperbyte_timeseriesql::ast::{Query, SelectStatement, Source, Statement};

/// One privilege a statement needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Need {
    /// Only an admin may run it.
    Admin,
    /// `privilege` on a database; `None` means the request's `db` parameter.
    On(Option<String>, Privilege),
}

fn on(database: &Option<String>, p: Privilege) -> Need {
    Need::On(database.clone(), p)
}

fn select_needs(s: &SelectStatement, out: &mut Vec<Need>) {
    for source in &s.sources {
        match source {
            Source::Measurement(m) => out.push(on(&m.database, Privilege::Read)),
            Source::Subquery(q) => select_needs(q, out),
        }
    }
    if let Some(t) = &s.target {
        out.push(on(&t.database, Privilege::Write));
    }
}

fn needs(stmt: &Statement) -> Vec<Need> {
    let here = |p| vec![Need::On(None, p)];
    match stmt {
        Statement::Select(s) => {
            let mut out = Vec::new();
            select_needs(s, &mut out);
            out
        }
        Statement::Explain(e) => {
            let mut out = Vec::new();
            select_needs(&e.statement, &mut out);
            out
        }
        Statement::Delete(_) | Statement::DropSeries(_) => here(Privilege::Write),
        // InfluxDB 1.6.7 answers `requires READ on db` to creating a CQ (its SELECT is
        // not checked) and asks for admin to drop a measurement.
        Statement::CreateContinuousQuery(cq) => {
            vec![Need::On(Some(cq.database.clone()), Privilege::Read)]
        }
        Statement::DropContinuousQuery { database, .. } => {
            vec![Need::On(Some(database.clone()), Privilege::Write)]
        }
        // Listed per database the user may read or write (see `visible_database`).
        Statement::ShowDatabases => here(Privilege::None),
        Statement::ShowRetentionPolicies { database } => vec![on(database, Privilege::Read)],
        Statement::ShowMeasurements(s) => vec![on(&s.database, Privilege::Read)],
        Statement::ShowSeries(s) => vec![on(&s.database, Privilege::Read)],
        Statement::ShowTagKeys(s) => vec![on(&s.database, Privilege::Read)],
        Statement::ShowTagValues(s) => vec![on(&s.database, Privilege::Read)],
        Statement::ShowFieldKeys(s) => vec![on(&s.database, Privilege::Read)],
        Statement::ShowCardinality(s) => vec![on(&s.database, Privilege::Read)],
        Statement::ShowContinuousQueries | Statement::ShowQueries => here(Privilege::Read),
        Statement::CreateDatabase(_)
        | Statement::DropMeasurement { .. }
        | Statement::DropDatabase { .. }
        | Statement::CreateRetentionPolicy(_)
        | Statement::AlterRetentionPolicy(_)
        | Statement::DropRetentionPolicy { .. }
        | Statement::CreateUser { .. }
        | Statement::DropUser { .. }
        | Statement::SetPassword { .. }
        | Statement::Grant { .. }
        | Statement::Revoke { .. }
        | Statement::CreateSubscription { .. }
        | Statement::DropSubscription { .. }
        | Statement::DropShard { .. }
        | Statement::KillQuery { .. }
        | Statement::ShowShards
        | Statement::ShowShardGroups
        | Statement::ShowStats { .. }
        | Statement::ShowDiagnostics { .. }
        | Statement::ShowUsers
        | Statement::ShowGrants { .. }
        | Statement::ShowSubscriptions => vec![Need::Admin],
    }
}

fn forbidden(user: &str, msg: String) -> AuthError {
    AuthError::Forbidden(format!("{user} not authorized to execute {msg}"))
}

/// InfluxDB's `AuthorizeQuery`: every statement of `query` checked before any runs.
/// `no_users` is whether the metadata holds no user at all (the bootstrap rule: then only
/// a first statement creating an admin user is allowed).
pub fn authorize_query(
    access: &Access,
    no_users: bool,
    query: &Query,
    database: Option<&str>,
) -> Result<(), AuthError> {
    let Access::User(user) = access else {
        return Ok(());
    };
    if no_users {
        return match query.statements.first() {
            Some(Statement::CreateUser { admin: true, .. }) => Ok(()),
            _ => Err(AuthError::Forbidden(
                "create admin user first or disable authentication".into(),
            )),
        };
    }
    let Some(user) = user else {
        return Err(AuthError::Forbidden("no user provided".into()));
    };
    if user.admin {
        return Ok(());
    }
    for stmt in &query.statements {
        for need in needs(stmt) {
            match need {
                Need::Admin => {
                    return Err(forbidden(
                        &user.name,
                        format!("statement '{stmt}', requires admin privilege"),
                    ))
                }
                Need::On(db, p) => {
                    let db = db.as_deref().unwrap_or(database.unwrap_or(""));
                    if !user.can(p, db) {
                        return Err(forbidden(
                            &user.name,
                            format!("statement '{stmt}', requires {p} on {db}"),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Whether `SHOW DATABASES` lists `database` (it may be read or written).
pub fn visible_database(access: &Access, database: &str) -> bool {
    match access {
        Access::Open | Access::User(None) => true,
        Access::User(Some(p)) => visible_to(p, database),
    }
}

fn visible_to(p: &Principal, database: &str) -> bool {
    p.can(Privilege::Read, database) || p.can(Privilege::Write, database)
}
