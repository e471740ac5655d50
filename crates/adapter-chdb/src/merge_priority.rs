//! The engine's background merges yield the CPU to the work someone waits on.
//!
//! Under a sustained load the engine's merges (threads named `MergeMutate`) took a third
//! of the server's CPU, at the same priority as the request workers, the WAL's commit
//! thread and the flush, so every row became queryable later. A merge is never urgent: the
//! parts it joins are already durable and readable. Run at a higher nice value, merges
//! take the CPU the other threads leave, and catch up as soon as the load eases. Measured
//! on 1,000 TSBS hosts × 24 h (8.64 M rows, 4 writers, 2 cores; docs/benchmarks.md): rows
//! queryable at 229–265 k rows/s with merges at nice 0, 295–345 k at nice 10, the
//! server's CPU over the load 62–70 s against 48–56 s (the merges' work moves after the
//! load). The cost is memory while they lag: peak resident memory during that load rose
//! from 1.20–1.28 GB to about 1.5 GB.
//!
//! The engine has a setting for this (`os_threads_nice_value_merge_mutate`), but it acts
//! only with `CAP_SYS_NICE`, which a server running as its own user does not have, while
//! raising the nice value of one's own threads needs no privilege. So the engine is given
//! the setting (it applies it itself where it may) and a watcher thread sets the same
//! value on every `MergeMutate` thread it finds, twice a second; the engine starts those
//! threads on demand, so a one-time pass would miss most of them.
//!
//! Linux only; elsewhere the watcher does nothing.

use std::time::Duration;

/// Name the engine gives its merge and mutation threads (`/proc/<pid>/task/<tid>/comm`).
const MERGE_THREAD_NAME: &str = "MergeMutate";

/// How often the watcher looks for new merge threads.
const SCAN_EVERY: Duration = Duration::from_millis(500);

/// Highest nice value (lowest priority) Linux knows.
pub const MAX_NICE: u8 = 19;

/// The engine-wide argument that asks the engine to set `nice` on its merge threads
/// itself (effective only with `CAP_SYS_NICE`).
pub(crate) fn engine_arg(nice: u8) -> String {
    format!(
        "--os_threads_nice_value_merge_mutate={}",
        nice.min(MAX_NICE)
    )
}

/// Starts the watcher thread: it sets `nice` on this process's merge threads until
/// `alive` returns false. Does nothing for `nice == 0`.
pub(crate) fn watch(nice: u8, alive: impl Fn() -> bool + Send + 'static) {
    if nice == 0 {
        return;
    }
    let nice = nice.min(MAX_NICE);
    let spawned = std::thread::Builder::new()
        .name("hb-merge-nice".into())
        .spawn(move || {
            let _span = tracing::debug_span!("merge priority watcher", nice).entered();
            while alive() {
                let set = renice_threads_named(MERGE_THREAD_NAME, nice);
                tracing::trace!(threads = set, "merge threads at their nice value");
                std::thread::sleep(SCAN_EVERY);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the merge priority watcher; merges keep the normal priority");
    }
}

/// Sets `nice` on every thread of this process named `name`; returns how many it set.
#[cfg(target_os = "linux")]
pub(crate) fn renice_threads_named(name: &str, nice: u8) -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let mut set = 0;
    for task in tasks.flatten() {
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<libc::id_t>().ok())
        else {
            continue;
        };
        let named = std::fs::read_to_string(task.path().join("comm"))
            .is_ok_and(|comm| comm.trim_end() == name);
        // SAFETY: setpriority only changes the scheduling weight of thread `tid` of this
        // process; a thread that ended meanwhile makes it fail with ESRCH, ignored.
        if named && unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, i32::from(nice)) } == 0 {
            set += 1;
        }
    }
    set
}

/// Not on Linux: thread names and per-thread nice values are not reachable this way.
#[cfg(not(target_os = "linux"))]
pub(crate) fn renice_threads_named(_name: &str, _nice: u8) -> usize {
    0
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// The nice value of thread `tid` as `/proc` reports it (field 19 of `stat`).
    fn nice_of(tid: i32) -> i64 {
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
        // The command name (field 2) is in parentheses and may hold spaces.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        after.split(' ').nth(16).unwrap().parse().unwrap()
    }

    /// Runs a thread named `name` until the returned sender is dropped; yields its tid.
    fn named_thread(name: &str) -> (i32, mpsc::Sender<()>, std::thread::JoinHandle<()>) {
        let (tid_tx, tid_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                // SAFETY: gettid has no preconditions.
                tid_tx.send(unsafe { libc::gettid() }).unwrap();
                let _ = stop_rx.recv();
            })
            .unwrap();
        (tid_rx.recv().unwrap(), stop_tx, handle)
    }

    #[test]
    fn only_threads_of_that_name_get_the_nice_value() {
        // Names of their own: tests run in parallel, and the watcher's test owns
        // `MergeMutate`.
        let (merge, stop_merge, merge_handle) = named_thread("hb-test-merge");
        let (other, stop_other, other_handle) = named_thread("hb-test-query");
        let base = nice_of(other);
        let set = renice_threads_named("hb-test-merge", 7);
        assert_eq!(set, 1);
        assert_eq!(nice_of(merge), 7);
        assert_eq!(
            nice_of(other),
            base,
            "a thread of another name keeps its priority"
        );
        drop((stop_merge, stop_other));
        merge_handle.join().unwrap();
        other_handle.join().unwrap();
    }

    #[test]
    fn the_watcher_reaches_threads_started_after_it_and_stops_when_told() {
        let alive = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = std::sync::Arc::clone(&alive);
        watch(5, move || flag.load(std::sync::atomic::Ordering::SeqCst));
        let (merge, stop, handle) = named_thread("MergeMutate");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while nice_of(merge) != 5 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(nice_of(merge), 5);
        alive.store(false, std::sync::atomic::Ordering::SeqCst);
        drop(stop);
        handle.join().unwrap();
    }

    #[test]
    fn the_engine_argument_is_capped_at_linux_lowest_priority() {
        assert_eq!(engine_arg(10), "--os_threads_nice_value_merge_mutate=10");
        assert_eq!(engine_arg(200), "--os_threads_nice_value_merge_mutate=19");
    }
}
