//! {{name}}: counts the words of a text file, `{{name}} INPUT [OUTPUT]`. With OUTPUT (a local
//! directory or an hdfs:// URL), writes `word<TAB>count` lines there; otherwise prints the ten
//! most frequent words.
//!
//! Run it with `spindle submit --master 'local[2]' target/debug/{{name}} INPUT` on this machine,
//! or with `--master yarn` on the cluster of HADOOP_CONF_DIR.

fn main() {
    spindle::main(|ctx| {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let Some(input) = args.first() else {
            eprintln!("usage: {{name}} INPUT [OUTPUT]");
            std::process::exit(2);
        };
        // Every closure captures nothing: the same binary runs them in the executors.
        let counts = ctx
            .text_file(input, None)?
            .flat_map(|line: String| {
                line.split_whitespace()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .map(|word| (word, 1u64))
            .reduce_by_key(|a, b| a + b);
        match args.get(1) {
            Some(output) => counts
                .map(|(word, n)| format!("{word}\t{n}"))
                .save_as_text_file(output)?,
            None => {
                let mut top = counts.collect()?;
                top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                for (word, n) in top.iter().take(10) {
                    println!("{word}\t{n}");
                }
            }
        }
        Ok(())
    })
}
