//! The README's first program ("A first program"), word for word below these lines:
//! `longwords INPUT OUTPUT` counts the words of six letters or more. A test checks that this
//! file and the README agree, and runs it on gzip'd text.

fn main() {
    spindle::main(|ctx| {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let [input, output] = args.as_slice() else {
            eprintln!("usage: longwords INPUT OUTPUT");
            std::process::exit(2);
        };
        // Closures capture nothing: a driver-side value reaches the tasks as a parameter.
        let min_len: usize = 6;
        let counts = ctx
            .text_file(input, None)?
            .flat_map_with(min_len, |min, line: String| {
                line.split_whitespace()
                    .filter(|w| w.len() >= *min)
                    .map(str::to_lowercase)
                    .collect::<Vec<_>>()
            })
            .map(|word| (word, 1u64))
            .reduce_by_key(|a, b| a + b)
            .cache();
        println!("{} distinct words of {min_len}+ letters", counts.count()?);
        counts
            .map(|(word, n)| format!("{word}\t{n}"))
            .save_as_text_file(output)?;
        Ok(())
    })
}
