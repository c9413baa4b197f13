//! pi, sort, join and pagerank end to end in local mode, each against an
//! answer computed here without Spindle.

use std::collections::{BTreeMap, HashMap, HashSet};

use spindle_tests::{Rng, read_parts, run_local_ok};

#[test]
fn pi_counts_the_same_points_as_a_plain_loop() {
    let n = 200_000u64;
    let out = run_local_ok(env!("CARGO_BIN_EXE_pi"), &[&n.to_string(), "5"]);
    let inside = (0..n)
        .filter(|i| {
            let (x, y) = spindle_examples::sample_point(*i);
            x * x + y * y < 1.0
        })
        .count();
    assert!(out.contains(&format!("inside {inside} of {n}")), "{out}");
    let pi = 4.0 * inside as f64 / n as f64;
    assert!((pi - std::f64::consts::PI).abs() < 0.02, "{pi}");
}

#[test]
fn sort_gives_a_total_order_across_range_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pairs.txt");
    let mut rng = Rng(99);
    let pairs: Vec<(u64, u64)> = (0..20_000)
        .map(|_| (rng.below(1_000_000_007), rng.below(1000)))
        .collect();
    let text: String = pairs.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
    std::fs::write(&input, text + "not a pair\n").unwrap();
    let out = dir.path().join("sorted");
    run_local_ok(
        env!("CARGO_BIN_EXE_sort"),
        &[input.to_str().unwrap(), out.to_str().unwrap(), "4"],
    );
    let got: Vec<(u64, u64)> = read_parts(&out)
        .iter()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.parse().unwrap(), v.parse().unwrap())
        })
        .collect();
    // Keys in order across part files; the multiset of pairs unchanged.
    let mut want_keys: Vec<u64> = pairs.iter().map(|p| p.0).collect();
    want_keys.sort();
    assert_eq!(got.iter().map(|p| p.0).collect::<Vec<_>>(), want_keys);
    let mut a = got.clone();
    let mut b = pairs.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    let parts = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("part-")
        })
        .count();
    assert!(parts >= 2, "range partitioned into several parts");
}

#[test]
fn sort_of_an_ordered_file_samples_windows_of_its_splits_and_balances_the_parts() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ordered.txt");
    // Keys already in order, so every split holds its own range of them: a
    // sample from the start of each split would put nearly all in one part.
    let n = 400_000u64;
    let text: String = (0..n)
        .map(|i| format!("{} {}\n", i * 7, i % 1000))
        .collect();
    std::fs::write(&input, &text).unwrap();
    let out = dir.path().join("sorted");
    let run = spindle_tests::local_command(env!("CARGO_BIN_EXE_sort"))
        .env("SPINDLE_VERBOSE", "1")
        .args([input.to_str().unwrap(), out.to_str().unwrap(), "4"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "sort_by_key samples its keys from windows of each text split (6% of the input)"
        ),
        "{stderr}"
    );
    assert_eq!(read_parts(&out), text.lines().collect::<Vec<_>>());
    for p in 0..4 {
        let part = std::fs::read_to_string(out.join(format!("part-{p:05}"))).unwrap();
        let lines = part.lines().count() as u64;
        assert!(
            (n / 4 * 6 / 10..=n / 4 * 14 / 10).contains(&lines),
            "part {p} holds {lines} of {n} lines"
        );
    }
}

#[test]
fn join_matches_a_nested_loop() {
    let dir = tempfile::tempdir().unwrap();
    let people: Vec<(u64, String)> = (0..300).map(|i| (i, format!("person{i}"))).collect();
    let mut rng = Rng(5);
    let orders: Vec<(u64, u64)> = (0..2000)
        .map(|_| (rng.below(400), rng.below(10_000)))
        .collect();
    let p_path = dir.path().join("people.csv");
    let o_path = dir.path().join("orders.csv");
    std::fs::write(
        &p_path,
        people
            .iter()
            .map(|(i, n)| format!("{i},{n}\n"))
            .collect::<String>(),
    )
    .unwrap();
    std::fs::write(
        &o_path,
        orders
            .iter()
            .map(|(i, a)| format!("{i},{a}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let out = dir.path().join("out");
    run_local_ok(
        env!("CARGO_BIN_EXE_join"),
        &[
            p_path.to_str().unwrap(),
            o_path.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
    );
    let mut inner = Vec::new();
    let mut left = Vec::new();
    for (id, name) in &people {
        let mut matched = false;
        for (oid, amount) in &orders {
            if oid == id {
                inner.push(format!("{id},{name},{amount}"));
                left.push(format!("{id},{name},{amount}"));
                matched = true;
            }
        }
        if !matched {
            left.push(format!("{id},{name},-"));
        }
    }
    let mut got_inner = read_parts(&out.join("inner"));
    let mut got_left = read_parts(&out.join("left"));
    for v in [&mut inner, &mut left, &mut got_inner, &mut got_left] {
        v.sort();
    }
    assert_eq!(got_inner, inner);
    assert_eq!(got_left, left);
}

/// PageRank as Spark's example computes it, on plain maps.
fn pagerank(edges: &[(String, String)], iters: u32) -> HashMap<String, f64> {
    let mut links: HashMap<String, Vec<String>> = HashMap::new();
    let unique: HashSet<&(String, String)> = edges.iter().collect();
    for (a, b) in unique {
        links.entry(a.clone()).or_default().push(b.clone());
    }
    let mut ranks: HashMap<String, f64> = links.keys().map(|k| (k.clone(), 1.0)).collect();
    for _ in 0..iters {
        let mut contribs: HashMap<String, f64> = HashMap::new();
        for (src, dsts) in &links {
            if let Some(r) = ranks.get(src) {
                for d in dsts {
                    *contribs.entry(d.clone()).or_default() += r / dsts.len() as f64;
                }
            }
        }
        ranks = contribs
            .into_iter()
            .map(|(k, s)| (k, 0.15 + 0.85 * s))
            .collect();
    }
    ranks
}

#[test]
fn pagerank_matches_a_plain_implementation() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(11);
    let edges: Vec<(String, String)> = (0..1500)
        .map(|_| {
            (
                format!("p{}", rng.below(200)),
                format!("p{}", rng.below(200)),
            )
        })
        .collect();
    let input = dir.path().join("edges.txt");
    std::fs::write(
        &input,
        edges
            .iter()
            .map(|(a, b)| format!("{a} {b}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let out = dir.path().join("ranks");
    run_local_ok(
        env!("CARGO_BIN_EXE_pagerank"),
        &[input.to_str().unwrap(), "5", out.to_str().unwrap()],
    );
    let got: BTreeMap<String, f64> = read_parts(&out)
        .iter()
        .map(|l| {
            let (n, r) = l.split_once(' ').unwrap();
            (n.to_string(), r.parse().unwrap())
        })
        .collect();
    let want = pagerank(&edges, 5);
    assert_eq!(got.len(), want.len());
    for (n, r) in &want {
        let g = got.get(n).unwrap_or_else(|| panic!("{n} missing"));
        assert!((g - r).abs() < 1e-6, "{n}: {g} vs {r}");
    }
}
