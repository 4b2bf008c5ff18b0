// SPDX-License-Identifier: GPL-2.0

//! Sub-page write protection: the write permission of each 128-byte part of
//! a page, the requests that set and read it, and the mode that enforces it.
//!
//! A page's map has one bit per sub-page, bit i for bytes `[128 i, 128 i +
//! 128)`, set when the guest may write them.  All ones is an unprotected
//! page, the state of every page that no SET protected.

use crate::range::PAGE_SHIFT;
use crate::uapi::{
    KvmSubpageWriteAccess, KVM_SUBPAGES_PER_PAGE, KVM_SUBPAGE_MAX_PAGES, KVM_SUBPAGE_SIZE,
    KVM_SUBPAGE_WP_HARDWARE, KVM_SUBPAGE_WP_SOFTWARE,
};

/// The bytes of a page.
pub(crate) const PAGE_SIZE: u32 = 1 << PAGE_SHIFT;

const _: () = assert!(KVM_SUBPAGE_SIZE * KVM_SUBPAGES_PER_PAGE == PAGE_SIZE);
const _: () = assert!(KVM_SUBPAGES_PER_PAGE == u32::BITS);

/// The write permission of the sub-pages of one page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SubpageMap(pub(crate) u32);

/// A part of a page, in bytes: what a denied access's exit reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PagePart {
    /// The first byte.
    pub(crate) offset: u16,
    /// The number of bytes.
    pub(crate) len: u16,
}

impl PagePart {
    /// The whole page.
    pub(crate) const WHOLE_PAGE: Self = Self {
        offset: 0,
        len: PAGE_SIZE as u16,
    };

    /// Sub-page `index` (below 32).
    pub(crate) const fn subpage(index: u32) -> Self {
        Self {
            offset: (index * KVM_SUBPAGE_SIZE) as u16,
            len: KVM_SUBPAGE_SIZE as u16,
        }
    }
}

impl SubpageMap {
    /// Every sub-page writable: the page is not protected.
    pub(crate) const UNPROTECTED: Self = Self(u32::MAX);

    /// Whether the map protects nothing.
    pub(crate) const fn is_unprotected(self) -> bool {
        self.0 == u32::MAX
    }

    /// The first sub-page that a write to the `len` bytes from `offset` of
    /// the page touches and may not write, if any.  The bytes past the end
    /// of the page, if the range goes there, are not this page's to decide;
    /// a write of no byte touches nothing.
    pub(crate) const fn first_denied(self, offset: u32, len: u32) -> Option<PagePart> {
        if len == 0 || offset >= PAGE_SIZE {
            return None;
        }
        let last_byte = if len > PAGE_SIZE - offset {
            PAGE_SIZE - 1
        } else {
            offset + len - 1
        };
        let first = offset / KVM_SUBPAGE_SIZE;
        let last = last_byte / KVM_SUBPAGE_SIZE;
        // Bits first..=last; last is at most 31.
        let touched = (u32::MAX >> (31 - last)) & (u32::MAX << first);
        let denied = touched & !self.0;
        if denied == 0 {
            None
        } else {
            Some(PagePart::subpage(denied.trailing_zeros()))
        }
    }

    /// Whether replacing `self` by `new` takes write permission away from
    /// some sub-page.
    pub(crate) const fn narrows_to(self, new: Self) -> bool {
        self.0 & !new.0 != 0
    }
}

/// Why a `struct kvm_subpage_write_access` is refused.  Every reason maps to
/// `EINVAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BadRequest {
    /// `flags` is not 0.
    Flags,
    /// `reserved` is not 0.
    Reserved,
    /// `npages` is 0 or above `KVM_SUBPAGE_MAX_PAGES`.
    PageCount,
    /// `address` is not 4 KiB aligned.
    Unaligned,
    /// The end of the pages does not fit in 64 bits: they wrap, or end
    /// exactly at the top of the address space, as upstream refuses for
    /// `KVM_SET_MEMORY_ATTRIBUTES`.
    Wraps,
}

/// The pages that a request covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RequestPages {
    /// The first gfn.
    pub(crate) first: u64,
    /// How many pages, 1 to `KVM_SUBPAGE_MAX_PAGES`.
    pub(crate) count: u32,
}

impl RequestPages {
    /// The gfn after the last.
    pub(crate) const fn end(self) -> u64 {
        self.first + self.count as u64
    }
}

/// The pages of a SET or GET request, checked.
pub(crate) fn request_pages(request: &KvmSubpageWriteAccess) -> Result<RequestPages, BadRequest> {
    if request.flags != 0 {
        return Err(BadRequest::Flags);
    }
    if request.reserved != [0; 2] {
        return Err(BadRequest::Reserved);
    }
    if request.npages == 0 || request.npages > KVM_SUBPAGE_MAX_PAGES {
        return Err(BadRequest::PageCount);
    }
    if request.address & u64::from(PAGE_SIZE - 1) != 0 {
        return Err(BadRequest::Unaligned);
    }
    let size = u64::from(request.npages) << PAGE_SHIFT;
    if request.address.checked_add(size).is_none() {
        return Err(BadRequest::Wraps);
    }
    Ok(RequestPages {
        first: request.address >> PAGE_SHIFT,
        count: request.npages,
    })
}

/// How a VM enforces its sub-page maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Protected pages are mapped without write; KVM's emulator completes
    /// the writes to permitted sub-pages.
    Software,
    /// The CPU checks writes against the SPP table (Intel SPP).
    Hardware,
}

impl Mode {
    /// The mode's `KVM_SUBPAGE_WP_*` bit.
    pub(crate) const fn bit(self) -> u64 {
        match self {
            Self::Software => KVM_SUBPAGE_WP_SOFTWARE,
            Self::Hardware => KVM_SUBPAGE_WP_HARDWARE,
        }
    }
}

/// Why `KVM_ENABLE_CAP(KVM_CAP_SUBPAGE_WRITE_PROTECT)` is refused.  Every
/// reason maps to `EINVAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BadEnable {
    /// `flags` or `args[1..3]` is not 0.
    UnusedArguments,
    /// `args[0]` is not exactly one of the modes the VM can use.
    NotOneAdvertisedMode,
    /// A vCPU exists already.
    AfterVcpus,
    /// A mode was chosen already.
    AlreadyEnabled,
}

/// The mode that `KVM_ENABLE_CAP` chooses, for a VM that can use the modes
/// `advertised` (`KVM_SUBPAGE_WP_*` bits), has `enabled` one already or not,
/// and has vCPUs or not.
pub(crate) fn mode_to_enable(
    flags: u32,
    args: &[u64; 4],
    advertised: u64,
    enabled: Option<Mode>,
    has_vcpus: bool,
) -> Result<Mode, BadEnable> {
    if flags != 0 || args[1..].iter().any(|&arg| arg != 0) {
        return Err(BadEnable::UnusedArguments);
    }
    let mode = match args[0] {
        KVM_SUBPAGE_WP_SOFTWARE => Mode::Software,
        KVM_SUBPAGE_WP_HARDWARE => Mode::Hardware,
        _ => return Err(BadEnable::NotOneAdvertisedMode),
    };
    if advertised & mode.bit() == 0 {
        return Err(BadEnable::NotOneAdvertisedMode);
    }
    if has_vcpus {
        return Err(BadEnable::AfterVcpus);
    }
    if enabled.is_some() {
        return Err(BadEnable::AlreadyEnabled);
    }
    Ok(mode)
}
