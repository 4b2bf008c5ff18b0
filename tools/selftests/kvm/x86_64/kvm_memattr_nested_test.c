// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes and nested virtualization: the test VM (L1) is itself a
 * hypervisor and runs an L2 guest whose accesses reach L1's memory through
 * KVM's nested MMU.  An L2 access that the attributes of the L1 page deny
 * exits to the VMM exactly like an L1 access would: KVM_RUN fails with
 * EFAULT and KVM_EXIT_MEMORY_FAULT, memory_fault.gpa is the L1 gpa of the
 * page (not L2's), nothing is written, it is not reflected to L1 as a nested
 * VM-exit, and KVM_RUN retries it once the VMM has cleared the attribute.
 *
 * L2 runs in two setups, each in its own VM:
 * - nested TDP: L1 maps L2's memory with its own EPT (VMX) or NPT (SVM)
 *   tables, at L2 gpas that differ from the L1 gpas of the test pages; KVM
 *   shadows them (shadow EPT / shadow NPT, built by paging_tmpl.h).  Only
 *   where KVM offers nested EPT/NPT, i.e. not with ept=0 / npt=0.
 * - no nested TDP: L2 runs on L1's physical addresses, translated by L1's
 *   page tables; KVM maps them with its TDP MMU for L2 or, with ept=0 /
 *   npt=0, shadows L1's page tables for L2.
 * L2's code, stack and page tables are L1 memory that L1 maps for L2.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kvm_util.h"
#include "processor.h"
#include "svm_util.h"
#include "test_util.h"
#include "vmx.h"
#include "kvm_memattr_nested.h"
#include "kvm_memattr_util.h"

/* The tested L1 pages, one per case. */
#define TEST_GPA	0xc0000000ull
#define TEST_SLOT	10
#define TEST_NPAGES	4
#define PAGE_WRITE	0
#define PAGE_EXEC	1
#define PAGE_XO		2
#define PAGE_RESYNC	3

/* Where L1 maps the tested pages for L2 with nested TDP: L2 gva == L2 gpa. */
#define L2_GPA		0xa0000000ull
/* Where L1 sees the page table page that holds the entry of case 5. */
#define WINDOW_GVA	0xb0000000ull

#define DATA_OFFSET	64
#define FILL_VALUE	0x1111111111111111ull
#define WRITE_VALUE	0x0123456789abcdefull
#define RET_OPCODE	0xc3

/* IA32_VMX_EPT_VPID_CAP bits. */
#define EPT_CAP_EXEC_ONLY	BIT_ULL(0)

/* Bit 1 is write in both guest page table and EPT/NPT entries. */
#define ENTRY_WRITABLE	MEMATTR_TDP_WRITABLE

enum l2_op { OP_READ, OP_WRITE, OP_CALL, OP_ASK_L1 };

/* Shared with the guest. */
static bool is_vmx;
static uint64_t npt_cr3;	/* L1 runs L2 with this NPT, or without NPT. */
static uint64_t l1_entry;	/* gva of the entry L1 makes writable (case 5). */
static uint64_t l2_op;
static uint64_t l2_addr;

/* Host side: the nested TDP tables of the current VM and L2's view. */
static struct memattr_tdp tdp_tables;
static uint64_t l2_base;

#define L2_STACK_SIZE	512
static unsigned long l2_stack[L2_STACK_SIZE] __aligned(16);

static void l2_guest_code(void)
{
	uint64_t addr;

	for (;;) {
		GUEST_SYNC(0);
		addr = READ_ONCE(l2_addr);
		switch (READ_ONCE(l2_op)) {
		case OP_READ:
			READ_ONCE(*(uint64_t *)(addr + DATA_OFFSET));
			break;
		case OP_WRITE:
			WRITE_ONCE(*(uint64_t *)(addr + DATA_OFFSET), WRITE_VALUE);
			break;
		case OP_CALL:
			((void (*)(void))addr)();
			break;
		case OP_ASK_L1:
			if (is_vmx)
				vmcall();
			else
				vmmcall();
			break;
		}
		GUEST_SYNC(1);
	}
}

/* L1's answer to L2's vmcall: make the entry at l1_entry writable. */
static void l1_make_entry_writable(void)
{
	uint64_t *entry = (uint64_t *)l1_entry;

	GUEST_ASSERT(entry);
	WRITE_ONCE(*entry, READ_ONCE(*entry) | ENTRY_WRITABLE);
}

static void invept_single_context(uint64_t eptp)
{
	struct { uint64_t eptp, gpa; } desc = { eptp, 0 };
	uint8_t fail;

	asm volatile("invept %[desc], %[type]; setna %[fail]"
		     : [fail] "=rm"(fail)
		     : [desc] "m"(desc), [type] "r"(1ull)
		     : "cc", "memory");
	GUEST_ASSERT(!fail);
}

static void l1_vmx(struct vmx_pages *vmx)
{
	uint64_t reason;

	GUEST_ASSERT(prepare_for_vmx_operation(vmx));
	GUEST_ASSERT(load_vmcs(vmx));
	/* As if called: the stack is 16-byte aligned before the call. */
	prepare_vmcs(vmx, l2_guest_code, &l2_stack[L2_STACK_SIZE - 1]);
	GUEST_ASSERT(!vmlaunch());

	for (;;) {
		reason = vmreadz(VM_EXIT_REASON);
		__GUEST_ASSERT((reason & 0xffff) == EXIT_REASON_VMCALL,
			       "L2 exited to L1 with reason 0x%lx, qualification 0x%lx, gpa 0x%lx: denied accesses must exit to the VMM",
			       reason, vmreadz(EXIT_QUALIFICATION),
			       vmreadz(GUEST_PHYSICAL_ADDRESS));
		l1_make_entry_writable();
		if (vmx->eptp_gpa)
			invept_single_context(vmreadz(EPT_POINTER));
		asm volatile("invlpg (%0)" : : "r"(l2_addr) : "memory");
		vmwrite(GUEST_RIP, vmreadz(GUEST_RIP) +
				   vmreadz(VM_EXIT_INSTRUCTION_LEN));
		GUEST_ASSERT(!vmresume());
	}
}

static void l1_svm(struct svm_test_data *svm)
{
	struct vmcb *vmcb = svm->vmcb;

	generic_svm_setup(svm, l2_guest_code, &l2_stack[L2_STACK_SIZE - 1]);
	memattr_l1_svm_enable_npt(svm, npt_cr3);

	for (;;) {
		run_guest(vmcb, svm->vmcb_gpa);
		__GUEST_ASSERT(vmcb->control.exit_code == SVM_EXIT_VMMCALL,
			       "L2 exited to L1 with code 0x%x, info 0x%lx 0x%lx: denied accesses must exit to the VMM",
			       vmcb->control.exit_code, vmcb->control.exit_info_1,
			       vmcb->control.exit_info_2);
		l1_make_entry_writable();
		asm volatile("invlpga %%rax, %%ecx"
			     : : "a"(l2_addr), "c"(vmcb->control.asid) : "memory");
		vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ASID;
		vmcb->save.rip += 3;	/* vmmcall */
	}
}

static void l1_guest_code(void *data)
{
	if (is_vmx)
		l1_vmx(data);
	else
		l1_svm(data);
}

static uint64_t page_gpa(int page)
{
	return TEST_GPA + page * PAGE_SIZE;
}

static uint64_t *page_data(struct kvm_vm *vm, int page)
{
	return addr_gpa2hva(vm, page_gpa(page) + DATA_OFFSET);
}

/* Tell L2 what to do next, with the page at L2's address of @page. */
static void start_op(struct kvm_vcpu *vcpu, enum l2_op op, int page)
{
	l2_op = op;
	l2_addr = l2_base + page * PAGE_SIZE;
	sync_global_to_guest(vcpu->vm, l2_op);
	sync_global_to_guest(vcpu->vm, l2_addr);
}

/* L2 does @op on @page and goes back to its command loop. */
static void l2_completes(struct kvm_vcpu *vcpu, enum l2_op op, int page,
			 const char *what)
{
	start_op(vcpu, op, page);
	memattr_finish_op(vcpu, what);
}

/* L2's @op on @page exits to the VMM as a denied @flags access to it. */
static void l2_exits(struct kvm_vcpu *vcpu, enum l2_op op, int page,
		     uint64_t flags, const char *what)
{
	start_op(vcpu, op, page);
	assert_memory_fault(vcpu, _vcpu_run(vcpu), page_gpa(page), PAGE_SIZE,
			    flags, what);
}

/* The VMM clears the attributes; KVM_RUN retries L2's access. */
static void clear_and_complete(struct kvm_vcpu *vcpu, int page, const char *what)
{
	memattr_set(vcpu->vm, page_gpa(page), PAGE_SIZE, 0);
	memattr_finish_op(vcpu, what);
}

/*
 * L2's write to the NO_WRITE @page exits and leaves it unchanged; once the
 * VMM clears the attributes, the retried write lands.
 */
static void l2_write_exits_then_lands(struct kvm_vcpu *vcpu, int page,
				      const char *what)
{
	l2_exits(vcpu, OP_WRITE, page, KVM_MEMORY_EXIT_FLAG_WRITE, what);
	TEST_ASSERT(*page_data(vcpu->vm, page) == FILL_VALUE,
		    "%s: the page was written", what);
	clear_and_complete(vcpu, page, what);
	TEST_ASSERT(*page_data(vcpu->vm, page) == WRITE_VALUE,
		    "%s: the retried write did not land", what);
}

/*
 * A VM whose vCPU runs L1, which runs L2 with nested TDP (@tdp) or without,
 * and, unless @l1_exec_only, tells L1 that its EPT has no execute-only
 * entries.  L2 is at stage 0 when it returns.
 */
static struct kvm_vm *create_vm(struct kvm_vcpu **vcpu, bool tdp,
				bool l1_exec_only)
{
	struct vmx_pages *vmx = NULL;
	struct kvm_sregs sregs;
	struct kvm_vm *vm;
	uint64_t *entry, entry_gpa, cap;
	vm_vaddr_t gva;

	vm = vm_create_with_one_vcpu(vcpu, l1_guest_code);
	if (is_vmx)
		vmx = vcpu_alloc_vmx(vm, &gva);
	else
		vcpu_alloc_svm(vm, &gva);
	vcpu_args_set(*vcpu, 1, gva);

	if (!l1_exec_only) {
		cap = vcpu_get_msr(*vcpu, MSR_IA32_VMX_EPT_VPID_CAP);
		/* vcpu_set_msr() reads the value back and checks it. */
		vcpu_set_msr(*vcpu, MSR_IA32_VMX_EPT_VPID_CAP,
			     cap & ~EPT_CAP_EXEC_ONLY);
		TEST_ASSERT(!(vcpu_get_msr(*vcpu, MSR_IA32_VMX_EPT_VPID_CAP) &
			      EPT_CAP_EXEC_ONLY),
			    "L1's EPT still offers execute-only entries");
	}

	/* L1's read-only PTEs bind L1 and L2 (which inherits L1's CR0). */
	vcpu_sregs_get(*vcpu, &sregs);
	sregs.cr0 |= X86_CR0_WP;
	vcpu_sregs_set(*vcpu, &sregs);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, TEST_NPAGES, 0);
	virt_map(vm, TEST_GPA, TEST_GPA, TEST_NPAGES);
	virt_map(vm, L2_GPA, L2_GPA, TEST_NPAGES);

	npt_cr3 = 0;
	l2_base = TEST_GPA;
	if (tdp) {
		/* All of memslot 0, L2's code, stack and page tables included. */
		tdp_tables = memattr_tdp_create(vm, vmx);
		if (!is_vmx)
			npt_cr3 = tdp_tables.root_gpa;
		memattr_tdp_map(vm, &tdp_tables, L2_GPA, TEST_GPA, TEST_NPAGES);
		l2_base = L2_GPA;
	}

	/*
	 * Case 5: L1 maps its page PAGE_RESYNC read-only for L2, in the nested
	 * TDP tables or in its page tables, and can make it writable through
	 * WINDOW_GVA.  Accessed and dirty are set, so that KVM can make its
	 * mapping writable as soon as L1's is.
	 */
	if (tdp) {
		entry = memattr_tdp_entry(vm, &tdp_tables,
					  l2_base + PAGE_RESYNC * PAGE_SIZE);
	} else {
		entry = vm_get_page_table_entry(vm, l2_base + PAGE_RESYNC * PAGE_SIZE);
		*entry |= PTE_ACCESSED_MASK | PTE_DIRTY_MASK;
	}
	*entry &= ~ENTRY_WRITABLE;
	entry_gpa = addr_hva2gpa(vm, entry);
	virt_pg_map(vm, WINDOW_GVA, entry_gpa & PAGE_MASK);
	l1_entry = WINDOW_GVA + (entry_gpa & (PAGE_SIZE - 1));

	sync_global_to_guest(vm, is_vmx);
	sync_global_to_guest(vm, npt_cr3);
	sync_global_to_guest(vm, l1_entry);

	memset(addr_gpa2hva(vm, TEST_GPA), 0x11, TEST_NPAGES * PAGE_SIZE);
	*(uint8_t *)addr_gpa2hva(vm, page_gpa(PAGE_EXEC)) = RET_OPCODE;
	*(uint8_t *)addr_gpa2hva(vm, page_gpa(PAGE_XO)) = RET_OPCODE;

	memattr_run_to_sync(*vcpu, 0, "L1 starting L2");
	return vm;
}

/*
 * Case 1: L2 writes a NO_WRITE L1 page.  Attacks the nested MMU's fault
 * path (shadow EPT/NPT fault, or L2's TDP root / shadow of L1's page
 * tables), which must consult the attributes of the L1 gfn that L1's tables
 * lead to.  A kernel that missed it would let the write land, report L2's
 * gpa, or reflect an EPT violation / NPF to L1 (L1 asserts).
 */
static void test_l2_write(struct kvm_vcpu *vcpu)
{
	const char *what = "L2 write to a NO_WRITE page";

	memattr_set(vcpu->vm, page_gpa(PAGE_WRITE), PAGE_SIZE, NW);
	l2_write_exits_then_lands(vcpu, PAGE_WRITE, what);
}

/*
 * Case 2: L2 calls a ret in a NO_EXEC L1 page, executable in L1's tables.
 * Same path as case 1 for a fetch; a buggy kernel maps the page executable
 * for L2 and the call returns.
 */
static void test_l2_exec(struct kvm_vcpu *vcpu)
{
	const char *what = "L2 call into a NO_EXEC page";

	memattr_set(vcpu->vm, page_gpa(PAGE_EXEC), PAGE_SIZE, NX);
	l2_exits(vcpu, OP_CALL, PAGE_EXEC, KVM_MEMORY_EXIT_FLAG_EXEC, what);
	clear_and_complete(vcpu, PAGE_EXEC, what);
}

/*
 * Cases 3 and 4: L2 calls into an execute-only L1 page, which L1 maps RWX
 * for L2: the call returns; L2's read of it exits.  With L1's EPT told that
 * it has no execute-only entries (case 4), KVM used to check the shadow-EPT
 * leaf it builds against L1's capabilities, found the execute-only leaf
 * reserved and WARNed in make_spte(): the kernel log check catches that,
 * this only checks that the fetch works and the read exits.
 */
static void test_exec_only(struct kvm_vcpu *vcpu, const char *what)
{
	memattr_set(vcpu->vm, page_gpa(PAGE_XO), PAGE_SIZE, XO);
	l2_completes(vcpu, OP_CALL, PAGE_XO, what);
	l2_exits(vcpu, OP_READ, PAGE_XO, KVM_MEMORY_EXIT_FLAG_READ, what);
	clear_and_complete(vcpu, PAGE_XO, what);
}

/*
 * Case 5: resync of KVM's mapping after L1 relaxes its own.  L1 maps the
 * NO_WRITE page read-only for L2; L2 reads it, so KVM builds a read-only
 * leaf and records L1's read-only permission.  L2 asks L1 (vmcall), which
 * makes its entry writable by writing its table (KVM lets the shadow page
 * go unsync), then flushes (INVEPT single-context / INVLPG on VMX, INVLPGA
 * and a TLB flush on VMRUN on SVM), so KVM resyncs the leaf in
 * FNAME(sync_spte) from L1's entry.  L2 then writes the page: it must exit.
 * The buggy kernel rebuilt the leaf writable from L1's entry alone,
 * ignoring NO_WRITE, and the write landed.  (With TDP for L2 but no nested
 * TDP, nothing is shadowed and this checks the plain fault path.)
 */
static void test_resync(struct kvm_vcpu *vcpu)
{
	const char *what = "L2 write to a NO_WRITE page after L1 made it writable";

	memattr_set(vcpu->vm, page_gpa(PAGE_RESYNC), PAGE_SIZE, NW);
	l2_completes(vcpu, OP_READ, PAGE_RESYNC, "L2 read of a NO_WRITE page");
	l2_completes(vcpu, OP_ASK_L1, PAGE_RESYNC, "L1 making its entry writable");
	l2_write_exits_then_lands(vcpu, PAGE_RESYNC, what);
}

static void run_cases(bool tdp)
{
	const char *mode = tdp ? (is_vmx ? "nested EPT" : "nested NPT") :
			   (is_vmx ? "L2 without EPT" : "L2 without NPT");
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_vm(&vcpu, tdp, true);
	uint64_t supported = memattr_supported(vm);

	test_l2_write(vcpu);
	pr_info("%s: case 1 (L2 write to a NO_WRITE page) passed\n", mode);
	test_l2_exec(vcpu);
	pr_info("%s: case 2 (L2 call into a NO_EXEC page) passed\n", mode);

	if (supported & NR) {
		test_exec_only(vcpu, "L2 and an execute-only page");
		pr_info("%s: case 3 (L2 and an execute-only page) passed\n", mode);
	} else {
		TEST_ASSERT(__memattr_set(vm, page_gpa(PAGE_XO), PAGE_SIZE, XO) == -1 &&
			    errno == EINVAL,
			    "Execute-only must be refused where NO_READ is not advertised");
		pr_info("%s: case 3 not applicable: no execute-only leaves (NO_READ not advertised)\n",
			mode);
	}

	test_resync(vcpu);
	pr_info("%s: case 5 (write after L1 made its read-only mapping writable) passed\n",
		mode);
	kvm_vm_free(vm);
}

/* Case 4: see test_exec_only(). */
static void run_case_4(bool nested_tdp, uint64_t supported)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	if (!is_vmx || !nested_tdp) {
		pr_info("Case 4 not applicable: %s\n", is_vmx ?
			"no nested EPT (ept=0)" : "EPT capabilities are VMX only");
		return;
	}
	if (!(supported & NR)) {
		pr_info("Case 4 not applicable: no execute-only leaves (NO_READ not advertised)\n");
		return;
	}
	TEST_ASSERT(kvm_get_feature_msr(MSR_IA32_VMX_EPT_VPID_CAP) & EPT_CAP_EXEC_ONLY,
		    "NO_READ advertised, but nested EPT offers no execute-only entries");

	vm = create_vm(&vcpu, true, false);
	test_exec_only(vcpu, "L2 and an execute-only page, L1 without execute-only EPT");
	pr_info("nested EPT: case 4 (execute-only page, L1's EPT without execute-only) passed\n");
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	bool nested_tdp;
	uint64_t supported = memattr_supported_by_default_vm();

	TEST_ASSERT(supported & NW && supported & NX,
		    "NO_WRITE and NO_EXEC must be supported, got 0x%lx", supported);

	is_vmx = kvm_cpu_has(X86_FEATURE_VMX);
	TEST_ASSERT(is_vmx != kvm_cpu_has(X86_FEATURE_SVM),
		    "Exactly one of VMX and SVM should be offered to guests");
	nested_tdp = is_vmx ? kvm_cpu_has_ept() : kvm_cpu_has(X86_FEATURE_NPT);
	pr_info("%s, %s MMU, nested %s %savailable\n", is_vmx ? "VMX" : "SVM",
		kvm_is_tdp_enabled() ? "TDP" : "shadow", is_vmx ? "EPT" : "NPT",
		nested_tdp ? "" : "not ");

	/* "4" runs case 4 alone, e.g. on a kernel where case 5 fails. */
	if (argc < 2 || strcmp(argv[1], "4")) {
		run_cases(false);
		if (nested_tdp)
			run_cases(true);
		else
			pr_info("Cases 1, 2, 3 and 5 with nested %s not run: KVM does not offer it (%s=0)\n",
				is_vmx ? "EPT" : "NPT", is_vmx ? "ept" : "npt");
	}
	run_case_4(nested_tdp, supported);
	return 0;
}
