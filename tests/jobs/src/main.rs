//! Jobs the end-to-end tests run to exercise the engine: `spindle-testjobs
//! ops | rdd DIR | stderr-bytes | panic OUT | kill-shuffle | corrupt-shuffle | corrupt-cache | cache LOGDIR | spill
//! | external-sort | chatty SECONDS | idle SECONDS | overheads N | count-then-save IN OUT | codecs IN OUT | seqfiles DIR OUT
//! | columnar IN OUT [SPARK] | columnar-count FORMAT PATH | elastic | preemptible | memory-soak
//! RECORDS ROUNDS | two-phase SECONDS | hdfs-rounds IN DIR SECONDS` (elastic, preemptible,
//! memory-soak: yarn_cluster's dynamic allocation, preemption and memory tests; two-phase:
//! bench/yarn/elastic.sh; hdfs-rounds: secure_tokens's job that outlives its delegation tokens). The engine's
//! tests (`tests/engine.rs`) run them in local mode, yarn_cluster runs `count-then-save` and `rdd`, yarn_codecs runs
//! `codecs` and `seqfiles`, yarn_columnar `columnar` and `columnar-count`, the benchmarks run `overheads` (bench/local) and `idle`
//! (bench/yarn).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;

use spindle::{Context, Result, StorageLevel};

fn check<T: PartialEq + std::fmt::Debug>(name: &str, got: T, want: T, passed: &mut u32) {
    if got != want {
        eprintln!("check {name} failed:\n  got  {got:?}\n  want {want:?}");
        std::process::exit(3);
    }
    *passed += 1;
}

/// What the elastic jobs check at their end: no map output or cached partition lost or
/// computed again, and at least `cached_moved` cached partitions moved (5 checks).
fn check_nothing_recomputed(end: &spindle::cluster::ElasticStats, cached_moved: u64, n: &mut u32) {
    check("map outputs lost", end.outputs_lost, 0, n);
    check("map tasks recomputed", end.maps_recomputed, 0, n);
    check(
        "cached partitions moved",
        end.cached_blocks_migrated >= cached_moved,
        true,
        n,
    );
    check("cached partitions lost", end.cached_blocks_lost, 0, n);
    check("cached partitions recomputed", end.cached_recomputed, 0, n);
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// Every operation against the same computation done here on plain vectors.
fn ops(ctx: &Context) -> Result<()> {
    let mut n = 0;
    let data: Vec<u64> = (0..5000).map(|i| (i * 7919) % 1013).collect();
    let ds = ctx.parallelize(data.clone(), 5);
    check("collect", ds.collect()?, data.clone(), &mut n);
    check("count", ds.count()?, 5000, &mut n);
    check(
        "map",
        ds.map(|x| x * 2).collect()?,
        data.iter().map(|x| x * 2).collect(),
        &mut n,
    );
    check(
        "filter",
        ds.filter(|x| x % 3 == 0).count()?,
        data.iter().filter(|x| *x % 3 == 0).count() as u64,
        &mut n,
    );
    check(
        "flat_map",
        ds.flat_map(|x| vec![x; (x % 3) as usize]).count()?,
        data.iter().map(|x| x % 3).sum::<u64>(),
        &mut n,
    );
    check(
        "reduce",
        ds.reduce(|a, b| a + b)?,
        Some(data.iter().sum()),
        &mut n,
    );
    check(
        "reduce empty",
        ctx.parallelize(Vec::<u64>::new(), 2).reduce(|a, b| a + b)?,
        None,
        &mut n,
    );
    check("take", ds.take(7)?, data[..7].to_vec(), &mut n);
    check("first", ds.first()?, Some(data[0]), &mut n);
    check(
        "range",
        ctx.range(10, 1010, 3).collect()?,
        (10..1010).collect::<Vec<u64>>(),
        &mut n,
    );
    let offset = 1000u64;
    check(
        "map_with",
        ds.map_with(offset, |o, x| x + *o).collect()?,
        data.iter().map(|x| x + 1000).collect(),
        &mut n,
    );
    let table = ctx.broadcast(&(0..1013u64).map(|i| i * i).collect::<Vec<u64>>());
    check(
        "broadcast",
        ds.map_with(table, |t, x| t.value()[x as usize]).collect()?,
        data.iter().map(|x| x * x).collect(),
        &mut n,
    );
    check(
        "map_partitions",
        ds.map_partitions(|p, recs| vec![(p, recs.count() as u64)])
            .collect()?,
        (0..5).map(|p| (p, 1000)).collect(),
        &mut n,
    );
    check(
        "union",
        ds.union(&ctx.range(0, 10, 2)).count()?,
        5010,
        &mut n,
    );
    check(
        "distinct",
        sorted(ds.distinct().collect()?),
        data.iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        &mut n,
    );
    let repart = ds.repartition(3);
    check("repartition count", repart.num_partitions(), 3, &mut n);
    check(
        "repartition",
        sorted(repart.collect()?),
        sorted(data.clone()),
        &mut n,
    );

    // Records of zero bytes keep their number through a shuffle.
    check(
        "unit records through a shuffle",
        ds.map(|_| ()).repartition(3).count()?,
        5000,
        &mut n,
    );
    check(
        "distinct units",
        ds.map(|_| ()).distinct().collect()?,
        vec![()],
        &mut n,
    );

    let pairs = ds.map(|x| (x % 17, x));
    let mut want_sum: BTreeMap<u64, u64> = BTreeMap::new();
    let mut want_groups: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for x in &data {
        *want_sum.entry(x % 17).or_default() += x;
        want_groups.entry(x % 17).or_default().push(*x);
    }
    check(
        "reduce_by_key",
        pairs
            .reduce_by_key(|a, b| a + b)
            .collect()?
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        want_sum.clone(),
        &mut n,
    );
    check(
        "group_by_key",
        pairs
            .group_by_key()
            .collect()?
            .into_iter()
            .map(|(k, v)| (k, sorted(v)))
            .collect::<BTreeMap<_, _>>(),
        want_groups
            .iter()
            .map(|(k, v)| (*k, sorted(v.clone())))
            .collect(),
        &mut n,
    );
    check(
        "aggregate_by_key",
        pairs
            .aggregate_by_key(
                (0u64, 0u64),
                |(s, c), v| (s + v, c + 1),
                |a, b| (a.0 + b.0, a.1 + b.1),
            )
            .collect()?
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        want_groups
            .iter()
            .map(|(k, v)| (*k, (v.iter().sum(), v.len() as u64)))
            .collect(),
        &mut n,
    );
    let names = ctx.parallelize(
        (0..20u64)
            .filter(|k| k % 4 != 3)
            .map(|k| (k, format!("n{k}")))
            .collect(),
        2,
    );
    let mut want_join = Vec::new();
    let mut want_left = Vec::new();
    for x in &data {
        let k = x % 17;
        if k % 4 != 3 {
            want_join.push((k, (*x, format!("n{k}"))));
            want_left.push((k, (*x, Some(format!("n{k}")))));
        } else {
            want_left.push((k, (*x, None)));
        }
    }
    check(
        "join",
        sorted(pairs.join(&names).collect()?),
        sorted(want_join),
        &mut n,
    );
    check(
        "left_outer_join",
        sorted(pairs.left_outer_join(&names).collect()?),
        sorted(want_left),
        &mut n,
    );
    let cg: BTreeMap<u64, (usize, usize)> = pairs
        .cogroup(&names)
        .collect()?
        .into_iter()
        .map(|(k, (a, b))| (k, (a.len(), b.len())))
        .collect();
    let mut want_cg: BTreeMap<u64, (usize, usize)> = BTreeMap::new();
    for (k, v) in &want_groups {
        want_cg.insert(*k, (v.len(), usize::from(k % 4 != 3)));
    }
    for k in 17..20u64 {
        if k % 4 != 3 {
            want_cg.insert(k, (0, 1));
        }
    }
    check("cogroup", cg, want_cg, &mut n);
    let sorted_ds = ds.map(|x| (x, ())).sort_by_key(true, 4)?;
    check(
        "sort_by_key",
        sorted_ds.keys().collect()?,
        sorted(data.clone()),
        &mut n,
    );
    let mut desc = sorted(data.clone());
    desc.reverse();
    check(
        "sort_by_key desc",
        ds.map(|x| (x, ()))
            .sort_by_key(false, 3)?
            .keys()
            .collect()?,
        desc,
        &mut n,
    );
    check(
        "count_by_key",
        pairs
            .count_by_key()?
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        want_groups
            .iter()
            .map(|(k, v)| (*k, v.len() as u64))
            .collect(),
        &mut n,
    );
    let cached = pairs
        .reduce_by_key(|a, b| a + b)
        .persist(StorageLevel::MemoryAndDisk);
    check("persist 1", cached.count()?, 17, &mut n);
    check(
        "persist 2",
        cached.collect()?.into_iter().collect::<BTreeMap<_, _>>(),
        want_sum,
        &mut n,
    );
    let on_disk = ds.persist(StorageLevel::DiskOnly);
    check("disk 1", on_disk.count()?, 5000, &mut n);
    check("disk 2", on_disk.collect()?, data.clone(), &mut n);
    ds.foreach(|x| assert!(x < 1013))?;
    n += 1;
    println!("all {n} checks passed");
    Ok(())
}

/// Fails the first attempt of partition `fail` (after it added to its
/// accumulator): a marker file in `dir` says the failure happened.
fn fail_first_attempt(dir: &str, p: u32, fail: u32) {
    if p == fail {
        let _ = std::fs::create_dir_all(dir);
        let marker = format!("{dir}/failed-{p}");
        if std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&marker)
            .is_ok()
        {
            panic!("failing the first attempt of partition {p} on purpose");
        }
    }
}

/// The RDD operations of Spark's API, each against the same computation on
/// plain vectors. DIR (local or hdfs://, must not exist) receives the text
/// files read back whole and the checkpoints.
fn rdd(ctx: &Context, dir: &str) -> Result<()> {
    let mut n = 0;
    let data: Vec<u64> = (0..5000).map(|i| (i * 7919) % 1013).collect();
    let ds = ctx.parallelize(data.clone(), 5);
    let sum: u64 = data.iter().sum();

    // Accumulators: added in tasks, read on the driver, each partition once.
    let acc = ctx.accumulator(0u64);
    ds.map_with(acc, |a, x| {
        a.add(x);
        x
    })
    .count()?;
    check("accumulator", acc.value(), sum, &mut n);
    let seen = ctx.accumulator(Vec::<u64>::new());
    ctx.range(0, 100, 4)
        .foreach_partition_with(seen, |s, recs| s.add(recs.collect()))?;
    check(
        "accumulator of a Vec",
        sorted(seen.value()),
        (0..100).collect(),
        &mut n,
    );
    let hist = ctx.accumulator(BTreeMap::<u64, u64>::new());
    ds.map_with(hist, |h, x| {
        h.add(BTreeMap::from([(x % 3, 1)]));
        x
    })
    .count()?;
    let mut want_hist = BTreeMap::new();
    for x in &data {
        *want_hist.entry(x % 3).or_insert(0u64) += 1;
    }
    check("accumulator of a map", hist.value(), want_hist, &mut n);
    // A task that added, then failed: its retry's updates count, its own do not.
    let markers = std::env::temp_dir().join(format!(
        "spindle-testjobs-markers-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&markers).expect("a directory for failure markers");
    let markers = markers.display().to_string();
    let retried = ctx.accumulator(0u64);
    ds.map_partitions_with((retried, markers.clone()), |(a, dir), p, recs| {
        let mut k = 0;
        for x in recs {
            a.add(x);
            k += 1;
        }
        fail_first_attempt(dir, p, 3);
        vec![k]
    })
    .count()?;
    check(
        "accumulator, result task retried",
        retried.value(),
        sum,
        &mut n,
    );
    // The same in a shuffle's map stage, whose output a second job reuses.
    let in_map = ctx.accumulator(0u64);
    let shuffled = ds
        .map_partitions_with((in_map, markers.clone()), |(a, dir), p, recs| {
            let v: Vec<(u64, u64)> = recs.map(|x| (x % 7, x)).collect();
            a.add(v.iter().map(|kv| kv.1).sum());
            fail_first_attempt(dir, p, 1);
            v
        })
        .reduce_by_key(|a, b| a + b);
    check("shuffle after a retried map", shuffled.count()?, 7, &mut n);
    check("same shuffle again", shuffled.count()?, 7, &mut n);
    check("accumulator, map task retried", in_map.value(), sum, &mut n);
    let _ = std::fs::remove_dir_all(&markers);

    // Folds.
    check("fold", ds.fold(0, |a, b| a + b)?, sum, &mut n);
    check(
        "aggregate",
        ds.aggregate(
            (0u64, 0u64),
            |(s, c), x| (s + x, c + 1),
            |a, b| (a.0 + b.0, a.1 + b.1),
        )?,
        (sum, 5000),
        &mut n,
    );
    check(
        "fold empty",
        ctx.parallelize(Vec::<u64>::new(), 3)
            .fold(0, |a, b| a + b)?,
        0,
        &mut n,
    );

    // Key-value operations.
    let pairs = ds.map(|x| (x % 17, x));
    let mut want_groups: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for x in &data {
        want_groups.entry(x % 17).or_default().push(*x);
    }
    check(
        "combine_by_key",
        pairs
            .combine_by_key(
                |v| (v, v, 1u64),
                |(lo, hi, c), v| (lo.min(v), hi.max(v), c + 1),
                |a, b| (a.0.min(b.0), a.1.max(b.1), a.2 + b.2),
            )
            .collect()?
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        want_groups
            .iter()
            .map(|(k, v)| {
                let lo = *v.iter().min().unwrap();
                let hi = *v.iter().max().unwrap();
                (*k, (lo, hi, v.len() as u64))
            })
            .collect(),
        &mut n,
    );
    check(
        "fold_by_key",
        pairs
            .fold_by_key(0, |a, b| a + b)
            .collect()?
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        want_groups
            .iter()
            .map(|(k, v)| (*k, v.iter().sum()))
            .collect(),
        &mut n,
    );
    check(
        "flat_map_values",
        sorted(
            pairs
                .flat_map_values(|v| vec![v; (v % 3) as usize])
                .collect()?,
        ),
        sorted(
            data.iter()
                .flat_map(|x| vec![(x % 17, *x); (x % 3) as usize])
                .collect(),
        ),
        &mut n,
    );
    // Keys 0..17 on the left; 5..25 but those = 3 mod 4 on the right.
    let names = ctx.parallelize(
        (5..25u64)
            .filter(|k| k % 4 != 3)
            .map(|k| (k, format!("n{k}")))
            .collect(),
        3,
    );
    let right_keys: BTreeSet<u64> = (5..25).filter(|k| k % 4 != 3).collect();
    let mut want_right = Vec::new();
    let mut want_full = Vec::new();
    for x in &data {
        let k = x % 17;
        if right_keys.contains(&k) {
            want_right.push((k, (Some(*x), format!("n{k}"))));
            want_full.push((k, (Some(*x), Some(format!("n{k}")))));
        } else {
            want_full.push((k, (Some(*x), None)));
        }
    }
    for k in right_keys.iter().filter(|k| **k >= 17) {
        want_right.push((*k, (None, format!("n{k}"))));
        want_full.push((*k, (None, Some(format!("n{k}")))));
    }
    check(
        "right_outer_join",
        sorted(pairs.right_outer_join(&names).collect()?),
        sorted(want_right),
        &mut n,
    );
    check(
        "full_outer_join",
        sorted(pairs.full_outer_join(&names).collect()?),
        sorted(want_full),
        &mut n,
    );
    let mut want_counts: HashMap<u64, u64> = HashMap::new();
    for x in &data {
        *want_counts.entry(*x).or_default() += 1;
    }
    check("count_by_value", ds.count_by_value()?, want_counts, &mut n);
    let mut want_map: HashMap<u64, String> = HashMap::new();
    for k in &right_keys {
        want_map.insert(*k, format!("n{k}"));
    }
    check("collect_as_map", names.collect_as_map()?, want_map, &mut n);
    check(
        "lookup",
        sorted(pairs.lookup(5)?),
        sorted(data.iter().copied().filter(|x| x % 17 == 5).collect()),
        &mut n,
    );
    check("lookup missing", pairs.lookup(99)?, vec![], &mut n);

    // Ordering.
    let mut asc = data.clone();
    asc.sort();
    let mut desc = asc.clone();
    desc.reverse();
    check(
        "take_ordered",
        ds.take_ordered(25)?,
        asc[..25].to_vec(),
        &mut n,
    );
    check("top", ds.top(25)?, desc[..25].to_vec(), &mut n);
    check("top of more than all", ds.top(6000)?, desc.clone(), &mut n);
    let mut by_last_digit = data.clone();
    by_last_digit.sort_by_key(|x| (x % 10, *x));
    check(
        "sort_by",
        ds.sort_by(|x| (x % 10, *x), true, 4)?.collect()?,
        by_last_digit.clone(),
        &mut n,
    );
    by_last_digit.reverse();
    check(
        "sort_by descending",
        ds.sort_by(|x| (x % 10, *x), false, 3)?.collect()?,
        by_last_digit,
        &mut n,
    );

    // Layout.
    let co = ds.coalesce(2);
    check("coalesce partitions", co.num_partitions(), 2, &mut n);
    check("coalesce keeps order", co.collect()?, data.clone(), &mut n);
    check(
        "coalesce sizes",
        co.map_partitions(|_, r| vec![r.count()]).collect()?,
        vec![2000, 3000],
        &mut n,
    );
    check(
        "coalesce to more is a no-op",
        ds.coalesce(9).num_partitions(),
        5,
        &mut n,
    );
    check(
        "zip_with_index",
        ds.zip_with_index()?.collect()?,
        data.iter().copied().zip(0u64..).collect(),
        &mut n,
    );

    // Sampling: a sub-multiset of the input, reproducible by seed, near its
    // expected size (within 6 standard deviations).
    let big = ctx.range(0, 100_000, 4);
    let s1 = big.sample(false, 0.1, 42)?.collect()?;
    let s2 = big.sample(false, 0.1, 42)?.collect()?;
    let s3 = big.sample(false, 0.1, 43)?.collect()?;
    let ok = s1 == s2
        && s1 != s3
        && s1.windows(2).all(|w| w[0] < w[1])
        && s1.iter().all(|x| *x < 100_000)
        && (s1.len() as f64 - 10_000.0).abs() < 6.0 * 90_000f64.sqrt();
    check("sample without replacement", ok, true, &mut n);
    let r = big.sample(true, 0.5, 7)?.collect()?;
    let ok = r.windows(2).all(|w| w[0] <= w[1])
        && r.windows(2).any(|w| w[0] == w[1])
        && (r.len() as f64 - 50_000.0).abs() < 6.0 * 50_000f64.sqrt();
    check("sample with replacement", ok, true, &mut n);
    check(
        "sample all",
        big.sample(false, 1.0, 1)?.count()?,
        100_000,
        &mut n,
    );
    check(
        "sample refuses a fraction over 1",
        big.sample(false, 1.5, 1).err().map(|e| e.to_string()),
        Some(
            "configuration: sample: fraction 1.5 is out of range (0 to 1 without replacement)"
                .into(),
        ),
        &mut n,
    );

    // Two datasets.
    let small = ctx.parallelize((0..7u64).collect(), 2);
    let letters = ctx.parallelize(vec!['a', 'b', 'c'], 2);
    let mut want_cart = Vec::new();
    for x in 0..7u64 {
        for c in ['a', 'b', 'c'] {
            want_cart.push((x, c));
        }
    }
    let cart = small.cartesian(&letters);
    check("cartesian partitions", cart.num_partitions(), 4, &mut n);
    check("cartesian", sorted(cart.collect()?), want_cart, &mut n);
    check(
        "cartesian large",
        ds.cartesian(&ctx.range(0, 3, 1)).count()?,
        15_000,
        &mut n,
    );
    let evens = ctx.range(0, 600, 3).map(|x| x * 2);
    let want_inter: BTreeSet<u64> = data
        .iter()
        .copied()
        .filter(|x| x % 2 == 0 && *x < 1200)
        .collect();
    check(
        "intersection",
        sorted(ds.intersection(&evens).collect()?),
        want_inter.into_iter().collect(),
        &mut n,
    );
    check(
        "subtract",
        sorted(ds.subtract(&evens).collect()?),
        sorted(
            data.iter()
                .copied()
                .filter(|x| !(x % 2 == 0 && *x < 1200))
                .collect(),
        ),
        &mut n,
    );

    // foreach_partition runs in the executors: seen through an accumulator.
    let sizes = ctx.accumulator(Vec::<u64>::new());
    ds.foreach_partition_with(sizes, |s, recs| s.add(vec![recs.count() as u64]))?;
    check("foreach_partition", sizes.value(), vec![1000; 5], &mut n);
    let total = ctx.accumulator(0u64);
    ds.foreach_with(total, |t, x| t.add(x))?;
    check("foreach_with", total.value(), sum, &mut n);

    // unpersist: cached, computed once; unpersisted, computed every time.
    let computed = ctx.accumulator(0u64);
    let cached = ds
        .map_with(computed, |c, x| {
            c.add(1);
            x
        })
        .cache();
    cached.count()?;
    cached.count()?;
    check("cached computes once", computed.value(), 5000, &mut n);
    cached.unpersist();
    check(
        "unpersisted still right",
        cached.collect()?,
        data.clone(),
        &mut n,
    );
    cached.count()?;
    check("unpersisted recomputes", computed.value(), 15_000, &mut n);

    // unpersist drops what executors keep on disk (seen in local mode).
    let on_disk = ds.map(|x| x + 1).persist(StorageLevel::DiskOnly);
    on_disk.count()?;
    let before = executor_files("cache_").len();
    on_disk.unpersist();
    let after = executor_files("cache_").len();
    println!("unpersist: {before} cached files before, {after} after");

    // Whole files: the part files a save wrote, read back whole.
    let lines: Vec<String> = (0..300)
        .map(|i| format!("line {i} {}", "x".repeat(i % 13)))
        .collect();
    let text_dir = format!("{dir}/text");
    ctx.parallelize(lines.clone(), 3)
        .save_as_text_file(&text_dir)?;
    let mut want_files = BTreeMap::new();
    for (i, chunk) in lines.chunks(100).enumerate() {
        let body: String = chunk.iter().map(|l| format!("{l}\n")).collect();
        want_files.insert(format!("part-{i:05}"), body);
    }
    let base = |p: String| p.rsplit('/').next().unwrap().to_string();
    let whole = ctx.whole_text_files(&text_dir, Some(2))?;
    check(
        "whole_text_files partitions",
        whole.num_partitions(),
        2,
        &mut n,
    );
    check(
        "whole_text_files",
        whole
            .collect()?
            .into_iter()
            .map(|(p, c)| (base(p), c))
            .collect::<BTreeMap<_, _>>(),
        want_files.clone(),
        &mut n,
    );
    check(
        "binary_files",
        ctx.binary_files(&text_dir, None)?
            .collect()?
            .into_iter()
            .map(|(p, c)| (base(p), c))
            .collect::<BTreeMap<_, _>>(),
        want_files
            .into_iter()
            .map(|(p, c)| (p, c.into_bytes()))
            .collect(),
        &mut n,
    );

    // checkpoint: written once, then read from the files, never recomputed.
    ctx.set_checkpoint_dir(&format!("{dir}/checkpoints"));
    let computed = ctx.accumulator(0u64);
    let pairs_done = ds
        .map_with(computed, |c, x| {
            c.add(1);
            (x % 17, x)
        })
        .reduce_by_key(|a, b| a + b);
    let saved = pairs_done.checkpoint()?;
    let after_checkpoint = computed.value();
    let want_sums: BTreeMap<u64, u64> = want_groups
        .iter()
        .map(|(k, v)| (*k, v.iter().sum()))
        .collect();
    check(
        "checkpoint",
        saved.collect()?.into_iter().collect::<BTreeMap<_, _>>(),
        want_sums,
        &mut n,
    );
    saved.count()?;
    check(
        "checkpoint computed once",
        (after_checkpoint, computed.value()),
        (5000, 5000),
        &mut n,
    );

    println!("rdd: all {n} checks passed");
    eprintln!("rdd: all {n} checks passed");
    Ok(())
}

/// A closure panics on one record while writing output.
fn panic_job(ctx: &Context, out: &str) -> Result<()> {
    ctx.range(0, 1000, 4)
        .map(|x| {
            if x == 777 {
                panic!("boom at record {x}")
            } else {
                x
            }
        })
        .save_as_text_file(out)
}

/// A shuffle-heavy job the test kills an executor in: prints READY once the
/// map outputs exist, waits for a line on stdin, then reduces slowly.
fn kill_shuffle(ctx: &Context) -> Result<()> {
    // Map tasks rerun after the loss: their records still count once.
    let records = ctx.accumulator(0u64);
    let sums = ctx
        .range(0, 200_000, 8)
        .map_with(records, |r, x| {
            r.add(1);
            (x % 1000, x)
        })
        .reduce_by_key_into(|a, b| a + b, 8)
        .map_partitions(|_, recs| {
            let v: Vec<(u64, u64)> = recs.collect();
            std::thread::sleep(std::time::Duration::from_millis(400));
            v
        });
    // Runs the map stage (and a first reduce).
    let first = sums.count()?;
    println!("READY {first}");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok();
    let got: BTreeMap<u64, u64> = sums.collect()?.into_iter().collect();
    let mut want: BTreeMap<u64, u64> = BTreeMap::new();
    for x in 0..200_000u64 {
        *want.entry(x % 1000).or_default() += x;
    }
    if got != want {
        eprintln!("wrong answer after the executor was killed");
        std::process::exit(3);
    }
    if records.value() != 200_000 {
        eprintln!(
            "accumulator counted {} records, not 200000",
            records.value()
        );
        std::process::exit(3);
    }
    println!("RESULT OK {}", got.len());
    Ok(())
}

/// A shuffle whose blocks the test damages on disk after READY: the reducers
/// find the damage by its checksum, the map outputs are recomputed from
/// lineage, and the answer is still right.
fn corrupt_shuffle(ctx: &Context) -> Result<()> {
    // The damaged map outputs are recomputed: their records still count once.
    let records = ctx.accumulator(0u64);
    let sums = ctx
        .range(0, 200_000, 4)
        .map_with(records, |r, x| {
            r.add(1);
            (x % 1000, x)
        })
        .reduce_by_key_into(|a, b| a + b, 4);
    // Runs the map stage (and a first reduce).
    let first = sums.count()?;
    println!("READY {first}");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok();
    let got: BTreeMap<u64, u64> = sums.collect()?.into_iter().collect();
    let mut want: BTreeMap<u64, u64> = BTreeMap::new();
    for x in 0..200_000u64 {
        *want.entry(x % 1000).or_default() += x;
    }
    if got != want {
        eprintln!("wrong answer after the shuffle files were damaged");
        std::process::exit(3);
    }
    if records.value() != 200_000 {
        eprintln!(
            "accumulator counted {} records, not 200000",
            records.value()
        );
        std::process::exit(3);
    }
    println!("RESULT OK {}", got.len());
    Ok(())
}

/// Persists a dataset to disk, prints READY, waits for a line on stdin (the
/// test damages the cached files meanwhile), then sums it: damaged partitions
/// must be recomputed, never used.
fn corrupt_cache(ctx: &Context) -> Result<()> {
    let ds = ctx
        .range(0, 100_000, 4)
        .map(|x| (x, format!("value {x}")))
        .persist(StorageLevel::DiskOnly);
    println!("READY {}", ds.count()?);
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok();
    let got = ds.collect()?;
    let want: Vec<(u64, String)> = (0..100_000).map(|x| (x, format!("value {x}"))).collect();
    if got != want {
        eprintln!("wrong answer after the cached files were damaged");
        std::process::exit(3);
    }
    println!("RESULT OK {}", got.len());
    Ok(())
}

/// Logs every computation of a cached dataset's records to LOGDIR, then
/// uses it three times: with enough cache memory only the first computes.
fn cache_job(ctx: &Context, logdir: &str) -> Result<()> {
    let ds = ctx
        .range(0, 4000, 4)
        .map_with(logdir.to_string(), |dir, x| {
            if x % 1000 == 0 {
                let f = format!("{dir}/computed-{x}-{}", std::process::id());
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(f)
                    .unwrap();
                let path = format!("{dir}/log");
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .unwrap();
                writeln!(f, "{x}").unwrap();
            }
            vec![x; 64]
        })
        .cache();
    for _ in 0..3 {
        let c = ds.count()?;
        assert_eq!(c, 4000);
    }
    println!("cache job done");
    Ok(())
}

/// An aggregation far larger than its memory limit (run with a small
/// SPINDLE_SHUFFLE_MEMORY_MB): spills on both sides and stays right.
fn spill_job(ctx: &Context) -> Result<()> {
    let got: HashMap<String, u64> = ctx
        .range(0, 300_000, 4)
        .map(|x| (format!("key-{:08}", x % 150_000), 1u64))
        .reduce_by_key(|a, b| a + b)
        .collect()?
        .into_iter()
        .collect();
    let ok = got.len() == 150_000 && got.values().all(|c| *c == 2);
    println!(
        "spill job {} keys, {}",
        got.len(),
        if ok { "correct" } else { "WRONG" }
    );
    if !ok {
        std::process::exit(3);
    }
    Ok(())
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^ (z >> 31)
}

/// Spill files (`spill_*`) left in the local dirs of this driver's executors
/// (local mode keeps them under the temporary directory, named by our pid).
fn spill_files_left() -> Vec<std::path::PathBuf> {
    executor_files("spill_")
}

/// Files named `name*` in the local dirs of this driver's executors (local
/// mode only: none are found under YARN).
fn executor_files(name: &str) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, name: &str, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, name, out);
            } else if e.file_name().to_string_lossy().starts_with(name) {
                out.push(p);
            }
        }
    }
    let prefix = format!("spindle-{}-", std::process::id());
    let mut out = Vec::new();
    for e in std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            walk(&e.path(), name, &mut out);
        }
    }
    out
}

/// sort_by_key, group_by_key and join far larger than the memory limit (run
/// with SPINDLE_SHUFFLE_MEMORY_MB=1): external sort and merge on the reduce
/// side; answers checked against plain vectors, and no spill file left.
fn external_sort_job(ctx: &Context) -> Result<()> {
    let n = 400_000u64;
    let pairs = ctx.range(0, n, 4).map(|i| (mix(i) % 1_000_000_000, i));
    let got = pairs.sort_by_key(true, 2)?.collect()?;
    let mut want: Vec<(u64, u64)> = (0..n).map(|i| (mix(i) % 1_000_000_000, i)).collect();
    want.sort();
    let keys = |v: &[(u64, u64)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
    let ok_sort = keys(&got) == keys(&want) && sorted(got) == want;
    let left_over_after_sort = spill_files_left().len();

    let grouped = ctx
        .range(0, n, 4)
        .map(|i| (mix(i) % 2_000, mix(i)))
        .group_by_key()
        .collect()?;
    let mut want: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for i in 0..n {
        want.entry(mix(i) % 2_000).or_default().push(mix(i));
    }
    let got: BTreeMap<u64, Vec<u64>> = grouped.into_iter().map(|(k, v)| (k, sorted(v))).collect();
    let want: BTreeMap<u64, Vec<u64>> = want.into_iter().map(|(k, v)| (k, sorted(v))).collect();
    let ok_group = got == want;
    let left_over_after_group = spill_files_left().len();

    let left = ctx.range(0, n, 4).map(|i| (mix(i) % 50_000, i));
    let right = ctx.range(0, 60_000, 2).map(|j| (j % 50_000, j));
    let joined = sorted(left.join(&right).collect()?);
    let mut want = Vec::new();
    for i in 0..n {
        let k = mix(i) % 50_000;
        for j in [k, k + 50_000] {
            if j < 60_000 {
                want.push((k, (i, j)));
            }
        }
    }
    let ok_join = joined == sorted(want);
    let left_over = spill_files_left().len();
    println!(
        "external sort: sort {}, group {}, join {}, spill files left {}",
        if ok_sort { "correct" } else { "WRONG" },
        if ok_group { "correct" } else { "WRONG" },
        if ok_join { "correct" } else { "WRONG" },
        left_over_after_sort + left_over_after_group + left_over
    );
    if !(ok_sort && ok_group && ok_join) {
        std::process::exit(3);
    }
    Ok(())
}

/// Engine overheads: N no-op tasks in one job, a few tiny jobs, and the
/// resident memory of the idle executors (children of this process).
fn overheads(ctx: &Context, n: u32) -> Result<()> {
    let t = std::time::Instant::now();
    ctx.range(0, 4, 2).count()?;
    println!("first job (executors starting): {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let c = ctx.range(0, n as u64, n).count()?;
    println!("{n} no-op tasks: {:?} ({c} records)", t.elapsed());
    let t = std::time::Instant::now();
    for _ in 0..100 {
        ctx.range(0, 10, 2).count()?;
    }
    println!("100 tiny jobs: {:?}", t.elapsed());
    std::thread::sleep(std::time::Duration::from_secs(2));
    for (pid, rss) in children_rss() {
        println!("idle executor pid {pid}: RSS {rss} KiB");
    }
    Ok(())
}

/// Runs one small job on every executor, then leaves them idle for
/// `seconds` (bench/yarn measures an idle executor's memory meanwhile).
/// Numbered lines over `seconds`: the driver prints `driver N` on stdout, the
/// task of each of two partitions `part P out N` on stdout and `part P err N`
/// on stderr, ten a second (yarn_operations follows them with `logs --follow`).
fn chatty(ctx: &Context, seconds: u64) -> Result<()> {
    let lines = seconds * 10;
    let driver = std::thread::spawn(move || {
        for i in 0..lines {
            println!("driver {i}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
    let parts = ctx
        .parallelize(vec![0u32, 1], 2)
        .map_with(lines, |lines, p| {
            for i in 0..*lines {
                println!("part {p} out {i}");
                eprintln!("part {p} err {i}");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            p
        })
        .collect()?;
    driver.join().expect("the driver's printing thread");
    println!("chatty: parts {parts:?}");
    Ok(())
}

fn idle(ctx: &Context, seconds: u64) -> Result<()> {
    let n = ctx.range(0, 1000, ctx.default_parallelism()).count()?;
    println!("idle: counted {n}, now idle for {seconds} s");
    std::thread::sleep(std::time::Duration::from_secs(seconds));
    Ok(())
}

fn children_rss() -> Vec<(u32, u64)> {
    let me = std::process::id();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        };
        if field("PPid:") == Some(me as u64) {
            out.push((pid, field("VmRSS:").unwrap_or(0)));
        }
    }
    out
}

/// A job before the save: an AM attempt killed during the count has not yet
/// looked at OUT, so only the next attempt meets what is there.
fn count_then_save(ctx: &Context, input: &str, out: &str) -> Result<()> {
    let lines = ctx.text_file(input, None)?;
    eprintln!("count-then-save: {} lines", lines.count()?);
    lines.save_as_text_file(out)
}

/// `hdfs-rounds IN DIR SECONDS`: reads and writes HDFS from the executors for at least
/// SECONDS: each round copies the previous round's output (at first IN) to `DIR/round-N`, then
/// pauses; at the end the last copy must hold as many lines as IN. Long enough, it outlives the
/// application's first delegation tokens.
fn hdfs_rounds(ctx: &Context, input: &str, dir: &str, seconds: u64) -> Result<()> {
    let start = std::time::Instant::now();
    let want = ctx.text_file(input, None)?.count()?;
    let mut src = input.to_string();
    let mut round = 0;
    while start.elapsed().as_secs() < seconds {
        round += 1;
        let out = format!("{dir}/round-{round}");
        ctx.text_file(&src, None)?.save_as_text_file(&out)?;
        eprintln!(
            "hdfs-rounds: round {round} done at {} s",
            start.elapsed().as_secs()
        );
        src = out;
        std::thread::sleep(std::time::Duration::from_secs(12));
    }
    let got = ctx.text_file(&src, None)?.count()?;
    if got != want {
        return Err(spindle::Error::Task(format!(
            "hdfs-rounds: {src} has {got} lines, {input} {want}"
        )));
    }
    println!(
        "hdfs-rounds: {round} rounds in {} s, {got} lines",
        start.elapsed().as_secs()
    );
    Ok(())
}

/// `stderr-bytes`: writes non-UTF-8 bytes and 300,000 more to stderr and exits 1 before
/// `spindle::main` (so a client-mode submission never submits an application): what
/// `spindle submit` relays from a client-mode driver.
/// Dynamic allocation on YARN: a slow map stage backs tasks up (executors are
/// asked for) and caches its partitions, the executors then idle and are
/// given back, their shuffle output and cached partitions moved first; a
/// second action reads that shuffle again and must find every map output, a
/// third reads the cached dataset and must find every partition (nothing
/// recomputed).
fn elastic(ctx: &Context) -> Result<()> {
    let mut n = 0;
    let data: Vec<u64> = (0..16_000).collect();
    let pairs = ctx
        .parallelize(data.clone(), 16)
        .map_partitions(|_, records| {
            std::thread::sleep(std::time::Duration::from_millis(700));
            records.map(|x| (x % 97, x)).collect::<Vec<_>>()
        })
        .cache();
    let reduced = pairs.reduce_by_key_into(|a, b| a + b, 4);
    let mut want: BTreeMap<u64, u64> = BTreeMap::new();
    for x in &data {
        *want.entry(x % 97).or_insert(0) += x;
    }
    check("phase 1 keys", reduced.count()?, 97, &mut n);
    let after_phase_1 = ctx.elastic_stats();
    println!("elastic: after phase 1: {after_phase_1:?}");
    // Idle now: executors beyond the minimum (1) are given back, all of them
    // before the cached dataset is read again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let down = || {
        let s = ctx.elastic_stats();
        s.removed_idle > 0 && s.removed_idle + 1 >= s.registered
    };
    while !down() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let scaled_down = ctx.elastic_stats();
    println!("elastic: scaled down: {scaled_down:?}");
    check(
        "phase 2 sums",
        reduced.collect()?.into_iter().collect::<BTreeMap<_, _>>(),
        want,
        &mut n,
    );
    let cached = pairs.collect()?;
    check("phase 3 records", cached.len(), data.len(), &mut n);
    check(
        "phase 3 sum",
        cached.iter().map(|(_, x)| x).sum::<u64>(),
        data.iter().sum::<u64>(),
        &mut n,
    );
    let end = ctx.elastic_stats();
    println!("elastic: at the end: {end:?}");
    check(
        "executors asked for the backlog",
        end.requested_for_backlog > 0,
        true,
        &mut n,
    );
    check("executors removed idle", end.removed_idle > 0, true, &mut n);
    check(
        "shuffle blocks migrated",
        end.blocks_migrated > 0,
        true,
        &mut n,
    );
    check_nothing_recomputed(&end, 1, &mut n);
    println!("elastic: all {n} checks passed");
    // Time for the test to read the AM's JSON while it still answers.
    std::thread::sleep(std::time::Duration::from_secs(3));
    Ok(())
}

/// Dynamic allocation down to no executor between two actions
/// (`minExecutors=0`): the last executor's shuffle output goes to the
/// application's staging directory in HDFS as it is given back, and the second
/// action reads it from there, on a new executor, recomputing nothing.
fn elastic_to_zero(ctx: &Context) -> Result<()> {
    let mut n = 0;
    let data: Vec<u64> = (0..8_000).collect();
    let reduced = ctx
        .parallelize(data.clone(), 6)
        .map(|x| (x % 31, x))
        .reduce_by_key_into(|a, b| a + b, 3);
    let mut want: BTreeMap<u64, u64> = BTreeMap::new();
    for x in &data {
        *want.entry(x % 31).or_insert(0) += x;
    }
    check("phase 1 keys", reduced.count()?, 31, &mut n);
    // A cached dataset (memory only): its 4 partitions leave with the last executor.
    let squares = ctx
        .parallelize(data.clone(), 4)
        .map(|x| x * x % 1009)
        .persist(StorageLevel::MemoryOnly);
    let square_sum: u64 = data.iter().map(|x| x * x % 1009).sum();
    check("phase 1 cached count", squares.count()?, 8_000, &mut n);
    // Idle now: every executor is given back.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let gone = || {
        let s = ctx.elastic_stats();
        s.registered > 0 && s.removed_idle >= s.registered
    };
    while !gone() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    println!(
        "elastic-to-zero: no executor left: {:?}",
        ctx.elastic_stats()
    );
    check("every executor given back", gone(), true, &mut n);
    // Time for the test to see the blocks in HDFS while no executor runs.
    std::thread::sleep(std::time::Duration::from_secs(4));
    check(
        "phase 2 sums",
        reduced.collect()?.into_iter().collect::<BTreeMap<_, _>>(),
        want,
        &mut n,
    );
    // Read back from the staging directory, then kept where it was read.
    for read in ["phase 2 cached sum", "phase 2 cached sum again"] {
        check(
            read,
            squares.reduce(|a, b| a + b)?,
            Some(square_sum),
            &mut n,
        );
    }
    let end = ctx.elastic_stats();
    println!("elastic-to-zero: at the end: {end:?}");
    check("blocks moved", end.blocks_migrated > 0, true, &mut n);
    check_nothing_recomputed(&end, 4, &mut n);
    println!("elastic-to-zero: all {n} checks passed");
    std::thread::sleep(std::time::Duration::from_secs(3));
    Ok(())
}

/// A wide phase (16 tasks of 1.5 s) then a narrow one (one task of
/// `seconds`), the shape where idle executors hold a cluster for nothing:
/// bench/yarn/elastic.sh runs it with dynamic allocation on and off.
fn two_phase(ctx: &Context, seconds: u64) -> Result<()> {
    let mut n = 0;
    let data: Vec<u64> = (0..16_000).collect();
    let sums = ctx
        .parallelize(data.clone(), 16)
        .map_partitions(|_, records| {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            records.map(|x| (x % 10, x)).collect::<Vec<_>>()
        })
        .reduce_by_key_into(|a, b| a + b, 1)
        .map_partitions_with(seconds, |s, _, records| {
            std::thread::sleep(std::time::Duration::from_secs(*s));
            records.collect::<Vec<_>>()
        });
    let mut want: BTreeMap<u64, u64> = BTreeMap::new();
    for x in &data {
        *want.entry(x % 10).or_insert(0) += x;
    }
    check(
        "sums",
        sums.collect()?.into_iter().collect::<BTreeMap<_, _>>(),
        want,
        &mut n,
    );
    println!("two-phase: {:?}", ctx.elastic_stats());
    println!("two-phase: all {n} checks passed");
    Ok(())
}

/// The key of record `i` in the memory soak: three records in four go to
/// 100 hot keys, the rest spread over 40 000.
fn soak_key(i: u64) -> u64 {
    let h = mix(i);
    if !h.is_multiple_of(4) {
        h % 100
    } else {
        100 + (h >> 8) % 40_000
    }
}

/// Group-by over skewed keys, more records than the executors' memory holds,
/// from a cached input, `rounds` times (yarn_cluster's memory test, on a
/// cluster that kills containers over their memory): every round's groups
/// must match a plain computation here, key by key (count and checksum).
fn memory_soak(ctx: &Context, records: u64, rounds: u32) -> Result<()> {
    let mut n = 0;
    let mut want: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for i in 0..records {
        let e = want.entry(format!("key-{}", soak_key(i))).or_default();
        e.0 += 1;
        e.1 = e.1.wrapping_add(mix(i));
    }
    let input = ctx
        .range(0, records, 8)
        .map(|i| {
            let payload = format!("{:016x}{:016x}{:08x}", mix(i), mix(i + 1), i as u32);
            (format!("key-{}", soak_key(i)), payload)
        })
        .persist(StorageLevel::MemoryOnly);
    for round in 0..rounds {
        let got: BTreeMap<String, (u64, u64)> = input
            .group_by_key()
            .map(|(k, vs)| {
                let sum = vs.iter().fold(0u64, |a, v| {
                    a.wrapping_add(u64::from_str_radix(&v[..16], 16).expect("hex payload"))
                });
                (k, (vs.len() as u64, sum))
            })
            .collect()?
            .into_iter()
            .collect();
        check(&format!("round {round} groups"), got == want, true, &mut n);
        println!("memory-soak: round {round}: {} keys right", want.len());
    }
    println!("memory-soak: all {n} checks passed");
    Ok(())
}

/// Two slow shuffle stages that fill a queue, for yarn_cluster's preemption
/// test: whatever YARN takes back meanwhile, the sums must come out right.
fn preemptible(ctx: &Context) -> Result<()> {
    let mut n = 0;
    let data: Vec<u64> = (0..36_000).collect();
    let sums = ctx
        .parallelize(data.clone(), 36)
        .map_partitions(|_, records| {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            records.map(|x| (x % 101, x)).collect::<Vec<_>>()
        })
        .reduce_by_key_into(|a, b| a + b, 36)
        .map_partitions(|_, records| {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            records.collect::<Vec<_>>()
        });
    let mut want: BTreeMap<u64, u64> = BTreeMap::new();
    for x in &data {
        *want.entry(x % 101).or_insert(0) += x;
    }
    check(
        "sums",
        sums.collect()?.into_iter().collect::<BTreeMap<_, _>>(),
        want,
        &mut n,
    );
    println!("preemptible: {:?}", ctx.elastic_stats());
    println!("preemptible: all {n} checks passed");
    std::thread::sleep(std::time::Duration::from_secs(3));
    Ok(())
}

fn stderr_bytes() -> ! {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(b"before \xff\xfe after\n");
    let _ = err.write_all(&[b'x'; 300_000]);
    let _ = err.write_all(b"\ndone\n");
    let _ = err.flush();
    std::process::exit(1)
}

/// Inputs and outputs in one application: reads IN (any path, pattern or
/// list `text_file` takes; compressed files too), writes its lines to
/// OUT/plain, then to OUT/<codec> compressed by each codec.
fn codecs(ctx: &Context, input: &str, out: &str) -> Result<()> {
    let lines = ctx.text_file(input, Some(3))?;
    lines.save_as_text_file(&format!("{out}/plain"))?;
    for codec in spindle::Codec::ALL {
        lines.save_as_text_file_with_codec(&format!("{out}/{codec}"), codec)?;
    }
    Ok(())
}

/// SequenceFiles: the `Text` ones of DIR (`text-*`) and the
/// `BytesWritable` ones (`bytes-*`), each record as a `key<TAB>value` line
/// in OUT/text and OUT/bytes.
fn seqfiles(ctx: &Context, dir: &str, out: &str) -> Result<()> {
    ctx.sequence_file::<String, String>(&format!("{dir}/text-*"))?
        .map(|(k, v)| format!("{k}\t{v}"))
        .save_as_text_file(&format!("{out}/text"))?;
    ctx.sequence_file::<Vec<u8>, Vec<u8>>(&format!("{dir}/bytes-*"))?
        .map(|(k, v)| {
            let s = |b: Vec<u8>| String::from_utf8(b).unwrap_or_else(|e| format!("{e}"));
            format!("{}\t{}", s(k), s(v))
        })
        .save_as_text_file(&format!("{out}/bytes"))
}

/// A record of the columnar tests: record `i` of their inputs is [`event`]`(i)`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Event {
    id: i64,
    name: String,
    score: Option<f64>,
}

/// Record `i` as the tests' Python writes it (pyarrow, Spark): a comma and
/// quotes in some names (CSV quoting), no score for every third.
fn event(i: i64) -> Event {
    Event {
        id: i,
        name: if i % 7 == 0 {
            format!("n,\"{i}\"")
        } else {
            format!("name {i}")
        },
        score: (i % 3 != 0).then_some(i as f64 * 0.5),
    }
}

/// Parquet, CSV and JSON lines written by others: IN/parquet (several row
/// groups, an extra column), IN/csv, IN/json and, if given, SPARK (a
/// directory Spark wrote) are read and checked record by record against
/// [`event`]; then written to OUT/parquet, OUT/csv and OUT/json for others
/// to read.
fn columnar(ctx: &Context, input: &str, out: &str, spark: Option<&str>) -> Result<()> {
    let mut n = 0;
    let by_id = |v: Vec<Event>| {
        let mut v = v;
        v.sort_by_key(|e| e.id);
        v
    };
    let pq = ctx.parquet_file::<Event>(&format!("{input}/parquet"), Some(64))?;
    eprintln!("columnar: parquet partitions {}", pq.num_partitions());
    let rows = by_id(pq.collect()?);
    let count = rows.len() as i64;
    check(
        "parquet rows",
        rows,
        (0..count).map(event).collect(),
        &mut n,
    );
    check("parquet not empty", count > 0, true, &mut n);
    let want: Vec<Event> = (0..count).map(event).collect();
    let csv = ctx.csv_file::<Event>(&format!("{input}/csv"), Some(3))?;
    check("csv rows", by_id(csv.collect()?), want.clone(), &mut n);
    let json = ctx.json_file::<Event>(&format!("{input}/json"), Some(3))?;
    check("json rows", by_id(json.collect()?), want.clone(), &mut n);
    if let Some(spark) = spark {
        let s = ctx.parquet_file::<Event>(spark, None)?;
        check(
            "spark's parquet rows",
            by_id(s.collect()?),
            want.clone(),
            &mut n,
        );
    }
    pq.save_as_parquet(&format!("{out}/parquet"))?;
    csv.save_as_csv(&format!("{out}/csv"))?;
    json.save_as_json(&format!("{out}/json"))?;
    eprintln!("columnar: {n} checks passed, {count} rows");
    Ok(())
}

/// Counts the records of one input (`parquet`, `csv` or `json`): the bad-input tests.
fn columnar_count(ctx: &Context, format: &str, path: &str) -> Result<()> {
    let n = match format {
        "parquet" => ctx.parquet_file::<Event>(path, None)?.count()?,
        "csv" => ctx.csv_file::<Event>(path, None)?.count()?,
        _ => ctx.json_file::<Event>(path, None)?.count()?,
    };
    eprintln!("columnar-count: {n}");
    Ok(())
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("stderr-bytes") {
        stderr_bytes();
    }
    spindle::main(|ctx| {
        let args: Vec<String> = std::env::args().skip(1).collect();
        match args.first().map(String::as_str) {
            Some("ops") => ops(ctx),
            Some("rdd") if args.len() == 2 => rdd(ctx, &args[1]),
            Some("panic") => panic_job(ctx, args.get(1).map(String::as_str).unwrap_or("out")),
            Some("kill-shuffle") => kill_shuffle(ctx),
            Some("corrupt-shuffle") => corrupt_shuffle(ctx),
            Some("corrupt-cache") => corrupt_cache(ctx),
            Some("cache") => cache_job(ctx, args.get(1).map(String::as_str).unwrap_or(".")),
            Some("spill") => spill_job(ctx),
            Some("external-sort") => external_sort_job(ctx),
            Some("chatty") => chatty(ctx, args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5)),
            Some("idle") => idle(ctx, args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10)),
            Some("overheads") => overheads(
                ctx,
                args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000),
            ),
            Some("count-then-save") if args.len() == 3 => count_then_save(ctx, &args[1], &args[2]),
            Some("codecs") if args.len() == 3 => codecs(ctx, &args[1], &args[2]),
            Some("seqfiles") if args.len() == 3 => seqfiles(ctx, &args[1], &args[2]),
            Some("columnar") if args.len() >= 3 => {
                columnar(ctx, &args[1], &args[2], args.get(3).map(String::as_str))
            }
            Some("columnar-count") if args.len() == 3 => columnar_count(ctx, &args[1], &args[2]),
            Some("elastic") => elastic(ctx),
            Some("elastic-to-zero") => elastic_to_zero(ctx),
            Some("preemptible") => preemptible(ctx),
            Some("two-phase") => {
                two_phase(ctx, args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20))
            }
            Some("memory-soak") if args.len() == 3 => memory_soak(
                ctx,
                args[1].parse().unwrap_or(1_000_000),
                args[2].parse().unwrap_or(3),
            ),
            Some("hdfs-rounds") if args.len() == 4 => match args[3].parse() {
                Ok(secs) => hdfs_rounds(ctx, &args[1], &args[2], secs),
                Err(_) => Err(spindle::Error::Task(format!(
                    "hdfs-rounds: SECONDS {:?} is not a number",
                    args[3]
                ))),
            },
            _ => {
                eprintln!(
                    "usage: spindle-testjobs ops | rdd DIR | stderr-bytes | panic OUT | kill-shuffle | corrupt-shuffle | corrupt-cache | cache LOGDIR | spill | external-sort | chatty SECONDS | idle SECONDS | overheads N | count-then-save IN OUT | codecs IN OUT | seqfiles DIR OUT | columnar IN OUT [SPARK] | columnar-count FORMAT PATH | elastic | preemptible | memory-soak RECORDS ROUNDS | two-phase SECONDS | hdfs-rounds IN DIR SECONDS"
                );
                std::process::exit(2)
            }
        }
    })
}
