//! Samples → points, as InfluxDB 1.8's `WriteRequestToPoints` maps them (see the module
//! doc of [`super`]); the points borrow every name from the request.

use super::{PromError, PromSeries, NAME_LABEL, UNNAMED_MEASUREMENT, VALUE_FIELD};
use hyperbyte_domain::{series_hash, FieldRef, PointRef};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The most samples × (labels + 1) one request may carry. Every sample becomes a point
/// with its own tag list, so this bounds the memory a request takes (a few hundred MB at
/// worst) whatever its shape: a protobuf sample can be two bytes on the wire. Prometheus
/// sends a few thousand samples per request.
pub const MAX_SAMPLE_CELLS: usize = 4_000_000;

/// Samples dropped because InfluxDB cannot store their value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DroppedSamples {
    /// NaN values (Prometheus' staleness markers among them).
    pub nan: usize,
    /// +Inf values.
    pub inf: usize,
    /// -Inf values.
    pub ninf: usize,
}

impl DroppedSamples {
    /// Every dropped sample.
    pub fn total(&self) -> usize {
        self.nan + self.inf + self.ninf
    }
}

/// The points of a remote write request (one per storable sample) and what was dropped.
pub(crate) fn to_points(
    series: &[PromSeries],
) -> Result<(Vec<PointRef<'_>>, DroppedSamples), PromError> {
    let cells = series.iter().fold(0usize, |acc, s| {
        acc.saturating_add(s.samples.len().saturating_mul(s.labels.len() + 1))
    });
    if cells > MAX_SAMPLE_CELLS {
        return Err(PromError::BadRequest(format!(
            "remote write request too large: {cells} samples × labels, the limit is \
             {MAX_SAMPLE_CELLS}; send smaller batches"
        )));
    }
    let samples: usize = series.iter().map(|s| s.samples.len()).sum();
    let mut points = Vec::with_capacity(samples);
    let mut dropped = DroppedSamples::default();
    for s in series {
        let (measurement, tags) = series_of(s)?;
        let hash = series_hash(measurement, &tags);
        for sample in &s.samples {
            let v = sample.value;
            if v.is_nan() {
                dropped.nan += 1;
                continue;
            }
            if v == f64::INFINITY {
                dropped.inf += 1;
                continue;
            }
            if v == f64::NEG_INFINITY {
                dropped.ninf += 1;
                continue;
            }
            let timestamp = sample.timestamp_ms.checked_mul(1_000_000).ok_or_else(|| {
                PromError::BadRequest(format!(
                    "sample timestamp {} ms is out of range",
                    sample.timestamp_ms
                ))
            })?;
            points.push(PointRef {
                measurement: Cow::Borrowed(measurement),
                tags: tags.clone().into(),
                fields: vec![(Cow::Borrowed(VALUE_FIELD), FieldRef::Float(v))].into(),
                timestamp,
                repeated_field: None,
                series_hash: Some(hash),
            });
        }
    }
    Ok((points, dropped))
}

type Tags<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// A series' measurement and tags: every label a tag (a repeated name keeps its last
/// value, as InfluxDB's map does), sorted by key; empty values are no tag (InfluxDB drops
/// them from the series key).
fn series_of(s: &PromSeries) -> Result<(&str, Tags<'_>), PromError> {
    let mut by_name: BTreeMap<&str, &str> = BTreeMap::new();
    let mut measurement = UNNAMED_MEASUREMENT;
    for (name, value) in &s.labels {
        by_name.insert(name, value);
        if name == NAME_LABEL {
            measurement = value;
        }
    }
    if measurement.is_empty() {
        return Err(PromError::BadRequest(
            "unable to parse series: missing measurement (empty __name__ label)".to_string(),
        ));
    }
    let tags = by_name
        .into_iter()
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v)))
        .collect();
    Ok((measurement, tags))
}
