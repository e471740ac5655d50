//! `hyperbyted backup`: asks the server for a snapshot, writes its metadata and every
//! table's points (gzip line protocol, streamed: one page in memory at a time) into the
//! backup directory, then the manifest.

use super::client::{Client, Credentials};
use super::manifest::{FileEntry, HashingWriter, Manifest, TableFile, FORMAT_VERSION};
use super::{ToolError, META_FILE};
use flate2::write::GzEncoder;
use hyperbyte_application::backup::{Snapshot, TableEntry};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What to back up and where.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// Server base URL (`http://HOST:PORT`).
    pub url: String,
    /// Backup directory (created; must be empty if it exists).
    pub out: PathBuf,
    /// One database (default: all, with users).
    pub database: Option<String>,
    /// One retention policy of that database.
    pub retention_policy: Option<String>,
    /// Earliest point time (nanoseconds, inclusive).
    pub since: Option<i64>,
    /// Latest point time (nanoseconds, exclusive).
    pub until: Option<i64>,
    /// Admin credentials when the server requires authentication.
    pub credentials: Credentials,
}

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// The manifest written.
    pub manifest: Manifest,
    /// Wall time of the whole backup.
    pub seconds: f64,
}

impl BackupReport {
    /// Total bytes of the backup's files.
    pub fn bytes(&self) -> u64 {
        self.manifest.files.iter().map(|f| f.bytes).sum()
    }
}

/// Runs a backup (see the module docs).
pub fn backup(opts: &BackupOptions) -> Result<BackupReport, ToolError> {
    let started = Instant::now();
    if opts.retention_policy.is_some() && opts.database.is_none() {
        return Err(ToolError::Usage("--rp needs --database".into()));
    }
    if let (Some(s), Some(u)) = (opts.since, opts.until) {
        if s >= u {
            return Err(ToolError::Usage("--since must be before --until".into()));
        }
    }
    prepare_dir(&opts.out)?;
    let client = Client::new(&opts.url, &opts.credentials);
    let mut query = Vec::new();
    if let Some(db) = &opts.database {
        query.push(("db", db.as_str()));
    }
    if let Some(rp) = &opts.retention_policy {
        query.push(("rp", rp.as_str()));
    }
    let text = client.text("POST", "/api/hyperbyte/backup/snapshot", &query, None)?;
    let snapshot: Snapshot = serde_json::from_str(&text)
        .map_err(|e| ToolError::Server(format!("unexpected snapshot answer: {e}")))?;

    let mut files = Vec::new();
    let meta = serde_json::to_vec_pretty(&snapshot.meta)
        .map_err(|e| ToolError::Backup(format!("encoding the metadata: {e}")))?;
    files.push(write_file(&opts.out, META_FILE, &meta)?);
    std::fs::create_dir(opts.out.join("data")).map_err(ToolError::io(format!(
        "creating {}/data",
        opts.out.display()
    )))?;
    for (i, table) in snapshot.tables.iter().enumerate() {
        let path = format!("data/{:06}.lp.gz", i + 1);
        files.push(backup_table(&client, &opts.out, &path, table, opts)?);
    }
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        hyperbyted_version: env!("CARGO_PKG_VERSION").to_string(),
        snapshot_instant_ns: snapshot.instant_ns,
        snapshot_instant: hyperbyte_domain::time::format_rfc3339(snapshot.instant_ns),
        wal_sequence: snapshot.wal_sequence,
        database: opts.database.clone(),
        retention_policy: opts.retention_policy.clone(),
        since: opts.since,
        until: opts.until,
        files,
    };
    sync_dir(&opts.out.join("data"))?;
    manifest.write(&opts.out)?;
    sync_dir(&opts.out)?;
    Ok(BackupReport {
        manifest,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Creates the backup directory, or accepts an existing empty one.
fn prepare_dir(dir: &Path) -> Result<(), ToolError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(ToolError::Usage(format!(
                    "{} is not empty: back up into a new directory",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir_all(dir)
            .map_err(ToolError::io(format!("creating {}", dir.display()))),
        Err(e) => Err(ToolError::io(format!("reading {}", dir.display()))(e)),
    }
}

fn sync_dir(dir: &Path) -> Result<(), ToolError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(ToolError::io(format!("syncing {}", dir.display())))
}

fn write_file(dir: &Path, name: &str, body: &[u8]) -> Result<FileEntry, ToolError> {
    let path = dir.join(name);
    let file = std::fs::File::create(&path)
        .map_err(ToolError::io(format!("creating {}", path.display())))?;
    let mut w = HashingWriter::new(file);
    w.write_all(body)
        .map_err(ToolError::io(format!("writing {}", path.display())))?;
    let (file, bytes, sha256) = w.finish();
    file.sync_all()
        .map_err(ToolError::io(format!("syncing {}", path.display())))?;
    Ok(FileEntry {
        path: name.to_string(),
        bytes,
        sha256,
        table: None,
    })
}

/// Streams one table into `path` (gzip), checking the server's end line.
fn backup_table(
    client: &Client,
    dir: &Path,
    path: &str,
    table: &TableEntry,
    opts: &BackupOptions,
) -> Result<FileEntry, ToolError> {
    let since = opts.since.map(|t| t.to_string());
    let until = opts.until.map(|t| t.to_string());
    let mut query = vec![
        ("db", table.database.as_str()),
        ("rp", table.retention_policy.as_str()),
        ("measurement", table.measurement.as_str()),
    ];
    if let Some(s) = &since {
        query.push(("since", s));
    }
    if let Some(u) = &until {
        query.push(("until", u));
    }
    let response = client.send("GET", "/api/hyperbyte/backup/data", &query, None)?;
    let full = dir.join(path);
    let file = std::fs::File::create(&full)
        .map_err(ToolError::io(format!("creating {}", full.display())))?;
    let mut gz = GzEncoder::new(HashingWriter::new(file), flate2::Compression::fast());
    let points = copy_lines(BufReader::with_capacity(1 << 20, response.into_reader()), &mut gz)
        .map_err(|e| match e {
            CopyError::Io(e) => ToolError::io(format!(
                "copying {}.{}.{} into {}",
                table.database,
                table.retention_policy,
                table.measurement,
                full.display()
            ))(e),
            CopyError::Truncated => ToolError::Server(format!(
                "the server's answer for measurement {:?} (database {:?}, retention policy {:?}) ended early (see the server's log)",
                table.measurement, table.database, table.retention_policy
            )),
        })?;
    let (file, bytes, sha256) = gz
        .finish()
        .map(HashingWriter::finish)
        .map_err(ToolError::io(format!("writing {}", full.display())))?;
    file.sync_all()
        .map_err(ToolError::io(format!("syncing {}", full.display())))?;
    Ok(FileEntry {
        path: path.to_string(),
        bytes,
        sha256,
        table: Some(TableFile {
            database: table.database.clone(),
            retention_policy: table.retention_policy.clone(),
            measurement: table.measurement.clone(),
            points,
        }),
    })
}

/// Why [`copy_lines`] stopped.
#[derive(Debug)]
pub(crate) enum CopyError {
    /// Reading or writing failed.
    Io(std::io::Error),
    /// The body ended without its `# END points=N` line, or with another count.
    Truncated,
}

/// Copies a `/api/hyperbyte/backup/data` body into `out` without its end line, and
/// returns the point count the end line states (a string field may hold a newline, so
/// lines are not points).
pub(crate) fn copy_lines(mut r: impl BufRead, out: &mut impl Write) -> Result<u64, CopyError> {
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line).map_err(CopyError::Io)?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Err(CopyError::Truncated);
        }
        if let Some(rest) = line.strip_prefix(b"# END points=") {
            return std::str::from_utf8(rest)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or(CopyError::Truncated);
        }
        out.write_all(&line).map_err(CopyError::Io)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_lines_until_a_matching_end_line() {
        let mut out = Vec::new();
        let n = copy_lines(&b"a v=1 1\nb v=2 2\n# END points=2\n"[..], &mut out).unwrap();
        assert_eq!(n, 2);
        assert_eq!(out, b"a v=1 1\nb v=2 2\n");
        for cut in [&b"a v=1 1\n"[..], b"a v=1 1\n# END points=x\n", b"a v=1"] {
            assert!(matches!(
                copy_lines(cut, &mut Vec::new()),
                Err(CopyError::Truncated)
            ));
        }
    }
}
