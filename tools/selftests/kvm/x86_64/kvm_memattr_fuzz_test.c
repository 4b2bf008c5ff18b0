// SPDX-License-Identifier: GPL-2.0-only
/*
 * A fuzzer of the kvm_memattr uAPI against a model of it.  Random, seeded
 * sequences of KVM_SET/GET_MEMORY_ATTRIBUTES, KVM_SET/GET_SUBPAGE_WRITE_ACCESS,
 * KVM_ENABLE_CAP and KVM_CHECK_EXTENSION of the project's capabilities,
 * memslot creation, moves, deletion and flag changes, VM and vCPU
 * creation, and vCPU runs of a guest that reads, writes, calls code in, and
 * (through the forced emulation prefix) makes KVM's emulator read and write
 * a 16-page window.  Inputs are valid and invalid, biased to the edges:
 * 0, one page, page and sub-page boundaries, 2^52, ranges ending at or just
 * below 2^64, every reserved bit and flag, unreadable ioctl arguments.
 *
 * kvm_memattr_fuzz_model.h predicts every ioctl's errno or value and every
 * KVM_EXIT_MEMORY_FAULT (flags, gpa, size); the guest's read values and the
 * window's memory are checked after every run (a denied access writes
 * nothing, a completed one exactly its 8 bytes), a denied access exits
 * again when retried, and completes once the fuzzer relaxes the attributes
 * or the map (through the model, like any other op).  Any difference fails
 * the test; crashes and kernel reports fail the suite.  After a memslot
 * moves or goes away, the maps over its old range must read as before:
 * they are kept by gpa.
 *
 * The mix, per 1000 ops: 200 SET, 110 GET (a quarter of the valid ones
 * followed by GETs over the rest of the range, run by run), 110 sub-page
 * SET, 70 sub-page GET, 30 KVM_ENABLE_CAP, 30 KVM_CHECK_EXTENSION, 80
 * memslot ops, 20 vCPU creations (up to 3 per VM, else an access), 10 VM
 * re-creations (a fresh model; a sub-page mode is tried before the first
 * vCPU), 340 guest accesses.  Before the vCPUs run, slot 0 (the guest's
 * code, page tables and stack) loses its attributes and maps, through the
 * model.  kvm_memattr_fuzz_guest.h has the guest, the runs and the checked
 * ioctls; this file the inputs and the ops.
 *
 * Options: -s SEED (default from the time and pid), -t SECONDS (default
 * 10), -n MAX_OPS (default: no limit); it stops at whichever comes first.
 * The seed is printed first; a failure names it and the op number, and
 * "-s SEED -n OP" replays the same ops up to the failing one.  The last
 * line is the test's figure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_util.h"
#include "kvm_memattr_fuzz_model.h"
#include "kvm_memattr_fuzz_guest.h"

/* Runs and protected pages kept free for the driver's own SETs. */
#define FUZZ_RESERVED_RUNS	16
#define FUZZ_RESERVED_SP	16

static bool xo_hw, fep;
static uint32_t sp_modes;
/* The memory behind the fuzzed memslots, 2 * FUZZ_SLOT_PAGES each. */
static uint8_t *slot_mem[FUZZ_NR_SLOTS];

/*
 * Inputs, biased to the edges
 */

static const uint64_t slot_gpas[] = {
	0x100000000ull, 0x100008000ull, 0x100010000ull, 0x100020000ull,
	FUZZ_WIN_GPA - 0x8000, FUZZ_WIN_GPA + FUZZ_WIN_SIZE, 0x80000000ull,
	0, 1ull << 52, -0x10000ull,
};

static uint64_t gen_page_gpa(void)
{
	switch (rnd_below(16)) {
	case 0:
		return 0;
	case 1:
		return PAGE_SIZE;
	case 2:
		return core_gpa + rnd_below(core_size / PAGE_SIZE) * PAGE_SIZE;
	case 3:
		return (1ull << 52) + (rnd_below(3) - 1) * PAGE_SIZE;
	case 4:
		return -(rnd_below(4) + 1) * PAGE_SIZE;
	case 5:
		return slot_gpas[rnd_below(ARRAY_SIZE(slot_gpas))];
	case 6:
		return rnd64() & ((1ull << 52) - PAGE_SIZE);
	case 7:
		return rnd64() & ~FUZZ_OFFSET_MASK;
	case 8:
		return 1ull << (12 + rnd_below(52));
	default:	/* the window and the pages around it */
		return FUZZ_WIN_GPA + (rnd_below(FUZZ_WIN_PAGES + 2) - 1) * PAGE_SIZE;
	}
}

static uint64_t gen_gpa(void)
{
	static const uint64_t misalign[] = { 1, 8, 128, 2048, 4095 };
	uint64_t gpa = gen_page_gpa();

	if (chance(5))
		gpa += misalign[rnd_below(ARRAY_SIZE(misalign))];
	return gpa;
}

static uint64_t gen_size(uint64_t gpa)
{
	static const uint64_t odd[] = { 1, 8, 4095, 4097, 8191 };

	switch (rnd_below(16)) {
	case 0:
		return 0;
	case 1:
		return odd[rnd_below(ARRAY_SIZE(odd))];
	case 2:
		return -gpa;			/* ends exactly at 2^64 */
	case 3:
		return -gpa - PAGE_SIZE;	/* ends at the last page */
	case 4:
		return 1ull << 52;
	case 5:
		return rnd64() & ~FUZZ_OFFSET_MASK;
	case 6:
		return 1ull << (12 + rnd_below(52));
	case 7:
		return gpa < FUZZ_WIN_GPA + FUZZ_WIN_SIZE ?
		       FUZZ_WIN_GPA + FUZZ_WIN_SIZE - gpa : PAGE_SIZE;
	case 8 ... 10:
		return (1 + rnd_below(FUZZ_WIN_PAGES)) * PAGE_SIZE;
	default:
		return PAGE_SIZE;
	}
}

static uint64_t gen_attrs(void)
{
	static const uint64_t combos[] = {
		0, NX, NW, NW | NX, NR | NW | NX, NR | NW, NR | NX, NR,
	};
	uint64_t combo = combos[rnd_below(ARRAY_SIZE(combos))];

	switch (rnd_below(20)) {
	case 0:
		return combo | KVM_MEMORY_ATTRIBUTE_PRIVATE;
	case 1:
		return combo | BIT_ULL(3 + rnd_below(61));
	case 2:
		return rnd64();
	default:
		return combo;
	}
}

static uint64_t gen_flags64(void)
{
	if (chance(95))
		return 0;
	return chance(80) ? BIT_ULL(rnd_below(64)) : rnd64();
}

static uint32_t gen_flags32(void)
{
	return chance(96) ? 0 : BIT(rnd_below(32));
}

static uint32_t gen_npages(void)
{
	static const uint32_t bad[] = {
		0, KVM_SUBPAGE_MAX_PAGES + 1, 1024, 0x80000000u, 0xffffffffu,
	};

	switch (rnd_below(16)) {
	case 0:
		return bad[rnd_below(ARRAY_SIZE(bad))];
	case 1:
		return KVM_SUBPAGE_MAX_PAGES - rnd_below(2);
	case 2:
		return 1 + rnd_below(KVM_SUBPAGE_MAX_PAGES);
	case 3 ... 5:
		return 1 + rnd_below(FUZZ_WIN_PAGES);
	default:
		return 1;
	}
}

static uint32_t gen_map(void)
{
	switch (rnd_below(8)) {
	case 0:
		return 0;
	case 1:
		return BIT(rnd_below(32));
	case 2:
		return ~BIT(rnd_below(32));
	case 3:
		return rnd64();
	case 4:
		return chance(50) ? 0x55555555u : 0xaaaaaaaau;
	case 5:
		return FUZZ_ALL_WRITABLE << rnd_below(32);
	default:
		return FUZZ_ALL_WRITABLE;
	}
}

/* 8-byte aligned: the first and last 8 bytes of pages and sub-pages. */
static uint64_t gen_offset(void)
{
	switch (rnd_below(8)) {
	case 0:
		return 0;
	case 1:
		return PAGE_SIZE - 8;
	case 2:
		return rnd_below(KVM_SUBPAGES_PER_PAGE) * KVM_SUBPAGE_SIZE;
	case 3:
		return rnd_below(KVM_SUBPAGES_PER_PAGE) * KVM_SUBPAGE_SIZE + 120;
	default:
		return rnd_below(PAGE_SIZE / 8) * 8;
	}
}

static enum sp_place gen_place(void)
{
	switch (rnd_below(40)) {
	case 0:
		return SP_HDR_FAULT;
	case 1:
		return SP_MAPS_FAULT;
	default:
		return SP_OK;
	}
}

/* The attributes and maps of [@gpa, +@npages pages) read as the model says. */
static void check_kept(uint64_t gpa, uint64_t npages)
{
	struct kvm_subpage_write_access h = { .address = gpa, .npages = npages };

	sweep(gpa, npages * PAGE_SIZE);
	FUZZ_ASSERT(!issue_subpage(false, &h, NULL, SP_OK),
		    "a GET of the maps of a memslot's old range failed");
}

/*
 * The ops
 */

static void op_set(void)
{
	struct kvm_memory_attributes a = { .address = gen_gpa() };
	bool fault = chance(3);

	a.size = gen_size(a.address);
	a.attributes = gen_attrs();
	a.flags = gen_flags64();
	/* Not issued if the model could fill up. */
	if (!predict_set(&model, &a, fault) &&
	    model.nr_runs + 2 + FUZZ_RESERVED_RUNS > FUZZ_MAX_RUNS)
		return;
	issue_set(&a, fault);
}

static void op_get(void)
{
	struct kvm_memory_attributes a = { .address = gen_gpa() };
	bool fault = chance(3);
	uint64_t size;

	a.size = size = gen_size(a.address);
	a.attributes = chance(80) ? 0 : gen_attrs();
	a.flags = gen_flags64();
	if (!issue_get(&a, fault) && chance(25))
		sweep(a.address, size);
}

static void op_subpage(bool set)
{
	static uint32_t maps[KVM_SUBPAGE_MAX_PAGES];
	struct kvm_subpage_write_access h = { .npages = gen_npages() };
	uint32_t n = min_t(uint32_t, h.npages, KVM_SUBPAGE_MAX_PAGES), i;

	switch (rnd_below(20)) {
	case 0:
		h.address = -(uint64_t)h.npages * PAGE_SIZE;	/* ends at 2^64 */
		break;
	case 1:
		h.address = -((uint64_t)h.npages + 1) * PAGE_SIZE;
		break;
	default:
		h.address = gen_gpa();
	}
	h.flags = gen_flags32();
	h.reserved[0] = chance(3) ? BIT_ULL(rnd_below(64)) : 0;
	h.reserved[1] = chance(3) ? BIT_ULL(rnd_below(64)) : 0;
	for (i = 0; i < n; i++)
		maps[i] = n > 32 && chance(80) ? FUZZ_ALL_WRITABLE : gen_map();
	if (!model_sp_fits(&model, n + FUZZ_RESERVED_SP))
		memset(maps, 0xff, sizeof(maps));
	issue_subpage(set, &h, maps, gen_place());
}

static void op_enable_cap(bool subpage)
{
	struct kvm_enable_cap c = {};
	int predicted, r;

	if (subpage) {
		static const uint64_t modes[] = {
			KVM_SUBPAGE_WP_SOFTWARE, KVM_SUBPAGE_WP_SOFTWARE,
			KVM_SUBPAGE_WP_SOFTWARE, KVM_SUBPAGE_WP_HARDWARE,
			KVM_SUBPAGE_WP_SOFTWARE | KVM_SUBPAGE_WP_HARDWARE, 0,
		};

		c.cap = KVM_CAP_SUBPAGE_WRITE_PROTECT;
		c.args[0] = chance(90) ? modes[rnd_below(ARRAY_SIZE(modes))] :
					 BIT_ULL(rnd_below(64));
	} else {
		c.cap = KVM_CAP_MEMORY_ATTRIBUTES_EMULATED;
	}
	if (chance(8))
		c.flags = BIT(rnd_below(32));
	if (chance(8))
		c.args[subpage + rnd_below(4 - subpage)] |= BIT_ULL(rnd_below(64));

	predicted = predict_enable_cap(&model, &c);
	describe("KVM_ENABLE_CAP %u flags 0x%x args 0x%llx 0x%llx 0x%llx 0x%llx (%d vCPUs)",
		 c.cap, c.flags, c.args[0], c.args[1], c.args[2], c.args[3],
		 model.nr_vcpus);
	r = __vm_ioctl(vm, KVM_ENABLE_CAP, &c);
	check_errno("KVM_ENABLE_CAP", r, predicted);
	if (!predicted)
		model_apply_enable_cap(&model, &c);
}

static void op_check_extension(void)
{
	static const uint32_t caps[] = {
		KVM_CAP_MEMORY_ATTRIBUTES, KVM_CAP_MEMORY_ATTRIBUTES_EMULATED,
		KVM_CAP_SUBPAGE_WRITE_PROTECT,
	};
	uint32_t cap = caps[rnd_below(ARRAY_SIZE(caps))];
	int64_t expected = predict_check_extension(&model, cap);
	int r;

	describe("KVM_CHECK_EXTENSION %u on the VM", cap);
	r = __vm_ioctl(vm, KVM_CHECK_EXTENSION, (void *)(unsigned long)cap);
	stats.ioctls++;
	FUZZ_ASSERT(r == expected, "predicted 0x%lx, got 0x%x", expected, r);
}

static void op_memslot(void)
{
	uint32_t idx = rnd_below(FUZZ_NR_SLOTS);
	struct fuzz_slot old = model.slots[idx];
	struct kvm_userspace_memory_region r = {
		.slot = FUZZ_SLOT_BASE + idx,
		.flags = old.present ? old.flags : 0,
		.guest_phys_addr = slot_gpas[rnd_below(ARRAY_SIZE(slot_gpas))],
		.memory_size = old.present ? old.npages * PAGE_SIZE :
					     FUZZ_SLOT_PAGES * PAGE_SIZE,
		.userspace_addr = old.present ? old.hva : (uintptr_t)slot_mem[idx],
	};
	int predicted, ret;

	if (old.present && chance(30))
		r.guest_phys_addr = old.gpa;
	if (chance(3))
		r.guest_phys_addr += 0x800;
	switch (rnd_below(20)) {
	case 0 ... 5:
		r.flags ^= KVM_MEM_LOG_DIRTY_PAGES;
		break;
	case 6:
		r.flags ^= KVM_MEM_READONLY;
		break;
	case 7:
		r.flags |= BIT(2 + rnd_below(30));
		break;
	}
	switch (rnd_below(24)) {
	case 0 ... 3:
		r.memory_size = 0;
		break;
	case 4:
		r.memory_size = FUZZ_SLOT_PAGES / 2 * PAGE_SIZE;
		break;
	case 5:
		r.memory_size += 0x100;
		break;
	case 6:
		r.memory_size = 1ull << 44;
		break;
	case 7:
		r.userspace_addr = (uintptr_t)slot_mem[idx] + PAGE_SIZE;
		break;
	case 8:
		r.userspace_addr += 1;
		break;
	case 9:
		r.slot = chance(50) ? FUZZ_USER_MEM_SLOTS : 0xffff;
		break;
	case 10:
		r.slot |= 2 << 16;	/* no such address space */
		break;
	}

	predicted = predict_memslot(&model, &r);
	describe("KVM_SET_USER_MEMORY_REGION slot 0x%x flags 0x%x gpa 0x%llx size 0x%llx hva 0x%llx (was %s at 0x%lx)",
		 r.slot, r.flags, r.guest_phys_addr, r.memory_size,
		 r.userspace_addr, old.present ? "present" : "absent", old.gpa);
	ret = __vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
	check_errno("KVM_SET_USER_MEMORY_REGION", ret, predicted);
	if (predicted)
		return;
	model_apply_memslot(&model, &r);
	/* The maps stay with the gpas, wherever the memory went. */
	if (old.present && (!r.memory_size || r.guest_phys_addr != old.gpa))
		check_kept(old.gpa, old.npages);
	if (r.memory_size)
		check_kept(r.guest_phys_addr, r.memory_size / PAGE_SIZE);
}

/* A VM with the window filled, maybe a sub-page mode, and one vCPU. */
static void vm_new(void)
{
	struct userspace_mem_region *core;
	uint64_t i, v;
	int tries;

	describe("VM create");
	vm = vm_create(FUZZ_MAX_VCPUS);
	stats.ioctls++;
	stats.vms++;
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, FUZZ_WIN_GPA,
				    FUZZ_WIN_SLOT, FUZZ_WIN_PAGES, 0);
	virt_map(vm, FUZZ_WIN_GPA, FUZZ_WIN_GPA, FUZZ_WIN_PAGES);
	core = memslot2region(vm, 0);
	core_gpa = core->region.guest_phys_addr;
	core_size = core->region.memory_size;

	model_reset(&model, xo_hw, sp_modes);
	model_add_fixed(&model, core_gpa, core_size);
	model_add_fixed(&model, FUZZ_WIN_GPA, FUZZ_WIN_SIZE);
	fuzz_win_hva = addr_gpa2hva(vm, FUZZ_WIN_GPA);
	for (i = 0; i < FUZZ_WIN_SIZE; i += sizeof(v)) {
		v = rnd64();
		fuzz_win_write(i, &v, sizeof(v));
	}

	/* A sub-page mode can only be chosen before the first vCPU. */
	for (tries = 0; tries < 4 && !model.sp_mode && chance(85); tries++)
		op_enable_cap(true);
	if (chance(20))
		op_enable_cap(true);
	fuzz_vcpu_create();
}

/* One access by one vCPU, 8 bytes at an 8-byte aligned offset. */
static void op_access(void)
{
	uint32_t idx = rnd_below(model.nr_vcpus);
	enum fuzz_access kind = rnd_below(fep ? FUZZ_NR_ACCESSES : FUZZ_FEP_READ);
	uint64_t offset = rnd_below(FUZZ_WIN_PAGES) * PAGE_SIZE + gen_offset();

	fuzz_access(idx, kind, offset, rnd64());
}

static void do_op(void)
{
	uint64_t pick = rnd_below(1000);

	fuzz_report.ctx[0] = '\0';
	if (pick < 200) {
		op_set();
	} else if (pick < 310) {
		op_get();
	} else if (pick < 420) {
		op_subpage(true);
	} else if (pick < 490) {
		op_subpage(false);
	} else if (pick < 520) {
		op_enable_cap(chance(50));
	} else if (pick < 550) {
		op_check_extension();
	} else if (pick < 630) {
		op_memslot();
	} else if (pick < 650 && model.nr_vcpus < FUZZ_MAX_VCPUS) {
		fuzz_vcpu_create();
	} else if (pick >= 650 && pick < 660) {
		describe("VM destroy");
		kvm_vm_free(vm);
		vm_new();
	} else {
		op_access();
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void help(const char *name)
{
	printf("usage: %s [-s SEED] [-t SECONDS] [-n MAX_OPS]\n"
	       " -s: the seed to replay (default: from the time and pid)\n"
	       " -t: stop after this many seconds (default 10)\n"
	       " -n: stop after this many ops (default: no limit)\n", name);
	exit(0);
}

int main(int argc, char *argv[])
{
	uint64_t seed, max_ops = UINT64_MAX, supported;
	double start, secs = 10;
	struct kvm_vm *probe;
	int opt, i;

	seed = ((uint64_t)time(NULL) << 24) ^ getpid() ^
	       ((uint64_t)(now() * 1e9) << 40);
	while ((opt = getopt(argc, argv, "hs:t:n:")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			secs = atoi_non_negative("Seconds", optarg);
			break;
		case 'n':
			max_ops = strtoull(optarg, NULL, 0);
			break;
		default:
			help(argv[0]);
		}
	}
	printf("seed 0x%lx\n", seed);
	fflush(stdout);

	/* The module is loaded: a VM accepts at least NO_WRITE and NO_EXEC. */
	supported = memattr_supported_by_default_vm();
	TEST_REQUIRE((supported & (NW | NX)) == (NW | NX));
	/* Learned once, required of every VM: the host's MMU decides them. */
	xo_hw = supported & NR;
	probe = vm_create_barebones();
	sp_modes = subpage_modes(probe);
	kvm_vm_free(probe);
	TEST_ASSERT(sp_modes & KVM_SUBPAGE_WP_SOFTWARE,
		    "KVM_CAP_SUBPAGE_WRITE_PROTECT is 0x%x, without the software mode",
		    sp_modes);
	fep = kvm_is_forced_emulation_enabled();
	pr_info("NO_READ on a fresh VM: %s; sub-page modes 0x%x; forced emulation: %s\n",
		xo_hw ? "yes" : "no", sp_modes,
		fep ? "yes" : "no, emulated accesses left out");

	guard = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(guard != MAP_FAILED && !mprotect(guard + PAGE_SIZE, PAGE_SIZE,
						      PROT_NONE),
		    "Could not map the guard pages");
	for (i = 0; i < FUZZ_NR_SLOTS; i++) {
		slot_mem[i] = mmap(NULL, 2 * FUZZ_SLOT_PAGES * PAGE_SIZE,
				   PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		TEST_ASSERT(slot_mem[i] != MAP_FAILED, "Could not map slot memory");
	}
	memset(all_ones, 0xff, sizeof(all_ones));

	fuzz_report.seed = seed;
	rng_seed(seed);
	start = now();
	vm_new();
	while (stats.ops < max_ops && now() - start < secs) {
		fuzz_report.op = stats.ops + 1;
		do_op();
		stats.ops++;
	}
	kvm_vm_free(vm);

	printf("figure: fuzz: %.0f s, %lu ops, %lu ioctls, %lu invalid ioctls, %lu exits checked, %lu guest accesses, %lu VMs, seed 0x%lx\n",
	       now() - start, stats.ops, stats.ioctls, stats.invalid,
	       stats.exits, stats.accesses, stats.vms, seed);
	return 0;
}
