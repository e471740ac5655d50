//! `hyperbyted`: the HyperbyteDB server binary.
//!
//! Parses the command line, tunes the allocator, loads the configuration and runs the
//! server through the library's [`ServerBuilder`] (the composition root) with the
//! built-in adapters until SIGINT/SIGTERM.

#![cfg_attr(test, allow(clippy::unwrap_used))]

/// Ingest allocates many small strings per point; mimalloc handles that pattern far better
/// than glibc malloc under concurrency.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (its index in `mi_option_e`; the Rust binding names it
/// only under its old name).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory mapped for 10 s instead of mimalloc's 1 s before returning it to the
/// OS. The write path frees and reallocates request-sized buffers (bodies, point vectors,
/// WAL entries) many times a second; returning them early made the kernel zero fresh
/// (huge) pages on every reuse, a fifth of the CPU under sustained ingest. An operator's
/// `MIMALLOC_PURGE_DELAY` wins.
/// Also caps glibc malloc's arenas (the allocator of the chDB engine's C++ code) at two:
/// with one arena per thread, memory freed by the engine's query threads stayed resident
/// (measured: 2.2 GiB held after a burst of heavy queries, 0.66 GiB with two arenas), so
/// resident memory never came back under `limits.max_memory_bytes`. An operator's
/// `MALLOC_ARENA_MAX` wins.
fn tune_allocator() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt is called before any other thread exists; it only sets a
        // glibc tuning parameter.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, 2) };
    }
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a process-wide option before any other thread exists; mimalloc
        // reads options atomically.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10_000) };
    }
}

use clap::{Parser, Subcommand};
use hyperbyte_server::{init_tracing, shutdown_signal, Config, Overrides, ServerBuilder};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "hyperbyted",
    version,
    about = "HyperbyteDB: an InfluxDB 1.x compatible time-series database"
)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Listen address, overriding file and environment (e.g. 127.0.0.1:8086).
    #[arg(long, global = true)]
    bind: Option<String>,
    /// Data directory, overriding file and environment.
    #[arg(long = "data-dir", global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the server (the default).
    Run,
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        action: ConfigCmd,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Print the default configuration as TOML.
    PrintDefault,
    /// Validate a configuration file (plus environment and flags) and print the result.
    Check {
        /// The file to check (defaults to --config).
        file: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    tune_allocator();
    // Named failure points (`FAILPOINTS=name=action;…`, the `fail` crate's syntax) for the
    // fault and crash tests; without the variable every point is off.
    let _failpoints = std::env::var_os("FAILPOINTS").map(|_| fail::FailScenario::setup());
    let cli = Cli::parse();
    let overrides = Overrides {
        bind: cli.bind.clone(),
        data_dir: cli.data_dir.clone(),
    };
    match cli.command {
        Some(Cmd::Config {
            action: ConfigCmd::PrintDefault,
        }) => {
            print!("{}", Config::default_toml());
            ExitCode::SUCCESS
        }
        Some(Cmd::Config {
            action: ConfigCmd::Check { file },
        }) => {
            let file = file.or(cli.config);
            match Config::load(file.as_deref(), &overrides) {
                Ok(c) => {
                    println!("configuration is valid");
                    print!("{}", toml::to_string_pretty(&c).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("hyperbyted: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Some(Cmd::Run) | None => {
            let cfg = match Config::load(cli.config.as_deref(), &overrides) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("hyperbyted: {e}");
                    return ExitCode::from(2);
                }
            };
            init_tracing(&cfg);
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("hyperbyte")
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("hyperbyted: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match rt.block_on(ServerBuilder::new(cfg).run(shutdown_signal())) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("hyperbyted: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

#[cfg(test)]
mod allocator_tests {
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        super::tune_allocator();
        // SAFETY: reads an option.
        let v = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(v, 10_000);
    }
}
