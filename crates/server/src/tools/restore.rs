//! `hyperbyted restore`: checks a backup whole (manifest, sizes, checksums) before changing
//! anything, then recreates its metadata (`/api/hyperbyte/restore/meta`) and replays its
//! points through `/write`, into a running server or into a new data directory through a
//! server started inside this process on a loopback port with authentication off.

use super::client::{Client, Credentials};
use super::manifest::{Manifest, TableFile};
use super::{ToolError, META_FILE};
use flate2::read::GzDecoder;
use hyperbyte_application::backup::MetaSnapshot;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

/// Largest `/write` body a restore sends.
const BATCH_BYTES: usize = 4 << 20;
/// Concurrent `/write` requests of a restore.
const WRITERS: usize = 2;

/// What to restore.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// The backup directory.
    pub from: PathBuf,
    /// Restore only this database (default: every database of the backup).
    pub database: Option<String>,
    /// Restore `database` under this name (InfluxDB's `-newdb`).
    pub new_database: Option<String>,
    /// Restore into databases that exist already (a time-bounded backup on top of an
    /// earlier restore); only into a running server.
    pub merge: bool,
    /// Admin credentials of the running server.
    pub credentials: Credentials,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    /// Databases created (under their restored names).
    pub databases: Vec<String>,
    /// Points sent.
    pub points: u64,
    /// Bytes of line protocol sent.
    pub bytes: u64,
    /// Wall time (into a data directory: until the points are in storage; into a
    /// running server: until every point is acknowledged, the server flushes after).
    pub seconds: f64,
}

/// Checks a backup whole and returns its manifest and metadata.
pub fn verify(dir: &Path) -> Result<(Manifest, MetaSnapshot), ToolError> {
    let manifest = Manifest::read_verified(dir)?;
    let path = dir.join(META_FILE);
    let text =
        std::fs::read(&path).map_err(ToolError::io(format!("reading {}", path.display())))?;
    let meta: MetaSnapshot = serde_json::from_slice(&text)
        .map_err(|e| ToolError::Backup(format!("{} is damaged: {e}", path.display())))?;
    Ok((manifest, meta))
}

/// Restores into the server at `url` (its databases must not exist yet).
pub fn restore_online(url: &str, opts: &RestoreOptions) -> Result<RestoreReport, ToolError> {
    let (manifest, meta) = verify(&opts.from)?;
    let client = Client::new(url, &opts.credentials);
    run(&client, &manifest, meta, opts, false)
}

/// Builds a new data directory from a backup (everything in it, users included): starts a
/// server on `data_dir` (with the configuration `config`, authentication and the
/// recent-data tier off, on a loopback port), restores into it, and stops it (its
/// shutdown flushes the WAL into storage, which is most of the time on large backups).
pub fn restore_into_data_dir(
    data_dir: &Path,
    config: Option<&Path>,
    opts: &RestoreOptions,
) -> Result<RestoreReport, ToolError> {
    if opts.database.is_some() || opts.new_database.is_some() || opts.merge {
        return Err(ToolError::Usage(
            "--database, --new-database and --merge restore into a running server (--url); --data-dir restores the whole backup".into(),
        ));
    }
    let started = Instant::now();
    let (manifest, meta) = verify(&opts.from)?;
    if std::fs::read_dir(data_dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(ToolError::Usage(format!(
            "{} is not empty: restore into a new data directory",
            data_dir.display()
        )));
    }
    let overrides = crate::Overrides {
        bind: Some("127.0.0.1:0".into()),
        data_dir: Some(data_dir.to_path_buf()),
    };
    let mut cfg = crate::Config::load(config, &overrides)
        .map_err(|e| ToolError::Usage(format!("configuration: {e}")))?;
    cfg.auth.enabled = false;
    // Nothing queries this server: the recent-data tier would only cost the flush time.
    cfg.hot_tier.max_bytes = 0;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hyperbyte-restore")
        .build()
        .map_err(ToolError::io("starting the async runtime"))?;
    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(
        crate::ServerBuilder::new(cfg)
            .on_listening(move |addr| {
                let _ = addr_tx.send(addr);
            })
            .run(async move {
                let _ = stop_rx.await;
            }),
    );
    let restored = match addr_rx.recv() {
        Ok(addr) => {
            let client = Client::new(&format!("http://{addr}"), &Credentials::default());
            run(&client, &manifest, meta, opts, true)
        }
        Err(_) => Err(ToolError::Server(
            "the server on the new data directory did not start".into(),
        )),
    };
    let _ = stop_tx.send(());
    let stopped = rt
        .block_on(server)
        .map_err(|e| ToolError::Server(format!("the restore server failed: {e}")))
        .and_then(|r| r.map_err(|e| ToolError::Server(format!("{e:#}"))));
    let mut report = restored?;
    stopped?;
    // Until the points are in storage, not only acknowledged.
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Which databases of the backup are restored, under which names.
fn selection(
    meta: &MetaSnapshot,
    opts: &RestoreOptions,
) -> Result<Vec<(String, String)>, ToolError> {
    match (&opts.database, &opts.new_database) {
        (None, Some(_)) => Err(ToolError::Usage("--new-database needs --database".into())),
        (None, None) => Ok(meta
            .databases
            .iter()
            .map(|d| (d.name.clone(), d.name.clone()))
            .collect()),
        (Some(db), new) => {
            if !meta.databases.iter().any(|d| &d.name == db) {
                return Err(ToolError::Usage(format!(
                    "database {db:?} is not in the backup"
                )));
            }
            Ok(vec![(
                db.clone(),
                new.clone().unwrap_or_else(|| db.clone()),
            )])
        }
    }
}

fn run(
    client: &Client,
    manifest: &Manifest,
    meta: MetaSnapshot,
    opts: &RestoreOptions,
    with_users: bool,
) -> Result<RestoreReport, ToolError> {
    let started = Instant::now();
    let chosen = selection(&meta, opts)?;
    let renamed = chosen.iter().any(|(from, to)| from != to);
    let restored_meta = MetaSnapshot {
        databases: meta
            .databases
            .iter()
            .filter_map(|d| {
                let (_, to) = chosen.iter().find(|(from, _)| *from == d.name)?;
                let mut d = d.clone();
                d.name = to.clone();
                Some(d)
            })
            .collect(),
        users: if with_users { meta.users } else { Vec::new() },
        // A continuous query names its database in its text: kept only under the same name.
        continuous_queries: if renamed {
            Vec::new()
        } else {
            meta.continuous_queries
                .into_iter()
                .filter(|cq| chosen.iter().any(|(from, _)| *from == cq.database))
                .collect()
        },
    };
    let body = serde_json::to_vec(&restored_meta)
        .map_err(|e| ToolError::Backup(format!("encoding the metadata: {e}")))?;
    let merge: &[(&str, &str)] = if opts.merge {
        &[("merge", "true")]
    } else {
        &[]
    };
    client.text(
        "POST",
        "/api/hyperbyte/restore/meta",
        merge,
        Some(("application/json", &body)),
    )?;
    let mut points = 0;
    let mut bytes = 0;
    let (tx, rx) = mpsc::sync_channel::<Batch>(WRITERS * 2);
    let rx = std::sync::Mutex::new(rx);
    let result = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WRITERS)
            .map(|_| scope.spawn(|| write_batches(client, &rx)))
            .collect();
        let produced = (|| {
            for f in &manifest.files {
                let Some(table) = &f.table else { continue };
                let Some((_, to)) = chosen.iter().find(|(from, _)| *from == table.database) else {
                    continue;
                };
                bytes += read_batches(&opts.from.join(&f.path), table, to, &tx)?;
                points += table.points;
            }
            Ok::<(), ToolError>(())
        })();
        drop(tx);
        let mut result = produced;
        for w in workers {
            let r = w
                .join()
                .unwrap_or_else(|_| Err(ToolError::Server("a restore writer panicked".into())));
            if result.is_ok() {
                result = r;
            }
        }
        result
    });
    result?;
    Ok(RestoreReport {
        databases: chosen.into_iter().map(|(_, to)| to).collect(),
        points,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One `/write` request.
struct Batch {
    database: String,
    retention_policy: String,
    body: Vec<u8>,
}

fn write_batches(
    client: &Client,
    rx: &std::sync::Mutex<mpsc::Receiver<Batch>>,
) -> Result<(), ToolError> {
    loop {
        let batch = match rx.lock() {
            Ok(r) => match r.recv() {
                Ok(b) => b,
                Err(_) => return Ok(()),
            },
            Err(_) => return Err(ToolError::Server("a restore writer failed".into())),
        };
        client.send(
            "POST",
            "/write",
            &[
                ("db", &batch.database),
                ("rp", &batch.retention_policy),
                ("precision", "n"),
            ],
            Some(("text/plain; charset=utf-8", &batch.body)),
        )?;
    }
}

/// Reads one data file into batches for `database`; a batch never ends inside a point
/// (a string field may span lines). Returns the bytes read.
fn read_batches(
    path: &Path,
    table: &TableFile,
    database: &str,
    tx: &mpsc::SyncSender<Batch>,
) -> Result<u64, ToolError> {
    let file =
        std::fs::File::open(path).map_err(ToolError::io(format!("opening {}", path.display())))?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, GzDecoder::new(file));
    let mut body = Vec::with_capacity(BATCH_BYTES + (64 << 10));
    let mut line = Vec::new();
    let mut in_string = false;
    let mut total = 0u64;
    let send = |body: Vec<u8>| {
        tx.send(Batch {
            database: database.to_string(),
            retention_policy: table.retention_policy.clone(),
            body,
        })
        .map_err(|_| ToolError::Server("the restore writers stopped".into()))
    };
    loop {
        line.clear();
        let n = r
            .read_until(b'\n', &mut line)
            .map_err(|e| ToolError::Backup(format!("{} is damaged: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        in_string = ends_inside_string(&line, in_string);
        body.extend_from_slice(&line);
        if !in_string && body.len() >= BATCH_BYTES {
            send(std::mem::replace(
                &mut body,
                Vec::with_capacity(BATCH_BYTES + (64 << 10)),
            ))?;
        }
    }
    if !body.is_empty() {
        send(body)?;
    }
    Ok(total)
}

/// Whether a point continues past `line`: `line` ends inside a string field value.
/// `continued` says `line` starts inside one. Outside strings the measurement and tags end
/// at the first unescaped space; in the field section an unescaped `"` opens or closes a
/// string (the formatter escapes a `"` in a field key).
fn ends_inside_string(line: &[u8], continued: bool) -> bool {
    let mut i = 0;
    let mut in_string = continued;
    if !continued {
        if line.first() == Some(&b'#') {
            return false;
        }
        // Measurement and tags: up to the first unescaped space.
        while i < line.len() && line[i] != b' ' {
            i += if line[i] == b'\\' { 2 } else { 1 };
        }
        i += 1;
    }
    while i < line.len() {
        match line[i] {
            b'\\' => i += 2,
            b'"' => {
                in_string = !in_string;
                i += 1;
            }
            b' ' if !in_string => return false,
            _ => i += 1,
        }
    }
    in_string
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_spanning_lines_are_followed() {
        assert!(!ends_inside_string(b"m,t=a\\ b v=1 1\n", false));
        assert!(ends_inside_string(b"m\\ \"x s=\"two\n", false));
        assert!(!ends_inside_string(b"lines\" 5\n", true));
        assert!(ends_inside_string(b"still \\\" inside\n", true));
        assert!(!ends_inside_string(
            b"m s=\"a \\\"q\\\" \\\\\",v=1 5\n",
            false
        ));
        assert!(!ends_inside_string(b"# comment \"\n", false));
        assert!(!ends_inside_string(b"m,q=\"x s=1 5\n", false));
    }
}
