// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes against the L1 pages that KVM reads and writes when an
 * SMI interrupts L2 and RSM returns to it.  The test VM (L1) is the
 * hypervisor of kvm_memattr_nested.h, with the MSR bitmap or permission map
 * enabled; the host injects an SMI while L2 runs, the SMI handler
 * (kvm_memattr_smm.h) reports from SMM and returns to L2 with RSM.
 *
 * On SVM, SMI entry ends L2 with a #VMEXIT (VMCB12) and saves L1's state to
 * L1's host-save area (MSR_VM_HSAVE_PA + 0x400, svm_enter_smm()); RSM reads
 * VMCB12 and the host-save area back (svm_leave_smm()).  These accesses are
 * checked like the state save at SMBASE: a denied SMI entry exits
 * KVM_EXIT_MEMORY_FAULT (WRITE) with the SMI still pending and the vCPU in
 * L2, a denied RSM exits (READ) with the vCPU in SMM at the RSM; both are
 * retried once the VMM relaxes the page.  VMX keeps L1's state in KVM at SMI
 * entry (vmx_enter_smm()) and reads no L1 page at RSM: those cases do not
 * exist there and say so.
 *
 * On both, RSM back to L2 maps L2's pages for the CPU again (the MSR
 * bitmap or permission map, which L1 enables here); the VMM may have
 * protected them while L1 was in SMM, when no vCPU in L2 had to check them.
 * KVM checks them before L2 runs, as after a SET taking rights away while L2
 * runs: the exit comes with the vCPU back in L2, and L2 runs once relaxed.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_nested.h"
#include "kvm_memattr_smm.h"
#include "kvm_memattr_util.h"

/* L2 reports L2_SYNC, then L2_SYNC + 1; L1 reports nothing. */
#define L2_SYNC		1000
#define L2_STACK_SIZE	256

static bool is_vmx;
static unsigned long l2_stack[L2_STACK_SIZE] __aligned(16);

static void l2_guest_code(void)
{
	GUEST_SYNC(L2_SYNC);
	GUEST_SYNC(L2_SYNC + 1);
	if (is_vmx)
		vmcall();
	else
		vmmcall();
}

static void l1_guest_code(void *data)
{
	if (is_vmx) {
		memattr_l1_vmx_setup(data, l2_guest_code, &l2_stack[L2_STACK_SIZE - 1]);
		memattr_l1_vmx_run();
	} else {
		memattr_l1_svm_setup(data, l2_guest_code, &l2_stack[L2_STACK_SIZE - 1]);
		memattr_l1_svm_run(data);
	}
	GUEST_DONE();
}

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpu;
/* L1's pages: its MSR bitmap or permission map; on SVM, VMCB12 and HSAVE. */
static uint64_t bitmap_gpa, vmcb12_gpa, hsave_gpa;

/* A VM whose L2 has reported L2_SYNC, with SMRAM set up. */
static void create_vm(void)
{
	struct svm_test_data *svm;
	struct vmx_pages *vmx;
	vm_vaddr_t gva;

	vm = vm_create_with_one_vcpu(&vcpu, l1_guest_code);
	if (is_vmx) {
		vmx = vcpu_alloc_vmx(vm, &gva);
		bitmap_gpa = vmx->msr_gpa;
	} else {
		svm = vcpu_alloc_svm(vm, &gva);
		bitmap_gpa = svm->msr_gpa;
		vmcb12_gpa = svm->vmcb_gpa;
		hsave_gpa = svm->save_area_gpa;
	}
	vcpu_args_set(vcpu, 1, gva);
	sync_global_to_guest(vm, is_vmx);
	smram_add(vm, vcpu);
	memattr_run_to_sync(vcpu, L2_SYNC, "L2's first report");
}

/* KVM_RUN goes on in L2, which reports again: RSM went back to L2. */
static void run_to_l2_again(const char *what)
{
	memattr_run_to_sync(vcpu, L2_SYNC + 1, what);
	assert_smm_events(vcpu, 0, 0, what);
}

/* L2 exits to L1, which is done: the nested state survived the SMI. */
static void run_to_done(const char *what)
{
	memattr_run_to_done(vcpu, what);
	kvm_vm_free(vm);
}

/*
 * Case 1, the control: with the attributes at 0, an SMI taken while L2 runs
 * enters the handler in SMM, RSM returns to L2, and L2 exits to L1.
 */
static bool case_control(void)
{
	create_vm();
	smi_inject(vcpu);
	smm_run_to_handler(vcpu, "SMI while L2 runs");
	run_to_l2_again("RSM back to L2");
	run_to_done("L2's exit to L1 after the SMI");
	return true;
}

/*
 * Case 2 (SVM): SMI entry from L2 saves L1's state to a NO_WRITE host-save
 * area.  Fixed kernel: KVM_RUN exits WRITE at the host-save page, as often
 * as it is run, with the SMI pending, the vCPU in L2 and the page
 * unchanged; once writable, the SMI is delivered and RSM returns to L2.
 * Buggy kernel: svm_enter_smm() writes the page through kvm_vcpu_map()
 * unchecked and KVM_RUN stops at the handler's IN.
 */
static bool case_smi_hsave(void)
{
	const char *what = "SMI from L2, NO_WRITE host-save area";
	uint8_t before[PAGE_SIZE];
	int i, r;

	if (is_vmx) {
		pr_info("VMX: vmx_enter_smm() keeps L1's state in KVM, no host-save area\n");
		return false;
	}
	create_vm();
	memcpy(before, addr_gpa2hva(vm, hsave_gpa), PAGE_SIZE);
	memattr_set(vm, hsave_gpa, PAGE_SIZE, NW);
	smi_inject(vcpu);
	for (i = 0; i < 2; i++) {
		r = _vcpu_run(vcpu);
		assert_memory_fault(vcpu, r, hsave_gpa, PAGE_SIZE,
				    KVM_MEMORY_EXIT_FLAG_WRITE, what);
		assert_smm_events(vcpu, 1, 0, what);
		TEST_ASSERT(!memcmp(before, addr_gpa2hva(vm, hsave_gpa), PAGE_SIZE),
			    "%s: the host-save page changed", what);
	}

	memattr_set(vm, hsave_gpa, PAGE_SIZE, 0);
	smm_run_to_handler(vcpu, "SMI from L2 once the host-save area is writable");
	run_to_l2_again("RSM back to L2 after the late SMI");
	run_to_done("L2's exit to L1 after the late SMI");
	pr_info("SMI from L2: a NO_WRITE host-save area exits WRITE at 0x%lx with the SMI kept pending\n",
		hsave_gpa);
	return true;
}

/*
 * Cases 3 and 4 (SVM): RSM back to L2 reads @gpa (L1's host-save area, or
 * VMCB12), which the VMM made no-access while the handler ran.  Fixed
 * kernel: KVM_RUN exits READ at @gpa, as often as it is run, with the vCPU
 * in SMM at the RSM; once readable, RSM returns to L2.  Buggy kernel:
 * svm_leave_smm() reads the page through kvm_vcpu_map() unchecked and L2
 * reports again.
 */
static bool run_rsm_case(uint64_t *gpa, const char *what)
{
	int i, r;

	if (is_vmx) {
		pr_info("VMX: vmx_leave_smm() reads no L1 page, vmcs12 is in KVM\n");
		return false;
	}
	create_vm();
	smi_inject(vcpu);
	smm_run_to_handler(vcpu, "SMI before the protected RSM");
	memattr_set(vm, *gpa, PAGE_SIZE, NR | NW | NX);
	for (i = 0; i < 2; i++) {
		r = _vcpu_run(vcpu);
		assert_memory_fault(vcpu, r, *gpa, PAGE_SIZE,
				    KVM_MEMORY_EXIT_FLAG_READ, what);
		assert_at_rsm(vcpu, what);
	}

	memattr_set(vm, *gpa, PAGE_SIZE, 0);
	run_to_l2_again("RSM back to L2 once the page is readable");
	run_to_done("L2's exit to L1 after the late RSM");
	pr_info("%s: exits READ at 0x%lx with the vCPU kept in SMM at the RSM\n",
		what, *gpa);
	return true;
}

static bool case_rsm_hsave(void)
{
	return run_rsm_case(&hsave_gpa, "RSM to L2, no-access host-save area");
}

static bool case_rsm_vmcb12(void)
{
	return run_rsm_case(&vmcb12_gpa, "RSM to L2, no-access VMCB12");
}

/*
 * Case 5 (SVM and VMX): the VMM makes L1's MSR permission map (SVM) or MSR
 * bitmap (VMX) no-access while the handler runs, when the vCPU is not in L2.
 * Fixed kernel: RSM completes (it reads no such page), and KVM_RUN exits
 * READ at the map before L2 runs, as often as it is run, with the vCPU in
 * L2 and out of SMM; once readable, L2 runs.  Buggy kernel: KVM reads or
 * maps the map for L2 unchecked (KVM_REQ_GET_NESTED_STATE_PAGES) and L2
 * reports again.
 */
static bool case_rsm_bitmap(void)
{
	const char *what = "RSM to L2, no-access MSR bitmap";
	int i, r;

	create_vm();
	smi_inject(vcpu);
	smm_run_to_handler(vcpu, "SMI before the MSR bitmap is protected");
	memattr_set(vm, bitmap_gpa, PAGE_SIZE, NR | NW | NX);
	for (i = 0; i < 2; i++) {
		r = _vcpu_run(vcpu);
		assert_memory_fault(vcpu, r, bitmap_gpa, PAGE_SIZE,
				    KVM_MEMORY_EXIT_FLAG_READ, what);
		assert_smm_events(vcpu, 0, 0, what);
	}

	memattr_set(vm, bitmap_gpa, PAGE_SIZE, 0);
	run_to_l2_again("L2 once its MSR bitmap is readable");
	run_to_done("L2's exit to L1 after the MSR bitmap's exits");
	pr_info("%s: exits READ at 0x%lx before L2 runs\n", what, bitmap_gpa);
	return true;
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "Case 1 (SMI while L2 runs, control)", case_control },
		{ "Case 2 (SVM, SMI from L2, NO_WRITE host-save area)", case_smi_hsave },
		{ "Case 3 (SVM, RSM to L2, no-access host-save area)", case_rsm_hsave },
		{ "Case 4 (SVM, RSM to L2, no-access VMCB12)", case_rsm_vmcb12 },
		{ "Case 5 (RSM to L2, no-access MSR bitmap)", case_rsm_bitmap },
	};

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_X86_SMM));
	is_vmx = memattr_l1_is_vmx();
	TEST_REQUIRE(memattr_supported_by_default_vm() & NW);

	pr_info("%s, %s MMU, L1 runs L2 without nested paging; SMBASE 0x%llx\n",
		is_vmx ? "VMX" : "SVM", kvm_is_tdp_enabled() ? "TDP" : "shadow",
		SMRAM_GPA);
	memattr_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
