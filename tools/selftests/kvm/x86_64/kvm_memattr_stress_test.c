// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stress: many vCPUs (by default more vCPU threads than host CPUs) write,
 * read, execute and make KVM emulate accesses to NPAGES test pages for a
 * bounded time, while two flipper threads, each owning half of the pages,
 * flip their attributes (every protection the VM accepts, the emulated
 * write-only and write+execute modes included) and sub-page maps.  It proves
 * that no write landed, and no read or fetch succeeded, while forbidden.
 *
 * The guest (kvm_memattr_stress_guest.h) writes unique sequence numbers to
 * its own cell of a page, reads the page's token, calls the page's code, and
 * does the same three behind KVM_FEP.  A denied access exits to its vCPU
 * thread with KVM_EXIT_MEMORY_FAULT, which must name a test page and one
 * access (a sub-page denial: exactly the sub-page of the vCPU's cell), and
 * KVM_RUN retries it.
 *
 * Protocol, kept by the flipper that owns a page, around each SET:
 *  - before it starts: each cell write-protected since its snapshot must
 *    still hold it; if the new state lets the guest read the page, the token
 *    is set back to PUBLIC; if it lets it execute, the code is set back to
 *    return PUBLIC_IMM;
 *  - after it returned: each cell that became write-protected is
 *    snapshotted; if the page may not be read, the token is set to SECRET;
 *    if it may not be executed, the code is set to return SECRET_IMM.
 * The guest counts every SECRET it reads, or gets from the code, as a
 * violation.
 *
 * Soundness: api.rst promises that once a SET returned, no access the new
 * state forbids can complete (mappings zapped, TLBs flushed, KVM's own
 * accesses checked before the change landed), and that during a SET an
 * access sees the old or the new state.  A snapshot or SECRET is taken only
 * after the SET that forbids the access returned, checked or withdrawn
 * before any SET that allows it starts, and kept across a SET that forbids
 * it before and after.  So a changed protected cell, or a SECRET seen by the
 * guest, is an access completed while the page forbade it, never a race of
 * the test.  x86 keeps the host's stores in order between the ioctls; the
 * code is rewritten only while it cannot be executed, and a vCPU takes a VM
 * exit, which serializes, before it may fetch it again.
 *
 * One "figure:" line: seconds, SETs (KVM_SET_MEMORY_ATTRIBUTES), sub-page
 * SETs, guest accesses checked (native writes, reads, fetches; emulated),
 * KVM_EXIT_MEMORY_FAULT exits, violations.  Fails on a violation, on a
 * completed write missing at the end, on any other change to the pages, or
 * if a kind of access or denial never happened (it runs up to EXTRA_SECONDS
 * past -t to see each).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_util.h"
#include "kvm_memattr_stress_guest.h"
#include "kvm_memattr_stress_vcpu.h"

#define NR_FLIPPERS		2
#define PAGES_PER_FLIPPER	(NPAGES / NR_FLIPPERS)

#define DEFAULT_SECONDS		10
/* Past -t, run at most this much longer until every kind was seen. */
#define EXTRA_SECONDS		30

/* The host's view of a test page, owned by one flipper. */
struct page_state {
	uint64_t attrs;
	uint32_t map;
	bool token_secret, code_secret;
	uint64_t gen;
	bool locked[MAX_CELLS];		/* write-protected since snap[] */
	uint64_t snap[MAX_CELLS];
};

static struct kvm_vm *vm;
static int nr_vcpus;
static uint8_t *test_hva;
static struct page_state pages[NPAGES];
static uint64_t states[8];
static int nr_states;
static bool flip_stop;
static uint64_t host_violations, nr_sets, nr_subpage_sets;

struct flipper {
	pthread_t thread;
	int first;
	uint64_t x;
};

static struct vcpu_thread vcpu_threads[MAX_CELLS];
static struct flipper flippers[NR_FLIPPERS];

static inline volatile uint64_t *cell_hva(int p, int v)
{
	return (volatile uint64_t *)(test_hva + p * PAGE_SIZE + cell_offset(v));
}

static inline volatile uint64_t *token_hva(int p)
{
	return (volatile uint64_t *)(test_hva + p * PAGE_SIZE + TOKEN_OFFSET);
}

static void write_code(int p, uint32_t imm)
{
	put_code(test_hva + p * PAGE_SIZE, imm);
	__sync_synchronize();
}

static inline bool cell_writable(struct page_state *ps, int v)
{
	return !(ps->attrs & NW) && (ps->map & BIT(cell_subpage(v)));
}

/* Cells protected since their snapshot must still hold it. */
static void verify_page(int p)
{
	struct page_state *ps = &pages[p];
	uint64_t now;
	int v;

	for (v = 0; v < nr_vcpus; v++) {
		if (!ps->locked[v])
			continue;
		now = *cell_hva(p, v);
		if (now == ps->snap[v])
			continue;
		if (__atomic_add_fetch(&host_violations, 1, __ATOMIC_RELAXED) <= 10)
			printf("VIOLATION: write-protected cell of vCPU %d in page 0x%llx (attributes 0x%lx, map 0x%08x) changed from 0x%lx to 0x%lx\n",
			       v, TEST_GPA + p * PAGE_SIZE, ps->attrs, ps->map,
			       ps->snap[v], now);
		ps->snap[v] = now;
	}
}

/* Before a SET gives page @p the attributes @attrs (its map may change). */
static void before_set(int p, uint64_t attrs)
{
	struct page_state *ps = &pages[p];

	verify_page(p);
	if (ps->token_secret && !(attrs & NR)) {
		*token_hva(p) = TOKEN_PUBLIC | ++ps->gen;
		ps->token_secret = false;
	}
	if (ps->code_secret && !(attrs & NX)) {
		write_code(p, PUBLIC_IMM);
		ps->code_secret = false;
	}
	__sync_synchronize();
}

/* After the SET that gave page @p its state returned. */
static void after_set(int p)
{
	struct page_state *ps = &pages[p];
	int v;

	__sync_synchronize();
	for (v = 0; v < nr_vcpus; v++) {
		if (cell_writable(ps, v)) {
			ps->locked[v] = false;
		} else if (!ps->locked[v]) {
			ps->snap[v] = *cell_hva(p, v);
			ps->locked[v] = true;
		}
	}
	if ((ps->attrs & NR) && !ps->token_secret) {
		*token_hva(p) = TOKEN_SECRET | ++ps->gen;
		ps->token_secret = true;
	}
	if ((ps->attrs & NX) && !ps->code_secret) {
		write_code(p, SECRET_IMM);
		ps->code_secret = true;
	}
}

static void set_attrs(int p0, int n, uint64_t attrs)
{
	int p;

	for (p = p0; p < p0 + n; p++)
		before_set(p, attrs);
	memattr_set(vm, TEST_GPA + p0 * PAGE_SIZE, n * PAGE_SIZE, attrs);
	__atomic_add_fetch(&nr_sets, 1, __ATOMIC_RELAXED);
	for (p = p0; p < p0 + n; p++) {
		pages[p].attrs = attrs;
		after_set(p);
	}
}

/* subpage_set() shares one buffer; flippers run concurrently. */
static void set_maps(int p0, int n, const uint32_t *maps)
{
	struct {
		struct kvm_subpage_write_access h;
		uint32_t map[NPAGES];
	} a = { .h = { .address = TEST_GPA + p0 * PAGE_SIZE, .npages = n } };
	int p;

	for (p = p0; p < p0 + n; p++) {
		before_set(p, pages[p].attrs);
		a.map[p - p0] = maps[p - p0];
	}
	TEST_ASSERT(!__vm_ioctl(vm, KVM_SET_SUBPAGE_WRITE_ACCESS, &a.h),
		    "KVM_SET_SUBPAGE_WRITE_ACCESS of %d pages at 0x%llx failed: %s",
		    n, a.h.address, strerror(errno));
	__atomic_add_fetch(&nr_subpage_sets, 1, __ATOMIC_RELAXED);
	for (p = p0; p < p0 + n; p++) {
		pages[p].map = maps[p - p0];
		after_set(p);
	}
}

static uint32_t pick_map(uint64_t r)
{
	switch (r % 6) {
	case 0:
	case 1:
		return SUBPAGE_ALL_WRITABLE;
	case 2:
		return 0;
	default:
		return r >> 16;
	}
}

/*
 * Loop until told to stop: give one or two of the flipper's pages new
 * attributes, maps or both (in either order), hold them a little, verify.
 */
enum flips { FLIP_ATTRIBUTES = 1, FLIP_MAPS, FLIP_BOTH };
static enum flips flips = FLIP_BOTH;

static void *flipper_thread(void *arg)
{
	struct flipper *f = arg;
	uint32_t maps[2];
	uint64_t r, attrs;
	int p0, n, i, k, how;

	while (!READ_ONCE(flip_stop)) {
		r = prng(&f->x);
		p0 = f->first + r % PAGES_PER_FLIPPER;
		n = (r >> 8) % 4 == 0 ? 2 : 1;
		if (p0 + n > f->first + PAGES_PER_FLIPPER)
			n = 1;
		attrs = (r >> 12) % 3 ? states[(r >> 16) % nr_states] : 0;
		for (i = 0; i < n; i++)
			maps[i] = pick_map(prng(&f->x));

		/* Attributes, maps, attributes then maps, maps then attributes. */
		how = flips == FLIP_BOTH ? (r >> 24) % 4 :
		      flips == FLIP_ATTRIBUTES ? 0 : 1;
		if (how == 1 || how == 3)
			set_maps(p0, n, maps);
		if (how != 1)
			set_attrs(p0, n, attrs);
		if (how == 2)
			set_maps(p0, n, maps);

		/* Let the vCPUs run into the new state. */
		if ((r >> 40) & 1)
			usleep(50 + (r >> 41) % 400);
		else
			for (k = (r >> 41) % 8; k >= 0; k--)
				sched_yield();
		for (i = f->first; i < f->first + PAGES_PER_FLIPPER; i++)
			verify_page(i);
	}
	return NULL;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t total_exits(enum exit_kind kind)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < nr_vcpus; i++)
		sum += READ_ONCE(vcpu_threads[i].exits[kind]);
	return sum;
}

/* Whether the guest makes every kind of access, and both kinds of SET flip. */
static bool all_kinds(void)
{
	return guest_ops == (1 << NR_OPS) - 1 && flips == FLIP_BOTH;
}

/* Every kind of access completed and every kind of denial exited. */
static bool all_seen(volatile struct guest_stats *live)
{
	uint64_t done[NR_OPS] = {};
	int i, op;

	for (i = 0; i < nr_vcpus; i++)
		for (op = 0; op < NR_OPS; op++)
			done[op] += live[i].done[op];
	for (op = 0; op < NR_OPS; op++)
		if (!done[op] && (guest_ops & (1 << op)))
			return false;
	for (i = 0; i < NR_EXITS; i++)
		if (!total_exits(i) && all_kinds())
			return false;
	return true;
}

/* The attributes to flip to: what this VM accepts, emulated modes too. */
static void pick_states(uint64_t supported_before)
{
	nr_states = 0;
	states[nr_states++] = NW;
	states[nr_states++] = NX;
	states[nr_states++] = NW | NX;
	states[nr_states++] = NR | NW | NX;
	states[nr_states++] = NR | NX;		/* write-only, emulated */
	if (supported_before & NR) {		/* EPT with execute-only */
		states[nr_states++] = NR | NW;
		states[nr_states++] = NR;	/* write+exec, emulated */
	}
}

/* The test pages: fill, code, tokens, cells at 0. */
static void init_pages(void)
{
	int p, v;

	memset(test_hva, FILL_BYTE, NPAGES * PAGE_SIZE);
	for (p = 0; p < NPAGES; p++) {
		write_code(p, PUBLIC_IMM);
		*token_hva(p) = TOKEN_PUBLIC;
		for (v = 0; v < nr_vcpus; v++)
			*cell_hva(p, v) = 0;
		pages[p].map = SUBPAGE_ALL_WRITABLE;
	}
}

/*
 * Each cell holds the last write of its vCPU, the token and the code are
 * PUBLIC, and nothing else in the test pages changed.
 */
static void check_final_memory(void)
{
	static uint8_t expected[PAGE_SIZE];
	uint8_t *page;
	int p, v, i;

	for (p = 0; p < NPAGES; p++) {
		page = test_hva + p * PAGE_SIZE;
		memset(expected, FILL_BYTE, PAGE_SIZE);
		put_code(expected, PUBLIC_IMM);
		TEST_ASSERT((*token_hva(p) & TAG_MASK) == TOKEN_PUBLIC,
			    "The token of page %d is 0x%lx", p, *token_hva(p));
		memcpy(expected + TOKEN_OFFSET, page + TOKEN_OFFSET, 8);
		for (v = 0; v < nr_vcpus; v++) {
			TEST_ASSERT(*cell_hva(p, v) == guest_stats[v].last[p],
				    "Page %d: the cell of vCPU %d holds 0x%lx, its last completed write was 0x%lx",
				    p, v, *cell_hva(p, v), guest_stats[v].last[p]);
			memcpy(expected + cell_offset(v),
			       &guest_stats[v].last[p], 8);
		}
		for (i = 0; i < PAGE_SIZE; i++)
			TEST_ASSERT(page[i] == expected[i],
				    "Page %d, byte 0x%x is 0x%x, expected 0x%x: nothing writes there",
				    p, i, page[i], expected[i]);
	}
}

int main(int argc, char *argv[])
{
	uint64_t done[NR_OPS] = {}, guest_violations = 0, accesses = 0;
	uint64_t exits = 0, supported, seed = time(NULL) ^ getpid();
	int secs = DEFAULT_SECONDS, ncpus = get_nprocs(), max_vcpus;
	volatile struct guest_stats *live;
	double start, elapsed;
	uint32_t modes, mode, all_writable[NPAGES];
	int i, op, opt;

	max_vcpus = min_t(int, MAX_CELLS, kvm_check_cap(KVM_CAP_MAX_VCPUS));
	nr_vcpus = min_t(int, max_t(int, 2 * ncpus + 1, 3), max_vcpus);
	while ((opt = getopt(argc, argv, "t:v:s:o:f:h")) != -1) {
		switch (opt) {
		case 't':
			secs = atoi_positive("Seconds", optarg);
			break;
		case 'v':
			nr_vcpus = atoi_positive("Number of vCPUs", optarg);
			TEST_ASSERT(nr_vcpus <= max_vcpus,
				    "At most %d vCPUs", max_vcpus);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'o':
			guest_ops = strtoull(optarg, NULL, 0);
			TEST_ASSERT(guest_ops && guest_ops < (1 << NR_OPS),
				    "-o: a mask of bits 0 to %d", NR_OPS - 1);
			break;
		case 'f':
			flips = atoi_positive("Flips", optarg);
			TEST_ASSERT(flips <= FLIP_BOTH, "-f: 1, 2 or 3");
			break;
		default:
			printf("usage: %s [-t SECONDS (default %d)] [-v NR_VCPUS (default 2 * CPUs + 1, at least 3)] [-s SEED]\n"
			       "  [-o OPS: the guest's accesses, bits: 0 write, 1 read, 2 fetch, 3-5 the same emulated (default all)]\n"
			       "  [-f FLIPS: 1 attributes, 2 sub-page maps, 3 both (default)]\n",
			       argv[0], DEFAULT_SECONDS);
			exit(opt == 'h' ? 0 : 1);
		}
	}

	TEST_REQUIRE(memattr_supported_by_default_vm() & NW);
	TEST_ASSERT(kvm_is_forced_emulation_enabled(),
		    "This test needs kvm.force_emulation_prefix=1");

	/* Modes and capabilities first: they must precede the vCPUs. */
	vm = vm_create(nr_vcpus);
	supported = memattr_supported(vm);
	modes = subpage_modes(vm);
	TEST_REQUIRE(modes & KVM_SUBPAGE_WP_SOFTWARE);
	mode = modes & KVM_SUBPAGE_WP_HARDWARE ? KVM_SUBPAGE_WP_HARDWARE :
						 KVM_SUBPAGE_WP_SOFTWARE;
	subpage_enable(vm, mode);
	TEST_ASSERT_EQ(vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES_EMULATED), 1);
	vm_enable_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES_EMULATED, 0);
	TEST_ASSERT(memattr_supported(vm) & NR,
		    "NO_READ must be accepted once the emulated modes are enabled");
	pick_states(supported);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, NPAGES, 0);
	virt_map(vm, TEST_GPA, TEST_GPA, NPAGES);
	test_hva = addr_gpa2hva(vm, TEST_GPA);
	init_pages();
	guest_seed = seed;
	sync_global_to_guest(vm, guest_seed);
	sync_global_to_guest(vm, guest_ops);
	live = addr_gva2hva(vm, (vm_vaddr_t)guest_stats);

	printf("stress: %d s, %d vCPU threads on %d CPUs, seed %lu, sub-page mode %s, %d attribute states:",
	       secs, nr_vcpus, ncpus, seed,
	       mode == KVM_SUBPAGE_WP_HARDWARE ? "hardware" : "software",
	       nr_states);
	for (i = 0; i < nr_states; i++)
		printf(" 0x%lx", states[i]);
	printf("\n");
	fflush(stdout);

	for (i = 0; i < nr_vcpus; i++) {
		vcpu_threads[i].id = i;
		vcpu_threads[i].vcpu = vm_vcpu_add(vm, i, guest_code);
		vcpu_threads[i].stats_fd = vcpu_get_stats_fd(vcpu_threads[i].vcpu);
		vcpu_args_set(vcpu_threads[i].vcpu, 1, i);
	}
	/* A signal kicks a vCPU that does not finish out of KVM_RUN. */
	signal(SIGUSR1, kick_handler);
	/* All vCPUs exist before any runs; then the flippers start. */
	for (i = 0; i < nr_vcpus; i++)
		TEST_ASSERT(!pthread_create(&vcpu_threads[i].thread, NULL,
					    vcpu_thread, &vcpu_threads[i]),
			    "Creating the thread of vCPU %d failed", i);
	start = now_seconds();
	for (i = 0; i < NR_FLIPPERS; i++) {
		flippers[i].first = i * PAGES_PER_FLIPPER;
		flippers[i].x = (seed ^ (0xf11bull << 32 | i)) | 1;
		TEST_ASSERT(!pthread_create(&flippers[i].thread, NULL,
					    flipper_thread, &flippers[i]),
			    "Creating flipper %d failed", i);
	}

	do {
		usleep(100000);
		elapsed = now_seconds() - start;
	} while (elapsed < secs ||
		 (!all_seen(live) && elapsed < secs + EXTRA_SECONDS));

	WRITE_ONCE(flip_stop, true);
	for (i = 0; i < NR_FLIPPERS; i++)
		TEST_ASSERT(join_bounded(flippers[i].thread),
			    "Flipper %d did not finish within %d s of the stop",
			    i, JOIN_SECONDS);
	elapsed = now_seconds() - start;

	/* Relax every page, then let the guests finish. */
	set_attrs(0, NPAGES, 0);
	memset(all_writable, 0xff, sizeof(all_writable));
	set_maps(0, NPAGES, all_writable);
	WRITE_ONCE(*(volatile bool *)addr_gva2hva(vm, (vm_vaddr_t)&guest_stop),
		   true);
	for (i = 0; i < nr_vcpus; i++) {
		struct vcpu_thread *t = &vcpu_threads[i];

		bool finished = join_bounded(t->thread);

		if (!finished) {
			describe_stuck_vcpu(vm, t);
			WRITE_ONCE(dump_requested, true);
			pthread_kill(t->thread, SIGUSR1);
			join_bounded(t->thread);
		}
		TEST_ASSERT(finished,
			    "vCPU %d did not finish within %d s of the stop: %lu page, %lu sub-page denials, the last at 0x%lx (flags 0x%lx)",
			    i, JOIN_SECONDS,
			    t->exits[EXIT_READ] + t->exits[EXIT_WRITE] + t->exits[EXIT_EXEC],
			    t->exits[EXIT_SUBPAGE], t->last_fault_gpa,
			    t->last_fault_flags);
	}

	sync_global_from_guest(vm, guest_stats);
	for (i = 0; i < nr_vcpus; i++) {
		struct guest_stats *st = &guest_stats[i];

		for (op = 0; op < NR_OPS; op++) {
			done[op] += st->done[op];
			accesses += st->done[op];
		}
		guest_violations += st->violations;
		if (st->violations)
			printf("VIOLATION: vCPU %d saw %lu forbidden values, the first in a %s of page %lu: 0x%lx\n",
			       i, st->violations, op_names[st->bad_op],
			       st->bad_page, st->bad_value);
	}
	for (i = 0; i < NR_EXITS; i++)
		exits += total_exits(i);
	printf("stress: exits: %lu read, %lu write, %lu sub-page write, %lu exec\n",
	       total_exits(EXIT_READ), total_exits(EXIT_WRITE),
	       total_exits(EXIT_SUBPAGE), total_exits(EXIT_EXEC));

	printf("figure: stress: %d s, %d vCPU threads on %d CPUs, %lu SETs, %lu sub-page SETs, %lu guest accesses checked, %lu writes, %lu reads, %lu fetches, %lu emulated accesses, %lu exits, %lu violations\n",
	       (int)(elapsed + 0.5), nr_vcpus, ncpus, nr_sets, nr_subpage_sets,
	       accesses, done[OP_WRITE], done[OP_READ], done[OP_FETCH],
	       done[OP_FEP_WRITE] + done[OP_FEP_READ] + done[OP_FEP_FETCH],
	       exits, host_violations + guest_violations);
	fflush(stdout);

	TEST_ASSERT(!host_violations && !guest_violations,
		    "%lu writes landed in write-protected cells, %lu forbidden reads or fetches succeeded (seed %lu)",
		    host_violations, guest_violations, seed);
	check_final_memory();
	for (op = 0; op < NR_OPS; op++)
		TEST_ASSERT(done[op] || !(guest_ops & (1 << op)),
			    "No %s completed in %d s: nothing was tested",
			    op_names[op], (int)elapsed);
	for (i = 0; i < NR_EXITS; i++)
		TEST_ASSERT(total_exits(i) || !all_kinds(),
			    "No %s was denied in %d s: nothing was tested",
			    exit_names[i], (int)elapsed);
	TEST_ASSERT((nr_sets || flips == FLIP_MAPS) &&
		    (nr_subpage_sets || flips == FLIP_ATTRIBUTES), "No SETs");

	kvm_vm_free(vm);
	return 0;
}
