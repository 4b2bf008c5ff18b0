// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes and the pages of VMCS12 that KVM reads for L2's VMX
 * instructions (VMX only).  With VMCS shadowing on in VMCS12, L2's VMREAD
 * and VMWRITE exit to L0, and KVM reads the bit of the field in L1's
 * VMREAD or VMWRITE bitmap to decide whether to reflect the exit to L1 or
 * to emulate the access on L1's shadow VMCS
 * (nested_vmx_exit_handled_vmcs_access()).  With VMFUNC and EPTP switching
 * on, L2's VMFUNC exits to L0, and KVM reads the entry of L1's EPTP list
 * that RCX names as EPT12's new pointer (nested_vmx_eptp_switching()).
 * KVM_RUN checks these pages for READ before it enters L2, at VMLAUNCH.
 *
 * Each case protects one of them, no-access: VMLAUNCH makes KVM_RUN fail
 * with EFAULT and KVM_EXIT_MEMORY_FAULT (READ) for the page, L2 did not
 * run, the vCPU is not in L2, and RIP is still at VMLAUNCH.  Once the VMM
 * clears the attributes, KVM_RUN retries VMLAUNCH and L2 uses the page:
 * its VMREAD of EMULATED_FIELD, whose bit is clear in both bitmaps, gets
 * what L1 put in the shadow VMCS, and its VMWRITE of it lands there, both
 * without an exit to L1; then (VMREAD and VMWRITE bitmap cases) L2's
 * access to EXITING_FIELD, whose bit is set, exits to L1 with the reason
 * VMREAD or VMWRITE, or (EPTP list case) L2's VMFUNC to entry 0, which
 * holds EPT12's current pointer, completes without an exit, and L2 exits
 * to L1 with VMCALL.  Buggy kernel: kvm_vcpu_read_guest() reads the page
 * unchecked, VMLAUNCH succeeds without an exit, L2 runs, and the test
 * fails at the KVM_RUN that must exit (L1 is done).
 *
 * KVM emulates VMCS shadowing for L1 always, EPTP switching only with EPT
 * (it needs nested EPT): with ept=0, the EPTP list case says why it does
 * not apply and checks that KVM does not offer EPTP switching.  On SVM,
 * none of these pages exist: the test says so and passes.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "vmx.h"
#include "kvm_memattr_util.h"
#include "kvm_memattr_nested.h"

/* VMCS fields and a control missing from the selftests' vmx.h (SDM B.2.1). */
#define VM_FUNCTION_CONTROL		0x00002018
#define EPTP_LIST_ADDRESS		0x00002024
#define VMX_VMFUNC_EPTP_SWITCHING	BIT_ULL(0)

#define VMLAUNCH_BYTES	"\x0f\x01\xc2"

/* Bit clear in both bitmaps: KVM emulates L2's accesses on the shadow VMCS. */
#define EMULATED_FIELD	GUEST_RIP
/* Bit set in both bitmaps: L2's accesses exit to L1. */
#define EXITING_FIELD	GUEST_RSP
#define L1_VALUE	0x1111222233334444ull
#define L2_VALUE	0x5555666677778888ull

/* How far L2 went: it ran; it made its accesses without an exit to L1. */
#define L2_STARTED	1
#define L2_EMULATED	2

#define L2_STACK_SIZE	256
static unsigned long l2_stack[L2_STACK_SIZE] __aligned(16);

enum list_case {
	VMREAD_BITMAP_CASE,
	VMWRITE_BITMAP_CASE,
	EPTP_LIST_CASE,
};

static const struct {
	const char *name;
	uint64_t field;		/* The VMCS12 field that names the page. */
	uint32_t l2_exit;	/* The reason of L2's last exit to L1. */
} list_cases[] = {
	[VMREAD_BITMAP_CASE] = { "VMLAUNCH with a no-access VMREAD bitmap",
				 VMREAD_BITMAP, EXIT_REASON_VMREAD },
	[VMWRITE_BITMAP_CASE] = { "VMLAUNCH with a no-access VMWRITE bitmap",
				  VMWRITE_BITMAP, EXIT_REASON_VMWRITE },
	[EPTP_LIST_CASE] = { "VMLAUNCH with a no-access EPTP list",
			     EPTP_LIST_ADDRESS, EXIT_REASON_VMCALL },
};

/* Shared with the guest. */
static uint64_t test_case;
static uint64_t eptp_list_gva;
static uint64_t eptp_list_gpa;
static uint64_t l2_progress;

static void l2_guest_code(void)
{
	uint64_t tc = READ_ONCE(test_case), value;

	WRITE_ONCE(l2_progress, L2_STARTED);
	GUEST_ASSERT(!vmread(EMULATED_FIELD, &value));
	__GUEST_ASSERT(value == L1_VALUE,
		       "L2 read 0x%lx from the shadow VMCS, L1 wrote 0x%llx",
		       value, L1_VALUE);
	GUEST_ASSERT(!vmwrite(EMULATED_FIELD, L2_VALUE));
	if (tc == EPTP_LIST_CASE)
		asm volatile("vmfunc" : : "a"(0), "c"(0) : "memory");
	WRITE_ONCE(l2_progress, L2_EMULATED);

	/* Exits to L1, which does not resume L2. */
	if (tc == VMREAD_BITMAP_CASE)
		vmread(EXITING_FIELD, &value);
	else if (tc == VMWRITE_BITMAP_CASE)
		vmwrite(EXITING_FIELD, 0);
	else
		vmcall();
}

/*
 * L1 links its shadow VMCS, which holds L1_VALUE in EMULATED_FIELD, turns
 * on VMFUNC with EPTP switching in the EPTP list case, reports the gpa of
 * the case's page read back from VMCS12, and runs L2.
 */
static void l1_guest_code(struct vmx_pages *vmx)
{
	uint64_t tc = READ_ONCE(test_case), ctl, reason;
	uint64_t *eptp_list = (uint64_t *)READ_ONCE(eptp_list_gva);

	memattr_l1_vmx_setup(vmx, l2_guest_code, &l2_stack[L2_STACK_SIZE - 1]);
	ctl = vmreadz(SECONDARY_VM_EXEC_CONTROL) | SECONDARY_EXEC_SHADOW_VMCS;
	GUEST_ASSERT(!vmwrite(VMCS_LINK_POINTER, vmx->shadow_vmcs_gpa));
	if (tc == EPTP_LIST_CASE) {
		eptp_list[0] = vmreadz(EPT_POINTER);
		ctl |= SECONDARY_EXEC_ENABLE_VMFUNC;
		GUEST_ASSERT(!vmwrite(VM_FUNCTION_CONTROL,
				      VMX_VMFUNC_EPTP_SWITCHING));
		GUEST_ASSERT(!vmwrite(EPTP_LIST_ADDRESS, READ_ONCE(eptp_list_gpa)));
	}
	GUEST_ASSERT(!vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl));

	GUEST_ASSERT(!vmptrld(vmx->shadow_vmcs_gpa));
	GUEST_ASSERT(!vmwrite(EMULATED_FIELD, L1_VALUE));
	GUEST_ASSERT(!vmptrld(vmx->vmcs_gpa));

	GUEST_SYNC(vmreadz(list_cases[tc].field));

	GUEST_ASSERT(!vmlaunch());
	reason = vmreadz(VM_EXIT_REASON);
	__GUEST_ASSERT(reason == list_cases[tc].l2_exit &&
		       READ_ONCE(l2_progress) == L2_EMULATED,
		       "L2 exited to L1 with reason 0x%lx at progress %lu, expected 0x%x at %u",
		       reason, READ_ONCE(l2_progress), list_cases[tc].l2_exit,
		       L2_EMULATED);

	/* L2's VMWRITE landed in the shadow VMCS. */
	GUEST_ASSERT(!vmptrld(vmx->shadow_vmcs_gpa));
	__GUEST_ASSERT(vmreadz(EMULATED_FIELD) == L2_VALUE,
		       "The shadow VMCS holds 0x%lx, L2 wrote 0x%llx",
		       vmreadz(EMULATED_FIELD), L2_VALUE);
	GUEST_DONE();
}

static void set_field_bit(uint8_t *bitmap, uint64_t field)
{
	bitmap[field / 8] |= BIT(field % 8);
}

/*
 * A VM whose vCPU runs L1 for case @tc, with EPT12 and an EPTP list in the
 * EPTP list case; returns the gpa of the page that the case protects.
 */
static struct kvm_vm *create_vm(struct kvm_vcpu **vcpu, enum list_case tc,
				uint64_t *gpa)
{
	struct vmx_pages *vmx;
	struct kvm_vm *vm;
	vm_vaddr_t gva;

	vm = vm_create_with_one_vcpu(vcpu, l1_guest_code);
	vmx = vcpu_alloc_vmx(vm, &gva);
	/* The lib clears both bitmaps: every field but EXITING_FIELD is emulated. */
	set_field_bit(vmx->vmread_hva, EXITING_FIELD);
	set_field_bit(vmx->vmwrite_hva, EXITING_FIELD);

	eptp_list_gva = 0;
	eptp_list_gpa = 0;
	if (tc == EPTP_LIST_CASE) {
		memattr_tdp_create(vm, vmx);
		eptp_list_gva = vm_vaddr_alloc_page(vm);
		eptp_list_gpa = addr_gva2gpa(vm, eptp_list_gva);
		memset(addr_gva2hva(vm, eptp_list_gva), 0, PAGE_SIZE);
	}
	*gpa = tc == VMREAD_BITMAP_CASE ? vmx->vmread_gpa :
	       tc == VMWRITE_BITMAP_CASE ? vmx->vmwrite_gpa : eptp_list_gpa;
	vcpu_args_set(*vcpu, 1, gva);

	test_case = tc;
	l2_progress = 0;
	sync_global_to_guest(vm, test_case);
	sync_global_to_guest(vm, eptp_list_gva);
	sync_global_to_guest(vm, eptp_list_gpa);
	sync_global_to_guest(vm, l2_progress);
	return vm;
}

/* The secondary processor-based controls that KVM lets L1 set. */
static uint32_t l1_secondary_controls(void)
{
	return kvm_get_feature_msr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32;
}

static bool l1_has_eptp_switching(void)
{
	return (l1_secondary_controls() & SECONDARY_EXEC_ENABLE_VMFUNC) &&
	       (kvm_get_feature_msr(MSR_IA32_VMX_VMFUNC) &
		VMX_VMFUNC_EPTP_SWITCHING);
}

/*
 * KVM offers L1 VMCS shadowing, which it emulates, and, in the EPTP list
 * case, VMFUNC with EPTP switching and EPT (KVM with EPT does when the CPU
 * has VMFUNC, as the emulated Intel CPU does): otherwise the case would
 * test nothing.
 */
static void assert_vmx_controls(enum list_case tc)
{
	uint32_t ctls2 = l1_secondary_controls();

	TEST_ASSERT(ctls2 & SECONDARY_EXEC_SHADOW_VMCS,
		    "KVM does not offer L1 VMCS shadowing: PROCBASED_CTLS2 allowed-1 0x%x",
		    ctls2);
	if (tc != EPTP_LIST_CASE)
		return;
	TEST_ASSERT((ctls2 & SECONDARY_EXEC_ENABLE_EPT) && l1_has_eptp_switching(),
		    "KVM with EPT does not offer L1 EPT and EPTP switching: PROCBASED_CTLS2 allowed-1 0x%x, VMFUNC 0x%lx",
		    ctls2, kvm_get_feature_msr(MSR_IA32_VMX_VMFUNC));
}

/*
 * L1 reports the gpa it named in VMCS12, and the VMM makes that page
 * no-access: VMLAUNCH exits READ for it, with the page unchanged
 * (memattr_run_denied() checks it and clears the attributes), L2 not run,
 * the vCPU in L1 and RIP at VMLAUNCH.  KVM_RUN retries VMLAUNCH, L2 uses
 * the page and L1 checks that it did.
 */
static bool run_case(enum list_case tc)
{
	const char *what = list_cases[tc].name;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint64_t gpa;

	assert_vmx_controls(tc);
	vm = create_vm(&vcpu, tc, &gpa);
	memattr_run_to_sync(vcpu, gpa, what);
	memattr_run_denied(vcpu, gpa, addr_gpa2hva(vm, gpa), NR | NW | NX,
			   KVM_MEMORY_EXIT_FLAG_READ, what);
	sync_global_from_guest(vm, l2_progress);
	TEST_ASSERT(!l2_progress && !memattr_vcpu_in_l2(vcpu),
		    "%s: L2 ran (progress %lu) or the vCPU is in L2 at the exit",
		    what, l2_progress);
	memattr_assert_rip_at(vcpu, VMLAUNCH_BYTES, what);

	memattr_run_to_done(vcpu, what);
	kvm_vm_free(vm);
	pr_info("%s: READ exit at VMLAUNCH; retried, L2 used the page\n", what);
	return true;
}

/*
 * Case 1: L2's VMREAD of EMULATED_FIELD is emulated on the shadow VMCS,
 * of EXITING_FIELD exits to L1: KVM read the VMREAD bitmap.
 */
static bool case_vmread_bitmap(void)
{
	return run_case(VMREAD_BITMAP_CASE);
}

/* Case 2: likewise for L2's VMWRITE and the VMWRITE bitmap. */
static bool case_vmwrite_bitmap(void)
{
	return run_case(VMWRITE_BITMAP_CASE);
}

/*
 * Case 3: L2's VMFUNC (EPTP switching to entry 0) completes without an
 * exit: KVM read entry 0 of the EPTP list, a valid EPT pointer (a failed
 * read, or an invalid pointer, would exit to L1 with reason VMFUNC).
 */
static bool case_eptp_list(void)
{
	if (!kvm_is_tdp_enabled()) {
		TEST_ASSERT(!l1_has_eptp_switching(),
			    "KVM offers L1 EPTP switching without EPT");
		pr_info("Shadow paging: KVM offers L1 neither nested EPT nor EPTP switching, so no EPTP list\n");
		return false;
	}
	return run_case(EPTP_LIST_CASE);
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "Case 1 (VMREAD bitmap)", case_vmread_bitmap },
		{ "Case 2 (VMWRITE bitmap)", case_vmwrite_bitmap },
		{ "Case 3 (EPTP list)", case_eptp_list },
	};
	/* No access (NR | NW | NX) is valid on every CPU and MMU. */
	TEST_REQUIRE(memattr_supported_by_default_vm() & NW);
	/* Whether KVM offers guests VMX, else SVM. */
	if (!memattr_l1_is_vmx()) {
		pr_info("SVM, and KVM offers guests no VMX: the VMREAD and VMWRITE bitmaps and the EPTP list are VMX's; not applicable\n");
		return 0;
	}
	pr_info("VMX, %s\n", memattr_mmu_name());
	memattr_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
