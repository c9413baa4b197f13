//! Counts the words of a text file: `wordcount INPUT [OUTPUT]`.
//! With OUTPUT, writes `word<TAB>count` lines there; otherwise prints the top 10.

use rustc_hash::FxHashMap;

fn main() {
    spindle::main(|ctx| {
        let args = spindle_examples::args();
        let Some(input) = args.first() else {
            spindle_examples::usage("wordcount INPUT [OUTPUT]")
        };
        // Each partition counts its words in a local map first, keyed by
        // slices of the partition's text (no String per word: like a
        // hand-written program), then reduce_by_key merges the partitions'
        // counts. A task holds its partition's text (one split) meanwhile.
        let counts = ctx
            .text_file(input, None)?
            .map_partitions(|_, lines| {
                let mut text = String::new();
                for line in lines {
                    text.push_str(&line);
                    text.push('\n');
                }
                let mut counts: FxHashMap<&str, u64> = FxHashMap::default();
                for w in text.split_ascii_whitespace() {
                    *counts.entry(w).or_default() += 1;
                }
                counts
                    .into_iter()
                    .map(|(w, c)| (w.to_owned(), c))
                    .collect::<Vec<_>>()
            })
            .reduce_by_key(|a, b| a + b);
        match args.get(1) {
            Some(out) => counts
                .map(|(w, c)| format!("{w}\t{c}"))
                .save_as_text_file(out)?,
            None => {
                let mut all = counts.collect()?;
                all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                for (w, c) in all.iter().take(10) {
                    println!("{w}\t{c}");
                }
            }
        }
        Ok(())
    })
}
