//! PageRank over `SRC DST` edge lines: `pagerank EDGES ITERATIONS OUTPUT`.
//! The link lists are cached and reused by every iteration; OUTPUT gets
//! `NODE RANK` lines (ranks to 9 decimals).

fn main() {
    spindle::main(|ctx| {
        let args = spindle_examples::args();
        let (Some(edges), Some(iters), Some(out)) = (args.first(), args.get(1), args.get(2)) else {
            spindle_examples::usage("pagerank EDGES ITERATIONS OUTPUT")
        };
        let iters: u32 = iters
            .parse()
            .unwrap_or_else(|_| spindle_examples::usage("pagerank EDGES ITERATIONS OUTPUT"));
        let links = ctx
            .text_file(edges, None)?
            .flat_map(|line: String| {
                let mut it = line.split_whitespace();
                match (it.next(), it.next()) {
                    (Some(a), Some(b)) => Some((a.to_string(), b.to_string())),
                    _ => None,
                }
            })
            .distinct()
            .group_by_key()
            .cache();
        let mut ranks = links.map_values(|_| 1.0f64);
        for _ in 0..iters {
            let contribs = links.join(&ranks).flat_map(|(_, (dsts, rank))| {
                let share = rank / dsts.len() as f64;
                dsts.into_iter()
                    .map(move |d| (d, share))
                    .collect::<Vec<_>>()
            });
            ranks = contribs
                .reduce_by_key(|a, b| a + b)
                .map_values(|s| 0.15 + 0.85 * s);
        }
        ranks
            .map(|(n, r)| format!("{n} {r:.9}"))
            .save_as_text_file(out)?;
        Ok(())
    })
}
