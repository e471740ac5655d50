//! Users and privileges: CREATE USER, SET PASSWORD, GRANT and REVOKE.
//!
//! Why it exists: privileges and admin grants share one shape in the grammar and are told
//! apart here.

use super::{Builder, R};
use crate::ast::*;
use crate::parser::Rule;
use pest::iterators::{Pair, Pairs};

impl Builder<'_> {
    /// `CREATE USER name WITH PASSWORD 'pw' [WITH ALL PRIVILEGES]`.
    pub(super) fn create_user(&self, p: Pair<'_, Rule>) -> Statement {
        let mut name = String::new();
        let mut password = String::new();
        let mut admin = false;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::ident => name = self.ident(part),
                Rule::string => password = self.string_lit(part),
                Rule::kw_privileges => admin = true,
                _ => {}
            }
        }
        Statement::CreateUser {
            name,
            password,
            admin,
        }
    }

    pub(super) fn set_password(&self, rest: Pairs<'_, Rule>) -> R<Statement> {
        let mut name = String::new();
        let mut password = String::new();
        for part in rest {
            match part.as_rule() {
                Rule::ident => name = self.ident(part),
                Rule::string => password = self.string_lit(part),
                _ => {}
            }
        }
        Ok(Statement::SetPassword { name, password })
    }

    fn privilege(&self, p: Pair<'_, Rule>) -> Privilege {
        let rule = if p.as_rule() == Rule::privilege {
            p.into_inner().next().map(|x| x.as_rule())
        } else {
            Some(p.as_rule())
        };
        match rule {
            Some(Rule::kw_read) => Privilege::Read,
            Some(Rule::kw_write) => Privilege::Write,
            _ => Privilege::All,
        }
    }

    pub(super) fn grant_revoke(&self, body: Pair<'_, Rule>, grant: bool) -> R<Statement> {
        let admin = matches!(body.as_rule(), Rule::grant_admin | Rule::revoke_admin);
        let mut privilege = Privilege::All;
        let mut idents = Vec::new();
        for part in body.into_inner() {
            match part.as_rule() {
                Rule::privilege | Rule::priv_all => privilege = self.privilege(part),
                Rule::ident => idents.push(self.ident(part)),
                _ => {}
            }
        }
        let (database, user) = if admin {
            (None, idents.pop().unwrap_or_default())
        } else {
            let user = idents.pop().unwrap_or_default();
            (idents.pop(), user)
        };
        Ok(if grant {
            Statement::Grant {
                privilege,
                database,
                user,
            }
        } else {
            Statement::Revoke {
                privilege,
                database,
                user,
            }
        })
    }
}
