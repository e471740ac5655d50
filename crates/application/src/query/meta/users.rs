//! User statements. Passwords are kept as a digest; authentication and privileges arrive
//! with the security work (issue 17), which replaces this module's digest.

use super::super::{QueryService, StatementError, StmtResult};
use super::{result, s, series};
use hyperbyte_domain::query::{StatementResult, Value};
use hyperbyte_domain::{MetaCommand, User};

impl QueryService {
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

    /// `SET PASSWORD FOR`.
    pub(super) async fn set_password(&self, name: &str, password: &str) -> StmtResult {
        let mut u = self.user(name)?;
        u.password_hash = password_digest(password);
        self.meta.apply(MetaCommand::PutUser(u)).await?;
        Ok(StatementResult::default())
    }

    /// The user called `name`, or InfluxDB's `user not found`.
    fn user(&self, name: &str) -> Result<User, StatementError> {
        self.meta
            .users()
            .into_iter()
            .find(|u| u.name == name)
            .ok_or_else(|| StatementError::new("user not found"))
    }

    /// `GRANT` (`grant`) or `REVOKE`: the admin form (no database) sets or clears the
    /// user's admin flag; privileges on a database are checked as InfluxDB checks them
    /// (the user, then the database must exist) but not kept until authorisation arrives.
    pub(super) async fn grant(
        &self,
        database: Option<&str>,
        user: &str,
        grant: bool,
    ) -> StmtResult {
        let mut u = self.user(user)?;
        match database {
            None => {
                if u.admin != grant {
                    u.admin = grant;
                    self.meta.apply(MetaCommand::PutUser(u)).await?;
                }
            }
            Some(db) => {
                if self.meta.database(db).is_none() {
                    return Err(StatementError::new(format!("database not found: {db}")));
                }
            }
        }
        Ok(StatementResult::default())
    }

    /// `SHOW GRANTS FOR`: no database privileges are kept yet, so none are listed.
    pub(super) fn show_grants(&self, user: &str) -> StmtResult {
        self.user(user)?;
        Ok(result(vec![series(
            None,
            &["database", "privilege"],
            vec![],
        )]))
    }

    /// `CREATE USER`.
    pub(super) async fn create_user(&self, name: &str, password: &str, admin: bool) -> StmtResult {
        self.meta
            .apply(MetaCommand::PutUser(User {
                name: name.to_string(),
                password_hash: password_digest(password),
                admin,
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
        Ok(StatementResult::default())
    }
}

/// A non-reversible digest of a password (authentication arrives with a later release).
fn password_digest(p: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in p.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a:{h:016x}")
}
