// SPDX-License-Identifier: GPL-2.0

//! The memory attributes of one VM: its run map, kept in an xarray.
//!
//! Every run of pages with the same non-zero attributes is one entry, under
//! the run's last gfn (see `run_map.rs`), so lookups are one lock-free
//! `xa_find()` and a change costs O(runs it touches), never O(pages).  A
//! summary of the regions that hold runs answers most page faults outside
//! them without a lookup (see `region_summary.rs`).

use crate::region_summary::{RegionSummary, REGION_ORDER};
use crate::run_map::{
    self, attributes_at, change_of, plan_set, LastLookups, Run, RunLookup, SetChange, SetPlan,
};
use crate::xarray::IntXArray;
use kernel::{new_spinlock, prelude::*, sync::SpinLock};

/// The attribute map of one VM.
///
/// Changes must be serialised by the caller (KVM holds `slots_lock` around
/// `KVM_SET_MEMORY_ATTRIBUTES`); lookups may run concurrently with them.
#[pin_data]
pub(crate) struct AttributeStore {
    #[pin]
    runs: IntXArray,
    regions: RegionSummary,
    /// The plan of the change between [`Self::prepare_set`] and
    /// [`Self::commit_set`], so that the commit looks nothing up again.
    #[pin]
    pending: SpinLock<Option<SetPlan>>,
}

impl RunLookup for AttributeStore {
    fn next_run(&self, gfn: u64) -> Option<(u64, Run)> {
        self.runs
            .next(gfn)
            .map(|(last, value)| (last, Run::decode(value)))
    }
}

impl AttributeStore {
    /// Creates an empty map: every page has attributes 0.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            runs <- IntXArray::new(),
            regions: RegionSummary::new(),
            pending <- new_spinlock!(None),
        })
    }

    /// Whether no page has attributes.
    pub(crate) fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The attributes of `gfn`.
    pub(crate) fn get(&self, gfn: u64) -> u64 {
        if self.regions.region_is_empty(gfn) || self.runs.is_empty() {
            return 0;
        }
        attributes_at(self, gfn, gfn).0
    }

    /// The attributes of `gfn`, and which of the naturally aligned blocks
    /// around it in `block_orders` (bit k: 2^k pages) have them on every
    /// page.
    #[inline]
    pub(crate) fn block_attributes(&self, gfn: u64, block_orders: u32) -> (u64, u32) {
        // Every block up to the region's size lies inside the empty region.
        if self.regions.region_is_empty(gfn) && block_orders >> (REGION_ORDER + 1) == 0 {
            return (0, block_orders);
        }
        run_map::block_attributes(self, gfn, block_orders)
    }

    /// The attributes of `gfn`, and the last gfn up to `limit` sharing them.
    pub(crate) fn run_at(&self, gfn: u64, limit: u64) -> (u64, u64) {
        attributes_at(self, gfn, limit)
    }

    /// Whether the bits in `mask` of every gfn of `first..=last` equal
    /// `attributes`.
    pub(crate) fn range_has(&self, first: u64, last: u64, mask: u64, attributes: u64) -> bool {
        run_map::range_has(self, first, last, mask, attributes)
    }

    /// Allocates what setting `first..=last` to `attributes` needs, without
    /// changing what readers see, and tells what the change does.  Nothing
    /// is prepared for a change that changes nothing.  On error, nothing is
    /// left allocated.
    pub(crate) fn prepare_set(&self, first: u64, last: u64, attributes: u64) -> Result<SetChange> {
        // Planning asks about the same few gfns again: look each up once.
        let map = LastLookups::new(self);
        let change = change_of(&map, first, last, attributes);
        if !change.changes {
            return Ok(change);
        }
        let plan = plan_set(&map, first, last, attributes);
        for (done, store) in plan.stores().enumerate() {
            if let Err(e) = self.runs.reserve(store.last) {
                for reserved in plan.stores().take(done) {
                    self.runs.release(reserved.last);
                }
                return Err(e);
            }
        }
        *self.pending.lock() = Some(plan);
        Ok(change)
    }

    /// Sets `first..=last` to `attributes`, after [`Self::prepare_set`] with
    /// the same arguments.  The map is the same as at that call, since the
    /// caller serialises changes, so the plan and its reservations are too.
    pub(crate) fn commit_set(&self, first: u64, last: u64, attributes: u64) {
        let pending = self.pending.lock().take();
        let plan = pending.unwrap_or_else(|| plan_set(self, first, last, attributes));
        // Runs only lose pages inside `first..=last`, so only a new run
        // marks regions, and only a change to 0 can empty them.
        if attributes != 0 {
            self.regions.mark(first, last);
        }
        for store in plan.stores() {
            if self.runs.store(store.last, store.run.encode()).is_err() {
                // Cannot happen: the index was reserved and the value fits.
                pr_warn!("store at {} failed despite its reservation\n", store.last);
            }
        }
        let mut from = plan.erase_first;
        while let Some((key, _)) = self.runs.next_in(from, plan.erase_last) {
            if plan.erases_in_pass(key) {
                self.runs.erase(key);
            }
            from = key + 1;
        }
        if let Some(key) = plan.erase_after {
            self.runs.erase(key);
        }
        if attributes == 0 {
            self.regions.unmark_empty(first, last, |region_first, region_last| {
                attributes_at(self, region_first, region_last) == (0, region_last)
            });
        }
    }
}
