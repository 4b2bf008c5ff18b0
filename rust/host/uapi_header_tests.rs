// SPDX-License-Identifier: GPL-2.0

//! The Rust mirror of the uAPI header must match the header, bit for bit.

use crate::uapi::*;
use std::{collections::BTreeMap, fs, string::String, vec::Vec};

/// Parses `#define NAME (1ULL << N)` and `#define NAME (1 << N)` lines of a
/// C header.
fn header_bits(path: &str) -> BTreeMap<String, u64> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut bits = BTreeMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() < 3 || words[0] != "#define" {
            continue;
        }
        let value = words[2..].concat();
        if let Some(shift) = ["(1ULL<<", "(1<<"]
            .iter()
            .find_map(|prefix| value.strip_prefix(prefix))
            .and_then(|v| v.strip_suffix(')'))
        {
            let shift: u32 = shift.parse().expect("shift is a number");
            bits.insert(String::from(words[1]), 1u64 << shift);
        }
    }
    bits
}

/// The line of the uAPI header that defines `name`.
fn header_define(name: &str) -> String {
    let header = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../include/uapi/linux/kvm_memattr.h"
    );
    let text = fs::read_to_string(header).expect("header");
    let prefix = std::format!("#define {name}");
    let line = text
        .lines()
        .find(|line| {
            line.strip_prefix(&prefix)
                .is_some_and(|rest| rest.starts_with([' ', '\t']))
        })
        .unwrap_or_else(|| panic!("{name} is defined"));
    String::from(line)
}

#[test]
fn mirror_matches_header() {
    let header = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../include/uapi/linux/kvm_memattr.h"
    );
    let bits = header_bits(header);
    let mirror = [
        ("KVM_MEMORY_ATTRIBUTE_NO_READ", KVM_MEMORY_ATTRIBUTE_NO_READ),
        (
            "KVM_MEMORY_ATTRIBUTE_NO_WRITE",
            KVM_MEMORY_ATTRIBUTE_NO_WRITE,
        ),
        ("KVM_MEMORY_ATTRIBUTE_NO_EXEC", KVM_MEMORY_ATTRIBUTE_NO_EXEC),
        ("KVM_MEMORY_EXIT_FLAG_READ", KVM_MEMORY_EXIT_FLAG_READ),
        ("KVM_MEMORY_EXIT_FLAG_WRITE", KVM_MEMORY_EXIT_FLAG_WRITE),
        ("KVM_MEMORY_EXIT_FLAG_EXEC", KVM_MEMORY_EXIT_FLAG_EXEC),
        ("KVM_MEMORY_EXIT_FLAG_SUBPAGE", KVM_MEMORY_EXIT_FLAG_SUBPAGE),
        ("KVM_SUBPAGE_WP_SOFTWARE", KVM_SUBPAGE_WP_SOFTWARE),
        ("KVM_SUBPAGE_WP_HARDWARE", KVM_SUBPAGE_WP_HARDWARE),
    ];
    for (name, value) in mirror {
        assert_eq!(bits.get(name), Some(&value), "{name}");
    }
    assert_eq!(bits.len(), mirror.len(), "header has bits the mirror lacks");
}

#[test]
fn get_ioctl_number_matches_header() {
    let define = header_define("KVM_GET_MEMORY_ATTRIBUTES");
    let expected = std::format!(
        "_IOWR(KVMIO, {:#x}, struct kvm_memory_attributes)",
        KVM_GET_MEMORY_ATTRIBUTES_NR
    );
    assert!(define.ends_with(&expected), "{define}");
    assert_eq!(core::mem::size_of::<KvmMemoryAttributes>(), 32);
}

/// The value of `#define name N`, a decimal number, in the uAPI header.
fn header_number(name: &str) -> u32 {
    let define = header_define(name);
    let words: Vec<&str> = define.split_whitespace().collect();
    assert_eq!(words.len(), 3, "{define}");
    words[2]
        .parse()
        .unwrap_or_else(|_| panic!("{name} is a decimal number: {define}"))
}

#[test]
fn emulated_capability_matches_header() {
    assert_eq!(
        header_number("KVM_CAP_MEMORY_ATTRIBUTES_EMULATED"),
        KVM_CAP_MEMORY_ATTRIBUTES_EMULATED
    );
}

#[test]
fn subpage_numbers_match_header() {
    let mirror = [
        (
            "KVM_CAP_SUBPAGE_WRITE_PROTECT",
            KVM_CAP_SUBPAGE_WRITE_PROTECT,
        ),
        ("KVM_SUBPAGE_SIZE", KVM_SUBPAGE_SIZE),
        ("KVM_SUBPAGES_PER_PAGE", KVM_SUBPAGES_PER_PAGE),
        ("KVM_SUBPAGE_MAX_PAGES", KVM_SUBPAGE_MAX_PAGES),
    ];
    for (name, value) in mirror {
        assert_eq!(header_number(name), value, "{name}");
    }
}

#[test]
fn subpage_ioctl_numbers_match_header() {
    let ioctls = [
        (
            "KVM_SET_SUBPAGE_WRITE_ACCESS",
            "_IOW",
            KVM_SET_SUBPAGE_WRITE_ACCESS_NR,
        ),
        (
            "KVM_GET_SUBPAGE_WRITE_ACCESS",
            "_IOWR",
            KVM_GET_SUBPAGE_WRITE_ACCESS_NR,
        ),
    ];
    for (name, direction, nr) in ioctls {
        let define = header_define(name);
        let expected = std::format!("{direction}(KVMIO, {nr:#x}, struct kvm_subpage_write_access)");
        // The whole value, not a tail of it: no prefix before the macro.
        let value = define[std::format!("#define {name}").len()..].trim_start();
        assert_eq!(value, expected, "{name}");
    }
    assert_eq!(core::mem::size_of::<KvmSubpageWriteAccess>(), 32);
}

#[test]
fn protections_do_not_overlap_private() {
    let protections =
        KVM_MEMORY_ATTRIBUTE_NO_READ | KVM_MEMORY_ATTRIBUTE_NO_WRITE | KVM_MEMORY_ATTRIBUTE_NO_EXEC;
    assert_eq!(protections & KVM_MEMORY_ATTRIBUTE_PRIVATE, 0);
}
