//! Prints how bodies parse, one JSON object per body, for differential testing against a
//! real InfluxDB. Input on stdin: one body per line, hex-encoded. Usage:
//! `cargo run --release -p hyperbyte-lineprotocol --example lp_dump < bodies.hex`.
#![allow(clippy::unwrap_used, missing_docs)]

use hyperbyte_domain::{FieldValue, Precision};
use std::fmt::Write as _;
use std::io::{BufRead, Write};

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn main() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line.unwrap();
        let (precision, hex) = line.split_once(' ').unwrap();
        let body = unhex(hex.trim());
        let parsed = hyperbyte_lineprotocol::parse(
            &body,
            Precision::parse(precision).unwrap(),
            123_456_789_123,
        );
        let mut out = String::from("{\"errors\":[");
        for (i, e) in parsed.errors.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_str(&mut out, e);
        }
        let _ = write!(
            out,
            "],\"conflict\":{},\"points\":[",
            parsed.duplicate_field_type_conflict
        );
        for (i, p) in parsed.points.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"m\":");
            json_str(&mut out, &p.measurement);
            out.push_str(",\"tags\":{");
            for (j, (k, v)) in p.tags.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                json_str(&mut out, k);
                out.push(':');
                json_str(&mut out, v);
            }
            out.push_str("},\"fields\":{");
            for (j, (k, v)) in p.fields.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                json_str(&mut out, k);
                out.push(':');
                match v {
                    FieldValue::Float(f) => {
                        let _ = write!(out, "{f:e}");
                    }
                    FieldValue::Integer(x) => {
                        let _ = write!(out, "{x}");
                    }
                    FieldValue::Unsigned(x) => {
                        let _ = write!(out, "{x}");
                    }
                    FieldValue::Boolean(b) => {
                        let _ = write!(out, "{b}");
                    }
                    FieldValue::String(s) => json_str(&mut out, s),
                }
            }
            let _ = write!(out, "}},\"ts\":{}}}", p.timestamp);
        }
        out.push_str("]}");
        writeln!(stdout, "{out}").unwrap();
    }
}
