/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest of kvm_memattr_stress_test and the layout of its test pages.
 *
 * NPAGES test pages at TEST_GPA, mapped at the same guest virtual address.
 * Each holds, in sub-page 0, code at CODE_OFFSET ("mov $imm32, %eax; ret")
 * and at FEP_CODE_OFFSET (the same behind KVM_FEP), and a token at
 * TOKEN_OFFSET; and one 8-byte write cell per vCPU in sub-pages 1 to 31, so
 * that a sub-page map can deny some vCPUs' writes and not others'.  The host
 * keeps the token PUBLIC and the code returning PUBLIC_IMM whenever the page
 * may be read, resp. executed.
 */
#ifndef SELFTEST_KVM_MEMATTR_STRESS_GUEST_H
#define SELFTEST_KVM_MEMATTR_STRESS_GUEST_H

#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define TEST_GPA		0xc0000000ull
#define TEST_SLOT		10
#define NPAGES			8

/* Page layout: code, code behind KVM_FEP, token, sub-page 0 only. */
#define CODE_OFFSET		0
#define FEP_CODE_OFFSET		16
#define TOKEN_OFFSET		64
#define CELLS_PER_SUBPAGE	(KVM_SUBPAGE_SIZE / 8)
#define MAX_CELLS		((KVM_SUBPAGES_PER_PAGE - 1) * CELLS_PER_SUBPAGE)
#define FILL_BYTE		0xa5

#define TAG_MASK		0xffffffff00000000ull
#define TOKEN_PUBLIC		0x9b11c0de00000000ull
#define TOKEN_SECRET		0x5ec2e7ed00000000ull
#define PUBLIC_IMM		0x600dc0deu
#define SECRET_IMM		0x5ec2e7edu

enum op {
	OP_WRITE, OP_READ, OP_FETCH, OP_FEP_WRITE, OP_FEP_READ, OP_FEP_FETCH,
	NR_OPS
};

static const char * const op_names[] = {
	"write", "read", "fetch", "emulated write", "emulated read",
	"emulated fetch",
};

/* Per vCPU, in guest memory that is never protected. */
struct guest_stats {
	uint64_t done[NR_OPS];
	uint64_t violations;
	uint64_t bad_op, bad_page, bad_value;
	uint64_t last[NPAGES];		/* the last sequence number written */
} __attribute__((aligned(64)));

static struct guest_stats guest_stats[MAX_CELLS];
static uint64_t guest_seed;
/* The ops the guest makes, bit (1 << op) each: all by default. */
static uint64_t guest_ops = (1 << NR_OPS) - 1;
static bool guest_stop;

static inline uint64_t prng(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

/* vCPU @v's cell: sub-page 1 + v % 31, the (v / 31)th quadword in it. */
static inline int cell_subpage(int v)
{
	return 1 + v % (KVM_SUBPAGES_PER_PAGE - 1);
}

static inline uint64_t cell_offset(int v)
{
	return cell_subpage(v) * KVM_SUBPAGE_SIZE +
	       8 * (v / (KVM_SUBPAGES_PER_PAGE - 1));
}

/* mov $imm, %eax; ret, and the same behind the forced emulation prefix. */
static void put_code(uint8_t *code, uint32_t imm)
{
	static const uint8_t fep[] = { 0x0f, 0x0b, 'k', 'v', 'm' };

	code[CODE_OFFSET] = 0xb8;
	memcpy(code + CODE_OFFSET + 1, &imm, 4);
	code[CODE_OFFSET + 5] = 0xc3;
	memcpy(code + FEP_CODE_OFFSET, fep, sizeof(fep));
	code[FEP_CODE_OFFSET + 5] = 0xb8;
	memcpy(code + FEP_CODE_OFFSET + 6, &imm, 4);
	code[FEP_CODE_OFFSET + 10] = 0xc3;
}

/*
 * Until the host sets guest_stop: pick a page and an op, make the access,
 * check what it read or what the code returned, count it.  A denied access
 * exits to the host, and KVM_RUN retries it until the page allows it.
 */
static void guest_code(uint64_t id)
{
	struct guest_stats *st = &guest_stats[id];
	uint64_t x = guest_seed ^ ((id + 1) * 0x9e3779b97f4a7c15ull);
	uint64_t counter = 0, r, base, cell, val = 0;
	int page, op;
	bool bad;

	if (!x)
		x = 1;
	while (!READ_ONCE(guest_stop)) {
		r = prng(&x);
		page = r % NPAGES;
		op = (r >> 16) % NR_OPS;
		if (!(guest_ops & (1 << op)))
			continue;
		base = TEST_GPA + page * PAGE_SIZE;
		cell = base + cell_offset(id);
		bad = false;

		switch (op) {
		case OP_WRITE:
			val = id << 48 | ++counter;
			asm volatile("movq %0, (%1)" : : "r"(val), "r"(cell)
				     : "memory");
			WRITE_ONCE(st->last[page], val);
			break;
		case OP_FEP_WRITE:
			val = id << 48 | ++counter;
			asm volatile(KVM_FEP "movq %0, (%1)"
				     : : "a"(val), "D"(cell) : "memory");
			WRITE_ONCE(st->last[page], val);
			break;
		case OP_READ:
			val = READ_ONCE(*(volatile uint64_t *)(base + TOKEN_OFFSET));
			bad = (val & TAG_MASK) != TOKEN_PUBLIC;
			break;
		case OP_FEP_READ:
			asm volatile(KVM_FEP "movq (%1), %0"
				     : "=a"(val) : "S"(base + TOKEN_OFFSET)
				     : "memory");
			bad = (val & TAG_MASK) != TOKEN_PUBLIC;
			break;
		case OP_FETCH:
			val = ((uint32_t (*)(void))(base + CODE_OFFSET))();
			bad = val != PUBLIC_IMM;
			break;
		case OP_FEP_FETCH:
			val = ((uint32_t (*)(void))(base + FEP_CODE_OFFSET))();
			bad = val != PUBLIC_IMM;
			break;
		}
		if (bad && !st->violations++) {
			st->bad_op = op;
			st->bad_page = page;
			st->bad_value = val;
		}
		WRITE_ONCE(st->done[op], st->done[op] + 1);
	}
	GUEST_DONE();
}

#endif /* SELFTEST_KVM_MEMATTR_STRESS_GUEST_H */
