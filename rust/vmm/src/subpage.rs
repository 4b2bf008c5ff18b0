// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause

//! Sub-page write protection: the map of one page, and the modes.
//!
//! A 4 KiB page has 32 sub-pages of 128 bytes. Its map has bit i set when
//! the guest may write bytes `[128 i, 128 i + 128)`. A map of all ones
//! leaves the page unprotected (KVM then forgets it), and every page starts
//! so. Reads and instruction fetches are never affected, and a map never
//! lifts a `NO_WRITE` attribute: a write is allowed when the memslot, the
//! page's attributes and the page's map all allow it.

use crate::attributes::write_flag_names;
use crate::error::{Error, Result};
use crate::uapi;
use std::fmt;

/// Bytes in a sub-page.
pub const SUBPAGE_SIZE: u64 = uapi::KVM_SUBPAGE_SIZE;
/// Sub-pages in a 4 KiB page.
pub const SUBPAGES_PER_PAGE: usize = uapi::KVM_SUBPAGES_PER_PAGE;
/// The most pages one [`set_subpage_maps`] or [`get_subpage_maps`] covers.
///
/// [`set_subpage_maps`]: crate::MemattrVmFd::set_subpage_maps
/// [`get_subpage_maps`]: crate::MemattrVmFd::get_subpage_maps
pub const SUBPAGE_MAX_PAGES: usize = uapi::KVM_SUBPAGE_MAX_PAGES;

/// The write permission of the 32 sub-pages of one page.
///
/// # Example
///
/// ```
/// use kvm_memattr::SubpageMap;
///
/// // Keep the guest from writing bytes 0x100..0x17f of the page.
/// let map = SubpageMap::ALL_WRITABLE.with_denied(2).unwrap();
/// assert_eq!(map.bits(), 0xffff_fffb);
/// assert!(!map.is_writable(2).unwrap());
/// assert_eq!(map.denied().collect::<Vec<_>>(), [2]);
///
/// // The same, from the bytes.
/// let same = SubpageMap::ALL_WRITABLE.deny_bytes(0x100, 0x80).unwrap();
/// assert_eq!(same, map);
/// assert_eq!(SubpageMap::subpage_of(0x17f).unwrap(), 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubpageMap(u32);

impl SubpageMap {
    /// Every sub-page writable: the page is unprotected.
    pub const ALL_WRITABLE: Self = SubpageMap(u32::MAX);
    /// No sub-page writable.
    pub const NONE_WRITABLE: Self = SubpageMap(0);

    /// The map with KVM's bits: bit i set when sub-page i is writable.
    pub const fn from_bits(bits: u32) -> Self {
        SubpageMap(bits)
    }

    /// KVM's bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether the map protects nothing (all ones).
    pub const fn is_unprotected(self) -> bool {
        self.0 == u32::MAX
    }

    /// Whether sub-page `index` is writable.
    pub fn is_writable(self, index: usize) -> Result<bool> {
        Ok(self.0 & bit(index)? != 0)
    }

    /// The map with sub-page `index` writable or not.
    pub fn with_writable(self, index: usize, writable: bool) -> Result<Self> {
        let bit = bit(index)?;
        Ok(SubpageMap(if writable {
            self.0 | bit
        } else {
            self.0 & !bit
        }))
    }

    /// The map with sub-page `index` denied.
    pub fn with_denied(self, index: usize) -> Result<Self> {
        self.with_writable(index, false)
    }

    /// The map with sub-page `index` writable.
    pub fn with_allowed(self, index: usize) -> Result<Self> {
        self.with_writable(index, true)
    }

    /// The map with every sub-page that holds one of the bytes
    /// `[offset, offset + len)` of the page denied.
    pub fn deny_bytes(self, offset: u64, len: u64) -> Result<Self> {
        Ok(SubpageMap(self.0 & !bytes_mask(offset, len)?))
    }

    /// The map with every sub-page that holds one of the bytes
    /// `[offset, offset + len)` of the page writable.
    pub fn allow_bytes(self, offset: u64, len: u64) -> Result<Self> {
        Ok(SubpageMap(self.0 | bytes_mask(offset, len)?))
    }

    /// The sub-page that holds byte `offset` of a page.
    pub fn subpage_of(offset: u64) -> Result<usize> {
        if offset >= uapi::PAGE_SIZE {
            return Err(Error::ByteRange { offset, len: 1 });
        }
        // Below 32: the cast keeps it.
        Ok((offset / SUBPAGE_SIZE) as usize)
    }

    /// The indexes of the writable sub-pages, in ascending order.
    pub fn writable(self) -> impl Iterator<Item = usize> {
        (0..SUBPAGES_PER_PAGE).filter(move |&i| self.0 & (1 << i) != 0)
    }

    /// The indexes of the denied sub-pages, in ascending order.
    pub fn denied(self) -> impl Iterator<Item = usize> {
        (0..SUBPAGES_PER_PAGE).filter(move |&i| self.0 & (1 << i) == 0)
    }
}

impl Default for SubpageMap {
    /// What KVM reads back for a page never protected: all writable.
    fn default() -> Self {
        SubpageMap::ALL_WRITABLE
    }
}

impl fmt::Display for SubpageMap {
    /// 32 characters, sub-page 0 first: `w` writable, `-` denied.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (0..SUBPAGES_PER_PAGE)
            .map(|i| if self.0 & (1 << i) != 0 { 'w' } else { '-' })
            .try_for_each(|c| fmt::Write::write_char(f, c))
    }
}

/// The bit of sub-page `index`.
fn bit(index: usize) -> Result<u32> {
    if index < SUBPAGES_PER_PAGE {
        Ok(1 << index)
    } else {
        Err(Error::SubpageIndex(index))
    }
}

/// The bits of the sub-pages that hold bytes `[offset, offset + len)`.
fn bytes_mask(offset: u64, len: u64) -> Result<u32> {
    let range = Error::ByteRange { offset, len };
    let end = offset.checked_add(len).ok_or(range)?;
    if len == 0 || end > uapi::PAGE_SIZE {
        return Err(range);
    }
    let first = offset / SUBPAGE_SIZE;
    let last = (end - 1) / SUBPAGE_SIZE;
    // first <= last < 32: the shift of u64 cannot overflow and the mask
    // fits in 32 bits.
    Ok((((1u64 << (last + 1)) - (1u64 << first)) & u64::from(u32::MAX)) as u32)
}

bitflags::bitflags! {
    /// The sub-page write protection modes a VM can use, as
    /// `KVM_CHECK_EXTENSION(KVM_CAP_SUBPAGE_WRITE_PROTECT)` reports them.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct SubpageModes: u64 {
        /// KVM's emulator completes the writes to permitted sub-pages;
        /// every VM bound to the module can use it.
        const SOFTWARE = uapi::KVM_SUBPAGE_WP_SOFTWARE;
        /// The CPU checks writes by sub-page (Intel SPP): no exit for a
        /// permitted write.
        const HARDWARE = uapi::KVM_SUBPAGE_WP_HARDWARE;
    }
}

impl SubpageModes {
    /// Whether `mode` is one of these.
    pub const fn offers(self, mode: SubpageMode) -> bool {
        self.contains(mode.as_modes())
    }
}

impl fmt::Display for SubpageModes {
    /// The names joined by `|`, e.g. `SOFTWARE|HARDWARE`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_flag_names(self, f)
    }
}

/// The one mode a VM chooses with
/// [`enable_subpage_mode`](crate::MemattrVmFd::enable_subpage_mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubpageMode {
    /// `KVM_SUBPAGE_WP_SOFTWARE`.
    Software,
    /// `KVM_SUBPAGE_WP_HARDWARE`.
    Hardware,
}

impl SubpageMode {
    /// The mode as a set of one.
    pub const fn as_modes(self) -> SubpageModes {
        match self {
            SubpageMode::Software => SubpageModes::SOFTWARE,
            SubpageMode::Hardware => SubpageModes::HARDWARE,
        }
    }

    /// `KVM_ENABLE_CAP`'s `args[0]` for this mode.
    pub const fn bits(self) -> u64 {
        self.as_modes().bits()
    }
}

impl fmt::Display for SubpageMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SubpageMode::Software => "software",
            SubpageMode::Hardware => "hardware",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_subpage_helpers_touch_one_bit() {
        for i in 0..SUBPAGES_PER_PAGE {
            let denied = SubpageMap::ALL_WRITABLE.with_denied(i).unwrap();
            assert_eq!(denied.bits(), !(1 << i));
            assert!(!denied.is_writable(i).unwrap());
            assert_eq!(denied.denied().collect::<Vec<_>>(), [i]);
            assert_eq!(denied.writable().count(), 31);
            assert_eq!(denied.with_allowed(i).unwrap(), SubpageMap::ALL_WRITABLE);

            let allowed = SubpageMap::NONE_WRITABLE.with_allowed(i).unwrap();
            assert_eq!(allowed.bits(), 1 << i);
            assert_eq!(allowed.writable().collect::<Vec<_>>(), [i]);
        }
    }

    #[test]
    fn indexes_past_the_page_are_refused() {
        let map = SubpageMap::ALL_WRITABLE;
        for index in [32, 33, usize::MAX] {
            assert_eq!(map.is_writable(index), Err(Error::SubpageIndex(index)));
            assert_eq!(map.with_denied(index), Err(Error::SubpageIndex(index)));
            assert_eq!(map.with_allowed(index), Err(Error::SubpageIndex(index)));
        }
    }

    #[test]
    fn byte_ranges_cover_the_subpages_they_touch() {
        let deny = |offset, len| SubpageMap::ALL_WRITABLE.deny_bytes(offset, len);
        assert_eq!(deny(0, 1).unwrap().bits(), !1);
        assert_eq!(deny(0x7f, 2).unwrap().bits(), !0b11);
        assert_eq!(deny(0x80, 0x80).unwrap().bits(), !0b10);
        assert_eq!(deny(0, 4096).unwrap(), SubpageMap::NONE_WRITABLE);
        assert_eq!(deny(0xfff, 1).unwrap().bits(), !(1 << 31));
        assert_eq!(deny(0xf80, 0x80).unwrap().bits(), 0x7fff_ffff);

        let allow = |offset, len| SubpageMap::NONE_WRITABLE.allow_bytes(offset, len);
        assert_eq!(allow(0x100, 0x101).unwrap().bits(), 0b1_1100);
        assert_eq!(allow(0, 4096).unwrap(), SubpageMap::ALL_WRITABLE);
    }

    #[test]
    fn byte_ranges_outside_one_page_are_refused() {
        for (offset, len) in [(0, 0), (0, 4097), (0xfff, 2), (4096, 1), (u64::MAX, 2)] {
            let e = Error::ByteRange { offset, len };
            assert_eq!(SubpageMap::ALL_WRITABLE.deny_bytes(offset, len), Err(e));
            assert_eq!(SubpageMap::ALL_WRITABLE.allow_bytes(offset, len), Err(e));
        }
        assert_eq!(
            SubpageMap::subpage_of(4096),
            Err(Error::ByteRange {
                offset: 4096,
                len: 1
            })
        );
    }

    #[test]
    fn subpage_of_every_byte() {
        for offset in 0..4096u64 {
            let index = SubpageMap::subpage_of(offset).unwrap();
            assert_eq!(index as u64, offset / 128);
            let map = SubpageMap::ALL_WRITABLE.deny_bytes(offset, 1).unwrap();
            assert_eq!(map.denied().collect::<Vec<_>>(), [index]);
        }
    }

    #[test]
    fn default_and_display() {
        assert_eq!(SubpageMap::default(), SubpageMap::ALL_WRITABLE);
        assert!(SubpageMap::default().is_unprotected());
        assert!(!SubpageMap::from_bits(0xffff_fffe).is_unprotected());
        let map = SubpageMap::ALL_WRITABLE
            .with_denied(0)
            .unwrap()
            .with_denied(31)
            .unwrap();
        assert_eq!(map.to_string(), format!("-{}-", "w".repeat(30)));
    }

    #[test]
    fn modes() {
        assert_eq!(SubpageMode::Software.bits(), uapi::KVM_SUBPAGE_WP_SOFTWARE);
        assert_eq!(SubpageMode::Hardware.bits(), uapi::KVM_SUBPAGE_WP_HARDWARE);
        assert!(SubpageModes::SOFTWARE.offers(SubpageMode::Software));
        assert!(!SubpageModes::SOFTWARE.offers(SubpageMode::Hardware));
        assert!(SubpageModes::all().offers(SubpageMode::Hardware));
        assert!(!SubpageModes::empty().offers(SubpageMode::Software));
        assert_eq!(SubpageMode::Hardware.to_string(), "hardware");
        assert_eq!(SubpageModes::empty().to_string(), "none");
        assert_eq!(SubpageModes::all().to_string(), "SOFTWARE|HARDWARE");
    }
}
