//! Property tests: generated ASTs print (Display) and parse back to an equal AST; arbitrary
//! input never panics the parser; the translator's SQL for generated conditions is
//! well-formed (quotes and parentheses balanced).
//!
//! These are also fuzz targets: `HYPERBYTE_FUZZ_CASES` (or `PROPTEST_CASES`) sets the
//! cases per property; the default is short enough for every test run, and
//! `cargo xtask fuzz` runs them with a large count.
#![allow(clippy::unwrap_used)]

use hyperbyte_domain::FieldType;
use hyperbyte_timeseriesql::ast::*;
use hyperbyte_timeseriesql::parse;
use hyperbyte_timeseriesql::translate::{condition_sql, ColumnRef};
use proptest::prelude::*;

/// Cases per property: `HYPERBYTE_FUZZ_CASES`, else `PROPTEST_CASES`, else `default`.
fn cases(default: u32) -> u32 {
    ["HYPERBYTE_FUZZ_CASES", "PROPTEST_CASES"]
        .iter()
        .find_map(|k| std::env::var(k).ok()?.parse().ok())
        .unwrap_or(default)
}

/// Resolves generated names to every kind of column (and to none).
fn resolve(name: &str) -> ColumnRef {
    match name.len() % 7 {
        0 => ColumnRef::Tag(format!("t_{name}")),
        1 => ColumnRef::Field(format!("f_{name}"), FieldType::Float),
        2 => ColumnRef::Field(format!("f_{name}"), FieldType::Integer),
        3 => ColumnRef::Field(format!("f_{name}"), FieldType::String),
        4 => ColumnRef::Field(format!("f_{name}"), FieldType::Boolean),
        5 => ColumnRef::Field(format!("f_{name}"), FieldType::Unsigned),
        _ => ColumnRef::Missing,
    }
}

/// Whether ClickHouse would see balanced quotes (`'...'` and `` `...` `` with backslash
/// escapes) and balanced parentheses outside them.
fn well_formed_sql(sql: &str) -> Result<(), String> {
    let mut depth = 0i64;
    let mut quote: Option<char> = None;
    let mut it = sql.chars();
    while let Some(c) = it.next() {
        match (quote, c) {
            (Some(_), '\\') if it.next().is_none() => return Err("escape at end".into()),
            (Some(_), '\\') => {}
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced )".into());
                }
            }
            (None, ';') => return Err("statement separator".into()),
            _ => {}
        }
    }
    match (quote, depth) {
        (None, 0) => Ok(()),
        (Some(q), _) => Err(format!("unterminated {q}")),
        _ => Err("unbalanced (".into()),
    }
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "value",
            "host",
            "cpu",
            "time",
            "a_b",
            "_x1",
            "select",
            "from",
            "a b",
            "x\"y",
            "é",
            "line\nbreak",
            "back\\slash",
            "a.b",
            "tag",
            "field",
            "true",
            "fill",
        ])
        .prop_map(str::to_string),
        "[a-z_][a-z0-9_]{0,6}",
    ]
}

fn func_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "mean",
        "max",
        "count",
        "sum",
        "top",
        "percentile",
        "derivative",
        "distinct",
        "now",
    ])
    .prop_map(str::to_string)
}

fn string_lit() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 '\\\\\n\t:./-]{0,12}"
}

fn regex_lit() -> impl Strategy<Value = Regex> {
    prop::sample::select(vec![
        "cpu.*", "^a/b$", "h[0-9]+", "x|y", "\\d+", ".*", "a\\\\/b",
    ])
    .prop_map(|p| Regex {
        pattern: p.to_string(),
    })
}

fn duration() -> impl Strategy<Value = i64> {
    prop_oneof![
        (0i64..10_000).prop_map(|n| n * 60_000_000_000),
        (0i64..1_000_000).prop_map(|n| n * 1_000),
        -1_000_000_000_000_000i64..1_000_000_000_000_000,
    ]
}

fn literal() -> impl Strategy<Value = Expr> {
    prop_oneof![
        (i64::MIN + 1..i64::MAX).prop_map(Expr::Integer),
        (i64::MAX as u64 + 1..=u64::MAX).prop_map(Expr::Unsigned),
        (-1e12f64..1e12).prop_map(Expr::Float),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Expr::Float),
        string_lit().prop_map(Expr::String),
        any::<bool>().prop_map(Expr::Boolean),
        duration().prop_map(Expr::Duration),
    ]
}

fn var_ref() -> impl Strategy<Value = Expr> {
    (
        name(),
        prop::option::of(prop::sample::select(vec![
            VarType::Float,
            VarType::Integer,
            VarType::Unsigned,
            VarType::String,
            VarType::Boolean,
            VarType::Field,
            VarType::Tag,
        ])),
    )
        .prop_map(|(name, data_type)| Expr::VarRef { name, data_type })
}

/// Wraps `e` in parentheses when it would not re-parse in that position.
fn child(e: Expr, parent: BinaryOp, right: bool) -> Expr {
    match &e {
        Expr::Binary { op, .. }
            if op.precedence() < parent.precedence()
                || (right && op.precedence() == parent.precedence()) =>
        {
            Expr::Paren(Box::new(e))
        }
        _ => e,
    }
}

const ARITH: [BinaryOp; 8] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Mod,
    BinaryOp::BitAnd,
    BinaryOp::BitOr,
    BinaryOp::BitXor,
];
const BOOL: [BinaryOp; 8] = [
    BinaryOp::And,
    BinaryOp::Or,
    BinaryOp::Eq,
    BinaryOp::NotEq,
    BinaryOp::Lt,
    BinaryOp::LtEq,
    BinaryOp::Gt,
    BinaryOp::GtEq,
];

/// Arithmetic expressions (valid in SELECT fields).
fn arith() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        3 => var_ref(),
        2 => literal(),
        1 => Just(Expr::Wildcard(None)),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (
                prop::sample::select(ARITH.to_vec()),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, l, r)| Expr::binary(
                    op,
                    child(l, op, false),
                    child(r, op, true)
                )),
            (func_name(), prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(n, args)| Expr::call(&n, args)),
            (func_name(), regex_lit()).prop_map(|(n, r)| Expr::call(&n, vec![Expr::Regex(r)])),
            inner.clone().prop_map(|e| Expr::Paren(Box::new(e))),
            (any::<bool>(), var_ref()).prop_map(|(neg, v)| Expr::binary(
                BinaryOp::Mul,
                Expr::Integer(if neg { -1 } else { 1 }),
                v
            )),
        ]
    })
}

/// Conditions (WHERE).
fn condition() -> impl Strategy<Value = Expr> {
    let cmp = prop_oneof![
        (prop::sample::select(BOOL[2..].to_vec()), arith(), arith())
            .prop_map(|(op, l, r)| Expr::binary(op, child(l, op, false), child(r, op, true))),
        (any::<bool>(), var_ref(), regex_lit()).prop_map(|(eq, v, r)| Expr::binary(
            if eq {
                BinaryOp::EqRegex
            } else {
                BinaryOp::NotEqRegex
            },
            v,
            Expr::Regex(r)
        )),
    ];
    cmp.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (
                prop::sample::select(BOOL[..2].to_vec()),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, l, r)| Expr::binary(
                    op,
                    child(l, op, false),
                    child(r, op, true)
                )),
            inner.prop_map(|e| Expr::Paren(Box::new(e))),
        ]
    })
}

fn opt_name() -> impl Strategy<Value = Option<String>> {
    prop::option::of(name())
}

fn measurement() -> impl Strategy<Value = Measurement> {
    (
        opt_name(),
        opt_name(),
        prop_oneof![
            name().prop_map(MeasurementName::Name),
            regex_lit().prop_map(MeasurementName::Regex)
        ],
    )
        .prop_map(|(database, retention_policy, name)| Measurement {
            database,
            retention_policy,
            name,
        })
}

fn fill() -> impl Strategy<Value = Fill> {
    prop_oneof![
        Just(Fill::Null),
        Just(Fill::None),
        Just(Fill::Previous),
        Just(Fill::Linear),
        any::<i64>()
            .prop_filter("not MIN", |i| *i != i64::MIN)
            .prop_map(Fill::Integer),
        (-1e6f64..1e6).prop_map(Fill::Float),
    ]
}

fn dimension() -> impl Strategy<Value = Expr> {
    prop_oneof![
        (1i64..100_000, prop::option::of(duration())).prop_map(|(n, off)| {
            let mut args = vec![Expr::Duration(n * 1_000_000_000)];
            if let Some(o) = off {
                args.push(Expr::Duration(o));
            }
            Expr::call("time", args)
        }),
        name().prop_map(|n| Expr::var(&n)),
        regex_lit().prop_map(Expr::Regex),
        Just(Expr::Wildcard(None)),
    ]
}

fn limit() -> impl Strategy<Value = Option<u64>> {
    prop::option::of(1u64..1_000_000)
}

fn select_stmt() -> impl Strategy<Value = SelectStatement> {
    let fields = prop::collection::vec(
        prop_oneof![
            4 => (arith(), opt_name()).prop_map(|(expr, alias)| Field { expr, alias }),
            1 => regex_lit().prop_map(|r| Field { expr: Expr::Regex(r), alias: None }),
        ],
        1..4,
    );
    let target = prop::option::of((opt_name(), opt_name(), opt_name()).prop_map(
        |(database, retention_policy, measurement)| {
            // `INTO :MEASUREMENT` needs a database or retention policy in front of it.
            let measurement = if database.is_none() && retention_policy.is_none() {
                measurement.or_else(|| Some("m".to_string()))
            } else {
                measurement
            };
            Target {
                database,
                retention_policy,
                measurement,
            }
        },
    ));
    let sort = prop_oneof![
        Just(vec![]),
        any::<bool>().prop_map(|a| vec![SortField {
            name: "time".into(),
            ascending: a
        }]),
        any::<bool>().prop_map(|a| vec![SortField {
            name: String::new(),
            ascending: a
        }]),
    ];
    (
        fields,
        target,
        prop::collection::vec(measurement(), 1..3),
        prop::option::of(condition()),
        prop::collection::vec(dimension(), 0..3),
        fill(),
        sort,
        (limit(), limit(), limit(), limit()),
        prop::option::of(
            prop::sample::select(vec!["UTC", "America/Chicago", "Europe/Paris"])
                .prop_map(str::to_string),
        ),
    )
        .prop_map(
            |(fields, target, sources, condition, dimensions, fill, sort_fields, l, timezone)| {
                SelectStatement {
                    fields,
                    target,
                    sources: sources.into_iter().map(Source::Measurement).collect(),
                    condition,
                    dimensions,
                    fill,
                    sort_fields,
                    limit: l.0,
                    offset: l.1,
                    slimit: l.2,
                    soffset: l.3,
                    timezone,
                }
            },
        )
}

fn ddl() -> impl Strategy<Value = Statement> {
    prop_oneof![
        (
            name(),
            prop::option::of(0i64..1000),
            prop::option::of(1u32..5),
            prop::option::of(1i64..100),
            opt_name()
        )
            .prop_map(|(n, d, r, s, rp)| Statement::CreateDatabase(
                CreateDatabaseStatement {
                    name: n,
                    retention_policy_create: d.is_some()
                        || r.is_some()
                        || s.is_some()
                        || rp.is_some(),
                    duration: d.map(|h| h * 3_600_000_000_000),
                    replication: r,
                    shard_duration: s.map(|h| h * 3_600_000_000_000),
                    rp_name: rp,
                }
            )),
        name().prop_map(|name| Statement::DropDatabase { name }),
        (
            name(),
            name(),
            0i64..100,
            1u32..4,
            prop::option::of(1i64..50),
            any::<bool>()
        )
            .prop_map(|(name, database, d, replication, s, default)| {
                Statement::CreateRetentionPolicy(CreateRetentionPolicyStatement {
                    name,
                    database,
                    duration: d * 86_400_000_000_000,
                    replication,
                    shard_duration: s.map(|h| h * 3_600_000_000_000),
                    default,
                })
            }),
        (
            opt_name(),
            prop::option::of(measurement()),
            prop::option::of(condition()),
            limit(),
            limit()
        )
            .prop_map(|(database, source, condition, limit, offset)| {
                Statement::ShowMeasurements(ShowMeasurementsStatement {
                    database,
                    source,
                    condition,
                    sort_fields: vec![],
                    limit,
                    offset,
                })
            }),
        (
            opt_name(),
            prop::collection::vec(name(), 1..3),
            prop::option::of(condition())
        )
            .prop_map(|(database, keys, condition)| Statement::ShowTagValues(
                ShowTagValuesStatement {
                    database,
                    sources: vec![],
                    key: TagKeyFilter::In(keys),
                    condition,
                    sort_fields: vec![],
                    limit: None,
                    offset: None,
                }
            )),
        (name(), string_lit(), any::<bool>()).prop_map(|(name, password, admin)| {
            Statement::CreateUser {
                name,
                password,
                admin,
            }
        }),
        (
            prop::collection::vec(name(), 1..2),
            prop::option::of(condition())
        )
            .prop_map(|(ms, condition)| Statement::Delete(DeleteStatement {
                sources: ms
                    .into_iter()
                    .map(|n| Measurement {
                        database: None,
                        retention_policy: None,
                        name: MeasurementName::Name(n),
                    })
                    .collect(),
                condition,
            })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(400),
        max_local_rejects: cases(400).saturating_mul(4).max(65_536),
        ..ProptestConfig::default()
    })]

    #[test]
    fn select_round_trips(s in select_stmt()) {
        let text = s.to_string();
        let parsed = parse(&text);
        prop_assert!(parsed.is_ok(), "{text:?} failed: {:?}", parsed.err());
        let q = parsed.unwrap();
        prop_assert_eq!(q.statements.len(), 1);
        prop_assert_eq!(&q.statements[0], &Statement::Select(Box::new(s)), "text: {}", text);
    }

    #[test]
    fn ddl_round_trips(st in ddl()) {
        let text = st.to_string();
        let parsed = parse(&text);
        prop_assert!(parsed.is_ok(), "{text:?} failed: {:?}", parsed.err());
        prop_assert_eq!(&parsed.unwrap().statements[0], &st, "text: {}", text);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,80}") {
        let _ = parse(&s);
    }

    #[test]
    fn translated_conditions_are_well_formed(c in condition()) {
        // Through the text, as a query would arrive.
        let text = format!("SELECT v FROM m WHERE {c}");
        let q = parse(&text).unwrap();
        let Statement::Select(s) = &q.statements[0] else { panic!() };
        let cond = s.condition.as_ref().unwrap();
        if let Ok(sql) = condition_sql(cond, &resolve) {
            prop_assert!(well_formed_sql(&sql).is_ok(), "{:?}: {sql}", well_formed_sql(&sql));
        }
        if let Some(rest) = cond_without_time(s) {
            if let Ok(sql) = condition_sql(&rest, &resolve) {
                prop_assert!(well_formed_sql(&sql).is_ok(), "{sql}");
            }
        }
    }

    #[test]
    fn mutated_queries_never_panic(
        s in select_stmt(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..4u8, any::<char>()), 1..4),
    ) {
        let mut chars: Vec<char> = s.to_string().chars().collect();
        for (at, kind, c) in edits {
            let i = at.index(chars.len() + 1);
            match kind {
                0 => chars.insert(i, c),
                1 => chars.insert(i, ['(', ')', '\'', '"', '/', '\\', ';', '$'][c as usize % 8]),
                2 if i < chars.len() => {
                    chars.remove(i);
                }
                _ if i < chars.len() => chars[i] = c,
                _ => {}
            }
        }
        let text: String = chars.into_iter().collect();
        if let Ok(q) = parse(&text) {
            let _ = q.to_string();
            for st in &q.statements {
                if let Statement::Select(sel) = st {
                    if let Some(c) = &sel.condition {
                        if let Ok(sql) = condition_sql(c, &resolve) {
                            prop_assert!(well_formed_sql(&sql).is_ok(), "{sql}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn token_soup_never_panics(toks in prop::collection::vec(prop::sample::select(vec![
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "time(", ")", "(", ",", "'s", "'x'", "\"q",
        "/re/", "/", "=~", "=", "AND", "OR", "-", "1", "1.5", "1h", "10x", "$p", "::", ".", "..",
        ";", "fill(", "tz(", "SHOW", "TAG", "VALUES", "WITH", "KEY", "CREATE", "DATABASE",
        "INTO", ":MEASUREMENT", "LIMIT", "*", "\\", "/*", "--", "\n", "mean", "é", "now()",
    ]), 0..20)) {
        let q = toks.join(" ");
        let _ = parse(&q);
        let _ = parse(&toks.concat());
    }
}

/// The condition with its time terms removed, as the query service translates it.
fn cond_without_time(s: &SelectStatement) -> Option<Expr> {
    s.condition_without_time()
}

#[test]
fn well_formed_sql_checker_rejects_broken_sql() {
    assert!(well_formed_sql("(a = 'x\\'y') AND `b\\`c` = 1").is_ok());
    for bad in ["(a", "a)", "'x", "`x", "'x\\'", "1; DROP"] {
        assert!(well_formed_sql(bad).is_err(), "{bad}");
    }
}
