//! Embeds an rpath to the chDB engine (`CHDB_LIB_DIR`, set by `cargo xtask` or
//! `.cargo/config.toml`) so `target/release/hyperbyted` starts when run directly.
//! (Cargo applies `rustc-link-arg` only to the emitting package's binaries, so the
//! adapter crate's build script cannot do this for us.)

fn main() {
    println!("cargo:rerun-if-env-changed=CHDB_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    match std::env::var_os("CHDB_LIB_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => {
            let dir = std::path::PathBuf::from(dir);
            let dir = dir.canonicalize().unwrap_or(dir);
            println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{}", dir.display());
        }
        None => println!(
            "cargo:warning=CHDB_LIB_DIR is not set: hyperbyted will need LD_LIBRARY_PATH to find libchdb.so (run `cargo xtask build`)"
        ),
    }
}
