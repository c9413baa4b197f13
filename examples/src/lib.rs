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
/// give `None` and are skipped. Lines as the benchmark writes them (digits, one space, digits)
/// are read without `split_whitespace` and `parse`, which cost a sort a sixth of its CPU.
pub fn key_value(line: String) -> Option<(u64, u64)> {
    if let Some((k, v)) = line.split_once(' ')
        && let (Some(k), Some(v)) = (digits(k), digits(v))
    {
        return Some((k, v));
    }
    let mut fields = line.split_whitespace().map(|f| f.parse::<u64>());
    match (fields.next(), fields.next()) {
        (Some(Ok(k)), Some(Ok(v))) => Some((k, v)),
        _ => None,
    }
}

/// A number of 1 to 19 ASCII digits (never past `u64::MAX`), else None.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        let d = b.wrapping_sub(b'0');
        (d <= 9).then(|| n * 10 + u64::from(d))
    })
}

/// `KEY VALUE`, as `format!("{k} {v}")` writes it, without the formatting machinery.
pub fn key_value_line((k, v): (u64, u64)) -> String {
    let (mut a, mut b) = (itoa::Buffer::new(), itoa::Buffer::new());
    let (k, v) = (a.format(k), b.format(v));
    let mut line = String::with_capacity(k.len() + 1 + v.len());
    line.push_str(k);
    line.push(' ');
    line.push_str(v);
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_lines_read_and_written_as_the_general_path_does() {
        for line in [
            "1 2",
            "0 18446744073709551615",
            "9999999999999999999 7",
            "  12\t34 extra",
            "+5 6",
            "1 -2",
            "a b",
            "1",
            "",
            "12345678901234567890 1",
        ] {
            let mut fields = line.split_whitespace().map(|f| f.parse::<u64>());
            let want = match (fields.next(), fields.next()) {
                (Some(Ok(k)), Some(Ok(v))) => Some((k, v)),
                _ => None,
            };
            assert_eq!(key_value(line.to_string()), want, "{line:?}");
        }
        for (k, v) in [(0, 0), (7, 10), (u64::MAX, 1_000_000_000_000)] {
            assert_eq!(key_value_line((k, v)), format!("{k} {v}"));
        }
    }
}
