// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes and the L1 hypervisor's own VMX/SVM instructions (case 6
 * of the nested tests; kvm_memattr_nested_test.c has cases 1-5).  The test
 * VM (L1) is a hypervisor.  VMRUN, VMCLEAR and VMPTRLD take the gpa of a
 * structure in L1's memory, a VMCB12 or a VMCS region, which KVM reads or
 * writes itself when it emulates the instruction after its intercept.  When
 * the attributes of that page deny the access, the instruction exits to the
 * VMM like the CPU's own access would: KVM_RUN fails with EFAULT and
 * KVM_EXIT_MEMORY_FAULT, memory_fault.gpa is the page-aligned L1 gpa of the
 * structure, nothing is read into KVM or written, and once the VMM has
 * cleared the attributes KVM_RUN retries the instruction (RIP is still at
 * it), which completes.  Each instruction exits for the first access the
 * attributes deny: READ on a no-access page, WRITE on a NO_WRITE one.
 *
 * Attacked paths (arch/x86/kvm/{svm,vmx}/nested.c) and the buggy kernel:
 * - SVM VMRUN, nested_svm_vmrun(): reads VMCB12 through kvm_vcpu_map(),
 *   which no attribute guards, and the #VMEXIT writes it back the same way.
 *   Buggy kernel: L2 runs on the no-access or NO_WRITE VMCB12, and its
 *   #VMEXIT writes it.
 * - VMX VMCLEAR, handle_vmclear(): writes the launch state in the VMCS
 *   region.  Buggy kernel: kvm_vcpu_write_guest() refuses the NO_WRITE page,
 *   VMCLEAR ignores the error and succeeds (without the refusal, the write
 *   lands: the region is filled with FILL_BYTE, so it would show).
 * - VMX VMPTRLD, handle_vmptrld(): reads the VMCS region.  Buggy kernel: the
 *   cached read refuses the no-access page and VMPTRLD fails as for a bad
 *   revision id (or, without the refusal, it reads the page).
 * - VMX VMPTRLD of another VMCS, nested_release_vmcs12(): KVM writes the
 *   current VMCS (its cached vmcs12) back to its region first.  Buggy
 *   kernel: the write accessor refuses the NO_WRITE region silently and
 *   VMPTRLD succeeds; L1's VMWRITEs to that VMCS are lost.
 * No exit on the buggy kernel: the test fails at the first KVM_RUN that must
 * exit.  L1 runs L2 without nested paging: none of this depends on it.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kvm_util.h"
#include "processor.h"
#include "svm_util.h"
#include "test_util.h"
#include "vmx.h"
#include "kvm_memattr_util.h"

/* The VMCB12 (SVM) or VMCS region (VMX) that the VMM protects. */
#define TEST_GPA	0xc0000000ull
#define TEST_SLOT	10
#define FILL_BYTE	0x11

/* L1 is about to run the instruction; L2 runs (SVM); L1 is done. */
#define STAGE_INSN	1
#define STAGE_L2_RAN	2
#define STAGE_DONE	3

/* What L1 VMWRITEs to the VMCS at TEST_GPA, to find in its write-back. */
#define WRITE_BACK_MARK	0x5eed0000c0ffee00ull

/* The instructions' first bytes, where RIP must be at the exit. */
#define VMRUN_BYTES	"\x0f\x01\xd8"
#define VMCLEAR_BYTES	"\x66\x0f\xc7"
#define VMPTRLD_BYTES	"\x0f\xc7"

#define L2_STACK_SIZE	256
static unsigned long l2_stack[L2_STACK_SIZE] __aligned(16);

/* Shared with the guest. */
static bool is_vmx;

/* L2 (SVM): it runs, and exits to L1. */
static void l2_guest_code(void)
{
	GUEST_SYNC(STAGE_L2_RAN);
	vmmcall();
}

/*
 * VMCLEAR, then VMPTRLD, of the VMCS region at TEST_GPA, while another VMCS
 * is current, each once the VMM has protected the region; then, with the
 * VMCS at TEST_GPA current and written to, VMPTRLD of the other one once the
 * VMM has made TEST_GPA NO_WRITE.
 */
static void l1_vmx(struct vmx_pages *vmx)
{
	GUEST_ASSERT(prepare_for_vmx_operation(vmx));
	GUEST_ASSERT(load_vmcs(vmx));
	*(uint32_t *)TEST_GPA = vmcs_revision();

	GUEST_SYNC(STAGE_INSN);
	GUEST_ASSERT(!vmclear(TEST_GPA));
	GUEST_SYNC(STAGE_INSN);
	GUEST_ASSERT(!vmptrld(TEST_GPA));
	GUEST_ASSERT(vmptrstz() == TEST_GPA);

	GUEST_ASSERT(!vmwrite(GUEST_RIP, WRITE_BACK_MARK));
	GUEST_SYNC(STAGE_INSN);
	GUEST_ASSERT(!vmptrld(vmx->vmcs_gpa));
	GUEST_ASSERT(vmptrstz() == vmx->vmcs_gpa);
}

/*
 * Twice, VMRUN of the VMCB12 at TEST_GPA once the VMM has protected it; L2
 * runs and vmmcalls back.  The #VMEXIT restores rax and rsp only.
 */
static void l1_svm(struct svm_test_data *svm)
{
	struct vmcb *vmcb = svm->vmcb;
	int i;

	generic_svm_setup(svm, NULL, NULL);
	for (i = 0; i < 2; i++) {
		/* As if called: the stack is 16-byte aligned before the call. */
		vmcb->save.rip = (uint64_t)l2_guest_code;
		vmcb->save.rsp = (uint64_t)&l2_stack[L2_STACK_SIZE - 1];
		GUEST_SYNC(STAGE_INSN);
		asm volatile("push %%rbp; vmrun; pop %%rbp"
			     : : "a"(svm->vmcb_gpa)
			     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
			       "r11", "r12", "r13", "r14", "r15", "cc", "memory");
		__GUEST_ASSERT(vmcb->control.exit_code == SVM_EXIT_VMMCALL,
			       "L2 exited to L1 with code 0x%x, info 0x%lx 0x%lx",
			       vmcb->control.exit_code, vmcb->control.exit_info_1,
			       vmcb->control.exit_info_2);
	}
}

static void l1_guest_code(void *data)
{
	if (is_vmx)
		l1_vmx(data);
	else
		l1_svm(data);
	GUEST_SYNC(STAGE_DONE);
	GUEST_DONE();
}

/*
 * A VM whose vCPU runs L1, with the page at TEST_GPA filled with FILL_BYTE;
 * on SVM, it holds L1's VMCB12.
 */
static struct kvm_vm *create_vm(struct kvm_vcpu **vcpu)
{
	struct svm_test_data *svm;
	struct kvm_vm *vm;
	vm_vaddr_t gva;

	vm = vm_create_with_one_vcpu(vcpu, l1_guest_code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, 1, 0);
	virt_map(vm, TEST_GPA, TEST_GPA, 1);
	memset(addr_gpa2hva(vm, TEST_GPA), FILL_BYTE, PAGE_SIZE);

	if (is_vmx) {
		vcpu_alloc_vmx(vm, &gva);
	} else {
		svm = vcpu_alloc_svm(vm, &gva);
		svm->vmcb = (void *)TEST_GPA;
		svm->vmcb_hva = addr_gpa2hva(vm, TEST_GPA);
		svm->vmcb_gpa = TEST_GPA;
	}
	vcpu_args_set(*vcpu, 1, gva);
	sync_global_to_guest(vm, is_vmx);
	return vm;
}

/*
 * L1, parked before GUEST_SYNC(STAGE_INSN), runs the instruction that starts
 * with @insn on the page at TEST_GPA, which the VMM protects with
 * @attributes: KVM_RUN stops at the instruction, for a denied @flag access
 * to the page, which is left unchanged.  The VMM clears the attributes, so
 * that the next KVM_RUN retries the instruction.
 */
static void insn_exits(struct kvm_vcpu *vcpu, uint64_t attributes,
		       uint64_t flag, const char *insn, const char *what)
{
	memattr_run_to_sync(vcpu, STAGE_INSN, what);
	memattr_run_denied(vcpu, TEST_GPA, addr_gpa2hva(vcpu->vm, TEST_GPA),
			   attributes, flag, what);
	memattr_assert_rip_at(vcpu, insn, what);
}

/* Whether the page at @hva holds the u64 @value at an aligned offset. */
static bool page_has_u64(const void *hva, uint64_t value)
{
	const uint64_t *words = hva;
	int i;

	for (i = 0; i < PAGE_SIZE / sizeof(*words); i++)
		if (words[i] == value)
			return true;
	return false;
}

/*
 * VMX: VMCLEAR of a NO_WRITE region, then VMPTRLD of a no-access one, then
 * VMPTRLD of another VMCS while the current one's region is NO_WRITE: KVM's
 * write-back of the current VMCS exits WRITE for its region; once retried,
 * the region holds what L1 wrote to that VMCS.
 */
static void test_vmx(struct kvm_vcpu *vcpu)
{
	const char *vmclear = "L1's VMCLEAR of a NO_WRITE VMCS region";
	const char *vmptrld = "L1's VMPTRLD of a no-access VMCS region";
	const char *write_back =
		"L1's VMPTRLD of another VMCS, the current one's region NO_WRITE";
	uint8_t *hva = addr_gpa2hva(vcpu->vm, TEST_GPA);

	insn_exits(vcpu, NW, KVM_MEMORY_EXIT_FLAG_WRITE, VMCLEAR_BYTES, vmclear);
	pr_info("%s: WRITE exit, retried\n", vmclear);
	insn_exits(vcpu, NR | NW | NX, KVM_MEMORY_EXIT_FLAG_READ, VMPTRLD_BYTES,
		   vmptrld);
	pr_info("%s: READ exit, retried\n", vmptrld);

	TEST_ASSERT(!page_has_u64(hva, WRITE_BACK_MARK),
		    "%s: the VMCS region holds L1's VMWRITE before any write-back",
		    write_back);
	insn_exits(vcpu, NW, KVM_MEMORY_EXIT_FLAG_WRITE, VMPTRLD_BYTES,
		   write_back);
	memattr_run_to_sync(vcpu, STAGE_DONE, "L1 after VMCLEAR and VMPTRLD");
	TEST_ASSERT(page_has_u64(hva, WRITE_BACK_MARK),
		    "%s: the retried VMPTRLD should write the VMCS back, with L1's VMWRITE of 0x%llx",
		    write_back, WRITE_BACK_MARK);
	pr_info("%s: WRITE exit, retried, the VMCS written back\n", write_back);
	pr_info("VMRUN sub-cases not applicable: VMRUN is SVM only\n");
}

/*
 * SVM: VMRUN of a no-access VMCB12, then of a NO_WRITE one (VMRUN reads it
 * and its #VMEXIT writes it, so both accesses are checked before L2 runs);
 * once retried, L2 runs.
 */
static void test_svm(struct kvm_vcpu *vcpu)
{
	const char *what[] = { "L1's VMRUN of a no-access VMCB12",
			       "L1's VMRUN of a NO_WRITE VMCB12" };
	const uint64_t attributes[] = { NR | NW | NX, NW };
	const uint64_t flag[] = { KVM_MEMORY_EXIT_FLAG_READ,
				  KVM_MEMORY_EXIT_FLAG_WRITE };
	int i;

	for (i = 0; i < 2; i++) {
		insn_exits(vcpu, attributes[i], flag[i], VMRUN_BYTES, what[i]);
		memattr_run_to_sync(vcpu, STAGE_L2_RAN, what[i]);
		pr_info("%s: %s exit, retried, L2 ran\n", what[i],
			i ? "WRITE" : "READ");
	}
	memattr_run_to_sync(vcpu, STAGE_DONE, "L1 after VMRUN");
	pr_info("VMCLEAR and VMPTRLD sub-cases not applicable: they are VMX only\n");
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	is_vmx = kvm_cpu_has(X86_FEATURE_VMX);
	TEST_ASSERT(is_vmx != kvm_cpu_has(X86_FEATURE_SVM),
		    "Exactly one of VMX and SVM should be offered to guests");
	pr_info("%s, %s MMU, L1 runs L2 without nested paging\n",
		is_vmx ? "VMX" : "SVM", kvm_is_tdp_enabled() ? "TDP" : "shadow");

	vm = create_vm(&vcpu);
	if (is_vmx)
		test_vmx(vcpu);
	else
		test_svm(vcpu);
	kvm_vm_free(vm);
	return 0;
}
