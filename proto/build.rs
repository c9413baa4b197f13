//! Compiles every `.proto` file under `hadoop/` and `spindle/` with protox, a
//! pure-Rust protobuf compiler, so the build needs no `protoc` on the machine.

use std::path::{Path, PathBuf};

fn proto_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    files.sort();
    files
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = proto_files(&root.join("hadoop"));
    files.extend(proto_files(&root.join("spindle")));
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    println!("cargo:rerun-if-changed=hadoop");
    println!("cargo:rerun-if-changed=spindle");

    let descriptors = protox::compile(&files, [root]).unwrap_or_else(|e| panic!("{e}"));
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)
        .unwrap_or_else(|e| panic!("generating code: {e}"));
}
