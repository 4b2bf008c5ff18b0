// SPDX-License-Identifier: GPL-2.0

//! The memory attributes of one VM: its run map, kept in an xarray.
//!
//! Every run of pages with the same non-zero attributes is one entry, under
//! the run's last gfn (see `run_map.rs`), so lookups are one lock-free
//! `xa_find()` and a change costs O(runs it touches), never O(pages).

use crate::run_map::{self, attributes_at, plan_set, Run, RunLookup};
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

impl AttributeStore {
    /// Creates an empty map: every page has attributes 0.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            runs <- IntXArray::new(),
        })
    }

    /// The attributes of `gfn`.
    pub(crate) fn get(&self, gfn: u64) -> u64 {
        if self.runs.is_empty() {
            return 0;
        }
        attributes_at(self, gfn, gfn).0
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
    /// changing what readers see.  On error, nothing is left allocated.
    pub(crate) fn prepare_set(&self, first: u64, last: u64, attributes: u64) -> Result {
        let plan = plan_set(self, first, last, attributes);
        for (done, store) in plan.stores().enumerate() {
            if let Err(e) = self.runs.reserve(store.last) {
                for reserved in plan.stores().take(done) {
                    self.runs.release(reserved.last);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Sets `first..=last` to `attributes`, after [`Self::prepare_set`] with
    /// the same arguments.  The map is the same as at that call, since the
    /// caller serialises changes, so the plan and its reservations are too.
    pub(crate) fn commit_set(&self, first: u64, last: u64, attributes: u64) {
        let plan = plan_set(self, first, last, attributes);
        for store in plan.stores() {
            if self.runs.store(store.last, store.run.encode()).is_err() {
                // Cannot happen: the index was reserved and the value fits.
                pr_warn!("store at {} failed despite its reservation\n", store.last);
            }
        }
        let mut from = plan.erase_first;
        while let Some((key, _)) = self.runs.next(from) {
            if key > plan.erase_last {
                break;
            }
            if plan.erases_in_pass(key) {
                self.runs.erase(key);
            }
            from = key + 1;
        }
        if let Some(key) = plan.erase_after {
            self.runs.erase(key);
        }
    }
}
