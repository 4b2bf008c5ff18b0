/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The userspace model of kvm_memattr_fuzz_test: what one VM bound to
 * kvm_memattr holds (its attribute map over the whole gfn space, its
 * sub-page maps, its capabilities, its vCPUs and the memslots the fuzzer
 * moves), and a predictor for every ioctl the fuzzer issues and for every
 * guest access: the errno (or the value) each ioctl must give, and the
 * KVM_EXIT_MEMORY_FAULT (flags, gpa, size) each access must end in.
 *
 * The rules and where they come from:
 * - KVM_SET_MEMORY_ATTRIBUTES: api.rst, "KVM_SET_MEMORY_ATTRIBUTES" and
 *   "Combinations"; kvm_vm_ioctl_set_mem_attributes() of the hook series
 *   (flags, then the provider's check of the value, then size, overflow,
 *   alignment; all EINVAL), the module's attributes::validate().
 * - KVM_GET_MEMORY_ATTRIBUTES: api.rst (validation as for SET, the value at
 *   address and its maximal run clipped to the range).
 * - KVM_CHECK_EXTENSION, KVM_ENABLE_CAP: api.rst, the sections of
 *   KVM_CAP_MEMORY_ATTRIBUTES, KVM_CAP_MEMORY_ATTRIBUTES_EMULATED and
 *   KVM_CAP_SUBPAGE_WRITE_PROTECT; kvm_memattr_subpage_uapi_test.c.
 * - KVM_SET/GET_SUBPAGE_WRITE_ACCESS: api.rst's tables, in their order.
 * - KVM_SET_USER_MEMORY_REGION: kvm_vm_ioctl() (v1 flags),
 *   kvm_vm_ioctl_set_memory_region(), __kvm_set_memory_region() and
 *   kvm_arch_prepare_memory_region() of Linux 6.12, in their order.
 * - The exits: api.rst, "KVM_EXIT_MEMORY_FAULT", "The exit"; the module's
 *   fault_verdict() and narrow_to_subpages().
 */
#ifndef SELFTEST_KVM_MEMATTR_FUZZ_MODEL_H
#define SELFTEST_KVM_MEMATTR_FUZZ_MODEL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "kvm_memattr_util.h"

#define FUZZ_PROTECTIONS	(NR | NW | NX)
#define FUZZ_ALL_WRITABLE	0xffffffffu
#define FUZZ_OFFSET_MASK	(PAGE_SIZE - 1)

/*
 * Bounds of the model: the driver issues no op that would exceed them.  The
 * model is part of the test's image, which the guest's memory holds too.
 */
#define FUZZ_MAX_RUNS		1024
#define FUZZ_MAX_SP_PAGES	2048

/* The memslots the fuzzer creates, moves and deletes: ids and size. */
#define FUZZ_SLOT_BASE		20
#define FUZZ_NR_SLOTS		3
#define FUZZ_SLOT_PAGES		16
/* Regions the fuzzer never changes, but memslots may collide with. */
#define FUZZ_MAX_FIXED		2

/* Any gpa at or above 2^52 is above what an x86 memslot can map. */
#define FUZZ_SLOT_MAX_GFN	((1ull << 40) - 1)
#define FUZZ_MEM_MAX_NR_PAGES	((1ull << 31) - 1)
#define FUZZ_USER_MEM_SLOTS	32764
#define FUZZ_V1_FLAGS		(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)

/* The guest's accesses, one per vCPU run. */
enum fuzz_access {
	FUZZ_READ,		/* movq from the gpa */
	FUZZ_WRITE,		/* movq to the gpa */
	FUZZ_FETCH,		/* call the code at the gpa */
	FUZZ_FEP_READ,		/* movq from the gpa, forced emulation */
	FUZZ_FEP_WRITE,		/* movq to the gpa, forced emulation */
	FUZZ_NR_ACCESSES,
};

/* A run of pages [first, last] whose attributes are attrs, never 0. */
struct fuzz_run {
	uint64_t first, last, attrs;
};

/* A page whose sub-page map protects something (map is not all ones). */
struct fuzz_sp {
	uint64_t gfn;
	uint32_t map;
};

struct fuzz_slot {
	bool present;
	uint64_t gpa, npages, hva;
	uint32_t flags;
};

/* What KVM_RUN must end in: flags 0 if the access completes. */
struct fuzz_exit {
	uint64_t flags, gpa, size;
};

struct fuzz_model {
	struct fuzz_run runs[FUZZ_MAX_RUNS];
	int nr_runs;
	struct fuzz_sp sp[FUZZ_MAX_SP_PAGES];
	int nr_sp;

	bool xo_hw;		/* execute-only leaves: NO_READ on a fresh VM */
	bool emulated;		/* KVM_CAP_MEMORY_ATTRIBUTES_EMULATED enabled */
	uint32_t sp_modes;	/* the sub-page modes that KVM advertises */
	uint32_t sp_mode;	/* the mode enabled, 0 before */
	int nr_vcpus;

	struct fuzz_slot slots[FUZZ_NR_SLOTS];
	uint64_t fixed_gpa[FUZZ_MAX_FIXED], fixed_size[FUZZ_MAX_FIXED];
	int nr_fixed;
};

/* A fresh VM, before its first vCPU. */
static inline void model_reset(struct fuzz_model *m, bool xo_hw,
			       uint32_t sp_modes)
{
	memset(m, 0, sizeof(*m));
	m->xo_hw = xo_hw;
	m->sp_modes = sp_modes;
}

static inline void model_add_fixed(struct fuzz_model *m, uint64_t gpa,
				   uint64_t size)
{
	TEST_ASSERT(m->nr_fixed < FUZZ_MAX_FIXED, "Too many fixed regions");
	m->fixed_gpa[m->nr_fixed] = gpa;
	m->fixed_size[m->nr_fixed++] = size;
}

/* Attributes */

/* KVM_CHECK_EXTENSION(KVM_CAP_MEMORY_ATTRIBUTES) on the VM's fd. */
static inline uint64_t model_supported(const struct fuzz_model *m)
{
	return NW | NX | (m->xo_hw || m->emulated ? NR : 0);
}

/*
 * A value the VM accepts: no bit outside the protections and what the VM
 * advertises (PRIVATE is not, on a default VM); write without read only
 * with the emulated modes; execute without read only with execute-only
 * leaves.  "No access" needs neither.
 */
static inline bool model_attrs_valid(const struct fuzz_model *m, uint64_t a)
{
	bool read = !(a & NR), write = !(a & NW), exec = !(a & NX);

	if (a & ~(model_supported(m) | FUZZ_PROTECTIONS))
		return false;
	if (write && !read && !m->emulated)
		return false;
	if (exec && !read && !m->xo_hw)
		return false;
	return true;
}

/* Index of the first run that ends at or after @gfn, nr_runs if none. */
static inline int model_run_index(const struct fuzz_model *m, uint64_t gfn)
{
	int lo = 0, hi = m->nr_runs, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (m->runs[mid].last < gfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The attributes of @gfn, and in @run_last the end of their run up to @limit. */
static inline uint64_t model_attrs_at(const struct fuzz_model *m, uint64_t gfn,
				      uint64_t limit, uint64_t *run_last)
{
	int i = model_run_index(m, gfn);
	const struct fuzz_run *r = &m->runs[i];

	if (i < m->nr_runs && r->first <= gfn) {
		*run_last = min(r->last, limit);
		return r->attrs;
	}
	*run_last = i < m->nr_runs ? min(r->first - 1, limit) : limit;
	return 0;
}

/* A SET can add at most two runs (it splits one run in three). */
static inline bool model_runs_fit(const struct fuzz_model *m)
{
	return m->nr_runs + 2 <= FUZZ_MAX_RUNS;
}

/* Give [@first, @last] @attrs, keeping the runs sorted and maximal. */
static inline void model_set_attrs(struct fuzz_model *m, uint64_t first,
				   uint64_t last, uint64_t attrs)
{
	static struct fuzz_run out[FUZZ_MAX_RUNS + 2];
	struct fuzz_run *prev;
	int i = 0, n = 0;

	while (i < m->nr_runs && m->runs[i].last < first)
		out[n++] = m->runs[i++];
	if (i < m->nr_runs && m->runs[i].first < first) {
		out[n] = m->runs[i];
		out[n++].last = first - 1;
	}
	if (attrs)
		out[n++] = (struct fuzz_run){ first, last, attrs };
	while (i < m->nr_runs && m->runs[i].last <= last)
		i++;
	if (i < m->nr_runs && m->runs[i].first <= last) {
		out[n] = m->runs[i++];
		out[n++].first = last + 1;
	}
	while (i < m->nr_runs)
		out[n++] = m->runs[i++];

	m->nr_runs = 0;
	for (i = 0; i < n; i++) {
		prev = m->nr_runs ? &m->runs[m->nr_runs - 1] : NULL;
		if (prev && prev->last + 1 == out[i].first &&
		    prev->attrs == out[i].attrs)
			prev->last = out[i].last;
		else
			m->runs[m->nr_runs++] = out[i];
	}
	TEST_ASSERT(m->nr_runs <= FUZZ_MAX_RUNS, "The model overflowed");
}

/*
 * The range of a SET or GET, checked as upstream does after the value:
 * size 0, address + size past 2^64 (ending exactly there included), or an
 * unaligned address or size.
 */
static inline bool model_range_valid(const struct kvm_memory_attributes *a)
{
	if (!a->size || a->address + a->size < a->address)
		return false;
	return !((a->address | a->size) & FUZZ_OFFSET_MASK);
}

/*
 * KVM_SET_MEMORY_ATTRIBUTES of @a, whose struct is unreadable if @fault:
 * the errno, 0 on success.  All its checks give EINVAL, so their order is
 * not visible.
 */
static inline int predict_set(const struct fuzz_model *m,
			      const struct kvm_memory_attributes *a, bool fault)
{
	if (fault)
		return EFAULT;
	return a->flags || !model_attrs_valid(m, a->attributes) ||
	       !model_range_valid(a) ? EINVAL : 0;
}

static inline void model_apply_set(struct fuzz_model *m,
				   const struct kvm_memory_attributes *a)
{
	model_set_attrs(m, a->address / PAGE_SIZE,
			(a->address + a->size) / PAGE_SIZE - 1, a->attributes);
}

/*
 * KVM_GET_MEMORY_ATTRIBUTES: validated as SET; on success, the value of
 * the page at address and the bytes of its run within the range.
 */
static inline int predict_get(const struct fuzz_model *m,
			      const struct kvm_memory_attributes *a, bool fault,
			      uint64_t *attrs, uint64_t *size)
{
	uint64_t first, last, run_last;
	int err = predict_set(m, a, fault);

	if (err)
		return err;
	first = a->address / PAGE_SIZE;
	last = (a->address + a->size) / PAGE_SIZE - 1;
	*attrs = model_attrs_at(m, first, last, &run_last);
	*size = (run_last - first + 1) * PAGE_SIZE;
	return 0;
}

/* Sub-page maps */

/* Index of the first protected page at or after @gfn. */
static inline int model_sp_index(const struct fuzz_model *m, uint64_t gfn)
{
	int lo = 0, hi = m->nr_sp, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (m->sp[mid].gfn < gfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The map of @gfn: all ones unless protected. */
static inline uint32_t model_sp_map(const struct fuzz_model *m, uint64_t gfn)
{
	int i = model_sp_index(m, gfn);

	return i < m->nr_sp && m->sp[i].gfn == gfn ? m->sp[i].map :
						       FUZZ_ALL_WRITABLE;
}

/* The first protected page in [@first, @last], or false. */
static inline bool model_sp_first(const struct fuzz_model *m, uint64_t first,
				  uint64_t last, uint64_t *gfn)
{
	int i = model_sp_index(m, first);

	if (i == m->nr_sp || m->sp[i].gfn > last)
		return false;
	*gfn = m->sp[i].gfn;
	return true;
}

static inline bool model_sp_fits(const struct fuzz_model *m, uint32_t npages)
{
	return m->nr_sp + npages <= FUZZ_MAX_SP_PAGES;
}

/* Give the @n pages from @first the maps @maps; all ones forgets a page. */
static inline void model_set_maps(struct fuzz_model *m, uint64_t first,
				  uint32_t n, const uint32_t *maps)
{
	static struct fuzz_sp out[FUZZ_MAX_SP_PAGES + KVM_SUBPAGE_MAX_PAGES];
	int i = model_sp_index(m, first), k = i;
	uint32_t p;

	memcpy(out, m->sp, i * sizeof(*out));
	for (p = 0; p < n; p++)
		if (maps[p] != FUZZ_ALL_WRITABLE)
			out[k++] = (struct fuzz_sp){ first + p, maps[p] };
	while (i < m->nr_sp && m->sp[i].gfn < first + n)
		i++;
	while (i < m->nr_sp)
		out[k++] = m->sp[i++];
	TEST_ASSERT(k <= FUZZ_MAX_SP_PAGES, "The sub-page model overflowed");
	memcpy(m->sp, out, k * sizeof(*out));
	m->nr_sp = k;
}

/*
 * KVM_SET (@set) or KVM_GET_SUBPAGE_WRITE_ACCESS of @h: EFAULT if the
 * header is unreadable (@hdr_fault), then flags, reserved, npages, the
 * alignment and the end of the range (it must end below 2^64), then, for
 * SET, the mode, each EINVAL; then EFAULT if the maps cannot be read or
 * written (@maps_fault).
 */
static inline int predict_subpage(const struct fuzz_model *m,
				  const struct kvm_subpage_write_access *h,
				  bool set, bool hdr_fault, bool maps_fault)
{
	uint64_t size;

	if (hdr_fault)
		return EFAULT;
	if (h->flags || h->reserved[0] || h->reserved[1])
		return EINVAL;
	if (!h->npages || h->npages > KVM_SUBPAGE_MAX_PAGES)
		return EINVAL;
	size = (uint64_t)h->npages * PAGE_SIZE;
	if (h->address & FUZZ_OFFSET_MASK || h->address + size < h->address)
		return EINVAL;
	if (set && !m->sp_mode)
		return EINVAL;
	return maps_fault ? EFAULT : 0;
}

/* Capabilities */

/* KVM_CHECK_EXTENSION on the VM's fd. */
static inline int64_t predict_check_extension(const struct fuzz_model *m,
					      uint32_t cap)
{
	switch (cap) {
	case KVM_CAP_MEMORY_ATTRIBUTES:
		return model_supported(m);
	case KVM_CAP_MEMORY_ATTRIBUTES_EMULATED:
		return 1;
	case KVM_CAP_SUBPAGE_WRITE_PROTECT:
		return m->sp_modes;
	}
	TEST_FAIL("No prediction for capability %u", cap);
	return -1;
}

/*
 * KVM_ENABLE_CAP.  The emulated modes: flags and args must be 0; enabling
 * them again succeeds (nothing in api.rst or the module refuses it).  The
 * sub-page mode: flags and args[1..3] 0, args[0] exactly one advertised
 * mode, no vCPU yet, no mode yet; every refusal is EINVAL.
 */
static inline int predict_enable_cap(const struct fuzz_model *m,
				     const struct kvm_enable_cap *c)
{
	uint64_t mode = c->args[0];

	switch (c->cap) {
	case KVM_CAP_MEMORY_ATTRIBUTES_EMULATED:
		return c->flags || mode || c->args[1] || c->args[2] ||
		       c->args[3] ? EINVAL : 0;
	case KVM_CAP_SUBPAGE_WRITE_PROTECT:
		if (c->flags || c->args[1] || c->args[2] || c->args[3] ||
		    (mode != KVM_SUBPAGE_WP_SOFTWARE &&
		     mode != KVM_SUBPAGE_WP_HARDWARE))
			return EINVAL;
		return !(m->sp_modes & mode) || m->nr_vcpus || m->sp_mode ?
		       EINVAL : 0;
	}
	TEST_FAIL("No prediction for capability %u", c->cap);
	return -1;
}

static inline void model_apply_enable_cap(struct fuzz_model *m,
					  const struct kvm_enable_cap *c)
{
	if (c->cap == KVM_CAP_MEMORY_ATTRIBUTES_EMULATED)
		m->emulated = true;
	else
		m->sp_mode = c->args[0];
}

/* Memslots */

static inline bool fuzz_ranges_overlap(uint64_t a, uint64_t a_size,
				       uint64_t b, uint64_t b_size)
{
	return a < b + b_size && b < a + a_size;
}

/* The fuzzer's slot of id @id, or NULL. */
static inline struct fuzz_slot *model_slot(struct fuzz_model *m, uint32_t id)
{
	if (id < FUZZ_SLOT_BASE || id >= FUZZ_SLOT_BASE + FUZZ_NR_SLOTS)
		return NULL;
	return &m->slots[id - FUZZ_SLOT_BASE];
}

/* [@gpa, +@size) overlaps a memslot other than @self. */
static inline bool model_slot_overlaps(struct fuzz_model *m,
				       const struct fuzz_slot *self,
				       uint64_t gpa, uint64_t size)
{
	int i;

	for (i = 0; i < m->nr_fixed; i++)
		if (fuzz_ranges_overlap(gpa, size, m->fixed_gpa[i],
					m->fixed_size[i]))
			return true;
	for (i = 0; i < FUZZ_NR_SLOTS; i++)
		if (&m->slots[i] != self && m->slots[i].present &&
		    fuzz_ranges_overlap(gpa, size, m->slots[i].gpa,
					m->slots[i].npages * PAGE_SIZE))
			return true;
	return false;
}

/*
 * KVM_SET_USER_MEMORY_REGION of @r, in the kernel's order: flags outside
 * the v1 ones, a slot id past the user slots, unaligned size, gpa or hva,
 * an address space that does not exist (as_id 2 and up), a wrapping range,
 * too many pages; then delete (of a missing slot: EINVAL), create or
 * modify (hva, size or READONLY changed: EINVAL); then the overlap with
 * another memslot (EEXIST) and, last, a range above what the MMU can map
 * (EINVAL).  Only ids FUZZ_SLOT_BASE.. and invalid ones reach here.
 */
static inline int predict_memslot(struct fuzz_model *m,
				  const struct kvm_userspace_memory_region *r)
{
	struct fuzz_slot *old = model_slot(m, (uint16_t)r->slot);
	uint64_t npages = r->memory_size / PAGE_SIZE;
	bool create;

	if (r->flags & ~FUZZ_V1_FLAGS)
		return EINVAL;
	if ((uint16_t)r->slot >= FUZZ_USER_MEM_SLOTS)
		return EINVAL;
	if ((r->memory_size | r->guest_phys_addr | r->userspace_addr) &
	    FUZZ_OFFSET_MASK)
		return EINVAL;
	if ((r->slot >> 16) >= 2)
		return EINVAL;
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr)
		return EINVAL;
	if (npages > FUZZ_MEM_MAX_NR_PAGES)
		return EINVAL;
	TEST_ASSERT(old && !(r->slot >> 16),
		    "The fuzzer issued a region op on slot 0x%x", r->slot);

	if (!npages)
		return old->present ? 0 : EINVAL;
	create = !old->present;
	if (!create) {
		if (r->userspace_addr != old->hva || npages != old->npages ||
		    (r->flags ^ old->flags) & KVM_MEM_READONLY)
			return EINVAL;
		if (r->guest_phys_addr == old->gpa)
			return 0;	/* flags only, or nothing */
	}
	if (model_slot_overlaps(m, old, r->guest_phys_addr, r->memory_size))
		return EEXIST;
	if (r->guest_phys_addr / PAGE_SIZE + npages - 1 > FUZZ_SLOT_MAX_GFN)
		return EINVAL;
	return 0;
}

static inline void model_apply_memslot(struct fuzz_model *m,
				       const struct kvm_userspace_memory_region *r)
{
	struct fuzz_slot *s = model_slot(m, r->slot);

	if (!r->memory_size) {
		s->present = false;
		return;
	}
	*s = (struct fuzz_slot){
		.present = true,
		.gpa = r->guest_phys_addr,
		.npages = r->memory_size / PAGE_SIZE,
		.hva = r->userspace_addr,
		.flags = r->flags,
	};
}

/* Guest accesses */

/*
 * The exit of an 8-byte, 8-byte aligned access of @kind at @gpa (never
 * across a sub-page): a read of a NO_READ page, a fetch from a NO_EXEC
 * page and a write to a NO_WRITE page exit for the page (4096 bytes),
 * whatever the sub-page map; a write that the attributes allow (write-only
 * and write+execute pages included: KVM's emulator completes it) but the
 * map of the page denies, in any mode, exits with WRITE|SUBPAGE for the
 * sub-page (128 bytes).  Reads and fetches ignore the maps.
 */
static inline struct fuzz_exit predict_access(const struct fuzz_model *m,
					      enum fuzz_access kind,
					      uint64_t gpa)
{
	uint64_t gfn = gpa / PAGE_SIZE, page = gfn * PAGE_SIZE, unused;
	uint64_t attrs = model_attrs_at(m, gfn, gfn, &unused);
	uint32_t subpage = (gpa & FUZZ_OFFSET_MASK) / KVM_SUBPAGE_SIZE;
	struct fuzz_exit none = { 0, 0, 0 };

	switch (kind) {
	case FUZZ_READ:
	case FUZZ_FEP_READ:
		if (!(attrs & NR))
			return none;
		return (struct fuzz_exit){ KVM_MEMORY_EXIT_FLAG_READ, page,
					   PAGE_SIZE };
	case FUZZ_FETCH:
		if (!(attrs & NX))
			return none;
		return (struct fuzz_exit){ KVM_MEMORY_EXIT_FLAG_EXEC, page,
					   PAGE_SIZE };
	case FUZZ_WRITE:
	case FUZZ_FEP_WRITE:
		if (attrs & NW)
			return (struct fuzz_exit){ KVM_MEMORY_EXIT_FLAG_WRITE,
						   page, PAGE_SIZE };
		if (model_sp_map(m, gfn) & BIT(subpage))
			return none;
		return (struct fuzz_exit){
			KVM_MEMORY_EXIT_FLAG_WRITE | KVM_MEMORY_EXIT_FLAG_SUBPAGE,
			page + subpage * KVM_SUBPAGE_SIZE, KVM_SUBPAGE_SIZE };
	default:
		TEST_FAIL("No access %d", kind);
	}
	return none;
}

/*
 * Attributes for the page of a page-level exit @e that allow the access:
 * the denying bit cleared, or 0 where that leaves a value the VM refuses.
 */
static inline uint64_t model_relaxed_attrs(const struct fuzz_model *m,
					   uint64_t gpa,
					   const struct fuzz_exit *e)
{
	uint64_t gfn = gpa / PAGE_SIZE, unused, attrs;

	attrs = model_attrs_at(m, gfn, gfn, &unused);
	if (e->flags & KVM_MEMORY_EXIT_FLAG_READ)
		attrs &= ~NR;
	else if (e->flags & KVM_MEMORY_EXIT_FLAG_EXEC)
		attrs &= ~NX;
	else
		attrs &= ~NW;
	return model_attrs_valid(m, attrs) ? attrs : 0;
}

#endif /* SELFTEST_KVM_MEMATTR_FUZZ_MODEL_H */
