//! `file-wal-server`: `hyperbyted` with the example file WAL instead of RocksDB's.
//!
//! Everything but the WAL is the stock server, composed by
//! `hyperbyte_server::ServerBuilder`; this `main` only loads the configuration the same
//! way (`--config FILE`, `HYPERBYTE_*` environment, `--bind`, `--data-dir`) and hands the
//! builder a function that opens the [`FileWal`] in `<data_dir>/file-wal`.

use hyperbyte_example_file_wal::FileWal;
use hyperbyte_server::{init_tracing, shutdown_signal, Config, Overrides, ServerBuilder};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// `--config`, `--bind` and `--data-dir`, as `hyperbyted` takes them.
fn parse_args() -> Result<(Option<PathBuf>, Overrides), String> {
    let mut args = std::env::args().skip(1);
    let (mut file, mut overrides) = (None, Overrides::default());
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--config" => file = Some(PathBuf::from(value()?)),
            "--bind" => overrides.bind = Some(value()?),
            "--data-dir" => overrides.data_dir = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok((file, overrides))
}

fn main() -> ExitCode {
    let config = match parse_args()
        .and_then(|(file, o)| Config::load(file.as_deref(), &o).map_err(|e| e.to_string()))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("file-wal-server: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("file-wal-server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = ServerBuilder::new(config).with_wal_opener(|cfg: &Config| {
        let wal = FileWal::open(&cfg.data_dir().join("file-wal"))?;
        Ok(Arc::new(wal) as Arc<dyn hyperbyte_ports::WalPort>)
    });
    match runtime.block_on(server.run(shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("file-wal-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}
