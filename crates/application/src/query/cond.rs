//! Evaluation of `WHERE` conditions against a series' tag set: for metadata statements
//! (SHOW SERIES / TAG VALUES / MEASUREMENTS, DROP SERIES, DELETE) served from the series
//! index, and for the series a read may take its points from. Time comparisons are
//! ignored here (they bound data, not series); a name that is not a tag compares with a
//! string as the empty string, as InfluxDB does for missing tags; two tags compare as
//! [`TagPairs`] says; comparisons of constants are folded first.
//!
//! [`index_candidates`] reads a condition the other way round: which (tag key, tag value)
//! pairs a matching series must carry, so the series index's per-value lists can stand in
//! for a scan of every series (`host = 'x'` → only the series with that value).

use hyperbyte_timeseriesql::ast::{BinaryOp, Expr};
use std::collections::HashMap;

/// A compiled-regex cache keyed by pattern.
#[derive(Debug, Default)]
pub(crate) struct Regexes(HashMap<String, Option<regex::Regex>>);

impl Regexes {
    pub(crate) fn get(&mut self, pattern: &str) -> Option<&regex::Regex> {
        // Looked up without allocating: conditions are evaluated once per series.
        if !self.0.contains_key(pattern) {
            self.0
                .insert(pattern.to_string(), regex::Regex::new(pattern).ok());
        }
        self.0.get(pattern).and_then(Option::as_ref)
    }
}

/// Whether a series of `measurement` with these tags satisfies the condition as
/// InfluxDB's series index decides it (`None` matches everything; two tags compare by
/// [`TagPairs::Keys`]; `_name` is the measurement). A comparison with a name `is_field`
/// accepts lets every series through, as in the index of `SHOW SERIES`, `SHOW TAG KEYS`
/// and `SHOW TAG VALUES`; `DELETE` and `DROP SERIES` refuse fields before they get here.
pub(crate) fn series_match(
    cond: Option<&Expr>,
    measurement: &str,
    tags: &[(String, String)],
    re: &mut Regexes,
    is_field: &dyn Fn(&str) -> bool,
) -> bool {
    match cond {
        None => true,
        Some(c) => {
            let named = Named { measurement, tags };
            eval(c, &named, re, is_field, TagPairs::Keys).unwrap_or(true)
        }
    }
}

/// A condition as a read of points decides it (InfluxDB answers the cardinalities with a
/// condition and `SHOW SERIES` over a time range with one): a name compared with a
/// number, a boolean, a duration or arithmetic matches no series, whatever the operator.
/// Constants stay for [`series_match`] to fold.
pub(crate) fn as_read_of_points(cond: &Expr) -> Expr {
    match cond {
        Expr::Paren(inner) => Expr::Paren(Box::new(as_read_of_points(inner))),
        Expr::Binary { op, lhs, rhs } if matches!(op, BinaryOp::And | BinaryOp::Or) => {
            Expr::binary(*op, as_read_of_points(lhs), as_read_of_points(rhs))
        }
        Expr::Binary { op, lhs, rhs } if op.is_comparison() => {
            let no_point = super::select::constant_comparison(cond).is_none()
                && var_and_operand(lhs, rhs).is_some_and(|(_, other)| {
                    !matches!(
                        other,
                        Expr::String(_) | Expr::Regex(_) | Expr::VarRef { .. } | Expr::Call { .. }
                    )
                });
            if no_point {
                Expr::Boolean(false)
            } else {
                cond.clone()
            }
        }
        other => other.clone(),
    }
}

/// How `=` and `!=` between two tags hold: InfluxDB 1.6 decides them one way in reads and
/// another in its series index (checked against it). A name neither tag nor field is a
/// tag no series carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagPairs {
    /// Reads (`SELECT`): `a = b` when `a` is present and both have one value (an absent
    /// tag equals nothing, not even itself); `a != b` is its negation. Ordering two tags
    /// never holds.
    Values,
    /// The series index (`SHOW SERIES`, `SHOW TAG VALUES`, `DROP SERIES`, `DELETE`):
    /// `a = b` for a series carrying both keys, whatever their values; `a != b` for one
    /// carrying `a` and not `b`.
    Keys,
}

/// A comparison of tags `a` and `b` of `tags` under `rule`; `None` when either is a field
/// (decided per point) or for an operator the rule does not decide.
fn tag_pair(
    op: BinaryOp,
    (a, b): (&str, &str),
    tags: &dyn TagSet,
    is_field: &dyn Fn(&str) -> bool,
    rule: TagPairs,
) -> Option<bool> {
    if a == "time" || b == "time" || is_field(a) || is_field(b) {
        return None;
    }
    let (x, y) = (tags.tag(a), tags.tag(b));
    match (rule, op) {
        (TagPairs::Values, BinaryOp::Eq) => Some(!x.is_empty() && x == y),
        (TagPairs::Values, BinaryOp::NotEq) => Some(x.is_empty() || x != y),
        (TagPairs::Values, BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq) => {
            Some(false)
        }
        (TagPairs::Keys, BinaryOp::Eq) => Some(!x.is_empty() && !y.is_empty()),
        (TagPairs::Keys, BinaryOp::NotEq) => Some(!x.is_empty() && y.is_empty()),
        _ => None,
    }
}

/// A series' tag set, looked up by key (a missing tag reads as the empty string).
pub(crate) trait TagSet {
    /// The value of `key`, or `""`.
    fn tag(&self, key: &str) -> &str;
}

/// A series' sorted tags and its measurement, which `_name` names.
struct Named<'a> {
    measurement: &'a str,
    tags: &'a [(String, String)],
}

impl TagSet for Named<'_> {
    fn tag(&self, key: &str) -> &str {
        match self.tags.iter().find(|(k, _)| k == key) {
            Some((_, v)) => v,
            None if key == "_name" => self.measurement,
            None => "",
        }
    }
}

impl TagSet for std::collections::BTreeMap<String, String> {
    fn tag(&self, key: &str) -> &str {
        self.get(key).map(String::as_str).unwrap_or("")
    }
}

/// What a storage read keeps: series whose tags may satisfy `cond` (comparisons on
/// fields and time are left undecided), points in `[min, max]` carrying one of `fields`.
pub(crate) struct ReadFilter<'a> {
    cond: Option<&'a Expr>,
    /// The fields to return.
    pub(crate) fields: &'a [String],
    /// Earliest time (inclusive).
    pub(crate) min: Option<i64>,
    /// Latest time (inclusive).
    pub(crate) max: Option<i64>,
    is_field: Option<&'a dyn Fn(&str) -> bool>,
    re: Regexes,
    /// At most this many rows are read (`None`: all): a reader stops there, so a query
    /// its limits will refuse never materialises more than one row past them.
    pub(crate) cap: Option<usize>,
    /// Per series, only its first (or last) rows by time: an answer that shows only its
    /// first `rows` rows in that direction takes no others from any series.
    pub(crate) top: Option<hyperbyte_timeseriesql::sql::TopRows>,
}

impl<'a> ReadFilter<'a> {
    /// A filter; names in `cond` count as tags unless [`with_fields`](Self::with_fields)
    /// says otherwise.
    pub(crate) fn new(
        cond: Option<&'a Expr>,
        fields: &'a [String],
        min: Option<i64>,
        max: Option<i64>,
    ) -> Self {
        ReadFilter {
            cond,
            fields,
            min,
            max,
            is_field: None,
            re: Regexes::default(),
            cap: None,
            top: None,
        }
    }

    /// Reads take at most `top.rows` rows of each series, from its earliest (or, when
    /// descending, its latest) time.
    pub(crate) fn with_top(mut self, top: Option<hyperbyte_timeseriesql::sql::TopRows>) -> Self {
        self.top = top;
        self
    }

    /// Reads stop after `cap` rows (`None`: no cap).
    pub(crate) fn with_cap(mut self, cap: Option<u64>) -> Self {
        self.cap = cap.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        self
    }

    /// Names for which `is_field` holds are fields: comparisons on them stay undecided.
    pub(crate) fn with_fields(mut self, is_field: &'a dyn Fn(&str) -> bool) -> Self {
        self.is_field = Some(is_field);
        self
    }

    /// The tag pairs a series must carry one of to pass the condition, looked up in
    /// `index` ([`index_candidates`], names [`with_fields`](Self::with_fields) calls fields
    /// never narrowing); `None` without a condition or when it does not narrow series
    /// down that way. The candidates still have to pass
    /// [`series_may_match`](Self::series_may_match).
    pub(crate) fn tag_candidates(&mut self, index: &mut dyn TagIndex) -> Option<Candidates> {
        let cond = self.cond?;
        let is_field = self.is_field.unwrap_or(&|_| false);
        index_candidates(cond, index, &mut self.re, is_field)
    }

    /// Whether a series with these tags may hold matching points.
    pub(crate) fn series_may_match(&mut self, tags: &dyn TagSet) -> bool {
        match self.cond {
            None => true,
            Some(c) => {
                let is_field = self.is_field.unwrap_or(&|_| false);
                eval(c, tags, &mut self.re, is_field, TagPairs::Values).unwrap_or(true)
            }
        }
    }
}

impl std::fmt::Debug for ReadFilter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadFilter")
            .field("cond", &self.cond)
            .field("fields", &self.fields)
            .field("min", &self.min)
            .field("max", &self.max)
            .finish()
    }
}

/// Whether [`ReadFilter::series_may_match`] decides `cond` exactly (every term compares a
/// tag, not a field (`is_field`) or time, with a string or regex literal), so points of the
/// accepted series need no further check.
pub(crate) fn decided_by_tags(cond: &Expr, is_field: &dyn Fn(&str) -> bool) -> bool {
    match cond {
        Expr::Paren(inner) => decided_by_tags(inner, is_field),
        Expr::Boolean(_) => true,
        Expr::Binary { op, lhs, rhs } => match op {
            BinaryOp::And | BinaryOp::Or => {
                decided_by_tags(lhs, is_field) && decided_by_tags(rhs, is_field)
            }
            _ => match (op, lhs.unparen(), rhs.unparen()) {
                (
                    BinaryOp::Eq
                    | BinaryOp::NotEq
                    | BinaryOp::Lt
                    | BinaryOp::LtEq
                    | BinaryOp::Gt
                    | BinaryOp::GtEq,
                    Expr::VarRef { name, .. },
                    Expr::String(_),
                )
                | (
                    BinaryOp::EqRegex | BinaryOp::NotEqRegex,
                    Expr::VarRef { name, .. },
                    Expr::Regex(_),
                ) => name != "time" && !is_field(name),
                _ => false,
            },
        },
        _ => false,
    }
}

/// The name and the other operand of a comparison between a name (not `time`) and
/// something else, either way round.
fn var_and_operand<'e>(lhs: &'e Expr, rhs: &'e Expr) -> Option<(&'e str, &'e Expr)> {
    if lhs.is_time_ref() || rhs.is_time_ref() {
        return None;
    }
    match (lhs.unparen(), rhs.unparen()) {
        (Expr::VarRef { name, .. }, other) | (other, Expr::VarRef { name, .. }) => {
            Some((name.as_str(), other))
        }
        _ => None,
    }
}

/// `Some(bool)` for a decided predicate, `None` for a term that does not constrain series
/// (time comparisons, comparisons on names `is_field` accepts, non-string literals).
fn eval(
    e: &Expr,
    tags: &dyn TagSet,
    re: &mut Regexes,
    is_field: &dyn Fn(&str) -> bool,
    rule: TagPairs,
) -> Option<bool> {
    match e {
        Expr::Paren(inner) => eval(inner, tags, re, is_field, rule),
        Expr::Binary { op, lhs, rhs } => match op {
            BinaryOp::And => match (
                eval(lhs, tags, re, is_field, rule),
                eval(rhs, tags, re, is_field, rule),
            ) {
                (Some(a), Some(b)) => Some(a && b),
                (Some(a), None) | (None, Some(a)) => Some(a),
                (None, None) => None,
            },
            BinaryOp::Or => match (
                eval(lhs, tags, re, is_field, rule),
                eval(rhs, tags, re, is_field, rule),
            ) {
                (Some(a), Some(b)) => Some(a || b),
                // An undecided side may match anything.
                _ => None,
            },
            op if op.is_comparison() => {
                // Constants are folded first, as InfluxDB reduces a condition
                // (`host = 'a' OR 1 = 2` is `host = 'a'`).
                if let Some(c) = super::select::constant_comparison(e) {
                    return Some(c);
                }
                if let (Expr::VarRef { name: a, .. }, Expr::VarRef { name: b, .. }) =
                    (lhs.unparen(), rhs.unparen())
                {
                    return tag_pair(*op, (a, b), tags, is_field, rule);
                }
                let (name, lit) = var_and_operand(lhs, rhs)?;
                if is_field(name) {
                    return None;
                }
                let actual = tags.tag(name);
                match (op, lit) {
                    (BinaryOp::Eq, Expr::String(s)) => Some(actual == s),
                    (BinaryOp::NotEq, Expr::String(s)) => Some(actual != s),
                    (BinaryOp::EqRegex, Expr::Regex(r)) => {
                        re.get(&r.pattern).map(|x| x.is_match(actual))
                    }
                    (BinaryOp::NotEqRegex, Expr::Regex(r)) => {
                        re.get(&r.pattern).map(|x| !x.is_match(actual))
                    }
                    // InfluxDB orders numbers only: a tag never satisfies `<`, `<=`,
                    // `>` or `>=` in a read (SHOW statements refuse the operator).
                    (
                        BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq,
                        Expr::String(_),
                    ) => Some(false),
                    // (A tag compared with a number or boolean matches no point, but the
                    // series still count: InfluxDB's index leaves such a term to the
                    // points, and an aggregate's type error shows.)
                    _ => None,
                }
            }
            _ => None,
        },
        Expr::Boolean(b) => Some(*b),
        _ => None,
    }
}

/// Tag (key, value) pairs such that every series matching a condition carries at least
/// one of them (the union of their series is a superset of the matches; the condition
/// must still be applied to each), with the number of series behind them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidates {
    /// The pairs (a series may carry several of them).
    pub(crate) pairs: Vec<(String, String)>,
    /// Sum of the pairs' series counts (an upper bound of the candidates).
    pub(crate) total: usize,
}

/// What [`index_candidates`] needs from the series index of one measurement.
pub(crate) trait TagIndex {
    /// Distinct values of a tag key, sorted.
    fn values(&mut self, key: &str) -> Vec<String>;
    /// Number of series carrying `key` = `value`.
    fn count(&mut self, key: &str, value: &str) -> usize;
}

/// The pairs a series must carry one of to match `cond` (see [`Candidates`]), or `None`
/// when the condition does not narrow series down that way (e.g. `host != 'a'`, or an
/// `OR` with an unconstrained side). Mirrors [`series_match`]'s semantics: a conjunct
/// `k = 'v'` (non-empty `v`) or `k =~ /re/` (a regex that does not match the empty string)
/// can only hold for series carrying a matching value of `k`; any decided `false` conjunct
/// fails the whole `AND`, and an `OR` is decided only when both sides are. A comparison
/// on a name `is_field` accepts constrains points, not series: it never narrows.
pub(crate) fn index_candidates(
    cond: &Expr,
    index: &mut dyn TagIndex,
    re: &mut Regexes,
    is_field: &dyn Fn(&str) -> bool,
) -> Option<Candidates> {
    match cond {
        Expr::Paren(inner) => index_candidates(inner, index, re, is_field),
        Expr::Binary { op, lhs, rhs } => match op {
            BinaryOp::And => {
                let a = index_candidates(lhs, index, re, is_field);
                let b = index_candidates(rhs, index, re, is_field);
                match (a, b) {
                    (Some(a), Some(b)) => Some(if b.total < a.total { b } else { a }),
                    (Some(x), None) | (None, Some(x)) => Some(x),
                    (None, None) => None,
                }
            }
            BinaryOp::Or => {
                let mut a = index_candidates(lhs, index, re, is_field)?;
                let b = index_candidates(rhs, index, re, is_field)?;
                a.pairs.extend(b.pairs);
                a.total += b.total;
                Some(a)
            }
            BinaryOp::Eq | BinaryOp::EqRegex => {
                let (name, lit) = var_and_operand(lhs, rhs)?;
                if is_field(name) {
                    return None;
                }
                match (op, lit) {
                    (BinaryOp::Eq, Expr::String(v)) if !v.is_empty() => {
                        let total = index.count(name, v);
                        Some(Candidates {
                            pairs: vec![(name.to_string(), v.clone())],
                            total,
                        })
                    }
                    (BinaryOp::EqRegex, Expr::Regex(r)) => {
                        let rx = re.get(&r.pattern)?;
                        if rx.is_match("") {
                            return None;
                        }
                        let mut out = Candidates {
                            pairs: Vec::new(),
                            total: 0,
                        };
                        for v in index.values(name) {
                            if rx.is_match(&v) {
                                out.total += index.count(name, &v);
                                out.pairs.push((name.to_string(), v));
                            }
                        }
                        Some(out)
                    }
                    _ => None,
                }
            }
            _ => None,
        },
        _ => None,
    }
}

/// Whether the condition mentions `time`.
pub(crate) fn has_time(cond: Option<&Expr>) -> bool {
    cond.is_some_and(|c| c.any(&mut |e| e.is_time_ref()))
}

/// InfluxDB's refusal of a time term in the condition of a statement that has no time
/// range (`DROP SERIES`, `SHOW MEASUREMENTS`, the cardinalities).
pub(crate) fn refuse_time(
    cond: Option<&Expr>,
    statement: &str,
) -> Result<(), super::StatementError> {
    if has_time(cond) {
        return Err(super::StatementError::new(format!(
            "{statement} doesn't support time in WHERE clause"
        )));
    }
    Ok(())
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

    /// A toy index: host ∈ {a, b, c} (10 series each), region ∈ {east} (30 series).
    struct Toy;

    impl TagIndex for Toy {
        fn values(&mut self, key: &str) -> Vec<String> {
            match key {
                "host" => vec!["a".into(), "b".into(), "c".into()],
                "region" => vec!["east".into()],
                _ => vec![],
            }
        }
        fn count(&mut self, key: &str, value: &str) -> usize {
            match (key, value) {
                ("host", "a" | "b" | "c") => 10,
                ("region", "east") => 30,
                _ => 0,
            }
        }
    }

    fn cands(q: &str) -> Option<Vec<(String, String)>> {
        index_candidates(&cond(q), &mut Toy, &mut Regexes::default(), &|_| false).map(|c| c.pairs)
    }

    fn pairs(p: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn finds_index_candidates() {
        assert_eq!(cands("host = 'a'"), pairs(&[("host", "a")]));
        assert_eq!(cands("'a' = host"), pairs(&[("host", "a")]));
        assert_eq!(cands("(host = 'zz')"), pairs(&[("host", "zz")]));
        // The most selective conjunct wins; undecided conjuncts are ignored.
        assert_eq!(
            cands("region = 'east' AND host = 'b'"),
            pairs(&[("host", "b")])
        );
        assert_eq!(
            cands("host = 'b' AND time > now() - 1h AND host != 'c'"),
            pairs(&[("host", "b")])
        );
        assert_eq!(
            cands("host = 'a' OR host = 'c'"),
            pairs(&[("host", "a"), ("host", "c")])
        );
        assert_eq!(
            cands("host =~ /^[ab]$/"),
            pairs(&[("host", "a"), ("host", "b")])
        );
        assert_eq!(cands("host =~ /^x/"), pairs(&[]));
        // Not narrowing: empty values and regexes that match a missing tag, negations,
        // an OR with an unconstrained side, time.
        assert_eq!(cands("host = ''"), None);
        assert_eq!(cands("host =~ /.*/"), None);
        assert_eq!(cands("host != 'a'"), None);
        assert_eq!(cands("host = 'a' OR region != 'x'"), None);
        assert_eq!(cands("host = 'a' OR time > now()"), None);
        assert_eq!(cands("time > now() - 1h"), None);
    }

    #[test]
    fn comparisons_on_fields_never_narrow() {
        let is_field = |n: &str| n == "status";
        let with = |q: &str| {
            index_candidates(&cond(q), &mut Toy, &mut Regexes::default(), &is_field)
                .map(|c| c.pairs)
        };
        // A string field compared with a string holds for points of any series.
        assert_eq!(with("status = 'ok'"), None);
        assert_eq!(with("status =~ /ok/"), None);
        assert_eq!(with("host = 'a' OR status = 'ok'"), None);
        // A tag conjunct beside it still narrows.
        assert_eq!(
            with("status = 'ok' AND host = 'a'"),
            pairs(&[("host", "a")])
        );
    }

    /// Two tags, as InfluxDB 1.6 compared them (series: host on each, region on some,
    /// zone on one; `missing` on none): by keys in its index, by values in reads.
    #[test]
    fn two_tags_compare_by_keys_in_the_index_and_by_values_in_reads() {
        let series: Vec<Vec<(String, String)>> = [
            &[("host", "a")][..],
            &[("host", "b"), ("region", "eu")],
            &[("host", "eu"), ("region", "eu")],
            &[("host", "f"), ("region", "f"), ("zone", "f")],
        ]
        .iter()
        .map(|s| {
            s.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect();
        let index = |q: &str| -> Vec<usize> {
            let c = cond(q);
            (0..series.len())
                .filter(|&i| {
                    series_match(Some(&c), "m", &series[i], &mut Regexes::default(), &|_| {
                        false
                    })
                })
                .collect()
        };
        let read = |q: &str| -> Vec<usize> {
            let c = cond(q);
            let mut filter = ReadFilter::new(Some(&c), &[], None, None);
            (0..series.len())
                .filter(|&i| {
                    filter.series_may_match(&Named {
                        measurement: "m",
                        tags: &series[i],
                    })
                })
                .collect()
        };
        for (q, by_keys, by_values) in [
            ("region = zone", vec![3], vec![3]),
            ("region != zone", vec![1, 2], vec![0, 1, 2]),
            ("host = region", vec![1, 2, 3], vec![2, 3]),
            ("host != region", vec![0], vec![0, 1]),
            ("region = region", vec![1, 2, 3], vec![1, 2, 3]),
            ("region != region", vec![], vec![0]),
            ("host = missing", vec![], vec![]),
            ("missing != missing", vec![], vec![0, 1, 2, 3]),
            ("host < region", vec![0, 1, 2, 3], vec![]),
            // Constants are folded before anything is decided.
            ("host = 'a' OR 1 = 2", vec![0], vec![0]),
            (
                "host = 'a' OR 'x' = 'x'",
                vec![0, 1, 2, 3],
                vec![0, 1, 2, 3],
            ),
            ("host = 'b' AND 2 > 1", vec![1], vec![1]),
        ] {
            assert_eq!(index(q), by_keys, "index: {q}");
            assert_eq!(read(q), by_values, "read: {q}");
        }
    }

    #[test]
    fn matches_tags() {
        let tags = vec![("host".to_string(), "a".to_string())];
        let mut re = Regexes::default();
        assert!(series_match(
            Some(&cond("host = 'a'")),
            "m",
            &tags,
            &mut re,
            &|_| false
        ));
        assert!(!series_match(
            Some(&cond("host = 'b'")),
            "m",
            &tags,
            &mut re,
            &|_| false
        ));
        assert!(series_match(
            Some(&cond("host =~ /^a/ AND region = ''")),
            "m",
            &tags,
            &mut re,
            &|_| false
        ));
        assert!(series_match(
            Some(&cond("host = 'b' OR host = 'a'")),
            "m",
            &tags,
            &mut re,
            &|_| false
        ));
        assert!(series_match(
            Some(&cond("host = 'a' AND time > now() - 1h")),
            "m",
            &tags,
            &mut re,
            &|_| false
        ));
    }
}
