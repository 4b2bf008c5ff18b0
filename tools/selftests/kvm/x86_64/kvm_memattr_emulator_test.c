// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes inside KVM's instruction emulator: the accesses that KVM
 * makes to guest memory on behalf of an emulated instruction obey NO_READ,
 * NO_WRITE and NO_EXEC as if the CPU had made them, and a denied access ends
 * in KVM_EXIT_MEMORY_FAULT, never in a fault/emulate loop.
 *
 * The instructions reach the emulator the ways they do in real guests (MMIO
 * operands, string port I/O) or through the forced emulation prefix.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/kvm_memattr.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_util.h"

#define TEST_GPA	0xc0000000ull
#define TEST_SLOT	10
#define TEST_NPAGES	16

/* A page of MMIO: no memslot behind it. */
#define MMIO_GPA	0xe0000000ull

#define TEST_PORT	0x3f0
#define MMIO_BYTE	0xa5
#define PORT_BYTE	0x3c
#define MEMORY_BYTE	0x11
#define WRITE_VALUE	0x0123456789abcdefull
#define STRING_LEN	8


enum emulated_op {
	OP_READ,
	OP_WRITE,
	OP_FEP_WRITE,
	OP_FEP_READ,
	OP_FEP_CMPXCHG,
	OP_MOVS,
	OP_FEP_MOVS,
	OP_REP_OUTSB,
	OP_REP_INSB,
	OP_CALL,
};

/* The command of the host, written before each instruction. */
static uint64_t guest_op;
static uint64_t guest_src;
static uint64_t guest_dst;
static uint64_t guest_result;

static void guest_code(void)
{
	uint64_t src, dst, value, count;

	for (;;) {
		GUEST_SYNC(0);
		src = READ_ONCE(guest_src);
		dst = READ_ONCE(guest_dst);
		count = STRING_LEN;
		value = 0;

		switch (READ_ONCE(guest_op)) {
		case OP_READ:
			value = READ_ONCE(*(volatile uint64_t *)src);
			break;
		case OP_WRITE:
			WRITE_ONCE(*(volatile uint64_t *)dst, WRITE_VALUE);
			break;
		case OP_FEP_WRITE:
			asm volatile(KVM_FEP "movq %0, (%1)"
				     : : "a"(WRITE_VALUE), "D"(dst) : "memory");
			break;
		case OP_FEP_READ:
			asm volatile(KVM_FEP "movq (%1), %0"
				     : "=a"(value) : "S"(src) : "memory");
			break;
		case OP_FEP_CMPXCHG:
			value = MEMORY_BYTE * 0x0101010101010101ull;
			asm volatile(KVM_FEP "lock cmpxchgq %2, (%1)"
				     : "+a"(value) : "D"(dst), "c"(WRITE_VALUE)
				     : "memory");
			break;
		case OP_MOVS:
			asm volatile("movsq" : "+S"(src), "+D"(dst) : : "memory");
			break;
		case OP_FEP_MOVS:
			asm volatile(KVM_FEP "movsq"
				     : "+S"(src), "+D"(dst) : : "memory");
			break;
		case OP_REP_OUTSB:
			asm volatile("rep outsb" : "+S"(src), "+c"(count)
				     : "d"(TEST_PORT) : "memory");
			break;
		case OP_REP_INSB:
			asm volatile("rep insb" : "+D"(dst), "+c"(count)
				     : "d"(TEST_PORT) : "memory");
			break;
		case OP_CALL:
			value = ((uint64_t (*)(void))src)();
			break;
		}
		WRITE_ONCE(guest_result, value);
		GUEST_SYNC(1);
	}
}

/* What the host saw of the guest's MMIO and port I/O since start_op(). */
static struct {
	int mmio_reads, mmio_writes, port_ins, port_outs;
	uint8_t written[STRING_LEN];
} seen;

static uint64_t page_gpa(int page)
{
	return TEST_GPA + page * PAGE_SIZE;
}

static uint8_t *page_hva(struct kvm_vm *vm, int page)
{
	return addr_gpa2hva(vm, page_gpa(page));
}

static int __set_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t attributes)
{
	struct kvm_memory_attributes attr = {
		.address = gpa,
		.size = PAGE_SIZE,
		.attributes = attributes,
	};

	return __vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr);
}

static void set_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t attributes)
{
	TEST_ASSERT(!__set_attributes(vm, gpa, attributes),
		    "SET 0x%lx at 0x%lx failed: %s", attributes, gpa, strerror(errno));
}

static void start_op(struct kvm_vm *vm, enum emulated_op op, uint64_t src,
		     uint64_t dst)
{
	guest_op = op;
	guest_src = src;
	guest_dst = dst;
	sync_global_to_guest(vm, guest_op);
	sync_global_to_guest(vm, guest_src);
	sync_global_to_guest(vm, guest_dst);
	memset(&seen, 0, sizeof(seen));
}

static void serve_mmio(struct kvm_run *run)
{
	TEST_ASSERT((run->mmio.phys_addr & PAGE_MASK) == MMIO_GPA,
		    "MMIO exit at 0x%llx", run->mmio.phys_addr);
	if (run->mmio.is_write) {
		seen.mmio_writes++;
		memcpy(seen.written, run->mmio.data,
		       min_t(uint32_t, run->mmio.len, STRING_LEN));
	} else {
		seen.mmio_reads++;
		memset(run->mmio.data, MMIO_BYTE, run->mmio.len);
	}
}

static void serve_port(struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t len = run->io.size * run->io.count;

	TEST_ASSERT(run->io.size == 1 && len <= STRING_LEN,
		    "Port I/O of %u x %u bytes", run->io.count, run->io.size);
	if (run->io.direction == KVM_EXIT_IO_OUT) {
		TEST_ASSERT(seen.port_outs + len <= STRING_LEN,
			    "More bytes written to the port than the guest's string");
		memcpy(seen.written + seen.port_outs, data, len);
		seen.port_outs += len;
	} else {
		memset(data, PORT_BYTE, len);
		seen.port_ins += len;
	}
}

/*
 * Run the guest, serving its MMIO and port I/O, until it syncs (returns 0)
 * or KVM_RUN fails (returns -1, errno set).
 */
static int run_guest(struct kvm_vcpu *vcpu, uint64_t stage)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;

	for (;;) {
		if (_vcpu_run(vcpu))
			return -1;
		if (run->exit_reason == KVM_EXIT_MMIO) {
			serve_mmio(run);
			continue;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == TEST_PORT) {
			serve_port(run);
			continue;
		}
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			TEST_ASSERT(uc.args[1] == stage, "Expected stage %lu, got %lu",
				    stage, uc.args[1]);
			return 0;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
		default:
			TEST_FAIL("Unexpected exit %s", exit_reason_str(run->exit_reason));
		}
	}
}

/* The emulated instruction exits for a denied access to the page at @gpa. */
static void expect_fault(struct kvm_vcpu *vcpu, const char *what, uint64_t gpa,
			 uint64_t exit_flag)
{
	assert_memory_fault(vcpu, run_guest(vcpu, 1), gpa, PAGE_SIZE, exit_flag,
			    what);
}

/* The instruction completes and the guest is back at its command loop. */
static void expect_done(struct kvm_vcpu *vcpu, const char *what)
{
	TEST_ASSERT(!run_guest(vcpu, 1), "%s: KVM_RUN failed, errno %d", what, errno);
	TEST_ASSERT(!run_guest(vcpu, 0), "%s: KVM_RUN failed, errno %d", what, errno);
}

/*
 * Clear the attributes of the page at @gpa so that the instruction that
 * exited completes, then give the page @attributes.
 */
static void clear_and_complete(struct kvm_vcpu *vcpu, const char *what,
			       uint64_t gpa, uint64_t attributes)
{
	set_attributes(vcpu->vm, gpa, 0);
	expect_done(vcpu, what);
	if (attributes)
		set_attributes(vcpu->vm, gpa, attributes);
}

static void fill_pages(struct kvm_vm *vm)
{
	memset(page_hva(vm, 0), MEMORY_BYTE, TEST_NPAGES * PAGE_SIZE);
}

static void assert_bytes(const uint8_t *p, uint8_t byte, size_t len,
			 const char *what)
{
	size_t i;

	for (i = 0; i < len; i++)
		TEST_ASSERT(p[i] == byte, "%s: byte %zu is 0x%x, expected 0x%x",
			    what, i, p[i], byte);
}

/* A plain emulated write, and a locked cmpxchg, to a NO_WRITE page. */
static void test_writes(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;
	uint64_t *value = (uint64_t *)page_hva(vm, 1);

	fill_pages(vm);
	set_attributes(vm, page_gpa(1), NW);
	start_op(vm, OP_FEP_WRITE, 0, page_gpa(1));
	expect_fault(vcpu, "emulated write", page_gpa(1), KVM_MEMORY_EXIT_FLAG_WRITE);
	assert_bytes((uint8_t *)value, MEMORY_BYTE, PAGE_SIZE, "emulated write");
	clear_and_complete(vcpu, "emulated write", page_gpa(1), 0);
	TEST_ASSERT_EQ(*value, WRITE_VALUE);

	fill_pages(vm);
	set_attributes(vm, page_gpa(1), NW | NX);
	start_op(vm, OP_FEP_CMPXCHG, 0, page_gpa(1));
	expect_fault(vcpu, "emulated cmpxchg", page_gpa(1), KVM_MEMORY_EXIT_FLAG_WRITE);
	assert_bytes((uint8_t *)value, MEMORY_BYTE, PAGE_SIZE, "emulated cmpxchg");
	clear_and_complete(vcpu, "emulated cmpxchg", page_gpa(1), 0);
	TEST_ASSERT_EQ(*value, WRITE_VALUE);
}

/*
 * A write that crosses into a NO_WRITE page exits for the second page and
 * writes neither: the CPU writes nothing when a split access faults.
 */
static void test_page_crossing_write(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;

	fill_pages(vm);
	set_attributes(vm, page_gpa(3), NW);
	start_op(vm, OP_FEP_WRITE, 0, page_gpa(3) - 4);
	expect_fault(vcpu, "page-crossing write", page_gpa(3),
		     KVM_MEMORY_EXIT_FLAG_WRITE);
	assert_bytes(page_hva(vm, 3) - 4, MEMORY_BYTE, 8, "page-crossing write");
	clear_and_complete(vcpu, "page-crossing write", page_gpa(3), 0);
	TEST_ASSERT_EQ(*(uint64_t *)(page_hva(vm, 3) - 4), WRITE_VALUE);
}

/*
 * MMIO instructions with a protected memory operand: the MMIO side is
 * served, the denied memory side exits; the allowed one completes.
 */
static void test_movs(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;

	fill_pages(vm);
	set_attributes(vm, page_gpa(4), NW);
	start_op(vm, OP_MOVS, MMIO_GPA, page_gpa(4));
	expect_fault(vcpu, "movs from MMIO", page_gpa(4), KVM_MEMORY_EXIT_FLAG_WRITE);
	TEST_ASSERT_EQ(seen.mmio_reads, 1);
	assert_bytes(page_hva(vm, 4), MEMORY_BYTE, PAGE_SIZE, "movs from MMIO");
	clear_and_complete(vcpu, "movs from MMIO", page_gpa(4), 0);
	assert_bytes(page_hva(vm, 4), MMIO_BYTE, 8, "movs from MMIO");

	/* Reading a NO_WRITE|NO_EXEC page is allowed. */
	fill_pages(vm);
	set_attributes(vm, page_gpa(4), NW | NX);
	start_op(vm, OP_MOVS, page_gpa(4), MMIO_GPA);
	expect_done(vcpu, "movs to MMIO");
	TEST_ASSERT_EQ(seen.mmio_writes, 1);
	assert_bytes(seen.written, MEMORY_BYTE, 8, "movs to MMIO");
	set_attributes(vm, page_gpa(4), 0);
}

/* String port I/O, which KVM always emulates. */
static void test_string_io(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;

	fill_pages(vm);
	set_attributes(vm, page_gpa(5), NW);
	start_op(vm, OP_REP_INSB, 0, page_gpa(5));
	expect_fault(vcpu, "rep insb", page_gpa(5), KVM_MEMORY_EXIT_FLAG_WRITE);
	assert_bytes(page_hva(vm, 5), MEMORY_BYTE, PAGE_SIZE, "rep insb");
	clear_and_complete(vcpu, "rep insb", page_gpa(5), 0);
	assert_bytes(page_hva(vm, 5), PORT_BYTE, STRING_LEN, "rep insb");

	fill_pages(vm);
	set_attributes(vm, page_gpa(5), NW | NX);
	start_op(vm, OP_REP_OUTSB, page_gpa(5), 0);
	expect_done(vcpu, "rep outsb");
	TEST_ASSERT_EQ(seen.port_outs, STRING_LEN);
	assert_bytes(seen.written, MEMORY_BYTE, STRING_LEN, "rep outsb");
	set_attributes(vm, page_gpa(5), 0);
}

/*
 * Put code at the end of page 6 whose emulated instruction goes on into
 * page 7: the forced emulation prefix, "movabs $WRITE_VALUE, %rax" across
 * the page boundary, and "ret" in page 7.  Give page 7 @attributes and make
 * the guest call the code.
 */
static void start_crossing_call(struct kvm_vcpu *vcpu, uint64_t attributes)
{
	static const uint8_t fep[] = { 0x0f, 0x0b, 'k', 'v', 'm' };
	struct kvm_vm *vm = vcpu->vm;
	uint64_t value = WRITE_VALUE;
	uint8_t *p = page_hva(vm, 7) - 8;

	fill_pages(vm);
	memcpy(p, fep, sizeof(fep));
	p[5] = 0x48;
	p[6] = 0xb8;
	memcpy(p + 7, &value, sizeof(value));
	p[15] = 0xc3;
	set_attributes(vm, page_gpa(7), attributes);
	start_op(vm, OP_CALL, page_gpa(7) - 8, 0);
}

/* The code of start_crossing_call() ran to its end. */
static void assert_crossing_call_returned(struct kvm_vm *vm)
{
	sync_global_from_guest(vm, guest_result);
	TEST_ASSERT_EQ(guest_result, WRITE_VALUE);
}

/* The emulator fetches the rest of an instruction from a NO_EXEC page. */
static void test_page_crossing_fetch(struct kvm_vcpu *vcpu)
{
	start_crossing_call(vcpu, NX);
	expect_fault(vcpu, "page-crossing fetch", page_gpa(7),
		     KVM_MEMORY_EXIT_FLAG_EXEC);
	clear_and_complete(vcpu, "page-crossing fetch", page_gpa(7), 0);
	assert_crossing_call_returned(vcpu->vm);
}

/*
 * Execute-only pages (EPT): the emulator may fetch from them, but neither
 * read nor write them, whatever the instruction.
 */
static void test_exec_only(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;

	start_crossing_call(vcpu, XO);
	expect_done(vcpu, "fetch from an execute-only page");
	assert_crossing_call_returned(vm);

	start_op(vm, OP_FEP_READ, page_gpa(7) - 4, 0);
	expect_fault(vcpu, "page-crossing read of an execute-only page",
		     page_gpa(7), KVM_MEMORY_EXIT_FLAG_READ);
	clear_and_complete(vcpu, "page-crossing read of an execute-only page",
			   page_gpa(7), XO);

	start_op(vm, OP_FEP_WRITE, 0, page_gpa(7) + 64);
	expect_fault(vcpu, "emulated write of an execute-only page",
		     page_gpa(7), KVM_MEMORY_EXIT_FLAG_WRITE);
	assert_bytes(page_hva(vm, 7) + 64, MEMORY_BYTE, 8,
		     "emulated write of an execute-only page");
	clear_and_complete(vcpu, "emulated write of an execute-only page",
			   page_gpa(7), 0);
	fill_pages(vm);
	set_attributes(vm, page_gpa(7), XO);

	start_op(vm, OP_FEP_MOVS, page_gpa(7) + 64, MMIO_GPA);
	expect_fault(vcpu, "movs from an execute-only page to MMIO",
		     page_gpa(7), KVM_MEMORY_EXIT_FLAG_READ);
	TEST_ASSERT_EQ(seen.mmio_writes, 0);
	clear_and_complete(vcpu, "movs from an execute-only page to MMIO",
			   page_gpa(7), 0);
	assert_bytes(seen.written, MEMORY_BYTE, 8, "movs to MMIO");
	set_attributes(vm, page_gpa(7), XO);

	start_op(vm, OP_REP_OUTSB, page_gpa(7) + 64, 0);
	expect_fault(vcpu, "rep outsb from an execute-only page", page_gpa(7),
		     KVM_MEMORY_EXIT_FLAG_READ);
	TEST_ASSERT_EQ(seen.port_outs, 0);
	clear_and_complete(vcpu, "rep outsb from an execute-only page",
			   page_gpa(7), 0);
	assert_bytes(seen.written, MEMORY_BYTE, STRING_LEN, "rep outsb");
}

/* KVM_CAP_MEMORY_ATTRIBUTES_EMULATED: off by default, strict arguments. */
static void enable_emulated_modes(struct kvm_vm *vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MEMORY_ATTRIBUTES_EMULATED };
	int bit, arg;

	TEST_ASSERT_EQ(vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES_EMULATED), 1);
	TEST_ASSERT(__set_attributes(vm, page_gpa(8), NR | NX) == -1 &&
		    errno == EINVAL,
		    "Write-only must be refused until the capability is enabled");
	TEST_ASSERT(__set_attributes(vm, page_gpa(8), NR) == -1 && errno == EINVAL,
		    "Write+execute must be refused until the capability is enabled");

	for (bit = 0; bit < 32; bit++) {
		cap.flags = BIT(bit);
		TEST_ASSERT(__vm_ioctl(vm, KVM_ENABLE_CAP, &cap) == -1 &&
			    errno == EINVAL,
			    "KVM_ENABLE_CAP with flags bit %d should fail", bit);
	}
	cap.flags = 0;
	for (arg = 0; arg < 4; arg++) {
		for (bit = 0; bit < 64; bit++) {
			cap.args[arg] = BIT_ULL(bit);
			TEST_ASSERT(__vm_ioctl(vm, KVM_ENABLE_CAP, &cap) == -1 &&
				    errno == EINVAL,
				    "KVM_ENABLE_CAP with args[%d] bit %d should fail",
				    arg, bit);
		}
		cap.args[arg] = 0;
	}
	TEST_ASSERT(__set_attributes(vm, page_gpa(8), NR | NX) == -1 &&
		    errno == EINVAL, "A refused KVM_ENABLE_CAP enabled the modes");

	vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
	TEST_ASSERT(vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES) & NR,
		    "NO_READ must be advertised once writes can be emulated");
}

/*
 * The emulated access modes: the write completes, in the emulator; reads,
 * and fetches where execute is not allowed, exit.
 */
static void test_emulated_modes(struct kvm_vcpu *vcpu, bool exec_only)
{
	struct kvm_vm *vm = vcpu->vm;
	uint64_t *value = (uint64_t *)(page_hva(vm, 8) + 64);

	enable_emulated_modes(vm);

	fill_pages(vm);
	*page_hva(vm, 8) = 0xc3;	/* ret */
	set_attributes(vm, page_gpa(8), NR | NX);
	start_op(vm, OP_WRITE, 0, page_gpa(8) + 64);
	expect_done(vcpu, "write to a write-only page");
	TEST_ASSERT_EQ(*value, WRITE_VALUE);

	start_op(vm, OP_READ, page_gpa(8) + 64, 0);
	expect_fault(vcpu, "read of a write-only page", page_gpa(8),
		     KVM_MEMORY_EXIT_FLAG_READ);
	clear_and_complete(vcpu, "read of a write-only page",
			   page_gpa(8), NR | NX);

	start_op(vm, OP_CALL, page_gpa(8), 0);
	expect_fault(vcpu, "execution from a write-only page", page_gpa(8),
		     KVM_MEMORY_EXIT_FLAG_EXEC);
	clear_and_complete(vcpu, "execution from a write-only page",
			   page_gpa(8), NR | NX);

	/* A locked read-modify-write needs the read it is denied. */
	start_op(vm, OP_FEP_CMPXCHG, 0, page_gpa(8) + 64);
	expect_fault(vcpu, "cmpxchg on a write-only page", page_gpa(8),
		     KVM_MEMORY_EXIT_FLAG_READ);
	clear_and_complete(vcpu, "cmpxchg on a write-only page",
			   page_gpa(8), 0);

	if (!exec_only) {
		TEST_ASSERT(__set_attributes(vm, page_gpa(8), NR) == -1 &&
			    errno == EINVAL,
			    "Write+execute needs execute-only leaves");
		return;
	}

	*value = 0;
	set_attributes(vm, page_gpa(8), NR);
	start_op(vm, OP_CALL, page_gpa(8), 0);
	expect_done(vcpu, "execution from a write+execute page");
	start_op(vm, OP_WRITE, 0, page_gpa(8) + 64);
	expect_done(vcpu, "write to a write+execute page");
	TEST_ASSERT_EQ(*value, WRITE_VALUE);
	start_op(vm, OP_READ, page_gpa(8) + 64, 0);
	expect_fault(vcpu, "read of a write+execute page", page_gpa(8),
		     KVM_MEMORY_EXIT_FLAG_READ);
	clear_and_complete(vcpu, "read of a write+execute page",
			   page_gpa(8), 0);
}

/*
 * Guest code run in invalid guest state: write %rax to (%rdi), then tell the
 * host through port I/O on %dx.  Both instructions are emulated.
 */
void invalid_state_guest(void);
asm(".pushsection .text\n"
    "invalid_state_guest:\n"
    "	movq %rax, (%rdi)\n"
    "	outb %al, %dx\n"
    "1:	jmp 1b\n"
    ".popsection");

/*
 * VMX without unrestricted guest (e.g. ept=0) emulates every instruction
 * while the guest state is invalid, here a data segment with RPL > DPL.  A
 * denied write exits once, instead of being emulated again and again.
 */
static void test_invalid_guest_state(void)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	if (!host_cpu_is_intel || get_kvm_intel_param_bool("unrestricted_guest")) {
		pr_info("Invalid guest state is not emulated here: VMX without unrestricted guest only\n");
		return;
	}

	vm = vm_create_with_one_vcpu(&vcpu, invalid_state_guest);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, TEST_NPAGES, 0);
	virt_map(vm, TEST_GPA, TEST_GPA, TEST_NPAGES);
	fill_pages(vm);
	set_attributes(vm, page_gpa(9), NW);

	vcpu_regs_get(vcpu, &regs);
	regs.rax = WRITE_VALUE;
	regs.rdi = page_gpa(9);
	regs.rdx = TEST_PORT;
	vcpu_regs_set(vcpu, &regs);
	vcpu_sregs_get(vcpu, &sregs);
	sregs.ds.selector |= 3;
	vcpu_sregs_set(vcpu, &sregs);

	memset(&seen, 0, sizeof(seen));
	expect_fault(vcpu, "write in invalid guest state", page_gpa(9),
		     KVM_MEMORY_EXIT_FLAG_WRITE);
	assert_bytes(page_hva(vm, 9), MEMORY_BYTE, PAGE_SIZE,
		     "write in invalid guest state");

	set_attributes(vm, page_gpa(9), 0);
	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	TEST_ASSERT_EQ(vcpu->run->io.port, TEST_PORT);
	TEST_ASSERT_EQ(*(uint64_t *)page_hva(vm, 9), WRITE_VALUE);
	kvm_vm_free(vm);
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu;
	uint64_t supported;
	struct kvm_vm *vm;

	TEST_REQUIRE(kvm_is_forced_emulation_enabled());

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	supported = vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES);
	TEST_REQUIRE(supported & NW);

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, TEST_NPAGES, 0);
	virt_map(vm, TEST_GPA, TEST_GPA, TEST_NPAGES);
	virt_map(vm, MMIO_GPA, MMIO_GPA, 1);
	TEST_ASSERT(!run_guest(vcpu, 0), "The guest did not start");

	test_writes(vcpu);
	test_page_crossing_write(vcpu);
	test_movs(vcpu);
	test_string_io(vcpu);
	test_page_crossing_fetch(vcpu);

	if (supported & NR)
		test_exec_only(vcpu);
	else
		TEST_ASSERT(__set_attributes(vm, page_gpa(7), XO) == -1 &&
			    errno == EINVAL,
			    "Execute-only must be refused where NO_READ is not advertised");

	test_emulated_modes(vcpu, supported & NR);
	kvm_vm_free(vm);

	test_invalid_guest_state();
	return 0;
}
