//! Real InfluxDB clients for the end-to-end client tests (`tests/tests/real_clients.rs`):
//! installed from the package registries by their own package managers into the project's
//! cache, pinned, and reused while the pin (and the Python interpreter, whose ABI compiled
//! wheels depend on) stays the same.
//!
//! - Python `influxdb` with pandas (for `DataFrameClient`): `pip install --target`.
//! - JavaScript `influx` (node-influx): `npm install --prefix`.
//! - The `influx` CLI 1.x and the reference `influxd`: Debian packages, installed with
//!   apt-get only when missing (the reference through the shared conformance folder's
//!   `reference-influxd.sh install`).
//! - `collectd` (for `tests/tests/listeners.rs`): Debian's `collectd-core`, the daemon,
//!   its plugins and `types.db` without the `collectd` package's system service, installed
//!   with apt-get only when missing.
//! - Prometheus (Debian's `prometheus`, for `tests/tests/prometheus.rs`: remote write
//!   and read against hyperbyted), installed with apt-get only when missing.
//!
//! The test finds them through the `E2E_CLIENT_*` variables [`Clients::apply`]
//! (not `HYPERBYTE_*`: hyperbyted reads those as configuration and refuses unknown keys)
//! sets; without them it fails and says to run `cargo xtask test`. `cargo xtask clients`
//! installs them and prints those variables, to run the test by hand.

use crate::provision::cache_root;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Pinned Python packages. pandas 2.2 is the newest line whose datetime index the client
/// (written for pandas 1.x) still converts right; pandas 3 indexes in microseconds.
const PYTHON_PACKAGES: &[&str] = &["influxdb==5.3.2", "pandas==2.2.3"];
/// Pinned npm package (node-influx, the InfluxDB 1.x client for JavaScript).
const NODE_PACKAGE: &str = "influx@5.12.0";

/// Where the installed clients are.
#[derive(Debug, Clone)]
pub(crate) struct Clients {
    python: PathBuf,
    python_path: PathBuf,
    node_path: PathBuf,
    influx: PathBuf,
    collectd: PathBuf,
    prometheus: PathBuf,
}

impl Clients {
    /// Passes the locations to a test run.
    pub(crate) fn apply(&self, cmd: &mut Command) {
        cmd.env("E2E_CLIENT_PYTHON", &self.python)
            .env("E2E_CLIENT_PYTHONPATH", &self.python_path)
            .env("E2E_CLIENT_NODE_PATH", &self.node_path)
            .env("E2E_CLIENT_INFLUX", &self.influx)
            .env("E2E_CLIENT_COLLECTD", &self.collectd)
            .env("E2E_CLIENT_PROMETHEUS", &self.prometheus);
    }
}

/// `cargo xtask clients`: installs the clients and prints the variables to export for
/// running `tests/tests/real_clients.rs` by hand.
pub(crate) fn print_env(root: &Path) -> Result<()> {
    let c = provision(root)?;
    println!("export E2E_CLIENT_PYTHON={}", c.python.display());
    println!("export E2E_CLIENT_PYTHONPATH={}", c.python_path.display());
    println!("export E2E_CLIENT_NODE_PATH={}", c.node_path.display());
    println!("export E2E_CLIENT_INFLUX={}", c.influx.display());
    println!("export E2E_CLIENT_COLLECTD={}", c.collectd.display());
    println!("export E2E_CLIENT_PROMETHEUS={}", c.prometheus.display());
    Ok(())
}

/// Installs whatever is missing and returns the locations.
pub(crate) fn provision(root: &Path) -> Result<Clients> {
    println!("==> provision real clients (for tests/tests/real_clients.rs)");
    let base = cache_root().join("clients");
    std::fs::create_dir_all(&base)?;
    let influx = ensure_influx_cli()?;
    let collectd = ensure_collectd()?;
    let prometheus = ensure_prometheus()?;
    ensure_reference_server(root)?;
    let (python, python_path) = ensure_python(&base)?;
    let node_path = ensure_node(&base)?;
    Ok(Clients {
        python,
        python_path,
        node_path,
        influx,
        collectd,
        prometheus,
    })
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn apt_install(package: &str) -> Result<()> {
    println!("    {package}: missing, installing it with apt-get");
    let ok = |s: std::io::Result<std::process::ExitStatus>| matches!(s, Ok(s) if s.success());
    if !ok(Command::new("apt-get").args(["update", "-qq"]).status()) {
        bail!("`apt-get update` failed; install {package} (Debian) by hand and retry");
    }
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    if !ok(status) {
        bail!("installing {package} failed; install it by hand (needs root) and retry");
    }
    Ok(())
}

fn ensure_influx_cli() -> Result<PathBuf> {
    if which("influx").is_none() {
        apt_install("influxdb-client")?;
    }
    let influx = which("influx").context("`influx` not on PATH after installing it")?;
    println!("    influx CLI: {}", influx.display());
    Ok(influx)
}

/// The collectd daemon (`/usr/sbin` is often not on a user's PATH).
fn ensure_collectd() -> Result<PathBuf> {
    let find = || {
        which("collectd").or_else(|| {
            let p = PathBuf::from("/usr/sbin/collectd");
            p.is_file().then_some(p)
        })
    };
    if find().is_none() || !Path::new("/usr/share/collectd/types.db").is_file() {
        apt_install("collectd-core")?;
    }
    let collectd = find().context("`collectd` not found after installing collectd-core")?;
    println!("    collectd: {}", collectd.display());
    Ok(collectd)
}

/// The Prometheus server of the remote write/read test (Debian's package; its service is
/// not used: the test starts its own instances on loopback ports).
fn ensure_prometheus() -> Result<PathBuf> {
    if which("prometheus").is_none() {
        apt_install("prometheus")?;
    }
    let prometheus = which("prometheus").context("`prometheus` not on PATH after installing it")?;
    println!("    prometheus: {}", prometheus.display());
    Ok(prometheus)
}

/// The reference InfluxDB, installed once here rather than by tests running in parallel.
fn ensure_reference_server(root: &Path) -> Result<()> {
    let script = root.join("../shared/conformance/reference-influxd.sh");
    if !script.exists() {
        bail!(
            "{} not found: the real-client tests compare against the reference InfluxDB it starts",
            script.display()
        );
    }
    let status = Command::new("bash")
        .arg(&script)
        .arg("install")
        .status()
        .context("running reference-influxd.sh install")?;
    if !status.success() {
        bail!("reference-influxd.sh install failed");
    }
    println!("    reference influxd: ready (reference-influxd.sh install)");
    Ok(())
}

/// Runs `cmd` and returns its trimmed standard output.
fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Installs into `dir` unless its stamp says `want` is installed there: into a fresh
/// sibling first, renamed into place once complete (an interrupted install leaves no
/// half-filled directory behind a stale stamp).
fn install_once(
    dir: &Path,
    want: &str,
    what: &str,
    install: impl Fn(&Path) -> Result<()>,
) -> Result<()> {
    let stamp = dir.join(".hyperbyte-installed");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want) {
        println!("    {what}: cached at {}", dir.display());
        return Ok(());
    }
    println!("    {what}: installing into {}", dir.display());
    let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    if let Err(e) = install(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    std::fs::write(tmp.join(".hyperbyte-installed"), want)?;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&tmp, dir).with_context(|| format!("moving {} into place", tmp.display()))?;
    Ok(())
}

fn ensure_python(base: &Path) -> Result<(PathBuf, PathBuf)> {
    let exe = output(Command::new("python3").args(["-c", "import sys; print(sys.executable)"]))
        .context("Python 3 is needed for the real-client tests")?;
    let version = output(Command::new(&exe).arg("--version"))?;
    let dir = base.join("python");
    let want = format!("{} for {version} ({exe})\n", PYTHON_PACKAGES.join(" "));
    install_once(&dir, &want, "Python influxdb client", |tmp| {
        let status = Command::new(&exe)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-warn-script-location",
                "--no-warn-conflicts",
                "--target",
            ])
            .arg(tmp)
            .args(PYTHON_PACKAGES)
            .status()
            .context("running pip")?;
        if !status.success() {
            bail!("pip install {} failed", PYTHON_PACKAGES.join(" "));
        }
        Ok(())
    })?;
    Ok((PathBuf::from(exe), dir))
}

fn ensure_node(base: &Path) -> Result<PathBuf> {
    let node = output(Command::new("node").arg("--version"))
        .context("Node.js is needed for the real-client tests")?;
    let dir = base.join("node");
    let want = format!("{NODE_PACKAGE} for node {node}\n");
    install_once(&dir, &want, "JavaScript influx client", |tmp| {
        let status = Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(tmp)
            .arg(NODE_PACKAGE)
            .status()
            .context("running npm")?;
        if !status.success() {
            bail!("npm install {NODE_PACKAGE} failed");
        }
        Ok(())
    })?;
    Ok(dir.join("node_modules"))
}
