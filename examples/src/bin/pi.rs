//! Estimates pi by sampling points in the unit square: `pi [SAMPLES] [PARTITIONS]`.

fn main() {
    spindle::main(|ctx| {
        let args = spindle_examples::args();
        let n: u64 = args
            .first()
            .map(|s| {
                s.parse()
                    .unwrap_or_else(|_| spindle_examples::usage("pi [SAMPLES] [PARTITIONS]"))
            })
            .unwrap_or(1_000_000);
        let parts: u32 = args
            .get(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(ctx.default_parallelism());
        let inside = ctx
            .range(0, n, parts)
            .filter(|i| {
                let (x, y) = spindle_examples::sample_point(*i);
                x * x + y * y < 1.0
            })
            .count()?;
        println!("inside {inside} of {n}");
        println!("Pi is roughly {:.6}", 4.0 * inside as f64 / n as f64);
        Ok(())
    })
}
