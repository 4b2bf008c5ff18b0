// SPDX-License-Identifier: GPL-2.0

//! The module's debugfs directory, `kvm_memattr`, with what tests check
//! about the module as a whole: the counts of `module_counts.rs`, one file
//! each (`vms`, `attribute_runs`, `subpage_pages`, `spp_table_pages`), all
//! 0 once every VM is destroyed.
//!
//! C header: [`include/linux/debugfs.h`](srctree/include/linux/debugfs.h)

use crate::module_counts::{Count, ATTRIBUTE_RUNS, SPP_TABLE_PAGES, SUBPAGE_PAGES, VMS};
use kernel::str::CStr;
use kernel::{bindings, c_str};

/// The module's debugfs directory, removed with the module.
///
/// # Invariants
///
/// `dir` is what `debugfs_create_dir()` returned: a directory, or an error
/// pointer that every debugfs function accepts and ignores.
pub(crate) struct DebugfsDir {
    dir: *mut bindings::dentry,
}

// SAFETY: debugfs functions may be called from any thread on a dentry.
unsafe impl Send for DebugfsDir {}

// SAFETY: `DebugfsDir` has no methods taking `&self`.
unsafe impl Sync for DebugfsDir {}

impl DebugfsDir {
    /// Creates the directory and its files.  Debugfs is for tests only: a
    /// failure leaves it out, and the module works without it.
    pub(crate) fn new() -> Self {
        // SAFETY: The name is a NUL-terminated string; a NULL parent means
        // debugfs' root.
        let dir = unsafe {
            bindings::debugfs_create_dir(c_str!("kvm_memattr").as_char_ptr(), core::ptr::null_mut())
        };
        let counts: [(&CStr, &'static Count); 4] = [
            (c_str!("vms"), &VMS),
            (c_str!("attribute_runs"), &ATTRIBUTE_RUNS),
            (c_str!("subpage_pages"), &SUBPAGE_PAGES),
            (c_str!("spp_table_pages"), &SPP_TABLE_PAGES),
        ];
        for (name, count) in counts {
            // SAFETY: The name is a NUL-terminated string, `dir` is a
            // directory or an error pointer (see the type invariant), and the
            // count is a `static` `u64`-sized atomic that outlives the file,
            // which `debugfs_remove()` deletes in `drop` before the module
            // is gone.
            unsafe { bindings::debugfs_create_u64(name.as_char_ptr(), 0o444, dir, count.as_ptr()) };
        }
        // INVARIANT: `dir` is what `debugfs_create_dir()` returned.
        Self { dir }
    }
}

impl Drop for DebugfsDir {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, `debugfs_remove()` accepts `dir`.
        unsafe { bindings::debugfs_remove(self.dir) };
    }
}
