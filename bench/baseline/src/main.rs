//! Hand-written single-process programs, the practical limit the benchmark
//! compares Spindle with: `baseline wordcount|groupsum|sort|join INPUT… OUTPUT`.
//! Each uses all cores with plain threads and hash maps, no framework.

use std::io::{BufWriter, Write};

/// rustc's FxHash map: the fastest general-purpose hash map for short keys.
type Map<K, V> = rustc_hash::FxHashMap<K, V>;

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// The file split at line boundaries into one chunk per thread.
fn chunks(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=n {
        let mut end = (data.len() * i / n).max(start);
        while end < data.len() && data[end - 1] != b'\n' {
            end += 1;
        }
        out.push(&data[start..end]);
        start = end;
    }
    out
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn writer(path: &str) -> BufWriter<std::fs::File> {
    BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).unwrap_or_else(|e| panic!("{path}: {e}")),
    )
}

fn pairs(chunk: &[u8]) -> impl Iterator<Item = (u64, u64)> + '_ {
    chunk.split(|b| *b == b'\n').filter_map(|l| {
        let s = std::str::from_utf8(l).ok()?;
        let mut it = s.split_whitespace();
        Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
    })
}

fn wordcount(input: &str, out: &str) {
    let data = read(input);
    let maps: Vec<Map<&[u8], u64>> = std::thread::scope(|s| {
        let hs: Vec<_> = chunks(&data, threads())
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    let mut m: Map<&[u8], u64> = Map::default();
                    for w in c
                        .split(|b| b.is_ascii_whitespace())
                        .filter(|w| !w.is_empty())
                    {
                        *m.entry(w).or_default() += 1;
                    }
                    m
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut total = maps.into_iter().reduce(|mut a, b| {
        for (k, v) in b {
            *a.entry(k).or_default() += v;
        }
        a
    });
    let mut w = writer(out);
    for (k, v) in total.take().unwrap_or_default() {
        w.write_all(k).unwrap();
        writeln!(w, "\t{v}").unwrap();
    }
    w.flush().unwrap();
}

fn groupsum(input: &str, out: &str) {
    let data = read(input);
    let maps: Vec<Map<u64, u64>> = std::thread::scope(|s| {
        let hs: Vec<_> = chunks(&data, threads())
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    let mut m: Map<u64, u64> = Map::default();
                    for (k, v) in pairs(c) {
                        *m.entry(k).or_default() += v;
                    }
                    m
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut total: Map<u64, u64> = Map::default();
    for m in maps {
        for (k, v) in m {
            *total.entry(k).or_default() += v;
        }
    }
    let mut w = writer(out);
    for (k, v) in total {
        writeln!(w, "{k} {v}").unwrap();
    }
    w.flush().unwrap();
}

fn sort(input: &str, out: &str) {
    let data = read(input);
    let parts: Vec<Vec<(u64, u64)>> = std::thread::scope(|s| {
        let hs: Vec<_> = chunks(&data, threads())
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    let mut v: Vec<(u64, u64)> = pairs(c).collect();
                    v.sort_unstable_by_key(|p| p.0);
                    v
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<(u64, u64)> = parts.into_iter().flatten().collect();
    all.sort_by_key(|p| p.0);
    let mut w = writer(out);
    for (k, v) in all {
        writeln!(w, "{k} {v}").unwrap();
    }
    w.flush().unwrap();
}

fn join(left: &str, right: &str, out: &str) {
    let small = read(right);
    let mut table: Map<u64, Vec<u64>> = Map::default();
    for (k, v) in pairs(&small) {
        table.entry(k).or_default().push(v);
    }
    let data = read(left);
    let table = &table;
    let outs: Vec<Vec<u8>> = std::thread::scope(|s| {
        let hs: Vec<_> = chunks(&data, threads())
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    let mut buf = Vec::new();
                    for (k, v) in pairs(c) {
                        if let Some(ws) = table.get(&k) {
                            for w in ws {
                                writeln!(buf, "{k} {v} {w}").unwrap();
                            }
                        }
                    }
                    buf
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut w = writer(out);
    for o in outs {
        w.write_all(&o).unwrap();
    }
    w.flush().unwrap();
}

/// xorshift64*: deterministic test data.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// About `mb` MiB of text: lines of 1–15 words from a vocabulary of 100,000
/// words, skewed so a few words are very common (like natural text).
fn gen_text(mb: u64, out: &str) {
    let vocab: Vec<String> = (0..100_000u64)
        .map(|i| format!("w{:x}", i.wrapping_mul(2_654_435_761) % 1_000_003))
        .collect();
    let mut rng = Rng(42);
    let mut w = writer(out);
    let mut written = 0u64;
    let mut line = String::new();
    while written < mb << 20 {
        line.clear();
        for j in 0..1 + rng.below(15) {
            if j > 0 {
                line.push(' ');
            }
            // Skew: square a uniform draw toward small indices.
            let u = rng.below(100_000);
            line.push_str(&vocab[(u * u / 100_000) as usize]);
        }
        line.push('\n');
        w.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
    }
    w.flush().unwrap();
}

/// `n` lines `KEY VALUE` with keys below `keys`.
fn gen_pairs(n: u64, keys: u64, seed: u64, out: &str) {
    let mut rng = Rng(seed | 1);
    let mut w = writer(out);
    for _ in 0..n {
        writeln!(w, "{} {}", rng.below(keys), rng.below(1_000_000)).unwrap();
    }
    w.flush().unwrap();
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["wordcount", i, o] => wordcount(i, o),
        ["groupsum", i, o] => groupsum(i, o),
        ["sort", i, o] => sort(i, o),
        ["join", l, r, o] => join(l, r, o),
        ["gen-text", mb, o] => gen_text(mb.parse().expect("MiB"), o),
        ["gen-pairs", n, k, seed, o] => gen_pairs(
            n.parse().expect("N"),
            k.parse().expect("KEYS"),
            seed.parse().expect("SEED"),
            o,
        ),
        _ => {
            eprintln!(
                "usage: baseline wordcount|groupsum|sort IN OUT | join LEFT RIGHT OUT | gen-text MB OUT | gen-pairs N KEYS SEED OUT"
            );
            std::process::exit(2)
        }
    }
}
