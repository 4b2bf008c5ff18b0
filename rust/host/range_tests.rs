// SPDX-License-Identifier: GPL-2.0

//! Validation of the range of `struct kvm_memory_attributes`.

use crate::range::*;
use crate::uapi::KvmMemoryAttributes;

fn range(address: u64, size: u64, flags: u64) -> Result<(u64, u64), BadRange> {
    gfn_range(&KvmMemoryAttributes {
        address,
        size,
        attributes: 0,
        flags,
    })
}

#[test]
fn valid_ranges() {
    assert_eq!(range(0, 4096, 0), Ok((0, 0)));
    assert_eq!(range(0x10000, 0x3000, 0), Ok((0x10, 0x12)));
    // 1 TiB.
    assert_eq!(range(0, 1 << 40, 0), Ok((0, (1 << 28) - 1)));
}

#[test]
fn invalid_ranges_in_upstream_order() {
    for bit in 0..64 {
        assert_eq!(range(1, 0, 1 << bit), Err(BadRange::Flags));
    }
    assert_eq!(range(1, 0, 0), Err(BadRange::Empty));
    assert_eq!(range(u64::MAX - 4095, 8192, 0), Err(BadRange::Overflow));
    assert_eq!(range(1, 4096, 0), Err(BadRange::Unaligned));
    assert_eq!(range(4096, 4097, 0), Err(BadRange::Unaligned));
    // A range ending at 2^64 overflows, as upstream checks it; one page
    // lower is the last one.
    let last_gfn = u64::MAX >> 12;
    assert_eq!(range(u64::MAX - 4095, 4096, 0), Err(BadRange::Overflow));
    assert_eq!(range(u64::MAX - 8191, 4096, 0), Ok((last_gfn - 1, last_gfn - 1)));
}
