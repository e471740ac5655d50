//! Start-up checks: a data directory in use by another server, foreign, written by a newer
//! release, or damaged makes `hyperbyted` refuse to start with one clear message, and
//! leaves every byte of the directory as it was.

use hyperbyte_e2e::{binary, Server};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary on `data_dir` expecting it to refuse to start; returns its stderr.
fn refused_start(data_dir: &Path) -> String {
    let mut cmd = Command::new(binary());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("HYPERBYTE_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hyperbyted");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "hyperbyted started on {} instead of refusing",
                data_dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    assert!(!status.success(), "exit status {status}: {err}");
    err
}

/// Every data file under `dir` with its bytes: all but the lock file (a refused start
/// may take the lock before the stores refuse) and RocksDB's diagnostic `LOG` files (its
/// open rotates them before reading anything).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if name != "hyperbyted.lock" && !name.starts_with("LOG") {
                out.insert(p.clone(), std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

#[test]
fn a_directory_in_use_by_another_server_is_refused() {
    let server = Server::start();
    let (status, v) = server.query("", "CREATE DATABASE db");
    assert_eq!(status, 200, "{v}");
    let err = refused_start(&server.data_dir);
    assert!(
        err.contains("is in use by another hyperbyted (pid"),
        "{err}"
    );
    // The first server is unharmed.
    assert_eq!(server.write("db", "m v=1 1").0, 204);
    let (_, v) = server.query("db", "SELECT v FROM m");
    assert_eq!(v["results"][0]["series"][0]["values"][0][1], 1);
}

#[test]
fn foreign_newer_and_damaged_directories_are_refused_untouched() {
    let tmp = tempfile::tempdir().expect("tempdir");

    let foreign = tmp.path().join("foreign");
    std::fs::create_dir_all(foreign.join("photos")).expect("mkdir");
    std::fs::write(foreign.join("photos/cat.jpg"), b"\xff\xd8").expect("write");
    let before = snapshot(&foreign);
    let err = refused_start(&foreign);
    assert!(
        err.contains("is not a HyperbyteDB data directory (it holds photos)"),
        "{err}"
    );
    assert_eq!(snapshot(&foreign), before);

    // A directory a real server wrote, then marked as a newer release's.
    let mut server = Server::start();
    assert_eq!(server.query("", "CREATE DATABASE db").0, 200);
    assert_eq!(server.write("db", "m v=1 1").0, 204);
    assert!(server.terminate());
    let dir = server.data_dir.clone();
    let marker = dir.join("HYPERBYTE_FORMAT");
    let original = std::fs::read_to_string(&marker).expect("marker written at first start");
    std::fs::write(&marker, "format = 99\n").expect("write marker");
    let before = snapshot(&dir);
    let err = refused_start(&dir);
    assert!(
        err.contains("written by a newer hyperbyted (data format 99"),
        "{err}"
    );
    assert_eq!(snapshot(&dir), before);
    std::fs::write(&marker, original).expect("restore marker");

    // Damaged metadata: refused with the store named, nothing rewritten.
    let current = dir.join("meta/CURRENT");
    std::fs::write(&current, b"garbage\n").expect("damage CURRENT");
    let before = snapshot(&dir);
    let err = refused_start(&dir);
    assert!(err.contains("opening metadata at"), "{err}");
    let after = snapshot(&dir);
    let changed: Vec<_> = after
        .iter()
        .filter(|(p, b)| before.get(*p) != Some(b))
        .map(|(p, _)| p.clone())
        .chain(before.keys().filter(|p| !after.contains_key(*p)).cloned())
        .collect();
    assert!(changed.is_empty(), "changed: {changed:?}");
}
