//! Counts the words of a text file: `wordcount INPUT [OUTPUT]`.
//! With OUTPUT, writes `word<TAB>count` lines there; otherwise prints the top 10.

use rustc_hash::FxHashMap;

fn main() {
    spindle::main(|ctx| {
        let args = spindle_examples::args();
        let Some(input) = args.first() else {
            spindle_examples::usage("wordcount INPUT [OUTPUT]")
        };
        // Each partition counts its words in a local map first (a word
        // already seen is looked up by reference, never copied), then
        // reduce_by_key merges the partitions' counts.
        let counts = ctx
            .text_file(input, None)?
            .map_partitions(|_, lines| {
                let mut counts: FxHashMap<String, u64> = FxHashMap::default();
                for line in lines {
                    for w in line.split_whitespace() {
                        match counts.get_mut(w) {
                            Some(c) => *c += 1,
                            None => {
                                counts.insert(w.to_owned(), 1);
                            }
                        }
                    }
                }
                counts
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
