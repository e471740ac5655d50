//! Statements that change what is stored run to their end once started, even when the
//! request that asked for them goes away (a client that disconnected, the query
//! timeout): a `DELETE` is not left with its points gone and its series still listed.

use super::tests::{service_over, FakeEngine};
use super::{QueryExecutor, QueryRequest, QueryService};
use crate::retention::tests::MemMeta;
use async_trait::async_trait;
use hyperbyte_domain::query::Value;
use hyperbyte_domain::{FieldType, RetentionPolicy};
use hyperbyte_ports::{DeleteRows, SinkError, StorageAdminPort};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

/// A series' tags, as a delete names them.
type TagSet = Vec<(String, String)>;

/// Permits that let every waiting and later delete through.
const RELEASE_ALL: usize = 1_000;

/// A storage administrator whose deletes wait until released, recording each call's
/// series.
#[derive(Debug)]
struct SlowAdmin {
    entered: tokio::sync::Notify,
    release: tokio::sync::Semaphore,
    /// Each call's series (`None`: every row).
    deletes: Mutex<Vec<Option<Vec<TagSet>>>>,
}

impl Default for SlowAdmin {
    fn default() -> Self {
        SlowAdmin {
            entered: tokio::sync::Notify::new(),
            release: tokio::sync::Semaphore::new(0),
            deletes: Mutex::default(),
        }
    }
}

#[async_trait]
impl StorageAdminPort for SlowAdmin {
    async fn drop_database(&self, _: &str) -> Result<(), SinkError> {
        Ok(())
    }
    async fn drop_retention_policy(&self, _: &str, _: &str) -> Result<(), SinkError> {
        Ok(())
    }
    async fn drop_measurement(&self, _: &str, _: &[String], _: &str) -> Result<(), SinkError> {
        Ok(())
    }
    async fn delete_points(
        &self,
        _: &str,
        _: &str,
        _: &str,
        rows: DeleteRows<'_>,
        _: i64,
        _: i64,
    ) -> Result<(), SinkError> {
        self.deletes.lock().push(match rows {
            DeleteRows::All => None,
            DeleteRows::Series(s) => Some(s.to_vec()),
        });
        self.entered.notify_one();
        let _released = self.release.acquire().await;
        Ok(())
    }
    async fn drop_partitions_before(
        &self,
        _: &str,
        _: &RetentionPolicy,
        _: &[String],
        _: i64,
    ) -> Result<(), SinkError> {
        Ok(())
    }
}

fn service(admin: Arc<SlowAdmin>) -> Arc<QueryService> {
    let meta = Arc::new(MemMeta::default());
    // The database's own policy, `autogen`, and one more.
    meta.add_db("db", &[("hourly", 0, 3600 * 1_000_000_000)]);
    for host in ["a", "b", "c"] {
        meta.add_series("db", "m", &[("host", host)]);
    }
    meta.add_series("db", "m", &[("dc", "x"), ("host", "a")]);
    meta.schemas
        .lock()
        .entry(("db".into(), "m".into()))
        .or_default()
        .fields
        .insert("v".into(), FieldType::Float);
    service_over(meta, Arc::new(FakeEngine::default()), admin)
}

fn req(q: &str) -> QueryRequest {
    QueryRequest {
        query: q.into(),
        database: Some("db".into()),
        ..Default::default()
    }
}

async fn series(svc: &QueryService) -> Vec<Value> {
    let shown = svc.execute(req("SHOW SERIES")).await.unwrap();
    shown[0]
        .series
        .iter()
        .flat_map(|s| s.values.iter().map(|r| r[0].clone()))
        .collect()
}

#[tokio::test]
async fn a_delete_whose_request_went_away_still_finishes() {
    let admin = Arc::new(SlowAdmin::default());
    let svc = service(admin.clone());
    let request = {
        let svc = svc.clone();
        tokio::spawn(async move {
            svc.execute(req("DELETE FROM m WHERE host = 'a' OR host = 'c'"))
                .await
        })
    };
    tokio::time::timeout(Duration::from_secs(5), admin.entered.notified())
        .await
        .expect("storage was asked to delete");
    // The client goes away while storage deletes.
    request.abort();
    assert!(request.await.unwrap_err().is_cancelled());
    // The statement is still listed while it runs.
    let shown = svc.execute(req("SHOW QUERIES")).await.unwrap();
    let listed: Vec<Value> = shown[0].series[0]
        .values
        .iter()
        .map(|r| r[1].clone())
        .collect();
    assert!(
        listed.contains(&Value::String(
            "DELETE FROM m WHERE host = 'a' OR host = 'c'".into()
        )),
        "{listed:?}"
    );
    // A clean stop waits for it (here: gives up after 50 ms, as it is held).
    assert!(!svc.finish_changes(Duration::from_millis(50)).await);
    admin.release.add_permits(RELEASE_ALL);
    assert!(svc.finish_changes(Duration::from_secs(5)).await);
    // The statement went on: the series left the index.
    let left = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let left = series(&svc).await;
            if left.len() == 1 {
                break left;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the delete finished without its request");
    assert_eq!(left, vec![Value::String("m,host=b".into())]);
    // Every matched series went to storage in one call per policy, by complete tag sets.
    let tag_set = |dc: &str, host: &str| {
        vec![
            ("dc".to_string(), dc.to_string()),
            ("host".to_string(), host.to_string()),
        ]
    };
    let one_call = Some(vec![tag_set("x", "a"), tag_set("", "a"), tag_set("", "c")]);
    assert_eq!(*admin.deletes.lock(), vec![one_call.clone(), one_call]);
}

#[tokio::test]
async fn a_delete_of_everything_is_one_call() {
    let admin = Arc::new(SlowAdmin::default());
    let svc = service(admin.clone());
    let request = {
        let svc = svc.clone();
        tokio::spawn(async move { svc.execute(req("DELETE FROM m")).await })
    };
    tokio::time::timeout(Duration::from_secs(5), admin.entered.notified())
        .await
        .expect("storage was asked to delete");
    admin.release.add_permits(RELEASE_ALL);
    let answer = request.await.unwrap().unwrap();
    assert_eq!(answer[0].error, None);
    assert_eq!(*admin.deletes.lock(), vec![None, None]);
    assert!(series(&svc).await.is_empty());
}
