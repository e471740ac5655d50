//! The wire formats InfluxDB 1.x ingests besides `/write`: Graphite plaintext
//! ([`graphite`]), OpenTSDB telnet `put` and HTTP `/api/put` ([`opentsdb`]), collectd's
//! binary network protocol with its types database ([`collectd`]) and line protocol over
//! UDP ([`udp`]).
//!
//! Why a crate of its own: these parsers are pure (bytes in, [`Point`]s or an error text
//! out), so every mapping rule is unit-tested without sockets, and property tests prove
//! that hostile input never panics. The socket side (batching, counters) lives in the
//! listeners adapter; the points go through the same ingestion service as `/write`.
//!
//! Every parser reproduces what InfluxDB 1.6's services store (measurement, tags, field
//! names, timestamps); the differences are listed in `docs/protocols.md`.

#![forbid(unsafe_code)]

pub mod collectd;
pub mod graphite;
pub mod opentsdb;
pub mod udp;

use hyperbyte_domain::time::{MAX_NANOS, MIN_NANOS};
use hyperbyte_domain::{FieldValue, Point};

/// Longest series key plus field key InfluxDB accepts (`models.MaxKeyLength`).
pub const MAX_KEY_LENGTH: usize = 65_535;

/// Builds a point of one float field as InfluxDB's `models.NewPoint` accepts it: tags
/// with an empty key or value are left out (InfluxDB leaves them out of the series key),
/// tags are sorted by key, the measurement and the field key must not be empty, the value
/// must be finite, the time within InfluxDB's range and the key not too long.
pub(crate) fn float_point(
    measurement: &str,
    mut tags: Vec<(String, String)>,
    field: &str,
    value: f64,
    timestamp: i64,
) -> Result<Point, String> {
    if measurement.is_empty() {
        return Err("missing measurement".to_string());
    }
    if field.is_empty() {
        return Err("all fields must have non-empty names".to_string());
    }
    if value.is_nan() {
        return Err(format!("NaN is an unsupported value for field {field}"));
    }
    if value.is_infinite() {
        return Err(format!("+/-Inf is an unsupported value for field {field}"));
    }
    if !(MIN_NANOS..=MAX_NANOS).contains(&timestamp) {
        return Err("time outside range".to_string());
    }
    tags.retain(|(k, v)| !k.is_empty() && !v.is_empty());
    tags.sort_by(|a, b| a.0.cmp(&b.0));
    tags.dedup_by(|later, earlier| later.0 == earlier.0);
    let key_len = tags
        .iter()
        .fold(measurement.len() + field.len() + 4, |n, (k, v)| {
            n.saturating_add(k.len() + v.len() + 2)
        });
    if key_len > MAX_KEY_LENGTH {
        return Err(format!(
            "max key length exceeded: {key_len} > {MAX_KEY_LENGTH}"
        ));
    }
    Ok(Point {
        measurement: measurement.to_string(),
        tags,
        fields: vec![(field.to_string(), FieldValue::Float(value))],
        timestamp,
    })
}

/// Seconds and nanoseconds since the epoch as nanoseconds, `None` outside `i64`.
pub(crate) fn unix_nanos(secs: i64, nanos: i64) -> Option<i64> {
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_point_sorts_and_drops_empty_tags() {
        let p = float_point(
            "m",
            vec![
                ("b".into(), "2".into()),
                ("a".into(), "1".into()),
                ("c".into(), String::new()),
                (String::new(), "x".into()),
            ],
            "value",
            1.5,
            7,
        );
        let p = p.ok().unwrap_or_else(|| panic!("point refused"));
        assert_eq!(
            p.tags,
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert_eq!(p.timestamp, 7);
        assert!(float_point("", vec![], "value", 1.0, 0).is_err());
        assert!(float_point("m", vec![], "value", f64::NAN, 0).is_err());
        assert!(float_point("m", vec![], "value", f64::INFINITY, 0).is_err());
        assert!(float_point("m", vec![], "", 1.0, 0).is_err());
        let long = "x".repeat(MAX_KEY_LENGTH);
        assert!(float_point(&long, vec![], "value", 1.0, 0).is_err());
    }
}
