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

/// Formats a float as Go's `encoding/json` does: the shortest digits that read back as
/// the same float, plain between 1e-6 and 1e21, else with an exponent (`1e-7`, `1.5e+21`).
///
/// The digits come from `ryu` (the shortest round-trip digits, as Go's and Rust's own
/// formatting find them), laid out here: `ryu` writes plain decimals only between 1e-5
/// and 1e16 and ends whole numbers with `.0`. Measured on a raw query answering 819 rows
/// of 10 floats, Rust's `Display` had been 12% of the server's CPU.
pub(crate) fn write_float(out: &mut String, f: f64) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        write_plain_float(out, f);
        return;
    }
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(f);
    let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
    out.push_str(mantissa);
    out.push('e');
    if !exp.starts_with('-') {
        out.push('+');
    }
    out.push_str(exp);
}

/// Writes a finite float with the shortest round-trip digits and no exponent, as Go's
/// `strconv.FormatFloat(f, 'f', -1, 64)` does.
pub(crate) fn write_plain_float(out: &mut String, f: f64) {
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(f);
    match text.split_once('e') {
        None => out.push_str(text.strip_suffix(".0").unwrap_or(text)),
        Some((mantissa, exp)) => write_plain(out, mantissa, exp.parse().unwrap_or(0)),
    }
}

/// Writes `mantissa` × 10^`exp` (`mantissa` as `ryu` writes it: an optional `-`, one
/// digit, optionally `.` and more digits) without an exponent.
fn write_plain(out: &mut String, mantissa: &str, exp: i32) {
    let (negative, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let digits: String = digits.chars().filter(|c| *c != '.').collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    if negative {
        out.push('-');
    }
    // The decimal point sits after `point` digits (one digit before it in the mantissa).
    let point = exp.saturating_add(1);
    let len = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if point <= 0 {
        out.push_str("0.");
        for _ in 0..point.unsigned_abs() {
            out.push('0');
        }
        out.push_str(digits);
    } else if point >= len {
        out.push_str(digits);
        for _ in 0..(point - len) {
            out.push('0');
        }
    } else {
        let (whole, fraction) = digits.split_at(point as usize);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
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

/// Renders `{"results":[...]}`; `{}` without results (a query of empty statements, `;`),
/// as InfluxDB omits an empty list.
///
/// A document holding an infinite number (`ln(0)`, `pow(v, -1)` at zero) cannot be JSON:
/// it renders as the text of the error Go's encoder stops InfluxDB with, which InfluxDB
/// sends with its `200` instead of the whole answer (or instead of that chunk's, with
/// `chunked=true`). A NaN never gets here as a number: it prints `null`, as InfluxDB
/// emits it.
pub fn render_results(results: &[StatementResult], opts: RenderOptions) -> String {
    if let Some(inf) = first_infinite(results) {
        let sign = if inf > 0.0 { '+' } else { '-' };
        return format!(
            "json: error calling MarshalJSON for type httpd.Response: json: error calling \
             MarshalJSON for type *query.Result: json: unsupported value: {sign}Inf"
        );
    }
    let mut out = String::with_capacity(256);
    let mut w = W {
        out: &mut out,
        pretty: opts.pretty,
        depth: 0,
    };
    w.open('{');
    if results.is_empty() {
        w.close('}', false);
        return out;
    }
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

/// The first infinite float of the results' values, in the order they are written.
fn first_infinite(results: &[StatementResult]) -> Option<f64> {
    results
        .iter()
        .flat_map(|r| &r.series)
        .flat_map(|s| &s.values)
        .flatten()
        .find_map(|v| match v {
            Value::Float(f) if f.is_infinite() => Some(*f),
            _ => None,
        })
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
        assert_eq!(f(0.0), "0");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(1e16), "10000000000000000");
        assert_eq!(f(1.2345e20), "123450000000000000000");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(-2.5e-6), "-0.0000025");
        assert_eq!(f(1e-6), "0.000001");
        assert_eq!(f(9.99e-7), "9.99e-7");
        assert_eq!(f(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(f(f64::MIN_POSITIVE), "2.2250738585072014e-308");
        assert_eq!(f(5e-324), "5e-324");
        assert_eq!(f(f64::NAN), "null");
        // Ties between two shortest digit strings go to the even digit, as InfluxDB 1.6.7
        // prints them (the exact values end in ...5.125 and ...4.25); Rust's `Display`
        // rounded them up (`.13`, `.3`).
        assert_eq!(f(122817575556505.12), "122817575556505.12");
        assert_eq!(f(940778524102574.2), "940778524102574.2");
    }

    /// The layout the writer had before `ryu`: Rust's shortest digits, laid out like Go.
    fn by_display(x: f64) -> String {
        let abs = x.abs();
        if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
            let s = format!("{x:e}");
            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
            format!("{m}e{}{e}", if e.starts_with('-') { "" } else { "+" })
        } else {
            format!("{x}")
        }
    }

    /// Significant digits of a printed number.
    fn significant(s: &str) -> usize {
        let m = s.split('e').next().unwrap_or(s);
        let digits: String = m.chars().filter(char::is_ascii_digit).collect();
        digits
            .trim_start_matches('0')
            .trim_end_matches('0')
            .len()
            .max(1)
    }

    /// Reads back as `x`, with as few digits as Rust's shortest form and its layout (plain
    /// or with an exponent); the digits may differ only where two shortest forms tie.
    fn check(x: f64) -> Result<(), proptest::test_runner::TestCaseError> {
        let (got, before) = (f(x), by_display(x));
        let back: f64 = got.parse().map_err(|_| {
            proptest::test_runner::TestCaseError::fail(format!("{got} does not parse"))
        })?;
        proptest::prop_assert_eq!(back.to_bits(), x.to_bits(), "{} for {:?}", got, x);
        proptest::prop_assert_eq!(
            significant(&got),
            significant(&before),
            "{} vs {}",
            got,
            before
        );
        proptest::prop_assert_eq!(
            got.contains('e'),
            before.contains('e'),
            "{} vs {}",
            got,
            before
        );
        if !got.contains('e') {
            // Plain: the same places before the point.
            let whole = |s: &str| s.split('.').next().map(str::len);
            proptest::prop_assert_eq!(whole(&got), whole(&before), "{} vs {}", got, before);
        }
        // Never an exponent (CSV): as long as Rust's plain form, reading back as `x`.
        let mut plain = String::new();
        write_plain_float(&mut plain, x);
        let display = format!("{x}");
        proptest::prop_assert_eq!(plain.len(), display.len(), "{} vs {}", plain, display);
        proptest::prop_assert_eq!(
            plain.parse::<f64>().ok().map(f64::to_bits),
            Some(x.to_bits())
        );
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        #[test]
        fn floats_read_back_in_the_same_layout_for_any_bits(
            bits in proptest::prelude::any::<u64>(),
        ) {
            let x = f64::from_bits(bits);
            if x.is_finite() {
                check(x)?;
            }
        }

        #[test]
        fn floats_read_back_in_the_same_layout_near_its_edges(
            m in 1.0f64..10.0,
            e in -8i32..23,
            negative in proptest::prelude::any::<bool>(),
        ) {
            check(m * 10f64.powi(e) * if negative { -1.0 } else { 1.0 })?;
        }
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
    fn an_infinite_number_renders_as_go_encoders_error_and_nan_as_null() {
        let with = |values: Vec<Value>| StatementResult {
            statement_id: 0,
            series: vec![Series {
                name: Some("cpu".into()),
                columns: vec!["time".into(), "ln".into()],
                values: values
                    .into_iter()
                    .map(|v| vec![Value::Time(0), v])
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let go = "json: error calling MarshalJSON for type httpd.Response: json: error \
                  calling MarshalJSON for type *query.Result: json: unsupported value: ";
        let both = [
            with(vec![Value::Float(1.0)]),
            with(vec![Value::Float(f64::NEG_INFINITY)]),
        ];
        assert_eq!(
            render_results(&both, RenderOptions::default()),
            format!("{go}-Inf")
        );
        let pretty = RenderOptions {
            pretty: true,
            ..Default::default()
        };
        let plus = [with(vec![
            Value::Float(f64::INFINITY),
            Value::Float(f64::NEG_INFINITY),
        ])];
        assert_eq!(render_results(&plus, pretty), format!("{go}+Inf"));
        assert_eq!(
            render_results(
                &[with(vec![Value::Float(f64::NAN)])],
                RenderOptions::default()
            ),
            r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","ln"],"values":[["1970-01-01T00:00:00Z",null]]}]}]}"#
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
