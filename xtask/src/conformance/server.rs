//! A fresh `hyperbyted` for one replay: a free loopback port, an empty data directory in
//! the temporary directory, killed when dropped. The directory (with `server.log`) is
//! removed only when asked, so a failing replay leaves the server's log to read.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A running `hyperbyted` started by the runner.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    dir: PathBuf,
    pub(crate) url: String,
}

impl Server {
    /// Starts `bin` with `env` on a free port and waits until `/ping` answers.
    pub(crate) fn start(bin: &Path, env: &[(&str, &str)]) -> Result<Server> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!(
            "hyperbyte-xtask-conformance-{}-{port}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let log = std::fs::File::create(dir.join("server.log"))?;
        let child = Command::new(bin)
            .args(["--bind", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(dir.join("data"))
            .envs(env.iter().copied())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut server = Server {
            child,
            dir,
            url: format!("http://127.0.0.1:{port}"),
        };
        if let Err(e) = wait_for_ping(&mut server.child, port, Duration::from_secs(60)) {
            return Err(e.context(format!("server log: {}", server.log().display())));
        }
        Ok(server)
    }

    pub(crate) fn log(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// Stops the server; its directory is removed unless `keep` (then its log is named).
    pub(crate) fn stop(mut self, keep: bool) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if keep {
            println!("    server log kept: {}", self.log().display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn wait_for_ping(child: &mut Child, port: u16, timeout: Duration) -> Result<()> {
    use std::io::{Read, Write};
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            bail!("hyperbyted exited with {status} before answering /ping");
        }
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /ping HTTP/1.0\r\nHost: localhost\r\n\r\n");
            let mut buf = [0u8; 32];
            if let Ok(n) = s.read(&mut buf) {
                if String::from_utf8_lossy(&buf[..n]).contains(" 204") {
                    return Ok(());
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("hyperbyted did not answer /ping on port {port} within {timeout:?}")
}
