//! wordcount end to end in local mode, against counts computed here.

mod common;

use std::collections::BTreeMap;

#[test]
fn wordcount_matches_an_independent_count() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("words.txt");
    let vocab: Vec<String> = (0..300).map(|i| format!("w{i}")).collect();
    let mut rng = common::Rng(7);
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
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for w in text.split_whitespace() {
        *expected.entry(w.to_string()).or_default() += 1;
    }

    let out = dir.path().join("out");
    common::check(&common::run(
        env!("CARGO_BIN_EXE_wordcount"),
        &[input.to_str().unwrap(), out.to_str().unwrap()],
    ));
    let mut got: BTreeMap<String, u64> = BTreeMap::new();
    for line in common::read_parts(&out) {
        let (w, c) = line.split_once('\t').expect("word<TAB>count");
        assert!(
            got.insert(w.to_string(), c.parse().unwrap()).is_none(),
            "{w} twice"
        );
    }
    assert_eq!(got, expected);
}
