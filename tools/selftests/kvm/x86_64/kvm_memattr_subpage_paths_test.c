// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sub-page write protection (128-byte maps) on the paths where a guest
 * write does not reach memory through a leaf that the guest's own fault
 * built:
 *
 * - KVM's own writes for a guest instruction, checked by the bytes written
 *   (kvm_memattr_check_range()): the wall clock, which KVM writes at the
 *   WRMSR of MSR_KVM_WALL_CLOCK_NEW, and kvmclock, registered by the WRMSR
 *   of MSR_KVM_SYSTEM_TIME_NEW and written by KVM at every clock update.  A
 *   structure with a byte in a denied sub-page makes the WRMSR exit
 *   (KVM_EXIT_MEMORY_FAULT, flags WRITE|SUBPAGE, the first denied sub-page,
 *   size 128) with RIP at the WRMSR and nothing written; the WRMSR is
 *   retried once the map allows it.  One in a permitted sub-page is written
 *   without an exit, the denied sub-pages around it untouched; a registered
 *   kvmclock whose sub-page becomes denied is no longer updated.
 * - L2's writes to L1's protected pages, with and without nested EPT/NPT:
 *   never through SPP (vmcs02 does not enable it), each faults into KVM,
 *   which emulates it or exits with the L1 gpa of the sub-page.
 * - Shadow paging's INVLPG resync (FNAME(sync_spte)) of a gPTE that the
 *   guest made writable: the rebuilt SPTE of a page with a map must stay
 *   read-only, so that a write to a denied sub-page still exits.
 *
 * Every case runs in software mode and, where advertised, in hardware
 * mode (where not, enabling it must fail).  The test pages are checked
 * byte for byte after every step (kvm_memattr_subpage_guest.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_nested.h"
#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_util.h"
#include "kvm_memattr_subpage_guest.h"

/* struct pvclock_wall_clock: version, sec, nsec. */
#define WALL_CLOCK_SIZE		12
#define WALL_CLOCK_NSEC		8
/* struct pvclock_vcpu_time_info, version first. */
#define KVMCLOCK_SIZE		32
#define KVMCLOCK_ENABLE		1ull

#define WRMSR_BYTES		"\x0f\x30"

/* Where L1 maps the test pages for L2 with nested TDP: L2 gva == L2 gpa. */
#define L2_GPA			0xa0000000ull
/* A gva alone in its 512G region, for the resync. */
#define RESYNC_GVA		0x8000000000ull

enum guest_op { OP_NOP, OP_WRMSR, OP_WRITE, OP_RESYNC_WRITE };

/* Shared with the guest. */
static bool is_vmx;
static uint64_t npt_cr3;

#define L2_STACK_SIZE		256
static unsigned long l2_stack[L2_STACK_SIZE] __aligned(16);

static void guest_run_op(uint64_t op, uint64_t arg, uint64_t val)
{
	switch (op) {
	case OP_WRMSR:
		memattr_guest_wrmsr(arg, val);
		break;
	case OP_RESYNC_WRITE:
		memattr_guest_resync(arg & ~(PAGE_SIZE - 1));
		/* fallthrough */
	case OP_WRITE:
		WRITE_ONCE(*(volatile uint64_t *)arg, val);
		break;
	}
}

/* The guest, and L2: one op at a time, GUEST_SYNC(0) and (1) around it. */
static void guest_code(void)
{
	memattr_guest_loop(guest_run_op);
}

/* L1 runs L2, which never exits to L1. */
static void l1_guest_code(void *data)
{
	if (is_vmx) {
		memattr_l1_vmx_setup(data, guest_code, &l2_stack[L2_STACK_SIZE - 1]);
		memattr_l1_vmx_run();
	} else {
		memattr_l1_svm_setup(data, guest_code, &l2_stack[L2_STACK_SIZE - 1]);
		memattr_l1_svm_enable_npt(data, npt_cr3);
		memattr_l1_svm_run(data);
	}
	GUEST_FAIL("L2 returned to L1");
}

/*
 * A VM in mode sp_mode with the test pages (kvm_memattr_subpage_guest.h),
 * filled and mapped at their gpas, and a vCPU running @code that has not
 * run yet.
 */
static struct kvm_vm *create_vm(struct kvm_vcpu **vcpu, void *code)
{
	struct kvm_vm *vm = vm_create(1);

	subpage_enable(vm, sp_mode);
	*vcpu = vm_vcpu_add(vm, 0, code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SP_GPA, SP_SLOT,
				    SP_NPAGES, 0);
	virt_map(vm, SP_GPA, SP_GPA, SP_NPAGES);
	sp_fill(vm);
	return vm;
}

static struct kvm_vm *create_pv_vm(struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = create_vm(vcpu, guest_code);

	TEST_ASSERT(vcpu_cpuid_has(*vcpu, X86_FEATURE_KVM_CLOCKSOURCE2),
		    "The vCPU's CPUID should have kvmclock (KVM_FEATURE_CLOCKSOURCE2)");
	TEST_ASSERT(!sp_run(*vcpu, 0), "The guest did not start");
	return vm;
}

/* The guest's WRMSR @msr = @val completes without an exit. */
static void do_wrmsr(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t val,
		     const char *what)
{
	memattr_start_op(vcpu->vm, OP_WRMSR, msr, val);
	sp_expect_done(vcpu, what);
}

/*
 * The guest's WRMSR @msr = @val, which makes KVM write a structure with a
 * byte in a denied sub-page, the first at @denied: KVM_RUN exits for that
 * sub-page, twice, with RIP at the WRMSR, and no byte changes.  Once the
 * map of its page is @relaxed, the WRMSR completes without an exit.
 */
static void wrmsr_denied(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t val,
			 uint64_t denied, uint32_t relaxed, const char *what)
{
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_regs regs;
	uint64_t rip = 0;
	int i;

	memattr_start_op(vm, OP_WRMSR, msr, val);
	for (i = 0; i < 2; i++) {
		sp_expect_denied(vcpu, denied, what);
		sp_assert_memory(vm, what);
		vcpu_regs_get(vcpu, &regs);
		TEST_ASSERT(!memcmp(addr_gva2hva(vm, regs.rip), WRMSR_BYTES, 2) &&
			    (!i || regs.rip == rip),
			    "%s: exit %d at RIP 0x%llx, not at the WRMSR (first exit at 0x%lx)",
			    what, i + 1, regs.rip, rip);
		rip = regs.rip;
	}
	subpage_set_one(vm, denied & ~(PAGE_SIZE - 1), relaxed);
	sp_expect_done(vcpu, what);
}

/*
 * KVM wrote the structure of @len bytes at @gpa: its version, the first
 * 32 bits, changed and is even (complete).  Its bytes are taken as
 * expected; every other byte of the test pages must be as it was.
 */
static void kvm_wrote(struct kvm_vm *vm, uint64_t gpa, size_t len,
		      const char *what)
{
	uint32_t before, version = *(uint32_t *)sp_hva(vm, gpa);

	memcpy(&before, &sp_expected[gpa - SP_GPA], sizeof(before));
	TEST_ASSERT(version != before && !(version & 1),
		    "%s: KVM did not write the structure at 0x%lx: version 0x%x, before 0x%x",
		    what, gpa, version, before);
	sp_expect(gpa, sp_hva(vm, gpa), len);
	sp_assert_memory(vm, what);
}

static void wall_clock_written(struct kvm_vm *vm, uint64_t gpa, const char *what)
{
	uint32_t nsec = *(uint32_t *)sp_hva(vm, gpa + WALL_CLOCK_NSEC);

	/* The test pages' bytes all have bit 7 set: above 10^9. */
	TEST_ASSERT(nsec < 1000000000u,
		    "%s: the wall clock at 0x%lx has nsec 0x%x: not written",
		    what, gpa, nsec);
	kvm_wrote(vm, gpa, WALL_CLOCK_SIZE, what);
}

/*
 * kvmclock at @gpa was written; the guest disables it, so that no later
 * clock update changes the test pages.
 */
static void kvmclock_written(struct kvm_vcpu *vcpu, uint64_t gpa,
			     const char *what)
{
	do_wrmsr(vcpu, MSR_KVM_SYSTEM_TIME_NEW, 0, "disable kvmclock");
	kvm_wrote(vcpu->vm, gpa, KVMCLOCK_SIZE, what);
}

static void force_clock_update(struct kvm_vm *vm)
{
	struct kvm_clock_data data = {};

	vm_ioctl(vm, KVM_GET_CLOCK, &data);
	vm_ioctl(vm, KVM_SET_CLOCK, &data);
}

/*
 * Case 1: the wall clock in the middle of denied sub-page 5 of page 0, the
 * map relaxed for that sub-page only (sub-page 6 stays denied); kvmclock
 * at the start of denied sub-page 31 of page 1, the page unprotected.
 */
static bool test_kvm_write_denied(void)
{
	uint64_t wall = sp_gpa(0, 5) + 40, clock = sp_gpa(1, 31);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_pv_vm(&vcpu);
	const char *what;

	what = "wall clock in a denied sub-page";
	subpage_set_one(vm, sp_gpa(0, 0), sp_deny(BIT(5) | BIT(6)));
	wrmsr_denied(vcpu, MSR_KVM_WALL_CLOCK_NEW, wall, sp_gpa(0, 5),
		     sp_deny(BIT(6)), what);
	wall_clock_written(vm, wall, what);

	what = "kvmclock in a denied sub-page";
	subpage_set_one(vm, sp_gpa(1, 0), sp_deny(BIT(31)));
	wrmsr_denied(vcpu, MSR_KVM_SYSTEM_TIME_NEW, clock | KVMCLOCK_ENABLE,
		     sp_gpa(1, 31), SP_ALL, what);
	kvmclock_written(vcpu, clock, what);
	kvm_vm_free(vm);
	return true;
}

/*
 * Case 2: the wall clock in sub-page 9 of page 2, kvmclock in sub-page 0
 * of page 3, each the only permitted sub-page of its page: written, no
 * exit.  Then the kvmclock sub-page is denied too: clock updates skip it
 * (no exit, nothing written) until it is permitted again.
 */
static bool test_kvm_write_permitted(void)
{
	uint64_t wall = sp_gpa(2, 9) + 100, clock = sp_gpa(3, 0);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_pv_vm(&vcpu);
	const char *what;
	int i;

	what = "wall clock in the only permitted sub-page";
	subpage_set_one(vm, sp_gpa(2, 0), BIT(9));
	do_wrmsr(vcpu, MSR_KVM_WALL_CLOCK_NEW, wall, what);
	wall_clock_written(vm, wall, what);

	/* KVM writes kvmclock only in KVM_RUN: it is stable in between. */
	what = "kvmclock in the only permitted sub-page";
	subpage_set_one(vm, sp_gpa(3, 0), BIT(0));
	do_wrmsr(vcpu, MSR_KVM_SYSTEM_TIME_NEW, clock | KVMCLOCK_ENABLE, what);
	kvm_wrote(vm, clock, KVMCLOCK_SIZE, what);

	what = "kvmclock updates, its sub-page denied after registration";
	subpage_set_one(vm, sp_gpa(3, 0), 0);
	force_clock_update(vm);
	for (i = 0; i < 3; i++) {
		memattr_start_op(vm, OP_NOP, 0, 0);
		sp_expect_done(vcpu, what);
	}
	sp_assert_memory(vm, what);

	what = "kvmclock updates, its sub-page permitted again";
	subpage_set_one(vm, sp_gpa(3, 0), BIT(0));
	force_clock_update(vm);
	memattr_start_op(vm, OP_NOP, 0, 0);
	sp_expect_done(vcpu, what);
	kvmclock_written(vcpu, clock, what);
	kvm_vm_free(vm);
	return true;
}

/*
 * Case 3: structures across the boundary of a permitted and a denied
 * sub-page: the exit names the denied one, and KVM writes none of the
 * bytes, those in the permitted sub-page included.
 */
static bool test_kvm_write_straddling(void)
{
	uint64_t wall = sp_gpa(4, 1) - 4, wall2 = sp_gpa(4, 2) - 4;
	uint64_t clock = sp_gpa(5, 1) - 16;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_pv_vm(&vcpu);
	const char *what;

	what = "wall clock straddling (permitted, denied)";
	subpage_set_one(vm, sp_gpa(4, 0), sp_deny(BIT(1)));
	wrmsr_denied(vcpu, MSR_KVM_WALL_CLOCK_NEW, wall, sp_gpa(4, 1),
		     sp_deny(BIT(2)), what);
	wall_clock_written(vm, wall, what);

	what = "wall clock straddling (denied, permitted)";
	subpage_set_one(vm, sp_gpa(4, 0), sp_deny(BIT(1)));
	wrmsr_denied(vcpu, MSR_KVM_WALL_CLOCK_NEW, wall2, sp_gpa(4, 1), SP_ALL,
		     what);
	wall_clock_written(vm, wall2, what);

	what = "kvmclock straddling (permitted, denied)";
	subpage_set_one(vm, sp_gpa(5, 0), sp_deny(BIT(1)));
	wrmsr_denied(vcpu, MSR_KVM_SYSTEM_TIME_NEW, clock | KVMCLOCK_ENABLE,
		     sp_gpa(5, 1), SP_ALL, what);
	kvmclock_written(vcpu, clock, what);
	kvm_vm_free(vm);
	return true;
}

/* The guest's @op writes 8 bytes of @val at @addr, the gpa @gpa: lands. */
static void write_ok(struct kvm_vcpu *vcpu, enum guest_op op, uint64_t addr,
		     uint64_t gpa, uint64_t val, const char *what)
{
	memattr_start_op(vcpu->vm, op, addr, val);
	sp_expect_done(vcpu, what);
	sp_expect_value(gpa, val, 8);
	sp_assert_memory(vcpu->vm, what);
}

/*
 * The guest's @op writes 8 bytes of @val at @addr, the gpa @gpa in a
 * denied sub-page: exits for that sub-page, nothing written; once the map
 * of its page is @relaxed, it is retried and lands.
 */
static void write_denied(struct kvm_vcpu *vcpu, enum guest_op op,
			 uint64_t addr, uint64_t gpa, uint64_t val,
			 uint32_t relaxed, const char *what)
{
	memattr_start_op(vcpu->vm, op, addr, val);
	sp_write_denied(vcpu, gpa, val, 8, gpa & ~(KVM_SUBPAGE_SIZE - 1),
			gpa & ~(PAGE_SIZE - 1), relaxed, what);
}

/*
 * A VM whose vCPU runs L1, which runs L2 with nested TDP (@tdp) or
 * without; L2 sees the test pages at *@l2_base.  L2 is at stage 0.
 */
static struct kvm_vm *create_nested_vm(struct kvm_vcpu **vcpu, bool tdp,
				       uint64_t *l2_base)
{
	struct kvm_vm *vm = create_vm(vcpu, l1_guest_code);
	struct vmx_pages *vmx = NULL;
	struct memattr_tdp tables;
	vm_vaddr_t gva;

	if (is_vmx)
		vmx = vcpu_alloc_vmx(vm, &gva);
	else
		vcpu_alloc_svm(vm, &gva);
	vcpu_args_set(*vcpu, 1, gva);

	npt_cr3 = 0;
	*l2_base = SP_GPA;
	if (tdp) {
		tables = memattr_tdp_create(vm, vmx);
		if (!is_vmx)
			npt_cr3 = tables.root_gpa;
		memattr_tdp_map(vm, &tables, L2_GPA, SP_GPA, SP_NPAGES);
		virt_map(vm, L2_GPA, L2_GPA, SP_NPAGES);
		*l2_base = L2_GPA;
	}
	sync_global_to_guest(vm, is_vmx);
	sync_global_to_guest(vm, npt_cr3);
	TEST_ASSERT(!sp_run(*vcpu, 0), "L1 did not start L2");
	return vm;
}

/*
 * L2 writes page 2, whose sub-pages 3 and 7 are denied: its writes to
 * sub-page 2 and to the end of sub-page 4 land; its write to sub-page 3
 * exits with the L1 gpa and lands once that sub-page is permitted (the
 * page still protected); its write to sub-page 7 still exits, and lands
 * once the page is unprotected.
 */
static void l2_writes(bool tdp, const char *setup)
{
	struct kvm_vcpu *vcpu;
	uint64_t l2_base, gpa;
	struct kvm_vm *vm = create_nested_vm(&vcpu, tdp, &l2_base);
	char what[96];

#define L2_ADDR(gpa)	(l2_base + (gpa) - SP_GPA)
	subpage_set_one(vm, sp_gpa(2, 0), sp_deny(BIT(3) | BIT(7)));
	snprintf(what, sizeof(what), "%s: L2 writes to permitted sub-pages", setup);
	gpa = sp_gpa(2, 2) + 8;
	write_ok(vcpu, OP_WRITE, L2_ADDR(gpa), gpa, SP_VALUE, what);
	gpa = sp_gpa(2, 5) - 8;
	write_ok(vcpu, OP_WRITE, L2_ADDR(gpa), gpa, SP_VALUE2, what);

	snprintf(what, sizeof(what), "%s: L2 write to a denied sub-page", setup);
	gpa = sp_gpa(2, 3) + 16;
	write_denied(vcpu, OP_WRITE, L2_ADDR(gpa), gpa, SP_VALUE,
		     sp_deny(BIT(7)), what);
	snprintf(what, sizeof(what), "%s: L2 write to a sub-page still denied",
		 setup);
	gpa = sp_gpa(2, 7) + 120;
	write_denied(vcpu, OP_WRITE, L2_ADDR(gpa), gpa, SP_VALUE2, SP_ALL, what);
#undef L2_ADDR
	kvm_vm_free(vm);
	pr_info("    %s: passed\n", setup);
}

/* Case 4: L2 without nested TDP, and with it where KVM offers it. */
static bool test_l2_writes(void)
{
	bool nested_tdp;

	is_vmx = memattr_l1_is_vmx();
	nested_tdp = is_vmx ? kvm_cpu_has_ept() : kvm_cpu_has(X86_FEATURE_NPT);
	TEST_ASSERT(nested_tdp == kvm_is_tdp_enabled(),
		    "KVM should offer nested %s exactly when it uses TDP (%s)",
		    is_vmx ? "EPT" : "NPT", memattr_mmu_name());

	l2_writes(false, is_vmx ? "L2 without EPT" : "L2 without NPT");
	if (nested_tdp)
		l2_writes(true, is_vmx ? "L2 with nested EPT" : "L2 with nested NPT");
	else
		pr_info("    L2 with nested %s: not applicable, KVM does not offer it on %s\n",
			is_vmx ? "EPT" : "NPT", memattr_mmu_name());
	return true;
}

/*
 * Case 5: page 0, with sub-pages 5 and 9 denied and no attribute, is mapped
 * at RESYNC_GVA by a read-only gPTE with A and D set.  (a) The guest reads
 * it, makes the gPTE writable through an alias and INVLPGs (KVM resyncs
 * the SPTE), then writes sub-page 5: the write exits and lands once that
 * sub-page is permitted.  (b) The same with the gPTE read-only again, a
 * write to permitted sub-page 6: it lands.  (c) A write to sub-page 9
 * through the resynced SPTE exits.  A buggy resync builds a writable SPTE
 * and the writes to sub-pages 5 and 9 land without an exit.
 */
static bool test_resync(void)
{
	uint32_t map = sp_deny(BIT(5) | BIT(9));
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint64_t *pte;

	if (kvm_is_tdp_enabled()) {
		pr_info("    not applicable on the %s: the CPU walks the guest's page tables, KVM resyncs no SPTE\n",
			memattr_mmu_name());
		return false;
	}
	TEST_ASSERT(sp_software(), "Hardware mode must not exist with shadow paging");

	vm = create_vm(&vcpu, guest_code);
	pte = memattr_resync_map(vcpu, RESYNC_GVA, sp_gpa(0, 0),
				 PTE_WRITABLE_MASK, 0);
	TEST_ASSERT(!sp_run(vcpu, 0), "The guest did not start");
	subpage_set_one(vm, sp_gpa(0, 0), map);

	write_denied(vcpu, OP_RESYNC_WRITE, RESYNC_GVA + 5 * KVM_SUBPAGE_SIZE + 8,
		     sp_gpa(0, 5) + 8, SP_VALUE, sp_deny(BIT(9)),
		     "write to a denied sub-page through a resynced SPTE");
	TEST_ASSERT(*pte & PTE_WRITABLE_MASK,
		    "The guest did not make its gPTE writable: 0x%lx", *pte);

	*pte &= ~PTE_WRITABLE_MASK;
	subpage_set_one(vm, sp_gpa(0, 0), map);
	write_ok(vcpu, OP_RESYNC_WRITE, RESYNC_GVA + 6 * KVM_SUBPAGE_SIZE,
		 sp_gpa(0, 6), SP_VALUE2,
		 "write to a permitted sub-page through a resynced SPTE");
	TEST_ASSERT(*pte & PTE_WRITABLE_MASK,
		    "The guest did not make its gPTE writable: 0x%lx", *pte);

	write_denied(vcpu, OP_WRITE, RESYNC_GVA + 9 * KVM_SUBPAGE_SIZE + 120,
		     sp_gpa(0, 9) + 120, SP_VALUE, SP_ALL,
		     "write to a denied sub-page after the resync");
	kvm_vm_free(vm);
	return true;
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "1. KVM's writes for a WRMSR into a denied sub-page",
		  test_kvm_write_denied },
		{ "2. KVM's writes into the permitted sub-page of a protected page",
		  test_kvm_write_permitted },
		{ "3. KVM's writes straddling a permitted and a denied sub-page",
		  test_kvm_write_straddling },
		{ "4. L2 writes to L1's protected pages", test_l2_writes },
		{ "5. shadow paging's INVLPG resync of a protected page",
		  test_resync },
	};

	TEST_ASSERT(kvm_cpu_has(X86_FEATURE_KVM_CLOCKSOURCE2),
		    "KVM should support kvmclock");
	pr_info("MMU: %s\n", memattr_mmu_name());
	sp_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
