//! Loading pre-generated bodies with parallel keep-alive writers, as TSBS's loader does.

use super::{agent, post_write, Body};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a load did.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// From the first request sent until the last answer (the last `204`).
    pub(crate) elapsed: Duration,
    /// Batches not answered `204`.
    pub(crate) failed: u64,
    /// The first failure's status and body.
    pub(crate) first_error: Option<String>,
}

/// POSTs every body to `/write?db=DB&precision=s` with `threads` keep-alive clients, each
/// taking the next body in order.
pub(crate) fn load(url: &str, db: &str, bodies: &Arc<Vec<Body>>, threads: usize) -> Loaded {
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let first: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (bodies, next, failed, first) = (
                Arc::clone(bodies),
                Arc::clone(&next),
                Arc::clone(&failed),
                Arc::clone(&first),
            );
            let (url, db) = (url.to_string(), db.to_string());
            std::thread::spawn(move || {
                let agent = agent();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let (status, resp) = post_write(&agent, &url, &db, &body.bytes);
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
        first_error,
    }
}
