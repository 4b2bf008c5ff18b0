// SPDX-License-Identifier: GPL-2.0

//! Per-VM state of the provider.

use crate::attributes::MmuCaps;
use crate::store::AttributeStore;
use kernel::prelude::*;

/// The provider's state for one VM.
#[pin_data]
pub(crate) struct VmContext {
    /// What the VM's MMU can express, fixed at creation.
    pub(crate) caps: MmuCaps,
    /// The VM's memory attributes.
    #[pin]
    pub(crate) store: AttributeStore,
}

impl VmContext {
    /// Creates the state of a VM that is being bound.
    pub(crate) fn new(caps: MmuCaps) -> impl PinInit<Self> {
        pin_init!(Self {
            caps,
            store <- AttributeStore::new(),
        })
    }
}
