//! An executor's watch over its own resident memory. YARN kills a container
//! whose processes' resident memory passes the container's size (exit -104,
//! with `yarn.nodemanager.pmem-check-enabled`); the engine's budgets for
//! aggregation and cached partitions rest on estimated record sizes, which a
//! user's types can make wrong. So the executor reads its real resident set
//! a few times a second and, past a high-water mark below the limit, raises
//! the pressure signal: aggregation maps, sort buffers and join tables spill
//! or give up at their next record ([`Pressure`]), cached partitions leave
//! memory (recomputed from lineage, or read from disk when persisted so),
//! and freed memory goes back to the system. Growth through Spindle's own
//! structures then stops short of the limit, and nobody raises
//! `spindle.executor.memoryOverhead` to stop kills.
//!
//! # Caveats
//! Memory a user's closure holds on its own (a huge `Vec` built in a
//! `map_partitions`) is not the engine's to spill: the signal only stops
//! the engine from adding to it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the resident set is read (a read of `/proc/self/statm` costs
/// microseconds; at 50 ms a task adds at most a few MiB between two reads).
const INTERVAL: Duration = Duration::from_millis(50);
/// Structures smaller than this keep their records under pressure: spilling
/// them would free little and make many tiny files.
pub(crate) const MIN_SPILL: usize = 1 << 20;

/// Bumped each time the watcher finds the resident set above the mark.
static EPOCH: AtomicU64 = AtomicU64::new(0);
/// Times the mark was passed, and the highest resident set seen (bytes).
static EVENTS: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

/// One structure's view of the pressure signal: [`Pressure::raised`] is true
/// once for each time the watcher found memory above the mark since the
/// structure last looked (an atomic load per record).
#[derive(Debug)]
pub(crate) struct Pressure(u64);

impl Pressure {
    pub(crate) fn new() -> Self {
        Pressure(EPOCH.load(Ordering::Relaxed))
    }

    /// Whether memory was found above the mark since the last call.
    pub(crate) fn raised(&mut self) -> bool {
        self.raised_at(EPOCH.load(Ordering::Relaxed))
    }

    fn raised_at(&mut self, now: u64) -> bool {
        if now == self.0 {
            return false;
        }
        self.0 = now;
        true
    }
}

/// The resident set to stay under for a container of `limit` bytes: room
/// for what grows between two reads and for the container's launch shell.
pub fn high_water(limit: u64) -> u64 {
    let room = (limit / 5).max(16 << 20).min(limit / 2);
    limit - room
}

/// This process's resident set in bytes (`/proc/self/statm`, the count the
/// NodeManager's process-tree monitor reads from `/proc/<pid>/stat`).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// The page size: 4 KiB unless the auxiliary vector says otherwise.
fn page_size() -> u64 {
    static SIZE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SIZE.get_or_init(|| {
        // AT_PAGESZ (6) in /proc/self/auxv: pairs of native-endian u64s.
        std::fs::read("/proc/self/auxv")
            .ok()
            .and_then(|a| {
                a.chunks_exact(16).find_map(|c| {
                    let key = u64::from_ne_bytes(c[..8].try_into().ok()?);
                    let value = u64::from_ne_bytes(c[8..].try_into().ok()?);
                    (key == 6).then_some(value)
                })
            })
            .unwrap_or(4096)
    })
}

/// What the watch saw so far: how often the mark was passed, the highest
/// resident set read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WatchStats {
    /// Reads above the mark (each one raised the signal).
    pub pressure_events: u64,
    /// The highest resident set read, bytes.
    pub peak_bytes: u64,
}

/// The watch's counters.
pub fn stats() -> WatchStats {
    WatchStats {
        pressure_events: EVENTS.load(Ordering::Relaxed),
        peak_bytes: PEAK.load(Ordering::Relaxed),
    }
}

/// Starts the watch for a container of `limit` bytes on a thread of its
/// own: each read above [`high_water`] raises the signal, calls `relieve`
/// (the executor drops cached partitions there) with the resident bytes,
/// and hands freed memory back to the system.
pub fn watch(limit: u64, relieve: impl Fn(u64) + Send + 'static) -> std::io::Result<()> {
    let mark = high_water(limit);
    std::thread::Builder::new()
        .name("spindle-memory".into())
        .spawn(move || {
            let mut logged: Option<Instant> = None;
            loop {
                std::thread::sleep(INTERVAL);
                let Some(rss) = resident_bytes() else {
                    return; // no procfs: nothing to watch
                };
                PEAK.fetch_max(rss, Ordering::Relaxed);
                if rss <= mark {
                    continue;
                }
                EPOCH.fetch_add(1, Ordering::Relaxed);
                let n = EVENTS.fetch_add(1, Ordering::Relaxed) + 1;
                relieve(rss);
                trim();
                if logged.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                    logged = Some(Instant::now());
                    let after = resident_bytes().unwrap_or(rss);
                    tracing::info!(
                        "memory pressure: resident {} MiB above the mark of {} MiB (container {} MiB): spilling and dropping cached blocks; {} MiB after ({n} times so far)",
                        rss >> 20,
                        mark >> 20,
                        limit >> 20,
                        after >> 20
                    );
                }
            }
        })
        .map(|_| ())
}

/// Gives the allocator's free memory back to the system (glibc keeps freed
/// small blocks in its arenas, where they still count as resident).
fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim takes no pointers and is thread-safe in glibc.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Makes glibc serve every thread from one arena. Executor threads take
/// turns at tasks, and with an arena per thread each task's freed buffers and
/// tables stayed resident in the arena of the thread that ran it, beside the
/// next task's (the docs' wordcount's executors grew from 28 to 41 MiB over
/// four tasks); small blocks, the contended ones, are cached per thread in
/// front of it ([`crate::alloc`]) and by glibc's own per-thread cache.
pub fn one_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// glibc's `M_ARENA_MAX`.
        const M_ARENA_MAX: i32 = -8;
        unsafe extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: mallopt takes no pointers; called before the executor starts its threads.
        unsafe {
            mallopt(M_ARENA_MAX, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_leaves_room_below_the_limit() {
        assert_eq!(high_water(1 << 30), (1 << 30) - (1 << 30) / 5);
        // Small containers keep at least 16 MiB of room, never more than half.
        assert_eq!(high_water(64 << 20), 48 << 20);
        assert_eq!(high_water(20 << 20), 10 << 20);
    }

    #[test]
    fn the_resident_set_is_read_and_grows_with_touched_memory() {
        let before = resident_bytes().expect("procfs");
        assert!(before > 1 << 20, "{before}");
        let v = vec![1u8; 64 << 20];
        let after = resident_bytes().expect("procfs");
        assert!(after >= before + (48 << 20), "{before} -> {after}");
        drop(v);
    }

    #[test]
    fn a_structure_sees_each_raise_once() {
        // The global signal stays untouched: other tests' maps would spill.
        let mut p = Pressure(7);
        assert!(!p.raised_at(7));
        assert!(p.raised_at(8));
        assert!(!p.raised_at(8));
        assert!(
            p.raised_at(10),
            "several raises between two looks count once"
        );
        assert!(!p.raised_at(10));
    }
}
