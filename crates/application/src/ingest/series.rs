//! Series checks of a write: the reserved `time` tag key, and InfluxDB's cardinality
//! limits (`max-series-per-database`, `max-values-per-tag`) for series the index does not
//! know yet; collects the new series and tag keys to register, those of points the field
//! checks refused included (InfluxDB 1.x indexes a point's series before it validates its
//! fields: a point refused for a field type conflict still shows in `SHOW SERIES`).
//!
//! A request repeats few series many times, so each series is checked once: later points
//! of it are recognised by a hash of (measurement, tags) and a tag comparison, which is
//! cheaper than building the escaped key and looking it up in the index.

use super::report::Report;
use super::IngestionService;
use hyperbyte_domain::{MeasurementSchema, PointRef, SeriesKey};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A series to register: canonical key and sorted tags.
pub(super) type NewSeries = (String, Vec<(String, String)>);

/// What the series checks of one request found.
#[derive(Debug, Default)]
pub(super) struct SeriesCheck {
    /// Per point (in `kept` order): whether it passed.
    keep: Vec<bool>,
    /// New series by measurement.
    pub(super) new_series: BTreeMap<String, Vec<NewSeries>>,
    /// Tag keys new to their measurement's schema, by measurement.
    pub(super) new_tags: BTreeMap<String, BTreeSet<String>>,
}

/// The request's running view of the cardinality limits.
#[derive(Debug, Default)]
struct Cardinality {
    series_total: usize,
    /// (measurement, tag key) → distinct values, stored and new in this request.
    tag_value_counts: HashMap<(String, String), usize>,
    /// (measurement, tag key, value) triples this request adds.
    new_tag_values: HashSet<(String, String, String)>,
}

impl SeriesCheck {
    /// The points that passed, in order.
    pub(super) fn keep_in<'a>(&self, mut points: Vec<PointRef<'a>>) -> Vec<PointRef<'a>> {
        if self.keep.contains(&false) {
            let mut flags = self.keep.iter();
            points.retain(|_| flags.next().copied().unwrap_or(true));
        }
        points
    }

    /// Records a series the index does not know, and the tag keys it brings (an indexed
    /// series never brings any: schemas are registered before series).
    fn add(
        &mut self,
        p: &PointRef<'_>,
        key: String,
        schemas: &HashMap<String, Option<MeasurementSchema>>,
    ) {
        let schema = schemas.get(p.measurement.as_ref()).and_then(Option::as_ref);
        for (k, _) in &p.tags {
            if !schema.is_some_and(|s| s.tag_keys.contains(k.as_ref())) {
                self.new_tags
                    .entry(p.measurement.to_string())
                    .or_default()
                    .insert(k.to_string());
            }
        }
        let tags = p
            .tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.new_series
            .entry(p.measurement.to_string())
            .or_default()
            .push((key, tags));
    }
}

impl IngestionService {
    /// Checks the series of the points that passed the field checks (`kept`), then
    /// indexes those of the points the field checks refused (`refused`, already reported:
    /// one failing a series check here is not reported again).
    pub(super) fn check_series(
        &self,
        database: &str,
        kept: &[PointRef<'_>],
        refused: &[PointRef<'_>],
        schemas: &HashMap<String, Option<MeasurementSchema>>,
        report: &mut Report,
    ) -> SeriesCheck {
        let mut out = SeriesCheck {
            keep: vec![true; kept.len()],
            ..SeriesCheck::default()
        };
        // Series already checked, by hash, as indices of one of their points in
        // `kept` then `refused`.
        let mut checked: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut card = Cardinality {
            series_total: self.meta.series_count(database),
            ..Cardinality::default()
        };
        let point = |j: usize| {
            kept.get(j)
                .or_else(|| j.checked_sub(kept.len()).and_then(|k| refused.get(k)))
        };
        for (i, p) in kept.iter().chain(refused).enumerate() {
            let h = p.series();
            let same = |j: &usize| point(*j).is_some_and(|q| q.same_series(p));
            if checked.get(&h).is_some_and(|v| v.iter().any(same)) {
                continue;
            }
            let refusal = if p.tags.iter().any(|(k, _)| k == "time") {
                Some(format!(
                    "invalid tag key: input tag \"time\" on measurement \"{}\" is invalid",
                    p.measurement
                ))
            } else {
                let key = SeriesKey::new(&p.measurement, &p.tags).0;
                if self.meta.has_series(database, &key) {
                    checked.entry(h).or_default().push(i);
                    continue;
                }
                let refusal = self.over_limits(database, p, &mut card);
                if refusal.is_none() {
                    card.series_total += 1;
                    checked.entry(h).or_default().push(i);
                    out.add(p, key, schemas);
                }
                refusal
            };
            if let (Some(refusal), Some(keep)) = (refusal, out.keep.get_mut(i)) {
                *keep = false;
                report.drop_point(refusal);
            }
        }
        out
    }

    /// Whether a new series would pass a cardinality limit (the refusal, in InfluxDB's
    /// words); counts its tag values when it does not.
    fn over_limits(
        &self,
        database: &str,
        p: &PointRef<'_>,
        card: &mut Cardinality,
    ) -> Option<String> {
        let max_series = self.limits.max_series_per_database;
        if max_series > 0 && card.series_total >= max_series {
            return Some(format!(
                "max-series-per-database limit exceeded: db={database} ({}/{max_series})",
                card.series_total
            ));
        }
        let max_values = self.limits.max_values_per_tag;
        if max_values == 0 {
            return None;
        }
        for (k, v) in &p.tags {
            let ck = (p.measurement.to_string(), k.to_string());
            let count = *card
                .tag_value_counts
                .entry(ck)
                .or_insert_with(|| self.meta.tag_value_count(database, &p.measurement, k));
            let triple = (p.measurement.to_string(), k.to_string(), v.to_string());
            let is_new = !card.new_tag_values.contains(&triple)
                && !self.meta.has_tag_value(database, &p.measurement, k, v);
            if is_new && count >= max_values {
                return Some(format!(
                    "max-values-per-tag limit exceeded ({}/{max_values}): measurement=\"{}\" tag=\"{k}\" value=\"{v}\"",
                    count.saturating_add(1),
                    p.measurement,
                ));
            }
        }
        for (k, v) in &p.tags {
            let triple = (p.measurement.to_string(), k.to_string(), v.to_string());
            if card.new_tag_values.insert(triple) {
                *card
                    .tag_value_counts
                    .entry((p.measurement.to_string(), k.to_string()))
                    .or_default() += 1;
            }
        }
        None
    }
}
