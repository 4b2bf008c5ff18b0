/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the kvm_memattr sub-page write protection selftests:
 * choosing the mode, setting or reading the 128-byte sub-page maps, and
 * checking what they read.
 */
#ifndef SELFTEST_KVM_MEMATTR_SUBPAGE_UTIL_H
#define SELFTEST_KVM_MEMATTR_SUBPAGE_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"

/* A map that leaves every sub-page of its page writable. */
#define SUBPAGE_ALL_WRITABLE	0xffffffffu

/*
 * The ioctl header and room for the largest number of maps: map[] is where
 * h.access_map[] is.  Pass &a.h to the ioctls, whose size checks want the
 * header's type.
 */
struct subpage_access {
	struct kvm_subpage_write_access h;
	uint32_t map[KVM_SUBPAGE_MAX_PAGES];
};

/* The modes (KVM_SUBPAGE_WP_*) that @vm can use, 0 without the module. */
static inline uint32_t subpage_modes(struct kvm_vm *vm)
{
	return vm_check_cap(vm, KVM_CAP_SUBPAGE_WRITE_PROTECT);
}

/*
 * The modes of a new VM, which is then freed: only VMs bound to kvm_memattr
 * have any.
 */
static inline uint32_t subpage_modes_of_new_vm(void)
{
	struct kvm_vm *vm = vm_create_barebones();
	uint32_t modes = subpage_modes(vm);

	kvm_vm_free(vm);
	return modes;
}

static inline int __subpage_enable(struct kvm_vm *vm, uint64_t mode)
{
	return __vm_enable_cap(vm, KVM_CAP_SUBPAGE_WRITE_PROTECT, mode);
}

static inline void subpage_enable(struct kvm_vm *vm, uint64_t mode)
{
	vm_enable_cap(vm, KVM_CAP_SUBPAGE_WRITE_PROTECT, mode);
}

/* KVM_SET_SUBPAGE_WRITE_ACCESS of @maps[0..@npages) from @gpa. */
static inline int __subpage_set(struct kvm_vm *vm, uint64_t gpa,
				uint32_t npages, const uint32_t *maps)
{
	static struct subpage_access a;

	TEST_ASSERT(npages <= KVM_SUBPAGE_MAX_PAGES,
		    "__subpage_set() of %u pages", npages);
	memset(&a.h, 0, sizeof(a.h));
	a.h.address = gpa;
	a.h.npages = npages;
	memcpy(a.map, maps, npages * sizeof(*maps));
	return __vm_ioctl(vm, KVM_SET_SUBPAGE_WRITE_ACCESS, &a.h);
}

static inline void subpage_set(struct kvm_vm *vm, uint64_t gpa,
			       uint32_t npages, const uint32_t *maps)
{
	TEST_ASSERT(!__subpage_set(vm, gpa, npages, maps),
		    "KVM_SET_SUBPAGE_WRITE_ACCESS of %u pages at 0x%lx failed: %s",
		    npages, gpa, strerror(errno));
}

/* Set the one map of the page at @gpa. */
static inline void subpage_set_one(struct kvm_vm *vm, uint64_t gpa,
				   uint32_t map)
{
	subpage_set(vm, gpa, 1, &map);
}

/* KVM_GET_SUBPAGE_WRITE_ACCESS into @maps[0..@npages). */
static inline int __subpage_get(struct kvm_vm *vm, uint64_t gpa,
				uint32_t npages, uint32_t *maps)
{
	static struct subpage_access a;
	int r;

	TEST_ASSERT(npages <= KVM_SUBPAGE_MAX_PAGES,
		    "__subpage_get() of %u pages", npages);
	memset(&a, 0, sizeof(a));
	a.h.address = gpa;
	a.h.npages = npages;
	r = __vm_ioctl(vm, KVM_GET_SUBPAGE_WRITE_ACCESS, &a.h);
	if (!r)
		memcpy(maps, a.map, npages * sizeof(*maps));
	return r;
}

static inline void subpage_get(struct kvm_vm *vm, uint64_t gpa,
			       uint32_t npages, uint32_t *maps)
{
	TEST_ASSERT(!__subpage_get(vm, gpa, npages, maps),
		    "KVM_GET_SUBPAGE_WRITE_ACCESS of %u pages at 0x%lx failed: %s",
		    npages, gpa, strerror(errno));
}

/* The map of the one page at @gpa. */
static inline uint32_t subpage_get_one(struct kvm_vm *vm, uint64_t gpa)
{
	uint32_t map;

	subpage_get(vm, gpa, 1, &map);
	return map;
}

/* Varied maps: none, all, single, alternating and scrambled sub-pages. */
static inline void subpage_make_maps(uint32_t *maps, uint32_t npages,
				     uint32_t seed)
{
	static const uint32_t special[] = {
		0, SUBPAGE_ALL_WRITABLE, 1, 0x80000000, 0x55555555, 0xaaaaaaaa,
		0xfffffffe,
	};
	uint32_t i, x = seed * 2654435761u + 1;

	for (i = 0; i < npages; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		maps[i] = i % 3 ? x : special[(i / 3 + seed) % ARRAY_SIZE(special)];
	}
}

/* GET over [@gpa, +@npages pages) reads exactly @expected. */
static inline void subpage_assert_maps(struct kvm_vm *vm, uint64_t gpa,
				       uint32_t npages,
				       const uint32_t *expected,
				       const char *what)
{
	uint32_t maps[KVM_SUBPAGE_MAX_PAGES];
	uint32_t i;

	subpage_get(vm, gpa, npages, maps);
	for (i = 0; i < npages; i++)
		TEST_ASSERT(maps[i] == expected[i],
			    "%s: page 0x%lx reads 0x%08x, expected 0x%08x",
			    what, (uint64_t)(gpa + i * PAGE_SIZE), maps[i],
			    expected[i]);
}

/* GET over [@gpa, +@npages pages) reads all ones: no page protected. */
static inline void subpage_assert_all_ones(struct kvm_vm *vm, uint64_t gpa,
					   uint32_t npages, const char *what)
{
	uint32_t ones[KVM_SUBPAGE_MAX_PAGES];

	memset(ones, 0xff, sizeof(ones));
	subpage_assert_maps(vm, gpa, npages, ones, what);
}

#endif /* SELFTEST_KVM_MEMATTR_SUBPAGE_UTIL_H */
