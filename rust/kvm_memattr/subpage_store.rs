// SPDX-License-Identifier: GPL-2.0

//! The sub-page maps of one VM, one xarray entry per protected page.
//!
//! Unprotected pages have no entry, so a VM that protects nothing pays one
//! `xa_empty()` per question, and lookups are one lock-free `xa_load()`.

use crate::module_counts::SUBPAGE_PAGES;
use crate::run_map::SetChange;
use crate::subpage::{RequestPages, SubpageMap};
use crate::uapi::KVM_SUBPAGE_MAX_PAGES;
use crate::xarray::IntXArray;
use kernel::prelude::*;

/// The sub-page maps of one VM.
///
/// Changes must be serialised by the caller (KVM holds `slots_lock` around
/// them, see `kvm_memattr_change_range()`); lookups may run concurrently.
#[pin_data]
pub(crate) struct SubpageStore {
    /// The map of each protected page, under its gfn.
    #[pin]
    maps: IntXArray,
}

impl SubpageStore {
    /// Creates a store in which no page is protected.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            maps <- IntXArray::new(&SUBPAGE_PAGES),
        })
    }

    /// Whether no page is protected.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    /// The map of `gfn`.
    #[inline]
    pub(crate) fn get(&self, gfn: u64) -> SubpageMap {
        // Entries hold maps, which are 32-bit: the cast keeps them whole.
        self.maps
            .get(gfn)
            .map_or(SubpageMap::UNPROTECTED, |map| SubpageMap(map as u32))
    }

    /// The protected pages and their maps, in gfn order.
    pub(crate) fn protected(&self) -> impl Iterator<Item = (u64, SubpageMap)> + '_ {
        let mut from = Some(0);
        core::iter::from_fn(move || {
            let (gfn, map) = self.maps.next(from?)?;
            from = gfn.checked_add(1);
            // Entries hold maps, which are 32-bit: the cast keeps them whole.
            Some((gfn, SubpageMap(map as u32)))
        })
    }

    /// Whether some page of `first..=last` is protected.
    pub(crate) fn any_protected(&self, first: u64, last: u64) -> bool {
        self.maps.next_in(first, last).is_some()
    }

    /// Which of the naturally aligned blocks around `gfn` in `block_orders`
    /// (bit k: 2^k pages) hold no protected page.
    pub(crate) fn unprotected_blocks(&self, gfn: u64, block_orders: u32) -> u32 {
        let mut unprotected = 0;
        let mut orders = block_orders;
        while orders != 0 {
            let order = orders.trailing_zeros();
            orders &= orders - 1;
            let first = gfn & !((1u64 << order) - 1);
            if !self.any_protected(first, first + ((1u64 << order) - 1)) {
                unprotected |= 1 << order;
            }
        }
        unprotected
    }

    /// Gives the pages of `pages` the maps of `maps`, one each, and tells
    /// what that changed.  Until it returns, a reader of a page of the range
    /// reads its old or its new map.  On error (`ENOMEM`), nothing changed.
    ///
    /// Only a page that had no entry needs memory: those are stored first,
    /// and erased again if one fails.  Then the maps of protected pages
    /// change in place, and the pages that become unprotected lose their
    /// entry; neither can fail.
    pub(crate) fn set(&self, pages: RequestPages, maps: &[u32]) -> Result<SetChange> {
        let pages_and_maps = (pages.first..pages.end()).zip(maps.iter().map(|&m| SubpageMap(m)));
        let mut change = SetChange {
            changes: false,
            narrows: false,
        };
        for (gfn, new) in pages_and_maps.clone() {
            let old = self.get(gfn);
            change.changes |= old != new;
            change.narrows |= old.narrows_to(new);
        }
        if !change.changes {
            return Ok(change);
        }

        let mut created = NewEntries::default();
        for (index, (gfn, new)) in pages_and_maps.clone().enumerate() {
            if new.is_unprotected() || !self.get(gfn).is_unprotected() {
                continue;
            }
            if let Err(e) = self.maps.store(gfn, new.0.into()) {
                self.erase_created(pages.first, &created);
                return Err(e);
            }
            created.insert(index);
        }
        for (gfn, new) in pages_and_maps {
            if new.is_unprotected() {
                self.maps.erase(gfn);
            } else if self.get(gfn) != new {
                // The page has an entry: this allocates nothing.
                self.maps.store(gfn, new.0.into())?;
            }
        }
        Ok(change)
    }

    /// Undoes the first pass of [`Self::set`]: erases the entries it
    /// created, for pages from `first` on.
    fn erase_created(&self, first: u64, created: &NewEntries) {
        for index in created.iter() {
            self.maps.erase(first + index as u64);
        }
    }
}

/// The pages of a request, by index, that got an entry in the first pass of
/// [`SubpageStore::set`].
#[derive(Default)]
struct NewEntries([u64; KVM_SUBPAGE_MAX_PAGES as usize / 64]);

impl NewEntries {
    /// Records page `index`, below `KVM_SUBPAGE_MAX_PAGES`.
    fn insert(&mut self, index: usize) {
        if let Some(word) = self.0.get_mut(index / 64) {
            *word |= 1 << (index % 64);
        }
    }

    /// The pages recorded.
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.0.len() * 64).filter(|&index| self.0[index / 64] & (1 << (index % 64)) != 0)
    }
}
