// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory protection attributes: every combination of NO_READ, NO_WRITE and
 * NO_EXEC against every access from the guest, the exits that report a
 * denied access, KVM_GET_MEMORY_ATTRIBUTES, and the validation of both
 * ioctls over every bit.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include <linux/bitmap.h>
#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "vmx.h"

#define TEST_GPA	0xc0000000ull
#define TEST_GVA	TEST_GPA
#define TEST_SLOT	10
#define TEST_NPAGES	64

/* A read-only memslot. */
#define RO_GPA		0xd0000000ull
#define RO_SLOT		11

/* A memslot backed by a transparent huge page. */
#define HUGE_GPA	0x100000000ull
#define HUGE_SLOT	12
#define HUGE_NPAGES	512

#define NR	KVM_MEMORY_ATTRIBUTE_NO_READ
#define NW	KVM_MEMORY_ATTRIBUTE_NO_WRITE
#define NX	KVM_MEMORY_ATTRIBUTE_NO_EXEC
#define PROTECTIONS	(NR | NW | NX)

/* IA32_VMX_EPT_VPID_CAP bit 0. */
#define VMX_EPT_VPID_CAP_EXEC_ONLY	BIT_ULL(0)


enum guest_op { OP_READ, OP_WRITE, OP_EXEC };

static const char * const op_names[] = { "read", "write", "execute" };

static const uint64_t op_exit_flags[] = {
	[OP_READ] = KVM_MEMORY_EXIT_FLAG_READ,
	[OP_WRITE] = KVM_MEMORY_EXIT_FLAG_WRITE,
	[OP_EXEC] = KVM_MEMORY_EXIT_FLAG_EXEC,
};

static const uint64_t op_denied_by[] = {
	[OP_READ] = NR, [OP_WRITE] = NW, [OP_EXEC] = NX,
};

/* The command of the host, written before each access. */
static uint64_t guest_op;
static uint64_t guest_page;

/* The code at the start of every test page: ret. */
#define RET_OPCODE	0xc3
/* Where the guest reads and writes, away from the code, unless told. */
#define DATA_OFFSET	64
static uint64_t guest_data_offset = DATA_OFFSET;

static void guest_code(void)
{
	for (;;) {
		GUEST_SYNC(0);
		switch (READ_ONCE(guest_op)) {
		case OP_READ:
			READ_ONCE(*(volatile uint64_t *)(guest_page +
							 guest_data_offset));
			break;
		case OP_WRITE:
			WRITE_ONCE(*(volatile uint64_t *)(guest_page +
							  guest_data_offset),
				   0x5a5a5a5a);
			break;
		case OP_EXEC:
			((void (*)(void))guest_page)();
			break;
		}
		GUEST_SYNC(1);
	}
}

static void run_to_sync(struct kvm_vcpu *vcpu, uint64_t stage)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	int r = _vcpu_run(vcpu);

	TEST_ASSERT(!r,
		    "KVM_RUN failed (errno %d) on the way to stage %lu: exit reason %s, memory fault at 0x%llx, flags 0x%llx",
		    errno, stage, exit_reason_str(run->exit_reason),
		    run->memory_fault.gpa, run->memory_fault.flags);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == stage, "Expected stage %lu, got %lu",
			    stage, uc.args[1]);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
	default:
		TEST_FAIL("Unexpected ucall %lu", uc.cmd);
	}
}

static int __set_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
			    uint64_t attributes, uint64_t flags)
{
	struct kvm_memory_attributes attr = {
		.address = gpa,
		.size = size,
		.attributes = attributes,
		.flags = flags,
	};

	return __vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr);
}

static void set_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
			   uint64_t attributes)
{
	int r = __set_attributes(vm, gpa, size, attributes, 0);

	TEST_ASSERT(!r, "SET 0x%lx over [0x%lx, +0x%lx) failed: %s",
		    attributes, gpa, size, strerror(errno));
}

static int __get_attributes(struct kvm_vm *vm, struct kvm_memory_attributes *attr)
{
	return __vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, attr);
}

/* The attributes at @gpa and the length of their run within @size. */
static uint64_t get_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
			       uint64_t *run_size)
{
	struct kvm_memory_attributes attr = { .address = gpa, .size = size };

	TEST_ASSERT(!__get_attributes(vm, &attr), "GET at 0x%lx failed: %s",
		    gpa, strerror(errno));
	*run_size = attr.size;
	return attr.attributes;
}

static bool combination_valid(uint64_t attributes, uint64_t supported)
{
	bool read = !(attributes & NR), write = !(attributes & NW);
	bool exec = !(attributes & NX);

	if (write && !read)
		return false;
	if (exec && !read)
		return supported & NR;
	return true;
}

/*
 * Make the guest access @gpa and check that the access succeeds, or, if the
 * current attributes deny it, exits with the right gpa, size and flags.
 */
static void check_access(struct kvm_vcpu *vcpu, uint64_t gpa,
			 uint64_t attributes, enum guest_op op)
{
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;
	int r;

	guest_op = op;
	guest_page = gpa;
	sync_global_to_guest(vm, guest_op);
	sync_global_to_guest(vm, guest_page);

	if (!(attributes & op_denied_by[op])) {
		run_to_sync(vcpu, 1);
		run_to_sync(vcpu, 0);
		return;
	}

	r = _vcpu_run(vcpu);
	TEST_ASSERT(r == -1 && errno == EFAULT,
		    "%s of a page with attributes 0x%lx: KVM_RUN should fail with EFAULT, got %d (errno %d), exit reason %s",
		    op_names[op], attributes, r, errno,
		    exit_reason_str(run->exit_reason));
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MEMORY_FAULT);
	TEST_ASSERT_EQ(run->memory_fault.gpa, gpa);
	TEST_ASSERT_EQ(run->memory_fault.size, PAGE_SIZE);
	TEST_ASSERT(run->memory_fault.flags == op_exit_flags[op],
		    "%s of a page with attributes 0x%lx: flags 0x%llx, expected 0x%lx",
		    op_names[op], attributes, run->memory_fault.flags,
		    op_exit_flags[op]);
}

/*
 * Set @attributes on the page at @gpa and make the guest access it: the
 * access succeeds, or exits and then succeeds once the attributes are
 * cleared, KVM_RUN retrying the instruction.
 */
static void test_access_at(struct kvm_vcpu *vcpu, uint64_t gpa,
			   uint64_t attributes, enum guest_op op)
{
	set_attributes(vcpu->vm, gpa, PAGE_SIZE, attributes);
	check_access(vcpu, gpa, attributes, op);
	if (attributes & op_denied_by[op]) {
		set_attributes(vcpu->vm, gpa, PAGE_SIZE, 0);
		run_to_sync(vcpu, 1);
		run_to_sync(vcpu, 0);
	}
}

static void test_access(struct kvm_vcpu *vcpu, uint64_t attributes,
			enum guest_op op)
{
	test_access_at(vcpu, TEST_GPA, attributes, op);
}

static struct kvm_vm *create_vm(struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = vm_create_with_one_vcpu(vcpu, guest_code);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, TEST_NPAGES, 0);
	virt_map(vm, TEST_GVA, TEST_GPA, TEST_NPAGES);
	*(uint8_t *)addr_gpa2hva(vm, TEST_GPA) = RET_OPCODE;
	run_to_sync(*vcpu, 0);
	return vm;
}

/*
 * Writes to a read-only memslot exit as MMIO, whatever the attributes;
 * other accesses follow the attributes.
 */
static void test_readonly_memslot(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_vm(&vcpu);
	struct kvm_run *run = vcpu->run;

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, RO_GPA, RO_SLOT,
				    1, KVM_MEM_READONLY);
	virt_map(vm, RO_GPA, RO_GPA, 1);

	set_attributes(vm, RO_GPA, PAGE_SIZE, NW);
	guest_op = OP_WRITE;
	guest_page = RO_GPA;
	sync_global_to_guest(vm, guest_op);
	sync_global_to_guest(vm, guest_page);
	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MMIO);
	TEST_ASSERT_EQ(run->mmio.phys_addr, RO_GPA + DATA_OFFSET);
	TEST_ASSERT(run->mmio.is_write, "MMIO exit for a write should say so");
	run_to_sync(vcpu, 1);
	run_to_sync(vcpu, 0);

	test_access_at(vcpu, RO_GPA, PROTECTIONS, OP_READ);
	kvm_vm_free(vm);
}

/*
 * A 2M mapping is used only where the attributes are uniform: with one 4K
 * page of a huge page protected, the other pages stay writable and the
 * protected one does not.
 */
static void test_huge_page(void)
{
	uint64_t protected_gpa = HUGE_GPA + 5 * PAGE_SIZE;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_vm(&vcpu);
	uint64_t pages_2m;

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS_THP, HUGE_GPA,
				    HUGE_SLOT, HUGE_NPAGES, 0);
	virt_map(vm, HUGE_GPA, HUGE_GPA, HUGE_NPAGES);

	/*
	 * Uniform attributes: KVM maps the region with a huge page, unless
	 * it shadows the guest's page tables, which map it with 4K pages.
	 */
	pages_2m = vm_get_stat(vm, "pages_2m");
	test_access_at(vcpu, HUGE_GPA, 0, OP_WRITE);
	if (kvm_is_tdp_enabled())
		TEST_ASSERT(vm_get_stat(vm, "pages_2m") > pages_2m,
			    "The THP-backed region should be mapped with a 2M page");

	set_attributes(vm, protected_gpa, PAGE_SIZE, NW);
	test_access_at(vcpu, HUGE_GPA, 0, OP_WRITE);
	test_access_at(vcpu, HUGE_GPA + HUGE_NPAGES * PAGE_SIZE - PAGE_SIZE, 0,
		       OP_WRITE);
	test_access_at(vcpu, protected_gpa, NW, OP_WRITE);
	kvm_vm_free(vm);
}

/*
 * Execute-only leaves: EPT whose capabilities (as KVM reports them for
 * nested VMX) include execute-only; never NPT or shadow paging.
 */
static bool has_exec_only_leaves(void)
{
	if (!host_cpu_is_intel || !kvm_is_tdp_enabled())
		return false;
	return kvm_get_feature_msr(MSR_IA32_VMX_EPT_VPID_CAP) &
	       VMX_EPT_VPID_CAP_EXEC_ONLY;
}

static void test_combinations(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_vm(&vcpu);
	uint64_t supported, attributes;
	enum guest_op op;

	supported = vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES);
	TEST_ASSERT(supported & NW && supported & NX,
		    "NO_WRITE and NO_EXEC must be supported, got 0x%lx", supported);
	TEST_ASSERT(!(supported & KVM_MEMORY_ATTRIBUTE_PRIVATE),
		    "PRIVATE advertised for a VM without private memory");
	TEST_ASSERT(!(supported & NR) == !has_exec_only_leaves(),
		    "NO_READ must be advertised exactly where EPT has execute-only leaves");

	for (attributes = 0; attributes <= PROTECTIONS; attributes++) {
		if (!combination_valid(attributes, supported)) {
			TEST_ASSERT(__set_attributes(vm, TEST_GPA, PAGE_SIZE,
						     attributes, 0) == -1 &&
				    errno == EINVAL,
				    "SET 0x%lx should fail with EINVAL", attributes);
			continue;
		}
		for (op = OP_READ; op <= OP_EXEC; op++)
			test_access(vcpu, attributes, op);
	}

	kvm_vm_free(vm);
}

static bool test_page_is_dirty(struct kvm_vm *vm, unsigned long *bitmap)
{
	kvm_vm_get_dirty_log(vm, TEST_SLOT, bitmap);
	return test_bit(0, bitmap);
}

/*
 * Dirty logging write-protects pages and lets the fast page fault path make
 * them writable again on the next write; neither may make a NO_WRITE page
 * writable.  Clearing NO_WRITE makes the page writable, and logged, again.
 */
static void test_dirty_logging(void)
{
	unsigned long *bitmap = bitmap_zalloc(TEST_NPAGES);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_vm(&vcpu);

	/*
	 * Write at the start of the page: Bochs 2.7 logs the gpa of a write in
	 * the PML buffer without clearing bits 11:0, and KVM warns about such
	 * entries.
	 */
	guest_data_offset = 0;
	sync_global_to_guest(vm, guest_data_offset);

	vm_mem_region_set_flags(vm, TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	test_page_is_dirty(vm, bitmap);

	/* A logged write, then a write through the re-protected mapping. */
	check_access(vcpu, TEST_GPA, 0, OP_WRITE);
	TEST_ASSERT(test_page_is_dirty(vm, bitmap), "The write was not logged");
	check_access(vcpu, TEST_GPA, 0, OP_WRITE);
	TEST_ASSERT(test_page_is_dirty(vm, bitmap),
		    "The write after GET_DIRTY_LOG was not logged");

	/*
	 * NO_WRITE on a page that dirty logging has write-protected: a read
	 * maps it, and the write through that mapping exits, every time.
	 */
	set_attributes(vm, TEST_GPA, PAGE_SIZE, NW);
	check_access(vcpu, TEST_GPA, NW, OP_READ);
	check_access(vcpu, TEST_GPA, NW, OP_WRITE);
	TEST_ASSERT(!test_page_is_dirty(vm, bitmap),
		    "A denied write was logged as dirty");
	check_access(vcpu, TEST_GPA, NW, OP_WRITE);

	/* Dirty logging turned off and on again does not relax it either. */
	vm_mem_region_set_flags(vm, TEST_SLOT, 0);
	check_access(vcpu, TEST_GPA, NW, OP_WRITE);
	vm_mem_region_set_flags(vm, TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	check_access(vcpu, TEST_GPA, NW, OP_WRITE);
	TEST_ASSERT(!test_page_is_dirty(vm, bitmap),
		    "A denied write was logged as dirty");

	/* Relaxed: the pending write is retried, succeeds and is logged. */
	set_attributes(vm, TEST_GPA, PAGE_SIZE, 0);
	run_to_sync(vcpu, 1);
	run_to_sync(vcpu, 0);
	TEST_ASSERT(test_page_is_dirty(vm, bitmap),
		    "The write after clearing NO_WRITE was not logged");

	/*
	 * Execute-only (EPT): dirty logging makes the page neither writable nor
	 * readable; the guest executes from it, its write and read exit.
	 */
	if (vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES) & NR) {
		*(uint8_t *)addr_gpa2hva(vm, TEST_GPA) = RET_OPCODE;
		set_attributes(vm, TEST_GPA, PAGE_SIZE, NR | NW);
		check_access(vcpu, TEST_GPA, NR | NW, OP_EXEC);
		test_page_is_dirty(vm, bitmap);
		check_access(vcpu, TEST_GPA, NR | NW, OP_WRITE);
		TEST_ASSERT(!test_page_is_dirty(vm, bitmap),
			    "A denied write to an execute-only page was logged");
		set_attributes(vm, TEST_GPA, PAGE_SIZE, 0);
		run_to_sync(vcpu, 1);
		run_to_sync(vcpu, 0);
		test_access_at(vcpu, TEST_GPA, NR | NW, OP_READ);
	}

	guest_data_offset = DATA_OFFSET;
	free(bitmap);
	kvm_vm_free(vm);
}

/* A guest virtual page whose page table holds no other mapping. */
#define PT_TEST_GVA	0x80000000ull

/*
 * Make the guest access PT_TEST_GVA, whose page table is the NO_WRITE page
 * at @table_gpa: the access exits as a write to the table; once the table
 * is writable again, it completes.
 */
static void check_table_write_exit(struct kvm_vcpu *vcpu, uint64_t table_gpa,
				   enum guest_op op)
{
	struct kvm_run *run = vcpu->run;
	int r;

	guest_op = op;
	guest_page = PT_TEST_GVA;
	sync_global_to_guest(vcpu->vm, guest_op);
	sync_global_to_guest(vcpu->vm, guest_page);

	r = _vcpu_run(vcpu);
	TEST_ASSERT(r == -1 && errno == EFAULT,
		    "%s through a NO_WRITE page table should exit, got %d (errno %d)",
		    op_names[op], r, errno);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MEMORY_FAULT);
	TEST_ASSERT_EQ(run->memory_fault.gpa, table_gpa);
	TEST_ASSERT_EQ(run->memory_fault.size, PAGE_SIZE);
	TEST_ASSERT_EQ(run->memory_fault.flags, KVM_MEMORY_EXIT_FLAG_WRITE);

	set_attributes(vcpu->vm, table_gpa, PAGE_SIZE, 0);
	run_to_sync(vcpu, 1);
	run_to_sync(vcpu, 0);
	set_attributes(vcpu->vm, table_gpa, PAGE_SIZE, NW);
}

/*
 * The guest's own page table lives in a NO_WRITE page.
 *
 * - NPT, and EPT with accessed/dirty flags: the CPU treats every access to
 *   a guest paging structure as a write, so every walk through the table
 *   exits as a write to it, whatever its A/D bits.
 * - EPT without accessed/dirty flags: only the CPU's updates of the A/D
 *   bits are writes; with both bits set, the guest runs.
 * - Shadow paging: KVM's walker leaves the A/D bits alone, as for a table
 *   in a read-only memslot, and the guest runs.
 *
 * In no case does the table change while it is NO_WRITE.
 */
static void test_guest_page_tables(void)
{
	uint64_t data_gpa = TEST_GPA + 2 * PAGE_SIZE, table_gpa;
	uint64_t ad_bits = PTE_ACCESSED_MASK | PTE_DIRTY_MASK;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_vm(&vcpu);
	bool walks_write;
	enum guest_op op;
	uint64_t *pte;

	walks_write = kvm_is_tdp_enabled() &&
		      (host_cpu_is_amd || get_kvm_intel_param_bool("eptad"));

	virt_pg_map(vm, PT_TEST_GVA, data_gpa);
	pte = vm_get_page_table_entry(vm, PT_TEST_GVA);
	table_gpa = addr_hva2gpa(vm, pte) & ~(PAGE_SIZE - 1);
	set_attributes(vm, table_gpa, PAGE_SIZE, NW);

	/* The read needs the accessed bit, the write the dirty bit too. */
	for (op = OP_READ; op <= OP_WRITE; op++) {
		*pte &= ~ad_bits;
		if (kvm_is_tdp_enabled()) {
			check_table_write_exit(vcpu, table_gpa, op);
			TEST_ASSERT(*pte & (op == OP_READ ? PTE_ACCESSED_MASK : ad_bits),
				    "The CPU did not set A/D bits once allowed: 0x%lx", *pte);
			continue;
		}
		check_access(vcpu, PT_TEST_GVA, 0, op);
		TEST_ASSERT(!(*pte & ad_bits),
			    "KVM set A/D bits in a NO_WRITE page table: 0x%lx", *pte);
	}

	/* Both bits set: nothing to update. */
	*pte |= ad_bits;
	for (op = OP_READ; op <= OP_WRITE; op++) {
		if (walks_write)
			check_table_write_exit(vcpu, table_gpa, op);
		else
			check_access(vcpu, PT_TEST_GVA, 0, op);
	}
	TEST_ASSERT_EQ(*(uint64_t *)(addr_gpa2hva(vm, data_gpa) + DATA_OFFSET),
		       0x5a5a5a5a);
	kvm_vm_free(vm);
}

#define NR_WRITERS	2
#define WRITES_PER_SYNC	1000

static void guest_write_forever(uint32_t vcpu_id)
{
	volatile uint64_t *counter = (uint64_t *)TEST_GVA + vcpu_id;
	uint64_t i = 0;

	for (;;) {
		*counter = ++i;
		if (!(i % WRITES_PER_SYNC))
			GUEST_SYNC(i);
	}
}

/*
 * Run a writer until it faults.  It comes out to userspace now and then to
 * yield the CPU: on an emulated host, the host's ticks do not reliably
 * preempt a vCPU spinning in the guest, and the main thread must run.
 */
static void *run_writer(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;
	int r;

	for (;;) {
		r = _vcpu_run(vcpu);
		if (r)
			break;
		TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_SYNC);
		sched_yield();
	}
	TEST_ASSERT(r == -1 && errno == EFAULT,
		    "vCPU %u: KVM_RUN should fail with EFAULT, got %d (errno %d)",
		    vcpu->id, r, errno);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MEMORY_FAULT);
	TEST_ASSERT_EQ(vcpu->run->memory_fault.flags, KVM_MEMORY_EXIT_FLAG_WRITE);
	return NULL;
}

/*
 * vCPUs write a page in a loop while the host makes it NO_WRITE: once SET
 * returns, no vCPU may write the page anymore, and every one of them exits.
 */
static void test_set_while_writing(void)
{
	struct kvm_vcpu *vcpus[NR_WRITERS];
	pthread_t threads[NR_WRITERS];
	uint64_t snapshot[NR_WRITERS];
	uint64_t *counters;
	struct kvm_vm *vm;
	int i;

	vm = vm_create_with_vcpus(NR_WRITERS, guest_write_forever, vcpus);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, 1, 0);
	virt_map(vm, TEST_GVA, TEST_GPA, 1);
	counters = addr_gpa2hva(vm, TEST_GPA);
	for (i = 0; i < NR_WRITERS; i++) {
		vcpu_args_set(vcpus[i], 1, vcpus[i]->id);
		pthread_create(&threads[i], NULL, run_writer, vcpus[i]);
	}

	/* Let every vCPU write for a while. */
	for (i = 0; i < NR_WRITERS; i++)
		while (!READ_ONCE(counters[i]))
			usleep(1000);

	set_attributes(vm, TEST_GPA, PAGE_SIZE, NW);
	memcpy(snapshot, counters, sizeof(snapshot));

	for (i = 0; i < NR_WRITERS; i++)
		pthread_join(threads[i], NULL);
	TEST_ASSERT(!memcmp(snapshot, counters, sizeof(snapshot)),
		    "The page was written after SET of NO_WRITE returned");
	kvm_vm_free(vm);
}

/* Dump the map with GET and compare it with @expected, one entry a page. */
static void check_map(struct kvm_vm *vm, const uint64_t *expected)
{
	uint64_t gpa = TEST_GPA, end = TEST_GPA + TEST_NPAGES * PAGE_SIZE;
	uint64_t attributes, run_size, i, page;

	while (gpa < end) {
		attributes = get_attributes(vm, gpa, end - gpa, &run_size);
		TEST_ASSERT(run_size && !(run_size % PAGE_SIZE) &&
			    run_size <= end - gpa, "Bad run size 0x%lx", run_size);
		for (i = 0; i < run_size / PAGE_SIZE; i++) {
			page = (gpa - TEST_GPA) / PAGE_SIZE + i;
			TEST_ASSERT(expected[page] == attributes,
				    "Page %lu: GET says 0x%lx, expected 0x%lx",
				    page, attributes, expected[page]);
		}
		/* The run is maximal: the next page differs. */
		if (gpa + run_size < end)
			TEST_ASSERT(expected[(gpa + run_size - TEST_GPA) / PAGE_SIZE] != attributes,
				    "Run at 0x%lx stops early", gpa);
		gpa += run_size;
	}
}

static void test_get_runs(void)
{
	static const uint64_t values[] = { 0, NX, NW, NW | NX, PROTECTIONS };
	uint64_t expected[TEST_NPAGES] = {};
	struct kvm_vm *vm = vm_create_barebones();
	uint64_t first, npages, value, i, n;

	/* A pseudo-random sequence of overlapping SETs, checked after each. */
	for (n = 0; n < 200; n++) {
		first = random() % TEST_NPAGES;
		npages = 1 + random() % (TEST_NPAGES - first);
		value = values[random() % ARRAY_SIZE(values)];
		set_attributes(vm, TEST_GPA + first * PAGE_SIZE,
			       npages * PAGE_SIZE, value);
		for (i = first; i < first + npages; i++)
			expected[i] = value;
		check_map(vm, expected);
	}
	kvm_vm_free(vm);
}

/* Every invalid argument fails with EINVAL and changes nothing. */
static void test_invalid_arguments(void)
{
	struct kvm_vm *vm = vm_create_barebones();
	struct kvm_memory_attributes attr;
	uint64_t supported = vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES);
	uint64_t run_size;
	int bit;

	set_attributes(vm, TEST_GPA, PAGE_SIZE, NW);

	for (bit = 0; bit < 64; bit++) {
		TEST_ASSERT(__set_attributes(vm, TEST_GPA, PAGE_SIZE, 0,
					     BIT_ULL(bit)) == -1 && errno == EINVAL,
			    "SET with flags bit %d should fail with EINVAL", bit);
		attr = (struct kvm_memory_attributes) {
			.address = TEST_GPA, .size = PAGE_SIZE,
			.flags = BIT_ULL(bit),
		};
		TEST_ASSERT(__get_attributes(vm, &attr) == -1 && errno == EINVAL,
			    "GET with flags bit %d should fail with EINVAL", bit);

		if (BIT_ULL(bit) & (supported | PROTECTIONS))
			continue;
		TEST_ASSERT(__set_attributes(vm, TEST_GPA, PAGE_SIZE,
					     BIT_ULL(bit), 0) == -1 &&
			    errno == EINVAL,
			    "SET of attribute bit %d should fail with EINVAL", bit);
		attr = (struct kvm_memory_attributes) {
			.address = TEST_GPA, .size = PAGE_SIZE,
			.attributes = BIT_ULL(bit),
		};
		TEST_ASSERT(__get_attributes(vm, &attr) == -1 && errno == EINVAL,
			    "GET with attribute bit %d should fail with EINVAL", bit);
	}

	/* Zero size, unaligned address or size, overflow. */
	TEST_ASSERT(__set_attributes(vm, TEST_GPA, 0, NX, 0) == -1 && errno == EINVAL,
		    "SET of size 0 should fail");
	TEST_ASSERT(__set_attributes(vm, TEST_GPA + 1, PAGE_SIZE, NX, 0) == -1 &&
		    errno == EINVAL, "SET of an unaligned address should fail");
	TEST_ASSERT(__set_attributes(vm, TEST_GPA, PAGE_SIZE + 1, NX, 0) == -1 &&
		    errno == EINVAL, "SET of an unaligned size should fail");
	TEST_ASSERT(__set_attributes(vm, -PAGE_SIZE, 2 * PAGE_SIZE, NX, 0) == -1 &&
		    errno == EINVAL, "SET of an overflowing range should fail");
	/* Write without read, and NO_READ where it is not supported. */
	TEST_ASSERT(__set_attributes(vm, TEST_GPA, PAGE_SIZE, NR, 0) == -1 &&
		    errno == EINVAL, "SET of write-execute should fail");
	TEST_ASSERT(__set_attributes(vm, TEST_GPA, PAGE_SIZE, NR | NX, 0) == -1 &&
		    errno == EINVAL, "SET of write-only should fail");
	if (!(supported & NR))
		TEST_ASSERT(__set_attributes(vm, TEST_GPA, PAGE_SIZE, NR | NW, 0) == -1 &&
			    errno == EINVAL,
			    "SET of execute-only should fail where NO_READ is not advertised");

	attr = (struct kvm_memory_attributes) { .address = TEST_GPA, .size = 0 };
	TEST_ASSERT(__get_attributes(vm, &attr) == -1 && errno == EINVAL,
		    "GET of size 0 should fail");
	attr = (struct kvm_memory_attributes) { .address = TEST_GPA + 8, .size = PAGE_SIZE };
	TEST_ASSERT(__get_attributes(vm, &attr) == -1 && errno == EINVAL,
		    "GET of an unaligned address should fail");
	attr = (struct kvm_memory_attributes) { .address = -PAGE_SIZE, .size = 2 * PAGE_SIZE };
	TEST_ASSERT(__get_attributes(vm, &attr) == -1 && errno == EINVAL,
		    "GET of an overflowing range should fail");

	/* None of the above changed anything. */
	TEST_ASSERT_EQ(get_attributes(vm, TEST_GPA, 2 * PAGE_SIZE, &run_size), NW);
	TEST_ASSERT_EQ(run_size, PAGE_SIZE);
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	struct kvm_vm *vm;
	uint64_t supported;

	vm = vm_create_barebones();
	supported = vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES);
	kvm_vm_free(vm);
	TEST_REQUIRE(supported & KVM_MEMORY_ATTRIBUTE_NO_WRITE);

	test_combinations();
	test_readonly_memslot();
	test_huge_page();
	test_dirty_logging();
	test_guest_page_tables();
	test_set_while_writing();
	test_get_runs();
	test_invalid_arguments();

	return 0;
}
