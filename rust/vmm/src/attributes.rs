// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause

//! Typed memory attributes, and the accesses they leave the guest.
//!
//! KVM's protections are inverted bits: a set bit takes a permission away,
//! and no bit means "whatever the memslot allows". [`Attributes`] holds the
//! bits as KVM does; [`Access`] is the positive view, what a page still
//! allows. Attributes never grant more than the memslot does.

use crate::error::Error;
use crate::uapi;
use bitflags::Flags;
use std::fmt;

bitflags::bitflags! {
    /// A set of memory attributes, as `KVM_SET_MEMORY_ATTRIBUTES` takes and
    /// `KVM_GET_MEMORY_ATTRIBUTES` returns them.
    ///
    /// Which values a VM accepts depends on its MMU and on the emulated
    /// modes: ask [`MemattrVmFd::supported_attributes`], and see the table in
    /// `Documentation/virt/kvm/memattr/api.rst`.
    ///
    /// [`MemattrVmFd::supported_attributes`]: crate::MemattrVmFd::supported_attributes
    ///
    /// # Example
    ///
    /// ```
    /// use kvm_memattr::{Access, Attributes};
    ///
    /// let read_only = Attributes::NO_WRITE | Attributes::NO_EXEC;
    /// assert_eq!(read_only.bits(), 0x6);
    /// assert_eq!(read_only.allowed(), Access::READ);
    /// assert_eq!(Attributes::denying(Access::WRITE | Access::EXEC), read_only);
    /// assert_eq!(read_only.to_string(), "NO_WRITE|NO_EXEC");
    /// assert!(Attributes::try_from(0x40).is_err());
    /// ```
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct Attributes: u64 {
        /// The guest may not read the page.
        const NO_READ = uapi::KVM_MEMORY_ATTRIBUTE_NO_READ;
        /// The guest may not write the page.
        const NO_WRITE = uapi::KVM_MEMORY_ATTRIBUTE_NO_WRITE;
        /// The guest may not execute from the page.
        const NO_EXEC = uapi::KVM_MEMORY_ATTRIBUTE_NO_EXEC;
        /// The page is private memory (upstream's attribute, for VM types
        /// with private memory only).
        const PRIVATE = uapi::KVM_MEMORY_ATTRIBUTE_PRIVATE;
    }
}

bitflags::bitflags! {
    /// A set of guest accesses: what a page allows, or what to deny.
    ///
    /// # Example
    ///
    /// ```
    /// use kvm_memattr::Access;
    ///
    /// let exec_only = Access::EXEC;
    /// assert_eq!(exec_only.to_string(), "--x");
    /// assert_eq!((Access::READ | Access::WRITE).to_string(), "rw-");
    /// ```
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct Access: u8 {
        /// Data reads.
        const READ = 1 << 0;
        /// Data writes.
        const WRITE = 1 << 1;
        /// Instruction fetches.
        const EXEC = 1 << 2;
    }
}

impl Attributes {
    /// The attributes that take `access` away and nothing else.
    pub const fn denying(access: Access) -> Self {
        let mut bits = 0;
        if access.contains(Access::READ) {
            bits |= uapi::KVM_MEMORY_ATTRIBUTE_NO_READ;
        }
        if access.contains(Access::WRITE) {
            bits |= uapi::KVM_MEMORY_ATTRIBUTE_NO_WRITE;
        }
        if access.contains(Access::EXEC) {
            bits |= uapi::KVM_MEMORY_ATTRIBUTE_NO_EXEC;
        }
        Self::from_bits_retain(bits)
    }

    /// What these attributes leave of full access (`PRIVATE` takes none
    /// away).
    pub const fn allowed(self) -> Access {
        Access::all().difference(self.denied())
    }

    /// What these attributes take away.
    pub const fn denied(self) -> Access {
        let mut access = Access::empty();
        if self.contains(Attributes::NO_READ) {
            access = access.union(Access::READ);
        }
        if self.contains(Attributes::NO_WRITE) {
            access = access.union(Access::WRITE);
        }
        if self.contains(Attributes::NO_EXEC) {
            access = access.union(Access::EXEC);
        }
        access
    }
}

impl TryFrom<u64> for Attributes {
    type Error = Error;

    /// The attributes of a raw value, refusing bits this crate does not
    /// know.
    fn try_from(bits: u64) -> Result<Self, Error> {
        Attributes::from_bits(bits)
            .ok_or(Error::UnknownAttributes(bits & !Attributes::all().bits()))
    }
}

impl fmt::Display for Attributes {
    /// The names joined by `|`, e.g. `NO_WRITE|NO_EXEC`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_flag_names(self, f)
    }
}

/// Writes the names of the flags set in `flags` joined by `|`, or `none`.
pub(crate) fn write_flag_names<F: Flags>(flags: &F, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if flags.is_empty() {
        return f.write_str("none");
    }
    for (i, (name, _)) in flags.iter_names().enumerate() {
        if i > 0 {
            f.write_str("|")?;
        }
        f.write_str(name)?;
    }
    Ok(())
}

impl fmt::Display for Access {
    /// Three letters as `ls -l` writes them, e.g. `r-x`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letter = |access, c| if self.contains(access) { c } else { '-' };
        write!(
            f,
            "{}{}{}",
            letter(Access::READ, 'r'),
            letter(Access::WRITE, 'w'),
            letter(Access::EXEC, 'x')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_the_headers() {
        assert_eq!(
            Attributes::NO_READ.bits(),
            uapi::KVM_MEMORY_ATTRIBUTE_NO_READ
        );
        assert_eq!(
            Attributes::NO_WRITE.bits(),
            uapi::KVM_MEMORY_ATTRIBUTE_NO_WRITE
        );
        assert_eq!(
            Attributes::NO_EXEC.bits(),
            uapi::KVM_MEMORY_ATTRIBUTE_NO_EXEC
        );
        assert_eq!(
            Attributes::PRIVATE.bits(),
            uapi::KVM_MEMORY_ATTRIBUTE_PRIVATE
        );
        assert_eq!(Attributes::all().bits(), 0xf);
    }

    #[test]
    fn every_known_value_converts_and_every_unknown_bit_is_refused() {
        for bits in 0..=0xf {
            assert_eq!(Attributes::try_from(bits).map(|a| a.bits()), Ok(bits));
        }
        for shift in 4..64 {
            let bit = 1u64 << shift;
            assert_eq!(
                Attributes::try_from(bit | 0x2),
                Err(Error::UnknownAttributes(bit)),
                "bit {shift}"
            );
        }
    }

    #[test]
    fn denying_and_allowed_are_inverse() {
        for bits in 0..8u8 {
            let access = Access::from_bits(bits).unwrap();
            let attributes = Attributes::denying(access);
            assert_eq!(attributes.denied(), access);
            assert_eq!(attributes.allowed(), Access::all() - access);
            assert!(!attributes.contains(Attributes::PRIVATE));
            // PRIVATE takes no access away.
            assert_eq!((attributes | Attributes::PRIVATE).denied(), access);
        }
    }

    #[test]
    fn each_protection_denies_its_access() {
        assert_eq!(Attributes::denying(Access::READ), Attributes::NO_READ);
        assert_eq!(Attributes::denying(Access::WRITE), Attributes::NO_WRITE);
        assert_eq!(Attributes::denying(Access::EXEC), Attributes::NO_EXEC);
        assert_eq!(Attributes::empty().allowed(), Access::all());
        assert_eq!(
            (Attributes::NO_READ | Attributes::NO_WRITE).allowed(),
            Access::EXEC
        );
    }

    #[test]
    fn display() {
        assert_eq!(Attributes::empty().to_string(), "none");
        assert_eq!(
            Attributes::all().to_string(),
            "NO_READ|NO_WRITE|NO_EXEC|PRIVATE"
        );
        assert_eq!(Attributes::NO_EXEC.to_string(), "NO_EXEC");
        assert_eq!(Access::empty().to_string(), "---");
        assert_eq!(Access::all().to_string(), "rwx");
        assert_eq!(Access::WRITE.to_string(), "-w-");
    }
}
