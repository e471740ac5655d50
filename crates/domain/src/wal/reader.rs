//! A reader of the compact WAL format's bytes ([`super::codec`]), written for it rather
//! than going through serde, so that a flush round decodes each series once.
//!
//! Why: a TSBS write of 5,000 lines from 1,000 hosts carries 1,000 series of ten tags, and
//! every entry of a round carries the same ones again. Decoding them through serde built
//! 21 strings and a hash per series and entry, most of an entry's decoding time. The
//! reader sees each series' bytes before building it, so a round's entries share one
//! decoded series per distinct byte string ([`SeriesCache`]), and views of one series
//! from different entries then also share one tag list (compared by address).
//!
//! It reads exactly what `bincode` with `DefaultOptions` writes: integers as varints
//! (below 251 one byte; 251, 252 and 253 then 2, 4 or 8 bytes little endian), signed
//! integers zigzag-encoded first, lengths and enum variants as varints, floats as 8 bytes
//! little endian, booleans as one byte 0 or 1, no bytes after the entry. The tests check
//! it against `bincode`'s own decoding of what the encoder writes.
//!
//! Everything it reads is checked: a length larger than the bytes left, an index past
//! its list, invalid UTF-8, an unknown variant or bytes left over make the entry corrupt;
//! nothing panics and no allocation exceeds the input's size.

use super::codec::{corrupt, WalCodecError};
use crate::FieldValue;

/// Reads values off the front of a byte slice.
pub(super) struct Reader<'b> {
    bytes: &'b [u8],
}

impl<'b> Reader<'b> {
    pub(super) fn new(bytes: &'b [u8]) -> Self {
        Reader { bytes }
    }

    /// What is left to read.
    pub(super) fn rest(&self) -> &'b [u8] {
        self.bytes
    }

    /// Fails unless every byte was read.
    pub(super) fn finish(&self) -> Result<(), WalCodecError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(corrupt("bytes after the entry"))
        }
    }

    fn take(&mut self, n: usize) -> Result<&'b [u8], WalCodecError> {
        if n > self.bytes.len() {
            return Err(corrupt("entry cut short"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WalCodecError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn byte(&mut self) -> Result<u8, WalCodecError> {
        Ok(self.array::<1>()?[0])
    }

    /// An unsigned varint.
    pub(super) fn varint(&mut self) -> Result<u64, WalCodecError> {
        match self.byte()? {
            b @ 0..=250 => Ok(u64::from(b)),
            251 => Ok(u64::from(u16::from_le_bytes(self.array()?))),
            252 => Ok(u64::from(u32::from_le_bytes(self.array()?))),
            253 => Ok(u64::from_le_bytes(self.array()?)),
            _ => Err(corrupt("varint wider than 64 bits")),
        }
    }

    /// A `u32` varint.
    pub(super) fn u32(&mut self) -> Result<u32, WalCodecError> {
        u32::try_from(self.varint()?).map_err(|_| corrupt("u32 out of range"))
    }

    /// A zigzag-encoded `i64` varint.
    pub(super) fn i64(&mut self) -> Result<i64, WalCodecError> {
        let n = self.varint()?;
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    /// A length of a list whose elements take at least one byte each: never more than the
    /// bytes left.
    pub(super) fn len(&mut self) -> Result<usize, WalCodecError> {
        let n = self.varint()?;
        match usize::try_from(n) {
            Ok(n) if n <= self.bytes.len() => Ok(n),
            _ => Err(corrupt("length past the end of the entry")),
        }
    }

    /// A string (varint length, UTF-8 bytes).
    pub(super) fn str(&mut self) -> Result<&'b str, WalCodecError> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| corrupt("string not UTF-8"))
    }

    /// A field value: its variant, then its payload.
    pub(super) fn value(&mut self) -> Result<FieldValue, WalCodecError> {
        Ok(match self.u32()? {
            0 => FieldValue::Float(f64::from_le_bytes(self.array()?)),
            1 => FieldValue::Integer(self.i64()?),
            2 => FieldValue::Unsigned(self.varint()?),
            3 => FieldValue::Boolean(match self.byte()? {
                0 => false,
                1 => true,
                _ => return Err(corrupt("boolean neither 0 nor 1")),
            }),
            4 => FieldValue::String(self.str()?.to_string()),
            _ => return Err(corrupt("unknown field value variant")),
        })
    }
}
