// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause

#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![deny(clippy::undocumented_unsafe_blocks)]

//! Typed wrappers for kvm-memattr, a Linux KVM extension that lets a VMM
//! control how its guest may touch memory, page by page and by 128-byte
//! sub-page, and tells it which access a guest made when it was denied.
//!
//! The crate sits on top of [`kvm_ioctls`]:
//!
//! - [`MemattrVmFd`], implemented for [`kvm_ioctls::VmFd`]: the attributes
//!   a VM accepts, setting them, reading them back as [`Runs`], the
//!   emulated access modes, the sub-page modes and maps;
//! - [`MemoryFault`]: `VcpuExit::MemoryFault { flags, gpa, size }` decoded
//!   into the access that was denied, or upstream's private/shared
//!   conversion;
//! - [`Attributes`], [`Access`], [`SubpageMap`]: the values, typed;
//! - [`uapi`]: the raw numbers and structures of `<linux/kvm_memattr.h>`.
//!
//! The extension exists while the `kvm_memattr` module is loaded, and a VM
//! uses it only if it was created meanwhile:
//! [`MemattrVmFd::memattr_bound`] says. The semantics of every ioctl are in
//! `Documentation/virt/kvm/memattr/api.rst` of the kvm-memattr tree.
//!
//! # Example: what a VMM does with a memory fault
//!
//! ```
//! use kvm_ioctls::VcpuExit;
//! use kvm_memattr::{uapi, FaultAccess, MemoryFault, SubpageMap};
//!
//! // What `VcpuFd::run()` returns when a sub-page map denied a write.
//! let exit = VcpuExit::MemoryFault {
//!     flags: uapi::KVM_MEMORY_EXIT_FLAG_WRITE | uapi::KVM_MEMORY_EXIT_FLAG_SUBPAGE,
//!     gpa: 0x4180,
//!     size: 128,
//! };
//! let fault = MemoryFault::from_exit(&exit).unwrap();
//! assert_eq!(fault.access, FaultAccess::Write);
//! assert_eq!(fault.to_string(), "write denied at gpa 0x4180 size 0x80 (sub-page 3)");
//!
//! // To let the guest go on, give the write permission back and run again:
//! // KVM retries the instruction.
//! let old = SubpageMap::ALL_WRITABLE.with_denied(3).unwrap();
//! let relaxed = old.with_allowed(fault.subpage_index().unwrap()).unwrap();
//! assert!(relaxed.is_unprotected());
//! // vm.set_subpage_maps(fault.page(), &[relaxed])?;
//! ```
//!
//! # Example: protecting a page
//!
//! ```no_run
//! use kvm_ioctls::{Kvm, VcpuExit};
//! use kvm_memattr::{Attributes, FaultAccess, MemattrVmFd, MemoryFault};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let kvm = Kvm::new()?;
//! let vm = kvm.create_vm()?;
//! if !vm.supported_attributes()?.contains(Attributes::NO_WRITE) {
//!     return Err("kvm_memattr is not loaded".into());
//! }
//! // ... memslots, a vCPU, guest code ...
//! # let mut vcpu = vm.create_vcpu(0)?;
//! vm.set_attributes(0x4000, 0x1000, Attributes::NO_WRITE)?;
//! loop {
//!     match vcpu.run()? {
//!         VcpuExit::Hlt => break,
//!         exit @ VcpuExit::MemoryFault { .. } => {
//!             let fault = MemoryFault::from_exit(&exit)?;
//!             println!("{fault}");
//!             if fault.access == FaultAccess::Write {
//!                 // Allow it: KVM_RUN retries the write.
//!                 vm.set_attributes(fault.page(), 0x1000, Attributes::empty())?;
//!             }
//!         }
//!         exit => return Err(format!("unexpected exit {exit:?}").into()),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! `examples/protect_guest.rs` runs a real-mode guest through both kinds
//! of protection end to end.

mod attributes;
mod error;
mod exit;
mod runs;
mod subpage;
pub mod uapi;
mod vm_ext;

pub use attributes::{Access, Attributes};
pub use error::{Error, Result};
pub use exit::{FaultAccess, MemoryFault};
pub use runs::{AttributeRun, Runs};
pub use subpage::{
    SubpageMap, SubpageMode, SubpageModes, SUBPAGES_PER_PAGE, SUBPAGE_MAX_PAGES, SUBPAGE_SIZE,
};
pub use vm_ext::MemattrVmFd;

// The README's example, compiled (not run) by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
