// SPDX-License-Identifier: GPL-2.0

//! Which attribute values a VM accepts, and what they leave the guest.
//!
//! Protections are inverted bits: a set bit takes a permission away.  The
//! effective permission of a page is the memslot's permission minus what its
//! attributes take away; attributes never grant anything.

use crate::uapi::{
    KVM_MEMORY_ATTRIBUTE_NO_EXEC, KVM_MEMORY_ATTRIBUTE_NO_READ, KVM_MEMORY_ATTRIBUTE_NO_WRITE,
    KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEMORY_EXIT_FLAG_EXEC, KVM_MEMORY_EXIT_FLAG_READ,
    KVM_MEMORY_EXIT_FLAG_WRITE,
};

/// The protection bits.
pub(crate) const PROTECTIONS: u64 =
    KVM_MEMORY_ATTRIBUTE_NO_READ | KVM_MEMORY_ATTRIBUTE_NO_WRITE | KVM_MEMORY_ATTRIBUTE_NO_EXEC;

/// What a VM can do: what its MMU can express, as KVM reports it when the
/// VM is bound, and what userspace opted into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VmCaps {
    /// Leaves can be execute-only: EPT with execute-only support.
    pub(crate) exec_only: bool,
    /// The VM type has private memory (upstream's PRIVATE attribute).
    pub(crate) private_mem: bool,
    /// Writes without reads are allowed and completed by KVM's emulator
    /// (`KVM_CAP_MEMORY_ATTRIBUTES_EMULATED` is enabled).
    pub(crate) emulated_writes: bool,
}

/// Why an attribute value is refused.  Every reason maps to `EINVAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// A bit that this VM does not know.
    UnknownBits,
    /// Write permission without read permission: no MMU can map it, and
    /// the emulated access modes are not enabled.
    WriteWithoutRead,
    /// Execute permission without read permission, on an MMU without
    /// execute-only leaves: no emulator can run a guest's code.
    ExecOnlyUnsupported,
}

/// The permissions a page keeps under some attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Access {
    pub(crate) read: bool,
    pub(crate) write: bool,
    pub(crate) exec: bool,
}

impl Access {
    /// What attributes leave of full access.
    pub(crate) const fn of(attributes: u64) -> Self {
        Self {
            read: attributes & KVM_MEMORY_ATTRIBUTE_NO_READ == 0,
            write: attributes & KVM_MEMORY_ATTRIBUTE_NO_WRITE == 0,
            exec: attributes & KVM_MEMORY_ATTRIBUTE_NO_EXEC == 0,
        }
    }

    /// The permissions as `ACCESS_*` bits.
    pub(crate) const fn bits(self) -> u32 {
        let mut bits = 0;
        if self.read {
            bits |= ACCESS_READ;
        }
        if self.write {
            bits |= ACCESS_WRITE;
        }
        if self.exec {
            bits |= ACCESS_EXEC;
        }
        bits
    }
}

/// The bits that `KVM_CHECK_EXTENSION(KVM_CAP_MEMORY_ATTRIBUTES)` reports.
///
/// NO_READ is advertised only where a page can keep a permission without
/// read: execute-only EPT, or writes completed by the emulator.  "No access"
/// is accepted everywhere nonetheless, since it needs no readable bit at all.
pub(crate) const fn supported(caps: VmCaps) -> u64 {
    let mut bits = KVM_MEMORY_ATTRIBUTE_NO_WRITE | KVM_MEMORY_ATTRIBUTE_NO_EXEC;
    if caps.exec_only || caps.emulated_writes {
        bits |= KVM_MEMORY_ATTRIBUTE_NO_READ;
    }
    if caps.private_mem {
        bits |= KVM_MEMORY_ATTRIBUTE_PRIVATE;
    }
    bits
}

/// Checks that `attributes` is a value this VM accepts.
pub(crate) fn validate(attributes: u64, caps: VmCaps) -> Result<(), Invalid> {
    let known = supported(caps) | PROTECTIONS;
    if attributes & !known != 0 {
        return Err(Invalid::UnknownBits);
    }
    let access = Access::of(attributes);
    if access.write && !access.read && !caps.emulated_writes {
        return Err(Invalid::WriteWithoutRead);
    }
    if access.exec && !access.read && !caps.exec_only {
        return Err(Invalid::ExecOnlyUnsupported);
    }
    Ok(())
}

/// Access rights as KVM's hooks pass them (`KVM_MEMATTR_ACCESS_*` in
/// `<linux/kvm_memattr_ops.h>`): one bit for an access, a mask for rights.
pub(crate) const ACCESS_READ: u32 = 1 << 0;
/// See [`ACCESS_READ`].
pub(crate) const ACCESS_WRITE: u32 = 1 << 1;
/// See [`ACCESS_READ`].
pub(crate) const ACCESS_EXEC: u32 = 1 << 2;
/// In the rights of a leaf only: the leaf grants no write, but the CPU
/// decides writes through it by sub-page (`KVM_MEMATTR_ACCESS_SUBPAGE_WRITE`).
pub(crate) const ACCESS_SUBPAGE_WRITE: u32 = 1 << 3;

/// The rights that a leaf (the EPT/NPT or shadow page table entry that maps
/// a page) may grant under `attributes`, on the VM's MMU.
///
/// No MMU builds a leaf that grants write without read: EPT calls it a
/// misconfiguration, and on NPT and shadow paging a present leaf is always
/// readable.  Without read, the only leaf that grants anything is EPT's
/// execute-only leaf; writes that the attributes allow without read (the
/// emulated access modes) are not mapped, and KVM's emulator completes them.
pub(crate) const fn leaf_rights(attributes: u64, caps: VmCaps) -> u32 {
    let rights = Access::of(attributes);
    if rights.read {
        rights.bits()
    } else if rights.exec && caps.exec_only {
        ACCESS_EXEC
    } else {
        0
    }
}

/// What KVM does with a guest access to a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FaultVerdict {
    /// The rights a leaf mapping the page may grant ([`leaf_rights`]).
    pub(crate) leaf: u32,
    /// Nonzero if the access is denied: the `memory_fault.flags` of the
    /// exit.  An allowed access that `leaf` lacks is emulated.
    pub(crate) exit_flags: u64,
}

/// Decides a guest access (one `ACCESS_*` bit) to a page with `attributes`.
#[inline]
pub(crate) const fn fault_verdict(attributes: u64, access: u32, caps: VmCaps) -> FaultVerdict {
    // Most pages have no attributes: every access allowed, every right.
    if attributes == 0 {
        return FaultVerdict {
            leaf: ACCESS_READ | ACCESS_WRITE | ACCESS_EXEC,
            exit_flags: 0,
        };
    }
    let exit_flags = if Access::of(attributes).bits() & access != 0 {
        0
    } else if access & ACCESS_EXEC != 0 {
        KVM_MEMORY_EXIT_FLAG_EXEC
    } else if access & ACCESS_WRITE != 0 {
        KVM_MEMORY_EXIT_FLAG_WRITE
    } else {
        KVM_MEMORY_EXIT_FLAG_READ
    };
    FaultVerdict {
        leaf: leaf_rights(attributes, caps),
        exit_flags,
    }
}
