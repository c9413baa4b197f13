//! Inner join of two `KEY VALUE` files: `pairjoin LEFT RIGHT OUTPUT` writes
//! `KEY LEFT_VALUE RIGHT_VALUE` lines (the benchmark's join).

fn pairs(line: String) -> Option<(u64, u64)> {
    let mut it = line.split_whitespace().map(|f| f.parse::<u64>());
    match (it.next(), it.next()) {
        (Some(Ok(k)), Some(Ok(v))) => Some((k, v)),
        _ => None,
    }
}

fn main() {
    spindle::main(|ctx| {
        let args = spindle_examples::args();
        let (Some(left), Some(right), Some(out)) = (args.first(), args.get(1), args.get(2)) else {
            spindle_examples::usage("pairjoin LEFT RIGHT OUTPUT")
        };
        let l = ctx.text_file(left, None)?.flat_map(pairs);
        let r = ctx.text_file(right, None)?.flat_map(pairs);
        l.join(&r)
            .map(|(k, (v, w))| format!("{k} {v} {w}"))
            .save_as_text_file(out)?;
        Ok(())
    })
}
