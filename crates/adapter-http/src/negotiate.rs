//! Content negotiation: which body format a client asked for (`Accept`, as InfluxDB 1.8
//! reads it: JSON, CSV or MessagePack) and whether the answer is gzipped.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::io::Write;

/// The body format of a `/query` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Csv,
    Msgpack,
}

impl Format {
    /// The `Content-Type` of the answer. CSV is `text/csv` whichever CSV type was asked
    /// for: what the reference InfluxDB (1.6) answers and the conformance corpus records
    /// (1.8 echoes `application/csv`).
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv",
            Format::Msgpack => "application/x-msgpack",
        }
    }
}

/// One clause of an `Accept` header: type, subtype and `q`.
pub(crate) fn accept_clause(part: &str) -> Option<(String, String, f64)> {
    fn is_token(s: &str) -> bool {
        !s.is_empty()
            && s.bytes()
                .all(|b| b > 0x20 && b < 0x7f && !b"()<>@,;:\\\"/[]?=".contains(&b))
    }
    let mut pieces = part.split(';');
    let media = pieces.next()?.trim().to_ascii_lowercase();
    let (ty, sub) = match media.split_once('/') {
        Some((t, s)) if is_token(t) && is_token(s) => (t.to_string(), s.to_string()),
        // Go's parser takes a lone `*` as `*/*`; any other bare type matches nothing.
        None if media == "*" => ("*".to_string(), "*".to_string()),
        _ => return None,
    };
    let mut q = 1.0;
    for param in pieces {
        let param = param.trim();
        if param.is_empty() {
            continue;
        }
        let (k, v) = param.split_once('=')?;
        let (k, v) = (k.trim_end(), v.trim_start());
        let quoted = v.len() >= 2 && v.starts_with('"') && v.ends_with('"');
        if !is_token(k) || !(quoted || is_token(v)) {
            // A malformed parameter makes Go's `mime.ParseMediaType` reject the clause.
            return None;
        }
        if k.eq_ignore_ascii_case("q") {
            // An unparsable q counts as 0, as in InfluxDB.
            q = v.trim_matches('"').parse::<f64>().unwrap_or(0.0);
        }
    }
    Some((ty, sub, q))
}

/// Picks the answer format from `Accept` as InfluxDB 1.8 does: every clause of every
/// `Accept` header, ordered by `q` (stable), the first one that matches JSON, CSV
/// (`application/csv`, `text/csv`) or MessagePack (`application/x-msgpack`), wildcards
/// included; JSON otherwise.
pub(crate) fn negotiate(headers: &HeaderMap) -> Format {
    const SUPPORTED: [(&str, &str, Format); 4] = [
        ("application", "json", Format::Json),
        ("application", "csv", Format::Csv),
        ("text", "csv", Format::Csv),
        ("application", "x-msgpack", Format::Msgpack),
    ];
    let mut clauses: Vec<(String, String, f64)> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(accept_clause)
        .collect();
    clauses.sort_by(|a, b| b.2.total_cmp(&a.2));
    for (ty, sub, _) in &clauses {
        for (sty, ssub, format) in SUPPORTED {
            if (ty == "*" || ty == sty) && (sub == "*" || sub == ssub) {
                return format;
            }
        }
    }
    Format::Json
}

/// Gzips a body when the client accepts it (`Accept-Encoding` containing `gzip`, as
/// InfluxDB tests it), with `Content-Encoding: gzip`.
/// Whether the client accepts a gzip answer.
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"))
}

pub(crate) fn maybe_gzip(headers: &HeaderMap, body: Vec<u8>) -> Response {
    if accepts_gzip(headers) {
        let mut enc = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 4 + 64),
            flate2::Compression::fast(),
        );
        if let Ok(bytes) = enc.write_all(&body).and_then(|_| enc.finish()) {
            let mut r = (StatusCode::OK, Body::from(bytes)).into_response();
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            return r;
        }
    }
    (StatusCode::OK, Body::from(body)).into_response()
}
