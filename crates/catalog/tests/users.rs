//! Users and privileges with InfluxDB 1.6's rules and texts: creation, password and admin
//! changes, `GRANT` replacing, `REVOKE` clearing bits, unknown users and databases, and
//! `DROP DATABASE` forgetting privileges on it; all surviving a reopen.
#![allow(clippy::unwrap_used)]

mod common;

use common::Meta;
use hyperbyte_domain::{MetaCommand, Privilege, User};
use hyperbyte_ports::{MetaError, MetadataPort};

fn err_text<T: std::fmt::Debug>(r: Result<T, MetaError>) -> String {
    match r {
        Err(MetaError::Invalid(m)) => m,
        other => panic!("expected a rule error, got {other:?}"),
    }
}

fn user(name: &str) -> User {
    User {
        name: name.into(),
        password_hash: "h".into(),
        ..Default::default()
    }
}

fn grant(name: &str, db: &str, p: Privilege) -> MetaCommand {
    MetaCommand::GrantPrivilege {
        name: name.into(),
        database: db.into(),
        privilege: p,
    }
}

fn revoke(name: &str, db: &str, p: Privilege) -> MetaCommand {
    MetaCommand::RevokePrivilege {
        name: name.into(),
        database: db.into(),
        privilege: p,
    }
}

fn privileges(meta: &Meta, name: &str) -> Vec<(String, Privilege)> {
    let u = meta.users().into_iter().find(|u| u.name == name).unwrap();
    u.privileges.into_iter().collect()
}

#[test]
fn users_and_privileges_follow_influxdb() {
    let meta = Meta::new();
    for db in ["db", "other"] {
        meta.apply_blocking(MetaCommand::CreateDatabase {
            name: db.into(),
            default_rp: None,
        })
        .unwrap();
    }
    meta.apply_blocking(MetaCommand::CreateUser(user("bob")))
        .unwrap();
    let again = meta.apply_blocking(MetaCommand::CreateUser(user("bob")));
    assert_eq!(err_text(again), "user already exists");
    let none = MetaCommand::SetPassword {
        name: "nobody".into(),
        password_hash: "x".into(),
    };
    assert_eq!(err_text(meta.apply_blocking(none)), "user not found");
    let admin = MetaCommand::SetAdmin {
        name: "nobody".into(),
        admin: true,
    };
    assert_eq!(err_text(meta.apply_blocking(admin)), "user not found");
    let r = meta.apply_blocking(grant("nobody", "db", Privilege::Read));
    assert_eq!(err_text(r), "user not found");
    let r = meta.apply_blocking(grant("bob", "nodb", Privilege::Read));
    assert_eq!(err_text(r), "database not found: nodb");

    meta.apply_blocking(grant("bob", "db", Privilege::All))
        .unwrap();
    meta.apply_blocking(revoke("bob", "db", Privilege::Read))
        .unwrap();
    assert_eq!(
        privileges(&meta, "bob"),
        vec![("db".into(), Privilege::Write)]
    );
    // GRANT replaces.
    meta.apply_blocking(grant("bob", "db", Privilege::Read))
        .unwrap();
    // REVOKE of something never granted leaves NO PRIVILEGES listed.
    meta.apply_blocking(revoke("bob", "other", Privilege::Write))
        .unwrap();
    assert_eq!(
        privileges(&meta, "bob"),
        vec![
            ("db".into(), Privilege::Read),
            ("other".into(), Privilege::None)
        ]
    );
    meta.apply_blocking(MetaCommand::SetAdmin {
        name: "bob".into(),
        admin: true,
    })
    .unwrap();
    meta.apply_blocking(MetaCommand::SetPassword {
        name: "bob".into(),
        password_hash: "h2".into(),
    })
    .unwrap();
    let meta = meta.reopen();
    let bob = meta.users().into_iter().next().unwrap();
    assert!(bob.admin);
    assert_eq!(bob.password_hash, "h2");
    assert_eq!(bob.privileges.len(), 2);

    meta.apply_blocking(MetaCommand::DropDatabase { name: "db".into() })
        .unwrap();
    let meta = meta.reopen();
    assert_eq!(
        privileges(&meta, "bob"),
        vec![("other".into(), Privilege::None)]
    );
    meta.apply_blocking(revoke("bob", "other", Privilege::All))
        .unwrap();
    meta.apply_blocking(MetaCommand::DropUser { name: "bob".into() })
        .unwrap();
    assert!(meta.reopen().users().is_empty());
}

#[test]
fn user_can_follows_authorize_database() {
    let mut u = user("u");
    u.privileges.insert("r".into(), Privilege::Read);
    u.privileges.insert("a".into(), Privilege::All);
    assert!(u.can(Privilege::Read, "r"));
    assert!(!u.can(Privilege::Write, "r"));
    assert!(u.can(Privilege::Write, "a") && u.can(Privilege::Read, "a"));
    assert!(!u.can(Privilege::Read, "x"));
    assert!(u.can(Privilege::None, "x"));
    u.admin = true;
    assert!(u.can(Privilege::All, "x"));
}
