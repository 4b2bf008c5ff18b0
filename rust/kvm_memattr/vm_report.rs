// SPDX-License-Identifier: GPL-2.0

//! What a VM's debugfs file `memattr` shows: the VM's attribute runs and
//! its sub-page-protected pages, for a VMM developer to compare with what
//! the VMM believes it set.
//!
//! One line per run with attributes and per protected page, so its length
//! grows with the runs and the protected pages, never with the memory.

use crate::seq_file::SeqFile;
use crate::range::PAGE_SHIFT;
use crate::subpage::Mode;
use crate::uapi::{
    KVM_MEMORY_ATTRIBUTE_NO_EXEC, KVM_MEMORY_ATTRIBUTE_NO_READ, KVM_MEMORY_ATTRIBUTE_NO_WRITE,
    KVM_MEMORY_ATTRIBUTE_PRIVATE,
};
use crate::vm::VmContext;
use core::fmt::{self, Write};

/// The last gfn of the guest-physical address space.
const LAST_GFN: u64 = u64::MAX >> PAGE_SHIFT;

/// The attribute bits and their names, as the uAPI header spells them.
const ATTRIBUTE_NAMES: [(u64, &str); 4] = [
    (KVM_MEMORY_ATTRIBUTE_NO_READ, "NO_READ"),
    (KVM_MEMORY_ATTRIBUTE_NO_WRITE, "NO_WRITE"),
    (KVM_MEMORY_ATTRIBUTE_NO_EXEC, "NO_EXEC"),
    (KVM_MEMORY_ATTRIBUTE_PRIVATE, "PRIVATE"),
];

/// Prints the report of `vm` into `out`; fails only when `out` is full.
/// The caller keeps changes out (KVM holds `slots_lock`), so that the
/// report is of one moment.
pub(crate) fn show(vm: &VmContext, out: &mut SeqFile) -> fmt::Result {
    writeln!(out, "# attribute runs: gpa size attributes")?;
    let mut gfn = 0;
    loop {
        let (attributes, last) = vm.store.run_at(gfn, LAST_GFN);
        if attributes != 0 {
            write!(out, "{:#x} {:#x} {:#x}", gfn << PAGE_SHIFT, (last - gfn + 1) << PAGE_SHIFT,
                   attributes)?;
            write_names(out, attributes)?;
            writeln!(out)?;
        }
        if last == LAST_GFN {
            break;
        }
        gfn = last + 1;
    }

    let mode = match vm.subpage_mode() {
        None => "off",
        Some(Mode::Software) => "software",
        Some(Mode::Hardware) => "hardware",
    };
    writeln!(out, "# sub-page write protection: {mode}")?;
    writeln!(out, "# protected pages: gpa map-of-writable-sub-pages")?;
    for (gfn, map) in vm.subpages.protected() {
        writeln!(out, "{:#x} {:#010x}", gfn << PAGE_SHIFT, map.0)?;
    }
    Ok(())
}

/// Writes the names of the bits of `attributes`, `|`-separated, after a
/// space; bits without a name are shown in the number only.
fn write_names(out: &mut SeqFile, attributes: u64) -> fmt::Result {
    let mut separator = " ";
    for (bit, name) in ATTRIBUTE_NAMES {
        if attributes & bit != 0 {
            write!(out, "{separator}{name}")?;
            separator = "|";
        }
    }
    Ok(())
}
