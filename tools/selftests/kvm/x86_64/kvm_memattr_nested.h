/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The L1 hypervisor of the memory attribute tests of nested paths: L1 runs
 * L2 without nested paging, intercepting neither I/O (L2 reports to the
 * host with GUEST_SYNC) nor anything but MSRs, which it intercepts through
 * its MSR permission map (SVM) or bitmap (VMX), both all clear: KVM reads
 * or maps them for L2, L2's MSR accesses do not exit to L1.  L2 ends with
 * VMMCALL/VMCALL.
 */
#ifndef SELFTEST_KVM_MEMATTR_NESTED_H
#define SELFTEST_KVM_MEMATTR_NESTED_H

#include "kvm_util.h"
#include "processor.h"
#include "svm_util.h"
#include "vmx.h"

/* Whether L1 is a VMX hypervisor, else SVM; the test needs one of them. */
static inline bool memattr_l1_is_vmx(void)
{
	bool vmx;

	TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_SVM) || kvm_cpu_has(X86_FEATURE_VMX));
	vmx = kvm_cpu_has(X86_FEATURE_VMX);
	TEST_ASSERT(vmx != kvm_cpu_has(X86_FEATURE_SVM),
		    "Exactly one of VMX and SVM should be offered to guests");
	return vmx;
}

/* @l2_rsp: as if called, the stack is 16-byte aligned before the call. */
static inline void memattr_l1_svm_setup(struct svm_test_data *svm,
					void *l2_code, void *l2_rsp)
{
	generic_svm_setup(svm, l2_code, l2_rsp);
	svm->vmcb->control.intercept |= BIT_ULL(INTERCEPT_MSR_PROT);
}

static inline void memattr_l1_svm_run(struct svm_test_data *svm)
{
	struct vmcb *vmcb = svm->vmcb;

	run_guest(vmcb, svm->vmcb_gpa);
	__GUEST_ASSERT(vmcb->control.exit_code == SVM_EXIT_VMMCALL,
		       "L2 exited to L1 with code 0x%x, info 0x%lx 0x%lx",
		       vmcb->control.exit_code, vmcb->control.exit_info_1,
		       vmcb->control.exit_info_2);
}

/* Returns the primary processor-based controls, with the MSR bitmap. */
static inline uint64_t memattr_l1_vmx_setup(struct vmx_pages *vmx,
					    void *l2_code, void *l2_rsp)
{
	uint64_t ctl;

	GUEST_ASSERT(prepare_for_vmx_operation(vmx));
	GUEST_ASSERT(load_vmcs(vmx));
	prepare_vmcs(vmx, l2_code, l2_rsp);
	/* The lib's setup names the bitmap but does not enable it. */
	ctl = vmreadz(CPU_BASED_VM_EXEC_CONTROL) | CPU_BASED_USE_MSR_BITMAPS;
	GUEST_ASSERT(!vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl));
	return ctl;
}

static inline void memattr_l1_vmx_run(void)
{
	uint64_t reason;

	GUEST_ASSERT(!vmlaunch());
	reason = vmreadz(VM_EXIT_REASON);
	__GUEST_ASSERT((reason & 0xffff) == EXIT_REASON_VMCALL,
		       "L2 exited to L1 with reason 0x%lx, qualification 0x%lx",
		       reason, vmreadz(EXIT_QUALIFICATION));
}

/* L1 runs L2 with its NPT rooted at @npt_cr3 (an L1 gpa), 0 for none. */
static inline void memattr_l1_svm_enable_npt(struct svm_test_data *svm,
					     uint64_t npt_cr3)
{
	if (!npt_cr3)
		return;
	svm->vmcb->control.nested_ctl |= SVM_NESTED_CTL_NP_ENABLE;
	svm->vmcb->control.nested_cr3 = npt_cr3;
}

/*
 * Nested TDP tables that the host builds in L1's memory for L1 to run L2
 * with: EPT (VMX) or NPT (SVM), four levels.  Entries of both formats: bits
 * 2:0 of a table entry grant everything (EPT RWX, NPT P|RW|US), bit 1 is
 * write in both.  Leaves grant everything too and have their accessed and
 * dirty bits set.
 */
#define MEMATTR_TDP_TABLE_ALL	0x7ull
#define MEMATTR_TDP_WRITABLE	BIT_ULL(1)
#define MEMATTR_EPT_LEAF_ALL	(MEMATTR_TDP_TABLE_ALL | (6ull << 3) /* WB */ | \
				 BIT_ULL(8) | BIT_ULL(9))
#define MEMATTR_NPT_LEAF_ALL	(PTE_PRESENT_MASK | PTE_WRITABLE_MASK | \
				 PTE_USER_MASK | PTE_ACCESSED_MASK | PTE_DIRTY_MASK)

struct memattr_tdp {
	uint64_t root_gpa;
	uint64_t leaf_all;
};

/* The entry of L2 gpa @l2_gpa in the tables @tdp, created. */
static inline uint64_t *memattr_tdp_entry(struct kvm_vm *vm,
					  const struct memattr_tdp *tdp,
					  uint64_t l2_gpa)
{
	uint64_t *table = addr_gpa2hva(vm, tdp->root_gpa), *entry;
	int level;

	for (level = 3; level > 0; level--) {
		entry = &table[(l2_gpa >> (PAGE_SHIFT + 9 * level)) & 0x1ff];
		if (!(*entry & MEMATTR_TDP_TABLE_ALL))
			*entry = vm_alloc_page_table(vm) | MEMATTR_TDP_TABLE_ALL;
		table = addr_gpa2hva(vm, PTE_GET_PA(*entry));
	}
	return &table[(l2_gpa >> PAGE_SHIFT) & 0x1ff];
}

/* Map [@l2_gpa, +@npages pages) to L1's [@l1_gpa, ...) in @tdp, RWX. */
static inline void memattr_tdp_map(struct kvm_vm *vm,
				   const struct memattr_tdp *tdp,
				   uint64_t l2_gpa, uint64_t l1_gpa,
				   uint64_t npages)
{
	for (; npages--; l2_gpa += PAGE_SIZE, l1_gpa += PAGE_SIZE)
		*memattr_tdp_entry(vm, tdp, l2_gpa) = l1_gpa | tdp->leaf_all;
}

/*
 * New nested TDP tables: L1's EPT, named in @vmx (VMX), or, with @vmx NULL,
 * its NPT, whose root the caller hands to memattr_l1_svm_enable_npt().  All
 * of memslot 0, L2's code, stack and page tables included, is mapped at the
 * same L2 gpas.
 */
static inline struct memattr_tdp memattr_tdp_create(struct kvm_vm *vm,
						    struct vmx_pages *vmx)
{
	struct userspace_mem_region *slot0 = memslot2region(vm, 0);
	struct memattr_tdp tdp;

	if (vmx) {
		prepare_eptp(vmx, vm, 0);
		tdp.root_gpa = vmx->eptp_gpa;
		tdp.leaf_all = MEMATTR_EPT_LEAF_ALL;
	} else {
		tdp.root_gpa = vm_alloc_page_table(vm);
		tdp.leaf_all = MEMATTR_NPT_LEAF_ALL;
	}
	memattr_tdp_map(vm, &tdp, slot0->region.guest_phys_addr,
			slot0->region.guest_phys_addr,
			slot0->region.memory_size / PAGE_SIZE);
	return tdp;
}

/* In L2 (guest mode); the nested state is at most VMCS12 and its shadow. */
static inline bool memattr_vcpu_in_l2(struct kvm_vcpu *vcpu)
{
	static union {
		struct kvm_nested_state state;
		uint8_t bytes[sizeof(struct kvm_nested_state) +
			      2 * KVM_STATE_NESTED_VMX_VMCS_SIZE];
	} nested;

	nested.state.size = sizeof(nested);
	vcpu_nested_state_get(vcpu, &nested.state);
	return nested.state.flags & KVM_STATE_NESTED_GUEST_MODE;
}

#endif /* SELFTEST_KVM_MEMATTR_NESTED_H */
