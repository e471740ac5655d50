//! Query admission: how many queries run at once, how long one may wait for its turn,
//! and how long one may run.
//!
//! Why: the engine has a few reader connections; without a bound, a burst of slow queries
//! queues without limit in memory and every reader waits behind it. A query past its turn
//! or its time answers with InfluxDB's texts (`max-concurrent-queries limit exceeded(N,
//! M)`, `query-timeout limit exceeded`) in the result, as InfluxDB does; the engine's own
//! per-statement limits (set on its reader sessions) stop the work a timed-out query
//! started.
//!
//! Queries may run on their own runtime ([`QueryGate::on_runtime`]): evaluating a query in
//! Rust is CPU work, and on the runtime that serves connections it would starve the write
//! path under load (request bodies not read in time, `408`s to writers whose only fault
//! is arriving while a heavy query runs).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Query admission settings (0 = no limit for each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdmissionConfig {
    /// Queries running at once.
    pub max_concurrent: usize,
    /// How long a query waits for a free slot before it is refused.
    pub queue_timeout: Duration,
    /// How long a query may run.
    pub query_timeout: Duration,
}

/// Why a query was not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// No slot became free within the queue timeout.
    #[error("max-concurrent-queries limit exceeded({running}, {limit})")]
    Busy {
        /// Queries running (and waiting) when it gave up.
        running: usize,
        /// The limit.
        limit: usize,
    },
    /// The query ran past the query timeout.
    #[error("query-timeout limit exceeded")]
    Timeout,
    /// The server stopped the query runtime (shutdown) before the query finished.
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// Admits queries under an [`AdmissionConfig`].
#[derive(Debug)]
pub struct QueryGate {
    cfg: AdmissionConfig,
    slots: Option<Arc<Semaphore>>,
    runtime: Option<tokio::runtime::Handle>,
}

/// Aborts a spawned query when the request that waits for it goes away.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl QueryGate {
    /// A gate with these limits.
    pub fn new(cfg: AdmissionConfig) -> Self {
        QueryGate {
            slots: (cfg.max_concurrent > 0).then(|| Arc::new(Semaphore::new(cfg.max_concurrent))),
            cfg,
            runtime: None,
        }
    }

    /// Runs admitted queries on `runtime` instead of the caller's.
    pub fn on_runtime(mut self, runtime: tokio::runtime::Handle) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Runs `query` once a slot is free, within the query timeout. Dropping the returned
    /// future (a client that went away) frees the slot.
    pub async fn run<T: Send + 'static>(
        &self,
        query: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, AdmissionError> {
        let _slot = match &self.slots {
            None => None,
            Some(slots) => {
                let acquire = Arc::clone(slots).acquire_owned();
                let permit = if self.cfg.queue_timeout.is_zero() {
                    acquire.await.ok()
                } else {
                    tokio::time::timeout(self.cfg.queue_timeout, acquire)
                        .await
                        .map_err(|_| AdmissionError::Busy {
                            running: self.cfg.max_concurrent,
                            limit: self.cfg.max_concurrent,
                        })?
                        .ok()
                };
                permit
            }
        };
        let work = self.spawn(query);
        if self.cfg.query_timeout.is_zero() {
            return work.await;
        }
        tokio::time::timeout(self.cfg.query_timeout, work)
            .await
            .map_err(|_| AdmissionError::Timeout)?
    }

    /// The query as a future of this runtime, running on the query runtime if there is
    /// one (and aborted there when this future is dropped).
    fn spawn<T: Send + 'static>(
        &self,
        query: impl Future<Output = T> + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = Result<T, AdmissionError>> + Send>> {
        let Some(rt) = &self.runtime else {
            return Box::pin(async move { Ok(query.await) });
        };
        let mut task = AbortOnDrop(rt.spawn(query));
        Box::pin(async move {
            match (&mut task.0).await {
                Ok(v) => Ok(v),
                // A panicking query is a bug: let it surface as it would inline.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => Err(AdmissionError::ShuttingDown),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_query_waits_for_a_slot_then_is_refused() {
        let gate = Arc::new(QueryGate::new(AdmissionConfig {
            max_concurrent: 1,
            queue_timeout: Duration::from_millis(50),
            query_timeout: Duration::ZERO,
        }));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let g = Arc::clone(&gate);
        let slow = tokio::spawn(async move { g.run(async { rx.await.ok() }).await });
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        let refused = gate.run(async { 1 }).await.unwrap_err();
        assert_eq!(
            refused.to_string(),
            "max-concurrent-queries limit exceeded(1, 1)"
        );
        tx.send(()).unwrap();
        assert!(slow.await.unwrap().is_ok());
        assert_eq!(gate.run(async { 2 }).await, Ok(2));
    }

    #[tokio::test]
    async fn a_query_past_its_time_is_stopped() {
        let gate = QueryGate::new(AdmissionConfig {
            max_concurrent: 0,
            queue_timeout: Duration::ZERO,
            query_timeout: Duration::from_millis(20),
        });
        let r = gate.run(tokio::time::sleep(Duration::from_secs(60))).await;
        assert_eq!(r, Err(AdmissionError::Timeout));
        assert_eq!(
            AdmissionError::Timeout.to_string(),
            "query-timeout limit exceeded"
        );
    }
}
