// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause

//! The numbers and structures of `<linux/kvm_memattr.h>`, named as in C.
//!
//! This is the raw interface, for a VMM that wants to issue the ioctls
//! itself; [`MemattrVmFd`](crate::MemattrVmFd) wraps every one of them.
//! The header is the authority: the unit tests below recompute each ioctl
//! number from its C definition with `vmm-sys-util`'s macros and check each
//! layout, and `tests/header.rs` compares every definition with the header
//! when the crate is built inside the kvm-memattr tree.
//!
//! The upstream numbers this crate uses (`KVM_CHECK_EXTENSION`,
//! `KVM_ENABLE_CAP`, `KVM_SET_MEMORY_ATTRIBUTES`) are declared here too, so
//! that every ioctl goes through the same checked path.

// The C names are the point of this module.
#![allow(non_camel_case_types)]

use kvm_bindings::{kvm_enable_cap, kvm_memory_attributes, KVMIO};
use std::mem::size_of;
use std::os::raw::c_ulong;
use vmm_sys_util::ioctl::{ioctl_expr, _IOC_NONE, _IOC_READ, _IOC_WRITE};

/// Attribute: the guest may not read the page.
pub const KVM_MEMORY_ATTRIBUTE_NO_READ: u64 = 1 << 0;
/// Attribute: the guest may not write the page.
pub const KVM_MEMORY_ATTRIBUTE_NO_WRITE: u64 = 1 << 1;
/// Attribute: the guest may not execute from the page.
pub const KVM_MEMORY_ATTRIBUTE_NO_EXEC: u64 = 1 << 2;
/// Attribute: the page is private (upstream's, in `<linux/kvm.h>`).
pub const KVM_MEMORY_ATTRIBUTE_PRIVATE: u64 = kvm_bindings::KVM_MEMORY_ATTRIBUTE_PRIVATE as u64;

/// Capability: on a VM fd, 1 where the VM can enable the emulated access
/// modes (write without read); `KVM_ENABLE_CAP` enables them.
pub const KVM_CAP_MEMORY_ATTRIBUTES_EMULATED: u32 = 1000;

/// `memory_fault.flags`: a read was denied.
pub const KVM_MEMORY_EXIT_FLAG_READ: u64 = 1 << 0;
/// `memory_fault.flags`: a write was denied.
pub const KVM_MEMORY_EXIT_FLAG_WRITE: u64 = 1 << 1;
/// `memory_fault.flags`: an instruction fetch was denied.
pub const KVM_MEMORY_EXIT_FLAG_EXEC: u64 = 1 << 2;
/// `memory_fault.flags`: the access was private (upstream's).
pub const KVM_MEMORY_EXIT_FLAG_PRIVATE: u64 = kvm_bindings::KVM_MEMORY_EXIT_FLAG_PRIVATE as u64;
/// `memory_fault.flags`, with `KVM_MEMORY_EXIT_FLAG_WRITE`: a sub-page map
/// denied the write; `gpa` is the 128-byte sub-page, `size` is 128.
pub const KVM_MEMORY_EXIT_FLAG_SUBPAGE: u64 = 1 << 4;

/// Capability: on a VM fd, the `KVM_SUBPAGE_WP_*` modes the VM can use;
/// `KVM_ENABLE_CAP` with `args[0]` = one of them chooses it.
pub const KVM_CAP_SUBPAGE_WRITE_PROTECT: u32 = 1001;
/// Sub-page mode: KVM's emulator completes writes to permitted sub-pages.
pub const KVM_SUBPAGE_WP_SOFTWARE: u64 = 1 << 0;
/// Sub-page mode: the CPU checks writes by sub-page (Intel SPP).
pub const KVM_SUBPAGE_WP_HARDWARE: u64 = 1 << 1;

/// Bytes in a sub-page.
pub const KVM_SUBPAGE_SIZE: u64 = 128;
/// Sub-pages in a 4 KiB page: the bits of one map.
pub const KVM_SUBPAGES_PER_PAGE: usize = 32;
/// The most pages one `KVM_SET/GET_SUBPAGE_WRITE_ACCESS` covers.
pub const KVM_SUBPAGE_MAX_PAGES: usize = 512;

/// The page size that attributes and sub-page maps apply to.
pub const PAGE_SIZE: u64 = 4096;

/// `struct kvm_subpage_write_access`: the header of a sub-page SET or GET,
/// followed in memory by `npages` maps.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct kvm_subpage_write_access {
    /// Guest-physical address of the first page, 4 KiB aligned.
    pub address: u64,
    /// Pages covered, 1 to [`KVM_SUBPAGE_MAX_PAGES`].
    pub npages: u32,
    /// Must be 0.
    pub flags: u32,
    /// Must be 0.
    pub reserved: [u64; 2],
    /// The flexible array of maps, one per page: bit i set means bytes
    /// `[128 i, 128 i + 128)` of the page are writable.
    pub access_map: [u32; 0],
}

// The capabilities lie far above upstream's numbers, so that a new one
// cannot collide.
const _: () = assert!(kvm_bindings::KVM_CAP_MEMORY_ATTRIBUTES < KVM_CAP_MEMORY_ATTRIBUTES_EMULATED);

// One page's sub-pages are the bits of one map.
const _: () = assert!(KVM_SUBPAGES_PER_PAGE == u32::BITS as usize);
const _: () = assert!(KVM_SUBPAGES_PER_PAGE as u64 * KVM_SUBPAGE_SIZE == PAGE_SIZE);

/// Builds an ioctl number as the C `_IOC()` macro does.
const fn ioc(dir: u32, nr: u32, size: usize) -> c_ulong {
    // The sizes below are 32 and 104 bytes: far within _IOC's 14 bits.
    ioctl_expr(dir, KVMIO, nr, size as u32)
}

/// `_IOWR(KVMIO, 0xf0, struct kvm_memory_attributes)`: read one run of
/// attributes.
pub const KVM_GET_MEMORY_ATTRIBUTES: c_ulong = ioc(
    _IOC_READ | _IOC_WRITE,
    0xf0,
    size_of::<kvm_memory_attributes>(),
);
/// `_IOW(KVMIO, 0xf1, struct kvm_subpage_write_access)`: set sub-page maps.
pub const KVM_SET_SUBPAGE_WRITE_ACCESS: c_ulong =
    ioc(_IOC_WRITE, 0xf1, size_of::<kvm_subpage_write_access>());
/// `_IOWR(KVMIO, 0xf2, struct kvm_subpage_write_access)`: read sub-page
/// maps.
pub const KVM_GET_SUBPAGE_WRITE_ACCESS: c_ulong = ioc(
    _IOC_READ | _IOC_WRITE,
    0xf2,
    size_of::<kvm_subpage_write_access>(),
);

/// Upstream's `_IO(KVMIO, 0x03)`.
pub const KVM_CHECK_EXTENSION: c_ulong = ioc(_IOC_NONE, 0x03, 0);
/// Upstream's `_IOW(KVMIO, 0xa3, struct kvm_enable_cap)`.
pub const KVM_ENABLE_CAP: c_ulong = ioc(_IOC_WRITE, 0xa3, size_of::<kvm_enable_cap>());
/// Upstream's `_IOW(KVMIO, 0xd2, struct kvm_memory_attributes)`.
pub const KVM_SET_MEMORY_ATTRIBUTES: c_ulong =
    ioc(_IOC_WRITE, 0xd2, size_of::<kvm_memory_attributes>());

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of};
    use vmm_sys_util::{ioctl_io_nr, ioctl_iow_nr, ioctl_iowr_nr};

    // The C definitions, spelled as in the headers.
    ioctl_iowr_nr!(
        C_KVM_GET_MEMORY_ATTRIBUTES,
        KVMIO,
        0xf0,
        kvm_memory_attributes
    );
    ioctl_iow_nr!(
        C_KVM_SET_SUBPAGE_WRITE_ACCESS,
        KVMIO,
        0xf1,
        kvm_subpage_write_access
    );
    ioctl_iowr_nr!(
        C_KVM_GET_SUBPAGE_WRITE_ACCESS,
        KVMIO,
        0xf2,
        kvm_subpage_write_access
    );
    ioctl_io_nr!(C_KVM_CHECK_EXTENSION, KVMIO, 0x03);
    ioctl_iow_nr!(C_KVM_ENABLE_CAP, KVMIO, 0xa3, kvm_enable_cap);
    ioctl_iow_nr!(
        C_KVM_SET_MEMORY_ATTRIBUTES,
        KVMIO,
        0xd2,
        kvm_memory_attributes
    );

    #[test]
    fn ioctl_numbers_match_the_c_macros() {
        assert_eq!(KVM_GET_MEMORY_ATTRIBUTES, C_KVM_GET_MEMORY_ATTRIBUTES());
        assert_eq!(
            KVM_SET_SUBPAGE_WRITE_ACCESS,
            C_KVM_SET_SUBPAGE_WRITE_ACCESS()
        );
        assert_eq!(
            KVM_GET_SUBPAGE_WRITE_ACCESS,
            C_KVM_GET_SUBPAGE_WRITE_ACCESS()
        );
        assert_eq!(KVM_CHECK_EXTENSION, C_KVM_CHECK_EXTENSION());
        assert_eq!(KVM_ENABLE_CAP, C_KVM_ENABLE_CAP());
        assert_eq!(KVM_SET_MEMORY_ATTRIBUTES, C_KVM_SET_MEMORY_ATTRIBUTES());
    }

    #[test]
    fn ioctl_numbers_match_the_values_c_computes() {
        // dir << 30 | size << 16 | 0xae << 8 | nr, as a C compiler
        // evaluates the x86 _IOC() for these sizes.
        assert_eq!(KVM_GET_MEMORY_ATTRIBUTES, 0xc020_aef0);
        assert_eq!(KVM_SET_SUBPAGE_WRITE_ACCESS, 0x4020_aef1);
        assert_eq!(KVM_GET_SUBPAGE_WRITE_ACCESS, 0xc020_aef2);
        assert_eq!(KVM_CHECK_EXTENSION, 0xae03);
        assert_eq!(KVM_ENABLE_CAP, 0x4068_aea3);
        assert_eq!(KVM_SET_MEMORY_ATTRIBUTES, 0x4020_aed2);
    }

    #[test]
    fn subpage_header_has_the_c_layout() {
        assert_eq!(size_of::<kvm_subpage_write_access>(), 32);
        assert_eq!(align_of::<kvm_subpage_write_access>(), 8);
        assert_eq!(offset_of!(kvm_subpage_write_access, address), 0);
        assert_eq!(offset_of!(kvm_subpage_write_access, npages), 8);
        assert_eq!(offset_of!(kvm_subpage_write_access, flags), 12);
        assert_eq!(offset_of!(kvm_subpage_write_access, reserved), 16);
        assert_eq!(offset_of!(kvm_subpage_write_access, access_map), 32);
    }

    #[test]
    fn upstream_structures_have_the_c_layout() {
        assert_eq!(size_of::<kvm_memory_attributes>(), 32);
        assert_eq!(offset_of!(kvm_memory_attributes, address), 0);
        assert_eq!(offset_of!(kvm_memory_attributes, size), 8);
        assert_eq!(offset_of!(kvm_memory_attributes, attributes), 16);
        assert_eq!(offset_of!(kvm_memory_attributes, flags), 24);
        assert_eq!(size_of::<kvm_enable_cap>(), 104);
    }

    #[test]
    fn bits_are_distinct_and_private_is_upstreams() {
        let attributes = [
            KVM_MEMORY_ATTRIBUTE_NO_READ,
            KVM_MEMORY_ATTRIBUTE_NO_WRITE,
            KVM_MEMORY_ATTRIBUTE_NO_EXEC,
            KVM_MEMORY_ATTRIBUTE_PRIVATE,
        ];
        assert_eq!(attributes.iter().fold(0, |a, b| a | b), 0xf);
        assert_eq!(KVM_MEMORY_ATTRIBUTE_PRIVATE, 1 << 3);

        let flags = [
            KVM_MEMORY_EXIT_FLAG_READ,
            KVM_MEMORY_EXIT_FLAG_WRITE,
            KVM_MEMORY_EXIT_FLAG_EXEC,
            KVM_MEMORY_EXIT_FLAG_PRIVATE,
            KVM_MEMORY_EXIT_FLAG_SUBPAGE,
        ];
        assert_eq!(flags.iter().fold(0, |a, b| a | b), 0x1f);
        assert_eq!(KVM_MEMORY_EXIT_FLAG_PRIVATE, 1 << 3);

        assert_eq!(KVM_SUBPAGE_WP_SOFTWARE | KVM_SUBPAGE_WP_HARDWARE, 3);
        assert_eq!(KVM_CAP_MEMORY_ATTRIBUTES_EMULATED, 1000);
        assert_eq!(KVM_CAP_SUBPAGE_WRITE_PROTECT, 1001);
    }
}
