//! Example driver programs: wordcount, pi, sort, join, pagerank, and the benchmark's groupsum
//! and pairjoin.

/// The command-line arguments after the program name.
pub fn args() -> Vec<String> {
    std::env::args().skip(1).collect()
}

/// Prints a usage line and exits with status 2.
pub fn usage(text: &str) -> ! {
    eprintln!("usage: {text}");
    std::process::exit(2)
}

/// The point of sample `i` for the pi example: two coordinates in [0, 1)
/// from a fixed 64-bit mixing function of `i`.
pub fn sample_point(i: u64) -> (f64, f64) {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let a = mix(2 * i);
    let b = mix(2 * i + 1);
    (
        (a >> 11) as f64 / (1u64 << 53) as f64,
        (b >> 11) as f64 / (1u64 << 53) as f64,
    )
}

/// A `KEY VALUE` line of two unsigned integers (the input of sort and groupsum); other lines
/// give `None` and are skipped.
pub fn key_value(line: String) -> Option<(u64, u64)> {
    let mut fields = line.split_whitespace().map(|f| f.parse::<u64>());
    match (fields.next(), fields.next()) {
        (Some(Ok(k)), Some(Ok(v))) => Some((k, v)),
        _ => None,
    }
}
