//! Memory relief: what the server gives back while its resident memory nears
//! `limits.max_memory_bytes`.
//!
//! From 70% of the bound the HTTP adapter refuses new writes and queries (`503`, see
//! `hyperbyte_adapter_http::MemoryWatch`), so admitted work can finish and the flush can
//! drain. That alone is not enough: the recent-data tier keeps its budget (a quarter of
//! the bound) and the allocators keep freed memory mapped, so an idle server could stay
//! above the watermark and refuse every write for good (measured: 1 GiB bound, 4 M TSBS
//! points, 746 MiB resident at rest, of which the tier held 246 MiB). Hence a thread that,
//! from [`YIELD_AT_PERCENT`] of the bound (below the refusal watermark, so that it
//! usually acts before anything is refused):
//! - hands the memory both allocators hold free back to the operating system;
//! - halves what the tier may hold ([`HotTier::yield_memory`]);
//!
//! then pauses a second, and lets the tier grow back by an eighth of its budget per check
//! once resident memory is under [`REGAIN_BELOW_PERCENT`] of the bound.

use hyperbyte_adapter_http::MemoryWatch;
use hyperbyte_application::hot::HotTier;
use std::sync::Arc;
use std::time::Duration;
use tracing::info;

/// How often resident memory is checked against the bound.
const CHECK_EVERY: Duration = Duration::from_millis(250);

/// The pause after memory was given back: the allocators' purge and the next sample of
/// resident memory take their time, and a tier halved four times a second would be gone
/// before either showed.
const AFTER_YIELD: Duration = Duration::from_secs(1);

/// Percentage of the bound from which memory is given back.
const YIELD_AT_PERCENT: u64 = 60;

/// Percentage of the bound under which the tier may grow back.
const REGAIN_BELOW_PERCENT: u64 = 45;

/// What one check does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Give memory back.
    Yield,
    /// Let the tier grow back.
    Regain,
    /// Nothing.
    Hold,
}

/// The step for `resident` bytes under a bound of `limit` bytes.
fn step(resident: u64, limit: u64) -> Step {
    let percent = |p: u64| limit / 100 * p;
    if resident >= percent(YIELD_AT_PERCENT) {
        Step::Yield
    } else if resident < percent(REGAIN_BELOW_PERCENT) {
        Step::Regain
    } else {
        Step::Hold
    }
}

/// Starts the relief thread; it ends once `stop` turns true.
pub(crate) fn spawn(
    watch: Arc<MemoryWatch>,
    tier: Option<Arc<HotTier>>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("hyperbyte-relief".into())
        .spawn(move || {
            let mut log = Log::default();
            let mut pause = CHECK_EVERY;
            while !*stop.borrow() {
                std::thread::sleep(pause);
                pause = CHECK_EVERY;
                if let Some(freed) = relieve(&watch, tier.as_deref()) {
                    log.yielded(freed, &watch, tier.as_deref());
                    pause = AFTER_YIELD;
                }
            }
        })
        .map(drop)
}

/// One check; `Some(bytes the tier freed)` when memory was given back.
fn relieve(watch: &MemoryWatch, tier: Option<&HotTier>) -> Option<usize> {
    match step(watch.resident(), watch.limit()) {
        Step::Yield => {
            let _span = tracing::info_span!("memory relief").entered();
            let freed = tier.map_or(0, HotTier::yield_memory);
            release_allocator_memory();
            Some(freed)
        }
        Step::Regain => {
            if let Some(t) = tier.filter(|t| t.budget() < t.max_bytes()) {
                t.regain_memory();
            }
            None
        }
        Step::Hold => None,
    }
}

/// How often a relief under way is logged.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Reliefs since the last line logged (a sustained load near the bound yields four
/// times a second).
#[derive(Debug, Default)]
struct Log {
    last: Option<std::time::Instant>,
    times: u64,
    tier_freed: usize,
}

impl Log {
    fn yielded(&mut self, freed: usize, watch: &MemoryWatch, tier: Option<&HotTier>) {
        self.times += 1;
        self.tier_freed = self.tier_freed.saturating_add(freed);
        if self.last.is_some_and(|t| t.elapsed() < LOG_EVERY) {
            return;
        }
        info!(
            times = self.times,
            resident_mib = watch.resident() >> 20,
            limit_mib = watch.limit() >> 20,
            tier_freed = self.tier_freed,
            tier_budget = tier.map_or(0, HotTier::budget),
            "resident memory near limits.max_memory_bytes: memory given back"
        );
        *self = Log {
            last: Some(std::time::Instant::now()),
            ..Log::default()
        };
    }
}

/// Hands what the allocators hold free back to the operating system now: mimalloc's
/// (the server's own allocations) without its purge delay, glibc's (the engine's and
/// RocksDB's) at the end of and within its arenas.
pub(crate) fn release_allocator_memory() {
    // SAFETY: `mi_collect` only walks and purges the allocator's own free lists; it is
    // safe to call from any thread at any time (and does nothing much when mimalloc is not
    // the global allocator).
    unsafe { libmimalloc_sys::mi_collect(true) };
    // SAFETY: `malloc_trim` takes the arenas' locks itself and only returns free pages.
    unsafe { libc::malloc_trim(0) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yields_before_requests_are_refused_and_regains_well_below() {
        let limit = 1000 << 20;
        assert_eq!(step(700 << 20, limit), Step::Yield);
        assert_eq!(step(600 << 20, limit), Step::Yield);
        assert_eq!(step(599 << 20, limit), Step::Hold);
        assert_eq!(step(450 << 20, limit), Step::Hold);
        assert_eq!(step(449 << 20, limit), Step::Regain);
        // The refusal watermark of the HTTP adapter is above the yield one.
        assert!(MemoryWatch::fixed(limit, 600 << 20).pressure().is_none());
        assert!(MemoryWatch::fixed(limit, 700 << 20).pressure().is_some());
    }

    #[test]
    fn a_check_under_pressure_halves_the_tier_and_one_well_below_grows_it_back() {
        let tier = HotTier::new(64 << 20);
        let check =
            |resident: u64, tier| relieve(&MemoryWatch::fixed(1000 << 20, resident << 20), tier);
        assert_eq!(check(650, Some(&tier)), Some(0));
        assert_eq!(tier.budget(), 0);
        assert_eq!(check(500, Some(&tier)), None);
        assert_eq!(tier.budget(), 0);
        assert_eq!(check(300, Some(&tier)), None);
        assert_eq!(tier.budget(), 8 << 20);
        assert_eq!(check(650, None), Some(0));
    }
}
