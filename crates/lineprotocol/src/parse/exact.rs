//! The exact path: InfluxDB 1.6's multi-pass scanning (`scanKey`, `scanFields`,
//! `walkFields`), step by step.
//!
//! Why it exists: every line the fast path declines (quotes, backslashes, errors, rare
//! forms) is parsed here, so that what is accepted, what is rejected and every error text
//! match the reference server exactly.

use super::lines::{skip_ws, Line, FIELD_KEY_SPECIALS, MEASUREMENT_SPECIALS, TAG_SPECIALS};
use super::timestamp::scan_time;
use super::value::{convert_value, scan_boolean, scan_number};
use super::{prefix, sort_tags, FieldSpan, LineParser, TagSpan, MAX_KEY_LENGTH};
use crate::error::LineError;
use crate::number::parse_i64;
use hyperbyte_domain::time::{MAX_NANOS, MIN_NANOS};
use hyperbyte_domain::{Precision, RepeatedField};
use std::borrow::Cow;
use std::collections::HashMap;

impl<'a> LineParser<'a> {
    /// Parses one line (without leading whitespace) into `self.point`.
    pub(super) fn parse(
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
        p.tags.to_mut().clear();
        p.fields.to_mut().clear();
        p.timestamp = timestamp;
        p.repeated_field = None;
        p.series_hash = None;

        let key_escaped = buf[..key_end].contains(&b'\\');
        if key_escaped {
            p.measurement = line.unescaped(0, name_end, MEASUREMENT_SPECIALS);
            for t in &self.tags {
                p.tags.to_mut().push((
                    line.unescaped(t.k0, t.k1, TAG_SPECIALS),
                    line.unescaped(t.v0, t.v1, TAG_SPECIALS),
                ));
            }
            // Raw order can differ from the order of the unescaped keys.
            p.tags.sort_by(|a, b| a.0.cmp(&b.0));
        } else {
            p.measurement = line.str(0, name_end);
            for t in &self.tags {
                p.tags
                    .to_mut()
                    .push((line.str(t.k0, t.k1), line.str(t.v0, t.v1)));
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
                    let t = value.field_type();
                    if p.repeated_field.is_none() && p.fields[slot].1.field_type() != t {
                        // Until the first repeat of another type every key holds a
                        // value of its first type.
                        p.repeated_field = Some(Box::new(RepeatedField {
                            first_types: p.fields.iter().map(|(_, v)| v.field_type()).collect(),
                            slot,
                            field_type: t,
                        }));
                    }
                    p.fields[slot].1 = value;
                }
                None => {
                    if many {
                        index.insert(key.clone(), p.fields.len());
                    }
                    p.fields.to_mut().push((key, value));
                }
            }
        }
        if p.fields.is_empty() {
            return Err(LineError::MissingFields);
        }
        Ok(())
    }
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
