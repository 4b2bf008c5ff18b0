// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause

//! `KVM_EXIT_MEMORY_FAULT`, decoded.
//!
//! `KVM_RUN` returns -1 with `EFAULT` and `KVM_EXIT_MEMORY_FAULT` when the
//! guest made an access its attributes or a sub-page map deny, and, as
//! upstream, when a guest's private or shared access needs the VMM to
//! convert the page. kvm-ioctls hands the exit over as
//! [`VcpuExit::MemoryFault`] with the raw `flags`, `gpa` and `size`;
//! [`MemoryFault::decode`] says what they mean, and refuses flags this crate
//! does not know rather than guessing.
//!
//! What a VMM does with each: for a denied access, decide (relax the
//! attributes or the map and run again, or stop the guest): `KVM_RUN`
//! retries the instruction, never skips it, and exits again while the
//! access stays denied. For a conversion, as upstream: set or clear
//! `PRIVATE` on the range and run again.

use crate::error::{Error, Result};
use crate::uapi;
use kvm_ioctls::VcpuExit;
use std::fmt;

/// Which access a `KVM_EXIT_MEMORY_FAULT` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultAccess {
    /// A read denied by `NO_READ` (also a page-table read by KVM's page
    /// walker).
    Read,
    /// A write denied by `NO_WRITE`, or by a sub-page map.
    Write,
    /// An instruction fetch denied by `NO_EXEC`.
    Exec,
    /// Upstream's private/shared conversion request: no protection was
    /// involved; [`MemoryFault::private`] says whether the guest wants the
    /// range private (set) or shared (clear).
    Conversion,
}

/// A decoded `KVM_EXIT_MEMORY_FAULT`.
///
/// # Example
///
/// ```
/// use kvm_memattr::{uapi, FaultAccess, MemoryFault};
///
/// let flags = uapi::KVM_MEMORY_EXIT_FLAG_WRITE | uapi::KVM_MEMORY_EXIT_FLAG_SUBPAGE;
/// let fault = MemoryFault::decode(flags, 0x4180, 128).unwrap();
/// assert_eq!(fault.access, FaultAccess::Write);
/// assert!(fault.subpage);
/// assert_eq!(fault.page(), 0x4000);
/// assert_eq!(fault.subpage_index(), Some(3));
/// assert_eq!(fault.flags(), flags);
///
/// // A bit this crate does not know is refused, not ignored.
/// assert!(MemoryFault::decode(1 << 5, 0x4000, 4096).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryFault {
    /// The access that was denied, or a conversion.
    pub access: FaultAccess,
    /// The access was private (`KVM_MEMORY_EXIT_FLAG_PRIVATE`); for a
    /// conversion, the guest wants the range private.
    pub private: bool,
    /// A sub-page map denied the write (`KVM_MEMORY_EXIT_FLAG_SUBPAGE`):
    /// `gpa` is the first denied 128-byte sub-page the write touches and
    /// `size` is 128. Otherwise `gpa` and `size` are the page (or, for a
    /// conversion, the range).
    pub subpage: bool,
    /// Guest-physical address, as KVM reported it.
    pub gpa: u64,
    /// Size in bytes, as KVM reported it.
    pub size: u64,
}

/// The flags this crate knows.
const KNOWN: u64 = uapi::KVM_MEMORY_EXIT_FLAG_READ
    | uapi::KVM_MEMORY_EXIT_FLAG_WRITE
    | uapi::KVM_MEMORY_EXIT_FLAG_EXEC
    | uapi::KVM_MEMORY_EXIT_FLAG_PRIVATE
    | uapi::KVM_MEMORY_EXIT_FLAG_SUBPAGE;

impl MemoryFault {
    /// Decodes the `flags`, `gpa` and `size` of a `KVM_EXIT_MEMORY_FAULT`.
    ///
    /// Refuses flags with a bit this crate does not know
    /// ([`Error::UnknownFaultFlags`]), and flags with more than one of
    /// READ, WRITE and EXEC or with SUBPAGE but not WRITE
    /// ([`Error::InvalidFaultFlags`]). `gpa` and `size` are kept as KVM
    /// reported them.
    pub fn decode(flags: u64, gpa: u64, size: u64) -> Result<Self> {
        if flags & !KNOWN != 0 {
            return Err(Error::UnknownFaultFlags(flags));
        }
        let has = |flag| flags & flag != 0;
        let access = match (
            has(uapi::KVM_MEMORY_EXIT_FLAG_READ),
            has(uapi::KVM_MEMORY_EXIT_FLAG_WRITE),
            has(uapi::KVM_MEMORY_EXIT_FLAG_EXEC),
        ) {
            (false, false, false) => FaultAccess::Conversion,
            (true, false, false) => FaultAccess::Read,
            (false, true, false) => FaultAccess::Write,
            (false, false, true) => FaultAccess::Exec,
            _ => return Err(Error::InvalidFaultFlags(flags)),
        };
        let subpage = has(uapi::KVM_MEMORY_EXIT_FLAG_SUBPAGE);
        if subpage && access != FaultAccess::Write {
            return Err(Error::InvalidFaultFlags(flags));
        }
        Ok(MemoryFault {
            access,
            private: has(uapi::KVM_MEMORY_EXIT_FLAG_PRIVATE),
            subpage,
            gpa,
            size,
        })
    }

    /// Decodes `exit` if it is [`VcpuExit::MemoryFault`];
    /// [`Error::NotMemoryFault`] for any other exit.
    pub fn from_exit(exit: &VcpuExit<'_>) -> Result<Self> {
        match *exit {
            VcpuExit::MemoryFault { flags, gpa, size } => Self::decode(flags, gpa, size),
            _ => Err(Error::NotMemoryFault),
        }
    }

    /// The flags KVM sent.
    pub const fn flags(&self) -> u64 {
        let mut flags = match self.access {
            FaultAccess::Read => uapi::KVM_MEMORY_EXIT_FLAG_READ,
            FaultAccess::Write => uapi::KVM_MEMORY_EXIT_FLAG_WRITE,
            FaultAccess::Exec => uapi::KVM_MEMORY_EXIT_FLAG_EXEC,
            FaultAccess::Conversion => 0,
        };
        if self.private {
            flags |= uapi::KVM_MEMORY_EXIT_FLAG_PRIVATE;
        }
        if self.subpage {
            flags |= uapi::KVM_MEMORY_EXIT_FLAG_SUBPAGE;
        }
        flags
    }

    /// The guest-physical address of the 4 KiB page that holds `gpa`.
    pub const fn page(&self) -> u64 {
        self.gpa & !(uapi::PAGE_SIZE - 1)
    }

    /// For a sub-page fault, the index of the denied sub-page in its page,
    /// as [`SubpageMap`](crate::SubpageMap) counts them.
    pub const fn subpage_index(&self) -> Option<usize> {
        if self.subpage {
            // Below 32: the cast keeps it.
            Some(((self.gpa % uapi::PAGE_SIZE) / uapi::KVM_SUBPAGE_SIZE) as usize)
        } else {
            None
        }
    }
}

impl TryFrom<&VcpuExit<'_>> for MemoryFault {
    type Error = Error;

    /// As [`MemoryFault::from_exit`].
    fn try_from(exit: &VcpuExit<'_>) -> Result<Self> {
        Self::from_exit(exit)
    }
}

impl fmt::Display for MemoryFault {
    /// One line, e.g. `write denied at gpa 0x4180 size 0x80 (sub-page 3)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let private = if self.private { "private " } else { "" };
        match self.access {
            FaultAccess::Conversion => {
                let to = if self.private { "private" } else { "shared" };
                write!(f, "conversion to {to}")?
            }
            FaultAccess::Read => write!(f, "{private}read denied")?,
            FaultAccess::Write => write!(f, "{private}write denied")?,
            FaultAccess::Exec => write!(f, "{private}exec denied")?,
        }
        write!(f, " at gpa {:#x} size {:#x}", self.gpa, self.size)?;
        if let Some(index) = self.subpage_index() {
            write!(f, " (sub-page {index})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uapi::{
        KVM_MEMORY_EXIT_FLAG_EXEC as EXEC, KVM_MEMORY_EXIT_FLAG_PRIVATE as PRIVATE,
        KVM_MEMORY_EXIT_FLAG_READ as READ, KVM_MEMORY_EXIT_FLAG_SUBPAGE as SUBPAGE,
        KVM_MEMORY_EXIT_FLAG_WRITE as WRITE,
    };

    /// What decode() must answer for the known bits, written out from
    /// api.rst: at most one access; SUBPAGE only with WRITE.
    fn model(flags: u64) -> Option<(FaultAccess, bool, bool)> {
        let accesses = [
            (READ, FaultAccess::Read),
            (WRITE, FaultAccess::Write),
            (EXEC, FaultAccess::Exec),
        ];
        let set: Vec<_> = accesses
            .iter()
            .filter(|(bit, _)| flags & bit != 0)
            .collect();
        let access = match set.as_slice() {
            [] => FaultAccess::Conversion,
            [(_, access)] => *access,
            _ => return None,
        };
        let subpage = flags & SUBPAGE != 0;
        if subpage && access != FaultAccess::Write {
            return None;
        }
        Some((access, flags & PRIVATE != 0, subpage))
    }

    #[test]
    fn every_combination_of_known_flags() {
        for flags in 0..32 {
            let decoded = MemoryFault::decode(flags, 0x1000, 0x1000);
            match model(flags) {
                Some((access, private, subpage)) => {
                    let fault = decoded.unwrap();
                    assert_eq!(
                        (fault.access, fault.private, fault.subpage),
                        (access, private, subpage),
                        "{flags:#x}"
                    );
                    assert_eq!(fault.flags(), flags, "round trip of {flags:#x}");
                }
                None => assert_eq!(decoded, Err(Error::InvalidFaultFlags(flags))),
            }
        }
    }

    #[test]
    fn every_unknown_bit_is_refused() {
        for shift in 5..64 {
            for known in [0, WRITE, WRITE | SUBPAGE, READ | PRIVATE] {
                let flags = known | 1 << shift;
                assert_eq!(
                    MemoryFault::decode(flags, 0, 4096),
                    Err(Error::UnknownFaultFlags(flags))
                );
            }
        }
    }

    #[test]
    fn the_exits_kvm_memattr_sends() {
        let page = MemoryFault::decode(WRITE, 0xc000_0000, 4096).unwrap();
        assert_eq!(
            page,
            MemoryFault {
                access: FaultAccess::Write,
                private: false,
                subpage: false,
                gpa: 0xc000_0000,
                size: 4096
            }
        );
        assert_eq!(page.subpage_index(), None);
        assert_eq!(page.page(), 0xc000_0000);
        assert_eq!(
            page.to_string(),
            "write denied at gpa 0xc0000000 size 0x1000"
        );

        let sub = MemoryFault::decode(WRITE | SUBPAGE, 0x1_0000_0f80, 128).unwrap();
        assert_eq!(sub.subpage_index(), Some(31));
        assert_eq!(sub.page(), 0x1_0000_0000);
        assert_eq!(
            sub.to_string(),
            "write denied at gpa 0x100000f80 size 0x80 (sub-page 31)"
        );

        let read = MemoryFault::decode(READ | PRIVATE, 0x2000, 4096).unwrap();
        assert_eq!(
            read.to_string(),
            "private read denied at gpa 0x2000 size 0x1000"
        );
        let exec = MemoryFault::decode(EXEC, 0x3000, 4096).unwrap();
        assert_eq!(exec.access, FaultAccess::Exec);
    }

    #[test]
    fn upstream_conversions() {
        let to_private = MemoryFault::decode(PRIVATE, 0x5000, 4096).unwrap();
        assert_eq!(to_private.access, FaultAccess::Conversion);
        assert!(to_private.private);
        assert_eq!(
            to_private.to_string(),
            "conversion to private at gpa 0x5000 size 0x1000"
        );
        let to_shared = MemoryFault::decode(0, 0x5000, 4096).unwrap();
        assert!(!to_shared.private);
        assert_eq!(
            to_shared.to_string(),
            "conversion to shared at gpa 0x5000 size 0x1000"
        );
    }

    #[test]
    fn from_vcpu_exits() {
        let exit = VcpuExit::MemoryFault {
            flags: WRITE | SUBPAGE,
            gpa: 0x4180,
            size: 128,
        };
        let fault = MemoryFault::try_from(&exit).unwrap();
        assert_eq!((fault.gpa, fault.size, fault.subpage), (0x4180, 128, true));
        assert_eq!(
            MemoryFault::from_exit(&VcpuExit::Hlt),
            Err(Error::NotMemoryFault)
        );
        let bad = VcpuExit::MemoryFault {
            flags: READ | WRITE,
            gpa: 0,
            size: 4096,
        };
        assert_eq!(
            MemoryFault::from_exit(&bad),
            Err(Error::InvalidFaultFlags(READ | WRITE))
        );
    }
}
