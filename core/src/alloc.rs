//! A per-thread cache of small memory blocks in front of the system
//! allocator, the global allocator of driver programs (the `spindle` crate's
//! `thread-cache` feature).
//!
//! A plain program gives the engine a `String` per word and a `Vec` per
//! line; each is allocated in the user's closure and freed a moment later in
//! the same task thread, many at once. glibc's own per-thread cache keeps
//! only 7 blocks of a size, so most of these went through its slower shared
//! paths: a fifth of the docs' wordcount's CPU. Here each thread keeps up to
//! [`KEEP`] freed blocks of each size class up to [`SMALL`] bytes, in a list
//! threaded through the free blocks themselves, and reuses them first.
//! Every block is one the system allocator made at its class's size, so a
//! block freed on another thread, or after its thread's cache is gone,
//! simply returns to the system.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;

/// The step between size classes, and the alignment every class block has
/// (glibc's `malloc` gives 16).
const STEP: usize = 16;
/// Blocks up to this size are cached; larger ones go straight to the system.
const SMALL: usize = 128;
const CLASSES: usize = SMALL / STEP;
/// Freed blocks a thread keeps per class at most.
const KEEP: u32 = 256;

/// The global allocator: small blocks through the thread's cache.
pub struct ThreadCache;

/// One thread's free blocks: per class, a list through the blocks' first word.
struct Cache {
    heads: [*mut u8; CLASSES],
    counts: [u32; CLASSES],
}

impl Drop for Cache {
    fn drop(&mut self) {
        for c in 0..CLASSES {
            while let Some(p) = self.pop(c) {
                // SAFETY: every cached block was made by `System` with `class_layout(c)`.
                unsafe { System.dealloc(p, class_layout(c)) };
            }
        }
    }
}

impl Cache {
    fn pop(&mut self, c: usize) -> Option<*mut u8> {
        let p = self.heads[c];
        if p.is_null() {
            return None;
        }
        // SAFETY: a cached block is free, at least STEP bytes and aligned;
        // its first word holds the next block of the list.
        self.heads[c] = unsafe { p.cast::<*mut u8>().read() };
        self.counts[c] -= 1;
        Some(p)
    }

    /// Keeps `p` for reuse; false if the class's list is full.
    fn push(&mut self, c: usize, p: *mut u8) -> bool {
        if self.counts[c] >= KEEP {
            return false;
        }
        // SAFETY: `p` is a freed block of class `c`, ours to reuse.
        unsafe { p.cast::<*mut u8>().write(self.heads[c]) };
        self.heads[c] = p;
        self.counts[c] += 1;
        true
    }
}

thread_local! {
    static CACHE: UnsafeCell<Cache> = const {
        UnsafeCell::new(Cache { heads: [ptr::null_mut(); CLASSES], counts: [0; CLASSES] })
    };
}

/// The class of blocks that serves `layout`, if it is small.
fn class_of(size: usize, align: usize) -> Option<usize> {
    (size > 0 && size <= SMALL && align <= STEP).then(|| (size - 1) / STEP)
}

/// What the system is asked for a block of class `c`.
fn class_layout(c: usize) -> Layout {
    Layout::from_size_align((c + 1) * STEP, STEP).expect("a class's layout")
}

// SAFETY: small blocks are made by `System` at their class's size and
// alignment, which covers every layout of the class, and are handed out
// once until freed; everything else is `System`'s.
unsafe impl GlobalAlloc for ThreadCache {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(c) = class_of(layout.size(), layout.align()) else {
            // SAFETY: the caller's contract, passed on.
            return unsafe { System.alloc(layout) };
        };
        // SAFETY: the cache is this thread's alone, and nothing it calls
        // allocates through this allocator.
        let cached = CACHE.try_with(|cache| unsafe { (*cache.get()).pop(c) });
        match cached {
            Ok(Some(p)) => p,
            // SAFETY: a class layout has a non-zero size.
            _ => unsafe { System.alloc(class_layout(c)) },
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        let Some(c) = class_of(layout.size(), layout.align()) else {
            // SAFETY: the caller's contract, passed on.
            return unsafe { System.dealloc(p, layout) };
        };
        // SAFETY: as in `alloc`.
        let kept = CACHE.try_with(|cache| unsafe { (*cache.get()).push(c, p) });
        if !matches!(kept, Ok(true)) {
            // SAFETY: `p` was made by `System` with the class's layout.
            unsafe { System.dealloc(p, class_layout(c)) }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let from = class_of(layout.size(), layout.align());
        let to = class_of(new_size, layout.align());
        match (from, to) {
            // The block already has room for the new size.
            (Some(a), Some(b)) if a == b => p,
            // SAFETY: a large block is `System`'s, the caller's contract passed on.
            (None, None) => unsafe { System.realloc(p, layout, new_size) },
            _ => {
                // SAFETY: the caller guarantees a valid non-zero new size for this alignment.
                let new_layout =
                    unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
                // SAFETY: as in `alloc` and `dealloc`; the two blocks are distinct.
                unsafe {
                    let q = self.alloc(new_layout);
                    if !q.is_null() {
                        ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                        self.dealloc(p, layout);
                    }
                    q
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_small_block_is_reused_by_its_thread_and_contents_survive_realloc() {
        let a = ThreadCache;
        let small = Layout::from_size_align(24, 8).unwrap();
        // SAFETY: layouts are valid and non-zero; each block is freed once.
        unsafe {
            let p = a.alloc(small);
            a.dealloc(p, small);
            // Any size of the same class gets the block back.
            let q = a.alloc(Layout::from_size_align(32, 8).unwrap());
            assert_eq!(p, q);
            for i in 0..32 {
                q.add(i).write(i as u8);
            }
            // Growing within the class keeps the block; past it moves the bytes.
            let q = a.realloc(q, Layout::from_size_align(32, 8).unwrap(), 20);
            assert_eq!(p, q);
            let big = a.realloc(q, Layout::from_size_align(20, 8).unwrap(), 4000);
            assert_ne!(big, p);
            assert_eq!(
                std::slice::from_raw_parts(big, 20),
                &(0..20).collect::<Vec<u8>>()[..]
            );
            let back = a.realloc(big, Layout::from_size_align(4000, 8).unwrap(), 10);
            assert_eq!(
                std::slice::from_raw_parts(back, 10),
                &(0..10).collect::<Vec<u8>>()[..]
            );
            a.dealloc(back, Layout::from_size_align(10, 8).unwrap());
            // An alignment above the classes' goes to the system as asked.
            let wide = Layout::from_size_align(64, 64).unwrap();
            let w = a.alloc(wide);
            assert_eq!(w as usize % 64, 0);
            a.dealloc(w, wide);
        }
    }

    #[test]
    fn a_thread_keeps_at_most_keep_blocks_of_a_class_and_others_free_its_blocks() {
        let a = ThreadCache;
        let l = Layout::from_size_align(100, 8).unwrap();
        let c = class_of(100, 8).unwrap();
        // Only this test touches this thread's cache (the test binary's own allocator is System's).
        let count = || CACHE.with(|cache| unsafe { (*cache.get()).counts[c] });
        assert_eq!(count(), 0);
        // SAFETY: valid layouts; each block freed once.
        let blocks: Vec<usize> = (0..KEEP + 50)
            .map(|_| unsafe { a.alloc(l) } as usize)
            .collect();
        for &p in &blocks {
            unsafe { a.dealloc(p as *mut u8, l) };
        }
        // The cache is full at KEEP; the 50 beyond it went back to the system.
        assert_eq!(count(), KEEP);
        // Blocks made here and freed on another thread go to that thread's cache, not this one's.
        let more: Vec<usize> = (0..10).map(|_| unsafe { a.alloc(l) } as usize).collect();
        assert_eq!(count(), KEEP - 10);
        let theirs = std::thread::spawn(move || {
            for p in more {
                unsafe { ThreadCache.dealloc(p as *mut u8, l) };
            }
            CACHE.with(|cache| unsafe { (*cache.get()).counts[c] })
        })
        .join()
        .unwrap();
        assert_eq!((theirs, count()), (10, KEEP - 10));
    }
}
