// SPDX-License-Identifier: GPL-2.0

//! The uAPI constants, as `include/uapi/linux/kvm_memattr.h` defines them.
//!
//! The host crate's tests compare every constant here with the C header.

/// `KVM_MEMORY_ATTRIBUTE_NO_READ`: the guest may not read the page.
pub(crate) const KVM_MEMORY_ATTRIBUTE_NO_READ: u64 = 1 << 0;
/// `KVM_MEMORY_ATTRIBUTE_NO_WRITE`: the guest may not write the page.
pub(crate) const KVM_MEMORY_ATTRIBUTE_NO_WRITE: u64 = 1 << 1;
/// `KVM_MEMORY_ATTRIBUTE_NO_EXEC`: the guest may not execute from the page.
pub(crate) const KVM_MEMORY_ATTRIBUTE_NO_EXEC: u64 = 1 << 2;
/// `KVM_MEMORY_ATTRIBUTE_PRIVATE`, upstream's (`<linux/kvm.h>`).
pub(crate) const KVM_MEMORY_ATTRIBUTE_PRIVATE: u64 = 1 << 3;

/// `KVM_MEMORY_EXIT_FLAG_READ`: a denied read caused the exit.
pub(crate) const KVM_MEMORY_EXIT_FLAG_READ: u64 = 1 << 0;
/// `KVM_MEMORY_EXIT_FLAG_WRITE`: a denied write caused the exit.
pub(crate) const KVM_MEMORY_EXIT_FLAG_WRITE: u64 = 1 << 1;
/// `KVM_MEMORY_EXIT_FLAG_EXEC`: a denied instruction fetch caused the exit.
pub(crate) const KVM_MEMORY_EXIT_FLAG_EXEC: u64 = 1 << 2;

/// `KVM_CAP_MEMORY_ATTRIBUTES_EMULATED`: the capability that opts a VM into
/// the access modes whose writes KVM's emulator completes.
pub(crate) const KVM_CAP_MEMORY_ATTRIBUTES_EMULATED: u32 = 1000;

/// `KVMIO`, the ioctl type of KVM.
pub(crate) const KVMIO: u32 = 0xAE;

/// The number of `KVM_GET_MEMORY_ATTRIBUTES`: `_IOWR(KVMIO, 0xf0, struct
/// kvm_memory_attributes)`.
pub(crate) const KVM_GET_MEMORY_ATTRIBUTES_NR: u32 = 0xf0;

/// `struct kvm_memory_attributes` of `<linux/kvm.h>`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct KvmMemoryAttributes {
    pub(crate) address: u64,
    pub(crate) size: u64,
    pub(crate) attributes: u64,
    pub(crate) flags: u64,
}

/// `KVM_MEMORY_EXIT_FLAG_SUBPAGE`: with the write flag, the sub-page write
/// protection denied the write.
pub(crate) const KVM_MEMORY_EXIT_FLAG_SUBPAGE: u64 = 1 << 4;

/// `KVM_CAP_SUBPAGE_WRITE_PROTECT`: the modes of sub-page write protection.
pub(crate) const KVM_CAP_SUBPAGE_WRITE_PROTECT: u32 = 1001;
/// `KVM_SUBPAGE_WP_SOFTWARE`: KVM's emulator completes permitted writes.
pub(crate) const KVM_SUBPAGE_WP_SOFTWARE: u64 = 1 << 0;
/// `KVM_SUBPAGE_WP_HARDWARE`: the CPU checks writes (Intel SPP).
pub(crate) const KVM_SUBPAGE_WP_HARDWARE: u64 = 1 << 1;

/// `KVM_SUBPAGE_SIZE`: the bytes of a sub-page.
pub(crate) const KVM_SUBPAGE_SIZE: u32 = 128;
/// `KVM_SUBPAGES_PER_PAGE`: the sub-pages of a 4 KiB page.
pub(crate) const KVM_SUBPAGES_PER_PAGE: u32 = 32;
/// `KVM_SUBPAGE_MAX_PAGES`: the most pages one SET or GET covers.
pub(crate) const KVM_SUBPAGE_MAX_PAGES: u32 = 512;

/// The numbers of `KVM_SET_SUBPAGE_WRITE_ACCESS` (`_IOW`) and
/// `KVM_GET_SUBPAGE_WRITE_ACCESS` (`_IOWR`), on `struct
/// kvm_subpage_write_access`.
pub(crate) const KVM_SET_SUBPAGE_WRITE_ACCESS_NR: u32 = 0xf1;
/// See [`KVM_SET_SUBPAGE_WRITE_ACCESS_NR`].
pub(crate) const KVM_GET_SUBPAGE_WRITE_ACCESS_NR: u32 = 0xf2;

/// The fixed part of `struct kvm_subpage_write_access`; `npages` maps
/// (`u32`) follow it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct KvmSubpageWriteAccess {
    pub(crate) address: u64,
    pub(crate) npages: u32,
    pub(crate) flags: u32,
    pub(crate) reserved: [u64; 2],
}
