// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause

//! The mirror in `kvm_memattr::uapi` against the C header itself,
//! `include/uapi/linux/kvm_memattr.h` of the kvm-memattr tree: every
//! `#define` has its twin with the same value, every ioctl number is the
//! one its `_IOW`/`_IOWR` line computes, and the structure has the fields
//! of the C one, in order.
//!
//! Outside the tree (a crate from crates.io) the header is absent and the
//! test is reported as ignored.

use kvm_bindings::{kvm_memory_attributes, KVMIO};
use kvm_memattr::uapi;
use std::collections::BTreeMap;
use std::mem::size_of;
use vmm_sys_util::ioctl::{ioctl_expr, _IOC_NONE, _IOC_READ, _IOC_WRITE};

const HEADER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../include/uapi/linux/kvm_memattr.h"
);

/// `#define NAME VALUE` lines, with VALUE's blanks removed.
fn defines(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("#define")).then_some(())?;
            let name = words.next()?.to_string();
            Some((name, words.collect::<String>()))
        })
        .collect()
}

/// The value of a number or bit definition: `1000`, `(1ULL<<4)`, `(1<<0)`.
fn number(value: &str) -> Option<u64> {
    if let Some(shift) = ["(1ULL<<", "(1<<"]
        .iter()
        .find_map(|p| value.strip_prefix(p))
        .and_then(|v| v.strip_suffix(')'))
    {
        return Some(1 << shift.parse::<u32>().ok()?);
    }
    value.parse().ok()
}

/// The number an ioctl definition computes: `_IOWR(KVMIO,0xf0,struct
/// kvm_memory_attributes)`, with the sizes of the Rust mirrors.
fn ioctl(value: &str) -> Option<u64> {
    let (dir, rest) = value.split_once('(')?;
    let dir = match dir {
        "_IO" => _IOC_NONE,
        "_IOW" => _IOC_WRITE,
        "_IOR" => _IOC_READ,
        "_IOWR" => _IOC_READ | _IOC_WRITE,
        _ => return None,
    };
    let args: Vec<&str> = rest.strip_suffix(')')?.split(',').collect();
    assert_eq!(args[0], "KVMIO", "{value}");
    let nr = u32::from_str_radix(args[1].strip_prefix("0x")?, 16).ok()?;
    let size = match args.get(2).copied() {
        None => 0,
        Some("structkvm_memory_attributes") => size_of::<kvm_memory_attributes>(),
        Some("structkvm_subpage_write_access") => size_of::<uapi::kvm_subpage_write_access>(),
        Some(other) => panic!("no mirror for {other}"),
    };
    Some(ioctl_expr(dir, KVMIO, nr, size as u32))
}

#[test]
#[cfg_attr(
    not(has_memattr_header),
    ignore = "needs the kvm-memattr tree's uAPI header"
)]
fn every_define_is_mirrored() {
    let text = std::fs::read_to_string(HEADER).unwrap_or_else(|e| panic!("{HEADER}: {e}"));
    let mirror: BTreeMap<&str, u64> = [
        (
            "KVM_MEMORY_ATTRIBUTE_NO_READ",
            uapi::KVM_MEMORY_ATTRIBUTE_NO_READ,
        ),
        (
            "KVM_MEMORY_ATTRIBUTE_NO_WRITE",
            uapi::KVM_MEMORY_ATTRIBUTE_NO_WRITE,
        ),
        (
            "KVM_MEMORY_ATTRIBUTE_NO_EXEC",
            uapi::KVM_MEMORY_ATTRIBUTE_NO_EXEC,
        ),
        ("KVM_GET_MEMORY_ATTRIBUTES", uapi::KVM_GET_MEMORY_ATTRIBUTES),
        (
            "KVM_CAP_MEMORY_ATTRIBUTES_EMULATED",
            uapi::KVM_CAP_MEMORY_ATTRIBUTES_EMULATED.into(),
        ),
        ("KVM_MEMORY_EXIT_FLAG_READ", uapi::KVM_MEMORY_EXIT_FLAG_READ),
        (
            "KVM_MEMORY_EXIT_FLAG_WRITE",
            uapi::KVM_MEMORY_EXIT_FLAG_WRITE,
        ),
        ("KVM_MEMORY_EXIT_FLAG_EXEC", uapi::KVM_MEMORY_EXIT_FLAG_EXEC),
        (
            "KVM_MEMORY_EXIT_FLAG_SUBPAGE",
            uapi::KVM_MEMORY_EXIT_FLAG_SUBPAGE,
        ),
        (
            "KVM_CAP_SUBPAGE_WRITE_PROTECT",
            uapi::KVM_CAP_SUBPAGE_WRITE_PROTECT.into(),
        ),
        ("KVM_SUBPAGE_WP_SOFTWARE", uapi::KVM_SUBPAGE_WP_SOFTWARE),
        ("KVM_SUBPAGE_WP_HARDWARE", uapi::KVM_SUBPAGE_WP_HARDWARE),
        ("KVM_SUBPAGE_SIZE", uapi::KVM_SUBPAGE_SIZE),
        ("KVM_SUBPAGES_PER_PAGE", uapi::KVM_SUBPAGES_PER_PAGE as u64),
        ("KVM_SUBPAGE_MAX_PAGES", uapi::KVM_SUBPAGE_MAX_PAGES as u64),
        (
            "KVM_SET_SUBPAGE_WRITE_ACCESS",
            uapi::KVM_SET_SUBPAGE_WRITE_ACCESS,
        ),
        (
            "KVM_GET_SUBPAGE_WRITE_ACCESS",
            uapi::KVM_GET_SUBPAGE_WRITE_ACCESS,
        ),
    ]
    .into_iter()
    .collect();

    let mut seen = 0;
    for (name, value) in defines(&text) {
        if name == "_UAPI_LINUX_KVM_MEMATTR_H" {
            continue;
        }
        let header = number(&value)
            .or_else(|| ioctl(&value))
            .unwrap_or_else(|| panic!("{name}: cannot read {value:?}"));
        let rust = mirror
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} is not mirrored"));
        assert_eq!(*rust, header, "{name} = {value}");
        seen += 1;
    }
    assert_eq!(seen, mirror.len(), "the mirror has names the header lacks");
}

#[test]
#[cfg_attr(
    not(has_memattr_header),
    ignore = "needs the kvm-memattr tree's uAPI header"
)]
fn the_structure_has_the_c_fields() {
    let text = std::fs::read_to_string(HEADER).unwrap_or_else(|e| panic!("{HEADER}: {e}"));
    let body = text
        .split_once("struct kvm_subpage_write_access {")
        .and_then(|(_, rest)| rest.split_once("};"))
        .expect("struct kvm_subpage_write_access")
        .0;
    let fields: Vec<String> = body
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect();
    assert_eq!(
        fields,
        [
            "__u64 address;",
            "__u32 npages;",
            "__u32 flags;",
            "__u64 reserved[2];",
            "__u32 access_map[];",
        ]
    );
    // The Rust layout of those fields is checked by the uapi unit tests.
    let mirror = uapi::kvm_subpage_write_access::default();
    let _: (u64, u32, u32, [u64; 2], [u32; 0]) = (
        mirror.address,
        mirror.npages,
        mirror.flags,
        mirror.reserved,
        mirror.access_map,
    );
}
