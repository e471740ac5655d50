//! User statements with InfluxDB 1.x's behaviour: passwords stored as bcrypt hashes
//! (computed here, off the async threads), privileges kept in the catalog, whose rules
//! answer InfluxDB's texts (`user not found`, `user already exists`, ...).

use super::super::{QueryService, StatementError, StmtResult};
use super::{result, s, series};
use crate::auth::{hash_password, verify_password};
use hyperbyte_domain::query::{StatementResult, Value};
use hyperbyte_domain::{MetaCommand, Privilege, User};
use hyperbyte_timeseriesql::ast::Privilege as AstPrivilege;

fn privilege(p: AstPrivilege) -> Privilege {
    match p {
        AstPrivilege::Read => Privilege::Read,
        AstPrivilege::Write => Privilege::Write,
        AstPrivilege::All => Privilege::All,
    }
}

async fn hashed(password: &str) -> Result<String, StatementError> {
    let p = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&p))
        .await
        .map_err(|e| StatementError::new(e.to_string()))?
        .map_err(|e| StatementError::new(e.to_string()))
}

impl QueryService {
    fn find_user(&self, name: &str) -> Option<User> {
        self.meta.users().into_iter().find(|u| u.name == name)
    }

    /// `SHOW USERS`.
    pub(super) fn show_users(&self) -> StmtResult {
        let values = self
            .meta
            .users()
            .iter()
            .map(|u| vec![s(&u.name), Value::Boolean(u.admin)])
            .collect();
        Ok(result(vec![series(None, &["user", "admin"], values)]))
    }

    /// `SHOW GRANTS FOR u` (by database name; InfluxDB's order is its map's).
    pub(super) fn show_grants(&self, name: &str) -> StmtResult {
        let u = self
            .find_user(name)
            .ok_or_else(|| StatementError::new("user not found"))?;
        let values = u
            .privileges
            .iter()
            .map(|(db, p)| vec![s(db), s(p.as_str())])
            .collect();
        Ok(result(vec![series(
            None,
            &["database", "privilege"],
            values,
        )]))
    }

    /// `SET PASSWORD FOR`.
    pub(super) async fn set_password(&self, name: &str, password: &str) -> StmtResult {
        if self.find_user(name).is_none() {
            return Err(StatementError::new("user not found"));
        }
        let password_hash = hashed(password).await?;
        self.meta
            .apply(MetaCommand::SetPassword {
                name: name.to_string(),
                password_hash,
            })
            .await?;
        if let Some(a) = &self.auth {
            a.forget(name);
        }
        Ok(StatementResult::default())
    }

    /// `CREATE USER`: creating an existing user with the same password and admin flag is
    /// a no-op, as in InfluxDB; anything else answers `user already exists`.
    pub(super) async fn create_user(&self, name: &str, password: &str, admin: bool) -> StmtResult {
        if let Some(u) = self.find_user(name) {
            let (p, h) = (password.to_string(), u.password_hash.clone());
            let same = tokio::task::spawn_blocking(move || verify_password(&p, &h))
                .await
                .unwrap_or(false);
            if same && u.admin == admin {
                return Ok(StatementResult::default());
            }
            return Err(StatementError::new("user already exists"));
        }
        let password_hash = hashed(password).await?;
        self.meta
            .apply(MetaCommand::CreateUser(User {
                name: name.to_string(),
                password_hash,
                admin,
                privileges: Default::default(),
            }))
            .await?;
        Ok(StatementResult::default())
    }

    /// `DROP USER`.
    pub(super) async fn drop_user(&self, name: &str) -> StmtResult {
        self.meta
            .apply(MetaCommand::DropUser {
                name: name.to_string(),
            })
            .await?;
        if let Some(a) = &self.auth {
            a.forget(name);
        }
        Ok(StatementResult::default())
    }

    /// `GRANT`/`REVOKE` (`grant` false), on a database or the admin flag (no database).
    pub(super) async fn grant(
        &self,
        p: AstPrivilege,
        database: Option<&str>,
        name: &str,
        grant: bool,
    ) -> StmtResult {
        let name = name.to_string();
        let cmd = match database {
            None => MetaCommand::SetAdmin { name, admin: grant },
            Some(db) if grant => MetaCommand::GrantPrivilege {
                name,
                database: db.to_string(),
                privilege: privilege(p),
            },
            Some(db) => MetaCommand::RevokePrivilege {
                name,
                database: db.to_string(),
                privilege: privilege(p),
            },
        };
        self.meta.apply(cmd).await?;
        Ok(StatementResult::default())
    }
}
