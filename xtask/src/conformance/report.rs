//! What a replay prints: one `FAIL` line (plus problem lines) per failing check, the
//! per-category table, and `N passed, N failed`; optionally a JSON report with one
//! object per check (the recorder's `--report` layout).

use super::replay::Outcome;
use anyhow::{Context, Result};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

/// Passed and failed checks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) passed: u64,
    pub(crate) failed: u64,
}

impl Counts {
    pub(crate) fn total(&self) -> u64 {
        self.passed + self.failed
    }

    fn add(&mut self, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }
}

/// The lines printed for a failing check (none for a passing one).
pub(crate) fn failure_lines(o: &Outcome) -> Vec<String> {
    if o.ok() {
        return Vec::new();
    }
    let mut lines = vec![format!("FAIL {}[{}] {}", o.case, o.index, o.check)];
    lines.extend(o.problems.iter().map(|p| format!("     {p}")));
    lines
}

/// Checks passed and failed, by category and in all.
pub(crate) fn tally(outcomes: &[Outcome]) -> (BTreeMap<&str, Counts>, Counts) {
    let mut per = BTreeMap::new();
    let mut all = Counts::default();
    for o in outcomes {
        per.entry(o.category.as_str())
            .or_insert_with(Counts::default)
            .add(o.ok());
        all.add(o.ok());
    }
    (per, all)
}

/// The per-category table, its `all` row last.
pub(crate) fn table(outcomes: &[Outcome]) -> Vec<String> {
    let (per, all) = tally(outcomes);
    let row =
        |name: &str, c: &Counts| format!("{name:22} {:7} {:7} {:7}", c.passed, c.failed, c.total());
    let mut lines = vec![format!(
        "{:22} {:>7} {:>7} {:>7}",
        "category", "passed", "failed", "total"
    )];
    lines.extend(per.iter().map(|(name, c)| row(name, c)));
    lines.push(row("all", &all));
    lines
}

/// Writes the JSON report: `[{"case", "category", "index", "check", "ok", "problem"}]`.
pub(crate) fn write_json(path: &Path, outcomes: &[Outcome]) -> Result<()> {
    let list: Vec<_> = outcomes
        .iter()
        .map(|o| {
            json!({
                "case": o.case,
                "category": o.category,
                "index": o.index,
                "check": o.check,
                "ok": o.ok(),
                "problem": o.problems.join("; "),
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&list)?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(cat: &str, ok: bool) -> Outcome {
        Outcome {
            case: format!("{cat}--x"),
            category: cat.into(),
            index: 2,
            check: "GET /ping".into(),
            problems: if ok {
                vec![]
            } else {
                vec!["status: expected 204, got 500".into()]
            },
        }
    }

    #[test]
    fn table_counts_by_category() {
        let outs = [o("where", true), o("fill", false), o("where", true)];
        assert_eq!(
            table(&outs),
            vec![
                "category                passed  failed   total",
                "fill                         0       1       1",
                "where                        2       0       2",
                "all                          2       1       3",
            ]
        );
        assert_eq!(
            tally(&outs).1,
            Counts {
                passed: 2,
                failed: 1
            }
        );
        assert_eq!(
            failure_lines(&outs[1]),
            vec![
                "FAIL fill--x[2] GET /ping",
                "     status: expected 204, got 500"
            ]
        );
        assert!(failure_lines(&outs[0]).is_empty());
    }
}
