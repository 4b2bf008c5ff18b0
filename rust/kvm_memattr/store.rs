// SPDX-License-Identifier: GPL-2.0

//! The memory attributes of one VM: its run map, kept in an xarray.
//!
//! Every run of pages with the same non-zero attributes is one entry, under
//! the run's last gfn (see `run_map.rs`), so lookups are one lock-free
//! `xa_find()` and a change costs O(runs it touches), never O(pages).  KVM
//! asks nothing about a gfn in a 1 GiB region where no SET put attributes.

use crate::module_counts::ATTRIBUTE_RUNS;
use crate::run_map::{
    self, attributes_at, change_of, plan_set, LastLookups, Run, RunLookup, RunStore, SetChange,
};
use crate::xarray::IntXArray;
use kernel::prelude::*;

/// The attribute map of one VM.
///
/// Changes must be serialised by the caller (KVM holds `slots_lock` around
/// `KVM_SET_MEMORY_ATTRIBUTES`); lookups may run concurrently with them.
#[pin_data]
pub(crate) struct AttributeStore {
    #[pin]
    runs: IntXArray,
}

impl RunLookup for AttributeStore {
    fn next_run(&self, gfn: u64) -> Option<(u64, Run)> {
        self.runs
            .next(gfn)
            .map(|(last, value)| (last, Run::decode(value)))
    }
}

impl RunStore for AttributeStore {
    type Error = Error;

    fn store(&self, key: u64, run: Run) -> Result {
        self.runs.store(key, run.encode())
    }

    fn next_key_in(&self, from: u64, to: u64) -> Option<u64> {
        self.runs.next_in(from, to).map(|(key, _)| key)
    }

    fn erase(&self, key: u64) {
        self.runs.erase(key);
    }
}

impl AttributeStore {
    /// Creates an empty map: every page has attributes 0.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            runs <- IntXArray::new(&ATTRIBUTE_RUNS),
        })
    }

    /// Whether no page has attributes.
    pub(crate) fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The attributes of `gfn`.
    pub(crate) fn get(&self, gfn: u64) -> u64 {
        attributes_at(self, gfn, gfn).0
    }

    /// The attributes of `gfn`, and which of the naturally aligned blocks
    /// around it in `block_orders` (bit k: 2^k pages) have them on every
    /// page.
    #[inline]
    pub(crate) fn block_attributes(&self, gfn: u64, block_orders: u32) -> (u64, u32) {
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

    /// Sets `first..=last` to `attributes`, and tells what that changed.
    /// Until it returns, a reader of a gfn in the range reads the old or
    /// the new attributes, one of a gfn outside reads no change.  On error
    /// (`ENOMEM`), nothing changed.  Changes must be serialised.
    pub(crate) fn set(&self, first: u64, last: u64, attributes: u64) -> Result<SetChange> {
        // Planning asks about the same few gfns again: look each up once.
        let map = LastLookups::new(self);
        let plan = plan_set(&map, first, last, attributes);
        let change = change_of(&map, first, last, attributes);
        if !change.changes {
            return Ok(change);
        }
        plan.apply(self)?;
        Ok(change)
    }
}
