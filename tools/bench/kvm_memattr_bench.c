// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmarks of kvm-memattr against upstream KVM, run in one boot:
 *
 *   kvm_memattr_bench upstream RESULTS [CLOCK]  without the module: upstream's
 *                                               costs, saved to RESULTS
 *   kvm_memattr_bench module RESULTS [CLOCK]    with the module; prints the
 *                                               tables against RESULTS
 *   kvm_memattr_bench faults RESULTS [CLOCK]    without the module again: the
 *                                               upstream fault cost once more,
 *                                               to show the drift
 *
 * CLOCK says what CLOCK_MONOTONIC counts, and so the unit of every table:
 * "wall" (the default), nanoseconds; "instructions", under QEMU's
 * -icount shift=0, where the guest clock advances one nanosecond per
 * emulated instruction.  Costs are medians of REPS samples
 * (LARGE_SET_REPS for SETs from 2^LARGE_ORDER pages), each against upstream's
 * cost measured in the same boot.
 *
 * SET: the cost of one KVM_SET_MEMORY_ATTRIBUTES over 2^k pages (setting
 * them back to 0 is not counted).  Upstream sets PRIVATE on a
 * KVM_X86_SW_PROTECTED_VM (its only attribute), up to 2^MAX_UPSTREAM_ORDER
 * pages: its cost grows with the pages.  The module sets NO_WRITE on a
 * default VM, up to 2^MAX_ORDER pages.
 * Memory: the kernel's Slab growth for a map of MEMORY_RUNS one-page runs.
 * Faults: a vCPU touching every page of a memslot once, with 0 to 10^4
 * one-page runs set elsewhere in the VM; upstream's default VM has no
 * attributes, so its one cost is the reference of every row.  One more row
 * puts the 10^4 runs in the faults' own 1 GiB region, where the module must
 * look them up.
 * Emulated access modes: a vCPU writing one page in a loop, mapped
 * read/write, and write-only (KVM_CAP_MEMORY_ATTRIBUTES_EMULATED), where
 * every write is a fault completed by KVM's emulator; upstream has no
 * write-only pages, so its mapped write is the reference of both rows.
 * Sub-page write protection (the module only): SUBPAGE_WRITES 8-byte
 * writes of a vCPU into one 128-byte sub-page, its page mapped, and the
 * vCPU's "exits" stat per 1,000: on a plain page, the reference, and on a
 * permitted sub-page of a protected page in software mode (each write
 * exits to the emulator) and in hardware mode (Intel SPP) if advertised,
 * else its rows say so.  One KVM_SET_SUBPAGE_WRITE_ACCESS of 1 to 512
 * pages, undone (not counted): on a "fresh" range, in its own 512 GiB
 * region (hardware mode: the SET adds SPP tables), and on one range again.
 *
 * Lines that start with "#plot" are for tools/bench/plot.py, which draws
 * the SET and fault curves:
 *   #plot unit instructions|ns
 *   #plot set PAGES UPSTREAM|- MODULE
 *   #plot fault RUNS UPSTREAM MODULE
 *   #plot drift UPSTREAM UPSTREAM_AGAIN
 * and keeps, undrawn, the sub-page costs (no hardware mode: "-", no sets):
 *   #plot subpage_write plain|software|hardware COST|- EXITS_PER_1000|-
 *   #plot subpage_set software|hardware fresh|repeat PAGES COST
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_util.h"
#include "test_util.h"

#define MAX_ORDER		24
#define MAX_UPSTREAM_ORDER	20
#define REPS			11
#define LARGE_ORDER		17	/* SETs from 2^17 pages: fewer samples */
#define LARGE_SET_REPS		3
#define FAULT_GPA		0x100000000ull
#define FAULT_SLOT		10
#define FAULT_NPAGES		8192
#define RUNS_GPA		0x1000000000ull
/* In the faults' 1 GiB region, outside their memslot. */
#define NEAR_RUNS_GPA		(FAULT_GPA + 0x4000000ull)
#define MEMORY_RUNS		100000
#define NR_WRITES		10000
#define NO_VALUE		-1.0
#define SUBPAGE_WRITES		1000
/* The map of a protected page: its last sub-page denied. */
#define SUBPAGE_MAP		(~(1u << (KVM_SUBPAGES_PER_PAGE - 1)))
/* The writes cycle over the 8-byte words of sub-page 0 of FAULT_GPA. */
#define SUBPAGE_WORDS		(KVM_SUBPAGE_SIZE / 8)
#define SUBPAGE_WORD(i)		(FAULT_GPA + 8 * ((i) % SUBPAGE_WORDS))
/* A range no SET of the VM touched: its own 512 GiB region, n >= 1. */
#define FRESH_GPA(n)		((uint64_t)(n) << 39)
#define REPEAT_GPA		0

/* Runs set elsewhere in the VM for each point of the fault curve. */
static const int nr_runs[] = { 0, 10, 100, 1000, 10000 };
#define NR_FAULT_POINTS		ARRAY_SIZE(nr_runs)

enum { WRITE_MAPPED, WRITE_EMULATED, NR_WRITE_MODES };

struct measure {
	double median;
	double spread;		/* max - min */
};

/* Sub-page write protection: a plain page, then the modes. */
enum { SUB_PLAIN, SUB_SOFTWARE, SUB_HARDWARE, NR_SUB_MODES };
static const char * const sub_names[] = { "plain", "software", "hardware" };
static const uint64_t sub_caps[] = { 0, KVM_SUBPAGE_WP_SOFTWARE,
				      KVM_SUBPAGE_WP_HARDWARE };

/* Pages of the sub-page SETs, and their ranges: fresh, or set before. */
static const int sub_set_pages[] = { 1, 8, 64, 512 };
#define NR_SUB_SET_SIZES	ARRAY_SIZE(sub_set_pages)
enum { RANGE_FRESH, RANGE_REPEAT, NR_RANGES };
static const char * const range_names[] = { "fresh", "repeat" };

/* What sub-page protection costs, with the module. */
struct subpage_results {
	bool hardware;		/* the hardware mode is advertised */
	struct measure write[NR_SUB_MODES];	/* per write */
	struct measure exits[NR_SUB_MODES];	/* per 1,000 writes */
	/* Per call; no SET for SUB_PLAIN. */
	double set[NR_SUB_MODES][NR_RANGES][NR_SUB_SET_SIZES];
};

/* What one kernel costs; NO_VALUE where it was not measured. */
struct results {
	double set[MAX_ORDER + 1];
	long memory_kb;
	struct measure fault[NR_FAULT_POINTS];
	struct measure fault_near;	/* 10^4 runs in the faults' region */
	struct measure write[NR_WRITE_MODES];
};

/* The unit of the clock: "ns", or "instructions" under QEMU -icount. */
static const char *unit;

/* CLOCK_MONOTONIC in ns: instructions under QEMU -icount shift=0. */
static double clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct measure median(double *samples, int n)
{
	qsort(samples, n, sizeof(*samples), compare_doubles);
	return (struct measure){ samples[n / 2], samples[n - 1] - samples[0] };
}

static int set_reps(int order)
{
	return order < LARGE_ORDER ? REPS : LARGE_SET_REPS;
}

/* Median cost of one SET of @attributes over 2^@order pages. */
static double time_set(struct kvm_vm *vm, int order, uint64_t attributes)
{
	uint64_t size = PAGE_SIZE << order;
	double samples[REPS], start;
	int i;

	for (i = 0; i < set_reps(order); i++) {
		start = clock_now();
		memattr_set(vm, 0, size, attributes);
		samples[i] = clock_now() - start;
		memattr_set(vm, 0, size, 0);
	}
	return median(samples, set_reps(order)).median;
}

static long slab_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	TEST_ASSERT(f, "/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* @nr runs: every other page of 2 * @nr pages from @gpa. */
static void make_runs(struct kvm_vm *vm, uint64_t gpa, int nr, uint64_t attributes)
{
	int i;

	for (i = 0; i < nr; i++)
		memattr_set(vm, gpa + 2 * i * PAGE_SIZE, PAGE_SIZE, attributes);
}

/* SET of @attributes on a VM of @type up to 2^@max_order pages, and memory. */
static void measure_store(struct results *r, unsigned long type,
			  uint64_t attributes, int max_order)
{
	struct kvm_vm *vm = vm_create_barebones_type(type);
	long before;
	int order;

	for (order = 0; order <= max_order; order++)
		r->set[order] = time_set(vm, order, attributes);
	before = slab_kb();
	make_runs(vm, RUNS_GPA, MEMORY_RUNS, attributes);
	r->memory_kb = slab_kb() - before;
	kvm_vm_free(vm);
}

static void guest_touch(void)
{
	uint64_t gpa;

	for (gpa = FAULT_GPA; gpa < FAULT_GPA + FAULT_NPAGES * PAGE_SIZE;
	     gpa += PAGE_SIZE)
		*(volatile uint64_t *)gpa = gpa;
	GUEST_DONE();
}

/*
 * A VM whose vCPU runs @guest_code over @npages at FAULT_GPA, faulted in;
 * in @subpage_mode (KVM_SUBPAGE_WP_*, 0: none), chosen before the vCPU.
 */
static struct kvm_vm *create_bench_vm(void *guest_code, uint64_t npages,
				      uint64_t subpage_mode,
				      struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = vm_create(1);

	if (subpage_mode)
		subpage_enable(vm, subpage_mode);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, FAULT_GPA,
				    FAULT_SLOT, npages, 0);
	virt_map(vm, FAULT_GPA, FAULT_GPA, npages);
	*vcpu = vm_vcpu_add(vm, 0, guest_code);
	/* Fault the host pages in first: measure KVM's side only. */
	memset(addr_gpa2hva(vm, FAULT_GPA), 1, npages * PAGE_SIZE);
	return vm;
}

/* Run the vCPU to GUEST_DONE; the cost per operation of @nr_ops. */
static double time_run(struct kvm_vcpu *vcpu, int nr_ops)
{
	double start = clock_now(), cost;
	struct ucall uc;

	vcpu_run(vcpu);
	cost = (clock_now() - start) / nr_ops;
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_DONE);
	return cost;
}

/* Cost per fault of a vCPU touching FAULT_NPAGES new pages, @runs at @gpa. */
static struct measure time_faults(uint64_t gpa, int runs)
{
	double samples[REPS];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int i;

	for (i = 0; i < REPS; i++) {
		vm = create_bench_vm(guest_touch, FAULT_NPAGES, 0, &vcpu);
		make_runs(vm, gpa, runs, KVM_MEMORY_ATTRIBUTE_NO_EXEC);
		samples[i] = time_run(vcpu, FAULT_NPAGES);
		kvm_vm_free(vm);
	}
	return median(samples, REPS);
}

static void guest_write_loop(uint64_t nr)
{
	uint64_t i;

	for (i = 0; i < nr; i++)
		*(volatile uint64_t *)(FAULT_GPA + 8 * (i % 512)) = i;
	GUEST_DONE();
}

/* Cost per write of a vCPU writing a page with @attributes (0: mapped). */
static struct measure time_writes(uint64_t attributes)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MEMORY_ATTRIBUTES_EMULATED };
	double samples[REPS];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int i;

	for (i = 0; i < REPS; i++) {
		vm = create_bench_vm(guest_write_loop, 1, 0, &vcpu);
		vcpu_args_set(vcpu, 1, NR_WRITES);
		if (attributes) {
			vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
			memattr_set(vm, FAULT_GPA, PAGE_SIZE, attributes);
		}
		samples[i] = time_run(vcpu, NR_WRITES);
		TEST_ASSERT_EQ(*(uint64_t *)addr_gpa2hva(vm, FAULT_GPA +
						    8 * ((NR_WRITES - 1) % 512)),
			       NR_WRITES - 1);
		kvm_vm_free(vm);
	}
	return median(samples, REPS);
}

/* Upstream: no write-only pages, one fault cost (no attributes to look up). */
static void run_upstream(struct results *r)
{
	measure_store(r, KVM_X86_SW_PROTECTED_VM, KVM_MEMORY_ATTRIBUTE_PRIVATE,
		      MAX_UPSTREAM_ORDER);
	r->fault[0] = time_faults(RUNS_GPA, 0);
	r->write[WRITE_MAPPED] = time_writes(0);
}

static void run_module(struct results *r)
{
	int i;

	measure_store(r, KVM_X86_DEFAULT_VM, KVM_MEMORY_ATTRIBUTE_NO_WRITE,
		      MAX_ORDER);
	for (i = 0; i < NR_FAULT_POINTS; i++)
		r->fault[i] = time_faults(RUNS_GPA, nr_runs[i]);
	r->fault_near = time_faults(NEAR_RUNS_GPA, nr_runs[NR_FAULT_POINTS - 1]);
	r->write[WRITE_MAPPED] = time_writes(0);
	r->write[WRITE_EMULATED] = time_writes(KVM_MEMORY_ATTRIBUTE_NO_READ |
					       KVM_MEMORY_ATTRIBUTE_NO_EXEC);
}

/* One write maps the page, then @nr 8-byte writes into sub-page 0. */
static void guest_subpage_writes(uint64_t nr)
{
	uint64_t i;

	*(volatile uint64_t *)FAULT_GPA = 0;
	GUEST_SYNC(0);
	for (i = 0; i < nr; i++)
		*(volatile uint64_t *)SUBPAGE_WORD(i) = i;
	GUEST_DONE();
}

/*
 * Cost per write of SUBPAGE_WRITES writes to a permitted sub-page in
 * @mode (SUB_*; SUB_PLAIN: an unprotected page), and in @exits the vCPU's
 * exits per 1,000 of them.
 */
static struct measure time_subpage_writes(int mode, struct measure *exits)
{
	double samples[REPS], exit_samples[REPS];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint64_t before;
	int i;

	for (i = 0; i < REPS; i++) {
		vm = create_bench_vm(guest_subpage_writes, 1, sub_caps[mode],
				     &vcpu);
		vcpu_args_set(vcpu, 1, SUBPAGE_WRITES);
		if (mode != SUB_PLAIN)
			subpage_set_one(vm, FAULT_GPA, SUBPAGE_MAP);
		memattr_run_to_sync(vcpu, 0, sub_names[mode]);
		before = memattr_vcpu_stat(vcpu, "exits");
		samples[i] = time_run(vcpu, SUBPAGE_WRITES);
		exit_samples[i] = (memattr_vcpu_stat(vcpu, "exits") - before) * 1000.0 /
				  SUBPAGE_WRITES;
		TEST_ASSERT_EQ(*(uint64_t *)addr_gpa2hva(vm,
					SUBPAGE_WORD(SUBPAGE_WRITES - 1)),
			       SUBPAGE_WRITES - 1);
		kvm_vm_free(vm);
	}
	*exits = median(exit_samples, REPS);
	return median(samples, REPS);
}

/* SET requests of up to KVM_SUBPAGE_MAX_PAGES pages: protect, undo. */
static struct subpage_access protect_req = {
	.map = { [0 ... KVM_SUBPAGE_MAX_PAGES - 1] = SUBPAGE_MAP },
}, undo_req = {
	.map = { [0 ... KVM_SUBPAGE_MAX_PAGES - 1] = SUBPAGE_ALL_WRITABLE },
};

/* Cost of one SET protecting @npages from @gpa; undone, not counted. */
static double time_subpage_set(struct kvm_vm *vm, uint64_t gpa, int npages)
{
	double start, cost;

	protect_req.h.address = undo_req.h.address = gpa;
	protect_req.h.npages = undo_req.h.npages = npages;
	start = clock_now();
	vm_ioctl(vm, KVM_SET_SUBPAGE_WRITE_ACCESS, &protect_req.h);
	cost = clock_now() - start;
	vm_ioctl(vm, KVM_SET_SUBPAGE_WRITE_ACCESS, &undo_req.h);
	return cost;
}

/* Median cost per call of the SETs in @mode, on fresh and repeated ranges. */
static void time_subpage_sets(int mode, struct subpage_results *r)
{
	double fresh[REPS], repeat[REPS];
	struct kvm_vm *vm = vm_create_barebones();
	int size, i, region = 1;

	subpage_enable(vm, sub_caps[mode]);
	for (size = 0; size < NR_SUB_SET_SIZES; size++) {
		for (i = 0; i < REPS; i++)
			fresh[i] = time_subpage_set(vm, FRESH_GPA(region++),
						    sub_set_pages[size]);
		/* The repeated range's first SET is a fresh one. */
		time_subpage_set(vm, REPEAT_GPA, sub_set_pages[size]);
		for (i = 0; i < REPS; i++)
			repeat[i] = time_subpage_set(vm, REPEAT_GPA,
						     sub_set_pages[size]);
		r->set[mode][RANGE_FRESH][size] = median(fresh, REPS).median;
		r->set[mode][RANGE_REPEAT][size] = median(repeat, REPS).median;
	}
	kvm_vm_free(vm);
}

/* Whether @mode (SUB_*) was measured: the hardware one only if advertised. */
static bool sub_measured(const struct subpage_results *r, int mode)
{
	return mode != SUB_HARDWARE || r->hardware;
}

/* Sub-page protection: a plain page, and every mode the VM can use. */
static void run_subpage(struct subpage_results *r)
{
	struct kvm_vm *vm = vm_create_barebones();
	uint32_t modes = subpage_modes(vm);
	int mode;

	kvm_vm_free(vm);
	TEST_ASSERT(modes & KVM_SUBPAGE_WP_SOFTWARE,
		    "The module's VMs have no sub-page software mode (modes 0x%x)",
		    modes);
	memset(r, 0, sizeof(*r));
	r->hardware = modes & KVM_SUBPAGE_WP_HARDWARE;
	for (mode = 0; mode < NR_SUB_MODES && sub_measured(r, mode); mode++) {
		r->write[mode] = time_subpage_writes(mode, &r->exits[mode]);
		if (mode != SUB_PLAIN)
			time_subpage_sets(mode, r);
	}
}

static void init_results(struct results *r)
{
	int order;

	memset(r, 0, sizeof(*r));
	for (order = 0; order <= MAX_ORDER; order++)
		r->set[order] = NO_VALUE;
}

static void save_results(const char *path, const struct results *r)
{
	FILE *f = fopen(path, "w");
	int order;

	TEST_ASSERT(f, "Cannot write %s", path);
	for (order = 0; order <= MAX_ORDER && r->set[order] != NO_VALUE; order++)
		fprintf(f, "set %d %.0f\n", order, r->set[order]);
	fprintf(f, "memory %ld\n", r->memory_kb);
	fprintf(f, "fault %.1f %.1f\n", r->fault[0].median, r->fault[0].spread);
	fprintf(f, "write %.1f %.1f\n", r->write[WRITE_MAPPED].median,
		r->write[WRITE_MAPPED].spread);
	fclose(f);
}

static void load_results(const char *path, struct results *r)
{
	struct measure *fault = &r->fault[0], *write = &r->write[WRITE_MAPPED];
	FILE *f = fopen(path, "r");
	char line[128];
	double cost;
	int order;

	TEST_ASSERT(f, "Run 'kvm_memattr_bench upstream %s' first", path);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "set %d %lf", &order, &cost) == 2 &&
		    order >= 0 && order <= MAX_ORDER)
			r->set[order] = cost;
		sscanf(line, "memory %ld", &r->memory_kb);
		sscanf(line, "fault %lf %lf", &fault->median, &fault->spread);
		sscanf(line, "write %lf %lf", &write->median, &write->spread);
	}
	fclose(f);
	TEST_ASSERT(fault->median > 0, "No upstream fault cost in %s", path);
}

/* @v rounded, with thousands separators ("1,100,153,000"), into @buf[32]. */
static char *fmt_count(char *buf, double v)
{
	char digits[32];
	int len, i = 0, j = 0;

	len = snprintf(digits, sizeof(digits), "%.0f", v);
	if (digits[0] == '-')
		buf[j++] = digits[i++];
	for (; i < len; i++) {
		buf[j++] = digits[i];
		if (i < len - 1 && (len - i - 1) % 3 == 0)
			buf[j++] = ',';
	}
	buf[j] = '\0';
	return buf;
}

/* "3,267 (12)": a median and its spread, into @buf[64]. */
static char *fmt_measure(char *buf, struct measure m)
{
	char median[32], spread[32];

	snprintf(buf, 64, "%s (%s)", fmt_count(median, m.median),
		 fmt_count(spread, m.spread));
	return buf;
}

/* "+9.4%": what the module costs over upstream. */
static char *fmt_percent(char *buf, double upstream, double module)
{
	sprintf(buf, "%+.1f%%", (module - upstream) * 100 / upstream);
	return buf;
}

/* "4.35x slower", "55,594x faster": the module against upstream. */
static char *fmt_times(char *buf, double upstream, double module)
{
	double r = module > upstream ? module / upstream : upstream / module;
	const char *way = module > upstream ? "slower" : "faster";
	char n[32];

	if (module == upstream)
		way = "(same)";
	if (r < 2)
		sprintf(n, "%.2f", r);
	else if (r < 100)
		sprintf(n, "%.1f", r);
	else
		fmt_count(n, r);
	sprintf(buf, "%sx %s", n, way);
	return buf;
}

static void print_row(const char *label, const char *upstream,
		      const char *module, const char *ratio)
{
	printf("  %-22s %20s %20s%s%s\n", label, upstream, module,
	       *ratio ? "   " : "", ratio);
}

static void print_set_table(const struct results *up, const struct results *mod)
{
	char label[32], pages[32], cost_up[32], cost_mod[32], ratio[32];
	double u, m;
	int order;

	printf("\nKVM_SET_MEMORY_ATTRIBUTES, one call over 2^k pages (%s, median of %d, %d from 2^%d)\n",
	       unit, REPS, LARGE_SET_REPS, LARGE_ORDER);
	printf("  upstream: PRIVATE on a KVM_X86_SW_PROTECTED_VM; kvm_memattr: NO_WRITE, default VM\n");
	printf("  upstream stops at 2^%d pages (\"-\" above): its SET is O(pages), too slow\n",
	       MAX_UPSTREAM_ORDER);
	print_row("pages", "upstream", "kvm_memattr", "");
	for (order = 0; order <= MAX_ORDER; order++) {
		snprintf(label, sizeof(label), "2^%-2d = %s", order,
			 fmt_count(pages, 1ull << order));
		u = up->set[order];
		m = mod->set[order];
		if (u == NO_VALUE)
			print_row(label, "-", fmt_count(cost_mod, m), "");
		else
			print_row(label, fmt_count(cost_up, u), fmt_count(cost_mod, m),
				  fmt_times(ratio, u, m));
	}
}

static void print_memory_table(const struct results *up, const struct results *mod)
{
	char runs[32], kb_up[32], kb_mod[32], per_up[32], per_mod[32], ratio[32];

	printf("\nMemory of a map of %s one-page runs (Slab growth)\n",
	       fmt_count(runs, MEMORY_RUNS));
	print_row("", "upstream", "kvm_memattr", "");
	print_row("kB", fmt_count(kb_up, up->memory_kb),
		  fmt_count(kb_mod, mod->memory_kb),
		  fmt_percent(ratio, up->memory_kb, mod->memory_kb));
	print_row("bytes per run", fmt_count(per_up, up->memory_kb * 1024.0 / MEMORY_RUNS),
		  fmt_count(per_mod, mod->memory_kb * 1024.0 / MEMORY_RUNS), "");
}

static void print_fault_table(const struct results *up, const struct results *mod)
{
	char label[32], cost_up[64], cost_mod[64], ratio[32];
	int i;

	printf("\nGuest page faults, %s pages touched once (%s per fault, median of %d (spread))\n",
	       fmt_count(label, FAULT_NPAGES), unit, REPS);
	printf("  upstream: module not loaded; a default VM has no attributes to look up,\n");
	printf("  so its one cost is the reference of every row\n");
	print_row("runs set elsewhere", "upstream", "kvm_memattr", "");
	fmt_measure(cost_up, up->fault[0]);
	for (i = 0; i < NR_FAULT_POINTS; i++) {
		fmt_count(label, nr_runs[i]);
		print_row(label, cost_up, fmt_measure(cost_mod, mod->fault[i]),
			  fmt_percent(ratio, up->fault[0].median,
				      mod->fault[i].median));
	}
	fmt_count(label, nr_runs[NR_FAULT_POINTS - 1]);
	strcat(label, ", same GiB");
	print_row(label, cost_up, fmt_measure(cost_mod, mod->fault_near),
		  fmt_percent(ratio, up->fault[0].median, mod->fault_near.median));
}

static void print_write_table(const struct results *up, const struct results *mod)
{
	const struct measure *mapped = &up->write[WRITE_MAPPED];
	char writes[32], cost_up[64], cost_mod[64], ratio[32];

	printf("\nGuest writes to one page, %s in a loop (%s per write, median of %d (spread))\n",
	       fmt_count(writes, NR_WRITES), unit, REPS);
	printf("  upstream has no write-only pages: its cost is that of the mapped page\n");
	print_row("page", "upstream", "kvm_memattr", "");
	fmt_measure(cost_up, *mapped);
	print_row("read/write, mapped", cost_up,
		  fmt_measure(cost_mod, mod->write[WRITE_MAPPED]),
		  fmt_percent(ratio, mapped->median,
			      mod->write[WRITE_MAPPED].median));
	print_row("write-only, emulated", cost_up,
		  fmt_measure(cost_mod, mod->write[WRITE_EMULATED]),
		  fmt_times(ratio, mapped->median,
			    mod->write[WRITE_EMULATED].median));
}

/* A row of the hardware mode where the VM cannot use it: no number. */
static void print_no_hardware_row(void)
{
	print_row("hardware mode", "-", "-", "not available on this CPU");
}

static void print_subpage_write_table(const struct subpage_results *r)
{
	const struct measure *plain = &r->write[SUB_PLAIN];
	char label[32], writes[32], cost[64], exits[64], ratio[32];
	int mode;

	printf("\nGuest 8-byte writes into one 128-byte sub-page, %s in a loop (%s per write, median of %d (spread))\n",
	       fmt_count(writes, SUBPAGE_WRITES), unit, REPS);
	printf("  plain: a page without sub-page protection, the ratios' reference; software\n");
	printf("  and hardware mode: a permitted sub-page of a page whose last one is denied;\n");
	printf("  a first write maps the page, not counted; exits: the vCPU's \"exits\" stat\n");
	print_row("page", "per write", "exits per 1,000", "");
	for (mode = 0; mode < NR_SUB_MODES; mode++) {
		if (!sub_measured(r, mode)) {
			print_no_hardware_row();
			continue;
		}
		snprintf(label, sizeof(label), "%s %s", sub_names[mode],
			 mode == SUB_PLAIN ? "page" : "mode");
		print_row(label, fmt_measure(cost, r->write[mode]),
			  fmt_measure(exits, r->exits[mode]),
			  mode == SUB_PLAIN ? "" :
			  fmt_times(ratio, plain->median, r->write[mode].median));
	}
}

/* One SET of @mode over the @size'th count of pages, on a @range. */
static void print_subpage_set_row(const struct subpage_results *r, int mode,
				  int size, int range)
{
	double cost = r->set[mode][range][size];
	char label[32], call[32], page[32], ratio[32] = "";

	snprintf(label, sizeof(label), "%s, %d, %s", sub_names[mode],
		 sub_set_pages[size], range_names[range]);
	if (mode == SUB_HARDWARE)
		fmt_times(ratio, r->set[SUB_SOFTWARE][range][size], cost);
	print_row(label, fmt_count(call, cost),
		  fmt_count(page, cost / sub_set_pages[size]), ratio);
}

static void print_subpage_set_table(const struct subpage_results *r)
{
	int mode, range, size;

	printf("\nKVM_SET_SUBPAGE_WRITE_ACCESS, one call over N pages (%s per call and per page, median of %d)\n",
	       unit, REPS);
	printf("  fresh: a range no SET of the VM touched, in its own 512 GiB region (hardware\n");
	printf("  mode: the SET adds its SPP table pages); repeat: the same range again;\n");
	printf("  each SET undone, not counted; hardware rows against the software ones\n");
	print_row("mode, N, range", "per call", "per page", "");
	for (mode = SUB_SOFTWARE; mode < NR_SUB_MODES; mode++) {
		if (!sub_measured(r, mode)) {
			print_no_hardware_row();
			continue;
		}
		for (size = 0; size < NR_SUB_SET_SIZES; size++)
			for (range = 0; range < NR_RANGES; range++)
				print_subpage_set_row(r, mode, size, range);
	}
}

/* The curves, for tools/bench/plot.py. */
static void print_plot(const struct results *up, const struct results *mod)
{
	int order, i;

	printf("\n#plot unit %s\n", unit);
	for (order = 0; order <= MAX_ORDER; order++) {
		printf("#plot set %llu ", 1ull << order);
		if (up->set[order] != NO_VALUE)
			printf("%.0f", up->set[order]);
		else
			printf("-");
		printf(" %.0f\n", mod->set[order]);
	}
	for (i = 0; i < NR_FAULT_POINTS; i++)
		printf("#plot fault %d %.1f %.1f\n", nr_runs[i],
		       up->fault[0].median, mod->fault[i].median);
}

/* The sub-page costs, kept by tools/bench/plot.py for scripts. */
static void print_subpage_plot(const struct subpage_results *r)
{
	int mode, range, size;

	for (mode = 0; mode < NR_SUB_MODES; mode++) {
		if (!sub_measured(r, mode)) {
			printf("#plot subpage_write %s - -\n", sub_names[mode]);
			continue;
		}
		printf("#plot subpage_write %s %.1f %.1f\n", sub_names[mode],
		       r->write[mode].median, r->exits[mode].median);
		for (size = 0; mode != SUB_PLAIN && size < NR_SUB_SET_SIZES; size++)
			for (range = 0; range < NR_RANGES; range++)
				printf("#plot subpage_set %s %s %d %.0f\n",
				       sub_names[mode], range_names[range],
				       sub_set_pages[size], r->set[mode][range][size]);
	}
}

/* The upstream fault cost measured again, against the first measure. */
static void print_drift(const struct results *up, struct measure again)
{
	const struct measure *first = &up->fault[0];
	char cost_first[64], cost_again[64], diff[32], ratio[64];

	printf("\nGuest page faults again, module unloaded (%s per fault, median of %d (spread))\n",
	       unit, REPS);
	print_row("", "upstream", "upstream, again", "");
	snprintf(ratio, sizeof(ratio), "%s%s %s, %+.2f%%",
		 again.median >= first->median ? "+" : "",
		 fmt_count(diff, again.median - first->median), unit,
		 (again.median - first->median) * 100 / first->median);
	print_row("no attributes", fmt_measure(cost_first, *first),
		  fmt_measure(cost_again, again), ratio);
	printf("\n#plot drift %.1f %.1f\n", first->median, again.median);
}

static void set_unit(const char *clock)
{
	if (!strcmp(clock, "instructions"))
		unit = "instructions";
	else if (!strcmp(clock, "wall"))
		unit = "ns";
	else
		TEST_FAIL("Unknown clock '%s': instructions or wall", clock);
}

int main(int argc, char *argv[])
{
	struct subpage_results sub;
	struct results up, mod;

	TEST_ASSERT(argc == 3 || argc == 4,
		    "usage: %s upstream|module|faults RESULTS [instructions|wall]",
		    argv[0]);
	set_unit(argc == 4 ? argv[3] : "wall");
	init_results(&up);
	init_results(&mod);

	if (!strcmp(argv[1], "upstream")) {
		run_upstream(&up);
		save_results(argv[2], &up);
		return 0;
	}
	load_results(argv[2], &up);
	if (!strcmp(argv[1], "faults")) {
		print_drift(&up, time_faults(RUNS_GPA, 0));
		return 0;
	}
	TEST_ASSERT(!strcmp(argv[1], "module"), "Unknown run '%s'", argv[1]);

	run_module(&mod);
	run_subpage(&sub);
	print_set_table(&up, &mod);
	print_memory_table(&up, &mod);
	print_fault_table(&up, &mod);
	print_write_table(&up, &mod);
	print_subpage_write_table(&sub);
	print_subpage_set_table(&sub);
	print_plot(&up, &mod);
	print_subpage_plot(&sub);
	return 0;
}
