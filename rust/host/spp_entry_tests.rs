// SPDX-License-Identifier: GPL-2.0

//! The entries of an Intel SPP table against bit models: the write vector
//! of a map and back, the index of a gfn at each level, and the entries
//! that point to the next table.

use crate::spp_entry::*;
use crate::subpage::SubpageMap;
use proptest::prelude::*;
use std::vec::Vec;

/// The write permissions that a level-1 entry gives, by a per-bit model:
/// the inverse of `write_vector`; `None` if a reserved (odd) bit is set.
fn map_of_vector(vector: u64) -> Option<SubpageMap> {
    if vector & ODD_BITS != 0 {
        return None;
    }
    let map = (0..32)
        .filter(|i| vector & (1 << (2 * i)) != 0)
        .fold(0u32, |map, i| map | (1 << i));
    Some(SubpageMap(map))
}

/// The level-1 entry of `map`, bit by bit: sub-page i writable sets bit 2i.
fn model_write_vector(map: SubpageMap) -> u64 {
    (0..32).fold(0, |vector, i| {
        if map.0 & (1 << i) != 0 {
            vector | (1 << (2 * i))
        } else {
            vector
        }
    })
}

/// Maps with some structure as well as random ones.
fn map_strategy() -> impl Strategy<Value = SubpageMap> {
    prop_oneof![
        any::<u32>(),
        Just(0),
        Just(u32::MAX),
        (0..32u32).prop_map(|bit| 1 << bit),
        (0..32u32).prop_map(|bit| !(1 << bit)),
    ]
    .prop_map(SubpageMap)
}

/// Maps for the exhaustive tests: none, all, each single sub-page writable
/// and each single one denied.
fn some_maps() -> Vec<SubpageMap> {
    let mut maps = std::vec![SubpageMap(0), SubpageMap::UNPROTECTED];
    maps.extend((0..32).map(|bit| SubpageMap(1 << bit)));
    maps.extend((0..32).map(|bit| SubpageMap(!(1 << bit))));
    maps
}

/// The reserved (odd) bits of a level-1 entry.
const ODD_BITS: u64 = 0xaaaa_aaaa_aaaa_aaaa;

proptest! {
    #[test]
    fn the_write_vector_of_a_map_matches_a_bit_model(map in map_strategy()) {
        let vector = write_vector(map);
        prop_assert_eq!(vector, model_write_vector(map), "map {:#x}", map.0);
        prop_assert_eq!(vector & ODD_BITS, 0, "map {:#x}", map.0);
    }

    #[test]
    fn the_map_of_the_write_vector_of_a_map_is_the_map(map in map_strategy()) {
        prop_assert_eq!(map_of_vector(write_vector(map)), Some(map));
    }

    #[test]
    fn a_vector_with_an_odd_bit_has_no_map(vector in any::<u64>(),
                                           odd in (0..32u32).prop_map(|i| 1u64 << (2 * i + 1))) {
        prop_assert_eq!(map_of_vector(vector | odd), None, "vector {:#x}", vector | odd);
    }

    #[test]
    fn a_vector_of_even_bits_has_the_map_of_a_bit_model(vector in any::<u64>()) {
        let vector = vector & !ODD_BITS;
        let map = map_of_vector(vector);
        prop_assert!(map.is_some(), "vector {:#x}", vector);
        prop_assert_eq!(model_write_vector(map.unwrap()), vector);
    }
}

#[test]
fn the_write_vector_of_none_all_and_each_single_bit_matches_a_bit_model() {
    assert_eq!(write_vector(SubpageMap(0)), 0);
    assert_eq!(write_vector(SubpageMap::UNPROTECTED), 0x5555_5555_5555_5555);
    for i in 0..32 {
        assert_eq!(write_vector(SubpageMap(1 << i)), 1 << (2 * i), "bit {i}");
    }
    for map in some_maps() {
        assert_eq!(
            write_vector(map),
            model_write_vector(map),
            "map {:#x}",
            map.0
        );
        assert_eq!(
            map_of_vector(write_vector(map)),
            Some(map),
            "map {:#x}",
            map.0
        );
    }
}

#[test]
fn each_odd_bit_alone_or_with_every_even_bit_has_no_map() {
    for i in 0..32 {
        let odd = 1u64 << (2 * i + 1);
        assert_eq!(map_of_vector(odd), None, "bit {}", 2 * i + 1);
        assert_eq!(map_of_vector(odd | !ODD_BITS), None, "bit {}", 2 * i + 1);
    }
    assert_eq!(map_of_vector(ODD_BITS), None);
    assert_eq!(map_of_vector(u64::MAX), None);
}

/// The guest-physical address bits that index a table of `level`.
fn model_index(level: Level, gfn: u64) -> usize {
    let gpa = gfn << 12;
    let shift = match level {
        Level::L4 => 39,
        Level::L3 => 30,
        Level::L2 => 21,
        Level::L1 => 12,
    };
    ((gpa >> shift) & 511) as usize
}

/// Gfns up to the last, the edges of each level's index among them.
fn gfn_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..=MAX_GFN,
        Just(0),
        Just(MAX_GFN),
        (0..36u32).prop_map(|bit| 1 << bit),
        (0..=36u32).prop_map(|bit| (1 << bit) - 1),
    ]
}

const LEVELS: [Level; 4] = [Level::L4, Level::L3, Level::L2, Level::L1];

proptest! {
    #[test]
    fn the_index_of_a_gfn_at_each_level_matches_its_address_bits(gfn in gfn_strategy()) {
        for level in LEVELS {
            let index = level.index(gfn);
            prop_assert_eq!(index, model_index(level, gfn), "{:?} gfn {:#x}", level, gfn);
            prop_assert!(index < ENTRIES_PER_TABLE);
        }
    }

    #[test]
    fn the_four_indices_of_a_gfn_give_the_gfn_back(gfn in gfn_strategy()) {
        let rebuilt = LEVELS
            .iter()
            .fold(0u64, |high, level| (high << 9) | level.index(gfn) as u64);
        prop_assert_eq!(rebuilt, gfn);
    }
}

#[test]
fn each_level_points_to_the_next_down_to_level_1() {
    assert_eq!(Level::L4.next(), Some(Level::L3));
    assert_eq!(Level::L3.next(), Some(Level::L2));
    assert_eq!(Level::L2.next(), Some(Level::L1));
    assert_eq!(Level::L1.next(), None);
}

#[test]
fn the_levels_from_level_4_are_each_level_once_down_to_level_1() {
    let mut chain = Vec::new();
    let mut level = Some(Level::L4);
    while let Some(now) = level {
        assert!(
            chain.len() < LEVELS.len(),
            "the chain does not end: {chain:?}"
        );
        chain.push(now);
        level = now.next();
    }
    assert_eq!(chain, LEVELS);
}

#[test]
fn the_last_gfn_is_that_of_a_48_bit_address_space() {
    assert_eq!(MAX_GFN, ((1u64 << 48) - 1) >> 12);
    assert_eq!((MAX_GFN << 12) | 0xfff, (1u64 << 48) - 1);
    assert_eq!((MAX_GFN + 1) << 12, 1u64 << 48);
    // Each index of the last gfn is the last entry of its table.
    for level in LEVELS {
        assert_eq!(level.index(MAX_GFN), ENTRIES_PER_TABLE - 1, "{level:?}");
        assert_eq!(level.index(0), 0, "{level:?}");
    }
    assert_eq!(ENTRIES_PER_TABLE, 512);
}

/// The bits of an entry of levels 4 to 2 that must be 0: 11:1 and 63:52
/// (any set is an SPP misconfiguration, SDM Vol. 3C).
const NON_LEAF_RESERVED: u64 = 0xfff0_0000_0000_0ffe;

/// 4 KiB-aligned physical addresses below 2^52, the edges among them.
fn table_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        (0..1u64 << 40).prop_map(|pfn| pfn << 12),
        Just(0),
        Just(((1u64 << 52) - 1) & !0xfff),
        (12..52u32).prop_map(|bit| 1 << bit),
        (12..=52u32).prop_map(|bit| ((1 << bit) - 1) & !0xfff),
    ]
}

proptest! {
    #[test]
    fn the_entry_of_a_table_points_to_the_table(table in table_strategy()) {
        let entry = table_entry(table);
        prop_assert_eq!(next_table(entry), Some(table), "table {:#x} entry {:#x}", table, entry);
        prop_assert_eq!(entry & 1, 1, "table {:#x} entry {:#x}", table, entry);
        prop_assert_eq!(entry & NON_LEAF_RESERVED, 0, "table {:#x} entry {:#x}", table, entry);
        prop_assert_eq!(entry, table | 1);
    }

    #[test]
    fn the_entry_of_any_address_is_present_with_no_reserved_bit(address in any::<u64>()) {
        // Past the contract (unaligned, at or above 2^52), the entry still
        // never misconfigures the table.
        let entry = table_entry(address);
        prop_assert_eq!(entry & 1, 1, "address {:#x} entry {:#x}", address, entry);
        prop_assert_eq!(entry & NON_LEAF_RESERVED, 0, "address {:#x} entry {:#x}", address, entry);
    }

    #[test]
    fn an_entry_without_bit_0_points_to_no_table(entry in any::<u64>()) {
        prop_assert_eq!(next_table(entry & !1), None, "entry {:#x}", entry & !1);
    }
}

#[test]
fn a_zero_or_even_entry_points_to_no_table() {
    assert_eq!(next_table(0), None);
    for bit in 1..64 {
        assert_eq!(next_table(1 << bit), None, "bit {bit}");
    }
    assert_eq!(next_table(!1u64), None);
    assert_eq!(next_table(1), Some(0));
}
