//! Start-up checks on the data directory: the server refuses, with one clear message, to
//! run on a directory that is not its own, that a newer release wrote, or that another
//! `hyperbyted` is using; it never overwrites or "repairs" data silently.
//!
//! - **Ownership marker** `HYPERBYTE_FORMAT` (`format = N`, `written_by = "..."`): written
//!   on the first start in an empty directory. A directory without it is accepted only if
//!   it holds no directory but the server's own (`meta`, `wal`, `chdb`: a directory
//!   written before the marker existed); another directory is someone else's data (an
//!   InfluxDB data directory, a home directory). Plain files are accepted: a supervisor
//!   or a test harness often sends the server's output to `server.log` in the data
//!   directory before the first start, and was refused for it.
//! - **Format**: a marker with a format newer than [`DATA_FORMAT`] was written by a newer
//!   release whose files this binary may misread.
//! - **Exclusive use**: an advisory lock on `hyperbyted.lock` (held for the process's
//!   life; the kernel drops it when the process dies, even on SIGKILL), holding the owner's
//!   pid for the message. RocksDB and chDB lock their own files too, but their errors do
//!   not say who holds the directory.

use anyhow::{bail, Context, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// The data directory layout this binary reads and writes.
pub(crate) const DATA_FORMAT: u32 = 1;

const MARKER: &str = "HYPERBYTE_FORMAT";
const LOCK: &str = "hyperbyted.lock";
/// Entries the server itself creates in its data directory.
const OWN_ENTRIES: &[&str] = &["meta", "wal", "chdb", MARKER, LOCK];

/// The claimed data directory; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct DataDirLock {
    _file: File,
}

/// Checks `dir` (the `data_dir` setting) and claims it for this process.
pub(crate) fn claim(dir: &Path) -> Result<DataDirLock> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating data_dir {}", dir.display()))?;
    check_format(dir)?;
    let lock = lock(dir)?;
    if !dir.join(MARKER).exists() {
        write_marker(dir)?;
    }
    Ok(lock)
}

/// Refuses a foreign directory or one written by a newer release.
fn check_format(dir: &Path) -> Result<()> {
    let marker = dir.join(MARKER);
    if marker.exists() {
        let text = std::fs::read_to_string(&marker)
            .with_context(|| format!("reading {}", marker.display()))?;
        let format = parse_format(&text).with_context(|| {
            format!(
                "data_dir {}: {MARKER} is unreadable; the directory may be damaged (it was not changed)",
                dir.display()
            )
        })?;
        if format > DATA_FORMAT {
            bail!(
                "data_dir {} was written by a newer hyperbyted (data format {format}; this binary reads format {DATA_FORMAT} and older); start that release instead (nothing was changed)",
                dir.display()
            );
        }
        return Ok(());
    }
    let foreign: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("reading data_dir {}", dir.display()))?
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !OWN_ENTRIES.contains(&n.as_str()))
        .collect();
    if !foreign.is_empty() {
        let mut shown = foreign;
        shown.sort();
        shown.truncate(5);
        bail!(
            "data_dir {} is not a HyperbyteDB data directory (it holds {}); point data_dir at an empty directory or at one hyperbyted created (nothing was changed)",
            dir.display(),
            shown.join(", ")
        );
    }
    Ok(())
}

/// The `format = N` line of a marker.
fn parse_format(text: &str) -> Option<u32> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "format").then(|| v.trim().parse().ok())?
    })
}

fn write_marker(dir: &Path) -> Result<()> {
    let text = format!(
        "# Written by hyperbyted; do not edit. The layout of this data directory.\nformat = {DATA_FORMAT}\nwritten_by = \"hyperbyted {}\"\n",
        env!("CARGO_PKG_VERSION")
    );
    let tmp = dir.join(format!("{MARKER}.tmp"));
    let mut f = File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(MARKER))
        .with_context(|| format!("writing {}", dir.join(MARKER).display()))?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Takes the directory's lock, or names the process that holds it.
fn lock(dir: &Path) -> Result<DataDirLock> {
    let path = dir.join(LOCK);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another process".to_string()
            } else {
                format!("another hyperbyted (pid {holder})")
            };
            bail!(
                "data_dir {} is in use by {who}; stop it first or give this server another data_dir",
                dir.display()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", path.display()));
        }
    }
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    file.sync_all()?;
    Ok(DataDirLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_directory_is_claimed_and_marked() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("data");
        let lock = claim(&d).unwrap();
        let marker = std::fs::read_to_string(d.join(MARKER)).unwrap();
        assert_eq!(parse_format(&marker), Some(DATA_FORMAT));
        // A second claim while the first is held names the holder.
        let err = claim(&d).unwrap_err().to_string();
        assert!(err.contains("in use by another hyperbyted (pid"), "{err}");
        drop(lock);
        claim(&d).unwrap();
    }

    #[test]
    fn a_directory_from_before_the_marker_is_adopted() {
        let tmp = tempfile::tempdir().unwrap();
        for sub in ["meta", "wal", "chdb"] {
            std::fs::create_dir_all(tmp.path().join(sub)).unwrap();
        }
        claim(tmp.path()).unwrap();
        assert!(tmp.path().join(MARKER).exists());
    }

    #[test]
    fn a_log_file_written_before_the_first_start_is_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("server.log"), "starting\n").unwrap();
        claim(tmp.path()).unwrap();
        assert!(tmp.path().join(MARKER).exists());
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("server.log")).unwrap(),
            "starting\n"
        );
    }

    #[test]
    fn foreign_and_newer_directories_are_refused_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("notes")).unwrap();
        std::fs::write(tmp.path().join("notes/today.txt"), "mine").unwrap();
        std::fs::write(tmp.path().join("server.log"), "").unwrap();
        let err = claim(tmp.path()).unwrap_err().to_string();
        assert!(
            err.contains("is not a HyperbyteDB data directory (it holds notes)"),
            "{err}"
        );
        assert!(!tmp.path().join(MARKER).exists());
        assert!(!tmp.path().join(LOCK).exists());

        let newer = tempfile::tempdir().unwrap();
        std::fs::write(newer.path().join(MARKER), "format = 99\n").unwrap();
        let err = claim(newer.path()).unwrap_err().to_string();
        assert!(
            err.contains("written by a newer hyperbyted (data format 99"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(newer.path().join(MARKER)).unwrap(),
            "format = 99\n"
        );
    }
}
