// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm_memattr when the kernel cannot allocate: each ioctl of the project
 * that allocates runs with fail-nth fault injection failing its 1st, 2nd...
 * fault point (failslab, fail_page_alloc), until it completes without
 * reaching the n-th.  For every n it fully applies (GET reads exactly the
 * new state) or fails with ENOMEM, GET reading exactly the old state; the
 * module's debugfs counts agree; the VM keeps running (guest writes to an
 * unprotected page and a permitted sub-page land, to a denied sub-page and
 * a NO_WRITE page exit as predicted).
 *
 * 1. SET attributes: the first run of a VM, a run split in three, three
 *    runs merged, a range over 40 runs, a SET to 0 splitting a run.
 * 2. SET sub-page maps in software mode: 1 page, 512 pages, protected and
 *    unprotected pages mixed, unprotecting; KVM_CREATE_VCPU.
 * 3. KVM_ENABLE_CAP of the emulated modes (it allocates nothing).
 * 4. Hardware mode (Intel SPP), where advertised: a page in a fresh 2 MiB,
 *    1 GiB, 512 GiB region (1, 2, 3 SPP table pages), KVM_ENABLE_CAP of the
 *    mode (the root); elsewhere enabling it must fail with EINVAL.
 * 5. KVM_CREATE_VM, and a VM created normally after each.
 * All counts are 0 at the end.  -t SECONDS bounds the run: a scenario
 * that cannot complete in it fails.  kmemleak and the kernel log are the
 * suite's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_util.h"
#include "kvm_memattr_subpage_guest.h"
#include "kvm_memattr_counters.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAIL_PAGE_ALLOC	"/sys/kernel/debug/fail_page_alloc"

#define DEFAULT_SECONDS	60
/* A scenario's loop over n must end by itself before this. */
#define MAX_N		2000
/* The fresh-region scenarios take one region per n. */
#define MAX_N_REGIONS	500
/* Attributes: pages from SP_GPA, the first SP_NPAGES with memory. */
#define ATTR_PAGES	2048
/* Sub-page maps: the pages one GET reads. */
#define MAP_PAGES	KVM_SUBPAGE_MAX_PAGES
#define HW		KVM_SUBPAGE_WP_HARDWARE
#define SW		KVM_SUBPAGE_WP_SOFTWARE

/* The debugfs settings with which fail-nth can fail every allocation. */
static const struct {
	const char *path, *value;
} knobs[] = {
	{ FAILSLAB "/ignore-gfp-wait", "N" },
	{ FAILSLAB "/cache-filter", "N" },
	{ FAILSLAB "/verbose", "0" },
	{ FAIL_PAGE_ALLOC "/ignore-gfp-wait", "N" },
	{ FAIL_PAGE_ALLOC "/ignore-gfp-highmem", "N" },
	{ FAIL_PAGE_ALLOC "/min-order", "0" },
	{ FAIL_PAGE_ALLOC "/verbose", "0" },
};
static char saved[ARRAY_SIZE(knobs)][32];
static int fail_nth_fd, time_bound = DEFAULT_SECONDS;
static struct timespec start;

/* Counts of all scenarios; `injected`: the last call reached its n. */
static struct {
	unsigned int calls, faults, enomem, survived;
} total;
static unsigned int scenarios;
static bool injected;

/* The VM of the scenario, its vCPU, and the state of its test pages. */
static struct kvm_vm *vm;
static struct kvm_vcpu *vcpu;
static uint8_t tp_attr[SP_NPAGES];
static uint32_t tp_map[SP_NPAGES];
static char what[160];

/* Reads the debugfs file @path into @buf (@value NULL), or writes @value. */
static int knob(const char *path, const char *value, char *buf)
{
	int fd = open(path, value ? O_WRONLY : O_RDONLY);
	ssize_t len;

	if (fd < 0)
		return -1;
	len = value ? write(fd, value, strlen(value)) : read(fd, buf, 31);
	close(fd);
	if (!value && len > 0) {
		buf[len] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
	}
	return len > 0 ? 0 : -1;
}

/* At exit, also after a failed assertion: the settings as they were. */
static void restore_knobs(void)
{
	int i;

	if (pwrite(fail_nth_fd, "0", 1, 0) != 1)
		fprintf(stderr, "Could not reset " FAIL_NTH "\n");
	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		if (knob(knobs[i].path, saved[i], NULL))
			fprintf(stderr, "Could not restore %s to %s\n",
				knobs[i].path, saved[i]);
}

static void setup_fault_injection(void)
{
	char prob[2][32];
	int i;

	TEST_REQUIRE(!access(FAIL_NTH, R_OK | W_OK));
	TEST_REQUIRE(!access(FAILSLAB, F_OK) && !access(FAIL_PAGE_ALLOC, F_OK));
	/* Random faults would mix with the test's. */
	TEST_ASSERT(!knob(FAILSLAB "/probability", NULL, prob[0]) &&
		    !knob(FAIL_PAGE_ALLOC "/probability", NULL, prob[1]) &&
		    !strcmp(prob[0], "0") && !strcmp(prob[1], "0"),
		    "The probability of failslab or fail_page_alloc is not 0");
	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		TEST_ASSERT(!knob(knobs[i].path, NULL, saved[i]),
			    "Cannot read %s: %s", knobs[i].path, strerror(errno));
	fail_nth_fd = open(FAIL_NTH, O_RDWR);
	TEST_ASSERT(fail_nth_fd >= 0, "Cannot open " FAIL_NTH ": %s", strerror(errno));
	atexit(restore_knobs);
	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		TEST_ASSERT(!knob(knobs[i].path, knobs[i].value, NULL),
			    "Cannot write %s to %s: %s", knobs[i].value,
			    knobs[i].path, strerror(errno));
}

/*
 * Runs ioctl(@fd, @cmd, @arg) with its @n-th fault point failing; sets
 * `injected` if it reached it.  Returns what the ioctl returned, -1 only
 * with ENOMEM after an injected fault (asserted).
 */
static int inject(unsigned int n, int fd, unsigned long cmd, unsigned long arg)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n), armed, r, err;

	/* Nothing but the call between arming fail-nth and reading it back. */
	armed = pwrite(fail_nth_fd, buf, len, 0);
	r = ioctl(fd, cmd, arg);
	err = errno;
	memset(buf, 0, sizeof(buf));
	TEST_ASSERT(pread(fail_nth_fd, buf, sizeof(buf) - 1, 0) > 0 && armed == len,
		    "Cannot arm or read " FAIL_NTH ": %s", strerror(errno));
	/* 0: the n-th fault point failed; else it was not reached. */
	injected = !strtoul(buf, NULL, 10);
	TEST_ASSERT(injected || pwrite(fail_nth_fd, "0", 1, 0) == 1,
		    "Cannot reset " FAIL_NTH ": %s", strerror(errno));

	total.calls++;
	total.faults += injected;
	total.survived += injected && r >= 0;
	total.enomem += r < 0;
	TEST_ASSERT(r >= 0 || injected, "%s: the call failed with errno %d (%s), no fault injected",
		    what, err, strerror(err));
	TEST_ASSERT(r >= 0 || err == ENOMEM, "%s: a fault was injected, the call failed with errno %d (%s), not ENOMEM",
		    what, err, strerror(err));
	return r;
}

/*
 * A scenario: @step(n) for n = 1, 2, ... puts the old state in place, runs
 * the call with inject() and checks what it left, until the call reaches
 * no n-th fault point.  @allocates: some fault must have been injected.
 */
static void run_scenario(const char *name, unsigned int max_n, bool allocates,
			 void (*step)(unsigned int n))
{
	typeof(total) before = total;
	struct timespec now;
	unsigned int n;

	for (n = 1, injected = true; injected; n++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		TEST_ASSERT(now.tv_sec - start.tv_sec < time_bound,
			    "The time bound of %d s ran out in \"%s\" at n = %u, after %u complete scenarios: give more with -t",
			    time_bound, name, n, scenarios);
		TEST_ASSERT(n < max_n, "%s: the call still reaches fault point %u: the loop does not end",
			    name, n);
		snprintf(what, sizeof(what), "%s, n = %u", name, n);
		step(n);
	}
	pr_info("%-60s %4u calls, %4u faults, %4u ENOMEM, %4u done despite a fault\n",
		name, total.calls - before.calls, total.faults - before.faults,
		total.enomem - before.enomem, total.survived - before.survived);
	TEST_ASSERT(!allocates || total.faults > before.faults,
		    "%s: no fault was injected", name);
	scenarios++;
}

/* The page @page pages from SP_GPA: test memory, or beyond it none. */
static uint64_t page_gpa(uint32_t page)
{
	return SP_GPA + (uint64_t)page * PAGE_SIZE;
}

static void tp_reset(void)
{
	memset(tp_attr, 0, sizeof(tp_attr));
	memset(tp_map, 0xff, sizeof(tp_map));
}

/*
 * The VM keeps running, with the test pages as tp_attr[] and tp_map[] say:
 * the guest writes the first unprotected page and the first permitted
 * sub-page, which land, then the first denied sub-page and the first
 * NO_WRITE page, which exit as predicted and land once relaxed; then the
 * state is put back.
 */
static void probe(void)
{
	int p, s, unprot = -1, permitted = -1, denied = -1, nowrite = -1;
	static unsigned int probes;
	uint64_t val = probes++ & 1 ? SP_VALUE : SP_VALUE2, page, dst;

	for (p = SP_NPAGES - 1; p >= 0; p--) {
		if (tp_attr[p] & NW)
			nowrite = p;
		else if (tp_map[p] == SP_ALL)
			unprot = p;
		else
			denied = p;
		if (!(tp_attr[p] & NW) && tp_map[p] && tp_map[p] != SP_ALL)
			permitted = p;
	}
	TEST_ASSERT(unprot >= 0 || permitted >= 0, "%s: no page to write", what);

	if (unprot >= 0)
		sp_write_ok(vcpu, SP_OP_WRITE, page_gpa(unprot) + 16, val, 8, what);
	if (permitted >= 0) {
		s = __builtin_ctz(tp_map[permitted]);
		sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(permitted, s) + 8, val, 8, what);
	}
	if (denied >= 0) {
		s = __builtin_ctz(~tp_map[denied]);
		dst = sp_gpa(denied, s) + 8;
		sp_start_write(vm, SP_OP_WRITE, dst, val, 8);
		sp_write_denied(vcpu, dst, val, 8, sp_gpa(denied, s),
				page_gpa(denied), SP_ALL, what);
		subpage_set_one(vm, page_gpa(denied), tp_map[denied]);
	}
	if (nowrite >= 0) {
		page = page_gpa(nowrite);
		dst = page + 24;
		sp_start_write(vm, SP_OP_WRITE, dst, val, 8);
		assert_memory_fault(vcpu, sp_run(vcpu, 1), page, PAGE_SIZE,
				    KVM_MEMORY_EXIT_FLAG_WRITE, what);
		sp_assert_memory(vm, what);
		memattr_set(vm, page, PAGE_SIZE, tp_attr[nowrite] & ~NW);
		sp_expect_done(vcpu, what);
		sp_expect_value(dst, val, 8);
		sp_assert_memory(vm, what);
		memattr_set(vm, page, PAGE_SIZE, tp_attr[nowrite]);
	}
}

/* 1. Attributes: a SET, and the runs before it, @repeat times @period apart. */
static const struct attr_case {
	const char *name;
	struct {
		uint32_t first, npages;
		uint8_t attributes;
	} set, old[3];
	uint32_t repeat, period;
} attr_cases[] = {
	{ "SET attributes: the first run of a VM", { 2, 3, NW }, {}, 1, 0 },
	{ "SET attributes: a run split in three", { 300, 100, NW | NX },
	  { { 1, 1023, NW } }, 1, 0 },
	{ "SET attributes: three runs merged", { 150, 1450, NW },
	  { { 1, 199, NW }, { 200, 500, NX }, { 700, 800, NW } }, 1, 0 },
	{ "SET attributes: a range over 40 runs", { 5, 2000, NW | NX },
	  { { 10, 20, NW }, { 35, 20, NX } }, 20, 50 },
	{ "SET attributes to 0: a run split in two", { 300, 100, 0 },
	  { { 1, 1023, NW } }, 1, 0 },
};
static const struct attr_case *attr_case;

/*
 * The runs of @attrs (pages with the same attributes, 0 too): counts those
 * with attributes, and SETs them (@set), or asserts that GET reads each one
 * back whole: exactly its attributes over exactly its pages.
 */
static uint64_t attr_runs(const uint8_t *attrs, bool set)
{
	struct kvm_memory_attributes a;
	uint64_t runs = 0, size;
	uint32_t p, q;

	for (p = 0; p < ATTR_PAGES; p = q) {
		for (q = p + 1; q < ATTR_PAGES && attrs[q] == attrs[p]; q++)
			;
		runs += !!attrs[p];
		size = (q - p) * PAGE_SIZE;
		a = (struct kvm_memory_attributes) { .address = page_gpa(p), .size = size };
		if (set) {
			if (attrs[p])
				memattr_set(vm, a.address, size, attrs[p]);
			continue;
		}
		TEST_ASSERT(!__vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, &a) &&
			    a.attributes == attrs[p] && a.size == size,
			    "%s: GET of pages [%u, %u) reads 0x%llx over 0x%llx bytes, expected 0x%x over all (errno %d)",
			    what, p, q, a.attributes, a.size, attrs[p], errno);
	}
	return runs;
}

static void attr_step(unsigned int n)
{
	static uint8_t old[ATTR_PAGES], new[ATTR_PAGES];
	static struct kvm_memory_attributes call;
	const struct attr_case *c = attr_case;
	const uint8_t *expected;
	uint64_t runs;
	uint32_t k, i;

	memset(old, 0, sizeof(old));
	for (k = 0; k < c->repeat; k++)
		for (i = 0; i < ARRAY_SIZE(c->old) && c->old[i].npages; i++)
			memset(old + c->old[i].first + k * c->period,
			       c->old[i].attributes, c->old[i].npages);
	memcpy(new, old, sizeof(new));
	memset(new + c->set.first, c->set.attributes, c->set.npages);
	/* From no run at all, so that the old runs allocate again. */
	memattr_set(vm, page_gpa(0), ATTR_PAGES * PAGE_SIZE, 0);
	attr_runs(old, true);

	call = (struct kvm_memory_attributes) {
		.address = page_gpa(c->set.first),
		.size = c->set.npages * PAGE_SIZE,
		.attributes = c->set.attributes,
	};
	expected = inject(n, vm->fd, KVM_SET_MEMORY_ATTRIBUTES,
			  (unsigned long)&call) ? old : new;

	runs = attr_runs(expected, false);
	memattr_assert_counts((struct memattr_counts) { .vms = 1, .attribute_runs = runs }, what);
	tp_reset();
	memcpy(tp_attr, expected, sizeof(tp_attr));
	probe();
}

/* 2. Sub-page maps, in the software-mode VM. */
static const char * const map_case_names[] = {
	"SET sub-page maps, software: 1 page",
	"SET sub-page maps, software: 512 pages",
	"SET sub-page maps, software: protected and unprotected pages",
	"SET sub-page maps, software: 16 pages unprotected",
};
static int map_case;
static struct subpage_access map_call;

static int map_inject(unsigned int n, uint64_t gpa, uint32_t npages)
{
	memset(&map_call.h, 0, sizeof(map_call.h));
	map_call.h.address = gpa;
	map_call.h.npages = npages;
	return inject(n, vm->fd, KVM_SET_SUBPAGE_WRITE_ACCESS,
		      (unsigned long)&map_call.h);
}

static void map_step(unsigned int n)
{
	static uint32_t old[MAP_PAGES], new[MAP_PAGES];
	uint32_t first = 0, npages = 16, i, pages = 0;
	const uint32_t *expected;

	memset(old, 0xff, sizeof(old));
	memset(map_call.map, 0xff, sizeof(map_call.map));
	switch (map_case) {
	case 0:
		first = 3;
		npages = 1;
		map_call.map[0] = sp_deny(BIT(5) | BIT(6));
		break;
	case 1:
		npages = MAP_PAGES;
		for (i = 0; i < npages; i++)
			map_call.map[i] = sp_deny(BIT(i % KVM_SUBPAGES_PER_PAGE));
		break;
	case 2:
		for (i = 0; i < 96; i += 3)
			old[i] = sp_deny(BIT(1));
		npages = 256;
		subpage_make_maps(map_call.map, npages, 7);
		break;
	default:
		for (i = 0; i < npages; i++)
			old[i] = sp_deny(BIT(i));
	}
	memcpy(new, old, sizeof(new));
	memcpy(new + first, map_call.map, npages * sizeof(uint32_t));
	subpage_set(vm, SP_GPA, MAP_PAGES, old);

	expected = map_inject(n, page_gpa(first), npages) ? old : new;

	subpage_assert_maps(vm, SP_GPA, MAP_PAGES, expected, what);
	for (i = 0; i < MAP_PAGES; i++)
		pages += expected[i] != SP_ALL;
	memattr_assert_counts((struct memattr_counts) {
		.vms = 1, .subpage_pages = pages,
	}, what);
	tp_reset();
	memcpy(tp_map, expected, sizeof(tp_map));
	probe();
}

/* 2. vCPUs, in the software-mode VM: ids from 1, one per n. */
static void vcpu_step(unsigned int n)
{
	static unsigned long id = 1;
	int r = inject(n, vm->fd, KVM_CREATE_VCPU, id), fd;

	if (r >= 0)
		close(r);
	/* Created: the id is taken.  Failed: it is free. */
	fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	TEST_ASSERT(r >= 0 ? fd == -1 && errno == EEXIST : fd >= 0,
		    "%s: creating vCPU %lu again returned %d (errno %d)",
		    what, id, fd, errno);
	if (fd >= 0)
		close(fd);
	id++;
	probe();
}

/* 3. KVM_ENABLE_CAP of the emulated modes, in a fresh VM for each n. */
static void emulated_step(unsigned int n)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MEMORY_ATTRIBUTES_EMULATED };

	sp_mode = SW;
	vm = sp_create_vm(&vcpu);
	if (inject(n, vm->fd, KVM_ENABLE_CAP, (unsigned long)&cap)) {
		TEST_ASSERT(__memattr_set(vm, sp_gpa(4, 0), PAGE_SIZE, NR | NX) == -1 &&
			    errno == EINVAL, "%s: ENOMEM, but write-only is accepted", what);
		vm_enable_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES_EMULATED, 0);
	}
	TEST_ASSERT(memattr_supported(vm) & NR, "%s: NO_READ not advertised", what);
	/* A write-only page: KVM's emulator completes the guest's writes. */
	memattr_set(vm, sp_gpa(4, 0), PAGE_SIZE, NR | NX);
	sp_write_ok(vcpu, SP_OP_WRITE, sp_gpa(4, 1) + 8, SP_VALUE, 8, what);
	tp_reset();
	tp_attr[4] = NR | NX;
	probe();
	kvm_vm_free(vm);
}

/* 4. A page of a fresh region, and the SPP table pages that it adds. */
static const struct hw_case {
	const char *name;
	uint64_t base, step, tables;
} hw_cases[] = {
	{ "SET sub-page map, hardware: page of a fresh 2 MiB region", SP_GPA, 1ull << 21, 1 },
	{ "SET sub-page map, hardware: page of a fresh 1 GiB region", 8ull << 30, 1ull << 30, 2 },
	{ "SET sub-page map, hardware: page of a fresh 512 GiB region", 0, 1ull << 39, 3 },
};
static const struct hw_case *hw_case;

static void hw_step(unsigned int n)
{
	uint64_t gpa = hw_case->base + n * hw_case->step + 5 * PAGE_SIZE;
	uint64_t before = memattr_count("spp_table_pages"), added;
	uint32_t map;
	int r;

	map_call.map[0] = sp_deny(BIT(n % KVM_SUBPAGES_PER_PAGE));
	r = map_inject(n, gpa, 1);

	added = memattr_count("spp_table_pages") - before;
	map = subpage_get_one(vm, gpa);
	/* A failed SET may leave the table pages it added, empty. */
	TEST_ASSERT(map == (r ? SP_ALL : map_call.map[0]) &&
		    (r ? added <= hw_case->tables : added == hw_case->tables) &&
		    memattr_count("subpage_pages") == (r ? 1 : 2),
		    "%s: after %s, the page at 0x%lx reads 0x%08x, %lu SPP table pages were added (%lu for a success), %lu protected pages counted",
		    what, r ? "ENOMEM" : "success", gpa, map, added,
		    hw_case->tables, memattr_count("subpage_pages"));
	probe();
	subpage_set_one(vm, gpa, SP_ALL);
}

/* 4. KVM_ENABLE_CAP of the hardware mode, in a fresh VM for each n. */
static void hw_enable_step(unsigned int n)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SUBPAGE_WRITE_PROTECT, .args = { HW },
	};
	uint32_t map = sp_deny(BIT(3));
	uint64_t before;

	vm = vm_create(1);
	before = memattr_count("spp_table_pages");
	if (inject(n, vm->fd, KVM_ENABLE_CAP, (unsigned long)&cap)) {
		TEST_ASSERT(memattr_count("spp_table_pages") == before,
			    "%s: ENOMEM, but the SPP root was left", what);
		TEST_ASSERT(__subpage_set(vm, SP_GPA, 1, &map) == -1 && errno == EINVAL,
			    "%s: ENOMEM, but a SET does not fail with EINVAL (no mode)", what);
		subpage_enable(vm, HW);
	} else {
		TEST_ASSERT(__subpage_enable(vm, HW) == -1 && errno == EINVAL,
			    "%s: enabling it again should fail with EINVAL", what);
	}
	TEST_ASSERT(memattr_count("spp_table_pages") == before + 1,
		    "%s: %lu SPP table pages, expected the root only", what,
		    memattr_count("spp_table_pages") - before);
	/* The rest of sp_create_vm(), the mode chosen. */
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SP_GPA, SP_SLOT,
				    SP_NPAGES, 0);
	virt_map(vm, SP_GPA, SP_GPA, SP_NPAGES);
	vcpu = vm_vcpu_add(vm, 0, sp_guest_code);
	sp_fill(vm);
	TEST_ASSERT(!sp_run(vcpu, 0), "%s: the guest did not start", what);
	subpage_set_one(vm, sp_gpa(1, 0), map);
	tp_reset();
	tp_map[1] = map;
	probe();
	kvm_vm_free(vm);
	TEST_ASSERT(memattr_count("spp_table_pages") == before,
		    "%s: the VM is gone, not its SPP table", what);
}

/* 5. KVM_CREATE_VM: a VM bound to the module, or nothing of it left. */
static int kvm_fd;

static void create_vm_step(unsigned int n)
{
	int r = inject(n, kvm_fd, KVM_CREATE_VM, 0), modes;
	struct kvm_vm *other;

	if (r >= 0) {
		modes = ioctl(r, KVM_CHECK_EXTENSION, KVM_CAP_SUBPAGE_WRITE_PROTECT);
		TEST_ASSERT(modes > 0 && (modes & SW),
			    "%s: the VM is not bound to kvm_memattr (modes %d)", what, modes);
		memattr_assert_counts((struct memattr_counts) { .vms = 1 }, what);
		close(r);
	}
	memattr_assert_no_vm(what);
	other = vm_create_barebones();
	TEST_ASSERT(subpage_modes(other) & SW,
		    "%s: the next VM is not bound to kvm_memattr", what);
	kvm_vm_free(other);
}

int main(int argc, char *argv[])
{
	uint32_t modes;
	int i, opt;

	while ((opt = getopt(argc, argv, "t:h")) != -1) {
		switch (opt) {
		case 't':
			time_bound = atoi_positive("Seconds", optarg);
			break;
		default:
			printf("usage: %s [-t SECONDS (a bound for the whole test, default %d)]\n",
			       argv[0], DEFAULT_SECONDS);
			exit(opt == 'h' ? 0 : 1);
		}
	}

	modes = subpage_modes_of_new_vm();
	TEST_REQUIRE(modes & SW);
	memattr_assert_no_vm("Before the test (is another VM bound to kvm_memattr alive?)");
	setup_fault_injection();
	clock_gettime(CLOCK_MONOTONIC, &start);

	/* 1 and 2: one VM in software mode, whose vCPU writes its pages. */
	sp_mode = SW;
	vm = sp_create_vm(&vcpu);
	for (i = 0; i < ARRAY_SIZE(attr_cases); i++) {
		attr_case = &attr_cases[i];
		run_scenario(attr_case->name, MAX_N, true, attr_step);
	}
	memattr_set(vm, page_gpa(0), ATTR_PAGES * PAGE_SIZE, 0);
	for (map_case = 0; map_case < ARRAY_SIZE(map_case_names); map_case++)
		run_scenario(map_case_names[map_case], MAX_N, true, map_step);
	memset(map_call.map, 0xff, sizeof(map_call.map));
	subpage_set(vm, SP_GPA, MAP_PAGES, map_call.map);
	tp_reset();
	tp_map[1] = sp_deny(BIT(2));
	subpage_set_one(vm, sp_gpa(1, 0), tp_map[1]);
	run_scenario("KVM_CREATE_VCPU", MAX_N, true, vcpu_step);
	kvm_vm_free(vm);
	memattr_assert_no_vm("The software-mode VM destroyed");

	run_scenario("KVM_ENABLE_CAP(KVM_CAP_MEMORY_ATTRIBUTES_EMULATED)", MAX_N,
		     false, emulated_step);

	if (modes & HW) {
		sp_mode = HW;
		vm = sp_create_vm(&vcpu);
		/* A page protected all along, for probe(). */
		tp_reset();
		tp_map[2] = sp_deny(BIT(4));
		subpage_set_one(vm, sp_gpa(2, 0), tp_map[2]);
		for (i = 0; i < ARRAY_SIZE(hw_cases); i++) {
			hw_case = &hw_cases[i];
			run_scenario(hw_case->name, MAX_N_REGIONS, true, hw_step);
		}
		kvm_vm_free(vm);
		run_scenario("KVM_ENABLE_CAP(KVM_CAP_SUBPAGE_WRITE_PROTECT, hardware)",
			     MAX_N, true, hw_enable_step);
	} else {
		vm = vm_create_barebones();
		TEST_ASSERT(__subpage_enable(vm, HW) == -1 && errno == EINVAL,
			    "Enabling the hardware mode, not advertised (modes 0x%x), should fail with EINVAL",
			    modes);
		kvm_vm_free(vm);
		pr_info("Hardware sub-page mode: not applicable, not advertised (it needs Intel SPP, never on AMD); enabling it fails with EINVAL\n");
	}

	kvm_fd = open_kvm_dev_path_or_exit();
	run_scenario("KVM_CREATE_VM", MAX_N, true, create_vm_step);
	close(kvm_fd);

	memattr_assert_no_vm("After the test, its VMs destroyed");
	TEST_ASSERT(total.faults, "No fault was injected at all");
	printf("figure: fault-inject: %u calls, %u faults injected, %u calls failed cleanly with ENOMEM, %u calls completed despite a fault, %u scenarios\n",
	       total.calls, total.faults, total.enomem, total.survived, scenarios);
	return 0;
}
