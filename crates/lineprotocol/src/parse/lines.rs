//! Splitting a body into lines and reading names and strings out of one line.
//!
//! Why it exists: finding where a line ends is InfluxDB's `scanLine` (quotes and
//! backslashes can hide a newline), and it also decides which lines may take the fast
//! plain path; [`Line`] then turns byte ranges of a line into text, borrowed from the body
//! whenever no unescaping or UTF-8 repair is needed.

use std::borrow::Cow;

/// Returns the byte range of the next line to parse starting at `*pos`, skipping blank
/// lines and comments, without leading whitespace and without a trailing `\r`, and
/// whether it is plain (contains no quote and no backslash).
pub(super) fn next_line(body: &[u8], pos: &mut usize) -> Option<(usize, usize, bool)> {
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
pub(super) fn skip_ws(buf: &[u8], mut i: usize) -> usize {
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
pub(super) struct Line<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) text: Option<&'a str>,
}

impl<'a> Line<'a> {
    /// `bytes[a..b]` as text, borrowed when valid UTF-8.
    #[inline]
    pub(super) fn str(&self, a: usize, b: usize) -> Cow<'a, str> {
        match self.text.and_then(|t| t.get(a..b)) {
            Some(s) => Cow::Borrowed(s),
            None => String::from_utf8_lossy(&self.bytes[a..b]),
        }
    }

    /// `bytes[a..b]` with `\c` unescaped for every `c` in `specials`.
    pub(super) fn unescaped(&self, a: usize, b: usize, specials: &[u8]) -> Cow<'a, str> {
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
    #[inline]
    pub(super) fn string_value(&self, a: usize, b: usize) -> Cow<'a, str> {
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
pub(super) const MEASUREMENT_SPECIALS: &[u8] = b", =\"";
/// Characters a backslash escapes in tag keys and values.
pub(super) const TAG_SPECIALS: &[u8] = b", =";
/// Characters a backslash escapes in field keys.
pub(super) const FIELD_KEY_SPECIALS: &[u8] = b", =\"";
