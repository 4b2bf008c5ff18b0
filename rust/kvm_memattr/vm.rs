// SPDX-License-Identifier: GPL-2.0

//! Per-VM state of the provider.

use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;

/// Serial numbers of the VMs bound since the module was loaded.
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

/// The provider's state for one VM.
pub(crate) struct VmContext {
    serial: u64,
}

impl VmContext {
    /// Creates the state of a VM that is being bound.
    pub(crate) fn new() -> Self {
        let serial = NEXT_SERIAL.fetch_add(1, Ordering::Relaxed);
        pr_debug!("VM {} bound\n", serial);
        Self { serial }
    }
}

impl Drop for VmContext {
    fn drop(&mut self) {
        pr_debug!("VM {} released\n", self.serial);
    }
}
