//! Users and privileges with InfluxDB 1.6's rules and texts (`meta.Data`'s `CreateUser`,
//! `UpdateUser`, `SetPrivilege`, `SetAdminPrivilege`, the statement executor's `REVOKE`):
//! every metadata store answers the same. Password hashing is not here (the catalog is
//! pure): commands carry the hash the application computed.

use crate::rules::{db_not_found, invalid, ERR_USER_EXISTS, ERR_USER_NOT_FOUND};
use crate::{Catalog, Change};
use hyperbyte_domain::{MetaCommand, Privilege, User};
use hyperbyte_ports::MetaError;

type Plan = Result<Vec<Change>, MetaError>;

/// Plans a user command (`None` for any other command).
pub(crate) fn plan_user(c: &Catalog, cmd: &MetaCommand) -> Option<Plan> {
    Some(match cmd {
        MetaCommand::PutUser(user) => Ok(put_user(c, user.clone())),
        MetaCommand::CreateUser(user) => {
            if user.name.is_empty() {
                Err(invalid("username required"))
            } else if c.users.contains_key(&user.name) {
                Err(invalid(ERR_USER_EXISTS))
            } else {
                Ok(put_user(c, user.clone()))
            }
        }
        MetaCommand::DropUser { name } => {
            if c.users.contains_key(name) {
                Ok(vec![Change::DeleteUser { name: name.clone() }])
            } else {
                Err(invalid(ERR_USER_NOT_FOUND))
            }
        }
        MetaCommand::SetPassword {
            name,
            password_hash,
        } => update(c, name, |u| u.password_hash = password_hash.clone()),
        MetaCommand::SetAdmin { name, admin } => update(c, name, |u| u.admin = *admin),
        MetaCommand::GrantPrivilege {
            name,
            database,
            privilege,
        } => set_privilege(c, name, database, |_| *privilege),
        MetaCommand::RevokePrivilege {
            name,
            database,
            privilege,
        } => set_privilege(c, name, database, |have| match privilege {
            // Revoking everything needs no look at what the user had.
            Privilege::All => Privilege::None,
            p => have.without(*p),
        }),
        _ => return None,
    })
}

/// Creates or replaces a user; a replaced user keeps its place in the listing.
fn put_user(c: &Catalog, user: User) -> Vec<Change> {
    let order = match c.users.get(&user.name) {
        Some((_, have)) if *have == user => return Vec::new(),
        Some((o, _)) => *o,
        None => c.next_order,
    };
    vec![Change::PutUser { order, user }]
}

fn update(c: &Catalog, name: &str, f: impl FnOnce(&mut User)) -> Plan {
    let Some((_, have)) = c.users.get(name) else {
        return Err(invalid(ERR_USER_NOT_FOUND));
    };
    let mut user = have.clone();
    f(&mut user);
    Ok(put_user(c, user))
}

/// InfluxDB's `SetPrivilege`: the user must exist, then the database.
fn set_privilege(
    c: &Catalog,
    name: &str,
    database: &str,
    f: impl FnOnce(Privilege) -> Privilege,
) -> Plan {
    if !c.users.contains_key(name) {
        return Err(invalid(ERR_USER_NOT_FOUND));
    }
    if !c.dbs.contains_key(database) {
        return Err(db_not_found(database));
    }
    update(c, name, |u| {
        let have = u.privileges.get(database).copied().unwrap_or_default();
        u.privileges.insert(database.to_string(), f(have));
    })
}

/// A dropped database leaves no privilege behind (InfluxDB's `DropDatabase`).
pub(crate) fn forget_database(c: &Catalog, database: &str) -> Vec<Change> {
    let mut names: Vec<&String> = c
        .users
        .iter()
        .filter(|(_, (_, u))| u.privileges.contains_key(database))
        .map(|(n, _)| n)
        .collect();
    names.sort_unstable();
    names
        .into_iter()
        .filter_map(|n| c.users.get(n))
        .map(|(order, u)| {
            let mut user = u.clone();
            user.privileges.remove(database);
            Change::PutUser {
                order: *order,
                user,
            }
        })
        .collect()
}
