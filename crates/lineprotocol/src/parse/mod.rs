//! The parser: a faithful port of InfluxDB 1.6's scanning rules (`models/points.go`) on
//! `&[u8]`, so that every accepted line, every rejected line and every error text match
//! the reference server, including its quirks (see the crate documentation).
//!
//! Scanning works on byte offsets into the body. The body is checked for UTF-8 once, so
//! names and strings borrow from it ([`PointRef`]); only [`parse`] allocates, to build
//! owned [`Point`]s. Lines without quotes or backslashes (the common case) take a fused
//! path that validates and splits the fields in one pass; everything else follows
//! InfluxDB's multi-pass logic exactly.

use crate::bad_line::BadLine;
use crate::error::LineError;
use crate::number::{parse_f64, parse_i64, parse_u64};
use crate::Parsed;
use hyperbyte_domain::time::{MAX_NANOS, MIN_NANOS};
use hyperbyte_domain::{FieldRef, PointRef};
use hyperbyte_domain::{Point, Precision};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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
            out.duplicate_field_type_conflict |= p.duplicate_field_type_conflict;
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
            out.duplicate_field_type_conflict |= p.duplicate_field_type_conflict;
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
                out.duplicate_field_type_conflict |= p.duplicate_field_type_conflict;
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

/// Rounds `nanos` down to a multiple of the precision unit (Go's `Time.Truncate`). Near
/// `i64::MIN`, where the multiple below is not representable, the one above is returned
/// (the subtraction used to overflow there).
pub(crate) fn truncate(nanos: i64, precision: Precision) -> i64 {
    let unit = precision.nanos();
    let rem = nanos.rem_euclid(unit);
    nanos
        .checked_sub(rem)
        .unwrap_or_else(|| nanos + (unit - rem))
}

/// Returns the byte range of the next line to parse starting at `*pos`, skipping blank
/// lines and comments, without leading whitespace and without a trailing `\r`, and
/// whether it is plain (contains no quote and no backslash).
fn next_line(body: &[u8], pos: &mut usize) -> Option<(usize, usize, bool)> {
    while *pos < body.len() {
        let start = *pos;
        let (mut end, plain) = scan_line(body, start);
        *pos = end + 1;
        // Only present when an open quote ran to the end of the body.
        if end > start && body[end - 1] == b'\n' {
            end -= 1;
        }
        // CRLF line endings (InfluxDB 1.6 rejects them; we accept them).
        if end > start && body[end - 1] == b'\r' {
            end -= 1;
        }
        let s = start + skip_ws(&body[start..end], 0);
        if s >= end || body[s] == b'#' {
            continue;
        }
        return Some((s, end, plain));
    }
    None
}

#[inline]
fn skip_ws(buf: &[u8], mut i: usize) -> usize {
    while i < buf.len() && matches!(buf[i], b' ' | b'\t' | 0) {
        i += 1;
    }
    i
}

/// Index of the first `\n`, `"` or `\` at or after `i` (or `buf.len()`), with `memchr`'s
/// vectorised search (a line is hundreds of bytes; this runs over every one of them).
#[inline]
fn find_line_special(buf: &[u8], i: usize) -> usize {
    match buf.get(i..) {
        Some(rest) => memchr::memchr3(b'\n', b'"', b'\\', rest).map_or(buf.len(), |k| i + k),
        None => buf.len(),
    }
}

/// End of the line starting at `i` (index of its terminating `\n`, or `buf.len()`),
/// following InfluxDB's `scanLine`: newlines inside quoted field values and escaped
/// newlines do not end a line.
/// The flag tells whether the line is plain (no quote, no backslash).
fn scan_line(buf: &[u8], start: usize) -> (usize, bool) {
    // Without quotes or backslashes before the newline, the newline ends the line.
    let i = find_line_special(buf, start);
    if i >= buf.len() || buf[i] == b'\n' {
        return (i, true);
    }
    (scan_line_slow(buf, start), false)
}

fn scan_line_slow(buf: &[u8], mut i: usize) -> usize {
    let mut quoted = false;
    let mut fields = false;
    let mut equals = 0usize;
    let mut commas = 0usize;
    while i < buf.len() {
        let c = buf[i];
        if c == b'\\' && i + 2 < buf.len() {
            i += 2;
            continue;
        }
        if c == b' ' {
            fields = true;
        }
        if fields {
            if !quoted && c == b'=' {
                i += 1;
                equals += 1;
                continue;
            } else if !quoted && c == b',' {
                i += 1;
                commas += 1;
                continue;
            } else if c == b'"' && equals > commas {
                i += 1;
                quoted = !quoted;
                continue;
            }
        }
        if c == b'\n' && !quoted {
            break;
        }
        i += 1;
    }
    i
}

/// One line: its bytes and, when valid UTF-8, the same bytes as text.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    bytes: &'a [u8],
    text: Option<&'a str>,
}

impl<'a> Line<'a> {
    /// `bytes[a..b]` as text, borrowed when valid UTF-8.
    #[inline]
    fn str(&self, a: usize, b: usize) -> Cow<'a, str> {
        match self.text.and_then(|t| t.get(a..b)) {
            Some(s) => Cow::Borrowed(s),
            None => String::from_utf8_lossy(&self.bytes[a..b]),
        }
    }

    /// `bytes[a..b]` with `\c` unescaped for every `c` in `specials`.
    fn unescaped(&self, a: usize, b: usize, specials: &[u8]) -> Cow<'a, str> {
        let raw = &self.bytes[a..b];
        if !raw.contains(&b'\\') {
            return self.str(a, b);
        }
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'\\' && i + 1 < raw.len() && specials.contains(&raw[i + 1]) {
                out.push(raw[i + 1]);
                i += 2;
            } else {
                out.push(raw[i]);
                i += 1;
            }
        }
        Cow::Owned(owned_text(out))
    }

    /// A string field value (`bytes[a..b]` without its quotes), InfluxDB's
    /// `unescapeStringField`: `\\` → `\`, `\"` → `"`, anything else verbatim.
    fn string_value(&self, a: usize, b: usize) -> Cow<'a, str> {
        let inner = &self.bytes[a..b];
        if !inner.contains(&b'\\') {
            return self.str(a, b);
        }
        let mut out = Vec::with_capacity(inner.len());
        let mut i = 0;
        while i < inner.len() {
            if inner[i] == b'\\' && i + 1 < inner.len() && matches!(inner[i + 1], b'\\' | b'"') {
                out.push(inner[i + 1]);
                i += 2;
            } else {
                out.push(inner[i]);
                i += 1;
            }
        }
        Cow::Owned(owned_text(out))
    }
}

fn owned_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Characters a backslash escapes in a measurement name (InfluxDB's `escape.Unescape`).
const MEASUREMENT_SPECIALS: &[u8] = b", =\"";
/// Characters a backslash escapes in tag keys and values.
const TAG_SPECIALS: &[u8] = b", =";
/// Characters a backslash escapes in field keys.
const FIELD_KEY_SPECIALS: &[u8] = b", =\"";

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

/// A timestamp `-?digits`: a quick conversion for up to 18 digits, else [`parse_i64`].
#[inline]
fn parse_timestamp(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return parse_i64(b);
    }
    let mut v: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d >= 10 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(if neg { -v } else { v })
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

/// Index of the first space at or after `i` (or `buf.len()`).
#[inline]
fn find_space(buf: &[u8], i: usize) -> usize {
    match buf.get(i..) {
        Some(rest) => memchr::memchr(b' ', rest).map_or(buf.len(), |k| i + k),
        None => buf.len(),
    }
}

/// Bytes that end a name in a plain line.
static DELIMITER: [bool; 256] = {
    let mut t = [false; 256];
    t[b',' as usize] = true;
    t[b' ' as usize] = true;
    t[b'=' as usize] = true;
    t
};

impl<'a> LineParser<'a> {
    /// Fast path for a plain line (no quote, no backslash): handles only lines that parse
    /// successfully without surprises and returns `false` for anything else, which the
    /// exact path then parses (and rejects with InfluxDB's text). Produces exactly what the
    /// exact path would.
    fn parse_plain(&mut self, line: Line<'a>, precision: Precision, default_ts: i64) -> bool {
        let buf = line.bytes;
        let n = buf.len();
        let until_delimiter = |mut i: usize| {
            while i < n && !DELIMITER[usize::from(buf[i])] {
                i += 1;
            }
            i
        };
        // Measurement: anything up to an unescaped comma or space (may contain `=`).
        if n == 0 || buf[0] == b',' {
            return false;
        }
        // In a plain line the key ends at the first space: a key seen before in this
        // body is taken from the cache.
        let space = find_space(buf, 1);
        let raw_key = &buf[..space];
        let key_hash = hyperbyte_domain::bytes_hash(raw_key);
        let cached = self.keys.get(&key_hash).is_some_and(|c| c.raw == raw_key);
        let mut i = if cached { space } else { 1 };
        while i < n && buf[i] != b',' && buf[i] != b' ' {
            i += 1;
        }
        if i >= n {
            return false;
        }
        let name_end = i;
        self.tags.clear();
        if !cached && buf[i] == b',' {
            i += 1;
            loop {
                let k0 = i;
                if i >= n || DELIMITER[usize::from(buf[i])] {
                    return false;
                }
                i = until_delimiter(i + 1);
                if i >= n || buf[i] != b'=' {
                    return false;
                }
                let k1 = i;
                i += 1;
                let v0 = i;
                // A value may start with `=` (InfluxDB only checks from its second byte).
                if i >= n || buf[i] == b',' || buf[i] == b' ' {
                    return false;
                }
                i = until_delimiter(i + 1);
                if i >= n || buf[i] == b'=' {
                    return false;
                }
                self.tags.push(TagSpan {
                    k0,
                    k1,
                    v0,
                    v1: i,
                    prefix: prefix(&buf[k0..k1]),
                });
                if buf[i] == b' ' {
                    break;
                }
                i += 1;
            }
            if !sort_tags(buf, &mut self.tags) {
                return false;
            }
        }
        let key_end = i;
        if key_end > MAX_KEY_LENGTH {
            return false;
        }

        let p = &mut self.point;
        p.fields.clear();
        let mut all_reused = true;
        i = skip_ws(buf, key_end);
        loop {
            let k0 = i;
            // Lines repeat their field keys: the previous line's key at this position,
            // followed by `=`, is this key (it was plain, so no escapes), and reusing its
            // `Cow` spares the scan and lets consumers compare names by pointer.
            let position = p.fields.len();
            let reused = self.prev_fields.get(position).filter(|prev| {
                let pb = prev.as_bytes();
                buf.get(k0..k0 + pb.len()) == Some(pb) && buf.get(k0 + pb.len()) == Some(&b'=')
            });
            let name = match reused {
                Some(prev) => {
                    i = k0 + prev.len();
                    if key_end + 4 + prev.len() > MAX_KEY_LENGTH {
                        return false;
                    }
                    prev.clone()
                }
                None => {
                    i = until_delimiter(i);
                    if i >= n
                        || buf[i] != b'='
                        || i == k0
                        || key_end + 4 + (i - k0) > MAX_KEY_LENGTH
                    {
                        return false;
                    }
                    line.str(k0, i)
                }
            };
            let key = &buf[k0..i];
            let Some((end, value)) = plain_value(buf, i + 1) else {
                return false;
            };
            // Repeated field keys are rare: leave them to the exact path. Keys reused in
            // order from the previous line are unique already (that line passed this check).
            all_reused &= reused.is_some();
            if !all_reused && p.fields.iter().any(|(k, _)| k.as_bytes() == key) {
                return false;
            }
            p.fields.push((name, value));
            i = end;
            if i >= n || buf[i] == b' ' {
                break;
            }
            i += 1; // the comma
        }
        if !(all_reused && p.fields.len() == self.prev_fields.len()) {
            self.prev_fields.clear();
            self.prev_fields
                .extend(p.fields.iter().map(|(k, _)| k.clone()));
        }

        let Ok((t0, t1)) = scan_time(buf, i) else {
            return false;
        };
        let timestamp = if t0 == t1 {
            default_ts
        } else {
            let Some(nanos) = parse_timestamp(&buf[t0..t1])
                .and_then(|v| precision.to_nanos(v))
                .filter(|v| (MIN_NANOS..=MAX_NANOS).contains(v))
            else {
                return false;
            };
            if buf[t1..].iter().any(|&c| c != b' ') {
                return false;
            }
            nanos
        };

        let p = &mut self.point;
        p.tags.clear();
        p.timestamp = timestamp;
        p.duplicate_field_type_conflict = false;
        p.series_hash = None;
        if cached {
            if let Some(c) = self.keys.get(&key_hash) {
                p.measurement = c.measurement.clone();
                p.tags.extend_from_slice(&c.tags);
                p.series_hash = Some(c.series);
                return true;
            }
        }
        p.measurement = line.str(0, name_end);
        for t in &self.tags {
            p.tags.push((line.str(t.k0, t.k1), line.str(t.v0, t.v1)));
        }
        if key_end == space && self.keys.len() < KEY_CACHE_MAX {
            let series = hyperbyte_domain::series_hash(&p.measurement, &p.tags);
            p.series_hash = Some(series);
            self.keys.insert(
                key_hash,
                CachedKey {
                    raw: raw_key,
                    measurement: p.measurement.clone(),
                    tags: p.tags.clone(),
                    series,
                },
            );
        }
        true
    }

    /// Parses one line (without leading whitespace) into `self.point`.
    fn parse(
        &mut self,
        line: Line<'a>,
        precision: Precision,
        default_ts: i64,
    ) -> Result<(), LineError> {
        let buf = line.bytes;
        let (name_end, key_end) = self.scan_key(buf)?;
        if key_end > MAX_KEY_LENGTH {
            return Err(LineError::MaxKeyLength(key_end));
        }
        let (f0, f1, simple) = scan_fields(buf, key_end, &mut self.fields)?;
        if simple {
            // Same spans as InfluxDB's walk; only the length check remains.
            if let Some(f) = self
                .fields
                .iter()
                .find(|f| key_end + 4 + (f.k1 - f.k0) > MAX_KEY_LENGTH)
            {
                return Err(LineError::MaxKeyLength(key_end + 4 + (f.k1 - f.k0)));
            }
        } else {
            self.walk_fields(buf, f0, f1, key_end)?;
        }
        let (t0, t1) = scan_time(buf, f1)?;
        let timestamp = if t0 == t1 {
            default_ts
        } else {
            let ts = &buf[t0..t1];
            let v = parse_i64(ts).ok_or_else(|| {
                let text = String::from_utf8_lossy(ts).into_owned();
                if ts == b"-" {
                    LineError::TimestampSyntax(text)
                } else {
                    LineError::TimestampOutOfRange(text)
                }
            })?;
            let nanos = precision
                .to_nanos(v)
                .filter(|n| (MIN_NANOS..=MAX_NANOS).contains(n))
                .ok_or(LineError::TimeOutsideRange)?;
            if buf[t1..].iter().any(|&c| c != b' ') {
                return Err(LineError::PointIsInvalid);
            }
            nanos
        };
        self.build(line, name_end, key_end, simple, timestamp)
    }

    /// InfluxDB's `scanKey`: measurement, then tags; records tag spans sorted by raw key
    /// and rejects duplicates. Returns (end of measurement, end of key).
    fn scan_key(&mut self, buf: &[u8]) -> Result<(usize, usize), LineError> {
        self.tags.clear();
        if buf.is_empty() || buf[0] == b',' {
            return Err(LineError::MissingMeasurement);
        }
        let mut i = 0;
        let name_end;
        loop {
            i += 1;
            if i >= buf.len() {
                return Err(LineError::MissingFields);
            }
            if buf[i - 1] == b'\\' {
                continue;
            }
            if buf[i] == b',' {
                name_end = i;
                i += 1;
                break;
            }
            if buf[i] == b' ' {
                return Ok((i, i));
            }
        }
        let key_end = loop {
            let k0 = i;
            if i >= buf.len() || matches!(buf[i], b' ' | b',' | b'=') {
                return Err(LineError::MissingTagKey);
            }
            let k1 = loop {
                i += 1;
                if i >= buf.len() || (matches!(buf[i], b' ' | b',') && buf[i - 1] != b'\\') {
                    return Err(LineError::MissingTagValue);
                }
                if buf[i] == b'=' && buf[i - 1] != b'\\' {
                    break i;
                }
            };
            i += 1;
            let v0 = i;
            if i >= buf.len() || matches!(buf[i], b',' | b' ') {
                return Err(LineError::MissingTagValue);
            }
            let end_of_key = loop {
                i += 1;
                if i >= buf.len() {
                    return Err(LineError::MissingFields);
                }
                if buf[i - 1] == b'\\' {
                    continue;
                }
                match buf[i] {
                    b'=' => return Err(LineError::InvalidTagFormat),
                    b',' => break false,
                    b' ' => break true,
                    _ => {}
                }
            };
            self.tags.push(TagSpan {
                k0,
                k1,
                v0,
                v1: i,
                prefix: prefix(&buf[k0..k1]),
            });
            if end_of_key {
                break i;
            }
            i += 1;
        };
        // Sort by raw key (insertion sort: tag sets are small and often sorted already),
        // then reject duplicates, as InfluxDB does.
        if !sort_tags(buf, &mut self.tags) {
            return Err(LineError::DuplicateTags);
        }
        Ok((name_end, key_end))
    }

    /// InfluxDB's `walkFields`/`FieldIterator`: splits the validated field section into
    /// keys (up to the first `=` not preceded by `\`) and values.
    fn walk_fields(
        &mut self,
        buf: &[u8],
        f0: usize,
        f1: usize,
        key_len: usize,
    ) -> Result<(), LineError> {
        self.fields.clear();
        let mut p = f0;
        while p < f1 {
            let rest = &buf[p..f1];
            let eq = scan_to_equals(rest);
            if eq + 2 > rest.len() {
                return Err(LineError::InvalidFieldKey(
                    String::from_utf8_lossy(&rest[..eq]).into_owned(),
                ));
            }
            let size = key_len + 4 + eq;
            if size > MAX_KEY_LENGTH {
                return Err(LineError::MaxKeyLength(size));
            }
            let vend = scan_field_value(rest, eq + 1);
            self.fields.push(FieldSpan {
                k0: p,
                k1: p + eq,
                v0: p + eq + 1,
                v1: p + vend,
            });
            p += vend;
            if p < f1 {
                p += 1; // the comma
            }
        }
        Ok(())
    }

    /// Fills `self.point` from the recorded spans.
    fn build(
        &mut self,
        line: Line<'a>,
        name_end: usize,
        key_end: usize,
        simple_fields: bool,
        timestamp: i64,
    ) -> Result<(), LineError> {
        let buf = line.bytes;
        let p = &mut self.point;
        p.tags.clear();
        p.fields.clear();
        p.timestamp = timestamp;
        p.duplicate_field_type_conflict = false;
        p.series_hash = None;

        let key_escaped = buf[..key_end].contains(&b'\\');
        if key_escaped {
            p.measurement = line.unescaped(0, name_end, MEASUREMENT_SPECIALS);
            for t in &self.tags {
                p.tags.push((
                    line.unescaped(t.k0, t.k1, TAG_SPECIALS),
                    line.unescaped(t.v0, t.v1, TAG_SPECIALS),
                ));
            }
            // Raw order can differ from the order of the unescaped keys.
            p.tags.sort_by(|a, b| a.0.cmp(&b.0));
        } else {
            p.measurement = line.str(0, name_end);
            for t in &self.tags {
                p.tags.push((line.str(t.k0, t.k1), line.str(t.v0, t.v1)));
            }
        }

        let many = self.fields.len() > 32;
        let mut index: HashMap<Cow<'a, str>, usize> = HashMap::with_capacity(0);
        for f in &self.fields {
            let Some(value) = convert_value(line, f.v0, f.v1)? else {
                continue;
            };
            let key = if simple_fields {
                line.str(f.k0, f.k1)
            } else {
                line.unescaped(f.k0, f.k1, FIELD_KEY_SPECIALS)
            };
            let existing = if many {
                index.get(&key).copied()
            } else {
                p.fields.iter().position(|(k, _)| *k == key)
            };
            match existing {
                Some(slot) => {
                    let old = &mut p.fields[slot].1;
                    if old.field_type() != value.field_type() {
                        p.duplicate_field_type_conflict = true;
                    }
                    *old = value;
                }
                None => {
                    if many {
                        index.insert(key.clone(), p.fields.len());
                    }
                    p.fields.push((key, value));
                }
            }
        }
        if p.fields.is_empty() {
            return Err(LineError::MissingFields);
        }
        Ok(())
    }
}

/// The value of the eight ASCII digits at `buf[j..j + 8]`, or `None` when there are
/// fewer than eight bytes or any is not a digit (SWAR: one load, three multiplications).
#[inline]
pub(crate) fn eight_digits(buf: &[u8], j: usize) -> Option<u64> {
    let bytes = buf.get(j..j.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(bytes);
    let w = u64::from_le_bytes(a);
    let high = 0xF0F0_F0F0_F0F0_F0F0u64;
    let t = w.wrapping_add(0x0606_0606_0606_0606);
    if (w & high) | ((t & high) >> 4) != 0x3333_3333_3333_3333 {
        return None;
    }
    let mut v = w.wrapping_sub(0x3030_3030_3030_3030);
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let lo = (v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let hi = ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    Some(lo.wrapping_add(hi) >> 32)
}

/// Fast path for one unquoted field value at `i`: common numbers (`-?digits[.digits]`
/// with optional `i`/`u`) and booleans, converted while scanning. `None` for anything else
/// (exponents, errors, out-of-range integers), which the exact path then handles.
#[inline]
fn plain_value<'a>(buf: &[u8], i: usize) -> Option<(usize, FieldRef<'a>)> {
    let n = buf.len();
    let first = *buf.get(i)?;
    if matches!(first, b't' | b'T' | b'f' | b'F') {
        let mut j = i + 1;
        while j < n && buf[j] != b',' && buf[j] != b' ' {
            j += 1;
        }
        let v = match &buf[i..j] {
            b"t" | b"T" | b"true" | b"True" | b"TRUE" => true,
            b"f" | b"F" | b"false" | b"False" | b"FALSE" => false,
            _ => return None,
        };
        return Some((j, FieldRef::Boolean(v)));
    }
    let neg = first == b'-';
    let int_start = if neg { i + 1 } else { i };
    // Integer digits, then optional fraction digits, accumulated in tight loops (the
    // accumulator wraps harmlessly when there are more than 19 digits: it is then unused).
    let mut mantissa: u64 = 0;
    let mut j = int_start;
    while let Some(v) = eight_digits(buf, j) {
        mantissa = mantissa.wrapping_mul(100_000_000).wrapping_add(v);
        j += 8;
    }
    while j < n {
        let d = buf[j].wrapping_sub(b'0');
        if d >= 10 {
            break;
        }
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
        j += 1;
    }
    let int_digits = j - int_start;
    let mut frac = 0usize;
    let mut dot = false;
    if j < n && buf[j] == b'.' {
        dot = true;
        j += 1;
        let frac_start = j;
        while let Some(v) = eight_digits(buf, j) {
            mantissa = mantissa.wrapping_mul(100_000_000).wrapping_add(v);
            j += 8;
        }
        while j < n {
            let d = buf[j].wrapping_sub(b'0');
            if d >= 10 {
                break;
            }
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
            j += 1;
        }
        frac = j - frac_start;
    }
    let digits = int_digits + frac;
    if digits == 0 {
        return None;
    }
    let at_end = |k: usize| k >= n || buf[k] == b',' || buf[k] == b' ';
    if at_end(j) {
        let v = if digits <= 19 && mantissa < (1u64 << 53) && frac < 23 {
            #[allow(clippy::cast_precision_loss)]
            let v = mantissa as f64 / crate::number::POW10[frac];
            if neg {
                -v
            } else {
                v
            }
        } else {
            parse_f64(&buf[i..j])?
        };
        return Some((j, FieldRef::Float(v)));
    }
    if dot || !at_end(j + 1) {
        return None;
    }
    match buf[j] {
        b'i' => {
            let v = if digits <= 18 {
                // Below 10^18: fits.
                let m = i64::try_from(mantissa).ok()?;
                if neg {
                    -m
                } else {
                    m
                }
            } else {
                parse_i64(&buf[i..j])?
            };
            Some((j + 1, FieldRef::Integer(v)))
        }
        b'u' if !neg => {
            let v = if digits <= 19 {
                mantissa
            } else {
                parse_u64(&buf[int_start..j])?
            };
            Some((j + 1, FieldRef::Unsigned(v)))
        }
        _ => None,
    }
}

/// Converts a validated raw field value by its first byte, as InfluxDB's `FieldIterator`
/// types it. `None` for an empty value (InfluxDB ignores such fields).
#[inline]
fn convert_value<'a>(
    line: Line<'a>,
    v0: usize,
    v1: usize,
) -> Result<Option<FieldRef<'a>>, LineError> {
    let raw = &line.bytes[v0..v1];
    let (Some(&first), Some(&last)) = (raw.first(), raw.last()) else {
        return Ok(None);
    };
    let v = match first {
        b'"' => {
            let inner_end = if raw.len() >= 2 { v1 - 1 } else { v1 };
            FieldRef::String(line.string_value((v0 + 1).min(inner_end), inner_end))
        }
        b'0'..=b'9' | b'-' | b'.' | b'n' | b'N' | b'i' | b'I' | b'u' => match last {
            b'i' => {
                FieldRef::Integer(parse_i64(&raw[..raw.len() - 1]).ok_or(LineError::InvalidNumber)?)
            }
            b'u' => FieldRef::Unsigned(
                parse_u64(&raw[..raw.len() - 1]).ok_or(LineError::InvalidNumber)?,
            ),
            _ => FieldRef::Float(parse_f64(raw).ok_or(LineError::InvalidFloat)?),
        },
        _ => FieldRef::Boolean(match raw {
            b"t" | b"T" | b"true" | b"True" | b"TRUE" => true,
            b"f" | b"F" | b"false" | b"False" | b"FALSE" => false,
            _ => return Err(LineError::InvalidBoolean),
        }),
    };
    Ok(Some(v))
}

/// InfluxDB's `scanTo(buf, 0, '=')`: index of the first `=` not preceded by `\`.
#[inline]
fn scan_to_equals(buf: &[u8]) -> usize {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'=' && (i == 0 || buf[i - 1] != b'\\') {
            break;
        }
        i += 1;
    }
    i
}

/// InfluxDB's `scanFieldValue`: end of the value starting at `i` (the next comma outside
/// quotes; only `\"` and `\\` are escapes).
#[inline]
fn scan_field_value(buf: &[u8], mut i: usize) -> usize {
    let mut quoted = false;
    while i < buf.len() {
        let c = buf[i];
        if c == b'\\' && i + 1 < buf.len() && matches!(buf[i + 1], b'"' | b'\\') {
            i += 2;
            continue;
        }
        if c == b'"' {
            quoted = !quoted;
        } else if c == b',' && !quoted {
            break;
        }
        i += 1;
    }
    i
}

/// InfluxDB's `scanFields`: validates the field section starting after the key and
/// returns its byte range. While no quote or backslash has been seen, it also records the
/// key and value spans (exactly what InfluxDB's later walk would find); the returned flag
/// says whether those spans are complete.
fn scan_fields(
    buf: &[u8],
    i0: usize,
    spans: &mut Vec<FieldSpan>,
) -> Result<(usize, usize, bool), LineError> {
    spans.clear();
    let start = skip_ws(buf, i0);
    let mut i = start;
    let mut quoted = false;
    let mut simple = true;
    let mut field_start = start;
    let mut equals = 0usize;
    let mut commas = 0usize;
    while i < buf.len() {
        let c = buf[i];
        if c == b'\\' && i + 1 < buf.len() {
            simple = false;
            i += 2;
            continue;
        }
        if c == b'"' && equals > commas {
            simple = false;
            quoted = !quoted;
            i += 1;
            continue;
        }
        if c == b'=' && !quoted {
            equals += 1;
            let before = if i >= 2 { buf[i - 2] } else { 0 };
            if i >= 1 && matches!(buf[i - 1], b' ' | b',') && before != b'\\' {
                return Err(LineError::MissingFieldKey);
            }
            let Some(&next) = buf.get(i + 1) else {
                return Err(LineError::MissingFieldValue);
            };
            if next == b',' || next == b' ' {
                return Err(LineError::MissingFieldValue);
            }
            let value_end = if next.is_ascii_digit() || matches!(next, b'.' | b'-' | b'N' | b'n') {
                Some(scan_number(buf, i + 1)?)
            } else if next != b'"' {
                Some(scan_boolean(buf, i + 1)?)
            } else {
                None
            };
            if let Some(end) = value_end {
                if simple {
                    spans.push(FieldSpan {
                        k0: field_start,
                        k1: i,
                        v0: i + 1,
                        v1: end,
                    });
                }
                i = end;
                continue;
            }
        }
        if c == b',' && !quoted {
            commas += 1;
            field_start = i + 1;
        }
        if c == b'"' {
            // An unquoted quote in a key: leave the splitting to the exact walk.
            simple = false;
        }
        if c == b' ' && !quoted {
            break;
        }
        i += 1;
    }
    if quoted {
        return Err(LineError::UnbalancedQuotes);
    }
    if equals == 0 || commas + 1 != equals {
        return Err(LineError::InvalidFieldFormat);
    }
    Ok((start, i, simple))
}

#[inline]
fn is_numeric(c: u8) -> bool {
    c.is_ascii_digit() || c == b'.'
}

/// InfluxDB's `scanNumber` (with unsigned integers enabled): validates the number
/// starting at `i` and returns its end.
fn scan_number(buf: &[u8], mut i: usize) -> Result<usize, LineError> {
    let start = i;
    let mut is_int = false;
    let mut is_unsigned = false;
    if i < buf.len() && buf[i] == b'-' {
        i += 1;
        if i == buf.len() {
            return Err(LineError::InvalidNumber);
        }
    }
    let mut decimal = false;
    let mut scientific = false;
    while i < buf.len() {
        let c = buf[i];
        if c == b',' || c == b' ' {
            break;
        }
        if c == b'i' && i > start && !(is_int || is_unsigned) {
            is_int = true;
            i += 1;
            continue;
        }
        if c == b'u' && i > start && !(is_int || is_unsigned) {
            is_unsigned = true;
            i += 1;
            continue;
        }
        if c == b'.' {
            if decimal {
                return Err(LineError::InvalidNumber);
            }
            decimal = true;
        }
        if i > start && (c == b'e' || c == b'E') {
            scientific = true;
            i += 1;
            continue;
        }
        if (c == b'+' || c == b'-') && i > 0 && matches!(buf[i - 1], b'e' | b'E') {
            i += 1;
            continue;
        }
        if i + 2 < buf.len() && (c == b'N' || c == b'n') {
            return Err(LineError::InvalidNumber);
        }
        if !is_numeric(c) {
            return Err(LineError::InvalidNumber);
        }
        i += 1;
    }
    if (is_int || is_unsigned) && (decimal || scientific) {
        return Err(LineError::InvalidNumber);
    }
    let mut digits = i - start;
    for flag in [is_int, decimal, buf[start] == b'-'] {
        if flag {
            digits = digits.saturating_sub(1);
        }
    }
    if digits == 0 {
        return Err(LineError::InvalidNumber);
    }
    if is_int {
        if buf[i - 1] != b'i' {
            return Err(LineError::InvalidNumber);
        }
        let d = &buf[start..i - 1];
        if d.len() >= 19 && parse_i64(d).is_none() {
            return Err(LineError::IntegerOutOfRange(
                String::from_utf8_lossy(d).into_owned(),
            ));
        }
    } else if is_unsigned {
        if buf[i - 1] != b'u' || buf[start] == b'-' {
            return Err(LineError::InvalidNumber);
        }
        let d = &buf[start..i - 1];
        if d.len() >= 20 && parse_u64(d).is_none() {
            return Err(LineError::UnsignedOutOfRange(
                String::from_utf8_lossy(d).into_owned(),
            ));
        }
    } else if (scientific || i - start >= 25) && parse_f64(&buf[start..i]).is_none() {
        return Err(LineError::InvalidFloat);
    }
    Ok(i)
}

/// InfluxDB's `scanBoolean`: accepts `t T true True TRUE f F false False FALSE`.
fn scan_boolean(buf: &[u8], mut i: usize) -> Result<usize, LineError> {
    let start = i;
    if i < buf.len() && !matches!(buf[i], b't' | b'f' | b'T' | b'F') {
        return Err(LineError::InvalidBoolean);
    }
    i += 1;
    while i < buf.len() && buf[i] != b',' && buf[i] != b' ' {
        i += 1;
    }
    let word = &buf[start..i.min(buf.len())];
    match word {
        b"t" | b"T" | b"f" | b"F" | b"true" | b"True" | b"TRUE" | b"false" | b"False"
        | b"FALSE" => Ok(i),
        _ => Err(LineError::InvalidBoolean),
    }
}

/// InfluxDB's `scanTime`: the optional timestamp after the fields. Returns its range
/// (empty when absent).
fn scan_time(buf: &[u8], i: usize) -> Result<(usize, usize), LineError> {
    let start = skip_ws(buf, i);
    let mut i = start;
    while i < buf.len() {
        let c = buf[i];
        if c == b'\n' || c == b' ' {
            break;
        }
        if i == start && c == b'-' {
            i += 1;
            continue;
        }
        if !c.is_ascii_digit() {
            return Err(LineError::BadTimestamp);
        }
        i += 1;
    }
    Ok((start, i))
}
