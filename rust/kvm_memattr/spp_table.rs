// SPDX-License-Identifier: GPL-2.0

//! The SPP table of a VM in the hardware mode of sub-page write protection:
//! the table the CPU walks, by physical address, to decide a write through
//! an EPT leaf with the SPP bit (see `spp_entry.rs` for its format).
//!
//! The table only grows: a page that was protected keeps its level-1 entry,
//! with all sub-pages writable once it is unprotected, so that a stale leaf
//! never makes the CPU miss.  Its pages are freed with the VM, and counted
//! module-wide ([`SPP_TABLE_PAGES`]) so that tests can see none is leaked.  A
//! change costs the pages it touches plus the tables it adds, at most three
//! per page.

use crate::module_counts::{Counted, SPP_TABLE_PAGES};
use crate::spp_entry::{next_table, table_entry, write_vector, Level, MAX_GFN};
use crate::subpage::{RequestPages, SubpageMap};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{
    bindings,
    new_mutex,
    page::Page,
    prelude::*,
    sync::Mutex,
};

/// One page of an SPP table.
///
/// # Invariants
///
/// `page` was zeroed when allocated, and is only written through [`entry`],
/// an `AtomicU64` at a time, because the CPU may read it at any time.
struct TablePage {
    page: Page,
    _counted: Counted,
}

impl TablePage {
    /// Allocates an empty table page, accounted to the caller's memory
    /// cgroup: every entry is 0, a miss.
    fn new() -> Result<Self> {
        let page = Page::alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO)?;
        // INVARIANT: `__GFP_ZERO` zeroed it.
        Ok(Self {
            page,
            _counted: Counted::new(&SPP_TABLE_PAGES),
        })
    }

    /// The page's physical address.
    fn phys(&self) -> u64 {
        // SAFETY: `self.page` is a page this `TablePage` owns.
        unsafe { bindings::page_to_phys(self.page.as_ptr()) }
    }
}

/// Entry `index` of the table page at physical address `table`.
///
/// # Safety
///
/// `table` must be the physical address of a [`TablePage`] that outlives
/// `'a`, and `index` below `ENTRIES_PER_TABLE`: [`Level::index`] gives such
/// indices.
unsafe fn entry<'a>(table: u64, index: usize) -> &'a AtomicU64 {
    // SAFETY: Per the function's safety requirements, `table` is the address
    // of a live page of the direct map, whose kernel address `phys_to_virt()`
    // gives; `index` keeps the entry inside it.
    let entries = unsafe { bindings::phys_to_virt(table) }.cast::<u64>();
    // SAFETY: The entry is an aligned `u64` in the page, which only
    // `AtomicU64`s access while the page lives (type invariant of
    // `TablePage`).
    unsafe { AtomicU64::from_ptr(entries.add(index)) }
}

/// The pages of a VM's SPP table: the root first, once there is one.
struct Tables {
    pages: KVec<TablePage>,
}

impl Tables {
    /// The level-1 entry of `gfn`, allocating the tables on the way if
    /// `allocate`; `None` if one is missing and not allocated, if there is no
    /// root, or if `gfn` is above [`MAX_GFN`]: the levels' indices keep only
    /// the bits the table describes, so such a gfn would reach the entry of
    /// another page.
    fn leaf_entry(&mut self, gfn: u64, allocate: bool) -> Result<Option<&AtomicU64>> {
        if gfn > MAX_GFN {
            return Ok(None);
        }
        let Some(root) = self.pages.first() else {
            return Ok(None);
        };
        let mut table = root.phys();
        let mut level = Level::L4;
        while let Some(next_level) = level.next() {
            // SAFETY: `table` is the root or was read from an entry of this
            // table: a page of `self.pages`, which lives as long as `self`.
            let slot = unsafe { entry(table, level.index(gfn)) };
            table = match next_table(slot.load(Ordering::Relaxed)) {
                Some(next) => next,
                None if allocate => self.add_table(slot)?,
                None => return Ok(None),
            };
            level = next_level;
        }
        // SAFETY: `table` is a level-1 page of `self.pages`, as above.
        Ok(Some(unsafe { entry(table, Level::L1.index(gfn)) }))
    }

    /// Adds an empty table page; returns its physical address.
    fn push_table(&mut self) -> Result<u64> {
        self.pages.reserve(1, GFP_KERNEL_ACCOUNT)?;
        let page = TablePage::new()?;
        let table = page.phys();
        self.pages.push(page, GFP_KERNEL_ACCOUNT)?;
        Ok(table)
    }

    /// Adds an empty table and links it into `slot`; returns its address.
    #[cold]
    fn add_table(&mut self, slot: &AtomicU64) -> Result<u64> {
        let table = self.push_table()?;
        // Release: the CPU sees the table's zeroes before the link to it.
        slot.store(table_entry(table), Ordering::Release);
        Ok(table)
    }
}

/// The SPP table of a VM.
#[pin_data]
pub(crate) struct SppTable {
    /// The table's pages; the lock serialises its changes.
    #[pin]
    tables: Mutex<Tables>,
    /// The physical address of the root, 0 until [`Self::create_root`].
    root: AtomicU64,
}

impl SppTable {
    /// A VM's table, without pages until [`Self::create_root`].
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            tables <- new_mutex!(Tables { pages: KVec::new() }),
            root: AtomicU64::new(0),
        })
    }

    /// Allocates the root, once; `ENOMEM` leaves the table without one.
    pub(crate) fn create_root(&self) -> Result {
        let mut tables = self.tables.lock();
        if tables.pages.is_empty() {
            let root = tables.push_table()?;
            // Pairs with the load in `root()`.
            self.root.store(root, Ordering::Release);
        }
        Ok(())
    }

    /// The physical address of the root, 0 if there is none.
    pub(crate) fn root(&self) -> u64 {
        self.root.load(Ordering::Acquire)
    }

    /// Adds the tables that the level-1 entries of the pages of `pages` that
    /// `maps` protect need.  The tables added are empty, so the CPU reads
    /// the same permissions as before; on `ENOMEM`, some may stay, empty,
    /// until the VM dies.
    pub(crate) fn prepare(&self, pages: RequestPages, maps: &[u32]) -> Result {
        let mut tables = self.tables.lock();
        for (gfn, &map) in (pages.first..pages.end()).zip(maps) {
            if !SubpageMap(map).is_unprotected() {
                tables.leaf_entry(gfn, true)?;
            }
        }
        Ok(())
    }

    /// Writes the level-1 entries of `pages` from `maps`.  Cannot fail after
    /// [`Self::prepare`] for the same pages: a page that has no entry was
    /// never protected, so no EPT leaf lets the CPU ask for it; nor has a
    /// page the table cannot describe.
    pub(crate) fn write_maps(&self, pages: RequestPages, maps: &[u32]) {
        let mut tables = self.tables.lock();
        for (gfn, &map) in (pages.first..pages.end()).zip(maps) {
            if let Ok(Some(leaf)) = tables.leaf_entry(gfn, false) {
                leaf.store(write_vector(SubpageMap(map)), Ordering::Relaxed);
            }
        }
    }

    /// The CPU found no entry for `gfn`: adds it, with the permissions that
    /// `map` reads.  It reads them under the table's lock, after which a
    /// SET that changed them writes their entries: never a stale map.
    /// `EINVAL` for a gfn the table cannot describe, so that such a miss
    /// cannot repeat forever.
    pub(crate) fn fill(&self, gfn: u64, map: impl FnOnce() -> SubpageMap) -> Result {
        if gfn > MAX_GFN {
            return Err(EINVAL);
        }
        let mut tables = self.tables.lock();
        if let Some(leaf) = tables.leaf_entry(gfn, true)? {
            leaf.store(write_vector(map()), Ordering::Relaxed);
        }
        Ok(())
    }
}
