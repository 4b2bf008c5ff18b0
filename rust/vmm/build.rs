// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause

//! Tells the tests what this machine has, the way kvm-ioctls' build script
//! tells them about SEV:
//!
//! - `has_kvm_memattr`: `/dev/kvm` exists and the `kvm_memattr` module is
//!   loaded, so the tests and doc examples that create VMs run; without it
//!   they are compiled and reported as ignored, never as passed.
//!   `KVM_MEMATTR_TESTS=1` forces it on (the tests then fail where the
//!   module is missing), `KVM_MEMATTR_TESTS=0` forces it off.
//! - `has_memattr_header`: the crate sits in the kvm-memattr source tree, so
//!   the test that compares the mirror with `kvm_memattr.h` can read it.

use std::path::Path;

/// The uAPI header, relative to this crate in the kvm-memattr tree.
const HEADER: &str = "../../include/uapi/linux/kvm_memattr.h";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_kvm_memattr)");
    println!("cargo::rustc-check-cfg=cfg(has_memattr_header)");
    println!("cargo::rerun-if-env-changed=KVM_MEMATTR_TESTS");
    println!("cargo::rerun-if-changed=build.rs");
    // A path that does not exist makes cargo run this script again on
    // every build, which is what a module loaded later needs.
    println!("cargo::rerun-if-changed=/sys/module/kvm_memattr");
    println!("cargo::rerun-if-changed={HEADER}");

    let detected = Path::new("/dev/kvm").exists() && Path::new("/sys/module/kvm_memattr").exists();
    let has_kvm_memattr = match std::env::var("KVM_MEMATTR_TESTS").as_deref() {
        Ok("1") => true,
        Ok("0") => false,
        _ => detected,
    };
    if has_kvm_memattr {
        println!("cargo::rustc-cfg=has_kvm_memattr");
    }
    if Path::new(HEADER).exists() {
        println!("cargo::rustc-cfg=has_memattr_header");
    }
}
