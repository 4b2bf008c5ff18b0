// SPDX-License-Identifier: GPL-2.0

//! Per-VM state of the provider.

use crate::attributes::VmCaps;
use crate::module_counts::{Counted, VMS};
use crate::provider::Kvm;
use crate::store::AttributeStore;
use crate::spp_table::SppTable;
use crate::subpage::Mode;
use crate::subpage_store::SubpageStore;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use kernel::prelude::*;

/// The provider's state for one VM.
#[pin_data]
pub(crate) struct VmContext {
    /// The VM, for the KVM functions the provider calls.
    pub(crate) kvm: Kvm,
    /// What the VM's MMU can express, fixed at creation.
    mmu_caps: VmCaps,
    /// The VM's MMU can let the CPU decide writes by sub-page (SPP).
    pub(crate) subpage_write_leaves: bool,
    /// Userspace enabled `KVM_CAP_MEMORY_ATTRIBUTES_EMULATED`; never reset.
    emulated_writes: AtomicBool,
    /// The sub-page write protection mode that userspace chose, as
    /// [`SUBPAGE_MODE_NONE`] or a [`Mode`]; set once, never reset.
    subpage_mode: AtomicU8,
    /// The VM's memory attributes.
    #[pin]
    pub(crate) store: AttributeStore,
    /// The VM's sub-page write protection maps.
    #[pin]
    pub(crate) subpages: SubpageStore,
    /// The SPP table of the hardware mode; without pages in other modes.
    #[pin]
    pub(crate) spp: SppTable,
    /// The VM in the module's count of VMs.
    _counted: Counted,
}

/// [`VmContext::subpage_mode`] before a mode is chosen.
const SUBPAGE_MODE_NONE: u8 = 0;

const fn encode_mode(mode: Mode) -> u8 {
    match mode {
        Mode::Software => 1,
        Mode::Hardware => 2,
    }
}

impl VmContext {
    /// Creates the state of a VM that is being bound.
    pub(crate) fn new(kvm: Kvm, mmu_caps: VmCaps, subpage_write_leaves: bool) -> impl PinInit<Self> {
        pin_init!(Self {
            kvm,
            mmu_caps,
            subpage_write_leaves,
            emulated_writes: AtomicBool::new(false),
            subpage_mode: AtomicU8::new(SUBPAGE_MODE_NONE),
            store <- AttributeStore::new(),
            subpages <- SubpageStore::new(),
            spp <- SppTable::new(),
            _counted: Counted::new(&VMS),
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

    /// The sub-page write protection mode, if userspace chose one.
    pub(crate) fn subpage_mode(&self) -> Option<Mode> {
        // Pairs with the store in `choose_subpage_mode()`.
        match self.subpage_mode.load(Ordering::Acquire) {
            SUBPAGE_MODE_NONE => None,
            mode if mode == encode_mode(Mode::Hardware) => Some(Mode::Hardware),
            _ => Some(Mode::Software),
        }
    }

    /// Chooses the sub-page write protection mode, once: `EINVAL` if one
    /// was chosen already.
    pub(crate) fn choose_subpage_mode(&self, mode: Mode) -> Result {
        self.subpage_mode
            .compare_exchange(
                SUBPAGE_MODE_NONE,
                encode_mode(mode),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .map(|_| ())
            .map_err(|_| EINVAL)
    }
}
