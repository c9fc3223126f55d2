//! A test allocator that watches for secrets in the heap: it knows up to eight byte strings ("needles", e.g. a
//! password and the keys derived from it), counts every heap block freed (or moved by `realloc`) while it
//! still contains one of them, and can search the blocks alive now for them. So a test can say "no copy of the
//! password was ever freed without being wiped" and "nothing holds the password any more".
//!
//! Install it with `#[global_allocator] static A: SecretAlloc = SecretAlloc;`. While [`watch`] is on it keeps
//! a table of live blocks (up to 2^20 at once) under a spin lock; it never allocates itself. Only the heap is
//! seen: copies on the stack (inside the hash functions, say) are not.

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct SecretAlloc;

const CAP: usize = 1 << 20;
const MAX_NEEDLES: usize = 8;
const NEEDLE_LEN: usize = 64;

struct State {
    /// Open addressing with linear probing; (0, _) is an empty slot.
    table: [(usize, usize); CAP],
    needles: [[u8; NEEDLE_LEN]; MAX_NEEDLES],
    lens: [usize; MAX_NEEDLES],
    count: usize,
    /// Blocks freed or moved while holding needle i.
    unwiped: [usize; MAX_NEEDLES],
}

struct Locked(UnsafeCell<State>);
unsafe impl Sync for Locked {}

static STATE: Locked = Locked(UnsafeCell::new(State {
    table: [(0, 0); CAP],
    needles: [[0; NEEDLE_LEN]; MAX_NEEDLES],
    lens: [0; MAX_NEEDLES],
    count: 0,
    unwiped: [0; MAX_NEEDLES],
}));
static LOCK: AtomicBool = AtomicBool::new(false);
static WATCHING: AtomicBool = AtomicBool::new(false);

fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> T {
    while LOCK.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        std::hint::spin_loop();
    }
    // SAFETY: the spin lock gives exclusive access.
    let out = f(unsafe { &mut *STATE.0.get() });
    LOCK.store(false, Ordering::Release);
    out
}

fn slot(ptr: usize) -> usize {
    (ptr >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) % CAP
}

impl State {
    fn insert(&mut self, ptr: usize, size: usize) {
        let mut i = slot(ptr);
        while self.table[i].0 != 0 && self.table[i].0 != ptr {
            i = (i + 1) % CAP;
        }
        self.table[i] = (ptr, size);
    }

    /// Removes `ptr` (if tracked), shifting the entries after it back so probing still finds them.
    fn remove(&mut self, ptr: usize) {
        let mut i = slot(ptr);
        loop {
            match self.table[i].0 {
                0 => return,
                p if p == ptr => break,
                _ => i = (i + 1) % CAP,
            }
        }
        self.table[i] = (0, 0);
        let mut hole = i;
        let mut j = (i + 1) % CAP;
        while self.table[j].0 != 0 {
            let home = slot(self.table[j].0);
            // Move j into the hole unless its home lies cyclically in (hole, j].
            let stays = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
            if !stays {
                self.table[hole] = self.table[j];
                self.table[j] = (0, 0);
                hole = j;
            }
            j = (j + 1) % CAP;
        }
    }

    /// The needle (index) the block holds, if any.
    fn needle_in(&self, ptr: *const u8, size: usize) -> Option<usize> {
        // SAFETY: called only on blocks the allocator handed out and that are still allocated.
        let block = unsafe { std::slice::from_raw_parts(ptr, size) };
        (0..self.count).find(|&n| {
            let needle = &self.needles[n][..self.lens[n]];
            block.windows(needle.len()).any(|w| w == needle)
        })
    }
}

unsafe impl GlobalAlloc for SecretAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && WATCHING.load(Ordering::Relaxed) {
            with_state(|s| s.insert(p as usize, layout.size()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if WATCHING.load(Ordering::Relaxed) {
            with_state(|s| {
                if let Some(n) = s.needle_in(ptr, layout.size()) {
                    s.unwiped[n] += 1;
                }
                s.remove(ptr as usize);
            });
        }
        unsafe { System.dealloc(ptr, layout) };
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let watching = WATCHING.load(Ordering::Relaxed);
        let held = if watching { with_state(|s| s.needle_in(ptr, layout.size())) } else { None };
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && watching {
            with_state(|s| {
                if p != ptr
                    && let Some(n) = held
                {
                    s.unwiped[n] += 1; // the old block was freed with the secret in it
                }
                s.remove(ptr as usize);
                s.insert(p as usize, new_size);
            });
        }
        p
    }
}

/// Starts (with these needles, counts reset) or stops watching.
pub fn watch(needles: &[&[u8]]) {
    with_state(|s| {
        assert!(needles.len() <= MAX_NEEDLES);
        s.count = needles.len();
        for (i, n) in needles.iter().enumerate() {
            assert!(!n.is_empty() && n.len() <= NEEDLE_LEN);
            s.needles[i][..n.len()].copy_from_slice(n);
            s.lens[i] = n.len();
        }
        s.unwiped = [0; MAX_NEEDLES];
    });
    WATCHING.store(!needles.is_empty(), Ordering::Relaxed);
}

/// For each needle, how many blocks were freed (or moved) while holding it since [`watch`].
pub fn unwiped() -> Vec<usize> {
    // Nothing may allocate under the lock (the allocator takes it too): copy out, then build the Vec.
    let (counts, n) = with_state(|s| (s.unwiped, s.count));
    counts[..n].to_vec()
}

/// For each needle, how many blocks allocated since [`watch`] and alive now hold it.
pub fn live() -> Vec<usize> {
    let (counts, n) = with_state(|s| {
        let mut counts = [0usize; MAX_NEEDLES];
        for &(ptr, size) in s.table.iter().filter(|(p, _)| *p != 0) {
            if let Some(n) = s.needle_in(ptr as *const u8, size) {
                counts[n] += 1;
            }
        }
        (counts, s.count)
    });
    counts[..n].to_vec()
}
