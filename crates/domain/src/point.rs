//! A point: measurement, sorted tag set, typed fields and a nanosecond timestamp.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The type of a field, fixed per measurement once first written (as in InfluxDB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum FieldType {
    /// 64-bit IEEE float.
    Float,
    /// Signed 64-bit integer (`i` suffix).
    Integer,
    /// Unsigned 64-bit integer (`u` suffix); InfluxDB 1.x OSS rejects it, we accept it.
    Unsigned,
    /// `true`/`false`.
    Boolean,
    /// UTF-8 string.
    String,
}

impl FieldType {
    /// The name InfluxDB prints in `SHOW FIELD KEYS` and in type-conflict errors.
    pub fn influx_name(self) -> &'static str {
        match self {
            FieldType::Float => "float",
            FieldType::Integer => "integer",
            FieldType::Unsigned => "unsigned",
            FieldType::Boolean => "boolean",
            FieldType::String => "string",
        }
    }

    /// Whether values of this type are numbers (read as floats where floats are read).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Float | FieldType::Integer | FieldType::Unsigned
        )
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.influx_name())
    }
}

/// A field value as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FieldValue {
    /// Float value.
    Float(f64),
    /// Signed integer value.
    Integer(i64),
    /// Unsigned integer value.
    Unsigned(u64),
    /// Boolean value.
    Boolean(bool),
    /// String value.
    String(String),
}

impl FieldValue {
    /// The type of this value.
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldValue::Float(_) => FieldType::Float,
            FieldValue::Integer(_) => FieldType::Integer,
            FieldValue::Unsigned(_) => FieldType::Unsigned,
            FieldValue::Boolean(_) => FieldType::Boolean,
            FieldValue::String(_) => FieldType::String,
        }
    }
}

/// One point of line protocol after parsing.
///
/// Invariant: `tags` are sorted by key and keys are unique; `fields` is non-empty and
/// field keys are unique (the last value of a repeated key wins, as in InfluxDB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Measurement name (unescaped).
    pub measurement: String,
    /// Tag pairs sorted by key.
    pub tags: Vec<(String, String)>,
    /// Field pairs in the order written.
    pub fields: Vec<(String, FieldValue)>,
    /// Nanoseconds since the Unix epoch.
    pub timestamp: i64,
}

impl Point {
    /// The canonical series key: `measurement,k1=v1,k2=v2` with tags sorted and
    /// line-protocol escaping, as InfluxDB prints it in `SHOW SERIES`.
    pub fn series_key(&self) -> SeriesKey {
        SeriesKey::new(&self.measurement, &self.tags)
    }
}

/// A fast 64-bit hash of a series' identity (measurement and tags sorted by key), for
/// per-point lookups where building the escaped [`SeriesKey`] costs too much. Eight bytes
/// at a time, every part prefixed with its length (so `a=b,c` and `a=b c` differ), and a
/// final avalanche so that the low bits are usable as a bucket index. Not collision-free:
/// callers that must not confuse two series compare the tags as well. Never persisted:
/// the function may change between versions.
pub fn series_hash<K: AsRef<str>, V: AsRef<str>>(measurement: &str, tags: &[(K, V)]) -> u64 {
    let mut h = WordHasher(0x243f_6a88_85a3_08d3);
    h.bytes(measurement.as_bytes());
    for (k, v) in tags {
        h.bytes(k.as_ref().as_bytes());
        h.bytes(v.as_ref().as_bytes());
    }
    h.finish()
}

/// The same fast hash over raw bytes (for caches keyed by unparsed text).
pub fn bytes_hash(bytes: &[u8]) -> u64 {
    let mut h = WordHasher(0x1319_8a2e_0370_7344);
    h.bytes(bytes);
    h.finish()
}

/// Multiply-rotate mixing of 64-bit words (FxHash-style) with a murmur3 finaliser. Also
/// the `Hasher` of the crate's interning maps (keys are attacker-independent within one
/// batch, and a collision only costs a comparison).
#[derive(Default)]
pub(crate) struct WordHasher(u64);

impl WordHasher {
    #[inline]
    fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    /// Mixes `b` eight bytes at a time (the tail zero-padded).
    #[inline]
    fn raw(&mut self, b: &[u8]) {
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.word(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(w));
        }
    }

    /// Mixes `b` prefixed with its length, so consecutive parts cannot run together.
    #[inline]
    fn bytes(&mut self, b: &[u8]) {
        self.word(b.len() as u64);
        self.raw(b);
    }

    #[inline]
    fn avalanche(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }

    #[inline]
    fn finish(self) -> u64 {
        self.avalanche()
    }
}

impl std::hash::Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.raw(bytes);
    }

    fn write_u64(&mut self, n: u64) {
        self.word(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.word(n as u64);
    }

    fn finish(&self) -> u64 {
        self.avalanche()
    }
}

/// The canonical series key of a point (measurement plus sorted tag set), escaped the way
/// InfluxDB prints it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey(pub String);

impl SeriesKey {
    /// The key of a series without tags: the escaped measurement name.
    pub fn measurement_only(measurement: &str) -> Self {
        SeriesKey::new::<&str, &str>(measurement, &[])
    }

    /// Builds the key from a measurement and tags sorted by key.
    pub fn new<K: AsRef<str>, V: AsRef<str>>(measurement: &str, tags: &[(K, V)]) -> Self {
        let mut s = String::with_capacity(measurement.len() + tags.len() * 16);
        escape_into(&mut s, measurement, &[',', ' ']);
        for (k, v) in tags {
            s.push(',');
            escape_into(&mut s, k.as_ref(), &[',', ' ', '=']);
            s.push('=');
            escape_into(&mut s, v.as_ref(), &[',', ' ', '=']);
        }
        SeriesKey(s)
    }
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn escape_into(out: &mut String, s: &str, special: &[char]) {
    // Specials are ASCII: most names have none and are copied whole.
    if !s.bytes().any(|b| special.contains(&char::from(b))) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if special.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_hash_separates_keys_values_and_measurements() {
        let t = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let a = series_hash("m", &t(&[("a", "b,c")]));
        assert_ne!(a, series_hash("m", &t(&[("a", "b"), ("c", "")])));
        assert_ne!(a, series_hash("n", &t(&[("a", "b,c")])));
        assert_ne!(
            series_hash("m", &t(&[("ab", "c")])),
            series_hash("m", &t(&[("a", "bc")]))
        );
        assert_eq!(a, series_hash("m", &t(&[("a", "b,c")])));
    }

    #[test]
    fn series_key_escapes_and_keeps_order() {
        let p = Point {
            measurement: "cpu load".into(),
            tags: vec![("a".into(), "x,y".into()), ("b".into(), "1=2".into())],
            fields: vec![("v".into(), FieldValue::Float(1.0))],
            timestamp: 0,
        };
        assert_eq!(p.series_key().0, "cpu\\ load,a=x\\,y,b=1\\=2");
    }
}
