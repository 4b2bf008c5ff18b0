/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest and the host helpers of kvm_memattr_subpage_write_test and
 * kvm_memattr_subpage_emulator_test: a VM in one sub-page write protection
 * mode whose guest makes one write, read, string or locked instruction at a
 * time on SP_NPAGES test pages, and checks of the exits and of the whole
 * test memory after each instruction.
 */
#ifndef SELFTEST_KVM_MEMATTR_SUBPAGE_GUEST_H
#define SELFTEST_KVM_MEMATTR_SUBPAGE_GUEST_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_util.h"
#include "kvm_memattr_subpage_util.h"

/* The test pages, mapped at the same guest virtual address. */
#define SP_GPA		0xc0000000ull
#define SP_SLOT		10
#define SP_NPAGES	16
#define SP_SIZE		(SP_NPAGES * PAGE_SIZE)

/* A page of MMIO: no memslot behind it. */
#define SP_MMIO_GPA	0xe0000000ull
#define SP_MMIO_BYTE	0x5a

/*
 * The test pages hold bytes with bit 7 set (sp_fill()); what the guest
 * writes has bit 7 clear in every byte, so that each written byte shows.
 */
#define SP_VALUE	0x0112233445566778ull
#define SP_VALUE2	0x7061524334251607ull
#define SP_STOS_BYTE	0x3c

#define SP_DENIED_FLAGS	\
	(KVM_MEMORY_EXIT_FLAG_WRITE | KVM_MEMORY_EXIT_FLAG_SUBPAGE)
#define SP_ALL		SUBPAGE_ALL_WRITABLE

enum sp_op {
	SP_OP_WRITE,		/* mov of size bytes of val to dst */
	SP_OP_FEP_WRITE,	/* the same, forced emulation */
	SP_OP_READ,		/* mov of size bytes from src */
	SP_OP_FEP_READ,		/* movq from src, forced emulation */
	SP_OP_REP_STOSB,	/* count bytes of val to dst */
	SP_OP_REP_MOVSB,	/* count bytes from src to dst */
	SP_OP_MOVSQ,		/* 8 bytes from src to dst */
	SP_OP_CMPXCHG,		/* lock cmpxchgq val to dst if it holds src */
	SP_OP_FEP_CMPXCHG,	/* the same, forced emulation */
	SP_OP_XCHG,		/* xchgq val with dst */
	SP_OP_X87_STORE,	/* fistpll of val to dst: not emulated */
};

/* The command of the host, written before each instruction. */
static struct {
	uint64_t op, size, dst, src, val, count;
} sp_cmd;

/*
 * What the instruction left: the value read (RAX after cmpxchg, the old
 * value after xchg), ZF after cmpxchg, RCX, RDI and RSI after string ops.
 */
static struct {
	uint64_t val, zf, rcx, rdi, rsi;
} sp_result;

#define SP_STORE(prefix, size, dst, val)				\
do {									\
	switch (size) {							\
	case 1:								\
		asm volatile(prefix "movb %b0, (%1)"			\
			     : : "a"(val), "D"(dst) : "memory");	\
		break;							\
	case 2:								\
		asm volatile(prefix "movw %w0, (%1)"			\
			     : : "a"(val), "D"(dst) : "memory");	\
		break;							\
	case 4:								\
		asm volatile(prefix "movl %k0, (%1)"			\
			     : : "a"(val), "D"(dst) : "memory");	\
		break;							\
	case 8:								\
		asm volatile(prefix "movq %0, (%1)"			\
			     : : "a"(val), "D"(dst) : "memory");	\
		break;							\
	default:							\
		GUEST_FAIL("No %lu-byte store", size);			\
	}								\
} while (0)

#define SP_CMPXCHG(prefix, dst, expected, val, zf)			\
	asm volatile(prefix "lock cmpxchgq %[new], (%[ptr])"		\
		     : "+a"(expected), "=@ccz"(zf)			\
		     : [new] "r"(val), [ptr] "r"(dst) : "memory")

static uint64_t sp_guest_load(uint64_t size, uint64_t src)
{
	switch (size) {
	case 1:
		return *(volatile uint8_t *)src;
	case 2:
		return *(volatile uint16_t *)src;
	case 4:
		return *(volatile uint32_t *)src;
	case 8:
		return *(volatile uint64_t *)src;
	}
	GUEST_FAIL("No %lu-byte load", size);
	return 0;
}

static void sp_guest_code(void)
{
	uint64_t size, dst, src, val, count;
	bool zf;

	for (;;) {
		GUEST_SYNC(0);
		size = READ_ONCE(sp_cmd.size);
		dst = READ_ONCE(sp_cmd.dst);
		src = READ_ONCE(sp_cmd.src);
		val = READ_ONCE(sp_cmd.val);
		count = READ_ONCE(sp_cmd.count);
		zf = false;

		switch (READ_ONCE(sp_cmd.op)) {
		case SP_OP_WRITE:
			SP_STORE("", size, dst, val);
			break;
		case SP_OP_FEP_WRITE:
			SP_STORE(KVM_FEP, size, dst, val);
			break;
		case SP_OP_READ:
			val = sp_guest_load(size, src);
			break;
		case SP_OP_FEP_READ:
			asm volatile(KVM_FEP "movq (%1), %0"
				     : "=a"(val) : "S"(src) : "memory");
			break;
		case SP_OP_REP_STOSB:
			asm volatile("rep stosb" : "+D"(dst), "+c"(count)
				     : "a"(val) : "memory");
			break;
		case SP_OP_REP_MOVSB:
			asm volatile("rep movsb"
				     : "+S"(src), "+D"(dst), "+c"(count)
				     : : "memory");
			break;
		case SP_OP_MOVSQ:
			asm volatile("movsq" : "+S"(src), "+D"(dst) : : "memory");
			break;
		case SP_OP_CMPXCHG:
			SP_CMPXCHG("", dst, src, val, zf);
			val = src;
			break;
		case SP_OP_FEP_CMPXCHG:
			SP_CMPXCHG(KVM_FEP, dst, src, val, zf);
			val = src;
			break;
		case SP_OP_XCHG:
			asm volatile("xchgq %0, (%1)" : "+r"(val) : "r"(dst)
				     : "memory");
			break;
		case SP_OP_X87_STORE:
			/* fistpll (%rdi) is df 3f: no prefix. */
			asm volatile("fildll %1\n\t"
				     "fistpll (%0)"
				     : : "D"(dst), "m"(val) : "memory");
			break;
		default:
			GUEST_FAIL("Unknown op %lu", sp_cmd.op);
		}
		WRITE_ONCE(sp_result.val, val);
		WRITE_ONCE(sp_result.zf, zf);
		WRITE_ONCE(sp_result.rcx, count);
		WRITE_ONCE(sp_result.rdi, dst);
		WRITE_ONCE(sp_result.rsi, src);
		GUEST_SYNC(1);
	}
}

/* The mode the cases run in, KVM_SUBPAGE_WP_*. */
static uint64_t sp_mode;

static inline bool sp_software(void)
{
	return sp_mode == KVM_SUBPAGE_WP_SOFTWARE;
}

/* The gpa of sub-page @subpage of test page @page. */
static inline uint64_t sp_gpa(int page, int subpage)
{
	return SP_GPA + page * PAGE_SIZE + subpage * KVM_SUBPAGE_SIZE;
}

/* The map of a page in which the sub-pages of @denied, BIT(i)s, are denied. */
static inline uint32_t sp_deny(uint32_t denied)
{
	return ~denied;
}

/* What the host saw of the guest's MMIO since sp_start(). */
static struct {
	int reads;
} sp_seen;

/* The test memory as it must be (sp_expect_*()) and sp_assert_memory(). */
static uint8_t sp_expected[SP_SIZE];

static inline uint8_t *sp_hva(struct kvm_vm *vm, uint64_t gpa)
{
	return addr_gpa2hva(vm, gpa);
}

/* Fill the test pages with bytes that differ from sub-page to sub-page. */
static inline void sp_fill(struct kvm_vm *vm)
{
	uint8_t *p = sp_hva(vm, SP_GPA);
	int i;

	for (i = 0; i < SP_SIZE; i++)
		p[i] = 0x80 | ((i + 3 * (i / KVM_SUBPAGE_SIZE)) & 0x7f);
	memcpy(sp_expected, p, SP_SIZE);
}

/* Take the test memory as it is now as the expected one. */
static inline void sp_snapshot(struct kvm_vm *vm)
{
	memcpy(sp_expected, sp_hva(vm, SP_GPA), SP_SIZE);
}

/* @len bytes at @gpa must hold @bytes. */
static inline void sp_expect(uint64_t gpa, const void *bytes, size_t len)
{
	TEST_ASSERT(gpa >= SP_GPA && gpa + len <= SP_GPA + SP_SIZE,
		    "[0x%lx, +%zu) is outside the test pages", gpa, len);
	memcpy(sp_expected + (gpa - SP_GPA), bytes, len);
}

/* The @size low bytes of @val at @gpa, as the guest's mov stores them. */
static inline void sp_expect_value(uint64_t gpa, uint64_t val, size_t size)
{
	sp_expect(gpa, &val, size);
}

/* The test memory holds what it should, and nothing else changed. */
static inline void sp_assert_memory(struct kvm_vm *vm, const char *what)
{
	const uint8_t *p = sp_hva(vm, SP_GPA);
	int i;

	if (!memcmp(p, sp_expected, SP_SIZE))
		return;
	for (i = 0; i < SP_SIZE; i++)
		TEST_ASSERT(p[i] == sp_expected[i],
			    "%s: the byte at 0x%llx is 0x%x, expected 0x%x",
			    what, SP_GPA + i, p[i], sp_expected[i]);
}

/* Give the guest, parked at GUEST_SYNC(0), its next instruction. */
static inline void sp_start(struct kvm_vm *vm, enum sp_op op, uint64_t size,
			    uint64_t dst, uint64_t src, uint64_t val,
			    uint64_t count)
{
	sp_cmd.op = op;
	sp_cmd.size = size;
	sp_cmd.dst = dst;
	sp_cmd.src = src;
	sp_cmd.val = val;
	sp_cmd.count = count;
	sync_global_to_guest(vm, sp_cmd);
	memset(&sp_seen, 0, sizeof(sp_seen));
}

static inline void sp_start_write(struct kvm_vm *vm, enum sp_op op,
				  uint64_t dst, uint64_t val, uint64_t size)
{
	sp_start(vm, op, size, dst, 0, val, 0);
}

/*
 * Run the guest, answering its MMIO reads with SP_MMIO_BYTE, until it
 * syncs (returns 0) or KVM_RUN fails (returns -1, errno set).
 */
static inline int sp_run(struct kvm_vcpu *vcpu, uint64_t stage)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;

	for (;;) {
		if (_vcpu_run(vcpu))
			return -1;
		if (run->exit_reason == KVM_EXIT_MMIO) {
			TEST_ASSERT((run->mmio.phys_addr & PAGE_MASK) == SP_MMIO_GPA &&
				    !run->mmio.is_write,
				    "Unexpected MMIO %s at 0x%llx",
				    run->mmio.is_write ? "write" : "read",
				    run->mmio.phys_addr);
			memset(run->mmio.data, SP_MMIO_BYTE, run->mmio.len);
			sp_seen.reads++;
			continue;
		}
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			TEST_ASSERT(uc.args[1] == stage,
				    "Expected stage %lu, got %lu", stage,
				    uc.args[1]);
			return 0;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
		default:
			TEST_FAIL("Unexpected exit %s",
				  exit_reason_str(run->exit_reason));
		}
	}
}

/* The instruction completes, without an exit, and the guest is parked. */
static inline void sp_expect_done(struct kvm_vcpu *vcpu, const char *what)
{
	struct kvm_run *run = vcpu->run;
	int stage, r;

	for (stage = 1; stage >= 0; stage--) {
		r = sp_run(vcpu, stage);
		TEST_ASSERT(!r,
			    "%s: KVM_RUN failed (errno %d): exit reason %s, memory fault at 0x%llx, size 0x%llx, flags 0x%llx",
			    what, errno, exit_reason_str(run->exit_reason),
			    run->memory_fault.gpa, run->memory_fault.size,
			    run->memory_fault.flags);
	}
	sync_global_from_guest(vcpu->vm, sp_result);
}

/* The guest writes @size bytes of @val at @dst with @op, without an exit. */
static inline void sp_write_ok(struct kvm_vcpu *vcpu, enum sp_op op,
			       uint64_t dst, uint64_t val, uint64_t size,
			       const char *what)
{
	sp_start_write(vcpu->vm, op, dst, val, size);
	sp_expect_done(vcpu, what);
	sp_expect_value(dst, val, size);
	sp_assert_memory(vcpu->vm, what);
}

/* KVM_RUN exits for a write denied by the map of the sub-page at @gpa. */
static inline void sp_expect_denied(struct kvm_vcpu *vcpu, uint64_t gpa,
				    const char *what)
{
	assert_memory_fault(vcpu, sp_run(vcpu, 1), gpa, KVM_SUBPAGE_SIZE,
			    SP_DENIED_FLAGS, what);
}

/*
 * The write the guest was given (@size bytes of @val at @dst) exits for the
 * sub-page at @denied and changes nothing; once the map of the page at
 * @page is @relaxed, KVM_RUN retries the instruction and it completes.
 */
static inline void sp_write_denied(struct kvm_vcpu *vcpu, uint64_t dst,
				   uint64_t val, uint64_t size, uint64_t denied,
				   uint64_t page, uint32_t relaxed,
				   const char *what)
{
	sp_expect_denied(vcpu, denied, what);
	sp_assert_memory(vcpu->vm, what);
	subpage_set_one(vcpu->vm, page, relaxed);
	sp_expect_done(vcpu, what);
	sp_expect_value(dst, val, size);
	sp_assert_memory(vcpu->vm, what);
}

/*
 * The write the guest was given straddles sub-pages, the first one it
 * touches that is denied at @denied.  Software mode: the emulator exits for
 * @denied and writes none of the bytes.  Hardware mode: the CPU decides
 * whether the write exits (then as in software mode) or completes.  Either
 * way, once the page at @page is unprotected, the write has completed.
 */
static inline void sp_write_straddling(struct kvm_vcpu *vcpu, uint64_t dst,
				       uint64_t val, uint64_t size,
				       uint64_t denied, uint64_t page,
				       const char *what)
{
	struct kvm_vm *vm = vcpu->vm;
	int r;

	if (sp_software()) {
		sp_write_denied(vcpu, dst, val, size, denied, page, SP_ALL, what);
		return;
	}

	r = sp_run(vcpu, 1);
	if (!r) {
		pr_info("    %s: the CPU completed it\n", what);
		TEST_ASSERT(!sp_run(vcpu, 0), "%s: KVM_RUN failed", what);
		subpage_set_one(vm, page, SP_ALL);
	} else {
		pr_info("    %s: the CPU denied it\n", what);
		assert_memory_fault(vcpu, r, denied, KVM_SUBPAGE_SIZE,
				    SP_DENIED_FLAGS, what);
		sp_assert_memory(vm, what);
		subpage_set_one(vm, page, SP_ALL);
		sp_expect_done(vcpu, what);
	}
	sp_expect_value(dst, val, size);
	sp_assert_memory(vm, what);
}

/*
 * A VM in mode sp_mode with the test pages, filled, and its guest parked
 * at GUEST_SYNC(0).  The mode is chosen before the vCPU exists.
 */
static inline struct kvm_vm *sp_create_vm(struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = vm_create(1);

	subpage_enable(vm, sp_mode);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, SP_GPA, SP_SLOT,
				    SP_NPAGES, 0);
	virt_map(vm, SP_GPA, SP_GPA, SP_NPAGES);
	virt_map(vm, SP_MMIO_GPA, SP_MMIO_GPA, 1);
	*vcpu = vm_vcpu_add(vm, 0, sp_guest_code);
	sp_fill(vm);
	TEST_ASSERT(!sp_run(*vcpu, 0), "The guest did not start");
	return vm;
}

/*
 * Run the cases in software mode, which every VM of the module has, then
 * in hardware mode where it is advertised; where it is not, enabling it
 * must fail.
 */
static inline void sp_run_cases(const struct memattr_case *cases, int nr_cases,
				int argc, char *argv[])
{
	struct kvm_vm *vm = vm_create_barebones();
	uint32_t modes = subpage_modes(vm);

	TEST_REQUIRE(modes & KVM_SUBPAGE_WP_SOFTWARE);
	if (!(modes & KVM_SUBPAGE_WP_HARDWARE))
		TEST_ASSERT(__subpage_enable(vm, KVM_SUBPAGE_WP_HARDWARE) == -1 &&
			    errno == EINVAL,
			    "Enabling the hardware mode, not advertised (modes 0x%x), should fail with EINVAL",
			    modes);
	kvm_vm_free(vm);

	pr_info("Software mode:\n");
	sp_mode = KVM_SUBPAGE_WP_SOFTWARE;
	memattr_run_cases(cases, nr_cases, argc, argv);

	if (!(modes & KVM_SUBPAGE_WP_HARDWARE)) {
		pr_info("Hardware mode: not advertised, enabling it fails\n");
		return;
	}
	pr_info("Hardware mode:\n");
	sp_mode = KVM_SUBPAGE_WP_HARDWARE;
	memattr_run_cases(cases, nr_cases, argc, argv);
}

#endif /* SELFTEST_KVM_MEMATTR_SUBPAGE_GUEST_H */
