//! Faults an operator meets: a full disk. Every acknowledged point survives, clients get
//! a clear 5xx (so they retry, never drop), and the server recovers on its own.
//!
//! The data directory lives on a small tmpfs the test mounts (root in the sandbox and in
//! CI); the disk is filled with a ballast file, then freed.

use hyperbyte_e2e::Server;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmpfs mounted for the test's lifetime.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size_mib: u32) -> SmallDisk {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("running mount");
        assert!(
            status.success(),
            "mounting a {size_mib} MiB tmpfs failed: the disk-full test needs root (it runs as root under `cargo xtask test`)"
        );
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the filesystem with a ballast file until it refuses a write.
fn fill(path: &Path) -> PathBuf {
    use std::io::Write;
    let ballast = path.join("ballast");
    let mut f = std::fs::File::create(&ballast).expect("ballast");
    let chunk = vec![7u8; 1 << 20];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
    ballast
}

fn batch(i: usize) -> String {
    (0..500)
        .map(|j| {
            let n = i * 500 + j;
            format!(
                "m,host=h{} v={n}i,pad=\"{}\" {}\n",
                n % 20,
                "p".repeat(100),
                1_600_000_000_000_000_000u64 + n as u64 * 1_000_000_000
            )
        })
        .collect()
}

fn post(url: &str, body: &str) -> (u16, String, Option<String>) {
    match ureq::post(&format!("{url}/write?db=db")).send_string(body) {
        Ok(r) => (r.status(), String::new(), None),
        Err(ureq::Error::Status(s, r)) => {
            let retry = r.header("Retry-After").map(str::to_string);
            (s, r.into_string().unwrap_or_default(), retry)
        }
        Err(e) => panic!("transport error: {e}"),
    }
}

fn count(server: &Server) -> i64 {
    let (status, v) = server.query("db", "SELECT count(v) FROM m");
    assert_eq!(status, 200, "{v}");
    assert!(
        v["results"][0]["error"].is_null(),
        "query while or after full: {v}"
    );
    v["results"][0]["series"][0]["values"][0][1]
        .as_i64()
        .unwrap_or(0)
}

#[test]
fn a_full_disk_refuses_writes_with_507_keeps_every_acknowledged_point_and_recovers() {
    let disk = SmallDisk::mount(160);
    let mut server = Server::start_in(
        disk.path().join("data"),
        &[("HYPERBYTE_FLUSH__INTERVAL_SECS", "1")],
    );
    let (status, v) = server.query("", "CREATE DATABASE db");
    assert_eq!(status, 200, "{v}");

    let mut acked = 0i64;
    let mut i = 0;
    for _ in 0..20 {
        let (s, body, _) = post(&server.url, &batch(i));
        assert_eq!(s, 204, "{body}");
        acked += 500;
        i += 1;
    }
    // Stored before the disk fills (a query flushes what was acknowledged).
    assert_eq!(count(&server), acked);
    let before_full = acked;
    let ballast = fill(disk.path());

    // Writes until the WAL meets the full disk: the refusal is a 507 naming the cause,
    // with Retry-After, never a 4xx and never a hang.
    let refusal = loop {
        assert!(i < 2_000, "the WAL never reported the full disk");
        let (s, body, retry) = post(&server.url, &batch(i));
        i += 1;
        match s {
            204 => acked += 500,
            _ => break (s, body, retry),
        }
    };
    assert_eq!(refusal.0, 507, "{}", refusal.1);
    assert!(refusal.1.contains("disk"), "{}", refusal.1);
    assert!(refusal.1.contains("full"), "{}", refusal.1);
    assert_eq!(refusal.2.as_deref(), Some("1"));
    // Queries keep answering from what storage holds meanwhile.
    let stored = count(&server);
    assert!(
        (before_full..=acked).contains(&stored),
        "{stored} of {acked}"
    );

    // Space comes back: writes resume on their own, without a restart.
    std::fs::remove_file(&ballast).expect("remove ballast");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (s, body, _) = post(&server.url, &batch(i));
        i += 1;
        if s == 204 {
            acked += 500;
            break;
        }
        assert!(
            Instant::now() < deadline,
            "writes did not resume after space was freed: {s} {body}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Every acknowledged point is there, before and after a restart.
    assert_eq!(count(&server), acked);
    server.restart();
    assert_eq!(count(&server), acked);
}
