// SPDX-License-Identifier: GPL-2.0

//! The combination rules, over every value of the protection bits.

use crate::attributes::*;
use crate::uapi::*;

const NPT: VmCaps = VmCaps {
    exec_only: false,
    private_mem: false,
    emulated_writes: false,
};
const EPT_XO: VmCaps = VmCaps {
    exec_only: true,
    ..NPT
};
const NPT_EMULATED: VmCaps = VmCaps {
    emulated_writes: true,
    ..NPT
};
const EPT_XO_EMULATED: VmCaps = VmCaps {
    emulated_writes: true,
    ..EPT_XO
};

const NR: u64 = KVM_MEMORY_ATTRIBUTE_NO_READ;
const NW: u64 = KVM_MEMORY_ATTRIBUTE_NO_WRITE;
const NX: u64 = KVM_MEMORY_ATTRIBUTE_NO_EXEC;

#[test]
fn combination_table() {
    use Invalid::*;
    // (attributes, without execute-only leaves, with them)
    let table = [
        (0, Ok(()), Ok(())),
        (NX, Ok(()), Ok(())),
        (NW, Ok(()), Ok(())),
        (NW | NX, Ok(()), Ok(())),
        (NR, Err(WriteWithoutRead), Err(WriteWithoutRead)),
        (NR | NX, Err(WriteWithoutRead), Err(WriteWithoutRead)),
        (NR | NW, Err(ExecOnlyUnsupported), Ok(())),
        (NR | NW | NX, Ok(()), Ok(())),
    ];
    for (attributes, npt, ept_xo) in table {
        assert_eq!(validate(attributes, NPT), npt, "{attributes:#x} on NPT");
        assert_eq!(
            validate(attributes, EPT_XO),
            ept_xo,
            "{attributes:#x} on EPT"
        );
    }
}

/// With `KVM_CAP_MEMORY_ATTRIBUTES_EMULATED`: write without read is
/// accepted, execute without read still needs execute-only leaves.
#[test]
fn combination_table_with_emulated_writes() {
    use Invalid::*;
    // (attributes, without execute-only leaves, with them)
    let table = [
        (0, Ok(()), Ok(())),
        (NX, Ok(()), Ok(())),
        (NW, Ok(()), Ok(())),
        (NW | NX, Ok(()), Ok(())),
        (NR, Err(ExecOnlyUnsupported), Ok(())),
        (NR | NX, Ok(()), Ok(())),
        (NR | NW, Err(ExecOnlyUnsupported), Ok(())),
        (NR | NW | NX, Ok(()), Ok(())),
    ];
    for (attributes, npt, ept_xo) in table {
        assert_eq!(
            validate(attributes, NPT_EMULATED),
            npt,
            "{attributes:#x} on NPT"
        );
        assert_eq!(
            validate(attributes, EPT_XO_EMULATED),
            ept_xo,
            "{attributes:#x} on EPT"
        );
    }
}

#[test]
fn advertised_bits() {
    assert_eq!(supported(NPT), NW | NX);
    assert_eq!(supported(EPT_XO), NR | NW | NX);
    assert_eq!(supported(NPT_EMULATED), NR | NW | NX);
    assert_eq!(supported(EPT_XO_EMULATED), NR | NW | NX);
    let private = VmCaps {
        private_mem: true,
        ..NPT
    };
    assert_eq!(supported(private), NW | NX | KVM_MEMORY_ATTRIBUTE_PRIVATE);
}

#[test]
fn every_unknown_bit_is_refused() {
    for bit in 0..64 {
        let attributes = 1u64 << bit;
        let known = PROTECTIONS | KVM_MEMORY_ATTRIBUTE_PRIVATE;
        if attributes & known == 0 {
            for caps in [NPT, EPT_XO, NPT_EMULATED, EPT_XO_EMULATED] {
                assert_eq!(validate(attributes, caps), Err(Invalid::UnknownBits));
            }
        }
    }
}

#[test]
fn private_only_where_the_vm_has_private_memory() {
    let private = VmCaps {
        private_mem: true,
        ..NPT
    };
    let p = KVM_MEMORY_ATTRIBUTE_PRIVATE;
    assert_eq!(validate(p, NPT), Err(Invalid::UnknownBits));
    assert_eq!(validate(p, private), Ok(()));
    assert_eq!(validate(p | NW, private), Ok(()));
    assert_eq!(validate(p | NR, private), Err(Invalid::WriteWithoutRead));
}

/// Without the emulated access modes, the only ones KVM's MMU can map.
#[test]
fn accepted_values_never_allow_write_without_read() {
    for attributes in 0..16u64 {
        for caps in [NPT, EPT_XO] {
            if validate(attributes, caps).is_ok() {
                let access = Access::of(attributes);
                assert!(access.read || !access.write, "{attributes:#x}");
            }
        }
    }
}

#[test]
fn fault_verdicts() {
    use crate::uapi::{
        KVM_MEMORY_EXIT_FLAG_EXEC, KVM_MEMORY_EXIT_FLAG_READ, KVM_MEMORY_EXIT_FLAG_WRITE,
    };
    let all = ACCESS_READ | ACCESS_WRITE | ACCESS_EXEC;
    let cases = [
        // (attributes, access, allowed, exit flags)
        (0, ACCESS_WRITE, all, 0),
        (NW, ACCESS_READ, ACCESS_READ | ACCESS_EXEC, 0),
        (
            NW,
            ACCESS_WRITE,
            ACCESS_READ | ACCESS_EXEC,
            KVM_MEMORY_EXIT_FLAG_WRITE,
        ),
        (
            NX,
            ACCESS_EXEC,
            ACCESS_READ | ACCESS_WRITE,
            KVM_MEMORY_EXIT_FLAG_EXEC,
        ),
        (NW | NX, ACCESS_EXEC, ACCESS_READ, KVM_MEMORY_EXIT_FLAG_EXEC),
        (NR | NW, ACCESS_EXEC, ACCESS_EXEC, 0),
        (NR | NW, ACCESS_READ, ACCESS_EXEC, KVM_MEMORY_EXIT_FLAG_READ),
        (NR | NW | NX, ACCESS_READ, 0, KVM_MEMORY_EXIT_FLAG_READ),
        (NR | NW | NX, ACCESS_WRITE, 0, KVM_MEMORY_EXIT_FLAG_WRITE),
        (NR | NW | NX, ACCESS_EXEC, 0, KVM_MEMORY_EXIT_FLAG_EXEC),
        // The emulated modes: the write is allowed, the rest exits.
        (NR | NX, ACCESS_WRITE, ACCESS_WRITE, 0),
        (NR | NX, ACCESS_READ, ACCESS_WRITE, KVM_MEMORY_EXIT_FLAG_READ),
        (NR | NX, ACCESS_EXEC, ACCESS_WRITE, KVM_MEMORY_EXIT_FLAG_EXEC),
        (NR, ACCESS_EXEC, ACCESS_WRITE | ACCESS_EXEC, 0),
        (NR, ACCESS_READ, ACCESS_WRITE | ACCESS_EXEC, KVM_MEMORY_EXIT_FLAG_READ),
        (
            KVM_MEMORY_ATTRIBUTE_PRIVATE | NW,
            ACCESS_READ,
            ACCESS_READ | ACCESS_EXEC,
            0,
        ),
    ];
    for (attributes, access, allowed, exit_flags) in cases {
        let verdict = fault_verdict(attributes, access);
        assert_eq!(verdict.allowed, allowed, "{attributes:#x} {access:#x}");
        assert_eq!(
            verdict.exit_flags, exit_flags,
            "{attributes:#x} {access:#x}"
        );
    }
}

#[test]
fn a_denied_access_always_has_one_exit_flag() {
    for attributes in 0..8u64 {
        for access in [ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC] {
            let verdict = fault_verdict(attributes, access);
            let denied = verdict.allowed & access == 0;
            assert_eq!(denied, verdict.exit_flags != 0);
            assert!(verdict.exit_flags.count_ones() <= 1);
        }
    }
}
