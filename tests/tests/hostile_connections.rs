//! Slow, stalled and too many clients end to end: none of them blocks other clients or a
//! shutdown, and decompression is always bounded. Each test failed before the connection
//! limits existed (the server then waited on such clients forever).
#![allow(clippy::unwrap_used)]

use hyperbyte_e2e::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn connect(s: &Server) -> TcpStream {
    let c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c
}

fn ping_ok(s: &Server) -> bool {
    ureq::get(&format!("{}/ping", s.url))
        .timeout(Duration::from_secs(15))
        .call()
        .is_ok_and(|r| r.status() == 204)
}

/// A client that never finishes its headers is disconnected, and while the connection
/// limit is taken by such clients, others get in once they are.
#[test]
fn clients_stalling_in_their_headers_are_dropped_and_cannot_lock_others_out() {
    let s = Server::start_with_env(&[
        ("HYPERBYTE_HTTP__HEADER_READ_TIMEOUT_SECS", "1"),
        ("HYPERBYTE_HTTP__MAX_CONNECTIONS", "2"),
    ]);
    let mut stalled: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut c = connect(&s);
            c.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n").unwrap();
            c
        })
        .collect();
    let started = Instant::now();
    assert!(ping_ok(&s), "a third client got no answer");
    assert!(started.elapsed() < Duration::from_secs(15));
    // The stalled ones were closed by the server (EOF or an error status, not a hang).
    for c in &mut stalled {
        let mut buf = Vec::new();
        let _ = c.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        assert!(!text.contains("204"), "{text}");
    }
}

/// Sends `GET /ping` on `c` and reads its answer's head; `None` when the server closed
/// the connection instead of answering.
fn ping_on(c: &mut TcpStream) -> Option<String> {
    c.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match c.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// Whether the server closed `c` (EOF or a reset) within its read timeout.
fn closed_by_server(c: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(c.read(&mut buf), Ok(0) | Err(_))
}

/// A kept-alive connection waiting between two requests is not held to the header read
/// timeout (InfluxDB keeps idle connections; hyper's header timeout also counted the
/// idle time, so a client reusing its connection after 30 s found it closed), and is
/// closed once idle for `http.idle_timeout_secs`.
#[test]
fn idle_keep_alive_connections_wait_for_the_idle_timeout_not_the_header_timeout() {
    let s = Server::start_with_env(&[
        ("HYPERBYTE_HTTP__HEADER_READ_TIMEOUT_SECS", "1"),
        ("HYPERBYTE_HTTP__IDLE_TIMEOUT_SECS", "6"),
    ]);
    let mut c = connect(&s);
    let first = ping_on(&mut c).expect("first answer");
    assert!(first.starts_with("HTTP/1.1 204"), "{first}");
    std::thread::sleep(Duration::from_secs(3));
    let second = ping_on(&mut c).expect("the idle connection was closed by the header timeout");
    assert!(second.starts_with("HTTP/1.1 204"), "{second}");
    // Idle past the idle timeout: closed by the server.
    let waited = Instant::now();
    assert!(closed_by_server(&mut c));
    assert!(
        waited.elapsed() >= Duration::from_secs(5),
        "{:?}",
        waited.elapsed()
    );
}

/// After an idle wait, a request that starts but never completes its headers is still
/// cut at the header read timeout, also with no idle limit.
#[test]
fn a_request_stalling_after_an_idle_wait_is_cut_at_the_header_timeout() {
    let s = Server::start_with_env(&[
        ("HYPERBYTE_HTTP__HEADER_READ_TIMEOUT_SECS", "1"),
        ("HYPERBYTE_HTTP__IDLE_TIMEOUT_SECS", "0"),
    ]);
    let mut c = connect(&s);
    assert!(ping_on(&mut c).is_some_and(|h| h.starts_with("HTTP/1.1 204")));
    std::thread::sleep(Duration::from_secs(2));
    c.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n").unwrap();
    assert!(
        closed_by_server(&mut c),
        "a stalled request held its connection"
    );
}

/// A `/write` whose body stops arriving ends with 408 instead of holding its connection.
#[test]
fn a_stalled_write_body_times_out() {
    let s = Server::start_with_env(&[("HYPERBYTE_HTTP__BODY_READ_TIMEOUT_SECS", "1")]);
    let (status, _) = s.query("", "CREATE DATABASE db");
    assert_eq!(status, 200);
    let mut c = connect(&s);
    c.write_all(b"POST /write?db=db HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nm v=1 1\n")
        .unwrap();
    let mut buf = [0u8; 512];
    let n = c.read(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(ping_ok(&s));
}

/// A client in the middle of a request cannot keep the process from stopping.
#[test]
fn shutdown_does_not_wait_for_a_stalled_client() {
    let mut s = Server::start_with_env(&[
        ("HYPERBYTE_HTTP__BODY_READ_TIMEOUT_SECS", "0"),
        ("HYPERBYTE_HTTP__HEADER_READ_TIMEOUT_SECS", "0"),
        ("HYPERBYTE_HTTP__SHUTDOWN_TIMEOUT_SECS", "2"),
    ]);
    let (status, _) = s.query("", "CREATE DATABASE db");
    assert_eq!(status, 200);
    let mut c = connect(&s);
    c.write_all(b"POST /write?db=db HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nm v=1")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    assert!(s.terminate(), "hyperbyted did not exit cleanly");
    // 2 s for the stalled connection, plus the final flush, the tier's snapshot and the
    // engine's shutdown (seconds on a loaded machine); a wait for the stalled client
    // would never end.
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "shutdown took {:?}",
        started.elapsed()
    );
    drop(c);
}

/// With `http.max_body_bytes = 0` (no limit on the body as sent), a gzip body is still
/// decompressed under a bound: a small bomb is refused with 413, the server stays up.
#[test]
fn a_gzip_bomb_is_refused_even_without_a_body_limit() {
    let s = Server::start_with_env(&[
        ("HYPERBYTE_HTTP__MAX_BODY_BYTES", "0"),
        ("HYPERBYTE_HTTP__MAX_DECODED_BODY_BYTES", "1048576"),
    ]);
    let (status, _) = s.query("", "CREATE DATABASE db");
    assert_eq!(status, 200);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b'#'; 1 << 20];
    for _ in 0..64 {
        enc.write_all(&zeros).unwrap();
    }
    let gz = enc.finish().unwrap();
    assert!(gz.len() < 1 << 20);
    let r = ureq::post(&format!("{}/write?db=db", s.url))
        .set("Content-Encoding", "gzip")
        .send_bytes(&gz);
    match r {
        Err(ureq::Error::Status(413, _)) => {}
        other => panic!("expected 413, got {other:?}"),
    }
    assert!(ping_ok(&s));
}

/// Sends `DELETE FROM m WHERE host = 'a' AND time < 10s` to `db` and gives up on the
/// answer after 0.3 s (the failure point holds the statement longer).
fn delete_and_give_up(s: &Server, db: &str) {
    let given_up = ureq::post(&format!("{}/query", s.url))
        .timeout(Duration::from_millis(300))
        .send_form(&[
            ("db", db),
            ("q", "DELETE FROM m WHERE host = 'a' AND time < 10s"),
        ]);
    assert!(given_up.is_err(), "the client gave up before the answer");
}

/// A client that goes away while its `DELETE` runs does not leave the delete half done.
/// The failure point holds the statement between storage's delete and the series
/// index's update; the client gives up meanwhile. Before, the statement stopped with its
/// request: the points were gone and `SHOW SERIES` still listed their series.
#[test]
fn a_delete_finishes_after_its_client_went_away() {
    let s = Server::start_with_env(&[("FAILPOINTS", "delete-storage-done=sleep(1500)")]);
    assert_eq!(s.query("", "CREATE DATABASE gone").0, 200);
    let body = "m,host=a v=1 1000000000\nm,host=a v=2 2000000000\nm,host=b v=3 1000000000\n";
    assert_eq!(s.write("gone", body).0, 204);
    delete_and_give_up(&s, "gone");
    let deadline = Instant::now() + Duration::from_secs(20);
    let series = loop {
        let (status, v) = s.query("gone", "SHOW SERIES");
        assert_eq!(status, 200, "{v}");
        let series = v["results"][0]["series"][0]["values"].clone();
        if series == serde_json::json!([["m,host=b"]]) || Instant::now() > deadline {
            break series;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(series, serde_json::json!([["m,host=b"]]));
    let (_, v) = s.query("gone", "SELECT count(v) FROM m GROUP BY host");
    assert_eq!(
        v["results"][0]["series"].as_array().map(Vec::len),
        Some(1),
        "{v}"
    );
    assert_eq!(v["results"][0]["series"][0]["tags"]["host"], "b", "{v}");
}

/// A clean stop waits for a `DELETE` whose client went away: after the restart its
/// points and series are gone. Before, the stop cut it short between storage's delete
/// and the series index's update.
#[test]
fn a_clean_stop_waits_for_a_delete_whose_client_went_away() {
    let mut s = Server::start_with_env(&[("FAILPOINTS", "delete-storage-done=sleep(1500)")]);
    assert_eq!(s.query("", "CREATE DATABASE stopped").0, 200);
    let body = "m,host=a v=1 1000000000\nm,host=b v=3 1000000000\n";
    assert_eq!(s.write("stopped", body).0, 204);
    delete_and_give_up(&s, "stopped");
    assert!(s.restart_graceful(), "a clean stop");
    let (status, v) = s.query("stopped", "SHOW SERIES");
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["results"][0]["series"][0]["values"],
        serde_json::json!([["m,host=b"]])
    );
}
