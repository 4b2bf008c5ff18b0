// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lifecycle of VMs bound to kvm_memattr: nothing a VM held outlives it.
 *
 * -n ITERATIONS times (default 1000), one VM at a time is created, given
 * four attribute runs (one inside its only memslot, three without memory,
 * one of them split out of a 1 GiB run), a sub-page write protection mode
 * (alternately the hardware one, where advertised, and the software one),
 * sub-page maps on four pages in several 2 MiB, 1 GiB and 512 GiB regions,
 * every 7th time a vCPU, and destroyed.
 *
 * The module's debugfs counts (kvm_memattr_counters.h) must count exactly
 * the live VM's state on the first VM of each mode: 1 VM, its 4 runs, its
 * 4 protected pages, and in hardware mode the SPP root plus one table page
 * per 512 GiB, 1 GiB and 2 MiB region with a protected page (none in
 * software mode).  After every destruction all four counts must be 0.
 *
 * With -n 1 it is quick: the suite runs it between the loads and unloads
 * of the module, and asks kmemleak about leaks itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_util.h"
#include "kvm_memattr_counters.h"

#define DEFAULT_ITERATIONS	1000
/* Every VCPU_EVERY-th VM, the first included, gets a vCPU (never run). */
#define VCPU_EVERY		7

/* The VM's only memslot, at 4 GiB. */
#define SLOT_GPA		(4ull << 30)
#define SLOT			1
#define SLOT_NPAGES		16

/* A 1 GiB run at 1 TiB, split by a page set back to 0 in its middle. */
#define BIG_RUN_GPA		(1ull << 40)
#define BIG_RUN_SIZE		(1ull << 30)
#define BIG_RUN_HOLE		(BIG_RUN_GPA + BIG_RUN_SIZE / 2)

/* Runs each VM holds: one in the memslot, one at 1 GiB, the split two. */
#define RUNS_PER_VM		4

/* The pages each VM protects by sub-page, with and without memory. */
static const uint64_t subpage_gpas[] = {
	SLOT_GPA,
	SLOT_GPA + 5 * PAGE_SIZE,
	(3ull << 30) + (1ull << 21) + 7 * PAGE_SIZE,
	(1ull << 40) + (3ull << 30) + 5 * PAGE_SIZE,
};

static uint32_t modes;

/* The map of protected page @j of VM @i: one denied sub-page, never all ones. */
static uint32_t map_of(int i, int j)
{
	return ~(uint32_t)BIT((i + j) % KVM_SUBPAGES_PER_PAGE);
}

/* Whether @key is one of @keys[0..@n). */
static bool seen(const uint64_t *keys, int n, uint64_t key)
{
	int i;

	for (i = 0; i < n; i++)
		if (keys[i] == key)
			return true;
	return false;
}

/*
 * The SPP table pages of a hardware-mode VM that protects subpage_gpas[]:
 * the root, allocated when the mode is enabled, and a table page for each
 * 512 GiB, 1 GiB and 2 MiB region that holds a protected page
 * (Documentation/virt/kvm/memattr/api.rst, KVM_SET_SUBPAGE_WRITE_ACCESS).
 */
static uint64_t expected_spp_table_pages(void)
{
	static const int shifts[] = { 39, 30, 21 };
	uint64_t keys[ARRAY_SIZE(subpage_gpas)], pages = 1;
	int s, j, n;

	for (s = 0; s < ARRAY_SIZE(shifts); s++) {
		for (j = 0, n = 0; j < ARRAY_SIZE(subpage_gpas); j++) {
			uint64_t key = subpage_gpas[j] >> shifts[s];

			if (!seen(keys, n, key))
				keys[n++] = key;
		}
		pages += n;
	}
	return pages;
}

/* GET reads the big run as two runs around the page set back to 0. */
static void assert_big_run_split(struct kvm_vm *vm)
{
	struct kvm_memory_attributes attr = {
		.address = BIG_RUN_GPA,
		.size = BIG_RUN_SIZE,
	};

	TEST_ASSERT(!__vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, &attr),
		    "KVM_GET_MEMORY_ATTRIBUTES failed: %s", strerror(errno));
	TEST_ASSERT(attr.attributes == (NW | NX) &&
		    attr.address + attr.size == BIG_RUN_HOLE,
		    "The big run reads 0x%llx over 0x%llx bytes, expected 0x%llx up to the hole at 0x%llx",
		    attr.attributes, attr.size, NW | NX, BIG_RUN_HOLE);
	attr = (struct kvm_memory_attributes) {
		.address = BIG_RUN_HOLE,
		.size = BIG_RUN_GPA + BIG_RUN_SIZE - BIG_RUN_HOLE,
	};
	TEST_ASSERT(!__vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, &attr),
		    "KVM_GET_MEMORY_ATTRIBUTES failed: %s", strerror(errno));
	TEST_ASSERT(!attr.attributes && attr.size == PAGE_SIZE,
		    "The hole reads 0x%llx over 0x%llx bytes, expected 0 over one page",
		    attr.attributes, attr.size);
}

/*
 * VM @i: created, given its runs, mode, maps and maybe a vCPU, checked in
 * the counts if @check, destroyed; then the counts are all 0.  Returns
 * whether it had a vCPU.
 */
static bool one_vm(int i, bool check)
{
	bool hardware = !(i & 1) && (modes & KVM_SUBPAGE_WP_HARDWARE);
	uint32_t mode = hardware ? KVM_SUBPAGE_WP_HARDWARE :
				   KVM_SUBPAGE_WP_SOFTWARE;
	bool with_vcpu = !(i % VCPU_EVERY);
	struct kvm_vm *vm = vm_create_barebones();
	char what[96];
	int j;

	/* The mode first: it must precede the vCPU. */
	subpage_enable(vm, mode);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SLOT_GPA, SLOT,
				    SLOT_NPAGES, 0);

	memattr_set(vm, SLOT_GPA + 2 * PAGE_SIZE, 3 * PAGE_SIZE, NW);
	memattr_set(vm, 1ull << 30, PAGE_SIZE, NX);
	memattr_set(vm, BIG_RUN_GPA, BIG_RUN_SIZE, NW | NX);
	memattr_set(vm, BIG_RUN_HOLE, PAGE_SIZE, 0);

	for (j = 0; j < ARRAY_SIZE(subpage_gpas); j++)
		subpage_set_one(vm, subpage_gpas[j], map_of(i, j));
	if (with_vcpu)
		__vm_vcpu_add(vm, 0);

	snprintf(what, sizeof(what), "VM %d (%s mode%s) alive", i,
		 hardware ? "hardware" : "software",
		 with_vcpu ? ", a vCPU" : "");
	if (check) {
		assert_big_run_split(vm);
		TEST_ASSERT_EQ(subpage_get_one(vm, subpage_gpas[3]), map_of(i, 3));
		memattr_assert_counts((struct memattr_counts) {
			.vms = 1,
			.attribute_runs = RUNS_PER_VM,
			.subpage_pages = ARRAY_SIZE(subpage_gpas),
			.spp_table_pages = hardware ? expected_spp_table_pages() : 0,
		}, what);
	}

	kvm_vm_free(vm);
	snprintf(what, sizeof(what), "VM %d (%s mode%s) destroyed", i,
		 hardware ? "hardware" : "software",
		 with_vcpu ? ", a vCPU" : "");
	memattr_assert_no_vm(what);
	return with_vcpu;
}

static void help(const char *name)
{
	printf("usage: %s [-n ITERATIONS (default %d)]\n", name,
	       DEFAULT_ITERATIONS);
}

int main(int argc, char *argv[])
{
	int iterations = DEFAULT_ITERATIONS, with_vcpu = 0, i, opt;

	while ((opt = getopt(argc, argv, "n:h")) != -1) {
		switch (opt) {
		case 'n':
			iterations = atoi_positive("Iterations", optarg);
			break;
		default:
			help(argv[0]);
			exit(opt == 'h' ? 0 : 1);
		}
	}

	modes = subpage_modes_of_new_vm();
	TEST_REQUIRE(modes & KVM_SUBPAGE_WP_SOFTWARE);
	memattr_assert_no_vm("Before the first VM (is another VM bound to kvm_memattr alive?)");

	for (i = 0; i < iterations; i++)
		with_vcpu += one_vm(i, i < 2);

	printf("lifecycle: %d VMs, sub-page modes %s\n", iterations,
	       modes & KVM_SUBPAGE_WP_HARDWARE ? "hardware and software, alternately" :
						 "software (hardware not advertised)");
	printf("figure: lifecycle: %d VMs created and destroyed, %d with a vCPU, %d attribute runs set, %d sub-page maps set, 0 left in the module's counters\n",
	       iterations, with_vcpu, iterations * RUNS_PER_VM,
	       iterations * (int)ARRAY_SIZE(subpage_gpas));
	return 0;
}
