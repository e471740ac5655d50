//! Bound parameters (`params=` of `/query`) bind as literals of their declared type and are
//! never read as query text: hostile values cannot add statements, string values come
//! back exactly, and invalid durations / regexes fail with InfluxDB 1.6's own errors
//! (recorded against a real `influxd` 1.6.7).
#![allow(clippy::unwrap_used)]

use hyperbyte_timeseriesql::ast::*;
use hyperbyte_timeseriesql::parser::{parse_with_params, ParamValue};
use hyperbyte_timeseriesql::{parse, ParseError};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn params(name: &str, v: ParamValue) -> BTreeMap<String, ParamValue> {
    BTreeMap::from([(name.to_string(), v)])
}

fn bind(q: &str, name: &str, v: ParamValue) -> Result<Query, ParseError> {
    parse_with_params(q, &params(name, v))
}

fn only_select(q: Query) -> SelectStatement {
    assert_eq!(q.statements.len(), 1, "{q}");
    match q.statements.into_iter().next() {
        Some(Statement::Select(s)) => *s,
        other => panic!("not a SELECT: {other:?}"),
    }
}

/// The right-hand side of the (single) comparison in the WHERE clause.
fn rhs(s: &SelectStatement) -> &Expr {
    match s.condition.as_ref().map(Expr::unparen) {
        Some(Expr::Binary { rhs, .. }) => rhs,
        other => panic!("unexpected condition {other:?}"),
    }
}

#[test]
fn regex_param_cannot_end_the_statement() {
    let q = bind(
        "SELECT * FROM m WHERE t =~ $r",
        "r",
        ParamValue::Regex("\\/ ; DROP DATABASE prod -- ".into()),
    )
    .unwrap();
    let s = only_select(q);
    // `\/` and `/` are the same regex; the bound pattern is kept in the spelling a regex
    // literal can print.
    assert_eq!(
        rhs(&s),
        &Expr::Regex(Regex {
            pattern: "/ ; DROP DATABASE prod -- ".into()
        })
    );
    // And it prints as one regex literal that parses back to the same statement.
    let printed = s.to_string();
    assert_eq!(only_select(parse(&printed).unwrap()), s, "{printed}");
}

#[test]
fn duration_param_is_parsed_as_a_duration() {
    for q in [
        "SELECT * FROM m WHERE time > now() - $d",
        "SELECT count(v) FROM m WHERE time > 0 GROUP BY time($d)",
    ] {
        let err = bind(
            q,
            "d",
            ParamValue::Duration("1h; DROP DATABASE prod".into()),
        )
        .unwrap_err();
        assert_eq!(err.full_message(), "error parsing query: invalid duration");
    }
    let s = only_select(
        bind(
            "SELECT * FROM m WHERE time > now() - $d",
            "d",
            ParamValue::Duration("1h30m".into()),
        )
        .unwrap(),
    );
    let Expr::Binary { rhs: d, .. } = rhs(&s) else {
        panic!()
    };
    assert_eq!(**d, Expr::Duration(5_400_000_000_000));
}

/// InfluxDB 1.6.7's answers for `WHERE time > now() - $x` with `{"x":{"duration":...}}`.
#[test]
fn duration_params_follow_influxdb_parse_duration() {
    let ok: &[(&str, i64)] = &[
        ("1ms", 1_000_000),
        ("1ns", 1),
        ("1u", 1_000),
        ("1µ", 1_000),
        ("-1h", -3_600_000_000_000),
        ("1m1m", 120_000_000_000),
        ("1w", 604_800_000_000_000),
        ("9223372036854775807ns", i64::MAX),
    ];
    for (text, nanos) in ok {
        let s = only_select(
            bind(
                "SELECT * FROM m WHERE time > now() - $x",
                "x",
                ParamValue::Duration((*text).into()),
            )
            .unwrap(),
        );
        let Expr::Binary { rhs: d, .. } = rhs(&s) else {
            panic!()
        };
        assert_eq!(**d, Expr::Duration(*nanos), "{text}");
    }
    for bad in [
        "1us", "1h-1m", " 1h", "1h ", "10", "1n", "-h", "1s2", "0", "1", "inf", "1.5h", "",
    ] {
        let err = bind(
            "SELECT * FROM m WHERE time > now() - $x",
            "x",
            ParamValue::Duration(bad.into()),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "invalid duration", "{bad:?}");
    }
    let err = bind(
        "SELECT * FROM m WHERE time > now() - $x",
        "x",
        ParamValue::Duration("9999999999999h".into()),
    )
    .unwrap_err();
    assert_eq!(
        err.full_message(),
        "error parsing query: overflowed duration 9999999999999h: choose a smaller duration or INF"
    );
}

#[test]
fn regex_param_errors_are_influxdb_s() {
    let err = bind(
        "SELECT * FROM m WHERE t =~ $r",
        "r",
        ParamValue::Regex("a(".into()),
    )
    .unwrap_err();
    assert_eq!(
        err.full_message(),
        "error parsing query: error parsing regexp: missing closing ): `a(` at line 1, char 28"
    );
    let err = bind(
        "SELECT * FROM m WHERE t =~ $r",
        "r",
        ParamValue::Regex("a**".into()),
    )
    .unwrap_err();
    assert_eq!(
        err.full_message(),
        "error parsing query: error parsing regexp: invalid nested repetition operator: `**` at line 1, char 28"
    );
    // A literal regex is reported one character earlier (InfluxDB's scanner quirk).
    assert_eq!(
        parse("SELECT * FROM m WHERE t =~ /a(/")
            .unwrap_err()
            .full_message(),
        "error parsing query: error parsing regexp: missing closing ): `a(` at line 1, char 27"
    );
    // Empty and newline-holding patterns are fine.
    for p in ["", "a\nb", "a/b"] {
        bind(
            "SELECT * FROM m WHERE t =~ $r",
            "r",
            ParamValue::Regex(p.into()),
        )
        .unwrap();
    }
}

#[test]
fn string_param_round_trips_exactly() {
    for v in [
        "x'; DROP DATABASE prod; --\\\n",
        "'",
        "\\",
        "\\'",
        "a\\nb",
        "line\nbreak\r\n",
        "/* */ -- ;",
        "$other",
        "",
        "é\u{0}",
    ] {
        let s = only_select(
            bind(
                "SELECT * FROM m WHERE t = $s",
                "s",
                ParamValue::String(v.into()),
            )
            .unwrap(),
        );
        assert_eq!(rhs(&s), &Expr::String(v.into()), "{v:?}");
        assert_eq!(only_select(parse(&s.to_string()).unwrap()), s);
    }
}

#[test]
fn identifier_param_is_one_identifier() {
    let name = "m\"; DROP DATABASE prod; --";
    let s = only_select(
        bind(
            "SELECT * FROM $i WHERE $i = 'x'",
            "i",
            ParamValue::Identifier(name.into()),
        )
        .unwrap(),
    );
    let Source::Measurement(m) = &s.sources[0] else {
        panic!()
    };
    assert_eq!(m.name, MeasurementName::Name(name.into()));
    assert_eq!(
        s.condition,
        Some(Expr::binary(
            BinaryOp::Eq,
            Expr::var(name),
            Expr::String("x".into())
        ))
    );
    // DROP DATABASE $db binds an identifier; a string there is InfluxDB's error.
    let q = bind(
        "DROP DATABASE $db",
        "db",
        ParamValue::Identifier("a; DROP DATABASE prod".into()),
    )
    .unwrap();
    assert_eq!(
        q.statements,
        [Statement::DropDatabase {
            name: "a; DROP DATABASE prod".into()
        }]
    );
    let err = bind("DROP DATABASE $s", "s", ParamValue::String("x y".into())).unwrap_err();
    assert_eq!(
        err.full_message(),
        "error parsing query: found x y, expected identifier at line 1, char 15"
    );
}

#[test]
fn numeric_params_and_limits() {
    let s = only_select(bind("SELECT * FROM m LIMIT $n", "n", ParamValue::Integer(2)).unwrap());
    assert_eq!(s.limit, Some(2));
    let err = bind("SELECT * FROM m LIMIT $n", "n", ParamValue::Integer(-2)).unwrap_err();
    assert_eq!(
        err.full_message(),
        "error parsing query: LIMIT must be >= 0 at line 1, char 23"
    );
    let s = only_select(
        bind(
            "SELECT * FROM m WHERE v > -$n",
            "n",
            ParamValue::Integer(-7),
        )
        .unwrap(),
    );
    assert_eq!(rhs(&s), &Expr::Integer(7));
    assert!(bind(
        "SELECT * FROM m WHERE v > -$n",
        "n",
        ParamValue::Integer(i64::MIN)
    )
    .is_err());
    let s = only_select(
        bind(
            "SELECT * FROM m WHERE v > $f",
            "f",
            ParamValue::Float(-0.25),
        )
        .unwrap(),
    );
    assert_eq!(rhs(&s), &Expr::Float(-0.25));
    // Glued to following text, a placeholder is not silently merged into another token.
    assert!(bind(
        "SELECT * FROM m WHERE v > $n.5",
        "n",
        ParamValue::Integer(1)
    )
    .is_err());
}

#[test]
fn positions_after_a_parameter_are_the_original_ones() {
    let err = bind(
        "SELECT * FROM m WHERE t = $longname AND",
        "longname",
        ParamValue::String("a much longer value than the name".into()),
    )
    .unwrap_err();
    // The same error as for a literal of the length of `$longname`.
    let same_length = parse("SELECT * FROM m WHERE t = 'abcdefg' AND").unwrap_err();
    assert_eq!(err, same_length);
    assert_eq!(
        err.to_string(),
        "found EOF, expected identifier, string, number, bool at line 1, char 41"
    );
}

#[test]
fn continuous_query_text_shows_the_bound_values() {
    let q = bind(
        "CREATE CONTINUOUS QUERY c ON db BEGIN SELECT mean(v) INTO x FROM m WHERE t = $s GROUP BY time(1h) END",
        "s",
        ParamValue::String("it's".into()),
    )
    .unwrap();
    let Statement::CreateContinuousQuery(cq) = &q.statements[0] else {
        panic!()
    };
    assert_eq!(
        cq.select_text,
        "SELECT mean(v) INTO x FROM m WHERE t = 'it\\'s' GROUP BY time(1h)"
    );
    assert!(cq.text.contains("t = 'it\\'s'"), "{}", cq.text);
}

// ---------------------------------------------------------------- properties

/// Cases per property: `HYPERBYTE_FUZZ_CASES`, else `PROPTEST_CASES`, else `default`.
fn cases(default: u32) -> u32 {
    ["HYPERBYTE_FUZZ_CASES", "PROPTEST_CASES"]
        .iter()
        .find_map(|k| std::env::var(k).ok()?.parse().ok())
        .unwrap_or(default)
}

/// Arbitrary text biased towards what could break out of a literal.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("/".to_string()),
        Just("\n".to_string()),
        Just(";".to_string()),
        Just("--".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just(" DROP DATABASE prod".to_string()),
        Just("$p".to_string()),
        Just("1h".to_string()),
        "\\PC{0,4}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

fn template_statements() -> usize {
    2
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    #[test]
    fn string_params_bind_exactly(v in hostile()) {
        let q = bind(
            "SELECT v FROM m WHERE t = $p; SHOW DATABASES",
            "p",
            ParamValue::String(v.clone()),
        ).unwrap();
        prop_assert_eq!(q.statements.len(), template_statements());
        let Statement::Select(s) = &q.statements[0] else { panic!() };
        prop_assert_eq!(rhs(s), &Expr::String(v));
        prop_assert_eq!(&parse(&q.to_string()).unwrap(), &q);
    }

    #[test]
    fn identifier_params_bind_exactly(v in hostile()) {
        let q = bind(
            "SELECT $p FROM $p; SHOW DATABASES",
            "p",
            ParamValue::Identifier(v.clone()),
        ).unwrap();
        prop_assert_eq!(q.statements.len(), template_statements());
        let Statement::Select(s) = &q.statements[0] else { panic!() };
        prop_assert_eq!(&s.fields[0].expr, &Expr::var(&v));
        let Source::Measurement(m) = &s.sources[0] else { panic!() };
        prop_assert_eq!(&m.name, &MeasurementName::Name(v));
        prop_assert_eq!(&parse(&q.to_string()).unwrap(), &q);
    }

    #[test]
    fn regex_params_never_add_statements(v in hostile()) {
        let r = bind(
            "SELECT v FROM m WHERE t =~ $p; SHOW DATABASES",
            "p",
            ParamValue::Regex(v),
        );
        match r {
            Ok(q) => {
                prop_assert_eq!(q.statements.len(), template_statements());
                prop_assert_eq!(&parse(&q.to_string()).unwrap(), &q);
            }
            Err(e) => prop_assert!(
                e.to_string().starts_with("error parsing regexp: "),
                "{e}"
            ),
        }
    }

    #[test]
    fn duration_params_never_add_statements(v in hostile()) {
        let r = bind(
            "SELECT v FROM m WHERE time > now() - $p; SHOW DATABASES",
            "p",
            ParamValue::Duration(v),
        );
        match r {
            Ok(q) => prop_assert_eq!(q.statements.len(), template_statements()),
            Err(e) => {
                let e = e.to_string();
                prop_assert!(
                    e == "invalid duration" || e.starts_with("overflowed duration "),
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn any_param_in_any_position_never_panics_or_adds_statements(
        v in hostile(),
        kind in 0..7u8,
        pos in 0..8usize,
    ) {
        let value = match kind {
            0 => ParamValue::String(v),
            1 => ParamValue::Identifier(v),
            2 => ParamValue::Regex(v),
            3 => ParamValue::Duration(v),
            4 => ParamValue::Integer(v.len() as i64 - 6),
            5 => ParamValue::Float(v.len() as f64 / 3.0),
            _ => ParamValue::Boolean(v.is_empty()),
        };
        let templates = [
            "SELECT $p FROM m",
            "SELECT v FROM $p WHERE x = $p",
            "SELECT v FROM m WHERE x =~ $p LIMIT $p",
            "SELECT count(v) FROM m GROUP BY time($p), $p fill($p)",
            "CREATE RETENTION POLICY $p ON $p DURATION $p REPLICATION $p",
            "SHOW TAG VALUES WITH KEY = $p WHERE $p = $p",
            "DELETE FROM $p WHERE time < $p",
            "SELECT v FROM m WHERE t = '$p' AND u = \"$p\" -- $p",
        ];
        if let Ok(q) = parse_with_params(templates[pos], &params("p", value)) {
            prop_assert_eq!(q.statements.len(), 1);
        }
    }
}
