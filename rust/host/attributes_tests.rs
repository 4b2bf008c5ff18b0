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
        // (attributes, caps, access, leaf, exit flags)
        (0, NPT, ACCESS_WRITE, all, 0),
        (NW, NPT, ACCESS_READ, ACCESS_READ | ACCESS_EXEC, 0),
        (
            NW,
            NPT,
            ACCESS_WRITE,
            ACCESS_READ | ACCESS_EXEC,
            KVM_MEMORY_EXIT_FLAG_WRITE,
        ),
        (
            NX,
            NPT,
            ACCESS_EXEC,
            ACCESS_READ | ACCESS_WRITE,
            KVM_MEMORY_EXIT_FLAG_EXEC,
        ),
        (NW | NX, NPT, ACCESS_EXEC, ACCESS_READ, KVM_MEMORY_EXIT_FLAG_EXEC),
        (NR | NW, EPT_XO, ACCESS_EXEC, ACCESS_EXEC, 0),
        (NR | NW, EPT_XO, ACCESS_READ, ACCESS_EXEC, KVM_MEMORY_EXIT_FLAG_READ),
        (NR | NW | NX, NPT, ACCESS_READ, 0, KVM_MEMORY_EXIT_FLAG_READ),
        (NR | NW | NX, NPT, ACCESS_WRITE, 0, KVM_MEMORY_EXIT_FLAG_WRITE),
        (NR | NW | NX, EPT_XO, ACCESS_EXEC, 0, KVM_MEMORY_EXIT_FLAG_EXEC),
        // The emulated modes: the write is allowed but no leaf grants it.
        (NR | NX, NPT_EMULATED, ACCESS_WRITE, 0, 0),
        (NR | NX, NPT_EMULATED, ACCESS_READ, 0, KVM_MEMORY_EXIT_FLAG_READ),
        (NR | NX, NPT_EMULATED, ACCESS_EXEC, 0, KVM_MEMORY_EXIT_FLAG_EXEC),
        (NR, EPT_XO_EMULATED, ACCESS_WRITE, ACCESS_EXEC, 0),
        (NR, EPT_XO_EMULATED, ACCESS_EXEC, ACCESS_EXEC, 0),
        (
            NR,
            EPT_XO_EMULATED,
            ACCESS_READ,
            ACCESS_EXEC,
            KVM_MEMORY_EXIT_FLAG_READ,
        ),
        (
            KVM_MEMORY_ATTRIBUTE_PRIVATE | NW,
            NPT,
            ACCESS_READ,
            ACCESS_READ | ACCESS_EXEC,
            0,
        ),
    ];
    for (attributes, caps, access, leaf, exit_flags) in cases {
        let verdict = fault_verdict(attributes, access, caps);
        assert_eq!(verdict.leaf, leaf, "{attributes:#x} {access:#x}");
        assert_eq!(
            verdict.exit_flags, exit_flags,
            "{attributes:#x} {access:#x}"
        );
    }
}

#[test]
fn a_denied_access_always_has_one_exit_flag() {
    for attributes in 0..8u64 {
        for caps in [NPT, EPT_XO, NPT_EMULATED, EPT_XO_EMULATED] {
            for access in [ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC] {
                let verdict = fault_verdict(attributes, access, caps);
                let rights = Access::of(attributes);
                let allowed = match access {
                    ACCESS_READ => rights.read,
                    ACCESS_WRITE => rights.write,
                    _ => rights.exec,
                };
                assert_eq!(!allowed, verdict.exit_flags != 0);
                assert!(verdict.exit_flags.count_ones() <= 1);
            }
        }
    }
}

/// The MMUs KVM runs a guest on, and how their leaves encode permissions.
#[derive(Clone, Copy, Debug)]
enum Mmu {
    /// EPT with execute-only support: R, W, X are bits 0, 1, 2.
    EptExecOnly,
    /// EPT without it: same bits, but R=0 with X=1 is a misconfiguration.
    Ept,
    /// AMD NPT: present (bit 0), writable (bit 1), user (bit 2, always set
    /// by KVM), NX (bit 63); a present leaf is readable.
    Npt,
    /// Shadow paging (`npt=0`/`ept=0`): the guest's own format, as NPT.
    Shadow,
}

impl Mmu {
    const ALL: [Mmu; 4] = [Mmu::EptExecOnly, Mmu::Ept, Mmu::Npt, Mmu::Shadow];

    fn caps(self, emulated_writes: bool) -> VmCaps {
        VmCaps {
            exec_only: matches!(self, Mmu::EptExecOnly),
            private_mem: false,
            emulated_writes,
        }
    }

    /// The permission bits of a leaf that grants `rights` (0: no leaf).
    fn leaf_bits(self, rights: u32) -> u64 {
        let (r, w, x) = (
            rights & ACCESS_READ != 0,
            rights & ACCESS_WRITE != 0,
            rights & ACCESS_EXEC != 0,
        );
        match self {
            Mmu::EptExecOnly | Mmu::Ept => u64::from(r) | u64::from(w) << 1 | u64::from(x) << 2,
            Mmu::Npt | Mmu::Shadow if rights == 0 => 0,
            Mmu::Npt | Mmu::Shadow => 1 | u64::from(w) << 1 | 1 << 2 | u64::from(!x) << 63,
        }
    }

    /// Whether the hardware accepts a leaf with these bits.
    fn leaf_is_valid(self, bits: u64) -> bool {
        match self {
            // Write without read is a misconfiguration; so is execute-only
            // without the capability.
            Mmu::EptExecOnly => bits & 0b011 != 0b010,
            Mmu::Ept => bits == 0 || bits & 1 != 0,
            // Any present leaf: readability is implied.
            Mmu::Npt | Mmu::Shadow => true,
        }
    }
}

const NPT_LEAF_RW: u64 = 0b111;
const NX_BIT: u64 = 1 << 63;

/// One row per attribute value: its leaf on EPT with execute-only support,
/// on EPT without it, on NPT and shadow paging; `None` where it is refused.
type LeafTable<'a> = &'a [(u64, Option<u64>, Option<u64>, Option<u64>)];

fn check_leaf_table(table: LeafTable<'_>, emulated_writes: bool) {
    for &(attributes, ept_xo, ept, npt) in table {
        for mmu in Mmu::ALL {
            let expected = match mmu {
                Mmu::EptExecOnly => ept_xo,
                Mmu::Ept => ept,
                Mmu::Npt | Mmu::Shadow => npt,
            };
            let caps = mmu.caps(emulated_writes);
            let got = validate(attributes, caps)
                .ok()
                .map(|()| mmu.leaf_bits(leaf_rights(attributes, caps)));
            assert_eq!(got, expected, "{attributes:#x} on {mmu:?}");
        }
    }
}

/// The exact leaf of every accepted attribute value on every MMU.
#[test]
fn leaf_bits_of_every_combination() {
    check_leaf_table(
        &[
            (0, Some(0b111), Some(0b111), Some(NPT_LEAF_RW)),
            (NX, Some(0b011), Some(0b011), Some(NPT_LEAF_RW | NX_BIT)),
            (NW, Some(0b101), Some(0b101), Some(0b101)),
            (NW | NX, Some(0b001), Some(0b001), Some(0b101 | NX_BIT)),
            (NR | NW, Some(0b100), None, None),
            (NR, None, None, None),
            (NR | NX, None, None, None),
            (NR | NW | NX, Some(0), Some(0), Some(0)),
        ],
        false,
    );
}

/// With the emulated modes, write without read maps what the leaf can
/// express: nothing, or execute-only.
#[test]
fn leaf_bits_of_the_emulated_modes() {
    check_leaf_table(
        &[
            (NR | NX, Some(0), Some(0), Some(0)),
            (NR, Some(0b100), None, None),
        ],
        true,
    );
}

/// Whatever the value and the MMU, the leaf is one the hardware accepts and
/// grants no more than the attributes leave.
#[test]
fn no_leaf_is_a_misconfiguration_or_grants_too_much() {
    for attributes in 0..16u64 {
        for mmu in Mmu::ALL {
            for emulated in [false, true] {
                let caps = mmu.caps(emulated);
                let leaf = leaf_rights(attributes, caps);
                assert!(
                    mmu.leaf_is_valid(mmu.leaf_bits(leaf)),
                    "{attributes:#x} on {mmu:?}"
                );
                let rights = Access::of(attributes);
                assert!(leaf & ACCESS_READ == 0 || rights.read);
                assert!(leaf & ACCESS_WRITE == 0 || rights.write);
                assert!(leaf & ACCESS_EXEC == 0 || rights.exec);
            }
        }
    }
}
