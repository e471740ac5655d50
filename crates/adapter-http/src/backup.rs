//! Admin-only routes for `hyperbyted backup`, `restore` and `export` (HyperbyteDB's own,
//! no InfluxDB equivalent over HTTP):
//!
//! - `POST /api/hyperbyte/backup/snapshot?db=&rp=`: flushes the WAL through its last
//!   sequence and answers the snapshot handle as JSON (instant, WAL sequence, metadata,
//!   tables).
//! - `GET /api/hyperbyte/backup/data?db=&rp=&measurement=&since=&until=`: one table's
//!   points in `[since, until)` (nanoseconds) as line protocol, streamed page by page,
//!   ending with the line `# END points=N`: a body without it was cut short.
//! - `POST /api/hyperbyte/restore/meta?merge=`: creates the databases, policies, users
//!   and continuous queries of a JSON metadata snapshot (refused when a database exists,
//!   unless `merge=true`: then only what is missing is created).
//!
//! With authentication enabled each needs an admin user (credentials as on `/query`).

use crate::router::{authenticate, error_response, HttpState};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hyperbyte_application::auth::{Access, AuthError};
use hyperbyte_application::backup::{
    BackupError, BackupService, MetaSnapshot, SnapshotFilter, TableEntry, TableReader,
};
use std::collections::HashMap;
use std::sync::Arc;

/// The routes, merged into the main router.
pub(crate) fn routes() -> Router<HttpState> {
    Router::new()
        .route("/api/hyperbyte/backup/snapshot", post(snapshot))
        .route("/api/hyperbyte/backup/data", get(data))
        .route("/api/hyperbyte/restore/meta", post(restore_meta))
}

fn params(raw: Option<&str>) -> HashMap<String, String> {
    crate::params::form_urlencoded_pairs(raw.unwrap_or_default().as_bytes())
        .into_iter()
        .collect()
}

fn non_empty(p: &HashMap<String, String>, key: &str) -> Option<String> {
    p.get(key).filter(|v| !v.is_empty()).cloned()
}

/// The backup service once the caller is an admin (or auth is off); else the refusal.
async fn admin(
    state: &HttpState,
    p: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Arc<BackupService>, Response> {
    let access = authenticate(
        state,
        p.get("u").map(String::as_str),
        p.get("p").map(String::as_str),
        headers,
    )
    .await;
    let refusal = |e: AuthError| {
        let status = crate::auth::status(&e);
        error_response(state, status, &e.to_string())
    };
    match access {
        Ok(Access::Open) => {}
        Ok(Access::User(Some(u))) if u.admin => {}
        Ok(_) => {
            return Err(refusal(AuthError::Forbidden(
                "backup, restore and export require an admin user".into(),
            )))
        }
        Err(e) => return Err(refusal(e)),
    }
    state
        .backup
        .clone()
        .ok_or_else(|| error_response(state, StatusCode::NOT_FOUND, "backup is not available"))
}

fn backup_error(state: &HttpState, e: &BackupError) -> Response {
    let status = match e {
        BackupError::Invalid(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status.is_server_error() {
        tracing::error!(error = %e, "backup request failed");
    }
    error_response(state, status, &e.to_string())
}

fn time_param(p: &HashMap<String, String>, key: &str) -> Result<Option<i64>, String> {
    match non_empty(p, key) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("{key} must be nanoseconds since the epoch, got {v:?}")),
    }
}

async fn snapshot(
    State(state): State<HttpState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = params(raw.as_deref());
    let service = match admin(&state, &p, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let filter = SnapshotFilter {
        database: non_empty(&p, "db"),
        retention_policy: non_empty(&p, "rp"),
    };
    match service.snapshot(&filter).await {
        Ok(snap) => match serde_json::to_string(&snap) {
            Ok(body) => json(StatusCode::OK, body),
            Err(e) => error_response(&state, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        },
        Err(e) => backup_error(&state, &e),
    }
}

fn json(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

async fn data(
    State(state): State<HttpState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = params(raw.as_deref());
    let service = match admin(&state, &p, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (Some(database), Some(retention_policy), Some(measurement)) = (
        non_empty(&p, "db"),
        non_empty(&p, "rp"),
        non_empty(&p, "measurement"),
    ) else {
        return error_response(
            &state,
            StatusCode::BAD_REQUEST,
            "db, rp and measurement are required",
        );
    };
    let (since, until) = match (time_param(&p, "since"), time_param(&p, "until")) {
        (Ok(s), Ok(u)) => (s, u),
        (Err(e), _) | (_, Err(e)) => return error_response(&state, StatusCode::BAD_REQUEST, &e),
    };
    let table = TableEntry {
        database,
        retention_policy,
        measurement,
    };
    let reader = match service.table_reader(table, since, until).await {
        Ok(r) => r,
        Err(e) => return backup_error(&state, &e),
    };
    let mut r = Body::from_stream(pages(reader)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The pages of `reader`, then the `# END points=N` line; an error ends the stream with
/// an error (the client sees a body cut short, without the end line).
fn pages(
    reader: TableReader,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures_util::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        match reader.next_page().await {
            Ok(Some(page)) => Some((Ok(Bytes::from(page)), Some(reader))),
            Ok(None) => Some((
                Ok(Bytes::from(format!("# END points={}\n", reader.points()))),
                None,
            )),
            Err(e) => {
                tracing::error!(error = %e, "backup read failed");
                Some((Err(std::io::Error::other(e.to_string())), None))
            }
        }
    })
}

async fn restore_meta(
    State(state): State<HttpState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = params(raw.as_deref());
    let service = match admin(&state, &p, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let meta: MetaSnapshot = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => {
            return error_response(
                &state,
                StatusCode::BAD_REQUEST,
                &format!("invalid metadata snapshot: {e}"),
            )
        }
    };
    let merge = p.get("merge").is_some_and(|v| v == "true");
    match service.restore_meta(&meta, merge).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => backup_error(&state, &e),
    }
}
