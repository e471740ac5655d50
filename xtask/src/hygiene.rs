//! Hygiene the tooling enforces, so it does not depend on a reviewer's eye:
//!
//! - `cargo deny` (bans, licences, sources; advisories when the database is reachable):
//!   `deny.toml` keeps `rocksdb`, `chdb-rust`, `axum` and `openraft` inside their adapter
//!   crates (cargo-deny's `wrappers`), so business logic can never link an engine.
//! - the business-logic crates forbid `unsafe` code (`#![forbid(unsafe_code)]` at the top
//!   of their `lib.rs`);
//! - no Rust source file grows past [`MAX_FILE_LINES`] lines: a file a reader cannot hold
//!   is split by responsibility instead;
//! - no crate declares a dependency its sources never name (what `cargo machete` checks:
//!   a word search for the crate's identifier in the package's `.rs` files).

use crate::provision::cache_root;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The cargo-deny release `cargo xtask` installs (into the project cache) when missing.
const CARGO_DENY_VERSION: &str = "0.20.2";

/// Longest Rust source file allowed, in lines.
pub(crate) const MAX_FILE_LINES: usize = 1200;

/// Crates without I/O of their own: they may not contain `unsafe` code.
pub(crate) const PURE_CRATES: &[&str] = &[
    "domain",
    "ports",
    "lineprotocol",
    "timeseriesql",
    "application",
    "testkit",
    "catalog",
    "protocols",
];

/// Runs every hygiene check that needs no build.
pub(crate) fn check_sources(root: &Path) -> Result<()> {
    let mut problems = unsafe_allowed(root)?;
    problems.extend(long_files(root)?);
    problems.extend(unused_dependencies(root)?);
    if problems.is_empty() {
        println!(
            "hygiene: pure crates forbid unsafe code; no source file over {MAX_FILE_LINES} lines; every declared dependency is used"
        );
        return Ok(());
    }
    for p in &problems {
        eprintln!("hygiene: {p}");
    }
    bail!("{} hygiene problem(s)", problems.len())
}

/// Pure crates whose `lib.rs` does not forbid unsafe code.
fn unsafe_allowed(root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for c in PURE_CRATES {
        let lib = root.join("crates").join(c).join("src/lib.rs");
        if !lib.exists() {
            continue;
        }
        let text =
            std::fs::read_to_string(&lib).with_context(|| format!("reading {}", lib.display()))?;
        if !text.lines().any(|l| l.trim() == "#![forbid(unsafe_code)]") {
            out.push(format!(
                "{}: a business-logic crate must start with #![forbid(unsafe_code)]",
                lib.strip_prefix(root).unwrap_or(&lib).display()
            ));
        }
    }
    Ok(out)
}

/// Rust files over the length limit.
fn long_files(root: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for dir in ["crates", "tests", "xtask", "examples"] {
        collect_rs(&root.join(dir), &mut files)?;
    }
    let mut out = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            out.push(format!(
                "{}: {n} lines (limit {MAX_FILE_LINES}); split it by responsibility",
                f.strip_prefix(root).unwrap_or(&f).display()
            ));
        }
    }
    Ok(out)
}

/// Dependencies (normal, dev, build) that no `.rs` file of their package names.
fn unused_dependencies(root: &Path) -> Result<Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .with_context(|| format!("running `{cargo} metadata`"))?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: Value = serde_json::from_slice(&out.stdout).context("parsing cargo metadata")?;
    let mut problems = Vec::new();
    for p in meta["packages"].as_array().into_iter().flatten() {
        let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap_or_default());
        let Some(dir) = manifest.parent() else {
            continue;
        };
        let mut files = Vec::new();
        collect_rs(dir, &mut files)?;
        let mut sources = String::new();
        for f in &files {
            sources.push_str(&std::fs::read_to_string(f).unwrap_or_default());
            sources.push('\n');
        }
        for d in p["dependencies"].as_array().into_iter().flatten() {
            let name = d["rename"]
                .as_str()
                .or_else(|| d["name"].as_str())
                .unwrap_or_default();
            let ident = name.replace('-', "_");
            if !ident.is_empty() && !names_word(&sources, &ident) {
                problems.push(format!(
                    "{}: dependency `{name}` is never used in its sources; remove it",
                    manifest.strip_prefix(root).unwrap_or(&manifest).display()
                ));
            }
        }
    }
    Ok(problems)
}

/// Whether `text` contains `word` delimited by non-identifier characters.
fn names_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if p.is_dir() {
            collect_rs(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    Ok(())
}

/// Runs `cargo deny check` for bans, licences and sources, installing cargo-deny into the
/// project cache when it is missing. Advisories need the advisory database from the
/// network; they are checked when `HYPERBYTE_DENY_ADVISORIES=1` (a machine with access).
pub(crate) fn cargo_deny(root: &Path) -> Result<()> {
    let bin = ensure_cargo_deny()?;
    let mut checks = vec!["bans", "licenses", "sources"];
    if std::env::var("HYPERBYTE_DENY_ADVISORIES").as_deref() == Ok("1") {
        checks.push("advisories");
    } else {
        println!("    advisories: skipped (set HYPERBYTE_DENY_ADVISORIES=1 where the advisory database is reachable)");
    }
    let status = Command::new(&bin)
        .current_dir(root)
        .args(["--all-features", "check"])
        .args(&checks)
        .status()
        .with_context(|| format!("running {}", bin.display()))?;
    if !status.success() {
        bail!(
            "cargo deny check {} failed (see deny.toml)",
            checks.join(" ")
        );
    }
    Ok(())
}

fn ensure_cargo_deny() -> Result<PathBuf> {
    let tools = cache_root().join("tools");
    let bin = tools.join("bin/cargo-deny");
    if installed_version(&bin).is_some_and(|v| v.contains(CARGO_DENY_VERSION)) {
        return Ok(bin);
    }
    println!(
        "    cargo-deny {CARGO_DENY_VERSION}: installing into {}",
        tools.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "install",
            "--locked",
            "cargo-deny",
            "--version",
            CARGO_DENY_VERSION,
            "--root",
        ])
        .arg(&tools)
        // Its own target directory: never the workspace's (a different toolchain profile).
        .env("CARGO_TARGET_DIR", tools.join("build"))
        .status()
        .context("running cargo install cargo-deny")?;
    if !status.success() {
        bail!("installing cargo-deny {CARGO_DENY_VERSION} failed");
    }
    Ok(bin)
}

fn installed_version(bin: &Path) -> Option<String> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_search_respects_identifier_boundaries() {
        assert!(names_word("use tokio::sync;", "tokio"));
        assert!(!names_word("use tokio_util::io;", "tokio"));
        assert!(!names_word("let my_tokio = 1;", "tokio"));
        assert!(names_word("#[derive(thiserror::Error)]", "thiserror"));
    }

    #[test]
    fn the_workspace_passes_the_source_checks() {
        let root = crate::root().expect("root");
        check_sources(&root).expect("hygiene");
    }
}
