//! HTTPS: the server started with a certificate generated here (rcgen) answers `/ping`
//! and `/query` over TLS to a client trusting that certificate, refuses plain HTTP on the
//! same port, and refuses to start when the certificate file holds no PEM certificate
//! (naming the key).
#![allow(clippy::unwrap_used)]

use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

struct Tls {
    child: Child,
    addr: String,
}

impl Drop for Tls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(dir: &std::path::Path, cert: &std::path::Path, key: &std::path::Path) -> Command {
    let mut cmd = Command::new(hyperbyte_e2e::binary());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("HYPERBYTE_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg("--bind")
        .arg("127.0.0.1:0")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("HYPERBYTE_HTTP__TLS_CERT_PATH", cert)
        .env("HYPERBYTE_HTTP__TLS_KEY_PATH", key)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn start(dir: &std::path::Path, cert: &std::path::Path, key: &std::path::Path) -> Tls {
    let mut child = command(dir, cert, key).spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("hyperbyted listening on https://").nth(1) {
                let _ = tx.send(rest.trim().to_string());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    Tls { child, addr }
}

fn https(addr: &str, cert: &CertificateDer<'static>, request: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn https_with_a_generated_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.key_pair.serialize_pem()).unwrap();
    let der = generated.cert.der().clone();
    let server = start(dir.path(), &cert, &key);

    let ping = https(
        &server.addr,
        &der,
        "GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(ping.starts_with("HTTP/1.1 204"), "{ping}");
    let body = "q=SHOW+DATABASES";
    let query = https(
        &server.addr,
        &der,
        &format!(
            "POST /query HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(query.starts_with("HTTP/1.1 200"), "{query}");
    assert!(query.contains(r#""name":"databases""#), "{query}");

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(&server.addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    plain
        .write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = Vec::new();
    let _ = plain.read_to_end(&mut out);
    assert!(!String::from_utf8_lossy(&out).starts_with("HTTP/1.1 204"));
}

#[test]
fn a_file_without_a_certificate_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, "not a certificate\n").unwrap();
    std::fs::write(&key, "not a key\n").unwrap();
    let out = command(dir.path(), &cert, &key).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("http.tls_cert_path"), "{err}");
}
