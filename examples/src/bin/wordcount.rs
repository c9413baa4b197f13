//! Counts the words of a text file: `wordcount INPUT [OUTPUT]`.
//! With OUTPUT, writes `word<TAB>count` lines there; otherwise prints the top 10.

fn main() {
    spindle::main(|ctx| {
        let args = spindle_examples::args();
        let Some(input) = args.first() else {
            spindle_examples::usage("wordcount INPUT [OUTPUT]")
        };
        let counts = ctx
            .text_file(input, None)?
            .flat_map(|line: String| {
                line.split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .map(|w| (w, 1u64))
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
