// SPDX-License-Identifier: GPL-2.0

//! The entries of an Intel SPP table, and where the entries of a gfn are.
//!
//! The SPP table (Intel SDM Vol. 3C, "Sub-Page Write Permissions") has four
//! levels of 512 entries, indexed by the guest-physical address bits 47:39,
//! 38:30, 29:21 and 20:12, as 4-level EPT.  An entry of levels 4 to 2 is the
//! physical address of the next table with bit 0 set, and nothing else: any
//! other bit is a misconfiguration, bit 0 clear a miss.  The level-1 entry of
//! a page holds the write permission of its sub-page i in bit 2i; odd bits
//! are reserved.  A page's level-1 entry is written whole, so the CPU reads
//! its old or its new permissions, never a mix.

use crate::subpage::SubpageMap;

/// The entries of one table: a 4 KiB page of `u64`s.
pub(crate) const ENTRIES_PER_TABLE: usize = 512;

/// The highest gfn the table describes: the guest-physical addresses of
/// 4-level EPT have 48 bits.
pub(crate) const MAX_GFN: u64 = (1 << 36) - 1;

/// Bit 0 of an entry of levels 4 to 2: the next table is present.
const PRESENT: u64 = 1 << 0;

/// The address bits of an entry of levels 4 to 2 (51:12).
const ADDRESS_MASK: u64 = ((1 << 52) - 1) & !((1 << 12) - 1);

/// The even bits of a level-1 entry: the write permissions.
const WRITE_BITS: u64 = 0x5555_5555_5555_5555;

/// A level of the table, from the root (level 4) to the leaves (level 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    L4,
    L3,
    L2,
    L1,
}

impl Level {
    /// The level of the tables the entries of this level point to; `None`
    /// for level 1, whose entries are permissions.
    pub(crate) const fn next(self) -> Option<Self> {
        match self {
            Self::L4 => Some(Self::L3),
            Self::L3 => Some(Self::L2),
            Self::L2 => Some(Self::L1),
            Self::L1 => None,
        }
    }

    /// The index of the entry of `gfn` (at most [`MAX_GFN`]) in a table of
    /// this level.
    pub(crate) const fn index(self, gfn: u64) -> usize {
        let shift = match self {
            Self::L4 => 27,
            Self::L3 => 18,
            Self::L2 => 9,
            Self::L1 => 0,
        };
        ((gfn >> shift) as usize) & (ENTRIES_PER_TABLE - 1)
    }
}

/// The entry of levels 4 to 2 that points to the table at physical address
/// `table` (4 KiB aligned, below 2^52).
pub(crate) const fn table_entry(table: u64) -> u64 {
    (table & ADDRESS_MASK) | PRESENT
}

/// The physical address of the table that an entry of levels 4 to 2 points
/// to, or `None` for an entry that is not present.
pub(crate) const fn next_table(entry: u64) -> Option<u64> {
    if entry & PRESENT == 0 {
        None
    } else {
        Some(entry & ADDRESS_MASK)
    }
}

/// The level-1 entry of a page whose sub-pages have the write permissions of
/// `map`: bit i of the map becomes bit 2i.
pub(crate) const fn write_vector(map: SubpageMap) -> u64 {
    // Spread the 32 bits to the even bits of 64, halving the gaps each step.
    let mut v = map.0 as u64;
    v = (v | (v << 16)) & 0x0000_ffff_0000_ffff;
    v = (v | (v << 8)) & 0x00ff_00ff_00ff_00ff;
    v = (v | (v << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    v = (v | (v << 2)) & 0x3333_3333_3333_3333;
    v = (v | (v << 1)) & WRITE_BITS;
    v
}
