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

/// The purge delay set at start-up, in milliseconds (see [`tune_allocator`]).
const PURGE_DELAY_MS: std::ffi::c_long = 1_000;

/// Keeps freed memory mapped for 1 s before returning it to the OS (mimalloc 3's own
/// default, pinned here since mimalloc 2 used 10 ms). The write path frees and
/// reallocates request-sized buffers (bodies, point vectors, WAL entries) many times a
/// second; returning them at once made the kernel zero fresh pages on every reuse. 10 s
/// was chosen when such a reuse could zero a whole 2 MiB huge page; with transparent huge
/// pages off (below), 1 s loaded as fast and held less: four alternated loads of 1,000
/// TSBS hosts × 12 h, peak RSS 1,189–1,236 MB against 1,225–1,299 MB, until queryable
/// 237–268 k against 242–263 k rows/s; five of 100 hosts × 24 h, peak RSS 717–826 MB
/// against 732–834 MB, 379–500 k against 362–417 k rows/s. An operator's
/// `MIMALLOC_PURGE_DELAY` wins.
/// Also caps glibc malloc's arenas (the allocator of the chDB engine's C++ code) at two:
/// with one arena per thread, memory freed by the engine's query threads stayed resident
/// (measured: 2.2 GiB held after a burst of heavy queries, 0.66 GiB with two arenas), so
/// resident memory never came back under `limits.max_memory_bytes`. An operator's
/// `MALLOC_ARENA_MAX` wins.
/// And turns transparent huge pages off for the process: mimalloc asks for them on its
/// arenas, and a first touch of any byte of a huge page makes the kernel zero all 2 MiB
/// of it. Under sustained ingest that zeroing was 22–27% of the server's CPU (perf, TSBS
/// 864k rows; peak resident memory unchanged within 7%); without it the load took
/// 5.7–5.9 CPU-seconds instead of 6.7. An operator's `MIMALLOC_ALLOW_THP` wins.
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: prctl(PR_SET_THP_DISABLE) only sets a flag on this process's memory
        // map; its unused arguments must be zero.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt is called before any other thread exists; it only sets a
        // glibc tuning parameter.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, 2) };
    }
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a process-wide option before any other thread exists; mimalloc
        // reads options atomically.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

use clap::{Parser, Subcommand};
use hyperbyte_server::{init_tracing, shutdown_signal, tools, Config, Overrides, ServerBuilder};
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
    /// Back up a running server into a new directory (metadata, points, manifest).
    Backup {
        /// Server URL, e.g. http://127.0.0.1:8086.
        #[arg(long, default_value = "http://127.0.0.1:8086")]
        url: String,
        /// Backup directory (created; must be empty).
        #[arg(long)]
        out: PathBuf,
        /// Only this database (default: all databases, with users).
        #[arg(long, alias = "db")]
        database: Option<String>,
        /// Only this retention policy of --database.
        #[arg(long)]
        rp: Option<String>,
        /// Only points at or after this time (RFC 3339 or nanoseconds).
        #[arg(long, alias = "start")]
        since: Option<String>,
        /// Only points before this time (RFC 3339 or nanoseconds).
        #[arg(long, alias = "end")]
        until: Option<String>,
        #[command(flatten)]
        auth: AuthArgs,
    },
    /// Restore a backup into a new data directory (--data-dir) or a running server (--url).
    Restore {
        /// The backup directory.
        #[arg(long)]
        from: PathBuf,
        /// Server URL to restore into (with --database, --new-database).
        #[arg(long)]
        url: Option<String>,
        /// Only this database of the backup (InfluxDB's -db).
        #[arg(long, alias = "db")]
        database: Option<String>,
        /// Restore --database under this name (InfluxDB's -newdb).
        #[arg(long, alias = "newdb")]
        new_database: Option<String>,
        /// Restore into existing databases (a --since/--until backup on top of an earlier
        /// restore); only with --url.
        #[arg(long)]
        merge: bool,
        #[command(flatten)]
        auth: AuthArgs,
    },
    /// Export a database as line protocol with # DDL / # DML sections (influx -import).
    Export {
        /// Server URL.
        #[arg(long, default_value = "http://127.0.0.1:8086")]
        url: String,
        /// The database.
        #[arg(long, alias = "db")]
        database: String,
        /// Only this retention policy.
        #[arg(long)]
        rp: Option<String>,
        /// Only points at or after this time (RFC 3339 or nanoseconds).
        #[arg(long, alias = "start")]
        since: Option<String>,
        /// Only points before this time (RFC 3339 or nanoseconds).
        #[arg(long, alias = "end")]
        until: Option<String>,
        /// Gzip the output.
        #[arg(long)]
        compress: bool,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        auth: AuthArgs,
    },
}

/// Admin credentials of the backup, restore and export commands (HTTP Basic).
#[derive(Debug, clap::Args)]
struct AuthArgs {
    /// User name (an admin, when the server has authentication enabled).
    #[arg(long, default_value = "")]
    username: String,
    /// Password.
    #[arg(long, default_value = "")]
    password: String,
}

impl AuthArgs {
    fn credentials(self) -> tools::Credentials {
        tools::Credentials {
            username: self.username,
            password: self.password,
        }
    }
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
    let cli = Cli::parse_from(influx_style_flags(std::env::args_os()));
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
        Some(cmd @ (Cmd::Backup { .. } | Cmd::Restore { .. } | Cmd::Export { .. })) => {
            match run_tool(cmd, cli.data_dir.as_deref(), cli.config.as_deref()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hyperbyted: {e}");
                    ExitCode::FAILURE
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

/// InfluxDB's single-dash long flags (`-username`, `-password`, `-db`, `-newdb`, ...) as
/// clap's double-dash ones, so `influxd backup`-style command lines work.
fn influx_style_flags(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    const LONG: &[&str] = &[
        "username", "password", "database", "db", "newdb", "rp", "since", "until", "start", "end",
    ];
    args.map(|a| match a.to_str().and_then(|s| s.strip_prefix('-')) {
        Some(rest)
            if !rest.starts_with('-') && LONG.contains(&rest.split('=').next().unwrap_or("")) =>
        {
            format!("--{rest}").into()
        }
        _ => a,
    })
    .collect()
}

fn time_arg(s: Option<String>) -> Result<Option<i64>, tools::ToolError> {
    s.as_deref().map(tools::parse_time).transpose()
}

/// Runs `backup`, `restore` or `export`, printing a summary on standard error.
fn run_tool(
    cmd: Cmd,
    data_dir: Option<&std::path::Path>,
    config: Option<&std::path::Path>,
) -> Result<(), tools::ToolError> {
    match cmd {
        Cmd::Backup {
            url,
            out,
            database,
            rp,
            since,
            until,
            auth,
        } => {
            let report = tools::backup(&tools::BackupOptions {
                url,
                out: out.clone(),
                database,
                retention_policy: rp,
                since: time_arg(since)?,
                until: time_arg(until)?,
                credentials: auth.credentials(),
            })?;
            let points = report.manifest.points();
            eprintln!(
                "backed up {points} points in {} files ({} bytes) into {} in {:.1}s ({:.0} points/s); snapshot instant {}",
                report.manifest.files.len(),
                report.bytes(),
                out.display(),
                report.seconds,
                points as f64 / report.seconds.max(1e-9),
                report.manifest.snapshot_instant
            );
        }
        Cmd::Restore {
            from,
            url,
            database,
            new_database,
            merge,
            auth,
        } => {
            let opts = tools::RestoreOptions {
                from,
                database,
                new_database,
                merge,
                credentials: auth.credentials(),
            };
            let report = match (url, data_dir) {
                (Some(url), None) => tools::restore_online(&url, &opts)?,
                (None, Some(dir)) => tools::restore_into_data_dir(dir, config, &opts)?,
                _ => {
                    return Err(tools::ToolError::Usage(
                        "restore needs either --url (a running server) or --data-dir (a new data directory)".into(),
                    ))
                }
            };
            eprintln!(
                "restored {} points ({} bytes of line protocol) into {} in {:.1}s ({:.0} points/s)",
                report.points,
                report.bytes,
                report.databases.join(", "),
                report.seconds,
                report.points as f64 / report.seconds.max(1e-9)
            );
        }
        Cmd::Export {
            url,
            database,
            rp,
            since,
            until,
            compress,
            out,
            auth,
        } => {
            let points = tools::export(&tools::ExportOptions {
                url,
                database,
                retention_policy: rp,
                since: time_arg(since)?,
                until: time_arg(until)?,
                compress,
                out,
                credentials: auth.credentials(),
            })?;
            eprintln!("exported {points} points");
        }
        Cmd::Run | Cmd::Config { .. } => {}
    }
    Ok(())
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
        assert_eq!(v, super::PURGE_DELAY_MS);
    }
}
