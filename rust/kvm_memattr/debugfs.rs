// SPDX-License-Identifier: GPL-2.0

//! The module's debugfs directory, `kvm_memattr`, with what tests check
//! about the module as a whole: `spp_table_pages`, how many SPP table pages
//! the VMs hold (0 once every VM is destroyed).
//!
//! C header: [`include/linux/debugfs.h`](srctree/include/linux/debugfs.h)

use crate::spp_table::table_pages;
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
        // SAFETY: The name is a NUL-terminated string, `dir` is a directory
        // or an error pointer (see the type invariant), and the count is a
        // `static` `u64`-sized atomic that outlives the file, which
        // `debugfs_remove()` deletes in `drop` before the module is gone.
        unsafe {
            bindings::debugfs_create_u64(
                c_str!("spp_table_pages").as_char_ptr(),
                0o444,
                dir,
                table_pages().as_ptr(),
            )
        };
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
