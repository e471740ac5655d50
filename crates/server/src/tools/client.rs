//! A small blocking HTTP client for the tools: base URL, HTTP Basic credentials, the
//! server's `{"error": ...}` texts in failures, and retries while the server answers 503
//! (write backlog or memory pressure: it asks to come back later).

use super::ToolError;
use std::io::Read;
use std::time::Duration;

/// `--username`/`--password` (InfluxDB's `-username`/`-password`), sent as HTTP Basic.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// User name (empty: no credentials).
    pub username: String,
    /// Password.
    pub password: String,
}

/// How many times a 503 is retried before giving up (about ten minutes).
const MAX_RETRIES: u32 = 600;

#[derive(Debug, Clone)]
pub(crate) struct Client {
    agent: ureq::Agent,
    base: String,
    authorization: Option<String>,
}

impl Client {
    pub(crate) fn new(url: &str, creds: &Credentials) -> Client {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(600))
            .build();
        let authorization = (!creds.username.is_empty()).then(|| {
            format!(
                "Basic {}",
                base64(format!("{}:{}", creds.username, creds.password).as_bytes())
            )
        });
        Client {
            agent,
            base: url.trim_end_matches('/').to_string(),
            authorization,
        }
    }

    fn request(&self, method: &str, path: &str, query: &[(&str, &str)]) -> ureq::Request {
        let mut r = self.agent.request(method, &format!("{}{path}", self.base));
        for (k, v) in query {
            r = r.query(k, v);
        }
        if let Some(a) = &self.authorization {
            r = r.set("Authorization", a);
        }
        r
    }

    /// Sends a request (retrying 503s) and returns the successful response.
    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Result<ureq::Response, ToolError> {
        let mut attempt = 0;
        loop {
            let req = self.request(method, path, query);
            let result = match body {
                Some((content_type, bytes)) => {
                    req.set("Content-Type", content_type).send_bytes(bytes)
                }
                None => req.call(),
            };
            match result {
                Ok(r) => return Ok(r),
                Err(ureq::Error::Status(503, r)) if attempt < MAX_RETRIES => {
                    attempt += 1;
                    let wait = r
                        .header("Retry-After")
                        .and_then(|s| s.parse::<u64>().ok())
                        .unwrap_or(1)
                        .clamp(1, 30);
                    std::thread::sleep(Duration::from_secs(wait));
                }
                Err(ureq::Error::Status(code, r)) => {
                    return Err(ToolError::Server(format!(
                        "{method} {path}: HTTP {code}: {}",
                        error_text(r)
                    )))
                }
                Err(e) => {
                    return Err(ToolError::Server(format!(
                        "{method} {path} to {}: {e}",
                        self.base
                    )))
                }
            }
        }
    }

    /// A request whose answer is read whole as text.
    pub(crate) fn text(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Result<String, ToolError> {
        let r = self.send(method, path, query, body)?;
        let mut s = String::new();
        r.into_reader()
            .take(256 << 20)
            .read_to_string(&mut s)
            .map_err(ToolError::io(format!(
                "reading the answer to {method} {path}"
            )))?;
        Ok(s)
    }
}

/// The `error` of a JSON error answer, else the body.
fn error_text(r: ureq::Response) -> String {
    let mut s = String::new();
    let _ = r.into_reader().take(64 << 10).read_to_string(&mut s);
    serde_json::from_str::<serde_json::Value>(&s)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .unwrap_or_else(|| s.trim().to_string())
}

/// Standard base64 with padding (HTTP Basic).
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_credentials() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b"user:pa ss"), "dXNlcjpwYSBzcw==");
    }
}
