// SPDX-License-Identifier: GPL-2.0

//! The loaded module: its registration with KVM.

use crate::{
    provider::{Provider, Registration},
    vm::VmContext,
};
use kernel::{c_str, prelude::*};

/// The module, registered with KVM while it is loaded.
pub(crate) struct KvmMemattr {
    _registration: Registration<Self>,
}

impl Provider for KvmMemattr {
    type Vm = KBox<VmContext>;

    const NAME: &'static CStr = c_str!("kvm_memattr");

    fn vm_init() -> Result<Self::Vm> {
        Ok(KBox::new(VmContext::new(), GFP_KERNEL)?)
    }
}

impl kernel::Module for KvmMemattr {
    fn init(module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            _registration: Registration::new(module)?,
        })
    }
}
