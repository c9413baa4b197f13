//! Test data and parsing: deterministic generators (a failure can be reproduced), answers
//! computed without Spindle, and the simple text formats of the Java peers and of job output.

use std::collections::BTreeMap;

/// xorshift64: a small deterministic generator for test data.
pub struct Rng(pub u64);

impl Rng {
    /// The next state (never 0 for a seed that is not 0).
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// xorshift64*: deterministic pseudo-random bytes.
pub struct StarRng(pub u64);

impl StarRng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Fills `buf`, eight bytes (little-endian) of each draw.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for word in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            word.copy_from_slice(&v[..word.len()]);
        }
    }

    /// `len` bytes of [`StarRng::fill`] from `seed`.
    pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        StarRng(seed).fill(&mut v);
        v
    }
}

/// `lines` lines of words from a small vocabulary, separated by a space or by two spaces and a
/// tab, and the count of each word (computed here, independently of Spindle).
pub fn random_words(lines: usize, seed: u64) -> (String, BTreeMap<String, u64>) {
    const WORDS: [&str; 12] = [
        "yarn", "spindle", "hadoop", "rust", "node", "block", "shuffle", "stage", "task", "a",
        "the", "of",
    ];
    let mut rng = Rng(seed);
    let mut text = String::new();
    for _ in 0..lines {
        let state = rng.next_u64();
        let n = 1 + (state % 9) as usize;
        let words: Vec<&str> = (0..n)
            .map(|k| WORDS[((state >> (k * 4)) % WORDS.len() as u64) as usize])
            .collect();
        text.push_str(&words.join(if state.is_multiple_of(2) { " " } else { "  \t" }));
        text.push('\n');
    }
    let counts = count_words(&text);
    (text, counts)
}

/// How often each whitespace-separated word occurs in `text`.
pub fn count_words(text: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for w in text.split_whitespace() {
        *counts.entry(w.to_string()).or_default() += 1;
    }
    counts
}

/// A wordcount's output lines (`word<TAB>count`) as a map; panics on a malformed line or a word
/// listed twice.
pub fn parse_counts<'a>(lines: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in lines {
        let (w, c) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("not word<TAB>count: {line:?}"));
        let n: u64 = c
            .parse()
            .unwrap_or_else(|e| panic!("count of {w:?} in {line:?}: {e}"));
        assert!(counts.insert(w.to_string(), n).is_none(), "{w} twice");
    }
    counts
}

/// The `key=value` lines of a Java peer's output (other lines are left out).
pub fn kv_lines(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The `key=value` words of a line (`block offset=0 length=1048576 …`; other words left out).
pub fn kv_words(line: &str) -> BTreeMap<String, String> {
    line.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A Hadoop `*-site.xml` with these properties.
pub fn site_xml(properties: &[(&str, &str)]) -> String {
    let mut s = String::from("<?xml version=\"1.0\"?>\n<configuration>\n");
    for (k, v) in properties {
        s.push_str(&format!(
            "<property><name>{k}</name><value>{v}</value></property>\n"
        ));
    }
    s + "</configuration>\n"
}
