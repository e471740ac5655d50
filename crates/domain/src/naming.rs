//! Storage naming: deterministic, collision-free and injection-safe chDB identifiers for
//! InfluxDB databases, retention policies, measurements, tags and fields.
//!
//! Every user name is encoded into `[A-Za-z0-9_]` by a reversible escape: ASCII letters and
//! digits stay, `_` becomes `__`, and every other byte becomes `_` plus two lowercase hex
//! digits. After an encoded part, a separator `_<letter>_` where the letter is not a hex
//! digit can never be confused with an escape, so composed names stay injective. Names whose
//! encoding exceeds [`MAX_ENCODED`] bytes are shortened (file-system limits apply to table
//! names) to a prefix of the encoding cut between two escapes, `_z_` and 128 bits of the
//! name's SHA-256: `_z` where an escape would start is no escape, so a shortened name is
//! never the encoding of another name, and two shortened names differ unless SHA-256
//! collides. The results never need quoting, but callers still wrap them in backticks.

use sha2::{Digest, Sha256};

/// Longest encoded part kept verbatim.
pub const MAX_ENCODED: usize = 120;

/// Encodes one user-provided name.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for &b in name.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => out.push(b as char),
            b'_' => out.push_str("__"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push('_');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    if out.len() > MAX_ENCODED {
        out.truncate(escape_boundary(&out, SHORTENED_PREFIX));
        out.push_str("_z_");
        for b in &Sha256::digest(name.as_bytes())[..16] {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out
}

/// Bytes of the encoding kept before the hash of a shortened name.
const SHORTENED_PREFIX: usize = 64;

/// The largest cut of `encoded` at most `max` bytes long that does not split an escape
/// (`__` or `_hh`).
fn escape_boundary(encoded: &str, max: usize) -> usize {
    let b = encoded.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let len = match b[i] {
            b'_' if b.get(i + 1) == Some(&b'_') => 2,
            b'_' => 3,
            _ => 1,
        };
        if i + len > max {
            break;
        }
        i += len;
    }
    i.min(b.len())
}

/// Decodes a name produced by [`encode`] (not for hashed, shortened names).
pub fn decode(encoded: &str) -> Option<String> {
    let b = encoded.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'_' {
            if b.get(i + 1) == Some(&b'_') {
                out.push(b'_');
                i += 2;
            } else {
                let hex = encoded.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The chDB database holding every table of an InfluxDB database.
pub fn database_name(db: &str) -> String {
    format!("hb_{}", encode(db))
}

/// The chDB table of one (retention policy, measurement) inside [`database_name`].
pub fn table_name(rp: &str, measurement: &str) -> String {
    format!("r_{}_m_{}", encode(rp), encode(measurement))
}

/// Prefix shared by every table of one retention policy.
pub fn table_prefix_for_rp(rp: &str) -> String {
    format!("r_{}_m_", encode(rp))
}

/// The column holding a tag.
pub fn tag_column(tag: &str) -> String {
    format!("t_{}", encode(tag))
}

/// The column holding a field.
pub fn field_column(field: &str) -> String {
    format!("f_{}", encode(field))
}

/// The time column.
pub const TIME_COLUMN: &str = "time";

/// Quotes an identifier with backticks (identifiers from this module never contain one, but
/// the function is safe for any input).
pub fn quote_ident(ident: &str) -> String {
    let mut s = String::with_capacity(ident.len() + 2);
    s.push('`');
    for c in ident.chars() {
        match c {
            '`' => s.push_str("\\`"),
            '\\' => s.push_str("\\\\"),
            _ => s.push(c),
        }
    }
    s.push('`');
    s
}

/// Quotes a string literal for ClickHouse SQL.
pub fn quote_string(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('\'');
    for c in value.chars() {
        match c {
            '\'' => s.push_str("\\'"),
            '\\' => s.push_str("\\\\"),
            '\0' => s.push_str("\\0"),
            _ => s.push(c),
        }
    }
    s.push('\'');
    s
}

/// Fully qualified, quoted table reference.
pub fn qualified_table(db: &str, rp: &str, measurement: &str) -> String {
    format!(
        "{}.{}",
        quote_ident(&database_name(db)),
        quote_ident(&table_name(rp, measurement))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hostile_names_are_safe_and_distinct() {
        let names = [
            "cpu", "CPU", "a.b", "a_2eb", "a`b", "a'b", "a\"b", "ü", "a b", "_", "__", "x_y",
        ];
        let mut seen = std::collections::HashSet::new();
        for n in names {
            let e = encode(n);
            assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
            assert!(seen.insert(e.clone()), "collision for {n}");
            assert_eq!(decode(&e).as_deref(), Some(n));
        }
        assert_ne!(tag_column("x"), field_column("x"));
        assert_ne!(table_name("a_m_b", "c"), table_name("a", "b_m_c"));
    }

    #[test]
    fn long_names_are_shortened() {
        let long = "x".repeat(500);
        assert!(encode(&long).len() <= MAX_ENCODED);
        assert_ne!(encode(&long), encode(&"x".repeat(501)));
    }

    #[test]
    fn a_shortened_name_is_never_the_encoding_of_a_short_name() {
        // The cut used to fall inside an escape: a long name of `.` (escape `_2e`) cut
        // after `_` read, with the `_z_` marker, as `__` + `z` + `_hh` escapes, i.e. as
        // the encoding of a short name, which then shared the storage name.
        for long in [
            ".".repeat(200),
            format!("a{}", ".".repeat(200)),
            format!("ab{}", "_".repeat(200)),
            "é".repeat(100),
        ] {
            let shortened = encode(&long);
            assert!(shortened.len() <= MAX_ENCODED, "{shortened}");
            if let Some(short) = decode(&shortened) {
                assert_ne!(
                    encode(&short),
                    shortened,
                    "{long:?} collides with {short:?}"
                );
            }
        }
    }

    #[test]
    fn cuts_fall_between_escapes() {
        assert_eq!(escape_boundary("ab_2ecd", 3), 2);
        assert_eq!(escape_boundary("ab_2ecd", 5), 5);
        assert_eq!(escape_boundary("a__b", 2), 1);
        assert_eq!(escape_boundary("a__b", 3), 3);
        assert_eq!(escape_boundary("abc", 64), 3);
    }

    proptest! {
        #[test]
        fn shortened_names_are_no_encoding(name in "[a-z._é]{41,130}") {
            let e = encode(&name);
            let full_len = name.bytes().map(|b| if b.is_ascii_alphanumeric() { 1 } else if b == b'_' { 2 } else { 3 }).sum::<usize>();
            if full_len > MAX_ENCODED {
                prop_assert_eq!(decode(&e), None);
            }
        }

        #[test]
        fn encode_is_injective(a in ".{0,30}", b in ".{0,30}") {
            if a != b {
                prop_assert_ne!(encode(&a), encode(&b));
            }
            let e = encode(&a);
            if !e.contains("_z_") {
                prop_assert_eq!(decode(&e), Some(a.clone()));
            }
        }

        #[test]
        fn table_names_are_injective(r1 in "[a-z_]{0,6}", m1 in "[a-z_]{0,6}", r2 in "[a-z_]{0,6}", m2 in "[a-z_]{0,6}") {
            if (r1.clone(), m1.clone()) != (r2.clone(), m2.clone()) {
                prop_assert_ne!(table_name(&r1, &m1), table_name(&r2, &m2));
            }
        }
    }
}
