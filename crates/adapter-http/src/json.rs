//! InfluxDB-exact JSON rendering of statement results.
//!
//! Written by hand rather than with serde so that key order, `omitempty` rules, number
//! formatting (Go's `encoding/json` float rules) and `pretty=true` indentation match
//! InfluxDB 1.x byte for byte.

use hyperbyte_domain::query::{Series, StatementResult, Value};
use hyperbyte_domain::time::TimeZone;
use hyperbyte_domain::Precision;
use std::fmt::Write as _;

/// How time values are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Epoch {
    /// RFC 3339 strings with nanoseconds (no `epoch=`).
    #[default]
    Rfc3339,
    /// Integers in the given unit.
    Unit(Precision),
}

/// Rendering options of one response.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// Time format.
    pub epoch: Epoch,
    /// Indent with four spaces (`pretty=true`).
    pub pretty: bool,
}

/// Appends a JSON string literal with Go's escaping (`<`, `>`, `&` as `\u003c` etc.).
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Formats a float as Go's `encoding/json` does.
pub(crate) fn write_float(out: &mut String, f: f64) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        // Rust: 1e-7, 1.5e21; Go: 1e-07 cleaned to 1e-7, 1.5e+21.
        if let Some((m, e)) = s.split_once('e') {
            out.push_str(m);
            out.push('e');
            if !e.starts_with('-') {
                out.push('+');
            }
            out.push_str(e);
        } else {
            out.push_str(&s);
        }
    } else {
        // Into `out` directly: no string per value (writing to a `String` cannot fail).
        let _ = write!(out, "{f}");
    }
}

/// `zone`: the statement's `tz()`, in which RFC 3339 times print as local time.
fn write_value(out: &mut String, v: &Value, epoch: Epoch, zone: Option<&TimeZone>) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Time(t) => match epoch {
            Epoch::Rfc3339 => {
                let offset = zone.map_or(0, |z| z.offset_secs(*t));
                write_str(
                    out,
                    &hyperbyte_domain::time::format_rfc3339_with_offset(*t, offset),
                )
            }
            Epoch::Unit(p) => {
                let _ = write!(out, "{}", t / p.nanos());
            }
        },
        Value::Float(f) => write_float(out, *f),
        Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Unsigned(u) => {
            let _ = write!(out, "{u}");
        }
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::String(s) => write_str(out, s),
    }
}

/// A tiny JSON writer that handles Go-style indentation.
struct W<'a> {
    out: &'a mut String,
    pretty: bool,
    depth: usize,
}

impl W<'_> {
    fn nl(&mut self) {
        if self.pretty {
            self.out.push('\n');
            for _ in 0..self.depth {
                self.out.push_str("    ");
            }
        }
    }
    fn open(&mut self, c: char) {
        self.out.push(c);
        self.depth += 1;
    }
    fn close(&mut self, c: char, had_items: bool) {
        self.depth -= 1;
        if had_items {
            self.nl();
        }
        self.out.push(c);
    }
    fn key(&mut self, first: &mut bool, k: &str) {
        if !*first {
            self.out.push(',');
        }
        *first = false;
        self.nl();
        write_str(self.out, k);
        self.out.push(':');
        if self.pretty {
            self.out.push(' ');
        }
    }
    fn item(&mut self, first: &mut bool) {
        if !*first {
            self.out.push(',');
        }
        *first = false;
        self.nl();
    }
}

fn write_series(w: &mut W<'_>, s: &Series, epoch: Epoch, zone: Option<&TimeZone>) {
    w.open('{');
    let mut first = true;
    if let Some(name) = &s.name {
        w.key(&mut first, "name");
        write_str(w.out, name);
    }
    if !s.tags.is_empty() {
        w.key(&mut first, "tags");
        w.open('{');
        let mut f2 = true;
        for (k, v) in &s.tags {
            w.key(&mut f2, k);
            write_str(w.out, v);
        }
        w.close('}', !f2);
    }
    if !s.columns.is_empty() {
        w.key(&mut first, "columns");
        w.open('[');
        let mut f2 = true;
        for c in &s.columns {
            w.item(&mut f2);
            write_str(w.out, c);
        }
        w.close(']', !f2);
    }
    if !s.values.is_empty() {
        w.key(&mut first, "values");
        w.open('[');
        let mut f2 = true;
        for row in &s.values {
            w.item(&mut f2);
            w.open('[');
            let mut f3 = true;
            for v in row {
                w.item(&mut f3);
                write_value(w.out, v, epoch, zone);
            }
            w.close(']', !f3);
        }
        w.close(']', !f2);
    }
    if s.partial {
        w.key(&mut first, "partial");
        w.out.push_str("true");
    }
    w.close('}', !first);
}

fn write_result(w: &mut W<'_>, r: &StatementResult, epoch: Epoch) {
    w.open('{');
    let mut first = true;
    w.key(&mut first, "statement_id");
    w.out.push_str(&r.statement_id.to_string());
    if !r.series.is_empty() {
        let zone = r.time_zone.as_deref().and_then(TimeZone::parse);
        w.key(&mut first, "series");
        w.open('[');
        let mut f2 = true;
        for s in &r.series {
            w.item(&mut f2);
            write_series(w, s, epoch, zone.as_ref());
        }
        w.close(']', !f2);
    }
    if !r.messages.is_empty() {
        w.key(&mut first, "messages");
        w.open('[');
        let mut f2 = true;
        for m in &r.messages {
            w.item(&mut f2);
            w.open('{');
            let mut f3 = true;
            w.key(&mut f3, "level");
            write_str(w.out, &m.level);
            w.key(&mut f3, "text");
            write_str(w.out, &m.text);
            w.close('}', true);
        }
        w.close(']', !f2);
    }
    if r.partial {
        w.key(&mut first, "partial");
        w.out.push_str("true");
    }
    if let Some(e) = &r.error {
        w.key(&mut first, "error");
        write_str(w.out, e);
    }
    w.close('}', true);
}

/// Renders `{"results":[...]}`.
pub fn render_results(results: &[StatementResult], opts: RenderOptions) -> String {
    let mut out = String::with_capacity(256);
    let mut w = W {
        out: &mut out,
        pretty: opts.pretty,
        depth: 0,
    };
    w.open('{');
    let mut first = true;
    w.key(&mut first, "results");
    w.open('[');
    let mut f2 = true;
    for r in results {
        w.item(&mut f2);
        write_result(&mut w, r, opts.epoch);
    }
    w.close(']', !f2);
    w.close('}', true);
    out
}

/// Renders `{"error":"..."}` and a newline: InfluxDB's JSON writer ends every document it
/// writes with one, error bodies included (clients that show the body verbatim, such as
/// node-influx's error messages, show it).
pub(crate) fn render_error(msg: &str) -> String {
    let mut out = String::from("{\"error\":");
    write_str(&mut out, msg);
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> String {
        let mut s = String::new();
        write_float(&mut s, x);
        s
    }

    #[test]
    fn floats_like_go() {
        assert_eq!(f(2.0), "2");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(1e-7), "1e-7");
        assert_eq!(f(1.5e21), "1.5e+21");
        assert_eq!(f(-3.25), "-3.25");
        assert_eq!(f(123456789.0), "123456789");
    }

    #[test]
    fn renders_compact_result() {
        let r = StatementResult {
            statement_id: 0,
            series: vec![Series {
                name: Some("cpu".into()),
                columns: vec!["time".into(), "v".into()],
                values: vec![vec![Value::Time(0), Value::Float(1.5)]],
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            render_results(&[r], RenderOptions::default()),
            r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[["1970-01-01T00:00:00Z",1.5]]}]}]}"#
        );
    }

    #[test]
    fn error_body_ends_with_a_newline_like_influxdb() {
        assert_eq!(
            render_error("database not found: \"x\""),
            "{\"error\":\"database not found: \\\"x\\\"\"}\n"
        );
    }

    #[test]
    fn renders_empty_result() {
        let r = StatementResult::default();
        assert_eq!(
            render_results(&[r], RenderOptions::default()),
            r#"{"results":[{"statement_id":0}]}"#
        );
    }
}
