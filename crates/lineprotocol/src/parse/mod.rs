//! The parser: a faithful port of InfluxDB 1.6's scanning rules (`models/points.go`) on
//! `&[u8]`, so that every accepted line, every rejected line and every error text match
//! the reference server, including its quirks (see the crate documentation).
//!
//! Scanning works on byte offsets into the body. The body is checked for UTF-8 once, so
//! names and strings borrow from it ([`PointRef`]); only [`parse`] allocates, to build
//! owned [`Point`]s. Lines without quotes or backslashes (the common case) take a fused
//! path that validates and splits the fields in one pass; everything else follows
//! InfluxDB's multi-pass logic exactly.
//!
//! Layout: this file holds the entry points and the parser state reused across lines;
//! `lines` splits a body into lines and reads text out of them, `plain` is the fused fast
//! path, `exact` the port of InfluxDB's scanner, `value` types and converts field values,
//! `timestamp` reads timestamps.

mod exact;
mod lines;
mod plain;
mod timestamp;
mod value;

use crate::bad_line::BadLine;
use crate::error::LineError;
use crate::Parsed;
use hyperbyte_domain::{Point, PointRef, Precision};
use lines::{next_line, skip_ws, Line};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

pub(crate) use timestamp::truncate;
#[cfg(test)]
pub(crate) use value::eight_digits;

/// Longest series key (and series key + field key + 4) InfluxDB accepts.
pub(crate) const MAX_KEY_LENGTH: usize = 65535;

/// Parses a line-protocol body. Timestamps are in `precision`; points without one get
/// `now_nanos` rounded down to a multiple of `precision` (as InfluxDB does with its
/// clock). Blank lines and `#` comments are skipped; a trailing `\r` is ignored.
pub fn parse(body: &[u8], precision: Precision, now_nanos: i64) -> Parsed {
    let mut out = Parsed {
        // A cheap guess (lines are rarely shorter) that avoids most reallocations.
        points: Vec::with_capacity((body.len() / 128).clamp(1, 1 << 16)),
        ..Parsed::default()
    };
    parse_each(body, precision, now_nanos, |line| match line {
        Ok(p) => {
            out.duplicate_field_type_conflict |= p.repeated_field.is_some();
            out.points.push(p.to_point());
        }
        Err(bad) => out.errors.push(bad.to_string()),
    });
    out
}

/// The outcome of [`parse_refs`]: [`Parsed`] with borrowed points.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ParsedRefs<'a> {
    /// Points parsed successfully, in input order, borrowing from the body.
    pub points: Vec<PointRef<'a>>,
    /// Errors, one per rejected line.
    pub errors: Vec<String>,
    /// See [`Parsed::duplicate_field_type_conflict`].
    pub duplicate_field_type_conflict: bool,
}

/// [`parse`] with points borrowing their strings from `body`: two allocations per line
/// (the tag and field lists) instead of one per name.
pub fn parse_refs(body: &[u8], precision: Precision, now_nanos: i64) -> ParsedRefs<'_> {
    let mut out = ParsedRefs {
        points: Vec::with_capacity((body.len() / 128).clamp(1, 1 << 16)),
        ..ParsedRefs::default()
    };
    parse_each(body, precision, now_nanos, |line| match line {
        Ok(p) => {
            out.duplicate_field_type_conflict |= p.repeated_field.is_some();
            out.points.push(p.clone());
        }
        Err(bad) => out.errors.push(bad.to_string()),
    });
    out
}

/// Parses a body without allocating per line: calls `on_line` for every non-blank,
/// non-comment line, in order, with either the parsed point (borrowing from `body`; the
/// reference is only valid during the call) or the rejected line and its reason.
/// Same rules as [`parse`].
pub fn parse_each<'a, F>(body: &'a [u8], precision: Precision, now_nanos: i64, mut on_line: F)
where
    F: FnMut(Result<&PointRef<'a>, BadLine<'a>>),
{
    let default_ts = truncate(now_nanos, precision);
    let text = std::str::from_utf8(body).ok();
    let mut parser = LineParser::default();
    let mut pos = 0;
    while let Some((start, end, plain)) = next_line(body, &mut pos) {
        let line = Line {
            bytes: &body[start..end],
            text: text.and_then(|t| t.get(start..end)),
        };
        let done = plain && parser.parse_plain(line, precision, default_ts);
        let result = if done {
            Ok(())
        } else {
            parser.parse(line, precision, default_ts)
        };
        match result {
            Ok(()) => on_line(Ok(&parser.point)),
            Err(error) => on_line(Err(BadLine {
                line: line.bytes,
                error,
            })),
        }
    }
}

/// [`parse`] without the fast path, to check that both paths agree.
#[cfg(test)]
pub(crate) fn parse_exact_only(body: &[u8], precision: Precision, now_nanos: i64) -> Parsed {
    let default_ts = truncate(now_nanos, precision);
    let text = std::str::from_utf8(body).ok();
    let mut parser = LineParser::default();
    let mut out = Parsed::default();
    let mut pos = 0;
    while let Some((start, end, _)) = next_line(body, &mut pos) {
        let line = Line {
            bytes: &body[start..end],
            text: text.and_then(|t| t.get(start..end)),
        };
        match parser.parse(line, precision, default_ts) {
            Ok(()) => {
                let p = &parser.point;
                out.duplicate_field_type_conflict |= p.repeated_field.is_some();
                out.points.push(p.to_point());
            }
            Err(error) => out.errors.push(
                BadLine {
                    line: line.bytes,
                    error,
                }
                .to_string(),
            ),
        }
    }
    out
}

/// Parses one line (no line splitting; leading whitespace is skipped, and a line that is
/// blank or a comment yields [`LineError::MissingMeasurement`]/[`LineError::MissingFields`]
/// as InfluxDB would). Points without a timestamp get `now_nanos` rounded down to
/// `precision`.
pub fn parse_line(line: &[u8], precision: Precision, now_nanos: i64) -> Result<Point, LineError> {
    let bytes = &line[skip_ws(line, 0)..];
    let line = Line {
        bytes,
        text: std::str::from_utf8(bytes).ok(),
    };
    let mut parser = LineParser::default();
    parser.parse(line, precision, truncate(now_nanos, precision))?;
    Ok(parser.point.to_point())
}

/// Byte ranges of one tag in the line.
#[derive(Debug, Clone, Copy)]
struct TagSpan {
    k0: usize,
    k1: usize,
    v0: usize,
    v1: usize,
    /// First sixteen key bytes, big-endian: orders like the key in most comparisons.
    prefix: u128,
}

/// The first sixteen bytes of `b` (zero-padded) as a big-endian integer.
#[inline]
fn prefix(b: &[u8]) -> u128 {
    let mut w = [0u8; 16];
    let n = b.len().min(16);
    w[..n].copy_from_slice(&b[..n]);
    u128::from_be_bytes(w)
}

/// Sorts tag spans by raw key; `false` when two keys are equal (InfluxDB's
/// `duplicate tags`).
fn sort_tags(buf: &[u8], tags: &mut [TagSpan]) -> bool {
    let key = |t: &TagSpan| &buf[t.k0..t.k1];
    let less =
        |a: &TagSpan, b: &TagSpan| a.prefix < b.prefix || (a.prefix == b.prefix && key(a) < key(b));
    for j in 1..tags.len() {
        let mut k = j;
        while k > 0 && less(&tags[k], &tags[k - 1]) {
            tags.swap(k, k - 1);
            k -= 1;
        }
    }
    !tags
        .windows(2)
        .any(|w| w[0].prefix == w[1].prefix && key(&w[0]) == key(&w[1]))
}

/// Byte ranges of one field in the line.
#[derive(Debug, Clone, Copy)]
struct FieldSpan {
    k0: usize,
    k1: usize,
    v0: usize,
    v1: usize,
}

/// A series key (measurement and tags) the fast path already parsed in this body.
#[derive(Debug)]
struct CachedKey<'a> {
    /// The raw key bytes (up to the first space) of the line that parsed it.
    raw: &'a [u8],
    measurement: Cow<'a, str>,
    tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// `series_hash` of measurement and tags, computed once for every line sharing it.
    series: u64,
}

/// Most distinct series keys remembered per body (a body rarely has more; beyond it,
/// lines parse their keys as if uncached).
const KEY_CACHE_MAX: usize = 16_384;

/// Parser state reused across the lines of a body.
#[derive(Debug, Default)]
struct LineParser<'a> {
    tags: Vec<TagSpan>,
    fields: Vec<FieldSpan>,
    /// Fast path: series keys seen in this body, by a hash of their raw bytes. A body
    /// repeats its series on many lines (every scrape of a host); a repeated key skips
    /// scanning, sorting and checking its tags, and its names share the first line's
    /// bytes (so consumers comparing tag sets often find the same pointers).
    keys: HashMap<u64, CachedKey<'a>, BuildHasherDefault<PreHashed>>,
    /// Fast path: the field keys of the previous line, reused when a line repeats them.
    prev_fields: Vec<Cow<'a, str>>,
    point: PointRef<'a>,
}

/// A hasher for keys that already are good 64-bit hashes.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
