// SPDX-License-Identifier: GPL-2.0

//! The Rust mirror of the uAPI header must match the header, bit for bit.

use crate::uapi::*;
use std::{collections::BTreeMap, fs, string::String, vec::Vec};

/// Parses `#define NAME (1ULL << N)` lines of a C header.
fn header_bits(path: &str) -> BTreeMap<String, u64> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut bits = BTreeMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() < 3 || words[0] != "#define" {
            continue;
        }
        let value = words[2..].concat();
        if let Some(shift) = value
            .strip_prefix("(1ULL<<")
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

#[test]
fn emulated_capability_matches_header() {
    let define = header_define("KVM_CAP_MEMORY_ATTRIBUTES_EMULATED");
    let value: u32 = define
        .split_whitespace()
        .nth(2)
        .and_then(|v| v.parse().ok())
        .expect("a decimal number");
    assert_eq!(value, KVM_CAP_MEMORY_ATTRIBUTES_EMULATED);
}

#[test]
fn protections_do_not_overlap_private() {
    let protections =
        KVM_MEMORY_ATTRIBUTE_NO_READ | KVM_MEMORY_ATTRIBUTE_NO_WRITE | KVM_MEMORY_ATTRIBUTE_NO_EXEC;
    assert_eq!(protections & KVM_MEMORY_ATTRIBUTE_PRIVATE, 0);
}
