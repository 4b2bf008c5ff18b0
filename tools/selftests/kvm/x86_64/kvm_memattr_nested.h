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

#endif /* SELFTEST_KVM_MEMATTR_NESTED_H */
