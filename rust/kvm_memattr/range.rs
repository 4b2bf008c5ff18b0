// SPDX-License-Identifier: GPL-2.0

//! The gfn range of a `struct kvm_memory_attributes`, validated as upstream
//! validates `KVM_SET_MEMORY_ATTRIBUTES`.

use crate::run_map::MAX_GFN;
use crate::uapi::KvmMemoryAttributes;

/// The size of a page, and of the pages attributes apply to.
pub(crate) const PAGE_SHIFT: u32 = 12;
const PAGE_MASK: u64 = (1 << PAGE_SHIFT) - 1;

/// Why a range is refused.  Every reason maps to `EINVAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BadRange {
    /// `flags` is not 0.
    Flags,
    /// `size` is 0.
    Empty,
    /// `address + size` overflows.
    Overflow,
    /// `address` or `size` is not page aligned.
    Unaligned,
}

// The store holds every gfn of a 64-bit address.
const _: () = assert!(u64::MAX >> PAGE_SHIFT <= MAX_GFN);

/// The first and last gfn of the range, in upstream's order of checks:
/// flags, (attributes: the caller's,) size, overflow, alignment.
pub(crate) fn gfn_range(attributes: &KvmMemoryAttributes) -> Result<(u64, u64), BadRange> {
    if attributes.flags != 0 {
        return Err(BadRange::Flags);
    }
    if attributes.size == 0 {
        return Err(BadRange::Empty);
    }
    let end = attributes
        .address
        .checked_add(attributes.size)
        .ok_or(BadRange::Overflow)?;
    if attributes.address & PAGE_MASK != 0 || attributes.size & PAGE_MASK != 0 {
        return Err(BadRange::Unaligned);
    }
    Ok((attributes.address >> PAGE_SHIFT, (end >> PAGE_SHIFT) - 1))
}
