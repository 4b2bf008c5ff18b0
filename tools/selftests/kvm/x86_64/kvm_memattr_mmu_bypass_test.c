// SPDX-License-Identifier: GPL-2.0-only
/*
 * Paths of KVM's MMU that build or use a translation without asking the
 * memory attributes: none of them may give the guest more than the attributes
 * allow.
 *
 * - Shadow paging rebuilds the SPTE of an unsync guest page table on INVLPG
 *   (FNAME(sync_spte)): the rebuilt SPTE must stay as narrow as NO_WRITE and
 *   NO_EXEC make it.
 * - Splitting a huge SPTE (make_huge_page_split_spte()) must not make the
 *   4K children of a NO_EXEC huge page executable, which the NX huge page
 *   mitigation otherwise does.
 * - KVM's software page walker (FNAME(walk_addr_generic)), used by the
 *   emulator and by shadow paging, must not read a guest page table that the
 *   guest may not read.
 *
 * Every case denies an access that KVM lets through today; each must end in
 * KVM_EXIT_MEMORY_FAULT for the protected page, and complete once the
 * attributes are relaxed.  Every case runs on every MMU (TDP MMU, legacy
 * MMU, shadow paging), where it exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_util.h"

/* Small data pages, 4K-backed. */
#define TEST_GPA	0xc0000000ull
#define TEST_SLOT	10
#define TEST_NPAGES	2

/* A memslot backed by one transparent huge page. */
#define HUGE_GPA	0x100000000ull
#define HUGE_SLOT	12
#define HUGE_NPAGES	512
/* The page of the huge page that holds a ret, and the one whose dirty bit is cleared. */
#define RET_PAGE	5
#define CLEAR_PAGE	1

/*
 * Guest virtual addresses in a 512G region that nothing else uses: every
 * level of their page tables below the PML4 is their own.
 */
#define RESYNC_GVA	0x8000000000ull
#define WALK_GVA	0x8000000000ull

#define FILL_BYTE	0x11
#define RET_OPCODE	0xc3
#define DATA_OFFSET	64
#define WRITE_VALUE	0x5a5a5a5a5a5a5a5aull
#define WALK_VALUE	0x0123456789abcdefull

#define NX_HUGE_PAGES_PARAM	"/sys/module/kvm/parameters/nx_huge_pages"

enum guest_op {
	OP_READ,
	OP_CALL,
	OP_FEP_READ,
	OP_RESYNC_WRITE,
	OP_RESYNC_CALL,
};

/* The command of the host, written before each operation. */
static uint64_t guest_op;
static uint64_t guest_addr;
static uint64_t guest_result;

static void guest_code(void)
{
	uint64_t addr, value;

	for (;;) {
		GUEST_SYNC(0);
		addr = READ_ONCE(guest_addr);
		value = 0;

		switch (READ_ONCE(guest_op)) {
		case OP_READ:
			value = READ_ONCE(*(volatile uint64_t *)addr);
			break;
		case OP_CALL:
			((void (*)(void))addr)();
			break;
		case OP_FEP_READ:
			asm volatile(KVM_FEP "movq (%1), %0"
				     : "=a"(value) : "S"(addr) : "memory");
			break;
		case OP_RESYNC_WRITE:
			memattr_guest_resync(addr);
			WRITE_ONCE(*(volatile uint64_t *)(addr + DATA_OFFSET),
				   WRITE_VALUE);
			break;
		case OP_RESYNC_CALL:
			memattr_guest_resync(addr);
			((void (*)(void))addr)();
			break;
		}
		WRITE_ONCE(guest_result, value);
		GUEST_SYNC(1);
	}
}

/* The guest waits in GUEST_SYNC(0): give it its next operation. */
static void start_op(struct kvm_vm *vm, enum guest_op op, uint64_t addr)
{
	guest_op = op;
	guest_addr = addr;
	sync_global_to_guest(vm, guest_op);
	sync_global_to_guest(vm, guest_addr);
}

/* The operation exits for a denied @flags access to the page at @gpa. */
static void expect_exit(struct kvm_vcpu *vcpu, uint64_t gpa, uint64_t flags,
			const char *what)
{
	int r = _vcpu_run(vcpu);

	assert_memory_fault(vcpu, r, gpa, PAGE_SIZE, flags, what);
}

/* The operation completes; returns what it read. */
static uint64_t complete_op(struct kvm_vcpu *vcpu)
{
	memattr_run_to_sync(vcpu, 1, __func__);
	sync_global_from_guest(vcpu->vm, guest_result);
	memattr_run_to_sync(vcpu, 0, __func__);
	return guest_result;
}

/*
 * A VM with TEST_NPAGES 4K data pages full of FILL_BYTE at TEST_GPA, not
 * mapped in the guest, and a vCPU that has not run yet.  @emulated enables
 * KVM_CAP_MEMORY_ATTRIBUTES_EMULATED, before the vCPU exists.
 */
static struct kvm_vm *create_vm(struct kvm_vcpu **vcpu, bool emulated)
{
	struct kvm_vm *vm = vm_create(1);

	if (emulated) {
		TEST_ASSERT_EQ(vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES_EMULATED), 1);
		vm_enable_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES_EMULATED, 0);
	}
	*vcpu = vm_vcpu_add(vm, 0, guest_code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, TEST_NPAGES, 0);
	memset(addr_gpa2hva(vm, TEST_GPA), FILL_BYTE, TEST_NPAGES * PAGE_SIZE);
	return vm;
}

/*
 * FNAME(sync_spte) rebuilds the SPTE of an unsync guest page table from the
 * gPTE alone, without the provider's narrowing.
 *
 * V maps the protected page P through a gPTE that denies the access (R/W=0,
 * or NX=1), with A and D set (memattr_resync_map()).  The guest reads V, so
 * that KVM shadows the gPTE with a narrow SPTE, then makes the gPTE allow
 * the access through a writable alias of its page table, and INVLPGs V: KVM
 * resyncs V's SPTE through sync_spte() (memattr_guest_resync()).  The
 * access to V must then exit for P.  The buggy kernel rebuilds the SPTE
 * writable (executable) and the guest's write lands in P (its call returns)
 * with no exit.  Under TDP the guest's page tables are the CPU's, and the
 * access exits for P as any other.
 */
static void test_resync(bool exec)
{
	const char *what = exec ? "call through an INVLPG-resynced SPTE of a NO_EXEC page" :
				  "write through an INVLPG-resynced SPTE of a NO_WRITE page";
	uint8_t *page, snapshot[PAGE_SIZE];
	uint64_t attributes, flag;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint64_t *pte;

	vm = create_vm(&vcpu, false);
	page = addr_gpa2hva(vm, TEST_GPA);
	if (exec) {
		page[0] = RET_OPCODE;
		pte = memattr_resync_map(vcpu, RESYNC_GVA, TEST_GPA, 0, PTE_NX_MASK);
		attributes = NX;
		flag = KVM_MEMORY_EXIT_FLAG_EXEC;
	} else {
		pte = memattr_resync_map(vcpu, RESYNC_GVA, TEST_GPA,
					 PTE_WRITABLE_MASK, 0);
		attributes = NW;
		flag = KVM_MEMORY_EXIT_FLAG_WRITE;
	}
	memattr_set(vm, TEST_GPA, PAGE_SIZE, attributes);
	memcpy(snapshot, page, PAGE_SIZE);
	memattr_run_to_sync(vcpu, 0, __func__);

	start_op(vm, exec ? OP_RESYNC_CALL : OP_RESYNC_WRITE, RESYNC_GVA);
	expect_exit(vcpu, TEST_GPA, flag, what);
	TEST_ASSERT(!memcmp(page, snapshot, PAGE_SIZE),
		    "%s: the protected page changed", what);
	TEST_ASSERT(exec ? !(*pte & PTE_NX_MASK) : !!(*pte & PTE_WRITABLE_MASK),
		    "%s: the guest did not change its gPTE through the alias: 0x%lx",
		    what, *pte);

	/* Relaxed: the access is retried and completes. */
	memattr_set(vm, TEST_GPA, PAGE_SIZE, 0);
	complete_op(vcpu);
	if (!exec)
		TEST_ASSERT_EQ(*(uint64_t *)(page + DATA_OFFSET), WRITE_VALUE);
	kvm_vm_free(vm);
	pr_info("INVLPG resync of a %s page (%s): ran\n",
		exec ? "NO_EXEC" : "NO_WRITE", memattr_mmu_name());
}

static char nx_huge_pages_saved[16];

static void write_nx_huge_pages(const char *value)
{
	int fd = open(NX_HUGE_PAGES_PARAM, O_WRONLY);
	ssize_t r;

	TEST_ASSERT(fd >= 0, "Cannot open " NX_HUGE_PAGES_PARAM ": %s",
		    strerror(errno));
	r = write(fd, value, strlen(value));
	TEST_ASSERT(r == (ssize_t)strlen(value),
		    "Writing '%s' to " NX_HUGE_PAGES_PARAM " failed: %s",
		    value, strerror(errno));
	close(fd);
}

/* Put nx_huge_pages back; also called at exit, so it does not assert. */
static void restore_nx_huge_pages(void)
{
	size_t len = strlen(nx_huge_pages_saved);
	int fd;

	if (!len)
		return;
	fd = open(NX_HUGE_PAGES_PARAM, O_WRONLY);
	if (fd < 0 || write(fd, nx_huge_pages_saved, len) != (ssize_t)len)
		fprintf(stderr, "Could not restore nx_huge_pages to '%s': %s\n",
			nx_huge_pages_saved, strerror(errno));
	if (fd >= 0)
		close(fd);
	nx_huge_pages_saved[0] = '\0';
}

static void force_nx_huge_pages(void)
{
	int fd = open(NX_HUGE_PAGES_PARAM, O_RDONLY);
	ssize_t r;

	TEST_ASSERT(fd >= 0, "Cannot open " NX_HUGE_PAGES_PARAM ": %s",
		    strerror(errno));
	r = read(fd, nx_huge_pages_saved, sizeof(nx_huge_pages_saved) - 1);
	TEST_ASSERT(r > 0, "Cannot read " NX_HUGE_PAGES_PARAM ": %s",
		    strerror(errno));
	close(fd);
	nx_huge_pages_saved[r] = '\0';
	nx_huge_pages_saved[strcspn(nx_huge_pages_saved, "\n")] = '\0';
	TEST_ASSERT(strcmp(nx_huge_pages_saved, "never"),
		    "nx_huge_pages is 'never': the NX huge page mitigation cannot be forced");

	write_nx_huge_pages("force");
	atexit(restore_nx_huge_pages);
	pr_info("nx_huge_pages: '%s', forced on for the split cases\n",
		nx_huge_pages_saved);
}

/*
 * make_huge_page_split_spte() makes every 4K child of a split huge SPTE
 * executable when the NX huge page mitigation is on, since the mitigation
 * no longer applies to 4K pages; but a NO_EXEC huge page stays NO_EXEC.
 *
 * The THP-backed 2M region is NO_EXEC, with a ret in one page.  The guest
 * reads it: TDP maps one 2M SPTE, not executable (the mitigation and the
 * attribute agree).  Dirty logging then splits it: eagerly when enabled
 * (TDP MMU, eager_page_split=Y), or, with @clear_dirty_log (manual protect,
 * initially all set), on KVM_CLEAR_DIRTY_LOG of another page of the huge
 * page.  The guest's call of the ret must then exit for its page.  The buggy
 * kernel made the children executable: the call returns.  The legacy MMU
 * does not split eagerly, and shadow paging maps the guest's 4K pages with
 * 4K SPTEs: there the call exits on the fault path, as it must.
 */
static void test_huge_page_split(bool clear_dirty_log)
{
	const uint64_t manual_caps = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
				     KVM_DIRTY_LOG_INITIALLY_SET;
	uint64_t ret_gpa = HUGE_GPA + RET_PAGE * PAGE_SIZE;
	const char *split = clear_dirty_log ? "KVM_CLEAR_DIRTY_LOG" :
					      "enabling dirty logging";
	uint64_t pages_2m, mapped_2m;
	unsigned long bitmap;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	vm = create_vm(&vcpu, false);
	if (clear_dirty_log) {
		TEST_ASSERT((kvm_check_cap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) &
			     manual_caps) == manual_caps,
			    "Manual dirty log protection, initially set, is not supported");
		vm_enable_cap(vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, manual_caps);
	}
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS_THP, HUGE_GPA,
				    HUGE_SLOT, HUGE_NPAGES, 0);
	virt_map(vm, HUGE_GPA, HUGE_GPA, HUGE_NPAGES);
	*(uint8_t *)addr_gpa2hva(vm, ret_gpa) = RET_OPCODE;
	memattr_set(vm, HUGE_GPA, PG_SIZE_2M, NX);
	memattr_run_to_sync(vcpu, 0, __func__);

	pages_2m = vm_get_stat(vm, "pages_2m");
	start_op(vm, OP_READ, ret_gpa);
	complete_op(vcpu);
	mapped_2m = vm_get_stat(vm, "pages_2m");
	pr_info("Split by %s (%s): pages_2m %lu before the read, %lu after\n",
		split, memattr_mmu_name(), pages_2m, mapped_2m);
	if (memattr_tdp_mmu_enabled()) {
		TEST_ASSERT(mapped_2m > pages_2m,
			    "The NO_EXEC THP-backed region should be mapped with a 2M page");
		TEST_ASSERT(get_kvm_param_bool("eager_page_split"),
			    "The split needs eager_page_split=Y (KVM's default)");
	}

	vm_mem_region_set_flags(vm, HUGE_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	if (clear_dirty_log) {
		/* Initially all set: enabling dirty logging split nothing. */
		if (memattr_tdp_mmu_enabled())
			TEST_ASSERT(vm_get_stat(vm, "pages_2m") == mapped_2m,
				    "The 2M page should be left alone until KVM_CLEAR_DIRTY_LOG");
		bitmap = BIT(CLEAR_PAGE);
		kvm_vm_clear_dirty_log(vm, HUGE_SLOT, &bitmap, 0, 64);
	}
	pr_info("Split by %s (%s): pages_2m %lu after the split\n", split,
		memattr_mmu_name(), vm_get_stat(vm, "pages_2m"));

	start_op(vm, OP_CALL, ret_gpa);
	expect_exit(vcpu, ret_gpa, KVM_MEMORY_EXIT_FLAG_EXEC,
		    "call into a NO_EXEC huge page after its split");

	/* Relaxed: the call is retried and returns. */
	memattr_set(vm, ret_gpa, PAGE_SIZE, 0);
	complete_op(vcpu);
	kvm_vm_free(vm);
	pr_info("Split by %s of a NO_EXEC huge page (%s): ran%s\n", split,
		memattr_mmu_name(), memattr_tdp_mmu_enabled() ? "" :
		", no split on this MMU: the fault path was checked");
}

/*
 * A VM whose guest maps WALK_GVA to a data page holding WALK_VALUE, through
 * page tables of its own (nothing else in its 512G region): returns the gpa
 * of the last-level table, which translates nothing but WALK_GVA.
 */
static struct kvm_vm *create_walk_vm(struct kvm_vcpu **vcpu, bool emulated,
				     uint64_t *table_gpa)
{
	struct kvm_vm *vm = create_vm(vcpu, emulated);

	*(uint64_t *)addr_gpa2hva(vm, TEST_GPA) = WALK_VALUE;
	virt_pg_map(vm, WALK_GVA, TEST_GPA);
	*table_gpa = memattr_pte_table_gpa(vm, WALK_GVA);
	memattr_run_to_sync(*vcpu, 0, __func__);
	return vm;
}

/*
 * Give the table @attributes and make the guest read WALK_GVA with @op: the
 * walk exits as a read of the table, neither a #PF nor a read of the data.
 * Relaxed, the walk completes and the guest reads the data.
 */
static void check_walk_exit(struct kvm_vcpu *vcpu, uint64_t table_gpa,
			    uint64_t attributes, enum guest_op op,
			    const char *what)
{
	struct kvm_vm *vm = vcpu->vm;

	memattr_set(vm, table_gpa, PAGE_SIZE, attributes);
	start_op(vm, op, WALK_GVA);
	expect_exit(vcpu, table_gpa, KVM_MEMORY_EXIT_FLAG_READ, what);

	memattr_set(vm, table_gpa, PAGE_SIZE, 0);
	TEST_ASSERT_EQ(complete_op(vcpu), WALK_VALUE);
}

/*
 * FNAME(walk_addr_generic) reads every guest page table through the host
 * mapping, with no NO_READ check: the emulator could translate an address
 * through a table that the guest may not read, and return data that the
 * table maps.  The forced-emulation read of WALK_GVA must instead exit as a
 * read of its last-level table.  The buggy kernel completes the read.
 *
 * (a) The table made execute-only: where the VM offers NO_READ without the
 *     emulated modes, i.e. EPT with execute-only leaves.  Elsewhere,
 *     execute-only must be refused.
 */
static void test_walker_exec_only(void)
{
	struct kvm_vcpu *vcpu;
	uint64_t table_gpa;
	struct kvm_vm *vm;

	vm = create_walk_vm(&vcpu, false, &table_gpa);
	if (memattr_supported(vm) & NR) {
		check_walk_exit(vcpu, table_gpa, XO, OP_FEP_READ,
				"emulated read through an execute-only page table");
		pr_info("Walk through an execute-only page table (%s): ran\n",
			memattr_mmu_name());
	} else {
		TEST_ASSERT(__memattr_set(vm, table_gpa, PAGE_SIZE, XO) == -1 &&
			    errno == EINVAL,
			    "Execute-only must be refused where NO_READ is not advertised");
		pr_info("Walk through an execute-only page table (%s): not applicable, no execute-only EPT leaves\n",
			memattr_mmu_name());
	}
	kvm_vm_free(vm);
}

/*
 * (b) The table made write-only, with KVM_CAP_MEMORY_ATTRIBUTES_EMULATED,
 *     which every CPU and MMU offers.  Shadow paging walks the guest's
 *     tables in KVM's walker on every fault, so a plain read of WALK_GVA
 *     must exit the same way; it goes first, before any SPTE maps
 *     WALK_GVA.  Under TDP the CPU walks the table itself (and may report
 *     the walk as a write); that is the fault path, not checked here.
 */
static void test_walker_write_only(void)
{
	struct kvm_vcpu *vcpu;
	uint64_t table_gpa;
	struct kvm_vm *vm;

	vm = create_walk_vm(&vcpu, true, &table_gpa);
	TEST_ASSERT(memattr_supported(vm) & NR,
		    "NO_READ must be advertised once writes can be emulated");
	if (!kvm_is_tdp_enabled())
		check_walk_exit(vcpu, table_gpa, NR | NX, OP_READ,
				"read through a write-only page table, shadow paging");
	check_walk_exit(vcpu, table_gpa, NR | NX, OP_FEP_READ,
			"emulated read through a write-only page table");
	kvm_vm_free(vm);
	pr_info("Walk through a write-only page table (%s): ran%s\n",
		memattr_mmu_name(),
		kvm_is_tdp_enabled() ? "" : ", also for a native read");
}

int main(int argc, char *argv[])
{
	TEST_REQUIRE(memattr_supported_by_default_vm() & NW);
	TEST_REQUIRE(kvm_is_forced_emulation_enabled());

	pr_info("MMU: %s\n", memattr_mmu_name());

	test_resync(false);
	test_resync(true);

	force_nx_huge_pages();
	test_huge_page_split(false);
	test_huge_page_split(true);
	restore_nx_huge_pages();

	test_walker_exec_only();
	test_walker_write_only();
	return 0;
}
