//! Lifecycle: ping headers, health, config errors, graceful shutdown.
#![allow(clippy::unwrap_used)]

use hyperbyte_e2e::{binary, Server};

#[test]
fn ping_answers_204_with_influx_headers() {
    let s = Server::start();
    let r = ureq::get(&format!("{}/ping", s.url)).call().unwrap();
    assert_eq!(r.status(), 204);
    for h in ["X-Influxdb-Version", "X-Influxdb-Build", "Request-Id"] {
        assert!(r.header(h).is_some(), "missing {h}");
    }
    let r = ureq::head(&format!("{}/ping", s.url)).call().unwrap();
    assert_eq!(r.status(), 204);
    let r = ureq::get(&format!("{}/health", s.url)).call().unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    assert_eq!(v["status"], "pass");
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let mut s = Server::start();
    assert!(s.terminate(), "hyperbyted did not exit 0 on SIGTERM");
}

#[test]
fn invalid_config_names_the_key_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(&f, "[flush]\ninterval_secs = 0\n").unwrap();
    let out = std::process::Command::new(binary())
        .arg("--config")
        .arg(&f)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("flush.interval_secs"), "{err}");
    let out = std::process::Command::new(binary())
        .args(["config", "check"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = std::process::Command::new(binary())
        .args(["config", "print-default"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("[http]"));
}
