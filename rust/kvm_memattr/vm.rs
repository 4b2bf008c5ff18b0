// SPDX-License-Identifier: GPL-2.0

//! Per-VM state of the provider.

use crate::attributes::VmCaps;
use crate::store::AttributeStore;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;

/// The provider's state for one VM.
#[pin_data]
pub(crate) struct VmContext {
    /// What the VM's MMU can express, fixed at creation.
    mmu_caps: VmCaps,
    /// Userspace enabled `KVM_CAP_MEMORY_ATTRIBUTES_EMULATED`; never reset.
    emulated_writes: AtomicBool,
    /// The VM's memory attributes.
    #[pin]
    pub(crate) store: AttributeStore,
}

impl VmContext {
    /// Creates the state of a VM that is being bound.
    pub(crate) fn new(mmu_caps: VmCaps) -> impl PinInit<Self> {
        pin_init!(Self {
            mmu_caps,
            emulated_writes: AtomicBool::new(false),
            store <- AttributeStore::new(),
        })
    }

    /// What the VM can do now.
    #[inline]
    pub(crate) fn caps(&self) -> VmCaps {
        VmCaps {
            // Pairs with the store in `enable_emulated_writes()`.
            emulated_writes: self.emulated_writes.load(Ordering::Acquire),
            ..self.mmu_caps
        }
    }

    /// Accepts the write-without-read access modes from now on.  Nothing
    /// else depends on the flag: the modes only become reachable through a
    /// later `KVM_SET_MEMORY_ATTRIBUTES`, which validates with [`Self::caps`].
    pub(crate) fn enable_emulated_writes(&self) {
        self.emulated_writes.store(true, Ordering::Release);
    }
}
