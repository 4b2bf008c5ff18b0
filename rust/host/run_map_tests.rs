// SPDX-License-Identifier: GPL-2.0

//! The run map against a page-by-page model, including what a concurrent
//! reader sees while a plan is applied.

use crate::run_map::*;
use proptest::prelude::*;
use core::cell::{Cell, RefCell};
use std::collections::BTreeMap;

/// The map as the module keeps it, with a `BTreeMap` in place of the xarray.
#[derive(Default, Debug)]
struct Map(RefCell<BTreeMap<u64, Run>>);

impl RunLookup for Map {
    fn next_run(&self, gfn: u64) -> Option<(u64, Run)> {
        self.0.borrow().range(gfn..).next().map(|(&key, &run)| (key, run))
    }
}

impl RunStore for Map {
    type Error = ();

    fn store(&self, key: u64, run: Run) -> Result<(), ()> {
        self.0.borrow_mut().insert(key, run);
        Ok(())
    }

    fn next_key_in(&self, from: u64, to: u64) -> Option<u64> {
        self.0.borrow().range(from..=to).next().map(|(&key, _)| key)
    }

    fn erase(&self, key: u64) {
        self.0.borrow_mut().remove(&key);
    }
}

/// A map that calls `check` after each change, and fails the store of a
/// new key once `allocations` of them succeeded.
struct Watched<'a, F: Fn(&Map)> {
    map: &'a Map,
    check: F,
    allocations: Cell<usize>,
}

impl<F: Fn(&Map)> RunLookup for Watched<'_, F> {
    fn next_run(&self, gfn: u64) -> Option<(u64, Run)> {
        self.map.next_run(gfn)
    }
}

impl<F: Fn(&Map)> RunStore for Watched<'_, F> {
    type Error = ();

    fn store(&self, key: u64, run: Run) -> Result<(), ()> {
        if !self.map.0.borrow().contains_key(&key) {
            if self.allocations.get() == 0 {
                return Err(());
            }
            self.allocations.set(self.allocations.get() - 1);
        }
        self.map.store(key, run)?;
        (self.check)(self.map);
        Ok(())
    }

    fn next_key_in(&self, from: u64, to: u64) -> Option<u64> {
        self.map.next_key_in(from, to)
    }

    fn erase(&self, key: u64) {
        self.map.erase(key);
        (self.check)(self.map);
    }
}

impl Map {
    fn set(&self, first: u64, last: u64, attributes: u64) {
        plan_set(self, first, last, attributes).apply(self).unwrap();
    }

    fn len(&self) -> usize {
        self.0.borrow().len()
    }

    /// Runs are ordered, disjoint, non-empty, non-zero and maximal.
    fn assert_invariants(&self) {
        let mut previous: Option<(u64, Run)> = None;
        for (&last, &run) in self.0.borrow().iter() {
            assert!(run.start <= last, "empty run {run:?} at {last}");
            assert_ne!(run.attributes, 0, "zero run at {last}");
            if let Some((prev_last, prev)) = previous {
                assert!(prev_last < run.start, "overlap at {last}");
                assert!(
                    prev_last + 1 < run.start || prev.attributes != run.attributes,
                    "adjacent equal runs at {prev_last} and {last}"
                );
            }
            previous = Some((last, run));
        }
    }
}

const PAGES: u64 = 64;

fn model_set(model: &mut [u64], first: u64, last: u64, attributes: u64) {
    for page in &mut model[first as usize..=last as usize] {
        *page = attributes;
    }
}

fn assert_matches(map: &Map, model: &[u64]) {
    for (gfn, &expected) in model.iter().enumerate() {
        assert_eq!(
            attributes_at(map, gfn as u64, PAGES - 1).0,
            expected,
            "gfn {gfn}"
        );
    }
}

fn set_strategy() -> impl Strategy<Value = (u64, u64, u64)> {
    (0..PAGES, 0..PAGES, 0..4u64).prop_map(|(a, b, attributes)| (a.min(b), a.max(b), attributes))
}

proptest! {
    #[test]
    fn sets_match_a_page_model(sets in prop::collection::vec(set_strategy(), 1..40)) {
        let map = Map::default();
        let mut model = [0u64; PAGES as usize];
        for (first, last, attributes) in sets {
            let before = model;
            model_set(&mut model, first, last, attributes);
            let plan = plan_set(&map, first, last, attributes);
            // Outside the range, every intermediate state reads as before;
            // inside, the old or the new attributes.
            let watched = Watched {
                map: &map,
                check: |map: &Map| {
                    for gfn in 0..PAGES {
                        let now = attributes_at(map, gfn, PAGES - 1).0;
                        if gfn < first || gfn > last {
                            assert_eq!(now, before[gfn as usize]);
                        } else {
                            assert!(now == before[gfn as usize] || now == attributes);
                        }
                    }
                },
                allocations: Cell::new(usize::MAX),
            };
            plan.apply(&watched).unwrap();
            map.assert_invariants();
            assert_matches(&map, &model);
        }
    }

    #[test]
    fn run_lengths_match_a_page_model(sets in prop::collection::vec(set_strategy(), 1..20),
                                      start in 0..PAGES) {
        let map = Map::default();
        let mut model = [0u64; PAGES as usize];
        for (first, last, attributes) in sets {
            model_set(&mut model, first, last, attributes);
            map.set(first, last, attributes);
        }
        let (attributes, last) = attributes_at(&map, start, PAGES - 1);
        let expected_last = (start..PAGES)
            .take_while(|&g| model[g as usize] == model[start as usize])
            .last()
            .unwrap();
        prop_assert_eq!(attributes, model[start as usize]);
        prop_assert_eq!(last, expected_last);
        prop_assert!(range_has(&map, start, last, !0, attributes));
        if last + 1 < PAGES {
            prop_assert!(!range_has(&map, start, last + 1, !0, attributes));
        }
        // Masked: only the bits in the mask count.
        let mask = 1;
        let expected = (start..=last).all(|g| model[g as usize] & mask == attributes & mask);
        prop_assert_eq!(range_has(&map, start, last, mask, attributes & mask), expected);
        let whole = (0..PAGES).all(|g| model[g as usize] & mask == 0);
        prop_assert_eq!(range_has(&map, 0, PAGES - 1, mask, 0), whole);
    }
}

proptest! {
    /// Blocks of 2, 8 and 32 pages stand in for KVM's huge pages.
    #[test]
    fn block_attributes_match_a_page_model(sets in prop::collection::vec(set_strategy(), 1..20),
                                           gfn in 0..PAGES,
                                           block_orders in 0..64u32) {
        let block_orders = block_orders & 0b10_1010;
        let map = Map::default();
        let mut model = [0u64; PAGES as usize];
        for (first, last, attributes) in sets {
            model_set(&mut model, first, last, attributes);
            map.set(first, last, attributes);
        }
        let (attributes, uniform) = block_attributes(&map, gfn, block_orders);
        prop_assert_eq!(attributes, model[gfn as usize]);
        for order in (0..6).filter(|order| block_orders & (1 << order) != 0) {
            let first = gfn & !((1 << order) - 1);
            let is_uniform = (first..first + (1 << order))
                .all(|g| model[g as usize] == model[gfn as usize]);
            prop_assert_eq!(uniform & (1 << order) != 0, is_uniform, "order {}", order);
        }
        prop_assert_eq!(uniform & !block_orders, 0);
    }
}

proptest! {
    #[test]
    fn change_of_matches_a_page_model(sets in prop::collection::vec(set_strategy(), 1..20),
                                      (first, last, attributes) in set_strategy()) {
        let map = Map::default();
        let mut model = [0u64; PAGES as usize];
        for (first, last, attributes) in sets {
            model_set(&mut model, first, last, attributes);
            map.set(first, last, attributes);
        }
        let old = &model[first as usize..=last as usize];
        let expected = SetChange {
            changes: old.iter().any(|&a| a != attributes),
            narrows: old.iter().any(|&a| attributes & !a != 0),
        };
        prop_assert_eq!(change_of(&map, first, last, attributes), expected);
    }
}

/// A map that counts its lookups.
struct Counting<'a>(&'a Map, core::cell::Cell<u32>);

impl RunLookup for Counting<'_> {
    fn next_run(&self, gfn: u64) -> Option<(u64, Run)> {
        self.1.set(self.1.get() + 1);
        self.0.next_run(gfn)
    }
}

#[test]
fn nested_blocks_share_a_lookup() {
    let map = Map::default();
    // A run after both blocks around gfn 5: one lookup proves both uniform.
    map.set(40, 40, 1);
    let counting = Counting(&map, core::cell::Cell::new(0));
    assert_eq!(block_attributes(&counting, 5, (1 << 5) | (1 << 3)), (0, (1 << 5) | (1 << 3)));
    assert_eq!(counting.1.get(), 1);
    // A run inside the large block but after the small one: still one.
    map.set(20, 20, 1);
    let counting = Counting(&map, core::cell::Cell::new(0));
    assert_eq!(block_attributes(&counting, 5, (1 << 5) | (1 << 3)), (0, 1 << 3));
    assert_eq!(counting.1.get(), 1);
}

#[test]
fn block_attributes_of_the_top_block() {
    let map = Map::default();
    map.set(MAX_GFN, MAX_GFN, 1);
    // The last block of the address space: no overflow, and no run in it.
    assert_eq!(block_attributes(&map, u64::MAX, 1 << 31), (0, 1 << 31));
    assert_eq!(block_attributes(&map, MAX_GFN, 1 << 9), (1, 0));
    assert_eq!(block_attributes(&map, 0, 1 << 31), (0, 1 << 31));
}

#[test]
fn a_set_costs_runs_not_pages() {
    let map = Map::default();
    // 1 TiB, then a hole in the middle, then the whole range again.
    let last = (1u64 << 28) - 1;
    map.set(0, last, 2);
    assert_eq!(map.len(), 1);
    map.set(1 << 20, (1 << 21) - 1, 0);
    assert_eq!(map.len(), 2);
    map.set(0, last, 2);
    assert_eq!(map.len(), 1);
    map.set(0, last, 0);
    assert_eq!(map.len(), 0);
}

#[test]
fn the_highest_gfn_is_usable() {
    let map = Map::default();
    map.set(MAX_GFN - 1, MAX_GFN, 6);
    assert_eq!(attributes_at(&map, MAX_GFN, MAX_GFN), (6, MAX_GFN));
    assert_eq!(attributes_at(&map, 0, MAX_GFN), (0, MAX_GFN - 2));
    let run = Run {
        start: MAX_GFN,
        attributes: 0xff,
    };
    assert_eq!(Run::decode(run.encode()), run);
    assert!(run.encode() < 1 << 63);
}

proptest! {
    /// A store that cannot allocate fails the SET with the map unchanged.
    #[test]
    fn a_failed_allocation_changes_nothing(sets in prop::collection::vec(set_strategy(), 1..20),
                                           (first, last, attributes) in set_strategy(),
                                           allocations in 0..2usize) {
        let map = Map::default();
        for (first, last, attributes) in sets {
            map.set(first, last, attributes);
        }
        let before = map.0.borrow().clone();
        let plan = plan_set(&map, first, last, attributes);
        let watched = Watched { map: &map, check: |_: &Map| {}, allocations: Cell::new(allocations) };
        if plan.apply(&watched).is_err() {
            prop_assert_eq!(&*map.0.borrow(), &before);
        } else {
            map.assert_invariants();
        }
    }
}

/// A map that counts the lookups and key scans made of it.
struct CountingStore<'a> {
    map: &'a Map,
    lookups: Cell<u32>,
    scans: Cell<u32>,
}

impl RunLookup for CountingStore<'_> {
    fn next_run(&self, gfn: u64) -> Option<(u64, Run)> {
        self.lookups.set(self.lookups.get() + 1);
        self.map.next_run(gfn)
    }
}

impl RunStore for CountingStore<'_> {
    type Error = ();

    fn store(&self, key: u64, run: Run) -> Result<(), ()> {
        self.map.store(key, run)
    }

    fn next_key_in(&self, from: u64, to: u64) -> Option<u64> {
        self.scans.set(self.scans.get() + 1);
        self.map.next_key_in(from, to)
    }

    fn erase(&self, key: u64) {
        self.map.erase(key);
    }
}

/// Sets `first..=last` the way the module does; returns the lookups and
/// scans it took.
fn counted_set(map: &Map, first: u64, last: u64, attributes: u64) -> (u32, u32) {
    let counting = CountingStore { map, lookups: Cell::new(0), scans: Cell::new(0) };
    let lookups = LastLookups::new(&counting);
    let plan = plan_set(&lookups, first, last, attributes);
    assert!(change_of(&lookups, first, last, attributes).changes);
    plan.apply(&counting).unwrap();
    (counting.lookups.get(), counting.scans.get())
}

#[test]
fn a_set_away_from_runs_takes_one_lookup_and_no_scan() {
    let map = Map::default();
    assert_eq!(counted_set(&map, 10, 10, 1), (1, 0));
    assert_eq!(counted_set(&map, 20, 29, 2), (1, 0));
    // Splitting a run: the lookup before the range finds it, the one at
    // the range's end too; nothing to erase.
    assert_eq!(counted_set(&map, 22, 23, 4), (1, 0));
    // Over runs inside the range: they are scanned and erased.
    let (_, scans) = counted_set(&map, 5, 40, 0);
    assert!(scans > 0);
    assert_eq!(map.len(), 0);
}
