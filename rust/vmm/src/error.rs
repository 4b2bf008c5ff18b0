// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause

//! Why a call failed: one variant per reason the crate refuses an argument
//! before any ioctl, per kernel answer it cannot decode, and one for an
//! ioctl that failed, with the kernel's errno as it came.

use vmm_sys_util::errno;

/// The error of every fallible call of this crate.
///
/// The validation variants are found in Rust, before any ioctl, for
/// arguments that KVM would refuse with `EINVAL` anyway; KVM's own refusals
/// (a bit the VM does not accept, a mode enabled twice, ...) come back as
/// [`Error::Ioctl`] with the errno KVM set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A value has attribute bits this crate does not know.
    #[error("attribute bits {0:#x} are unknown to this crate")]
    UnknownAttributes(u64),
    /// A guest-physical address is not 4 KiB aligned.
    #[error("address {0:#x} is not 4 KiB aligned")]
    UnalignedAddress(u64),
    /// A size is not a multiple of 4 KiB.
    #[error("size {0:#x} is not a multiple of 4 KiB")]
    UnalignedSize(u64),
    /// A range of guest-physical addresses is empty.
    #[error("the range is empty")]
    EmptyRange,
    /// A range does not end below 2^64: `address + size` wraps or is 2^64.
    #[error("the range [{address:#x}, +{size:#x}) does not end below 2^64")]
    RangeOverflow {
        /// Its first address.
        address: u64,
        /// Its size in bytes.
        size: u64,
    },
    /// A sub-page SET or GET covers no page or more than
    /// `KVM_SUBPAGE_MAX_PAGES`.
    #[error("a sub-page request covers 1 to 512 pages, not {0}")]
    PageCount(usize),
    /// A sub-page index is not below `KVM_SUBPAGES_PER_PAGE` (32).
    #[error("sub-page {0} does not exist: a page has 32")]
    SubpageIndex(usize),
    /// A byte range does not lie inside one 4 KiB page, or is empty.
    #[error("bytes [{offset:#x}, +{len:#x}) are not a non-empty range inside one page")]
    ByteRange {
        /// Its first byte, from the start of the page.
        offset: u64,
        /// Its length in bytes.
        len: u64,
    },
    /// `KVM_EXIT_MEMORY_FAULT` flags with a bit this crate does not know.
    #[error("memory fault flags {0:#x} have bits unknown to this crate")]
    UnknownFaultFlags(u64),
    /// `KVM_EXIT_MEMORY_FAULT` flags that no kernel sends: more than one
    /// access, or the sub-page flag without the write flag.
    #[error("memory fault flags {0:#x} are not a valid combination")]
    InvalidFaultFlags(u64),
    /// The exit to decode is not `KVM_EXIT_MEMORY_FAULT`.
    #[error("the exit is not KVM_EXIT_MEMORY_FAULT")]
    NotMemoryFault,
    /// `KVM_GET_MEMORY_ATTRIBUTES` answered with a run that is empty, not
    /// page aligned or longer than the range asked for.
    #[error("KVM_GET_MEMORY_ATTRIBUTES answered the run [{address:#x}, +{size:#x}) for a range of {asked:#x} bytes")]
    InvalidRun {
        /// The address asked for, where the run starts.
        address: u64,
        /// The size KVM answered.
        size: u64,
        /// The size asked for.
        asked: u64,
    },
    /// An ioctl failed; `source` is the errno KVM set, unchanged.
    #[error("{ioctl} failed: {source}")]
    Ioctl {
        /// The ioctl's name, e.g. `"KVM_SET_SUBPAGE_WRITE_ACCESS"`.
        ioctl: &'static str,
        /// The error KVM returned.
        #[source]
        source: errno::Error,
    },
}

impl Error {
    /// The errno of a failed ioctl, `None` for the other variants.
    ///
    /// # Example
    ///
    /// ```
    /// use kvm_memattr::Error;
    /// use vmm_sys_util::errno;
    ///
    /// let e = Error::Ioctl {
    ///     ioctl: "KVM_ENABLE_CAP",
    ///     source: errno::Error::new(libc::EINVAL),
    /// };
    /// assert_eq!(e.errno(), Some(libc::EINVAL));
    /// assert_eq!(Error::EmptyRange.errno(), None);
    /// ```
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Ioctl { source, .. } => Some(source.errno()),
            _ => None,
        }
    }

    /// The error of the ioctl `ioctl` that just returned -1.
    pub(crate) fn last(ioctl: &'static str) -> Self {
        Error::Ioctl {
            ioctl,
            source: errno::Error::last(),
        }
    }
}

/// The result of every fallible call of this crate.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn ioctl_error_keeps_the_errno_and_names_the_ioctl() {
        let e = Error::Ioctl {
            ioctl: "KVM_GET_SUBPAGE_WRITE_ACCESS",
            source: errno::Error::new(libc::EFAULT),
        };
        assert_eq!(e.errno(), Some(libc::EFAULT));
        assert!(e
            .to_string()
            .starts_with("KVM_GET_SUBPAGE_WRITE_ACCESS failed: "));
        assert!(e.source().is_some());
    }

    #[test]
    fn validation_errors_have_no_errno_and_say_why() {
        let cases = [
            (Error::UnknownAttributes(0x30), "0x30"),
            (Error::UnalignedAddress(0x1234), "0x1234"),
            (Error::UnalignedSize(0x10), "0x10"),
            (Error::EmptyRange, "empty"),
            (
                Error::RangeOverflow {
                    address: 0xffff_ffff_ffff_f000,
                    size: 0x1000,
                },
                "2^64",
            ),
            (Error::PageCount(513), "513"),
            (Error::SubpageIndex(32), "32"),
            (
                Error::ByteRange {
                    offset: 0xff0,
                    len: 0x20,
                },
                "0xff0",
            ),
            (Error::UnknownFaultFlags(0x20), "0x20"),
            (Error::InvalidFaultFlags(0x3), "0x3"),
            (Error::NotMemoryFault, "KVM_EXIT_MEMORY_FAULT"),
            (
                Error::InvalidRun {
                    address: 0x1000,
                    size: 0,
                    asked: 0x1000,
                },
                "KVM_GET_MEMORY_ATTRIBUTES",
            ),
        ];
        for (e, word) in cases {
            assert_eq!(e.errno(), None, "{e:?}");
            assert!(e.source().is_none(), "{e:?}");
            assert!(e.to_string().contains(word), "{e}: {word}");
        }
    }
}
