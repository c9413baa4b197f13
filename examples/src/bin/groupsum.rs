//! Sums the values of each key of `KEY VALUE` lines: `groupsum INPUT OUTPUT`.

fn main() {
    spindle::main(|ctx| {
        let args = spindle_examples::args();
        let (Some(input), Some(output)) = (args.first(), args.get(1)) else {
            spindle_examples::usage("groupsum INPUT OUTPUT")
        };
        ctx.text_file(input, None)?
            .flat_map(spindle_examples::key_value)
            .reduce_by_key(|a, b| a + b)
            .map(spindle_examples::key_value_line)
            .save_as_text_file(output)?;
        Ok(())
    })
}
