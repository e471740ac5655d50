//! Batching between a listener's socket and the ingestion service: points are buffered
//! up to `batch_size`, or until `batch_timeout` after the first one, then written as one
//! request (one WAL entry) through [`PointWriter`].
//!
//! The buffer is bounded in points (`batch_size × batch_pending`): a TCP reader waits for
//! room (back-pressure on the client), a UDP reader drops what does not fit and counts it
//! (a datagram cannot be pushed back). One writer task per listener writes batches in
//! order; a batch the backlog refuses (`503` on `/write`) is retried until it fits or the
//! server stops, any other refusal is counted and logged, never retried.

use hyperbyte_application::stats::ListenerCounters;
use hyperbyte_application::{IngestionService, WriteError};
use hyperbyte_domain::Point;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::Instant;

/// Where a listener's points go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Database (created at start-up when missing).
    pub database: String,
    /// Retention policy; `None` is the database's default.
    pub retention_policy: Option<String>,
}

/// What became of one written batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteResult {
    /// Points written; `refused` points of the batch were dropped by validation (type
    /// conflicts, limits) with `message`.
    Written {
        /// Points in the WAL.
        written: usize,
        /// Points dropped.
        refused: usize,
        /// Why, when some were.
        message: String,
    },
    /// Nothing was written.
    Failed {
        /// Why.
        message: String,
        /// The client's fault (an HTTP 4xx), not the server's.
        client: bool,
        /// Worth retrying (the backlog is full).
        retry: bool,
    },
}

/// Writes points (the ingestion service, or a fake in tests).
#[async_trait::async_trait]
pub trait PointWriter: Send + Sync + std::fmt::Debug {
    /// Writes one batch.
    async fn write(&self, target: &Target, points: Vec<Point>) -> WriteResult;
    /// Creates the target database when it is missing.
    async fn ensure_database(&self, database: &str) -> Result<(), String>;
}

#[async_trait::async_trait]
impl PointWriter for IngestionService {
    async fn write(&self, target: &Target, points: Vec<Point>) -> WriteResult {
        let n = points.len();
        match self
            .write_points(
                &target.database,
                target.retention_policy.as_deref(),
                points,
                Vec::new(),
            )
            .await
        {
            Ok(o) => WriteResult::Written {
                written: o.points,
                refused: n.saturating_sub(o.points),
                message: String::new(),
            },
            Err(WriteError::Partial { message, dropped }) => WriteResult::Written {
                written: n.saturating_sub(dropped),
                refused: dropped,
                message,
            },
            Err(e) => WriteResult::Failed {
                client: e.status() / 100 == 4,
                retry: matches!(e, WriteError::Overloaded { .. }),
                message: e.to_string(),
            },
        }
    }

    async fn ensure_database(&self, database: &str) -> Result<(), String> {
        IngestionService::ensure_database(self, database)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Batch sizes and the buffer bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// Points per write.
    pub size: usize,
    /// Batches that may wait while one is written (the buffer holds `size × pending`).
    pub pending: usize,
    /// Longest wait after a batch's first point before it is written.
    pub timeout: Duration,
}

impl BatchConfig {
    fn capacity(&self) -> usize {
        self.size
            .max(1)
            .saturating_mul(self.pending.max(1))
            .min(Semaphore::MAX_PERMITS)
            .min(u32::MAX as usize)
    }
}

/// The sending side, held by a listener's readers.
#[derive(Debug, Clone)]
pub struct Batcher {
    tx: mpsc::UnboundedSender<Vec<Point>>,
    room: Arc<Semaphore>,
    capacity: usize,
    counters: Arc<ListenerCounters>,
}

impl Batcher {
    /// Starts the writer task; it writes what is buffered and ends once `stop` turns true
    /// or every [`Batcher`] is dropped.
    pub fn start(
        writer: Arc<dyn PointWriter>,
        target: Target,
        config: BatchConfig,
        counters: Arc<ListenerCounters>,
        stop: watch::Receiver<bool>,
    ) -> (Batcher, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let capacity = config.capacity();
        let room = Arc::new(Semaphore::new(capacity));
        let task = BatchTask {
            writer,
            target,
            config,
            counters: counters.clone(),
            room: room.clone(),
        };
        let handle = tokio::spawn(task.run(rx, stop));
        (
            Batcher {
                tx,
                room,
                capacity,
                counters,
            },
            handle,
        )
    }

    /// Buffers points, waiting for room (TCP readers).
    pub async fn push(&self, mut points: Vec<Point>) {
        while !points.is_empty() {
            let rest = points.split_off(points.len().min(self.capacity));
            let n = points.len();
            match self.room.acquire_many(n as u32).await {
                Ok(permit) => {
                    permit.forget();
                    self.send(points);
                }
                Err(_) => return,
            }
            points = rest;
        }
    }

    /// Buffers points if there is room, otherwise drops and counts them (UDP readers).
    pub fn try_push(&self, points: Vec<Point>) {
        let n = points.len();
        if n == 0 {
            return;
        }
        match u32::try_from(n)
            .ok()
            .and_then(|k| self.room.try_acquire_many(k).ok())
        {
            Some(permit) => {
                permit.forget();
                self.send(points);
            }
            None => ListenerCounters::add(&self.counters.buffer_dropped, n as u64),
        }
    }

    fn send(&self, points: Vec<Point>) {
        let n = points.len();
        if self.tx.send(points).is_err() {
            ListenerCounters::add(&self.counters.buffer_dropped, n as u64);
        }
    }
}

struct BatchTask {
    writer: Arc<dyn PointWriter>,
    target: Target,
    config: BatchConfig,
    counters: Arc<ListenerCounters>,
    room: Arc<Semaphore>,
}

impl BatchTask {
    async fn run(
        self,
        mut rx: mpsc::UnboundedReceiver<Vec<Point>>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut batch: Vec<Point> = Vec::with_capacity(self.config.size.min(1 << 16));
        let mut deadline: Option<Instant> = None;
        loop {
            let timer = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(points) => {
                        if batch.is_empty() {
                            deadline = Some(Instant::now() + self.config.timeout);
                        }
                        batch.extend(points);
                        while batch.len() >= self.config.size.max(1) {
                            let rest = batch.split_off(self.config.size.max(1));
                            let full = std::mem::replace(&mut batch, rest);
                            self.flush(full, &stop).await;
                            deadline = (!batch.is_empty())
                                .then(|| Instant::now() + self.config.timeout);
                        }
                    }
                    None => break,
                },
                _ = timer => {
                    deadline = None;
                    self.flush(std::mem::take(&mut batch), &stop).await;
                }
                _ = stop.changed() => {
                    while let Ok(points) = rx.try_recv() {
                        batch.extend(points);
                    }
                    break;
                }
            }
        }
        for chunk in batch.chunks(self.config.size.max(1)) {
            self.flush(chunk.to_vec(), &stop).await;
        }
    }

    /// Writes one batch, retrying while the backlog is full (until the server stops).
    async fn flush(&self, points: Vec<Point>, stop: &watch::Receiver<bool>) {
        let n = points.len();
        if n == 0 {
            return;
        }
        let mut backoff = Duration::from_millis(50);
        let result = loop {
            let r = self.writer.write(&self.target, points.clone()).await;
            match r {
                WriteResult::Failed { retry: true, .. } if !*stop.borrow() => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                WriteResult::Failed { ref message, .. }
                    if message.starts_with("database not found") =>
                {
                    // Dropped while the listener runs: InfluxDB's services create it again.
                    if self
                        .writer
                        .ensure_database(&self.target.database)
                        .await
                        .is_err()
                    {
                        break r;
                    }
                    break self.writer.write(&self.target, points.clone()).await;
                }
                r => break r,
            }
        };
        self.room.add_permits(n);
        let c = &self.counters;
        match result {
            WriteResult::Written {
                written,
                refused,
                message,
            } => {
                ListenerCounters::add(&c.batches_written, 1);
                ListenerCounters::add(&c.points_written, written as u64);
                ListenerCounters::add(&c.points_refused, refused as u64);
                if refused > 0 {
                    tracing::warn!(refused, error = %message, "listener batch partly refused");
                }
            }
            WriteResult::Failed { message, .. } => {
                ListenerCounters::add(&c.batches_failed, 1);
                tracing::warn!(points = n, error = %message, "listener batch refused");
            }
        }
    }
}

#[cfg(test)]
mod tests;
