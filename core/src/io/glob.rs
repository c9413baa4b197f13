//! Input path patterns as Hadoop's `FileInputFormat` reads them: a comma-separated
//! list of paths, each of which may hold `{a,b}` alternatives and, per path
//! component, the wildcards `*`, `?` and `[...]` (`\` escapes the next character).
//!
//! Only string work lives here; listing directories to match components is
//! the caller's ([`super::list_input`]).

use crate::{Error, Result};

/// Splits an input argument at commas outside `{...}` groups (Hadoop's
/// `FileInputFormat.getPathStrings`); an escaped comma (`\,`) does not split.
pub(crate) fn split_list(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0u32;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '{' => {
                depth += 1;
                cur.push(c);
            }
            '}' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().filter(|p| !p.is_empty()).collect()
}

/// Expands `{a,b}` groups (nested ones too) into the paths they stand for,
/// in order; a group may span `/` (`/data/{2024/01,2025/*}`).
pub(crate) fn expand_braces(s: &str) -> Result<Vec<String>> {
    let bytes: Vec<char> = s.chars().collect();
    let mut open = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            '\\' => i += 1,
            '{' => {
                open = Some(i);
                break;
            }
            '}' => return Err(bad(s, "a '}' without its '{'")),
            _ => {}
        }
        i += 1;
    }
    let Some(open) = open else {
        return Ok(vec![s.to_string()]);
    };
    // The matching close and the top-level commas between.
    let (mut depth, mut j, mut cuts) = (0u32, open, vec![open]);
    let close = loop {
        j += 1;
        match bytes.get(j) {
            None => return Err(bad(s, "a '{' without its '}'")),
            Some('\\') => j += 1,
            Some('{') => depth += 1,
            Some('}') if depth == 0 => break j,
            Some('}') => depth -= 1,
            Some(',') if depth == 0 => cuts.push(j),
            _ => {}
        }
    };
    cuts.push(close);
    let prefix: String = bytes[..open].iter().collect();
    let suffix: String = bytes[close + 1..].iter().collect();
    let mut out = Vec::new();
    for w in cuts.windows(2) {
        let alt: String = bytes[w[0] + 1..w[1]].iter().collect();
        out.extend(expand_braces(&format!("{prefix}{alt}{suffix}"))?);
    }
    Ok(out)
}

fn bad(pattern: &str, why: &str) -> Error {
    Error::Config(format!("input pattern {pattern}: {why}"))
}

/// Whether a path component needs matching against a listing.
pub(crate) fn has_wildcard(component: &str) -> bool {
    component.contains(['*', '?', '[', '\\'])
}

/// One element of a compiled component pattern.
#[derive(Debug)]
enum Tok {
    Char(char),
    /// `?`: any one character.
    One,
    /// `*`: any run of characters.
    Any,
    /// `[...]`: a set of ranges, or its complement (`[^...]`, `[!...]`).
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A compiled pattern for one path component (no `/`, no braces).
#[derive(Debug)]
pub(crate) struct Matcher(Vec<Tok>);

impl Matcher {
    /// Compiles `component`; an unclosed `[` is an error naming the pattern.
    pub(crate) fn new(component: &str) -> Result<Matcher> {
        let mut toks = Vec::new();
        let mut it = component.chars().peekable();
        while let Some(c) = it.next() {
            toks.push(match c {
                '\\' => Tok::Char(it.next().unwrap_or('\\')),
                '?' => Tok::One,
                '*' => Tok::Any,
                '[' => {
                    let negated = matches!(it.peek(), Some('^' | '!'));
                    if negated {
                        it.next();
                    }
                    let mut ranges = Vec::new();
                    let mut closed = false;
                    let mut first = true;
                    while let Some(c) = it.next() {
                        if c == ']' && !first {
                            closed = true;
                            break;
                        }
                        first = false;
                        let lo = if c == '\\' {
                            it.next().unwrap_or('\\')
                        } else {
                            c
                        };
                        let mut hi = lo;
                        if it.peek() == Some(&'-') {
                            it.next();
                            match it.next() {
                                Some(']') => {
                                    // A trailing '-' is itself a member.
                                    ranges.push((lo, lo));
                                    ranges.push(('-', '-'));
                                    closed = true;
                                    break;
                                }
                                Some(h) => hi = h,
                                None => break,
                            }
                        }
                        if hi < lo {
                            return Err(bad(
                                component,
                                &format!("the range {lo}-{hi} is reversed"),
                            ));
                        }
                        ranges.push((lo, hi));
                    }
                    if !closed {
                        return Err(bad(component, "a '[' without its ']'"));
                    }
                    Tok::Class { negated, ranges }
                }
                c => Tok::Char(c),
            });
        }
        Ok(Matcher(toks))
    }

    /// Whether `name` (one path component) matches the whole pattern.
    pub(crate) fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        // Iterative matching with one backtrack point for the last `*`.
        let (mut p, mut n) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        let toks = &self.0;
        while n < name.len() {
            let step = match toks.get(p) {
                Some(Tok::Char(c)) => *c == name[n],
                Some(Tok::One) => true,
                Some(Tok::Class { negated, ranges }) => {
                    ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&name[n])) != *negated
                }
                Some(Tok::Any) => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                None => false,
            };
            if step {
                p += 1;
                n += 1;
            } else if let Some((sp, sn)) = star {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            } else {
                return false;
            }
        }
        toks[p..].iter().all(|t| matches!(t, Tok::Any))
    }
}

/// A component without wildcards, its escapes removed.
pub(crate) fn unescape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    let mut it = component.chars();
    while let Some(c) = it.next() {
        out.push(if c == '\\' { it.next().unwrap_or(c) } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_at_commas_outside_groups() {
        assert_eq!(split_list("/a,/b"), ["/a", "/b"]);
        assert_eq!(
            split_list("/d/{x,y}/*,hdfs://nn/e"),
            ["/d/{x,y}/*", "hdfs://nn/e"]
        );
        assert_eq!(split_list(r"/a\,b"), [r"/a\,b"]);
        assert_eq!(split_list("/a,,/b,"), ["/a", "/b"]);
    }

    #[test]
    fn braces_expand_in_order_and_nest() {
        assert_eq!(
            expand_braces("/d/{a,b}.txt").unwrap(),
            ["/d/a.txt", "/d/b.txt"]
        );
        assert_eq!(
            expand_braces("/{x,y{1,2}}/{p,q}").unwrap(),
            ["/x/p", "/x/q", "/y1/p", "/y1/q", "/y2/p", "/y2/q"]
        );
        assert_eq!(
            expand_braces("/d/{2024/01,2025/*}").unwrap(),
            ["/d/2024/01", "/d/2025/*"]
        );
        assert_eq!(expand_braces("/plain").unwrap(), ["/plain"]);
        assert_eq!(expand_braces(r"/a\{b").unwrap(), [r"/a\{b"]);
        let e = expand_braces("/d/{a,b").unwrap_err().to_string();
        assert_eq!(
            e,
            "configuration: input pattern /d/{a,b: a '{' without its '}'"
        );
        assert!(expand_braces("/d/a}").is_err());
    }

    #[test]
    fn components_match_as_hadoop_globs() {
        let m = |p: &str, n: &str| Matcher::new(p).unwrap().matches(n);
        assert!(m("part-*", "part-00000"));
        assert!(m("*", ""));
        assert!(!m("part-*", "_SUCCESS"));
        assert!(m("*.gz", "a.b.gz"));
        assert!(!m("*.gz", "a.gz.tmp"));
        assert!(m("a*b*c", "aXXbYYbc"));
        assert!(m("?.txt", "a.txt"));
        assert!(!m("?.txt", "ab.txt"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[a-c]x", "dx"));
        assert!(m("[^a-c]x", "dx"));
        assert!(m("[!a-c]x", "dx"));
        assert!(!m("[^a-c]x", "ax"));
        assert!(m("[ab-]", "-"));
        assert!(m(r"\*", "*"));
        assert!(!m(r"\*", "a"));
        assert!(m("[]]", "]"));
        assert!(Matcher::new("[ab").is_err());
        assert!(Matcher::new("[z-a]").is_err());
        assert!(has_wildcard("a*") && !has_wildcard("plain.txt"));
        assert_eq!(unescape(r"a\[b"), "a[b");
    }
}
