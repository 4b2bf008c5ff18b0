// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sub-page write protection, what the maps hold, without a guest: that
 * KVM_GET_SUBPAGE_WRITE_ACCESS reads back exactly what
 * KVM_SET_SUBPAGE_WRITE_ACCESS set, for 1 to 512 pages, without memslots,
 * across 2 MiB and 1 GiB boundaries, and all ones where nothing was set or
 * all ones was; that the pages around a SET keep their maps; that random
 * overlapping SETs leave what a model of the maps predicts; and that maps are
 * per VM.  Last, VMs with maps are created and destroyed in a loop so that
 * kmemleak sees whether their maps are freed.  What the uAPI refuses is
 * kvm_memattr_subpage_uapi_test.c.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_ref.h"

#define NR_VMS		100

/* SET of @npages varied maps at @gpa reads back, nothing around changes. */
static void round_trip(struct kvm_vm *vm, uint64_t gpa, uint32_t npages,
		       uint32_t seed)
{
	uint32_t maps[MAX_PAGES];

	subpage_assert_all_ones(vm, gpa - PAGE_SIZE, 1,
				"page before, never set");
	subpage_make_maps(maps, npages, seed);
	subpage_set(vm, gpa, npages, maps);
	subpage_assert_maps(vm, gpa, npages, maps, "round trip");
	subpage_assert_all_ones(vm, gpa - PAGE_SIZE, 1,
				"page before, never set");
	subpage_assert_all_ones(vm, gpa + npages * PAGE_SIZE, 1,
				"page after, never set");

	/* Read back one page at a time, and from an offset. */
	if (npages > 1) {
		TEST_ASSERT_EQ(subpage_get_one(vm, gpa + PAGE_SIZE), maps[1]);
		subpage_assert_maps(vm, gpa + PAGE_SIZE, npages - 1, &maps[1],
				    "round trip, from the second page");
	}

	/* All ones makes every page unprotected again. */
	memset(maps, 0xff, npages * sizeof(uint32_t));
	subpage_set(vm, gpa, npages, maps);
	subpage_assert_all_ones(vm, gpa, npages, "after SET of all ones");
}

static bool test_round_trip(void)
{
	static const uint32_t sizes[] = { 1, 2, 33, MAX_PAGES };
	struct kvm_vm *vm, *other;
	uint32_t mode, i, map = 0;

	for_each_mode(mode) {
		vm = ref_vm(mode);
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			round_trip(vm, BASE_GPA + 0x100000 * (i + 1), sizes[i], i);
			round_trip(vm, HIGH_GPA + 0x400000 * i, sizes[i], i + 7);
		}
		/* Across a 2 MiB boundary, and across a 1 GiB boundary. */
		round_trip(vm, 0x600000 - 3 * PAGE_SIZE, 33, 11);
		round_trip(vm, GPA_1G - PAGE_SIZE, 2, 12);
		round_trip(vm, GPA_1G - 256 * PAGE_SIZE, MAX_PAGES, 13);
		round_trip(vm, 2 * GPA_1G - 100 * PAGE_SIZE, MAX_PAGES, 14);
		assert_window(vm, true, "round trips elsewhere");

		/* Maps are per VM. */
		other = vm_create_barebones();
		subpage_enable(other, mode);
		subpage_set(other, REF_GPA, 1, &map);
		assert_window(vm, true, "SET on another VM");
		subpage_assert_all_ones(other, REF_GPA + PAGE_SIZE, REF_NPAGES,
					"another VM's pages");
		kvm_vm_free(other);
		kvm_vm_free(vm);
	}
	return true;
}

/* Random overlapping SETs and GETs around a 1 GiB boundary, on a model. */
#define MODEL_NPAGES	(2 * MAX_PAGES)
#define MODEL_GPA	(GPA_1G - MAX_PAGES * PAGE_SIZE)

/* 1 to MAX_PAGES pages from model page @first, within the model. */
static uint32_t random_npages(uint32_t first)
{
	uint32_t limit = MODEL_NPAGES - first;

	if (limit > MAX_PAGES)
		limit = MAX_PAGES;
	return 1 + random() % limit;
}

static bool test_overlapping(void)
{
	uint32_t model[MODEL_NPAGES], maps[MAX_PAGES];
	uint32_t mode, first, npages, n;
	struct kvm_vm *vm;

	for_each_mode(mode) {
		vm = ref_vm(mode);
		memset(model, 0xff, sizeof(model));
		srandom(mode);
		for (n = 0; n < 300; n++) {
			first = random() % MODEL_NPAGES;
			npages = random_npages(first);
			subpage_make_maps(maps, npages, n);
			subpage_set(vm, MODEL_GPA + first * PAGE_SIZE, npages, maps);
			memcpy(&model[first], maps, npages * sizeof(uint32_t));

			first = random() % MODEL_NPAGES;
			npages = random_npages(first);
			subpage_assert_maps(vm, MODEL_GPA + first * PAGE_SIZE,
					    npages, &model[first],
					    "overlapping SETs");
		}
		subpage_assert_maps(vm, MODEL_GPA, MAX_PAGES, model,
				    "overlapping SETs");
		subpage_assert_maps(vm, MODEL_GPA + MAX_PAGES * PAGE_SIZE,
				    MAX_PAGES, &model[MAX_PAGES],
				    "overlapping SETs");
		assert_window(vm, true, "overlapping SETs elsewhere");
		kvm_vm_free(vm);
	}
	return true;
}

static bool test_vm_lifetime(void)
{
	uint32_t maps[MAX_PAGES], n;
	struct kvm_vm *vm;

	for (n = 0; n < NR_VMS; n++) {
		/* Every fourth VM also has memory and a vCPU. */
		vm = n % 4 ? vm_create_barebones() : vm_create(1);
		subpage_enable(vm, KVM_SUBPAGE_WP_SOFTWARE);

		/* Maps at scattered addresses, some cleared again. */
		subpage_make_maps(maps, MAX_PAGES, n);
		subpage_set(vm, BASE_GPA, MAX_PAGES, maps);
		subpage_set(vm, GPA_1G - 7 * PAGE_SIZE, 33, maps);
		subpage_set(vm, HIGH_GPA + n * PAGE_SIZE, 2, maps);
		subpage_set(vm, 0x1000 * (n % 16), 1, maps);
		if (n % 2) {
			memset(maps, 0xff, sizeof(maps));
			subpage_set(vm, BASE_GPA + PAGE_SIZE, MAX_PAGES / 2, maps);
		}
		if (!(n % 4))
			vm_vcpu_add(vm, 0, guest_code);
		TEST_ASSERT_EQ(subpage_get_one(vm, GPA_1G - 7 * PAGE_SIZE),
			       subpage_get_one(vm, BASE_GPA));
		kvm_vm_free(vm);
	}
	pr_info("%d VMs with maps created and destroyed\n", NR_VMS);
	return true;
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "1. GET after SET, 1 to 512 pages", test_round_trip },
		{ "2. overlapping SETs", test_overlapping },
		{ "3. VM lifetime with maps", test_vm_lifetime },
	};

	require_subpage_modes();
	memattr_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
