// SPDX-License-Identifier: GPL-2.0

//! Which 1 GiB regions of guest-physical memory hold a run.
//!
//! A page fault asks about the huge pages around one gfn.  Where the region
//! holding the gfn has no run, the answer is known without a lookup in the
//! run map: attributes 0, uniform across the region.  The summary covers the
//! first TiB of guest-physical memory in a fixed bitmap; gfns above it are
//! always looked up.
//!
//! A set bit may be stale (the region's runs are gone), a clear bit never
//! is: a SET marks the regions of a new run before the run is stored, and
//! clears a region's bit only after its last run was erased.

use core::sync::atomic::{AtomicU64, Ordering};

/// The pages of a region, as a power of two: 1 GiB of 4 KiB pages.
pub(crate) const REGION_ORDER: u32 = 18;

/// The regions the summary tracks: the first 1 TiB.
const REGIONS: u64 = 1024;

const WORDS: usize = (REGIONS / u64::BITS as u64) as usize;

/// One bit per tracked region, set while runs may hold pages of it.
pub(crate) struct RegionSummary {
    bits: [AtomicU64; WORDS],
}

impl RegionSummary {
    /// A summary of an empty map.
    pub(crate) fn new() -> Self {
        Self {
            bits: core::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Whether no run holds a page of the region of `gfn`.  False for
    /// regions the summary does not track.
    #[inline]
    pub(crate) fn region_is_empty(&self, gfn: u64) -> bool {
        let region = gfn >> REGION_ORDER;
        region < REGIONS && self.word(region).load(Ordering::Acquire) & bit(region) == 0
    }

    /// Marks the regions of `first..=last` as holding a run.  Call before
    /// the run becomes visible to lookups.
    pub(crate) fn mark(&self, first: u64, last: u64) {
        for region in tracked_regions(first, last) {
            self.word(region).fetch_or(bit(region), Ordering::Release);
        }
    }

    /// Clears the mark of every region of `first..=last` for which
    /// `is_empty(first gfn, last gfn)` says no run holds a page of it any
    /// more.  Call after the runs were erased.
    pub(crate) fn unmark_empty(&self, first: u64, last: u64, is_empty: impl Fn(u64, u64) -> bool) {
        for region in tracked_regions(first, last) {
            let region_first = region << REGION_ORDER;
            let region_last = region_first + ((1 << REGION_ORDER) - 1);
            if is_empty(region_first, region_last) {
                self.word(region).fetch_and(!bit(region), Ordering::Release);
            }
        }
    }

    fn word(&self, region: u64) -> &AtomicU64 {
        &self.bits[(region / u64::BITS as u64) as usize]
    }
}

fn bit(region: u64) -> u64 {
    1 << (region % u64::BITS as u64)
}

/// The tracked regions holding a page of `first..=last`.
fn tracked_regions(first: u64, last: u64) -> core::ops::Range<u64> {
    let first_region = (first >> REGION_ORDER).min(REGIONS);
    let last_region = (last >> REGION_ORDER).min(REGIONS - 1);
    first_region..(last_region + 1).max(first_region)
}
