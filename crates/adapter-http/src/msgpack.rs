//! InfluxDB's MessagePack rendering of statement results (`Accept: application/x-msgpack`).
//!
//! Mirrors InfluxDB 1.8's `msgpackFormatter` (`services/httpd/response_writer.go`, written
//! with tinylib/msgp 1.0.2) byte for byte, except that tags come in key order where Go
//! iterates its map at random:
//!
//! * a document is a map of one key: `results` (an array) or `error` (a string);
//! * a failed statement is `{"error": text}` alone, without `statement_id`;
//! * a statement is `statement_id`, `messages` (only when there are some), `series` (always,
//!   possibly empty), `partial` (only when true), in that order;
//! * a series is `name` (when not empty), `tags` (when any), `columns`, `values` (both
//!   always), `partial` (only when true);
//! * floats are float64 (`3.0` stays a float), integers take msgp's smallest *signed*
//!   encoding (a positive `1000` is `int16`, not `uint16`), unsigned integers the smallest
//!   unsigned one;
//! * without `epoch=` a time is msgp's time extension: ext8, length 12, type 5, the UTC
//!   seconds (big-endian int64, floored) then the nanoseconds (big-endian int32, 0..1e9).
//!   With `epoch=` it is an integer in that unit, as in the JSON.
//!
//! Checked against a real InfluxDB 1.6.7, whose formatter is the same as 1.8's.

use crate::json::Epoch;
use hyperbyte_domain::query::{Series, StatementResult, Value};
use rmp::encode;
use std::io;

/// msgp's extension type of `time.Time`.
const TIME_EXTENSION: i8 = 5;

type Out = Vec<u8>;

fn len32(n: usize) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "too many items"))
}

fn str(out: &mut Out, s: &str) -> io::Result<()> {
    encode::write_str(out, s)?;
    Ok(())
}

fn map_len(out: &mut Out, n: usize) -> io::Result<()> {
    encode::write_map_len(out, len32(n)?)?;
    Ok(())
}

fn array_len(out: &mut Out, n: usize) -> io::Result<()> {
    encode::write_array_len(out, len32(n)?)?;
    Ok(())
}

/// An `int64` as msgp's `WriteInt64` writes it: non-negative values below 128 as positive
/// fixints, larger ones with the *signed* markers (`int16`, `int32`, `int64`).
fn int(out: &mut Out, i: i64) -> io::Result<()> {
    if i >= 0 {
        if i <= i64::from(i8::MAX) {
            encode::write_pfix(out, i as u8)?;
        } else if let Ok(v) = i16::try_from(i) {
            encode::write_i16(out, v)?;
        } else if let Ok(v) = i32::try_from(i) {
            encode::write_i32(out, v)?;
        } else {
            encode::write_i64(out, i)?;
        }
    } else if i >= -32 {
        encode::write_nfix(out, i as i8)?;
    } else if let Ok(v) = i8::try_from(i) {
        encode::write_i8(out, v)?;
    } else if let Ok(v) = i16::try_from(i) {
        encode::write_i16(out, v)?;
    } else if let Ok(v) = i32::try_from(i) {
        encode::write_i32(out, v)?;
    } else {
        encode::write_i64(out, i)?;
    }
    Ok(())
}

/// A time as msgp's `WriteTime`: seconds floored, nanoseconds in `0..1e9`.
fn time_ext(out: &mut Out, nanos: i64) -> io::Result<()> {
    let secs = nanos.div_euclid(1_000_000_000);
    let sub = nanos.rem_euclid(1_000_000_000) as i32;
    encode::write_ext_meta(out, 12, TIME_EXTENSION)?;
    out.extend_from_slice(&secs.to_be_bytes());
    out.extend_from_slice(&sub.to_be_bytes());
    Ok(())
}

fn value(out: &mut Out, v: &Value, epoch: Epoch) -> io::Result<()> {
    match v {
        Value::Null => encode::write_nil(out)?,
        Value::Time(t) => match epoch {
            Epoch::Rfc3339 => time_ext(out, *t)?,
            Epoch::Unit(p) => int(out, t / p.nanos())?,
        },
        Value::Float(f) => encode::write_f64(out, *f)?,
        Value::Integer(i) => int(out, *i)?,
        Value::Unsigned(u) => {
            encode::write_uint(out, *u)?;
        }
        Value::Boolean(b) => encode::write_bool(out, *b)?,
        Value::String(s) => str(out, s)?,
    }
    Ok(())
}

fn series(out: &mut Out, s: &Series, epoch: Epoch) -> io::Result<()> {
    let name = s.name.as_deref().filter(|n| !n.is_empty());
    let size =
        2 + usize::from(name.is_some()) + usize::from(!s.tags.is_empty()) + usize::from(s.partial);
    map_len(out, size)?;
    if let Some(name) = name {
        str(out, "name")?;
        str(out, name)?;
    }
    if !s.tags.is_empty() {
        str(out, "tags")?;
        map_len(out, s.tags.len())?;
        for (k, v) in &s.tags {
            str(out, k)?;
            str(out, v)?;
        }
    }
    str(out, "columns")?;
    array_len(out, s.columns.len())?;
    for c in &s.columns {
        str(out, c)?;
    }
    str(out, "values")?;
    array_len(out, s.values.len())?;
    for row in &s.values {
        array_len(out, row.len())?;
        for v in row {
            value(out, v, epoch)?;
        }
    }
    if s.partial {
        str(out, "partial")?;
        encode::write_bool(out, true)?;
    }
    Ok(())
}

fn result(out: &mut Out, r: &StatementResult, epoch: Epoch) -> io::Result<()> {
    if let Some(e) = &r.error {
        map_len(out, 1)?;
        str(out, "error")?;
        return str(out, e);
    }
    let size = 2 + usize::from(!r.messages.is_empty()) + usize::from(r.partial);
    map_len(out, size)?;
    str(out, "statement_id")?;
    int(out, i64::try_from(r.statement_id).unwrap_or(i64::MAX))?;
    if !r.messages.is_empty() {
        str(out, "messages")?;
        array_len(out, r.messages.len())?;
        for m in &r.messages {
            map_len(out, 2)?;
            str(out, "level")?;
            str(out, &m.level)?;
            str(out, "text")?;
            str(out, &m.text)?;
        }
    }
    str(out, "series")?;
    array_len(out, r.series.len())?;
    for s in &r.series {
        series(out, s, epoch)?;
    }
    if r.partial {
        str(out, "partial")?;
        encode::write_bool(out, true)?;
    }
    Ok(())
}

/// Appends one `{"results": [...]}` document to `out` (a chunked response is one document
/// per chunk, back to back, as InfluxDB writes them).
pub(crate) fn render_results(
    out: &mut Vec<u8>,
    results: &[StatementResult],
    epoch: Epoch,
) -> io::Result<()> {
    map_len(out, 1)?;
    str(out, "results")?;
    array_len(out, results.len())?;
    for r in results {
        result(out, r, epoch)?;
    }
    Ok(())
}

/// Renders `{"error": "..."}`.
pub(crate) fn render_error(msg: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 16);
    // Writing into a Vec cannot fail, and a message is far below 4 GiB.
    let _ = map_len(&mut out, 1)
        .and_then(|_| str(&mut out, "error"))
        .and_then(|_| str(&mut out, msg));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{render_results as render_json, RenderOptions};
    use hyperbyte_domain::query::Message;
    use hyperbyte_domain::Precision;
    use rmpv::Value as M;

    fn decode(bytes: &[u8]) -> M {
        let mut rd = bytes;
        let v = rmpv::decode::read_value(&mut rd).unwrap();
        assert!(rd.is_empty(), "trailing bytes after one document");
        v
    }

    fn get<'a>(m: &'a M, key: &str) -> Option<&'a M> {
        m.as_map()
            .unwrap()
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    fn keys(m: &M) -> Vec<&str> {
        m.as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str().unwrap())
            .collect()
    }

    /// Converts a decoded document into JSON the way a client would read it (times as RFC
    /// 3339 through the given function), to compare with our JSON rendering.
    fn to_json(v: &M, time: &dyn Fn(i64, u32) -> serde_json::Value) -> serde_json::Value {
        match v {
            M::Nil => serde_json::Value::Null,
            M::Boolean(b) => (*b).into(),
            M::Integer(i) => match i.as_i64() {
                Some(i) => i.into(),
                None => i.as_u64().unwrap().into(),
            },
            M::F64(f) => serde_json::Number::from_f64(*f).unwrap().into(),
            M::String(s) => s.as_str().unwrap().into(),
            M::Array(a) => a.iter().map(|x| to_json(x, time)).collect(),
            M::Map(m) => {
                let mut o = serde_json::Map::new();
                for (k, v) in m {
                    o.insert(k.as_str().unwrap().to_string(), to_json(v, time));
                }
                o.into()
            }
            M::Ext(5, data) => {
                assert_eq!(data.len(), 12);
                let s = i64::from_be_bytes(data[..8].try_into().unwrap());
                let n = u32::from_be_bytes(data[8..].try_into().unwrap());
                time(s, n)
            }
            other => panic!("unexpected msgpack value {other:?}"),
        }
    }

    fn numbers_as_f64(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
            serde_json::Value::Array(a) => a.into_iter().map(numbers_as_f64).collect(),
            serde_json::Value::Object(o) => o
                .into_iter()
                .map(|(k, v)| (k, numbers_as_f64(v)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            other => other,
        }
    }

    fn sample() -> Vec<StatementResult> {
        let mut tags = std::collections::BTreeMap::new();
        tags.insert("host".to_string(), "a".to_string());
        tags.insert("region".to_string(), "x".to_string());
        vec![
            StatementResult {
                statement_id: 0,
                series: vec![Series {
                    name: Some("cpu".into()),
                    tags,
                    columns: vec![
                        "time".into(),
                        "f".into(),
                        "i".into(),
                        "u".into(),
                        "b".into(),
                        "s".into(),
                        "n".into(),
                    ],
                    values: vec![
                        vec![
                            Value::Time(1_000_000_000),
                            Value::Float(3.0),
                            Value::Integer(4),
                            Value::Unsigned(u64::MAX),
                            Value::Boolean(true),
                            Value::String("hi, there".into()),
                            Value::Null,
                        ],
                        vec![
                            Value::Time(2_000_000_123),
                            Value::Float(-2.5),
                            Value::Integer(-40_000),
                            Value::Unsigned(7),
                            Value::Boolean(false),
                            Value::String(String::new()),
                            Value::Null,
                        ],
                    ],
                    partial: false,
                }],
                messages: vec![Message {
                    level: "warning".into(),
                    text: "deprecated".into(),
                }],
                ..Default::default()
            },
            StatementResult {
                statement_id: 1,
                ..Default::default()
            },
            StatementResult::error(2, "database not found: nope"),
        ]
    }

    fn render(results: &[StatementResult], epoch: Epoch) -> Vec<u8> {
        let mut out = Vec::new();
        render_results(&mut out, results, epoch).unwrap();
        out
    }

    #[test]
    fn structure_follows_influxdb() {
        let doc = decode(&render(&sample(), Epoch::Rfc3339));
        assert_eq!(keys(&doc), ["results"]);
        let results = get(&doc, "results").unwrap().as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(keys(&results[0]), ["statement_id", "messages", "series"]);
        // A statement without series still carries an empty `series` array.
        assert_eq!(keys(&results[1]), ["statement_id", "series"]);
        assert_eq!(
            get(&results[1], "series")
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            0
        );
        // A failed statement is its error alone, as InfluxDB writes it.
        assert_eq!(keys(&results[2]), ["error"]);
        let s = &get(&results[0], "series").unwrap().as_array().unwrap()[0];
        assert_eq!(keys(s), ["name", "tags", "columns", "values"]);
    }

    #[test]
    fn value_types_survive() {
        let doc = decode(&render(&sample(), Epoch::Rfc3339));
        let results = get(&doc, "results").unwrap().as_array().unwrap();
        let s = &get(&results[0], "series").unwrap().as_array().unwrap()[0];
        let rows = get(s, "values").unwrap().as_array().unwrap();
        let r0 = rows[0].as_array().unwrap();
        // A whole float stays a float.
        assert!(matches!(r0[1], M::F64(f) if f == 3.0));
        assert_eq!(r0[2].as_i64(), Some(4));
        assert_eq!(r0[3].as_u64(), Some(u64::MAX));
        assert_eq!(r0[4].as_bool(), Some(true));
        assert_eq!(r0[5].as_str(), Some("hi, there"));
        assert!(r0[6].is_nil());
        let r1 = rows[1].as_array().unwrap();
        assert!(matches!(r1[1], M::F64(f) if f == -2.5));
        assert_eq!(r1[2].as_i64(), Some(-40_000));
        assert_eq!(r1[5].as_str(), Some(""));
        // Times are msgp's time extension without epoch=.
        match &r1[0] {
            M::Ext(5, data) => {
                assert_eq!(&data[..8], &2i64.to_be_bytes());
                assert_eq!(&data[8..], &123i32.to_be_bytes());
            }
            other => panic!("time encoded as {other:?}"),
        }
    }

    #[test]
    fn same_document_as_json() {
        let results = sample();
        fn rfc3339(s: i64, n: u32) -> serde_json::Value {
            hyperbyte_domain::time::format_rfc3339(s * 1_000_000_000 + i64::from(n)).into()
        }
        fn no_ext(_: i64, _: u32) -> serde_json::Value {
            panic!("no time extension with epoch=")
        }
        type TimeToJson = fn(i64, u32) -> serde_json::Value;
        let cases: [(Epoch, TimeToJson); 3] = [
            (Epoch::Rfc3339, rfc3339),
            (Epoch::Unit(Precision::Milliseconds), no_ext),
            (Epoch::Unit(Precision::Nanoseconds), no_ext),
        ];
        for (epoch, time) in cases {
            let doc = to_json(&decode(&render(&results, epoch)), &time);
            let json: serde_json::Value = serde_json::from_str(&render_json(
                &results,
                RenderOptions {
                    epoch,
                    pretty: false,
                },
            ))
            .unwrap();
            // Same content except InfluxDB's msgpack quirks: an empty `series` array is
            // written, and a failed statement has no `statement_id`.
            let mut json = json;
            let rs = json["results"].as_array_mut().unwrap();
            rs[1]["series"] = serde_json::json!([]);
            rs[2].as_object_mut().unwrap().remove("statement_id");
            // JSON cannot tell 3.0 from 3 (`value_types_survive` checks the kinds), so
            // numbers are compared by value.
            assert_eq!(numbers_as_f64(doc), numbers_as_f64(json), "epoch {epoch:?}");
        }
    }

    #[test]
    fn epoch_times_are_integers() {
        let doc = decode(&render(&sample(), Epoch::Unit(Precision::Milliseconds)));
        let results = get(&doc, "results").unwrap().as_array().unwrap();
        let s = &get(&results[0], "series").unwrap().as_array().unwrap()[0];
        let rows = get(s, "values").unwrap().as_array().unwrap();
        assert_eq!(rows[0].as_array().unwrap()[0].as_i64(), Some(1000));
        assert_eq!(rows[1].as_array().unwrap()[0].as_i64(), Some(2000));
    }

    /// The bytes InfluxDB 1.6.7 answered for `SELECT * FROM cpu GROUP BY host` over
    /// `cpu,host=a f=3,i=4i,... 1000000000`-style points (start of the document), and its
    /// integer and time encodings.
    #[test]
    fn bytes_match_influxdb() {
        let mut out = Vec::new();
        int(&mut out, 1000).unwrap();
        assert_eq!(out, [0xd1, 0x03, 0xe8]); // int16, not uint16
        out.clear();
        int(&mut out, -40_000).unwrap();
        assert_eq!(out, [0xd2, 0xff, 0xff, 0x63, 0xc0]);
        out.clear();
        int(&mut out, 4).unwrap();
        assert_eq!(out, [0x04]);
        out.clear();
        int(&mut out, -3).unwrap();
        assert_eq!(out, [0xfd]);
        out.clear();
        int(&mut out, 200).unwrap();
        assert_eq!(out, [0xd1, 0x00, 0xc8]);
        out.clear();
        time_ext(&mut out, -3_000_000_001).unwrap();
        assert_eq!(
            out,
            [
                0xc7, 0x0c, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc, 0x3b, 0x9a, 0xc9,
                0xff
            ]
        );
        out.clear();
        encode::write_f64(&mut out, 3.0).unwrap();
        assert_eq!(out, [0xcb, 0x40, 0x08, 0, 0, 0, 0, 0, 0]);

        // `SHOW DATABASES` with one database, statement 2.
        let r = StatementResult {
            statement_id: 2,
            series: vec![Series {
                name: Some("databases".into()),
                columns: vec!["name".into()],
                values: vec![vec![Value::String("fm".into())]],
                ..Default::default()
            }],
            ..Default::default()
        };
        let expected: &[u8] = b"\x81\xa7results\x91\x82\xacstatement_id\x02\xa6series\x91\x83\xa4name\xa9databases\xa7columns\x91\xa4name\xa6values\x91\x91\xa2fm";
        assert_eq!(render(&[r], Epoch::Rfc3339), expected);
    }

    fn unhex(parts: &[&str]) -> Vec<u8> {
        let h: String = parts.concat();
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    }

    /// InfluxDB 1.6.7's answer, byte for byte, to `SELECT * FROM cpu GROUP BY host; SELECT
    /// f FROM nosuch; SHOW DATABASES; SELECT mean(f) FROM cpu WHERE time > 5 AND time < 4s
    /// GROUP BY time(1s); SELECT f FROM cpu WHERE time > now() - 10m AND time < now() - 20m`
    /// over `cpu,host=a,region=x f=3,i=4i,s="hi, there",b=true 1000000000`,
    /// `cpu,host=a,region=x f=2.5,i=-40000i 2000000123`, `cpu,host=b g=1 3000000000` and
    /// `cpu,host=b g=1 -3000000001`, without and with `epoch=ms`.
    #[test]
    fn whole_document_matches_influxdb() {
        let cols: Vec<String> = ["time", "b", "f", "g", "i", "region", "s"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        let host = |h: &str| [("host".to_string(), h.to_string())].into_iter().collect();
        let n = || Value::Null;
        let results = vec![
            StatementResult {
                statement_id: 0,
                series: vec![
                    Series {
                        name: Some("cpu".into()),
                        tags: host("a"),
                        columns: cols.clone(),
                        values: vec![
                            vec![
                                Value::Time(1_000_000_000),
                                Value::Boolean(true),
                                Value::Float(3.0),
                                n(),
                                Value::Integer(4),
                                Value::String("x".into()),
                                Value::String("hi, there".into()),
                            ],
                            vec![
                                Value::Time(2_000_000_123),
                                n(),
                                Value::Float(2.5),
                                n(),
                                Value::Integer(-40_000),
                                Value::String("x".into()),
                                n(),
                            ],
                        ],
                        partial: false,
                    },
                    Series {
                        name: Some("cpu".into()),
                        tags: host("b"),
                        columns: cols.clone(),
                        values: vec![
                            vec![
                                Value::Time(-3_000_000_001),
                                n(),
                                n(),
                                Value::Float(1.0),
                                n(),
                                n(),
                                n(),
                            ],
                            vec![
                                Value::Time(3_000_000_000),
                                n(),
                                n(),
                                Value::Float(1.0),
                                n(),
                                n(),
                                n(),
                            ],
                        ],
                        partial: false,
                    },
                ],
                ..Default::default()
            },
            StatementResult {
                statement_id: 1,
                ..Default::default()
            },
            StatementResult {
                statement_id: 2,
                series: vec![Series {
                    name: Some("databases".into()),
                    columns: vec!["name".into()],
                    values: vec![vec![Value::String("fm".into())]],
                    ..Default::default()
                }],
                ..Default::default()
            },
            StatementResult {
                statement_id: 3,
                series: vec![Series {
                    name: Some("cpu".into()),
                    columns: vec!["time".into(), "mean".into()],
                    values: vec![
                        vec![Value::Time(0), n()],
                        vec![Value::Time(1_000_000_000), Value::Float(3.0)],
                        vec![Value::Time(2_000_000_000), Value::Float(2.5)],
                        vec![Value::Time(3_000_000_000), n()],
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            },
            StatementResult {
                statement_id: 4,
                ..Default::default()
            },
        ];
        let plain = unhex(&[
            "81a7726573756c74739582ac73746174656d656e745f696400a67365726965739284a46e616d65a3",
            "637075a47461677381a4686f7374a161a7636f6c756d6e7397a474696d65a162a166a167a169a672",
            "6567696f6ea173a676616c7565739297c70c05000000000000000100000000c3cb40080000000000",
            "00c004a178a968692c20746865726597c70c0500000000000000020000007bc0cb40040000000000",
            "00c0d2ffff63c0a178c084a46e616d65a3637075a47461677381a4686f7374a162a7636f6c756d6e",
            "7397a474696d65a162a166a167a169a6726567696f6ea173a676616c7565739297c70c05ffffffff",
            "fffffffc3b9ac9ffc0c0cb3ff0000000000000c0c0c097c70c05000000000000000300000000c0c0",
            "cb3ff0000000000000c0c0c082ac73746174656d656e745f696401a67365726965739082ac737461",
            "74656d656e745f696402a67365726965739183a46e616d65a9646174616261736573a7636f6c756d",
            "6e7391a46e616d65a676616c7565739191a2666d82ac73746174656d656e745f696403a673657269",
            "65739183a46e616d65a3637075a7636f6c756d6e7392a474696d65a46d65616ea676616c75657394",
            "92c70c05000000000000000000000000c092c70c05000000000000000100000000cb400800000000",
            "000092c70c05000000000000000200000000cb400400000000000092c70c05000000000000000300",
            "000000c082ac73746174656d656e745f696404a673657269657390",
        ]);
        assert_eq!(render(&results, Epoch::Rfc3339), plain);
        let ms = unhex(&[
            "81a7726573756c74739582ac73746174656d656e745f696400a67365726965739284a46e616d65a3",
            "637075a47461677381a4686f7374a161a7636f6c756d6e7397a474696d65a162a166a167a169a672",
            "6567696f6ea173a676616c7565739297d103e8c3cb4008000000000000c004a178a968692c207468",
            "65726597d107d0c0cb4004000000000000c0d2ffff63c0a178c084a46e616d65a3637075a4746167",
            "7381a4686f7374a162a7636f6c756d6e7397a474696d65a162a166a167a169a6726567696f6ea173",
            "a676616c7565739297d1f448c0c0cb3ff0000000000000c0c0c097d10bb8c0c0cb3ff00000000000",
            "00c0c0c082ac73746174656d656e745f696401a67365726965739082ac73746174656d656e745f69",
            "6402a67365726965739183a46e616d65a9646174616261736573a7636f6c756d6e7391a46e616d65",
            "a676616c7565739191a2666d82ac73746174656d656e745f696403a67365726965739183a46e616d",
            "65a3637075a7636f6c756d6e7392a474696d65a46d65616ea676616c756573949200c092d103e8cb",
            "400800000000000092d107d0cb400400000000000092d10bb8c082ac73746174656d656e745f6964",
            "04a673657269657390",
        ]);
        assert_eq!(render(&results, Epoch::Unit(Precision::Milliseconds)), ms);
    }

    #[test]
    fn partial_flags() {
        let r = StatementResult {
            statement_id: 0,
            partial: true,
            series: vec![Series {
                name: Some("m".into()),
                columns: vec!["time".into(), "v".into()],
                values: vec![vec![Value::Time(1_000_000_000), Value::Float(1.0)]],
                partial: true,
                ..Default::default()
            }],
            ..Default::default()
        };
        // InfluxDB 1.6.7, `SELECT v FROM m LIMIT 2` with chunked=true&chunk_size=1, first
        // chunk.
        let expected: &[u8] = b"\x81\xa7results\x91\x83\xacstatement_id\x00\xa6series\x91\x84\xa4name\xa1m\xa7columns\x92\xa4time\xa1v\xa6values\x91\x92\xc7\x0c\x05\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00\xa7partial\xc3\xa7partial\xc3";
        assert_eq!(render(&[r], Epoch::Rfc3339), expected);
    }

    #[test]
    fn error_document() {
        let bytes = render_error("error parsing query: found EOF");
        assert_eq!(&bytes[..7], b"\x81\xa5error");
        let doc = decode(&bytes);
        assert_eq!(
            get(&doc, "error").unwrap().as_str(),
            Some("error parsing query: found EOF")
        );
    }
}
