// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sub-page write protection against instructions that make several writes
 * or whose write KVM's emulator makes: rep stosb and rep movsb that run into
 * a denied 128-byte sub-page stop there, with the bytes before it written,
 * none from it on, and RCX, RDI and RSI counting the iterations done, then
 * resume where they stopped once the map allows it; lock cmpxchg and xchg
 * keep their semantics on a permitted sub-page and exit on a denied one;
 * writes through the forced emulation prefix, and a movs from MMIO whose
 * destination is a denied sub-page, exit like the CPU's writes, and reads
 * through the emulator are never denied; an instruction that the emulator
 * cannot run, writing to a permitted sub-page, exits to the VMM instead of
 * raising #UD in the guest.  kvm_memattr_subpage_write_test covers the
 * plain writes and reads.
 *
 * Every case runs in software mode and, where advertised, in hardware mode;
 * in hardware mode, the CPU decides where a rep string store stops inside
 * the permitted bytes, and how a straddling write ends.
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

static const uint64_t sizes[] = { 1, 2, 4, 8 };

/* The guest's rep string store: @count bytes to @dst, from @src or of AL. */
struct rep_op {
	enum sp_op op;
	uint64_t dst, src, count;
};

static void start_rep(struct kvm_vm *vm, const struct rep_op *rep)
{
	sp_start(vm, rep->op, 1, rep->dst, rep->src, SP_STOS_BYTE, rep->count);
}

/* Expect the first @done bytes of @rep's store in the test memory. */
static void expect_rep_bytes(struct kvm_vm *vm, const struct rep_op *rep,
			     uint64_t done)
{
	static uint8_t bytes[SP_SIZE];

	if (rep->op == SP_OP_REP_MOVSB)
		memcpy(bytes, sp_hva(vm, rep->src), done);
	else
		memset(bytes, SP_STOS_BYTE, done);
	sp_expect(rep->dst, bytes, done);
}

/*
 * KVM_RUN exits for the denied sub-page at @denied that @rep runs into: in
 * the guest's registers, the iterations done write the bytes before
 * @denied (in hardware mode, where the CPU may stop earlier, at least up
 * to RDI), and no byte from @denied on is written.
 */
static void expect_rep_stopped(struct kvm_vcpu *vcpu, const struct rep_op *rep,
			       uint64_t denied, const char *what)
{
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_regs regs;
	uint64_t done;

	sp_expect_denied(vcpu, denied, what);
	vcpu_regs_get(vcpu, &regs);
	done = regs.rdi - rep->dst;
	TEST_ASSERT(sp_software() ? regs.rdi == denied :
		    regs.rdi >= rep->dst && regs.rdi <= denied,
		    "%s: stopped with RDI 0x%llx, the denied sub-page is at 0x%lx, the string at 0x%lx",
		    what, regs.rdi, denied, rep->dst);
	TEST_ASSERT(regs.rcx == rep->count - done,
		    "%s: stopped with RCX %llu after %lu of %lu bytes",
		    what, regs.rcx, done, rep->count);
	TEST_ASSERT(rep->op != SP_OP_REP_MOVSB || regs.rsi == rep->src + done,
		    "%s: stopped with RSI 0x%llx, RDI 0x%llx, from 0x%lx to 0x%lx",
		    what, regs.rsi, regs.rdi, rep->src, rep->dst);
	if (!sp_software())
		pr_info("    %s: stopped %lu bytes before the denied sub-page\n",
			what, (uint64_t)(denied - regs.rdi));

	expect_rep_bytes(vm, rep, done);
	/* Hardware mode: bytes between RDI and the sub-page may be written. */
	sp_expect(regs.rdi, sp_hva(vm, regs.rdi), denied - regs.rdi);
	sp_assert_memory(vm, what);
}

/* @rep resumed and ran to its end. */
static void expect_rep_done(struct kvm_vcpu *vcpu, const struct rep_op *rep,
			    const char *what)
{
	sp_expect_done(vcpu, what);
	TEST_ASSERT(!sp_result.rcx && sp_result.rdi == rep->dst + rep->count &&
		    (rep->op != SP_OP_REP_MOVSB ||
		     sp_result.rsi == rep->src + rep->count),
		    "%s: ended with RCX %lu, RDI 0x%lx, RSI 0x%lx", what,
		    sp_result.rcx, sp_result.rdi, sp_result.rsi);
	expect_rep_bytes(vcpu->vm, rep, rep->count);
	sp_assert_memory(vcpu->vm, what);
}

/* Fill test page @page with bytes with bit 7 clear, a rep movsb source. */
static void fill_source(struct kvm_vm *vm, int page)
{
	uint8_t *p = sp_hva(vm, sp_gpa(page, 0));
	int i;

	for (i = 0; i < PAGE_SIZE; i++)
		p[i] = (i * 5 + 1) & 0x7f;
	sp_snapshot(vm);
}

/*
 * Case 1: rep stosb from permitted sub-pages into a denied one: inside a
 * protected page, resumed with the page still protected; from an
 * unprotected page into the first sub-page of the next page; and across
 * two denied sub-pages, which stops at each in turn.
 */
static bool test_rep_stosb(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);
	const struct rep_op in_page = {
		SP_OP_REP_STOSB, sp_gpa(1, 1) + 50, 0, 300,
	};
	const struct rep_op across_pages = {
		SP_OP_REP_STOSB, sp_gpa(3, 0) - 100, 0, 200,
	};
	const struct rep_op two_denied = {
		SP_OP_REP_STOSB, sp_gpa(4, 1), 0, 6 * KVM_SUBPAGE_SIZE,
	};

	subpage_set_one(vm, sp_gpa(1, 0), sp_deny(BIT(3) | BIT(30)));
	start_rep(vm, &in_page);
	expect_rep_stopped(vcpu, &in_page, sp_gpa(1, 3),
			   "rep stosb into a denied sub-page");
	subpage_set_one(vm, sp_gpa(1, 0), sp_deny(BIT(30)));
	expect_rep_done(vcpu, &in_page, "rep stosb, its sub-page allowed");

	subpage_set_one(vm, sp_gpa(3, 0), sp_deny(BIT(0)));
	start_rep(vm, &across_pages);
	expect_rep_stopped(vcpu, &across_pages, sp_gpa(3, 0),
			   "rep stosb from an unprotected page into a denied sub-page");
	subpage_set_one(vm, sp_gpa(3, 0), SP_ALL);
	expect_rep_done(vcpu, &across_pages, "rep stosb, its page unprotected");

	subpage_set_one(vm, sp_gpa(4, 0), sp_deny(BIT(5) | BIT(6)));
	start_rep(vm, &two_denied);
	expect_rep_stopped(vcpu, &two_denied, sp_gpa(4, 5),
			   "rep stosb into the first of two denied sub-pages");
	subpage_set_one(vm, sp_gpa(4, 0), sp_deny(BIT(6)));
	expect_rep_stopped(vcpu, &two_denied, sp_gpa(4, 6),
			   "rep stosb resumed into the second denied sub-page");
	subpage_set_one(vm, sp_gpa(4, 0), SP_ALL);
	expect_rep_done(vcpu, &two_denied, "rep stosb, its page unprotected");
	kvm_vm_free(vm);
	return true;
}

/*
 * Case 2: rep movsb from an unprotected page into a protected one, and from
 * denied sub-pages (reading them is allowed) of a page whose every
 * sub-page is denied across a page boundary into a denied sub-page.
 */
static bool test_rep_movsb(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);
	const struct rep_op in_page = {
		SP_OP_REP_MOVSB, sp_gpa(5, 2) + 10, sp_gpa(9, 0) + 7, 400,
	};
	const struct rep_op across_pages = {
		SP_OP_REP_MOVSB, sp_gpa(7, 0) - 64, sp_gpa(10, 3) + 1, 256,
	};

	fill_source(vm, 9);
	fill_source(vm, 10);
	subpage_set_one(vm, sp_gpa(10, 0), 0);

	subpage_set_one(vm, sp_gpa(5, 0), sp_deny(BIT(4)));
	start_rep(vm, &in_page);
	expect_rep_stopped(vcpu, &in_page, sp_gpa(5, 4),
			   "rep movsb into a denied sub-page");
	subpage_set_one(vm, sp_gpa(5, 0), SP_ALL);
	expect_rep_done(vcpu, &in_page, "rep movsb, its page unprotected");

	subpage_set_one(vm, sp_gpa(7, 0), sp_deny(BIT(0) | BIT(20)));
	start_rep(vm, &across_pages);
	expect_rep_stopped(vcpu, &across_pages, sp_gpa(7, 0),
			   "rep movsb from denied sub-pages across a page into a denied one");
	subpage_set_one(vm, sp_gpa(7, 0), sp_deny(BIT(20)));
	expect_rep_done(vcpu, &across_pages, "rep movsb, its sub-page allowed");
	kvm_vm_free(vm);
	return true;
}

/* The host puts @val at @gpa. */
static void put_value(struct kvm_vm *vm, uint64_t gpa, uint64_t val)
{
	memcpy(sp_hva(vm, gpa), &val, sizeof(val));
	sp_expect_value(gpa, val, sizeof(val));
}

/* The guest's cmpxchg ended with ZF @zf and RAX @rax. */
static void assert_cmpxchg(bool zf, uint64_t rax, const char *what)
{
	TEST_ASSERT(sp_result.zf == zf && sp_result.val == rax,
		    "%s: ZF %lu, RAX 0x%lx; expected ZF %d, RAX 0x%lx", what,
		    sp_result.zf, sp_result.val, zf, rax);
}

/*
 * Case 3: lock cmpxchg (succeeding and failing) and xchg on a permitted
 * sub-page of a protected page, then on its denied neighbour: they exit,
 * change nothing and complete once the map allows the write.
 */
static bool test_locked(void)
{
	uint64_t page = sp_gpa(11, 0), ok = sp_gpa(11, 3) + 16;
	uint64_t denied = sp_gpa(11, 4) + 16;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);

	subpage_set_one(vm, page, sp_deny(BIT(4)));
	put_value(vm, ok, SP_VALUE);
	put_value(vm, denied, SP_VALUE);

	sp_start(vm, SP_OP_CMPXCHG, 8, ok, SP_VALUE, SP_VALUE2, 0);
	sp_expect_done(vcpu, "cmpxchg on a permitted sub-page");
	assert_cmpxchg(true, SP_VALUE, "cmpxchg on a permitted sub-page");
	sp_expect_value(ok, SP_VALUE2, 8);
	sp_assert_memory(vm, "cmpxchg on a permitted sub-page");

	sp_start(vm, SP_OP_CMPXCHG, 8, ok, SP_VALUE, SP_VALUE, 0);
	sp_expect_done(vcpu, "failing cmpxchg on a permitted sub-page");
	assert_cmpxchg(false, SP_VALUE2, "failing cmpxchg on a permitted sub-page");
	sp_assert_memory(vm, "failing cmpxchg on a permitted sub-page");

	sp_start(vm, SP_OP_XCHG, 8, ok, 0, SP_VALUE, 0);
	sp_expect_done(vcpu, "xchg on a permitted sub-page");
	TEST_ASSERT(sp_result.val == SP_VALUE2,
		    "xchg on a permitted sub-page returned 0x%lx, expected 0x%llx",
		    sp_result.val, SP_VALUE2);
	sp_expect_value(ok, SP_VALUE, 8);
	sp_assert_memory(vm, "xchg on a permitted sub-page");

	sp_start(vm, SP_OP_CMPXCHG, 8, denied, SP_VALUE, SP_VALUE2, 0);
	sp_write_denied(vcpu, denied, SP_VALUE2, 8, sp_gpa(11, 4), page, SP_ALL,
			"cmpxchg on a denied sub-page");
	assert_cmpxchg(true, SP_VALUE, "cmpxchg on a denied sub-page, retried");

	subpage_set_one(vm, page, sp_deny(BIT(4)));
	sp_start(vm, SP_OP_XCHG, 8, denied, 0, SP_VALUE, 0);
	sp_write_denied(vcpu, denied, SP_VALUE, 8, sp_gpa(11, 4), page, SP_ALL,
			"xchg on a denied sub-page");
	TEST_ASSERT(sp_result.val == SP_VALUE2,
		    "xchg on a denied sub-page, retried, returned 0x%lx, expected 0x%llx",
		    sp_result.val, SP_VALUE2);
	kvm_vm_free(vm);
	return true;
}

/*
 * Case 4: writes of each size through the forced emulation prefix: to both
 * ends of a permitted sub-page between two denied ones and to an
 * unprotected page they complete, into a denied one they exit; straddling
 * writes (see sp_write_straddling()); a forcibly emulated lock cmpxchg on a
 * denied sub-page exits; a forcibly emulated read of one returns the
 * memory's value.
 */
static bool test_forced_emulation(void)
{
	const uint32_t map = sp_deny(BIT(6) | BIT(8));
	uint64_t page = sp_gpa(12, 0), dst, val;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);
	char what[80];
	int i;

	subpage_set_one(vm, page, map);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		val = i & 1 ? SP_VALUE2 : SP_VALUE;
		snprintf(what, sizeof(what),
			 "emulated %lu-byte write to a permitted sub-page",
			 sizes[i]);
		sp_write_ok(vcpu, SP_OP_FEP_WRITE, sp_gpa(12, 7), val, sizes[i],
			    what);
		sp_write_ok(vcpu, SP_OP_FEP_WRITE, sp_gpa(12, 8) - sizes[i], val,
			    sizes[i], what);
		sp_write_ok(vcpu, SP_OP_FEP_WRITE, sp_gpa(13, 6) + 3, val,
			    sizes[i], "emulated write to an unprotected page");

		snprintf(what, sizeof(what),
			 "emulated %lu-byte write into a denied sub-page",
			 sizes[i]);
		dst = sp_gpa(12, 6) + 3 + 8 * i;
		sp_start_write(vm, SP_OP_FEP_WRITE, dst, val, sizes[i]);
		sp_write_denied(vcpu, dst, val, sizes[i], sp_gpa(12, 6), page,
				i & 1 ? SP_ALL : map | BIT(6), what);
		subpage_set_one(vm, page, map);
	}

	sp_start_write(vm, SP_OP_FEP_WRITE, sp_gpa(12, 8) - 4, SP_VALUE, 8);
	/* KVM's emulator decides these in both modes: exactly. */
	sp_write_denied(vcpu, sp_gpa(12, 8) - 4, SP_VALUE, 8, sp_gpa(12, 8),
			page, SP_ALL, "emulated write straddling (permitted, denied)");

	subpage_set_one(vm, sp_gpa(14, 0), sp_deny(BIT(0)));
	sp_start_write(vm, SP_OP_FEP_WRITE, sp_gpa(14, 0) - 4, SP_VALUE2, 8);
	sp_write_denied(vcpu, sp_gpa(14, 0) - 4, SP_VALUE2, 8, sp_gpa(14, 0),
			sp_gpa(14, 0), SP_ALL,
			"emulated write straddling (unprotected page, denied sub-page)");

	subpage_set_one(vm, page, map);
	sp_start(vm, SP_OP_FEP_READ, 8, 0, sp_gpa(12, 6) + 5, 0, 0);
	sp_expect_done(vcpu, "emulated read of a denied sub-page");
	memcpy(&val, sp_hva(vm, sp_gpa(12, 6) + 5), sizeof(val));
	TEST_ASSERT(sp_result.val == val,
		    "Emulated read of a denied sub-page: 0x%lx, the memory holds 0x%lx",
		    sp_result.val, val);
	sp_assert_memory(vm, "emulated read of a denied sub-page");

	dst = sp_gpa(12, 6) + 64;
	memcpy(&val, sp_hva(vm, dst), sizeof(val));
	sp_start(vm, SP_OP_FEP_CMPXCHG, 8, dst, val, SP_VALUE, 0);
	sp_write_denied(vcpu, dst, SP_VALUE, 8, sp_gpa(12, 6), page, SP_ALL,
			"emulated cmpxchg on a denied sub-page");
	assert_cmpxchg(true, val, "emulated cmpxchg on a denied sub-page, retried");
	kvm_vm_free(vm);
	return true;
}

/*
 * Case 5: movsq from MMIO (no memslot) into a denied sub-page: the emulator
 * reads the MMIO once, then exits for the sub-page, writing nothing; it
 * completes once allowed.  Into a permitted sub-page it completes.
 */
static bool test_mmio_movs(void)
{
	const uint64_t mmio_value = SP_MMIO_BYTE * 0x0101010101010101ull;
	uint64_t page = sp_gpa(15, 0), dst = sp_gpa(15, 2) + 8;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);

	subpage_set_one(vm, page, sp_deny(BIT(2)));
	sp_start(vm, SP_OP_MOVSQ, 8, dst, SP_MMIO_GPA, 0, 0);
	sp_expect_denied(vcpu, sp_gpa(15, 2), "movs from MMIO to a denied sub-page");
	TEST_ASSERT(sp_seen.reads == 1,
		    "movs from MMIO to a denied sub-page: %d MMIO reads, expected 1",
		    sp_seen.reads);
	sp_assert_memory(vm, "movs from MMIO to a denied sub-page");
	subpage_set_one(vm, page, sp_deny(BIT(30)));
	sp_expect_done(vcpu, "movs from MMIO, its sub-page allowed");
	sp_expect_value(dst, mmio_value, 8);
	sp_assert_memory(vm, "movs from MMIO, its sub-page allowed");
	TEST_ASSERT(sp_result.rdi == dst + 8 && sp_result.rsi == SP_MMIO_GPA + 8,
		    "movs from MMIO ended with RSI 0x%lx, RDI 0x%lx",
		    sp_result.rsi, sp_result.rdi);

	subpage_set_one(vm, page, sp_deny(BIT(2)));
	sp_start(vm, SP_OP_MOVSQ, 8, sp_gpa(15, 3), SP_MMIO_GPA, 0, 0);
	sp_expect_done(vcpu, "movs from MMIO to a permitted sub-page");
	sp_expect_value(sp_gpa(15, 3), mmio_value, 8);
	sp_assert_memory(vm, "movs from MMIO to a permitted sub-page");
	kvm_vm_free(vm);
	return true;
}

/* The first byte of fistpll (%rdi), where RIP must be at the exit. */
#define FISTP_OPCODE	0xdf

/*
 * Case 6: x87 fistp, which KVM's emulator does not implement, storing 8
 * bytes to a permitted sub-page of a protected page.  In software mode KVM
 * emulates every write to such a page: KVM_RUN returns
 * KVM_EXIT_INTERNAL_ERROR (KVM_INTERNAL_ERROR_EMULATION) with RIP at the
 * instruction, nothing written and no exception queued for the guest (patch
 * 0043); once the VMM drops the map, KVM_RUN lets the CPU run it.  Buggy
 * kernel: KVM queues #UD as for an instruction the guest got wrong, which
 * the guest takes when KVM_RUN resumes it.  In hardware mode the CPU writes
 * the permitted sub-page itself, without an exit.
 */
static bool test_unemulated_write(void)
{
	const char *what = "x87 fistp to a permitted sub-page";
	uint64_t page = sp_gpa(11, 0), dst = sp_gpa(11, 1) + 8;
	struct kvm_vcpu_events events;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = sp_create_vm(&vcpu);
	struct kvm_run *run = vcpu->run;
	struct kvm_regs regs;
	uint8_t *insn;
	int r;

	subpage_set_one(vm, page, sp_deny(BIT(2)));
	if (!sp_software()) {
		sp_write_ok(vcpu, SP_OP_X87_STORE, dst, SP_VALUE, 8, what);
		kvm_vm_free(vm);
		return true;
	}

	sp_start_write(vm, SP_OP_X87_STORE, dst, SP_VALUE, 8);
	r = _vcpu_run(vcpu);
	TEST_ASSERT(!r && run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
		    run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION,
		    "%s: KVM_RUN returned %d (errno %d), exit reason %s, suberror %u; expected an emulation failure",
		    what, r, errno, exit_reason_str(run->exit_reason),
		    run->internal.suberror);
	vcpu_regs_get(vcpu, &regs);
	insn = addr_gva2hva(vm, regs.rip);
	TEST_ASSERT(insn[0] == FISTP_OPCODE,
		    "%s: RIP 0x%llx is not at the fistp (byte 0x%x)", what,
		    regs.rip, insn[0]);
	vcpu_events_get(vcpu, &events);
	TEST_ASSERT(!events.exception.injected && !events.exception.pending,
		    "%s: KVM queued exception %u for the guest", what,
		    events.exception.nr);
	sp_assert_memory(vm, what);

	subpage_set_one(vm, page, SP_ALL);
	sp_expect_done(vcpu, "x87 fistp retried once the map is dropped");
	sp_expect_value(dst, SP_VALUE, 8);
	sp_assert_memory(vm, "x87 fistp retried once the map is dropped");
	kvm_vm_free(vm);
	return true;
}

int main(int argc, char *argv[])
{
	static const struct memattr_case cases[] = {
		{ "1. rep stosb into denied sub-pages", test_rep_stosb },
		{ "2. rep movsb into denied sub-pages", test_rep_movsb },
		{ "3. lock cmpxchg and xchg", test_locked },
		{ "4. forced emulation", test_forced_emulation },
		{ "5. movs from MMIO", test_mmio_movs },
		{ "6. a write the emulator cannot run", test_unemulated_write },
	};

	TEST_REQUIRE(kvm_is_forced_emulation_enabled());
	sp_run_cases(cases, ARRAY_SIZE(cases), argc, argv);
	return 0;
}
