// SPDX-License-Identifier: GPL-2.0

//! `KVM_GET_MEMORY_ATTRIBUTES`: read the attribute map back, one run at a
//! time.

use crate::attributes;
use crate::range::{gfn_range, PAGE_SHIFT};
use crate::uapi::{KvmMemoryAttributes, KVMIO, KVM_GET_MEMORY_ATTRIBUTES_NR};
use crate::vm::VmContext;
use core::mem::size_of;
use kernel::{
    ioctl::_IOWR,
    prelude::*,
    types::{AsBytes, FromBytes},
    uaccess::UserSlice,
};

/// The ioctl number of `KVM_GET_MEMORY_ATTRIBUTES`.
pub(crate) const KVM_GET_MEMORY_ATTRIBUTES: u32 =
    _IOWR::<KvmMemoryAttributes>(KVMIO, KVM_GET_MEMORY_ATTRIBUTES_NR);

/// `struct kvm_memory_attributes` as it crosses the user boundary.
#[repr(transparent)]
struct UserAttributes(KvmMemoryAttributes);

// SAFETY: Four `u64`s: every bit pattern is valid.
unsafe impl FromBytes for UserAttributes {}

// SAFETY: Four `u64`s: no padding, every byte is initialised.
unsafe impl AsBytes for UserAttributes {}

/// In: `address` and `size`.  Out: the attributes of the page at `address`,
/// and `size` shrunk to the run of pages from `address` that share them.
/// Validation is that of `KVM_SET_MEMORY_ATTRIBUTES`.
pub(crate) fn get_memory_attributes(vm: &VmContext, arg: usize) -> Result {
    let (mut reader, mut writer) = UserSlice::new(arg, size_of::<UserAttributes>()).reader_writer();
    let UserAttributes(mut request) = reader.read()?;

    // Every check fails with EINVAL, so their order is not visible; the
    // flags are gfn_range()'s first.
    let (first, last) = gfn_range(&request).map_err(|_| EINVAL)?;
    attributes::validate(request.attributes, vm.caps()).map_err(|_| EINVAL)?;

    let (value, run_last) = vm.store.run_at(first, last);
    request.attributes = value;
    request.size = (run_last - first + 1) << PAGE_SHIFT;
    writer.write(&UserAttributes(request))
}
