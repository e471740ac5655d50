//! Unit tests: one or more per statement type, AST shape and canonical printing.
#![allow(clippy::unwrap_used)]

use hyperbyte_timeseriesql::ast::*;
use hyperbyte_timeseriesql::parser::{parse_expr, parse_statement, parse_with_params, ParamValue};
use hyperbyte_timeseriesql::{parse, ParseError};
use std::collections::BTreeMap;

const H: i64 = 3_600_000_000_000;
const M: i64 = 60_000_000_000;
const S: i64 = 1_000_000_000;

fn select(q: &str) -> SelectStatement {
    match parse_statement(q).unwrap() {
        Statement::Select(s) => *s,
        other => panic!("not a select: {other:?}"),
    }
}

/// Parses, prints, re-parses: the AST must survive, and the text must be `canonical`.
fn canonical(q: &str, expected: &str) {
    let st = parse_statement(q).unwrap();
    let printed = st.to_string();
    assert_eq!(printed, expected, "canonical text of {q:?}");
    assert_eq!(
        parse_statement(&printed).unwrap(),
        st,
        "reparse of {printed:?}"
    );
}

#[test]
fn select_basic_shape() {
    let s = select("SELECT mean(value) AS m, host FROM db.rp.cpu WHERE host = 'a' GROUP BY time(1h), host fill(0) ORDER BY time DESC LIMIT 10 OFFSET 2 SLIMIT 3 SOFFSET 4 tz('America/Chicago')");
    assert_eq!(s.fields.len(), 2);
    assert_eq!(
        s.fields[0],
        Field {
            expr: Expr::call("mean", vec![Expr::var("value")]),
            alias: Some("m".into())
        }
    );
    assert_eq!(
        s.sources,
        vec![Source::Measurement(Measurement {
            database: Some("db".into()),
            retention_policy: Some("rp".into()),
            name: MeasurementName::Name("cpu".into())
        })]
    );
    assert_eq!(
        s.condition,
        Some(Expr::binary(
            BinaryOp::Eq,
            Expr::var("host"),
            Expr::String("a".into())
        ))
    );
    assert_eq!(s.group_by_interval(), Some((H, 0)));
    assert_eq!(s.fill, Fill::Integer(0));
    assert!(s.is_descending());
    assert_eq!(
        (s.limit, s.offset, s.slimit, s.soffset),
        (Some(10), Some(2), Some(3), Some(4))
    );
    assert_eq!(s.timezone.as_deref(), Some("America/Chicago"));
    assert!(!s.is_raw());
}

#[test]
fn select_canonical_text() {
    canonical(
        "select MEAN(value) from cpu where time > now() - 1h group by time(1h) fill(none)",
        "SELECT mean(value) FROM cpu WHERE time > now() - 1h GROUP BY time(1h) fill(none)",
    );
    canonical("SELECT * FROM \"my m\"", "SELECT * FROM \"my m\"");
    canonical(
        "SELECT \"select\" FROM \"from\"",
        "SELECT \"select\" FROM \"from\"",
    );
    canonical("SELECT value FROM db..cpu", "SELECT value FROM db..cpu");
    canonical("SELECT value FROM rp.cpu", "SELECT value FROM rp.cpu");
    canonical(
        "SELECT value FROM db.rp./c.*/",
        "SELECT value FROM db.rp./c.*/",
    );
    canonical("SELECT /v.*/ FROM /c\\/x/", "SELECT /v.*/ FROM /c\\/x/");
    canonical(
        "SELECT value::float, host::tag, *::field FROM cpu",
        "SELECT value::float, host::tag, *::field FROM cpu",
    );
    canonical("SELECT -value FROM cpu", "SELECT -value FROM cpu");
    canonical("SELECT value FROM cpu LIMIT 0", "SELECT value FROM cpu");
    canonical(
        "SELECT mean(*) INTO \"db\".\"rp\".:MEASUREMENT FROM /.*/ GROUP BY time(1h), *",
        "SELECT mean(*) INTO db.rp.:MEASUREMENT FROM /.*/ GROUP BY time(1h), *",
    );
    canonical(
        "SELECT value FROM (SELECT max(value) AS value FROM cpu GROUP BY time(1m))",
        "SELECT value FROM (SELECT max(value) AS value FROM cpu GROUP BY time(1m))",
    );
    canonical(
        "SELECT percentile(value, 95.5), top(value, host, 3) FROM cpu WHERE time >= 1000ms",
        "SELECT percentile(value, 95.5), top(value, host, 3) FROM cpu WHERE time >= 1s",
    );
    canonical(
        "SELECT DISTINCT value FROM cpu",
        "SELECT distinct(value) FROM cpu",
    );
    canonical(
        "SELECT value FROM cpu WHERE b = 'x\\'y\\\\z'",
        "SELECT value FROM cpu WHERE b = 'x\\'y\\\\z'",
    );
}

#[test]
fn expressions_follow_influx_precedence() {
    let e = parse_expr("a + b * c - d").unwrap();
    assert_eq!(e.to_string(), "a + b * c - d");
    let Expr::Binary { op, lhs, .. } = &e else {
        panic!()
    };
    assert_eq!(*op, BinaryOp::Sub);
    assert!(matches!(
        **lhs,
        Expr::Binary {
            op: BinaryOp::Add,
            ..
        }
    ));
    let e = parse_expr("a = 1 OR b = 2 AND c =~ /x/").unwrap();
    let Expr::Binary { op, rhs, .. } = &e else {
        panic!()
    };
    assert_eq!(*op, BinaryOp::Or);
    assert!(matches!(
        **rhs,
        Expr::Binary {
            op: BinaryOp::And,
            ..
        }
    ));
    // bitwise operators share levels with + and *
    let e = parse_expr("a | b & c ^ d").unwrap();
    assert_eq!(
        e,
        Expr::binary(
            BinaryOp::BitXor,
            Expr::binary(
                BinaryOp::BitOr,
                Expr::var("a"),
                Expr::binary(BinaryOp::BitAnd, Expr::var("b"), Expr::var("c"))
            ),
            Expr::var("d")
        )
    );
}

#[test]
fn literals_keep_their_types() {
    assert_eq!(parse_expr("x = 1").unwrap().to_string(), "x = 1");
    let Expr::Binary { rhs, .. } = parse_expr("x = 1.0").unwrap() else {
        panic!()
    };
    assert_eq!(*rhs, Expr::Float(1.0));
    let Expr::Binary { rhs, .. } = parse_expr("x = -5").unwrap() else {
        panic!()
    };
    assert_eq!(*rhs, Expr::Integer(-5));
    let Expr::Binary { rhs, .. } = parse_expr("x = 18446744073709551615").unwrap() else {
        panic!()
    };
    assert_eq!(*rhs, Expr::Unsigned(u64::MAX));
    let Expr::Binary { rhs, .. } = parse_expr("x = -9223372036854775808").unwrap() else {
        panic!()
    };
    assert_eq!(*rhs, Expr::Integer(i64::MIN));
    let Expr::Binary { rhs, .. } = parse_expr("x = TRUE").unwrap() else {
        panic!()
    };
    assert_eq!(*rhs, Expr::Boolean(true));
    let Expr::Binary { rhs, .. } = parse_expr("x = 90m").unwrap() else {
        panic!()
    };
    assert_eq!(*rhs, Expr::Duration(90 * M));
    let Expr::Binary { rhs, .. } = parse_expr("x = 'a\\nb'").unwrap() else {
        panic!()
    };
    assert_eq!(*rhs, Expr::String("a\nb".into()));
    let Expr::Binary { rhs, .. } = parse_expr("x =~ /a\\/b\\d/").unwrap() else {
        panic!()
    };
    assert_eq!(
        *rhs,
        Expr::Regex(Regex {
            pattern: "a/b\\d".into()
        })
    );
}

#[test]
fn group_by_time_offsets_and_fill() {
    let s = select("SELECT mean(v) FROM m GROUP BY time(1h, -15m) fill(previous)");
    assert_eq!(s.group_by_interval(), Some((H, 45 * M)));
    assert_eq!(s.fill, Fill::Previous);
    let s = select("SELECT mean(v) FROM m GROUP BY time(10m, now()) fill(linear)");
    assert_eq!(s.group_by_interval_at(Some(25 * M)), Some((10 * M, 5 * M)));
    assert_eq!(s.fill, Fill::Linear);
    let s = select("SELECT mean(v) FROM m GROUP BY time(1h) fill(-1.5)");
    assert_eq!(s.fill, Fill::Float(-1.5));
    let s = select("SELECT mean(v) FROM m GROUP BY /h.*/, host fill(null)");
    assert_eq!(s.group_by_interval(), None);
    assert_eq!(s.dimensions.len(), 2);
    assert!(select("SELECT v FROM m").is_raw());
}

/// InfluxDB 1.6 reads and deletes over every time comparison intersected, those under
/// `OR` too; the condition's own reading unions them.
#[test]
fn time_bounds_intersect_comparisons_under_or() {
    let cond = |q: &str| select(q).condition.expect("a condition");
    let c = cond("SELECT v FROM m WHERE time > 3s OR region = 'eu'");
    assert_eq!(
        c.time_bounds_in(0, None).unwrap(),
        TimeRange {
            min: Some(3 * S + 1),
            max: None
        }
    );
    assert_eq!(c.time_range(0).unwrap(), TimeRange::default());
    let c = cond("SELECT v FROM m WHERE time > 3s OR time < 2s");
    let r = c.time_bounds_in(0, None).unwrap();
    assert!(r.min > r.max, "{r:?}: nothing");
    let c = cond("SELECT v FROM m WHERE (time > 1s AND region = 'eu') OR time < 5s");
    assert_eq!(
        c.time_bounds_in(0, None).unwrap(),
        TimeRange {
            min: Some(S + 1),
            max: Some(5 * S - 1)
        }
    );
    assert!(cond("SELECT v FROM m WHERE time > 'x' OR host = 'a'")
        .time_bounds_in(0, None)
        .is_err());
}

#[test]
fn time_range_extraction() {
    let s = select("SELECT v FROM m WHERE time >= '2000-01-01T00:00:00Z' AND time < '2000-01-02' AND host = 'a'");
    let r = s.time_range(0).unwrap();
    assert_eq!(r.min, Some(946_684_800 * S));
    assert_eq!(r.max, Some(946_771_200 * S - 1));
    assert_eq!(
        s.condition_without_time(),
        Some(Expr::binary(
            BinaryOp::Eq,
            Expr::var("host"),
            Expr::String("a".into())
        ))
    );
    let s = select("SELECT v FROM m WHERE time > now() - 1h");
    assert_eq!(
        s.time_range(10 * H).unwrap(),
        TimeRange {
            min: Some(9 * H + 1),
            max: None
        }
    );
    let s = select("SELECT v FROM m WHERE 1000 <= time AND time <= 2000ms");
    assert_eq!(
        s.time_range(0).unwrap(),
        TimeRange {
            min: Some(1000),
            max: Some(2 * S)
        }
    );
    let s = select("SELECT v FROM m WHERE (time = '2000-01-01 00:00:00.5')");
    assert_eq!(s.time_range(0).unwrap().min, Some(946_684_800 * S + S / 2));
    assert!(s.condition_without_time().is_none());
    let s = select("SELECT v FROM m WHERE time > 'garbage'");
    assert!(s.time_range(0).is_err());
    let s = select("SELECT v FROM m WHERE time > '2000-01-01T00:00:00Z' + 1h");
    assert_eq!(s.time_range(0).unwrap().min, Some(946_684_800 * S + H + 1));
    // The ends of InfluxDB's valid range are no bounds (InfluxDB then prints the epoch
    // for an aggregate's time, as without a lower bound).
    let s = select(
        "SELECT v FROM m WHERE time >= -9223372036854775806 AND time <= 9223372036854775806",
    );
    assert_eq!(s.time_range(0).unwrap(), TimeRange::default());
    let s =
        select("SELECT v FROM m WHERE time > -9223372036854775806 AND time < 9223372036854775806");
    assert_eq!(
        s.time_range(0).unwrap(),
        TimeRange {
            min: Some(i64::MIN + 3),
            max: Some(i64::MAX - 2)
        }
    );
}

/// The time terms InfluxDB 1.6 refuses, with its texts (recorded on the reference).
#[test]
fn time_terms_influxdb_refuses() {
    let error = |q: &str| {
        select(q)
            .time_range(1_765_000_000 * S)
            .map(|r| format!("{r:?}"))
            .unwrap_or_else(|e| e.to_string())
    };
    let cases = [
        ("time != 10s", "invalid time comparison operator: !="),
        ("time <> now()", "invalid time comparison operator: !="),
        (
            "host = 'a' OR 10s != time",
            "invalid time comparison operator: !=",
        ),
        (
            "time != 'abc'",
            "invalid operation: time and *influxql.StringLiteral are not compatible",
        ),
        (
            "time =~ /x/",
            "invalid operation: time and *influxql.RegexLiteral are not compatible",
        ),
        (
            "time > v",
            "invalid operation: time and *influxql.VarRef are not compatible",
        ),
        (
            "time > true",
            "invalid operation: time and *influxql.BooleanLiteral are not compatible",
        ),
        (
            "time > mean(v)",
            "invalid operation: time and *influxql.Call are not compatible",
        ),
        (
            "time < 10s + 'abc'",
            "invalid operation: time and *influxql.BinaryExpr are not compatible",
        ),
        (
            "time > 5s + 1",
            "invalid operation: time and *influxql.BinaryExpr are not compatible",
        ),
        ("time < '1970-13-01'", "invalid timestamp string"),
        ("time < '1970-01-01T00:00:10'", "invalid timestamp string"),
        (
            "time < '1970-1-1'",
            "invalid operation: time and *influxql.StringLiteral are not compatible",
        ),
        (
            "time < '3000-01-01'",
            "time 3000-01-01T00:00:00Z overflows time literal",
        ),
        (
            "time < '2262-04-11T23:47:16.854775807Z'",
            "time 2262-04-11T23:47:16Z overflows time literal",
        ),
        (
            "time > '1000-01-01'",
            "time 1000-01-01T00:00:00Z underflows time literal",
        ),
        (
            "time > '1677-09-21T00:12:43.145224194Z'",
            "time 1677-09-21T00:12:43Z underflows time literal",
        ),
        (
            "time < '2200-01-01T00:00:00Z' + 30000d",
            "time 2282-02-20T00:00:00Z overflows time literal",
        ),
    ];
    for (cond, want) in cases {
        assert_eq!(
            error(&format!("SELECT v FROM m WHERE {cond}")),
            want,
            "{cond}"
        );
    }
    // The ends InfluxDB still takes, and Go's wrapping arithmetic past them.
    let range = |cond: &str| {
        select(&format!("SELECT v FROM m WHERE {cond}"))
            .time_range(0)
            .unwrap()
    };
    assert_eq!(
        range("time <= '2262-04-11T23:47:16.854775806Z'"),
        TimeRange::default()
    );
    assert_eq!(
        range("time > '1677-09-21T00:12:43.145224195Z'"),
        TimeRange {
            min: Some(i64::MIN + 4),
            max: None
        }
    );
    assert_eq!(range("time > 9223372036854775807"), TimeRange::default());
    assert_eq!(
        range("time < 9223372036854775807 + 1"),
        TimeRange::default()
    );
    assert_eq!(
        range("time < '1970-01-01T00:00:10,5Z'").max,
        Some(10 * S + S / 2 - 1)
    );
    // Division by zero is zero in InfluxDB: these mean `time > 0`.
    for cond in [
        "time > 5000000000 / 0",
        "time > 10s / 0",
        "time > 5000000000 / 0.0",
    ] {
        assert_eq!(range(cond).min, Some(1), "{cond}");
    }
    // A zone-less string is read in the statement's zone.
    let s = select("SELECT v FROM m WHERE time >= '1970-01-01 05:30:00' tz('Asia/Kolkata')");
    assert_eq!(s.time_range(0).unwrap().min, Some(0));
}

#[test]
fn delete_and_drop_series() {
    canonical(
        "DELETE FROM cpu WHERE time < '2000-01-01T00:00:00Z'",
        "DELETE FROM cpu WHERE time < '2000-01-01T00:00:00Z'",
    );
    canonical("DELETE WHERE host = 'a'", "DELETE WHERE host = 'a'");
    canonical("DROP SERIES FROM /c.*/", "DROP SERIES FROM /c.*/");
    canonical("drop series where a = 'b'", "DROP SERIES WHERE a = 'b'");
    assert_eq!(
        parse("DROP SERIES FROM db.rp.cpu").unwrap_err().to_string(),
        "retention policy not supported at line 1, char 1"
    );
    assert_eq!(
        parse("DELETE FROM db..cpu").unwrap_err().to_string(),
        "database not supported at line 1, char 1"
    );
}

#[test]
fn database_and_retention_policy_ddl() {
    let st = parse_statement(
        "CREATE DATABASE db WITH DURATION 7d REPLICATION 1 SHARD DURATION 1h NAME rp",
    )
    .unwrap();
    assert_eq!(
        st,
        Statement::CreateDatabase(CreateDatabaseStatement {
            name: "db".into(),
            retention_policy_create: true,
            duration: Some(7 * 24 * H),
            replication: Some(1),
            shard_duration: Some(H),
            rp_name: Some("rp".into()),
        })
    );
    canonical(
        "CREATE DATABASE db WITH DURATION 7d REPLICATION 1 SHARD DURATION 1h NAME rp",
        "CREATE DATABASE db WITH DURATION 1w REPLICATION 1 SHARD DURATION 1h NAME rp",
    );
    canonical("CREATE DATABASE \"my db\"", "CREATE DATABASE \"my db\"");
    canonical(
        "CREATE DATABASE db WITH DURATION INF",
        "CREATE DATABASE db WITH DURATION 0s",
    );
    canonical("DROP DATABASE db", "DROP DATABASE db");
    canonical(
        "CREATE RETENTION POLICY rp ON db DURATION 1h REPLICATION 2 SHARD DURATION 30m DEFAULT",
        "CREATE RETENTION POLICY rp ON db DURATION 1h REPLICATION 2 SHARD DURATION 30m DEFAULT",
    );
    canonical(
        "ALTER RETENTION POLICY rp ON db DEFAULT REPLICATION 3 DURATION 2d",
        "ALTER RETENTION POLICY rp ON db DURATION 2d REPLICATION 3 DEFAULT",
    );
    canonical(
        "ALTER RETENTION POLICY DEFAULT ON db SHARD DURATION 2h",
        "ALTER RETENTION POLICY \"default\" ON db SHARD DURATION 2h",
    );
    canonical(
        "DROP RETENTION POLICY rp ON db",
        "DROP RETENTION POLICY rp ON db",
    );
}

#[test]
fn show_statements() {
    for q in [
        "SHOW DATABASES",
        "SHOW RETENTION POLICIES",
        "SHOW RETENTION POLICIES ON db",
        "SHOW MEASUREMENTS",
        "SHOW MEASUREMENTS ON db WITH MEASUREMENT =~ /c.*/ WHERE a = 'b' LIMIT 2 OFFSET 1",
        "SHOW MEASUREMENTS WITH MEASUREMENT = cpu",
        "SHOW SERIES ON db FROM cpu WHERE a = 'b' LIMIT 1 OFFSET 2",
        "SHOW TAG KEYS ON db FROM cpu, mem WHERE a = 'b' LIMIT 1 OFFSET 1 SLIMIT 1 SOFFSET 1",
        "SHOW TAG VALUES ON db FROM cpu WITH KEY IN (a, \"b c\") WHERE a = 'x' LIMIT 1",
        "SHOW TAG VALUES WITH KEY = host",
        "SHOW TAG VALUES WITH KEY != host",
        "SHOW TAG VALUES WITH KEY =~ /h.*/",
        "SHOW TAG VALUES WITH KEY !~ /h.*/",
        "SHOW FIELD KEYS ON db FROM cpu",
        "SHOW SERIES CARDINALITY",
        "SHOW SERIES EXACT CARDINALITY ON db FROM cpu WHERE a = 'b'",
        "SHOW MEASUREMENT CARDINALITY",
        "SHOW MEASUREMENT EXACT CARDINALITY ON db",
        "SHOW TAG KEY CARDINALITY FROM cpu",
        "SHOW FIELD KEY EXACT CARDINALITY",
        "SHOW TAG VALUES CARDINALITY WITH KEY = host",
        "SHOW TAG VALUES EXACT CARDINALITY ON db WITH KEY = host",
        "SHOW CONTINUOUS QUERIES",
        "SHOW SHARDS",
        "SHOW SHARD GROUPS",
        "SHOW STATS",
        "SHOW STATS FOR 'shard'",
        "SHOW DIAGNOSTICS",
        "SHOW DIAGNOSTICS FOR 'build'",
        "SHOW USERS",
        "SHOW GRANTS FOR bob",
        "SHOW QUERIES",
        "SHOW SUBSCRIPTIONS",
    ] {
        canonical(q, q);
    }
    let Statement::ShowTagValues(s) =
        parse_statement("show tag values from cpu with key = host where region = 'x'").unwrap()
    else {
        panic!()
    };
    assert_eq!(s.key, TagKeyFilter::Eq("host".into()));
    assert_eq!(s.sources.len(), 1);
    let Statement::ShowCardinality(c) = parse_statement("SHOW SERIES EXACT CARDINALITY").unwrap()
    else {
        panic!()
    };
    assert!(c.exact);
    assert_eq!(c.kind, CardinalityKind::Series);
}

#[test]
fn users_grants_and_misc() {
    canonical(
        "CREATE USER bob WITH PASSWORD 'p' WITH ALL PRIVILEGES",
        "CREATE USER bob WITH PASSWORD 'p' WITH ALL PRIVILEGES",
    );
    canonical(
        "CREATE USER bob WITH PASSWORD 'pw'",
        "CREATE USER bob WITH PASSWORD 'pw'",
    );
    canonical("DROP USER bob", "DROP USER bob");
    canonical("SET PASSWORD FOR bob = 'x'", "SET PASSWORD FOR bob = 'x'");
    canonical("GRANT READ ON db TO bob", "GRANT READ ON db TO bob");
    canonical(
        "GRANT ALL ON db TO bob",
        "GRANT ALL PRIVILEGES ON db TO bob",
    );
    canonical("GRANT ALL PRIVILEGES TO bob", "GRANT ALL PRIVILEGES TO bob");
    canonical("REVOKE WRITE ON db FROM bob", "REVOKE WRITE ON db FROM bob");
    canonical("REVOKE ALL FROM bob", "REVOKE ALL PRIVILEGES FROM bob");
    canonical("KILL QUERY 12", "KILL QUERY 12");
    canonical("KILL QUERY 12 ON host1", "KILL QUERY 12 ON host1");
    canonical("DROP MEASUREMENT cpu", "DROP MEASUREMENT cpu");
    canonical("DROP SHARD 7", "DROP SHARD 7");
    canonical(
        "EXPLAIN ANALYZE SELECT count(v) FROM m",
        "EXPLAIN ANALYZE SELECT count(v) FROM m",
    );
    canonical("EXPLAIN SELECT v FROM m", "EXPLAIN SELECT v FROM m");
    canonical(
        "CREATE SUBSCRIPTION s ON db.rp DESTINATIONS ALL 'udp://a:1', 'udp://b:2'",
        "CREATE SUBSCRIPTION s ON db.rp DESTINATIONS ALL 'udp://a:1', 'udp://b:2'",
    );
    canonical(
        "DROP SUBSCRIPTION s ON db.rp",
        "DROP SUBSCRIPTION s ON db.rp",
    );
}

#[test]
fn continuous_queries_keep_text() {
    let q = "CREATE CONTINUOUS QUERY cq2 ON db RESAMPLE EVERY 2m FOR 10m BEGIN SELECT max(load) INTO cpu_max FROM cpu GROUP BY time(1m), host END";
    let Statement::CreateContinuousQuery(cq) = parse_statement(q).unwrap() else {
        panic!()
    };
    assert_eq!(cq.name, "cq2");
    assert_eq!(cq.database, "db");
    assert_eq!(cq.resample_every, Some(2 * M));
    assert_eq!(cq.resample_for, Some(10 * M));
    assert_eq!(cq.text, q);
    assert_eq!(
        cq.select_text,
        "SELECT max(load) INTO cpu_max FROM cpu GROUP BY time(1m), host"
    );
    assert_eq!(cq.to_string(), q);
    canonical(
        "DROP CONTINUOUS QUERY cq ON db",
        "DROP CONTINUOUS QUERY cq ON db",
    );
    // a raw CQ does not need GROUP BY time
    parse_statement("CREATE CONTINUOUS QUERY c ON db BEGIN SELECT v INTO x FROM m END").unwrap();
    assert_eq!(
        parse("CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 1h FOR 30m BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1h) END")
            .unwrap_err()
            .to_string(),
        "FOR duration must be >= GROUP BY time duration: must be a minimum of 1h, got 30m"
    );
}

#[test]
fn multiple_statements_and_empty_ones() {
    assert_eq!(parse("").unwrap().statements.len(), 0);
    assert_eq!(parse(" ; ;").unwrap().statements.len(), 0);
    let q = parse("SHOW DATABASES;; SELECT v FROM m;").unwrap();
    assert_eq!(q.statements.len(), 2);
    assert_eq!(q.to_string(), "SHOW DATABASES;\nSELECT v FROM m");
}

#[test]
fn comments_are_ignored() {
    let s = select("SELECT v -- the value\nFROM /* x */ m");
    assert_eq!(s.to_string(), "SELECT v FROM m");
}

#[test]
fn bound_parameters() {
    let mut p = BTreeMap::new();
    p.insert("host".to_string(), ParamValue::String("a'b".into()));
    p.insert("n".to_string(), ParamValue::Integer(-3));
    p.insert("f".to_string(), ParamValue::Float(1.5));
    p.insert("b".to_string(), ParamValue::Boolean(true));
    p.insert("m".to_string(), ParamValue::Identifier("my m".into()));
    p.insert("d".to_string(), ParamValue::Duration("1h".into()));
    p.insert("r".to_string(), ParamValue::Regex("a/b.*".into()));
    let q = parse_with_params(
        "SELECT v FROM $m WHERE host = $host AND n = $n AND f = $f AND b = $b AND time > now() - $d AND x =~ $r",
        &p,
    )
    .unwrap();
    assert_eq!(
        q.to_string(),
        "SELECT v FROM \"my m\" WHERE host = 'a\\'b' AND n = -3 AND f = 1.5 AND b = true AND time > now() - 1h AND x =~ /a\\/b.*/"
    );
    let err =
        parse_with_params("SELECT v FROM m WHERE host = $host", &BTreeMap::new()).unwrap_err();
    assert_eq!(
        err.full_message(),
        "error parsing query: missing parameter: host"
    );
    let mut bad = BTreeMap::new();
    bad.insert("v".to_string(), ParamValue::Unsupported("<nil>".into()));
    assert_eq!(
        parse_with_params("SELECT v FROM m WHERE v = $v", &bad)
            .unwrap_err()
            .to_string(),
        "missing parameter: unable to bind parameter with type <nil>"
    );
}

#[test]
fn error_variants_display() {
    let e = parse("SELECT value").unwrap_err();
    assert_eq!(
        e,
        ParseError::Unexpected {
            found: "EOF".into(),
            expected: "FROM".into(),
            line: 1,
            char: 14
        }
    );
    assert_eq!(
        e.full_message(),
        "error parsing query: found EOF, expected FROM at line 1, char 14"
    );
}

#[test]
fn walk_visits_every_node() {
    let e = parse_expr("mean(a) + b * (c - 1)").unwrap();
    let mut refs = Vec::new();
    e.walk(&mut |n| {
        if let Expr::VarRef { name, .. } = n {
            refs.push(name.clone());
        }
    });
    assert_eq!(refs, ["a", "b", "c"]);
}
