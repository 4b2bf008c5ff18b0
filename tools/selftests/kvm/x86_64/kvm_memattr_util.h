/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the kvm_memattr selftests: setting memory attributes,
 * checking the KVM_EXIT_MEMORY_FAULT that reports a denied access, and a
 * guest that runs the host's commands one at a time.
 */
#ifndef SELFTEST_KVM_MEMATTR_UTIL_H
#define SELFTEST_KVM_MEMATTR_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define NR	KVM_MEMORY_ATTRIBUTE_NO_READ
#define NW	KVM_MEMORY_ATTRIBUTE_NO_WRITE
#define NX	KVM_MEMORY_ATTRIBUTE_NO_EXEC
#define XO	(NR | NW)

static inline int __memattr_set(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
				uint64_t attributes)
{
	struct kvm_memory_attributes attr = {
		.address = gpa,
		.size = size,
		.attributes = attributes,
	};

	return __vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr);
}

static inline void memattr_set(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
			       uint64_t attributes)
{
	TEST_ASSERT(!__memattr_set(vm, gpa, size, attributes),
		    "SET 0x%lx over [0x%lx, +0x%lx) failed: %s",
		    attributes, gpa, size, strerror(errno));
}

static inline uint64_t memattr_supported(struct kvm_vm *vm)
{
	return vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES);
}

/* What a default VM accepts. */
static inline uint64_t memattr_supported_by_default_vm(void)
{
	struct kvm_vm *vm = vm_create_barebones();
	uint64_t supported = memattr_supported(vm);

	kvm_vm_free(vm);
	return supported;
}

/*
 * KVM_RUN, whose result is @r, stopped with -1/EFAULT and a
 * KVM_EXIT_MEMORY_FAULT for a denied @flags access to [@gpa, +@size).
 */
static inline void assert_memory_fault(struct kvm_vcpu *vcpu, int r,
				       uint64_t gpa, uint64_t size,
				       uint64_t flags, const char *what)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;

	/* A guest assertion (say, a #GP instead of the exit) tells more. */
	if (!r && get_ucall(vcpu, &uc) == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
	TEST_ASSERT(r == -1 && errno == EFAULT,
		    "%s: KVM_RUN should fail with EFAULT, got %d (errno %d), exit reason %s",
		    what, r, errno, exit_reason_str(run->exit_reason));
	TEST_ASSERT(run->exit_reason == KVM_EXIT_MEMORY_FAULT,
		    "%s: exit reason %s", what, exit_reason_str(run->exit_reason));
	TEST_ASSERT(run->memory_fault.gpa == gpa &&
		    run->memory_fault.size == size &&
		    run->memory_fault.flags == flags,
		    "%s: memory fault at 0x%llx, size 0x%llx, flags 0x%llx; expected 0x%lx, 0x%lx, 0x%lx",
		    what, run->memory_fault.gpa, run->memory_fault.size,
		    run->memory_fault.flags, gpa, size, flags);
}

/*
 * A guest that runs the host's commands one at a time, so that the test
 * chooses each access the guest makes.  Parked at GUEST_SYNC(0), it runs the
 * command that memattr_start_op() wrote by calling @run_op(op, arg, val), and
 * reports GUEST_SYNC(1) when it is done.  The values of op are the test's.
 */
static struct {
	uint64_t op;
	uint64_t arg;
	uint64_t val;
} memattr_cmd;

static inline void memattr_guest_loop(void (*run_op)(uint64_t op, uint64_t arg,
						      uint64_t val))
{
	for (;;) {
		GUEST_SYNC(0);
		run_op(READ_ONCE(memattr_cmd.op), READ_ONCE(memattr_cmd.arg),
		       READ_ONCE(memattr_cmd.val));
		GUEST_SYNC(1);
	}
}

/* In the guest: WRMSR of @val to @msr, which must succeed and read back. */
static inline void memattr_guest_wrmsr(uint64_t msr, uint64_t val)
{
	uint8_t vector = wrmsr_safe(msr, val);

	__GUEST_ASSERT(!vector, "WRMSR 0x%lx = 0x%lx raised vector %u",
		       msr, val, vector);
	__GUEST_ASSERT(rdmsr(msr) == val,
		       "MSR 0x%lx reads 0x%lx, not the 0x%lx written",
		       msr, rdmsr(msr), val);
}

/* KVM_RUN returned for GUEST_SYNC(@stage). */
static inline void memattr_assert_sync(struct kvm_vcpu *vcpu, uint64_t stage,
				       const char *what)
{
	struct ucall uc;

	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == stage, "%s: expected stage %lu, got %lu",
			    what, stage, uc.args[1]);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
	default:
		TEST_FAIL("%s: unexpected exit %s", what,
			  exit_reason_str(vcpu->run->exit_reason));
	}
}

static inline void memattr_run_to_sync(struct kvm_vcpu *vcpu, uint64_t stage,
				       const char *what)
{
	struct kvm_run *run = vcpu->run;
	int r = _vcpu_run(vcpu);

	TEST_ASSERT(!r,
		    "%s: KVM_RUN failed (errno %d) on the way to stage %lu: exit reason %s, memory fault at 0x%llx, flags 0x%llx",
		    what, errno, stage, exit_reason_str(run->exit_reason),
		    run->memory_fault.gpa, run->memory_fault.flags);
	memattr_assert_sync(vcpu, stage, what);
}

/* KVM_RUN runs the guest to its GUEST_DONE(). */
static inline void memattr_run_to_done(struct kvm_vcpu *vcpu, const char *what)
{
	struct ucall uc;
	int r = _vcpu_run(vcpu);

	TEST_ASSERT(!r, "%s: KVM_RUN failed (errno %d), exit reason %s",
		    what, errno, exit_reason_str(vcpu->run->exit_reason));
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_DONE:
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
	default:
		TEST_FAIL("%s: expected the guest to be done, got exit %s",
			  what, exit_reason_str(vcpu->run->exit_reason));
	}
}

/* The vCPU stopped with RIP at the instruction that starts with @insn. */
static inline void memattr_assert_rip_at(struct kvm_vcpu *vcpu,
					 const char *insn, const char *what)
{
	struct kvm_regs regs;

	vcpu_regs_get(vcpu, &regs);
	TEST_ASSERT(!memcmp(addr_gva2hva(vcpu->vm, regs.rip), insn, strlen(insn)),
		    "%s: RIP 0x%llx is not at the instruction, which must be retried",
		    what, regs.rip);
}

/* Give the guest of memattr_guest_loop(), parked at GUEST_SYNC(0), its next op. */
static inline void memattr_start_op(struct kvm_vm *vm, uint64_t op, uint64_t arg,
				    uint64_t val)
{
	memattr_cmd.op = op;
	memattr_cmd.arg = arg;
	memattr_cmd.val = val;
	sync_global_to_guest(vm, memattr_cmd);
}

/* The op runs to its end and the guest is parked again, without exits. */
static inline void memattr_finish_op(struct kvm_vcpu *vcpu, const char *what)
{
	memattr_run_to_sync(vcpu, 1, what);
	memattr_run_to_sync(vcpu, 0, what);
}

/*
 * With @attributes on the page at @gpa (host address @hva), the next
 * KVM_RUN exits for a denied @flag access to the page and leaves it
 * unchanged; then the attributes are cleared, so that KVM_RUN retries.
 */
static inline void memattr_run_denied(struct kvm_vcpu *vcpu, uint64_t gpa,
				      uint8_t *hva, uint64_t attributes,
				      uint64_t flag, const char *what)
{
	static uint8_t before[PAGE_SIZE];
	int r;

	memattr_set(vcpu->vm, gpa, PAGE_SIZE, attributes);
	memcpy(before, hva, PAGE_SIZE);
	r = _vcpu_run(vcpu);
	assert_memory_fault(vcpu, r, gpa, PAGE_SIZE, flag, what);
	TEST_ASSERT(!memcmp(before, hva, PAGE_SIZE),
		    "%s: the page changed although the access was denied", what);
	memattr_set(vcpu->vm, gpa, PAGE_SIZE, 0);
}

/*
 * With @attributes on the page at @gpa (host address @hva), the op exits
 * for a denied @flag access to the page and leaves it unchanged; once the
 * attributes are cleared, KVM_RUN retries the op and it completes.
 */
static inline void memattr_deny_then_complete(struct kvm_vcpu *vcpu, uint64_t op,
					      uint64_t arg, uint64_t val,
					      uint64_t gpa, uint8_t *hva,
					      uint64_t attributes, uint64_t flag,
					      const char *what)
{
	memattr_start_op(vcpu->vm, op, arg, val);
	memattr_run_denied(vcpu, gpa, hva, attributes, flag, what);
	memattr_finish_op(vcpu, what);
}

/* A numbered case of a test: returns false where it cannot exist. */
struct memattr_case {
	const char *name;
	bool (*run)(void);
};

/*
 * Runs every case, or those whose numbers (from 1) are given as arguments,
 * to see one case fail on a kernel where an earlier one fails too.
 */
static inline void memattr_run_cases(const struct memattr_case *cases,
				     int nr_cases, int argc, char *argv[])
{
	bool selected[nr_cases];
	int i, n;

	for (i = 0; i < nr_cases; i++)
		selected[i] = argc < 2;
	for (i = 1; i < argc; i++) {
		n = atoi_positive("Case number", argv[i]);
		TEST_ASSERT(n <= nr_cases, "No case %d", n);
		selected[n - 1] = true;
	}

	for (i = 0; i < nr_cases; i++) {
		if (!selected[i])
			continue;
		pr_info("%s: %s\n", cases[i].name,
			cases[i].run() ? "passed" : "not applicable");
	}
}

/* The binary stat @name in the stats file @stats_fd (KVM_GET_STATS_FD). */
static inline uint64_t memattr_stat(int stats_fd, const char *name)
{
	struct kvm_stats_desc *descs, *desc = NULL;
	struct kvm_stats_header header;
	uint64_t value;
	int i;

	read_stats_header(stats_fd, &header);
	descs = read_stats_descriptors(stats_fd, &header);
	for (i = 0; i < header.num_desc && !desc; i++)
		if (!strcmp(get_stats_descriptor(descs, i, &header)->name, name))
			desc = get_stats_descriptor(descs, i, &header);
	TEST_ASSERT(desc, "No binary stat \"%s\"", name);
	read_stat_data(stats_fd, &header, desc, &value, 1);
	free(descs);
	return value;
}

/*
 * The vCPU's binary stat @name, e.g. "exits": every VM exit, handled in KVM
 * or not.  KVM_GET_STATS_FD waits for a KVM_RUN in progress: to read the
 * stats of a running vCPU, open its stats file before and use memattr_stat().
 */
static inline uint64_t memattr_vcpu_stat(struct kvm_vcpu *vcpu, const char *name)
{
	int fd = __vcpu_ioctl(vcpu, KVM_GET_STATS_FD, NULL);
	uint64_t value;

	TEST_ASSERT(fd >= 0, KVM_IOCTL_ERROR(KVM_GET_STATS_FD, fd));
	value = memattr_stat(fd, name);
	close(fd);
	return value;
}

static inline bool memattr_tdp_mmu_enabled(void)
{
	return kvm_is_tdp_enabled() && get_kvm_param_bool("tdp_mmu");
}

/* The MMU that KVM runs the VMs on: TDP MMU, legacy MMU or shadow paging. */
static inline const char *memattr_mmu_name(void)
{
	if (!kvm_is_tdp_enabled())
		return "shadow paging";
	return memattr_tdp_mmu_enabled() ? "TDP MMU" : "legacy MMU";
}

/* The gpa of the 4K page table that holds the PTE of @gva. */
static inline uint64_t memattr_pte_table_gpa(struct kvm_vm *vm, uint64_t gva)
{
	return addr_hva2gpa(vm, vm_get_page_table_entry(vm, gva)) & ~(PAGE_SIZE - 1);
}

/*
 * Shadow paging's resync of an unsync guest page table on INVLPG
 * (FNAME(sync_spte)), which rebuilds an SPTE from the gPTE.
 * memattr_resync_map() maps a gva through a gPTE with A and D set (with D
 * clear, the resync would keep the SPTE read-only) and a writable alias of
 * its page table; memattr_guest_resync() reads the gva, so that KVM shadows
 * the gPTE, changes the gPTE through the alias (a last-level table that the
 * guest writes goes unsync instead of being write-protected) and INVLPGs
 * the gva: KVM resyncs its SPTE.  Under TDP the guest's page tables are the
 * CPU's, and nothing is resynced.
 */
static struct {
	uint64_t pte;		/* The gva of the gPTE, through the alias. */
	uint64_t set;		/* The bits that the guest sets in it, */
	uint64_t clear;		/* and those it clears. */
} memattr_resync;

static inline void memattr_guest_resync(uint64_t gva)
{
	volatile uint64_t *pte = (volatile uint64_t *)READ_ONCE(memattr_resync.pte);

	READ_ONCE(*(volatile uint64_t *)gva);
	*pte = (*pte | READ_ONCE(memattr_resync.set)) &
	       ~READ_ONCE(memattr_resync.clear);
	asm volatile("invlpg (%0)" :: "r"(gva) : "memory");
}

/*
 * Map @gva, alone in its 512G region (every level of its page tables below
 * the PML4 is its own), to @gpa through a gPTE with A and D set, @clear set
 * and @set clear, which memattr_guest_resync(@gva) then flips.  The alias
 * lives in the next 2M region, so that its own PTE is in another table: a
 * write to a table that translates the write itself is emulated.  CR0.WP is
 * set, so that R/W=0 binds the guest's supervisor writes.  Returns the gPTE.
 */
static inline uint64_t *memattr_resync_map(struct kvm_vcpu *vcpu, uint64_t gva,
					   uint64_t gpa, uint64_t set,
					   uint64_t clear)
{
	uint64_t alias_gva = gva + PG_SIZE_2M, pt_gpa;
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_sregs sregs;
	uint64_t *pte;

	vcpu_sregs_get(vcpu, &sregs);
	sregs.cr0 |= X86_CR0_WP;
	vcpu_sregs_set(vcpu, &sregs);

	virt_pg_map(vm, gva, gpa);
	pte = vm_get_page_table_entry(vm, gva);
	pt_gpa = addr_hva2gpa(vm, pte) & ~(PAGE_SIZE - 1);
	virt_pg_map(vm, alias_gva, pt_gpa);
	TEST_ASSERT(memattr_pte_table_gpa(vm, alias_gva) != pt_gpa,
		    "The alias must not be translated by the table it aliases");

	*pte = (*pte | PTE_ACCESSED_MASK | PTE_DIRTY_MASK | clear) & ~set;
	memattr_resync.pte = alias_gva + ((uint64_t)pte & (PAGE_SIZE - 1));
	memattr_resync.set = set;
	memattr_resync.clear = clear;
	sync_global_to_guest(vm, memattr_resync);
	return pte;
}

#endif /* SELFTEST_KVM_MEMATTR_UTIL_H */
