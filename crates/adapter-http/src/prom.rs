//! Prometheus remote write and read: `POST /api/v1/prom/write` and `POST
//! /api/v1/prom/read`, as InfluxDB 1.8 serves them (`db`, `rp`, and the credentials of
//! `/write`: `u`/`p`, basic, token).
//!
//! This module only speaks the wire format: snappy (block format, not framed) around
//! Prometheus' protobuf messages ([`crate::prompb`]; unknown fields, such as exemplars,
//! native histograms and metadata, are skipped by the decoder). What a sample becomes and which series a query selects is
//! [`PromService`]'s business. Hostile bodies are bounded before they cost memory: the
//! body by `http.max_body_bytes`, the snappy header's declared length by the decoded-body
//! bound before anything is allocated, and the samples × labels of a write by the service.

use crate::negotiate::Format;
use crate::prompb::{
    Label, QueryResult, ReadRequest, ReadResponse, Sample, TimeSeries, WriteRequest,
};
use crate::router::{
    auth_refusal, body_error_status, drained, memory_refusal, method_not_allowed, query_error,
    read_limited, with_headers, write_access, HttpState,
};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use hyperbyte_application::auth::Access;
use hyperbyte_application::prom::{
    LabelMatcher, MatchKind, PromError, PromQuery, PromSample, PromSeries,
};
use hyperbyte_application::WriteError;
use std::collections::HashMap;
use std::sync::Arc;
use tracing::Instrument;

/// The routes of this module.
pub(crate) fn routes() -> Router<HttpState> {
    Router::new()
        .route(
            "/api/v1/prom/write",
            any(write).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/prom/read",
            any(read).layer(DefaultBodyLimit::disable()),
        )
}

/// Why a body could not be decoded (400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// Not snappy block format.
    #[error("snappy: corrupt input: {0}")]
    Snappy(String),
    /// The snappy header declares more than the decoded-body bound.
    #[error("snappy: decoded length {declared} exceeds the limit of {limit} bytes")]
    TooLarge { declared: usize, limit: usize },
    /// Not the expected protobuf message.
    #[error("{0}")]
    Protobuf(String),
    /// A matcher type Prometheus does not define.
    #[error("unknown match type {0}")]
    MatchType(i32),
}

/// Decompresses a snappy block, refusing a declared length over `limit` before
/// allocating anything.
pub(crate) fn unsnappy(body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let declared =
        snap::raw::decompress_len(body).map_err(|e| DecodeError::Snappy(e.to_string()))?;
    if declared > limit {
        return Err(DecodeError::TooLarge { declared, limit });
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| DecodeError::Snappy(e.to_string()))
}

/// A remote write body → the service's series (strings moved, not copied).
pub(crate) fn decode_write(body: &[u8], limit: usize) -> Result<Vec<PromSeries>, DecodeError> {
    let raw = unsnappy(body, limit)?;
    let req = <WriteRequest as prost::Message>::decode(raw.as_slice())
        .map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    drop(raw);
    Ok(req
        .timeseries
        .into_iter()
        .map(|ts| PromSeries {
            labels: ts.labels.into_iter().map(|l| (l.name, l.value)).collect(),
            samples: ts
                .samples
                .into_iter()
                .map(|s| PromSample {
                    timestamp_ms: s.timestamp,
                    value: s.value,
                })
                .collect(),
        })
        .collect())
}

/// A remote read body → the service's queries.
pub(crate) fn decode_read(body: &[u8], limit: usize) -> Result<Vec<PromQuery>, DecodeError> {
    let raw = unsnappy(body, limit)?;
    let req = <ReadRequest as prost::Message>::decode(raw.as_slice())
        .map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    req.queries
        .into_iter()
        .map(|q| {
            let matchers = q
                .matchers
                .into_iter()
                .map(|m| {
                    let kind = match m.r#type {
                        0 => MatchKind::Equal,
                        1 => MatchKind::NotEqual,
                        2 => MatchKind::Regex,
                        3 => MatchKind::NotRegex,
                        other => return Err(DecodeError::MatchType(other)),
                    };
                    Ok(LabelMatcher {
                        kind,
                        name: m.name,
                        value: m.value,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(PromQuery {
                start_ms: q.start_timestamp_ms,
                end_ms: q.end_timestamp_ms,
                matchers,
            })
        })
        .collect()
}

/// The service's answer → a snappy-compressed `ReadResponse`.
pub(crate) fn encode_read(results: Vec<Vec<PromSeries>>) -> Vec<u8> {
    let resp = ReadResponse {
        results: results
            .into_iter()
            .map(|series| QueryResult {
                timeseries: series
                    .into_iter()
                    .map(|s| TimeSeries {
                        labels: s
                            .labels
                            .into_iter()
                            .map(|(name, value)| Label { name, value })
                            .collect(),
                        samples: s
                            .samples
                            .into_iter()
                            .map(|p| Sample {
                                value: p.value,
                                timestamp: p.timestamp_ms,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    };
    let raw = prost::Message::encode_to_vec(&resp);
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

/// The bound on a body as sent (`http.max_body_bytes`; 0: none).
fn body_limit(state: &HttpState) -> usize {
    match state.config.max_body_bytes {
        0 => usize::MAX,
        n => n,
    }
}

/// The bound on a decompressed body (as for gzip on `/write`).
fn decoded_limit(state: &HttpState) -> usize {
    match state.config.max_body_bytes {
        0 => state.config.max_decoded_body_bytes.max(1),
        n => n,
    }
}

fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// A service error as InfluxDB answers it (JSON `{"error": ...}`; 5xx for server-side
/// failures, `Retry-After` where a retry helps).
fn prom_error(state: &HttpState, e: &PromError) -> Response {
    if let PromError::Auth(a) = e {
        return auth_refusal(state, Format::Json, a);
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(error = %e, "Prometheus remote request failed on the server side");
    }
    let mut r = query_error(state, Format::Json, status, &e.to_string());
    if matches!(
        e,
        PromError::Write(WriteError::Overloaded { .. } | WriteError::InsufficientStorage(_))
    ) {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

/// Reads the whole body within the limit, or answers 413/408.
async fn body_of(state: &HttpState, headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    read_limited(body, body_limit(state), content_length(headers))
        .await
        .map_err(|e| {
            let (status, msg) = body_error_status(e);
            query_error(state, Format::Json, status, msg)
        })
}

/// A request both endpoints accepted: its database, retention policy (`None`: the
/// default), credentials and body.
struct Admitted {
    db: String,
    rp: Option<String>,
    access: Access,
    body: Bytes,
}

/// What both endpoints do before decoding, in InfluxDB's order: only `POST`, the
/// credentials, the memory bound, then `before_body` (the endpoint's own checks on the
/// database and the credentials), then the body. `Err`: the answer, the body drained.
async fn admit(
    state: &HttpState,
    method: &Method,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Body,
    before_body: impl FnOnce(&str, &Access) -> Option<Response>,
) -> Result<Admitted, Response> {
    if *method != Method::POST {
        return Err(method_not_allowed(state, "POST"));
    }
    let db = params.get("db").cloned().unwrap_or_default();
    let rp = params.get("rp").cloned().filter(|r| !r.is_empty());
    let access = match write_access(state, params, headers).await {
        Ok(a) => a,
        Err(refused) => return Err(drained(refused, body).await),
    };
    if let Some(refused) = memory_refusal(state, Format::Json) {
        return Err(drained(refused, body).await);
    }
    if let Some(refused) = before_body(&db, &access) {
        return Err(drained(refused, body).await);
    }
    let body = body_of(state, headers, body).await?;
    Ok(Admitted {
        db,
        rp,
        access,
        body,
    })
}

async fn write(
    State(state): State<HttpState>,
    method: Method,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // InfluxDB checks the database and the privilege before reading the body.
    let admitted = admit(&state, &method, &params, &headers, body, |db, access| {
        if let Err(e) = state.prom.check_database(db) {
            return Some(prom_error(&state, &e));
        }
        state
            .auth
            .authorize_write(access, db)
            .err()
            .map(|e| auth_refusal(&state, Format::Json, &e))
    })
    .await;
    let Admitted { db, rp, body, .. } = match admitted {
        Ok(a) => a,
        Err(r) => return r,
    };
    state.metrics.write_bytes(body.len());
    let span = tracing::debug_span!("prom_write", db = %db, bytes = body.len());
    async move {
        let series = match decode_write(&body, decoded_limit(&state)) {
            Ok(s) => s,
            Err(e) => {
                return query_error(
                    &state,
                    Format::Json,
                    StatusCode::BAD_REQUEST,
                    &e.to_string(),
                )
            }
        };
        drop(body);
        match state.prom.write(&db, rp.as_deref(), &series).await {
            Ok(o) => {
                tracing::debug!(
                    samples = o.written,
                    dropped = o.dropped.total(),
                    "remote write"
                );
                let mut r = StatusCode::NO_CONTENT.into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                with_headers(&state, r)
            }
            Err(e) => prom_error(&state, &e),
        }
    }
    .instrument(span)
    .await
}

async fn read(
    State(state): State<HttpState>,
    method: Method,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Privileges are checked per query by the service.
    let admitted = admit(&state, &method, &params, &headers, body, |_, _| None).await;
    let Admitted {
        db,
        rp,
        access,
        body,
    } = match admitted {
        Ok(a) => a,
        Err(r) => return r,
    };
    let span = tracing::debug_span!("prom_read", db = %db, bytes = body.len());
    async move {
        let queries = match decode_read(&body, decoded_limit(&state)) {
            Ok(q) => q,
            Err(e) => {
                return query_error(
                    &state,
                    Format::Json,
                    StatusCode::BAD_REQUEST,
                    &e.to_string(),
                )
            }
        };
        let prom = Arc::clone(&state.prom);
        let run = state
            .gate
            .run(async move { prom.read(&db, rp.as_deref(), &access, &queries).await });
        let results = match run.await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return prom_error(&state, &e),
            Err(refused) => {
                return query_error(
                    &state,
                    Format::Json,
                    StatusCode::SERVICE_UNAVAILABLE,
                    &refused.to_string(),
                )
            }
        };
        let mut r = (StatusCode::OK, encode_read(results)).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("snappy"));
        with_headers(&state, r)
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn snappy(raw: &[u8]) -> Vec<u8> {
        snap::raw::Encoder::new().compress_vec(raw).unwrap()
    }

    #[test]
    fn write_requests_decode() {
        let req = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![
                    Label {
                        name: "__name__".into(),
                        value: "up".into(),
                    },
                    Label {
                        name: "job".into(),
                        value: "a".into(),
                    },
                ],
                samples: vec![Sample {
                    value: 1.5,
                    timestamp: 1_000,
                }],
            }],
        };
        let body = snappy(&req.encode_to_vec());
        let series = decode_write(&body, 1 << 20).unwrap();
        assert_eq!(
            series,
            [PromSeries {
                labels: vec![("__name__".into(), "up".into()), ("job".into(), "a".into())],
                samples: vec![PromSample {
                    timestamp_ms: 1_000,
                    value: 1.5
                }],
            }]
        );
    }

    #[test]
    fn hostile_bodies_are_refused_before_allocating() {
        // Not snappy at all.
        assert!(matches!(
            decode_write(b"\xff\xff\xff\xff\xff\xff", 1 << 20),
            Err(DecodeError::Snappy(_))
        ));
        // A header declaring 2 GiB with nothing behind it.
        let huge = [0x80, 0x80, 0x80, 0x80, 0x08];
        assert!(matches!(
            decode_write(&huge, 1 << 20),
            Err(DecodeError::TooLarge { .. })
        ));
        // Valid snappy around bytes that are no protobuf message.
        let junk = snappy(b"\x0a\xff\xff\xff\xff\x0f");
        let e = decode_write(&junk, 1 << 20).unwrap_err();
        assert!(matches!(e, DecodeError::Protobuf(_)), "{e}");
        // A declared length within the limit but truncated data.
        let mut cut = snappy(&[7u8; 1000]);
        cut.truncate(cut.len() / 2);
        assert!(decode_write(&cut, 1 << 20).is_err());
    }

    #[test]
    fn read_requests_decode_and_answers_encode() {
        let req = ReadRequest {
            queries: vec![crate::prompb::Query {
                start_timestamp_ms: 1,
                end_timestamp_ms: 2,
                matchers: (0..4)
                    .map(|t| crate::prompb::LabelMatcher {
                        r#type: t,
                        name: "n".into(),
                        value: "v".into(),
                    })
                    .collect(),
            }],
        };
        let qs = decode_read(&snappy(&req.encode_to_vec()), 1 << 20).unwrap();
        let kinds: Vec<MatchKind> = qs[0].matchers.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [
                MatchKind::Equal,
                MatchKind::NotEqual,
                MatchKind::Regex,
                MatchKind::NotRegex
            ]
        );
        let mut bad = req.clone();
        bad.queries[0].matchers[0].r#type = 9;
        assert_eq!(
            decode_read(&snappy(&bad.encode_to_vec()), 1 << 20),
            Err(DecodeError::MatchType(9))
        );
        let answer = encode_read(vec![vec![PromSeries {
            labels: vec![("__name__".into(), "up".into())],
            samples: vec![PromSample {
                timestamp_ms: 5,
                value: 2.0,
            }],
        }]]);
        let raw = snap::raw::Decoder::new().decompress_vec(&answer).unwrap();
        let resp = ReadResponse::decode(raw.as_slice()).unwrap();
        assert_eq!(resp.results[0].timeseries[0].samples[0].timestamp, 5);
        assert_eq!(resp.results[0].timeseries[0].labels[0].value, "up");
    }
}
