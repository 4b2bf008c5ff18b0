// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory attributes and the PDPTEs of 32-bit PAE paging.  With PAE paging
 * outside long mode the four PDPTEs of CR3 are loaded into registers when
 * CR3 is written, when CR0.PG, CD or NW change and when CR4.PAE, PSE, PGE
 * or SMEP change; KVM loads them itself (load_pdptrs()) for every such
 * write it intercepts or emulates: every MOV to CR3 under shadow paging,
 * the CR0 and CR4 writes under EPT and NPT too, and any forced-emulated
 * one.  That read is made for the guest's instruction, so a NO_READ page
 * must not be read: a guest that points CR3 at it would learn, from which
 * of its translations work, the present and address bits of 32 bytes.
 *
 * The guest runs 32-bit code with PAE paging.  Two PDPTs map the same code
 * but a different data page at DATA_GVA: PDPT A maps DATA_A, PDPT B DATA_B,
 * so the value the guest reads there tells which PDPTEs it runs on.  Cases,
 * each control first, the PDPT's page then no-access:
 *  - MOV to CR3 of PDPT B;
 *  - MOV to CR0 that sets CD, and MOV to CR4 that toggles PSE, which reload
 *    PDPT A, protected after it was loaded;
 *  - the MOV to CR3 of PDPT B forced through KVM's emulator.
 * Protected: KVM_RUN fails with EFAULT and KVM_EXIT_MEMORY_FAULT (READ) for
 * the PDPT's page, the instruction did not complete (RIP at it, the control
 * register unchanged) and the guest read nothing through the protected
 * PDPTEs; once the VMM clears the attributes, the instruction is retried
 * and the guest reads through them.
 *
 * The CPU loads the PDPTEs itself where KVM does not intercept the write
 * (MOV to CR3 under EPT) and, with NPT, reads them from memory at every
 * walk rather than at the write; both are checked by the nested page
 * tables, so the exit is the CPU's, and under NPT the MOV to CR3 completes
 * and the exit comes at the next fetch.  Buggy kernel: KVM loads the
 * PDPTEs unchecked and the guest reads DATA_B (KVM_EXIT_IO instead of the
 * memory fault); seen under shadow paging (MOV to CR3) and EPT (CR0).
 *
 * Under QEMU's SVM with NPT only the MOV to CR3 runs: QEMU's TCG (7.2 to
 * 10.0) sets the accessed bit, reserved there, in the legacy PAE PDPTEs it
 * walks, so KVM's next load of them finds them invalid and injects #GP,
 * which the guest's 64-bit IDT turns into a shutdown, without attributes
 * too.  Real CPUs do not write PDPTEs.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "kvm_memattr_util.h"

/* Below 4 GiB: the guest's physical addresses are 32-bit. */
#define TEST_GPA	0x40000000ull
#define TEST_SLOT	10
#define TEST_NPAGES	16

#define CODE_GPA	(TEST_GPA + 0 * PAGE_SIZE)
#define PDPT_A_GPA	(TEST_GPA + 1 * PAGE_SIZE)
#define PDPT_B_GPA	(TEST_GPA + 2 * PAGE_SIZE)
#define PD_A_GPA	(TEST_GPA + 3 * PAGE_SIZE)
#define PD_B_GPA	(TEST_GPA + 4 * PAGE_SIZE)
#define PT_A_GPA	(TEST_GPA + 5 * PAGE_SIZE)
#define PT_B_GPA	(TEST_GPA + 6 * PAGE_SIZE)
#define DATA_A_GPA	(TEST_GPA + 7 * PAGE_SIZE)
#define DATA_B_GPA	(TEST_GPA + 8 * PAGE_SIZE)

/* The slot's 2 MiB, mapped 1:1 by a large page; then the data page. */
#define DATA_GVA	(TEST_GPA + (2ull << 20))
#define DATA_A_VALUE	0xaaaa5555u
#define DATA_B_VALUE	0xbbbb6666u

/* A PDPT's four entries, 32-byte aligned (PDPT B: not at its page's start). */
#define PDPT_OFFSET	0x60
#define PDPT_SIZE	32
#define PDPT_A		PDPT_A_GPA
#define PDPT_B		(PDPT_B_GPA + PDPT_OFFSET)

#define PAE_PRESENT	BIT_ULL(0)
#define PAE_WRITABLE	BIT_ULL(1)
#define PAE_ACCESSED	BIT_ULL(5)	/* Reserved in a PDPTE. */
#define PAE_LARGE	BIT_ULL(7)

#define REPORT_PORT	0x80

/* The protected PDPT: no access, valid on every CPU and MMU. */
#define NO_ACCESS	(NR | NW | NX)

/*
 * The guest, 32-bit code copied to CODE_GPA.  Each entry point does one
 * control register write (operand in %ebx or %ecx), then reads DATA_GVA
 * (%esi) and reports the value with an OUT.
 */
extern const uint8_t pae_code[], pae_code_end[];
extern const uint8_t pae_mov_cr3[], pae_mov_cr0[], pae_mov_cr4[];
extern const uint8_t pae_fep_mov_cr3[], pae_fep_mov_cr3_insn[], pae_read[];
asm(".pushsection .rodata\n"
    ".code32\n"
    "pae_code:\n"
    "pae_mov_cr3:\n"
    "	mov %ebx, %cr3\n"
    "pae_read:\n"
    "	mov (%esi), %eax\n"
    "	out %eax, $" __stringify(REPORT_PORT) "\n"
    "1:	hlt\n"
    "	jmp 1b\n"
    "pae_mov_cr0:\n"
    "	mov %ecx, %cr0\n"
    "	jmp pae_read\n"
    "pae_mov_cr4:\n"
    "	mov %ecx, %cr4\n"
    "	jmp pae_read\n"
    "pae_fep_mov_cr3:\n"
    KVM_FEP "\n"
    "pae_fep_mov_cr3_insn:\n"
    "	mov %ebx, %cr3\n"
    "	jmp pae_read\n"
    "pae_code_end:\n"
    ".code64\n"
    ".popsection");

static uint64_t code_gpa(const uint8_t *label)
{
	return CODE_GPA + (label - pae_code);
}

static uint64_t *page_hva(struct kvm_vm *vm, uint64_t gpa)
{
	return addr_gpa2hva(vm, gpa);
}

/* PDPT -> PD: a 2 MiB page 1:1 over the slot, then a PT -> @data_gpa. */
static void build_pdpt(struct kvm_vm *vm, uint64_t pdpt_gpa, uint64_t pd_gpa,
		       uint64_t pt_gpa, uint64_t data_gpa, uint32_t value)
{
	uint64_t *pdpt = page_hva(vm, pdpt_gpa);
	uint64_t *pd = page_hva(vm, pd_gpa);
	uint64_t *pt = page_hva(vm, pt_gpa);

	memset(pdpt, 0, PAGE_SIZE);
	pdpt[(TEST_GPA >> 30) & 3] = pd_gpa | PAE_PRESENT;
	pd[(TEST_GPA >> 21) & 511] = TEST_GPA | PAE_LARGE | PAE_WRITABLE | PAE_PRESENT;
	pd[(DATA_GVA >> 21) & 511] = pt_gpa | PAE_WRITABLE | PAE_PRESENT;
	pt[(DATA_GVA >> 12) & 511] = data_gpa | PAE_WRITABLE | PAE_PRESENT;
	*(uint32_t *)page_hva(vm, data_gpa) = value;
}

/* The PDPT B page holds its entries at PDPT_OFFSET: move them there. */
static void setup_memory(struct kvm_vm *vm)
{
	uint64_t *page;

	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, TEST_NPAGES, 0);
	memcpy(page_hva(vm, CODE_GPA), pae_code, pae_code_end - pae_code);
	build_pdpt(vm, PDPT_A_GPA, PD_A_GPA, PT_A_GPA, DATA_A_GPA, DATA_A_VALUE);
	build_pdpt(vm, PDPT_B_GPA, PD_B_GPA, PT_B_GPA, DATA_B_GPA, DATA_B_VALUE);
	page = page_hva(vm, PDPT_B_GPA);
	memmove((uint8_t *)page + PDPT_OFFSET, page, PDPT_SIZE);
	memset(page, 0, PDPT_OFFSET);
}

/*
 * 32-bit protected mode, flat segments, no long mode, with @cr0, @cr3 and
 * @cr4 (PAE), at @entry with the guest's operands.
 */
static void enter_32bit(struct kvm_vcpu *vcpu, uint64_t cr0, uint64_t cr3,
			uint64_t cr4, const uint8_t *entry, uint64_t operand)
{
	struct kvm_segment code = {
		.limit = 0xffffffff, .selector = 0x8, .type = 11,
		.present = 1, .db = 1, .s = 1, .g = 1,
	};
	struct kvm_segment data = code;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	data.selector = 0x10;
	data.type = 3;
	vcpu_sregs_get(vcpu, &sregs);
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.efer = 0;
	sregs.cr0 = cr0;
	sregs.cr3 = cr3;
	sregs.cr4 = cr4;
	vcpu_sregs_set(vcpu, &sregs);

	memset(&regs, 0, sizeof(regs));
	regs.rip = code_gpa(entry);
	regs.rflags = X86_EFLAGS_FIXED;
	regs.rbx = operand;
	regs.rcx = operand;
	regs.rsi = DATA_GVA;
	vcpu_regs_set(vcpu, &regs);
}

#define CR0_PAGING	(X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | \
			 X86_CR0_PG)

/* The guest read @value at DATA_GVA and reported it. */
static void assert_reported(struct kvm_vcpu *vcpu, uint32_t value,
			    const char *what)
{
	struct kvm_run *run = vcpu->run;

	TEST_ASSERT(run->exit_reason == KVM_EXIT_IO &&
		    run->io.port == REPORT_PORT && run->io.size == 4,
		    "%s: expected the guest's report, got exit reason %s",
		    what, exit_reason_str(run->exit_reason));
	TEST_ASSERT(*(uint32_t *)((uint8_t *)run + run->io.data_offset) == value,
		    "%s: the guest read 0x%x, expected 0x%x", what,
		    *(uint32_t *)((uint8_t *)run + run->io.data_offset), value);
}

/*
 * KVM_RUN, whose result is @r, stopped with a memory fault for the page of
 * the PDPT at @pdpt: READ for KVM's load and EPT's walk; the CPU's nested
 * page fault on a walk under NPT (@cpu_walk) says write, as the walk may
 * set accessed and dirty flags.
 */
static void assert_pdpt_fault(struct kvm_vcpu *vcpu, int r, uint64_t pdpt,
			      bool cpu_walk, const char *what)
{
	bool npt_walk = cpu_walk && host_cpu_is_amd;

	assert_memory_fault(vcpu, r, pdpt & PAGE_MASK, PAGE_SIZE,
			    npt_walk ? KVM_MEMORY_EXIT_FLAG_WRITE :
				       KVM_MEMORY_EXIT_FLAG_READ, what);
}

static void assert_stopped_at(struct kvm_vcpu *vcpu, const uint8_t *insn,
			      int cr, uint64_t value, const char *what)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint64_t now;

	vcpu_regs_get(vcpu, &regs);
	vcpu_sregs_get(vcpu, &sregs);
	TEST_ASSERT(regs.rip == code_gpa(insn),
		    "%s: RIP 0x%llx, expected 0x%lx", what, regs.rip,
		    code_gpa(insn));
	now = cr == 0 ? sregs.cr0 : cr == 3 ? sregs.cr3 : sregs.cr4;
	TEST_ASSERT(now == value, "%s: CR%d is 0x%lx, expected 0x%lx",
		    what, cr, now, value);
}

/* Under NPT the CPU reads the PDPTEs at each walk, not at the write. */
static bool npt_reads_at_walk(void)
{
	return kvm_is_tdp_enabled() && host_cpu_is_amd;
}

/*
 * MOV to CR3 of PDPT B.  Intercepted under shadow paging (KVM loads the
 * PDPTEs), done by the CPU under EPT (it loads them through EPT) and NPT
 * (the MOV completes, the next fetch walks through them).
 */
static void test_mov_cr3(struct kvm_vcpu *vcpu)
{
	const char *what = "MOV to CR3 of a NO_READ PDPT";
	bool cpu = kvm_is_tdp_enabled();
	int r;

	enter_32bit(vcpu, CR0_PAGING, PDPT_A, X86_CR4_PAE, pae_mov_cr3, PDPT_B);
	vcpu_run(vcpu);
	assert_reported(vcpu, DATA_B_VALUE, "MOV to CR3, control");

	enter_32bit(vcpu, CR0_PAGING, PDPT_A, X86_CR4_PAE, pae_mov_cr3, PDPT_B);
	memattr_set(vcpu->vm, PDPT_B_GPA, PAGE_SIZE, NO_ACCESS);
	r = _vcpu_run(vcpu);
	assert_pdpt_fault(vcpu, r, PDPT_B, cpu, what);
	if (npt_reads_at_walk())
		assert_stopped_at(vcpu, pae_read, 3, PDPT_B, what);
	else
		assert_stopped_at(vcpu, pae_mov_cr3, 3, PDPT_A, what);

	memattr_set(vcpu->vm, PDPT_B_GPA, PAGE_SIZE, 0);
	vcpu_run(vcpu);
	assert_reported(vcpu, DATA_B_VALUE, what);
}

/*
 * A MOV to CR0 that sets CD, or to CR4 that toggles PSE, reloads the
 * PDPTEs of CR3 (PDPT A), which the VMM made no-access after they were
 * loaded.  KVM intercepts both (neither bit is the guest's on VMX; SVM
 * intercepts CR4 writes and, selectively, CR0's); under NPT the CPU's fetch
 * of the MOV walks through the PDPT first.
 */
static void test_reload(struct kvm_vcpu *vcpu, int cr, const uint8_t *insn,
			uint64_t value, const char *what)
{
	int r;

	enter_32bit(vcpu, CR0_PAGING, PDPT_A, X86_CR4_PAE, insn, value);
	vcpu_run(vcpu);
	assert_reported(vcpu, DATA_A_VALUE, what);

	enter_32bit(vcpu, CR0_PAGING, PDPT_A, X86_CR4_PAE, insn, value);
	memattr_set(vcpu->vm, PDPT_A_GPA, PAGE_SIZE, NO_ACCESS);
	r = _vcpu_run(vcpu);
	assert_pdpt_fault(vcpu, r, PDPT_A, npt_reads_at_walk(), what);
	assert_stopped_at(vcpu, insn, cr, cr ? X86_CR4_PAE : CR0_PAGING, what);

	memattr_set(vcpu->vm, PDPT_A_GPA, PAGE_SIZE, 0);
	vcpu_run(vcpu);
	assert_reported(vcpu, DATA_A_VALUE, what);
}

/* The MOV to CR3 emulated by KVM, on every MMU: KVM loads the PDPTEs. */
static void test_emulated_mov_cr3(struct kvm_vcpu *vcpu)
{
	const char *what = "emulated MOV to CR3 of a NO_READ PDPT";
	int r;

	enter_32bit(vcpu, CR0_PAGING, PDPT_A, X86_CR4_PAE, pae_fep_mov_cr3,
		    PDPT_B);
	vcpu_run(vcpu);
	assert_reported(vcpu, DATA_B_VALUE, "emulated MOV to CR3, control");

	enter_32bit(vcpu, CR0_PAGING, PDPT_A, X86_CR4_PAE, pae_fep_mov_cr3,
		    PDPT_B);
	memattr_set(vcpu->vm, PDPT_B_GPA, PAGE_SIZE, NO_ACCESS);
	r = _vcpu_run(vcpu);
	assert_pdpt_fault(vcpu, r, PDPT_B, false, what);
	/* KVM skipped the prefix: the retry runs the MOV without it. */
	assert_stopped_at(vcpu, pae_fep_mov_cr3_insn, 3, PDPT_A, what);

	memattr_set(vcpu->vm, PDPT_B_GPA, PAGE_SIZE, 0);
	vcpu_run(vcpu);
	assert_reported(vcpu, DATA_B_VALUE, what);
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	TEST_REQUIRE(kvm_is_forced_emulation_enabled());

	vm = vm_create_with_one_vcpu(&vcpu, NULL);
	TEST_REQUIRE(memattr_supported(vm) & NW);
	setup_memory(vm);
	pr_info("%s, %s\n", host_cpu_is_intel ? "VMX" : "SVM", memattr_mmu_name());

	test_mov_cr3(vcpu);
	/*
	 * Under QEMU's SVM with NPT, the CPU sets the reserved accessed bit in
	 * the PDPTEs it walked (see above): every later load by KVM fails, in
	 * the controls too.  KVM's paths are those shadow paging takes, run
	 * there; a CPU that leaves the PDPTEs alone runs them here too.
	 */
	if (page_hva(vm, PDPT_A_GPA)[(TEST_GPA >> 30) & 3] & PAE_ACCESSED) {
		pr_info("MOV to CR0 and CR4, emulated MOV to CR3: not run on SVM with NPT (QEMU TCG sets the reserved accessed bit in the PDPTEs it walks, so KVM's later loads fail, without attributes too)\n");
	} else {
		test_reload(vcpu, 0, pae_mov_cr0, CR0_PAGING | X86_CR0_CD,
			    "MOV to CR0 setting CD, PDPT made NO_READ");
		test_reload(vcpu, 4, pae_mov_cr4, X86_CR4_PAE | X86_CR4_PSE,
			    "MOV to CR4 toggling PSE, PDPT made NO_READ");
		test_emulated_mov_cr3(vcpu);
	}

	kvm_vm_free(vm);
	return 0;
}
