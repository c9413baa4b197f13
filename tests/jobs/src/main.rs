//! Jobs the end-to-end tests run to exercise the engine: `spindle-testjobs
//! ops | panic OUT | kill-shuffle | corrupt-shuffle | corrupt-cache | cache LOGDIR | spill | external-sort
//! | idle SECONDS | overheads N | count-then-save IN OUT | codecs IN OUT | seqfiles DIR OUT`. The engine's tests (`tests/engine.rs`) run them in local mode,
//! yarn_cluster runs `count-then-save`, yarn_codecs runs `codecs` and `seqfiles`, the benchmarks run `overheads` (bench/local) and `idle`
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
    let sums = ctx
        .range(0, 200_000, 8)
        .map(|x| (x % 1000, x))
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
    println!("RESULT OK {}", got.len());
    Ok(())
}

/// A shuffle whose blocks the test damages on disk after READY: the reducers
/// find the damage by its checksum, the map outputs are recomputed from
/// lineage, and the answer is still right.
fn corrupt_shuffle(ctx: &Context) -> Result<()> {
    let sums = ctx
        .range(0, 200_000, 4)
        .map(|x| (x % 1000, x))
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
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if e.file_name().to_string_lossy().starts_with("spill_") {
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
            walk(&e.path(), &mut out);
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

fn main() {
    spindle::main(|ctx| {
        let args: Vec<String> = std::env::args().skip(1).collect();
        match args.first().map(String::as_str) {
            Some("ops") => ops(ctx),
            Some("panic") => panic_job(ctx, args.get(1).map(String::as_str).unwrap_or("out")),
            Some("kill-shuffle") => kill_shuffle(ctx),
            Some("corrupt-shuffle") => corrupt_shuffle(ctx),
            Some("corrupt-cache") => corrupt_cache(ctx),
            Some("cache") => cache_job(ctx, args.get(1).map(String::as_str).unwrap_or(".")),
            Some("spill") => spill_job(ctx),
            Some("external-sort") => external_sort_job(ctx),
            Some("idle") => idle(ctx, args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10)),
            Some("overheads") => overheads(
                ctx,
                args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000),
            ),
            Some("count-then-save") if args.len() == 3 => count_then_save(ctx, &args[1], &args[2]),
            Some("codecs") if args.len() == 3 => codecs(ctx, &args[1], &args[2]),
            Some("seqfiles") if args.len() == 3 => seqfiles(ctx, &args[1], &args[2]),
            _ => {
                eprintln!(
                    "usage: spindle-testjobs ops | panic OUT | kill-shuffle | corrupt-shuffle | corrupt-cache | cache LOGDIR | spill | external-sort | idle SECONDS | overheads N | count-then-save IN OUT | codecs IN OUT | seqfiles DIR OUT"
                );
                std::process::exit(2)
            }
        }
    })
}
