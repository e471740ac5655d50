//! Probes of a running server from outside: peak resident memory sampled from `/proc`, and
//! hyperbyted's WAL backlog read from `/metrics` (to measure disk once the flush settled).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Resident set size of `pid` in bytes (`VmRSS` of `/proc/PID/status`).
pub(crate) fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Samples a process's RSS every 50 ms on a thread until stopped; keeps the peak.
#[derive(Debug)]
pub(crate) struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl RssSampler {
    /// Starts sampling `pid` (`None`: a sampler that reports nothing).
    pub(crate) fn start(pid: Option<u32>) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let thread = pid.map(|pid| {
            let (stop, peak) = (Arc::clone(&stop), Arc::clone(&peak));
            std::thread::spawn(move || loop {
                if let Some(rss) = rss_bytes(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            })
        });
        RssSampler { stop, peak, thread }
    }

    /// Stops sampling (after one last sample); the peak in bytes, `None` if never sampled.
    pub(crate) fn finish(mut self) -> Option<f64> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        match self.peak.load(Ordering::Relaxed) {
            0 => None,
            p => Some(p as f64),
        }
    }
}

/// A gauge's value from a Prometheus text exposition (first sample of `name`).
pub(crate) fn metric_value(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let mut parts = l.split_whitespace();
        let key = parts.next()?;
        let bare = key.split('{').next()?;
        (bare == name).then(|| parts.next()?.parse().ok())?
    })
}

/// Waits until hyperbyted's `/metrics` says the WAL backlog is empty
/// (`hyperbyte_wal_backlog_entries` 0); how long it took, or `None` on timeout.
pub(crate) fn wait_wal_flushed(url: &str, timeout: Duration) -> Option<Duration> {
    let start = Instant::now();
    let agent = super::agent();
    while start.elapsed() < timeout {
        let (status, body) = super::read_response(agent.get(&format!("{url}/metrics")).call());
        let text = String::from_utf8_lossy(&body);
        if status == 200 && metric_value(&text, "hyperbyte_wal_backlog_entries") == Some(0.0) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
