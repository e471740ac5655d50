//! Embeds an rpath to the chDB engine (`CHDB_LIB_DIR`, set by `cargo xtask` or
//! `.cargo/config.toml`) so `file-wal-server` starts when run directly, as
//! `crates/server/build.rs` does for `hyperbyted` (Cargo applies `rustc-link-arg` only to
//! the emitting package's binaries: every binary linking the server needs this).

fn main() {
    println!("cargo:rerun-if-env-changed=CHDB_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    if let Some(dir) = std::env::var_os("CHDB_LIB_DIR").filter(|d| !d.is_empty()) {
        let dir = std::path::PathBuf::from(dir);
        let dir = dir.canonicalize().unwrap_or(dir);
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{}", dir.display());
    }
}
