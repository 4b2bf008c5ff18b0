// SPDX-License-Identifier: GPL-2.0

//! The loaded module: the provider KVM calls for the VMs bound to it.

use crate::{
    attributes::{self, fault_verdict, VmCaps},
    get_ioctl::{get_memory_attributes, KVM_GET_MEMORY_ATTRIBUTES},
    provider::{AccessDecision, Provider, Registration, VmInfo},
    run_map::SetChange,
    uapi::KVM_CAP_MEMORY_ATTRIBUTES_EMULATED,
    vm::VmContext,
};
use kernel::{c_str, prelude::*};

/// The module, registered with KVM while it is loaded.
pub(crate) struct KvmMemattr {
    _registration: Registration<Self>,
}

impl Provider for KvmMemattr {
    type Vm = VmContext;

    const NAME: &'static CStr = c_str!("kvm_memattr");

    fn vm_init(info: &VmInfo) -> Result<Pin<KBox<VmContext>>> {
        let caps = VmCaps {
            exec_only: info.has_exec_only_leaves,
            private_mem: info.has_private_mem,
            emulated_writes: false,
        };
        KBox::pin_init(VmContext::new(caps), GFP_KERNEL_ACCOUNT)
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
        !vm.store.is_empty()
    }

    // Inlined into the callback: this is the page fault's path.
    #[inline]
    fn fault_access(vm: &VmContext, gfn: u64, access: u32, block_orders: u32) -> AccessDecision {
        let (attributes, uniform_orders) = vm.store.block_attributes(gfn, block_orders);
        AccessDecision {
            verdict: fault_verdict(attributes, access, vm.caps()),
            uniform_orders,
        }
    }

    fn vm_ioctl(vm: &VmContext, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            KVM_GET_MEMORY_ATTRIBUTES => get_memory_attributes(vm, arg).map(|()| 0),
            _ => Err(ENOTTY),
        }
    }

    fn check_extension(_vm: &VmContext, cap: u32) -> i32 {
        match cap {
            KVM_CAP_MEMORY_ATTRIBUTES_EMULATED => 1,
            _ => 0,
        }
    }

    fn enable_cap(vm: &VmContext, cap: u32, flags: u32, args: &[u64; 4]) -> Result {
        match cap {
            KVM_CAP_MEMORY_ATTRIBUTES_EMULATED => {
                // No flags and no arguments are defined: refuse any.
                if flags != 0 || args.iter().any(|&arg| arg != 0) {
                    return Err(EINVAL);
                }
                vm.enable_emulated_writes();
                Ok(())
            }
            _ => Err(ENOTTY),
        }
    }
}

impl kernel::Module for KvmMemattr {
    fn init(module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            _registration: Registration::new(module)?,
        })
    }
}
