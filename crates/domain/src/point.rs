//! A point: measurement, sorted tag set, typed fields and a nanosecond timestamp.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::Hasher;

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
    #[inline]
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
/// per-point lookups where building the escaped [`SeriesKey`] costs too much. Every part
/// is prefixed with its length (so `a=b,c` and `a=b c` differ). Not collision-free:
/// callers that must not confuse two series compare the tags as well.
///
/// Keyed by a random seed drawn once per process ([`hashing`]): tag values come from
/// writers, and with a fixed function a writer could choose many series of one hash,
/// which would turn every lookup of the tier's and the flush's series maps into a scan
/// of that bucket. Never persisted, never sent to another node: the value of one series
/// differs from process to process.
pub fn series_hash<K: AsRef<str>, V: AsRef<str>>(measurement: &str, tags: &[(K, V)]) -> u64 {
    let mut h = hashing::process_hasher(0x243f_6a88_85a3_08d3);
    part(&mut h, measurement.as_bytes());
    for (k, v) in tags {
        part(&mut h, k.as_ref().as_bytes());
        part(&mut h, v.as_ref().as_bytes());
    }
    h.finish()
}

/// The same keyed hash over raw bytes (for caches keyed by unparsed text).
pub fn bytes_hash(bytes: &[u8]) -> u64 {
    let mut h = hashing::process_hasher(0x1319_8a2e_0370_7344);
    h.write(bytes);
    h.finish()
}

/// Feeds `b` prefixed with its length, so consecutive parts cannot run together.
#[inline]
fn part(h: &mut impl Hasher, b: &[u8]) {
    h.write_usize(b.len());
    h.write(b);
}

/// The crate's keyed hashing: `foldhash` under a random seed drawn once per process.
pub mod hashing {
    use foldhash::fast::{FoldHasher, SeedableRandomState};
    use foldhash::SharedSeed;
    use std::hash::BuildHasher;

    /// Hash maps keyed by what writers send (interning maps of the WAL codec, the
    /// storage adapter's tag dictionaries, series by tag values): each map gets its own
    /// random seed, so no input can be chosen to collide in all of them.
    pub type FastMap<K, V> = foldhash::HashMap<K, V>;

    /// A hasher under the process's seed, `purpose` telling apart the functions built on
    /// it. Every call in one process with one `purpose` hashes alike.
    #[inline]
    pub(crate) fn process_hasher(purpose: u64) -> FoldHasher<'static> {
        SeedableRandomState::with_seed(purpose, SharedSeed::global_random()).build_hasher()
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

    /// Set in the child processes of [`series_hash_is_keyed_per_process`].
    const PRINT_HASH: &str = "HYPERBYTE_TEST_PRINT_SERIES_HASH";

    /// Two runs of this test binary hash one series differently: the function is keyed
    /// by the process's seed, so no writer can precompute colliding series. (The child
    /// runs print their hash; the parent compares two of them.)
    #[test]
    fn series_hash_is_keyed_per_process() {
        let series = || series_hash("cpu", &[("host", "h1"), ("region", "eu")]);
        if std::env::var_os(PRINT_HASH).is_some() {
            println!("series_hash={}", series());
            return;
        }
        let child = || -> String {
            let exe = std::env::current_exe().expect("test binary path");
            let out = std::process::Command::new(exe)
                .args(["--exact", "point::tests::series_hash_is_keyed_per_process"])
                .args(["--nocapture", "--test-threads=1"])
                .env(PRINT_HASH, "1")
                .output()
                .expect("run the test binary again");
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.split_once("series_hash=")
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .map(str::to_owned)
                .unwrap_or_else(|| panic!("no hash printed by the child run: {text}"))
        };
        let (a, b) = (child(), child());
        assert_ne!(a, b, "two processes hashed the series alike");
        assert_eq!(series(), series(), "one process hashes a series alike");
    }

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
