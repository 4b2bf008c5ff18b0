// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause

//! The attribute map of a range, read back one run at a time.
//!
//! `KVM_GET_MEMORY_ATTRIBUTES` answers, for a range, the attributes of its
//! first page and the length of the run of pages from there that share
//! them; runs are maximal, so two runs in a row always differ. [`Runs`] asks
//! again from the end of each run until the range is covered: its cost is
//! one ioctl per run, never per page.

use crate::attributes::Attributes;
use crate::error::Result;
use crate::vm_ext::MemattrVmFd;
use std::fmt;
use std::iter::FusedIterator;

/// Pages `[address, address + size)` that share `attributes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AttributeRun {
    /// Guest-physical address of the first page.
    pub address: u64,
    /// Length in bytes, a non-zero multiple of 4 KiB.
    pub size: u64,
    /// The attributes of every page of the run.
    pub attributes: Attributes,
}

impl AttributeRun {
    /// The run of `size` bytes from `address` whose pages have `attributes`.
    pub const fn new(address: u64, size: u64, attributes: Attributes) -> Self {
        Self {
            address,
            size,
            attributes,
        }
    }

    /// The first address past the run.
    ///
    /// Runs come from ranges that end below 2^64, so this does not wrap.
    pub const fn end(&self) -> u64 {
        self.address + self.size
    }
}

impl fmt::Display for AttributeRun {
    /// `[0x4000, +0x1000): NO_WRITE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:#x}, +{:#x}): {}",
            self.address, self.size, self.attributes
        )
    }
}

/// The runs of a range, in address order: an iterator of
/// `Result<AttributeRun>`, from
/// [`MemattrVmFd::attribute_runs`].
///
/// Each step is one `KVM_GET_MEMORY_ATTRIBUTES`. The runs cover the range
/// exactly, each one starts where the previous one ended, and two runs in a
/// row have different attributes. After an error the iterator ends; the
/// map may have changed between two steps if another thread set attributes
/// meanwhile.
pub struct Runs<'a, V: ?Sized> {
    vm: &'a V,
    /// Where the next run starts.
    next: u64,
    /// The end of the range.
    end: u64,
    /// An error was returned.
    failed: bool,
}

impl<'a, V: MemattrVmFd + ?Sized> Runs<'a, V> {
    /// The runs of `[address, end)`, a range the caller validated.
    pub(crate) fn new(vm: &'a V, address: u64, end: u64) -> Self {
        Runs {
            vm,
            next: address,
            end,
            failed: false,
        }
    }
}

impl<V: MemattrVmFd + ?Sized> Iterator for Runs<'_, V> {
    type Item = Result<AttributeRun>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.next >= self.end {
            return None;
        }
        // get_attributes() checks that the run lies within what it asked.
        match self.vm.get_attributes(self.next, self.end - self.next) {
            Ok(run) => {
                self.next = run.end();
                Some(Ok(run))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl<V: MemattrVmFd + ?Sized> FusedIterator for Runs<'_, V> {}

impl<V: ?Sized> fmt::Debug for Runs<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runs")
            .field("next", &self.next)
            .field("end", &self.end)
            .field("failed", &self.failed)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::vm_ext::private::Sealed;
    use std::cell::Cell;
    use std::collections::BTreeMap;
    use std::os::fd::{AsRawFd, RawFd};

    /// A VM whose attribute map is a model: page number to attributes,
    /// absent pages have none. It answers GET as api.rst specifies.
    struct Model {
        pages: BTreeMap<u64, Attributes>,
        calls: Cell<usize>,
        /// Answer this size instead, to play a broken kernel.
        broken_size: Option<u64>,
    }

    impl AsRawFd for Model {
        fn as_raw_fd(&self) -> RawFd {
            -1
        }
    }
    impl Sealed for Model {}
    impl MemattrVmFd for Model {
        fn get_attributes(&self, address: u64, size: u64) -> Result<AttributeRun> {
            self.calls.set(self.calls.get() + 1);
            let at = |gpa: u64| self.pages.get(&(gpa >> 12)).copied().unwrap_or_default();
            let attributes = at(address);
            let mut len = 4096;
            while len < size && at(address + len) == attributes {
                len += 4096;
            }
            let len = self.broken_size.unwrap_or(len);
            crate::vm_ext::checked_run(address, size, len, attributes.bits())
        }
    }

    fn model(pages: &[(u64, Attributes)]) -> Model {
        Model {
            pages: pages.iter().copied().collect(),
            calls: Cell::new(0),
            broken_size: None,
        }
    }

    #[test]
    fn runs_cover_the_range_one_ioctl_per_run() {
        let vm = model(&[
            (4, Attributes::NO_WRITE),
            (5, Attributes::NO_WRITE),
            (6, Attributes::NO_EXEC),
            (9, Attributes::NO_WRITE),
        ]);
        let runs: Vec<_> = vm.attribute_runs(0, 0x10_000).unwrap().collect();
        let runs: Vec<_> = runs.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(
            runs,
            [
                AttributeRun::new(0, 0x4000, Attributes::empty()),
                AttributeRun::new(0x4000, 0x2000, Attributes::NO_WRITE),
                AttributeRun::new(0x6000, 0x1000, Attributes::NO_EXEC),
                AttributeRun::new(0x7000, 0x2000, Attributes::empty()),
                AttributeRun::new(0x9000, 0x1000, Attributes::NO_WRITE),
                AttributeRun::new(0xa000, 0x6000, Attributes::empty()),
            ]
        );
        assert_eq!(vm.calls.get(), runs.len());
        for pair in runs.windows(2) {
            assert_eq!(pair[0].end(), pair[1].address);
            assert_ne!(pair[0].attributes, pair[1].attributes);
        }
    }

    #[test]
    fn a_range_inside_one_run_is_one_run() {
        let vm = model(&[]);
        let runs: Vec<_> = vm.attribute_runs(0x1_0000_0000, 1 << 30).unwrap().collect();
        assert_eq!(
            runs,
            [Ok(AttributeRun::new(
                0x1_0000_0000,
                1 << 30,
                Attributes::empty()
            ))]
        );
    }

    #[test]
    fn a_run_ending_at_the_top_of_the_address_space() {
        let top = u64::MAX - 0xfff - 0x1000;
        let vm = model(&[(top >> 12, Attributes::NO_EXEC)]);
        let runs: Vec<_> = vm.attribute_runs(top, 0x1000).unwrap().collect();
        assert_eq!(
            runs,
            [Ok(AttributeRun::new(top, 0x1000, Attributes::NO_EXEC))]
        );
    }

    #[test]
    fn a_broken_answer_ends_the_iteration_with_an_error() {
        for size in [0, 0x800, 0x3000] {
            let mut vm = model(&[]);
            vm.broken_size = Some(size);
            let mut runs = vm.attribute_runs(0x2000, 0x2000).unwrap();
            assert_eq!(
                runs.next(),
                Some(Err(Error::InvalidRun {
                    address: 0x2000,
                    size,
                    asked: 0x2000
                }))
            );
            assert_eq!(runs.next(), None);
            assert_eq!(runs.next(), None);
            assert_eq!(vm.calls.get(), 1);
        }
    }

    #[test]
    fn display_and_debug() {
        let r = AttributeRun::new(0x4000, 0x1000, Attributes::NO_WRITE);
        assert_eq!(r.to_string(), "[0x4000, +0x1000): NO_WRITE");
        assert_eq!(r.end(), 0x5000);
        let vm = model(&[]);
        let runs = vm.attribute_runs(0, 0x1000).unwrap();
        assert_eq!(
            format!("{runs:?}"),
            "Runs { next: 0, end: 4096, failed: false }"
        );
    }
}
