// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause

//! The wrappers against the real kernel: `/dev/kvm` with `kvm_memattr`
//! loaded.
//!
//! Without them (the build script's `has_kvm_memattr`), every test here is
//! reported as ignored, never as passed. `KVM_MEMATTR_TESTS=1 cargo test`
//! forces them on; they then fail where the module is missing.

use kvm_ioctls::{Kvm, VmFd};
use kvm_memattr::{AttributeRun, Attributes, Error, MemattrVmFd, SubpageMap, SubpageMode};

/// A fresh VM that must be bound to the module.
fn bound_vm() -> VmFd {
    let kvm = Kvm::new().expect("/dev/kvm opens");
    let vm = kvm.create_vm().expect("KVM_CREATE_VM");
    assert_eq!(
        vm.memattr_bound(),
        Ok(true),
        "a VM created while kvm_memattr is loaded is bound to it"
    );
    vm
}

fn errno(result: kvm_memattr::Result<()>) -> Option<i32> {
    result.err().and_then(|e| e.errno())
}

#[test]
#[cfg_attr(
    not(has_kvm_memattr),
    ignore = "needs /dev/kvm with kvm_memattr loaded"
)]
fn a_bound_vm_reports_the_extension() {
    let vm = bound_vm();
    let supported = vm.supported_attributes().unwrap();
    assert!(
        supported.contains(Attributes::NO_WRITE | Attributes::NO_EXEC),
        "{supported}"
    );
    // The default VM type has no private memory.
    assert!(!supported.contains(Attributes::PRIVATE), "{supported}");
    assert_eq!(vm.emulated_modes_supported(), Ok(true));
    let modes = vm.subpage_modes().unwrap();
    assert!(modes.offers(SubpageMode::Software), "{modes:?}");
}

#[test]
#[cfg_attr(
    not(has_kvm_memattr),
    ignore = "needs /dev/kvm with kvm_memattr loaded"
)]
fn attributes_read_back_as_runs() {
    let vm = bound_vm();
    vm.set_attributes(0x4000, 0x2000, Attributes::NO_WRITE)
        .unwrap();
    vm.set_attributes(0x6000, 0x1000, Attributes::NO_EXEC)
        .unwrap();
    let runs: Vec<_> = vm
        .attribute_runs(0, 0x10000)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        runs,
        [
            AttributeRun::new(0, 0x4000, Attributes::empty()),
            AttributeRun::new(0x4000, 0x2000, Attributes::NO_WRITE),
            AttributeRun::new(0x6000, 0x1000, Attributes::NO_EXEC),
            AttributeRun::new(0x7000, 0x9000, Attributes::empty()),
        ]
    );
    // One GET: the run from 0x5000, cut at the end of the range asked.
    assert_eq!(
        vm.get_attributes(0x5000, 0x1000),
        Ok(AttributeRun::new(0x5000, 0x1000, Attributes::NO_WRITE))
    );

    vm.set_attributes(0x4000, 0x3000, Attributes::empty())
        .unwrap();
    let runs: Vec<_> = vm.attribute_runs(0, 0x10000).unwrap().collect();
    assert_eq!(
        runs,
        [Ok(AttributeRun::new(0, 0x10000, Attributes::empty()))]
    );
}

#[test]
#[cfg_attr(
    not(has_kvm_memattr),
    ignore = "needs /dev/kvm with kvm_memattr loaded"
)]
fn kernel_refusals_keep_their_errno() {
    let vm = bound_vm();
    // PRIVATE on a VM type without private memory.
    assert_eq!(
        errno(vm.set_attributes(0x1000, 0x1000, Attributes::PRIVATE)),
        Some(libc::EINVAL)
    );
    // No sub-page mode yet.
    assert_eq!(
        errno(vm.set_subpage_maps(0x1000, &[SubpageMap::NONE_WRITABLE])),
        Some(libc::EINVAL)
    );
    // A mode not offered.
    if !vm.subpage_modes().unwrap().offers(SubpageMode::Hardware) {
        assert_eq!(
            errno(vm.enable_subpage_mode(SubpageMode::Hardware)),
            Some(libc::EINVAL)
        );
    }
    // Once only.
    vm.enable_subpage_mode(SubpageMode::Software).unwrap();
    assert_eq!(
        errno(vm.enable_subpage_mode(SubpageMode::Software)),
        Some(libc::EINVAL)
    );

    // Not after the first vCPU.
    let late = bound_vm();
    let _vcpu = late.create_vcpu(0).unwrap();
    assert_eq!(
        errno(late.enable_subpage_mode(SubpageMode::Software)),
        Some(libc::EINVAL)
    );
}

#[test]
#[cfg_attr(
    not(has_kvm_memattr),
    ignore = "needs /dev/kvm with kvm_memattr loaded"
)]
fn emulated_modes_add_write_without_read() {
    let vm = bound_vm();
    let write_only = Attributes::NO_READ | Attributes::NO_EXEC;
    assert_eq!(
        errno(vm.set_attributes(0x8000, 0x1000, write_only)),
        Some(libc::EINVAL)
    );
    vm.enable_emulated_modes().unwrap();
    assert!(vm
        .supported_attributes()
        .unwrap()
        .contains(Attributes::NO_READ));
    vm.set_attributes(0x8000, 0x1000, write_only).unwrap();
    assert_eq!(
        vm.get_attributes(0x8000, 0x1000),
        Ok(AttributeRun::new(0x8000, 0x1000, write_only))
    );
    // Enabling again changes nothing.
    vm.enable_emulated_modes().unwrap();
}

#[test]
#[cfg_attr(
    not(has_kvm_memattr),
    ignore = "needs /dev/kvm with kvm_memattr loaded"
)]
fn subpage_maps_round_trip() {
    let vm = bound_vm();
    // Before a mode: GET works and reads all ones.
    let mut maps = [SubpageMap::NONE_WRITABLE; 4];
    vm.get_subpage_maps(0x10000, &mut maps).unwrap();
    assert_eq!(maps, [SubpageMap::ALL_WRITABLE; 4]);

    vm.enable_subpage_mode(SubpageMode::Software).unwrap();
    let set = [
        SubpageMap::from_bits(0xffff_fff7),
        SubpageMap::NONE_WRITABLE,
        SubpageMap::from_bits(0x8000_0001),
    ];
    vm.set_subpage_maps(0x10000, &set).unwrap();
    vm.get_subpage_maps(0x10000, &mut maps).unwrap();
    assert_eq!(maps[..3], set);
    assert_eq!(maps[3], SubpageMap::ALL_WRITABLE);

    // All ones unprotects.
    vm.set_subpage_maps(0x10000, &[SubpageMap::ALL_WRITABLE; 3])
        .unwrap();
    vm.get_subpage_maps(0x10000, &mut maps).unwrap();
    assert_eq!(maps, [SubpageMap::ALL_WRITABLE; 4]);

    // The most pages one request carries.
    let mut many = vec![SubpageMap::NONE_WRITABLE; kvm_memattr::SUBPAGE_MAX_PAGES];
    vm.set_subpage_maps(0x100_0000, &many).unwrap();
    many.fill(SubpageMap::ALL_WRITABLE);
    vm.get_subpage_maps(0x100_0000, &mut many).unwrap();
    assert!(many.iter().all(|m| *m == SubpageMap::NONE_WRITABLE));
}

#[test]
#[cfg_attr(
    not(has_kvm_memattr),
    ignore = "needs /dev/kvm with kvm_memattr loaded"
)]
fn validation_comes_before_the_kernel() {
    let vm = bound_vm();
    assert_eq!(
        vm.set_attributes(0x1000, 0x1001, Attributes::NO_WRITE),
        Err(Error::UnalignedSize(0x1001))
    );
    assert_eq!(vm.set_subpage_maps(0x1000, &[]), Err(Error::PageCount(0)));
}
