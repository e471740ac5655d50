//! Loading pre-generated bodies with parallel keep-alive writers, as TSBS's loader does.
//! A batch refused with `503` (write backlog full, or the server shedding load near its
//! memory bound) is sent again after 50 ms, as Telegraf and the InfluxDB clients retry a
//! 5xx: the load then measures the sustained rate, and every row ends up written.

use super::{agent, post_write, Body};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one batch is retried on `503` before it counts as failed.
const RETRY_FOR: Duration = Duration::from_secs(600);

/// What a load did.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// From the first request sent until the last answer (the last `204`).
    pub(crate) elapsed: Duration,
    /// Batches not answered `204` (after retrying `503`s).
    pub(crate) failed: u64,
    /// `503` answers that were retried.
    pub(crate) retried: u64,
    /// The first failure's status and body.
    pub(crate) first_error: Option<String>,
}

/// POSTs every body to `/write?db=DB&precision=s` with `threads` keep-alive clients, each
/// taking the next body in order.
pub(crate) fn load(url: &str, db: &str, bodies: &Arc<Vec<Body>>, threads: usize) -> Loaded {
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let retried = Arc::new(AtomicU64::new(0));
    let first: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (bodies, next, failed, retried, first) = (
                Arc::clone(bodies),
                Arc::clone(&next),
                Arc::clone(&failed),
                Arc::clone(&retried),
                Arc::clone(&first),
            );
            let (url, db) = (url.to_string(), db.to_string());
            std::thread::spawn(move || {
                let agent = agent();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let give_up = Instant::now() + RETRY_FOR;
                    let (status, resp) = loop {
                        let (status, resp) = post_write(&agent, &url, &db, &body.bytes);
                        if status != 503 || Instant::now() > give_up {
                            break (status, resp);
                        }
                        retried.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(50));
                    };
                    if status != 204 {
                        failed.fetch_add(1, Ordering::Relaxed);
                        let mut f = first.lock().unwrap_or_else(|p| p.into_inner());
                        if f.is_none() {
                            *f = Some(format!(
                                "HTTP {status}: {}",
                                String::from_utf8_lossy(&resp)
                                    .chars()
                                    .take(300)
                                    .collect::<String>()
                            ));
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let elapsed = start.elapsed();
    let first_error = first.lock().unwrap_or_else(|p| p.into_inner()).take();
    Loaded {
        elapsed,
        failed: failed.load(Ordering::Relaxed),
        retried: retried.load(Ordering::Relaxed),
        first_error,
    }
}
