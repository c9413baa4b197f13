//! Compiles every `.proto` file under `hadoop/` and `spindle/` with protox, a
//! pure-Rust protobuf compiler, so the build needs no `protoc` on the machine.
//!
//! The package directory is read at run time (`CARGO_MANIFEST_DIR` in the
//! environment cargo gives a build script), never baked in with `env!`, and
//! the `rerun-if-changed` paths are relative to it: cargo shares a compiled
//! build script between checkouts of this workspace that use one
//! `CARGO_TARGET_DIR`, so nothing here may name one checkout's path.

use std::path::{Path, PathBuf};

/// The `.proto` files in `dir` (relative to `root`), sorted, as paths relative to `root`.
fn proto_files(root: &Path, dir: &str) -> Vec<PathBuf> {
    let full = root.join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&full)
        .unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "proto"))
        .map(|p| Path::new(dir).join(p.file_name().expect("a file name")))
        .collect();
    files.sort();
    files
}

fn main() {
    let root = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let mut files = proto_files(&root, "hadoop");
    files.extend(proto_files(&root, "spindle"));
    // Relative paths: cargo resolves them against the package being built.
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    println!("cargo:rerun-if-changed=hadoop");
    println!("cargo:rerun-if-changed=spindle");

    let absolute: Vec<PathBuf> = files.iter().map(|f| root.join(f)).collect();
    let descriptors = protox::compile(&absolute, [&root]).unwrap_or_else(|e| panic!("{e}"));
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)
        .unwrap_or_else(|e| panic!("generating code: {e}"));
}
