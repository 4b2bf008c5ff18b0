// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes and the pages an L1 hypervisor names in its VMCB12 or
 * VMCS12 for KVM (L0) to read or map at nested VM entry.  The test VM (L1)
 * is a hypervisor; before it enters L2 (VMRUN on SVM, VMLAUNCH on VMX), KVM
 * reads L1's MSR permission map or MSR bitmap to merge it with its own, maps
 * L2's virtual-APIC page to hand its host address to the CPU, which reads
 * and writes it while L2 runs, and reads the VM-entry MSR-load area.  The
 * nested VM entry is checked like the CPU's own access to these pages: when
 * the attributes of the page deny it, KVM_RUN fails with EFAULT and
 * KVM_EXIT_MEMORY_FAULT, memory_fault.gpa is the page-aligned L1 gpa of the
 * page, flags the denied access (READ for a page that is only read, READ on
 * a no-access and WRITE on a NO_WRITE virtual-APIC page), nothing of L2 runs
 * and the page is left unchanged.  RIP is still at the VM entry instruction:
 * once the VMM has cleared the attributes, KVM_RUN retries it and L2 runs.
 *
 * KVM keeps VMCB12 (written at every #VMEXIT) and the virtual-APIC page
 * for the running L2 too: when the VMM takes rights away from such a page
 * at an exit from L2 to userspace, every KVM_RUN exits the same way, with
 * the vCPU still in L2 and the page unchanged, until the VMM relaxes them.
 *
 * Each case runs its own VM: L1 prepares the structures, reports the gpa
 * that it named in VMCB12/VMCS12 with GUEST_SYNC(gpa), and, once the VMM
 * has protected the page, enters L2, which counts its runs in l2_runs and
 * exits back to L1 with VMMCALL/VMCALL; or L2 reports GUEST_SYNC(L2_SYNC)
 * (L1 does not intercept I/O), the VMM protects the page, and L2 counts in
 * l2_resumes that it went on.  L1 runs L2 without nested paging: none of
 * this depends on it, nor on KVM's MMU (TDP, legacy or shadow).
 *
 * Not tested: the SVM I/O permission map, which VMRUN does not read (KVM
 * only checks its address, nested_svm_check_bitmap_pa(); it reads it when
 * L2 does I/O, nested_svm_intercept_ioio()).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_nested.h"
#include "kvm_memattr_util.h"

/* Bytes of the VM entry instructions, where RIP must be at the exit. */
#define VMRUN_BYTES	"\x0f\x01\xd8"
#define VMLAUNCH_BYTES	"\x0f\x01\xc2"

/* The TPR in the virtual-APIC page, and what L1 and L2 put there. */
#define VAPIC_TPR	0x80
#define VTPR_L1		0x50
#define CR8_L2		3

/* What the VM-entry MSR-load area loads for L2. */
#define LOAD_MSR	MSR_KERNEL_GS_BASE
#define LOAD_VALUE	0x0000123456789000ull

/* What L2 reports with GUEST_SYNC; L1 reports gpas, never 1. */
#define L2_SYNC		1

#define L2_STACK_SIZE	256
static unsigned long l2_stack[L2_STACK_SIZE] __aligned(16);

enum page_case {
	SVM_MSRPM_LOW,
	SVM_MSRPM_HIGH,
	VMX_MSR_BITMAP,
	VMX_VAPIC_NO_WRITE,
	VMX_VAPIC_NO_ACCESS,
	VMX_MSR_LOAD,
	SVM_VMCB12_L2,
	VMX_VAPIC_L2,
	NR_PAGE_CASES,
};

static const struct {
	const char *name;
	bool vmx;
	uint64_t attributes;
	uint64_t flag;
	bool in_l2;	/* Protected while L2 runs, not before VM entry. */
} page_cases[NR_PAGE_CASES] = {
	[SVM_MSRPM_LOW] = {
		"VMRUN with a no-access first page of the MSR permission map",
		false, NR | NW | NX, KVM_MEMORY_EXIT_FLAG_READ },
	[SVM_MSRPM_HIGH] = {
		"VMRUN with a no-access second page of the MSR permission map",
		false, NR | NW | NX, KVM_MEMORY_EXIT_FLAG_READ },
	[VMX_MSR_BITMAP] = {
		"VMLAUNCH with a no-access MSR bitmap",
		true, NR | NW | NX, KVM_MEMORY_EXIT_FLAG_READ },
	[VMX_VAPIC_NO_WRITE] = {
		"VMLAUNCH with a NO_WRITE virtual-APIC page",
		true, NW, KVM_MEMORY_EXIT_FLAG_WRITE },
	[VMX_VAPIC_NO_ACCESS] = {
		"VMLAUNCH with a no-access virtual-APIC page",
		true, NR | NW | NX, KVM_MEMORY_EXIT_FLAG_READ },
	[VMX_MSR_LOAD] = {
		"VMLAUNCH with a no-access VM-entry MSR-load area",
		true, NR | NW | NX, KVM_MEMORY_EXIT_FLAG_READ },
	[SVM_VMCB12_L2] = {
		"NO_WRITE on VMCB12 while L2 runs",
		false, NW, KVM_MEMORY_EXIT_FLAG_WRITE, true },
	[VMX_VAPIC_L2] = {
		"NO_WRITE on the virtual-APIC page while L2 runs",
		true, NW, KVM_MEMORY_EXIT_FLAG_WRITE, true },
};

/* Shared with the guest. */
static bool is_vmx;
static uint64_t test_case;
static uint64_t test_gva;	/* The virtual-APIC page or MSR-load area. */
static uint64_t test_gpa;
static uint64_t l2_runs;
static uint64_t l2_resumes;
static uint64_t l2_cr8;
static uint64_t l2_msr;

static inline uint64_t read_cr8(void)
{
	uint64_t cr8;

	asm volatile("mov %%cr8, %0" : "=r"(cr8));
	return cr8;
}

static inline void write_cr8(uint64_t cr8)
{
	asm volatile("mov %0, %%cr8" : : "r"(cr8) : "memory");
}

/* L2: counts its run, lets the VMM protect the page, uses it, exits to L1. */
static void l2_guest_code(void)
{
	uint64_t tc = READ_ONCE(test_case);

	WRITE_ONCE(l2_runs, READ_ONCE(l2_runs) + 1);

	if (page_cases[tc].in_l2) {
		GUEST_SYNC(L2_SYNC);
		WRITE_ONCE(l2_resumes, READ_ONCE(l2_resumes) + 1);
	}

	switch (tc) {
	case VMX_VAPIC_NO_WRITE:
	case VMX_VAPIC_NO_ACCESS:
	case VMX_VAPIC_L2:
		/* With the TPR shadow, CR8 is the TPR of the virtual-APIC page. */
		WRITE_ONCE(l2_cr8, read_cr8());
		write_cr8(CR8_L2);
		break;
	case VMX_MSR_LOAD:
		WRITE_ONCE(l2_msr, rdmsr(LOAD_MSR));
		break;
	}

	if (is_vmx)
		vmcall();
	else
		vmmcall();
}

/*
 * SVM: L1 reports the page that the VMM protects (a page of the MSR
 * permission map, or VMCB12) and runs L2.
 */
static void l1_svm(struct svm_test_data *svm)
{
	uint64_t gpa;

	memattr_l1_svm_setup(svm, l2_guest_code, &l2_stack[L2_STACK_SIZE - 1]);
	gpa = svm->vmcb->control.msrpm_base_pa;
	if (test_case == SVM_MSRPM_HIGH)
		gpa += PAGE_SIZE;
	else if (test_case == SVM_VMCB12_L2)
		gpa = svm->vmcb_gpa;
	GUEST_SYNC(gpa);

	memattr_l1_svm_run(svm);
}

/*
 * VMX: L1 names the page of the case in its VMCS12, reports its gpa read
 * back from the VMCS12, and runs L2.
 */
static void l1_vmx(struct vmx_pages *vmx)
{
	struct vmx_msr_entry *entry = (void *)test_gva;
	uint64_t ctl, gpa = 0;

	ctl = memattr_l1_vmx_setup(vmx, l2_guest_code,
				   &l2_stack[L2_STACK_SIZE - 1]);

	switch (test_case) {
	case VMX_MSR_BITMAP:
		gpa = vmreadz(MSR_BITMAP);
		break;
	case VMX_VAPIC_NO_WRITE:
	case VMX_VAPIC_NO_ACCESS:
	case VMX_VAPIC_L2:
		WRITE_ONCE(*(uint32_t *)(test_gva + VAPIC_TPR), VTPR_L1);
		ctl |= CPU_BASED_TPR_SHADOW;
		ctl &= ~(CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING);
		GUEST_ASSERT(!vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl));
		GUEST_ASSERT(!vmwrite(VIRTUAL_APIC_PAGE_ADDR, test_gpa));
		/* Never below: no TPR-below-threshold exit, VM entry checks pass. */
		GUEST_ASSERT(!vmwrite(TPR_THRESHOLD, 0));
		gpa = vmreadz(VIRTUAL_APIC_PAGE_ADDR);
		break;
	case VMX_MSR_LOAD:
		entry->index = LOAD_MSR;
		entry->reserved = 0;
		entry->value = LOAD_VALUE;
		GUEST_ASSERT(!vmwrite(VM_ENTRY_MSR_LOAD_ADDR, test_gpa));
		GUEST_ASSERT(!vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 1));
		gpa = vmreadz(VM_ENTRY_MSR_LOAD_ADDR);
		break;
	}
	GUEST_SYNC(gpa);

	memattr_l1_vmx_run();

	switch (test_case) {
	case VMX_VAPIC_NO_WRITE:
	case VMX_VAPIC_NO_ACCESS:
	case VMX_VAPIC_L2:
		__GUEST_ASSERT(l2_cr8 == VTPR_L1 >> 4,
			       "L2 read CR8 0x%lx, the virtual-APIC page has TPR 0x%x",
			       l2_cr8, VTPR_L1);
		__GUEST_ASSERT(READ_ONCE(*(uint32_t *)(test_gva + VAPIC_TPR)) ==
			       CR8_L2 << 4,
			       "L2 wrote CR8 %u, the virtual-APIC page has TPR 0x%x",
			       CR8_L2, READ_ONCE(*(uint32_t *)(test_gva + VAPIC_TPR)));
		break;
	case VMX_MSR_LOAD:
		__GUEST_ASSERT(l2_msr == LOAD_VALUE,
			       "L2 read 0x%lx from MSR 0x%x, the MSR-load area loads 0x%llx",
			       l2_msr, LOAD_MSR, LOAD_VALUE);
		break;
	}
}

static void l1_guest_code(void *data)
{
	if (is_vmx)
		l1_vmx(data);
	else
		l1_svm(data);
	GUEST_DONE();
}

/*
 * A VM whose vCPU runs L1 for case @tc; returns the gpa of the page that
 * the case protects.
 */
static struct kvm_vm *create_vm(struct kvm_vcpu **vcpu, enum page_case tc,
				uint64_t *gpa)
{
	struct svm_test_data *svm;
	struct vmx_pages *vmx;
	struct kvm_vm *vm;
	vm_vaddr_t gva, msrpm;

	vm = vm_create_with_one_vcpu(vcpu, l1_guest_code);
	test_gva = vm_vaddr_alloc_page(vm);
	test_gpa = addr_gva2gpa(vm, test_gva);
	memset(addr_gva2hva(vm, test_gva), 0, PAGE_SIZE);

	if (is_vmx) {
		vmx = vcpu_alloc_vmx(vm, &gva);
		*gpa = tc == VMX_MSR_BITMAP ? vmx->msr_gpa : test_gpa;
	} else {
		/*
		 * The MSR permission map is two pages (the lib allocates one);
		 * at VMRUN, KVM reads both: the offsets of the MSRs it may let
		 * L2 access (msrpm_offsets[]) include MSR_AMD64_SEV_ES_GHCB,
		 * whose bits are in the second page.
		 */
		svm = vcpu_alloc_svm(vm, &gva);
		msrpm = vm_vaddr_alloc(vm, 2 * PAGE_SIZE, KVM_UTIL_MIN_VADDR);
		svm->msr = (void *)msrpm;
		svm->msr_hva = addr_gva2hva(vm, msrpm);
		svm->msr_gpa = addr_gva2gpa(vm, msrpm);
		TEST_ASSERT(addr_gva2gpa(vm, msrpm + PAGE_SIZE) ==
			    svm->msr_gpa + PAGE_SIZE,
			    "The MSR permission map is not contiguous");
		memset(svm->msr_hva, 0, 2 * PAGE_SIZE);
		*gpa = svm->msr_gpa + (tc == SVM_MSRPM_HIGH ? PAGE_SIZE : 0);
		if (tc == SVM_VMCB12_L2)
			*gpa = svm->vmcb_gpa;
	}
	vcpu_args_set(*vcpu, 1, gva);

	test_case = tc;
	l2_runs = 0;
	l2_resumes = 0;
	sync_global_to_guest(vm, is_vmx);
	sync_global_to_guest(vm, test_case);
	sync_global_to_guest(vm, test_gva);
	sync_global_to_guest(vm, test_gpa);
	sync_global_to_guest(vm, l2_runs);
	sync_global_to_guest(vm, l2_resumes);
	return vm;
}

/*
 * L1's VMX capabilities let it use an MSR bitmap (KVM always offers it) and,
 * in the virtual-APIC cases, the TPR shadow without CR8 exiting (KVM offers
 * it when the host CPU has it, and both emulated CPUs do): otherwise the
 * case would not test anything.
 */
static void assert_vmx_controls(struct kvm_vcpu *vcpu, enum page_case tc)
{
	uint64_t ctls = vcpu_get_msr(vcpu, MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	uint32_t allowed0 = ctls, allowed1 = ctls >> 32;

	TEST_ASSERT(allowed1 & CPU_BASED_USE_MSR_BITMAPS,
		    "L1 may not use an MSR bitmap: TRUE_PROCBASED_CTLS 0x%lx", ctls);
	if (tc != VMX_VAPIC_NO_WRITE && tc != VMX_VAPIC_NO_ACCESS &&
	    tc != VMX_VAPIC_L2)
		return;
	TEST_ASSERT(allowed1 & CPU_BASED_TPR_SHADOW,
		    "L1 may not use the TPR shadow: TRUE_PROCBASED_CTLS 0x%lx", ctls);
	TEST_ASSERT(!(allowed0 & (CPU_BASED_CR8_LOAD_EXITING |
				  CPU_BASED_CR8_STORE_EXITING)),
		    "L1 must exit on CR8 accesses: TRUE_PROCBASED_CTLS 0x%lx", ctls);
}

/* Reads l2_runs and l2_resumes back from the guest. */
static void sync_l2_counts(struct kvm_vm *vm)
{
	sync_global_from_guest(vm, l2_runs);
	sync_global_from_guest(vm, l2_resumes);
}

/*
 * L2 reports GUEST_SYNC(L2_SYNC), and the VMM narrows the rights on the
 * page while the vCPU is in L2: before it re-enters L2, at every KVM_RUN
 * until they are relaxed, KVM must re-check the pages that its nested
 * state keeps.  Each KVM_RUN, not only the first, exits for the denied
 * access with the vCPU still in L2; L2 did not go on after its GUEST_SYNC,
 * and the page is unchanged.  Then the VMM clears the attributes.
 */
static void deny_in_l2(struct kvm_vcpu *vcpu, enum page_case tc, uint64_t gpa)
{
	static uint8_t before[PAGE_SIZE];
	const char *what = page_cases[tc].name;
	struct kvm_vm *vm = vcpu->vm;
	uint8_t *hva = addr_gpa2hva(vm, gpa);
	int i;

	memattr_run_to_sync(vcpu, L2_SYNC, what);
	sync_l2_counts(vm);
	TEST_ASSERT(memattr_vcpu_in_l2(vcpu) && l2_runs == 1,
		    "%s: GUEST_SYNC(L2_SYNC) does not come from L2", what);

	memattr_set(vm, gpa, PAGE_SIZE, page_cases[tc].attributes);
	memcpy(before, hva, PAGE_SIZE);
	for (i = 1; i <= 2; i++) {
		assert_memory_fault(vcpu, _vcpu_run(vcpu), gpa, PAGE_SIZE,
				    page_cases[tc].flag, what);
		TEST_ASSERT(!memcmp(before, hva, PAGE_SIZE),
			    "%s: the page changed before exit %d", what, i);
		sync_l2_counts(vm);
		TEST_ASSERT(l2_resumes == 0,
			    "%s: L2 went on after its GUEST_SYNC before exit %d",
			    what, i);
		TEST_ASSERT(memattr_vcpu_in_l2(vcpu), "%s: the vCPU left L2 at exit %d",
			    what, i);
	}
	memattr_set(vm, gpa, PAGE_SIZE, 0);
}

/*
 * L1 reports the gpa it named (GUEST_SYNC), and the VMM protects that page.
 * Either L1's VM entry exits for the denied access: L2 did not run, the
 * page is unchanged (memattr_run_denied() checks it and clears the
 * attributes), and RIP is at the VM entry instruction, which KVM_RUN
 * retries.  Or the VMM protects it while L2 runs (deny_in_l2()), and L2
 * resumes.  Then L2 runs to its end once, and L1 finishes.
 */
static bool run_case(enum page_case tc)
{
	const char *what = page_cases[tc].name;
	const char *insn = is_vmx ? VMLAUNCH_BYTES : VMRUN_BYTES;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint64_t gpa;

	if (page_cases[tc].vmx != is_vmx) {
		pr_info("%s: not applicable: the page is %s's, and this CPU offers %s\n",
			what, page_cases[tc].vmx ? "VMX" : "SVM",
			is_vmx ? "VMX" : "SVM");
		return false;
	}

	vm = create_vm(&vcpu, tc, &gpa);
	if (is_vmx)
		assert_vmx_controls(vcpu, tc);
	memattr_run_to_sync(vcpu, gpa, what);
	if (page_cases[tc].in_l2) {
		deny_in_l2(vcpu, tc, gpa);
	} else {
		memattr_run_denied(vcpu, gpa, addr_gpa2hva(vm, gpa),
				   page_cases[tc].attributes,
				   page_cases[tc].flag, what);
		sync_l2_counts(vm);
		TEST_ASSERT(l2_runs == 0,
			    "%s: L2 ran %lu times before the exit", what, l2_runs);
		memattr_assert_rip_at(vcpu, insn, what);
	}

	memattr_run_to_done(vcpu, what);
	sync_l2_counts(vm);
	TEST_ASSERT(l2_runs == 1,
		    "%s: L2 ran %lu times, expected once", what, l2_runs);
	TEST_ASSERT(l2_resumes == page_cases[tc].in_l2,
		    "%s: L2 went on %lu times after its GUEST_SYNC, expected %d",
		    what, l2_resumes, page_cases[tc].in_l2);
	kvm_vm_free(vm);
	return true;
}

/*
 * Case 1: nested_svm_vmrun() -> nested_svm_vmrun_msrpm() reads L1's MSR
 * permission map (msrpm_base_pa; INTERCEPT_MSR_PROT is set) with
 * kvm_vcpu_read_guest(), after enter_svm_guest_mode(), to merge it into
 * the map L2 runs with.  Buggy kernel: the read of the no-access first page
 * goes through unchecked, L2 runs, and the test fails at the KVM_RUN that
 * must exit (KVM_RUN succeeds, L1 is done).
 */
static bool case_svm_msrpm_low(void)
{
	return run_case(SVM_MSRPM_LOW);
}

/*
 * Case 2: same path, with only the second page of the map no-access: KVM
 * reads it too (offset 0x104c, the bits of MSR_AMD64_SEV_ES_GHCB
 * 0xc0010130), so the exit is at the gpa of the second page.  Buggy
 * kernel: as case 1.
 */
static bool case_svm_msrpm_high(void)
{
	return run_case(SVM_MSRPM_HIGH);
}

/*
 * Case 3: nested_vmx_run() -> nested_vmx_enter_non_root_mode() ->
 * nested_get_vmcs12_pages() -> nested_vmx_prepare_msr_bitmap() maps L1's
 * MSR bitmap (CPU_BASED_USE_MSR_BITMAPS, which L1 sets) with
 * kvm_vcpu_map() and reads it, at every VM entry.  Buggy kernel: the map
 * is unchecked, KVM reads the no-access page, L2 runs, and the test fails
 * at the KVM_RUN that must exit.
 */
static bool case_vmx_msr_bitmap(void)
{
	return run_case(VMX_MSR_BITMAP);
}

/*
 * Cases 4 and 5: nested_get_vmcs12_pages() maps L2's virtual-APIC page
 * (CPU_BASED_TPR_SHADOW, VIRTUAL_APIC_PAGE_ADDR) with kvm_vcpu_map() and
 * writes its host physical address into vmcs02: the CPU reads it (VTPR at
 * VM entry, MOV from CR8) and writes it (MOV to CR8) while L2 runs, and KVM
 * reads and writes it through the mapping.  The VM entry exits WRITE for
 * the NO_WRITE page (case 4), READ for the no-access page (case 5).  Buggy
 * kernel: the map is unchecked, L2 runs on the protected page and writes
 * its TPR through CR8 (L1 checks that it lands), and the test fails at the
 * KVM_RUN that must exit.
 */
static bool case_vmx_vapic_no_write(void)
{
	return run_case(VMX_VAPIC_NO_WRITE);
}

static bool case_vmx_vapic_no_access(void)
{
	return run_case(VMX_VAPIC_NO_ACCESS);
}

/*
 * Case 6: nested_vmx_enter_non_root_mode() -> nested_vmx_load_msr() reads
 * the VM-entry MSR-load area (VM_ENTRY_MSR_LOAD_ADDR/COUNT) with
 * kvm_vcpu_read_guest() and loads the MSRs it names for L2.  Buggy kernel:
 * the read of the no-access page is unchecked, L2 runs with the loaded
 * MSR (L2 reads it back), and the test fails at the KVM_RUN that must exit.
 */
static bool case_vmx_msr_load(void)
{
	return run_case(VMX_MSR_LOAD);
}

/*
 * Case 7: KVM keeps VMCB12 for the running L2: nested_svm_vmexit() maps it
 * (svm->nested.vmcb12_gpa) with kvm_vcpu_map() at every #VMEXIT to L1 and
 * writes L2's state and exit code into it.  At L2's exit to userspace the
 * VMM makes VMCB12 NO_WRITE: KVM_RUN must exit WRITE at VMCB12's gpa, not
 * re-enter L2 (the MSR permission map, which KVM re-checks too, is
 * allowed).  Buggy kernel: KVM resumes L2, whose VMMCALL #VMEXIT writes
 * VMCB12 unchecked, L1 is done, and KVM_RUN returns 0 (GUEST_DONE): the
 * test fails at the assertion that expects KVM_EXIT_MEMORY_FAULT.
 */
static bool case_svm_vmcb12_l2(void)
{
	return run_case(SVM_VMCB12_L2);
}

/*
 * Case 8: KVM keeps L2's virtual-APIC page mapped for the running L2:
 * nested_get_vmcs12_pages() mapped it at VMLAUNCH and put its host physical
 * address in vmcs02, where the CPU writes the TPR on L2's MOV to CR8.  At
 * L2's exit to userspace the VMM makes the page NO_WRITE: KVM_RUN must exit
 * WRITE at its gpa, not re-enter L2 with it.  Buggy kernel: KVM resumes L2,
 * which writes its TPR into the page through CR8 (L1 checks that it
 * lands), L1 is done, and KVM_RUN returns 0 (GUEST_DONE): the test fails
 * at the assertion that expects KVM_EXIT_MEMORY_FAULT.
 */
static bool case_vmx_vapic_l2(void)
{
	return run_case(VMX_VAPIC_L2);
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "Case 1 (SVM, MSR permission map, first page)", case_svm_msrpm_low },
		{ "Case 2 (SVM, MSR permission map, second page)", case_svm_msrpm_high },
		{ "Case 3 (VMX, MSR bitmap)", case_vmx_msr_bitmap },
		{ "Case 4 (VMX, NO_WRITE virtual-APIC page)", case_vmx_vapic_no_write },
		{ "Case 5 (VMX, no-access virtual-APIC page)", case_vmx_vapic_no_access },
		{ "Case 6 (VMX, VM-entry MSR-load area)", case_vmx_msr_load },
		{ "Case 7 (SVM, VMCB12 while L2 runs)", case_svm_vmcb12_l2 },
		{ "Case 8 (VMX, virtual-APIC page while L2 runs)", case_vmx_vapic_l2 },
	};
	uint64_t supported;

	is_vmx = memattr_l1_is_vmx();

	supported = memattr_supported_by_default_vm();
	TEST_ASSERT(supported & NW && supported & NX,
		    "NO_WRITE and NO_EXEC must be supported, got 0x%lx", supported);
	pr_info("%s, %s MMU, L1 runs L2 without nested paging\n",
		is_vmx ? "VMX" : "SVM", kvm_is_tdp_enabled() ? "TDP" : "shadow");

	memattr_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
