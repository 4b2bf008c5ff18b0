/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SMRAM for the memory attribute tests of SMI entry and RSM, as upstream
 * smm_test.c sets it up: SMRAM is a memslot of SMM's own address space at
 * SMRAM_GPA, SMBASE is moved there, and the host injects the SMI with
 * KVM_SET_VCPU_EVENTS.  The SMI handler reports to the host with an IN
 * from SMM_SYNC_PORT and returns with RSM.
 */
#ifndef SELFTEST_KVM_MEMATTR_SMM_H
#define SELFTEST_KVM_MEMATTR_SMM_H

#include <stdint.h>
#include <string.h>

#include "kvm_util.h"
#include "processor.h"

#define SMRAM_GPA		0x1000000ull
#define SMRAM_SIZE		0x10000
#define SMRAM_PAGES		(SMRAM_SIZE / PAGE_SIZE)
/* Slot 1 of address space 1, the one KVM uses while the vCPU is in SMM. */
#define SMRAM_MEMSLOT		((1 << 16) | 1)

/* SMBASE = SMRAM_GPA: the handler runs at SMBASE + 0x8000 (CS base SMBASE). */
#define SMM_HANDLER_OFFSET	0x8000
/* The state-save area, SMBASE + 0xfe00..0xffff, and its page. */
#define SMM_SAVE_AREA_OFFSET	0xfe00
#define SMM_SAVE_PAGE_OFFSET	0xf000
#define SMM_SAVE_GPA		(SMRAM_GPA + SMM_SAVE_PAGE_OFFSET)
/* The SMBASE field of the (64-bit) state-save map. */
#define SMM_SAVED_SMBASE_OFFSET	0xff00

#define SMM_SYNC_PORT		0xe
#define SMM_HANDLER_STAGE	0xfe

/* mov $SMM_HANDLER_STAGE, %al; in $SMM_SYNC_PORT, %al; rsm */
static const uint8_t smm_handler[] = {
	0xb0, SMM_HANDLER_STAGE,
	0xe4, SMM_SYNC_PORT,
	0x0f, 0xaa,
};
/* Where the handler's RSM is, from SMBASE + SMM_HANDLER_OFFSET. */
#define SMM_RSM_OFFSET		4

static inline uint8_t *smram_hva(struct kvm_vm *vm, uint64_t offset)
{
	return (uint8_t *)addr_gpa2hva(vm, SMRAM_GPA) + offset;
}

/* SMRAM with the handler in it, and SMBASE moved there. */
static inline void smram_add(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SMRAM_GPA,
				    SMRAM_MEMSLOT, SMRAM_PAGES, 0);
	TEST_ASSERT(vm_phy_pages_alloc(vm, SMRAM_PAGES, SMRAM_GPA, SMRAM_MEMSLOT) ==
		    SMRAM_GPA, "Could not allocate SMRAM's guest physical addresses");
	memset(smram_hva(vm, 0), 0, SMRAM_SIZE);
	memcpy(smram_hva(vm, SMM_HANDLER_OFFSET), smm_handler, sizeof(smm_handler));
	vcpu_set_msr(vcpu, MSR_IA32_SMBASE, SMRAM_GPA);
}

/* Make an SMI pending, as smm_test.c's inject_smi(). */
static inline void smi_inject(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_events events;

	vcpu_events_get(vcpu, &events);
	events.smi.pending = 1;
	events.flags |= KVM_VCPUEVENT_VALID_SMM;
	vcpu_events_set(vcpu, &events);
}

static inline void assert_smm_events(struct kvm_vcpu *vcpu, uint8_t pending,
				     uint8_t smm, const char *what)
{
	struct kvm_vcpu_events events;

	vcpu_events_get(vcpu, &events);
	TEST_ASSERT(events.smi.pending == pending && events.smi.smm == smm,
		    "%s: SMI pending %u, in SMM %u; expected pending %u, in SMM %u",
		    what, events.smi.pending, events.smi.smm, pending, smm);
}

/*
 * KVM_RUN delivers the SMI: KVM writes the state-save area and the handler
 * reports to the host from SMM, with CS based at SMBASE.
 */
static inline void smm_run_to_handler(struct kvm_vcpu *vcpu, const char *what)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint32_t saved_smbase;
	int r;

	r = _vcpu_run(vcpu);
	TEST_ASSERT(!r,
		    "%s: KVM_RUN failed (errno %d) on the way to the SMI handler: exit reason %s, memory fault at 0x%llx, flags 0x%llx",
		    what, errno, exit_reason_str(run->exit_reason),
		    run->memory_fault.gpa, run->memory_fault.flags);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_IO && run->io.port == SMM_SYNC_PORT &&
		    run->io.direction == KVM_EXIT_IO_IN,
		    "%s: expected the SMI handler's IN from port 0x%x, got exit %s (port 0x%x)",
		    what, SMM_SYNC_PORT, exit_reason_str(run->exit_reason),
		    run->exit_reason == KVM_EXIT_IO ? run->io.port : 0);
	vcpu_regs_get(vcpu, &regs);
	vcpu_sregs_get(vcpu, &sregs);
	TEST_ASSERT((regs.rax & 0xff) == SMM_HANDLER_STAGE && sregs.cs.base == SMRAM_GPA,
		    "%s: IN from port 0x%x with AL 0x%llx, CS base 0x%llx: not the SMI handler",
		    what, SMM_SYNC_PORT, regs.rax & 0xff, sregs.cs.base);
	assert_smm_events(vcpu, 0, 1, what);

	memcpy(&saved_smbase, smram_hva(vcpu->vm, SMM_SAVED_SMBASE_OFFSET),
	       sizeof(saved_smbase));
	TEST_ASSERT(saved_smbase == SMRAM_GPA,
		    "%s: SMI entry saved SMBASE 0x%x in the state-save area, expected 0x%llx",
		    what, saved_smbase, SMRAM_GPA);
}

/* The vCPU is in SMM, stopped at the handler's RSM. */
static inline void assert_at_rsm(struct kvm_vcpu *vcpu, const char *what)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	assert_smm_events(vcpu, 0, 1, what);
	vcpu_regs_get(vcpu, &regs);
	vcpu_sregs_get(vcpu, &sregs);
	TEST_ASSERT(regs.rip == SMM_HANDLER_OFFSET + SMM_RSM_OFFSET &&
		    sregs.cs.base == SMRAM_GPA,
		    "%s: the vCPU should be at the handler's RSM (RIP 0x%x, CS base 0x%llx), is at RIP 0x%llx, CS base 0x%llx",
		    what, SMM_HANDLER_OFFSET + SMM_RSM_OFFSET, SMRAM_GPA,
		    regs.rip, sregs.cs.base);
}

#endif /* SELFTEST_KVM_MEMATTR_SMM_H */
