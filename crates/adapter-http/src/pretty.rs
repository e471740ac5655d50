//! `pretty=true` in the URL's query string indents the JSON InfluxDB writes, error bodies
//! included: its response writer is made per request from the URL alone (not from a form
//! body), and every handler's errors go through it (`/write` and `/query` errors alike).
//! Handlers render results themselves; this layer re-renders the `{"error": ...}` bodies
//! of failed requests.

use crate::params::url_params;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

/// Whether the URL asks for indented JSON.
pub(crate) fn url_asks_pretty(raw_query: Option<&str>) -> bool {
    url_params(raw_query)
        .get("pretty")
        .is_some_and(|p| p == "true")
}

/// The middleware: indents a failed request's JSON error body when the URL asks for it.
pub(crate) async fn pretty_errors(req: Request, next: Next) -> Response {
    let pretty = url_asks_pretty(req.uri().query());
    let resp = next.run(req).await;
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !pretty || resp.status().is_success() || !json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    // Error bodies are rendered in memory by the handlers: nothing streams here.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ErrorBody {
        error: String,
    }
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(e) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(render_error_pretty(&e.error)))
        }
        Err(_) => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// `{"error": msg}` indented by four spaces, as Go's `json.MarshalIndent` writes it.
fn render_error_pretty(msg: &str) -> String {
    let mut out = String::from("{\n    \"error\": ");
    crate::json::write_str(&mut out, msg);
    out.push_str("\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_an_error_as_influxdb_does() {
        assert_eq!(
            render_error_pretty("missing required parameter \"q\""),
            "{\n    \"error\": \"missing required parameter \\\"q\\\"\"\n}\n"
        );
        assert!(url_asks_pretty(Some("db=x&pretty=true")));
        assert!(!url_asks_pretty(Some("pretty=1")));
        assert!(!url_asks_pretty(None));
    }
}
