/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the sub-page uAPI and maps tests share: addresses without memslots,
 * the reference maps that they set on four pages and check, with the
 * untouched pages around them, after every SET that must change nothing,
 * and the modes that their VMs can use.
 */
#ifndef SELFTEST_KVM_MEMATTR_SUBPAGE_REF_H
#define SELFTEST_KVM_MEMATTR_SUBPAGE_REF_H

#include "kvm_memattr_subpage_util.h"

#define MAX_PAGES	KVM_SUBPAGE_MAX_PAGES
#define ALL_MODES	(KVM_SUBPAGE_WP_SOFTWARE | KVM_SUBPAGE_WP_HARDWARE)

/* Addresses without memslots: the VMs here have none, or one at 0. */
#define BASE_GPA	0x10000000ull
#define GPA_1G		0x40000000ull
#define HIGH_GPA	0xf00000000ull

/* Four pages with maps, between two that never had one. */
#define REF_GPA		BASE_GPA
#define REF_NPAGES	4
#define WIN_GPA		(REF_GPA - PAGE_SIZE)
#define WIN_NPAGES	(REF_NPAGES + 2)

static const uint32_t ref_maps[REF_NPAGES] = {
	0, 0x0000ffff, 0x80000001, 0xfffffffe,
};

/* The modes that VMs here can use. */
static uint32_t modes;

/* Each advertised mode. */
#define for_each_mode(mode)						\
	for ((mode) = 1; (mode) & ALL_MODES; (mode) <<= 1)		\
		if (!(modes & (mode))) {} else

/* Sets @modes. */
static inline void require_subpage_modes(void)
{
	modes = subpage_modes_of_new_vm();
	TEST_REQUIRE(modes);
}

/* The window around the reference pages, with (@set) or without maps. */
static inline void assert_window(struct kvm_vm *vm, bool set, const char *what)
{
	uint32_t expected[WIN_NPAGES];

	memset(expected, 0xff, sizeof(expected));
	if (set)
		memcpy(&expected[1], ref_maps, sizeof(ref_maps));
	subpage_assert_maps(vm, WIN_GPA, WIN_NPAGES, expected, what);
}

/* The vCPUs here never run. */
static inline void guest_code(void)
{
	GUEST_DONE();
}

/* A VM, with @mode enabled and the reference maps set where @mode != 0. */
static inline struct kvm_vm *ref_vm(uint32_t mode)
{
	struct kvm_vm *vm = vm_create_barebones();

	if (mode) {
		subpage_enable(vm, mode);
		subpage_set(vm, REF_GPA, REF_NPAGES, ref_maps);
		assert_window(vm, true, "reference maps");
	}
	return vm;
}

#endif /* SELFTEST_KVM_MEMATTR_SUBPAGE_REF_H */
