//! `cargo xtask`: the project's build system.
//!
//! Every chore is a subcommand here rather than a shell script:
//! - `provision`: libclang (for the `rocksdb` crate's bindgen) and the chDB engine.
//! - `build`: provision, then a release build of `hyperbyted`.
//! - `run`: build, then start `hyperbyted` with the default config.
//! - `test`: provision, fmt, clippy, check-layers, every test, and the conformance corpus.
//! - `conformance`: replays the recorded InfluxDB corpora (`tests/conformance`) with the
//!   Rust runner in `conformance/`, against a running server or a fresh `hyperbyted`.
//! - `check-layers`: proves the hexagonal dependency rule from `cargo metadata`.
//! - `hygiene`, `deny`: source hygiene (unsafe code, file lengths) and `cargo deny`.
//! - `bench`: the benchmarks (parser, WAL, chDB insert, end-to-end `/write`, TSBS queries
//!   and the side-by-side run against the reference InfluxDB); `bench --against-reference
//!   [--dataset small|large|all] [--runs N]` runs only the side-by-side one
//!   (`tests/benches/against_reference.rs`) and writes its table to
//!   `<target>/bench-against-reference.md`. With `HYPERBYTED_BIN` set, that binary is
//!   measured and the server is not built.
//! - `fuzz [CASES]`: the parsers' and translator's property targets with a large case count.
//! - `crash [--cycles N] [--seed S]`: the crash harness (SIGKILL, restart, check) for N
//!   cycles.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod clients;
mod conformance;
mod hygiene;
mod layers;
mod provision;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn main() {
    if let Err(e) = real_main() {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    match cmd {
        "provision" => provision::provision(&root()?).map(|_| ()),
        "build" => build(),
        "run" => run(rest),
        "test" => test(),
        "conformance" => conformance::command(&root()?, rest),
        "clients" => clients::print_env(&root()?),
        "check-layers" => layers::check(&root()?),
        "hygiene" => hygiene::check_sources(&root()?),
        "deny" => hygiene::cargo_deny(&root()?),
        "bench" => bench(rest),
        "fuzz" => fuzz(rest),
        "crash" => crash(rest),
        "help" | "--help" | "-h" => {
            println!(
                "usage: cargo xtask <command>\n\n  provision     install libclang if missing, fetch the chDB engine into the cache\n  build         provision + release build of hyperbyted\n  run [ARGS]    build + start hyperbyted (127.0.0.1:8086, data in ./data)\n  test          provision, fmt, clippy, check-layers, all tests, conformance corpus\n  conformance [--url URL] [--corpus DIR] [--case NAME] [--category CAT]\n                [--strict-errors] [--verbose] [--report FILE]\n                replay the recorded InfluxDB answers (tests/conformance) against a\n                running server (it drops every database there!), or without --url\n                against a fresh hyperbyted per corpus\n  check-layers  verify the crate dependency rule\n  hygiene       pure crates forbid unsafe code, no source file over 1,200 lines\n  deny          cargo deny: crate bans (engines stay in their adapter), licences, sources\n  bench [--against-reference [--dataset small|large|all] [--runs N]]\n                run the benchmarks; --against-reference: only hyperbyted vs the\n                reference InfluxDB 1.6 (ingest, queries warm and after a restart, disk,\n                peak RSS, same answers), table in <target>/bench-against-reference.md\n  fuzz [CASES]  property/fuzz targets of the line-protocol and InfluxQL parsers and the\n                translator, CASES per target (default {FUZZ_CASES_PER_TARGET})\n  crash [--cycles N] [--seed S]\n                crash harness: SIGKILL at random moments and inside failure points,\n                restart, check every acknowledged point (default {CRASH_CYCLES} cycles)"
            );
            Ok(())
        }
        other => bail!("unknown command {other:?}; try `cargo xtask help`"),
    }
}

/// The workspace root (the parent of this crate's directory).
pub(crate) fn root() -> Result<PathBuf> {
    // Cargo sets the variable when it runs xtask or its tests; the compile-time value is
    // only a fallback (a build directory shared by two checkouts of the same layout may
    // hand one checkout the other's binary, and with it the other's path).
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    dir.parent()
        .map(Path::to_path_buf)
        .context("xtask has no parent directory")
}

fn step(name: &str) {
    println!("==> {name}");
}

/// Runs a command in the workspace root with the engine environment, failing on non-zero exit.
fn run_cmd(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn cargo(root: &Path, env: &provision::Env) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root);
    env.apply(&mut c);
    c
}

/// Cases per property target in `cargo xtask fuzz`: there are 16 targets (5 in
/// `hyperbyte-lineprotocol`'s unit tests, 6 in `timeseriesql/tests/roundtrip_props.rs`,
/// 5 in `timeseriesql/tests/bound_params.rs`), so 1.6 million cases in all.
const FUZZ_CASES_PER_TARGET: u64 = 100_000;

/// Runs the property targets with `HYPERBYTE_FUZZ_CASES` cases each (release profile).
/// They need neither chDB nor RocksDB, so nothing is provisioned.
fn fuzz(args: &[String]) -> Result<()> {
    let started = Instant::now();
    let root = root()?;
    let cases = match args.first() {
        Some(n) => n
            .parse::<u64>()
            .with_context(|| format!("CASES must be a number, got {n:?}"))?,
        None => FUZZ_CASES_PER_TARGET,
    };
    let target_dir = provision::target_dir(&root);
    let runs: [(&str, &[&str]); 2] = [
        ("hyperbyte-lineprotocol", &["--lib"]),
        (
            "hyperbyte-timeseriesql",
            &["--test", "roundtrip_props", "--test", "bound_params"],
        ),
    ];
    for (package, targets) in runs {
        step(&format!(
            "cargo test --release -p {package} {} ({cases} cases per property)",
            targets.join(" ")
        ));
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(&root)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env("HYPERBYTE_FUZZ_CASES", cases.to_string())
            .env("PROPTEST_CASES", cases.to_string())
            .args(["test", "--release", "-p", package])
            .args(targets);
        run_cmd(&mut cmd)?;
    }
    println!(
        "==> cargo xtask fuzz: {cases} cases per target, all green in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Kill/restart cycles of `cargo xtask crash` unless `--cycles` says otherwise.
const CRASH_CYCLES: u64 = 20;

/// Runs the crash harness (`tests/tests/crash.rs`, `crash_long`) against a release build.
fn crash(args: &[String]) -> Result<()> {
    let started = Instant::now();
    let mut cycles = CRASH_CYCLES;
    let mut seed: Option<u64> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> Result<u64> {
            let v = it.next().with_context(|| format!("{name} needs a value"))?;
            v.parse::<u64>()
                .with_context(|| format!("{name} must be a number, got {v:?}"))
        };
        match a.as_str() {
            "--cycles" => cycles = value("--cycles")?,
            "--seed" => seed = Some(value("--seed")?),
            other => bail!(
                "unknown argument {other:?}; usage: cargo xtask crash [--cycles N] [--seed S]"
            ),
        }
    }
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let root = root()?;
    let env = provision::provision(&root)?;
    let bin = build_release(&root, &env)?;
    step(&format!(
        "crash harness: {cycles} cycles, seed {seed} (replay: cargo xtask crash --seed {seed} --cycles {cycles})"
    ));
    let mut cmd = cargo(&root, &env);
    cmd.args([
        "test",
        "--release",
        "-p",
        "hyperbyte-e2e",
        "--test",
        "crash",
        "--",
        "--ignored",
        "--exact",
        "crash_long",
        "--nocapture",
    ])
    .env("HYPERBYTED_BIN", &bin)
    .env("HYPERBYTE_CRASH_CYCLES", cycles.to_string())
    .env("HYPERBYTE_CRASH_SEED", seed.to_string());
    run_cmd(&mut cmd).with_context(|| format!("crash harness failed with seed {seed}"))?;
    println!(
        "==> cargo xtask crash: {cycles} cycles, seed {seed}, all green in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn build() -> Result<()> {
    let root = root()?;
    let env = provision::provision(&root)?;
    build_release(&root, &env)?;
    Ok(())
}

pub(crate) fn build_release(root: &Path, env: &provision::Env) -> Result<PathBuf> {
    step("cargo build --release -p hyperbyte-server");
    run_cmd(cargo(root, env).args(["build", "--release", "-p", "hyperbyte-server"]))?;
    let bin = env.target_dir.join("release/hyperbyted");
    if !bin.exists() {
        bail!("{} was not produced", bin.display());
    }
    Ok(bin)
}

fn run(extra: &[String]) -> Result<()> {
    let root = root()?;
    let env = provision::provision(&root)?;
    let bin = build_release(&root, &env)?;
    let mut cmd = Command::new(&bin);
    cmd.current_dir(&root);
    if !extra.iter().any(|a| a == "--data-dir" || a == "--config") {
        cmd.args(["--data-dir", "data"]);
    }
    cmd.args(extra);
    println!(
        "==> starting {} (HTTP on 127.0.0.1:8086 unless --bind says otherwise; data in ./data)",
        bin.display()
    );
    run_cmd(&mut cmd)
}

fn test() -> Result<()> {
    let started = Instant::now();
    let root = root()?;
    let env = provision::provision(&root)?;

    step("cargo fmt --check");
    run_cmd(cargo(&root, &env).args(["fmt", "--all", "--check"]))?;

    step("check-layers");
    layers::check(&root)?;

    step("hygiene (unsafe code in pure crates, file lengths)");
    hygiene::check_sources(&root)?;

    step("cargo deny (bans, licences, sources)");
    hygiene::cargo_deny(&root)?;

    step("cargo clippy (release profile, all targets, -D warnings)");
    run_cmd(cargo(&root, &env).args([
        "clippy",
        "--release",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;

    let bin = build_release(&root, &env)?;
    let clients = clients::provision(&root)?;

    step("cargo nextest run --release --workspace (unit, integration and end-to-end tests)");
    let mut nextest = cargo(&root, &env);
    nextest
        .args([
            "nextest",
            "run",
            "--release",
            "--workspace",
            "--no-fail-fast",
        ])
        .env("HYPERBYTED_BIN", &bin);
    clients.apply(&mut nextest);
    run_cmd(&mut nextest)?;

    step("conformance corpus against a fresh hyperbyted");
    conformance::test_step(&root, &bin, &[])?;
    // Fresh databases are answered from the recent-data tier; the same corpus once more
    // without it covers the storage engine's query paths.
    step("conformance corpus again, recent-data tier off (storage engine only)");
    conformance::test_step(&root, &bin, &[("HYPERBYTE_HOT_TIER__MAX_BYTES", "0")])?;

    println!(
        "==> cargo xtask test: all green in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What `cargo xtask bench` was asked for.
#[derive(Debug, Default, PartialEq)]
struct BenchArgs {
    against_reference: bool,
    dataset: Option<String>,
    runs: Option<u64>,
}

fn parse_bench_args(args: &[String]) -> Result<BenchArgs> {
    let usage =
        "usage: cargo xtask bench [--against-reference [--dataset small|large|all] [--runs N]]";
    let mut out = BenchArgs::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--against-reference" => out.against_reference = true,
            "--dataset" => {
                let v = it
                    .next()
                    .with_context(|| format!("--dataset needs a value; {usage}"))?;
                if !["small", "large", "all"].contains(&v.as_str()) {
                    bail!("--dataset must be small, large or all, got {v:?}");
                }
                out.dataset = Some(v.clone());
            }
            "--runs" => {
                let v = it
                    .next()
                    .with_context(|| format!("--runs needs a value; {usage}"))?;
                let n = v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| format!("--runs must be a positive number, got {v:?}"))?;
                out.runs = Some(n);
            }
            other => bail!("unknown argument {other:?}; {usage}"),
        }
    }
    if !out.against_reference && (out.dataset.is_some() || out.runs.is_some()) {
        bail!("--dataset and --runs apply to --against-reference; {usage}");
    }
    Ok(out)
}

/// `HYPERBYTED_BIN` when set (a binary built elsewhere is measured as it is), otherwise a
/// fresh release build.
fn bench_binary(root: &Path, env: &provision::Env) -> Result<PathBuf> {
    match std::env::var_os("HYPERBYTED_BIN") {
        Some(bin) => {
            let bin = PathBuf::from(bin);
            if !bin.is_file() {
                bail!("HYPERBYTED_BIN={} is not a file", bin.display());
            }
            step(&format!("using HYPERBYTED_BIN={}", bin.display()));
            Ok(bin)
        }
        None => build_release(root, env),
    }
}

/// `cargo bench -p hyperbyte-e2e --bench against_reference` with the dataset and run count.
fn bench_against_reference(
    root: &Path,
    env: &provision::Env,
    bin: &Path,
    args: &BenchArgs,
) -> Result<()> {
    step("hyperbyted side by side with the reference InfluxDB 1.6 (against_reference)");
    let mut cmd = cargo(root, env);
    cmd.args([
        "bench",
        "-p",
        "hyperbyte-e2e",
        "--bench",
        "against_reference",
    ])
    .env("HYPERBYTED_BIN", bin);
    // The caller's HB_BENCH_REPORT (docs/benchmarks.md lists it) wins.
    if std::env::var_os("HB_BENCH_REPORT").is_none() {
        cmd.env(
            "HB_BENCH_REPORT",
            env.target_dir.join("bench-against-reference.md"),
        );
    }
    if let Some(d) = &args.dataset {
        cmd.env("HB_BENCH_DATASET", d);
    }
    if let Some(n) = args.runs {
        cmd.env("HB_BENCH_RUNS", n.to_string());
    }
    run_cmd(&mut cmd)
        .context("the side-by-side benchmark failed (it also fails on an answer mismatch: see ANSWER MISMATCH above)")
}

fn bench(args: &[String]) -> Result<()> {
    let args = parse_bench_args(args)?;
    let root = root()?;
    let env = provision::provision(&root)?;
    let bin = bench_binary(&root, &env)?;
    if args.against_reference {
        return bench_against_reference(&root, &env, &bin, &args);
    }
    for pkg in [
        "hyperbyte-lineprotocol",
        "hyperbyte-adapter-rocksdb",
        "hyperbyte-adapter-chdb",
    ] {
        step(&format!("cargo bench -p {pkg}"));
        run_cmd(cargo(&root, &env).args(["bench", "-p", pkg]))?;
    }
    for (what, bench) in [
        ("end-to-end /write benchmark", "write_e2e"),
        (
            "TSBS cpu-only queries, side by side with the reference InfluxDB",
            "query_tsbs",
        ),
        ("SHOW statements at 1,000,000 series", "show_1m"),
    ] {
        step(what);
        run_cmd(
            cargo(&root, &env)
                .args(["bench", "-p", "hyperbyte-e2e", "--bench", bench])
                .env("HYPERBYTED_BIN", &bin),
        )?;
    }
    bench_against_reference(&root, &env, &bin, &args)
}

#[cfg(test)]
mod bench_args_tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<BenchArgs> {
        parse_bench_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn plain_bench_runs_everything() {
        assert_eq!(parse(&[]).unwrap(), BenchArgs::default());
    }

    #[test]
    fn against_reference_takes_dataset_and_runs() {
        let a = parse(&["--against-reference", "--dataset", "large", "--runs", "5"]).unwrap();
        assert!(a.against_reference);
        assert_eq!(a.dataset.as_deref(), Some("large"));
        assert_eq!(a.runs, Some(5));
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(parse(&["--against-reference", "--dataset", "huge"]).is_err());
        assert!(parse(&["--against-reference", "--runs", "0"]).is_err());
        assert!(parse(&["--against-reference", "--runs"]).is_err());
        assert!(parse(&["--dataset", "small"]).is_err());
        assert!(parse(&["--fast"]).is_err());
    }
}
