//! The backup manifest: what a backup holds and how to tell it is whole.
//!
//! `manifest.json` is written last (through a temporary file and a rename), so a backup
//! cut short has none. It lists every other file with its size and SHA-256; [`verify`]
//! checks them all before a restore changes anything, naming the first file that is
//! missing, of the wrong size or with the wrong checksum.

use super::ToolError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

/// The manifest's file name in a backup directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The metadata file's name.
pub const META_FILE: &str = "meta.json";
/// The backup format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Backup format ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Version of the `hyperbyted` that wrote it.
    pub hyperbyted_version: String,
    /// The server's snapshot instant (nanoseconds since the epoch): every point
    /// acknowledged before it is in the backup.
    pub snapshot_instant_ns: i64,
    /// The same instant in RFC 3339.
    pub snapshot_instant: String,
    /// The WAL sequence the server flushed through before reading.
    pub wal_sequence: u64,
    /// The database backed up (`None`: all, with users).
    pub database: Option<String>,
    /// The retention policy backed up (`None`: all of the database).
    pub retention_policy: Option<String>,
    /// Earliest point time included (nanoseconds, inclusive), if bounded.
    pub since: Option<i64>,
    /// Latest point time bound (nanoseconds, exclusive), if bounded.
    pub until: Option<i64>,
    /// Every file of the backup but the manifest.
    pub files: Vec<FileEntry>,
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the backup directory (`/`-separated).
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// For a data file: its table and point count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<TableFile>,
}

/// The table a data file holds (gzip line protocol).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableFile {
    /// Database.
    pub database: String,
    /// Retention policy.
    pub retention_policy: String,
    /// Measurement.
    pub measurement: String,
    /// Points (lines).
    pub points: u64,
}

impl Manifest {
    /// Points in all data files.
    pub fn points(&self) -> u64 {
        self.files
            .iter()
            .filter_map(|f| f.table.as_ref())
            .map(|t| t.points)
            .sum()
    }

    /// Writes the manifest into `dir` (temporary file, fsync, rename).
    pub fn write(&self, dir: &Path) -> Result<(), ToolError> {
        let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
        let body = serde_json::to_vec_pretty(self)
            .map_err(|e| ToolError::Backup(format!("encoding the manifest: {e}")))?;
        let mut f = std::fs::File::create(&tmp)
            .map_err(ToolError::io(format!("creating {}", tmp.display())))?;
        f.write_all(&body)
            .and_then(|_| f.sync_all())
            .map_err(ToolError::io(format!("writing {}", tmp.display())))?;
        std::fs::rename(&tmp, dir.join(MANIFEST_FILE))
            .map_err(ToolError::io(format!("renaming {}", tmp.display())))
    }

    /// Reads `dir`'s manifest and checks every file it lists.
    pub fn read_verified(dir: &Path) -> Result<Manifest, ToolError> {
        let path = dir.join(MANIFEST_FILE);
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ToolError::Backup(format!(
                    "{} is missing: {} is not a backup, or the backup did not finish",
                    path.display(),
                    dir.display()
                )))
            }
            Err(e) => return Err(ToolError::io(format!("reading {}", path.display()))(e)),
        };
        let manifest: Manifest = serde_json::from_slice(&text)
            .map_err(|e| ToolError::Backup(format!("{} is damaged: {e}", path.display())))?;
        if manifest.format_version != FORMAT_VERSION {
            return Err(ToolError::Backup(format!(
                "{} has backup format {}, this hyperbyted reads format {FORMAT_VERSION}",
                path.display(),
                manifest.format_version
            )));
        }
        if !manifest.files.iter().any(|f| f.path == META_FILE) {
            return Err(ToolError::Backup(format!(
                "{} lists no {META_FILE}: the backup is incomplete",
                path.display()
            )));
        }
        for f in &manifest.files {
            verify_file(dir, f)?;
        }
        Ok(manifest)
    }
}

/// Checks one file: present, of the listed size, with the listed SHA-256.
pub(super) fn verify_file(dir: &Path, entry: &FileEntry) -> Result<(), ToolError> {
    if entry.path.split('/').any(|c| c == ".." || c.is_empty()) {
        return Err(ToolError::Backup(format!(
            "the manifest lists an invalid path {:?}",
            entry.path
        )));
    }
    let path = dir.join(&entry.path);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ToolError::Backup(format!(
                "the backup is incomplete: {} is missing",
                path.display()
            )))
        }
        Err(e) => return Err(ToolError::io(format!("opening {}", path.display()))(e)),
    };
    let (bytes, sha) =
        hash_reader(file).map_err(ToolError::io(format!("reading {}", path.display())))?;
    if bytes != entry.bytes || sha != entry.sha256 {
        return Err(ToolError::Backup(format!(
            "the backup is damaged: {} has {bytes} bytes with SHA-256 {sha}, the manifest says {} bytes with SHA-256 {}",
            path.display(),
            entry.bytes,
            entry.sha256
        )));
    }
    Ok(())
}

fn hash_reader(mut r: impl Read) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex(&hasher.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A writer that counts and hashes what passes through it (the manifest's size and
/// checksum of a file are computed while it is written).
#[derive(Debug)]
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The inner writer, the byte count and the SHA-256 (hex).
    pub(crate) fn finish(self) -> (W, u64, String) {
        (self.inner, self.bytes, hex(&self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_file(dir: &Path, name: &str, body: &[u8]) -> FileEntry {
        let mut w = HashingWriter::new(std::fs::File::create(dir.join(name)).unwrap());
        w.write_all(body).unwrap();
        let (_, bytes, sha256) = w.finish();
        FileEntry {
            path: name.into(),
            bytes,
            sha256,
            table: None,
        }
    }

    fn manifest(files: Vec<FileEntry>) -> Manifest {
        Manifest {
            format_version: FORMAT_VERSION,
            hyperbyted_version: "0.1.0".into(),
            snapshot_instant_ns: 1,
            snapshot_instant: "1970-01-01T00:00:00.000000001Z".into(),
            wal_sequence: 0,
            database: None,
            retention_policy: None,
            since: None,
            until: None,
            files,
        }
    }

    #[test]
    fn sha256_of_a_known_text() {
        let (n, sha) = hash_reader(&b"abc"[..]).unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_whole_backup_verifies_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![write_file(dir.path(), META_FILE, b"{}")];
        let m = manifest(files);
        m.write(dir.path()).unwrap();
        assert_eq!(Manifest::read_verified(dir.path()).unwrap(), m);
    }

    #[test]
    fn damage_and_gaps_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = Manifest::read_verified(dir.path()).unwrap_err().to_string();
        assert!(err.contains("manifest.json is missing"), "{err}");

        std::fs::create_dir(dir.path().join("data")).unwrap();
        let meta = write_file(dir.path(), META_FILE, b"{}");
        let data = write_file(dir.path(), "data/000001.lp.gz", b"points");
        manifest(vec![meta.clone(), data])
            .write(dir.path())
            .unwrap();
        std::fs::write(dir.path().join("data/000001.lp.gz"), b"pointz").unwrap();
        let err = Manifest::read_verified(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("damaged") && err.contains("data/000001.lp.gz"),
            "{err}"
        );

        std::fs::remove_file(dir.path().join("data/000001.lp.gz")).unwrap();
        let err = Manifest::read_verified(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("incomplete") && err.contains("000001.lp.gz is missing"),
            "{err}"
        );

        let mut other = manifest(vec![meta]);
        other.format_version = 99;
        other.write(dir.path()).unwrap();
        let err = Manifest::read_verified(dir.path()).unwrap_err().to_string();
        assert!(err.contains("backup format 99"), "{err}");

        std::fs::write(dir.path().join(MANIFEST_FILE), b"{not json").unwrap();
        let err = Manifest::read_verified(dir.path()).unwrap_err().to_string();
        assert!(err.contains("manifest.json is damaged"), "{err}");
    }
}
