//! Embeds an rpath to the chDB engine library (`CHDB_LIB_DIR`) into this crate's test,
//! bench and example binaries, so they find `libchdb.so` without `LD_LIBRARY_PATH`.
//!
//! Cargo applies `rustc-link-arg` only to the binaries of the package that emits it; a
//! binary crate depending on this one needs the same line in its own build script.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=CHDB_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    let Some(dir) = std::env::var_os("CHDB_LIB_DIR").filter(|d| !d.is_empty()) else {
        println!("cargo:warning=CHDB_LIB_DIR is not set: binaries need LD_LIBRARY_PATH to find libchdb.so");
        return;
    };
    let dir = PathBuf::from(dir);
    let dir = dir.canonicalize().unwrap_or(dir);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
}
