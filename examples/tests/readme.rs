//! The README's first program: the same code as `examples/src/bin/longwords.rs`, and it reads
//! gzip'd text (compressed here by Debian's `gzip`, not by Spindle) to the right counts.

use std::collections::BTreeMap;
use std::process::Command;

use spindle_tests::{Rng, parse_counts, read_parts, run_local_ok};

const LONGWORDS: &str = env!("CARGO_BIN_EXE_longwords");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The README's Rust block of "A first program".
fn readme_program() -> String {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let section = &readme[readme.find("## A first program").expect("the section")..];
    let start = section.find("```rust\n").expect("a rust block") + "```rust\n".len();
    let len = section[start..].find("```").expect("the block's end");
    section[start..start + len].to_string()
}

#[test]
fn the_readme_program_is_the_longwords_example() {
    let example = std::fs::read_to_string(format!("{ROOT}/examples/src/bin/longwords.rs")).unwrap();
    let code: String = example
        .lines()
        .skip_while(|l| l.starts_with("//!") || l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        code,
        readme_program(),
        "README.md and examples/src/bin/longwords.rs differ"
    );
}

#[test]
fn the_readme_program_counts_gzipped_text() {
    let dir = tempfile::tempdir().unwrap();
    let words = [
        "spindle", "hadoop", "yarn", "executor", "shuffle", "Parquet", "gzip", "a",
    ];
    let mut rng = Rng(5);
    let mut text = String::new();
    for _ in 0..20_000 {
        let n = rng.below(9);
        let line: Vec<&str> = (0..n)
            .map(|_| words[rng.below(words.len() as u64) as usize])
            .collect();
        text.push_str(&line.join(" "));
        text.push('\n');
    }
    let plain = dir.path().join("input.txt");
    std::fs::write(&plain, &text).unwrap();
    let status = Command::new("gzip")
        .arg(&plain)
        .status()
        .expect("gzip (Debian's)");
    assert!(status.success());
    let input = dir.path().join("input.txt.gz");
    assert!(input.exists() && !plain.exists());

    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for w in text.split_whitespace().filter(|w| w.len() >= 6) {
        *want.entry(w.to_lowercase()).or_default() += 1;
    }
    let out = dir.path().join("out");
    let stdout = run_local_ok(LONGWORDS, &[input.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(
        stdout.contains(&format!("{} distinct words of 6+ letters", want.len())),
        "{stdout}"
    );
    let lines = read_parts(&out);
    assert_eq!(parse_counts(lines.iter().map(String::as_str)), want);
}
