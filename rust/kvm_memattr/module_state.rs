// SPDX-License-Identifier: GPL-2.0

//! The loaded module: the provider KVM calls for the VMs bound to it.

use crate::{
    attributes::{self, fault_verdict, VmCaps, ACCESS_READ, ACCESS_SUBPAGE_WRITE, ACCESS_WRITE},
    debugfs::DebugfsDir,
    get_ioctl::{get_memory_attributes, KVM_GET_MEMORY_ATTRIBUTES},
    provider::{AccessDecision, GuestAccess, Provider, Registration, VmInfo},
    run_map::SetChange,
    seq_file::SeqFile,
    subpage::{mode_to_enable, Mode, PagePart},
    subpage_ioctl::{
        get_subpage_write_access, set_subpage_write_access, KVM_GET_SUBPAGE_WRITE_ACCESS,
        KVM_SET_SUBPAGE_WRITE_ACCESS,
    },
    uapi::{
        KVM_CAP_MEMORY_ATTRIBUTES_EMULATED, KVM_CAP_SUBPAGE_WRITE_PROTECT,
        KVM_MEMORY_EXIT_FLAG_SUBPAGE, KVM_MEMORY_EXIT_FLAG_WRITE, KVM_SUBPAGE_WP_HARDWARE,
        KVM_SUBPAGE_WP_SOFTWARE,
    },
    vm::VmContext,
    vm_report,
};
use core::fmt;
use kernel::{c_str, prelude::*};

/// The module, registered with KVM while it is loaded.
pub(crate) struct KvmMemattr {
    _registration: Registration<Self>,
    _debugfs: DebugfsDir,
}

impl Provider for KvmMemattr {
    type Vm = VmContext;

    const NAME: &'static CStr = c_str!("kvm_memattr");

    fn vm_init(info: VmInfo) -> Result<Pin<KBox<VmContext>>> {
        let caps = VmCaps {
            exec_only: info.has_exec_only_leaves,
            private_mem: info.has_private_mem,
            emulated_writes: false,
        };
        KBox::pin_init(
            VmContext::new(info.kvm, caps, info.has_subpage_write_leaves),
            GFP_KERNEL_ACCOUNT,
        )
    }

    fn supported_attributes(vm: &VmContext) -> u64 {
        attributes::supported(vm.caps())
    }

    fn check_attributes(vm: &VmContext, value: u64) -> Result {
        attributes::validate(value, vm.caps()).map_err(|_| EINVAL)
    }

    fn get_attributes(vm: &VmContext, gfn: u64) -> u64 {
        vm.store.get(gfn)
    }

    fn range_has_attributes(vm: &VmContext, start: u64, end: u64, mask: u64, value: u64) -> bool {
        start >= end || vm.store.range_has(start, end - 1, mask, value)
    }

    fn set_attributes(vm: &VmContext, start: u64, end: u64, value: u64) -> Result<SetChange> {
        // KVM passes a non-empty range of a 64-bit address (see range.rs).
        if start >= end {
            return Err(EINVAL);
        }
        vm.store.set(start, end - 1, value)
    }

    fn has_attributes(vm: &VmContext) -> bool {
        !vm.store.is_empty() || !vm.subpages.is_empty()
    }

    fn range_in_use(vm: &VmContext, start: u64, end: u64) -> bool {
        start < end
            && (!vm.store.range_has(start, end - 1, !0, 0)
                || vm.subpages.any_protected(start, end - 1))
    }

    // Inlined into the callback: this is the page fault's path.
    #[inline]
    fn fault_access(vm: &VmContext, gfn: u64, access: &GuestAccess) -> AccessDecision {
        let (attributes, uniform_orders) = vm.store.block_attributes(gfn, access.block_orders);
        let decision = AccessDecision {
            verdict: fault_verdict(attributes, access.access, vm.caps()),
            uniform_orders,
            denied: PagePart::WHOLE_PAGE,
        };
        if vm.subpages.is_empty() {
            decision
        } else {
            narrow_to_subpages(vm, gfn, access, decision)
        }
    }

    fn vm_ioctl(vm: &VmContext, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            KVM_GET_MEMORY_ATTRIBUTES => get_memory_attributes(vm, arg).map(|()| 0),
            KVM_SET_SUBPAGE_WRITE_ACCESS => set_subpage_write_access(vm, arg).map(|()| 0),
            KVM_GET_SUBPAGE_WRITE_ACCESS => get_subpage_write_access(vm, arg).map(|()| 0),
            _ => Err(ENOTTY),
        }
    }

    fn check_extension(vm: &VmContext, cap: u32) -> i32 {
        match cap {
            KVM_CAP_MEMORY_ATTRIBUTES_EMULATED => 1,
            // Two bits: the cast keeps them.
            KVM_CAP_SUBPAGE_WRITE_PROTECT => subpage_modes(vm) as i32,
            _ => 0,
        }
    }

    fn subpage_table(vm: &VmContext) -> u64 {
        vm.spp.root()
    }

    fn subpage_table_miss(vm: &VmContext, gfn: u64) -> Result {
        vm.spp.fill(gfn, || vm.subpages.get(gfn))
    }

    fn enable_cap(
        vm: &VmContext,
        cap: u32,
        flags: u32,
        args: &[u64; 4],
        has_vcpus: bool,
    ) -> Result {
        match cap {
            KVM_CAP_MEMORY_ATTRIBUTES_EMULATED => {
                // No flags and no arguments are defined: refuse any.
                if flags != 0 || args.iter().any(|&arg| arg != 0) {
                    return Err(EINVAL);
                }
                vm.enable_emulated_writes();
                Ok(())
            }
            KVM_CAP_SUBPAGE_WRITE_PROTECT => {
                let mode =
                    mode_to_enable(flags, args, subpage_modes(vm), vm.subpage_mode(), has_vcpus)
                        .map_err(|_| EINVAL)?;
                // The table exists before the vCPUs, which point at it.
                if mode == Mode::Hardware {
                    vm.spp.create_root()?;
                }
                vm.choose_subpage_mode(mode)
            }
            _ => Err(ENOTTY),
        }
    }

    fn debugfs_show(vm: &VmContext, out: &mut SeqFile) -> fmt::Result {
        vm_report::show(vm, out)
    }
}

/// The sub-page write protection modes that a VM can use: the software
/// one always, the hardware one where the CPU can decide writes by sub-page.
fn subpage_modes(vm: &VmContext) -> u64 {
    if vm.subpage_write_leaves {
        KVM_SUBPAGE_WP_SOFTWARE | KVM_SUBPAGE_WP_HARDWARE
    } else {
        KVM_SUBPAGE_WP_SOFTWARE
    }
}

/// Narrows the decision about an access to `gfn`, of a VM that protects some
/// sub-pages, to what the sub-page maps allow.
///
/// A leaf never grants write to a protected page.  In the software mode,
/// every write to it faults and KVM's emulator completes it, asking again
/// with the bytes it writes: a write whose bytes touch a denied sub-page is
/// denied.  In the hardware mode, a readable leaf lets the CPU decide writes
/// by sub-page from the SPP table, and only denied ones fault.  A block that
/// holds a protected page is never mapped by one leaf.
fn narrow_to_subpages(
    vm: &VmContext,
    gfn: u64,
    access: &GuestAccess,
    mut decision: AccessDecision,
) -> AccessDecision {
    decision.uniform_orders = vm.subpages.unprotected_blocks(gfn, decision.uniform_orders);
    let map = vm.subpages.get(gfn);
    if map.is_unprotected() {
        return decision;
    }
    // The CPU may decide writes by sub-page only where the page's
    // attributes let it be written at all: the SPP bit lets writes to
    // permitted sub-pages through a leaf without write permission, which
    // would open a NO_WRITE page.
    let attributes_allow_write = decision.verdict.leaf & ACCESS_WRITE != 0;
    decision.verdict.leaf &= !ACCESS_WRITE;
    if vm.subpage_mode() == Some(Mode::Hardware)
        && attributes_allow_write
        && decision.verdict.leaf & ACCESS_READ != 0
    {
        decision.verdict.leaf |= ACCESS_SUBPAGE_WRITE;
    }
    // A write that the page's attributes deny exits for the page.
    if access.access != ACCESS_WRITE || decision.verdict.exit_flags != 0 {
        return decision;
    }
    if let Some(denied) = map.first_denied(access.offset, access.len) {
        decision.verdict.exit_flags = KVM_MEMORY_EXIT_FLAG_WRITE | KVM_MEMORY_EXIT_FLAG_SUBPAGE;
        decision.denied = denied;
    }
    decision
}

impl kernel::Module for KvmMemattr {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let debugfs = DebugfsDir::new();
        Ok(Self {
            // Last: VMs may bind as soon as it is registered.
            _registration: Registration::new(module)?,
            _debugfs: debugfs,
        })
    }
}
