//! InfluxDB's CSV rendering of statement results (`Accept: text/csv` or `application/csv`).
//!
//! Mirrors InfluxDB's `csvFormatter` (`services/httpd/response_writer.go`, the same in 1.6
//! and 1.8) written through Go's `encoding/csv`:
//!
//! * every statement that has series starts with a header `name,tags,<columns...>`; a
//!   statement after the first is preceded by an empty line, and so is a header reprinted
//!   because the columns change between two series of one statement;
//! * statements without series (including failed ones) print nothing;
//! * `tags` is the series' tag set as InfluxDB's series key prints it (`k=v,k2=v2`, sorted,
//!   `,`, ` ` and `=` escaped with a backslash, empty values left out);
//! * times are integers: nanoseconds, or the `epoch=` unit; floats are printed without
//!   exponent (Go's `FormatFloat(f, 'f', -1, 64)`), nulls as empty fields;
//! * a field is quoted when it holds `,`, `"`, `\r` or `\n`, starts with a space, or is
//!   `\.`; lines end with `\n`;
//! * a request-level error is `error\n<message>\n`.

use crate::json::Epoch;
use hyperbyte_domain::query::{StatementResult, Value};
use std::collections::BTreeMap;

/// Appends one field as Go's `csv.Writer` does.
fn field(out: &mut String, s: &str) {
    let needs_quotes = !s.is_empty()
        && (s == "\\."
            || s.contains([',', '"', '\r', '\n'])
            || s.chars().next().is_some_and(char::is_whitespace));
    if needs_quotes {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

fn record<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, f);
    }
    out.push('\n');
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest digits, never an exponent.
fn float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        let mut out = String::new();
        crate::json::write_plain_float(&mut out, f);
        out
    }
}

fn value(v: &Value, epoch: Epoch) -> String {
    match v {
        Value::Null => String::new(),
        Value::Time(t) => match epoch {
            Epoch::Rfc3339 => t.to_string(),
            Epoch::Unit(p) => (t / p.nanos()).to_string(),
        },
        Value::Float(f) => float(*f),
        Value::Integer(i) => i.to_string(),
        Value::Unsigned(u) => u.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::String(s) => s.clone(),
    }
}

fn escape_tag(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, ',' | ' ' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The tag set as InfluxDB's series key prints it, without the leading comma.
fn tags_key(tags: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (k, v) in tags.iter().filter(|(_, v)| !v.is_empty()) {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&escape_tag(k));
        out.push('=');
        out.push_str(&escape_tag(v));
    }
    out
}

fn header(out: &mut String, columns: &[String]) {
    record(
        out,
        ["name", "tags"]
            .into_iter()
            .chain(columns.iter().map(String::as_str)),
    );
}

/// Renders results as CSV. Chunked responses render the same text (InfluxDB's formatter
/// keeps its state across the chunks of one response), so callers pass whole results.
pub(crate) fn render_results(results: &[StatementResult], epoch: Epoch) -> String {
    let mut out = String::new();
    let mut statement: Option<usize> = None;
    for r in results {
        if statement != Some(r.statement_id) {
            let Some(first) = r.series.first() else {
                continue;
            };
            if statement.is_some() {
                out.push('\n');
            }
            statement = Some(r.statement_id);
            header(&mut out, &first.columns);
        }
        for (i, s) in r.series.iter().enumerate() {
            if i > 0 && r.series[i - 1].columns != s.columns {
                out.push('\n');
                header(&mut out, &s.columns);
            }
            let name = s.name.as_deref().unwrap_or("");
            let tags = tags_key(&s.tags);
            for row in &s.values {
                let cells: Vec<String> = row.iter().map(|v| value(v, epoch)).collect();
                record(
                    &mut out,
                    [name, tags.as_str()]
                        .into_iter()
                        .chain(cells.iter().map(String::as_str)),
                );
            }
        }
    }
    out
}

/// Renders a request-level error: `error\n<message>\n`.
pub(crate) fn render_error(msg: &str) -> String {
    let mut out = String::new();
    record(&mut out, ["error"]);
    record(&mut out, [msg]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperbyte_domain::query::Series;
    use hyperbyte_domain::Precision;

    fn series(name: &str, tags: &[(&str, &str)], cols: &[&str], rows: Vec<Vec<Value>>) -> Series {
        Series {
            name: Some(name.into()),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            columns: cols.iter().map(|c| c.to_string()).collect(),
            values: rows,
            partial: false,
        }
    }

    /// The statements and the text InfluxDB 1.6.7 answered for them (`Accept: text/csv`).
    fn recorded() -> Vec<StatementResult> {
        let cols = ["time", "b", "f", "g", "i", "region", "s"];
        vec![
            StatementResult {
                statement_id: 0,
                series: vec![
                    series(
                        "cpu",
                        &[("host", "a")],
                        &cols,
                        vec![
                            vec![
                                Value::Time(1_000_000_000),
                                Value::Boolean(true),
                                Value::Float(3.0),
                                Value::Null,
                                Value::Integer(4),
                                Value::String("x".into()),
                                Value::String("hi, there".into()),
                            ],
                            vec![
                                Value::Time(2_000_000_123),
                                Value::Null,
                                Value::Float(2.5),
                                Value::Null,
                                Value::Integer(-40_000),
                                Value::String("x".into()),
                                Value::Null,
                            ],
                        ],
                    ),
                    series(
                        "cpu",
                        &[("host", "b")],
                        &cols,
                        vec![vec![
                            Value::Time(-3_000_000_001),
                            Value::Null,
                            Value::Null,
                            Value::Float(1.0),
                            Value::Null,
                            Value::Null,
                            Value::Null,
                        ]],
                    ),
                ],
                ..Default::default()
            },
            StatementResult {
                statement_id: 1,
                ..Default::default()
            },
            StatementResult {
                statement_id: 2,
                series: vec![series(
                    "databases",
                    &[],
                    &["name"],
                    vec![vec![Value::String("fm".into())]],
                )],
                ..Default::default()
            },
            StatementResult::error(3, "not executed"),
            StatementResult {
                statement_id: 4,
                series: vec![series(
                    "cpu",
                    &[],
                    &["time", "mean"],
                    vec![
                        vec![Value::Time(0), Value::Null],
                        vec![Value::Time(1_000_000_000), Value::Float(3.0)],
                    ],
                )],
                ..Default::default()
            },
        ]
    }

    #[test]
    fn matches_influxdb() {
        let expected = "name,tags,time,b,f,g,i,region,s\n\
cpu,host=a,1000000000,true,3,,4,x,\"hi, there\"\n\
cpu,host=a,2000000123,,2.5,,-40000,x,\n\
cpu,host=b,-3000000001,,,1,,,\n\
\n\
name,tags,name\n\
databases,,fm\n\
\n\
name,tags,time,mean\n\
cpu,,0,\n\
cpu,,1000000000,3\n";
        assert_eq!(render_results(&recorded(), Epoch::Rfc3339), expected);
        let ms = render_results(&recorded(), Epoch::Unit(Precision::Milliseconds));
        assert!(ms.starts_with("name,tags,time,b,f,g,i,region,s\ncpu,host=a,1000,true,3,"));
        assert!(ms.contains("\ncpu,host=b,-3000,,,1,,,\n"));
    }

    #[test]
    fn tags_escaped_like_series_keys() {
        // InfluxDB 1.6.7: tags {"a b": "x,y", "c": "1=2", "d": "q\"r"} and {"a b": "z",
        // "c": "", "d": ""}.
        let r = StatementResult {
            statement_id: 0,
            series: vec![
                series(
                    "m",
                    &[("a b", "x,y"), ("c", "1=2"), ("d", "q\"r")],
                    &["time", "v"],
                    vec![vec![Value::Time(1_000_000_000), Value::Float(1.0)]],
                ),
                series(
                    "m",
                    &[("a b", "z"), ("c", ""), ("d", "")],
                    &["time", "v"],
                    vec![vec![Value::Time(2_000_000_000), Value::Float(1.5e21)]],
                ),
                series(
                    "m",
                    &[("a b", ""), ("c", ""), ("d", "")],
                    &["time", "v"],
                    vec![
                        vec![Value::Time(3_000_000_000), Value::Float(1e-7)],
                        vec![Value::Time(4_000_000_000), Value::Float(-0.0)],
                    ],
                ),
            ],
            ..Default::default()
        };
        assert_eq!(
            render_results(&[r], Epoch::Rfc3339),
            "name,tags,time,v\n\
m,\"a\\ b=x\\,y,c=1\\=2,d=q\"\"r\",1000000000,1\n\
m,a\\ b=z,2000000000,1500000000000000000000\n\
m,,3000000000,0.0000001\n\
m,,4000000000,-0\n"
        );
    }

    #[test]
    fn columns_change_within_a_statement() {
        let r = StatementResult {
            statement_id: 0,
            series: vec![
                series(
                    "a",
                    &[],
                    &["time", "x"],
                    vec![vec![Value::Time(0), Value::Integer(1)]],
                ),
                series(
                    "b",
                    &[],
                    &["time", "y"],
                    vec![vec![Value::Time(0), Value::Integer(2)]],
                ),
            ],
            ..Default::default()
        };
        assert_eq!(
            render_results(&[r], Epoch::Rfc3339),
            "name,tags,time,x\na,,0,1\n\nname,tags,time,y\nb,,0,2\n"
        );
    }

    #[test]
    fn chunks_of_one_statement_share_a_header() {
        let piece = |t| StatementResult {
            statement_id: 0,
            series: vec![series(
                "m",
                &[],
                &["time", "v"],
                vec![vec![Value::Time(t), Value::Unsigned(7)]],
            )],
            partial: t == 1,
            ..Default::default()
        };
        assert_eq!(
            render_results(&[piece(1), piece(2)], Epoch::Rfc3339),
            "name,tags,time,v\nm,,1,7\nm,,2,7\n"
        );
    }

    #[test]
    fn quoting_like_go() {
        let mut out = String::new();
        record(
            &mut out,
            [
                "",
                " lead",
                "\\.",
                "a\"b",
                "line\nbreak",
                "\u{a0}nbsp",
                "plain",
            ],
        );
        assert_eq!(
            out,
            ",\" lead\",\"\\.\",\"a\"\"b\",\"line\nbreak\",\"\u{a0}nbsp\",plain\n"
        );
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(float(123456789.0), "123456789");
    }

    #[test]
    fn error_text() {
        // InfluxDB 1.6.7 for a query that does not parse.
        assert_eq!(
            render_error("error parsing query: found EOF, expected identifier at line 1, char 51"),
            "error\n\"error parsing query: found EOF, expected identifier at line 1, char 51\"\n"
        );
    }
}
