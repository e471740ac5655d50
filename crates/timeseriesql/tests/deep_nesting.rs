//! Deeply nested input must not overflow the stack (tokio workers have 2 MiB stacks).
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
        for depth in [500, 1000, 2000, 5000, 10_000, 20_000] {
            if let Ok(q) = parse(&nested(depth)) {
                let _ = q.to_string();
            }
            let _ = parse(&format!(
                "SELECT x FROM m WHERE {}a = 1{}",
                "(".repeat(depth),
                ")".repeat(depth)
            ));
            let _ = parse(&format!(
                "SELECT {}x{} FROM m",
                "f(".repeat(depth),
                ")".repeat(depth)
            ));
        }
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
