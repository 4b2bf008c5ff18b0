// SPDX-License-Identifier: GPL-2.0

//! `KVM_SET_SUBPAGE_WRITE_ACCESS` and `KVM_GET_SUBPAGE_WRITE_ACCESS`: write
//! and read the sub-page maps of up to `KVM_SUBPAGE_MAX_PAGES` pages.

use crate::provider::ChangeScope;
use crate::subpage::{request_pages, Mode, RequestPages, SubpageMap};
use crate::uapi::{
    KvmSubpageWriteAccess, KVMIO, KVM_GET_SUBPAGE_WRITE_ACCESS_NR,
    KVM_SET_SUBPAGE_WRITE_ACCESS_NR,
};
use crate::vm::VmContext;
use core::mem::size_of;
use kernel::{
    ioctl::{_IOW, _IOWR},
    prelude::*,
    types::FromBytes,
    uaccess::{UserPtr, UserSlice},
};

/// The ioctl number of `KVM_SET_SUBPAGE_WRITE_ACCESS`.
pub(crate) const KVM_SET_SUBPAGE_WRITE_ACCESS: u32 =
    _IOW::<KvmSubpageWriteAccess>(KVMIO, KVM_SET_SUBPAGE_WRITE_ACCESS_NR);
/// The ioctl number of `KVM_GET_SUBPAGE_WRITE_ACCESS`.
pub(crate) const KVM_GET_SUBPAGE_WRITE_ACCESS: u32 =
    _IOWR::<KvmSubpageWriteAccess>(KVMIO, KVM_GET_SUBPAGE_WRITE_ACCESS_NR);

/// The fixed part of `struct kvm_subpage_write_access` as it crosses the
/// user boundary.
#[repr(transparent)]
struct UserRequest(KvmSubpageWriteAccess);

// SAFETY: Integers only: every bit pattern is valid.
unsafe impl FromBytes for UserRequest {}

/// The request at `arg`, checked, and the user address of its maps.
fn read_request(arg: usize) -> Result<(RequestPages, UserPtr)> {
    let UserRequest(request) = UserSlice::new(arg, size_of::<UserRequest>())
        .reader()
        .read()?;
    let pages = request_pages(&request).map_err(|_| EINVAL)?;
    let maps = arg.checked_add(size_of::<UserRequest>()).ok_or(EFAULT)?;
    Ok((pages, maps))
}

/// The bytes of `count` maps.
fn maps_len(pages: RequestPages) -> usize {
    pages.count as usize * size_of::<u32>()
}

/// Sets the maps of the pages of the request at `arg`: all or nothing.
pub(crate) fn set_subpage_write_access(vm: &VmContext, arg: usize) -> Result {
    let (pages, maps_ptr) = read_request(arg)?;
    let Some(mode) = vm.subpage_mode() else {
        return Err(EINVAL);
    };

    let mut bytes = KVec::new();
    UserSlice::new(maps_ptr, maps_len(pages)).read_all(&mut bytes, GFP_KERNEL)?;
    let maps: KVec<u32> = {
        let mut maps = KVec::with_capacity(pages.count as usize, GFP_KERNEL)?;
        for chunk in bytes.chunks_exact(size_of::<u32>()) {
            let map = chunk.try_into().map(u32::from_ne_bytes).map_err(|_| EINVAL)?;
            maps.push(map, GFP_KERNEL)?;
        }
        maps
    };

    let scope = ChangeScope {
        adds: maps.iter().any(|&map| !SubpageMap(map).is_unprotected()),
        removes: maps.iter().any(|&map| SubpageMap(map).is_unprotected()),
    };
    // The SPP table's new tables first, since they may fail; the maps, all
    // or nothing; then the table's entries, which cannot fail.
    let change = || {
        if mode == Mode::Hardware {
            vm.spp.prepare(pages, &maps)?;
        }
        let change = vm.subpages.set(pages, &maps)?;
        if mode == Mode::Hardware {
            vm.spp.write_maps(pages, &maps);
        }
        Ok(change)
    };
    vm.kvm.change_range(
        pages.first,
        pages.end(),
        scope,
        change,
        || !vm.store.is_empty() || !vm.subpages.is_empty(),
    )
}

/// Reads the maps of the pages of the request at `arg` into its
/// `access_map`.
pub(crate) fn get_subpage_write_access(vm: &VmContext, arg: usize) -> Result {
    let (pages, maps_ptr) = read_request(arg)?;

    let mut bytes = KVec::with_capacity(maps_len(pages), GFP_KERNEL)?;
    for gfn in pages.first..pages.end() {
        bytes.extend_from_slice(&vm.subpages.get(gfn).0.to_ne_bytes(), GFP_KERNEL)?;
    }
    UserSlice::new(maps_ptr, maps_len(pages))
        .writer()
        .write_slice(&bytes)
}
