// SPDX-License-Identifier: GPL-2.0

//! An xarray of integer entries.
//!
//! C header: [`include/linux/xarray.h`](srctree/include/linux/xarray.h)

use crate::module_counts::Count;
use core::mem::size_of;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{bindings, error::to_result, prelude::*, types::Opaque};

// Indices and values are `unsigned long` in C and `u64` here: the casts
// between the two below are lossless.
const _: () = assert!(size_of::<usize>() == size_of::<u64>());

/// The largest integer an entry can hold (an xarray "value entry").
pub(crate) const MAX_VALUE: u64 = (1 << 63) - 1;

/// An xarray whose entries are integers up to [`MAX_VALUE`].
///
/// Lookups are lock-free: `xa_find()` runs under RCU.  Changes serialise on
/// the xarray's own lock, which each call takes.  Memory is accounted to the
/// memory cgroup of the task that allocates it.  Its entries are counted in
/// a module-wide [`Count`] while it lives.
///
/// # Invariants
///
/// `xa` is initialised, and holds only value entries, `len` of them.
#[pin_data(PinnedDrop)]
pub(crate) struct IntXArray {
    #[pin]
    xa: Opaque<bindings::xarray>,
    len: AtomicU64,
    entries_count: &'static Count,
}

// SAFETY: The xarray serialises changes with its own lock and lookups use
// RCU, so it may be used from any thread; its entries are plain integers.
unsafe impl Send for IntXArray {}

// SAFETY: As for `Send`: every method takes `&self` and is thread-safe.
unsafe impl Sync for IntXArray {}

impl IntXArray {
    /// Creates an empty xarray, whose entries `entries_count` counts.
    pub(crate) fn new(entries_count: &'static Count) -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `xa_init_flags()` initialises the whole xarray at `slot`.
            xa <- Opaque::ffi_init(|slot| unsafe {
                bindings::xa_init_flags(slot, bindings::XA_FLAGS_ACCOUNT)
            }),
            len: AtomicU64::new(0),
            entries_count,
        })
    }

    /// Counts an entry that was added (`added`) or removed.  The changes
    /// that call it may race; the atomic counts add up all the same.
    fn count_entries(&self, added: bool) {
        if added {
            self.len.fetch_add(1, Ordering::Relaxed);
            self.entries_count.add(1);
        } else {
            self.len.fetch_sub(1, Ordering::Relaxed);
            self.entries_count.sub(1);
        }
    }

    fn as_ptr(&self) -> *mut bindings::xarray {
        self.xa.get()
    }

    /// Whether the xarray holds no entry.
    pub(crate) fn is_empty(&self) -> bool {
        // SAFETY: By the type invariant, `self.xa` is initialised.
        unsafe { bindings::xa_empty(self.as_ptr()) }
    }

    /// The entry at `index`, if any.
    pub(crate) fn get(&self, index: u64) -> Option<u64> {
        // SAFETY: By the type invariant, `self.xa` is initialised.
        // `xa_load()` takes the RCU read lock itself.
        let entry = unsafe { bindings::xa_load(self.as_ptr(), index as usize) };
        if entry.is_null() {
            return None;
        }
        // SAFETY: By the type invariant, every entry is a value entry.
        Some(unsafe { bindings::xa_to_value(entry) } as u64)
    }

    /// The entry with the lowest index at or after `index`, as
    /// `(index, value)`.
    pub(crate) fn next(&self, index: u64) -> Option<(u64, u64)> {
        self.next_in(index, u64::MAX)
    }

    /// As [`Self::next`], for an entry at an index up to `max`: the search
    /// stops there, instead of scanning on to the next entry.
    pub(crate) fn next_in(&self, index: u64, max: u64) -> Option<(u64, u64)> {
        let mut found = index as usize;
        // SAFETY: By the type invariant, `self.xa` is initialised, and
        // `found` is valid for reads and writes.  `xa_find()` takes the RCU
        // read lock itself.
        let entry = unsafe {
            bindings::xa_find(self.as_ptr(), &mut found, max as usize, bindings::XA_PRESENT)
        };
        if entry.is_null() {
            return None;
        }
        // SAFETY: By the type invariant, every entry is a value entry.
        Some((found as u64, unsafe { bindings::xa_to_value(entry) } as u64))
    }

    /// Stores `value` (at most [`MAX_VALUE`]) at `index`.  Storing at an
    /// index that holds an entry allocates nothing and cannot fail; at
    /// another, it may sleep to allocate, and fails with `ENOMEM` if it
    /// cannot, leaving the xarray unchanged.
    pub(crate) fn store(&self, index: u64, value: u64) -> Result {
        if value > MAX_VALUE {
            return Err(EINVAL);
        }
        // SAFETY: By the type invariant, `self.xa` is initialised; the entry
        // stored is a value entry, which keeps the invariant.
        let old = unsafe {
            bindings::xa_store(
                self.as_ptr(),
                index as usize,
                bindings::xa_mk_value(value as usize),
                bindings::GFP_KERNEL_ACCOUNT,
            )
        };
        // SAFETY: `old` is what `xa_store()` returned.
        to_result(unsafe { bindings::xa_err(old) })?;
        if old.is_null() {
            // INVARIANT: the store added an entry.
            self.count_entries(true);
        }
        Ok(())
    }

    /// Removes the entry at `index`, if any.
    pub(crate) fn erase(&self, index: u64) {
        // SAFETY: By the type invariant, `self.xa` is initialised.  The
        // removed entry, an integer, needs no freeing.
        let old = unsafe { bindings::xa_erase(self.as_ptr(), index as usize) };
        if !old.is_null() {
            // INVARIANT: the erase removed an entry.
            self.count_entries(false);
        }
    }
}

#[pinned_drop]
impl PinnedDrop for IntXArray {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant, `self.xa` is initialised, and no one
        // else can use it anymore.  Its entries are integers: freeing the
        // nodes is all there is to do.
        unsafe { bindings::xa_destroy(self.as_ptr()) };
        self.entries_count.sub(self.len.load(Ordering::Relaxed));
    }
}
