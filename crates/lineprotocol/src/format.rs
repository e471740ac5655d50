//! The formatter: writes a [`Point`] as one line of line protocol that [`crate::parse`]
//! (and InfluxDB 1.x) reads back as the same point.
//!
//! Escaping follows InfluxDB's unescaping rules per element (see the crate docs):
//! measurement `,` and space (plus `=`/`"` right after a literal backslash), tag keys and
//! values `,` space `=`, field keys `,` space `=` `"`, string values `\` and `"`.
//! Some names cannot be expressed in line protocol at all; see [`is_representable`].

use hyperbyte_domain::{FieldValue, Point};
use std::fmt::Write as _;

/// Appends `p` to `out` as one line of line protocol terminated by `\n`, with a
/// nanosecond timestamp.
///
/// Tags with an empty key or value are left out (InfluxDB treats an empty tag value as
/// an absent tag). Float fields that are NaN or infinite are left out (line protocol
/// cannot express them); if no field remains, nothing is written.
pub fn format_point(p: &Point, out: &mut String) {
    let rollback = out.len();
    escape_measurement(&p.measurement, out);
    for (k, v) in &p.tags {
        if k.is_empty() || v.is_empty() {
            continue;
        }
        out.push(',');
        escape(k, b", =", out);
        out.push('=');
        escape(v, b", =", out);
    }
    let mut written = 0usize;
    for (k, v) in &p.fields {
        if matches!(v, FieldValue::Float(f) if !f.is_finite()) {
            continue;
        }
        out.push(if written == 0 { ' ' } else { ',' });
        written += 1;
        escape(k, b", =\"", out);
        out.push('=');
        match v {
            FieldValue::Float(f) => format_float(*f, out),
            FieldValue::Integer(i) => {
                let _ = write!(out, "{i}i");
            }
            FieldValue::Unsigned(u) => {
                let _ = write!(out, "{u}u");
            }
            FieldValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
            FieldValue::String(s) => {
                out.push('"');
                for c in s.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
        }
    }
    if written == 0 {
        out.truncate(rollback);
        return;
    }
    let _ = writeln!(out, " {}", p.timestamp);
}

/// Whether [`format_point`] can write `p` so that parsing gives back exactly `p`.
///
/// Line protocol cannot express: an empty measurement, field key, tag key or tag value
/// (empty tags are dropped instead); a name containing a newline, ending in a
/// backslash or containing a backslash followed by a space; a measurement starting with `#`, a tab or NUL (a comment, or skipped
/// whitespace); a field key starting with a tab or NUL; a backslash followed by `,`, space
/// or `=` in a field key; NaN or infinite floats; tags not sorted by key or with
/// duplicate keys; duplicate field keys. Keys longer than InfluxDB's 65535-byte limit are
/// also rejected by the parser.
pub fn is_representable(p: &Point) -> bool {
    // `\ ` is parsed correctly within a line, but InfluxDB's line splitter would take its
    // space for the start of the fields and could then end a line inside a string.
    let name_ok =
        |s: &str| !s.is_empty() && !s.contains('\n') && !s.ends_with('\\') && !s.contains("\\ ");
    let m = &p.measurement;
    if !name_ok(m) || m.starts_with(['#', '\t', '\0']) {
        return false;
    }
    if !p.tags.iter().all(|(k, v)| name_ok(k) && name_ok(v)) {
        return false;
    }
    if !p.tags.windows(2).all(|w| w[0].0 < w[1].0) {
        return false;
    }
    if p.fields.is_empty() {
        return false;
    }
    for (i, (k, v)) in p.fields.iter().enumerate() {
        if !name_ok(k)
            || k.starts_with(['\t', '\0'])
            || k.contains("\\,")
            || k.contains("\\ ")
            || k.contains("\\=")
        {
            return false;
        }
        if matches!(v, FieldValue::Float(f) if !f.is_finite()) {
            return false;
        }
        if p.fields[..i].iter().any(|(k2, _)| k2 == k) {
            return false;
        }
    }
    true
}

fn escape_measurement(s: &str, out: &mut String) {
    let mut prev_backslash = false;
    for c in s.chars() {
        match c {
            ',' | ' ' => out.push('\\'),
            // A literal backslash before `=` or `"` would be taken as an escape.
            '=' | '"' if prev_backslash => out.push('\\'),
            _ => {}
        }
        out.push(c);
        prev_backslash = c == '\\';
    }
}

fn escape(s: &str, specials: &[u8], out: &mut String) {
    if !s.bytes().any(|b| specials.contains(&b)) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if c.is_ascii() && specials.contains(&(c as u8)) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Shortest round-trip decimal; exponent notation for very large or small magnitudes.
fn format_float(f: f64, out: &mut String) {
    let a = f.abs();
    let _ = if a == 0.0 || (1e-5..1e16).contains(&a) {
        write!(out, "{f}")
    } else {
        write!(out, "{f:e}")
    };
}
