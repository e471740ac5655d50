//! Deeply nested or very long input must not overflow the stack (tokio workers have
//! 2 MiB stacks): it either parses or is refused with an error.
#![allow(clippy::unwrap_used)]

use hyperbyte_timeseriesql::parse;

fn nested(depth: usize) -> String {
    format!("SELECT {}x{} FROM m", "(".repeat(depth), ")".repeat(depth))
}

fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
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
