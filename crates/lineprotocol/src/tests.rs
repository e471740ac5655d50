//! Unit tests: every syntax rule and error text, checked against answers recorded from a
//! real InfluxDB 1.6; property tests for format→parse round trips and panic freedom.
#![allow(clippy::unwrap_used)]

use super::*;
use hyperbyte_domain::{FieldType, FieldValue as V, Precision};
use proptest::prelude::*;

const NS: Precision = Precision::Nanoseconds;

fn one(line: &str) -> Point {
    let p = parse(line.as_bytes(), NS, 42);
    assert!(p.errors.is_empty(), "{line:?}: {:?}", p.errors);
    assert_eq!(p.points.len(), 1, "{line:?}");
    p.points.into_iter().next().unwrap()
}

fn err(line: &str) -> String {
    let p = parse(line.as_bytes(), NS, 42);
    assert!(p.points.is_empty(), "{line:?} parsed: {:?}", p.points);
    assert_eq!(p.errors.len(), 1, "{line:?}: {:?}", p.errors);
    p.errors.into_iter().next().unwrap()
}

fn reason(line: &str) -> String {
    let e = err(line);
    let prefix = format!("unable to parse '{line}': ");
    assert!(e.starts_with(&prefix), "{e}");
    e[prefix.len()..].to_string()
}

fn tags(p: &Point) -> Vec<(&str, &str)> {
    p.tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn field<'a>(p: &'a Point, k: &str) -> &'a V {
    &p.fields.iter().find(|(n, _)| n == k).unwrap().1
}

#[test]
fn tsbs_line() {
    let p = one("cpu,hostname=host_12,region=eu-west-1,datacenter=eu-west-1b,rack=45,os=Ubuntu16.10,arch=x64,team=NYC,service=18,service_version=1,service_environment=staging usage_user=58.1317132304976,usage_system=2.6224297271376,usage_idle=24.9969495069172,usage_nice=61.4,usage_iowait=22.9,usage_irq=63.6,usage_softirq=6.3,usage_guest=80.8,usage_guest_nice=38.5,usage_steal=44.8 1451606400000000000");
    assert_eq!(p.measurement, "cpu");
    let keys: Vec<_> = p.tags.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(
        keys,
        [
            "arch",
            "datacenter",
            "hostname",
            "os",
            "rack",
            "region",
            "service",
            "service_environment",
            "service_version",
            "team"
        ]
    );
    assert_eq!(p.fields.len(), 10);
    assert_eq!(
        p.fields[0],
        ("usage_user".into(), V::Float(58.1317132304976))
    );
    assert_eq!(p.timestamp, 1451606400000000000);
    assert_eq!(p.series_key().0, "cpu,arch=x64,datacenter=eu-west-1b,hostname=host_12,os=Ubuntu16.10,rack=45,region=eu-west-1,service=18,service_environment=staging,service_version=1,team=NYC");
}

#[test]
fn field_types() {
    let p =
        one("m a=1,b=-1.5,c=1e3,d=-1.5E-2,e=0.000001,f=123456789.123,g=1.,h=.5,i=1E+5,j=1e-400 1");
    let floats = [
        1.0,
        -1.5,
        1000.0,
        -0.015,
        0.000001,
        123456789.123,
        1.0,
        0.5,
        1e5,
        0.0,
    ];
    for (i, f) in floats.iter().enumerate() {
        assert_eq!(p.fields[i].1, V::Float(*f));
    }
    let p = one("m i=1i,neg=-42i,big=9223372036854775807i,small=-9223372036854775808i,u=18446744073709551615u,z=0u 1");
    assert_eq!(*field(&p, "i"), V::Integer(1));
    assert_eq!(*field(&p, "neg"), V::Integer(-42));
    assert_eq!(*field(&p, "big"), V::Integer(i64::MAX));
    assert_eq!(*field(&p, "small"), V::Integer(i64::MIN));
    assert_eq!(*field(&p, "u"), V::Unsigned(u64::MAX));
    assert_eq!(*field(&p, "z"), V::Unsigned(0));
    let p = one("m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE 1");
    for (i, (_, v)) in p.fields.iter().enumerate() {
        assert_eq!(*v, V::Boolean(i < 5));
    }
    let p = one(r#"m s="true",n="1",e="" 1"#);
    assert_eq!(*field(&p, "s"), V::String("true".into()));
    assert_eq!(*field(&p, "n"), V::String("1".into()));
    assert_eq!(*field(&p, "e"), V::String(String::new()));
}

#[test]
fn string_escapes() {
    let p = one(r#"m s="quote \" and backslash \\ end \d" 1"#);
    assert_eq!(
        *field(&p, "s"),
        V::String(r#"quote " and backslash \ end \d"#.into())
    );
    let p = one("m s=\"line1\nline2\",t=\"a,b=c d\" 1");
    assert_eq!(*field(&p, "s"), V::String("line1\nline2".into()));
    assert_eq!(*field(&p, "t"), V::String("a,b=c d".into()));
    // A backslash-escaped newline inside a string keeps the backslash.
    let p = one("m v=\"a\\\nb\" 1");
    assert_eq!(*field(&p, "v"), V::String("a\\\nb".into()));
    // InfluxDB quirk: text after the closing quote is kept, the last byte dropped.
    let p = one(r#"m s="a"b 1"#);
    assert_eq!(*field(&p, "s"), V::String("a\"".into()));
}

#[test]
fn measurement_escapes() {
    assert_eq!(one(r"we\,ird,a=b v=1 1").measurement, "we,ird");
    assert_eq!(one(r"my\ meas v=1 1").measurement, "my meas");
    assert_eq!(one(r"a\=b v=1 1").measurement, "a=b");
    assert_eq!(one(r#"a\"b v=1 1"#).measurement, "a\"b");
    assert_eq!(one(r"a\b v=1 1").measurement, r"a\b");
    assert_eq!(one(r"a\\b v=1 1").measurement, r"a\\b");
    assert_eq!(one(r"\,a v=1 1").measurement, ",a");
    assert_eq!(one("a=b,t=1 v=1 1").measurement, "a=b");
    assert_eq!(one("température v=1 1").measurement, "température");
    assert_eq!(one("\tm v=1 1").measurement, "m");
    assert_eq!(one("\0m v=1 1").measurement, "m");
    assert_eq!(one("   m v=1 1").measurement, "m");
}

#[test]
fn tag_escapes() {
    let p = one(r"my\ meas,tag\,key=val\ ue\=x field\=k=1 1");
    assert_eq!(tags(&p), [("tag,key", "val ue=x")]);
    assert_eq!(p.fields[0].0, "field=k");
    assert_eq!(tags(&one(r"m,t=a\\b v=1 1")), [("t", r"a\\b")]);
    assert_eq!(tags(&one(r"m,t=c\d v=1 1")), [("t", r"c\d")]);
    assert_eq!(tags(&one(r#"m,t=x\"y v=1 1"#)), [("t", r#"x\"y"#)]);
    assert_eq!(tags(&one(r"m,t=x\\ y v=1 1")), [("t", r"x\ y")]);
    assert_eq!(tags(&one(r"m,t=x\\\ y v=1 1")), [("t", r"x\\ y")]);
    assert_eq!(tags(&one(r"m,k\\\=a=x\\\,y v=1 1")), [(r"k\\=a", r"x\\,y")]);
    assert_eq!(tags(&one(r"m,k=a\=b v=1 1")), [("k", "a=b")]);
    assert_eq!(tags(&one("m,t==x v=1 1")), [("t", "=x")]);
    assert_eq!(tags(&one("m,t=a\\\nb v=1 1")), [("t", "a\\\nb")]);
    assert_eq!(tags(&one("m,t=Zürich v=1 1")), [("t", "Zürich")]);
    assert_eq!(tags(&one("m,x=tag x=1 1")), [("x", "tag")]);
}

#[test]
fn field_key_escapes() {
    let p = one(r#"m field\ key=1,other\,k=2,eq\=k=3,a\"b=4,c\d=5,e\\f=6,g\\\ h=7 1"#);
    let keys: Vec<_> = p.fields.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        keys,
        [
            "field key",
            "other,k",
            "eq=k",
            "a\"b",
            r"c\d",
            r"e\\f",
            r"g\\ h"
        ]
    );
    // InfluxDB quirk: a tab before the first key is skipped, leaving an empty key.
    assert_eq!(one("m \t=1 1").fields[0].0, "");
    assert_eq!(one("m v=1,\t=2 1").fields[1].0, "\t");
}

#[test]
fn tags_sorted_and_duplicates() {
    let p = one("m,b=1,a=2,c=3 v=1 1");
    assert_eq!(tags(&p), [("a", "2"), ("b", "1"), ("c", "3")]);
    assert_eq!(p.series_key().0, "m,a=2,b=1,c=3");
    assert_eq!(reason("m,a=1,a=2 v=1 1"), "duplicate tags");
    assert_eq!(reason("m,b=1,a=1,b=2 v=1 1"), "duplicate tags");
    assert_eq!(reason("m,a=1,b=2,a=3 v=1 1"), "duplicate tags");
    // Escaped keys are ordered by their unescaped text.
    let p = one(r"m,a\ b=1,a!=2 v=1 1");
    assert_eq!(tags(&p), [("a b", "1"), ("a!", "2")]);
}

#[test]
fn duplicate_fields_last_wins() {
    let p = parse(b"m v=1,v=2 1", NS, 0);
    assert_eq!(p.points[0].fields, [("v".to_string(), V::Float(2.0))]);
    assert!(!p.duplicate_field_type_conflict);
    let p = parse(b"m v=1,w=2,v=3i 1", NS, 0);
    assert_eq!(
        p.points[0].fields,
        [
            ("v".to_string(), V::Integer(3)),
            ("w".to_string(), V::Float(2.0))
        ]
    );
    assert!(p.duplicate_field_type_conflict);
}

/// A repeat of another type keeps what InfluxDB checks: the first values' types up to
/// the repeat, then the repeat (`a` integer, `b` float, then `a` float).
#[test]
fn a_repeated_field_keeps_the_types_in_line_order() {
    let p = parse_refs(b"r a=1i,b=2,a=2,c=3,b=true 1", NS, 0);
    let r = &p.points[0];
    assert_eq!(
        r.checked_fields().collect::<Vec<_>>(),
        [
            (0, FieldType::Integer),
            (1, FieldType::Float),
            (0, FieldType::Float)
        ]
    );
    let plain = parse_refs(b"r a=1i,b=2,a=3i 1", NS, 0);
    assert!(plain.points[0].repeated_field.is_none());
    assert_eq!(
        plain.points[0].checked_fields().collect::<Vec<_>>(),
        [(0, FieldType::Integer), (1, FieldType::Float)]
    );
}

#[test]
fn timestamps_and_precision() {
    let at = |body: &str, pr: Precision, now: i64| {
        let p = parse(body.as_bytes(), pr, now);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        p.points[0].timestamp
    };
    assert_eq!(at("pm v=1 1577836805123456789", NS, 0), 1577836805123456789);
    assert_eq!(
        at("pm v=1 1577836805123456", Precision::Microseconds, 0),
        1577836805123456000
    );
    assert_eq!(
        at("pm v=1 1577836805123", Precision::Milliseconds, 0),
        1577836805123000000
    );
    assert_eq!(
        at("pm v=1 1577836805", Precision::Seconds, 0),
        1577836805000000000
    );
    assert_eq!(
        at("pm v=1 26297282", Precision::Minutes, 0),
        1577836920000000000
    );
    assert_eq!(
        at("pm v=1 438288", Precision::Hours, 0),
        1577836800000000000
    );
    assert_eq!(at("m v=1 -1000000000", NS, 0), -1000000000);
    assert_eq!(at("m v=1 -0", NS, 0), 0);
    assert_eq!(at("m v=1 0005", NS, 0), 5);
    assert_eq!(
        at("m v=1 -9223372036854775806", NS, 0),
        -9223372036854775806
    );
    assert_eq!(at("m v=1 9223372036854775806", NS, 0), 9223372036854775806);
    assert_eq!(
        at("m v=1 9223372036854775", Precision::Microseconds, 0),
        9223372036854775000
    );
    // Missing timestamp: the server time rounded down to the precision.
    let now = 1_795_621_843_123_456_789;
    assert_eq!(at("m v=1", NS, now), now);
    assert_eq!(
        at("m v=1", Precision::Microseconds, now),
        1_795_621_843_123_456_000
    );
    assert_eq!(
        at("m v=1", Precision::Milliseconds, now),
        1_795_621_843_123_000_000
    );
    assert_eq!(
        at("m v=1", Precision::Seconds, now),
        1_795_621_843_000_000_000
    );
    assert_eq!(
        at("m v=1", Precision::Minutes, now),
        1_795_621_800_000_000_000
    );
    assert_eq!(
        at("m v=1", Precision::Hours, now),
        1_795_618_800_000_000_000
    );
    assert_eq!(at("m v=1", Precision::Seconds, -1), -1_000_000_000);
    // Whitespace around the timestamp.
    assert_eq!(at("m v=1 1577836801000000000 ", NS, 0), 1577836801000000000);
    assert_eq!(at("m v=1  \t 7   ", NS, 0), 7);
    assert_eq!(at("m v=1 ", NS, 9), 9);
}

#[test]
fn lines_comments_blank_crlf() {
    let p = parse(
        b"# a comment\n\nm v=1 1\n   \n# another\n  # indented\n\t\nm v=2 2\n",
        NS,
        0,
    );
    assert!(p.errors.is_empty());
    assert_eq!(p.points.len(), 2);
    let p = parse(b"m v=1 1\r\nm v=2 2\r\n\r\nm v=3\r\nm s=\"x\"\r\n", NS, 5);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.points.len(), 4);
    assert_eq!(p.points[2].timestamp, 5);
    assert_eq!(p.points[3].fields[0].1, V::String("x".into()));
    // No trailing newline.
    assert_eq!(parse(b"m v=1 1\nm v=2 2", NS, 0).points.len(), 2);
    for empty in [&b""[..], b"\n\n", b"   ", b"# only\n\n  \n# c\n", b"\r\n"] {
        assert_eq!(parse(empty, NS, 0), Parsed::default());
    }
}

#[test]
fn partial_bodies() {
    let p = parse(
        b"m v=1 1577836801000000000\nm v=2 1577836802000000000\nm v=3 x y\nm v=4 1577836804000000000\n",
        NS,
        0,
    );
    assert_eq!(p.points.len(), 3);
    assert_eq!(p.errors, ["unable to parse 'm v=3 x y': bad timestamp"]);
    let p = parse(b"bad\nm v=3 x\n", NS, 0);
    assert_eq!(
        p.errors.join("\n"),
        "unable to parse 'bad': missing fields\nunable to parse 'm v=3 x': bad timestamp"
    );
    // An unbalanced quote swallows the rest of the body.
    let p = parse(b"m s=\"open 1\nm v=2 2\nm v=3 3\n", NS, 0);
    assert_eq!(
        p.errors,
        ["unable to parse 'm s=\"open 1\nm v=2 2\nm v=3 3': unbalanced quotes"]
    );
    let p = parse(b"  m,h= v=1 1\n", NS, 0);
    assert_eq!(
        p.errors,
        ["unable to parse 'm,h= v=1 1': missing tag value"]
    );
}

#[test]
fn error_texts() {
    let cases: &[(&str, &str)] = &[
        (",t=a v=1 1", "missing measurement"),
        ("m", "missing fields"),
        ("m,t=a", "missing fields"),
        ("m,t=a\\ ", "missing fields"),
        ("m,=a v=1 1", "missing tag key"),
        ("m, v=1 1", "missing tag key"),
        ("m,t=1, v=1 1", "missing tag key"),
        ("m,t v=1 1", "missing tag value"),
        ("m,h= v=1 1577836801000000000", "missing tag value"),
        ("m,t=1,u v=1 1", "missing tag value"),
        ("m,t=a=b v=1 1", "invalid tag format"),
        ("m,t=x\\ v=1 1", "invalid tag format"),
        ("m,t=a\\\\,b=c v=1 1", "invalid tag format"),
        ("m =1", "missing field key"),
        ("m v=1,=2", "missing field key"),
        ("m v= 1577836801000000000", "missing field value"),
        ("m v=", "missing field value"),
        ("m v=,w=1", "missing field value"),
        ("m ", "invalid field format"),
        ("m v", "invalid field format"),
        ("m v=1,w", "invalid field format"),
        ("m,h=a 1577836801000000000", "invalid field format"),
        ("m\\ v=1 1577836801000000000", "invalid field format"),
        ("m v=1,w=2, 1", "invalid field format"),
        ("m a\\\\ b=1 1", "invalid field format"),
        ("m s=\"open 1577836801000000000", "unbalanced quotes"),
        ("m v=12x3i 1577836801000000000", "invalid number"),
        ("m v=NaN 1577836801000000000", "invalid number"),
        ("m v=nan", "invalid number"),
        ("m v=n", "invalid number"),
        ("m v=-Inf", "invalid number"),
        ("m v=.", "invalid number"),
        ("m v=-", "invalid number"),
        ("m v=1i5", "invalid number"),
        ("m v=1.5i", "invalid number"),
        ("m v=1e5i", "invalid number"),
        ("m v=1.1.1", "invalid number"),
        ("m v=-5u 1", "invalid number"),
        ("m v=1.5u 1", "invalid number"),
        ("m v=1ii", "invalid number"),
        ("m v=1-5", "invalid number"),
        ("m v=1e400 1577836801000000000", "invalid float"),
        ("m v=1e", "invalid float"),
        ("m v=-e5", "invalid float"),
        ("m v=yes 1577836801000000000", "invalid boolean"),
        ("m v=Inf 1577836801000000000", "invalid boolean"),
        ("m v=tru", "invalid boolean"),
        ("m v=+5", "invalid boolean"),
        ("m v=truE", "invalid boolean"),
        ("m v=tRUE", "invalid boolean"),
        ("m v=1 1.5", "bad timestamp"),
        ("m v=2 12abc", "bad timestamp"),
        ("m v=1 +5", "bad timestamp"),
        ("m v=1 --5", "bad timestamp"),
        ("m v=1 123\tx", "bad timestamp"),
        ("m v=\"x\" 1.5", "bad timestamp"),
        ("m v=1 123 456", "point is invalid"),
        (
            "m v=1 9223372036854775807",
            "time outside range -9223372036854775806 - 9223372036854775806",
        ),
        (
            "m,t=x v=1 -9223372036854775807",
            "time outside range -9223372036854775806 - 9223372036854775806",
        ),
        (
            "m v=1 99999999999999999999",
            "strconv.ParseInt: parsing \"99999999999999999999\": value out of range",
        ),
        ("m v=1 -", "strconv.ParseInt: parsing \"-\": invalid syntax"),
        (
            "m i=9223372036854775808i 1577836801000000000",
            "unable to parse integer 9223372036854775808: strconv.ParseInt: parsing \"9223372036854775808\": value out of range",
        ),
        (
            "m v=-9223372036854775809i 1577836801000000000",
            "unable to parse integer -9223372036854775809: strconv.ParseInt: parsing \"-9223372036854775809\": value out of range",
        ),
        (
            "m v=18446744073709551616u 1",
            "unable to parse unsigned 18446744073709551616: strconv.ParseUint: parsing \"18446744073709551616\": value out of range",
        ),
        ("m a\\\\=1 1", "invalid value: field-key=a\\\\=1"),
    ];
    for (line, want) in cases {
        assert_eq!(reason(line), *want, "{line:?}");
    }
}

#[test]
fn precision_scaling_out_of_range() {
    let p = parse(b"m v=1 9223372036854775", Precision::Milliseconds, 0);
    assert_eq!(
        p.errors,
        ["unable to parse 'm v=1 9223372036854775': time outside range -9223372036854775806 - 9223372036854775806"]
    );
    let p = parse(b"m v=1 -9223372036854775", Precision::Milliseconds, 0);
    assert_eq!(p.errors.len(), 1);
}

#[test]
fn key_length_limits() {
    let ok = format!("{} v=1 1", "x".repeat(65530));
    assert_eq!(parse(ok.as_bytes(), NS, 0).points.len(), 1);
    let long = format!("{} v=1 1", "x".repeat(65536));
    assert!(err(&long).ends_with("': max key length exceeded: 65536 > 65535"));
    let long_field = format!("{} abcdef=1 1", "x".repeat(65530));
    assert!(err(&long_field).ends_with("': max key length exceeded: 65540 > 65535"));
}

#[test]
fn invalid_utf8_is_replaced() {
    let p = parse(b"m,t=\xff\xfe v=1 1\nbad\xff\n", NS, 0);
    assert_eq!(tags(&p.points[0]), [("t", "\u{fffd}\u{fffd}")]);
    assert_eq!(p.errors, ["unable to parse 'bad\u{fffd}': missing fields"]);
}

#[test]
fn fast_path_matches_exact_path_on_tsbs_and_edge_values() {
    let body = "cpu,hostname=host_12,region=eu-west-1,datacenter=eu-west-1b,rack=45,os=Ubuntu16.10,arch=x64,team=NYC,service=18,service_version=1,service_environment=staging usage_user=58.1317132304976,usage_system=2.6224297271376,usage_idle=24.9969495069172,usage_nice=61.4,usage_iowait=22.9 1451606400000000000
m a=1,b=-0,c=.5,d=1.,e=0000000000000000000001.5,f=12345678901234567890,g=9007199254740993,h=0.30000000000000004
m i=-9223372036854775808i,j=9223372036854775807i,k=18446744073709551615u,l=0u,n=-0i
m,t==x,a=1 b=t,c=T,d=true,e=True,f=TRUE,g=f,h=F,i=false,j=False,k=FALSE -5
m v=1,v=2i 3
m,b=1,a=2 v=1 1   
m v=1 1\t";
    for pr in [NS, Precision::Milliseconds] {
        assert_eq!(
            parse(body.as_bytes(), pr, 77),
            crate::parse::parse_exact_only(body.as_bytes(), pr, 77)
        );
    }
}

#[test]
fn parse_each_borrows() {
    let body = b"m,t=a v=1,s=\"x\" 5\nm,t=a\\ b v=2i 6\nbad\n";
    let mut seen = Vec::new();
    parse_each(body, NS, 0, |r| match r {
        Ok(p) => {
            let borrowed = matches!(p.tags[0].1, std::borrow::Cow::Borrowed(_));
            seen.push(format!("{} {} {}", p.measurement, p.tags[0].1, borrowed));
        }
        Err(bad) => seen.push(bad.to_string()),
    });
    assert_eq!(
        seen,
        [
            "m a true",
            "m a b false",
            "unable to parse 'bad': missing fields"
        ]
    );
}

#[test]
fn eight_digit_swar() {
    use crate::parse::eight_digits;
    assert_eq!(eight_digits(b"12345678", 0), Some(12_345_678));
    assert_eq!(eight_digits(b"x00000000", 1), Some(0));
    assert_eq!(eight_digits(b"99999999", 0), Some(99_999_999));
    assert_eq!(eight_digits(b"1234567", 0), None);
    for bad in [
        b"1234567:",
        b"/1234567",
        b"1234 678",
        b"12345.78",
        b"\xff2345678",
    ] {
        assert_eq!(eight_digits(bad, 0), None, "{bad:?}");
    }
    let mut x: u64 = 1;
    for _ in 0..200 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let s = format!("{:08}", x % 100_000_000);
        assert_eq!(eight_digits(s.as_bytes(), 0), Some(x % 100_000_000));
    }
}

#[test]
fn parse_line_api() {
    assert_eq!(
        parse_line(b"  m v=1", Precision::Seconds, 1_500_000_000)
            .unwrap()
            .timestamp,
        1_000_000_000
    );
    assert_eq!(parse_line(b"m", NS, 0), Err(LineError::MissingFields));
    assert_eq!(parse_line(b"", NS, 0), Err(LineError::MissingMeasurement));
}

fn point(m: &str, tags: &[(&str, &str)], fields: Vec<(&str, V)>, ts: i64) -> Point {
    Point {
        measurement: m.into(),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        fields: fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        timestamp: ts,
    }
}

#[test]
fn format_escapes() {
    let p = point(
        "my meas,x",
        &[("tag,key", "val ue=x")],
        vec![
            ("field=k", V::String("a \"q\" \\ b".into())),
            ("f k\"", V::Float(1.5)),
            ("i", V::Integer(-3)),
            ("u", V::Unsigned(7)),
            ("b", V::Boolean(true)),
            ("big", V::Float(1e300)),
            ("small", V::Float(-2.5e-9)),
            ("whole", V::Float(3.0)),
        ],
        -5,
    );
    let mut s = String::new();
    format_point(&p, &mut s);
    assert_eq!(
        s,
        "my\\ meas\\,x,tag\\,key=val\\ ue\\=x field\\=k=\"a \\\"q\\\" \\\\ b\",f\\ k\\\"=1.5,i=-3i,u=7u,b=true,big=1e300,small=-2.5e-9,whole=3 -5\n"
    );
    assert_eq!(parse(s.as_bytes(), NS, 0).points, [p]);

    // Backslashes before special characters survive.
    let p = point(
        r#"a\=b\"c\,d\x"#,
        &[(r"k\=", r"v\,w\=x")],
        vec![(r#"f\"g"#, V::Float(1.0))],
        1,
    );
    assert!(is_representable(&p));
    let mut s = String::new();
    format_point(&p, &mut s);
    assert_eq!(
        s,
        r#"a\\=b\\"c\\,d\x,k\\==v\\,w\\=x f\\"g=1 1"#.to_string() + "\n"
    );
    assert_eq!(parse(s.as_bytes(), NS, 0).points, [p]);
    let spaced = point(r"a\ b", &[], vec![("v", V::Float(1.0))], 1);
    assert!(!is_representable(&spaced));
}

#[test]
fn format_skips_unrepresentable() {
    let p = point(
        "m",
        &[("e", "")],
        vec![("nan", V::Float(f64::NAN)), ("v", V::Integer(1))],
        1,
    );
    let mut s = String::new();
    format_point(&p, &mut s);
    assert_eq!(s, "m v=1i 1\n");
    let p = point("m", &[], vec![("inf", V::Float(f64::INFINITY))], 1);
    let mut s = String::from("keep");
    format_point(&p, &mut s);
    assert_eq!(s, "keep");
    assert!(!is_representable(&p));
}

/// Characters that stress escaping: separators, quotes, backslashes, whitespace, unicode.
fn name_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(vec![
                ',', ' ', '=', '"', '\\', '#', '\t', '\r', '\0', 'é', '🚀', '\u{2028}', '\'', 'i', 'u', '-', '.', '0', 't',
            ]),
            3 => any::<char>(),
            3 => prop::char::range('a', 'z'),
        ],
        1..12,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn value_strategy() -> impl Strategy<Value = V> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(V::Float),
        prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(1e-5),
            Just(1e16),
            Just(f64::MIN_POSITIVE),
            Just(5e-324),
            Just(f64::MAX)
        ]
        .prop_map(V::Float),
        (-1e6f64..1e6).prop_map(V::Float),
        any::<i64>().prop_map(V::Integer),
        any::<u64>().prop_map(V::Unsigned),
        any::<bool>().prop_map(V::Boolean),
        any::<String>().prop_map(V::String),
        name_strategy().prop_map(V::String),
    ]
}

fn point_strategy() -> impl Strategy<Value = Point> {
    (
        name_strategy(),
        prop::collection::btree_map(name_strategy(), name_strategy(), 0..5),
        prop::collection::vec((name_strategy(), value_strategy()), 1..6),
        hyperbyte_domain::time::MIN_NANOS..=hyperbyte_domain::time::MAX_NANOS,
    )
        .prop_map(|(m, tags, fields, ts)| {
            let mut dedup: Vec<(String, V)> = Vec::new();
            for (k, v) in fields {
                if !dedup.iter().any(|(k2, _)| *k2 == k) {
                    dedup.push((k, v));
                }
            }
            Point {
                measurement: m,
                tags: tags.into_iter().collect(),
                fields: dedup,
                timestamp: ts,
            }
        })
        .prop_filter("representable", is_representable)
}

/// Cases per property (these are also the line-protocol fuzz targets of `cargo xtask
/// fuzz`): `HYPERBYTE_FUZZ_CASES`, else `PROPTEST_CASES`, else 2,000 (a few seconds).
fn cases() -> u32 {
    ["HYPERBYTE_FUZZ_CASES", "PROPTEST_CASES"]
        .iter()
        .find_map(|k| std::env::var(k).ok()?.parse().ok())
        .unwrap_or(2_000)
}

proptest! {
    // `point_strategy` filters out unrepresentable points (about two in three): allow
    // rejects in proportion to the case count, or large fuzz runs abort.
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_local_rejects: cases().saturating_mul(4).max(65_536),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_valid_bodies_never_panic(
        points in prop::collection::vec(point_strategy(), 1..4),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, any::<u8>()), 1..6),
    ) {
        let mut body = String::new();
        for p in &points {
            format_point(p, &mut body);
        }
        let mut bytes = body.into_bytes();
        for (at, kind, b) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 => bytes.insert(i, b),
                1 if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ if i < bytes.len() => {
                    bytes[i] = [b' ', b',', b'=', b'"', b'\\', b'\n', b'#', b'i', b'u', b'.', b'-', b'e', b]
                        [usize::from(b) % 13];
                }
                _ => {}
            }
        }
        for pr in [NS, Precision::Seconds] {
            let p = parse(&bytes, pr, 1_234_567_890_123);
            for e in &p.errors {
                prop_assert!(e.starts_with("unable to parse '"), "{e}");
            }
            let fast = crate::parse::parse_exact_only(&bytes, pr, 1_234_567_890_123);
            prop_assert_eq!(&p, &fast);
            let _ = crate::parse_refs(&bytes, pr, 0);
        }
    }

    #[test]
    fn format_parse_round_trip(points in prop::collection::vec(point_strategy(), 1..4)) {
        let mut body = String::new();
        for p in &points {
            format_point(p, &mut body);
        }
        let parsed = parse(body.as_bytes(), NS, 0);
        prop_assert!(parsed.errors.is_empty(), "{:?} from {:?}", parsed.errors, body);
        prop_assert_eq!(&parsed.points, &points, "body {:?}", body);
        for p in crate::parse_refs(body.as_bytes(), NS, 0).points {
            let want = hyperbyte_domain::series_hash(&p.measurement, &p.tags);
            prop_assert_eq!(p.series(), want);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..300)) {
        for pr in [NS, Precision::Hours] {
            let p = parse(&body, pr, i64::MAX);
            for pt in &p.points {
                prop_assert!(!pt.fields.is_empty());
                prop_assert!(pt.tags.windows(2).all(|w| w[0].0 < w[1].0));
            }
            for e in &p.errors {
                prop_assert!(e.starts_with("unable to parse '"));
            }
        }
    }

    #[test]
    fn fast_path_agrees_with_exact_path(
        lines in prop::collection::vec(
            prop::collection::vec(
                prop::sample::select(vec![
                    "m", "cpu", ",", ",", " ", " ", "=", "=", "a", "b", "host", "1", "12", "-", ".", "e",
                    "i", "u", "t", "F", "true", "False", "tRue", "9223372036854775807",
                    "9223372036854775808", "18446744073709551616", "12345678901234567890",
                    "0.1234567890123456789", "1e400", "N", "é", "\t", "#", "00", "\r",
                ]),
                0..25,
            ),
            1..5,
        )
    ) {
        let body = lines.iter().map(|l| l.concat()).collect::<Vec<_>>().join("\n");
        for pr in [NS, Precision::Seconds] {
            let fast = parse(body.as_bytes(), pr, 1_234_567_890_123);
            let exact = crate::parse::parse_exact_only(body.as_bytes(), pr, 1_234_567_890_123);
            prop_assert_eq!(&fast, &exact, "body {:?}", body);
            // A series hash the parser hands out is the one of the point's series.
            for p in crate::parse_refs(body.as_bytes(), pr, 0).points {
                if let Some(h) = p.series_hash {
                    prop_assert_eq!(h, hyperbyte_domain::series_hash(&p.measurement, &p.tags));
                }
            }
        }
    }

    #[test]
    fn line_like_bytes_never_panic(
        parts in prop::collection::vec(
            prop::sample::select(vec![
                "m", ",", " ", "=", "\"", "\\", "\n", "\r", "1", "-", ".", "e", "i", "u", "t", "true",
                "#", "\t", "9223372036854775808", "1e400", "N", "é", "\0",
            ]),
            0..40,
        )
    ) {
        let body: String = parts.concat();
        let _ = parse(body.as_bytes(), Precision::Minutes, i64::MIN);
        let _ = parse_line(body.as_bytes(), NS, 0);
    }
}

#[test]
fn truncate_near_i64_min_does_not_overflow() {
    for pr in [Precision::Minutes, Precision::Hours, Precision::Seconds, NS] {
        let t = crate::parse::truncate(i64::MIN, pr);
        assert_eq!(t.rem_euclid(pr.nanos()), 0, "{pr:?}");
        assert!(t - i64::MIN < pr.nanos(), "{pr:?}");
    }
    assert_eq!(
        crate::parse::truncate(-1, Precision::Seconds),
        -1_000_000_000
    );
}
