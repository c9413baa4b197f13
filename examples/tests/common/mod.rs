//! Helpers shared by the end-to-end tests: running example binaries in
//! local mode and reading their output directories.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs an example binary with `SPINDLE_MASTER=local[2]`.
pub fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env("SPINDLE_MASTER", "local[2]")
        .env_remove("SPINDLE_ROLE")
        .output()
        .expect("example binary runs")
}

/// Fails the test with the program's stderr unless it succeeded.
pub fn check(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\nstderr:\n{stderr}",
        out.status
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lines of every part file of an output directory, in part order.
pub fn read_parts(dir: &Path) -> Vec<String> {
    assert!(
        dir.join("_SUCCESS").exists(),
        "{} has no _SUCCESS",
        dir.display()
    );
    let mut parts: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("part-")
        })
        .collect();
    parts.sort();
    parts
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A small deterministic generator for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}
