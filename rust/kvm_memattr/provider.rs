// SPDX-License-Identifier: GPL-2.0

//! Registration of a memory attribute provider with KVM.
//!
//! C header: [`include/linux/kvm_memattr_ops.h`](srctree/include/linux/kvm_memattr_ops.h)

use core::{ffi::c_void, marker::PhantomData};
use kernel::{
    bindings,
    error::{from_result, to_result},
    prelude::*,
    types::ForeignOwnable,
    ThisModule,
};

/// What KVM calls into for the VMs bound to a provider.
pub(crate) trait Provider {
    /// State kept per VM, from the VM's creation to its destruction.
    type Vm: ForeignOwnable + Send + Sync;

    /// Name of the provider in KVM's log messages.
    const NAME: &'static CStr;

    /// Creates the state of a VM that is being created.
    fn vm_init() -> Result<Self::Vm>;
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

    /// Binds a new VM to the provider.
    ///
    /// # Safety
    ///
    /// Only KVM calls this, through the ops table, with `vm_priv` valid for
    /// writes.
    unsafe extern "C" fn vm_init_callback(
        _kvm: *mut bindings::kvm,
        vm_priv: *mut *mut c_void,
    ) -> core::ffi::c_int {
        from_result(|| {
            let vm = T::vm_init()?;
            // SAFETY: KVM passes a `vm_priv` valid for writes, per the
            // function's safety requirements.
            unsafe { *vm_priv = vm.into_foreign().cast_mut() };
            Ok(0)
        })
    }

    /// Releases the state of a VM that is being destroyed.
    ///
    /// # Safety
    ///
    /// Only KVM calls this, through the ops table, once per VM, with the
    /// `vm_priv` that `vm_init_callback` stored.
    unsafe extern "C" fn vm_destroy_callback(_kvm: *mut bindings::kvm, vm_priv: *mut c_void) {
        // SAFETY: `vm_priv` came from `into_foreign` in `vm_init_callback`,
        // and KVM hands it back exactly once, when no borrow of it is left.
        drop(unsafe { T::Vm::from_foreign(vm_priv) });
    }
}

impl<T: Provider> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant `self.ops` is registered.  The module
        // is unloading, so no VM holds a reference on it and none can bind.
        unsafe { bindings::kvm_memattr_unregister(&*self.ops) };
    }
}
