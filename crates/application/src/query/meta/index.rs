//! Visiting the series index for metadata statements: which measurements a statement
//! names, which series match a tag condition (through the index's per-value series lists
//! when that narrows the search, by an ordered scan otherwise), with early exit so LIMIT
//! and existence checks never materialise a measurement's series list.

use super::super::cond::{index_candidates, series_match, Regexes, TagIndex};
use super::super::{QueryService, StatementError};
use hyperbyte_domain::MeasurementSchema;
use hyperbyte_ports::{MetadataPort, SeriesEntry};
use hyperbyte_timeseriesql::ast::{Expr, Measurement, MeasurementName, TagKeyFilter};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// How a visit reads the names of a condition that are not tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// As the index of `SHOW SERIES`, `SHOW TAG KEYS` and `SHOW TAG VALUES` (see
    /// `index_cond`): `_name` is the measurement, a comparison with one of its fields lets
    /// every series through.
    Index,
    /// Every name as a tag: `DELETE` and `DROP SERIES` refuse fields before they visit,
    /// and reads of points write their terms with `cond::as_read_of_points` first.
    Tags,
}

/// The series filter of one visit: the condition under a [`Reading`], with the schema of
/// the measurement last met (series come measurement by measurement).
struct SeriesFilter<'a> {
    meta: &'a dyn MetadataPort,
    db: &'a str,
    cond: Option<&'a Expr>,
    reading: Reading,
    schema: Option<(String, Option<MeasurementSchema>)>,
}

impl<'a> SeriesFilter<'a> {
    fn new(
        meta: &'a dyn MetadataPort,
        db: &'a str,
        cond: Option<&'a Expr>,
        reading: Reading,
    ) -> Self {
        Self {
            meta,
            db,
            cond,
            reading,
            schema: None,
        }
    }

    /// The schema of measurement `m` when the reading needs its fields (loaded once for
    /// each run of series of one measurement), else `None`.
    fn schema(&mut self, m: &str) -> Option<&MeasurementSchema> {
        if self.reading == Reading::Tags {
            return None;
        }
        if self.schema.as_ref().is_none_or(|(name, _)| name != m) {
            self.schema = Some((m.to_string(), self.meta.schema(self.db, m)));
        }
        self.schema.as_ref().and_then(|(_, s)| s.as_ref())
    }

    fn matches(&mut self, se: &SeriesEntry, re: &mut Regexes) -> bool {
        let cond = self.cond;
        if cond.is_none() {
            return true;
        }
        let m = se.measurement.as_str();
        let schema = self.schema(m);
        let is_field = |n: &str| schema.is_some_and(|s| s.field_type(n).is_some());
        series_match(cond, m, &se.tags, re, &is_field)
    }
}

impl QueryService {
    pub(super) fn require_db(
        &self,
        explicit: Option<&str>,
        default: Option<&str>,
    ) -> Result<String, StatementError> {
        let name = explicit
            .filter(|d| !d.is_empty())
            .or(default)
            .ok_or_else(|| StatementError::new("database name required"))?;
        if self.meta.database(name).is_none() {
            return Err(StatementError::new(format!("database not found: {name}")));
        }
        Ok(name.to_string())
    }

    /// The database of a statement that removes data (`DELETE`, `DROP SERIES`, `DROP
    /// MEASUREMENT`): without one InfluxDB looks the empty name up ("database not found: ").
    pub(super) fn require_data_db(&self, db: Option<&str>) -> Result<String, StatementError> {
        self.require_db(None, Some(db.unwrap_or_default()))
    }

    /// Measurement names of `db` matching the sources (all when empty), sorted.
    pub(super) fn measurements_matching(&self, db: &str, sources: &[Measurement]) -> Vec<String> {
        let all = self.visible_measurements(db);
        if sources.is_empty() {
            return all;
        }
        let mut re = Regexes::default();
        let mut out: BTreeSet<String> = BTreeSet::new();
        for src in sources {
            match &src.name {
                MeasurementName::Name(n) => {
                    if all.contains(n) {
                        out.insert(n.clone());
                    }
                }
                MeasurementName::Regex(r) => {
                    if let Some(rx) = re.get(&r.pattern) {
                        for m in &all {
                            if rx.is_match(m) {
                                out.insert(m.clone());
                            }
                        }
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    /// Measurements that still have series (InfluxDB hides a measurement whose series were
    /// all deleted).
    pub(crate) fn visible_measurements(&self, db: &str) -> Vec<String> {
        let mut ms: Vec<String> = self
            .meta
            .measurements(db)
            .into_iter()
            .filter(|m| self.meta.series_count_in(db, m) > 0)
            .collect();
        ms.sort();
        ms
    }

    /// The tag (key, value) pairs whose series are the candidates of measurement `m` for
    /// `cond` (they still have to pass `cond`), or `None` when the index does not narrow
    /// the search down and a scan is cheaper.
    fn index_plan(
        &self,
        db: &str,
        m: &str,
        cond: &Expr,
        re: &mut Regexes,
        filter: &mut SeriesFilter<'_>,
    ) -> Option<Vec<(String, String)>> {
        let mut index = MeasurementIndex {
            meta: self.meta.as_ref(),
            db,
            m,
        };
        // `_name`, and under the index's reading the fields, never narrow the search.
        let schema = filter.schema(m);
        let is_field = |n: &str| n == "_name" || schema.is_some_and(|s| s.field_type(n).is_some());
        let cands = index_candidates(cond, &mut index, re, &is_field)?;
        (cands.total < self.meta.series_count_in(db, m)).then_some(cands.pairs)
    }

    /// At most how many series of measurement `m` pass `cond`: the index's count of the
    /// measurement, narrowed by its per-value lists where the condition names tag values.
    pub(in crate::query) fn series_bound(
        &self,
        db: &str,
        m: &str,
        cond: Option<&hyperbyte_timeseriesql::ast::Expr>,
        is_field: &dyn Fn(&str) -> bool,
    ) -> usize {
        let all = self.meta.series_count_in(db, m);
        let mut index = MeasurementIndex {
            meta: self.meta.as_ref(),
            db,
            m,
        };
        cond.and_then(|c| index_candidates(c, &mut index, &mut Regexes::default(), is_field))
            .map_or(all, |c| c.total.min(all))
    }

    /// The series of all `pairs` of measurement `m`, sorted by key, without duplicates.
    pub(super) fn series_with_tags(
        &self,
        db: &str,
        m: &str,
        pairs: &[(String, String)],
    ) -> Vec<SeriesEntry> {
        let mut list = Vec::new();
        for (k, v) in pairs {
            list.extend(self.meta.series_with_tag(db, m, k, v));
        }
        if pairs.len() > 1 {
            list.sort_unstable_by(|a, b| a.key.cmp(&b.key));
            list.dedup_by(|a, b| a.key == b.key);
        }
        list
    }

    /// Visits the series of measurement `m` matching `cond` under `reading`, in key order,
    /// until `f` returns false; returns whether it ran to the end.
    pub(super) fn visit_measurement(
        &self,
        db: &str,
        m: &str,
        (cond, reading): (Option<&Expr>, Reading),
        re: &mut Regexes,
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) -> bool {
        let mut filter = SeriesFilter::new(self.meta.as_ref(), db, cond, reading);
        let plan = cond.and_then(|c| self.index_plan(db, m, c, re, &mut filter));
        let mut complete = true;
        let mut visit = |se: &SeriesEntry| {
            if filter.matches(se, re) && !f(se) {
                complete = false;
            }
            complete
        };
        match plan.as_deref() {
            None => self.meta.for_each_series(db, Some(m), &mut visit),
            Some([]) => {}
            Some([(k, v)]) => self.meta.for_each_series_with_tag(db, m, k, v, &mut visit),
            Some(pairs) => {
                for se in &self.series_with_tags(db, m, pairs) {
                    if !visit(se) {
                        break;
                    }
                }
            }
        }
        complete
    }

    /// Visits the series of the sources' measurements matching `cond` under `reading`, in
    /// key order, until `f` returns false.
    pub(super) fn visit_matching(
        &self,
        db: &str,
        sources: &[Measurement],
        (cond, reading): (Option<&Expr>, Reading),
        f: &mut dyn FnMut(&SeriesEntry) -> bool,
    ) {
        let mut re = Regexes::default();
        let ms = self.measurements_matching(db, sources);
        match ms.as_slice() {
            [] => {}
            [m] => {
                self.visit_measurement(db, m, (cond, reading), &mut re, f);
            }
            _ => {
                let mut filter = SeriesFilter::new(self.meta.as_ref(), db, cond, reading);
                // Several measurements: when the index narrows every one of them down,
                // merge their candidates; otherwise one ordered pass over the database.
                if let Some(c) = cond {
                    let mut all = Vec::new();
                    let mut indexed = true;
                    for m in &ms {
                        match self.index_plan(db, m, c, &mut re, &mut filter) {
                            Some(pairs) => all.extend(self.series_with_tags(db, m, &pairs)),
                            None => {
                                indexed = false;
                                break;
                            }
                        }
                    }
                    if indexed {
                        all.sort_unstable_by(|a, b| a.key.cmp(&b.key));
                        for se in &all {
                            if filter.matches(se, &mut re) && !f(se) {
                                return;
                            }
                        }
                        return;
                    }
                }
                let wanted: Option<HashSet<&str>> = if sources.is_empty() {
                    None
                } else {
                    Some(ms.iter().map(String::as_str).collect())
                };
                self.meta.for_each_series(db, None, &mut |se| {
                    if wanted
                        .as_ref()
                        .is_some_and(|w| !w.contains(se.measurement.as_str()))
                        || !filter.matches(se, &mut re)
                    {
                        return true;
                    }
                    f(se)
                });
            }
        }
    }

    /// Every series of the sources matching `cond`, sorted by key.
    pub(super) fn matching_series(
        &self,
        db: &str,
        sources: &[Measurement],
        cond: Option<&hyperbyte_timeseriesql::ast::Expr>,
    ) -> Vec<SeriesEntry> {
        let mut out = Vec::new();
        self.visit_matching(db, sources, (cond, Reading::Tags), &mut |se| {
            out.push(se.clone());
            true
        });
        out
    }

    /// Tag keys of the series of measurement `m` matching `cond`, sorted.
    pub(super) fn tag_keys_matching(
        &self,
        db: &str,
        m: &str,
        cond: Option<&hyperbyte_timeseriesql::ast::Expr>,
        re: &mut Regexes,
    ) -> Vec<String> {
        let all = self.meta.tag_keys(db, m);
        if cond.is_none() {
            return all;
        }
        let mut keys = BTreeSet::new();
        self.visit_measurement(db, m, (cond, Reading::Index), re, &mut |se| {
            for (k, _) in &se.tags {
                if !keys.contains(k) {
                    keys.insert(k.clone());
                }
            }
            // Every key seen: the rest cannot add any.
            keys.len() < all.len()
        });
        keys.into_iter().collect()
    }

    /// Per measurement, the (tag key, tag value) pairs of SHOW TAG VALUES, sorted.
    pub(super) fn tag_values(
        &self,
        db: &str,
        sources: &[Measurement],
        key: &TagKeyFilter,
        cond: Option<&hyperbyte_timeseriesql::ast::Expr>,
    ) -> Vec<(String, Vec<(String, String)>)> {
        let mut re = Regexes::default();
        let key_matches = |k: &str, re: &mut Regexes| match key {
            TagKeyFilter::Eq(x) => k == x,
            TagKeyFilter::NotEq(x) => k != x,
            TagKeyFilter::In(xs) => xs.iter().any(|x| x == k),
            TagKeyFilter::Regex(r) => re.get(&r.pattern).is_some_and(|x| x.is_match(k)),
            TagKeyFilter::NotRegex(r) => re.get(&r.pattern).is_some_and(|x| !x.is_match(k)),
        };
        let mut cond_re = Regexes::default();
        let mut out = Vec::new();
        for m in self.measurements_matching(db, sources) {
            if cond.is_none() {
                // Straight from the index: keys sorted, each key's values sorted.
                let keys = match key {
                    TagKeyFilter::Eq(k) => vec![k.clone()],
                    _ => self.meta.tag_keys(db, &m),
                };
                let mut pairs = Vec::new();
                for k in keys {
                    if !key_matches(&k, &mut re) {
                        continue;
                    }
                    for v in self.meta.tag_values(db, &m, &k) {
                        pairs.push((k.clone(), v));
                    }
                }
                if !pairs.is_empty() {
                    out.push((m, pairs));
                }
                continue;
            }
            // Tag key → values seen (allocating only for new ones); `None` for a key that
            // the filter rejects.
            let mut seen: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
            self.visit_measurement(db, &m, (cond, Reading::Index), &mut cond_re, &mut |se| {
                for (k, v) in &se.tags {
                    let values = match seen.get_mut(k.as_str()) {
                        Some(values) => values,
                        None => seen
                            .entry(k.clone())
                            .or_insert_with(|| key_matches(k, &mut re).then(BTreeSet::new)),
                    };
                    if let Some(values) = values {
                        if !values.contains(v.as_str()) {
                            values.insert(v.clone());
                        }
                    }
                }
                true
            });
            let pairs: Vec<(String, String)> = seen
                .into_iter()
                .filter_map(|(k, vs)| vs.map(|vs| (k, vs)))
                .flat_map(|(k, vs)| vs.into_iter().map(move |v| (k.clone(), v)))
                .collect();
            if !pairs.is_empty() {
                out.push((m, pairs));
            }
        }
        out
    }
}

/// The series index of one measurement, as [`index_candidates`] reads it.
#[derive(Debug)]
struct MeasurementIndex<'a> {
    meta: &'a dyn MetadataPort,
    db: &'a str,
    m: &'a str,
}

impl TagIndex for MeasurementIndex<'_> {
    fn values(&mut self, key: &str) -> Vec<String> {
        self.meta.tag_values(self.db, self.m, key)
    }

    fn count(&mut self, key: &str, value: &str) -> usize {
        self.meta
            .tag_value_series_count(self.db, self.m, key, value)
    }
}
