// SPDX-License-Identifier: GPL-2.0

//! Host build of the kvm_memattr module's pure logic.
//!
//! The files under `../kvm_memattr/` that do not depend on the kernel crate
//! are compiled here unchanged, so `cargo test` covers them without a kernel.

#![no_std]

#[cfg(test)]
extern crate std;

#[path = "../kvm_memattr/attributes.rs"]
#[allow(dead_code)]
mod attributes;
#[path = "../kvm_memattr/range.rs"]
#[allow(dead_code)]
mod range;
#[path = "../kvm_memattr/run_map.rs"]
#[allow(dead_code)]
mod run_map;
#[path = "../kvm_memattr/spp_entry.rs"]
#[allow(dead_code)]
mod spp_entry;
#[path = "../kvm_memattr/subpage.rs"]
#[allow(dead_code)]
mod subpage;
#[path = "../kvm_memattr/uapi.rs"]
#[allow(dead_code)]
mod uapi;

#[cfg(test)]
mod attributes_tests;
#[cfg(test)]
mod range_tests;
#[cfg(test)]
mod run_map_tests;
#[cfg(test)]
mod spp_entry_tests;
#[cfg(test)]
mod subpage_tests;
#[cfg(test)]
mod uapi_header_tests;
