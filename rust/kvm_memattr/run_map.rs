// SPDX-License-Identifier: GPL-2.0

//! The attribute map of a VM as maximal runs, and how one SET changes it.
//!
//! The map is a set of runs: pages `start..=last` that share non-zero
//! attributes.  Runs never overlap, and two adjacent runs never have the
//! same attributes, so the map has one run per distinct stretch and pages in
//! no run have attributes 0.  Each run is stored under its last gfn, which
//! turns "the run holding a gfn" into "the first key at or after the gfn", a
//! forward search that an xarray answers lock-free under RCU.
//!
//! A SET touches only the runs that overlap or touch its range, so its cost
//! grows with the number of runs, never with the number of pages.

/// Width of the attribute field of an encoded run.
const ATTRIBUTE_BITS: u32 = 8;

/// The highest gfn a run can hold: an encoded run must fit the 63 bits of an
/// xarray value entry.
pub(crate) const MAX_GFN: u64 = (1 << (63 - ATTRIBUTE_BITS)) - 1;

/// Pages from `start` to the key the run is stored under, sharing `attributes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) start: u64,
    pub(crate) attributes: u64,
}

impl Run {
    /// The run as one integer, for an xarray value entry.
    pub(crate) const fn encode(self) -> u64 {
        (self.start << ATTRIBUTE_BITS) | self.attributes
    }

    /// The run that [`Run::encode`] turned into `value`.
    pub(crate) const fn decode(value: u64) -> Self {
        Self {
            start: value >> ATTRIBUTE_BITS,
            attributes: value & ((1 << ATTRIBUTE_BITS) - 1),
        }
    }
}

/// Read access to a map of runs.
pub(crate) trait RunLookup {
    /// The run with the lowest key (last gfn) at or after `gfn`, as
    /// `(key, run)`.
    fn next_run(&self, gfn: u64) -> Option<(u64, Run)>;
}

/// A lookup and its answer: the run found at or after `asked`, under `key`,
/// or no run if `key` is [`NO_RUN`].  It answers for every gfn from `asked`
/// to `key`: no run ends in between.
#[derive(Clone, Copy)]
struct Answer {
    asked: u64,
    key: u64,
    run: Run,
}

/// The `key` of an [`Answer`] that found no run: above every key.
const NO_RUN: u64 = u64::MAX;

impl Answer {
    /// An answer for no gfn.
    const NONE: Self = Self {
        asked: u64::MAX,
        key: 0,
        run: Run {
            start: 0,
            attributes: 0,
        },
    };

    fn covers(&self, gfn: u64) -> bool {
        self.asked <= gfn && gfn <= self.key
    }

    fn found(&self) -> Option<(u64, Run)> {
        (self.key != NO_RUN).then_some((self.key, self.run))
    }
}

/// A [`RunLookup`] that remembers its last two answers, each of which also
/// answers for the gfns between the one asked about and the run found.
/// Planning a change asks about the edges of its range more than once; the
/// blocks around a faulting gfn are nested.
pub(crate) struct LastLookups<'a, M: RunLookup> {
    map: &'a M,
    newer: core::cell::Cell<Answer>,
    older: core::cell::Cell<Answer>,
}

impl<'a, M: RunLookup> LastLookups<'a, M> {
    pub(crate) fn new(map: &'a M) -> Self {
        Self {
            map,
            newer: core::cell::Cell::new(Answer::NONE),
            older: core::cell::Cell::new(Answer::NONE),
        }
    }
}

impl<M: RunLookup> RunLookup for LastLookups<'_, M> {
    fn next_run(&self, gfn: u64) -> Option<(u64, Run)> {
        let newer = self.newer.get();
        if newer.covers(gfn) {
            return newer.found();
        }
        let older = self.older.get();
        if older.covers(gfn) {
            return older.found();
        }
        let found = self.map.next_run(gfn);
        let (key, run) = found.unwrap_or((NO_RUN, Answer::NONE.run));
        self.older.set(newer);
        self.newer.set(Answer {
            asked: gfn,
            key,
            run,
        });
        found
    }
}

/// The attributes of `gfn`, and the last gfn up to `limit` that shares them.
pub(crate) fn attributes_at(map: &impl RunLookup, gfn: u64, limit: u64) -> (u64, u64) {
    match map.next_run(gfn) {
        Some((last, run)) if run.start <= gfn => (run.attributes, last.min(limit)),
        Some((_, run)) => (0, (run.start - 1).min(limit)),
        None => (0, limit),
    }
}

/// The attributes of `gfn`, and which of the naturally aligned blocks around
/// it in `block_orders` (bit k: the block of 2^k pages) have them on every
/// page.  Blocks are tried from the largest, at most one lookup each: the
/// first uniform one answers for the smaller ones too.
pub(crate) fn block_attributes(map: &impl RunLookup, gfn: u64, block_orders: u32) -> (u64, u32) {
    // A smaller block starts at or after a larger one: often the run found
    // for the larger block answers for it too.
    let map = &LastLookups::new(map);
    let mut untried = block_orders;
    while untried != 0 {
        let order = u32::BITS - 1 - untried.leading_zeros();
        let first = gfn & !((1 << order) - 1);
        let last = gfn | ((1 << order) - 1);
        let (attributes, stretch_last) = attributes_at(map, first, last);
        if stretch_last == last {
            return (attributes, block_orders & (u32::MAX >> (u32::BITS - 1 - order)));
        }
        untried &= !(1 << order);
    }
    (attributes_at(map, gfn, gfn).0, 0)
}

/// Whether the bits in `mask` of every page of `first..=last` equal
/// `attributes`.  Visits each run of the range once.
pub(crate) fn range_has(
    map: &impl RunLookup,
    first: u64,
    last: u64,
    mask: u64,
    attributes: u64,
) -> bool {
    let mut gfn = first;
    loop {
        let (value, run_last) = attributes_at(map, gfn, last);
        if value & mask != attributes {
            return false;
        }
        if run_last == last {
            return true;
        }
        gfn = run_last + 1;
    }
}

/// What setting a range to new attributes does to the pages of the range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SetChange {
    /// Some page gets different attributes.
    pub(crate) changes: bool,
    /// Some page gets a bit it did not have: an access allowed before may
    /// be denied after.
    pub(crate) narrows: bool,
}

/// What setting `first..=last` to `attributes` changes.  Visits the runs of
/// the range until both answers are known.
pub(crate) fn change_of(map: &impl RunLookup, first: u64, last: u64, attributes: u64) -> SetChange {
    let mut change = SetChange::default();
    let mut gfn = first;
    loop {
        let (old, stretch_last) = attributes_at(map, gfn, last);
        change.changes |= old != attributes;
        change.narrows |= attributes & !old != 0;
        if stretch_last == last || change.narrows {
            return change;
        }
        gfn = stretch_last + 1;
    }
}

/// Write access to a map of runs, for [`SetPlan::apply`].
pub(crate) trait RunStore: RunLookup {
    /// Why a store failed.
    type Error;

    /// Stores `run` under `key`.  Fails only for a `key` that holds no run,
    /// when what holding one takes cannot be allocated; the map is then
    /// unchanged.
    fn store(&self, key: u64, run: Run) -> Result<(), Self::Error>;

    /// The lowest key of a run in `from..=to`.
    fn next_key_in(&self, from: u64, to: u64) -> Option<u64>;

    /// Removes the run under `key`.
    fn erase(&self, key: u64);
}

/// One store of a [`SetPlan`]: `run` under the key `last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Store {
    pub(crate) last: u64,
    pub(crate) run: Run,
}

/// How to turn the map into the one where `first..=last` has new attributes.
///
/// Apply the stores in order: the rest of a run split on the left, under a
/// new key; the new run; the rest of a run split on the right, under its
/// old key.  Then erase, in ascending order, every key in
/// `erase_first..=erase_last` that no store wrote (see [`SetPlan::apply`]),
/// then `erase_after`.  In that order, a reader looking up a gfn outside
/// `first..=last` sees the same attributes before, during and after the
/// change: the run merged from the left keeps answering for its pages until
/// the keys between it and the merged run are gone.  A reader of a gfn
/// inside the range reads its old or its new attributes, never others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SetPlan {
    pub(crate) stores: [Option<Store>; 3],
    /// The first key in the range that may need erasing; after
    /// `erase_last` if none does.
    pub(crate) erase_first: u64,
    pub(crate) erase_last: u64,
    pub(crate) erase_after: Option<u64>,
}

impl SetPlan {
    /// The stores, in the order they must be applied.
    pub(crate) fn stores(&self) -> impl Iterator<Item = &Store> {
        self.stores.iter().flatten()
    }

    /// Whether the ascending erase pass of the plan removes `key`.
    pub(crate) fn erases_in_pass(&self, key: u64) -> bool {
        (self.erase_first..=self.erase_last).contains(&key)
            && self.erase_after != Some(key)
            && !self.stores().any(|store| store.last == key)
    }

    /// Applies the plan to the map it was planned on.  On error, which only
    /// a store under a new key can return, the map is unchanged.
    pub(crate) fn apply<M: RunStore>(&self, map: &M) -> Result<(), M::Error> {
        let [left_rest, new_run, right_rest] = self.stores;
        // The left rest repeats what the old key says of its pages: nothing
        // changes for readers until the new run is stored.
        if let Some(rest) = left_rest {
            map.store(rest.last, rest.run)?;
        }
        if let Some(run) = new_run {
            if let Err(e) = map.store(run.last, run.run) {
                if let Some(rest) = left_rest {
                    map.erase(rest.last);
                }
                return Err(e);
            }
        }
        // Under the key of a run that exists: cannot fail.
        if let Some(rest) = right_rest {
            map.store(rest.last, rest.run).ok();
        }
        // Before a key in the range goes, its run takes the new attributes,
        // and it goes only once the next key did: a reader of a gfn in the
        // range then finds its old run or the new attributes, never the run
        // or the gap after it.  A change to 0 needs no such step: whatever
        // follows an erased key in the range reads 0.
        let mut from = self.erase_first;
        let mut rewritten = None;
        while from <= self.erase_last {
            let Some(key) = map.next_key_in(from, self.erase_last) else {
                break;
            };
            from = key + 1;
            if !self.erases_in_pass(key) {
                continue;
            }
            if let Some(run) = new_run {
                // Under the key of a run that exists: cannot fail.
                map.store(key, run.run).ok();
            }
            if let Some(previous) = rewritten.replace(key) {
                map.erase(previous);
            }
        }
        if let Some(key) = rewritten {
            map.erase(key);
        }
        if let Some(key) = self.erase_after {
            map.erase(key);
        }
        Ok(())
    }
}

/// Plans setting `first..=last` (with `first <= last <= MAX_GFN`) to
/// `attributes`.  The first lookup is of the gfn before the range, whose
/// answer often covers the range too.
pub(crate) fn plan_set(map: &impl RunLookup, first: u64, last: u64, attributes: u64) -> SetPlan {
    // The run holding `first`, or ending just before it.
    let left = map
        .next_run(first.saturating_sub(1))
        .filter(|(_, run)| run.start <= first);
    // The run holding `last` and going past it, or else the run starting
    // just after it.
    let right = match map.next_run(last) {
        Some((key, run)) if run.start <= last && key > last => Some((key, run)),
        Some((_, run)) if run.start <= last => map.next_run(last + 1),
        other => other,
    }
    .filter(|(_, run)| run.start <= last + 1);
    let mut stores = [None; 3];
    let (mut new_first, mut new_last) = (first, last);
    let mut erase_last = last;
    let mut merged_left_key = None;

    if let Some((key, run)) = left {
        if run.attributes == attributes {
            // Merge: the run grows to the left.
            new_first = run.start;
            merged_left_key = Some(key);
        } else if run.start < first && key >= first {
            // Keep the part before `first` under a new key.
            stores[0] = Some(Store {
                last: first - 1,
                run,
            });
        }
    }
    if let Some((key, run)) = right {
        if run.attributes == attributes {
            new_last = new_last.max(key);
            erase_last = erase_last.max(key);
        } else if key > last && run.start <= last {
            // Keep the part after `last` under its old key.
            stores[2] = Some(Store {
                last: key,
                run: Run {
                    start: last + 1,
                    attributes: run.attributes,
                },
            });
            erase_last = key;
        }
    }
    if attributes != 0 {
        stores[1] = Some(Store {
            last: new_last,
            run: Run {
                start: new_first,
                attributes,
            },
        });
    }
    // Keys from `first` on: if the first is the right run's, a store
    // rewrites it or it lies past the range, and there is nothing to erase.
    let first_key = map.next_run(first).map(|(key, _)| key);
    let erase_first = match first_key {
        Some(key) if Some(key) != right.map(|(key, _)| key) => key,
        _ => erase_last + 1,
    };

    SetPlan {
        stores,
        erase_first,
        erase_last,
        // The merged run is stored under `new_last`; its old key goes.
        erase_after: merged_left_key.filter(|&key| key != new_last),
    }
}
