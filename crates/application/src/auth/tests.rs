//! The auth rules against the in-memory metadata: authentication by password (with the
//! verification cache and its invalidation) and by JWT, the bootstrap rule, statement
//! privileges with InfluxDB's texts, and writes.

use super::*;
use hyperbyte_domain::MetaCommand;
use hyperbyte_testkit::MemoryMetadata;
use hyperbyte_timeseriesql::parser::parse;

const SECRET: &str = "s3cret";

async fn setup(secret: &str) -> (Arc<MemoryMetadata>, AuthService) {
    let meta = Arc::new(MemoryMetadata::new());
    for db in ["db", "other"] {
        meta.apply(MetaCommand::CreateDatabase {
            name: db.into(),
            default_rp: None,
        })
        .await
        .unwrap();
    }
    let auth = AuthService::new(
        meta.clone(),
        AuthConfig {
            enabled: true,
            shared_secret: secret.into(),
        },
    );
    (meta, auth)
}

async fn add_user(meta: &MemoryMetadata, name: &str, admin: bool, grants: &[(&str, Privilege)]) {
    meta.apply(MetaCommand::CreateUser(User {
        name: name.into(),
        password_hash: hash_password(&format!("{name}-pw")).unwrap(),
        admin,
        privileges: Default::default(),
    }))
    .await
    .unwrap();
    for (db, p) in grants {
        meta.apply(MetaCommand::GrantPrivilege {
            name: name.into(),
            database: (*db).into(),
            privilege: *p,
        })
        .await
        .unwrap();
    }
}

fn pw(user: &str, password: &str) -> Credentials {
    Credentials::Password {
        username: user.into(),
        password: password.into(),
    }
}

fn jwt(claims: serde_json::Value, secret: &str) -> Credentials {
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    Credentials::Bearer(token)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn unauth(r: Result<Access, AuthError>) -> String {
    match r {
        Err(AuthError::Unauthenticated(m)) => m,
        other => panic!("expected 401, got {other:?}"),
    }
}

async fn principal(auth: &AuthService, c: Credentials) -> Access {
    let a = auth.authenticate(c).await.unwrap();
    assert!(matches!(a, Access::User(Some(_))), "{a:?}");
    a
}

fn check(access: &Access, q: &str, db: Option<&str>) -> Result<(), String> {
    authorize_query(access, false, &parse(q).unwrap(), db).map_err(|e| e.to_string())
}

#[tokio::test]
async fn disabled_lets_everything_through() {
    let meta = Arc::new(MemoryMetadata::new());
    let auth = AuthService::new(meta, AuthConfig::default());
    assert_eq!(auth.authenticate(Credentials::None).await, Ok(Access::Open));
    assert!(check(&Access::Open, "DROP DATABASE db", None).is_ok());
    assert!(auth.authorize_write(&Access::Open, "db").is_ok());
}

#[tokio::test]
async fn bootstrap_allows_only_creating_an_admin() {
    let (meta, auth) = setup(SECRET).await;
    let access = auth.authenticate(Credentials::None).await.unwrap();
    assert_eq!(access, Access::User(None));
    let q = |s: &str| authorize_query(&access, true, &parse(s).unwrap(), None);
    assert!(q("CREATE USER a WITH PASSWORD 'p' WITH ALL PRIVILEGES").is_ok());
    let msg = "create admin user first or disable authentication";
    assert_eq!(
        q("CREATE USER a WITH PASSWORD 'p'")
            .unwrap_err()
            .to_string(),
        msg
    );
    assert_eq!(q("SHOW DATABASES").unwrap_err().to_string(), msg);
    // Users but no admin: credentials are not looked at, statements need a user.
    add_user(&meta, "r", false, &[]).await;
    let access = auth.authenticate(pw("r", "wrong")).await.unwrap();
    assert_eq!(access, Access::User(None));
    assert_eq!(
        check(&access, "SHOW DATABASES", None).unwrap_err(),
        "no user provided"
    );
    assert_eq!(
        auth.authorize_write(&access, "db").unwrap_err().to_string(),
        "user is required to write to database \"db\""
    );
}

#[tokio::test]
async fn passwords_are_checked_and_cached() {
    let (meta, auth) = setup(SECRET).await;
    add_user(&meta, "admin", true, &[]).await;
    assert_eq!(
        unauth(auth.authenticate(Credentials::None).await),
        "unable to parse authentication credentials"
    );
    assert_eq!(
        unauth(auth.authenticate(pw("", "x")).await),
        "username required"
    );
    assert_eq!(
        unauth(auth.authenticate(pw("admin", "bad")).await),
        "authorization failed"
    );
    assert_eq!(
        unauth(auth.authenticate(pw("nobody", "x")).await),
        "authorization failed"
    );
    assert_eq!(auth.cached(), 0);
    principal(&auth, pw("admin", "admin-pw")).await;
    assert_eq!(auth.cached(), 1);
    principal(&auth, pw("admin", "admin-pw")).await;
    assert_eq!(auth.cached(), 1);
    // A password change invalidates the cached verification even without `forget`.
    meta.apply(MetaCommand::SetPassword {
        name: "admin".into(),
        password_hash: hash_password("new").unwrap(),
    })
    .await
    .unwrap();
    assert_eq!(
        unauth(auth.authenticate(pw("admin", "admin-pw")).await),
        "authorization failed"
    );
    principal(&auth, pw("admin", "new")).await;
    auth.forget("admin");
    assert_eq!(auth.cached(), 0);
    let stored = meta.users().remove(0).password_hash;
    assert!(stored.starts_with("$2"), "bcrypt hash expected: {stored}");
}

#[tokio::test]
async fn jwt_tokens() {
    let (meta, auth) = setup(SECRET).await;
    add_user(&meta, "admin", true, &[]).await;
    let ok = serde_json::json!({"username": "admin", "exp": now() + 60});
    principal(&auth, jwt(ok.clone(), SECRET)).await;
    let expired = serde_json::json!({"username": "admin", "exp": now() - 10});
    assert_eq!(
        unauth(auth.authenticate(jwt(expired, SECRET)).await),
        "Token is expired"
    );
    let no_exp = serde_json::json!({"username": "admin"});
    assert_eq!(
        unauth(auth.authenticate(jwt(no_exp, SECRET)).await),
        "token expiration required"
    );
    let no_user = serde_json::json!({"exp": now() + 60});
    assert_eq!(
        unauth(auth.authenticate(jwt(no_user, SECRET)).await),
        "username in token must be a string"
    );
    let unknown = serde_json::json!({"username": "x", "exp": now() + 60});
    assert_eq!(
        unauth(auth.authenticate(jwt(unknown, SECRET)).await),
        "user not found"
    );
    assert_eq!(
        unauth(auth.authenticate(jwt(ok.clone(), "other")).await),
        "signature is invalid"
    );
    // An empty secret never accepts a token, even one signed with the empty secret.
    let (meta, open) = setup("").await;
    add_user(&meta, "admin", true, &[]).await;
    assert_eq!(
        unauth(open.authenticate(jwt(ok, "")).await),
        "bearer auth disabled"
    );
}

#[tokio::test]
async fn statement_privileges_follow_influxdb() {
    let (meta, auth) = setup(SECRET).await;
    add_user(&meta, "admin", true, &[]).await;
    add_user(&meta, "r", false, &[("db", Privilege::Read)]).await;
    add_user(&meta, "w", false, &[("db", Privilege::Write)]).await;
    add_user(&meta, "all", false, &[("db", Privilege::All)]).await;
    let admin = principal(&auth, pw("admin", "admin-pw")).await;
    let r = principal(&auth, pw("r", "r-pw")).await;
    let w = principal(&auth, pw("w", "w-pw")).await;
    let all = principal(&auth, pw("all", "all-pw")).await;
    let db = Some("db");

    assert!(check(
        &admin,
        "DROP DATABASE db; CREATE USER x WITH PASSWORD 'y'",
        None
    )
    .is_ok());
    assert!(check(&r, "SELECT * FROM cpu", db).is_ok());
    assert!(check(&r, "SELECT * FROM db..cpu", None).is_ok());
    assert!(check(&r, "SHOW MEASUREMENTS; SHOW TAG KEYS; SHOW SERIES", db).is_ok());
    assert!(check(&r, "SHOW MEASUREMENTS ON db", None).is_ok());
    assert_eq!(
        check(&r, "SELECT * FROM other..cpu", db).unwrap_err(),
        "r not authorized to execute statement 'SELECT * FROM other..cpu', requires READ on other"
    );
    assert_eq!(
        check(&w, "SELECT * FROM cpu", db).unwrap_err(),
        "w not authorized to execute statement 'SELECT * FROM cpu', requires READ on db"
    );
    assert!(check(&w, "DELETE FROM cpu", db).is_ok());
    assert!(check(&r, "DELETE FROM cpu", db).is_err());
    assert!(check(&all, "DROP MEASUREMENT cpu", db).is_err());
    assert!(check(&w, "DROP SERIES FROM cpu", db).is_ok());
    let cq = "CREATE CONTINUOUS QUERY c ON db BEGIN SELECT mean(v) INTO m2 FROM cpu GROUP BY time(1h) END";
    assert!(check(&r, cq, db).is_ok());
    assert!(check(&w, cq, db)
        .unwrap_err()
        .ends_with("requires READ on db"));
    assert!(check(&w, "DROP CONTINUOUS QUERY c ON db", db).is_ok());
    assert!(check(&r, "DROP CONTINUOUS QUERY c ON db", db).is_err());
    assert!(check(&r, "SHOW CONTINUOUS QUERIES", None)
        .unwrap_err()
        .ends_with("requires READ on "));
    assert!(check(&all, "SELECT * INTO cpu2 FROM cpu", db).is_ok());
    assert!(check(&r, "SELECT * INTO cpu2 FROM cpu", db).is_err());
    assert_eq!(
        check(&all, "CREATE DATABASE x", None).unwrap_err(),
        "all not authorized to execute statement 'CREATE DATABASE x', requires admin privilege"
    );
    for q in [
        "SHOW USERS",
        "SHOW GRANTS FOR r",
        "GRANT READ ON db TO w",
        "REVOKE ALL PRIVILEGES FROM r",
        "SET PASSWORD FOR r = 'x'",
        "DROP USER r",
        "CREATE RETENTION POLICY p ON db DURATION 1h REPLICATION 1",
        "SHOW SHARDS",
        "SHOW STATS",
        "SHOW DIAGNOSTICS",
        "KILL QUERY 1",
    ] {
        assert!(check(&all, q, db).is_err(), "{q}");
    }
    // Every statement of the request is checked before any runs.
    assert!(check(&r, "SELECT * FROM cpu; DROP DATABASE db", db).is_err());
    // No `db` parameter: the privilege is needed on the empty name.
    assert_eq!(
        check(&r, "SELECT * FROM cpu", None).unwrap_err(),
        "r not authorized to execute statement 'SELECT * FROM cpu', requires READ on "
    );
    assert!(check(&w, "SHOW DATABASES", None).is_ok());
    assert!(visible_database(&w, "db") && !visible_database(&w, "other"));
    assert!(visible_database(&admin, "other"));
}

#[tokio::test]
async fn writes_need_write_privilege() {
    let (meta, auth) = setup(SECRET).await;
    add_user(&meta, "admin", true, &[]).await;
    add_user(&meta, "r", false, &[("db", Privilege::Read)]).await;
    add_user(&meta, "w", false, &[("db", Privilege::Write)]).await;
    let r = principal(&auth, pw("r", "r-pw")).await;
    let w = principal(&auth, pw("w", "w-pw")).await;
    let admin = principal(&auth, pw("admin", "admin-pw")).await;
    assert!(auth.authorize_write(&w, "db").is_ok());
    assert!(auth.authorize_write(&admin, "other").is_ok());
    assert_eq!(
        auth.authorize_write(&r, "db").unwrap_err(),
        AuthError::Forbidden("\"r\" user is not authorized to write to database \"db\"".into())
    );
    assert!(auth.authorize_write(&w, "other").is_err());
    // A missing database is left to the write path's 404.
    assert!(auth.authorize_write(&r, "missing").is_ok());
}
