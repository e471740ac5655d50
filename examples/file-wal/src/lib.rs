//! An example out-of-tree adapter: a write-ahead log in one append-only file.
//!
//! It shows what an adapter author writes to put HyperbyteDB on another WAL: one type
//! implementing [`WalPort`], checked by `hyperbyte_testkit::contract::wal_contract` (see
//! `tests/contract.rs`), and a custom server binary (`examples/file-wal-server`) that swaps it in
//! through `hyperbyte_server::ServerBuilder`. See `docs/adapters.md` for the walk-through.
//!
//! # File format
//!
//! `wal.log` is a sequence of records, each `len: u32 LE | crc32: u32 LE | body` where
//! `body` (`len` bytes, checksummed by `crc32`) is a kind byte and a sequence (`u64 LE`):
//!
//! - `E` (entry): the sequence, then the entry in the domain's WAL wire format
//!   ([`hyperbyte_domain::wal::codec`]);
//! - `T` (truncation): every entry below the sequence is gone. It also records that the
//!   sequence below it was assigned, so sequences are never reused after a restart even
//!   when everything was truncated.
//!
//! Every append and truncation is fsynced before the call returns. On open, the file is
//! read from the start; the first record that is short or fails its checksum is a torn
//! tail (a crash in the middle of a write, never acknowledged) and is cut off. When a
//! truncation leaves the log empty (the steady state once the flush caught up) or the
//! file holds mostly dead entries, the log is rewritten into a new file holding only the
//! live entries and swapped in with an atomic rename, so the file does not grow forever.
//!
//! The example keeps the live entries in memory (the WAL is drained by the flush every
//! second) and does its I/O under one lock, synchronously: simple and correct, not fast.
//! A production WAL would group commits (see `hyperbyte-adapter-rocksdb`'s `BatchingWal`).

#![forbid(unsafe_code)]

use async_trait::async_trait;
use hyperbyte_domain::wal::codec;
use hyperbyte_domain::{EncodedWalEntry, WalEntry};
use hyperbyte_ports::{WalError, WalPort};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const LOG: &str = "wal.log";
const COMPACTING: &str = "wal.log.new";
const ENTRY: u8 = b'E';
const TRUNCATE: u8 = b'T';
/// Record header: length and checksum.
const HEADER: usize = 8;
/// A body is at least a kind and a sequence.
const MIN_BODY: usize = 9;
/// Rewrite the file once it is this many times larger than its live entries.
const COMPACT_RATIO: u64 = 4;
const COMPACT_MIN_BYTES: u64 = 1 << 20;

/// A [`WalPort`] over one append-only file in a directory of its own.
#[derive(Debug)]
pub struct FileWal {
    dir: PathBuf,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    file: File,
    /// Bytes of the file that hold whole records.
    len: u64,
    /// Live entries in the wire format, by sequence.
    entries: BTreeMap<u64, Vec<u8>>,
    /// Sum of the live entries' bytes.
    live_bytes: u64,
    last: u64,
}

fn storage(what: &str, e: std::io::Error) -> WalError {
    if e.kind() == ErrorKind::StorageFull {
        WalError::NoSpace(format!("{what}: {e}"))
    } else {
        WalError::Storage(format!("{what}: {e}"))
    }
}

fn record(kind: u8, seq: u64, payload: &[u8]) -> Result<Vec<u8>, WalError> {
    let body_len = MIN_BODY + payload.len();
    let len = u32::try_from(body_len)
        .map_err(|_| WalError::Codec(format!("an entry of {body_len} bytes is too large")))?;
    let mut out = Vec::with_capacity(HEADER + body_len);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(kind);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[HEADER..]);
    out[4..HEADER].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// One whole record of `data` at `at`: (kind, sequence, payload, next offset); `None` at
/// the end or at a torn or corrupt record.
fn parse(data: &[u8], at: usize) -> Option<(u8, u64, &[u8], usize)> {
    let header = data.get(at..at.checked_add(HEADER)?)?;
    let len = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().ok()?);
    let end = at.checked_add(HEADER)?.checked_add(len)?;
    let body = data.get(at + HEADER..end)?;
    if len < MIN_BODY || crc32fast::hash(body) != crc {
        return None;
    }
    let seq = u64::from_le_bytes(body[1..MIN_BODY].try_into().ok()?);
    Some((body[0], seq, &body[MIN_BODY..], end))
}

fn sync_dir(dir: &Path) -> Result<(), WalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| storage("syncing the WAL directory", e))
}

impl FileWal {
    /// Opens (creating) the log in `dir`, dropping a torn tail left by a crash.
    pub fn open(dir: &Path) -> Result<Self, WalError> {
        std::fs::create_dir_all(dir).map_err(|e| storage("creating the WAL directory", e))?;
        // A rewrite that crashed before its rename: the old file is still whole.
        let _ = std::fs::remove_file(dir.join(COMPACTING));
        let path = dir.join(LOG);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| storage("opening the WAL file", e))?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)
            .map_err(|e| storage("reading the WAL file", e))?;
        let (mut entries, mut last, mut at) = (BTreeMap::new(), 0u64, 0usize);
        while let Some((kind, seq, payload, next)) = parse(&data, at) {
            match kind {
                ENTRY => {
                    entries.insert(seq, payload.to_vec());
                    last = last.max(seq);
                }
                TRUNCATE => {
                    entries = entries.split_off(&seq);
                    last = last.max(seq.saturating_sub(1));
                }
                _ => break,
            }
            at = next;
        }
        if at < data.len() {
            // The torn tail was never acknowledged: cut it so appends follow whole records.
            file.set_len(at as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| storage("cutting a torn tail off the WAL file", e))?;
        }
        sync_dir(dir)?;
        let live_bytes = entries.values().map(|e: &Vec<u8>| e.len() as u64).sum();
        Ok(FileWal {
            dir: dir.to_path_buf(),
            inner: Mutex::new(Inner {
                file,
                len: at as u64,
                entries,
                live_bytes,
                last,
            }),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, WalError> {
        self.inner
            .lock()
            .map_err(|_| WalError::Storage("the WAL lock is poisoned".into()))
    }

    /// Writes a new file holding only the live entries behind a truncation record (which
    /// keeps the last sequence), then renames it over the log.
    fn compact(&self, inner: &mut Inner) -> Result<(), WalError> {
        let tmp = self.dir.join(COMPACTING);
        let mut out = record(
            TRUNCATE,
            inner
                .last
                .saturating_add(1)
                .min(inner.entries.keys().next().copied().unwrap_or(u64::MAX)),
            &[],
        )?;
        for (seq, bytes) in &inner.entries {
            out.extend(record(ENTRY, *seq, bytes)?);
        }
        let mut file = File::create(&tmp).map_err(|e| storage("creating the new WAL file", e))?;
        file.write_all(&out)
            .and_then(|()| file.sync_all())
            .map_err(|e| storage("writing the new WAL file", e))?;
        std::fs::rename(&tmp, self.dir.join(LOG)).map_err(|e| storage("swapping WAL files", e))?;
        sync_dir(&self.dir)?;
        inner.file = OpenOptions::new()
            .append(true)
            .open(self.dir.join(LOG))
            .map_err(|e| storage("reopening the WAL file", e))?;
        inner.len = out.len() as u64;
        Ok(())
    }
}

impl Inner {
    /// Appends one record durably; on failure, cuts the file back so no partial record
    /// stays in front of the next one.
    fn write(&mut self, rec: &[u8]) -> Result<(), WalError> {
        let written = self
            .file
            .write_all(rec)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            let _ = self.file.set_len(self.len);
            return Err(storage("appending to the WAL file", e));
        }
        self.len += rec.len() as u64;
        Ok(())
    }
}

#[async_trait]
impl WalPort for FileWal {
    async fn append(&self, entry: WalEntry) -> Result<u64, WalError> {
        let encoded = codec::encode(&entry).map_err(|e| WalError::Codec(e.to_string()))?;
        self.append_encoded(encoded).await
    }

    async fn append_encoded(&self, entry: EncodedWalEntry) -> Result<u64, WalError> {
        let mut inner = self.lock()?;
        let seq = inner.last.checked_add(1).ok_or(WalError::Closed)?;
        inner.write(&record(ENTRY, seq, &entry.bytes)?)?;
        inner.last = seq;
        inner.live_bytes += entry.bytes.len() as u64;
        inner.entries.insert(seq, entry.bytes);
        Ok(seq)
    }

    async fn read_range(&self, from: u64, max: usize) -> Result<Vec<(u64, WalEntry)>, WalError> {
        let inner = self.lock()?;
        inner
            .entries
            .range(from..)
            .take(max)
            .map(|(seq, bytes)| {
                codec::decode(bytes)
                    .map(|e| (*seq, e))
                    .map_err(|e| WalError::Codec(e.to_string()))
            })
            .collect()
    }

    async fn truncate_before(&self, seq: u64) -> Result<(), WalError> {
        let mut inner = self.lock()?;
        // No entry lies at or above `last + 1`: truncating there removes the same ones,
        // and the record must not claim sequences that were never assigned.
        let seq = seq.min(inner.last.saturating_add(1));
        if inner
            .entries
            .first_key_value()
            .is_none_or(|(s, _)| *s >= seq)
        {
            return Ok(()); // nothing to remove, nothing new to record
        }
        inner.write(&record(TRUNCATE, seq, &[])?)?;
        let kept = inner.entries.split_off(&seq);
        inner.entries = kept;
        inner.last = inner.last.max(seq.saturating_sub(1));
        inner.live_bytes = inner.entries.values().map(|e| e.len() as u64).sum();
        if inner.entries.is_empty()
            || inner.len > COMPACT_MIN_BYTES.max(inner.live_bytes.saturating_mul(COMPACT_RATIO))
        {
            self.compact(&mut inner)?;
        }
        Ok(())
    }

    fn last_sequence(&self) -> u64 {
        self.inner.lock().map_or(0, |i| i.last)
    }
}
