//! Real clients, unmodified, against hyperbyted and the reference InfluxDB 1.6: each
//! scenario in `tests/clients/` drives one client and prints a JSON transcript of what the
//! client got back; the test runs it against a fresh hyperbyted and a fresh reference
//! `influxd` (`../shared/conformance/reference-influxd.sh`, next to the checkout) at the
//! same time and requires the two transcripts to be equal.
//!
//! The clients are installed by `cargo xtask test` (see `xtask/src/clients.rs`), which
//! passes their locations in `E2E_CLIENT_*`; without them every test here fails
//! and says so rather than passing without having run. What the scenarios normalise, and
//! the differences a user may still notice, are in `docs/clients.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hyperbyte_e2e::Server;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Steps whose answers still differ from InfluxDB's, with why (see docs/clients.md). They
/// run against both servers and must exist in both transcripts, but are not compared.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[(
    "python_influxdb",
    "get_list_privileges",
    "hyperbyted accepts GRANT and REVOKE but keeps no privileges (no authorisation), so \
         SHOW GRANTS lists none",
)];

/// The workspace root (the e2e crate lives in `<root>/tests`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A client location `cargo xtask test` passes in the environment.
fn client_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{name} is not set: the real clients are installed and located by `cargo xtask test` \
             (xtask/src/clients.rs); run `cargo xtask test`, or export what \
             `cargo xtask clients` prints to run this test by hand"
        ),
    }
}

/// A running reference InfluxDB, stopped (and its data removed) on drop.
struct Reference {
    script: PathBuf,
    port: u16,
    url: String,
}

impl Reference {
    fn start() -> Reference {
        let script = std::env::var_os("E2E_REFERENCE_INFLUXD")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("../shared/conformance/reference-influxd.sh"));
        assert!(
            script.exists(),
            "{} missing: the reference InfluxDB is started by the shared conformance folder's \
             script, expected next to the checkout (run `cargo xtask test`)",
            script.display()
        );
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port_pair();
            let out = Command::new("bash")
                .arg(&script)
                .arg("start")
                .arg(port.to_string())
                .output()
                .expect("run reference-influxd.sh");
            if out.status.success() {
                return Reference {
                    script,
                    port,
                    url: format!("http://127.0.0.1:{port}"),
                };
            }
            last = String::from_utf8_lossy(&out.stderr).to_string();
            stop_reference(&script, port);
        }
        panic!("the reference influxd did not start: {last}");
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        stop_reference(&self.script, self.port);
    }
}

fn stop_reference(script: &Path, port: u16) {
    let _ = Command::new("bash")
        .arg(script)
        .arg("stop")
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A port that is free with the one two above it (the reference's RPC service).
fn free_port_pair() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        if port < 65000 && TcpListener::bind(("127.0.0.1", port + 2)).is_ok() {
            return port;
        }
    }
}

/// How to run one scenario against a base URL.
struct Scenario {
    name: &'static str,
    program: String,
    /// Arguments before the base URL.
    before: Vec<String>,
    /// Arguments after it.
    after: Vec<String>,
    env: Vec<(&'static str, String)>,
}

impl Scenario {
    fn python(name: &'static str, script: &str) -> Scenario {
        Scenario {
            name,
            program: client_env("E2E_CLIENT_PYTHON"),
            before: vec![clients_dir().join(script).display().to_string()],
            after: Vec::new(),
            env: vec![("PYTHONPATH", client_env("E2E_CLIENT_PYTHONPATH"))],
        }
    }

    fn spawn(&self, url: &str) -> std::process::Child {
        Command::new(&self.program)
            .args(&self.before)
            .arg(url)
            .args(&self.after)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: cannot start {}: {e}", self.name, self.program))
    }

    /// Runs against both servers at once; returns (hyperbyted's, InfluxDB's) transcripts.
    fn run_both(&self) -> (serde_json::Value, serde_json::Value) {
        let server = Server::start();
        let reference = Reference::start();
        let ours = self.spawn(&server.url);
        let theirs = self.spawn(&reference.url);
        let ours = self.transcript("hyperbyted", ours.wait_with_output().expect("wait"));
        let theirs = self.transcript("influxd", theirs.wait_with_output().expect("wait"));
        (ours, theirs)
    }

    fn transcript(&self, against: &str, out: Output) -> serde_json::Value {
        assert!(
            out.status.success(),
            "{} against {against} failed ({}):\n{}",
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{} against {against}: no JSON transcript ({e}):\n{}",
                self.name,
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Runs the scenario against both servers and requires equal transcripts.
    fn check(&self) {
        let (mut ours, mut theirs) = self.run_both();
        set_aside_known(self.name, &mut ours, &mut theirs);
        if ours != theirs {
            panic!("{}", difference(self.name, &ours, &theirs));
        }
    }
}

fn clients_dir() -> PathBuf {
    root().join("tests/clients")
}

/// The step (or request) name of a transcript entry.
fn entry_name(e: &serde_json::Value) -> &str {
    e.get("step")
        .or_else(|| e.get("request"))
        .and_then(|v| v.as_str())
        .unwrap_or("")
}

/// Removes the known differences of `scenario` from both transcripts (each must be there).
fn set_aside_known(scenario: &str, ours: &mut serde_json::Value, theirs: &mut serde_json::Value) {
    for (s, step, why) in KNOWN_DIFFERENCES {
        if *s != scenario {
            continue;
        }
        let take = |t: &mut serde_json::Value| {
            let list = t.as_array_mut().expect("a transcript is a list");
            let at = list
                .iter()
                .position(|e| entry_name(e) == *step)
                .unwrap_or_else(|| panic!("{scenario}: known difference {step:?} not run"));
            list.remove(at)
        };
        let (a, b) = (take(ours), take(theirs));
        if a == b {
            eprintln!(
                "{scenario}: {step:?} now matches InfluxDB; remove it from KNOWN_DIFFERENCES \
                 and docs/clients.md ({why})"
            );
        }
    }
}

/// The first entries that differ, both ways, as pretty JSON.
fn difference(scenario: &str, ours: &serde_json::Value, theirs: &serde_json::Value) -> String {
    let empty = Vec::new();
    let a = ours.as_array().unwrap_or(&empty);
    let b = theirs.as_array().unwrap_or(&empty);
    let mut out = format!("{scenario}: hyperbyted's answers differ from InfluxDB's\n");
    let mut shown = 0;
    for i in 0..a.len().max(b.len()) {
        if a.get(i) == b.get(i) {
            continue;
        }
        let pretty = |v: Option<&serde_json::Value>| {
            v.map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
                .unwrap_or_else(|| "<missing>".into())
        };
        out.push_str(&format!(
            "--- entry {i}, hyperbyted:\n{}\n--- entry {i}, InfluxDB:\n{}\n",
            pretty(a.get(i)),
            pretty(b.get(i))
        ));
        shown += 1;
        if shown == 3 {
            out.push_str("(further differences not shown)\n");
            break;
        }
    }
    out
}

/// The `influx` CLI 1.x: `-execute` in every format, precisions, `-import`, and an
/// interactive session through a pseudo-terminal.
#[test]
fn influx_cli_matches_influxdb() {
    let mut s = Scenario::python("influx_cli", "influx_cli.py");
    s.after.push(client_env("E2E_CLIENT_INFLUX"));
    s.check();
}

/// Python `influxdb` 5.3.2 with pandas: `InfluxDBClient` (which reads MessagePack) and
/// `DataFrameClient`.
#[test]
fn python_influxdb_matches_influxdb() {
    Scenario::python("python_influxdb", "python_influxdb.py").check();
}

/// JavaScript `influx` (node-influx 5): writes, queries, schema calls.
#[test]
fn node_influx_matches_influxdb() {
    Scenario {
        name: "node_influx",
        program: "node".into(),
        before: vec![clients_dir().join("node_influx.js").display().to_string()],
        after: Vec::new(),
        env: vec![("NODE_PATH", client_env("E2E_CLIENT_NODE_PATH"))],
    }
    .check();
}

/// Telegraf's and Grafana's requests, replayed from recorded fixtures (the programs are
/// not installable here): gzip batches, CREATE DATABASE, dashboard and variable queries.
#[test]
fn telegraf_and_grafana_requests_match_influxdb() {
    let mut s = Scenario::python("http_fixtures", "http_fixtures.py");
    for f in ["telegraf.json", "grafana.json"] {
        s.after
            .push(clients_dir().join("fixtures").join(f).display().to_string());
    }
    s.check();
}
