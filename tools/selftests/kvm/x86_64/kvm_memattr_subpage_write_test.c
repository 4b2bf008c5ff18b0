// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sub-page write protection against the guest's own writes: a write to a
 * permitted 128-byte sub-page of a protected page completes without an
 * exit; a write to a denied one ends KVM_RUN with KVM_EXIT_MEMORY_FAULT
 * (flags WRITE|SUBPAGE, gpa the first denied sub-page the write touches,
 * size 128), writes nothing, and is retried, not skipped, once the map
 * allows it; reads are never affected.  Also: writes straddling sub-pages
 * and pages, NO_WRITE on top of a map, a map set on a page the guest has
 * already written through a writable mapping, THP-backed memory, and dirty
 * logging.  kvm_memattr_subpage_emulator_test covers string, locked and
 * forcibly emulated instructions.
 *
 * Every case runs in software mode and, where advertised, in hardware mode.
 * Software mode maps a protected page read-only and completes the permitted
 * writes in KVM's emulator, which checks each byte.  In hardware mode the
 * CPU checks the writes, and decides how a write straddling a permitted
 * and a denied sub-page ends: there the test accepts both outcomes and
 * tells which it saw.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_util.h"
#include "kvm_memattr_subpage_guest.h"

/* Case 7: two 2 MiB regions backed by THP. */
#define HUGE_GPA	0xd0000000ull
#define HUGE_SLOT	11
#define HUGE_NPAGES	1024

static const uint64_t sizes[] = { 1, 2, 4, 8 };

/* Every second write stores the other value, so that each one shows. */
static uint64_t value(int i)
{
	return i & 1 ? SP_VALUE2 : SP_VALUE;
}

/*
 * Case 1: page 1 has sub-pages 7 and 9 denied, page 2 sub-page 5.  Writes
 * of each size at both ends of sub-page 8, which lies between two denied
 * ones, at the start of page 1 and at its end, next to page 2, complete;
 * so do writes straddling two permitted sub-pages, and two protected pages
 * through their permitted sub-pages.
 */
static bool test_permitted_writes(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);
	char what[80];
	uint64_t dst[4];
	int i, j;

	subpage_set_one(vm, sp_gpa(1, 0), sp_deny(BIT(7) | BIT(9)));
	subpage_set_one(vm, sp_gpa(2, 0), sp_deny(BIT(5)));

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		dst[0] = sp_gpa(1, 8);
		dst[1] = sp_gpa(1, 9) - sizes[i];
		dst[2] = sp_gpa(1, 0);
		dst[3] = sp_gpa(2, 0) - sizes[i];
		for (j = 0; j < ARRAY_SIZE(dst); j++) {
			snprintf(what, sizeof(what),
				 "%lu-byte write at 0x%lx, a permitted sub-page",
				 sizes[i], dst[j]);
			sp_write_ok(vcpu, SP_OP_WRITE, dst[j], value(i + j),
				    sizes[i], what);
		}
	}

	sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(1, 3) - 4, SP_VALUE, 8,
		    "write straddling two permitted sub-pages");
	sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(2, 0) - 4, SP_VALUE2, 8,
		    "write straddling the permitted sub-pages of two protected pages");
	kvm_vm_free(vm);
	return true;
}

/*
 * Case 2: writes of each size into the middle of denied sub-page 4 of
 * page 3 exit for that sub-page and are retried once the map allows it,
 * either as a whole (all ones) or for that sub-page only (the page stays
 * protected); the same at the first and last bytes of denied sub-page 20,
 * and in a page whose every sub-page is denied.
 */
static bool test_denied_writes(void)
{
	const uint32_t map = sp_deny(BIT(4) | BIT(20));
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);
	uint64_t dst, page = sp_gpa(3, 0);
	char what[80];
	int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		subpage_set_one(vm, page, map);
		dst = sp_gpa(3, 4) + 17 + 8 * i;
		snprintf(what, sizeof(what),
			 "%lu-byte write into a denied sub-page, relaxed %s",
			 sizes[i], i & 1 ? "to all ones" : "for the sub-page");
		sp_start_write(vm, SP_OP_WRITE, dst, value(i), sizes[i]);
		sp_write_denied(vcpu, dst, value(i), sizes[i], sp_gpa(3, 4), page,
				i & 1 ? SP_ALL : map | BIT(4), what);
	}

	subpage_set_one(vm, page, map);
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(3, 20), SP_VALUE, 1);
	sp_write_denied(vcpu, sp_gpa(3, 20), SP_VALUE, 1, sp_gpa(3, 20), page,
			map | BIT(20), "write to the first byte of a denied sub-page");
	subpage_set_one(vm, page, map);
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(3, 21) - 8, SP_VALUE2, 8);
	sp_write_denied(vcpu, sp_gpa(3, 21) - 8, SP_VALUE2, 8, sp_gpa(3, 20),
			page, SP_ALL, "write to the last bytes of a denied sub-page");

	subpage_set_one(vm, sp_gpa(4, 0), 0);
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(4, 31) + 120, SP_VALUE, 8);
	sp_write_denied(vcpu, sp_gpa(4, 31) + 120, SP_VALUE, 8, sp_gpa(4, 31),
			sp_gpa(4, 0), BIT(31),
			"write to the end of a page with every sub-page denied");
	kvm_vm_free(vm);
	return true;
}

/*
 * Case 3: reads of each size from a page whose sub-pages are all denied and
 * from a denied sub-page, also straddling it and two pages, never exit and
 * return what the memory holds.  The write through the mapping the reads
 * made still exits.
 */
static bool test_reads(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);
	const uint64_t src[] = {
		sp_gpa(5, 0), sp_gpa(5, 17) + 61, sp_gpa(6, 3) + 5,
		sp_gpa(6, 3) - 4, sp_gpa(6, 4) - 4, sp_gpa(6, 0) - 4,
	};
	uint64_t expected;
	char what[80];
	int i, j;

	subpage_set_one(vm, sp_gpa(5, 0), 0);
	subpage_set_one(vm, sp_gpa(6, 0), sp_deny(BIT(3)));

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (j = 0; j < ARRAY_SIZE(src); j++) {
			snprintf(what, sizeof(what), "%lu-byte read at 0x%lx",
				 sizes[i], src[j]);
			sp_start(vm, SP_OP_READ, sizes[i], 0, src[j], 0, 0);
			sp_expect_done(vcpu, what);
			expected = 0;
			memcpy(&expected, sp_hva(vm, src[j]), sizes[i]);
			TEST_ASSERT(sp_result.val == expected,
				    "%s: read 0x%lx, the memory holds 0x%lx",
				    what, sp_result.val, expected);
		}
	}
	sp_assert_memory(vm, "reads");

	sp_start_write(vm, SP_OP_WRITE, sp_gpa(6, 3) + 5, SP_VALUE, 8);
	sp_write_denied(vcpu, sp_gpa(6, 3) + 5, SP_VALUE, 8, sp_gpa(6, 3),
			sp_gpa(6, 0), SP_ALL,
			"write to a denied sub-page after reads of it");
	kvm_vm_free(vm);
	return true;
}

/*
 * Case 4: an 8-byte write at offset 124 of a sub-page, straddling
 * (permitted, denied), (denied, permitted) and (denied, denied)
 * sub-pages; a 4-byte one; writes straddling two pages, the first
 * unprotected and already written (mapped writable), the second with its
 * first sub-page denied, and the reverse.  The exit names the first denied
 * sub-page, and nothing is written to either side (software mode).
 */
static bool test_straddling_writes(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);

	subpage_set_one(vm, sp_gpa(7, 0), sp_deny(BIT(3)));
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(7, 3) - 4, SP_VALUE, 8);
	sp_write_straddling(vcpu, sp_gpa(7, 3) - 4, SP_VALUE, 8, sp_gpa(7, 3),
			    sp_gpa(7, 0), "write straddling (permitted, denied)");

	subpage_set_one(vm, sp_gpa(8, 0), sp_deny(BIT(2)));
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(8, 3) - 4, SP_VALUE2, 8);
	sp_write_straddling(vcpu, sp_gpa(8, 3) - 4, SP_VALUE2, 8, sp_gpa(8, 2),
			    sp_gpa(8, 0), "write straddling (denied, permitted)");

	subpage_set_one(vm, sp_gpa(9, 0), sp_deny(BIT(2) | BIT(3)));
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(9, 3) - 4, SP_VALUE, 8);
	sp_write_straddling(vcpu, sp_gpa(9, 3) - 4, SP_VALUE, 8, sp_gpa(9, 2),
			    sp_gpa(9, 0), "write straddling (denied, denied)");

	subpage_set_one(vm, sp_gpa(14, 0), sp_deny(BIT(10)));
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(14, 10) - 2, SP_VALUE2, 4);
	sp_write_straddling(vcpu, sp_gpa(14, 10) - 2, SP_VALUE2, 4,
			    sp_gpa(14, 10), sp_gpa(14, 0),
			    "4-byte write straddling (permitted, denied)");

	sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(10, 5), SP_VALUE, 8,
		    "write to an unprotected page");
	subpage_set_one(vm, sp_gpa(11, 0), sp_deny(BIT(0)));
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(11, 0) - 4, SP_VALUE2, 8);
	sp_write_straddling(vcpu, sp_gpa(11, 0) - 4, SP_VALUE2, 8,
			    sp_gpa(11, 0), sp_gpa(11, 0),
			    "write straddling (unprotected page, denied first sub-page)");

	subpage_set_one(vm, sp_gpa(12, 0), sp_deny(BIT(31)));
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(13, 0) - 4, SP_VALUE, 8);
	sp_write_straddling(vcpu, sp_gpa(13, 0) - 4, SP_VALUE, 8,
			    sp_gpa(12, 31), sp_gpa(12, 0),
			    "write straddling (denied last sub-page, unprotected page)");
	kvm_vm_free(vm);
	return true;
}

/* KVM_RUN exits for a write to the NO_WRITE page at @page, as a whole. */
static void expect_page_denied(struct kvm_vcpu *vcpu, uint64_t page,
			       const char *what)
{
	assert_memory_fault(vcpu, sp_run(vcpu, 1), page, PAGE_SIZE,
			    KVM_MEMORY_EXIT_FLAG_WRITE, what);
	sp_assert_memory(vcpu->vm, what);
}

/*
 * Case 5: NO_WRITE (KVM_SET_MEMORY_ATTRIBUTES) on a page with a map denies
 * every sub-page with the page-level exit (flags WRITE, the page, 4 KiB),
 * whichever was set first, and a map of all ones does not lift it.  Once
 * NO_WRITE is cleared, the map decides again.
 */
static bool test_no_write_attribute(void)
{
	uint64_t page = sp_gpa(2, 0), page2 = sp_gpa(3, 0);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);

	TEST_ASSERT(memattr_supported(vm) & NW,
		    "NO_WRITE must be advertised where sub-pages can be protected");

	subpage_set_one(vm, page, sp_deny(BIT(2)));
	memattr_set(vm, page, PAGE_SIZE, NW);
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(2, 0) + 8, SP_VALUE, 8);
	expect_page_denied(vcpu, page,
			   "write to a permitted sub-page of a NO_WRITE page");
	memattr_set(vm, page, PAGE_SIZE, 0);
	sp_expect_done(vcpu, "write to a permitted sub-page, NO_WRITE cleared");
	sp_expect_value(sp_gpa(2, 0) + 8, SP_VALUE, 8);
	sp_assert_memory(vm, "write to a permitted sub-page, NO_WRITE cleared");

	memattr_set(vm, page, PAGE_SIZE, NW);
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(2, 2) + 8, SP_VALUE2, 8);
	expect_page_denied(vcpu, page,
			   "write to a denied sub-page of a NO_WRITE page");
	memattr_set(vm, page, PAGE_SIZE, 0);
	sp_write_denied(vcpu, sp_gpa(2, 2) + 8, SP_VALUE2, 8, sp_gpa(2, 2), page,
			SP_ALL, "write to a denied sub-page, NO_WRITE cleared");

	/* NO_WRITE first, then the map. */
	memattr_set(vm, page2, PAGE_SIZE, NW);
	subpage_set_one(vm, page2, sp_deny(BIT(9)));
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(3, 1), SP_VALUE, 4);
	expect_page_denied(vcpu, page2, "write to a NO_WRITE page, then given a map");
	subpage_set_one(vm, page2, SP_ALL);
	expect_page_denied(vcpu, page2,
			   "write to a NO_WRITE page whose map was set to all ones");
	memattr_set(vm, page2, PAGE_SIZE, 0);
	sp_expect_done(vcpu, "write to an unprotected page, NO_WRITE cleared");
	sp_expect_value(sp_gpa(3, 1), SP_VALUE, 4);
	sp_assert_memory(vm, "write to an unprotected page, NO_WRITE cleared");
	kvm_vm_free(vm);
	return true;
}

/*
 * Case 6: a page the guest has written, so mapped writable, then given a
 * map: the next write to a denied sub-page exits.  A map that denies
 * another sub-page of a protected page takes effect as well, and a page
 * unprotected and protected again is protected again.
 */
static bool test_no_stale_mapping(void)
{
	uint64_t page = sp_gpa(4, 0);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);
	char what[96];
	int round;

	for (round = 0; round < 3; round++) {
		snprintf(what, sizeof(what), "round %d: writes to an unprotected page",
			 round);
		sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(4, 5), value(round), 8, what);
		sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(4, 6), value(round), 8, what);

		snprintf(what, sizeof(what),
			 "round %d: write to a sub-page denied after writes to its page",
			 round);
		subpage_set_one(vm, page, sp_deny(BIT(5)));
		sp_start_write(vm, SP_OP_WRITE, sp_gpa(4, 5) + 8, SP_VALUE, 8);
		sp_write_denied(vcpu, sp_gpa(4, 5) + 8, SP_VALUE, 8, sp_gpa(4, 5),
				page, sp_deny(BIT(6)), what);

		snprintf(what, sizeof(what),
			 "round %d: write to a sub-page denied by a changed map",
			 round);
		sp_start_write(vm, SP_OP_WRITE, sp_gpa(4, 6) + 8, SP_VALUE2, 8);
		sp_write_denied(vcpu, sp_gpa(4, 6) + 8, SP_VALUE2, 8, sp_gpa(4, 6),
				page, SP_ALL, what);

		snprintf(what, sizeof(what),
			 "round %d: write to a page protected again", round);
		subpage_set_one(vm, page, 0);
		sp_start_write(vm, SP_OP_WRITE, sp_gpa(4, 31) + 120, SP_VALUE, 8);
		sp_write_denied(vcpu, sp_gpa(4, 31) + 120, SP_VALUE, 8,
				sp_gpa(4, 31), page, SP_ALL, what);
	}
	kvm_vm_free(vm);
	return true;
}

static uint64_t huge_gpa(int page, int subpage)
{
	return HUGE_GPA + page * PAGE_SIZE + subpage * KVM_SUBPAGE_SIZE;
}

/* The guest's 8-byte write at @gpa in the THP-backed slot completes. */
static void huge_write_ok(struct kvm_vcpu *vcpu, uint64_t gpa, uint64_t val)
{
	sp_start_write(vcpu->vm, SP_OP_WRITE, gpa, val, 8);
	sp_expect_done(vcpu, "write to the THP-backed slot");
	TEST_ASSERT(*(uint64_t *)sp_hva(vcpu->vm, gpa) == val,
		    "The write at 0x%lx did not land", gpa);
}

/* Its write to the denied sub-page @denied exits, then completes. */
static void huge_write_denied(struct kvm_vcpu *vcpu, uint64_t denied,
			      uint64_t val)
{
	static uint8_t before[PAGE_SIZE];
	uint64_t page = denied & ~(PAGE_SIZE - 1);
	struct kvm_vm *vm = vcpu->vm;

	memcpy(before, sp_hva(vm, page), PAGE_SIZE);
	sp_start_write(vm, SP_OP_WRITE, denied + 8, val, 8);
	sp_expect_denied(vcpu, denied, "write to a denied sub-page of a huge page");
	TEST_ASSERT(!memcmp(before, sp_hva(vm, page), PAGE_SIZE),
		    "The denied write at 0x%lx changed its page", denied + 8);
	subpage_set_one(vm, page, SP_ALL);
	sp_expect_done(vcpu, "write to a denied sub-page of a huge page, relaxed");
	TEST_ASSERT(*(uint64_t *)sp_hva(vm, denied + 8) == val,
		    "The retried write at 0x%lx did not land", denied + 8);
}

/*
 * Case 7: THP-backed memory, which TDP maps with 2 MiB pages.  In the first
 * 2 MiB region, written (mapped) before, and in the second, never touched,
 * sub-page 7 of page 100 is denied: writes to that sub-page of the other
 * pages and to the other sub-pages of page 100 complete, the write to it
 * exits, before them and after them.
 */
static bool test_huge_page(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);
	const int others[] = { 0, 99, 101, 511 };
	int region, base, i;

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS_THP, HUGE_GPA,
				    HUGE_SLOT, HUGE_NPAGES, 0);
	virt_map(vm, HUGE_GPA, HUGE_GPA, HUGE_NPAGES);

	huge_write_ok(vcpu, huge_gpa(0, 0), SP_VALUE);
	pr_info("    pages_2m after the first write to the THP-backed slot: %lu\n",
		vm_get_stat(vm, "pages_2m"));

	for (region = 0; region < 2; region++) {
		base = region * 512;
		subpage_set_one(vm, huge_gpa(base + 100, 0), sp_deny(BIT(7)));
		huge_write_denied(vcpu, huge_gpa(base + 100, 7), SP_VALUE);

		subpage_set_one(vm, huge_gpa(base + 100, 0), sp_deny(BIT(7)));
		for (i = 0; i < ARRAY_SIZE(others); i++)
			huge_write_ok(vcpu, huge_gpa(base + others[i], 7) + 8,
				      value(i));
		huge_write_ok(vcpu, huge_gpa(base + 100, 7) - 8, SP_VALUE);
		huge_write_ok(vcpu, huge_gpa(base + 100, 8), SP_VALUE2);
		huge_write_denied(vcpu, huge_gpa(base + 100, 7), SP_VALUE2);
	}
	kvm_vm_free(vm);
	return true;
}

/* Whether the test page @page, and no other, is dirty; clears the log. */
static bool page_is_dirty(struct kvm_vm *vm, int page)
{
	unsigned long bitmap = 0;

	kvm_vm_get_dirty_log(vm, SP_SLOT, &bitmap);
	TEST_ASSERT(!(bitmap & ~BIT(page)),
		    "Pages other than %d dirty: 0x%lx", page, bitmap);
	return bitmap & BIT(page);
}

/*
 * Case 8: dirty logging on the slot.  A write to a permitted sub-page of a
 * protected page marks it dirty, also after KVM_GET_DIRTY_LOG has
 * write-protected it again; a denied write does not; the write retried
 * once allowed does.
 */
static bool test_dirty_logging(void)
{
	const int page = 2;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);

	vm_mem_region_set_flags(vm, SP_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	page_is_dirty(vm, page);

	subpage_set_one(vm, sp_gpa(page, 0), sp_deny(BIT(1)));
	sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(page, 0), SP_VALUE, 8,
		    "logged write to a permitted sub-page");
	TEST_ASSERT(page_is_dirty(vm, page),
		    "The write to a permitted sub-page was not logged");
	sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(page, 0), SP_VALUE2, 8,
		    "logged write after GET_DIRTY_LOG");
	TEST_ASSERT(page_is_dirty(vm, page),
		    "The write after KVM_GET_DIRTY_LOG was not logged");

	sp_start_write(vm, SP_OP_WRITE, sp_gpa(page, 1), SP_VALUE, 8);
	sp_expect_denied(vcpu, sp_gpa(page, 1), "denied write, logging on");
	sp_assert_memory(vm, "denied write, logging on");
	TEST_ASSERT(!page_is_dirty(vm, page), "A denied write was logged");

	/* Still protected (sub-page 31 denied): the retry is checked again. */
	subpage_set_one(vm, sp_gpa(page, 0), sp_deny(BIT(31)));
	sp_expect_done(vcpu, "denied write retried, logging on");
	sp_expect_value(sp_gpa(page, 1), SP_VALUE, 8);
	sp_assert_memory(vm, "denied write retried, logging on");
	TEST_ASSERT(page_is_dirty(vm, page), "The retried write was not logged");
	kvm_vm_free(vm);
	return true;
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "1. writes to permitted sub-pages", test_permitted_writes },
		{ "2. writes to denied sub-pages, retried", test_denied_writes },
		{ "3. reads of denied sub-pages", test_reads },
		{ "4. writes straddling sub-pages and pages", test_straddling_writes },
		{ "5. NO_WRITE on top of a map", test_no_write_attribute },
		{ "6. a map set on a page mapped writable", test_no_stale_mapping },
		{ "7. THP-backed memory", test_huge_page },
		{ "8. dirty logging", test_dirty_logging },
	};

	sp_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
