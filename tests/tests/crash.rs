//! The crash harness (`hyperbyte_e2e::crash`): SIGKILL at random moments and inside chosen
//! failure points, restart, and every acknowledged point readable exactly once.
//!
//! `crash_short` runs in `cargo xtask test` (3 cycles, a new seed each run, printed);
//! `crash_long` is `cargo xtask crash [--cycles N] [--seed S]` (20 cycles by default).
//! `HYPERBYTE_CRASH_SEED` and `HYPERBYTE_CRASH_CYCLES` replay a run.

use hyperbyte_e2e::crash::{run, CrashConfig};

#[test]
fn crash_short() {
    let report = run(&CrashConfig::from_env(3));
    assert!(report.acked_batches > 0, "nothing was acknowledged");
}

#[test]
#[ignore = "long: run by `cargo xtask crash`"]
fn crash_long() {
    let report = run(&CrashConfig::from_env(20));
    assert!(report.acked_batches > 0, "nothing was acknowledged");
}
