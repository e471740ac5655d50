//! `hyperbyted backup`, `restore` and `export`: operator tools that talk to a running
//! server over HTTP (the admin-only `/api/hyperbyte/...` routes, `/write`, `/query`).
//!
//! A backup is a directory: `meta.json` (databases, retention policies, users, continuous
//! queries), one gzip line-protocol file per table under `data/`, and `manifest.json`
//! (written last, so an interrupted backup has none) with the versions, the snapshot
//! instant, what was included and the SHA-256 of every file. A restore checks the whole
//! manifest before it changes anything and replays the points through `/write`: into a
//! running server (`--url`), or into a new data directory through a server started inside
//! the restore process on a loopback port (`--data-dir`). See `docs/operations.md`.

mod backup;
mod client;
mod export;
mod manifest;
mod restore;

pub use backup::{backup, BackupOptions, BackupReport};
pub use client::Credentials;
pub use export::{export, ExportOptions};
pub use manifest::{FileEntry, Manifest, TableFile, FORMAT_VERSION, MANIFEST_FILE, META_FILE};
pub use restore::{restore_into_data_dir, restore_online, verify, RestoreOptions, RestoreReport};

/// Why a tool failed; the text is what the operator reads.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The server refused or failed a request.
    #[error("{0}")]
    Server(String),
    /// A file or directory could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// The backup is damaged, incomplete or of another format.
    #[error("{0}")]
    Backup(String),
    /// The arguments do not make sense.
    #[error("{0}")]
    Usage(String),
}

impl ToolError {
    fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ToolError {
        let context = context.into();
        move |source| ToolError::Io { context, source }
    }
}

/// A time argument: RFC 3339 (`2024-01-01T00:00:00Z`) or integer nanoseconds.
pub fn parse_time(s: &str) -> Result<i64, ToolError> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    hyperbyte_domain::time::parse_rfc3339(s).ok_or_else(|| {
        ToolError::Usage(format!(
            "invalid time {s:?}: use RFC 3339 (2024-01-01T00:00:00Z) or nanoseconds"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("12").unwrap(), 12);
        assert_eq!(parse_time("1970-01-01T00:00:01Z").unwrap(), 1_000_000_000);
        assert!(parse_time("yesterday")
            .unwrap_err()
            .to_string()
            .contains("RFC 3339"));
    }
}
