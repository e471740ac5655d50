//! The monitoring statements over port fakes: `SHOW QUERIES` lists the running request,
//! `KILL QUERY` stops one waiting for the engine (`query interrupted`, the statements
//! after it `not executed`), engine errors and tier reads are counted, `SHOW STATS`
//! answers InfluxDB's module shapes.

use super::tests::{service_over, NullStorage};
use super::{QueryExecutor, QueryRequest, QueryService};
use crate::retention::tests::MemMeta;
use async_trait::async_trait;
use hyperbyte_domain::naming;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::FieldType;
use hyperbyte_ports::{QueryError, QueryPort, RowSet};
use std::sync::Arc;
use std::time::Duration;

/// An engine whose reads wait until released, or fail.
#[derive(Debug, Default)]
struct StallingEngine {
    release: tokio::sync::Notify,
    fail: bool,
}

#[async_trait]
impl QueryPort for StallingEngine {
    async fn query(&self, _: &str) -> Result<RowSet, QueryError> {
        if self.fail {
            return Err(QueryError::Engine {
                code: 241,
                message: "memory limit exceeded".into(),
            });
        }
        self.release.notified().await;
        Ok(RowSet::default())
    }
    async fn table_columns(&self, _: &str, _: &str, _: &str) -> Result<Vec<String>, QueryError> {
        Ok(vec![naming::tag_column("host"), naming::field_column("v")])
    }
    async fn latest_time(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: Option<i64>,
    ) -> Result<Option<i64>, QueryError> {
        Ok(None)
    }
}

fn service(engine: Arc<StallingEngine>) -> Arc<QueryService> {
    let meta = Arc::new(MemMeta::default());
    meta.add_db("db", &[("autogen", 0, 7 * 24 * 3600 * 1_000_000_000)]);
    meta.add_series("db", "m", &[("host", "a")]);
    meta.schemas
        .lock()
        .entry(("db".into(), "m".into()))
        .or_default()
        .fields
        .insert("v".into(), FieldType::Float);
    service_over(meta, engine, Arc::new(NullStorage))
}

fn req(q: &str) -> QueryRequest {
    QueryRequest {
        query: q.into(),
        database: Some("db".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn kill_query_stops_a_query_waiting_for_the_engine() {
    let svc = service(Arc::new(StallingEngine::default()));
    let running = {
        let svc = svc.clone();
        tokio::spawn(async move {
            svc.execute(req("SELECT v FROM m; SHOW DATABASES; SHOW DATABASES"))
                .await
        })
    };
    // Wait until it is listed.
    let qid = loop {
        let shown = svc.execute(req("SHOW QUERIES")).await.unwrap();
        let rows = &shown[0].series[0].values;
        if let Some(row) = rows.iter().find(|r| {
            r[1] == Value::String("SELECT v FROM m;\nSHOW DATABASES;\nSHOW DATABASES".into())
        }) {
            assert_eq!(row[2], Value::String("db".into()));
            assert_eq!(row[4], Value::String("running".into()));
            // SHOW QUERIES lists itself too.
            assert_eq!(rows.len(), 2);
            let Value::Integer(qid) = row[0] else {
                panic!("{row:?}")
            };
            break qid;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let killed = svc
        .execute(req(&format!("KILL QUERY {qid}")))
        .await
        .unwrap();
    assert_eq!(killed[0].error, None);
    let answer = tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("answered at once")
        .unwrap()
        .unwrap();
    let errors: Vec<_> = answer.iter().map(|r| r.error.clone()).collect();
    assert_eq!(
        errors,
        vec![
            Some("query interrupted".to_string()),
            Some("not executed".to_string()),
            Some("not executed".to_string())
        ]
    );
    let again = svc
        .execute(req(&format!("KILL QUERY {qid}")))
        .await
        .unwrap();
    assert_eq!(
        again[0].error.as_deref(),
        Some(format!("no such query id: {qid}").as_str())
    );
    let st = svc.stats();
    assert_eq!(st.queries.killed, 1);
    assert_eq!(st.queries.active, 0);
    assert_eq!(st.databases[0].series, 1);
    // SHOW STATS: InfluxDB's modules and columns.
    let stats = svc.execute(req("SHOW STATS")).await.unwrap();
    let names: Vec<_> = stats[0]
        .series
        .iter()
        .map(|s| s.name.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        ["queryExecutor", "database", "write", "flush", "query"]
    );
    assert_eq!(
        stats[0].series[0].columns,
        [
            "queriesActive",
            "queriesExecuted",
            "queriesFinished",
            "queryDurationNs",
            "recoveredPanics"
        ]
    );
    assert_eq!(
        stats[0].series[1].tags.get("database").map(String::as_str),
        Some("db")
    );
    let only = svc.execute(req("SHOW STATS FOR 'write'")).await.unwrap();
    assert_eq!(only[0].series.len(), 1);
}

#[tokio::test]
async fn engine_errors_are_counted() {
    let svc = service(Arc::new(StallingEngine {
        fail: true,
        ..Default::default()
    }));
    let r = svc.execute(req("SELECT v FROM m")).await.unwrap();
    assert!(r[0].error.is_some());
    assert!(svc.stats().queries.engine_errors >= 1);
    let diag = svc
        .execute(req("SHOW DIAGNOSTICS FOR 'system'"))
        .await
        .unwrap();
    assert_eq!(
        diag[0].series[0].columns,
        ["PID", "currentTime", "started", "uptime"]
    );
}
