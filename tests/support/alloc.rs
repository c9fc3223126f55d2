//! A counting global allocator for tests that bound memory: it forwards to the system allocator and keeps, per
//! thread, the bytes live now and the peak since the last [`reset_peak`]. Each allocation is counted as its
//! requested size rounded up to 16 bytes (what a real allocator hands out at least), so many tiny allocations
//! are not under-counted.
//!
//! Install it in a test binary with `#[global_allocator] static A: CountingAlloc = CountingAlloc;`.

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct CountingAlloc;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    /// Allocation calls and bytes allocated, in all (frees not subtracted): a measure of work.
    static CALLS: Cell<usize> = const { Cell::new(0) };
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn counted(size: usize) -> usize {
    size.div_ceil(16) * 16
}

fn grow(by: usize) {
    // `try_with`: a thread being torn down has no counters left; its allocations are not ours to count.
    let _ = CALLS.try_with(|c| c.set(c.get() + 1));
    let _ = ALLOCATED.try_with(|a| a.set(a.get() + by));
    let _ = LIVE.try_with(|live| {
        let now = live.get() + by;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn shrink(by: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(by)));
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(counted(layout.size()));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(counted(layout.size()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrink(counted(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Old and new blocks may both exist during the copy: count the new one before releasing the old.
            grow(counted(new_size));
            shrink(counted(layout.size()));
        }
        p
    }
}

/// Bytes allocated on this thread and not yet freed.
pub fn live() -> usize {
    LIVE.with(Cell::get)
}

/// (allocation calls, bytes allocated) on this thread so far, frees not subtracted.
pub fn totals() -> (usize, usize) {
    (CALLS.with(Cell::get), ALLOCATED.with(Cell::get))
}

/// Starts a new peak measurement from what is live now.
pub fn reset_peak() {
    PEAK.with(|p| p.set(live()));
}

/// The most bytes live at once on this thread since the last [`reset_peak`].
pub fn peak() -> usize {
    PEAK.with(Cell::get)
}

/// The peak extra bytes `f` had live at once (above what was live before it ran), and its result.
pub fn peak_during<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let base = live();
    reset_peak();
    let out = f();
    (peak() - base, out)
}
