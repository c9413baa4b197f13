//! Sorts `KEY VALUE` lines of unsigned integers by key with range
//! partitioning (terasort-like): `sort INPUT OUTPUT [PARTITIONS]`.
//! Part files are ordered: part-00000 holds the smallest keys.

fn main() {
    spindle::main(|ctx| {
        let args = spindle_examples::args();
        let (Some(input), Some(output)) = (args.first(), args.get(1)) else {
            spindle_examples::usage("sort INPUT OUTPUT [PARTITIONS]")
        };
        let parts: u32 = args
            .get(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(ctx.default_parallelism());
        ctx.text_file(input, None)?
            .flat_map(spindle_examples::key_value)
            .sort_by_key(true, parts)?
            .map(spindle_examples::key_value_line)
            .save_as_text_file(output)?;
        Ok(())
    })
}
