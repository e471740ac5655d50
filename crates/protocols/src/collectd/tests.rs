#![allow(clippy::unwrap_used)]
use super::*;
use hyperbyte_domain::FieldValue;
use proptest::prelude::*;

const TYPES: &str = "# comment\n\
load\t\tshortterm:GAUGE:0:5000, midterm:GAUGE:0:5000, longterm:GAUGE:0:5000\n\
memory\t\tvalue:GAUGE:0:281474976710656\n\
cpu\t\tvalue:DERIVE:0:U\n\
if_octets\trx:DERIVE:0:U, tx:DERIVE:0:U\n";

fn string(kind: u16, s: &str) -> Vec<u8> {
    let mut v = kind.to_be_bytes().to_vec();
    v.extend(((s.len() + 5) as u16).to_be_bytes());
    v.extend(s.as_bytes());
    v.push(0);
    v
}

fn number(kind: u16, n: u64) -> Vec<u8> {
    let mut v = kind.to_be_bytes().to_vec();
    v.extend(12u16.to_be_bytes());
    v.extend(n.to_be_bytes());
    v
}

/// A values part: (kind, raw 8 bytes).
fn values(vals: &[(u8, [u8; 8])]) -> Vec<u8> {
    let mut v = PART_VALUES.to_be_bytes().to_vec();
    v.extend(((6 + 9 * vals.len()) as u16).to_be_bytes());
    v.extend((vals.len() as u16).to_be_bytes());
    v.extend(vals.iter().map(|(k, _)| *k));
    for (_, raw) in vals {
        v.extend(raw);
    }
    v
}

fn gauge(f: f64) -> (u8, [u8; 8]) {
    (1, f.to_le_bytes())
}

fn load_packet() -> Vec<u8> {
    let mut p = string(PART_HOST, "web01");
    p.extend(number(PART_TIME_HR, 1_700_000_000u64 << 30 | 1 << 29));
    p.extend(number(PART_INTERVAL_HR, 10 << 30));
    p.extend(string(PART_PLUGIN, "load"));
    p.extend(string(PART_PLUGIN_INSTANCE, ""));
    p.extend(string(PART_TYPE, "load"));
    p.extend(string(PART_TYPE_INSTANCE, ""));
    p.extend(values(&[gauge(0.5), gauge(0.25), gauge(0.125)]));
    // Same host and time, next plugin: only the changed parts are sent.
    p.extend(string(PART_PLUGIN, "memory"));
    p.extend(string(PART_TYPE, "memory"));
    p.extend(string(PART_TYPE_INSTANCE, "used"));
    p.extend(values(&[gauge(1024.0)]));
    p.extend(string(PART_PLUGIN, "cpu"));
    p.extend(string(PART_PLUGIN_INSTANCE, "0"));
    p.extend(string(PART_TYPE, "cpu"));
    p.extend(string(PART_TYPE_INSTANCE, "user"));
    p.extend(values(&[(2, 42i64.to_be_bytes())]));
    p
}

fn tags(kv: &[(&str, &str)]) -> Vec<(String, String)> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn maps_value_lists_as_influxdb_does() {
    let db = TypesDb::parse(TYPES).unwrap();
    assert_eq!(db.len(), 4);
    let d = decode(&load_packet(), &db, 0).unwrap();
    let names: Vec<&str> = d.points.iter().map(|p| p.measurement.as_str()).collect();
    assert_eq!(
        names,
        [
            "load_shortterm",
            "load_midterm",
            "load_longterm",
            "memory_value",
            "cpu_value"
        ]
    );
    let t = 1_700_000_000_500_000_000;
    assert!(d.points.iter().all(|p| p.timestamp == t));
    assert_eq!(
        d.points[0].tags,
        tags(&[("host", "web01"), ("type", "load")])
    );
    assert_eq!(
        d.points[0].fields,
        vec![("value".to_string(), FieldValue::Float(0.5))]
    );
    assert_eq!(
        d.points[3].tags,
        tags(&[
            ("host", "web01"),
            ("type", "memory"),
            ("type_instance", "used")
        ])
    );
    assert_eq!(
        d.points[4].tags,
        tags(&[
            ("host", "web01"),
            ("instance", "0"),
            ("type", "cpu"),
            ("type_instance", "user")
        ])
    );
    assert_eq!(
        d.points[4].fields,
        vec![("value".to_string(), FieldValue::Float(42.0))]
    );
}

#[test]
fn unknown_types_and_wrong_counts_are_skipped() {
    let db = TypesDb::parse(TYPES).unwrap();
    let mut p = string(PART_PLUGIN, "x");
    p.extend(string(PART_TYPE, "nosuch"));
    p.extend(values(&[gauge(1.0)]));
    p.extend(string(PART_TYPE, "load"));
    p.extend(values(&[gauge(1.0)]));
    p.extend(string(PART_TYPE, "memory"));
    p.extend(values(&[gauge(f64::NAN)]));
    p.extend(values(&[gauge(3.0)]));
    let d = decode(&p, &db, 99).unwrap();
    assert_eq!(d.skipped.len(), 2);
    assert_eq!(d.invalid.len(), 1);
    assert_eq!(d.points.len(), 1);
    // No time part: now.
    assert_eq!(d.points[0].timestamp, 99);
    assert_eq!(d.points[0].measurement, "x_value");
}

#[test]
fn malformed_parts_drop_the_packet() {
    let db = TypesDb::parse(TYPES).unwrap();
    let good = load_packet();
    // Truncated anywhere inside a part.
    for cut in 1..good.len() {
        let r = decode(&good[..cut], &db, 0);
        if let Ok(d) = &r {
            // A cut on a part boundary is a shorter valid packet.
            assert!(d.points.len() <= 5);
        }
    }
    assert_eq!(decode(&[0, 0, 0, 4], &db, 0), Err(PacketError::Length(4)));
    assert_eq!(
        decode(&[0, 0, 0, 9, b'a'], &db, 0),
        Err(PacketError::Length(9))
    );
    // A string without its NUL.
    assert_eq!(
        decode(&[0, 0, 0, 6, b'a', b'b'], &db, 0),
        Err(PacketError::Invalid("string"))
    );
    // A values part whose count disagrees with its length.
    let mut v = values(&[gauge(1.0)]);
    v[5] = 2;
    assert_eq!(decode(&v, &db, 0), Err(PacketError::Invalid("values")));
}

#[test]
fn types_db_refuses_bad_lines() {
    assert!(TypesDb::parse("x value:GAUGE:0\n").is_err());
    assert!(TypesDb::parse("x value:FLOAT:0:1\n").is_err());
    assert!(TypesDb::parse("x\n").is_err());
    let db = TypesDb::parse("a v:GAUGE:0:U,w:COUNTER:0:U\n").unwrap();
    assert_eq!(db.sources("a").unwrap().len(), 2);
}

#[test]
fn the_debian_types_db_parses_when_present() {
    if let Ok(text) = std::fs::read_to_string("/usr/share/collectd/types.db") {
        let db = TypesDb::parse(&text).unwrap();
        assert!(db.sources("load").is_some());
        assert!(db.len() > 100);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]
    #[test]
    fn hostile_packets_never_panic(p in proptest::collection::vec(any::<u8>(), 0..600)) {
        let db = TypesDb::parse(TYPES).unwrap();
        let _ = decode(&p, &db, 0);
    }

    #[test]
    fn mutated_packets_never_panic(i in 0usize..200, b in any::<u8>()) {
        let db = TypesDb::parse(TYPES).unwrap();
        let mut p = load_packet();
        let n = p.len();
        p[i % n] = b;
        let _ = decode(&p, &db, 0);
    }

    #[test]
    fn hostile_types_db_never_panics(text in "\\PC{0,300}") {
        let _ = TypesDb::parse(&text);
    }
}
