// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hardware mode of sub-page write protection (Intel SPP).
 *
 * 1. KVM_CHECK_EXTENSION(KVM_CAP_SUBPAGE_WRITE_PROTECT) advertises
 *    KVM_SUBPAGE_WP_HARDWARE exactly where it can work: the CPU has SPP
 *    ("ept_spp" in the vmx flags of /proc/cpuinfo) and kvm_intel runs with
 *    EPT and PML; elsewhere enabling it fails with EINVAL.
 * 2. The hardware mode really is the CPU's: 1000 writes to a permitted
 *    sub-page of a protected page cost about as many exits (the vCPU's
 *    "exits" stat) as on an unprotected page, while in software mode each
 *    of them exits to KVM's emulator.
 * 3. The SPP table pages (kvm_memattr's debugfs count) are allocated for
 *    hardware-mode VMs, with maps spread over many 1 GiB and 512 GiB
 *    regions, with and without vCPUs, and all freed with each VM; software
 *    mode allocates none.
 * 4. A SET while the page is mapped leaves no stale permission behind: a
 *    sub-page turned from permitted to denied exits (WRITE|SUBPAGE, its
 *    gpa, 128 bytes) and writes nothing, and once turned back the write
 *    lands.
 *
 * Cases that need the hardware mode say why they are not applicable where
 * it is not advertised; the software parts of 2 and 3 run everywhere.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_util.h"
#include "kvm_memattr_subpage_guest.h"

#define KVM_INTEL_EPT	"/sys/module/kvm_intel/parameters/ept"
#define KVM_INTEL_PML	"/sys/module/kvm_intel/parameters/pml"
#define SPP_PAGES_FILE	"/sys/kernel/debug/kvm_memattr/spp_table_pages"

/* Case 2: the writes of the loop, and the slack for interrupts and such. */
#define N_WRITES	1000
#define EXIT_NOISE	16
#define ROUNDS		3

/* Case 2: sub-page 5 of test page 1 is denied, the loop writes sub-page 2. */
#define LOOP_PAGE	sp_gpa(1, 0)
#define LOOP_DST	(sp_gpa(1, 2) + 16)
#define LOOP_MAP	sp_deny(BIT(5))

/* Case 3. */
#define NR_VMS		20

/* The modes a default VM can use, and why the hardware mode cannot work. */
static uint32_t modes;
static bool has_ept_spp, has_ept, has_pml, hw_expected;
static const char *hw_reason;

static bool hw_advertised(void)
{
	return modes & KVM_SUBPAGE_WP_HARDWARE;
}

/* Whether a "vmx flags" line of /proc/cpuinfo has the word ept_spp. */
static bool cpu_has_ept_spp(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char *line = NULL, *tok, *save;
	bool found = false;
	size_t len = 0;

	TEST_ASSERT(f, "Cannot open /proc/cpuinfo: %s", strerror(errno));
	while (!found && getline(&line, &len, f) > 0) {
		if (strncmp(line, "vmx flags", strlen("vmx flags")))
			continue;
		tok = strchr(line, ':');
		if (!tok)
			continue;
		for (tok = strtok_r(tok + 1, " \t\n", &save); tok && !found;
		     tok = strtok_r(NULL, " \t\n", &save))
			found = !strcmp(tok, "ept_spp");
	}
	free(line);
	fclose(f);
	return found;
}

/* A boolean module parameter reads Y; a missing one is false. */
static bool param_is_y(const char *path)
{
	FILE *f = fopen(path, "r");
	int c;

	if (!f)
		return false;
	c = fgetc(f);
	fclose(f);
	return c == 'Y';
}

static void detect_hardware_mode(void)
{
	struct kvm_vm *vm = vm_create_barebones();

	modes = subpage_modes(vm);
	kvm_vm_free(vm);
	TEST_REQUIRE(modes & KVM_SUBPAGE_WP_SOFTWARE);

	has_ept_spp = cpu_has_ept_spp();
	has_ept = param_is_y(KVM_INTEL_EPT);
	has_pml = param_is_y(KVM_INTEL_PML);
	if (!has_ept_spp)
		hw_reason = "the CPU has no SPP (no ept_spp in the vmx flags of /proc/cpuinfo)";
	else if (!has_ept)
		hw_reason = "kvm_intel runs without EPT (" KVM_INTEL_EPT " is not Y)";
	else if (!has_pml)
		hw_reason = "kvm_intel runs without PML (" KVM_INTEL_PML " is not Y)";
	hw_expected = !hw_reason;
}

/* Case 1: the hardware mode is advertised where, and only where, it works. */
static bool test_advertisement(void)
{
	struct kvm_vm *vm = vm_create_barebones();

	TEST_ASSERT(hw_advertised() == hw_expected,
		    "KVM_SUBPAGE_WP_HARDWARE %s advertised (modes 0x%x), expected %s: ept_spp %d, ept %d, pml %d",
		    hw_advertised() ? "is" : "is not", modes,
		    hw_expected ? "it" : "not", has_ept_spp, has_ept, has_pml);
	TEST_ASSERT(subpage_modes(vm) == modes,
		    "Another VM reports other modes: 0x%x, not 0x%x",
		    subpage_modes(vm), modes);

	if (hw_expected) {
		subpage_enable(vm, KVM_SUBPAGE_WP_HARDWARE);
		pr_info("    hardware mode advertised and enabled\n");
	} else {
		TEST_ASSERT(__subpage_enable(vm, KVM_SUBPAGE_WP_HARDWARE) == -1 &&
			    errno == EINVAL,
			    "Enabling the hardware mode, not advertised, should fail with EINVAL");
		pr_info("    hardware mode not advertised, enabling it fails: %s\n",
			hw_reason);
	}
	kvm_vm_free(vm);
	return true;
}

/*
 * Case 2's guest: writes @dst once, so that the page is mapped, then
 * N_WRITES times in a row, again and again.
 */
static void loop_guest_code(uint64_t dst)
{
	uint64_t i;

	for (;;) {
		asm volatile("movq %0, (%1)" : : "r"(0ul), "r"(dst) : "memory");
		GUEST_SYNC(1);
		for (i = 0; i < N_WRITES; i++)
			asm volatile("movq %0, (%1)" : : "r"(i), "r"(dst)
				     : "memory");
		GUEST_SYNC(2);
	}
}

/*
 * The fewest exits that the KVM_RUN of the N_WRITES writes took over
 * @rounds runs, in a VM in @mode (0: none, the page unprotected).
 */
static uint64_t loop_exits(uint64_t mode, int rounds)
{
	uint64_t exits, before, fewest = UINT64_MAX;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = vm_create(1);
	volatile uint64_t *hva;
	char what[64];
	int round;

	snprintf(what, sizeof(what), "%s: loop of writes",
		 !mode ? "unprotected page" :
		 mode == KVM_SUBPAGE_WP_SOFTWARE ? "software mode" : "hardware mode");
	if (mode)
		subpage_enable(vm, mode);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SP_GPA, SP_SLOT,
				    SP_NPAGES, 0);
	virt_map(vm, SP_GPA, SP_GPA, SP_NPAGES);
	vcpu = vm_vcpu_add(vm, 0, loop_guest_code);
	vcpu_args_set(vcpu, 1, LOOP_DST);
	if (mode) {
		subpage_set_one(vm, LOOP_PAGE, LOOP_MAP);
		TEST_ASSERT(subpage_get_one(vm, LOOP_PAGE) == LOOP_MAP,
			    "%s: the page is not protected", what);
	}
	hva = addr_gpa2hva(vm, LOOP_DST);

	for (round = 0; round < rounds; round++) {
		*hva = ~0ull;
		memattr_run_to_sync(vcpu, 1, what);
		TEST_ASSERT(*hva == 0, "%s: the first write did not land", what);

		before = memattr_vcpu_stat(vcpu, "exits");
		memattr_run_to_sync(vcpu, 2, what);
		exits = memattr_vcpu_stat(vcpu, "exits") - before;
		TEST_ASSERT(*hva == N_WRITES - 1,
			    "%s: the memory holds 0x%lx after the writes",
			    what, *hva);
		fewest = min(fewest, exits);
	}
	kvm_vm_free(vm);
	return fewest;
}

/*
 * Case 2: the writes to a permitted sub-page exit one by one in software
 * mode; in hardware mode no more than to an unprotected page.  Noise only
 * adds exits, so the fewest of a few runs are compared; one run is enough
 * for the lower bound of software mode.
 */
static bool test_hardware_is_hardware(void)
{
	uint64_t plain, software, hardware = 0;

	plain = loop_exits(0, ROUNDS);
	software = loop_exits(KVM_SUBPAGE_WP_SOFTWARE, 1);
	if (hw_advertised()) {
		hardware = loop_exits(KVM_SUBPAGE_WP_HARDWARE, ROUNDS);
		pr_info("    exits per %d writes: plain %lu, software %lu, hardware %lu\n",
			N_WRITES, plain, software, hardware);
	} else {
		pr_info("    exits per %d writes: plain %lu, software %lu, hardware not applicable: %s\n",
			N_WRITES, plain, software, hw_reason);
	}

	TEST_ASSERT(software >= plain + N_WRITES,
		    "Software mode: %lu exits for %d writes to a permitted sub-page, an unprotected page takes %lu: not every write exited",
		    software, N_WRITES, plain);
	TEST_ASSERT(!hw_advertised() || hardware <= plain + EXIT_NOISE,
		    "Hardware mode: %lu exits for %d writes to a permitted sub-page, an unprotected page takes %lu: the CPU does not decide the writes",
		    hardware, N_WRITES, plain);
	return true;
}

/* kvm_memattr's count of the SPP table pages of all VMs. */
static uint64_t spp_table_pages(void)
{
	FILE *f = fopen(SPP_PAGES_FILE, "r");
	unsigned long long pages;
	int r;

	TEST_ASSERT(f, "Cannot open " SPP_PAGES_FILE " (%s): is debugfs mounted?",
		    strerror(errno));
	r = fscanf(f, "%llu", &pages);
	fclose(f);
	TEST_ASSERT(r == 1, "Cannot read a number from " SPP_PAGES_FILE);
	return pages;
}

/*
 * Pages in distinct 2 MiB, 1 GiB and 512 GiB regions, up to the last page
 * that 4-level EPT describes.  None has a memslot.
 */
static const uint64_t spread_gpas[] = {
	0,
	0x1ff000,
	(1ull << 30) + 0x3000,
	(5ull << 30) + (7ull << 21) + 0x5000,
	1ull << 39,
	(3ull << 39) + (2ull << 30) + 0x2000,
	(1ull << 47) + 0x10000,
	(1ull << 48) - PAGE_SIZE,
};

/* Four pages from here, across a 2 MiB, 1 GiB and 512 GiB boundary. */
#define SPAN_GPA	((1ull << 40) - 2 * PAGE_SIZE)

/*
 * NR_VMS VMs in @mode, one at a time, set maps on the spread pages; some
 * have a vCPU (created before or after the maps), some unprotect pages
 * again.  Hardware mode: the count of SPP table pages is above @baseline
 * while a VM exists; any mode: back at @baseline once it is freed.
 */
static void spp_vm_loop(uint64_t mode, uint64_t baseline)
{
	const uint32_t span_maps[] = { 0, sp_deny(BIT(31)), sp_deny(BIT(0)), 0 };
	const char *name = mode == KVM_SUBPAGE_WP_HARDWARE ? "hardware" : "software";
	uint64_t pages;
	struct kvm_vm *vm;
	int i, j;

	for (i = 0; i < NR_VMS; i++) {
		vm = vm_create_barebones();
		subpage_enable(vm, mode);
		if (i % 3 == 1)
			__vm_vcpu_add(vm, 0);
		for (j = 0; j < ARRAY_SIZE(spread_gpas); j++)
			subpage_set_one(vm, spread_gpas[j],
					sp_deny(BIT((i + j) % KVM_SUBPAGES_PER_PAGE)));
		subpage_set(vm, SPAN_GPA, ARRAY_SIZE(span_maps), span_maps);
		TEST_ASSERT(subpage_get_one(vm, spread_gpas[ARRAY_SIZE(spread_gpas) - 1]) ==
			    sp_deny(BIT((i + ARRAY_SIZE(spread_gpas) - 1) % KVM_SUBPAGES_PER_PAGE)),
			    "%s VM %d: the map of the last page did not stick", name, i);
		if (i % 3 == 2)
			__vm_vcpu_add(vm, 0);
		if (i & 1)
			subpage_set_one(vm, spread_gpas[2], SUBPAGE_ALL_WRITABLE);

		pages = spp_table_pages();
		if (mode == KVM_SUBPAGE_WP_HARDWARE)
			TEST_ASSERT(pages > baseline,
				    "Hardware VM %d with maps in %zu regions: %lu SPP table pages, as many as before it (%lu)",
				    i, ARRAY_SIZE(spread_gpas) + 1, pages, baseline);
		else
			TEST_ASSERT(pages == baseline,
				    "Software VM %d: %lu SPP table pages, %lu before it",
				    i, pages, baseline);

		kvm_vm_free(vm);
		pages = spp_table_pages();
		TEST_ASSERT(pages == baseline,
			    "%s VM %d freed: %lu SPP table pages, %lu before it",
			    name, i, pages, baseline);
	}
}

/* Case 3: SPP table pages come with hardware-mode VMs and go with them. */
static bool test_spp_table_pages(void)
{
	uint64_t baseline = spp_table_pages();

	spp_vm_loop(KVM_SUBPAGE_WP_SOFTWARE, baseline);
	if (hw_advertised())
		spp_vm_loop(KVM_SUBPAGE_WP_HARDWARE, baseline);
	else
		pr_info("    hardware VMs not applicable: %s\n", hw_reason);
	TEST_ASSERT(spp_table_pages() == baseline,
		    "%lu SPP table pages after %d VMs, %lu before",
		    spp_table_pages(), NR_VMS, baseline);
	pr_info("    SPP table pages: %lu before and after the VMs\n", baseline);
	return true;
}

/* Every second write stores the other value, so that each one shows. */
static uint64_t value(int i)
{
	return i & 1 ? SP_VALUE2 : SP_VALUE;
}

/*
 * Case 4: on a page the guest writes through its permitted sub-page 3
 * (so mapped, with the CPU deciding), SET denies sub-page 3: the next
 * write there exits and writes nothing; SET permits it again and the
 * write lands, and so does the next one.  Then denied sub-page 9 exits and
 * the page is unprotected (mapped writable) and protected again, round
 * after round.  Last, one SET of two mapped pages denies a sub-page of
 * each.
 */
static bool test_set_while_mapped(void)
{
	const uint32_t two_maps[] = { sp_deny(BIT(31)), sp_deny(BIT(0)) };
	uint64_t page = sp_gpa(1, 0);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	char what[96];
	int round;

	if (!hw_advertised()) {
		pr_info("    not applicable: %s\n", hw_reason);
		return false;
	}
	sp_mode = KVM_SUBPAGE_WP_HARDWARE;
	vm = sp_create_vm(&vcpu);

	for (round = 0; round < 4; round++) {
		subpage_set_one(vm, page, sp_deny(BIT(9)));
		snprintf(what, sizeof(what),
			 "round %d: write to permitted sub-page 3", round);
		sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(1, 3) + 8, value(round), 8,
			    what);

		snprintf(what, sizeof(what),
			 "round %d: write to sub-page 3, denied while mapped", round);
		subpage_set_one(vm, page, sp_deny(BIT(3) | BIT(9)));
		sp_start_write(vm, SP_OP_WRITE, sp_gpa(1, 3) + 16,
			       value(round + 1), 8);
		sp_write_denied(vcpu, sp_gpa(1, 3) + 16, value(round + 1), 8,
				sp_gpa(1, 3), page, sp_deny(BIT(9)), what);

		snprintf(what, sizeof(what),
			 "round %d: write to sub-page 3, permitted again", round);
		sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(1, 3) + 24, value(round), 8,
			    what);

		snprintf(what, sizeof(what),
			 "round %d: write to denied sub-page 9", round);
		sp_start_write(vm, SP_OP_WRITE, sp_gpa(1, 9), value(round), 4);
		sp_write_denied(vcpu, sp_gpa(1, 9), value(round), 4, sp_gpa(1, 9),
				page, SUBPAGE_ALL_WRITABLE, what);

		snprintf(what, sizeof(what),
			 "round %d: write to the unprotected page", round);
		sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(1, 9) + 64, value(round + 1),
			    8, what);
	}

	sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(6, 0) - 8, SP_VALUE, 8,
		    "write to the end of page 5");
	sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(6, 0), SP_VALUE2, 8,
		    "write to the start of page 6");
	subpage_set(vm, sp_gpa(5, 0), ARRAY_SIZE(two_maps), two_maps);
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(6, 0) - 8, SP_VALUE2, 8);
	sp_write_denied(vcpu, sp_gpa(6, 0) - 8, SP_VALUE2, 8, sp_gpa(5, 31),
			sp_gpa(5, 0), SUBPAGE_ALL_WRITABLE,
			"write to the last sub-page of page 5, denied while mapped");
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(6, 0) + 8, SP_VALUE, 8);
	sp_write_denied(vcpu, sp_gpa(6, 0) + 8, SP_VALUE, 8, sp_gpa(6, 0),
			sp_gpa(6, 0), SUBPAGE_ALL_WRITABLE,
			"write to the first sub-page of page 6, denied while mapped");
	kvm_vm_free(vm);
	return true;
}

/*
 * 5. A SET of a page the SPP table cannot describe (gfn 2^36 and up, gpa
 * 2^48 and up) writes no entry of a page it can: the table's index of such
 * a gfn would wrap onto the page 2^36 gfns lower, whose denied sub-page
 * must stay denied.
 */
static bool test_set_beyond_table(void)
{
	uint64_t page = sp_gpa(1, 0), alias = page + (1ull << 48);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	if (!hw_advertised()) {
		pr_info("    not applicable: %s\n", hw_reason);
		return false;
	}
	sp_mode = KVM_SUBPAGE_WP_HARDWARE;
	vm = sp_create_vm(&vcpu);

	subpage_set_one(vm, page, sp_deny(BIT(9)));
	sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(1, 3), SP_VALUE, 8,
		    "write to permitted sub-page 3");
	subpage_set_one(vm, alias, sp_deny(BIT(8)));
	TEST_ASSERT_EQ(subpage_get_one(vm, alias), sp_deny(BIT(8)));
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(1, 9), SP_VALUE2, 8);
	sp_write_denied(vcpu, sp_gpa(1, 9), SP_VALUE2, 8, sp_gpa(1, 9), page,
			SUBPAGE_ALL_WRITABLE,
			"write to denied sub-page 9 after a SET 2^48 above");
	kvm_vm_free(vm);
	return true;
}

/*
 * 6. NO_WRITE over a page with a map, in hardware mode: the leaf a read
 * builds must not let the CPU decide writes by sub-page, or a write to a
 * permitted sub-page of the NO_WRITE page would complete.  The page-level
 * exit wins, whatever the map.
 */
static bool test_no_write_over_map(void)
{
	uint64_t page = sp_gpa(1, 0);
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	if (!hw_advertised()) {
		pr_info("    not applicable: %s\n", hw_reason);
		return false;
	}
	sp_mode = KVM_SUBPAGE_WP_HARDWARE;
	vm = sp_create_vm(&vcpu);

	subpage_set_one(vm, page, sp_deny(BIT(9)));
	memattr_set(vm, page, PAGE_SIZE, NW);
	/* A read maps the page, readable. */
	sp_start(vm, SP_OP_READ, 8, 0, sp_gpa(1, 3), 0, 0);
	sp_expect_done(vcpu, "read of the NO_WRITE page");
	sp_start_write(vm, SP_OP_WRITE, sp_gpa(1, 3), SP_VALUE, 8);
	assert_memory_fault(vcpu, sp_run(vcpu, 1), page, PAGE_SIZE,
			    KVM_MEMORY_EXIT_FLAG_WRITE,
			    "write to permitted sub-page 3 of the NO_WRITE page");
	sp_assert_memory(vm, "write to the NO_WRITE page");
	memattr_set(vm, page, PAGE_SIZE, 0);
	sp_expect_done(vcpu, "the write, once NO_WRITE is gone");
	sp_expect_value(sp_gpa(1, 3), SP_VALUE, 8);
	sp_assert_memory(vm, "the write, once NO_WRITE is gone");
	kvm_vm_free(vm);
	return true;
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "1. hardware mode advertised where it works", test_advertisement },
		{ "2. hardware mode is hardware", test_hardware_is_hardware },
		{ "3. SPP table pages", test_spp_table_pages },
		{ "4. no stale permission after SET", test_set_while_mapped },
		{ "5. SET beyond the SPP table", test_set_beyond_table },
		{ "6. NO_WRITE over a map, the page read first", test_no_write_over_map },
	};

	detect_hardware_mode();
	memattr_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
