//! The parser: a faithful port of InfluxDB 1.6's scanning rules (`models/points.go`) on
//! `&[u8]`, so that every accepted line, every rejected line and every error text match
//! the reference server, including its quirks (see the crate documentation).
//!
//! Scanning works on byte offsets into the body; strings are only allocated for the
//! resulting [`Point`]. Scratch vectors for tag and field spans are reused across lines.

use crate::error::LineError;
use crate::number::{parse_f64, parse_i64, parse_u64};
use crate::Parsed;
use hyperbyte_domain::time::{MAX_NANOS, MIN_NANOS};
use hyperbyte_domain::{FieldValue, Point, Precision};

/// Longest series key (and series key + field key + 4) InfluxDB accepts.
pub(crate) const MAX_KEY_LENGTH: usize = 65535;

/// Parses a line-protocol body. Timestamps are in `precision`; points without one get
/// `now_nanos` rounded down to a multiple of `precision` (as InfluxDB does with its
/// clock). Blank lines and `#` comments are skipped; a trailing `\r` is ignored.
pub fn parse(body: &[u8], precision: Precision, now_nanos: i64) -> Parsed {
    let default_ts = truncate(now_nanos, precision);
    let mut out = Parsed {
        // A cheap guess (about 100 bytes a line) that avoids most reallocations.
        points: Vec::with_capacity((body.len() / 128).clamp(1, 1 << 16)),
        ..Parsed::default()
    };
    let mut scratch = Scratch::default();
    let mut pos = 0;
    while let Some(line) = next_line(body, &mut pos) {
        match scratch.parse_line(line, precision, default_ts) {
            Ok(point) => out.points.push(point),
            Err(e) => out.errors.push(format_error(line, &e)),
        }
        out.duplicate_field_type_conflict |= scratch.conflict;
    }
    out
}

/// Parses one line (no line splitting; leading whitespace is skipped, and a line that is
/// blank or a comment yields [`LineError::MissingMeasurement`]/[`LineError::MissingFields`]
/// as InfluxDB would). Points without a timestamp get `now_nanos` rounded down to
/// `precision`.
pub fn parse_line(line: &[u8], precision: Precision, now_nanos: i64) -> Result<Point, LineError> {
    let start = skip_ws(line, 0);
    Scratch::default().parse_line(&line[start..], precision, truncate(now_nanos, precision))
}

/// The error text InfluxDB reports for a rejected line.
pub(crate) fn format_error(line: &[u8], e: &LineError) -> String {
    format!("unable to parse '{}': {e}", String::from_utf8_lossy(line))
}

/// Rounds `nanos` down to a multiple of the precision unit (Go's `Time.Truncate`).
pub(crate) fn truncate(nanos: i64, precision: Precision) -> i64 {
    let unit = precision.nanos();
    nanos - nanos.rem_euclid(unit)
}

/// Returns the next line to parse starting at `*pos`, skipping blank lines and comments,
/// without leading whitespace and without a trailing `\r`.
fn next_line<'a>(body: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    while *pos < body.len() {
        let start = *pos;
        let end = scan_line(body, start);
        *pos = end + 1;
        let mut block = &body[start..end];
        // Only present when an open quote ran to the end of the body.
        if let [rest @ .., b'\n'] = block {
            block = rest;
        }
        // CRLF line endings (InfluxDB 1.6 rejects them; we accept them).
        if let [rest @ .., b'\r'] = block {
            block = rest;
        }
        let s = skip_ws(block, 0);
        if s >= block.len() || block[s] == b'#' {
            continue;
        }
        return Some(&block[s..]);
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

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

#[inline]
fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(LO) & !v & HI
}

/// Index of the first `\n`, `"` or `\` at or after `i` (or `buf.len()`), eight bytes at a
/// time.
#[inline]
fn find_line_special(buf: &[u8], mut i: usize) -> usize {
    while i + 8 <= buf.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&buf[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let hit = zero_bytes(w ^ (LO * u64::from(b'\n')))
            | zero_bytes(w ^ (LO * u64::from(b'"')))
            | zero_bytes(w ^ (LO * u64::from(b'\\')));
        if hit != 0 {
            // The lowest flagged byte is always a true match.
            return i + (hit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < buf.len() && !matches!(buf[i], b'\n' | b'"' | b'\\') {
        i += 1;
    }
    i
}

/// End of the line starting at `i` (index of its terminating `\n`, or `buf.len()`),
/// following InfluxDB's `scanLine`: newlines inside quoted field values and escaped
/// newlines do not end a line.
fn scan_line(buf: &[u8], start: usize) -> usize {
    // Without quotes or backslashes before the newline, the newline ends the line.
    let i = find_line_special(buf, start);
    if i >= buf.len() || buf[i] == b'\n' {
        return i;
    }
    scan_line_slow(buf, start)
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

/// Byte ranges of one tag in the line.
#[derive(Debug, Clone, Copy)]
struct TagSpan {
    k0: usize,
    k1: usize,
    v0: usize,
    v1: usize,
}

/// Byte ranges of one field in the line.
#[derive(Debug, Clone, Copy)]
struct FieldSpan {
    k0: usize,
    k1: usize,
    v0: usize,
    v1: usize,
}

/// Per-body scratch space reused across lines.
#[derive(Debug, Default)]
struct Scratch {
    tags: Vec<TagSpan>,
    fields: Vec<FieldSpan>,
    unescaped: Vec<u8>,
    /// Whether the last parsed line repeated a field key with values of different types.
    conflict: bool,
}

impl Scratch {
    fn parse_line(
        &mut self,
        buf: &[u8],
        precision: Precision,
        default_ts: i64,
    ) -> Result<Point, LineError> {
        self.conflict = false;
        let (name_end, key_end) = self.scan_key(buf)?;
        if key_end > MAX_KEY_LENGTH {
            return Err(LineError::MaxKeyLength(key_end));
        }
        let (f0, f1) = scan_fields(buf, key_end)?;
        self.walk_fields(buf, f0, f1, key_end)?;
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
        self.build(buf, name_end, key_end, timestamp)
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
            self.tags.push(TagSpan { k0, k1, v0, v1: i });
            if end_of_key {
                break i;
            }
            i += 1;
        };
        // Sort by raw key (insertion sort: tag sets are small and often sorted already),
        // then reject duplicates, as InfluxDB does.
        let tags = &mut self.tags;
        for j in 1..tags.len() {
            let mut k = j;
            while k > 0 && buf[tags[k].k0..tags[k].k1] < buf[tags[k - 1].k0..tags[k - 1].k1] {
                tags.swap(k, k - 1);
                k -= 1;
            }
        }
        if tags
            .windows(2)
            .any(|w| buf[w[0].k0..w[0].k1] == buf[w[1].k0..w[1].k1])
        {
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

    /// Builds the owned point from the recorded spans.
    fn build(
        &mut self,
        buf: &[u8],
        name_end: usize,
        key_end: usize,
        timestamp: i64,
    ) -> Result<Point, LineError> {
        let key_escaped = buf[..key_end].contains(&b'\\');
        let measurement = unescape(&buf[..name_end], MEASUREMENT_SPECIALS, &mut self.unescaped);
        let mut tags = Vec::with_capacity(self.tags.len());
        for t in &self.tags {
            let k = unescape(&buf[t.k0..t.k1], TAG_SPECIALS, &mut self.unescaped);
            let v = unescape(&buf[t.v0..t.v1], TAG_SPECIALS, &mut self.unescaped);
            tags.push((k, v));
        }
        if key_escaped {
            // Raw order can differ from the order of the unescaped keys.
            tags.sort_by(|a: &(String, String), b| a.0.cmp(&b.0));
        }

        let mut fields: Vec<(String, FieldValue)> = Vec::with_capacity(self.fields.len());
        for idx in 0..self.fields.len() {
            let f = self.fields[idx];
            let raw = &buf[f.v0..f.v1];
            let Some(value) = convert_value(raw, &mut self.unescaped)? else {
                continue;
            };
            let key = unescape(&buf[f.k0..f.k1], FIELD_KEY_SPECIALS, &mut self.unescaped);
            if let Some(slot) = find_field(&mut fields, &key) {
                if slot.field_type() != value.field_type() {
                    self.conflict = true;
                }
                *slot = value;
            } else {
                fields.push((key, value));
            }
        }
        if fields.is_empty() {
            return Err(LineError::MissingFields);
        }
        Ok(Point {
            measurement,
            tags,
            fields,
            timestamp,
        })
    }
}

/// Unescapes `\c` for every `c` in `specials` (a backslash before anything else is kept)
/// and converts to a `String` (invalid UTF-8 becomes U+FFFD).
fn unescape(raw: &[u8], specials: &[u8], out: &mut Vec<u8>) -> String {
    if !raw.contains(&b'\\') {
        return bytes_to_string(raw);
    }
    out.clear();
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
    bytes_to_string(out)
}

/// Characters a backslash escapes in a measurement name (InfluxDB's `escape.Unescape`).
const MEASUREMENT_SPECIALS: &[u8] = b", =\"";
/// Characters a backslash escapes in tag keys and values.
const TAG_SPECIALS: &[u8] = b", =";
/// Characters a backslash escapes in field keys.
const FIELD_KEY_SPECIALS: &[u8] = b", =\"";

#[inline]
fn find_field<'a>(fields: &'a mut [(String, FieldValue)], key: &str) -> Option<&'a mut FieldValue> {
    fields
        .iter_mut()
        .find(|(k, _)| k.as_str() == key)
        .map(|(_, v)| v)
}

#[inline]
fn bytes_to_string(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(raw).into_owned(),
    }
}

/// Converts a validated raw field value by its first byte, as InfluxDB's `FieldIterator`
/// types it. `None` for an empty value (InfluxDB ignores such fields).
fn convert_value(raw: &[u8], scratch: &mut Vec<u8>) -> Result<Option<FieldValue>, LineError> {
    let (Some(&first), Some(&last)) = (raw.first(), raw.last()) else {
        return Ok(None);
    };
    let v = match first {
        b'"' => {
            let inner = if raw.len() >= 2 {
                &raw[1..raw.len() - 1]
            } else {
                &[][..]
            };
            FieldValue::String(unescape_string(inner, scratch))
        }
        b'0'..=b'9' | b'-' | b'.' | b'n' | b'N' | b'i' | b'I' | b'u' => match last {
            b'i' => FieldValue::Integer(
                parse_i64(&raw[..raw.len() - 1]).ok_or(LineError::InvalidNumber)?,
            ),
            b'u' => FieldValue::Unsigned(
                parse_u64(&raw[..raw.len() - 1]).ok_or(LineError::InvalidNumber)?,
            ),
            _ => FieldValue::Float(parse_f64(raw).ok_or(LineError::InvalidFloat)?),
        },
        _ => FieldValue::Boolean(match raw {
            b"t" | b"T" | b"true" | b"True" | b"TRUE" => true,
            b"f" | b"F" | b"false" | b"False" | b"FALSE" => false,
            _ => return Err(LineError::InvalidBoolean),
        }),
    };
    Ok(Some(v))
}

/// InfluxDB's `unescapeStringField`: `\\` → `\`, `\"` → `"`, anything else verbatim.
fn unescape_string(inner: &[u8], out: &mut Vec<u8>) -> String {
    if !inner.contains(&b'\\') {
        return bytes_to_string(inner);
    }
    out.clear();
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
    bytes_to_string(out)
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
/// returns its byte range.
fn scan_fields(buf: &[u8], i0: usize) -> Result<(usize, usize), LineError> {
    let start = skip_ws(buf, i0);
    let mut i = start;
    let mut quoted = false;
    let mut equals = 0usize;
    let mut commas = 0usize;
    while i < buf.len() {
        let c = buf[i];
        if c == b'\\' && i + 1 < buf.len() {
            i += 2;
            continue;
        }
        if c == b'"' && equals > commas {
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
            if next.is_ascii_digit() || matches!(next, b'.' | b'-' | b'N' | b'n') {
                i = scan_number(buf, i + 1)?;
                continue;
            }
            if next != b'"' {
                i = scan_boolean(buf, i + 1)?;
                continue;
            }
        }
        if c == b',' && !quoted {
            commas += 1;
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
    Ok((start, i))
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
