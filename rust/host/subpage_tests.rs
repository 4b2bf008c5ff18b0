// SPDX-License-Identifier: GPL-2.0

//! Sub-page write protection: maps against byte and bit models, the checks
//! of a SET or GET request, and the choice of a mode.

use crate::subpage::*;
use crate::uapi::*;
use proptest::prelude::*;
use std::vec::Vec;

const PAGE: usize = PAGE_SIZE as usize;
const SUBPAGE: usize = KVM_SUBPAGE_SIZE as usize;

/// The bytes of a page that `map` lets the guest write.
fn writable_bytes(map: SubpageMap) -> [bool; PAGE] {
    let mut bytes = [false; PAGE];
    for (byte, writable) in bytes.iter_mut().enumerate() {
        *writable = map.0 & (1 << (byte / SUBPAGE)) != 0;
    }
    bytes
}

/// What a write of `len` bytes from `offset` must report, from the bytes:
/// the sub-page of the first byte of the page it may not write.
fn model_first_denied(map: SubpageMap, offset: u32, len: u32) -> Option<PagePart> {
    let bytes = writable_bytes(map);
    let start = (offset as usize).min(PAGE);
    let end = (u64::from(offset) + u64::from(len)).min(PAGE as u64) as usize;
    (start..end)
        .find(|&byte| !bytes[byte])
        .map(|byte| PagePart {
            offset: ((byte / SUBPAGE) * SUBPAGE) as u16,
            len: SUBPAGE as u16,
        })
}

/// Maps with some structure as well as random ones.
fn map_strategy() -> impl Strategy<Value = SubpageMap> {
    prop_oneof![
        any::<u32>(),
        Just(0),
        Just(u32::MAX),
        (0..32u32).prop_map(|bit| !(1 << bit)),
        (0..32u32).prop_map(|bit| 1 << bit),
        (0..32u32, 0..32u32).prop_map(|(a, b)| !((1 << a) | (1 << b))),
    ]
    .prop_map(SubpageMap)
}

/// Offsets in the page, at and around sub-page boundaries, and past it.
fn offset_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![
        0..PAGE_SIZE,
        (0..32u32).prop_map(|i| i * KVM_SUBPAGE_SIZE),
        (1..33u32).prop_map(|i| i * KVM_SUBPAGE_SIZE - 1),
        (0..32u32).prop_map(|i| i * KVM_SUBPAGE_SIZE + 1),
        PAGE_SIZE..PAGE_SIZE + 256,
        any::<u32>(),
    ]
}

/// Lengths from none to far past the page.
fn len_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        1..=16u32,
        1..=PAGE_SIZE,
        (1..=33u32).prop_map(|i| i * KVM_SUBPAGE_SIZE),
        PAGE_SIZE..2 * PAGE_SIZE,
        Just(u32::MAX),
        any::<u32>(),
    ]
}

proptest! {
    #[test]
    fn first_denied_matches_a_byte_model(map in map_strategy(),
                                         offset in offset_strategy(),
                                         len in len_strategy()) {
        prop_assert_eq!(map.first_denied(offset, len), model_first_denied(map, offset, len));
    }
}

/// Maps for the exhaustive tests: none, all, each single sub-page denied,
/// and a few patterns.
fn some_maps() -> Vec<SubpageMap> {
    let mut maps = std::vec![
        SubpageMap::UNPROTECTED,
        SubpageMap(0),
        SubpageMap(0x5555_5555),
        SubpageMap(0xaaaa_aaaa),
        SubpageMap(0x0000_ffff),
        SubpageMap(0xffff_0000),
        SubpageMap(0x8000_0001),
        SubpageMap(0x7fff_fffe),
    ];
    maps.extend((0..32).map(|bit| SubpageMap(!(1 << bit))));
    maps.extend((0..32).map(|bit| SubpageMap(1 << bit)));
    maps
}

/// The lowest sub-page of `first..=last` that `map` denies, from the bits.
fn model_lowest_denied(map: SubpageMap, first: u32, last: u32) -> Option<PagePart> {
    (first..=last)
        .find(|&i| map.0 & (1 << i) == 0)
        .map(PagePart::subpage)
}

#[test]
fn writes_from_each_sub_page_to_each_later_one_report_the_lowest_denied() {
    let s = KVM_SUBPAGE_SIZE;
    for map in some_maps() {
        for first in 0..32 {
            for last in 0..32 {
                if first > last {
                    // No write goes backwards; the bytes after the page
                    // stand in for the pair: the page's part is the same.
                    let offset = first * s;
                    assert_eq!(
                        map.first_denied(offset, PAGE_SIZE),
                        model_lowest_denied(map, first, 31),
                        "map {:#x} from {first} past the page",
                        map.0
                    );
                    continue;
                }
                let expected = model_lowest_denied(map, first, last);
                // From the first or last byte of sub-page `first` to the
                // first or last byte of sub-page `last`.
                for start in [first * s, first * s + s - 1] {
                    for end in [last * s, last * s + s - 1] {
                        if end < start {
                            continue;
                        }
                        assert_eq!(
                            map.first_denied(start, end - start + 1),
                            expected,
                            "map {:#x} bytes {start}..={end}",
                            map.0
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_write_of_no_byte_or_past_the_page_touches_nothing() {
    for map in some_maps() {
        for offset in [0, 127, 128, 4095, 4096, 4097, u32::MAX] {
            assert_eq!(map.first_denied(offset, 0), None);
        }
        for offset in [4096, 4097, 8192, u32::MAX] {
            for len in [1, 128, 4096, u32::MAX] {
                assert_eq!(map.first_denied(offset, len), None);
            }
        }
    }
}

#[test]
fn a_write_running_past_the_page_is_decided_by_the_page_bytes_only() {
    // Only the last sub-page denied: a write from its last byte onwards
    // touches it, whatever the length.
    let map = SubpageMap(!(1 << 31));
    for len in [1, 2, 4096, u32::MAX] {
        assert_eq!(map.first_denied(4095, len), Some(PagePart::subpage(31)));
    }
    // Only the first sub-page denied: a write starting after it does not.
    let map = SubpageMap(!1);
    for len in [1, 4096, u32::MAX] {
        assert_eq!(map.first_denied(128, len), None);
    }
    assert_eq!(map.first_denied(127, u32::MAX), Some(PagePart::subpage(0)));
}

#[test]
fn sub_page_parts_cover_the_page() {
    for index in 0..32 {
        let part = PagePart::subpage(index);
        assert_eq!(u32::from(part.offset), index * 128);
        assert_eq!(part.len, 128);
    }
    assert_eq!(
        PagePart::WHOLE_PAGE,
        PagePart {
            offset: 0,
            len: 4096
        }
    );
    assert_eq!(PAGE_SIZE, KVM_SUBPAGE_SIZE * KVM_SUBPAGES_PER_PAGE);
}

proptest! {
    #[test]
    fn narrows_to_matches_a_bit_model(old in map_strategy(), new in map_strategy()) {
        let expected = (0..32).any(|i| old.0 & (1 << i) != 0 && new.0 & (1 << i) == 0);
        prop_assert_eq!(old.narrows_to(new), expected);
    }
}

#[test]
fn taking_one_sub_page_away_narrows_and_giving_one_does_not() {
    for bit in 0..32 {
        let one = 1u32 << bit;
        assert!(SubpageMap::UNPROTECTED.narrows_to(SubpageMap(!one)));
        assert!(!SubpageMap(!one).narrows_to(SubpageMap::UNPROTECTED));
        assert!(SubpageMap(one).narrows_to(SubpageMap(0)));
        assert!(!SubpageMap(0).narrows_to(SubpageMap(one)));
        // Moving the permission to another sub-page narrows.
        let other = 1u32 << ((bit + 1) % 32);
        assert!(SubpageMap(one).narrows_to(SubpageMap(other)));
    }
    for map in some_maps() {
        assert!(!map.narrows_to(map), "{:#x}", map.0);
    }
}

#[test]
fn only_all_ones_is_unprotected() {
    assert!(SubpageMap::UNPROTECTED.is_unprotected());
    assert!(SubpageMap(u32::MAX).is_unprotected());
    assert!(!SubpageMap(0).is_unprotected());
    for bit in 0..32 {
        assert!(!SubpageMap(!(1 << bit)).is_unprotected(), "bit {bit}");
        assert!(!SubpageMap(1 << bit).is_unprotected(), "bit {bit}");
    }
}

fn request(address: u64, npages: u32, flags: u32, reserved: [u64; 2]) -> KvmSubpageWriteAccess {
    KvmSubpageWriteAccess {
        address,
        npages,
        flags,
        reserved,
    }
}

fn pages(address: u64, npages: u32) -> Result<RequestPages, BadRequest> {
    request_pages(&request(address, npages, 0, [0; 2]))
}

#[test]
fn each_flag_bit_is_refused() {
    for bit in 0..32 {
        assert_eq!(
            request_pages(&request(0x1000, 1, 1 << bit, [0; 2])),
            Err(BadRequest::Flags),
            "bit {bit}"
        );
    }
}

#[test]
fn each_reserved_bit_of_both_words_is_refused() {
    for word in 0..2 {
        for bit in 0..64 {
            let mut reserved = [0; 2];
            reserved[word] = 1 << bit;
            assert_eq!(
                request_pages(&request(0x1000, 1, 0, reserved)),
                Err(BadRequest::Reserved),
                "word {word} bit {bit}"
            );
        }
    }
}

#[test]
fn no_page_or_too_many_is_refused() {
    for npages in [0, KVM_SUBPAGE_MAX_PAGES + 1, u32::MAX] {
        assert_eq!(
            pages(0x1000, npages),
            Err(BadRequest::PageCount),
            "{npages}"
        );
    }
    for npages in [1, 2, KVM_SUBPAGE_MAX_PAGES - 1, KVM_SUBPAGE_MAX_PAGES] {
        assert!(pages(0x1000, npages).is_ok(), "{npages}");
    }
}

#[test]
fn each_low_address_bit_is_refused() {
    for bit in 0..12 {
        assert_eq!(
            pages(0x10_0000 | 1 << bit, 1),
            Err(BadRequest::Unaligned),
            "bit {bit}"
        );
    }
    assert_eq!(pages(0x10_0fff, 1), Err(BadRequest::Unaligned));
    assert!(pages(0x10_1000, 1).is_ok());
}

#[test]
fn a_range_ending_at_or_past_the_top_of_the_address_space_wraps() {
    let top_page: u64 = !0xfff;
    // Ending exactly at 2^64: address + size overflows u64.
    assert_eq!(pages(top_page, 1), Err(BadRequest::Wraps));
    for npages in [1, 2, 17, KVM_SUBPAGE_MAX_PAGES] {
        let ends_at_top = 0u64.wrapping_sub(u64::from(npages) << 12);
        assert_eq!(
            pages(ends_at_top, npages),
            Err(BadRequest::Wraps),
            "{npages}"
        );
        if npages > 1 {
            // A page higher: past 2^64.
            assert_eq!(pages(ends_at_top + 0x1000, npages), Err(BadRequest::Wraps));
        }
        assert_eq!(pages(top_page, npages), Err(BadRequest::Wraps));
        // One page lower fits: the last page it covers is the one below the
        // top page.
        let fits = pages(ends_at_top - 0x1000, npages).expect("fits");
        assert_eq!(fits.end(), top_page >> 12, "{npages}");
    }
}

#[test]
fn a_valid_request_covers_its_pages() {
    let cases = [
        (0, 1),
        (0x1000, 1),
        (0x1234_5000, 7),
        (0, KVM_SUBPAGE_MAX_PAGES),
        (0xfff0_0000_0000_0000, KVM_SUBPAGE_MAX_PAGES),
    ];
    for (address, npages) in cases {
        let got = pages(address, npages).expect("valid");
        assert_eq!(
            got,
            RequestPages {
                first: address >> 12,
                count: npages
            }
        );
        assert_eq!(got.end(), (address >> 12) + u64::from(npages));
    }
}

#[test]
fn request_checks_go_flags_reserved_count_alignment_wrap() {
    // Every field wrong, then fixed one at a time in the code's order.
    let mut r = request(u64::MAX, 0, 1, [1, 0]);
    assert_eq!(request_pages(&r), Err(BadRequest::Flags));
    r.flags = 0;
    assert_eq!(request_pages(&r), Err(BadRequest::Reserved));
    r.reserved = [0; 2];
    assert_eq!(request_pages(&r), Err(BadRequest::PageCount));
    r.npages = KVM_SUBPAGE_MAX_PAGES;
    assert_eq!(request_pages(&r), Err(BadRequest::Unaligned));
    r.address = !0xfff;
    assert_eq!(request_pages(&r), Err(BadRequest::Wraps));
    r.address = 0;
    assert!(request_pages(&r).is_ok());
}

/// Requests with each field valid or not, most of them near a limit.
fn request_strategy() -> impl Strategy<Value = KvmSubpageWriteAccess> {
    let address = prop_oneof![
        (0..1u64 << 52).prop_map(|gfn| gfn << 12),
        (0..=(KVM_SUBPAGE_MAX_PAGES as u64 + 1)).prop_map(|n| 0u64.wrapping_sub(n << 12)),
        any::<u64>(),
    ];
    let npages = prop_oneof![
        4 => 1..=KVM_SUBPAGE_MAX_PAGES,
        1 => Just(0u32),
        1 => Just(KVM_SUBPAGE_MAX_PAGES + 1),
        1 => any::<u32>(),
    ];
    let flags = prop_oneof![4 => Just(0u32), 1 => any::<u32>()];
    let reserved = prop_oneof![4 => Just(0u64), 1 => any::<u64>()];
    (address, npages, flags, reserved.clone(), reserved)
        .prop_map(|(address, npages, flags, r0, r1)| request(address, npages, flags, [r0, r1]))
}

proptest! {
    #[test]
    fn request_pages_matches_a_model(r in request_strategy()) {
        let end = u128::from(r.address) + (u128::from(r.npages) << 12);
        let expected = if r.flags != 0 {
            Err(BadRequest::Flags)
        } else if r.reserved != [0, 0] {
            Err(BadRequest::Reserved)
        } else if r.npages == 0 || r.npages > KVM_SUBPAGE_MAX_PAGES {
            Err(BadRequest::PageCount)
        } else if r.address % 4096 != 0 {
            Err(BadRequest::Unaligned)
        } else if end > u128::from(u64::MAX) {
            Err(BadRequest::Wraps)
        } else {
            Ok(RequestPages { first: r.address / 4096, count: r.npages })
        };
        let got = request_pages(&r);
        prop_assert_eq!(got, expected);
        if let Ok(pages) = got {
            prop_assert_eq!(u128::from(pages.end()) << 12, end);
        }
    }
}

const SOFTWARE: u64 = KVM_SUBPAGE_WP_SOFTWARE;
const HARDWARE: u64 = KVM_SUBPAGE_WP_HARDWARE;

fn enable(args: [u64; 4], advertised: u64) -> Result<Mode, BadEnable> {
    mode_to_enable(0, &args, advertised, None, false)
}

#[test]
fn modes_have_their_uapi_bits() {
    assert_eq!(Mode::Software.bit(), KVM_SUBPAGE_WP_SOFTWARE);
    assert_eq!(Mode::Hardware.bit(), KVM_SUBPAGE_WP_HARDWARE);
}

#[test]
fn an_advertised_mode_is_enabled() {
    assert_eq!(enable([SOFTWARE, 0, 0, 0], SOFTWARE), Ok(Mode::Software));
    assert_eq!(
        enable([SOFTWARE, 0, 0, 0], SOFTWARE | HARDWARE),
        Ok(Mode::Software)
    );
    assert_eq!(
        enable([HARDWARE, 0, 0, 0], SOFTWARE | HARDWARE),
        Ok(Mode::Hardware)
    );
    assert_eq!(enable([HARDWARE, 0, 0, 0], HARDWARE), Ok(Mode::Hardware));
}

#[test]
fn each_flag_bit_and_each_unused_argument_bit_is_refused() {
    for advertised in [SOFTWARE, SOFTWARE | HARDWARE] {
        for bit in 0..32 {
            assert_eq!(
                mode_to_enable(1 << bit, &[SOFTWARE, 0, 0, 0], advertised, None, false),
                Err(BadEnable::UnusedArguments),
                "flags bit {bit}"
            );
        }
        for arg in 1..4 {
            for bit in 0..64 {
                let mut args = [SOFTWARE, 0, 0, 0];
                args[arg] = 1 << bit;
                assert_eq!(
                    enable(args, advertised),
                    Err(BadEnable::UnusedArguments),
                    "args[{arg}] bit {bit}"
                );
            }
        }
    }
}

#[test]
fn anything_but_exactly_one_advertised_mode_is_refused() {
    for advertised in [SOFTWARE, SOFTWARE | HARDWARE] {
        let mut bad = std::vec![0, SOFTWARE | HARDWARE, u64::MAX];
        bad.extend((2..64).map(|bit| 1u64 << bit));
        bad.extend((2..64).map(|bit| SOFTWARE | 1u64 << bit));
        for mode in bad {
            assert_eq!(
                enable([mode, 0, 0, 0], advertised),
                Err(BadEnable::NotOneAdvertisedMode),
                "args[0] {mode:#x} advertised {advertised:#x}"
            );
        }
    }
    // A mode the VM cannot use.
    assert_eq!(
        enable([HARDWARE, 0, 0, 0], SOFTWARE),
        Err(BadEnable::NotOneAdvertisedMode)
    );
    assert_eq!(
        enable([SOFTWARE, 0, 0, 0], 0),
        Err(BadEnable::NotOneAdvertisedMode)
    );
}

#[test]
fn a_mode_is_chosen_once_and_before_the_first_vcpu() {
    for advertised in [SOFTWARE, SOFTWARE | HARDWARE] {
        let args = [SOFTWARE, 0, 0, 0];
        assert_eq!(
            mode_to_enable(0, &args, advertised, None, true),
            Err(BadEnable::AfterVcpus)
        );
        for enabled in [Mode::Software, Mode::Hardware] {
            assert_eq!(
                mode_to_enable(0, &args, advertised, Some(enabled), false),
                Err(BadEnable::AlreadyEnabled)
            );
        }
    }
}

#[test]
fn enable_checks_go_arguments_mode_vcpus_enabled() {
    let advertised = SOFTWARE;
    let enabled = Some(Mode::Software);
    assert_eq!(
        mode_to_enable(1, &[HARDWARE, 1, 0, 0], advertised, enabled, true),
        Err(BadEnable::UnusedArguments)
    );
    assert_eq!(
        mode_to_enable(0, &[HARDWARE, 0, 0, 0], advertised, enabled, true),
        Err(BadEnable::NotOneAdvertisedMode)
    );
    assert_eq!(
        mode_to_enable(0, &[SOFTWARE, 0, 0, 0], advertised, enabled, true),
        Err(BadEnable::AfterVcpus)
    );
    assert_eq!(
        mode_to_enable(0, &[SOFTWARE, 0, 0, 0], advertised, enabled, false),
        Err(BadEnable::AlreadyEnabled)
    );
}
