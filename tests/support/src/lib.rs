//! What the unit tests of several crates share and the `spindle-tests`
//! harness cannot give them (the harness depends on those crates, so it
//! cannot be their dev-dependency): an allocation probe for decoders' tests,
//! the replay of the fuzz targets' committed corpora, and where the checkout is. It depends on
//! nothing, so any crate of the workspace can take it as a dev-dependency.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;

/// An allocator that remembers the largest single allocation of each
/// thread, so a decoder's test can show that a huge length in its input was
/// refused without being allocated; it forwards everything to the system
/// allocator. A crate's unit tests install it with
/// `#[cfg(test)] #[global_allocator] static PROBE: AllocProbe = AllocProbe;`
/// and measure with [`largest_allocation`].
pub struct AllocProbe;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // try_with: the allocator also runs while thread-locals are torn down.
    let _ = LARGEST.try_with(|c| c.set(c.get().max(size)));
}

// SAFETY: every call is forwarded unchanged to `System`; `note` neither
// allocates nor unwinds.
unsafe impl GlobalAlloc for AllocProbe {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and returns its value with the largest single allocation (in
/// bytes) it made on this thread. Panics unless [`AllocProbe`] is the global
/// allocator (a bound checked against 0 would prove nothing).
pub fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.with(|c| c.set(0));
    drop(std::hint::black_box(Box::new(0u64)));
    assert!(
        LARGEST.with(Cell::get) >= 8,
        "AllocProbe is not the global allocator of this test binary"
    );
    LARGEST.with(|c| c.set(0));
    let r = f();
    (r, LARGEST.with(Cell::get))
}

/// A fuzz target's entry point: takes any bytes and returns (a panic is the bug).
pub type FuzzEntry = fn(&[u8]);

/// CI's share of the fuzzing: every committed input of each fuzz target
/// (`fuzz/corpus/<target>/`: seeds and any crash found since), in name order,
/// runs through the target's entry point (scripts/fuzz runs libFuzzer
/// itself). A target with fewer than 3 inputs fails: its corpus went missing.
pub fn replay_corpora(targets: &[(&str, FuzzEntry)]) {
    for (target, entry) in targets {
        for path in corpus(target) {
            eprintln!("replaying {}", path.display());
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            entry(&bytes);
        }
    }
}

/// The checkout's root (the directory holding `Cargo.lock`), found from the package directory
/// `cargo test` names when it runs the test: a target dir shared between checkouts keeps the
/// compile-time path of whichever checkout built a crate, which may be gone.
pub fn repo_root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    start
        .ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .unwrap_or_else(|| panic!("no Cargo.lock above {}", start.display()))
        .to_path_buf()
}

/// The files of `fuzz/corpus/<target>/`, sorted.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = repo_root().join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{}: fewer than 3 seeds", dir.display());
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static PROBE: AllocProbe = AllocProbe;

    #[test]
    fn the_probe_sees_the_largest_allocation() {
        let (v, largest) = largest_allocation(|| vec![0u8; 1 << 20]);
        assert_eq!(v.len(), 1 << 20);
        assert!(largest >= 1 << 20, "{largest}");
        let ((), small) = largest_allocation(|| drop(Vec::<u8>::with_capacity(10)));
        assert!(small < 1 << 10, "{small}");
    }

    #[test]
    fn every_committed_input_is_replayed() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static SEEN: AtomicUsize = AtomicUsize::new(0);
        fn count(_: &[u8]) {
            SEEN.fetch_add(1, Ordering::Relaxed);
        }
        replay_corpora(&[("tfile", count)]);
        assert_eq!(SEEN.load(Ordering::Relaxed), corpus("tfile").len());
    }
}
