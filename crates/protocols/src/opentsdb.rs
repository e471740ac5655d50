//! OpenTSDB's telnet `put` lines and HTTP `/api/put` JSON, mapped as InfluxDB 1.x's
//! opentsdb service maps them: the metric is the measurement, the tags are tags, the value
//! is the float field `value`.
//!
//! Timestamps follow InfluxDB exactly, including its quirk with milliseconds: a telnet time
//! of 10 digits is seconds, of 13 digits milliseconds read as `time.Unix(ts/1000,
//! (ts%1000)*1000)` (the millisecond remainder lands as microseconds); other lengths are
//! refused. `/api/put` takes a time below 10,000,000,000 as seconds and anything else with
//! the same millisecond rule.

use crate::{float_point, unix_nanos};
use hyperbyte_domain::Point;
use serde::Deserialize;
use std::collections::BTreeMap;

/// What one telnet line is.
#[derive(Debug, Clone, PartialEq)]
pub enum Telnet {
    /// A blank line.
    Empty,
    /// `version`: the listener answers `InfluxDB TSDB proxy`.
    Version,
    /// A point; `bad_tags` tags were malformed and left out (the point is kept, as
    /// InfluxDB keeps it).
    Put {
        /// The point.
        point: Point,
        /// Malformed tags skipped.
        bad_tags: usize,
    },
}

/// Why a telnet line was dropped (InfluxDB's counters: `tlBadLine`, `tlBadTime`,
/// `tlBadFloat`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelnetError {
    /// Not `put <metric> <time> <value> [tags]`.
    #[error("malformed line")]
    BadLine,
    /// The time is not an integer of 10 or 13 digits.
    #[error("bad time '{0}' must be 10 or 13 chars")]
    BadTime(String),
    /// The value is not a float (or the point is otherwise invalid).
    #[error("bad float '{0}': {1}")]
    BadFloat(String, String),
}

/// The reply to `version`.
pub const VERSION_REPLY: &str = "InfluxDB TSDB proxy";

/// Seconds and the 13-digit millisecond form as InfluxDB reads them.
fn telnet_time(ts: &str) -> Result<i64, TelnetError> {
    let bad = || TelnetError::BadTime(ts.to_string());
    let v: i64 = ts.parse().map_err(|_| bad())?;
    match ts.len() {
        10 => unix_nanos(v, 0).ok_or_else(bad),
        13 => unix_nanos(v / 1000, (v % 1000) * 1000).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// Parses one telnet line (without its line ending).
pub fn parse_telnet(line: &str) -> Result<Telnet, TelnetError> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [] => Ok(Telnet::Empty),
        ["version"] => Ok(Telnet::Version),
        ["put", metric, ts, value, tags @ ..] => {
            let timestamp = telnet_time(ts)?;
            let mut bad_tags = 0;
            let mut kept: BTreeMap<String, String> = BTreeMap::new();
            for t in tags {
                match t.split_once('=') {
                    Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                        kept.insert(k.to_string(), v.to_string());
                    }
                    _ => bad_tags += 1,
                }
            }
            let v: f64 = value
                .parse()
                .map_err(|_| TelnetError::BadFloat(value.to_string(), "invalid syntax".into()))?;
            let point = float_point(metric, kept.into_iter().collect(), "value", v, timestamp)
                .map_err(|e| TelnetError::BadFloat(value.to_string(), e))?;
            Ok(Telnet::Put { point, bad_tags })
        }
        _ => Err(TelnetError::BadLine),
    }
}

/// Why a `/api/put` body was refused as a whole (HTTP 400 with InfluxDB's text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PutError {
    /// The body is empty.
    #[error("peek error: EOF")]
    Empty,
    /// Neither `[` nor `{` first.
    #[error("expected JSON array or hash")]
    NotJson,
    /// An array that does not decode.
    #[error("json array decode error")]
    Array,
    /// An object that does not decode.
    #[error("json object decode error")]
    Object,
}

#[derive(Debug, Deserialize)]
struct JsonPoint {
    #[serde(default)]
    metric: String,
    #[serde(default)]
    timestamp: i64,
    #[serde(default)]
    value: f64,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// The points of a `/api/put` body and one text per point dropped as invalid.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Put {
    /// Valid points, in body order.
    pub points: Vec<Point>,
    /// One reason per dropped point (InfluxDB logs and counts them, the request still
    /// succeeds).
    pub dropped: Vec<String>,
}

/// Parses a `/api/put` body: one JSON object or an array of them
/// (`{"metric","timestamp","value","tags"}`).
pub fn parse_put(body: &[u8]) -> Result<Put, PutError> {
    let first = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .ok_or(PutError::Empty)?;
    let points: Vec<JsonPoint> = match first {
        b'[' => serde_json::from_slice(body).map_err(|_| PutError::Array)?,
        b'{' => vec![serde_json::from_slice(body).map_err(|_| PutError::Object)?],
        _ => return Err(PutError::NotJson),
    };
    let mut out = Put::default();
    for p in points {
        let ts = if p.timestamp < 10_000_000_000 {
            unix_nanos(p.timestamp, 0)
        } else {
            unix_nanos(p.timestamp / 1000, (p.timestamp % 1000) * 1000)
        };
        let point = ts
            .ok_or_else(|| "time outside range".to_string())
            .and_then(|ts| {
                float_point(
                    &p.metric,
                    p.tags.into_iter().collect(),
                    "value",
                    p.value,
                    ts,
                )
            });
        match point {
            Ok(pt) => out.points.push(pt),
            Err(e) => out.dropped.push(format!("{}: {e}", p.metric)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hyperbyte_domain::FieldValue;
    use proptest::prelude::*;

    fn put(line: &str) -> (Point, usize) {
        match parse_telnet(line).unwrap() {
            Telnet::Put { point, bad_tags } => (point, bad_tags),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn telnet_put_maps_metric_tags_and_value() {
        let (p, bad) = put("put sys.cpu.user 1356998400 42.5 host=webserver01 cpu=0");
        assert_eq!(p.measurement, "sys.cpu.user");
        assert_eq!(
            p.tags,
            vec![
                ("cpu".to_string(), "0".to_string()),
                ("host".to_string(), "webserver01".to_string())
            ]
        );
        assert_eq!(
            p.fields,
            vec![("value".to_string(), FieldValue::Float(42.5))]
        );
        assert_eq!(p.timestamp, 1_356_998_400_000_000_000);
        assert_eq!(bad, 0);
    }

    #[test]
    fn telnet_times_follow_influxdb() {
        // 13 digits: the millisecond remainder lands as microseconds (InfluxDB's rule).
        assert_eq!(
            put("put m 1356998400123 1").0.timestamp,
            1_356_998_400_000_123_000
        );
        for bad in ["135699840", "13569984001", "x356998400", "13569984001234"] {
            assert_eq!(
                parse_telnet(&format!("put m {bad} 1")),
                Err(TelnetError::BadTime(bad.to_string()))
            );
        }
    }

    #[test]
    fn telnet_bad_lines_tags_and_values() {
        assert_eq!(parse_telnet(""), Ok(Telnet::Empty));
        assert_eq!(parse_telnet("version"), Ok(Telnet::Version));
        assert_eq!(parse_telnet("put m 1356998400"), Err(TelnetError::BadLine));
        assert_eq!(
            parse_telnet("get m 1356998400 1"),
            Err(TelnetError::BadLine)
        );
        // A malformed tag is skipped, the point kept.
        let (p, bad) = put("put m 1356998400 1 a=1 =x y= z b=c=d");
        assert_eq!(bad, 3);
        assert_eq!(
            p.tags,
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".to_string(), "c=d".to_string())
            ]
        );
        assert!(matches!(
            parse_telnet("put m 1356998400 abc"),
            Err(TelnetError::BadFloat(..))
        ));
        assert!(matches!(
            parse_telnet("put m 1356998400 NaN"),
            Err(TelnetError::BadFloat(..))
        ));
    }

    #[test]
    fn api_put_object_and_array() {
        let one = parse_put(
            br#"{"metric":"sys.cpu.nice","timestamp":1346846400,"value":18,"tags":{"host":"web01","dc":"lga"}}"#,
        )
        .unwrap();
        assert_eq!(one.points.len(), 1);
        let p = &one.points[0];
        assert_eq!(p.measurement, "sys.cpu.nice");
        assert_eq!(p.timestamp, 1_346_846_400_000_000_000);
        assert_eq!(p.tags.len(), 2);
        let many = parse_put(
            br#"[{"metric":"a","timestamp":1346846400123,"value":1.5},{"metric":"","timestamp":1,"value":2},{"metric":"b","timestamp":1346846400,"value":3,"tags":{"k":"v"},"extra":1}]"#,
        )
        .unwrap();
        assert_eq!(many.points.len(), 2);
        assert_eq!(many.points[0].timestamp, 1_346_846_400_000_123_000);
        assert_eq!(many.dropped.len(), 1);
    }

    #[test]
    fn api_put_refusals() {
        assert_eq!(parse_put(b""), Err(PutError::Empty));
        assert_eq!(parse_put(b"put x"), Err(PutError::NotJson));
        assert_eq!(parse_put(b"[1,2"), Err(PutError::Array));
        assert_eq!(parse_put(br#"{"value":"x"}"#), Err(PutError::Object));
    }

    proptest! {
        #[test]
        fn hostile_input_never_panics(line in "\\PC{0,200}", body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_telnet(&line);
            let _ = parse_telnet(&format!("put {line}"));
            let _ = parse_put(&body);
            let _ = parse_put(line.as_bytes());
        }
    }
}
