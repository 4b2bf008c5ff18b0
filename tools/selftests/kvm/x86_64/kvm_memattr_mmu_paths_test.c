// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory protection attributes against the MMU's paths around them: dirty
 * logging and the fast page fault path never make a protected page
 * writable; a guest page table in a NO_WRITE page, as each MMU (TDP with or
 * without accessed/dirty flags, shadow paging) walks it; and a SET of
 * NO_WRITE while vCPUs write the page.  The access matrix and the ioctls
 * themselves are in kvm_memattr_protection_test.
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

#include "kvm_memattr_access_guest.h"

static bool test_page_is_dirty(struct kvm_vm *vm, unsigned long *bitmap)
{
	kvm_vm_get_dirty_log(vm, ACCESS_TEST_SLOT, bitmap);
	return test_bit(0, bitmap);
}

/*
 * Dirty logging write-protects pages and lets the fast page fault path make
 * them writable again on the next write; neither may make a NO_WRITE page
 * writable.  Clearing NO_WRITE makes the page writable, and logged, again.
 */
static void test_dirty_logging(void)
{
	unsigned long *bitmap = bitmap_zalloc(ACCESS_TEST_NPAGES);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_access_vm(&vcpu);

	/*
	 * Write at the start of the page: Bochs 2.7 logs the gpa of a write in
	 * the PML buffer without clearing bits 11:0, and KVM warns about such
	 * entries.
	 */
	access_data_offset = 0;
	sync_global_to_guest(vm, access_data_offset);

	vm_mem_region_set_flags(vm, ACCESS_TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	test_page_is_dirty(vm, bitmap);

	/* A logged write, then a write through the re-protected mapping. */
	check_access(vcpu, ACCESS_TEST_GPA, 0, ACCESS_WRITE);
	TEST_ASSERT(test_page_is_dirty(vm, bitmap), "The write was not logged");
	check_access(vcpu, ACCESS_TEST_GPA, 0, ACCESS_WRITE);
	TEST_ASSERT(test_page_is_dirty(vm, bitmap),
		    "The write after GET_DIRTY_LOG was not logged");

	/*
	 * NO_WRITE on a page that dirty logging has write-protected: a read
	 * maps it, and the write through that mapping exits, every time.
	 */
	memattr_set(vm, ACCESS_TEST_GPA, PAGE_SIZE, NW);
	check_access(vcpu, ACCESS_TEST_GPA, NW, ACCESS_READ);
	check_access(vcpu, ACCESS_TEST_GPA, NW, ACCESS_WRITE);
	TEST_ASSERT(!test_page_is_dirty(vm, bitmap),
		    "A denied write was logged as dirty");
	check_access(vcpu, ACCESS_TEST_GPA, NW, ACCESS_WRITE);

	/* Dirty logging turned off and on again does not relax it either. */
	vm_mem_region_set_flags(vm, ACCESS_TEST_SLOT, 0);
	check_access(vcpu, ACCESS_TEST_GPA, NW, ACCESS_WRITE);
	vm_mem_region_set_flags(vm, ACCESS_TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	check_access(vcpu, ACCESS_TEST_GPA, NW, ACCESS_WRITE);
	TEST_ASSERT(!test_page_is_dirty(vm, bitmap),
		    "A denied write was logged as dirty");

	/* Relaxed: the pending write is retried, succeeds and is logged. */
	memattr_set(vm, ACCESS_TEST_GPA, PAGE_SIZE, 0);
	access_run_to_sync(vcpu, 1);
	access_run_to_sync(vcpu, 0);
	TEST_ASSERT(test_page_is_dirty(vm, bitmap),
		    "The write after clearing NO_WRITE was not logged");

	/*
	 * Execute-only (EPT): dirty logging makes the page neither writable nor
	 * readable; the guest executes from it, its write and read exit.
	 */
	if (vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES) & NR) {
		*(uint8_t *)addr_gpa2hva(vm, ACCESS_TEST_GPA) = ACCESS_RET_OPCODE;
		memattr_set(vm, ACCESS_TEST_GPA, PAGE_SIZE, NR | NW);
		check_access(vcpu, ACCESS_TEST_GPA, NR | NW, ACCESS_EXEC);
		test_page_is_dirty(vm, bitmap);
		check_access(vcpu, ACCESS_TEST_GPA, NR | NW, ACCESS_WRITE);
		TEST_ASSERT(!test_page_is_dirty(vm, bitmap),
			    "A denied write to an execute-only page was logged");
		memattr_set(vm, ACCESS_TEST_GPA, PAGE_SIZE, 0);
		access_run_to_sync(vcpu, 1);
		access_run_to_sync(vcpu, 0);
		test_access_at(vcpu, ACCESS_TEST_GPA, NR | NW, ACCESS_READ);
	}

	access_data_offset = ACCESS_DATA_OFFSET;
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
				   enum access_op op)
{
	struct kvm_run *run = vcpu->run;
	int r;

	access_guest_op = op;
	access_guest_page = PT_TEST_GVA;
	sync_global_to_guest(vcpu->vm, access_guest_op);
	sync_global_to_guest(vcpu->vm, access_guest_page);

	r = _vcpu_run(vcpu);
	TEST_ASSERT(r == -1 && errno == EFAULT,
		    "%s through a NO_WRITE page table should exit, got %d (errno %d)",
		    access_op_names[op], r, errno);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_MEMORY_FAULT);
	TEST_ASSERT_EQ(run->memory_fault.gpa, table_gpa);
	TEST_ASSERT_EQ(run->memory_fault.size, PAGE_SIZE);
	TEST_ASSERT_EQ(run->memory_fault.flags, KVM_MEMORY_EXIT_FLAG_WRITE);

	memattr_set(vcpu->vm, table_gpa, PAGE_SIZE, 0);
	access_run_to_sync(vcpu, 1);
	access_run_to_sync(vcpu, 0);
	memattr_set(vcpu->vm, table_gpa, PAGE_SIZE, NW);
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
	uint64_t data_gpa = ACCESS_TEST_GPA + 2 * PAGE_SIZE, table_gpa;
	uint64_t ad_bits = PTE_ACCESSED_MASK | PTE_DIRTY_MASK;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = create_access_vm(&vcpu);
	bool walks_write;
	enum access_op op;
	uint64_t *pte;

	walks_write = kvm_is_tdp_enabled() &&
		      (host_cpu_is_amd || get_kvm_intel_param_bool("eptad"));

	virt_pg_map(vm, PT_TEST_GVA, data_gpa);
	pte = vm_get_page_table_entry(vm, PT_TEST_GVA);
	table_gpa = addr_hva2gpa(vm, pte) & ~(PAGE_SIZE - 1);
	memattr_set(vm, table_gpa, PAGE_SIZE, NW);

	/* The read needs the accessed bit, the write the dirty bit too. */
	for (op = ACCESS_READ; op <= ACCESS_WRITE; op++) {
		*pte &= ~ad_bits;
		if (kvm_is_tdp_enabled()) {
			check_table_write_exit(vcpu, table_gpa, op);
			TEST_ASSERT(*pte & (op == ACCESS_READ ? PTE_ACCESSED_MASK : ad_bits),
				    "The CPU did not set A/D bits once allowed: 0x%lx", *pte);
			continue;
		}
		check_access(vcpu, PT_TEST_GVA, 0, op);
		TEST_ASSERT(!(*pte & ad_bits),
			    "KVM set A/D bits in a NO_WRITE page table: 0x%lx", *pte);
	}

	/* Both bits set: nothing to update. */
	*pte |= ad_bits;
	for (op = ACCESS_READ; op <= ACCESS_WRITE; op++) {
		if (walks_write)
			check_table_write_exit(vcpu, table_gpa, op);
		else
			check_access(vcpu, PT_TEST_GVA, 0, op);
	}
	TEST_ASSERT_EQ(*(uint64_t *)(addr_gpa2hva(vm, data_gpa) + ACCESS_DATA_OFFSET),
		       0x5a5a5a5a);
	kvm_vm_free(vm);
}

#define NR_WRITERS	2
#define WRITES_PER_SYNC	1000

static void guest_write_forever(uint32_t vcpu_id)
{
	volatile uint64_t *counter = (uint64_t *)ACCESS_TEST_GVA + vcpu_id;
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
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, ACCESS_TEST_GPA,
				    ACCESS_TEST_SLOT, 1, 0);
	virt_map(vm, ACCESS_TEST_GVA, ACCESS_TEST_GPA, 1);
	counters = addr_gpa2hva(vm, ACCESS_TEST_GPA);
	for (i = 0; i < NR_WRITERS; i++) {
		vcpu_args_set(vcpus[i], 1, vcpus[i]->id);
		pthread_create(&threads[i], NULL, run_writer, vcpus[i]);
	}

	/* Let every vCPU write for a while. */
	for (i = 0; i < NR_WRITERS; i++)
		while (!READ_ONCE(counters[i]))
			usleep(1000);

	memattr_set(vm, ACCESS_TEST_GPA, PAGE_SIZE, NW);
	memcpy(snapshot, counters, sizeof(snapshot));

	for (i = 0; i < NR_WRITERS; i++)
		pthread_join(threads[i], NULL);
	TEST_ASSERT(!memcmp(snapshot, counters, sizeof(snapshot)),
		    "The page was written after SET of NO_WRITE returned");
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	TEST_REQUIRE(memattr_supported_by_default_vm() & NW);

	test_dirty_logging();
	test_guest_page_tables();
	test_set_while_writing();

	return 0;
}
