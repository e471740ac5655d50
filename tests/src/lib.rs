//! End-to-end test harness: starts the real `hyperbyted` binary on a free loopback port
//! with a temporary data directory, and talks to it over HTTP like a client would.
//!
//! The binary is `$HYPERBYTED_BIN` (set by `cargo xtask test`) or
//! `target/release/hyperbyted`.

pub mod answers;
pub mod crash;
pub mod report;

use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    /// Base URL, e.g. `http://127.0.0.1:12345`.
    pub url: String,
    /// Port.
    pub port: u16,
    /// Data directory (kept across restarts of this handle).
    pub data_dir: PathBuf,
    env: Vec<(String, String)>,
    fixed_port: Option<u16>,
    /// Lines the server printed starting with `hyperbyted ` (its addresses).
    announced: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _tmp: Option<tempfile::TempDir>,
}

/// Path of the binary under test.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("HYPERBYTED_BIN") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    target.join("release/hyperbyted")
}

impl Server {
    /// Starts a server on a fresh data directory.
    pub fn start() -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().join("data");
        let mut s = Server {
            child: None,
            url: String::new(),
            port: 0,
            data_dir,
            env: Vec::new(),
            fixed_port: None,
            announced: Default::default(),
            _tmp: Some(tmp),
        };
        s.spawn(&[]);
        s
    }

    /// Starts with extra environment variables (e.g. `HYPERBYTE_HTTP__MAX_BODY_BYTES`).
    pub fn start_with_env(env: &[(&str, &str)]) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().join("data");
        let mut s = Server {
            child: None,
            url: String::new(),
            port: 0,
            data_dir,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            fixed_port: None,
            announced: Default::default(),
            _tmp: Some(tmp),
        };
        s.spawn(&[]);
        s
    }

    /// Starts on the data directory `data_dir` (which the caller owns, e.g. on a
    /// filesystem the test mounted), with extra environment variables.
    pub fn start_in(data_dir: PathBuf, env: &[(&str, &str)]) -> Server {
        let mut s = Server {
            child: None,
            url: String::new(),
            port: 0,
            data_dir,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            fixed_port: None,
            announced: Default::default(),
            _tmp: None,
        };
        s.spawn(&[]);
        s
    }

    /// Starts with extra command-line arguments.
    pub fn start_with(args: &[&str]) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().join("data");
        let mut s = Server {
            child: None,
            url: String::new(),
            port: 0,
            data_dir,
            env: Vec::new(),
            fixed_port: None,
            announced: Default::default(),
            _tmp: Some(tmp),
        };
        s.spawn(args);
        s
    }

    /// Starts on a fresh data directory, listening on a fixed loopback `port` (the
    /// benchmarks run on ports assigned to them rather than on a random free one).
    pub fn start_on_port(port: u16) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().join("data");
        let mut s = Server {
            child: None,
            url: String::new(),
            port,
            data_dir,
            env: Vec::new(),
            fixed_port: Some(port),
            announced: Default::default(),
            _tmp: Some(tmp),
        };
        s.spawn(&[]);
        s
    }

    /// The address of the `nth` (0-based) listener of `kind` (`graphite`, `opentsdb`,
    /// `collectd`, `udp`) as the server announced it.
    pub fn listener_addr(&self, kind: &str, nth: usize) -> std::net::SocketAddr {
        let prefix = format!("hyperbyted {kind} listener on ");
        let lines = self.announced.lock().map(|a| a.clone()).unwrap_or_default();
        lines
            .iter()
            .filter_map(|l| l.strip_prefix(&prefix))
            .nth(nth)
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {kind} listener #{nth} announced in {lines:?}"))
    }

    /// Process id of the running server (to sample its CPU time), if it is running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn spawn(&mut self, args: &[&str]) {
        // Port 0 unless fixed: the server binds a port nobody else holds and prints it. (A
        // port probed free and released before the server binds it can be taken by a
        // parallel test's server, whose /ping would then answer for ours.)
        let port = self.fixed_port.unwrap_or(0);
        let bin = binary();
        assert!(
            bin.exists(),
            "{} missing: run `cargo xtask build`",
            bin.display()
        );
        let mut cmd = Command::new(&bin);
        // Hermetic: configuration only from what the test sets (a `HYPERBYTE_FUZZ_CASES`
        // meant for the test runner is no server key, and the server refuses unknown keys).
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("HYPERBYTE_") {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hyperbyted");
        let (tx, rx) = std::sync::mpsc::channel::<u16>();
        let announced = self.announced.clone();
        if let Ok(mut a) = announced.lock() {
            a.clear();
        }
        if let Some(out) = child.stdout.take() {
            // Reads the announced address, then keeps draining stdout so the server never
            // blocks on a full pipe.
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in std::io::BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if line.starts_with("hyperbyted ") {
                        if let Ok(mut a) = announced.lock() {
                            a.push(line.clone());
                        }
                    }
                    if let Some(rest) = line.split("hyperbyted listening on http://").nth(1) {
                        let announced = rest.trim().rsplit(':').next().and_then(|p| p.parse().ok());
                        if let (Some(t), Some(p)) = (tx.take(), announced) {
                            let _ = t.send(p);
                        }
                    }
                }
            });
        }
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        let port = loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(p) => break p,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            self.panic_if_exited();
            assert!(
                Instant::now() < deadline,
                "hyperbyted did not announce its address"
            );
        };
        self.port = port;
        self.url = format!("http://127.0.0.1:{port}");
        loop {
            if let Ok(r) = ureq::get(&format!("{}/ping", self.url)).call() {
                if r.status() == 204 {
                    return;
                }
            }
            self.panic_if_exited();
            assert!(Instant::now() < deadline, "hyperbyted did not answer /ping");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn panic_if_exited(&mut self) {
        if let Some(c) = self.child.as_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = c.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("hyperbyted exited with {status}: {err}");
            }
        }
    }

    /// Kills the process with SIGKILL (no shutdown work at all).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops with SIGTERM and waits for a clean exit; returns whether it exited with 0.
    pub fn terminate(&mut self) -> bool {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = c.try_wait() {
                    return status.success();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        false
    }

    /// Starts again on the same data directory with `env` instead of the environment it
    /// was started with.
    pub fn restart_with_env(&mut self, env: &[(&str, &str)]) {
        self.env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.restart();
    }

    /// [`Server::restart_graceful`] with `env` instead of the environment it was started
    /// with.
    pub fn restart_graceful_with_env(&mut self, env: &[(&str, &str)]) -> bool {
        self.env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.restart_graceful()
    }

    /// GETs a path; returns (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        response(ureq::get(&format!("{}{path}", self.url)).call())
    }

    /// Starts again on the same data directory.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn(&[]);
    }

    /// Stops with SIGTERM (a clean shutdown, as an operator restarts it) and starts again
    /// on the same data directory; returns whether the stop was clean.
    pub fn restart_graceful(&mut self) -> bool {
        let clean = self.terminate();
        self.spawn(&[]);
        clean
    }

    /// POSTs line protocol; returns (status, body).
    pub fn write(&self, db: &str, body: &str) -> (u16, String) {
        self.write_params(&format!("db={db}"), body)
    }

    /// POSTs line protocol with a raw query string.
    pub fn write_params(&self, query: &str, body: &str) -> (u16, String) {
        let r = ureq::post(&format!("{}/write?{query}", self.url)).send_string(body);
        response(r)
    }

    /// Runs InfluxQL (POST form); returns (status, parsed JSON).
    pub fn query(&self, db: &str, q: &str) -> (u16, serde_json::Value) {
        let r = ureq::post(&format!("{}/query", self.url)).send_form(&[("db", db), ("q", q)]);
        let (status, body) = response(r);
        let v = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
        (status, v)
    }
}

fn response(r: Result<ureq::Response, ureq::Error>) -> (u16, String) {
    match r {
        Ok(resp) => (resp.status(), resp.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, resp)) => (code, resp.into_string().unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}
