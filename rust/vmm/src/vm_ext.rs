// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause

//! [`MemattrVmFd`]: the kvm-memattr ioctls and capabilities of a VM, as
//! methods of kvm-ioctls' [`VmFd`].
//!
//! Every method checks its arguments in Rust first, for what KVM would
//! refuse with `EINVAL` anyway (alignment, empty or wrapping ranges, page
//! counts), and otherwise reports KVM's answer as it came: an ioctl that
//! fails gives [`Error::Ioctl`] with KVM's errno.

use crate::attributes::Attributes;
use crate::error::{Error, Result};
use crate::runs::{AttributeRun, Runs};
use crate::subpage::{SubpageMap, SubpageMode, SubpageModes};
use crate::uapi::{self, kvm_subpage_write_access, PAGE_SIZE};
use kvm_bindings::{kvm_enable_cap, kvm_memory_attributes, KVM_CAP_MEMORY_ATTRIBUTES};
use kvm_ioctls::VmFd;
use std::os::fd::RawFd;
use std::os::raw::c_ulong;
use vmm_sys_util::ioctl::{ioctl_with_mut_ref, ioctl_with_ref, ioctl_with_val};

pub(crate) mod private {
    /// Seals [`MemattrVmFd`](super::MemattrVmFd): its ioctls are only
    /// memory safe on a KVM VM fd, and `VmFd` is the type that holds one.
    pub trait Sealed: std::os::fd::AsRawFd {}

    impl Sealed for kvm_ioctls::VmFd {}
}

/// The kvm-memattr extension of a VM: page attributes, the emulated access
/// modes, sub-page write protection.
///
/// Implemented for kvm-ioctls' [`VmFd`]; bring it into scope with
/// `use kvm_memattr::MemattrVmFd`. The method names differ from `VmFd`'s
/// own (`VmFd::set_memory_attributes` takes a raw
/// `kvm_memory_attributes`), so both stay callable.
///
/// A VM uses the extension only if the `kvm_memattr` module was loaded
/// when the VM was created: check [`memattr_bound`](Self::memattr_bound)
/// first. See `Documentation/virt/kvm/memattr/api.rst` for the semantics
/// of each ioctl.
///
/// # Example
///
#[cfg_attr(has_kvm_memattr, doc = "```")]
#[cfg_attr(not(has_kvm_memattr), doc = "```no_run")]
/// use kvm_ioctls::Kvm;
/// use kvm_memattr::{Attributes, MemattrVmFd};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let kvm = Kvm::new()?;
/// let vm = kvm.create_vm()?;
/// if !vm.memattr_bound()? {
///     println!("kvm_memattr is not loaded");
///     return Ok(());
/// }
/// println!("this VM accepts {}", vm.supported_attributes()?);
/// # Ok(())
/// # }
/// ```
pub trait MemattrVmFd: private::Sealed {
    /// Whether the VM is bound to the `kvm_memattr` module, which answers
    /// `KVM_CHECK_EXTENSION(KVM_CAP_MEMORY_ATTRIBUTES_EMULATED)` with 1 on
    /// a bound VM's fd and upstream KVM with 0.
    ///
    /// Only VMs created while the module is loaded are bound; an unbound VM
    /// behaves as upstream KVM, and every other method here then fails or
    /// reports nothing supported.
    fn memattr_bound(&self) -> Result<bool> {
        Ok(check_extension(self.as_raw_fd(), uapi::KVM_CAP_MEMORY_ATTRIBUTES_EMULATED)? == 1)
    }

    /// The attributes this VM accepts:
    /// `KVM_CHECK_EXTENSION(KVM_CAP_MEMORY_ATTRIBUTES)` on the VM's fd.
    ///
    /// On a bound VM: `NO_WRITE | NO_EXEC`, `PRIVATE` for VM types with
    /// private memory, `NO_READ` on EPT with execute-only leaves and, on
    /// every MMU, once [`enable_emulated_modes`](Self::enable_emulated_modes)
    /// succeeded. Ask again after enabling. Bits this crate does not know
    /// are left out: they cannot be requested through it.
    ///
    /// # Example
    ///
    #[cfg_attr(has_kvm_memattr, doc = "```")]
    #[cfg_attr(not(has_kvm_memattr), doc = "```no_run")]
    /// use kvm_ioctls::Kvm;
    /// use kvm_memattr::{Attributes, MemattrVmFd};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vm = Kvm::new()?.create_vm()?;
    /// let supported = vm.supported_attributes()?;
    /// if !supported.contains(Attributes::NO_WRITE) {
    ///     return Ok(()); // not bound to kvm_memattr
    /// }
    /// if supported.contains(Attributes::NO_READ) {
    ///     println!("execute-only memory is available");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    fn supported_attributes(&self) -> Result<Attributes> {
        let bits = check_extension(self.as_raw_fd(), KVM_CAP_MEMORY_ATTRIBUTES)?;
        // Non-negative: the cast keeps it.
        Ok(Attributes::from_bits_truncate(bits as u64))
    }

    /// Gives every page of `[address, address + size)` the attributes
    /// `attributes`: `KVM_SET_MEMORY_ATTRIBUTES`.
    ///
    /// `address` and `size` must be 4 KiB aligned, `size` non-zero and the
    /// range must end below 2^64. All or nothing: on an error every page
    /// keeps its attributes. When the call returns, no vCPU can still use
    /// a mapping that the new attributes forbid. KVM refuses with `EINVAL`
    /// a value the VM does not accept (see
    /// [`supported_attributes`](Self::supported_attributes)) or cannot
    /// express, e.g. write without read before
    /// [`enable_emulated_modes`](Self::enable_emulated_modes).
    ///
    /// # Example
    ///
    #[cfg_attr(has_kvm_memattr, doc = "```")]
    #[cfg_attr(not(has_kvm_memattr), doc = "```no_run")]
    /// use kvm_ioctls::Kvm;
    /// use kvm_memattr::{Attributes, MemattrVmFd};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vm = Kvm::new()?.create_vm()?;
    /// if !vm.memattr_bound()? {
    ///     return Ok(());
    /// }
    /// // Guest code at 1 MiB stays read-only and executable.
    /// vm.set_attributes(0x10_0000, 0x4000, Attributes::NO_WRITE)?;
    /// // No memslot is needed: attributes are kept by address.
    /// vm.set_attributes(0x10_0000, 0x4000, Attributes::empty())?;
    /// # Ok(())
    /// # }
    /// ```
    fn set_attributes(&self, address: u64, size: u64, attributes: Attributes) -> Result<()> {
        check_range(address, size)?;
        let request = kvm_memory_attributes {
            address,
            size,
            attributes: attributes.bits(),
            flags: 0,
        };
        let fd = self.as_raw_fd();
        // SAFETY: `fd` is the KVM VM fd of `self` (the trait is sealed to
        // `VmFd`), or an invalid fd, which the kernel refuses with EBADF.
        // For this request KVM reads one `kvm_memory_attributes`, which
        // `request` is and which outlives the call.
        let ret = unsafe { ioctl_with_ref(&fd, uapi::KVM_SET_MEMORY_ATTRIBUTES, &request) };
        if ret == 0 {
            Ok(())
        } else {
            Err(Error::last("KVM_SET_MEMORY_ATTRIBUTES"))
        }
    }

    /// The run that starts at `address`: `KVM_GET_MEMORY_ATTRIBUTES`, once.
    ///
    /// Asks about `[address, address + size)`, validated as for
    /// [`set_attributes`](Self::set_attributes), and returns the attributes
    /// of the page at `address` with the length of the run of pages from
    /// there that share them, at most `size`. To read a whole range, use
    /// [`attribute_runs`](Self::attribute_runs).
    fn get_attributes(&self, address: u64, size: u64) -> Result<AttributeRun> {
        check_range(address, size)?;
        // In: address and size, with attributes and flags as for SET (0 is
        // always accepted).
        let mut request = kvm_memory_attributes {
            address,
            size,
            attributes: 0,
            flags: 0,
        };
        let fd = self.as_raw_fd();
        // SAFETY: `fd` is the KVM VM fd of `self` (the trait is sealed to
        // `VmFd`), or an invalid fd, which the kernel refuses with EBADF.
        // For this request KVM reads and writes one
        // `kvm_memory_attributes`, which `request` is, borrowed mutably for
        // the whole call.
        let ret = unsafe { ioctl_with_mut_ref(&fd, uapi::KVM_GET_MEMORY_ATTRIBUTES, &mut request) };
        if ret != 0 {
            return Err(Error::last("KVM_GET_MEMORY_ATTRIBUTES"));
        }
        checked_run(address, size, request.size, request.attributes)
    }

    /// The attribute map of `[address, address + size)`, as an iterator of
    /// runs: one `KVM_GET_MEMORY_ATTRIBUTES` per run.
    ///
    /// The range is validated as for [`set_attributes`](Self::set_attributes)
    /// before the first ioctl. The runs cover the range in address order,
    /// and two runs in a row always have different attributes.
    ///
    /// # Example
    ///
    #[cfg_attr(has_kvm_memattr, doc = "```")]
    #[cfg_attr(not(has_kvm_memattr), doc = "```no_run")]
    /// use kvm_ioctls::Kvm;
    /// use kvm_memattr::{Attributes, MemattrVmFd};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vm = Kvm::new()?.create_vm()?;
    /// if !vm.memattr_bound()? {
    ///     return Ok(());
    /// }
    /// vm.set_attributes(0x4000, 0x1000, Attributes::NO_WRITE)?;
    /// for run in vm.attribute_runs(0, 0x10000)? {
    ///     // [0x0, +0x4000): none
    ///     // [0x4000, +0x1000): NO_WRITE
    ///     // [0x5000, +0xb000): none
    ///     println!("{}", run?);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    fn attribute_runs(&self, address: u64, size: u64) -> Result<Runs<'_, Self>> {
        check_range(address, size)?;
        Ok(Runs::new(self, address, address + size))
    }

    /// Whether the VM can enable the emulated access modes:
    /// `KVM_CHECK_EXTENSION(KVM_CAP_MEMORY_ATTRIBUTES_EMULATED)` is 1 on
    /// every bound VM.
    fn emulated_modes_supported(&self) -> Result<bool> {
        self.memattr_bound()
    }

    /// Opts the VM into the access modes that give write without read:
    /// `KVM_ENABLE_CAP(KVM_CAP_MEMORY_ATTRIBUTES_EMULATED)`.
    ///
    /// Afterwards `NO_READ | NO_EXEC` (write-only) is accepted on every MMU,
    /// and `NO_READ` (write+execute) where execute-only leaves exist; KVM's
    /// emulator completes each guest write to such a page, at the cost of
    /// a VM exit and an emulation per write. It cannot be disabled; enabling
    /// it again succeeds and changes nothing.
    ///
    /// # Example
    ///
    #[cfg_attr(has_kvm_memattr, doc = "```")]
    #[cfg_attr(not(has_kvm_memattr), doc = "```no_run")]
    /// use kvm_ioctls::Kvm;
    /// use kvm_memattr::{Attributes, MemattrVmFd};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vm = Kvm::new()?.create_vm()?;
    /// if !vm.emulated_modes_supported()? {
    ///     return Ok(());
    /// }
    /// vm.enable_emulated_modes()?;
    /// assert!(vm.supported_attributes()?.contains(Attributes::NO_READ));
    /// // A log page the guest may append to but not read back.
    /// vm.set_attributes(0x8000, 0x1000, Attributes::NO_READ | Attributes::NO_EXEC)?;
    /// # Ok(())
    /// # }
    /// ```
    fn enable_emulated_modes(&self) -> Result<()> {
        enable_cap(
            self.as_raw_fd(),
            uapi::KVM_CAP_MEMORY_ATTRIBUTES_EMULATED,
            0,
        )
    }

    /// The sub-page write protection modes this VM can use:
    /// `KVM_CHECK_EXTENSION(KVM_CAP_SUBPAGE_WRITE_PROTECT)` on its fd.
    ///
    /// `SOFTWARE` on every bound VM, plus `HARDWARE` where the CPU checks
    /// writes by sub-page (Intel SPP with EPT, A/D bits and PML); empty on
    /// an unbound VM. Mode bits this crate does not know are left out.
    fn subpage_modes(&self) -> Result<SubpageModes> {
        let bits = check_extension(self.as_raw_fd(), uapi::KVM_CAP_SUBPAGE_WRITE_PROTECT)?;
        // Non-negative: the cast keeps it.
        Ok(SubpageModes::from_bits_truncate(bits as u64))
    }

    /// Chooses the VM's sub-page write protection mode:
    /// `KVM_ENABLE_CAP(KVM_CAP_SUBPAGE_WRITE_PROTECT)` with `args[0]` =
    /// `mode`.
    ///
    /// Once per VM, before its first vCPU is created, and only a mode that
    /// [`subpage_modes`](Self::subpage_modes) offers: otherwise KVM answers
    /// `EINVAL`. Until a mode is enabled,
    /// [`set_subpage_maps`](Self::set_subpage_maps) fails with `EINVAL`.
    ///
    /// # Example
    ///
    #[cfg_attr(has_kvm_memattr, doc = "```")]
    #[cfg_attr(not(has_kvm_memattr), doc = "```no_run")]
    /// use kvm_ioctls::Kvm;
    /// use kvm_memattr::{MemattrVmFd, SubpageMode};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vm = Kvm::new()?.create_vm()?;
    /// let modes = vm.subpage_modes()?;
    /// // Prefer the CPU's checks: no exit for a permitted write.
    /// let mode = if modes.offers(SubpageMode::Hardware) {
    ///     SubpageMode::Hardware
    /// } else if modes.offers(SubpageMode::Software) {
    ///     SubpageMode::Software
    /// } else {
    ///     return Ok(());
    /// };
    /// vm.enable_subpage_mode(mode)?;
    /// let _vcpu = vm.create_vcpu(0)?;
    /// # Ok(())
    /// # }
    /// ```
    fn enable_subpage_mode(&self, mode: SubpageMode) -> Result<()> {
        enable_cap(
            self.as_raw_fd(),
            uapi::KVM_CAP_SUBPAGE_WRITE_PROTECT,
            mode.bits(),
        )
    }

    /// Gives page `i` of `[address, address + maps.len() * 4096)` the map
    /// `maps[i]`: `KVM_SET_SUBPAGE_WRITE_ACCESS`.
    ///
    /// `address` must be 4 KiB aligned, `maps` hold 1 to
    /// [`SUBPAGE_MAX_PAGES`](crate::SUBPAGE_MAX_PAGES) maps and the range
    /// end below 2^64. A map of all ones unprotects its page. All or
    /// nothing; when it returns, no vCPU can write through a mapping the new
    /// maps forbid. Fails with `EINVAL` before
    /// [`enable_subpage_mode`](Self::enable_subpage_mode). The maps are kept
    /// by address: no memslot is needed.
    ///
    /// # Example
    ///
    #[cfg_attr(has_kvm_memattr, doc = "```")]
    #[cfg_attr(not(has_kvm_memattr), doc = "```no_run")]
    /// use kvm_ioctls::Kvm;
    /// use kvm_memattr::{MemattrVmFd, SubpageMap, SubpageMode};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vm = Kvm::new()?.create_vm()?;
    /// if !vm.subpage_modes()?.offers(SubpageMode::Software) {
    ///     return Ok(());
    /// }
    /// vm.enable_subpage_mode(SubpageMode::Software)?;
    ///
    /// // Bytes 0x180..0x1ff of the page at 0x4000 become read-only.
    /// let map = SubpageMap::ALL_WRITABLE.with_denied(3)?;
    /// vm.set_subpage_maps(0x4000, &[map])?;
    ///
    /// let mut read = [SubpageMap::default(); 2];
    /// vm.get_subpage_maps(0x4000, &mut read)?;
    /// assert_eq!(read, [map, SubpageMap::ALL_WRITABLE]);
    /// # Ok(())
    /// # }
    /// ```
    fn set_subpage_maps(&self, address: u64, maps: &[SubpageMap]) -> Result<()> {
        let mut request = SubpageRequest::new(address, maps.len())?;
        for (slot, map) in request.maps.iter_mut().zip(maps) {
            *slot = map.bits();
        }
        let fd = self.as_raw_fd();
        // SAFETY: `fd` is the KVM VM fd of `self` (the trait is sealed to
        // `VmFd`), or an invalid fd, which the kernel refuses with EBADF.
        // For this request KVM reads the header and `header.npages` maps
        // after it; `request` is the header followed by
        // `KVM_SUBPAGE_MAX_PAGES >= npages` maps (checked by
        // `SubpageRequest::new`) and outlives the call.
        let ret = unsafe { ioctl_with_ref(&fd, uapi::KVM_SET_SUBPAGE_WRITE_ACCESS, &request) };
        if ret == 0 {
            Ok(())
        } else {
            Err(Error::last("KVM_SET_SUBPAGE_WRITE_ACCESS"))
        }
    }

    /// Reads the maps of the pages of `[address, address + maps.len() *
    /// 4096)` into `maps`: `KVM_GET_SUBPAGE_WRITE_ACCESS`.
    ///
    /// Validated as [`set_subpage_maps`](Self::set_subpage_maps). A page
    /// never protected, or unprotected since, reads as all ones. Needs no
    /// mode: before one is enabled every page reads as all ones. On an
    /// error `maps` may have been written in part.
    fn get_subpage_maps(&self, address: u64, maps: &mut [SubpageMap]) -> Result<()> {
        let mut request = SubpageRequest::new(address, maps.len())?;
        let fd = self.as_raw_fd();
        // SAFETY: `fd` is the KVM VM fd of `self` (the trait is sealed to
        // `VmFd`), or an invalid fd, which the kernel refuses with EBADF.
        // For this request KVM reads the header and writes `header.npages`
        // maps after it; `request` is the header followed by
        // `KVM_SUBPAGE_MAX_PAGES >= npages` maps (checked by
        // `SubpageRequest::new`), borrowed mutably for the whole call.
        let ret =
            unsafe { ioctl_with_mut_ref(&fd, uapi::KVM_GET_SUBPAGE_WRITE_ACCESS, &mut request) };
        if ret != 0 {
            return Err(Error::last("KVM_GET_SUBPAGE_WRITE_ACCESS"));
        }
        for (map, &bits) in maps.iter_mut().zip(request.maps.iter()) {
            *map = SubpageMap::from_bits(bits);
        }
        Ok(())
    }
}

impl MemattrVmFd for VmFd {}

/// Checks a range of pages as `KVM_SET_MEMORY_ATTRIBUTES` does.
fn check_range(address: u64, size: u64) -> Result<()> {
    if size == 0 {
        return Err(Error::EmptyRange);
    }
    // It must end below 2^64: an end of exactly 2^64 wraps to 0 too.
    if address.checked_add(size).is_none() {
        return Err(Error::RangeOverflow { address, size });
    }
    if address % PAGE_SIZE != 0 {
        return Err(Error::UnalignedAddress(address));
    }
    if size % PAGE_SIZE != 0 {
        return Err(Error::UnalignedSize(size));
    }
    Ok(())
}

/// The run KVM answered for `[address, address + asked)`: `size` must be a
/// non-zero multiple of 4 KiB, at most `asked`, and `bits` known.
pub(crate) fn checked_run(address: u64, asked: u64, size: u64, bits: u64) -> Result<AttributeRun> {
    if size == 0 || size % PAGE_SIZE != 0 || size > asked {
        return Err(Error::InvalidRun {
            address,
            size,
            asked,
        });
    }
    Ok(AttributeRun {
        address,
        size,
        attributes: Attributes::try_from(bits)?,
    })
}

/// `KVM_CHECK_EXTENSION(cap)` on the VM fd `fd`.
fn check_extension(fd: RawFd, cap: u32) -> Result<i32> {
    // SAFETY: `fd` is a KVM VM fd, or an invalid fd, which the kernel
    // refuses with EBADF. KVM_CHECK_EXTENSION takes its argument by value
    // and touches no memory of ours.
    let ret = unsafe { ioctl_with_val(&fd, uapi::KVM_CHECK_EXTENSION, c_ulong::from(cap)) };
    if ret < 0 {
        Err(Error::last("KVM_CHECK_EXTENSION"))
    } else {
        Ok(ret)
    }
}

/// `KVM_ENABLE_CAP(cap)` with `args[0] = arg0`, flags and the other
/// arguments 0, on the VM fd `fd`.
fn enable_cap(fd: RawFd, cap: u32, arg0: u64) -> Result<()> {
    let request = kvm_enable_cap {
        cap,
        args: [arg0, 0, 0, 0],
        ..Default::default()
    };
    // SAFETY: `fd` is a KVM VM fd, or an invalid fd, which the kernel
    // refuses with EBADF. For this request KVM reads one `kvm_enable_cap`,
    // which `request` is and which outlives the call.
    let ret = unsafe { ioctl_with_ref(&fd, uapi::KVM_ENABLE_CAP, &request) };
    if ret == 0 {
        Ok(())
    } else {
        Err(Error::last("KVM_ENABLE_CAP"))
    }
}

/// A `kvm_subpage_write_access` followed by room for the most maps one
/// request may carry, so that no length arithmetic is needed: KVM reads or
/// writes only the first `npages`. 2080 bytes.
#[repr(C)]
struct SubpageRequest {
    header: kvm_subpage_write_access,
    maps: [u32; uapi::KVM_SUBPAGE_MAX_PAGES],
}

impl SubpageRequest {
    /// The request for `npages` pages from `address`, checked as KVM checks
    /// it: `npages` in 1..=512, `address` aligned, the end below 2^64.
    fn new(address: u64, npages: usize) -> Result<Self> {
        if npages == 0 || npages > uapi::KVM_SUBPAGE_MAX_PAGES {
            return Err(Error::PageCount(npages));
        }
        if address % PAGE_SIZE != 0 {
            return Err(Error::UnalignedAddress(address));
        }
        // At most 512 pages: 2 MiB, no overflow of the product.
        let size = npages as u64 * PAGE_SIZE;
        if address.checked_add(size).is_none() {
            return Err(Error::RangeOverflow { address, size });
        }
        Ok(SubpageRequest {
            header: kvm_subpage_write_access {
                address,
                // At most 512: the cast keeps it.
                npages: npages as u32,
                ..Default::default()
            },
            maps: [u32::MAX; uapi::KVM_SUBPAGE_MAX_PAGES],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};
    use std::os::fd::AsRawFd;

    /// A VM fd that is no fd at all: every ioctl fails with EBADF, so each
    /// method's error path runs without KVM (kvm-ioctls'
    /// `test_faulty_vm_fd`). It owns nothing, so nothing closes -1.
    struct FaultyVm;

    impl AsRawFd for FaultyVm {
        fn as_raw_fd(&self) -> RawFd {
            -1
        }
    }
    impl private::Sealed for FaultyVm {}
    impl MemattrVmFd for FaultyVm {}

    fn ebadf(ioctl: &'static str) -> Error {
        Error::Ioctl {
            ioctl,
            source: vmm_sys_util::errno::Error::new(libc::EBADF),
        }
    }

    #[test]
    fn faulty_vm_fd_reports_ebadf_from_every_ioctl() {
        let vm = FaultyVm;
        let check = ebadf("KVM_CHECK_EXTENSION");
        let enable = ebadf("KVM_ENABLE_CAP");
        assert_eq!(vm.memattr_bound(), Err(check));
        assert_eq!(vm.supported_attributes(), Err(check));
        assert_eq!(vm.emulated_modes_supported(), Err(check));
        assert_eq!(vm.subpage_modes(), Err(check));
        assert_eq!(vm.enable_emulated_modes(), Err(enable));
        assert_eq!(vm.enable_subpage_mode(SubpageMode::Software), Err(enable));
        assert_eq!(vm.enable_subpage_mode(SubpageMode::Hardware), Err(enable));
        assert_eq!(
            vm.set_attributes(0x1000, 0x1000, Attributes::NO_WRITE),
            Err(ebadf("KVM_SET_MEMORY_ATTRIBUTES"))
        );
        let get = ebadf("KVM_GET_MEMORY_ATTRIBUTES");
        assert_eq!(vm.get_attributes(0x1000, 0x1000), Err(get));
        let mut runs = vm.attribute_runs(0, 0x10000).unwrap();
        assert_eq!(runs.next(), Some(Err(get)));
        assert_eq!(runs.next(), None);
        assert_eq!(
            vm.set_subpage_maps(0x1000, &[SubpageMap::NONE_WRITABLE]),
            Err(ebadf("KVM_SET_SUBPAGE_WRITE_ACCESS"))
        );
        let mut maps = [SubpageMap::NONE_WRITABLE; 512];
        assert_eq!(
            vm.get_subpage_maps(0x1000, &mut maps),
            Err(ebadf("KVM_GET_SUBPAGE_WRITE_ACCESS"))
        );
        // Nothing was written on failure.
        assert!(maps.iter().all(|m| *m == SubpageMap::NONE_WRITABLE));
    }

    #[test]
    fn faulty_vm_fd_accepts_the_limits() {
        // Arguments at the edges pass the checks and reach the ioctl.
        let vm = FaultyVm;
        let top = u64::MAX - 0xfff - 0x1000; // the last page below 2^64 - 4 KiB
        let set = ebadf("KVM_SET_MEMORY_ATTRIBUTES");
        assert_eq!(
            vm.set_attributes(top, 0x1000, Attributes::empty()),
            Err(set)
        );
        assert_eq!(
            vm.set_attributes(0, u64::MAX - 0xfff, Attributes::all()),
            Err(set)
        );
        let maps = [SubpageMap::ALL_WRITABLE; 512];
        let end = u64::MAX - 0xfff - 512 * 4096;
        assert_eq!(
            vm.set_subpage_maps(end, &maps),
            Err(ebadf("KVM_SET_SUBPAGE_WRITE_ACCESS"))
        );
        assert_eq!(
            vm.set_subpage_maps(0, &maps[..1]),
            Err(ebadf("KVM_SET_SUBPAGE_WRITE_ACCESS"))
        );
    }

    #[test]
    fn ranges_are_checked_before_the_ioctl() {
        let vm = FaultyVm;
        let cases = [
            (0x1000, 0, Error::EmptyRange),
            (0x1001, 0x1000, Error::UnalignedAddress(0x1001)),
            (0x1000, 0x800, Error::UnalignedSize(0x800)),
            (
                u64::MAX - 0xfff,
                0x1000,
                Error::RangeOverflow {
                    address: u64::MAX - 0xfff,
                    size: 0x1000,
                },
            ),
            (
                0x2000,
                u64::MAX - 0xfff,
                Error::RangeOverflow {
                    address: 0x2000,
                    size: u64::MAX - 0xfff,
                },
            ),
        ];
        for (address, size, e) in cases {
            assert_eq!(
                vm.set_attributes(address, size, Attributes::NO_WRITE),
                Err(e)
            );
            assert_eq!(vm.get_attributes(address, size), Err(e));
            assert_eq!(vm.attribute_runs(address, size).map(|_| ()), Err(e));
        }
    }

    #[test]
    fn subpage_requests_are_checked_before_the_ioctl() {
        let vm = FaultyVm;
        let mut maps = vec![SubpageMap::ALL_WRITABLE; 513];
        for n in [0, 513] {
            assert_eq!(vm.set_subpage_maps(0, &maps[..n]), Err(Error::PageCount(n)));
            assert_eq!(
                vm.get_subpage_maps(0, &mut maps[..n]),
                Err(Error::PageCount(n))
            );
        }
        let e = Error::UnalignedAddress(0x1080);
        assert_eq!(vm.set_subpage_maps(0x1080, &maps[..1]), Err(e));
        assert_eq!(vm.get_subpage_maps(0x1080, &mut maps[..1]), Err(e));
        // Ending exactly at 2^64 wraps, as KVM sees it.
        let last = u64::MAX - 0xfff;
        let e = Error::RangeOverflow {
            address: last,
            size: 0x1000,
        };
        assert_eq!(vm.set_subpage_maps(last, &maps[..1]), Err(e));
        assert_eq!(vm.get_subpage_maps(last, &mut maps[..1]), Err(e));
    }

    #[test]
    fn subpage_request_layout() {
        assert_eq!(offset_of!(SubpageRequest, maps), 32);
        assert_eq!(
            offset_of!(SubpageRequest, maps),
            offset_of!(kvm_subpage_write_access, access_map)
        );
        assert_eq!(size_of::<SubpageRequest>(), 32 + 4 * 512);
        let request = SubpageRequest::new(0x7000, 3).unwrap();
        assert_eq!(
            request.header,
            kvm_subpage_write_access {
                address: 0x7000,
                npages: 3,
                flags: 0,
                reserved: [0, 0],
                access_map: [],
            }
        );
    }

    #[test]
    fn kernel_runs_are_checked() {
        assert_eq!(
            checked_run(0x1000, 0x3000, 0x2000, 0x2),
            Ok(AttributeRun {
                address: 0x1000,
                size: 0x2000,
                attributes: Attributes::NO_WRITE
            })
        );
        for size in [0, 0x1800, 0x4000] {
            assert_eq!(
                checked_run(0x1000, 0x3000, size, 0),
                Err(Error::InvalidRun {
                    address: 0x1000,
                    size,
                    asked: 0x3000
                })
            );
        }
        assert_eq!(
            checked_run(0x1000, 0x3000, 0x1000, 0x12),
            Err(Error::UnknownAttributes(0x10))
        );
    }
}
