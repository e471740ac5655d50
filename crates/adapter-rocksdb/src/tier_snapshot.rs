//! [`FileTierSnapshot`]: the recent-data tier's snapshot as one plain file.
//!
//! Why a file and not a RocksDB value: the blob is written once at shutdown and read once
//! at start-up, up to the tier's budget (256 MiB by default); a value that size would pass
//! through a memtable and the RocksDB log for nothing. It lives beside the stores of this
//! crate in the data directory.
//!
//! Atomic and durable: `save` writes `NAME.tmp`, fsyncs it, renames it over `NAME` and
//! fsyncs the directory; `take` reads `NAME`, removes it and fsyncs the directory before
//! handing the bytes out, so a power loss never brings a taken snapshot back.

use hyperbyte_ports::{TierSnapshotError, TierSnapshotPort};
use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// A [`TierSnapshotPort`] over one file.
#[derive(Debug, Clone)]
pub struct FileTierSnapshot {
    path: PathBuf,
}

impl FileTierSnapshot {
    /// The slot at `path` (its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTierSnapshot { path: path.into() }
    }

    fn temp_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".tmp");
        self.path.with_file_name(name)
    }

    fn sync_dir(&self) -> Result<(), TierSnapshotError> {
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error("syncing the directory of", &self.path, e))
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> TierSnapshotError {
    TierSnapshotError::Io(format!("{what} {}: {e}", path.display()))
}

impl TierSnapshotPort for FileTierSnapshot {
    fn save(&self, blob: &[u8]) -> Result<(), TierSnapshotError> {
        let temp = self.temp_path();
        let written = File::create(&temp).and_then(|mut f| {
            f.write_all(blob)?;
            f.sync_all()
        });
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(io_error("writing", &temp, e));
        }
        fs::rename(&temp, &self.path).map_err(|e| io_error("renaming", &temp, e))?;
        self.sync_dir()
    }

    fn take(&self) -> Result<Option<Vec<u8>>, TierSnapshotError> {
        // A temporary file is a save that never finished: never a snapshot.
        let _ = fs::remove_file(self.temp_path());
        let blob = match fs::read(&self.path) {
            Ok(blob) => blob,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("reading", &self.path, e)),
        };
        fs::remove_file(&self.path).map_err(|e| io_error("removing", &self.path, e))?;
        self.sync_dir()?;
        Ok(Some(blob))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_save_is_never_handed_out() {
        let dir = tempfile::tempdir().unwrap();
        let slot = FileTierSnapshot::new(dir.path().join("tier.snapshot"));
        std::fs::write(dir.path().join("tier.snapshot.tmp"), b"half").unwrap();
        assert_eq!(slot.take().unwrap(), None);
        assert!(!dir.path().join("tier.snapshot.tmp").exists());
        slot.save(b"whole").unwrap();
        assert!(!dir.path().join("tier.snapshot.tmp").exists());
        assert_eq!(slot.take().unwrap().as_deref(), Some(&b"whole"[..]));
    }
}
