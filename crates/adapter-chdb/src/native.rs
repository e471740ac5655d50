//! The pieces of ClickHouse's `Native` format the insert path writes, the fastest input
//! path of the engine (see the chDB fact sheet); [`crate::sorted_block`] assembles them
//! into a block.
//!
//! Layout of a block: column count and row count (var-uints), then per column its name,
//! its type name and its data. `String` data is var-uint length + bytes per row;
//! `Nullable(T)` is the null map (one byte per row, 1 = null) followed by every row's
//! `T` (a zero placeholder for nulls); `DateTime64(9)` is an i64 of nanoseconds, little
//! endian. Tags are sent as `LowCardinality(String)`, the type of the tables' tag columns
//! (see [`put_low_cardinality`]).

use hyperbyte_domain::FieldType;

/// The `Native` type name a field of type `ty` is sent as.
pub(crate) fn field_wire_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Float => "Nullable(Float64)",
        FieldType::Integer => "Nullable(Int64)",
        FieldType::Unsigned => "Nullable(UInt64)",
        FieldType::Boolean => "Nullable(Bool)",
        FieldType::String => "Nullable(String)",
    }
}

pub(crate) fn put_varuint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varuint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// The code of the narrowest index type that holds an index into `keys` keys (0: UInt8,
/// 1: UInt16, 2: UInt32) and that type's size in bytes.
pub(crate) fn index_width(keys: usize) -> (u64, usize) {
    match keys {
        0..=0x100 => (0, 1),
        0x101..=0x1_0000 => (1, 2),
        _ => (2, 4),
    }
}

/// Appends a `LowCardinality(String)` column's data (after its name and type): the
/// dictionary `keys` and one index into it per row; nothing for no rows (the engine reads
/// no data of any column then).
///
/// Sent so, the engine stores a tag column as it is; sent as `String` it hashed every
/// row's value into its own dictionary first (a tenth of the insert of a 250,000-row TSBS
/// block, 285 against 258 ms on the engine alone), and the block carried every row's
/// strings (41.6 MB against 27.3 MB).
///
/// The layout (the engine's own `Native` output of such a column): the keys' version
/// (UInt64 1: dictionaries shared with additional keys), the index width and flags (UInt64:
/// width code 0–3 for UInt8–UInt64, plus "has additional keys" 1 << 9 and "update the
/// dictionary" 1 << 10), the key count and the keys (UInt64, then each as a `String`),
/// the row count (UInt64), then one index per row.
pub(crate) fn put_low_cardinality<K: AsRef<str>>(
    out: &mut Vec<u8>,
    keys: &[K],
    rows: impl ExactSizeIterator<Item = u32>,
) {
    const HAS_ADDITIONAL_KEYS: u64 = 1 << 9;
    const UPDATE_DICTIONARY: u64 = 1 << 10;
    if rows.len() == 0 {
        return;
    }
    let (width, _) = index_width(keys.len());
    out.extend_from_slice(&1u64.to_le_bytes());
    out.extend_from_slice(&(width | HAS_ADDITIONAL_KEYS | UPDATE_DICTIONARY).to_le_bytes());
    out.extend_from_slice(&(keys.len() as u64).to_le_bytes());
    for k in keys {
        put_str(out, k.as_ref());
    }
    out.extend_from_slice(&(rows.len() as u64).to_le_bytes());
    match width {
        0 => out.extend(rows.map(|i| i as u8)),
        1 => {
            for i in rows {
                out.extend_from_slice(&(i as u16).to_le_bytes());
            }
        }
        _ => {
            for i in rows {
                out.extend_from_slice(&i.to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index type is the narrowest that holds the last key's index: UInt8 up to 256
    /// keys (the empty string's included), UInt16 up to 65,536, then UInt32.
    #[test]
    fn tag_indexes_take_the_narrowest_width_that_holds_them() {
        let values: Vec<String> = (0..65_537).map(|i| format!("v{i}")).collect();
        for (keys, code, width) in [(256, 0, 1), (257, 1, 2), (65_536, 1, 2), (65_537, 2, 4)] {
            let keys_list = &values[..keys];
            let mut out = Vec::new();
            put_low_cardinality(&mut out, keys_list, [keys as u32 - 1].into_iter());
            assert_eq!(out[8..16], (code | 0x600u64).to_le_bytes(), "{keys} keys");
            assert_eq!(index_width(keys).1, width, "{keys} keys");
            let last = &out[out.len() - width..];
            let mut index = [0u8; 8];
            index[..width].copy_from_slice(last);
            assert_eq!(u64::from_le_bytes(index), keys as u64 - 1, "{keys} keys");
        }
        let mut empty = Vec::new();
        put_low_cardinality(&mut empty, &values[..3], std::iter::empty());
        assert!(empty.is_empty());
    }

    #[test]
    fn varuint_encoding() {
        let mut b = Vec::new();
        put_varuint(&mut b, 300);
        assert_eq!(b, vec![0xac, 0x02]);
    }
}
