/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The module-wide counts of kvm_memattr, in its debugfs directory: the VMs
 * bound to it, the attribute runs, the pages with a protected sub-page map
 * and the SPP table pages that all of them hold.  Every count is 0 when no
 * VM bound to the module exists, which is how the fault injection and
 * lifecycle tests see that nothing a VM held outlives it.
 */
#ifndef SELFTEST_KVM_MEMATTR_COUNTERS_H
#define SELFTEST_KVM_MEMATTR_COUNTERS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "test_util.h"

#define MEMATTR_COUNTS_DIR	"/sys/kernel/debug/kvm_memattr"

struct memattr_counts {
	uint64_t vms;
	uint64_t attribute_runs;
	uint64_t subpage_pages;
	uint64_t spp_table_pages;
};

/* The count in the file @name of the module's debugfs directory. */
static inline uint64_t memattr_count(const char *name)
{
	unsigned long long value;
	char path[128];
	FILE *f;
	int r;

	snprintf(path, sizeof(path), MEMATTR_COUNTS_DIR "/%s", name);
	f = fopen(path, "r");
	TEST_ASSERT(f, "Cannot open %s (%s): is debugfs mounted and kvm_memattr loaded?",
		    path, strerror(errno));
	r = fscanf(f, "%llu", &value);
	fclose(f);
	TEST_ASSERT(r == 1, "Cannot read a number from %s", path);
	return value;
}

static inline struct memattr_counts memattr_counts_now(void)
{
	return (struct memattr_counts) {
		.vms = memattr_count("vms"),
		.attribute_runs = memattr_count("attribute_runs"),
		.subpage_pages = memattr_count("subpage_pages"),
		.spp_table_pages = memattr_count("spp_table_pages"),
	};
}

/* The four counts are @expected, read at one moment each. */
static inline void memattr_assert_counts(struct memattr_counts expected,
					 const char *what)
{
	struct memattr_counts now = memattr_counts_now();

	TEST_ASSERT(now.vms == expected.vms &&
		    now.attribute_runs == expected.attribute_runs &&
		    now.subpage_pages == expected.subpage_pages &&
		    now.spp_table_pages == expected.spp_table_pages,
		    "%s: kvm_memattr counts vms %lu, attribute_runs %lu, subpage_pages %lu, spp_table_pages %lu; expected %lu, %lu, %lu, %lu",
		    what, now.vms, now.attribute_runs, now.subpage_pages,
		    now.spp_table_pages, expected.vms, expected.attribute_runs,
		    expected.subpage_pages, expected.spp_table_pages);
}

/*
 * No VM bound to the module exists, and nothing is left of the ones that
 * did.  KVM destroys a VM, and the module's state of it, synchronously in
 * the close() of its last file descriptor, so no wait is needed.
 */
static inline void memattr_assert_no_vm(const char *what)
{
	memattr_assert_counts((struct memattr_counts) {}, what);
}

#endif /* SELFTEST_KVM_MEMATTR_COUNTERS_H */
