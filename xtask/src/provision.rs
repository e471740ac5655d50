//! Provisioning: what a fresh machine needs before the workspace builds.
//!
//! - libclang (the `rocksdb` and `chdb-rust` crates run bindgen): installed with apt-get
//!   when missing.
//! - The chDB engine: `libchdb.so` from the npm package `@chdb/lib-linux-x64-gnu` at a
//!   pinned version, checked against pinned sha256 sums, kept in a per-user cache outside
//!   the clone (so `cargo clean` and fresh clones reuse it), next to the project's own
//!   `chdb.h` (`crates/adapter-chdb/include/chdb.h`).
//!
//! Idempotent: a second run only re-checks a stamp file and prints what it reuses.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Pinned engine version (npm package version).
pub(crate) const CHDB_VERSION: &str = "26.7.3-stable.1";
/// sha256 of the npm tarball.
const TGZ_SHA256: &str = "c0d32b129e988f2b9a9a31c9141aecf5e1e2453f9a079efc4d36ab8e3f92b2ad";
/// sha256 of `libchdb.so` inside it.
const LIB_SHA256: &str = "36ad4e999882821ef13cf2d0f52c93f48e6ee1b4498b35a201c23ce4b8d15bf5";

/// Environment that cargo invocations need after provisioning.
#[derive(Debug, Clone)]
pub(crate) struct Env {
    /// Directory holding `libchdb.so`.
    pub(crate) chdb_lib_dir: PathBuf,
    /// Directory holding `chdb.h`.
    pub(crate) chdb_include_dir: PathBuf,
    /// Cargo target directory to use.
    pub(crate) target_dir: PathBuf,
}

impl Env {
    /// Sets the variables on a command.
    pub(crate) fn apply(&self, cmd: &mut Command) {
        cmd.env("CHDB_LIB_DIR", &self.chdb_lib_dir)
            .env("CHDB_INCLUDE_DIR", &self.chdb_include_dir)
            .env("CARGO_TARGET_DIR", &self.target_dir);
    }
}

/// The per-user cache directory of the project.
pub(crate) fn cache_root() -> PathBuf {
    if let Ok(dir) = std::env::var("HYPERBYTE_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| std::env::temp_dir().join("cache"));
    base.join("hyperbyte")
}

/// Provisions everything and returns the build environment.
pub(crate) fn provision(root: &Path) -> Result<Env> {
    println!("==> provision");
    ensure_libclang()?;
    let (lib_dir, include_dir) = ensure_chdb(root)?;
    let target_dir = target_dir(root);
    println!("    cargo target directory: {}", target_dir.display());
    Ok(Env {
        chdb_lib_dir: lib_dir,
        chdb_include_dir: include_dir,
        target_dir,
    })
}

/// `CARGO_TARGET_DIR` if set; in CI a cache outside the clone (so a fresh clone reuses the
/// compiled dependencies, RocksDB above all); otherwise `./target`.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    if std::env::var_os("CI").is_some() {
        return cache_root().join("target");
    }
    root.join("target")
}

fn libclang_present() -> bool {
    let dirs = ["/usr/lib", "/usr/lib/x86_64-linux-gnu", "/usr/local/lib"];
    let mut candidates: Vec<PathBuf> = dirs.iter().map(PathBuf::from).collect();
    if let Ok(rd) = std::fs::read_dir("/usr/lib") {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with("llvm-") {
                candidates.push(e.path().join("lib"));
            }
        }
    }
    if let Some(p) = std::env::var_os("LIBCLANG_PATH") {
        candidates.push(PathBuf::from(p));
    }
    candidates.iter().any(|d| {
        std::fs::read_dir(d)
            .map(|rd| {
                rd.flatten().any(|e| {
                    let n = e.file_name().to_string_lossy().to_string();
                    n.starts_with("libclang") && n.contains(".so") && !n.contains("cpp")
                })
            })
            .unwrap_or(false)
    })
}

fn ensure_libclang() -> Result<()> {
    if libclang_present() {
        println!("    libclang: present");
        return Ok(());
    }
    println!("    libclang: missing, installing libclang-dev with apt-get");
    let status = Command::new("apt-get").args(["update", "-qq"]).status();
    if !matches!(status, Ok(s) if s.success()) {
        bail!("`apt-get update` failed; install libclang-dev (Debian) by hand and retry");
    }
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", "libclang-dev"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    if !matches!(status, Ok(s) if s.success()) || !libclang_present() {
        bail!("installing libclang-dev failed; install it by hand (needs root) and retry");
    }
    println!("    libclang: installed");
    Ok(())
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>())
}

/// A cheap fingerprint (size and mtime) recorded once the library hashed correctly.
fn stamp_of(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    let mtime = m
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{} {} {}", LIB_SHA256, m.len(), mtime.as_nanos()))
}

fn ensure_chdb(root: &Path) -> Result<(PathBuf, PathBuf)> {
    let header_src = root.join("crates/adapter-chdb/include/chdb.h");
    let (lib_dir, include_dir) = if let Ok(lib) = std::env::var("CHDB_LIB") {
        let lib = PathBuf::from(lib);
        let dir = lib
            .parent()
            .context("CHDB_LIB has no parent directory")?
            .to_path_buf();
        println!("    chDB engine: using CHDB_LIB={}", lib.display());
        (
            dir,
            header_src
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        )
    } else {
        let base = cache_root().join("chdb").join(CHDB_VERSION);
        let lib_dir = base.join("lib");
        let include_dir = base.join("include");
        std::fs::create_dir_all(&lib_dir)?;
        std::fs::create_dir_all(&include_dir)?;
        let lib = lib_dir.join("libchdb.so");
        let stamp = lib_dir.join("libchdb.so.verified");
        let verified = lib.exists() && std::fs::read_to_string(&stamp).ok() == stamp_of(&lib)
            || (lib.exists() && verify_lib(&lib, &stamp)?);
        if verified {
            println!("    chDB engine: cached at {}", lib.display());
        } else {
            fetch_chdb(&lib_dir)?;
            if !verify_lib(&lib, &stamp)? {
                bail!(
                    "libchdb.so in {} does not match the pinned sha256",
                    lib_dir.display()
                );
            }
        }
        // The project's header always wins (it may change with the code).
        std::fs::copy(&header_src, include_dir.join("chdb.h"))
            .with_context(|| format!("copying {}", header_src.display()))?;
        (lib_dir, include_dir)
    };
    link_dot_chdb(root, &lib_dir, &include_dir)?;
    Ok((lib_dir, include_dir))
}

fn verify_lib(lib: &Path, stamp: &Path) -> Result<bool> {
    println!("    chDB engine: verifying sha256 of {}", lib.display());
    let ok = sha256_file(lib)? == LIB_SHA256;
    if ok {
        if let Some(s) = stamp_of(lib) {
            std::fs::write(stamp, s)?;
        }
    }
    Ok(ok)
}

fn fetch_chdb(lib_dir: &Path) -> Result<()> {
    let pkg = format!("@chdb/lib-linux-x64-gnu@{CHDB_VERSION}");
    println!("    chDB engine: fetching {pkg} with npm pack (about 180 MB, once)");
    let tmp = lib_dir.join(format!(".fetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let status = Command::new("npm")
        .args(["pack", &pkg, "--pack-destination"])
        .arg(&tmp)
        .current_dir(&tmp)
        .status()
        .context("running npm (Node.js' package manager is needed to fetch the chDB engine)")?;
    if !status.success() {
        bail!("npm pack {pkg} failed");
    }
    let tgz = tmp.join(format!("chdb-lib-linux-x64-gnu-{CHDB_VERSION}.tgz"));
    let got = sha256_file(&tgz)?;
    if got != TGZ_SHA256 {
        bail!("{} has sha256 {got}, expected {TGZ_SHA256}", tgz.display());
    }
    println!("    chDB engine: unpacking libchdb.so");
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&tgz)
        .arg("-C")
        .arg(&tmp)
        .arg("package/libchdb.so")
        .status()
        .context("running tar")?;
    if !status.success() {
        bail!("unpacking {} failed", tgz.display());
    }
    std::fs::rename(tmp.join("package/libchdb.so"), lib_dir.join("libchdb.so"))?;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

/// Points `<root>/.chdb` at the engine so `.cargo/config.toml`'s relative
/// `CHDB_LIB_DIR`/`CHDB_INCLUDE_DIR` work for plain cargo commands too.
fn link_dot_chdb(root: &Path, lib_dir: &Path, include_dir: &Path) -> Result<()> {
    let dot = root.join(".chdb");
    let want_lib = dot.join("lib");
    if std::fs::canonicalize(&want_lib).ok() == std::fs::canonicalize(lib_dir).ok()
        && std::fs::canonicalize(dot.join("include")).ok()
            == std::fs::canonicalize(include_dir).ok()
    {
        return Ok(());
    }
    if dot.is_symlink() || dot.is_file() {
        std::fs::remove_file(&dot)?;
    } else if dot.exists() {
        std::fs::remove_dir_all(&dot)?;
    }
    std::fs::create_dir_all(&dot)?;
    std::os::unix::fs::symlink(lib_dir, &want_lib)?;
    std::os::unix::fs::symlink(include_dir, dot.join("include"))?;
    Ok(())
}
