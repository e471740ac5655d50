//! A keep-alive HTTP/1.1 client written on `TcpStream`, so the request bytes are exactly
//! those the case describes: no client library adds an `Accept`, a `User-Agent` or an
//! `Accept-Encoding: gzip` that would change what the server answers (the corpus
//! records answers to `Accept-Encoding: gzip` and `Accept` variants on purpose).
//! It sends what `http.client` sends (`Host`, `Accept-Encoding: identity` unless the
//! case sets them, `Content-Length` when there is a body or the method expects one).
//!
//! Failures split as in the recorder: a server that cannot be reached stops the whole
//! run ([`SendError::Unreachable`]); a kept-alive connection the server closed is
//! retried once; any other broken exchange aborts only the current case.

use super::pytext::urlencode;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Connect, read and write timeout of every exchange.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request got no answer.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The server cannot be reached at all: the run stops.
    Unreachable(String),
    /// This exchange broke (bad request description, malformed answer): the case stops.
    Broken(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Unreachable(m) | SendError::Broken(m) => f.write_str(m),
        }
    }
}

/// One answer: status, the first value of each header by lower-case name, and the body
/// (gunzipped when the server says `Content-Encoding: gzip`).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: Vec<u8>,
}

/// A client for one base URL (`http://host:port[/prefix]`).
#[derive(Debug)]
pub(crate) struct Client {
    url: String,
    host: String,
    port: u16,
    prefix: String,
    conn: Option<BufReader<TcpStream>>,
}

/// An I/O failure on an open connection, sorted as the recorder sorts them.
enum Failure {
    /// Closed or reset by the peer before the answer: retry once on a new connection.
    Dropped(String),
    Unreachable(String),
    Broken(String),
}

impl Client {
    pub(crate) fn new(url: &str) -> Result<Self, SendError> {
        let full = if url.contains("://") {
            url.to_string()
        } else {
            format!("http://{url}")
        };
        let (scheme, rest) = full.split_once("://").unwrap_or(("http", &full));
        if scheme != "http" {
            return Err(SendError::Unreachable(format!(
                "unsupported URL scheme in {url:?} (the runner speaks plain http)"
            )));
        }
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = split_host_port(authority)
            .ok_or_else(|| SendError::Unreachable(format!("bad URL {url:?}")))?;
        Ok(Client {
            url: url.to_string(),
            host,
            port,
            prefix: prefix.to_string(),
            conn: None,
        })
    }

    pub(crate) fn close(&mut self) {
        self.conn = None;
    }

    /// Sends one request description (`method`, `path`, `params`, `headers`, `body`,
    /// `gzip`, `form`).
    pub(crate) fn send(&mut self, req: &Value) -> Result<Answer, SendError> {
        let bytes = self.request_bytes(req)?;
        let head_only = request_method(req) == "HEAD";
        let mut last = String::new();
        for _attempt in 0..2 {
            if self.conn.is_none() {
                self.conn = Some(self.connect()?);
            }
            match self.exchange(&bytes, head_only) {
                Ok(answer) => return Ok(answer),
                Err(Failure::Dropped(m)) => {
                    self.close();
                    last = m;
                }
                Err(Failure::Unreachable(m)) => {
                    self.close();
                    return Err(SendError::Unreachable(format!(
                        "cannot connect to {}: {m}",
                        self.url
                    )));
                }
                Err(Failure::Broken(m)) => {
                    self.close();
                    return Err(SendError::Broken(m));
                }
            }
        }
        Err(SendError::Unreachable(format!(
            "connection to {} dropped: {last}",
            self.url
        )))
    }

    fn connect(&self) -> Result<BufReader<TcpStream>, SendError> {
        let unreachable = |e: std::io::Error| {
            SendError::Unreachable(format!("cannot connect to {}: {e}", self.url))
        };
        let addrs = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(unreachable)?;
        let mut last = std::io::Error::new(ErrorKind::NotFound, "no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, TIMEOUT) {
                Ok(s) => {
                    s.set_read_timeout(Some(TIMEOUT)).map_err(unreachable)?;
                    s.set_write_timeout(Some(TIMEOUT)).map_err(unreachable)?;
                    let _ = s.set_nodelay(true);
                    return Ok(BufReader::new(s));
                }
                Err(e) => last = e,
            }
        }
        Err(unreachable(last))
    }

    /// The request as `http.client` writes it.
    fn request_bytes(&self, req: &Value) -> Result<Vec<u8>, SendError> {
        let method = request_method(req);
        let path = req
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| SendError::Broken("KeyError: 'path'".into()))?;
        let query = match req.get("params") {
            Some(Value::Object(p)) => urlencode(p),
            _ => String::new(),
        };
        let mut target = format!("{}{path}", self.prefix);
        if !query.is_empty() {
            target.push('?');
            target.push_str(&query);
        }
        let mut headers: Vec<(String, String)> = match req.get("headers") {
            Some(Value::Object(h)) => h
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        let body = request_body(req, &mut headers)?;
        let has = |name: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
        let mut head = format!("{method} {target} HTTP/1.1\r\n");
        if !has("host") {
            let host = if self.host.contains(':') {
                format!("[{}]", self.host)
            } else {
                self.host.clone()
            };
            if self.port == 80 {
                head.push_str(&format!("Host: {host}\r\n"));
            } else {
                head.push_str(&format!("Host: {host}:{}\r\n", self.port));
            }
        }
        if !has("accept-encoding") {
            head.push_str("Accept-Encoding: identity\r\n");
        }
        if !has("content-length") && !has("transfer-encoding") {
            match &body {
                Some(b) => head.push_str(&format!("Content-Length: {}\r\n", b.len())),
                None if matches!(method, "POST" | "PUT" | "PATCH") => {
                    head.push_str("Content-Length: 0\r\n")
                }
                None => {}
            }
        }
        for (k, v) in &headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        if let Some(b) = body {
            bytes.extend_from_slice(&b);
        }
        Ok(bytes)
    }

    /// Writes the request and reads the whole answer on the open connection.
    fn exchange(&mut self, bytes: &[u8], head_only: bool) -> Result<Answer, Failure> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| Failure::Broken("no connection".into()))?;
        conn.get_mut().write_all(bytes).map_err(classify)?;
        let mut line = String::new();
        let n = conn.read_line(&mut line).map_err(classify)?;
        if n == 0 {
            return Err(Failure::Dropped(
                "RemoteDisconnected('Remote end closed connection without response')".into(),
            ));
        }
        let mut parts = line.trim_end().splitn(3, ' ');
        let version = parts.next().unwrap_or("").to_string();
        let status: u16 = match (version.starts_with("HTTP/"), parts.next().map(str::parse)) {
            (true, Some(Ok(s))) if (100..1000).contains(&s) => s,
            _ => return Err(Failure::Dropped(format!("BadStatusLine({line:?})"))),
        };
        let headers = read_headers(conn)?;
        let connection = headers
            .get("connection")
            .map(|v| v.to_lowercase())
            .unwrap_or_default();
        let mut will_close = connection.contains("close")
            || (version == "HTTP/1.0" && !connection.contains("keep-alive"));
        let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
        let mut body = Vec::new();
        if !no_body {
            let chunked = headers
                .get("transfer-encoding")
                .is_some_and(|v| v.to_lowercase().contains("chunked"));
            if chunked {
                read_chunked(conn, &mut body)?;
            } else if let Some(len) = headers.get("content-length") {
                let len: u64 = len
                    .trim()
                    .parse()
                    .map_err(|_| Failure::Broken(format!("bad Content-Length {len:?}")))?;
                conn.by_ref()
                    .take(len)
                    .read_to_end(&mut body)
                    .map_err(classify)?;
                if body.len() as u64 != len {
                    return Err(Failure::Broken(format!(
                        "IncompleteRead({} bytes read, {} more expected)",
                        body.len(),
                        len - body.len() as u64
                    )));
                }
            } else {
                conn.read_to_end(&mut body).map_err(classify)?;
                will_close = true;
            }
        }
        if will_close {
            self.close();
        }
        let gzipped = headers
            .get("content-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
        if gzipped && !body.is_empty() {
            let mut plain = Vec::new();
            MultiGzDecoder::new(body.as_slice())
                .read_to_end(&mut plain)
                .map_err(|e| Failure::Broken(format!("BadGzipFile: {e}")))?;
            body = plain;
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

fn request_method(req: &Value) -> &str {
    req.get("method").and_then(Value::as_str).unwrap_or("GET")
}

/// The body bytes: a `form` (URL-encoded, with its content type unless the case gives
/// one), else `body` (gzipped when `gzip` is set); an empty body for POST and PUT.
fn request_body(
    req: &Value,
    headers: &mut Vec<(String, String)>,
) -> Result<Option<Vec<u8>>, SendError> {
    let method = request_method(req);
    let mut data = None;
    match (req.get("form"), req.get("body")) {
        (Some(Value::Object(form)), _) => {
            data = Some(urlencode(form).into_bytes());
            if !headers.iter().any(|(k, _)| k == "Content-Type") {
                headers.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
            }
        }
        (Some(f), _) if !f.is_null() => {
            return Err(SendError::Broken("form must be an object".into()));
        }
        (_, Some(Value::String(text))) => {
            let mut bytes = text.as_bytes().to_vec();
            if req.get("gzip").and_then(Value::as_bool).unwrap_or(false) {
                let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(&bytes)
                    .and_then(|()| enc.finish())
                    .map(|b| bytes = b)
                    .map_err(|e| SendError::Broken(format!("gzip: {e}")))?;
            }
            data = Some(bytes);
        }
        (_, Some(b)) if !b.is_null() => {
            return Err(SendError::Broken("body must be a string".into()));
        }
        _ => {}
    }
    if data.is_none() && matches!(method, "POST" | "PUT") {
        data = Some(Vec::new());
    }
    Ok(data)
}

/// `host[:port]` or `[v6][:port]`; the port defaults to 80.
fn split_host_port(authority: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some("") | None => 80,
        Some(p) => p.parse().ok()?,
    };
    let host = if host.is_empty() { "127.0.0.1" } else { host };
    Some((host.to_lowercase(), port))
}

fn read_headers(conn: &mut BufReader<TcpStream>) -> Result<BTreeMap<String, String>, Failure> {
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        if conn.read_line(&mut line).map_err(classify)? == 0 {
            return Err(Failure::Broken("answer ended inside its headers".into()));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Ok(headers);
        }
        if let Some((name, value)) = line.split_once(':') {
            headers
                .entry(name.trim().to_lowercase())
                .or_insert_with(|| value.trim().to_string());
        }
    }
}

/// A `Transfer-Encoding: chunked` body, trailers skipped.
fn read_chunked(conn: &mut BufReader<TcpStream>, body: &mut Vec<u8>) -> Result<(), Failure> {
    loop {
        let mut size_line = String::new();
        if conn.read_line(&mut size_line).map_err(classify)? == 0 {
            return Err(Failure::Broken("IncompleteRead in a chunked answer".into()));
        }
        let hex = size_line.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(hex, 16)
            .map_err(|_| Failure::Broken(format!("bad chunk size {hex:?}")))?;
        if size == 0 {
            read_headers(conn)?; // trailers up to the blank line
            return Ok(());
        }
        let before = body.len();
        conn.by_ref()
            .take(size)
            .read_to_end(body)
            .map_err(classify)?;
        if (body.len() - before) as u64 != size {
            return Err(Failure::Broken("IncompleteRead in a chunk".into()));
        }
        let mut crlf = String::new();
        conn.read_line(&mut crlf).map_err(classify)?;
    }
}

/// `RemoteDisconnected`, `BrokenPipeError` and `ConnectionResetError` are retried;
/// a timeout or any other socket error means the server is unreachable.
fn classify(e: std::io::Error) -> Failure {
    match e.kind() {
        ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof => {
            Failure::Dropped(e.to_string())
        }
        ErrorKind::InvalidData => Failure::Broken(e.to_string()),
        _ => Failure::Unreachable(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_split_like_urlsplit() {
        let c = Client::new("http://127.0.0.1:8086/").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.prefix.as_str()),
            ("127.0.0.1", 8086, "")
        );
        let c = Client::new("localhost:9/base/").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.prefix.as_str()),
            ("localhost", 9, "/base")
        );
        let c = Client::new("http://[::1]").unwrap();
        assert_eq!((c.host.as_str(), c.port), ("::1", 80));
        assert!(Client::new("https://x").is_err());
    }

    #[test]
    fn requests_are_written_as_http_client_writes_them() {
        let c = Client::new("http://127.0.0.1:8086").unwrap();
        let get = json!({"method": "GET", "path": "/query", "params": {"q": "SHOW DATABASES"}});
        assert_eq!(
            String::from_utf8(c.request_bytes(&get).unwrap()).unwrap(),
            "GET /query?q=SHOW+DATABASES HTTP/1.1\r\nHost: 127.0.0.1:8086\r\nAccept-Encoding: identity\r\n\r\n"
        );
        let post = json!({"method": "POST", "path": "/query", "form": {"q": "a b"},
                          "headers": {"Accept-Encoding": "gzip"}});
        assert_eq!(
            String::from_utf8(c.request_bytes(&post).unwrap()).unwrap(),
            "POST /query HTTP/1.1\r\nHost: 127.0.0.1:8086\r\nContent-Length: 5\r\nAccept-Encoding: gzip\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nq=a+b"
        );
        let empty = json!({"method": "POST", "path": "/write", "params": {"db": "x"}});
        assert!(String::from_utf8(c.request_bytes(&empty).unwrap())
            .unwrap()
            .contains("Content-Length: 0\r\n"));
        let gz = json!({"method": "POST", "path": "/write", "body": "m v=1", "gzip": true});
        let bytes = c.request_bytes(&gz).unwrap();
        let at = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut plain = String::new();
        MultiGzDecoder::new(&bytes[at..])
            .read_to_string(&mut plain)
            .unwrap();
        assert_eq!(plain, "m v=1");
    }
}
