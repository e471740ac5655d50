//! The fast path for plain lines (no `"` and no `\`, the common case).
//!
//! Why it exists: most bodies are plain, and for them one fused pass can validate and
//! split the line, convert the values and reuse what earlier lines of the same body
//! already produced (the series key, the field names). It accepts only lines that parse
//! without surprises and declines everything else (returns `false`), which the exact path
//! then parses and, if need be, rejects with InfluxDB's text; property tests check that
//! both paths produce the same points.
//!
//! Speed matters here (this is the ingest hot path): the steps below are separate
//! functions for reading, marked `#[inline]` so that they compile as one.

use super::lines::{skip_ws, Line};
use super::timestamp::{parse_timestamp, scan_time};
use super::value::plain_value;
use super::{prefix, sort_tags, CachedKey, LineParser, TagSpan, KEY_CACHE_MAX, MAX_KEY_LENGTH};
use hyperbyte_domain::time::{MAX_NANOS, MIN_NANOS};
use hyperbyte_domain::Precision;

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

/// Index of the first delimiter (`,`, space, `=`) at or after `i` (or `buf.len()`).
#[inline]
fn until_delimiter(buf: &[u8], mut i: usize) -> usize {
    while i < buf.len() && !DELIMITER[usize::from(buf[i])] {
        i += 1;
    }
    i
}

/// The series key of a plain line, as [`LineParser::plain_key`] found it.
struct PlainKey<'a> {
    /// The line up to its first space: the key when the line has no escapes, and the
    /// cache's lookup key.
    raw: &'a [u8],
    /// `bytes_hash` of `raw`.
    hash: u64,
    /// Whether the cache holds this key (then no tag spans were recorded).
    cached: bool,
    /// End of the measurement name (when not cached).
    name_end: usize,
    /// End of the series key (measurement and tags).
    end: usize,
}

impl<'a> LineParser<'a> {
    /// Fast path for a plain line (no quote, no backslash): handles only lines that parse
    /// successfully without surprises and returns `false` for anything else, which the
    /// exact path then parses (and rejects with InfluxDB's text). Produces exactly what the
    /// exact path would.
    pub(super) fn parse_plain(
        &mut self,
        line: Line<'a>,
        precision: Precision,
        default_ts: i64,
    ) -> bool {
        let Some(key) = self.plain_key(line.bytes) else {
            return false;
        };
        let Some(fields_end) = self.plain_fields(line, key.end) else {
            return false;
        };
        let Some(timestamp) = plain_timestamp(line.bytes, fields_end, precision, default_ts) else {
            return false;
        };
        self.finish_plain(line, &key, timestamp);
        true
    }

    /// Step 1: the measurement and the tags. A key seen before in this body is only
    /// looked up; otherwise the tag spans are recorded, sorted and checked.
    #[inline]
    fn plain_key(&mut self, buf: &'a [u8]) -> Option<PlainKey<'a>> {
        let n = buf.len();
        // Measurement: anything up to an unescaped comma or space (may contain `=`).
        if n == 0 || buf[0] == b',' {
            return None;
        }
        // In a plain line the key ends at the first space: a key seen before in this
        // body is taken from the cache.
        let space = find_space(buf, 1);
        let raw = &buf[..space];
        let hash = hyperbyte_domain::bytes_hash(raw);
        let cached = self.keys.get(&hash).is_some_and(|c| c.raw == raw);
        let mut i = if cached { space } else { 1 };
        while i < n && buf[i] != b',' && buf[i] != b' ' {
            i += 1;
        }
        if i >= n {
            return None;
        }
        let name_end = i;
        self.tags.clear();
        if !cached && buf[i] == b',' {
            i = self.plain_tags(buf, i + 1)?;
        }
        if i > MAX_KEY_LENGTH {
            return None;
        }
        Some(PlainKey {
            raw,
            hash,
            cached,
            name_end,
            end: i,
        })
    }

    /// The tags of a key not in the cache, from `i` (just after the measurement's comma):
    /// records their spans in `self.tags`, sorted by key, and returns the end of the key.
    /// `None` for anything unusual (empty keys or values, `=` in a value, duplicates).
    #[inline]
    fn plain_tags(&mut self, buf: &[u8], mut i: usize) -> Option<usize> {
        let n = buf.len();
        loop {
            let k0 = i;
            if i >= n || DELIMITER[usize::from(buf[i])] {
                return None;
            }
            i = until_delimiter(buf, i + 1);
            if i >= n || buf[i] != b'=' {
                return None;
            }
            let k1 = i;
            i += 1;
            let v0 = i;
            // A value may start with `=` (InfluxDB only checks from its second byte).
            if i >= n || buf[i] == b',' || buf[i] == b' ' {
                return None;
            }
            i = until_delimiter(buf, i + 1);
            if i >= n || buf[i] == b'=' {
                return None;
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
        sort_tags(buf, &mut self.tags).then_some(i)
    }

    /// Step 2: the fields after the key, converted into `self.point.fields`; their keys
    /// are remembered for the next line. Returns the end of the field section.
    #[inline]
    fn plain_fields(&mut self, line: Line<'a>, key_end: usize) -> Option<usize> {
        let buf = line.bytes;
        let n = buf.len();
        let p = &mut self.point;
        p.fields.to_mut().clear();
        let mut all_reused = true;
        let mut i = skip_ws(buf, key_end);
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
                        return None;
                    }
                    prev.clone()
                }
                None => {
                    i = until_delimiter(buf, i);
                    if i >= n
                        || buf[i] != b'='
                        || i == k0
                        || key_end + 4 + (i - k0) > MAX_KEY_LENGTH
                    {
                        return None;
                    }
                    line.str(k0, i)
                }
            };
            let key = &buf[k0..i];
            let (end, value) = plain_value(buf, i + 1)?;
            // Repeated field keys are rare: leave them to the exact path. Keys reused in
            // order from the previous line are unique already (that line passed this check).
            all_reused &= reused.is_some();
            if !all_reused && p.fields.iter().any(|(k, _)| k.as_bytes() == key) {
                return None;
            }
            p.fields.to_mut().push((name, value));
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
        Some(i)
    }

    /// Step 4: the rest of `self.point` (its fields are already in place): timestamp,
    /// measurement and tags, from the cache or from the recorded spans (then cached when
    /// the key is the raw text up to the first space).
    #[inline]
    fn finish_plain(&mut self, line: Line<'a>, key: &PlainKey<'a>, timestamp: i64) {
        let p = &mut self.point;
        p.tags.to_mut().clear();
        p.timestamp = timestamp;
        p.repeated_field = None;
        p.series_hash = None;
        if key.cached {
            if let Some(c) = self.keys.get(&key.hash) {
                p.measurement = c.measurement.clone();
                p.tags.to_mut().extend_from_slice(&c.tags);
                p.series_hash = Some(c.series);
                return;
            }
        }
        p.measurement = line.str(0, key.name_end);
        for t in &self.tags {
            p.tags
                .to_mut()
                .push((line.str(t.k0, t.k1), line.str(t.v0, t.v1)));
        }
        if key.end == key.raw.len() && self.keys.len() < KEY_CACHE_MAX {
            let series = hyperbyte_domain::series_hash(&p.measurement, &p.tags);
            p.series_hash = Some(series);
            self.keys.insert(
                key.hash,
                CachedKey {
                    raw: key.raw,
                    measurement: p.measurement.clone(),
                    tags: p.tags.to_vec(),
                    series,
                },
            );
        }
    }
}

/// Step 3: the optional timestamp after the fields, in nanoseconds (`default_ts` when
/// absent). `None` for anything the exact path must judge (bad digits, out of range,
/// trailing text).
#[inline]
fn plain_timestamp(buf: &[u8], i: usize, precision: Precision, default_ts: i64) -> Option<i64> {
    let (t0, t1) = scan_time(buf, i).ok()?;
    if t0 == t1 {
        return Some(default_ts);
    }
    let nanos = parse_timestamp(&buf[t0..t1])
        .and_then(|v| precision.to_nanos(v))
        .filter(|v| (MIN_NANOS..=MAX_NANOS).contains(v))?;
    if buf[t1..].iter().any(|&c| c != b' ') {
        return None;
    }
    Some(nanos)
}
