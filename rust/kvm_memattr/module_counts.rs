// SPDX-License-Identifier: GPL-2.0

//! Module-wide counts of what the VMs hold, shown in the module's debugfs
//! directory: every count is 0 once no VM bound to the module exists, which
//! is how tests see that nothing leaked.

use core::sync::atomic::{AtomicU64, Ordering};

/// A module-wide count.
pub(crate) struct Count(AtomicU64);

impl Count {
    const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn sub(&self, n: u64) {
        self.0.fetch_sub(n, Ordering::Relaxed);
    }

    /// The count's value, for debugfs, which reads it as a `u64`.
    pub(crate) fn as_ptr(&self) -> *mut u64 {
        self.0.as_ptr()
    }
}

/// VMs bound to the module.
pub(crate) static VMS: Count = Count::new();
/// Attribute runs (xarray entries of the VMs' attribute stores).
pub(crate) static ATTRIBUTE_RUNS: Count = Count::new();
/// Pages with a protected sub-page map.
pub(crate) static SUBPAGE_PAGES: Count = Count::new();
/// Pages of the VMs' SPP tables.
pub(crate) static SPP_TABLE_PAGES: Count = Count::new();

/// One unit of a [`Count`], held for as long as what it counts lives.
pub(crate) struct Counted(&'static Count);

impl Counted {
    pub(crate) fn new(count: &'static Count) -> Self {
        count.add(1);
        Self(count)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.sub(1);
    }
}
