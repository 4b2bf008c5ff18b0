// SPDX-License-Identifier: GPL-2.0

//! A `seq_file` that a `show` callback prints into, as a
//! [`core::fmt::Write`].
//!
//! A write that does not fit fails with [`fmt::Error`], so that `show` stops
//! early: `seq_read()` then sees the overflow and calls `show` again with a
//! larger buffer.  A `show` that stopped this way must still return 0.
//!
//! C header: [`include/linux/seq_file.h`](srctree/include/linux/seq_file.h)

use core::fmt;
use kernel::bindings;

/// The `seq_file` of one `show` call.
///
/// # Invariants
///
/// `m` points at a `seq_file` that the caller of `show` owns for the whole
/// life of this value, and only this value writes to it meanwhile.
pub(crate) struct SeqFile {
    m: *mut bindings::seq_file,
}

impl SeqFile {
    /// Wraps the `seq_file` passed to a `show` callback.
    ///
    /// # Safety
    ///
    /// `m` must be the `seq_file` of a `show` call that lasts longer than
    /// the returned value, and nothing else may write to it meanwhile.
    pub(crate) unsafe fn from_raw(m: *mut bindings::seq_file) -> Self {
        // INVARIANT: Per the function's safety requirements.
        Self { m }
    }
}

impl fmt::Write for SeqFile {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // SAFETY: By the type invariant, `self.m` is a live `seq_file` that
        // only we write to; `s` is valid for reads of `s.len()` bytes.
        let overflowed = unsafe { bindings::seq_write(self.m, s.as_ptr().cast(), s.len()) } != 0;
        if overflowed {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}
