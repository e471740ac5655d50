//! The reference InfluxDB 1.6 of the side-by-side benchmarks, started and stopped with
//! `/work/shared/conformance/reference-influxd.sh` (override: `HB_BENCH_REFERENCE_SCRIPT`).
//!
//! The script's `start` wipes its data directory, so a restart on the same data (the
//! benchmark's "after restart" phase) is done here: SIGTERM to the PID in the script's
//! pid file, then `influxd run` again with the script's own config file, the new PID
//! written back so that the script's `stop` still finds it.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DEFAULT_SCRIPT: &str = "/work/shared/conformance/reference-influxd.sh";

/// A running reference influxd; stopped (data directory removed) when dropped.
#[derive(Debug)]
pub(crate) struct Reference {
    script: PathBuf,
    /// HTTP port (the RPC service binds PORT+2).
    pub(crate) port: u16,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(self.port.to_string())
            .output();
    }
}

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
        .unwrap_or(false)
}

/// Starts a fresh reference on `port` (`Err`: why not, e.g. influxd missing).
pub(crate) fn start_reference(port: u16, log_tag: &str) -> Result<Reference, String> {
    if std::env::var("HB_BENCH_NO_REFERENCE").is_ok_and(|v| v == "1") {
        return Err("HB_BENCH_NO_REFERENCE=1".into());
    }
    if !on_path("influxd") {
        return Err("influxd is not installed (reference-influxd.sh install)".into());
    }
    let script = std::env::var_os("HB_BENCH_REFERENCE_SCRIPT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SCRIPT));
    if !script.is_file() {
        return Err(format!("{} is missing", script.display()));
    }
    // A leftover instance on this port from an aborted run of ours would hold stale data.
    let _ = Command::new("bash")
        .arg(&script)
        .arg("stop")
        .arg(port.to_string())
        .output();
    let out = Command::new("bash")
        .arg(&script)
        .arg("start")
        .arg(port.to_string())
        .output()
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    let guard = Reference {
        script,
        port,
        url: format!("http://127.0.0.1:{port}"),
    };
    if !out.status.success() {
        return Err(format!(
            "reference-influxd.sh start failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let version = String::from_utf8_lossy(&out.stderr).trim().to_string();
    println!("{log_tag}: reference: {version}");
    Ok(guard)
}

impl Reference {
    /// The script's directory for this port (`/tmp/influxref-PORT`).
    pub(crate) fn dir(&self) -> PathBuf {
        PathBuf::from(format!("/tmp/influxref-{}", self.port))
    }

    /// PID of the running influxd, from the script's pid file.
    pub(crate) fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir().join("pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Stops influxd with SIGTERM (waiting up to 60 s for it to exit) and starts it again
    /// on the same data; returns once `/ping` answers 204.
    pub(crate) fn restart(&self) -> Result<(), String> {
        let pid = self.pid().ok_or("no pid file")?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::path::Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let dir = self.dir();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("influxd.log"))
            .map_err(|e| format!("influxd.log: {e}"))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("influxd")
            .arg("run")
            .arg("-config")
            .arg(dir.join("influxd.conf"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("spawning influxd: {e}"))?;
        std::fs::write(dir.join("pid"), format!("{}\n", child.id()))
            .map_err(|e| format!("pid file: {e}"))?;
        wait_for_ping(&self.url, Duration::from_secs(120))
    }
}

/// Polls `GET /ping` until it answers 204.
pub(crate) fn wait_for_ping(url: &str, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let agent = super::agent();
    while Instant::now() < deadline {
        if let Ok(r) = agent.get(&format!("{url}/ping")).call() {
            if r.status() == 204 {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("{url}/ping did not answer in {timeout:?}"))
}
