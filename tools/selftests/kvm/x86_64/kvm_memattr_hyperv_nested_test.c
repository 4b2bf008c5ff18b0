// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes and L1's partition assist page, which KVM reads when it
 * handles a Hyper-V TLB flush hypercall made by L2 itself (L2 TLB flush,
 * "direct hypercall": HV_X64_NESTED_DIRECT_FLUSH).  The test VM (L1) is a
 * Hyper-V-style hypervisor: it enables the direct hypercall in its VP assist
 * page and names its partition assist page, with a TLB lock count of 1, in
 * the Hyper-V enlightenments of its VMCB12 (SVM) or of its enlightened VMCS
 * (VMX, KVM_CAP_HYPERV_ENLIGHTENED_VMCS).  L2 makes a fast
 * HvFlushVirtualAddressSpace with VMMCALL/VMCALL; L0 handles it without
 * exiting to L1, reads the lock count from the partition assist page
 * (kvm_hv_hypercall_complete(): kvm_read_guest() of
 * to_hv_vcpu(vcpu)->nested.pa_page_gpa) and, the count being non-zero,
 * completes the hypercall and gives L1 the synthetic "trap after flush"
 * exit (SVM: HV_SVM_EXITCODE_ENL, HV_SVM_ENL_EXITCODE_TRAP_AFTER_FLUSH; VMX:
 * HV_VMX_SYNTHETIC_EXIT_REASON_TRAP_AFTER_FLUSH).
 *
 * With the partition assist page no-access, that read is denied: KVM_RUN
 * fails with EFAULT and KVM_EXIT_MEMORY_FAULT, flags READ, for the page
 * (page-aligned gpa, 4096 bytes), the page is unchanged and L2's RIP is
 * still at its hypercall; once the VMM has cleared the attributes, KVM_RUN
 * retries the hypercall, which completes, and L1 sees the trap after flush
 * with L2's RIP past the hypercall.
 *
 * Buggy kernel (without "KVM: x86: hyper-v: Check the partition assist page
 * of L2's TLB flushes"): the uncached kvm_read_guest() is not checked, KVM
 * reads the lock count from the no-access page and completes the flush;
 * KVM_RUN returns to the VMM with L1's GUEST_SYNC(STAGE_TRAPPED), not the
 * exit, and the test fails at "KVM_RUN should fail with EFAULT".
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kvm_util.h"
#include "processor.h"
#include "hyperv.h"
#include "svm_util.h"
#include "vmx.h"
#include "test_util.h"
#include "kvm_memattr_util.h"
#include "kvm_memattr_nested.h"

/* L1's partition assist page, alone in its slot. */
#define TEST_GPA	0xc0000000ull
#define TEST_SLOT	10
#define FILL_BYTE	0x5a
/* L1's TLB lock count, the first u32 of the page: non-zero, so L1 traps. */
#define TLB_LOCK_COUNT	1

/* L2 is about to make its hypercall; L1 has seen the trap after flush. */
#define STAGE_HYPERCALL	1
#define STAGE_TRAPPED	2

#define VMCALL_BYTES	"\x0f\x01\xc1"
#define VMMCALL_BYTES	"\x0f\x01\xd9"
#define HYPERCALL_LEN	3

#define L2_STACK_SIZE	256
static unsigned long l2_stack[L2_STACK_SIZE] __aligned(16);

/* Shared with the guest. */
static bool is_vmx;
/* L2's RIP as L1 finds it at the trap after flush. */
static uint64_t l2_rip_at_trap;

/*
 * A fast HvFlushVirtualAddressSpace of all address spaces on all
 * processors, with the instruction of the CPU (no #UD and patching by KVM's
 * emulator on AMD).  With the lock count set, it never returns to L2.
 */
static noinline uint64_t l2_flush_hypercall(void)
{
	register uint64_t flags asm("r8") = HV_FLUSH_ALL_PROCESSORS |
					     HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES;
	uint64_t control = HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE | HV_HYPERCALL_FAST_BIT;
	uint64_t status;

	if (is_vmx)
		asm volatile("vmcall" : "=a"(status), "+c"(control)
			     : "d"(0ull), "r"(flags) : "cc", "memory");
	else
		asm volatile("vmmcall" : "=a"(status), "+c"(control)
			     : "d"(0ull), "r"(flags) : "cc", "memory");
	return status;
}

static void l2_guest_code(void)
{
	uint64_t status;

	GUEST_SYNC(STAGE_HYPERCALL);
	status = l2_flush_hypercall();
	GUEST_FAIL("L2's flush hypercall returned to L2 with status 0x%lx: L1 should have had the trap after flush",
		   status);
}

static void l1_svm(struct svm_test_data *svm, struct hyperv_test_pages *hv)
{
	struct vmcb *vmcb = svm->vmcb;
	struct hv_vmcb_enlightenments *hve = &vmcb->control.hv_enlightenments;

	generic_svm_setup(svm, l2_guest_code, &l2_stack[L2_STACK_SIZE - 1]);
	hve->partition_assist_page = hv->partition_assist_gpa;
	hve->hv_enlightenments_control.nested_flush_hypercall = 1;
	hve->hv_vm_id = 1;
	hve->hv_vp_id = 1;

	run_guest(vmcb, svm->vmcb_gpa);
	__GUEST_ASSERT(vmcb->control.exit_code == HV_SVM_EXITCODE_ENL &&
		       vmcb->control.exit_info_1 == HV_SVM_ENL_EXITCODE_TRAP_AFTER_FLUSH,
		       "L2 exited to L1 with code 0x%x, info 0x%lx 0x%lx; expected the trap after flush",
		       vmcb->control.exit_code, vmcb->control.exit_info_1,
		       vmcb->control.exit_info_2);
	/* KVM set L2's status before the exit (VMX: L1's VM-exit code loses it). */
	__GUEST_ASSERT((vmcb->save.rax & 0xffff) == HV_STATUS_SUCCESS,
		       "L2's flush hypercall status 0x%lx, expected success",
		       vmcb->save.rax);
	l2_rip_at_trap = vmcb->save.rip;
}

static void l1_vmx(struct vmx_pages *vmx, struct hyperv_test_pages *hv)
{
	uint64_t reason;

	evmcs_enable();
	GUEST_ASSERT(prepare_for_vmx_operation(vmx));
	GUEST_ASSERT(load_evmcs(hv));
	prepare_vmcs(vmx, l2_guest_code, &l2_stack[L2_STACK_SIZE - 1]);
	current_evmcs->partition_assist_page = hv->partition_assist_gpa;
	current_evmcs->hv_enlightenments_control.nested_flush_hypercall = 1;
	current_evmcs->hv_vm_id = 1;
	current_evmcs->hv_vp_id = 1;

	GUEST_ASSERT(!vmlaunch());
	reason = vmreadz(VM_EXIT_REASON);
	__GUEST_ASSERT(reason == HV_VMX_SYNTHETIC_EXIT_REASON_TRAP_AFTER_FLUSH,
		       "L2 exited to L1 with reason 0x%lx, qualification 0x%lx; expected the trap after flush",
		       reason, vmreadz(EXIT_QUALIFICATION));
	l2_rip_at_trap = vmreadz(GUEST_RIP);
}

static void l1_guest_code(void *nested, struct hyperv_test_pages *hv)
{
	wrmsr(HV_X64_MSR_GUEST_OS_ID, HYPERV_LINUX_OS_ID);
	enable_vp_assist(hv->vp_assist_gpa, hv->vp_assist);
	current_vp_assist->nested_control.features.directhypercall = 1;
	*(volatile uint32_t *)hv->partition_assist = TLB_LOCK_COUNT;

	if (is_vmx)
		l1_vmx(nested, hv);
	else
		l1_svm(nested, hv);
	GUEST_SYNC(STAGE_TRAPPED);
	GUEST_DONE();
}

static uint8_t *pa_page_hva(struct kvm_vm *vm)
{
	return addr_gpa2hva(vm, TEST_GPA);
}

/*
 * A VM whose L1 names the page at TEST_GPA as its partition assist page,
 * run until L2 is about to make its flush hypercall.
 */
static struct kvm_vm *create_vm(struct kvm_vcpu **vcpu)
{
	vm_vaddr_t nested_gva, hv_gva;
	struct hyperv_test_pages *hv;
	struct kvm_vm *vm;

	vm = vm_create_with_one_vcpu(vcpu, l1_guest_code);
	vcpu_set_hv_cpuid(*vcpu);
	if (is_vmx) {
		vcpu_enable_evmcs(*vcpu);
		vcpu_alloc_vmx(vm, &nested_gva);
	} else {
		vcpu_alloc_svm(vm, &nested_gva);
	}

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, 1, 0);
	virt_map(vm, TEST_GPA, TEST_GPA, 1);
	memset(pa_page_hva(vm), FILL_BYTE, PAGE_SIZE);
	hv = vcpu_alloc_hyperv_test_pages(vm, &hv_gva);
	hv->partition_assist = (void *)TEST_GPA;
	hv->partition_assist_hva = pa_page_hva(vm);
	hv->partition_assist_gpa = TEST_GPA;

	vcpu_args_set(*vcpu, 2, nested_gva, hv_gva);
	sync_global_to_guest(vm, is_vmx);
	memattr_run_to_sync(*vcpu, STAGE_HYPERCALL, "L1 runs L2");
	return vm;
}

/* The bytes at @rip are L2's hypercall instruction. */
static void assert_at_hypercall(struct kvm_vm *vm, uint64_t rip, const char *what)
{
	const char *insn = is_vmx ? VMCALL_BYTES : VMMCALL_BYTES;
	uint8_t *bytes = addr_gva2hva(vm, rip);

	TEST_ASSERT(!memcmp(bytes, insn, HYPERCALL_LEN),
		    "%s: RIP 0x%lx is not at L2's %s (bytes %02x %02x %02x)",
		    what, rip, is_vmx ? "VMCALL" : "VMMCALL",
		    bytes[0], bytes[1], bytes[2]);
}

/*
 * L2's hypercall completed and L1 saw the trap after flush, with L2's RIP
 * right past the hypercall; KVM left the partition assist page as L1 wrote it.
 */
static uint64_t assert_trapped(struct kvm_vcpu *vcpu, const char *what)
{
	uint8_t *hva = pa_page_hva(vcpu->vm);
	int i;

	memattr_run_to_sync(vcpu, STAGE_TRAPPED, what);
	sync_global_from_guest(vcpu->vm, l2_rip_at_trap);
	assert_at_hypercall(vcpu->vm, l2_rip_at_trap - HYPERCALL_LEN, what);
	TEST_ASSERT(*(uint32_t *)hva == TLB_LOCK_COUNT,
		    "%s: the TLB lock count is 0x%x, L1 wrote %u",
		    what, *(uint32_t *)hva, TLB_LOCK_COUNT);
	for (i = sizeof(uint32_t); i < PAGE_SIZE; i++)
		TEST_ASSERT(hva[i] == FILL_BYTE,
			    "%s: byte %d of the partition assist page is 0x%x, expected the fill 0x%x",
			    what, i, hva[i], FILL_BYTE);
	return l2_rip_at_trap;
}

/*
 * Case 1, control: with the partition assist page unprotected, then
 * NO_WRITE|NO_EXEC (KVM only reads it), L2's flush hypercall completes
 * without an exit to the VMM and L1 sees the trap after flush.  Shows that
 * the path of case 2 is reached, and that only READ is checked.
 */
static bool test_control(void)
{
	static const struct {
		uint64_t attributes;
		const char *what;
	} runs[] = {
		{ 0, "L2's flush, the partition assist page unprotected" },
		{ NW | NX, "L2's flush, the partition assist page NO_WRITE|NO_EXEC" },
	};
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int i;

	for (i = 0; i < ARRAY_SIZE(runs); i++) {
		vm = create_vm(&vcpu);
		memattr_set(vm, TEST_GPA, PAGE_SIZE, runs[i].attributes);
		assert_trapped(vcpu, runs[i].what);
		kvm_vm_free(vm);
		pr_info("%s: no exit, L1 saw the trap after flush\n", runs[i].what);
	}
	return true;
}

/*
 * Case 2: the partition assist page no-access.  L0's read of the lock count
 * exits READ for the page, which is unchanged, with L2's RIP at its
 * hypercall; once cleared, KVM_RUN retries the hypercall, which completes:
 * L1 sees the trap after flush, L2's RIP right past the same hypercall.
 */
static bool test_denied(void)
{
	const char *what = "L2's flush, the partition assist page no-access";
	struct kvm_vcpu *vcpu;
	struct kvm_regs regs;
	struct kvm_vm *vm;
	uint64_t rip;

	vm = create_vm(&vcpu);
	memattr_run_denied(vcpu, TEST_GPA, pa_page_hva(vm), NR | NW | NX,
			   KVM_MEMORY_EXIT_FLAG_READ, what);
	vcpu_regs_get(vcpu, &regs);
	assert_at_hypercall(vm, regs.rip, what);
	rip = assert_trapped(vcpu, what);
	TEST_ASSERT(rip == regs.rip + HYPERCALL_LEN,
		    "%s: L1 found L2's RIP at 0x%lx after the retry, expected 0x%llx (past the hypercall of the exit)",
		    what, rip, regs.rip + HYPERCALL_LEN);
	kvm_vm_free(vm);
	pr_info("%s: READ exit at 0x%lx with RIP at L2's %s, page unchanged; retried, L1 saw the trap after flush\n",
		what, (uint64_t)TEST_GPA, is_vmx ? "VMCALL" : "VMMCALL");
	return true;
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "1. control: the flush completes, L1 traps", test_control },
		{ "2. a no-access partition assist page", test_denied },
	};
	uint64_t supported = memattr_supported_by_default_vm();

	/* No-access is NR | NW | NX, accepted wherever NW and NX are. */
	TEST_ASSERT(supported & NW && supported & NX,
		    "NO_WRITE and NO_EXEC must be supported, got 0x%lx", supported);
	is_vmx = memattr_l1_is_vmx();
	TEST_ASSERT(kvm_has_cap(KVM_CAP_SYS_HYPERV_CPUID) &&
		    kvm_has_cap(KVM_CAP_HYPERV_TLBFLUSH) &&
		    kvm_hv_cpu_has(HV_X64_NESTED_DIRECT_FLUSH),
		    "KVM should emulate Hyper-V (CONFIG_KVM_HYPERV) with TLB flush hypercalls and the L2 TLB flush (HV_X64_NESTED_DIRECT_FLUSH)");
	/*
	 * On VMX, L1 names its partition assist page only in an enlightened
	 * VMCS: without it, the path does not exist.
	 */
	TEST_ASSERT(!is_vmx || kvm_has_cap(KVM_CAP_HYPERV_ENLIGHTENED_VMCS),
		    "VMX: KVM refuses KVM_CAP_HYPERV_ENLIGHTENED_VMCS, so no L1 can name a partition assist page and L2's direct TLB flush does not exist here");
	pr_info("%s, %s, L1 runs L2 with the Hyper-V L2 TLB flush%s\n",
		is_vmx ? "VMX" : "SVM", memattr_mmu_name(),
		is_vmx ? " (enlightened VMCS)" : "");

	memattr_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
