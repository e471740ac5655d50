//! Deeply nested or very long input must not overflow the stack (tokio workers have
//! 2 MiB stacks): it either parses or is refused with an error.
#![allow(clippy::unwrap_used)]

use hyperbyte_timeseriesql::parse;

fn nested(depth: usize) -> String {
    format!("SELECT {}x{} FROM m", "(".repeat(depth), ")".repeat(depth))
}

/// A tokio worker's stack (2 MiB) in the release profile, which is what ships and what
/// `cargo xtask test` runs. Unoptimised debug builds use several times more stack per
/// frame (pest's descent alone overflows 2 MiB at 500 parentheses there), so a debug run
/// gets 8 MiB; `HYPERBYTE_TEST_STACK` (bytes) overrides both to probe the margin.
fn stack_size() -> usize {
    let default = if cfg!(debug_assertions) { 8 } else { 2 } * 1024 * 1024;
    std::env::var("HYPERBYTE_TEST_STACK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(stack_size())
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn moderate_nesting_parses() {
    on_small_stack(|| {
        let q = parse(&nested(100)).unwrap();
        assert_eq!(q.statements.len(), 1);
        let _ = q.to_string();
    });
}

#[test]
fn deep_nesting_never_crashes() {
    on_small_stack(|| {
        for depth in [100, 400, 500, 501, 1000, 5000, 20_000] {
            if let Ok(q) = parse(&nested(depth)) {
                let _ = q.to_string();
            }
            if let Ok(q) = parse(&format!(
                "SELECT x FROM m WHERE {}a = 1{}",
                "(".repeat(depth),
                ")".repeat(depth)
            )) {
                let _ = q.to_string();
            }
            if let Ok(q) = parse(&format!(
                "SELECT {}x{} FROM m",
                "f(".repeat(depth),
                ")".repeat(depth)
            )) {
                let _ = q.to_string();
            }
        }
        let err = parse(&nested(501)).unwrap_err().to_string();
        assert!(err.starts_with("query nesting too deep"), "{err}");
    });
}

#[test]
fn absurd_nesting_is_an_error_not_a_crash() {
    on_small_stack(|| {
        assert!(parse(&nested(100_000)).is_err());
        assert!(parse(&format!("SELECT x FROM m WHERE {}", "-(".repeat(50_000))).is_err());
        assert!(parse(&format!("SELECT {} FROM m", "f(".repeat(50_000))).is_err());
    });
}

#[test]
fn long_or_chains() {
    on_small_stack(|| {
        // 1000 values = 1999 operators: accepted and printable.
        let cond: Vec<String> = (0..1_000).map(|i| format!("host = 'h{i}'")).collect();
        let q = format!("SELECT v FROM m WHERE {}", cond.join(" OR "));
        let parsed = parse(&q).unwrap();
        assert_eq!(parsed.to_string().len(), q.len());
        // Far longer chains are refused instead of risking the stack later.
        let cond: Vec<String> = (0..50_000).map(|i| format!("host = 'h{i}'")).collect();
        let q = format!("SELECT v FROM m WHERE {}", cond.join(" OR "));
        let err = parse(&q).unwrap_err().to_string();
        assert!(err.starts_with("expression too long"), "{err}");
    });
}

// ---------------------------------------------------------------- real tree depth

use hyperbyte_timeseriesql::ast::{Expr, Statement};
use hyperbyte_timeseriesql::parser::{MAX_EXPR_DEPTH, MAX_SUBQUERY_DEPTH};
use hyperbyte_timeseriesql::translate::{condition_sql, ColumnRef};

/// A WHERE condition whose tree is exactly `depth` deep (`depth >= 3`): an OR chain of
/// tag conditions (each OR adds a level on the left spine) wrapped in parentheses.
fn or_chain_of_depth(depth: usize) -> String {
    // n terms: depth n + 1 (n - 1 ORs, the `=`, its leaves); p parens add p.
    let terms = (depth - 1).min(4_000);
    let parens = depth - 1 - terms;
    let cond: Vec<String> = (0..terms).map(|i| format!("host = 'h{i}'")).collect();
    format!(
        "SELECT v FROM m WHERE {}{}{}",
        "(".repeat(parens),
        cond.join(" OR "),
        ")".repeat(parens)
    )
}

/// `levels` nested parentheses, each holding `inner - 1 - 1 ...` (`ops` subtractions):
/// every level adds `ops + 1` to the depth (the shape of the 450,000-deep tree).
fn paren_chains(levels: usize, ops: usize) -> String {
    let mut e = String::from("x");
    for _ in 0..levels {
        e = format!("({e}{})", "-1".repeat(ops));
    }
    format!("SELECT {e} FROM m")
}

fn condition(q: &str) -> Expr {
    match parse(q).unwrap().statements.remove(0) {
        Statement::Select(s) => s.condition.unwrap(),
        _ => unreachable!(),
    }
}

fn resolve(name: &str) -> ColumnRef {
    if name == "host" {
        ColumnRef::Tag("t_host".into())
    } else {
        ColumnRef::Missing
    }
}

/// Everything this crate does with an expression, on the current (small) stack.
fn exercise(e: &Expr) {
    assert!(e.depth() <= MAX_EXPR_DEPTH);
    let text = e.to_string();
    let copy = e.clone();
    assert!(copy == *e);
    let _ = format!("{copy:?}");
    let mut nodes = 0usize;
    e.walk(&mut |_| nodes += 1);
    assert!(nodes >= e.depth());
    let _ = condition_sql(e, &resolve);
    drop(copy);
    assert!(!text.is_empty());
}

#[test]
fn tree_depth_is_bounded_not_just_nesting_and_chain_length() {
    on_small_stack(|| {
        // 150 levels of parentheses, each with a 3,000-term chain: 450,150 deep.
        let q = paren_chains(150, 3_000);
        let err = parse(&q).unwrap_err();
        assert!(
            err.full_message()
                .starts_with("error parsing query: expression too deep (more than 4096 levels)"),
            "{err}"
        );
        // Same shape in a WHERE clause and inside function arguments.
        let err = parse(&format!(
            "SELECT v FROM m WHERE {}",
            &paren_chains(150, 3_000)["SELECT ".len()..]
                .trim_end_matches(" FROM m")
                .replace('x', "v > 0")
        ))
        .unwrap_err();
        assert!(err.to_string().starts_with("expression too deep"), "{err}");
        let err = parse(&paren_chains(200, 30).replace('x', "mean(v)")).unwrap_err();
        assert!(err.to_string().starts_with("expression too deep"), "{err}");
    });
}

#[test]
fn depth_at_the_bound_parses_prints_translates_and_drops_on_2_mib() {
    on_small_stack(|| {
        for q in [
            or_chain_of_depth(MAX_EXPR_DEPTH),
            format!(
                "SELECT v FROM m WHERE v > 0{}",
                "-1".repeat(MAX_EXPR_DEPTH - 2)
            ),
        ] {
            let e = condition(&q);
            assert_eq!(e.depth(), MAX_EXPR_DEPTH);
            exercise(&e);
            let q = parse(&q).unwrap();
            assert_eq!(parse(&q.to_string()).unwrap(), q);
        }
        // Parenthesised chains: 455 levels of 8 subtractions = 4,096 with the leaf.
        let q = paren_chains(455, 8);
        let parsed = parse(&q).unwrap();
        let Statement::Select(s) = &parsed.statements[0] else {
            unreachable!()
        };
        assert_eq!(s.fields[0].expr.depth(), MAX_EXPR_DEPTH);
        exercise(&s.fields[0].expr);
        assert_eq!(parse(&parsed.to_string()).unwrap(), parsed);
    });
}

#[test]
fn one_level_past_the_bound_is_a_parse_error() {
    on_small_stack(|| {
        for q in [
            or_chain_of_depth(MAX_EXPR_DEPTH + 1),
            format!(
                "SELECT v FROM m WHERE v > 0{}",
                "-1".repeat(MAX_EXPR_DEPTH - 1)
            ),
            paren_chains(455, 8).replacen("x", "-x", 1),
        ] {
            let err = parse(&q).unwrap_err();
            assert_eq!(
                err.full_message().split(" at line").next().unwrap(),
                "error parsing query: expression too deep (more than 4096 levels)",
                "{q:.80}"
            );
        }
    });
}

#[test]
fn long_flat_or_chains_of_tag_conditions_still_work() {
    on_small_stack(|| {
        for terms in [3_000, 4_000] {
            let cond: Vec<String> = (0..terms).map(|i| format!("host = 'h{i}'")).collect();
            let q = format!("SELECT v FROM m WHERE {}", cond.join(" OR "));
            let e = condition(&q);
            assert_eq!(e.depth(), terms + 1);
            exercise(&e);
        }
    });
}

fn nested_subqueries(levels: usize) -> String {
    let mut q = String::from("SELECT v FROM m");
    for _ in 0..levels {
        q = format!("SELECT * FROM ({q})");
    }
    q
}

#[test]
fn subquery_depth_is_bounded() {
    on_small_stack(|| {
        let q = parse(&nested_subqueries(MAX_SUBQUERY_DEPTH)).unwrap();
        assert_eq!(parse(&q.to_string()).unwrap(), q);
        let err = parse(&nested_subqueries(MAX_SUBQUERY_DEPTH + 1)).unwrap_err();
        assert_eq!(
            err.full_message(),
            "error parsing query: subqueries nested too deep (more than 32 levels) at line 1, char 495"
        );
        // Far deeper: refused by the nesting limit before pest recurses.
        assert!(parse(&nested_subqueries(5_000)).is_err());
    });
}

#[test]
fn depth_helper_is_iterative() {
    // A tree far deeper than any stack allows: depth() must not recurse. (Built by hand;
    // dropping it recursively would overflow, so it is leaked.)
    let mut e = Expr::Integer(1);
    for _ in 0..1_000_000 {
        e = Expr::Paren(Box::new(e));
    }
    let e = Box::leak(Box::new(e));
    on_small_stack(move || assert_eq!(e.depth(), 1_000_001));
}
