//! CORS, as InfluxDB 1.x answers it: a request carrying `Origin` gets that origin back as
//! allowed, with the methods and headers InfluxDB lists, on every answer (so a browser
//! page, such as Grafana in direct-access mode, can read it). Preflights (`OPTIONS` of
//! `/query` and `/write`) are answered by their handlers.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

const ALLOW_METHODS: &str = "DELETE, GET, OPTIONS, POST, PUT";
const ALLOW_HEADERS: &str = "Accept, Accept-Encoding, Authorization, Content-Length, \
                             Content-Type, X-CSRF-Token, X-HTTP-Method-Override";
const EXPOSE_HEADERS: &str = "Date, X-InfluxDB-Version, X-InfluxDB-Build";

/// Adds the CORS headers to the answer of a request that names its `Origin`.
pub(crate) async fn cors(req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut resp = next.run(req).await;
    if let Some(origin) = origin.filter(|o| !o.is_empty()) {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    resp
}
