// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes and L1's PML buffer (VMX).  L1 runs L2 with nested EPT,
 * EPT accessed and dirty flags and page-modification logging.  L2's first
 * write to a page whose EPT12 entry has its dirty flag clear makes KVM,
 * which emulates both for L1, log the page's L2 gpa in L1's PML buffer and
 * set the flag (nested_vmx_write_pml_buffer(), from the walker's dirty-bit
 * update).  That write to L1's memory is made for L2's write, as the CPU's
 * PML would make it, so it is checked like one.
 *
 * Control: with the buffer unprotected, L2's write lands, the buffer's
 * last entry holds the page's gpa, L1's PML index went from 511 to 510 and
 * the EPT12 entry is dirty.  With the buffer's page NO_WRITE: KVM_RUN fails
 * with EFAULT and KVM_EXIT_MEMORY_FAULT (WRITE) for the buffer's page, the
 * buffer, the target page and the EPT12 entry are unchanged; once the VMM
 * clears the attributes, L2's write is retried and everything is as in the
 * control.  Buggy kernel: kvm_write_guest_page() refuses the buffer
 * silently, L2's write lands without an exit and L1's log misses it.
 *
 * PML and nested EPT exist on VMX only, and KVM offers nested EPT only with
 * EPT itself: elsewhere the test says that the path does not exist, and
 * checks that KVM does not offer it.
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

/* L1's PML buffer, then the page L2 writes; alone in their slot. */
#define TEST_GPA	0xc0000000ull
#define TEST_SLOT	10
#define PML_GPA		TEST_GPA
#define TARGET_GPA	(TEST_GPA + PAGE_SIZE)
#define FILL_BYTE	0x5a

#define PML_ENTRIES	512
#define EPT_DIRTY	BIT_ULL(9)
#define L2_VALUE	0x5ca1ab1e0ddba11ull

/* L1 is about to run L2; L1 is done. */
#define STAGE_RUN_L2	1
#define STAGE_DONE	2

#define L2_STACK_SIZE	256
static unsigned long l2_stack[L2_STACK_SIZE] __aligned(16);

/* What L1 read of GUEST_PML_INDEX after L2 ran, for the host. */
static uint64_t pml_index_after;

static void l2_guest_code(void)
{
	WRITE_ONCE(*(volatile uint64_t *)TARGET_GPA, L2_VALUE);
	vmcall();
}

static void l1_guest_code(struct vmx_pages *vmx)
{
	uint64_t ctl;

	memattr_l1_vmx_setup(vmx, l2_guest_code, &l2_stack[L2_STACK_SIZE - 1]);
	ctl = vmreadz(SECONDARY_VM_EXEC_CONTROL) | SECONDARY_EXEC_ENABLE_PML;
	GUEST_ASSERT(!vmwrite(SECONDARY_VM_EXEC_CONTROL, ctl));
	GUEST_ASSERT(!vmwrite(PML_ADDRESS, PML_GPA));
	GUEST_ASSERT(!vmwrite(GUEST_PML_INDEX, PML_ENTRIES - 1));

	GUEST_SYNC(STAGE_RUN_L2);
	memattr_l1_vmx_run();
	WRITE_ONCE(pml_index_after, vmreadz(GUEST_PML_INDEX));
	GUEST_SYNC(STAGE_DONE);
	GUEST_DONE();
}

struct pml_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	uint64_t *pml;		/* L1's PML buffer */
	uint64_t *target;	/* what L2 writes */
	uint64_t *ept_entry;	/* the EPT12 entry of TARGET_GPA */
};

/*
 * L1 with its PML buffer and EPT built, TARGET_GPA mapped for L2 with its
 * dirty flag clear, stopped before it runs L2.
 */
static void create_vm(struct pml_vm *t)
{
	struct memattr_tdp tables;
	struct vmx_pages *vmx;
	vm_vaddr_t gva;

	t->vm = vm_create_with_one_vcpu(&t->vcpu, l1_guest_code);
	vm_userspace_mem_region_add(t->vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, 2, 0);
	virt_map(t->vm, TEST_GPA, TEST_GPA, 2);
	t->pml = addr_gpa2hva(t->vm, PML_GPA);
	t->target = addr_gpa2hva(t->vm, TARGET_GPA);
	memset(t->pml, FILL_BYTE, 2 * PAGE_SIZE);

	vmx = vcpu_alloc_vmx(t->vm, &gva);
	tables = memattr_tdp_create(t->vm, vmx);
	memattr_tdp_map(t->vm, &tables, TARGET_GPA, TARGET_GPA, 1);
	t->ept_entry = memattr_tdp_entry(t->vm, &tables, TARGET_GPA);
	*t->ept_entry &= ~EPT_DIRTY;
	vcpu_args_set(t->vcpu, 1, gva);
	memattr_run_to_sync(t->vcpu, STAGE_RUN_L2, "L1 sets up PML for L2");
}

/* Nothing logged, nothing written, the EPT12 entry still clean. */
static void assert_untouched(struct pml_vm *t, const char *what)
{
	static uint8_t fill[PAGE_SIZE];

	memset(fill, FILL_BYTE, sizeof(fill));
	TEST_ASSERT(!memcmp(t->pml, fill, PAGE_SIZE) &&
		    !memcmp(t->target, fill, PAGE_SIZE),
		    "%s: the PML buffer or the target page changed", what);
	TEST_ASSERT(!(*t->ept_entry & EPT_DIRTY),
		    "%s: the EPT12 entry 0x%lx is dirty", what, *t->ept_entry);
}

/* L2's write landed and was logged in L1's buffer, as the CPU would. */
static void assert_logged(struct pml_vm *t, const char *what)
{
	memattr_run_to_sync(t->vcpu, STAGE_DONE, what);
	sync_global_from_guest(t->vm, pml_index_after);
	TEST_ASSERT(*t->target == L2_VALUE,
		    "%s: the target holds 0x%lx, L2 wrote 0x%llx", what,
		    *t->target, L2_VALUE);
	TEST_ASSERT(t->pml[PML_ENTRIES - 1] == TARGET_GPA,
		    "%s: PML entry %d is 0x%lx, expected L2's gpa 0x%llx", what,
		    PML_ENTRIES - 1, t->pml[PML_ENTRIES - 1], TARGET_GPA);
	TEST_ASSERT(pml_index_after == PML_ENTRIES - 2,
		    "%s: L1's PML index is %lu, expected %d", what,
		    pml_index_after, PML_ENTRIES - 2);
	TEST_ASSERT(*t->ept_entry & EPT_DIRTY,
		    "%s: the EPT12 entry 0x%lx is not dirty", what, *t->ept_entry);
}

/* Case 1, control: L2's write is logged without an exit. */
static bool test_control(void)
{
	const char *what = "L2's write, L1's PML buffer unprotected";
	struct pml_vm t;

	create_vm(&t);
	assert_logged(&t, what);
	kvm_vm_free(t.vm);
	pr_info("%s: logged at entry %d, no exit\n", what, PML_ENTRIES - 1);
	return true;
}

/*
 * Case 2: the buffer's page NO_WRITE: exit WRITE for it, nothing changed;
 * retried once cleared, L2's write lands and is logged.
 */
static bool test_denied(void)
{
	const char *what = "L2's write, L1's PML buffer NO_WRITE";
	struct pml_vm t;

	create_vm(&t);
	memattr_set(t.vm, PML_GPA, PAGE_SIZE, NW);
	assert_memory_fault(t.vcpu, _vcpu_run(t.vcpu), PML_GPA, PAGE_SIZE,
			    KVM_MEMORY_EXIT_FLAG_WRITE, what);
	assert_untouched(&t, what);
	memattr_set(t.vm, PML_GPA, PAGE_SIZE, 0);
	assert_logged(&t, what);
	kvm_vm_free(t.vm);
	pr_info("%s: WRITE exit, nothing logged or written; retried, logged\n",
		what);
	return true;
}

/* Whether KVM offers L1 PML: with nested EPT and its accessed/dirty flags. */
static bool l1_has_pml(void)
{
	uint64_t ctls2 = kvm_get_feature_msr(MSR_IA32_VMX_PROCBASED_CTLS2);

	return (ctls2 >> 32) & SECONDARY_EXEC_ENABLE_PML;
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "1. control", test_control },
		{ "2. a NO_WRITE PML buffer", test_denied },
	};

	TEST_REQUIRE(memattr_supported_by_default_vm() & NW);
	if (!memattr_l1_is_vmx()) {
		pr_info("SVM: no PML; not applicable\n");
		return 0;
	}
	if (!kvm_is_tdp_enabled()) {
		TEST_ASSERT(!l1_has_pml(),
			    "KVM offers L1 PML without EPT");
		pr_info("VMX, shadow paging: KVM offers L1 neither nested EPT nor PML; not applicable\n");
		return 0;
	}
	TEST_ASSERT(l1_has_pml(),
		    "KVM with EPT should offer L1 PML (it does with EPT accessed and dirty flags, which both emulated CPUs have)");
	pr_info("VMX, %s\n", memattr_mmu_name());
	memattr_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
