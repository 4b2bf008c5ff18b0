// SPDX-License-Identifier: GPL-2.0

//! Registration of a memory attribute provider with KVM.
//!
//! C header: [`include/linux/kvm_memattr_ops.h`](srctree/include/linux/kvm_memattr_ops.h)

use crate::{attributes::FaultVerdict, run_map::SetChange, seq_file::SeqFile, subpage::PagePart};
use core::{
    ffi::{c_int, c_uint, c_void},
    fmt,
    marker::PhantomData,
    pin::Pin,
    ptr::NonNull,
};
use kernel::{
    bindings,
    error::{from_result, to_result},
    prelude::*,
    types::ForeignOwnable,
    ThisModule,
};

/// What KVM tells a provider about a new VM.
pub(crate) struct VmInfo {
    /// The VM, for the KVM functions that a provider calls.
    pub(crate) kvm: Kvm,
    /// The VM type has private memory (upstream's PRIVATE attribute).
    pub(crate) has_private_mem: bool,
    /// The VM's MMU can map a page executable but not readable.
    pub(crate) has_exec_only_leaves: bool,
    /// The VM's MMU can let the CPU decide writes by sub-page (SPP).
    pub(crate) has_subpage_write_leaves: bool,
}

/// What KVM calls into for the VMs bound to a provider.
///
/// Ranges are `start..end` in gfns, as KVM passes them.
pub(crate) trait Provider {
    /// State kept per VM, from the VM's creation to its destruction.
    type Vm: Send + Sync + 'static;

    /// Name of the provider in KVM's log messages.
    const NAME: &'static CStr;

    /// Creates the state of a VM that is being created.
    fn vm_init(info: VmInfo) -> Result<Pin<KBox<Self::Vm>>>;

    /// The attribute bits `KVM_CAP_MEMORY_ATTRIBUTES` reports.
    fn supported_attributes(vm: &Self::Vm) -> u64;

    /// Whether `KVM_SET_MEMORY_ATTRIBUTES` may set `attributes`.
    fn check_attributes(vm: &Self::Vm, attributes: u64) -> Result;

    /// The attributes of `gfn`.  Called on the page fault path: lock-free.
    fn get_attributes(vm: &Self::Vm, gfn: u64) -> u64;

    /// Whether the bits in `mask` of the attributes of every gfn of the
    /// range equal `attributes`.
    fn range_has_attributes(
        vm: &Self::Vm,
        start: u64,
        end: u64,
        mask: u64,
        attributes: u64,
    ) -> bool;

    /// Sets the range to `attributes`, before KVM invalidates it, and tells
    /// what that changed; on error, nothing changed.
    fn set_attributes(vm: &Self::Vm, start: u64, end: u64, attributes: u64) -> Result<SetChange>;

    /// Whether some page of the VM has protections of any kind.
    fn has_attributes(vm: &Self::Vm) -> bool;

    /// Whether some page of the range has protections of any kind: KVM asks
    /// about accesses only where this may be true.
    fn range_in_use(vm: &Self::Vm, start: u64, end: u64) -> bool;

    /// Decides a guest access `access` (one `ACCESS_*` bit) to `gfn`, made
    /// by the CPU (a fault), by KVM's emulator or by KVM for the guest, and
    /// tells which of the blocks around `gfn` in `access.block_orders` (bit
    /// k: the naturally aligned 2^k pages) share its protections.
    fn fault_access(vm: &Self::Vm, gfn: u64, access: &GuestAccess) -> AccessDecision;

    /// A VM ioctl that KVM does not know; `ENOTTY` if the provider does not
    /// know it either.
    fn vm_ioctl(vm: &Self::Vm, cmd: u32, arg: usize) -> Result<isize>;

    /// `KVM_CHECK_EXTENSION` for a capability that KVM does not know; 0 if
    /// the provider does not know it either.
    fn check_extension(vm: &Self::Vm, cap: u32) -> i32;

    /// The physical address of the root of the VM's SPP table, 0 if it has
    /// none.  Must not change once a vCPU exists; the table must live as
    /// long as the VM.
    fn subpage_table(vm: &Self::Vm) -> u64;

    /// The CPU found no entry for `gfn` in the VM's SPP table: adds it.
    fn subpage_table_miss(vm: &Self::Vm, gfn: u64) -> Result;

    /// `KVM_ENABLE_CAP` for a capability that KVM does not know, on a VM that
    /// has vCPUs or not; `ENOTTY` if the provider does not know it either.
    /// Serialised with vCPU creation.
    fn enable_cap(vm: &Self::Vm, cap: u32, flags: u32, args: &[u64; 4], has_vcpus: bool)
        -> Result;

    /// Prints the VM's protections into its debugfs file; fails only when
    /// `out` is full (see [`SeqFile`]).  Changes are kept out meanwhile.
    fn debugfs_show(vm: &Self::Vm, out: &mut SeqFile) -> fmt::Result;
}

/// A guest access for a provider to decide.
pub(crate) struct GuestAccess {
    /// One `ACCESS_*` bit.
    pub(crate) access: u32,
    /// The blocks around the gfn that KVM could map with one leaf.
    pub(crate) block_orders: u32,
    /// The first byte of the page accessed.
    pub(crate) offset: u32,
    /// The bytes accessed from `offset`; 0 when KVM does not know them (a
    /// fault): the access is then decided for the page as a whole.
    pub(crate) len: u32,
}

/// The `KVM_MEMATTR_SET_*` flags of `include/linux/kvm_memattr_ops.h`
/// (function-like macros, which bindgen does not translate).
const SET_CHANGES: c_int = 1 << 0;
const SET_NARROWS: c_int = 1 << 1;
const SET_IN_USE: c_int = 1 << 2;
/// The `KVM_MEMATTR_CHANGE_*` flags, as above.
const CHANGE_ADDS: c_uint = 1 << 0;
const CHANGE_REMOVES: c_uint = 1 << 1;

/// What `set_attributes` returns to KVM for `change`, after which the VM
/// has attributes or not (`in_use`).
fn set_flags(change: SetChange, in_use: impl FnOnce() -> bool) -> c_int {
    if !change.changes {
        return 0;
    }
    let narrows = if change.narrows { SET_NARROWS } else { 0 };
    let in_use = if in_use() { SET_IN_USE } else { 0 };
    SET_CHANGES | narrows | in_use
}

/// A provider's answer about a guest access.
pub(crate) struct AccessDecision {
    /// What KVM does with the access.
    pub(crate) verdict: FaultVerdict,
    /// The blocks asked about whose pages all have the protections of the
    /// page accessed: KVM may map it with a leaf of their size.
    pub(crate) uniform_orders: u32,
    /// For a denied access: the part of the page that the exit reports.
    pub(crate) denied: PagePart,
}

/// What a change of [`Kvm::change_range`] may do to the pages of its range.
pub(crate) struct ChangeScope {
    /// Protect a page that had no protection.
    pub(crate) adds: bool,
    /// Leave a page without protection.
    pub(crate) removes: bool,
}

/// A VM bound to the provider, as the KVM functions that a provider calls
/// take it.
///
/// # Invariants
///
/// `kvm` points to the `struct kvm` of a VM bound to the provider, which
/// lives at least as long as the provider's state of the VM, which holds
/// the [`Kvm`].
pub(crate) struct Kvm {
    kvm: NonNull<bindings::kvm>,
}

// SAFETY: The KVM functions that `Kvm` calls may be called from any thread.
unsafe impl Send for Kvm {}

// SAFETY: As for `Send`: `Kvm`'s methods take `&self` and are thread-safe.
unsafe impl Sync for Kvm {}

/// The arguments of [`change_range_callback`], for one call.
struct ChangeCall<F, G> {
    change: Option<F>,
    in_use: G,
}

/// The change of a [`Kvm::change_range`] call, as KVM calls it back.
///
/// # Safety
///
/// `arg` must point to the `ChangeCall<F, G>` of the `change_range` call
/// that is running, and not be used by anyone else meanwhile.
unsafe extern "C" fn change_range_callback<F, G>(_vm_priv: *mut c_void, arg: *mut c_void) -> c_int
where
    F: FnOnce() -> Result<SetChange>,
    G: Fn() -> bool,
{
    // SAFETY: Per the function's safety requirements.
    let call = unsafe { &mut *arg.cast::<ChangeCall<F, G>>() };
    from_result(|| {
        // KVM calls the change once; a second call changes nothing.
        let change = call.change.take().ok_or(EINVAL)?;
        change().map(|change| set_flags(change, &call.in_use))
    })
}

impl Kvm {
    /// Changes the protections of the gfns `start..end` with `change`, as
    /// `KVM_SET_MEMORY_ATTRIBUTES` changes attributes: when this returns,
    /// no vCPU can access the range as the old protections allowed and the
    /// new ones deny.  `in_use` tells whether the VM has protections
    /// afterwards.  On error, `change` must have changed nothing.  May
    /// sleep; never with `slots_lock` held.
    pub(crate) fn change_range(
        &self,
        start: u64,
        end: u64,
        scope: ChangeScope,
        change: impl FnOnce() -> Result<SetChange>,
        in_use: impl Fn() -> bool,
    ) -> Result {
        fn callback<F, G>(_: &ChangeCall<F, G>) -> unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int
        where
            F: FnOnce() -> Result<SetChange>,
            G: Fn() -> bool,
        {
            change_range_callback::<F, G>
        }

        let mut call = ChangeCall {
            change: Some(change),
            in_use,
        };
        let mut flags = 0;
        if scope.adds {
            flags |= CHANGE_ADDS;
        }
        if scope.removes {
            flags |= CHANGE_REMOVES;
        }
        // SAFETY: By the type invariant, `self.kvm` is a live VM bound to
        // the provider.  `call` outlives the call, and KVM hands it to the
        // callback, which matches its type, and to no one else.
        to_result(unsafe {
            bindings::kvm_memattr_change_range(
                self.kvm.as_ptr(),
                start,
                end,
                flags,
                Some(callback(&call)),
                core::ptr::from_mut(&mut call).cast(),
            )
        })
    }
}

/// A provider registered with KVM.
///
/// # Invariants
///
/// `ops` is registered with KVM from the creation of the [`Registration`]
/// until it is dropped, and is never written while registered.  It lives in
/// its own heap allocation, so its address stays the same when the
/// [`Registration`] moves.
pub(crate) struct Registration<T: Provider> {
    ops: KBox<bindings::kvm_memattr_ops>,
    _provider: PhantomData<T>,
}

// SAFETY: `Registration` only holds an immutable ops table, whose raw pointers
// (the owner module and the static name) may be used from any thread.
unsafe impl<T: Provider> Send for Registration<T> {}

// SAFETY: `Registration` has no methods taking `&self`; sharing it is harmless.
unsafe impl<T: Provider> Sync for Registration<T> {}

impl<T: Provider> Registration<T> {
    /// Registers `T` as the provider for VMs created from now on.
    ///
    /// KVM pins `module` for as long as one of those VMs exists.  Create the
    /// [`Registration`] last in the module's init: VMs may bind to it as soon
    /// as this returns.
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        let ops = KBox::new(
            bindings::kvm_memattr_ops {
                owner: module.as_ptr(),
                name: T::NAME.as_char_ptr(),
                vm_init: Some(Self::vm_init_callback),
                vm_destroy: Some(Self::vm_destroy_callback),
                supported_attributes: Some(Self::supported_attributes_callback),
                check_attributes: Some(Self::check_attributes_callback),
                get_attributes: Some(Self::get_attributes_callback),
                range_has_attributes: Some(Self::range_has_attributes_callback),
                range_in_use: Some(Self::range_in_use_callback),
                set_attributes: Some(Self::set_attributes_callback),
                fault_access: Some(Self::fault_access_callback),
                vm_ioctl: Some(Self::vm_ioctl_callback),
                check_extension: Some(Self::check_extension_callback),
                subpage_table: Some(Self::subpage_table_callback),
                subpage_table_miss: Some(Self::subpage_table_miss_callback),
                enable_cap: Some(Self::enable_cap_callback),
                debugfs_show: Some(Self::debugfs_show_callback),
            },
            GFP_KERNEL,
        )?;

        // SAFETY: `ops` is fully initialised and stays at its address until
        // `drop`, which unregisters it before freeing it.
        to_result(unsafe { bindings::kvm_memattr_register(&*ops) })?;

        // INVARIANT: `ops` was registered just above.
        Ok(Self {
            ops,
            _provider: PhantomData,
        })
    }

    /// The VM state behind the `priv` pointer KVM passes back.
    ///
    /// # Safety
    ///
    /// `vm_priv` must be what `vm_init_callback` stored for a VM whose
    /// `vm_destroy_callback` has not run yet.
    unsafe fn vm<'a>(vm_priv: *mut c_void) -> Pin<&'a T::Vm> {
        // SAFETY: Per the function's safety requirements, `vm_priv` came from
        // `into_foreign` and `from_foreign` has not been called on it yet.
        unsafe { <Pin<KBox<T::Vm>> as ForeignOwnable>::borrow(vm_priv) }
    }

    /// Binds a new VM to the provider.
    ///
    /// # Safety
    ///
    /// Only KVM calls this, through the ops table, with `info` valid for
    /// reads and `vm_priv` valid for writes.
    unsafe extern "C" fn vm_init_callback(
        kvm: *mut bindings::kvm,
        info: *const bindings::kvm_memattr_vm_info,
        vm_priv: *mut *mut c_void,
    ) -> c_int {
        from_result(|| {
            // SAFETY: KVM passes an `info` valid for reads.
            let info = unsafe { &*info };
            let vm = T::vm_init(VmInfo {
                // INVARIANT: KVM binds `kvm` to the provider; the VM's state
                // is freed before it, in `vm_destroy_callback`.
                kvm: Kvm {
                    kvm: NonNull::new(kvm).ok_or(EINVAL)?,
                },
                has_private_mem: info.has_private_mem,
                has_exec_only_leaves: info.has_exec_only_leaves,
                has_subpage_write_leaves: info.has_subpage_write_leaves,
            })?;
            // SAFETY: KVM passes a `vm_priv` valid for writes.
            unsafe { *vm_priv = vm.into_foreign().cast_mut() };
            Ok(0)
        })
    }

    /// Releases the state of a VM that is being destroyed.
    ///
    /// # Safety
    ///
    /// Only KVM calls this, through the ops table, once per VM, with the
    /// `vm_priv` that `vm_init_callback` stored, after every other callback
    /// for the VM has returned.
    unsafe extern "C" fn vm_destroy_callback(_kvm: *mut bindings::kvm, vm_priv: *mut c_void) {
        // SAFETY: `vm_priv` came from `into_foreign` in `vm_init_callback`,
        // and KVM hands it back exactly once, when no borrow of it is left.
        drop(unsafe { <Pin<KBox<T::Vm>> as ForeignOwnable>::from_foreign(vm_priv) });
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]).
    unsafe extern "C" fn supported_attributes_callback(vm_priv: *mut c_void) -> u64 {
        // SAFETY: KVM passes the `priv` of a live bound VM.
        T::supported_attributes(unsafe { &Self::vm(vm_priv) })
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]).
    unsafe extern "C" fn check_attributes_callback(vm_priv: *mut c_void, attributes: u64) -> c_int {
        // SAFETY: KVM passes the `priv` of a live bound VM.
        let vm = unsafe { Self::vm(vm_priv) };
        from_result(|| T::check_attributes(&vm, attributes).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]).
    unsafe extern "C" fn get_attributes_callback(vm_priv: *mut c_void, gfn: u64) -> u64 {
        // SAFETY: KVM passes the `priv` of a live bound VM.
        T::get_attributes(unsafe { &Self::vm(vm_priv) }, gfn)
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]).
    unsafe extern "C" fn range_has_attributes_callback(
        vm_priv: *mut c_void,
        start: u64,
        end: u64,
        mask: u64,
        attributes: u64,
    ) -> bool {
        // SAFETY: KVM passes the `priv` of a live bound VM.
        T::range_has_attributes(unsafe { &Self::vm(vm_priv) }, start, end, mask, attributes)
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]).
    unsafe extern "C" fn range_in_use_callback(vm_priv: *mut c_void, start: u64, end: u64) -> bool {
        // SAFETY: KVM passes the `priv` of a live bound VM.
        T::range_in_use(unsafe { &Self::vm(vm_priv) }, start, end)
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]).
    unsafe extern "C" fn set_attributes_callback(
        vm_priv: *mut c_void,
        start: u64,
        end: u64,
        attributes: u64,
    ) -> c_int {
        // SAFETY: KVM passes the `priv` of a live bound VM.
        let vm = unsafe { Self::vm(vm_priv) };
        from_result(|| {
            T::set_attributes(&vm, start, end, attributes)
                .map(|change| set_flags(change, || T::has_attributes(&vm)))
        })
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]), with `a`
    /// valid for reads and writes and not accessed by anyone else meanwhile.
    unsafe extern "C" fn fault_access_callback(
        vm_priv: *mut c_void,
        a: *mut bindings::kvm_memattr_access,
    ) -> u32 {
        // SAFETY: KVM passes an exclusive, valid `struct kvm_memattr_access`.
        let a = unsafe { &mut *a };
        let access = GuestAccess {
            access: a.access,
            block_orders: a.block_orders,
            offset: a.offset.into(),
            len: a.len.into(),
        };
        // SAFETY: KVM passes the `priv` of a live bound VM.
        let decision = T::fault_access(unsafe { &Self::vm(vm_priv) }, a.gfn, &access);
        a.exit_flags = decision.verdict.exit_flags;
        a.block_orders = decision.uniform_orders;
        if a.exit_flags != 0 {
            a.offset = decision.denied.offset;
            a.len = decision.denied.len;
        }
        decision.verdict.leaf
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]).
    unsafe extern "C" fn vm_ioctl_callback(vm_priv: *mut c_void, cmd: c_uint, arg: usize) -> isize {
        // SAFETY: KVM passes the `priv` of a live bound VM.
        let vm = unsafe { Self::vm(vm_priv) };
        match T::vm_ioctl(&vm, cmd, arg) {
            Ok(r) => r,
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]).
    unsafe extern "C" fn check_extension_callback(vm_priv: *mut c_void, cap: isize) -> c_int {
        // SAFETY: KVM passes the `priv` of a live bound VM.
        let vm = unsafe { Self::vm(vm_priv) };
        // Capabilities are numbered from 0 up; no provider knows others.
        u32::try_from(cap).map_or(0, |cap| T::check_extension(&vm, cap))
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]).
    unsafe extern "C" fn subpage_table_callback(vm_priv: *mut c_void) -> u64 {
        // SAFETY: KVM passes the `priv` of a live bound VM.
        T::subpage_table(unsafe { &Self::vm(vm_priv) })
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]).
    unsafe extern "C" fn subpage_table_miss_callback(vm_priv: *mut c_void, gfn: u64) -> c_int {
        // SAFETY: KVM passes the `priv` of a live bound VM.
        let vm = unsafe { Self::vm(vm_priv) };
        from_result(|| T::subpage_table_miss(&vm, gfn).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]), with `args`
    /// valid for reads of the four arguments of `struct kvm_enable_cap`.
    unsafe extern "C" fn enable_cap_callback(
        vm_priv: *mut c_void,
        cap: u32,
        flags: u32,
        args: *const u64,
        has_vcpus: bool,
    ) -> c_int {
        // SAFETY: KVM passes the `priv` of a live bound VM.
        let vm = unsafe { Self::vm(vm_priv) };
        // SAFETY: KVM passes the `args` array of a `struct kvm_enable_cap`.
        let args = unsafe { &*args.cast::<[u64; 4]>() };
        from_result(|| T::enable_cap(&vm, cap, flags, args, has_vcpus).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only KVM calls this, for a bound VM (see [`Self::vm`]), with the
    /// `seq_file` of a `show` call.
    unsafe extern "C" fn debugfs_show_callback(
        vm_priv: *mut c_void,
        m: *mut bindings::seq_file,
    ) -> c_int {
        // SAFETY: KVM passes the `priv` of a live bound VM.
        let vm = unsafe { Self::vm(vm_priv) };
        // SAFETY: KVM passes the `seq_file` of the `show` call we are in.
        let mut out = unsafe { SeqFile::from_raw(m) };
        // An error is a full buffer, which `seq_read()` handles itself.
        let _ = T::debugfs_show(&vm, &mut out);
        0
    }
}

impl<T: Provider> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `self.ops` is registered.  The module
        // is unloading, so no VM holds a reference on it and none can bind.
        unsafe { bindings::kvm_memattr_unregister(&*self.ops) };
    }
}
