//! User statements end to end through the query service over the catalog's in-memory
//! metadata: InfluxDB's texts, bcrypt hashes, GRANT/REVOKE/SHOW GRANTS, the admin flag,
//! `SHOW DATABASES` filtered per user and the 403 of an unauthorized request.

use super::tests::{EmptyWal, FakeEngine, NullStorage};
use super::{QueryExecutor, QueryRequest, QueryRequestError, QueryService};
use crate::auth::{Access, AuthConfig, AuthService, Credentials};
use crate::flush::{FlushConfig, FlushService};
use crate::retention::tests::ManualClock;
use hyperbyte_domain::query::{StatementResult, Value};
use hyperbyte_ports::MetadataPort;
use hyperbyte_testkit::MemoryMetadata;
use std::sync::Arc;

fn service() -> (Arc<MemoryMetadata>, QueryService) {
    let meta = Arc::new(MemoryMetadata::new());
    let storage = Arc::new(NullStorage);
    let flush = Arc::new(FlushService::new(
        Arc::new(EmptyWal),
        meta.clone(),
        storage.clone(),
        FlushConfig::default(),
    ));
    let engine = Arc::new(FakeEngine::default());
    let svc = QueryService::new(meta.clone(), engine, storage, flush, ManualClock::new(0));
    (meta, svc)
}

async fn run_as(svc: &QueryService, q: &str, access: Access) -> Vec<StatementResult> {
    svc.execute(QueryRequest {
        query: q.into(),
        access,
        ..Default::default()
    })
    .await
    .unwrap_or_else(|e| panic!("{q}: {e}"))
}

async fn run(svc: &QueryService, q: &str) -> StatementResult {
    run_as(svc, q, Access::Open).await.remove(0)
}

async fn ok(svc: &QueryService, q: &str) -> Vec<Vec<Value>> {
    let r = run(svc, q).await;
    assert!(r.error.is_none(), "{q}: {:?}", r.error);
    r.series.into_iter().flat_map(|s| s.values).collect()
}

async fn err(svc: &QueryService, q: &str) -> String {
    run(svc, q)
        .await
        .error
        .unwrap_or_else(|| panic!("{q}: no error"))
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

#[tokio::test]
async fn user_statements_follow_influxdb() {
    let (meta, svc) = service();
    ok(&svc, "CREATE DATABASE db; CREATE DATABASE other").await;
    ok(&svc, "CREATE USER bob WITH PASSWORD 'pw'").await;
    // Same password and flag: a no-op; anything else: already exists.
    ok(&svc, "CREATE USER bob WITH PASSWORD 'pw'").await;
    assert_eq!(
        err(&svc, "CREATE USER bob WITH PASSWORD 'other'").await,
        "user already exists"
    );
    assert_eq!(
        err(
            &svc,
            "CREATE USER bob WITH PASSWORD 'pw' WITH ALL PRIVILEGES"
        )
        .await,
        "user already exists"
    );
    let hash = meta.users().remove(0).password_hash;
    assert!(crate::auth::verify_password("pw", &hash), "{hash}");
    assert_eq!(err(&svc, "DROP USER nobody").await, "user not found");
    assert_eq!(
        err(&svc, "SET PASSWORD FOR nobody = 'x'").await,
        "user not found"
    );
    assert_eq!(
        err(&svc, "GRANT READ ON db TO nobody").await,
        "user not found"
    );
    assert_eq!(
        err(&svc, "GRANT READ ON nodb TO bob").await,
        "database not found: nodb"
    );
    assert_eq!(err(&svc, "SHOW GRANTS FOR nobody").await, "user not found");
    ok(&svc, "GRANT ALL ON db TO bob; REVOKE READ ON db FROM bob").await;
    ok(&svc, "GRANT READ ON other TO bob").await;
    assert_eq!(
        ok(&svc, "SHOW GRANTS FOR bob").await,
        vec![vec![s("db"), s("WRITE")], vec![s("other"), s("READ")]]
    );
    ok(&svc, "REVOKE ALL PRIVILEGES ON other FROM bob").await;
    assert_eq!(
        ok(&svc, "SHOW GRANTS FOR bob").await[1],
        vec![s("other"), s("NO PRIVILEGES")]
    );
    ok(&svc, "GRANT ALL PRIVILEGES TO bob").await;
    assert_eq!(
        ok(&svc, "SHOW USERS").await,
        vec![vec![s("bob"), Value::Boolean(true)]]
    );
    ok(&svc, "REVOKE ALL PRIVILEGES FROM bob").await;
    assert_eq!(
        ok(&svc, "SHOW USERS").await,
        vec![vec![s("bob"), Value::Boolean(false)]]
    );
    ok(&svc, "SET PASSWORD FOR bob = 'new'").await;
    let hash = meta.users().remove(0).password_hash;
    assert!(crate::auth::verify_password("new", &hash));
    ok(&svc, "DROP USER bob").await;
    assert!(ok(&svc, "SHOW USERS").await.is_empty());
}

#[tokio::test]
async fn authorization_is_checked_before_running() {
    let (meta, svc) = service();
    let auth = AuthService::new(
        meta.clone(),
        AuthConfig {
            enabled: true,
            shared_secret: String::new(),
        },
    );
    let svc = svc.with_auth(Arc::new(auth));
    let nobody = Access::User(None);
    let r = svc
        .execute(QueryRequest {
            query: "CREATE DATABASE db".into(),
            access: nobody.clone(),
            ..Default::default()
        })
        .await;
    assert!(matches!(
        r,
        Err(QueryRequestError::Unauthorized(ref m)) if m == "create admin user first or disable authentication"
    ));
    run_as(
        &svc,
        "CREATE USER admin WITH PASSWORD 'a' WITH ALL PRIVILEGES",
        nobody,
    )
    .await;
    ok(
        &svc,
        "CREATE DATABASE db; CREATE DATABASE other; CREATE USER r WITH PASSWORD 'r'",
    )
    .await;
    ok(&svc, "GRANT READ ON db TO r").await;
    let auth = AuthService::new(
        meta.clone(),
        AuthConfig {
            enabled: true,
            shared_secret: String::new(),
        },
    );
    let r = auth
        .authenticate(Credentials::Password {
            username: "r".into(),
            password: "r".into(),
        })
        .await
        .unwrap();
    let shown = run_as(&svc, "SHOW DATABASES", r.clone()).await.remove(0);
    assert_eq!(shown.series[0].values, vec![vec![s("db")]]);
    let refused = svc
        .execute(QueryRequest {
            query: "DROP DATABASE db".into(),
            access: r,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "error authorizing query: r not authorized to execute statement 'DROP DATABASE db', requires admin privilege"
    );
}
