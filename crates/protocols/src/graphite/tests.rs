#![allow(clippy::unwrap_used)]
use super::*;
use hyperbyte_domain::FieldValue;
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000_000_000_000;

fn parser(templates: &[&str], sep: &str, tags: &[&str]) -> Parser {
    Parser::new(&Options {
        separator: sep.into(),
        templates: templates.iter().map(|s| s.to_string()).collect(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
    })
    .unwrap()
}

/// (measurement, tags, field, value, time) of one line.
fn one(p: &Parser, line: &str) -> (String, Vec<(String, String)>, String, f64, i64) {
    let pt = p.parse_line(line, NOW).unwrap().unwrap();
    let (f, v) = pt.fields[0].clone();
    let FieldValue::Float(v) = v else {
        panic!("not a float")
    };
    (pt.measurement, pt.tags, f, v, pt.timestamp)
}

fn tags(kv: &[(&str, &str)]) -> Vec<(String, String)> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn default_layout_is_the_whole_path() {
    let p = parser(&[], "", &[]);
    let (m, t, f, v, ts) = one(&p, "servers.localhost.cpu.loadavg.10 1.5 1435077219");
    assert_eq!(m, "servers.localhost.cpu.loadavg.10");
    assert!(t.is_empty());
    assert_eq!(
        (f.as_str(), v, ts),
        ("value", 1.5, 1_435_077_219_000_000_000)
    );
    // No time (or -1): now.
    assert_eq!(one(&p, "a.b 2").4, NOW);
    assert_eq!(one(&p, "a.b 2 -1").4, NOW);
    // The built-in default keeps `.` even with another separator.
    let p = parser(&[], "_", &[]);
    assert_eq!(one(&p, "a.b.c 1").0, "a.b.c");
}

#[test]
fn tags_and_greedy_measurement() {
    let p = parser(&[".host.resource.measurement*"], "", &[]);
    let (m, t, ..) = one(&p, "servers.localhost.cpu.loadavg.10 1");
    assert_eq!(m, "loadavg.10");
    assert_eq!(t, tags(&[("host", "localhost"), ("resource", "cpu")]));
}

#[test]
fn repeated_measurement_and_tags_join_with_the_separator() {
    let p = parser(&[".host.measurement.cpu.measurement"], "", &[]);
    let (m, t, ..) = one(&p, "servers.localhost.cpu.cpu0.user 1");
    assert_eq!(m, "cpu.user");
    assert_eq!(t, tags(&[("cpu", "cpu0"), ("host", "localhost")]));
    let p = parser(&["region.region.measurement*"], "_", &[]);
    let (m, t, ..) = one(&p, "us.west.cpu.load 100");
    assert_eq!(m, "cpu_load");
    assert_eq!(t, tags(&[("region", "us_west")]));
}

#[test]
fn field_and_greedy_field() {
    let p = parser(&["measurement.measurement.field.field.region"], "_", &[]);
    let (m, t, f, ..) = one(&p, "cpu.usage.idle.percent.eu-east 100");
    assert_eq!((m.as_str(), f.as_str()), ("cpu_usage", "idle_percent"));
    assert_eq!(t, tags(&[("region", "eu-east")]));
    let p = parser(&["host.measurement.field*"], "", &[]);
    let (m, t, f, ..) = one(&p, "h1.mem.used.bytes 7");
    assert_eq!((m.as_str(), f.as_str()), ("mem", "used.bytes"));
    assert_eq!(t, tags(&[("host", "h1")]));
}

#[test]
fn a_path_shorter_than_the_template_leaves_parts_out() {
    let p = parser(&["measurement.host.dc"], "", &[]);
    let (m, t, ..) = one(&p, "cpu.h1 1");
    assert_eq!(m, "cpu");
    assert_eq!(t, tags(&[("host", "h1")]));
    // No measurement part reached: the whole path.
    let p = parser(&["host.measurement"], "", &[]);
    assert_eq!(one(&p, "h1 1").0, "h1");
}

#[test]
fn filters_pick_the_most_specific_template() {
    let p = parser(
        &[
            "servers.localhost .host.measurement*",
            "servers.* .host.resource.measurement*",
            "*.*.* region.host.measurement",
            "measurement.field*",
        ],
        "",
        &[],
    );
    // Exact filter.
    let (m, t, ..) = one(&p, "servers.localhost.cpu.load 1");
    assert_eq!(m, "cpu.load");
    assert_eq!(t, tags(&[("host", "localhost")]));
    // Wildcard under an exact part.
    let (m, t, ..) = one(&p, "servers.web01.cpu.load 1");
    assert_eq!(m, "load");
    assert_eq!(t, tags(&[("host", "web01"), ("resource", "cpu")]));
    // Three wildcard parts.
    let (m, t, ..) = one(&p, "us.h2.disk 1");
    assert_eq!(m, "disk");
    assert_eq!(t, tags(&[("host", "h2"), ("region", "us")]));
    // A longer path still matches `*.*.*` (the search stops where the filter ends).
    assert_eq!(one(&p, "eu.h3.disk.free 1").0, "disk");
    // No filter matches: the default template of the list.
    let (m, _, f, ..) = one(&p, "app.requests 1");
    assert_eq!((m.as_str(), f.as_str()), ("app", "requests"));
    // No backtracking: `servers` matched exactly, its subtree has nothing for a bare
    // `servers`: the default.
    let (m, _, f, ..) = one(&p, "servers 1");
    assert_eq!((m.as_str(), f.as_str()), ("servers", "value"));
}

#[test]
fn template_tags_and_default_tags() {
    let p = parser(
        &["stats.* .host.measurement* region=eu-east,agent=sensu"],
        "",
        &["dc=ams", "host=fallback"],
    );
    let (m, t, ..) = one(&p, "stats.web01.requests 3");
    assert_eq!(m, "requests");
    assert_eq!(
        t,
        tags(&[
            ("agent", "sensu"),
            ("dc", "ams"),
            ("host", "web01"),
            ("region", "eu-east")
        ])
    );
    // The listener's tags fill only what the line lacks.
    let (_, t, ..) = one(&p, "other.metric 3");
    assert_eq!(t, tags(&[("dc", "ams"), ("host", "fallback")]));
    // A template tag and a path tag of one key are joined, as InfluxDB does.
    let p = parser(&["measurement.host host=x"], "", &[]);
    assert_eq!(one(&p, "cpu.h1 1").1, tags(&[("host", "x.h1")]));
}

#[test]
fn empty_tag_values_are_left_out() {
    let p = parser(&["measurement.host.dc"], "", &[]);
    let (m, t, ..) = one(&p, "cpu..ams 1");
    assert_eq!(m, "cpu");
    assert_eq!(t, tags(&[("dc", "ams")]));
}

#[test]
fn times_and_values() {
    let p = parser(&[], "", &[]);
    assert_eq!(one(&p, "a 1 1435077219.5").4, 1_435_077_219_500_000_000);
    assert_eq!(one(&p, "a 1e3 0").3, 1000.0);
    assert_eq!(one(&p, "a -2.5 0").3, -2.5);
    let err = |l: &str| p.parse_line(l, NOW).unwrap_err();
    assert!(matches!(err("a NaN 0"), LineError::Unsupported(_)));
    assert!(matches!(err("a +Inf 0"), LineError::Unsupported(_)));
    assert_eq!(
        err("a x 0").to_string(),
        "field \"a\" value: strconv.ParseFloat: parsing \"x\": invalid syntax"
    );
    assert_eq!(err("a 1 99999999999").to_string(), "timestamp out of range");
    assert_eq!(err("a 1 -3000000000").to_string(), "timestamp out of range");
    assert!(err("a 1 x").to_string().starts_with("field \"a\" time:"));
    assert!(err("a")
        .to_string()
        .contains("doesn't have required fields"));
    assert!(err("a 1 2 3")
        .to_string()
        .contains("doesn't have required fields"));
    assert_eq!(p.parse_line("   ", NOW).unwrap(), None);
}

#[test]
fn configuration_is_checked_as_influxdb_does() {
    let bad = |templates: &[&str], tags: &[&str]| {
        Parser::new(&Options {
            separator: String::new(),
            templates: templates.iter().map(|s| s.to_string()).collect(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        bad(&["host.cpu"], &[]),
        "no measurement in template `host.cpu`"
    );
    assert_eq!(bad(&[""], &[]), "missing template at position: 0");
    assert!(bad(&["a b c d"], &[]).starts_with("invalid template format"));
    assert!(bad(&["measurement", "measurement*"], &[]).starts_with("duplicate filter ''"));
    assert!(bad(&["a..b measurement"], &[]).starts_with("filter contains blank section"));
    assert!(bad(&["a.b* measurement"], &[]).starts_with("invalid filter wildcard section"));
    assert!(bad(&["measurement x=1=2"], &[]).starts_with("invalid template tags"));
    assert!(bad(&[], &["novalue"]).starts_with("invalid template tags"));
    assert!(bad(&["measurement*.field*"], &[]).starts_with("either 'field*' or 'measurement*'"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn hostile_lines_never_panic(line in "\\PC{0,200}", t in "[a-z.*]{0,20}") {
        let p = Parser::new(&Options {
            separator: "_".into(),
            templates: vec![format!("{t} measurement.host.field*"), ".measurement*".into()],
            tags: vec!["a=b".into()],
        });
        if let Ok(p) = p {
            let _ = p.parse_line(&line, NOW);
        }
        let _ = parser(&[], "", &[]).parse_line(&line, NOW);
    }

    #[test]
    fn any_path_with_value_parses(path in "[a-z0-9]{1,8}(\\.[a-z0-9]{0,8}){0,6}", v in -1e9f64..1e9) {
        let p = parser(&["measurement.host.field*"], "", &[]);
        let pt = p.parse_line(&format!("{path} {v}"), NOW).unwrap().unwrap();
        prop_assert!(!pt.measurement.is_empty());
        prop_assert_eq!(pt.timestamp, NOW);
    }
}
