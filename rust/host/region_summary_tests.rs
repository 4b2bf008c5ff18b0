// SPDX-License-Identifier: GPL-2.0

//! The region summary against the regions a set of runs really touches.

use crate::region_summary::*;

const REGION: u64 = 1 << REGION_ORDER;

#[test]
fn an_empty_summary_has_every_region_empty() {
    let summary = RegionSummary::new();
    assert!(summary.region_is_empty(0));
    assert!(summary.region_is_empty(1023 * REGION));
    // Untracked regions are never reported empty.
    assert!(!summary.region_is_empty(1024 * REGION));
    assert!(!summary.region_is_empty(u64::MAX));
}

#[test]
fn mark_covers_every_region_of_the_range() {
    let summary = RegionSummary::new();
    summary.mark(REGION - 1, 3 * REGION);
    for region in 0..5 {
        assert_eq!(summary.region_is_empty(region * REGION + 7), region == 4, "region {region}");
    }
}

#[test]
fn mark_beyond_the_tracked_regions_is_harmless() {
    let summary = RegionSummary::new();
    summary.mark(1000 * REGION, u64::MAX);
    assert!(!summary.region_is_empty(1023 * REGION));
    assert!(summary.region_is_empty(999 * REGION));
    summary.mark(2000 * REGION, 3000 * REGION);
    assert!(summary.region_is_empty(0));
}

#[test]
fn unmark_empty_clears_only_what_the_map_says_is_empty() {
    let summary = RegionSummary::new();
    summary.mark(0, 4 * REGION - 1);
    // Regions 1 and 3 still hold a run.
    summary.unmark_empty(0, u64::MAX, |first, _| first == 0 || first == 2 * REGION);
    let empty: [bool; 4] = core::array::from_fn(|r| summary.region_is_empty(r as u64 * REGION));
    assert_eq!(empty, [true, false, true, false]);
}
