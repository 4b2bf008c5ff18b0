// SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause

#![deny(clippy::undocumented_unsafe_blocks)]

//! A real-mode guest of a few instructions, run through kvm-memattr's two
//! kinds of write protection against the real kernel:
//!
//! 1. a page made `NO_WRITE`: the guest's write to it stops `KVM_RUN` with
//!    the typed fault for that page, nothing lands, the attribute map reads
//!    back as the expected runs; once cleared, the retried write lands;
//! 2. on a fresh VM in the software sub-page mode, one 128-byte sub-page
//!    made read-only: the guest's write to the sub-page before it goes
//!    through without an exit, the write to it stops `KVM_RUN` with the
//!    typed sub-page fault; once relaxed, the retried write lands.
//!
//! Prints one line per step. Exit status: 0 when every expectation held,
//! 1 with a `FAIL:` line otherwise, 4 (kselftest's skip) when there is no
//! `/dev/kvm` or the VM is not bound to the `kvm_memattr` module.
//!
//! For the test guest, built static:
//! `RUSTFLAGS='-C target-feature=+crt-static' cargo build --release
//! --example protect_guest --target x86_64-unknown-linux-gnu`.

use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::{Kvm, VcpuExit, VcpuFd, VmFd};
use kvm_memattr::{
    AttributeRun, Attributes, FaultAccess, MemattrVmFd, MemoryFault, SubpageMap, SubpageMode,
};
use std::fmt::Display;
use std::process::ExitCode;
use std::ptr::{self, NonNull};

/// Guest memory: `[0, MEM_SIZE)`, one memslot.
const MEM_SIZE: usize = 0x10000;
/// Where the guest's code is loaded and starts.
const CODE: u64 = 0x1000;
/// The page the protections apply to.
const DATA: u64 = 0x4000;
const PAGE: u64 = 0x1000;

/// Phase 1: `mov ax, 0x1234; mov [0x4010], ax; hlt`.
const PAGE_WRITER: &[u8] = &[0xb8, 0x34, 0x12, 0xa3, 0x10, 0x40, 0xf4];
/// Phase 2: `mov ax, 0x1111; mov [0x4100], ax` (sub-page 2, permitted),
/// `mov ax, 0x2222; mov [0x4180], ax` (sub-page 3, denied), `hlt`.
const SUBPAGE_WRITER: &[u8] = &[
    0xb8, 0x11, 0x11, 0xa3, 0x00, 0x41, 0xb8, 0x22, 0x22, 0xa3, 0x80, 0x41, 0xf4,
];
/// The sub-page phase 2 protects, and the two addresses the guest writes.
const DENIED_SUBPAGE: usize = 3;
const PERMITTED_GPA: u64 = DATA + 0x100;
const DENIED_GPA: u64 = DATA + 0x180;

/// Why the run stopped early.
enum Stop {
    /// Nothing to test here: kselftest's skip.
    Skip(String),
    /// An expectation did not hold.
    Fail(String),
}

type Step<T> = Result<T, Stop>;

/// Turns any error into a failure that names the step.
fn fail<E: Display>(step: &'static str) -> impl FnOnce(E) -> Stop {
    move |e| Stop::Fail(format!("{step}: {e}"))
}

/// Fails with `what` unless `ok`.
fn expect(ok: bool, what: impl FnOnce() -> String) -> Step<()> {
    if ok {
        Ok(())
    } else {
        Err(Stop::Fail(what()))
    }
}

/// Anonymous memory for the guest, unmapped on drop. Declare it before the
/// VM that uses it, so that the VM is dropped first.
struct GuestMemory {
    host: NonNull<u8>,
}

impl GuestMemory {
    fn new(code: &[u8]) -> Step<Self> {
        // SAFETY: an anonymous private mapping at an address the kernel
        // chooses: no existing memory is affected. The result is checked.
        let addr = unsafe {
            libc::mmap(
                ptr::null_mut(),
                MEM_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_ANONYMOUS | libc::MAP_PRIVATE | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(Stop::Fail(format!(
                "mmap of guest memory: {}",
                std::io::Error::last_os_error()
            )));
        }
        let host = NonNull::new(addr.cast::<u8>())
            .ok_or_else(|| Stop::Fail("mmap of guest memory returned address 0".into()))?;
        let memory = GuestMemory { host };
        memory.write(CODE, code);
        Ok(memory)
    }

    /// Host pointer to `len` bytes at `gpa`, all inside the mapping.
    fn at(&self, gpa: u64, len: usize) -> *mut u8 {
        let offset = usize::try_from(gpa).expect("small gpa");
        assert!(
            offset + len <= MEM_SIZE,
            "{gpa:#x}+{len} outside guest memory"
        );
        // SAFETY: `offset + len <= MEM_SIZE`: the result stays inside the
        // mapping of `MEM_SIZE` bytes.
        unsafe { self.host.as_ptr().add(offset) }
    }

    fn write(&self, gpa: u64, bytes: &[u8]) {
        let dst = self.at(gpa, bytes.len());
        // SAFETY: `dst` has `bytes.len()` writable bytes (`at`); the
        // mapping never overlaps `bytes`, and no vCPU runs meanwhile.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len()) }
    }

    fn read_u16(&self, gpa: u64) -> u16 {
        let src = self.at(gpa, 2);
        // SAFETY: `src` has 2 readable bytes (`at`). Volatile: the guest
        // wrote them behind the compiler's back.
        let bytes = unsafe { [src.read_volatile(), src.add(1).read_volatile()] };
        // The guest is x86: little endian.
        u16::from_le_bytes(bytes)
    }

    /// Registers the memory as slot 0 at gpa 0 of `vm`.
    fn map_into(&self, vm: &VmFd) -> Step<()> {
        let region = kvm_userspace_memory_region {
            slot: 0,
            guest_phys_addr: 0,
            memory_size: MEM_SIZE as u64,
            userspace_addr: self.host.as_ptr() as u64,
            flags: 0,
        };
        // SAFETY: the region is this mapping, which lives until `self` is
        // dropped, after the VM (see the type's doc).
        unsafe { vm.set_user_memory_region(region) }.map_err(fail("KVM_SET_USER_MEMORY_REGION"))
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, of that size, unmapped once;
        // the VMs that used it are gone (see the type's doc).
        unsafe { libc::munmap(self.host.as_ptr().cast(), MEM_SIZE) };
    }
}

/// A vCPU in real mode at `CODE`, with CS and DS at 0.
fn real_mode_vcpu(vm: &VmFd) -> Step<VcpuFd> {
    let vcpu = vm.create_vcpu(0).map_err(fail("KVM_CREATE_VCPU"))?;
    let mut sregs = vcpu.get_sregs().map_err(fail("KVM_GET_SREGS"))?;
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    sregs.ds.base = 0;
    sregs.ds.selector = 0;
    vcpu.set_sregs(&sregs).map_err(fail("KVM_SET_SREGS"))?;
    let mut regs = vcpu.get_regs().map_err(fail("KVM_GET_REGS"))?;
    regs.rip = CODE;
    regs.rflags = 2;
    vcpu.set_regs(&regs).map_err(fail("KVM_SET_REGS"))?;
    Ok(vcpu)
}

/// How one `KVM_RUN` ended.
#[derive(Debug, PartialEq)]
enum Exit {
    Hlt,
    Fault(MemoryFault),
}

fn run(vcpu: &mut VcpuFd) -> Step<Exit> {
    match vcpu.run().map_err(fail("KVM_RUN"))? {
        VcpuExit::Hlt => Ok(Exit::Hlt),
        exit @ VcpuExit::MemoryFault { .. } => MemoryFault::from_exit(&exit)
            .map(Exit::Fault)
            .map_err(fail("decoding KVM_EXIT_MEMORY_FAULT")),
        other => Err(Stop::Fail(format!("KVM_RUN: unexpected exit {other:?}"))),
    }
}

/// Runs once and expects exactly `fault`.
fn run_expecting_fault(vcpu: &mut VcpuFd, fault: MemoryFault) -> Step<()> {
    let exit = run(vcpu)?;
    expect(exit == Exit::Fault(fault), || {
        format!("KVM_RUN: expected {fault}, got {exit:?}")
    })?;
    println!("KVM_RUN: {fault}, as expected");
    Ok(())
}

/// Runs once and expects the guest to halt.
fn run_expecting_hlt(vcpu: &mut VcpuFd) -> Step<()> {
    let exit = run(vcpu)?;
    expect(exit == Exit::Hlt, || {
        format!("KVM_RUN: expected the guest to halt, got {exit:?}")
    })?;
    println!("KVM_RUN: the guest halted");
    Ok(())
}

/// Expects the guest's 16-bit word at `gpa` to be `value`.
fn expect_word(memory: &GuestMemory, gpa: u64, value: u16, why: &str) -> Step<()> {
    let found = memory.read_u16(gpa);
    expect(found == value, || {
        format!("word at {gpa:#x} is {found:#06x}, expected {value:#06x} ({why})")
    })?;
    println!("word at {gpa:#x} is {found:#06x}: {why}");
    Ok(())
}

/// A new VM that must be bound to the module.
fn bound_vm(kvm: &Kvm) -> Step<VmFd> {
    let vm = kvm.create_vm().map_err(fail("KVM_CREATE_VM"))?;
    if !vm.memattr_bound().map_err(fail("KVM_CHECK_EXTENSION"))? {
        return Err(Stop::Skip(
            "the VM is not bound to kvm_memattr: is the module loaded?".into(),
        ));
    }
    Ok(vm)
}

/// Phase 1: a `NO_WRITE` page.
fn protect_page(kvm: &Kvm) -> Step<()> {
    let memory = GuestMemory::new(PAGE_WRITER)?;
    let vm = bound_vm(kvm)?;
    let supported = vm
        .supported_attributes()
        .map_err(fail("KVM_CHECK_EXTENSION(KVM_CAP_MEMORY_ATTRIBUTES)"))?;
    println!("supported attributes: {supported}");
    expect(supported.contains(Attributes::NO_WRITE), || {
        format!("a bound VM must accept NO_WRITE, it accepts {supported}")
    })?;

    memory.map_into(&vm)?;
    println!("guest memory [0x0, +{MEM_SIZE:#x}) mapped, code at {CODE:#x}");
    vm.set_attributes(DATA, PAGE, Attributes::NO_WRITE)
        .map_err(fail("KVM_SET_MEMORY_ATTRIBUTES"))?;
    println!("KVM_SET_MEMORY_ATTRIBUTES [{DATA:#x}, +{PAGE:#x}) = NO_WRITE");

    let mut vcpu = real_mode_vcpu(&vm)?;
    println!("guest writes 0x1234 to {:#x} ...", DATA + 0x10);
    run_expecting_fault(
        &mut vcpu,
        MemoryFault {
            access: FaultAccess::Write,
            private: false,
            subpage: false,
            gpa: DATA,
            size: PAGE,
        },
    )?;
    expect_word(&memory, DATA + 0x10, 0, "the denied write did not land")?;

    let runs = vm
        .attribute_runs(0, MEM_SIZE as u64)
        .map_err(fail("KVM_GET_MEMORY_ATTRIBUTES"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail("KVM_GET_MEMORY_ATTRIBUTES"))?;
    println!("KVM_GET_MEMORY_ATTRIBUTES, run by run:");
    for r in &runs {
        println!("  {r}");
    }
    let none = Attributes::empty();
    let expected = [
        AttributeRun {
            address: 0,
            size: DATA,
            attributes: none,
        },
        AttributeRun {
            address: DATA,
            size: PAGE,
            attributes: Attributes::NO_WRITE,
        },
        AttributeRun {
            address: DATA + PAGE,
            size: MEM_SIZE as u64 - DATA - PAGE,
            attributes: none,
        },
    ];
    expect(runs == expected, || {
        format!("runs are {runs:?}, expected {expected:?}")
    })?;

    vm.set_attributes(DATA, PAGE, none)
        .map_err(fail("KVM_SET_MEMORY_ATTRIBUTES"))?;
    println!("KVM_SET_MEMORY_ATTRIBUTES [{DATA:#x}, +{PAGE:#x}) = none");
    run_expecting_hlt(&mut vcpu)?;
    expect_word(&memory, DATA + 0x10, 0x1234, "the retried write landed")
}

/// Phase 2: one read-only sub-page, software mode.
fn protect_subpage(kvm: &Kvm) -> Step<()> {
    let memory = GuestMemory::new(SUBPAGE_WRITER)?;
    let vm = bound_vm(kvm)?;
    let modes = vm
        .subpage_modes()
        .map_err(fail("KVM_CHECK_EXTENSION(KVM_CAP_SUBPAGE_WRITE_PROTECT)"))?;
    println!("sub-page modes offered: {modes}");
    expect(modes.offers(SubpageMode::Software), || {
        format!("a bound VM must offer the software sub-page mode, it offers {modes}")
    })?;
    // Before the first vCPU.
    vm.enable_subpage_mode(SubpageMode::Software)
        .map_err(fail("KVM_ENABLE_CAP(KVM_CAP_SUBPAGE_WRITE_PROTECT)"))?;
    println!("sub-page mode: software");
    memory.map_into(&vm)?;

    let map = SubpageMap::ALL_WRITABLE
        .with_denied(DENIED_SUBPAGE)
        .map_err(fail("sub-page map"))?;
    vm.set_subpage_maps(DATA, &[map])
        .map_err(fail("KVM_SET_SUBPAGE_WRITE_ACCESS"))?;
    println!("KVM_SET_SUBPAGE_WRITE_ACCESS {DATA:#x}: {map}");
    let mut read = [SubpageMap::NONE_WRITABLE; 2];
    vm.get_subpage_maps(DATA, &mut read)
        .map_err(fail("KVM_GET_SUBPAGE_WRITE_ACCESS"))?;
    expect(read == [map, SubpageMap::ALL_WRITABLE], || {
        format!("maps of {DATA:#x} and the next page read back as {read:?}")
    })?;
    println!("KVM_GET_SUBPAGE_WRITE_ACCESS {DATA:#x}: {}", read[0]);

    let mut vcpu = real_mode_vcpu(&vm)?;
    println!("guest writes 0x1111 to {PERMITTED_GPA:#x}, then 0x2222 to {DENIED_GPA:#x} ...");
    run_expecting_fault(
        &mut vcpu,
        MemoryFault {
            access: FaultAccess::Write,
            private: false,
            subpage: true,
            gpa: DENIED_GPA,
            size: kvm_memattr::SUBPAGE_SIZE,
        },
    )?;
    expect_word(
        &memory,
        PERMITTED_GPA,
        0x1111,
        "the permitted write landed without an exit",
    )?;
    expect_word(&memory, DENIED_GPA, 0, "the denied write did not land")?;

    let relaxed = map
        .with_allowed(DENIED_SUBPAGE)
        .map_err(fail("sub-page map"))?;
    vm.set_subpage_maps(DATA, &[relaxed])
        .map_err(fail("KVM_SET_SUBPAGE_WRITE_ACCESS"))?;
    println!("KVM_SET_SUBPAGE_WRITE_ACCESS {DATA:#x}: {relaxed}");
    run_expecting_hlt(&mut vcpu)?;
    expect_word(&memory, DENIED_GPA, 0x2222, "the retried write landed")
}

fn run_all() -> Step<()> {
    if !std::path::Path::new("/dev/kvm").exists() {
        return Err(Stop::Skip("/dev/kvm does not exist".into()));
    }
    let kvm = Kvm::new().map_err(|e| Stop::Skip(format!("cannot open /dev/kvm: {e}")))?;
    println!("== NO_WRITE page");
    protect_page(&kvm)?;
    println!("== read-only sub-page, software mode");
    protect_subpage(&kvm)
}

fn main() -> ExitCode {
    match run_all() {
        Ok(()) => {
            println!("PASS: every expectation held");
            ExitCode::SUCCESS
        }
        Err(Stop::Skip(why)) => {
            println!("SKIP: {why}");
            ExitCode::from(4)
        }
        Err(Stop::Fail(why)) => {
            eprintln!("FAIL: {why}");
            ExitCode::FAILURE
        }
    }
}
