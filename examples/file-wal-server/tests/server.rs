//! The custom binary serves writes and queries on the file WAL, and a write acknowledged
//! before a restart is read after it.
//!
//! The binary is the one Cargo builds for this package's integration tests
//! (`CARGO_BIN_EXE_file-wal-server`); the test talks raw HTTP/1.1 over a `TcpStream`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the custom binary on port 0 and waits for the address it announces.
    fn start(data_dir: &Path) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_file-wal-server"));
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("HYPERBYTE_") {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd
            .args(["--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("HYPERBYTE_FLUSH__INTERVAL_SECS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn file-wal-server");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    if let Some(t) = tx.take() {
                        let _ = t.send(addr.trim().to_string());
                    }
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the server announces its address");
        Server { child, addr }
    }

    /// One request; returns status and body.
    fn request(&self, method: &str, target: &str, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        s.write_all(req.as_bytes()).expect("send");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("read the response");
        let status = resp
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("a status line");
        let body = resp.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        // Chunked bodies: the JSON is what the test looks into; chunk sizes do no harm.
        (status, body.to_string())
    }

    fn query(&self, q: &str) -> String {
        let (status, body) = self.request("POST", "/query?db=demo", &format!("q={q}"));
        assert_eq!(status, 200, "query {q}: {body}");
        body
    }

    /// Polls a query until its answer contains `want` (the flush moves writes from the WAL
    /// into storage within a second).
    fn wait_for(&self, q: &str, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let body = self.query(q);
            if body.contains(want) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "{q} never answered {want}: {body}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn the_custom_binary_serves_writes_and_queries_on_the_file_wal() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    {
        let server = Server::start(&data);
        assert_eq!(server.request("GET", "/ping", "").0, 204);
        server.query("CREATE+DATABASE+demo");
        let (status, body) = server.request(
            "POST",
            "/write?db=demo",
            "cpu,host=a usage=1.5 1000000000\ncpu,host=b usage=2.5 2000000000",
        );
        assert_eq!(status, 204, "write: {body}");
        let body = server.wait_for("SELECT+sum(usage)+FROM+cpu", ",4]]");
        assert!(body.contains("\"name\":\"cpu\""), "{body}");
        assert!(
            data.join("file-wal").join("wal.log").exists(),
            "the writes went through the file WAL"
        );
        // Acknowledged, then the process dies before it could flush on shutdown.
        let (status, _) = server.request("POST", "/write?db=demo", "cpu,host=c usage=3 3000000000");
        assert_eq!(status, 204);
    }
    let server = Server::start(&data);
    server.wait_for("SELECT+count(usage)+FROM+cpu", ",3]]");
}
