//! On-disk encoding of WAL entries and metadata records.
//!
//! Every value starts with a one-byte format version followed by `bincode` 1.3, so that a
//! later format can be introduced without a migration step: readers dispatch on the first
//! byte and refuse versions they do not know instead of misreading them. Keys are designed
//! for ordered iteration (big-endian integers, length-prefixed names) and never depend on
//! `bincode`.
//!
//! WAL entries are written in format 2, the domain's wire format
//! ([`hyperbyte_domain::wal::codec`]): the same information as a [`WalEntry`], with each
//! distinct series (measurement + tags) and field-name list stored once per entry and
//! varint integers. A TSBS-like batch shrinks about tenfold against plain `bincode` of the
//! entry (format 1, still readable), and the WAL's disk bandwidth is what bounds ingest
//! throughput. The write path encodes entries itself (straight from the request body) and
//! hands the bytes over through `WalPort::append_encoded`.

use hyperbyte_domain::wal::codec::{self as wire, SeriesCache, WalCodecError};
use hyperbyte_domain::{CompactEntry, WalEntry};
use serde::{de::DeserializeOwned, Serialize};

/// WAL entry format 1: `bincode` (fixed-width integers) of the [`WalEntry`] itself.
pub const WAL_FORMAT_V1: u8 = 1;
/// WAL entry format 2 (written today): the domain's compact wire format.
pub const WAL_FORMAT_V2: u8 = wire::WAL_FORMAT_COMPACT;
/// Current format version of metadata values.
pub(crate) const META_FORMAT_V1: u8 = 1;

/// A codec failure (message only: callers map it to their port's error type).
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The value is empty or has a version byte this build does not understand.
    #[error("unsupported format version {0:?}")]
    Version(Option<u8>),
    /// `bincode` failed.
    #[error("bincode: {0}")]
    Bincode(#[from] bincode::Error),
    /// The wire format's codec failed.
    #[error(transparent)]
    Wire(#[from] WalCodecError),
}

/// Encodes a WAL entry as `[version] ++ bincode(..)` in the current format (2).
pub fn encode_wal_entry(entry: &WalEntry) -> Result<Vec<u8>, CodecError> {
    Ok(wire::encode(entry)?.bytes)
}

/// Encodes a WAL entry in format 1 (plain `bincode` of the entry); kept for tests and
/// comparisons, every reader accepts both formats.
pub fn encode_wal_entry_v1(entry: &WalEntry) -> Result<Vec<u8>, CodecError> {
    encode_versioned(WAL_FORMAT_V1, entry)
}

/// Decodes a value written by [`encode_wal_entry`] or [`encode_wal_entry_v1`].
pub fn decode_wal_entry(bytes: &[u8]) -> Result<WalEntry, CodecError> {
    match bytes.first() {
        Some(&WAL_FORMAT_V2) => Ok(wire::decode(bytes)?),
        _ => decode_versioned(WAL_FORMAT_V1, bytes),
    }
}

/// Decodes a WAL entry into its compact shape (the flush's read path), sharing series
/// with the entries decoded before with `series`.
pub(crate) fn decode_wal_entry_compact(
    bytes: &[u8],
    series: &mut SeriesCache,
) -> Result<CompactEntry, CodecError> {
    match bytes.first() {
        Some(&WAL_FORMAT_V2) => Ok(wire::decode_compact_with(bytes, series)?),
        _ => decode_versioned(WAL_FORMAT_V1, bytes).map(CompactEntry::from_entry),
    }
}

pub(crate) fn encode_versioned<T: Serialize>(
    version: u8,
    value: &T,
) -> Result<Vec<u8>, CodecError> {
    let size = bincode::serialized_size(value)?;
    let mut buf = Vec::with_capacity(size as usize + 1);
    buf.push(version);
    bincode::serialize_into(&mut buf, value)?;
    Ok(buf)
}

pub(crate) fn decode_versioned<T: DeserializeOwned>(
    version: u8,
    bytes: &[u8],
) -> Result<T, CodecError> {
    match bytes.split_first() {
        Some((&v, rest)) if v == version => Ok(bincode::deserialize(rest)?),
        Some((&v, _)) => Err(CodecError::Version(Some(v))),
        None => Err(CodecError::Version(None)),
    }
}

/// Big-endian key of a WAL sequence (byte order = numeric order).
pub(crate) fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// Parses a key written by [`seq_key`].
pub(crate) fn parse_seq_key(key: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(key).ok().map(u64::from_be_bytes)
}

/// Appends a length-prefixed name (`u32` big-endian length, then the bytes). Composite
/// keys built from such parts are unambiguous, and all keys starting with the parts of a
/// database (or measurement) share one prefix that nothing else has.
pub(crate) fn push_name(buf: &mut Vec<u8>, name: &str) {
    buf.extend_from_slice(&(name.len() as u32).to_be_bytes());
    buf.extend_from_slice(name.as_bytes());
}

/// Reads one length-prefixed name from the front of `buf`; returns it and the rest.
pub(crate) fn take_name(buf: &[u8]) -> Option<(&str, &[u8])> {
    let (len, rest) = buf.split_first_chunk::<4>()?;
    let len = u32::from_be_bytes(*len) as usize;
    if rest.len() < len {
        return None;
    }
    let (name, rest) = rest.split_at(len);
    Some((std::str::from_utf8(name).ok()?, rest))
}

/// Key made of length-prefixed names.
pub(crate) fn names_key(names: &[&str]) -> Vec<u8> {
    let mut k = Vec::with_capacity(names.iter().map(|n| n.len() + 4).sum());
    for n in names {
        push_name(&mut k, n);
    }
    k
}

/// The smallest key greater than every key starting with `prefix` (for range deletes).
/// `None` when no such key exists (prefix of only `0xff` bytes).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last != 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hyperbyte_domain::{FieldValue, Point};

    #[test]
    fn wal_entry_round_trips_with_version() {
        let e = WalEntry {
            database: "db".into(),
            retention_policy: "autogen".into(),
            points: vec![Point {
                measurement: "cpu".into(),
                tags: vec![("host".into(), "a".into())],
                fields: vec![
                    ("v".into(), FieldValue::Float(1.5)),
                    ("s".into(), FieldValue::String("x".into())),
                ],
                timestamp: 42,
            }],
        };
        let b = encode_wal_entry(&e).unwrap();
        assert_eq!(b[0], WAL_FORMAT_V2);
        assert_eq!(decode_wal_entry(&b).unwrap(), e);
        let b = encode_wal_entry_v1(&e).unwrap();
        assert_eq!(b[0], WAL_FORMAT_V1);
        assert_eq!(b.len(), b.capacity());
        assert_eq!(decode_wal_entry(&b).unwrap(), e);
        let mut bad = b.clone();
        bad[0] = 9;
        assert!(matches!(
            decode_wal_entry(&bad),
            Err(CodecError::Version(Some(9)))
        ));
        assert!(decode_wal_entry(&[]).is_err());
    }

    #[test]
    fn keys_order_and_prefixes() {
        assert!(seq_key(255) < seq_key(256));
        assert_eq!(parse_seq_key(&seq_key(77)), Some(77));
        let k = names_key(&["db", "m"]);
        let (a, rest) = take_name(&k).unwrap();
        let (b, rest) = take_name(rest).unwrap();
        assert_eq!((a, b, rest.len()), ("db", "m", 0));
        let p = names_key(&["db"]);
        let end = prefix_end(&p).unwrap();
        assert!(k.as_slice() >= p.as_slice() && k < end);
        assert!(names_key(&["dbx"]) >= end || names_key(&["dbx"]) < p);
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff]), None);
    }
}
