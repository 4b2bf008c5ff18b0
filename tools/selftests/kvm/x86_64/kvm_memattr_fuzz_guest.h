/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VM under test of kvm_memattr_fuzz_test: its guest, its vCPUs' runs,
 * and the layer through which the fuzzer issues every ioctl on it.  Each
 * ioctl is predicted by the model (kvm_memattr_fuzz_model.h), issued, its
 * result compared with the prediction, and applied to the model.
 *
 * Each vCPU makes one access per KVM_RUN that the host asked for (a read,
 * a write, a call of code that the host put in the window, or a read or
 * write by KVM's emulator behind the forced emulation prefix) and reports
 * it done with the value it read.  The host checks what KVM_RUN ends in
 * against the model, and the whole window's memory against a shadow copy
 * after every run.
 */
#ifndef SELFTEST_KVM_MEMATTR_FUZZ_GUEST_H
#define SELFTEST_KVM_MEMATTR_FUZZ_GUEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#include "kvm_memattr_subpage_util.h"
#include "kvm_memattr_fuzz_model.h"

/* The test window: identity mapped, the only memory the guest accesses. */
#define FUZZ_WIN_GPA		0xc0000000ull
#define FUZZ_WIN_SLOT		10
#define FUZZ_WIN_PAGES		16
#define FUZZ_WIN_SIZE		(FUZZ_WIN_PAGES * PAGE_SIZE)

#define FUZZ_MAX_VCPUS		3
/* The sequence number a vCPU reports when it has just started. */
#define FUZZ_SEQ_READY		0
/* The most relaxations before an access must be allowed. */
#define FUZZ_MAX_RELAX		3

static const char * const fuzz_access_names[] = {
	"read", "write", "fetch", "emulated read", "emulated write",
};

/*
 * A failure names the seed, the op and what the op was doing, so that
 * "-s SEED -n OP" replays the run up to it.
 */
static struct {
	uint64_t seed;
	uint64_t op;
	char ctx[160];		/* what the current ioctl is part of */
	char what[512];
} fuzz_report;

#define FUZZ_ASSERT(cond, fmt, ...)					\
	TEST_ASSERT(cond, "seed 0x%lx, op %lu: %s: " fmt		\
		    "\n  replay: -s 0x%lx -n %lu",			\
		    fuzz_report.seed, fuzz_report.op, fuzz_report.what,	\
		    ##__VA_ARGS__, fuzz_report.seed, fuzz_report.op)

#define describe(fmt, ...)						\
	snprintf(fuzz_report.what, sizeof(fuzz_report.what), "%s" fmt,	\
		 fuzz_report.ctx, ##__VA_ARGS__)

static inline const char *fuzz_errname(int err)
{
	switch (err) {
	case 0:		return "success";
	case EINVAL:	return "EINVAL";
	case EFAULT:	return "EFAULT";
	case EEXIST:	return "EEXIST";
	case ENOMEM:	return "ENOMEM";
	default:	return strerror(err);
	}
}

/* xorshift64*, seeded through splitmix64: a run depends on its seed only. */
static uint64_t rng_state;

static inline void rng_seed(uint64_t seed)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	rng_state = (z ^ (z >> 31)) ?: 1;
}

static inline uint64_t rnd64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static inline uint64_t rnd_below(uint64_t n)
{
	return n ? rnd64() % n : 0;
}

static inline bool chance(unsigned int percent)
{
	return rnd_below(100) < percent;
}

/* The VM under test, one at a time, and its model. */
static struct fuzz_model model;
static struct kvm_vm *vm;
static struct kvm_vcpu *vcpus[FUZZ_MAX_VCPUS];
/* Slot 0, the guest's core: code, page tables, stack, ucall. */
static uint64_t core_gpa, core_size;
/* Two pages, the second PROT_NONE, for unreadable ioctl arguments. */
static uint8_t *guard;
static uint32_t all_ones[KVM_SUBPAGE_MAX_PAGES];

static struct {
	uint64_t ops, ioctls, invalid, exits, accesses, vms;
} stats;

/* The host's command, read by the vCPU it runs next. */
static struct {
	uint64_t seq, op, gva, val;
} fuzz_cmd;

static void fuzz_guest_code(void)
{
	uint64_t seq, op, gva, val;

	GUEST_SYNC_ARGS(FUZZ_SEQ_READY, 0, 0, 0, 0);
	for (;;) {
		seq = READ_ONCE(fuzz_cmd.seq);
		op = READ_ONCE(fuzz_cmd.op);
		gva = READ_ONCE(fuzz_cmd.gva);
		val = READ_ONCE(fuzz_cmd.val);

		switch (op) {
		case FUZZ_READ:
			asm volatile("movq (%1), %0"
				     : "=a"(val) : "S"(gva) : "memory");
			break;
		case FUZZ_WRITE:
			asm volatile("movq %0, (%1)"
				     : : "a"(val), "D"(gva) : "memory");
			break;
		case FUZZ_FETCH:
			val = ((uint64_t (*)(void))gva)();
			break;
		case FUZZ_FEP_READ:
			asm volatile(KVM_FEP "movq (%1), %0"
				     : "=a"(val) : "S"(gva) : "memory");
			break;
		case FUZZ_FEP_WRITE:
			asm volatile(KVM_FEP "movq %0, (%1)"
				     : : "a"(val), "D"(gva) : "memory");
			break;
		default:
			GUEST_FAIL("Unknown access %lu", op);
		}
		GUEST_SYNC_ARGS(seq, val, 0, 0, 0);
	}
}

/* What the window must hold, and where the host sees it. */
static uint8_t fuzz_shadow[FUZZ_WIN_SIZE];
static uint8_t *fuzz_win_hva;

/* The host writes @len bytes at @offset of the window, and expects them. */
static inline void fuzz_win_write(uint64_t offset, const void *bytes,
				  size_t len)
{
	memcpy(fuzz_win_hva + offset, bytes, len);
	memcpy(fuzz_shadow + offset, bytes, len);
}

/* The window holds what the shadow says: nothing else was written. */
static inline void fuzz_assert_window(const char *when)
{
	size_t i;

	if (!memcmp(fuzz_win_hva, fuzz_shadow, FUZZ_WIN_SIZE))
		return;
	for (i = 0; i < FUZZ_WIN_SIZE; i++)
		FUZZ_ASSERT(fuzz_win_hva[i] == fuzz_shadow[i],
			    "%s: the byte at gpa 0x%llx is 0x%02x, expected 0x%02x",
			    when, FUZZ_WIN_GPA + i, fuzz_win_hva[i],
			    fuzz_shadow[i]);
}

/*
 * The checked ioctls
 */

/* An ioctl returned @r; the model predicted @predicted (an errno, or 0). */
static inline void check_errno(const char *name, int r, int predicted)
{
	int actual = r ? errno : 0;

	stats.ioctls++;
	if (predicted)
		stats.invalid++;
	FUZZ_ASSERT((r == 0 || r == -1) && actual == predicted,
		    "%s: predicted %s, got %d (%s)", name,
		    fuzz_errname(predicted), r, fuzz_errname(actual));
}

/* An ioctl argument of @size bytes that cannot be read, in part or whole. */
static inline void *bad_ptr(size_t size)
{
	switch (rnd_below(3)) {
	case 0:
		return guard + PAGE_SIZE;
	case 1:
		return guard + PAGE_SIZE - size / 2;
	default:
		return NULL;
	}
}

/* KVM_SET_MEMORY_ATTRIBUTES of @a, or of an unreadable struct (@fault). */
static inline int issue_set(const struct kvm_memory_attributes *a, bool fault)
{
	struct kvm_memory_attributes copy = *a, *arg = &copy;
	int predicted = predict_set(&model, a, fault);
	int r;

	describe("KVM_SET_MEMORY_ATTRIBUTES address 0x%llx size 0x%llx attributes 0x%llx flags 0x%llx%s",
		 a->address, a->size, a->attributes, a->flags,
		 fault ? ", unreadable" : "");
	TEST_ASSERT(predicted || model_runs_fit(&model), "Attribute model full");
	if (fault)
		arg = bad_ptr(sizeof(*arg));
	r = __vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, arg);
	check_errno("SET", r, predicted);
	if (!predicted)
		model_apply_set(&model, a);
	return predicted;
}

/* KVM_GET_MEMORY_ATTRIBUTES; on success @a->size becomes the run's size. */
static inline int issue_get(struct kvm_memory_attributes *a, bool fault)
{
	struct kvm_memory_attributes out = *a, *arg = &out;
	uint64_t attrs = 0, size = 0;
	int predicted = predict_get(&model, a, fault, &attrs, &size);
	int r;

	describe("KVM_GET_MEMORY_ATTRIBUTES address 0x%llx size 0x%llx attributes 0x%llx flags 0x%llx%s",
		 a->address, a->size, a->attributes, a->flags,
		 fault ? ", unreadable" : "");
	if (fault)
		arg = bad_ptr(sizeof(*arg));
	r = __vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, arg);
	check_errno("GET", r, predicted);
	if (predicted)
		return predicted;
	FUZZ_ASSERT(out.attributes == attrs && out.size == size &&
		    out.address == a->address && out.flags == a->flags,
		    "predicted attributes 0x%lx over 0x%lx bytes, got 0x%llx over 0x%llx (address 0x%llx, flags 0x%llx)",
		    attrs, size, out.attributes, out.size, out.address,
		    out.flags);
	a->size = size;
	return 0;
}

/* GETs over [@gpa, +@size), a valid range, run by run (64 at most). */
static inline void sweep(uint64_t gpa, uint64_t size)
{
	struct kvm_memory_attributes a;
	int n;

	for (n = 0; size && n < 64; n++) {
		a = (struct kvm_memory_attributes){ .address = gpa, .size = size };
		FUZZ_ASSERT(!issue_get(&a, false), "a sweep's GET failed");
		gpa += a.size;
		size -= a.size;
	}
}

/* Where a sub-page ioctl's argument is: readable, or not in part. */
enum sp_place { SP_OK, SP_HDR_FAULT, SP_MAPS_FAULT };

/*
 * KVM_SET (@set, of @maps) or KVM_GET_SUBPAGE_WRITE_ACCESS of @h, its
 * argument readable or not (@place); GET's maps are checked.
 */
static inline int issue_subpage(bool set,
				const struct kvm_subpage_write_access *h,
				const uint32_t *maps, enum sp_place place)
{
	static struct subpage_access buf;
	struct kvm_subpage_write_access *arg = &buf.h;
	uint32_t n = min_t(uint32_t, h->npages, KVM_SUBPAGE_MAX_PAGES);
	uint32_t k = n, i;
	bool maps_fault = false;
	int predicted, r;

	if (place == SP_HDR_FAULT) {
		arg = bad_ptr(sizeof(*h));
	} else if (place == SP_MAPS_FAULT) {
		/* k maps readable, the rest in the PROT_NONE page. */
		k = rnd_below(n);
		arg = (void *)(guard + PAGE_SIZE - sizeof(*h) - k * sizeof(uint32_t));
		maps_fault = k < h->npages;
	}
	if (place != SP_HDR_FAULT) {
		*arg = *h;
		for (i = 0; i < k; i++)
			arg->access_map[i] = set ? maps[i] : 0x5a5a5a5a;
	}
	predicted = predict_subpage(&model, h, set, place == SP_HDR_FAULT,
				    maps_fault);
	describe("KVM_%s_SUBPAGE_WRITE_ACCESS address 0x%llx npages %u flags 0x%x reserved 0x%llx 0x%llx%s, first map 0x%x",
		 set ? "SET" : "GET", h->address, h->npages, h->flags,
		 h->reserved[0], h->reserved[1],
		 place == SP_HDR_FAULT ? ", header unreadable" :
		 maps_fault ? ", maps unreadable after the first ones" : "",
		 set && n ? maps[0] : 0);
	if (set)
		r = __vm_ioctl(vm, KVM_SET_SUBPAGE_WRITE_ACCESS, arg);
	else
		r = __vm_ioctl(vm, KVM_GET_SUBPAGE_WRITE_ACCESS, arg);
	check_errno(set ? "SET" : "GET", r, predicted);
	if (predicted)
		return predicted;
	if (set) {
		model_set_maps(&model, h->address / PAGE_SIZE, n, maps);
		return 0;
	}
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(buf.map[i] == model_sp_map(&model, h->address / PAGE_SIZE + i),
			    "page 0x%llx: predicted map 0x%08x, got 0x%08x",
			    h->address + i * PAGE_SIZE,
			    model_sp_map(&model, h->address / PAGE_SIZE + i),
			    buf.map[i]);
	return 0;
}

/*
 * Slot 0 loses every attribute and map before vCPUs run, through the
 * model like any other SET: the guest's core must stay accessible.
 */
static inline void prepare_core(void)
{
	struct kvm_memory_attributes a = { .address = core_gpa, .size = core_size };
	struct kvm_subpage_write_access h = {};
	uint64_t first = core_gpa / PAGE_SIZE, gfn;
	uint64_t last = first + core_size / PAGE_SIZE - 1;

	FUZZ_ASSERT(!issue_set(&a, false), "clearing slot 0 failed");
	while (model_sp_first(&model, first, last, &gfn)) {
		h.address = gfn * PAGE_SIZE;
		h.npages = min_t(uint64_t, last - gfn + 1, KVM_SUBPAGE_MAX_PAGES);
		FUZZ_ASSERT(!issue_subpage(true, &h, all_ones, SP_OK),
			    "unprotecting slot 0 failed");
	}
}

/* Allow the access at @gpa that exited with @e, through the model. */
static inline void relax(const struct fuzz_exit *e, uint64_t gpa)
{
	uint64_t gfn = gpa / PAGE_SIZE;
	struct kvm_memory_attributes a = {
		.address = gfn * PAGE_SIZE, .size = PAGE_SIZE,
	};
	struct kvm_subpage_write_access h = { .address = a.address, .npages = 1 };
	uint32_t map;

	if (e->flags & KVM_MEMORY_EXIT_FLAG_SUBPAGE) {
		map = model_sp_map(&model, gfn) |
		      BIT((gpa & FUZZ_OFFSET_MASK) / KVM_SUBPAGE_SIZE);
		if (chance(50))
			map = FUZZ_ALL_WRITABLE;
		FUZZ_ASSERT(!issue_subpage(true, &h, &map, SP_OK),
			    "relaxing the map failed");
		return;
	}
	a.attributes = model_relaxed_attrs(&model, gpa, e);
	FUZZ_ASSERT(!issue_set(&a, false), "relaxing the attributes failed");
}

/*
 * The runs
 */

/* KVM_RUN; a guest assertion is reported by the callers, with the seed. */
static inline int fuzz_kvm_run(struct kvm_vcpu *vcpu)
{
	int r;

	do {
		r = __vcpu_run(vcpu);
	} while (r == -1 && errno == EINTR);
	return r;
}

/* KVM_RUN returns for the guest's report of @seq; returns its value. */
static inline uint64_t fuzz_run_done(struct kvm_vcpu *vcpu, uint64_t seq)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	int r = fuzz_kvm_run(vcpu);

	FUZZ_ASSERT(!r,
		    "vCPU %u: predicted completion, KVM_RUN gave %d (%s), exit reason %s, memory fault flags 0x%llx gpa 0x%llx size 0x%llx",
		    vcpu->id, r, fuzz_errname(errno),
		    exit_reason_str(run->exit_reason), run->memory_fault.flags,
		    run->memory_fault.gpa, run->memory_fault.size);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		FUZZ_ASSERT(uc.args[1] == seq,
			    "vCPU %u reported access %lu, expected %lu",
			    vcpu->id, uc.args[1], seq);
		return uc.args[2];
	case UCALL_ABORT:
		FUZZ_ASSERT(false, "vCPU %u: guest assertion at %s:%lu: %s",
			    vcpu->id, (const char *)uc.args[GUEST_FILE],
			    uc.args[GUEST_LINE], uc.buffer);
		break;
	default:
		FUZZ_ASSERT(false, "vCPU %u: predicted completion, exit reason %s",
			    vcpu->id, exit_reason_str(run->exit_reason));
	}
	return 0;
}

/* KVM_RUN ends in exactly the memory fault @e, the window untouched. */
static inline void fuzz_run_fault(struct kvm_vcpu *vcpu,
				  const struct fuzz_exit *e, const char *when)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	int r = fuzz_kvm_run(vcpu);

	if (!r && get_ucall(vcpu, &uc) == UCALL_ABORT)
		FUZZ_ASSERT(false, "vCPU %u, %s: guest assertion at %s:%lu: %s",
			    vcpu->id, when, (const char *)uc.args[GUEST_FILE],
			    uc.args[GUEST_LINE], uc.buffer);
	FUZZ_ASSERT(r == -1 && errno == EFAULT &&
		    run->exit_reason == KVM_EXIT_MEMORY_FAULT,
		    "vCPU %u, %s: predicted a memory fault (flags 0x%lx gpa 0x%lx size 0x%lx), KVM_RUN gave %d (%s), exit reason %s",
		    vcpu->id, when, e->flags, e->gpa, e->size, r,
		    r ? fuzz_errname(errno) : "no error",
		    exit_reason_str(run->exit_reason));
	FUZZ_ASSERT(run->memory_fault.flags == e->flags &&
		    run->memory_fault.gpa == e->gpa &&
		    run->memory_fault.size == e->size,
		    "vCPU %u, %s: predicted memory fault flags 0x%lx gpa 0x%lx size 0x%lx, got flags 0x%llx gpa 0x%llx size 0x%llx",
		    vcpu->id, when, e->flags, e->gpa, e->size,
		    run->memory_fault.flags, run->memory_fault.gpa,
		    run->memory_fault.size);
	fuzz_assert_window(when);
	stats.exits++;
}

/* Add a vCPU and run it to its first report. */
static inline void fuzz_vcpu_create(void)
{
	int id = model.nr_vcpus;

	describe("vCPU %d create", id);
	vcpus[id] = vm_vcpu_add(vm, id, fuzz_guest_code);
	model.nr_vcpus++;
	stats.ioctls++;
	prepare_core();
	describe("vCPU %d: first run", id);
	fuzz_run_done(vcpus[id], FUZZ_SEQ_READY);
}

/*
 * vCPU @idx makes the access @kind at @offset of the window (@val: what
 * a write writes; a fetch calls code that returns it).  If the model says
 * it is denied, KVM_RUN exits for it, and again when retried; once relaxed,
 * it completes, with the value expected and nothing else written.
 */
static inline void fuzz_access(uint32_t idx, enum fuzz_access kind,
			       uint64_t offset, uint64_t val)
{
	static uint64_t seq;
	struct kvm_vcpu *vcpu = vcpus[idx];
	uint64_t gpa = FUZZ_WIN_GPA + offset, got, expected;
	uint8_t code[6] = { 0xb8 };	/* mov $val, %eax; ret */
	struct fuzz_exit e;
	int relaxed;

	if (kind == FUZZ_FETCH) {
		val = (uint32_t)val;
		memcpy(&code[1], &val, 4);
		code[5] = 0xc3;
		fuzz_win_write(offset, code, sizeof(code));
	}
	snprintf(fuzz_report.ctx, sizeof(fuzz_report.ctx),
		 "vCPU %u, %s of gpa 0x%lx: ", idx, fuzz_access_names[kind], gpa);
	fuzz_cmd.seq = ++seq;
	fuzz_cmd.op = kind;
	fuzz_cmd.gva = gpa;
	fuzz_cmd.val = val;
	sync_global_to_guest(vm, fuzz_cmd);
	stats.accesses++;
	prepare_core();

	for (relaxed = 0; ; relaxed++) {
		e = predict_access(&model, kind, gpa);
		if (!e.flags)
			break;
		describe("KVM_RUN after %d relaxations", relaxed);
		FUZZ_ASSERT(relaxed < FUZZ_MAX_RELAX,
			    "the model never allows the access");
		fuzz_run_fault(vcpu, &e, "the access");
		fuzz_run_fault(vcpu, &e, "the access retried");
		relax(&e, gpa);
	}

	describe("KVM_RUN after %d relaxations, to completion", relaxed);
	got = fuzz_run_done(vcpu, seq);
	if (kind == FUZZ_READ || kind == FUZZ_FEP_READ) {
		memcpy(&expected, fuzz_shadow + offset, sizeof(expected));
		FUZZ_ASSERT(got == expected, "read 0x%lx, memory holds 0x%lx",
			    got, expected);
	} else if (kind == FUZZ_FETCH) {
		FUZZ_ASSERT(got == val, "the code returned 0x%lx, expected 0x%lx",
			    got, val);
	} else {
		memcpy(fuzz_shadow + offset, &val, sizeof(val));
	}
	fuzz_assert_window("after the access");
}

#endif /* SELFTEST_KVM_MEMATTR_FUZZ_GUEST_H */
