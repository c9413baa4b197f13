//! Naming code across processes of the same binary: the `unsafe` of Spindle
//! (besides one call to glibc's `malloc_trim` in [`crate::memory`]).
//!
//! A task names the function to run by its address minus the address of
//! [`anchor`], both taken in the driver; the executor adds its own address of
//! `anchor`. Closures that capture nothing are zero-sized, so the executor can
//! produce "the" value of such a closure type without receiving any bytes.
//!
//! Invariants that make this sound (and who upholds them):
//! 1. Driver and executor run the *identical* executable: the executor sends
//!    the SHA-256 of its executable when it registers and the driver refuses
//!    any mismatch (`driver_rpc`); every plan also carries [`probe`], the offset
//!    of a known function, which the executor compares with its own before
//!    resolving anything ([`check_probe`]).
//! 2. A [`ComputeRef`]/[`SinkRef`] is only made from a function pointer of
//!    exactly its type (the constructors take that type), so resolving gives
//!    back a pointer of the type it was made from.
//! 3. Plans reach executors only over calls that carry the application's
//!    secret, so nobody else can make an executor jump to an offset.
//! 4. [`conjure`] is only called for closure or fn-item types (the only
//!    zero-sized types that implement `Fn*` on stable Rust), which are
//!    inhabited and have no invariants; its const assertion rejects anything
//!    with a size at compile time.

use serde::{Deserialize, Serialize};

use crate::plan::NodeSpec;
use crate::task::{Erased, SinkOutput, TaskContext};

/// Computes one partition of one node of the lineage graph.
pub(crate) type ComputeFn = fn(&TaskContext, &NodeSpec, u32) -> crate::Result<Erased>;
/// Consumes the stream of a stage's last node: a result or a shuffle write.
pub(crate) type SinkFn = fn(&TaskContext, Erased, &[u8]) -> crate::Result<SinkOutput>;

/// The fixed symbol every offset is taken from. Its body is distinctive so the
/// linker cannot fold it together with another function.
#[inline(never)]
pub(crate) fn anchor() -> u64 {
    std::hint::black_box(0x5350_494e_444c_4530)
}

/// A second known function: its offset from [`anchor`] is the same in the
/// driver and the executor only if they run the same layout of code.
#[inline(never)]
pub(crate) fn probe_target() -> u64 {
    std::hint::black_box(0x7072_6f62_6521_0001)
}

fn anchor_addr() -> i64 {
    anchor as fn() -> u64 as usize as i64
}

fn offset_of(addr: usize) -> i64 {
    (addr as i64).wrapping_sub(anchor_addr())
}

fn addr_of(offset: i64) -> usize {
    anchor_addr().wrapping_add(offset) as usize
}

/// The offset of [`probe_target`] in this process.
pub(crate) fn probe() -> i64 {
    offset_of(probe_target as fn() -> u64 as usize)
}

/// Checks a plan's probe against this process's before any resolution.
pub(crate) fn check_probe(theirs: i64) -> crate::Result<()> {
    if theirs == probe() {
        Ok(())
    } else {
        Err(crate::Error::Task(
            "the plan was made by a different binary (code layout probe mismatch)".into(),
        ))
    }
}

/// A [`ComputeFn`] named by its offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeRef(i64);

impl ComputeRef {
    /// Names `f` (a monomorphized compute function of this binary).
    pub fn new(f: ComputeFn) -> Self {
        ComputeRef(offset_of(f as usize))
    }

    /// The function in this process. Sound under the module's invariants 1–3.
    pub fn resolve(self) -> ComputeFn {
        let addr = addr_of(self.0);
        // SAFETY: by invariants 1 and 2 `addr` is the address, in this
        // identical binary, of a function of type ComputeFn; fn pointers and
        // usize have the same size on every platform Rust supports.
        unsafe { std::mem::transmute::<usize, ComputeFn>(addr) }
    }
}

/// A [`SinkFn`] named by its offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkRef(i64);

impl SinkRef {
    /// Names `f` (a monomorphized sink function of this binary).
    pub fn new(f: SinkFn) -> Self {
        SinkRef(offset_of(f as usize))
    }

    /// The function in this process. Sound under the module's invariants 1–3.
    pub fn resolve(self) -> SinkFn {
        let addr = addr_of(self.0);
        // SAFETY: as for ComputeRef::resolve, with type SinkFn.
        unsafe { std::mem::transmute::<usize, SinkFn>(addr) }
    }
}

/// Fails to compile unless `F` is zero-sized, i.e. a closure capturing nothing.
pub(crate) const fn assert_captures_nothing<F>() {
    assert!(
        std::mem::size_of::<F>() == 0,
        "spindle: a closure given to a Dataset operation must capture nothing; pass state with map_with(params, ..) or a Broadcast (see the spindle crate docs)"
    );
}

/// The value of a closure type that captures nothing (invariant 4).
pub(crate) fn conjure<F: Copy + 'static>() -> F {
    const { assert_captures_nothing::<F>() };
    // SAFETY: F is zero-sized (checked at compile time above) and, being a
    // closure or fn item, inhabited and free of invariants, so there is
    // exactly one value of it and it occupies no bytes.
    unsafe { std::mem::zeroed::<F>() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(x: u64) -> u64 {
        x * 2
    }

    #[test]
    fn offsets_round_trip_to_the_same_function() {
        let f: fn(u64) -> u64 = double;
        let off = offset_of(f as usize);
        let back = addr_of(off);
        assert_eq!(back, f as usize);
        // SAFETY: `back` was taken from a fn(u64) -> u64 just above.
        let g = unsafe { std::mem::transmute::<usize, fn(u64) -> u64>(back) };
        assert_eq!(g(21), 42);
    }

    #[test]
    fn probe_is_stable_and_checked() {
        assert_eq!(probe(), probe());
        assert!(check_probe(probe()).is_ok());
        assert!(check_probe(probe() + 16).is_err());
    }

    #[test]
    fn conjured_closures_behave_like_the_original() {
        fn call_twice<F: Fn(u32) -> u32 + Copy + 'static>(_f: F) -> u32 {
            let g: F = conjure();
            g(g(1))
        }
        assert_eq!(call_twice(|x| x + 10), 21);
    }

    #[test]
    fn refs_resolve_in_process() {
        let r = SinkRef::new(crate::ops::actions::sink_count::<u8>);
        let f = r.resolve();
        assert_eq!(
            f as usize,
            crate::ops::actions::sink_count::<u8> as SinkFn as usize
        );
    }
}
