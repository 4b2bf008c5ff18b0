// SPDX-License-Identifier: GPL-2.0

//! kvm_memattr: page- and sub-page-granular memory attributes for KVM guests.
//!
//! The module registers itself with KVM as the memory attribute provider of
//! the VMs created while it is loaded.  See
//! `Documentation/virt/kvm/memattr/architecture.rst` for the layers.

mod attributes;
mod debugfs;
mod get_ioctl;
mod module_counts;
mod module_state;
mod provider;
mod range;
mod run_map;
mod seq_file;
mod spp_entry;
mod spp_table;
mod store;
mod subpage;
mod subpage_ioctl;
mod subpage_store;
mod uapi;
mod vm;
mod vm_report;
mod xarray;

use kernel::prelude::*;
use module_state::KvmMemattr;

module! {
    type: KvmMemattr,
    name: "kvm_memattr",
    author: "kvm-memattr developers",
    description: "Memory protection attributes for KVM guests",
    license: "GPL",
}
