//! wordcount end to end in local mode, against counts computed here; and its clear errors for a
//! missing input and an existing output.

use std::collections::BTreeMap;

use spindle_tests::{Rng, count_words, parse_counts, read_parts, run_local, run_local_ok};

const WORDCOUNT: &str = env!("CARGO_BIN_EXE_wordcount");

#[test]
fn wordcount_matches_an_independent_count() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("words.txt");
    let vocab: Vec<String> = (0..300).map(|i| format!("w{i}")).collect();
    let mut rng = Rng(7);
    let mut text = String::new();
    for _ in 0..5000 {
        let n = rng.below(15);
        let line: Vec<&str> = (0..n)
            .map(|_| vocab[rng.below(vocab.len() as u64) as usize].as_str())
            .collect();
        text.push_str(&line.join(if rng.below(2) == 0 { " " } else { "  \t" }));
        text.push('\n');
    }
    std::fs::write(&input, &text).unwrap();
    let expected: BTreeMap<String, u64> = count_words(&text);

    let out = dir.path().join("out");
    run_local_ok(WORDCOUNT, &[input.to_str().unwrap(), out.to_str().unwrap()]);
    let lines = read_parts(&out);
    assert_eq!(parse_counts(lines.iter().map(String::as_str)), expected);
}

#[test]
fn missing_input_and_existing_output_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.txt");
    let out = run_local(WORDCOUNT, &[missing.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!("spindle: input path does not exist: {}", missing.display())
    );

    let input = dir.path().join("in.txt");
    std::fs::write(&input, "a b\n").unwrap();
    let existing = dir.path().join("exists");
    std::fs::create_dir(&existing).unwrap();
    std::fs::write(existing.join("keep"), "x").unwrap();
    let out = run_local(
        WORDCOUNT,
        &[input.to_str().unwrap(), existing.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "spindle: output path already exists: {}",
            existing.display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(existing.join("keep")).unwrap(),
        "x",
        "existing output untouched"
    );
}
