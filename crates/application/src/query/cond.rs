//! Evaluation of `WHERE` conditions against a series' tag set, for metadata statements
//! (SHOW SERIES / TAG VALUES / MEASUREMENTS, DROP SERIES, DELETE) served from the series
//! index. Time comparisons are ignored here (they bound data, not series); comparisons on
//! names that are not tags compare against the empty string, as InfluxDB does for missing
//! tags.

use hyperbyte_timeseriesql::ast::{BinaryOp, Expr};
use std::collections::HashMap;

/// A compiled-regex cache keyed by pattern.
#[derive(Debug, Default)]
pub(crate) struct Regexes(HashMap<String, Option<regex::Regex>>);

impl Regexes {
    pub(crate) fn get(&mut self, pattern: &str) -> Option<&regex::Regex> {
        self.0
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(pattern).ok())
            .as_ref()
    }
}

/// Whether the tag set satisfies the condition (`None` condition matches everything).
pub(crate) fn tags_match(cond: Option<&Expr>, tags: &[(String, String)], re: &mut Regexes) -> bool {
    match cond {
        None => true,
        Some(c) => eval(c, tags, re).unwrap_or(true),
    }
}

fn tag_value<'a>(tags: &'a [(String, String)], key: &str) -> &'a str {
    tags.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// `Some(bool)` for a decided predicate, `None` for a term that does not constrain series
/// (time comparisons, field comparisons).
fn eval(e: &Expr, tags: &[(String, String)], re: &mut Regexes) -> Option<bool> {
    match e {
        Expr::Paren(inner) => eval(inner, tags, re),
        Expr::Binary { op, lhs, rhs } => match op {
            BinaryOp::And => match (eval(lhs, tags, re), eval(rhs, tags, re)) {
                (Some(a), Some(b)) => Some(a && b),
                (Some(a), None) | (None, Some(a)) => Some(a),
                (None, None) => None,
            },
            BinaryOp::Or => match (eval(lhs, tags, re), eval(rhs, tags, re)) {
                (Some(a), Some(b)) => Some(a || b),
                // An undecided side may match anything.
                _ => None,
            },
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::EqRegex
            | BinaryOp::NotEqRegex
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq => {
                if lhs.is_time_ref() || rhs.is_time_ref() {
                    return None;
                }
                let (name, lit) = match (lhs.unparen(), rhs.unparen()) {
                    (Expr::VarRef { name, .. }, other) => (name.as_str(), other),
                    (other, Expr::VarRef { name, .. }) => (name.as_str(), other),
                    _ => return None,
                };
                let actual = tag_value(tags, name);
                match (op, lit) {
                    (BinaryOp::Eq, Expr::String(s)) => Some(actual == s),
                    (BinaryOp::NotEq, Expr::String(s)) => Some(actual != s),
                    (BinaryOp::EqRegex, Expr::Regex(r)) => {
                        re.get(&r.pattern).map(|x| x.is_match(actual))
                    }
                    (BinaryOp::NotEqRegex, Expr::Regex(r)) => {
                        re.get(&r.pattern).map(|x| !x.is_match(actual))
                    }
                    (BinaryOp::Lt, Expr::String(s)) => Some(actual < s.as_str()),
                    (BinaryOp::LtEq, Expr::String(s)) => Some(actual <= s.as_str()),
                    (BinaryOp::Gt, Expr::String(s)) => Some(actual > s.as_str()),
                    (BinaryOp::GtEq, Expr::String(s)) => Some(actual >= s.as_str()),
                    _ => None,
                }
            }
            _ => None,
        },
        Expr::Boolean(b) => Some(*b),
        _ => None,
    }
}

/// Whether the condition mentions `time`.
pub(crate) fn has_time(cond: Option<&Expr>) -> bool {
    cond.is_some_and(|c| c.any(&mut |e| e.is_time_ref()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cond(q: &str) -> Expr {
        let stmt = hyperbyte_timeseriesql::parse(&format!("SHOW SERIES WHERE {q}"))
            .unwrap()
            .statements
            .remove(0);
        match stmt {
            hyperbyte_timeseriesql::ast::Statement::ShowSeries(s) => s.condition.unwrap(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn matches_tags() {
        let tags = vec![("host".to_string(), "a".to_string())];
        let mut re = Regexes::default();
        assert!(tags_match(Some(&cond("host = 'a'")), &tags, &mut re));
        assert!(!tags_match(Some(&cond("host = 'b'")), &tags, &mut re));
        assert!(tags_match(
            Some(&cond("host =~ /^a/ AND region = ''")),
            &tags,
            &mut re
        ));
        assert!(tags_match(
            Some(&cond("host = 'b' OR host = 'a'")),
            &tags,
            &mut re
        ));
        assert!(tags_match(
            Some(&cond("host = 'a' AND time > now() - 1h")),
            &tags,
            &mut re
        ));
    }
}
