//! The wordcount the `spindle` crate docs teach, written as a user's first
//! program would be: `wordcount_plain INPUT OUTPUT` writes `word<TAB>count` lines.
//! The benchmark runs it beside the hand-tuned `wordcount` example: the
//! engine, not the program, has to make it fast.

fn main() {
    spindle::main(|ctx| {
        let args = spindle_examples::args();
        let [input, output] = args.as_slice() else {
            spindle_examples::usage("wordcount_plain INPUT OUTPUT")
        };
        ctx.text_file(input, None)?
            .flat_map(|l: String| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .map(|(w, c)| format!("{w}\t{c}"))
            .save_as_text_file(output)
    })
}
